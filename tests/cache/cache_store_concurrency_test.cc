// The cache stores under the load of a busy server: request threads inserting and looking up
// in shared buckets while the store is full (so every insert evicts), entries expire and an
// administrator flushes a tenant, on both backends. The bounds and the key of every answer must
// hold whatever the interleaving; scripts/tsan.sh runs this under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cache/semantic_cache.h"
#include "common/clock.h"
#include "redis/redis_client.h"
#include "support/store_backend.h"
#include "support/test_databases.h"

namespace helios::cache {
namespace {

using namespace std::chrono_literals;

// Smaller than the entries the buckets below can hold (eight buckets of three), so that both
// kinds of eviction happen.
constexpr size_t kMaxSize = 10;
constexpr size_t kMaxBucketSize = 3;

// One of a few buckets per tenant, so that threads meet in them; templates vary, so a bucket
// overflows and evicts.
Entry EntryOf(const std::string& tenant, int bucket, int n) {
  Entry e;
  e.key.tenant = tenant;
  e.key.database = "sales";
  e.key.schema_version = 1;
  e.key.embedder = "test-2";
  e.key.signature = "sig-" + std::to_string(bucket);
  e.question = "question " + std::to_string(n);
  e.template_text = "template " + std::to_string(n % 7);
  e.embedding = {1, 0};
  e.payload = tenant + "/" + std::to_string(bucket) + "/" + std::to_string(n);
  return e;
}

using Backend = testing::StoreBackend;

class CacheStoreConcurrencyTest : public testing::StoreBackendTest {
 protected:
  CacheStore& Open() {
    const StoreOptions options{
        .max_size = kMaxSize, .ttl = 3600s, .max_bucket_size = kMaxBucketSize};
    if (GetParam() == Backend::kMemory) {
      store_ = std::make_unique<MemoryCacheStore>(clock_, options);
    } else {
      store_ = std::make_unique<RedisCacheStore>(*client_, options, "concurrency:");
    }
    return *store_;
  }

  std::unique_ptr<CacheStore> store_;
};

TEST_P(CacheStoreConcurrencyTest, KeepsItsBoundsAndKeysWhileFullAndFlushed) {
  CacheStore& store = Open();
  // Fewer rounds on Redis, where each call is a round trip.
  const int rounds = OnRedis() ? 60 : 400;
  std::atomic<int> errors{0}, wrong_key{0}, oversize{0}, hits{0};
  std::atomic<bool> stop{false};

  // The administrator: flushes one tenant now and then and watches the size.
  std::thread admin([&] {
    while (!stop.load()) {
      if (!store.Flush("globex")) ++errors;
      auto size = store.Size();
      if (!size) {
        ++errors;
      } else if (*size > kMaxSize) {
        ++oversize;
      }
      std::this_thread::sleep_for(1ms);
    }
  });
  // Time passes: on memory, entries inserted early expire during the run.
  std::thread ticker([&] {
    if (OnRedis()) return;  // Redis expires keys on its own clock
    while (!stop.load()) {
      clock_.Advance(60s);
      std::this_thread::sleep_for(200us);
    }
  });

  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      const std::string tenant = t % 2 == 0 ? "acme" : "globex";
      for (int i = 0; i < rounds; ++i) {
        Entry e = EntryOf(tenant, (t + i) % 4, t * 1000 + i);
        const Key key = e.key;
        if (!store.Insert(std::move(e))) ++errors;
        auto found = store.Lookup(key, {1, 0}, 0.9);
        if (!found) {
          ++errors;
        } else if (found->has_value()) {
          ++hits;
          if ((*found)->entry.key != key) ++wrong_key;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  stop.store(true);
  admin.join();
  ticker.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wrong_key.load(), 0) << "a lookup answered with another bucket's entry";
  EXPECT_EQ(oversize.load(), 0) << "the store held more than max_size entries";
  EXPECT_GT(hits.load(), 0);
  auto size = store.Size();
  ASSERT_TRUE(size.has_value());
  EXPECT_LE(*size, kMaxSize);
  ASSERT_TRUE(store.Clear().has_value());
  EXPECT_EQ(store.Size().value_or(99), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CacheStoreConcurrencyTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis),
                         testing::StoreBackendName);

}  // namespace
}  // namespace helios::cache
