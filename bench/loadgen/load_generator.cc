#include "load_generator.h"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <deque>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "http_response_parser.h"

namespace helios::loadgen {
namespace {

// Times are nanoseconds of the monotonic clock (steady_clock).
using Nanos = int64_t;

constexpr Nanos kLateThreshold = 1'000'000;
// How often timeouts and pending reconnects are checked.
constexpr Nanos kHousekeepingInterval = 10'000'000;
constexpr Nanos kMinBackoff = 10'000'000;
constexpr Nanos kMaxBackoff = 1'000'000'000;
constexpr Nanos kNever = std::numeric_limits<Nanos>::max();
constexpr size_t kReadBufferSize = 64 * 1024;
constexpr int kMaxEvents = 256;

Nanos Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct CpuTimes {
  Nanos user = 0;
  Nanos system = 0;
};

// The calling thread's CPU time so far (the generator runs on one thread).
CpuTimes ThreadCpu() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  const auto nanos = [](const timeval& tv) {
    return Nanos{tv.tv_sec} * 1'000'000'000 + Nanos{tv.tv_usec} * 1'000;
  };
  return {nanos(usage.ru_utime), nanos(usage.ru_stime)};
}

std::string ErrnoText(int err) { return std::strerror(err); }

enum class ConnState { kDisconnected, kConnecting, kIdle, kBusy };

struct Connection {
  int fd = -1;
  uint32_t generation = 0;  // tells events of a closed socket from those of its successor
  ConnState state = ConnState::kDisconnected;
  bool in_idle_queue = false;
  bool want_write = false;
  Nanos connect_started = 0;
  Nanos reconnect_at = 0;
  Nanos backoff = kMinBackoff;
  // The request in flight.
  std::string out;
  size_t written = 0;
  Nanos scheduled = 0;
  Nanos sent = 0;
  bool measured = false;
  HttpResponseParser parser;
};

class Generator {
 public:
  explicit Generator(const Options& options) : options_(options) {}
  ~Generator() {
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  Result<Report> Run();

 private:
  Result<void> Setup();
  Result<void> ConnectAll();
  Result<void> ConnectAllTo(Nanos deadline);
  void BuildRequests();

  void StartConnect(size_t index, Nanos now);
  void OnConnectFailed(size_t index, Nanos now, int err);
  void CloseSocket(Connection& c);
  void Reconnect(size_t index, Nanos now);
  void MakeIdle(size_t index);
  bool PopIdle(size_t* index);
  void Watch(Connection& c, size_t index, bool write, int op);

  void Send(size_t index, uint64_t request, Nanos scheduled, Nanos now);
  void WriteSome(size_t index, Nanos now);
  void HandleEvent(size_t index, uint32_t events, Nanos now);
  void OnReadable(size_t index, Nanos now);
  void Complete(size_t index, Nanos now, bool trailing_bytes);
  void FailRequest(size_t index, uint64_t ErrorCounts::*kind, Nanos now);
  void Housekeeping(Nanos now);
  int Wait(epoll_event* events, Nanos now, Nanos wake);

  bool Counting(Nanos now) const { return now >= window_start_; }
  Nanos Scheduled(uint64_t request) const {
    return t0_ + static_cast<Nanos>(std::llround(static_cast<double>(request) * period_));
  }

  const Options& options_;
  Report report_;
  struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
  };
  // What the host resolved to, in getaddrinfo's order; connections use the first that
  // accepted one at the start.
  std::vector<Address> addresses_;
  Address address_;
  int epoll_fd_ = -1;
  bool have_epoll_pwait2_ = true;
  std::vector<Connection> conns_;
  std::deque<size_t> idle_;
  size_t busy_ = 0;
  std::string last_connect_error_;
  std::unique_ptr<char[]> read_buffer_;

  // request i = prefixes_[i % paths] + suffixes_[i % bodies]
  std::vector<std::string> prefixes_;
  std::vector<std::string> suffixes_;
  bool head_ = false;

