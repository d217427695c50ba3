#include "redis/redis_client.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <utility>

namespace helios::redis {
namespace {

using std::chrono::milliseconds;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval ToTimeval(milliseconds ms) {
  // hiredis reads a zero timeout as "no limit"; the options promise a limit on every command.
  const int64_t count = std::max<int64_t>(ms.count(), 1);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(count / 1000);
  tv.tv_usec = static_cast<suseconds_t>((count % 1000) * 1000);
  return tv;
}

Reply Convert(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(Convert(*r.element[i]));
      break;
    case REDIS_REPLY_NIL:
      out.type = Reply::Type::kNil;
      break;
    default:
      out.type = Reply::Type::kError;
      out.str = fmt::format("a reply of unknown type {}", r.type);
      break;
  }
  return out;
}

// hiredis writes with write(2), so a write to a connection the server has reset raises
// SIGPIPE, which would end the process. While one is alive, SIGPIPE is blocked in this thread;
// one raised meanwhile is taken off the pending set before the old mask comes back, so the
// write fails with EPIPE instead.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    active_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
    if (active_) was_pending_ = PipePending();
  }
  ~SigpipeGuard() {
    if (!active_) return;
    const int saved_errno = errno;
    if (!was_pending_ && PipePending()) {
      const timespec zero{};
      sigset_t wanted = pipe_;
      (void)sigtimedwait(&wanted, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved_errno;
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  static bool PipePending() {
    sigset_t pending;
    return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  }
  sigset_t pipe_{};
  sigset_t old_{};
  bool active_ = false;
  bool was_pending_ = false;
};

std::string HostPort(const RedisUrl& url) {
  if (url.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", url.host, url.port);
  return fmt::format("{}:{}", url.host, url.port);
}

// Why a command on `c` got no answer; `saved_errno` is errno right after the failed call.
std::string IoFailure(const redisContext& c, int saved_errno, milliseconds timeout) {
  if (c.err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
    return fmt::format("no answer within {} ms", timeout.count());
  }
  if (c.err == REDIS_ERR_EOF) return "the server closed the connection";
  if (c.errstr[0] != '\0') return c.errstr;
  return "the connection failed";
}

struct ArgvView {
  explicit ArgvView(const std::vector<std::string>& argv) {
    ptrs.reserve(argv.size());
    lens.reserve(argv.size());
    for (const std::string& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
};

bool ParsePositiveInt(std::string_view text, int64_t max, int64_t& out) {
  if (text.empty()) return false;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return false;
  }
  out = value;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes decoded; nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

class HiredisClient final : public Client {
 public:
  HiredisClient(RedisUrl url, ClientOptions options)
      : url_(std::move(url)),
        options_(options),
        clock_(options.clock != nullptr ? *options.clock : system_clock_),
        host_port_(HostPort(url_)) {
    if (options_.pool_size == 0) options_.pool_size = 1;
  }

  ~HiredisClient() override = default;

  Result<Reply> Command(const std::vector<std::string>& argv) override {
    if (argv.empty()) return Fail(ErrorCode::kInvalidArgument, "a Redis command needs a name");
    for (int attempt = 0;; ++attempt) {
      auto lease = Acquire();
      if (!lease) return std::unexpected(lease.error());
      redisContext* c = lease->context();
      ArgvView view(argv);
      void* raw = nullptr;
      int saved_errno = 0;
      {
        SigpipeGuard guard;
        raw = redisCommandArgv(c, view.argc(), view.ptrs.data(), view.lens.data());
        saved_errno = errno;
      }
      if (raw == nullptr) {
        lease->MarkBroken();
        // A pooled connection the server closed while it sat idle (Redis restarted): the
        // command never reached a live server, so it is sent once more on a new connection
        // rather than declaring Redis down.
        if (attempt == 0 && lease->reused() && ClosedByServer(*c, saved_errno)) {
          DropIdle();
          continue;
        }
        return std::unexpected(MarkDown(IoFailure(*c, saved_errno, options_.command_timeout)));
      }
      ReplyPtr reply(static_cast<redisReply*>(raw));
      MarkUp();
      return Convert(*reply);
    }
  }

  Result<std::vector<Reply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override {
    for (const auto& argv : commands) {
      if (argv.empty()) return Fail(ErrorCode::kInvalidArgument, "a Redis command needs a name");
    }
    if (commands.empty()) return std::vector<Reply>{};
    auto lease = Acquire();
    if (!lease) return std::unexpected(lease.error());
    redisContext* c = lease->context();
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    std::optional<std::string> failure;
    {
      SigpipeGuard guard;
      for (const auto& argv : commands) {
        ArgvView view(argv);
        if (redisAppendCommandArgv(c, view.argc(), view.ptrs.data(), view.lens.data()) !=
            REDIS_OK) {
          failure = IoFailure(*c, errno, options_.command_timeout);
          break;
        }
      }
      for (size_t i = 0; !failure && i < commands.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
          failure = IoFailure(*c, errno, options_.command_timeout);
          break;
        }
        ReplyPtr reply(static_cast<redisReply*>(raw));
        replies.push_back(Convert(*reply));
      }
    }
    if (failure) {
      // Replies may still be owed on this connection: it cannot be reused.
      lease->MarkBroken();
      return std::unexpected(MarkDown(*failure));
    }
    MarkUp();
    return replies;
  }

  Result<Reply> Eval(const Script& script, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args) override {
    std::vector<std::string> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.push_back("EVALSHA");
    argv.push_back(script.sha1());
    argv.push_back(std::to_string(keys.size()));
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    auto reply = Command(argv);
    if (!reply || !reply->is_error() || !reply->str.starts_with("NOSCRIPT")) return reply;
    // Not in this server's script cache (first use, a restart, SCRIPT FLUSH).
    auto loaded = Command({"SCRIPT", "LOAD", script.source()});
    if (!loaded) return loaded;
    if (loaded->is_error()) return loaded;  // e.g. a compile error, as Redis reported it
    return Command(argv);
  }

  Result<void> Ping() override {
    auto reply = Command({"PING"});
    if (!reply) return std::unexpected(reply.error());
    if (reply->is_error()) {
      return Fail(
          ErrorCode::kUnavailable,
          fmt::format("Redis at {} answered PING with an error: {}", host_port_, reply->str));
    }
    return {};
  }

  bool Reachable() const override { return reachable_.load(); }

  std::string DisplayName() const override {
    return fmt::format("{}/{}", host_port_, url_.database);
  }

 private:
  struct Connection {
    ContextPtr context;
    uint64_t generation = 0;
  };

  // One pooled connection, held by one command; returned to the pool (or closed when broken
  // or older than the last failure) when it goes.
  class Lease {
   public:
    Lease(HiredisClient* client, Connection conn, bool reused)
        : client_(client), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& other) noexcept
        : client_(std::exchange(other.client_, nullptr)),
          conn_(std::move(other.conn_)),
          reused_(other.reused_),
          broken_(other.broken_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (client_ != nullptr) client_->Release(std::move(conn_), broken_);
    }
    redisContext* context() const { return conn_.context.get(); }
    void MarkBroken() { broken_ = true; }
    bool reused() const { return reused_; }  // it had served commands before this one

   private:
    HiredisClient* client_;
    Connection conn_;
    bool reused_ = false;
    bool broken_ = false;
  };

  Error Unreachable(const std::string& reason) const {
    return Error(ErrorCode::kUnavailable,
                 fmt::format("Redis at {} is unreachable ({})", host_port_, reason));
  }

  // Records a failure: no connection is tried for retry_after, and every connection open now
  // is closed when it comes back (after a restart they are all dead).
  Error MarkDown(const std::string& reason) {
    std::vector<Connection> closing;
    {
      std::lock_guard lock(mu_);
      reachable_.store(false);
      down_until_ = clock_.Steady() + options_.retry_after;
      down_reason_ = reason;
      ++generation_;
      open_ -= idle_.size();
      closing.swap(idle_);
    }
    available_.notify_all();
    return Unreachable(reason);  // `closing` is closed here, outside the lock
  }

  // True when the server ended the connection (end of file, reset, broken pipe), as opposed to
  // a time-out or a refused connection.
  static bool ClosedByServer(const redisContext& c, int saved_errno) {
    return c.err == REDIS_ERR_EOF ||
           (c.err == REDIS_ERR_IO && (saved_errno == ECONNRESET || saved_errno == EPIPE));
  }

  // Closes the idle connections (they share the fate of one the server closed) without
  // declaring Redis down.
  void DropIdle() {
    std::vector<Connection> closing;
    {
      std::lock_guard lock(mu_);
      ++generation_;
      open_ -= idle_.size();
      closing.swap(idle_);
    }
    available_.notify_all();
  }

  void MarkUp() {
    if (reachable_.load()) return;
    std::lock_guard lock(mu_);
    reachable_.store(true);
  }

  Result<Lease> Acquire() {
    const auto deadline = std::chrono::steady_clock::now() + options_.command_timeout;
    std::unique_lock lock(mu_);
    for (;;) {
      if (!reachable_.load() && clock_.Steady() < down_until_)
        return std::unexpected(Unreachable(down_reason_));
      if (!idle_.empty()) {
        Connection conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn), true);
      }
      if (open_ < options_.pool_size) {
        ++open_;
        const uint64_t generation = generation_;
        lock.unlock();
        auto context = Connect();
        if (!context) {
          {
            std::lock_guard relock(mu_);
            --open_;
          }
          available_.notify_one();
          return std::unexpected(MarkDown(context.error()));
        }
        return Lease(this, Connection{std::move(*context), generation}, false);
      }
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.pool_size) {
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("all {} connections to Redis at {} are busy", options_.pool_size,
                                host_port_));
      }
    }
  }

  void Release(Connection conn, bool broken) {
    {
      std::lock_guard lock(mu_);
      if (!broken && conn.generation == generation_) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;
      }
    }
    available_.notify_one();
    // A connection not kept is closed here, outside the lock.
  }

  // A new connection, authenticated and on the right database; the reason it failed otherwise
  // (never containing the password).
  std::expected<ContextPtr, std::string> Connect() {
    SigpipeGuard guard;
    ContextPtr c(
        redisConnectWithTimeout(url_.host.c_str(), url_.port, ToTimeval(options_.connect_timeout)));
    if (!c) return std::unexpected("out of memory");
    if (c->err != 0) return std::unexpected(std::string(c->errstr));
    if (redisSetTimeout(c.get(), ToTimeval(options_.command_timeout)) != REDIS_OK) {
      return std::unexpected(fmt::format("cannot set a time limit: {}", c->errstr));
    }
    auto setup = [&](const std::vector<std::string>& argv,
                     std::string_view what) -> std::expected<void, std::string> {
      ArgvView view(argv);
      void* raw = redisCommandArgv(c.get(), view.argc(), view.ptrs.data(), view.lens.data());
      if (raw == nullptr) {
        return std::unexpected(IoFailure(*c, errno, options_.command_timeout));
      }
      ReplyPtr reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_ERROR) {
        return std::unexpected(
            fmt::format("{}: {}", what, std::string_view(reply->str, reply->len)));
      }
      return {};
    };
    if (!url_.username.empty()) {
      if (auto r = setup({"AUTH", url_.username, url_.password}, "it refused the credentials");
          !r) {
        return std::unexpected(r.error());
      }
    } else if (!url_.password.empty()) {
      if (auto r = setup({"AUTH", url_.password}, "it refused the password"); !r) {
        return std::unexpected(r.error());
      }
    }
    if (url_.database != 0) {
      if (auto r = setup({"SELECT", std::to_string(url_.database)},
                         fmt::format("it refused database {}", url_.database));
          !r) {
        return std::unexpected(r.error());
      }
    }
    return c;
  }

  const RedisUrl url_;
  ClientOptions options_;
  SystemClock system_clock_;
  const Clock& clock_;
  const std::string host_port_;

  std::atomic<bool> reachable_{true};
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<Connection> idle_;
  size_t open_ = 0;          // idle and leased connections
  uint64_t generation_ = 0;  // bumped by each failure; older connections are not reused
  std::chrono::steady_clock::time_point down_until_;
  std::string down_reason_;
};

}  // namespace

