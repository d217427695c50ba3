// The fake model's event loop (see fake_llm_server.h).
#include "fakellm/fake_llm_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "fakellm/chat_completion.h"
#include "fakellm/http_request_parser.h"

namespace helios::fakellm {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr uint64_t kFirstConnectionId = 2;
constexpr int kMaxEvents = 256;
constexpr size_t kReadChunk = 64 * 1024;

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string Response(int status, std::string_view body, bool close) {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n{}", status,
      Reason(status), body.size(), close ? "Connection: close\r\n" : "", body);
}

std::string SystemError(std::string_view what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

// Atomically raises `max` to at least `value`.
void RaiseTo(std::atomic<uint64_t>& max, uint64_t value) {
  uint64_t seen = max.load(std::memory_order_relaxed);
  while (seen < value && !max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

class FakeLlmServer::Loop {
 public:
  Loop(const ServerOptions& options, int listen_fd, int epoll_fd, int wake_fd, uint16_t port)
      : delay_(options.delay),
        completions_(options.sql.empty() ? kDefaultSql : std::string_view(options.sql),
                     options.explanation),
        listen_fd_(listen_fd),
        epoll_fd_(epoll_fd),
        wake_fd_(wake_fd),
        port_(port),
        spare_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

  ~Loop() {
    for (auto& [id, connection] : connections_) ::close(connection.fd);
    for (int fd : {listen_fd_, epoll_fd_, wake_fd_, spare_fd_}) {
      if (fd >= 0) ::close(fd);
    }
  }

  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uint16_t port() const { return port_; }

  void Run() {
    epoll_event events[kMaxEvents];
    while (!stopping_.load()) {
      const int n = Wait(events);
      if (n < 0) {
        if (errno == EINTR) continue;
        fmt::print(stderr, "helios-fakellm: {}\n", SystemError("epoll_wait"));
        break;
      }
      for (int i = 0; i < n; ++i) {
        const uint64_t id = events[i].data.u64;
        if (id == kListenId) {
          Accept();
        } else if (id != kWakeId) {
          OnConnectionEvent(id, events[i].events);
        }
      }
      FireDueTimers();
    }
    for (auto& [id, connection] : connections_) ::close(connection.fd);
    connections_.clear();
    timers_.clear();
    connections_open_ = 0;
    in_flight_ = 0;
  }

  void Stop() {
    stopping_ = true;
    const uint64_t one = 1;
    // Wakes epoll_wait; a full counter (impossible here) would already wake it.
    [[maybe_unused]] ssize_t written = ::write(wake_fd_, &one, sizeof one);
  }

  Stats Snapshot() const {
    Stats s;
    s.requests = requests_.load(std::memory_order_relaxed);
    s.answered = answered_.load(std::memory_order_relaxed);
    s.rejected = rejected_.load(std::memory_order_relaxed);
    s.in_flight = in_flight_.load(std::memory_order_relaxed);
    s.max_in_flight = max_in_flight_.load(std::memory_order_relaxed);
    s.connections = connections_open_.load(std::memory_order_relaxed);
    s.max_connections = max_connections_.load(std::memory_order_relaxed);
    s.accepted = accepted_.load(std::memory_order_relaxed);
    const uint64_t count = late_count_.load(std::memory_order_relaxed);
    if (count > 0) {
      s.late_mean_us =
          static_cast<double>(late_sum_ns_.load(std::memory_order_relaxed)) / count / 1000.0;
    }
    s.late_max_us = static_cast<double>(late_max_ns_.load(std::memory_order_relaxed)) / 1000.0;
    return s;
  }

 private:
  struct Reply {
    bool ready = false;
    bool close = false;  // close the connection once this reply is written
    std::string bytes;
  };

  struct Connection {
    int fd = -1;
    std::string in;
    std::string out;
    size_t out_sent = 0;
    std::deque<Reply> replies;  // in request order; written as a ready prefix
    size_t waiting = 0;         // replies still waiting for their deadline
    bool reading = true;        // false once a reply will close the connection
    bool draining = false;      // our side is shut down; discarding input until the peer closes
    bool polling_out = false;
  };

  struct Timer {
    Clock::time_point due;
    uint64_t connection;
  };

  int Wait(epoll_event* events) {
    if (timers_.empty()) return ::epoll_wait(epoll_fd_, events, kMaxEvents, -1);
    const auto left = std::max(Clock::duration::zero(), timers_.front().due - Clock::now());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    if (have_epoll_pwait2_) {
      const timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                             static_cast<long>(ns % 1'000'000'000)};
      const int n = ::epoll_pwait2(epoll_fd_, events, kMaxEvents, &timeout, nullptr);
      if (n >= 0 || errno != ENOSYS) return n;
      have_epoll_pwait2_ = false;  // a kernel older than 5.11
    }
    // Rounded up: waking early would only loop again.
    return ::epoll_wait(epoll_fd_, events, kMaxEvents,
                        static_cast<int>((ns + 999'999) / 1'000'000));
  }

  void Accept() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        if ((errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
          // Out of descriptors: the pending connection would make every epoll_wait return at
          // once. Accept it on the spare descriptor and close it, so its client hears at once.
          ::close(spare_fd_);
          const int refused = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
          if (refused >= 0) ::close(refused);
          spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
          ++rejected_;
        }
        return;  // EAGAIN, or an error of one connection that its client sees
      }
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      const uint64_t id = next_id_++;
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u64 = id;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
        ::close(fd);
        continue;
      }
      Connection& connection = connections_[id];
      connection.fd = fd;
      ++accepted_;
      RaiseTo(max_connections_, ++connections_open_);
    }
  }

  void OnConnectionEvent(uint64_t id, uint32_t events) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    if ((events & EPOLLOUT) != 0) {
      if (!Flush(id, it->second)) return;
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) Read(id, it->second);
  }

  void Read(uint64_t id, Connection& connection) {
    char chunk[kReadChunk];
    for (;;) {
      const ssize_t n = ::read(connection.fd, chunk, sizeof chunk);
      if (n > 0) {
        if (connection.reading) connection.in.append(chunk, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof chunk) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // The peer closed (or reset): nothing it asked for can reach it any more.
      Close(id, connection);
      return;
    }
    if (!connection.reading) return;
    // A request counts as arrived when its last byte was read: now.
    const Clock::time_point arrived = Clock::now();
    while (connection.reading) {
      ParseOutcome outcome = ParseRequest(connection.in);
      if (outcome.state == ParseOutcome::State::kIncomplete) break;
      if (outcome.state == ParseOutcome::State::kError) {
        Queue(connection, outcome.error_status, ErrorBody(outcome.error_message), true);
        connection.in.clear();
        break;
      }
      Handle(id, connection, outcome.request, arrived);
      connection.in.erase(0, outcome.consumed);
    }
    Flush(id, connection);
  }

  void Handle(uint64_t id, Connection& connection, const ParsedRequest& request,
              Clock::time_point arrived) {
    const bool close = !request.keep_alive;
    const std::string_view path =
        std::string_view(request.target).substr(0, request.target.find('?'));
    if (path.ends_with("/chat/completions")) {
      if (request.method != "POST") {
        Queue(connection, 405, ErrorBody("use POST for chat completions"), close);
        return;
      }
      const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
      ChatReply reply = completions_.Answer(request.body, sequence_++, created);
      if (reply.status != 200) {
        Queue(connection, reply.status, reply.body, close);
        return;
      }
      connection.replies.push_back(Reply{false, close, Response(200, reply.body, close)});
      connection.reading = !close;
      ++connection.waiting;
      ++requests_;
      RaiseTo(max_in_flight_, ++in_flight_);
      timers_.push_back(Timer{arrived + delay_, id});
      return;
    }
    if (path == "/health") {
      if (request.method != "GET") {
        Queue(connection, 405, ErrorBody("use GET"), close);
      } else {
        Queue(connection, 200, R"({"status":"ok"})", close);
      }
      return;
    }
    if (path == "/stats" || path == "/stats/reset") {
      const bool reset = path == "/stats/reset";
      if (request.method != (reset ? "POST" : "GET")) {
        Queue(connection, 405, ErrorBody(reset ? "use POST" : "use GET"), close);
        return;
      }
      if (reset) ResetStats();
      Queue(connection, 200, StatsJson(), close);
      return;
    }
    Queue(connection, 404, ErrorBody(fmt::format("no route for {}", path)), close);
  }

  // A reply that is ready at once.
  void Queue(Connection& connection, int status, std::string_view body, bool close) {
    if (status >= 400) ++rejected_;
    connection.replies.push_back(Reply{true, close, Response(status, body, close)});
    if (close) connection.reading = false;
  }

  // Writes the ready replies at the head of the queue. False when the connection was closed.
  bool Flush(uint64_t id, Connection& connection) {
    bool close_after = false;
    while (!connection.replies.empty() && connection.replies.front().ready) {
      Reply& reply = connection.replies.front();
      connection.out += reply.bytes;
      close_after = reply.close;
      connection.replies.pop_front();
      if (close_after) break;  // nothing after it is read, so nothing after it is queued
    }
    while (connection.out_sent < connection.out.size()) {
      const ssize_t n = ::send(connection.fd, connection.out.data() + connection.out_sent,
                               connection.out.size() - connection.out_sent, MSG_NOSIGNAL);
      if (n >= 0) {
        connection.out_sent += static_cast<size_t>(n);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (close_after) connection.replies.push_front(Reply{true, true, std::string()});
        return Watch(id, connection, true);
      }
      Close(id, connection);
      return false;
    }
    connection.out.clear();
    connection.out_sent = 0;
    if (close_after && !connection.draining) {
      // Shut our side and read until the peer closes: closing with unread input would reset the
      // connection, and the client could lose the reply it has not read yet.
      ::shutdown(connection.fd, SHUT_WR);
      connection.draining = true;
    }
    return Watch(id, connection, false);
  }

  // Asks epoll for writability while output is pending. False when the connection was closed.
  bool Watch(uint64_t id, Connection& connection, bool want_out) {
    if (connection.polling_out == want_out) return true;
    epoll_event event{};
    event.events = EPOLLIN | (want_out ? EPOLLOUT : 0u);
    event.data.u64 = id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event) != 0) {
      Close(id, connection);
      return false;
    }
    connection.polling_out = want_out;
    return true;
  }

  void Close(uint64_t id, Connection& connection) {
    ::close(connection.fd);
    // Its timers stay queued and find no connection when due.
    in_flight_ -= connection.waiting;
    --connections_open_;
    connections_.erase(id);
  }

  void FireDueTimers() {
    while (!timers_.empty()) {
      const Clock::time_point now = Clock::now();
      const Timer timer = timers_.front();
      if (timer.due > now) return;
      timers_.pop_front();
      auto it = connections_.find(timer.connection);
      if (it == connections_.end()) continue;
      Connection& connection = it->second;
      const auto late = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - timer.due).count());
      late_sum_ns_ += late;
      ++late_count_;
      RaiseTo(late_max_ns_, late);
      // The connection's timers are due in the order of its replies.
      for (Reply& reply : connection.replies) {
        if (!reply.ready) {
          reply.ready = true;
          break;
        }
      }
      --connection.waiting;
      --in_flight_;
      ++answered_;
      Flush(timer.connection, connection);
    }
  }

  void ResetStats() {
    max_in_flight_ = in_flight_.load();
    max_connections_ = connections_open_.load();
    late_sum_ns_ = 0;
    late_count_ = 0;
    late_max_ns_ = 0;
  }

  std::string StatsJson() const {
    const Stats s = Snapshot();
    return nlohmann::json({{"requests", s.requests},
                           {"answered", s.answered},
                           {"rejected", s.rejected},
                           {"in_flight", s.in_flight},
                           {"max_in_flight", s.max_in_flight},
                           {"connections", s.connections},
                           {"max_connections", s.max_connections},
                           {"accepted", s.accepted},
                           {"late_mean_us", s.late_mean_us},
                           {"late_max_us", s.late_max_us},
                           {"delay_ms", delay_.count()}})
        .dump();
  }

  const std::chrono::milliseconds delay_;
  const ChatCompletions completions_;
  const int listen_fd_;
  const int epoll_fd_;
  const int wake_fd_;
  const uint16_t port_;
  int spare_fd_;  // given up to refuse a connection when descriptors run out
  bool have_epoll_pwait2_ = true;
  std::atomic<bool> stopping_{false};

  // The loop thread's alone.
  std::unordered_map<uint64_t, Connection> connections_;
  std::deque<Timer> timers_;  // due in order: every request waits the same delay
  uint64_t next_id_ = kFirstConnectionId;
  uint64_t sequence_ = 1;

  // Written by the loop thread, read by stats() from any thread.
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> in_flight_{0};
  std::atomic<uint64_t> max_in_flight_{0};
  std::atomic<uint64_t> connections_open_{0};
  std::atomic<uint64_t> max_connections_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> late_sum_ns_{0};
  std::atomic<uint64_t> late_count_{0};
  std::atomic<uint64_t> late_max_ns_{0};
};

