// The failover session store (conversation/redis_session_store.h) while Redis comes and goes
// and every request thread continues its conversation: each turn is answered (from the local
// store during an outage), and the switches between the stores are reported one at a time, in
// the order they happened, so the last report tells the truth.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "conversation/redis_session_store.h"
#include "conversation/session_store.h"

namespace helios::conversation {
namespace {

using namespace std::chrono_literals;

// A shared store that can be cut off: while `down`, every call fails as an unreachable Redis
// does (kUnavailable); otherwise it is a memory store.
class FlakyStore final : public SessionStore {
 public:
  explicit FlakyStore(const Clock& clock) : store_(clock, MemoryStoreOptions{}) {}
  std::atomic<bool> down{false};

  Result<std::optional<Session>> Load(const Owner& owner, const std::string& id) override {
    if (down.load()) return Unreachable();
    return store_.Load(owner, id);
  }
  Result<int> Append(const Owner& owner, const std::string& id, Turn turn) override {
    if (down.load()) return Unreachable();
    return store_.Append(owner, id, std::move(turn));
  }
  Result<bool> Remove(const Owner& owner, const std::string& id) override {
    if (down.load()) return Unreachable();
    return store_.Remove(owner, id);
  }
  Result<std::vector<SessionSummary>> List(const Owner& owner) override {
    if (down.load()) return Unreachable();
    return store_.List(owner);
  }
  size_t ActiveSessions() override { return store_.ActiveSessions(); }
  Result<std::vector<SessionInfo>> ListAll(const std::string& tenant, size_t limit) override {
    if (down.load()) return Unreachable();
    return store_.ListAll(tenant, limit);
  }
  Result<size_t> RemoveAny(const std::string& tenant, const std::string& id) override {
    if (down.load()) return Unreachable();
    return store_.RemoveAny(tenant, id);
  }

 private:
  static std::unexpected<Error> Unreachable() {
    return Fail(ErrorCode::kUnavailable, "Redis at 127.0.0.1:1/0 is unreachable (test)");
  }
  MemorySessionStore store_;
};

Turn TurnOf(int n) {
  Turn turn;
  turn.question = "question " + std::to_string(n);
  turn.sql = "SELECT " + std::to_string(n);
  turn.has_query = false;
  turn.database = "sales";
  return turn;
}

// What on_change was told, and whether two of its calls ever ran at once.
struct Reports {
  std::mutex mu;
  std::vector<bool> values;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> bad_errors{0};  // an error with "back", or none with "gone"

  FailoverSessionStore::OnChange Listener() {
    return [this](bool shared_ok, const Error* error) {
      if (inside.fetch_add(1) != 0) ++overlaps;
      // As a logger writing a line would: long enough for another switch to happen meanwhile.
      std::this_thread::sleep_for(200us);
      if (shared_ok != (error == nullptr)) ++bad_errors;
      {
        std::lock_guard lock(mu);
        values.push_back(shared_ok);
      }
      inside.fetch_sub(1);
    };
  }
};

TEST(FailoverSessionConcurrencyTest, SwitchesAreReportedOnceEachAndInOrder) {
  FakeClock clock;
  FlakyStore shared(clock);
  MemorySessionStore local(clock, MemoryStoreOptions{});
  Reports reports;
  FailoverSessionStore store(shared, local, reports.Listener());

  std::atomic<bool> stop{false};
  std::atomic<int> failed_calls{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      const Owner owner{"acme", "user-" + std::to_string(t)};
      const std::string id = "session-" + std::to_string(t);
      for (int i = 0; !stop.load(); ++i) {
        if (!store.Append(owner, id, TurnOf(i))) ++failed_calls;
        if (!store.Load(owner, id)) ++failed_calls;
        if (i % 10 == 0 && !store.List(owner)) ++failed_calls;
        if (i % 25 == 0 && !store.ListAll("acme", 100)) ++failed_calls;
      }
    });
  }
  // Redis goes away and comes back, again and again, while the conversations go on.
  for (int flip = 0; flip < 100; ++flip) {
    shared.down.store(!shared.down.load());
    std::this_thread::sleep_for(300us);
  }
  shared.down.store(false);
  std::this_thread::sleep_for(5ms);
  stop.store(true);
  for (auto& th : threads) th.join();
  // Any call now finds Redis back (the threads may have stopped before noticing).
  ASSERT_TRUE(store.List(Owner{"acme", "user-0"}).has_value());

  EXPECT_EQ(failed_calls.load(), 0) << "the local store answers while the shared one is down";
  EXPECT_EQ(reports.overlaps.load(), 0) << "on_change ran on two threads at once";
  EXPECT_EQ(reports.bad_errors.load(), 0);
  std::lock_guard lock(reports.mu);
  ASSERT_FALSE(reports.values.empty()) << "no switch was seen";
  EXPECT_FALSE(reports.values.front()) << "it starts on the shared store";
  for (size_t i = 1; i < reports.values.size(); ++i) {
    ASSERT_NE(reports.values[i], reports.values[i - 1]) << "report " << i << " repeats a state";
  }
  EXPECT_TRUE(reports.values.back());
  EXPECT_TRUE(store.shared_ok());
}

}  // namespace
}  // namespace helios::conversation
