// The pool of the PostgreSQL and MySQL data sources (db/network_pool.h) over a fake
// connection, so that its rules can be checked without a server: most of all with many threads
// acquiring, breaking and releasing at once, as the server's request threads do. The fake
// connection holds a plain (non-atomic) field that every holder writes, so two callers ever
// holding one connection at the same time is a data race that ThreadSanitizer reports
// (scripts/tsan.sh), besides failing the holder count below.
#include "db/network_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace helios::db {
namespace {

using std::chrono::milliseconds;

// Counts of the fake connections, shared by the pool's connect function and the connections.
struct Counters {
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> connect_failures{0};
  int live() const { return opened.load() - closed.load(); }
};

class FakeConn {
 public:
  explicit FakeConn(Counters& counters) : counters_(counters) { ++counters_.opened; }
  ~FakeConn() { ++counters_.closed; }
  FakeConn(const FakeConn&) = delete;
  FakeConn& operator=(const FakeConn&) = delete;

  std::atomic<int> holders{0};  // callers holding it now: never more than one
  int uses = 0;                 // written by whoever holds it, without a lock
  bool dead = false;            // the check below fails for it

 private:
  Counters& counters_;
};

using Pool = NetworkPool<FakeConn>;

Pool::ConnectFn ConnectTo(Counters& counters) {
  return [&counters]() -> Result<std::unique_ptr<FakeConn>> {
    return std::make_unique<FakeConn>(counters);
  };
}

bool Alive(FakeConn& conn) { return !conn.dead; }

TEST(NetworkPoolTest, OpensOnDemandAndReusesAnIdleConnection) {
  Counters counters;
  Pool pool({.max_size = 2, .max_idle = 2}, ConnectTo(counters), Alive);
  FakeConn* first = nullptr;
  {
    auto lease = pool.Acquire(milliseconds(0));
    ASSERT_TRUE(lease.has_value()) << lease.error().message;
    first = &**lease;
    EXPECT_EQ(pool.Usage().in_use, 1u);
  }
  auto again = pool.Acquire(milliseconds(0));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(&**again, first);
  EXPECT_EQ(counters.opened.load(), 1);
}

TEST(NetworkPoolTest, ABrokenLeaseIsClosedAndReplaced) {
  Counters counters;
  Pool pool({.max_size = 1, .max_idle = 1}, ConnectTo(counters), Alive);
  {
    auto lease = pool.Acquire(milliseconds(0));
    ASSERT_TRUE(lease.has_value());
    lease->MarkBroken();
  }
  EXPECT_EQ(counters.closed.load(), 1);
  EXPECT_EQ(pool.Usage().open, 0u);
  auto next = pool.Acquire(milliseconds(0));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(counters.opened.load(), 2);
}

TEST(NetworkPoolTest, AStaleIdleConnectionThatFailsItsCheckIsReplaced) {
  Counters counters;
  Pool pool({.max_size = 1, .max_idle = 1, .check_after_idle = milliseconds(0)},
            ConnectTo(counters), Alive);
  {
    auto lease = pool.Acquire(milliseconds(0));
    ASSERT_TRUE(lease.has_value());
    (*lease)->dead = true;  // the server went away while it sat idle
  }
  auto next = pool.Acquire(milliseconds(0));
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE((*next)->dead);
  EXPECT_EQ(counters.opened.load(), 2);
  EXPECT_EQ(counters.closed.load(), 1);
  EXPECT_EQ(pool.Usage().open, 1u);
}

TEST(NetworkPoolTest, AFullPoolIsUnavailableAfterTheTimeout) {
  Counters counters;
  Pool pool({.max_size = 1, .max_idle = 1}, ConnectTo(counters), Alive);
  auto held = pool.Acquire(milliseconds(0));
  ASSERT_TRUE(held.has_value());
  auto refused = pool.Acquire(milliseconds(5));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(pool.Usage().waiting, 0u);
}

// What each thread of the tests below does with a lease: marks itself its only holder, writes
// the connection's unguarded field, and checks that nobody else came in meanwhile.
void Use(FakeConn& conn, std::atomic<int>& shared_holders, std::atomic<int>& held_at_once,
         std::atomic<int>& max_held, size_t max_size, std::atomic<int>& violations) {
  if (conn.holders.fetch_add(1) != 0) ++violations;
  const int held = ++held_at_once;
  int seen = max_held.load();
  while (held > seen && !max_held.compare_exchange_weak(seen, held)) {
  }
  if (static_cast<size_t>(held) > max_size) ++violations;
  ++conn.uses;
  std::this_thread::yield();
  if (conn.holders.load() != 1) ++shared_holders;
  --held_at_once;
  conn.holders.fetch_sub(1);
}

TEST(NetworkPoolTest, ManyThreadsNeverHoldOneConnectionAtOnce) {
  Counters counters;
  constexpr size_t kMaxSize = 3;
  Pool pool({.max_size = kMaxSize, .max_idle = 2}, ConnectTo(counters), Alive);
  std::atomic<int> shared_holders{0}, held_at_once{0}, max_held{0}, violations{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        // Long enough never to expire in a test run, however slow the build.
        auto lease = pool.Acquire(milliseconds(60'000));
        if (!lease) {
          ++refused;
          continue;
        }
        Use(**lease, shared_holders, held_at_once, max_held, kMaxSize, violations);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(shared_holders.load(), 0);
  EXPECT_LE(max_held.load(), static_cast<int>(kMaxSize));
  const PoolUsage usage = pool.Usage();
  EXPECT_EQ(usage.in_use, 0u);
  EXPECT_EQ(usage.waiting, 0u);
  // max_idle = 2: the third connection, when there was one, was closed on its return.
  EXPECT_LE(usage.open, 2u);
  EXPECT_EQ(static_cast<size_t>(counters.live()), usage.open);
}

// Broken leases, connections that fail their check, connections that cannot be opened and an
// administrator closing the idle ones, all at once: the pool's counts must still match the
// connections that exist, and no connection may be handed to two callers.
TEST(NetworkPoolTest, CountsStayExactUnderFailuresFromManyThreads) {
  Counters counters;
  constexpr size_t kMaxSize = 4;
  std::atomic<int> connects{0};
  Pool::ConnectFn connect = [&]() -> Result<std::unique_ptr<FakeConn>> {
    if (++connects % 5 == 0) {
      ++counters.connect_failures;
      return Fail(ErrorCode::kUnavailable, "connection refused");
    }
    return std::make_unique<FakeConn>(counters);
  };
  // Every idle connection is checked before reuse: the check runs outside the pool's lock,
  // alongside other threads' acquires and releases.
  Pool pool({.max_size = kMaxSize, .max_idle = 3, .check_after_idle = milliseconds(0)},
            std::move(connect), Alive);
  std::atomic<int> shared_holders{0}, held_at_once{0}, max_held{0}, violations{0}, served{0},
      unavailable{0};
  std::atomic<bool> stop{false};
  std::thread closer([&] {
    while (!stop.load()) {
      pool.CloseIdle();
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        auto lease = pool.Acquire(milliseconds(60'000));
        if (!lease) {
          if (lease.error().code != ErrorCode::kUnavailable) ++violations;
          ++unavailable;
          continue;
        }
        ++served;
        Use(**lease, shared_holders, held_at_once, max_held, kMaxSize, violations);
        // Some statements break their connection; some connections die while idle.
        if ((i + t) % 7 == 0) lease->MarkBroken();
        if ((i + t) % 11 == 0) (*lease)->dead = true;
      }
    });
  }
  for (auto& th : threads) th.join();
  stop.store(true);
  closer.join();

  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(shared_holders.load(), 0);
  EXPECT_LE(max_held.load(), static_cast<int>(kMaxSize));
  EXPECT_EQ(served.load() + unavailable.load(), 6 * 300);
  // Only a failed connect makes Acquire fail here (the timeout is never reached).
  EXPECT_EQ(unavailable.load(), counters.connect_failures.load());
  EXPECT_GT(served.load(), 0);
  const PoolUsage usage = pool.Usage();
  EXPECT_EQ(usage.in_use, 0u);
  EXPECT_EQ(usage.waiting, 0u);
  EXPECT_LE(usage.open, 3u);
  EXPECT_EQ(static_cast<size_t>(counters.live()), usage.open);
  pool.CloseIdle();
  EXPECT_EQ(pool.Usage().open, 0u);
  EXPECT_EQ(counters.live(), 0);
}

TEST(NetworkPoolTest, WaitersAreServedAsConnectionsComeBack) {
  Counters counters;
  Pool pool({.max_size = 1, .max_idle = 1}, ConnectTo(counters), Alive);
  std::optional<Pool::Lease> held;
  {
    auto lease = pool.Acquire(milliseconds(0));
    ASSERT_TRUE(lease.has_value());
    held.emplace(std::move(*lease));
  }
  constexpr int kWaiters = 4;
  std::atomic<int> got{0};
  std::vector<std::thread> waiters;
  for (int t = 0; t < kWaiters; ++t) {
    waiters.emplace_back([&] {
      auto lease = pool.Acquire(milliseconds(60'000));
      if (lease) {
        ++(*lease)->uses;
        ++got;
      }
    });
  }
  // Releases only once every waiter is waiting, so that each of them has to be woken.
  while (pool.Usage().waiting < static_cast<size_t>(kWaiters)) std::this_thread::yield();
  held.reset();
  for (auto& th : waiters) th.join();
  EXPECT_EQ(got.load(), kWaiters);
  EXPECT_EQ(counters.opened.load(), 1);
  const PoolUsage usage = pool.Usage();
  EXPECT_EQ(usage.in_use, 0u);
  EXPECT_EQ(usage.waiting, 0u);
}

}  // namespace
}  // namespace helios::db