Result<std::unique_ptr<FakeLlmServer>> FakeLlmServer::Start(ServerOptions options) {
  if (options.delay.count() < 0) return Fail(ErrorCode::kInvalidArgument, "the delay is negative");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(options.port);
  if (::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not an IPv4 address", options.host));
  }
  // Closed on every early return.
  struct Fd {
    int fd = -1;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
    int Release() { return std::exchange(fd, -1); }
  };
  Fd listener{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (listener.fd < 0) return Fail(ErrorCode::kUnavailable, SystemError("socket"));
  const int on = 1;
  ::setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(listener.fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return Fail(ErrorCode::kUnavailable,
                SystemError(fmt::format("cannot bind {}:{}", options.host, options.port)));
  }
  if (::listen(listener.fd, SOMAXCONN) != 0) {
    return Fail(ErrorCode::kUnavailable, SystemError("listen"));
  }
  socklen_t length = sizeof address;
  if (::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Fail(ErrorCode::kUnavailable, SystemError("getsockname"));
  }
  Fd epoll{::epoll_create1(EPOLL_CLOEXEC)};
  if (epoll.fd < 0) return Fail(ErrorCode::kUnavailable, SystemError("epoll_create1"));
  Fd wake{::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
  if (wake.fd < 0) return Fail(ErrorCode::kUnavailable, SystemError("eventfd"));
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kListenId;
  if (::epoll_ctl(epoll.fd, EPOLL_CTL_ADD, listener.fd, &event) != 0) {
    return Fail(ErrorCode::kUnavailable, SystemError("epoll_ctl"));
  }
  event.data.u64 = kWakeId;
  if (::epoll_ctl(epoll.fd, EPOLL_CTL_ADD, wake.fd, &event) != 0) {
    return Fail(ErrorCode::kUnavailable, SystemError("epoll_ctl"));
  }
  auto loop = std::make_unique<Loop>(options, listener.Release(), epoll.Release(), wake.Release(),
                                     ntohs(address.sin_port));
  return std::unique_ptr<FakeLlmServer>(new FakeLlmServer(std::move(loop)));
}

FakeLlmServer::FakeLlmServer(std::unique_ptr<Loop> loop) : loop_(std::move(loop)) {}
FakeLlmServer::~FakeLlmServer() = default;

uint16_t FakeLlmServer::port() const { return loop_->port(); }
void FakeLlmServer::Run() { loop_->Run(); }
void FakeLlmServer::Stop() { loop_->Stop(); }
Stats FakeLlmServer::stats() const { return loop_->Snapshot(); }

}  // namespace helios::fakellm
