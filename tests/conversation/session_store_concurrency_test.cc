// The memory session store under the load of a busy server: users of two tenants continuing
// their conversations while the per-tenant limit evicts, sessions expire, the server sweeps,
// and administrators list and end sessions, all at once. scripts/tsan.sh runs this under
// ThreadSanitizer; the checks below hold whatever the interleaving.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "conversation/session_store.h"

namespace helios::conversation {
namespace {

using namespace std::chrono_literals;

constexpr size_t kMaxSessions = 5;  // per tenant
constexpr int kTenants = 2;

Turn TurnOf(int n) {
  Turn turn;
  turn.question = "question " + std::to_string(n);
  turn.sql = "SELECT " + std::to_string(n);
  turn.has_query = false;
  turn.database = "sales";
  return turn;
}

TEST(SessionStoreConcurrencyTest, KeepsItsLimitsAndNumberingUnderEvictionExpiryAndAdmins) {
  FakeClock clock;
  MemorySessionStore store(clock, {.timeout = 10s, .max_sessions = kMaxSessions, .max_turns = 3});
  std::atomic<int> errors{0}, bad_numbers{0}, over_limit{0}, appended{0};
  std::atomic<bool> stop{false};

  // The server's sweeper and an administrator, with time passing: sessions idle for ten
  // (fake) seconds expire.
  std::thread housekeeping([&] {
    for (int i = 0; !stop.load(); ++i) {
      clock.Advance(100ms);
      (void)store.Sweep();
      if (store.ActiveSessions() > kTenants * kMaxSessions) ++over_limit;
      const std::string tenant = i % 2 == 0 ? "acme" : "globex";
      auto all = store.ListAll(tenant, 100);
      if (!all) {
        ++errors;
      } else if (all->size() > kMaxSessions) {
        ++over_limit;
      }
      // Ends one session of whoever owns it.
      if (i % 5 == 0 && !store.RemoveAny(tenant, "s-" + std::to_string(i % 3) + "-1")) ++errors;
      std::this_thread::sleep_for(100us);
    }
  });

  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      const Owner owner{t % kTenants == 0 ? "acme" : "globex", "user-" + std::to_string(t)};
      // The turn number each of this user's sessions last got.
      std::unordered_map<std::string, int> last;
      for (int i = 0; i < 300; ++i) {
        // Three sessions per user, more than the tenant's limit for three users.
        const std::string id = "s-" + std::to_string(t) + "-" + std::to_string(i % 3);
        auto n = store.Append(owner, id, TurnOf(i));
        if (!n) {
          ++errors;
          continue;
        }
        ++appended;
        // Each append numbers the next turn, unless the session went meanwhile (evicted,
        // expired or ended by an administrator) and this append started it again.
        if (*n != last[id] + 1 && *n != 1) ++bad_numbers;
        last[id] = *n;
        auto loaded = store.Load(owner, id);
        if (!loaded) ++errors;
        if (loaded && *loaded && (*loaded)->turns.size() > 3) ++bad_numbers;
        auto list = store.List(owner);
        if (!list) {
          ++errors;
        } else if (list->size() > kMaxSessions) {
          ++over_limit;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  stop.store(true);
  housekeeping.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(bad_numbers.load(), 0);
  EXPECT_EQ(over_limit.load(), 0);
  EXPECT_EQ(appended.load(), 6 * 300);

  // Afterwards the count agrees with what the lists show, and the sweeper empties the store
  // once every session has expired.
  (void)store.Sweep();
  auto all = store.ListAll("", 1000);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(store.ActiveSessions(), all->size());
  EXPECT_LE(all->size(), kTenants * kMaxSessions);
  clock.Advance(11s);
  EXPECT_EQ(store.Sweep(), all->size());
  EXPECT_EQ(store.ActiveSessions(), 0u);
}

}  // namespace
}  // namespace helios::conversation
