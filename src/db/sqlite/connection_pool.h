// A fixed set of connections handed out one caller at a time. A caller that finds none free
// waits up to a timeout, then gets kUnavailable (retryable), so an overloaded database turns
// into a quick error instead of a pile of blocked threads.
//
// Thread-safety: Acquire may be called from any thread. A Lease is used by one thread and
// must not outlive its pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common/error.h"

namespace helios::db {

template <typename T>
class ConnectionPool {
 public:
  // Exclusive use of one connection; gives it back to the pool when destroyed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), item_(std::move(other.item_)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_) pool_->Release(std::move(item_));
    }

    T& operator*() const { return *item_; }
    T* operator->() const { return item_.get(); }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<T> item) : pool_(pool), item_(std::move(item)) {}

    ConnectionPool* pool_;
    std::unique_ptr<T> item_;
  };

  explicit ConnectionPool(std::vector<std::unique_ptr<T>> items)
      : size_(items.size()), free_(std::move(items)) {}

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Waits up to `timeout` for a free connection; kUnavailable when none became free.
  Result<Lease> Acquire(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, timeout, [this] { return !free_.empty(); }))
      return Fail(ErrorCode::kUnavailable,
                  "all database connections are busy; try again in a moment");
    std::unique_ptr<T> item = std::move(free_.back());
    free_.pop_back();
    return Lease(this, std::move(item));
  }

  size_t size() const { return size_; }
  size_t available() const {
    std::lock_guard lock(mutex_);
    return free_.size();
  }

 private:
  void Release(std::unique_ptr<T> item) {
    {
      std::lock_guard lock(mutex_);
      free_.push_back(std::move(item));
    }
    available_.notify_one();
  }

  const size_t size_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<T>> free_;
};

}  // namespace helios::db
