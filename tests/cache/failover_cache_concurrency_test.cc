// The failover cache store (cache/failover_cache_store.h) while Redis comes and goes and every
// request thread uses the cache: callers always get an answer, and the switches between the
// two stores are reported one at a time, in the order they happened, so the last report (a
// log line "Redis is reachable again" or "unreachable") tells the truth.
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

#include "cache/failover_cache_store.h"
#include "cache/semantic_cache.h"
#include "common/clock.h"

namespace helios::cache {
namespace {

using namespace std::chrono_literals;

// A shared store that can be cut off: while `down`, every call fails as an unreachable Redis
// does (kUnavailable); otherwise it is a memory store.
class FlakyStore final : public CacheStore {
 public:
  explicit FlakyStore(const Clock& clock) : store_(clock, StoreOptions{}) {}
  std::atomic<bool> down{false};

  Result<std::optional<Match>> Lookup(const Key& key, const std::vector<float>& embedding,
                                      double threshold) override {
    if (down.load()) return Unreachable();
    return store_.Lookup(key, embedding, threshold);
  }
  Result<void> Insert(Entry entry) override {
    if (down.load()) return Unreachable();
    return store_.Insert(std::move(entry));
  }
  Result<size_t> Size() override {
    if (down.load()) return Unreachable();
    return store_.Size();
  }
  Result<void> Clear() override {
    if (down.load()) return Unreachable();
    return store_.Clear();
  }
  Result<size_t> Flush(const std::string& tenant) override {
    if (down.load()) return Unreachable();
    return store_.Flush(tenant);
  }

 private:
  static std::unexpected<Error> Unreachable() {
    return Fail(ErrorCode::kUnavailable, "Redis at 127.0.0.1:1/0 is unreachable (test)");
  }
  MemoryCacheStore store_;
};

Entry EntryOf(int thread, int n) {
  Entry e;
  e.key.tenant = "acme";
  e.key.database = "sales";
  e.key.schema_version = 1;
  e.key.embedder = "test-2";
  e.key.signature = "sig-" + std::to_string(thread) + "-" + std::to_string(n);
  e.question = "question " + std::to_string(n);
  e.template_text = "template " + std::to_string(n);
  e.embedding = {1, 0};
  e.payload = std::to_string(thread) + "/" + std::to_string(n);
  return e;
}

// What on_change was told, and whether two of its calls ever ran at once.
struct Reports {
  std::mutex mu;
  std::vector<bool> values;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> bad_errors{0};  // an error with "back", or none with "gone"

  std::function<void(bool, const Error*)> Listener() {
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

TEST(FailoverCacheConcurrencyTest, SwitchesAreReportedOnceEachAndInOrder) {
  FakeClock clock;
  FlakyStore shared(clock);
  MemoryCacheStore local(clock, StoreOptions{});
  Reports reports;
  FailoverCacheStore store(shared, local, reports.Listener());

  std::atomic<bool> stop{false};
  std::atomic<int> failed_calls{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        Entry e = EntryOf(t, i % 50);
        if (!store.Insert(e)) ++failed_calls;
        if (!store.Lookup(e.key, e.embedding, 0.9)) ++failed_calls;
        if (i % 10 == 0 && !store.Size()) ++failed_calls;
      }
    });
  }
  // Redis goes away and comes back, again and again, while the threads use the cache.
  for (int flip = 0; flip < 100; ++flip) {
    shared.down.store(!shared.down.load());
    std::this_thread::sleep_for(300us);
  }
  shared.down.store(false);
  std::this_thread::sleep_for(5ms);
  stop.store(true);
  for (auto& th : threads) th.join();
  // Any call now finds Redis back (the threads may have stopped before noticing).
  ASSERT_TRUE(store.Size().has_value());

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
  EXPECT_TRUE(store.using_shared());
}

}  // namespace
}  // namespace helios::cache
