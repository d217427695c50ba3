// An administrator's flush of the answer cache (CacheStore::Flush): one tenant's entries or
// all of them, counting the live ones, on both backends (MemoryCacheStore on a FakeClock,
// RedisCacheStore on a private redis-server), and through the failover store that holds both.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cache/failover_cache_store.h"
#include "cache/semantic_cache.h"
#include "common/clock.h"
#include "redis/redis_client.h"
#include "support/store_backend.h"
#include "support/test_databases.h"

namespace helios::cache {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// An entry of `tenant` in a bucket of its own (the signature), so entries never replace
// one another.
Entry EntryOf(const std::string& tenant, int n) {
  Entry e;
  e.key.tenant = tenant;
  e.key.database = "sales";
  e.key.schema_version = 1;
  e.key.embedder = "test-2";
  e.key.signature = "sig-" + std::to_string(n);
  e.question = "question " + std::to_string(n);
  e.template_text = "template " + std::to_string(n);
  e.embedding = {1, 0};
  e.payload = tenant + "/" + std::to_string(n);
  return e;
}

using Backend = testing::StoreBackend;

class CacheFlushTest : public testing::StoreBackendTest {
 protected:
  CacheStore& Open(StoreOptions options = {}) {
    if (GetParam() == Backend::kMemory) {
      store_ = std::make_unique<MemoryCacheStore>(clock_, options);
    } else {
      store_ = std::make_unique<RedisCacheStore>(*client_, options, "flush:");
    }
    return *store_;
  }

  void Insert(CacheStore& store, const std::string& tenant, int from, int to) {
    for (int i = from; i < to; ++i) {
      auto inserted = store.Insert(EntryOf(tenant, i));
      ASSERT_TRUE(inserted) << inserted.error().message;
    }
  }

  static bool Has(CacheStore& store, const std::string& tenant, int n) {
    Entry e = EntryOf(tenant, n);
    auto found = store.Lookup(e.key, e.embedding, 0.9);
    EXPECT_TRUE(found) << found.error().message;
    return found && found->has_value() && (*found)->entry.payload == e.payload;
  }

  static size_t Flush(CacheStore& store, const std::string& tenant) {
    auto flushed = store.Flush(tenant);
    EXPECT_TRUE(flushed) << flushed.error().message;
    return flushed.value_or(9999);
  }

  std::unique_ptr<CacheStore> store_;
};

TEST_P(CacheFlushTest, FlushesOneTenantAndLeavesTheOthers) {
  CacheStore& store = Open();
  Insert(store, "acme", 0, 3);
  Insert(store, "globex", 10, 12);
  // Tenants whose names share a beginning, or differ only in length, are told apart.
  Insert(store, "acme-eu", 20, 21);
  Insert(store, "acm", 30, 31);

  EXPECT_EQ(Flush(store, "acme"), 3u);
  EXPECT_FALSE(Has(store, "acme", 0));
  EXPECT_FALSE(Has(store, "acme", 2));
  EXPECT_TRUE(Has(store, "globex", 10));
  EXPECT_TRUE(Has(store, "acme-eu", 20));
  EXPECT_TRUE(Has(store, "acm", 30));
  EXPECT_EQ(*store.Size(), 4u);

  EXPECT_EQ(Flush(store, "acme"), 0u) << "nothing of acme's is left";
  EXPECT_EQ(Flush(store, "nobody"), 0u);
  EXPECT_EQ(*store.Size(), 4u);
}

TEST_P(CacheFlushTest, FlushingEveryTenantEmptiesTheStore) {
  CacheStore& store = Open();
  Insert(store, "acme", 0, 3);
  Insert(store, "globex", 10, 12);
  EXPECT_EQ(Flush(store, ""), 5u);
  EXPECT_EQ(*store.Size(), 0u);
  EXPECT_FALSE(Has(store, "globex", 10));
  // The store works as before afterwards.
  Insert(store, "acme", 0, 1);
  EXPECT_TRUE(Has(store, "acme", 0));
}

TEST_P(CacheFlushTest, CountsOnlyLiveEntries) {
  StoreOptions options;
  options.ttl = 1s;
  CacheStore& store = Open(options);
  Insert(store, "acme", 0, 2);
  Wait(1100ms);
  Insert(store, "acme", 5, 6);
  Insert(store, "globex", 10, 11);
  EXPECT_EQ(Flush(store, "acme"), 1u) << "the two expired entries are not counted";
  EXPECT_TRUE(Has(store, "globex", 10));
  EXPECT_EQ(Flush(store, ""), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CacheFlushTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis),
                         testing::StoreBackendName);

TEST(RedisCacheFlush, WalksEveryPageOfALargeCache) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = redis::Client::Create(*redis.url());
  ASSERT_TRUE(client) << client.error().message;
  RedisCacheStore store(**client, {}, "big:");
  // Past one ZSCAN page (500), and large enough that Redis keeps the sorted set as a skip
  // list, which ZSCAN walks in several calls.
  for (int i = 0; i < 1300; ++i) {
    ASSERT_TRUE(store.Insert(EntryOf(i % 2 == 0 ? "acme" : "globex", i)));
  }
  auto flushed = store.Flush("acme");
  ASSERT_TRUE(flushed) << flushed.error().message;
  EXPECT_EQ(*flushed, 650u);
  EXPECT_EQ(*store.Size(), 650u);
  auto left = store.Lookup(EntryOf("globex", 1).key, {1, 0}, 0.9);
  ASSERT_TRUE(left && left->has_value());
  // The entries' own keys went too: globex's are all that is left.
  size_t entry_keys = 0;
  std::string cursor = "0";
  do {
    auto page = (*client)->Command({"SCAN", cursor, "MATCH", "big:e:*", "COUNT", "1000"});
    ASSERT_TRUE(page && page->elements.size() == 2);
    cursor = page->elements[0].str;
    entry_keys += page->elements[1].elements.size();
  } while (cursor != "0");
  EXPECT_EQ(entry_keys, 650u);
  flushed = store.Flush("");
  ASSERT_TRUE(flushed);
  EXPECT_EQ(*flushed, 650u);
  EXPECT_EQ(*store.Size(), 0u);
}

TEST(FailoverCacheFlush, FlushesBothStoresAndSaysWhenTheSharedOneIsDown) {
  testing::ScopedRedis redis;
  auto client = testing::ConnectWithoutRetryDelay(redis);
  ASSERT_TRUE(client) << client.error().message;
  FakeClock clock;
  RedisCacheStore shared(**client, {}, "fo:");
  MemoryCacheStore local(clock, {});
  FailoverCacheStore store(shared, local);
  // Entries made during an outage live in the local store only.
  ASSERT_TRUE(shared.Insert(EntryOf("acme", 0)));
  ASSERT_TRUE(shared.Insert(EntryOf("acme", 1)));
  ASSERT_TRUE(local.Insert(EntryOf("acme", 2)));
  ASSERT_TRUE(local.Insert(EntryOf("globex", 3)));

  auto flushed = store.Flush("acme");
  ASSERT_TRUE(flushed) << flushed.error().message;
  EXPECT_EQ(*flushed, 3u);
  EXPECT_EQ(*shared.Size(), 0u);
  EXPECT_EQ(*local.Size(), 1u);

  ASSERT_TRUE(local.Insert(EntryOf("acme", 4)));
  ASSERT_TRUE(redis.Stop());
  auto down = store.Flush("");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(down.error().message, HasSubstr("2 entries of this instance's own cache"));
  EXPECT_EQ(*local.Size(), 0u) << "the local store is flushed even so";
}

}  // namespace
}  // namespace helios::cache