  bool open_loop_ = true;
  double period_ = 0;  // ns between scheduled requests
  Nanos t0_ = 0;
  Nanos window_start_ = kNever;
  Nanos stop_ = kNever;
  Nanos hard_end_ = kNever;
  uint64_t end_request_ = 0;  // open loop: requests [0, end_request_) are scheduled
  uint64_t first_measured_ = 0;
  uint64_t next_due_ = 0;   // open loop: requests before it are due
  uint64_t next_send_ = 0;  // requests before it were written
  Nanos last_completion_ = 0;
};

Result<void> Generator::Setup() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  if (int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot resolve host '{}': {}", options_.host, ::gai_strerror(rc)));
  }
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Address address;
    std::memcpy(&address.storage, a->ai_addr, a->ai_addrlen);
    address.length = a->ai_addrlen;
    addresses_.push_back(address);
  }
  ::freeaddrinfo(found);

  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Fail(ErrorCode::kInternal, "epoll_create1: " + ErrnoText(errno));
  read_buffer_ = std::make_unique<char[]>(kReadBufferSize);
  conns_.resize(static_cast<size_t>(options_.connections));
  BuildRequests();
  return {};
}

void Generator::BuildRequests() {
  std::string fixed;
  bool has_host = false;
  for (const auto& header : options_.headers) {
    std::string_view name = std::string_view(header).substr(0, header.find(':'));
    has_host = has_host || (name.size() == 4 && ::strncasecmp(name.data(), "host", 4) == 0);
    fixed += header;
    fixed += "\r\n";
  }
  if (!has_host) {
    fixed = "Host: " + HostPort(options_) + "\r\n" + fixed;
  }
  for (const auto& path : options_.paths) {
    prefixes_.push_back(fmt::format("{} {} HTTP/1.1\r\n{}", options_.method, path, fixed));
  }
  head_ = options_.method == "HEAD";
  if (options_.bodies.empty()) {
    // Methods that usually carry a body say it is empty, so the server does not wait for one.
    const bool body_method =
        options_.method == "POST" || options_.method == "PUT" || options_.method == "PATCH";
    suffixes_.push_back(body_method ? "Content-Length: 0\r\n\r\n" : "\r\n");
  }
  for (const auto& body : options_.bodies) {
    suffixes_.push_back(fmt::format("Content-Length: {}\r\n\r\n{}", body.size(), body));
  }
}

void Generator::Watch(Connection& c, size_t index, bool write, int op) {
  epoll_event ev{};
  ev.events = write ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  ev.data.u64 = (uint64_t{c.generation} << 32) | index;
  ::epoll_ctl(epoll_fd_, op, c.fd, &ev);
}

void Generator::StartConnect(size_t index, Nanos now) {
  Connection& c = conns_[index];
  c.fd = ::socket(address_.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    OnConnectFailed(index, now, errno);
    return;
  }
  ++c.generation;
  // Requests are small single writes; without this they would wait for delayed ACKs.
  int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c.want_write = false;
  c.connect_started = now;
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&address_.storage), address_.length) == 0) {
    Watch(c, index, false, EPOLL_CTL_ADD);
    c.backoff = kMinBackoff;
    MakeIdle(index);
  } else if (errno == EINPROGRESS) {
    Watch(c, index, true, EPOLL_CTL_ADD);
    c.state = ConnState::kConnecting;
  } else {
    OnConnectFailed(index, now, errno);
  }
}

void Generator::OnConnectFailed(size_t index, Nanos now, int err) {
  Connection& c = conns_[index];
  CloseSocket(c);
  if (Counting(now)) ++report_.errors.connect;
  last_connect_error_ = ErrnoText(err);
  c.state = ConnState::kDisconnected;
  c.reconnect_at = now + c.backoff;
  c.backoff = std::min(c.backoff * 2, kMaxBackoff);
}

void Generator::CloseSocket(Connection& c) {
  if (c.fd >= 0) ::close(c.fd);  // closing removes it from the epoll set
  c.fd = -1;
  c.want_write = false;
}

void Generator::Reconnect(size_t index, Nanos now) {
  CloseSocket(conns_[index]);
  if (Counting(now)) ++report_.reconnects;
  StartConnect(index, now);
}

void Generator::MakeIdle(size_t index) {
  Connection& c = conns_[index];
  c.state = ConnState::kIdle;
  // First in, first out, so that every connection stays in use (and is not closed by the
  // server's keep-alive timeout while the others do all the work).
  if (!c.in_idle_queue) {
    c.in_idle_queue = true;
    idle_.push_back(index);
  }
}

