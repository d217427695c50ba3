// The threads that serve the API's connections. httplib hands each accepted connection to a
// task queue as an opaque task, and the thread that runs it serves that connection until it is
// closed (keep-alive included), so a connection waiting on a slow language model holds a
// thread. A fixed pool therefore lets slow questions starve cheap ones; this pool grows
// instead:
//
//   - `min_threads` threads are always kept;
//   - a task that finds no idle thread starts another one, up to `max_threads`;
//   - when all `max_threads` are busy, at most `max_queued` tasks wait for one;
//   - beyond that a task is shed: it runs at once on one of `shedding_threads` threads with
//     CurrentShedReason() == kQueueFull, and the server answers 503 on that connection;
//   - a task that waited longer than `max_wait` before a thread took it also runs shed
//     (kWaitedTooLong): its client has probably given up;
//   - a thread above `min_threads` that stays idle for `idle_timeout` exits.
// Threads blocked on I/O cost no CPU, so hundreds of slow questions cost only memory.
//
// Every task submitted is run exactly once (a task owns a socket that only it closes), shed
// or not, even after Shutdown(). Time is the steady clock: the waits are real thread waits.
//
// Thread-safety: Submit(), Stats() and Shutdown() may be called from any thread;
// CurrentShedReason() reads the calling thread's own state. The shed listener is called
// without the pool's lock held, on the thread that decided (Submit's caller for kQueueFull,
// the serving thread for kWaitedTooLong), and must be thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace helios::server {

// Why a task runs shed; kNone: it is served normally.
enum class ShedReason { kNone, kQueueFull, kWaitedTooLong };

// "none", "queue_full", "waited_too_long" (the label of http_connections_shed_total).
std::string_view ShedReasonName(ShedReason reason);

struct ConnectionPoolOptions {
  size_t min_threads = 4;   // kept even when idle; at least 1
  size_t max_threads = 4;   // >= min_threads
  size_t max_queued = 256;  // tasks waiting while every thread is busy; 0: none wait
  // A thread above min_threads exits after being idle this long.
  std::chrono::milliseconds idle_timeout{30'000};
  // A task that waited longer than this for a thread runs shed; 0: never.
  std::chrono::milliseconds max_wait{10'000};
  size_t shedding_threads = 2;  // at least 1
};

struct ConnectionPoolStats {
  size_t threads = 0;       // serving threads alive, busy or idle (shedding threads not counted)
  size_t busy = 0;          // serving threads running a task
  size_t peak_threads = 0;  // the most serving threads alive at once so far
  size_t queued = 0;        // tasks waiting for a serving thread
  uint64_t shed = 0;        // tasks run shed so far, for either reason
};

class ConnectionPool {
 public:
  using Task = std::function<void()>;
  using ShedListener = std::function<void(ShedReason)>;

  // Starts min_threads serving threads and the shedding threads. Options out of range are
  // brought into range (min_threads and shedding_threads at least 1, max_threads at least
  // min_threads).
  explicit ConnectionPool(ConnectionPoolOptions options, ShedListener on_shed = nullptr);
  // Shutdown().
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Runs `task` on a serving thread (starting one when none is idle and there is room), queues
  // it, or sheds it; see the file comment. After Shutdown() the task runs shed on the caller's
  // thread.
  void Submit(Task task);
  // Lets the queued tasks run to completion, then stops and joins every thread. Idempotent.
  void Shutdown();
  ConnectionPoolStats Stats() const;

  // Why the task running on the calling thread runs shed; kNone outside a shed task (and on
  // any thread that is not the pool's).
  static ShedReason CurrentShedReason();

 private:
  struct Queued {
    Task task;
    std::chrono::steady_clock::time_point since;
  };
  using ThreadList = std::list<std::thread>;

  // mu_ is held. False when the thread could not be started.
  bool StartThreadLocked();
  void Serve(ThreadList::iterator self);
  void Shed();
  static void Run(Task& task, ShedReason reason);

  const ConnectionPoolOptions options_;
  const ShedListener on_shed_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // serving threads wait here for a task
  std::condition_variable shed_cv_;  // shedding threads wait here
  std::condition_variable done_cv_;  // Shutdown() waits here for the serving threads to exit
  std::deque<Queued> queue_;
  std::deque<Task> shed_queue_;
  ThreadList threads_;                // serving threads alive
  std::vector<std::thread> retired_;  // serving threads that exited, not yet joined
  std::vector<std::thread> shedders_;
  size_t idle_ = 0;      // serving threads waiting for a task
  size_t starting_ = 0;  // serving threads started that have not yet looked for a task
  size_t busy_ = 0;
  size_t peak_ = 0;
  uint64_t shed_ = 0;
  bool stopping_ = false;
  bool joined_ = false;
};

}  // namespace helios::server