Result<RedisUrl> ParseRedisUrl(std::string_view url) {
  RedisUrl out;
  std::string_view rest;
  if (StartsWithNoCase(url, "redis://")) {
    rest = url.substr(8);
  } else if (StartsWithNoCase(url, "rediss://")) {
    rest = url.substr(9);
    out.tls = true;
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "a Redis URL must start with redis:// or rediss:// "
                "(redis://[[user]:password@]host[:port][/db])");
  }
  // The last '@' ends the credentials, so a password may hold an unescaped '@' or '/'.
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the credentials in a Redis URL must be written user:password@ or :password@");
    }
    auto user = PercentDecode(userinfo.substr(0, colon));
    auto password = PercentDecode(userinfo.substr(colon + 1));
    if (!user || !password) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the credentials in a Redis URL hold a malformed %-escape (write %XX with two "
                  "hex digits)");
    }
    out.username = std::move(*user);
    out.password = std::move(*password);
  }
  std::string_view authority = rest;
  std::string_view path;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "an IPv6 host in a Redis URL lacks its closing ']'");
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) {
        return Fail(ErrorCode::kInvalidArgument,
                    "unexpected text after the IPv6 host of a Redis URL (expected :port)");
      }
      port = after.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
    if (port.find(':') != std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "an IPv6 host in a Redis URL must be in brackets, e.g. redis://[::1]:6379");
    }
  }
  if (host.empty()) return Fail(ErrorCode::kInvalidArgument, "a Redis URL needs a host");
  out.host = std::string(host);
  if (has_port) {
    int64_t value = 0;
    if (!ParsePositiveInt(port, 65535, value) || value == 0) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("the port of a Redis URL must be a number from 1 to 65535, got '{}'", port));
    }
    out.port = static_cast<int>(value);
  }
  if (!path.empty()) {
    int64_t value = 0;
    if (!ParsePositiveInt(path, std::numeric_limits<int>::max(), value)) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("the database of a Redis URL must be a non-negative integer, got '{}'",
                      path));
    }
    out.database = static_cast<int>(value);
  }
  return out;
}

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(source_.data(), source_.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    length = 0;  // an empty digest: EVALSHA then fails and SCRIPT LOAD is tried with the text
  }
  static constexpr char kHex[] = "0123456789abcdef";
  sha1_.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    sha1_.push_back(kHex[digest[i] >> 4]);
    sha1_.push_back(kHex[digest[i] & 0x0f]);
  }
}

Result<std::unique_ptr<Client>> Client::Create(std::string_view url, ClientOptions options) {
  auto parsed = ParseRedisUrl(url);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->tls) {
    return Fail(ErrorCode::kInvalidArgument,
                "this build has no TLS for Redis; use stunnel or a private network");
  }
  return std::unique_ptr<Client>(std::make_unique<HiredisClient>(std::move(*parsed), options));
}

Error ReplyError(const Reply& reply, std::string_view context) {
  std::string what;
  if (reply.is_error()) {
    what = fmt::format("redis returned an error: {}", reply.str);
  } else {
    what = "redis returned an unexpected reply";
  }
  if (context.empty()) return Error(ErrorCode::kInternal, std::move(what));
  return Error(ErrorCode::kInternal, fmt::format("{}: {}", context, what));
}

}  // namespace helios::redis