bool Generator::PopIdle(size_t* index) {
  while (!idle_.empty()) {
    const size_t i = idle_.front();
    idle_.pop_front();
    conns_[i].in_idle_queue = false;
    if (conns_[i].state == ConnState::kIdle) {
      *index = i;
      return true;
    }
  }
  return false;
}

void Generator::Send(size_t index, uint64_t request, Nanos scheduled, Nanos now) {
  Connection& c = conns_[index];
  c.out.assign(prefixes_[request % prefixes_.size()]);
  c.out.append(suffixes_[request % suffixes_.size()]);
  c.written = 0;
  c.scheduled = scheduled;
  c.sent = now;
  c.measured = open_loop_ ? request >= first_measured_ : Counting(now);
  c.parser.Reset(head_);
  c.state = ConnState::kBusy;
  ++busy_;
  ++report_.requests_written;
  if (c.measured) {
    ++report_.sent;
    if (now - scheduled > kLateThreshold) ++report_.late;
  }
  WriteSome(index, now);
}

void Generator::WriteSome(size_t index, Nanos now) {
  Connection& c = conns_[index];
  while (c.written < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.written += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c.want_write) {
        c.want_write = true;
        Watch(c, index, true, EPOLL_CTL_MOD);
      }
      return;
    } else {
      FailRequest(index, &ErrorCounts::write, now);
      return;
    }
  }
  if (c.want_write) {
    c.want_write = false;
    Watch(c, index, false, EPOLL_CTL_MOD);
  }
}

void Generator::HandleEvent(size_t index, uint32_t events, Nanos now) {
  Connection& c = conns_[index];
  if (c.state == ConnState::kConnecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0 && (events & EPOLLERR) != 0) err = ECONNREFUSED;
    if (err != 0) {
      OnConnectFailed(index, now, err);
      return;
    }
    c.backoff = kMinBackoff;
    Watch(c, index, false, EPOLL_CTL_MOD);
    MakeIdle(index);
    return;
  }
  if ((events & EPOLLOUT) != 0 && c.want_write && c.state == ConnState::kBusy) {
    WriteSome(index, now);
    if (c.state != ConnState::kBusy) return;
  }
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) OnReadable(index, now);
}

