// An httplib::Server whose listening socket can be closed at any time. httplib's stop() does
// nothing until the accept loop has started, so a Stop() that races ahead of Run() would be lost
// and Run() would serve forever. Closing the listening socket works whatever the loop's state:
// the loop checks it before every accept, so it exits (or never starts).
// Shared by the API server and the metrics listener; include it only from their .cc files.
// Thread-safety: CloseListeningSocket() may be called from any thread.
#pragma once

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

namespace helios::server {

class Listener : public httplib::Server {
 public:
  void CloseListeningSocket() {
    socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) {
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
    }
  }
};

}  // namespace helios::server
