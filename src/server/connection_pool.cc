#include "server/connection_pool.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <system_error>
#include <utility>

namespace helios::server {
namespace {

thread_local ShedReason current_shed_reason = ShedReason::kNone;

ConnectionPoolOptions InRange(ConnectionPoolOptions options) {
  options.min_threads = std::max<size_t>(1, options.min_threads);
  options.max_threads = std::max(options.min_threads, options.max_threads);
  options.shedding_threads = std::max<size_t>(1, options.shedding_threads);
  return options;
}

}  // namespace

std::string_view ShedReasonName(ShedReason reason) {
  switch (reason) {
    case ShedReason::kNone:
      return "none";
    case ShedReason::kQueueFull:
      return "queue_full";
    case ShedReason::kWaitedTooLong:
      return "waited_too_long";
  }
  return "none";
}

ConnectionPool::ConnectionPool(ConnectionPoolOptions options, ShedListener on_shed)
    : options_(InRange(options)), on_shed_(std::move(on_shed)) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < options_.min_threads; ++i) StartThreadLocked();
  for (size_t i = 0; i < options_.shedding_threads; ++i) {
    try {
      shedders_.emplace_back([this] { Shed(); });
    } catch (const std::system_error&) {
      break;  // fewer shedding threads; Submit() sheds inline when there is none
    }
  }
}

ConnectionPool::~ConnectionPool() { Shutdown(); }

ShedReason ConnectionPool::CurrentShedReason() { return current_shed_reason; }

bool ConnectionPool::StartThreadLocked() {
  threads_.emplace_back();
  auto self = std::prev(threads_.end());
  try {
    // The new thread needs mu_ before it touches `self`, and mu_ is held until it is assigned.
    *self = std::thread([this, self] { Serve(self); });
  } catch (const std::system_error&) {
    threads_.erase(self);  // out of threads (ulimit, memory): serve with those there are
    return false;
  }
  ++starting_;
  peak_ = std::max(peak_, threads_.size());
  return true;
}

void ConnectionPool::Submit(Task task) {
  std::vector<std::thread> exited;
  ShedReason shed = ShedReason::kNone;
  bool inline_run = false;
  {
    std::lock_guard lock(mu_);
    exited.swap(retired_);
    const size_t takers = idle_ + starting_;  // threads that will look at the queue next
    if (stopping_) {
      shed = ShedReason::kQueueFull;
      inline_run = true;
      ++shed_;
    } else if (queue_.size() < takers) {
      queue_.push_back({std::move(task), std::chrono::steady_clock::now()});
      work_cv_.notify_one();
    } else if (threads_.size() < options_.max_threads && StartThreadLocked()) {
      queue_.push_back({std::move(task), std::chrono::steady_clock::now()});
    } else if (queue_.size() - takers < options_.max_queued) {
      queue_.push_back({std::move(task), std::chrono::steady_clock::now()});
    } else {
      shed = ShedReason::kQueueFull;
      ++shed_;
      if (shedders_.empty()) {
        inline_run = true;
      } else {
        shed_queue_.push_back(std::move(task));
        shed_cv_.notify_one();
      }
    }
  }
  for (std::thread& t : exited) t.join();
  if (shed != ShedReason::kNone && on_shed_) on_shed_(shed);
  if (inline_run) Run(task, shed);
}

void ConnectionPool::Serve(ThreadList::iterator self) {
  std::unique_lock lock(mu_);
  --starting_;
  for (;;) {
    if (queue_.empty() && !stopping_) {
      ++idle_;
      const auto deadline = std::chrono::steady_clock::now() + options_.idle_timeout;
      bool retire = false;
      while (queue_.empty() && !stopping_) {
        if (threads_.size() <= options_.min_threads) {
          work_cv_.wait(lock);
        } else if (work_cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
                   queue_.empty() && !stopping_ && threads_.size() > options_.min_threads) {
          retire = true;
          break;
        }
      }
      --idle_;
      if (retire) break;
    }
    if (queue_.empty()) break;  // stopping, and nothing is left to serve
    Queued job = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    ShedReason reason = ShedReason::kNone;
    if (options_.max_wait.count() > 0 &&
        std::chrono::steady_clock::now() - job.since > options_.max_wait) {
      reason = ShedReason::kWaitedTooLong;
      ++shed_;
    }
    lock.unlock();
    if (reason != ShedReason::kNone && on_shed_) on_shed_(reason);
    Run(job.task, reason);
    job.task = nullptr;  // whatever it holds is released outside the lock
    lock.lock();
    --busy_;
  }
  // Whoever takes the lock next (Submit, Shutdown) joins this thread; it only returns now.
  retired_.push_back(std::move(*self));
  threads_.erase(self);
  if (threads_.empty()) done_cv_.notify_all();
}

void ConnectionPool::Shed() {
  std::unique_lock lock(mu_);
  for (;;) {
    shed_cv_.wait(lock, [this] { return stopping_ || !shed_queue_.empty(); });
    if (shed_queue_.empty()) return;  // stopping
    Task task = std::move(shed_queue_.front());
    shed_queue_.pop_front();
    lock.unlock();
    Run(task, ShedReason::kQueueFull);
    task = nullptr;
    lock.lock();
  }
}

void ConnectionPool::Run(Task& task, ShedReason reason) {
  current_shed_reason = reason;
  try {
    task();
  } catch (...) {
    // httplib's task serves a connection and catches what its handlers throw; anything else
    // must not end a pool thread.
  }
  current_shed_reason = ShedReason::kNone;
}

void ConnectionPool::Shutdown() {
  std::vector<std::thread> to_join;
  {
    std::unique_lock lock(mu_);
    if (joined_) return;
    stopping_ = true;
    work_cv_.notify_all();
    shed_cv_.notify_all();
    done_cv_.wait(lock, [this] { return threads_.empty(); });
    joined_ = true;
    to_join.swap(retired_);
    for (std::thread& t : shedders_) to_join.push_back(std::move(t));
    shedders_.clear();
  }
  for (std::thread& t : to_join) t.join();
}

ConnectionPoolStats ConnectionPool::Stats() const {
  std::lock_guard lock(mu_);
  return ConnectionPoolStats{threads_.size(), busy_, peak_, queue_.size(), shed_};
}

}  // namespace helios::server