void Generator::OnReadable(size_t index, Nanos now) {
  Connection& c = conns_[index];
  const ssize_t n = ::recv(c.fd, read_buffer_.get(), kReadBufferSize, 0);
  if (n > 0) {
    if (c.state != ConnState::kBusy) {
      // Bytes that answer no request: the connection's framing can no longer be trusted.
      if (Counting(now)) ++report_.errors.protocol;
      Reconnect(index, now);
      return;
    }
    auto progress = c.parser.Feed(std::string_view(read_buffer_.get(), static_cast<size_t>(n)));
    if (!progress) {
      FailRequest(index, &ErrorCounts::protocol, now);
    } else if (progress->complete) {
      Complete(index, Now(), progress->consumed < static_cast<size_t>(n));
    }
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (c.state != ConnState::kBusy) {
    // The server closed (or reset) an idle connection, e.g. at its keep-alive timeout.
    Reconnect(index, now);
  } else if (n == 0) {
    if (c.parser.FeedEof()) {
      Complete(index, now, false);
    } else {
      FailRequest(index, &ErrorCounts::closed, now);
    }
  } else {
    FailRequest(index, &ErrorCounts::read, now);
  }
}

void Generator::Complete(size_t index, Nanos now, bool trailing_bytes) {
  Connection& c = conns_[index];
  --busy_;
  if (c.measured) {
    ++report_.responses;
    ++report_.status_counts[c.parser.status()];
    report_.body_bytes += c.parser.body_bytes();
    report_.latency.Record(std::chrono::nanoseconds(now - c.scheduled));
    report_.service_time.Record(std::chrono::nanoseconds(now - c.sent));
    last_completion_ = std::max(last_completion_, now);
    if (trailing_bytes) ++report_.errors.protocol;
  }
  // A connection is reused only when the server allows it, the whole request was written, and
  // nothing beyond the response arrived.
  if (trailing_bytes || !c.parser.keep_alive() || c.written < c.out.size()) {
    Reconnect(index, now);
  } else {
    MakeIdle(index);
  }
}

void Generator::FailRequest(size_t index, uint64_t ErrorCounts::*kind, Nanos now) {
  Connection& c = conns_[index];
  --busy_;
  if (c.measured) ++(report_.errors.*kind);
  c.state = ConnState::kDisconnected;
  Reconnect(index, now);
}

void Generator::Housekeeping(Nanos now) {
  const Nanos timeout = options_.timeout.count();
  for (size_t i = 0; i < conns_.size(); ++i) {
    Connection& c = conns_[i];
    if (c.state == ConnState::kBusy && now - c.sent >= timeout) {
      FailRequest(i, &ErrorCounts::timeout, now);
    } else if (c.state == ConnState::kConnecting && now - c.connect_started >= timeout) {
      OnConnectFailed(i, now, ETIMEDOUT);
    } else if (c.state == ConnState::kDisconnected && now >= c.reconnect_at) {
      StartConnect(i, now);
    }
  }
}

// Waits for events until `wake` at the latest. epoll_pwait2 takes a timeout in nanoseconds, so
// the next scheduled request is written on time without a timer of its own (a timerfd would
// cost two more system calls per wake-up); kernels before 5.11 get epoll_wait's milliseconds.
int Generator::Wait(epoll_event* events, Nanos now, Nanos wake) {
  const Nanos timeout = std::max<Nanos>(wake - now, 0);
  if (have_epoll_pwait2_) {
    const timespec ts{static_cast<time_t>(timeout / 1'000'000'000),
                      static_cast<long>(timeout % 1'000'000'000)};
    const int n = ::epoll_pwait2(epoll_fd_, events, kMaxEvents, &ts, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    have_epoll_pwait2_ = false;
  }
  return ::epoll_wait(epoll_fd_, events, kMaxEvents,
                      static_cast<int>((timeout + 999'999) / 1'000'000));
}

// Opens every connection to the first address that takes one ("localhost" may resolve to ::1
// for a server that listens on 127.0.0.1 only).
Result<void> Generator::ConnectAll() {
  const Nanos deadline = Now() + options_.timeout.count();
  for (const Address& address : addresses_) {
    address_ = address;
    auto connected = ConnectAllTo(deadline);
    if (!connected || !idle_.empty()) return connected;
    for (auto& c : conns_) {
      CloseSocket(c);
      const uint32_t generation = c.generation;
      c = Connection{};
      c.generation = generation;
    }
  }
  return Fail(ErrorCode::kUnavailable,
              fmt::format("cannot connect to {}: {}", HostPort(options_), last_connect_error_));
}

Result<void> Generator::ConnectAllTo(Nanos deadline) {
  Nanos now = Now();
  for (size_t i = 0; i < conns_.size(); ++i) StartConnect(i, now);
  epoll_event events[kMaxEvents];
  while (true) {
    const bool pending = std::any_of(conns_.begin(), conns_.end(), [](const Connection& c) {
      return c.state == ConnState::kConnecting;
    });
    if (!pending || now >= deadline) break;
    const int wait_ms = static_cast<int>(std::min<Nanos>(deadline - now, 100'000'000) / 1'000'000);
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, std::max(wait_ms, 1));
    if (n < 0 && errno != EINTR)
      return Fail(ErrorCode::kInternal, "epoll_wait: " + ErrnoText(errno));
    now = Now();
    for (int e = 0; e < n; ++e) {
      const uint64_t tag = events[e].data.u64;
      const size_t index = tag & 0xffffffffu;
      if (conns_[index].generation == tag >> 32) HandleEvent(index, events[e].events, now);
    }
  }
  for (size_t i = 0; i < conns_.size(); ++i) {
    if (conns_[i].state == ConnState::kConnecting) OnConnectFailed(i, now, ETIMEDOUT);
  }
  return {};
}

Result<Report> Generator::Run() {
  if (auto ok = Setup(); !ok) return std::unexpected(ok.error());
  if (auto ok = ConnectAll(); !ok) return std::unexpected(ok.error());

  const Nanos warmup = options_.warmup.count();
  const Nanos duration = options_.duration.count();
  open_loop_ = options_.rate > 0;
  const CpuTimes cpu_start = ThreadCpu();
  t0_ = Now();
  window_start_ = t0_ + warmup;
  stop_ = window_start_ + duration;
  hard_end_ = stop_ + options_.timeout.count();
  if (open_loop_) {
    period_ = 1e9 / options_.rate;
    // Requests i with i / rate < warmup + duration; the epsilon keeps 200/s for 2 s at 400.
    const auto count = [&](Nanos span) {
      return static_cast<uint64_t>(
          std::ceil(options_.rate * static_cast<double>(span) / 1e9 - 1e-6));
    };
    end_request_ = count(warmup + duration);
    first_measured_ = count(warmup);
    report_.scheduled = end_request_ - first_measured_;
  }

  epoll_event events[kMaxEvents];
  Nanos next_housekeeping = t0_;
  while (true) {
    Nanos now = Now();
    if (open_loop_) {
      while (next_due_ < end_request_ && Scheduled(next_due_) <= now) ++next_due_;
      size_t index = 0;
      while (next_send_ < next_due_ && PopIdle(&index)) {
        Send(index, next_send_, Scheduled(next_send_), now);
        ++next_send_;
      }
      if (Counting(now)) report_.max_queue = std::max(report_.max_queue, next_due_ - next_send_);
    } else if (now < stop_) {
      size_t index = 0;
      while (PopIdle(&index)) {
        Send(index, next_send_, now, now);
        ++next_send_;
      }
    }

    const bool all_sent = open_loop_ ? next_send_ == end_request_ : now >= stop_;
    if (all_sent && busy_ == 0) break;
    if (now >= hard_end_) {
      for (const auto& c : conns_) {
        if (c.state == ConnState::kBusy && c.measured) ++report_.unfinished;
      }
      if (open_loop_) report_.not_sent = end_request_ - std::max(next_send_, first_measured_);
      break;
    }
    if (now >= next_housekeeping) {
      Housekeeping(now);
      next_housekeeping = now + kHousekeepingInterval;
    }

    Nanos wake = std::min(next_housekeeping, hard_end_);
    // The next request's time matters only when a connection is free to take it; otherwise it
    // waits in the queue until a response frees one.
    if (open_loop_ && next_due_ < end_request_ && !idle_.empty()) {
      wake = std::min(wake, Scheduled(next_due_));
    }
    const int n = Wait(events, now, wake);
    if (n < 0 && errno != EINTR) {
      return Fail(ErrorCode::kInternal, "waiting for events: " + ErrnoText(errno));
    }
    // One reading of the clock for the batch's bookkeeping; a response's end is read afresh.
    now = Now();
    for (int e = 0; e < n; ++e) {
      const uint64_t tag = events[e].data.u64;
      const size_t index = tag & 0xffffffffu;
      if (conns_[index].generation == tag >> 32) HandleEvent(index, events[e].events, now);
    }
  }

  const CpuTimes cpu_end = ThreadCpu();
  report_.cpu_user = std::chrono::nanoseconds(cpu_end.user - cpu_start.user);
  report_.cpu_system = std::chrono::nanoseconds(cpu_end.system - cpu_start.system);
  if (!open_loop_) report_.scheduled = report_.sent;
  report_.elapsed = std::chrono::nanoseconds(std::max(duration, last_completion_ - window_start_));
  report_.achieved_rate =
      static_cast<double>(report_.responses) / (static_cast<double>(report_.elapsed.count()) / 1e9);
  return std::move(report_);
}

}  // namespace

std::array<uint64_t, 6> Report::StatusClassCounts() const {
  std::array<uint64_t, 6> classes{};
  for (const auto& [status, count] : status_counts) {
    if (status >= 100 && status < 600) classes[static_cast<size_t>(status / 100)] += count;
  }
  return classes;
}

Result<Report> RunLoad(const Options& options) {
  Generator generator(options);
  auto report = generator.Run();
  if (!report) return report;
  report->target = "http://" + HostPort(options);
  report->method = options.method;
  report->connections = options.connections;
  report->rate = options.rate;
  report->duration = options.duration;
  report->warmup = options.warmup;
  report->timeout = options.timeout;
  return report;
}

}  // namespace helios::loadgen
