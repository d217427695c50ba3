// A pool of connections to a database server: opened on demand up to max_size, up to
// max_idle kept open between uses, checked before reuse when they have been idle a while, and
// replaced when broken. A database that restarts costs the connections that were open; the
// next callers open new ones, so the server never needs a restart.
//
// A caller that finds every connection in use waits up to acquire_timeout, then gets
// kUnavailable (503), so an overloaded or unreachable database turns into a quick, clear error
// and never into a pile of blocked threads.
//
// Thread-safety: Acquire and Usage may be called from any thread. A Lease is used by one
// thread and must not outlive its pool. The connect and check functions are called without
// the pool's lock held, from the thread that acquires.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include "common/error.h"
#include "db/data_source.h"

namespace helios::db {

struct NetworkPoolOptions {
  size_t max_size = 8;  // connections open at most (pool_size)
  size_t max_idle = 8;  // idle connections kept open (max_idle_connections), <= max_size
  std::chrono::milliseconds acquire_timeout{30000};  // connection_timeout_secs
  // An idle connection older than this is checked (a round trip) before it is handed out.
  std::chrono::milliseconds check_after_idle{5000};
};

template <typename Conn>
class NetworkPool {
 public:
  // Opens a new connection; its errors are returned to the acquiring caller as they are
  // (data sources make them kUnavailable with a message free of credentials).
  using ConnectFn = std::function<Result<std::unique_ptr<Conn>>()>;
  // True when a connection still answers (e.g. "SELECT 1"); false discards it.
  using CheckFn = std::function<bool(Conn&)>;

  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          conn_(std::move(other.conn_)),
          broken_(other.broken_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_) pool_->Release(std::move(conn_), broken_);
    }

    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }
    // The connection failed in a way that may have left it unusable (lost connection, a
    // protocol error, a cancelled statement whose state is unknown): it is closed, not reused.
    void MarkBroken() { broken_ = true; }

   private:
    friend class NetworkPool;
    Lease(NetworkPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    NetworkPool* pool_;
    std::unique_ptr<Conn> conn_;
    bool broken_ = false;
  };

  NetworkPool(NetworkPoolOptions options, ConnectFn connect, CheckFn check)
      : options_(Normalize(options)), connect_(std::move(connect)), check_(std::move(check)) {}
  NetworkPool(const NetworkPool&) = delete;
  NetworkPool& operator=(const NetworkPool&) = delete;
  ~NetworkPool() = default;  // every Lease must be gone

  Result<Lease> Acquire() { return Acquire(options_.acquire_timeout); }

  Result<Lease> Acquire(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    for (;;) {
      if (!idle_.empty()) {
        Idle idle = std::move(idle_.back());
        idle_.pop_back();
        ++in_use_;
        const bool stale =
            std::chrono::steady_clock::now() - idle.since >= options_.check_after_idle;
        if (!stale) return Lease(this, std::move(idle.conn));
        lock.unlock();
        if (check_(*idle.conn)) return Lease(this, std::move(idle.conn));
        idle.conn.reset();  // closed outside the lock
        lock.lock();
        --in_use_;
        --open_;
        // A dead idle connection usually means the server restarted: the others are suspect too.
        for (Idle& other : idle_) other.since = std::chrono::steady_clock::time_point{};
        available_.notify_one();
        continue;
      }
      if (open_ < options_.max_size) {
        ++open_;
        ++in_use_;
        lock.unlock();
        auto conn = connect_();
        if (conn) return Lease(this, std::move(*conn));
        lock.lock();
        --open_;
        --in_use_;
        available_.notify_one();
        return std::unexpected(conn.error());
      }
      ++waiting_;
      const bool woke = available_.wait_until(
          lock, deadline, [this] { return !idle_.empty() || open_ < options_.max_size; });
      --waiting_;
      if (!woke) {
        return Fail(ErrorCode::kUnavailable,
                    fmt::format("all {} database connections are busy (waited {} ms); try again "
                                "in a moment",
                                options_.max_size, timeout.count()));
      }
    }
  }

  PoolUsage Usage() const {
    std::lock_guard lock(mutex_);
    return PoolUsage{options_.max_size, open_, in_use_, waiting_};
  }

  // Closes every idle connection (after a schema refresh, or in tests). Leased ones are
  // closed when given back if `broken` is set on their lease.
  void CloseIdle() {
    std::deque<Idle> closing;
    {
      std::lock_guard lock(mutex_);
      closing.swap(idle_);
      open_ -= closing.size();
    }
    available_.notify_all();
  }

  const NetworkPoolOptions& options() const { return options_; }

 private:
  struct Idle {
    std::unique_ptr<Conn> conn;
    std::chrono::steady_clock::time_point since;
  };

  static NetworkPoolOptions Normalize(NetworkPoolOptions o) {
    if (o.max_size == 0) o.max_size = 1;
    if (o.max_idle > o.max_size) o.max_idle = o.max_size;
    return o;
  }

  void Release(std::unique_ptr<Conn> conn, bool broken) {
    std::unique_ptr<Conn> closing;
    {
      std::lock_guard lock(mutex_);
      --in_use_;
      if (broken || !conn || idle_.size() >= options_.max_idle) {
        closing = std::move(conn);
        --open_;
      } else {
        idle_.push_back(Idle{std::move(conn), std::chrono::steady_clock::now()});
      }
    }
    available_.notify_one();
    // `closing` is destroyed here, outside the lock (closing a socket may take a moment).
  }

  const NetworkPoolOptions options_;
  const ConnectFn connect_;
  const CheckFn check_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::deque<Idle> idle_;  // most recently used at the back
  size_t open_ = 0;
  size_t in_use_ = 0;
  size_t waiting_ = 0;
};

}  // namespace helios::db
