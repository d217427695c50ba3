// HTTP/1.1 over plain sockets for the leak tests: a client that keeps every byte of a response
// (status line, headers, body) so that all of it can be scanned, and a scripted server that
// stands in for a language model provider and sees every request it is sent. Requests and
// replies are one per connection ("Connection: close"), which is all these tests need.
// Thread-safety: RawExchange holds no state; ScriptedServer answers on its own thread and its
// methods may be called from any thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace helios::testing {

struct RawResponse {
  int status = 0;   // 0: no response
  std::string raw;  // everything received
  std::string body;
};

inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of a header in a raw request or response head ("" when absent).
inline std::string HeaderValue(std::string_view head, std::string_view name) {
  const std::string lower = AsciiLower(head);
  const std::string key = "\r\n" + AsciiLower(name) + ":";
  const size_t at = lower.find(key);
  if (at == std::string::npos) return "";
  size_t begin = at + key.size();
  const size_t end = head.find("\r\n", begin);
  while (begin < end && head[begin] == ' ') ++begin;
  return std::string(head.substr(begin, end - begin));
}

inline int ConnectTo(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // A bound on a hung peer; no test outcome depends on it.
  timeval timeout{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Sends `request` as it is and reads until the server closes the connection.
inline RawResponse RawExchange(int port, std::string_view request) {
  RawResponse response;
  const int fd = ConnectTo(port);
  if (fd < 0) return response;
  // A server may answer (413, 400) and close before it has read the whole request.
  (void)SendAll(fd, request);
  char buffer[8192];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    response.raw.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (response.raw.starts_with("HTTP/1.") && response.raw.size() > 12) {
    response.status = std::atoi(response.raw.substr(9, 3).c_str());
  }
  const size_t head_end = response.raw.find("\r\n\r\n");
  if (head_end != std::string::npos) response.body = response.raw.substr(head_end + 4);
  return response;
}

// A request with "Connection: close" and, when there is a body, its Content-Length.
inline std::string HttpRequest(std::string_view method, std::string_view path,
                               const std::vector<std::string>& headers = {},
                               std::string_view body = {}, bool json = true) {
  std::string out = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\n";
  out += "Host: 127.0.0.1\r\nConnection: close\r\n";
  for (const std::string& h : headers) out += h + "\r\n";
  if (!body.empty() || method == "POST") {
    if (json) out += "Content-Type: application/json\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

struct ScriptedReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Listens on 127.0.0.1 (a free port) and answers each request with `answer(head, body)`.
class ScriptedServer {
 public:
  using Answer = std::function<ScriptedReply(const std::string& head, const std::string& body)>;

  explicit ScriptedServer(Answer answer) : answer_(std::move(answer)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::listen(listen_fd_, 64) == 0 &&
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
    thread_ = std::thread([this] { Serve(); });
  }

  ~ScriptedServer() {
    stopping_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  int port() const { return port_; }
  size_t requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval timeout{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      Handle(fd);
      ::close(fd);
    }
  }

  void Handle(int fd) {
    std::string data;
    char buffer[8192];
    size_t head_end = std::string::npos;
    size_t length = 0;
    while (true) {
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          const std::string value = HeaderValue(data.substr(0, head_end), "Content-Length");
          length = value.empty() ? 0 : std::stoul(value);
        }
      }
      if (head_end != std::string::npos && data.size() >= head_end + 4 + length) break;
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return;
      data.append(buffer, static_cast<size_t>(n));
    }
    {
      std::lock_guard lock(mu_);
      ++requests_;
    }
    const ScriptedReply reply =
        answer_(data.substr(0, head_end), data.substr(head_end + 4, length));
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\n";
    out += "Content-Type: " + reply.content_type + "\r\n";
    for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n";
    out += reply.body;
    (void)SendAll(fd, out);
  }

  Answer answer_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  size_t requests_ = 0;
};

}  // namespace helios::testing
