// The generator against a hand-written TCP server whose replies need not be valid HTTP: what
// counts as a protocol error, and responses that end when the server closes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "load_generator.h"
#include "options.h"

namespace helios::loadgen {
namespace {

using namespace std::chrono_literals;

struct RawReply {
  std::string bytes;
  bool close = false;  // close the connection after writing
};

// Answers each request (read up to its blank line; requests here have no body) with what
// `reply` returns for its number, counted over all connections.
class RawServer {
 public:
  explicit RawServer(std::function<RawReply(int number)> reply) : reply_(std::move(reply)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listener_, 64), 0);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~RawServer() {
    stopping_ = true;
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& t : connections_) t.join();
    ::close(listener_);
  }

  int port() const { return port_; }
  int connections() const { return accepted_; }

 private:
  void Accept() {
    while (!stopping_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++accepted_;
      std::lock_guard lock(mu_);
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string pending;
    char buf[4096];
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      size_t end = 0;
      bool closed = false;
      while ((end = pending.find("\r\n\r\n")) != std::string::npos) {
        pending.erase(0, end + 4);
        const RawReply reply = reply_(number_++);
        ::send(fd, reply.bytes.data(), reply.bytes.size(), MSG_NOSIGNAL);
        if (reply.close) {
          closed = true;
          break;
        }
      }
      if (closed) break;
    }
    ::close(fd);
  }

  std::function<RawReply(int)> reply_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> number_{0};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> connections_;
};

Options LoadOn(const RawServer& server, double rate, std::chrono::nanoseconds duration) {
  Options options;
  options.port = static_cast<uint16_t>(server.port());
  options.rate = rate;
  options.duration = duration;
  options.connections = 1;
  options.timeout = 1s;
  return options;
}

TEST(LoadGeneratorRaw, MalformedResponsesAreProtocolErrorsAndTheConnectionIsReplaced) {
  RawServer server([](int number) {
    if (number % 2 == 0) return RawReply{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
    return RawReply{"SMTP 220 ready\r\n\r\n"};
  });
  auto report = RunLoad(LoadOn(server, 100, 200ms));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->scheduled, 20u);
  EXPECT_EQ(report->responses, 10u);
  EXPECT_EQ(report->errors.protocol, 10u);
  EXPECT_EQ(report->status_counts[200], 10u);
  EXPECT_GE(report->reconnects, 10u);
  EXPECT_GE(server.connections(), 10);
}

TEST(LoadGeneratorRaw, BytesBeyondTheResponseAreAProtocolError) {
  // A response followed by bytes nobody asked for: the response counts, the extra bytes are an
  // error, and the connection (whose framing is lost) is replaced.
  RawServer server([](int) {
    return RawReply{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"};
  });
  auto report = RunLoad(LoadOn(server, 100, 100ms));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->responses, 10u);
  EXPECT_EQ(report->errors.protocol, 10u);
  EXPECT_GE(server.connections(), 10);
}

TEST(LoadGeneratorRaw, ABodyThatEndsWithTheConnectionIsAResponse) {
  // No Content-Length, no chunks: the body runs to the close (HTTP/1.0 style).
  RawServer server([](int) { return RawReply{"HTTP/1.0 200 OK\r\n\r\nfive!", /*close=*/true}; });
  auto report = RunLoad(LoadOn(server, 100, 100ms));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->responses, 10u);
  EXPECT_EQ(report->errors.Total(), 0u);
  EXPECT_EQ(report->body_bytes, 50u);
  EXPECT_GE(server.connections(), 10);
}

TEST(LoadGeneratorRaw, AConnectionClosedBeforeTheResponseEndsIsCounted) {
  RawServer server([](int number) {
    if (number % 2 == 1)
      return RawReply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", true};
    return RawReply{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
  });
  auto report = RunLoad(LoadOn(server, 100, 200ms));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->responses, 10u);
  EXPECT_EQ(report->errors.closed, 10u);
}

}  // namespace
}  // namespace helios::loadgen
