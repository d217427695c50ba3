// A bare HTTP/1.1 client for the fake model's tests: plain blocking sockets on 127.0.0.1, bytes
// written exactly as given (so malformed requests can be sent), responses framed by their
// Content-Length, and poll() to wait on hundreds of connections at once, recording when each
// response arrived.
// Thread-safety: none; each test uses its own.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helios::fakellm::testing {

using Clock = std::chrono::steady_clock;

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  Clock::time_point arrived;
};

// A chat-completions request as the product's OpenAI-compatible provider sends one.
inline std::string ChatRequest(std::string_view body = R"({"model":"fake-model","messages":)"
                                                       R"([{"role":"user","content":"How are )"
                                                       R"(customers spread over countries?"}]})",
                               std::string_view extra_headers = "") {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
         "application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

inline std::string GetRequest(std::string_view path) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

class Connection {
 public:
  explicit Connection(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 &&
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      Close();
    }
    const int on = 1;
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  ~Connection() { Close(); }
  Connection(Connection&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection& operator=(Connection&&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // The next complete response, or nullopt when the peer closes first or `timeout` passes.
  std::optional<RawResponse> Read(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto response = TakeResponse()) return response;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || !ReadSome(static_cast<int>(left.count()))) return std::nullopt;
    }
  }

  // True when the peer closed the connection (end of file) within `timeout`, all data before
  // it read and discarded.
  bool ClosedByPeer(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return true;
    }
  }

  // Reads what is available, waiting at most timeout_ms; false on end of file, error or
  // nothing in time.
  bool ReadSome(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    return ReadAvailable();
  }

  // One recv of what is there; false on end of file or error.
  bool ReadAvailable() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  // A complete response at the head of what was read, removed from it.
  std::optional<RawResponse> TakeResponse() {
    const size_t end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    RawResponse response;
    response.head = buffer_.substr(0, end);
    size_t length = 0;
    if (const size_t at = response.head.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(response.head.substr(at + 16));
    }
    if (buffer_.size() < end + 4 + length) return std::nullopt;
    response.body = buffer_.substr(end + 4, length);
    response.status = std::stoi(response.head.substr(9, 3));
    response.arrived = Clock::now();
    buffer_.erase(0, end + 4 + length);
    return response;
  }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  std::string buffer_;
};

// Waits on every connection at once for one response each; a connection without one by
// `timeout` (or closed first) gets status 0.
inline std::vector<RawResponse> ReadOneEach(std::vector<Connection>& connections,
                                            std::chrono::milliseconds timeout) {
  std::vector<RawResponse> responses(connections.size());
  std::vector<bool> done(connections.size(), false);
  size_t left = connections.size();
  const auto deadline = Clock::now() + timeout;
  while (left > 0) {
    std::vector<pollfd> waiting;
    std::vector<size_t> index;
    for (size_t i = 0; i < connections.size(); ++i) {
      if (done[i]) continue;
      waiting.push_back(pollfd{connections[i].fd(), POLLIN, 0});
      index.push_back(i);
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (ms <= 0 || ::poll(waiting.data(), waiting.size(), static_cast<int>(ms)) <= 0) break;
    for (size_t k = 0; k < waiting.size(); ++k) {
      if (waiting[k].revents == 0) continue;
      const size_t i = index[k];
      if (!connections[i].ReadAvailable()) {
        done[i] = true;
        --left;
        continue;
      }
      if (auto response = connections[i].TakeResponse()) {
        responses[i] = std::move(*response);
        done[i] = true;
        --left;
      }
    }
  }
  return responses;
}

}  // namespace helios::fakellm::testing
