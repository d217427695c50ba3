// The behaviour of the cache stores, written once and run against both backends
// (MemoryCacheStore on a FakeClock, RedisCacheStore on a private redis-server), then what only
// the Redis store has: several instances sharing it, its keys, and Redis going away.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <ostream>
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

Key BaseKey() {
  Key k;
  k.tenant = "acme";
  k.database = "sales";
  k.schema_version = 7;
  k.embedder = "test-4";
  k.context = "";
  k.signature = "sum:revenue|by:country";
  return k;
}

Key KeyWithSignature(std::string signature) {
  Key k = BaseKey();
  k.signature = std::move(signature);
  return k;
}

// A unit vector in 4 dimensions at angle acos(c) from the first axis.
std::vector<float> Toward(double c) {
  return {static_cast<float>(c), static_cast<float>(std::sqrt(1 - c * c)), 0, 0};
}

Entry MakeEntry(Key key, std::string template_text, std::vector<float> embedding,
                std::string payload = "{}") {
  Entry e;
  e.key = std::move(key);
  e.question = "question for " + template_text;
  e.template_text = std::move(template_text);
  e.embedding = std::move(embedding);
  e.payload = std::move(payload);
  return e;
}

using Backend = testing::StoreBackend;

class CacheStoreTest : public testing::StoreBackendTest {
 protected:
  // The store under test (a new one on the same backend each call).
  CacheStore& Open(StoreOptions options = {}) {
    if (GetParam() == Backend::kMemory) {
      store_ = std::make_unique<MemoryCacheStore>(clock_, options);
    } else {
      store_ = std::make_unique<RedisCacheStore>(*client_, options, "test:cache:");
    }
    return *store_;
  }

  // The payload found for key and embedding at threshold 0.9; "" on a miss.
  std::string Find(CacheStore& store, const Key& key, const std::vector<float>& embedding) {
    auto found = store.Lookup(key, embedding, 0.9);
    EXPECT_TRUE(found) << found.error().message;
    if (!found || !*found) return "";
    return (*found)->entry.payload;
  }

  size_t SizeOf(CacheStore& store) {
    auto size = store.Size();
    EXPECT_TRUE(size) << size.error().message;
    return size ? *size : 0;
  }

  std::unique_ptr<CacheStore> store_;
};

TEST_P(CacheStoreTest, HitsAtOrAboveTheThresholdAndMissesBelow) {
  CacheStore& store = Open();
  Entry e = MakeEntry(BaseKey(), "total revenue by country", Toward(1.0), R"({"sql":"x"})");
  e.slots = {{"number", "five", "5"}};
  ASSERT_TRUE(store.Insert(e));

  // 0.75 is exact in float, so the similarity is exactly 0.75.
  auto at = store.Lookup(BaseKey(), Toward(0.75), 0.75);
  ASSERT_TRUE(at) << at.error().message;
  ASSERT_TRUE(at->has_value());
  EXPECT_DOUBLE_EQ((*at)->similarity, 0.75);
  EXPECT_EQ((*at)->entry.template_text, "total revenue by country");
  EXPECT_EQ((*at)->entry.payload, R"({"sql":"x"})");
  EXPECT_EQ((*at)->entry.key, BaseKey());
  EXPECT_EQ((*at)->entry.slots, e.slots);
  EXPECT_EQ((*at)->entry.embedding, Toward(1.0));
  EXPECT_FALSE((*at)->entry.id.empty());

  auto below = store.Lookup(BaseKey(), Toward(0.75), 0.7501);
  ASSERT_TRUE(below) << below.error().message;
  EXPECT_FALSE(below->has_value());
}

TEST_P(CacheStoreTest, ReturnsTheMostSimilarEntryOfTheBucket) {
  CacheStore& store = Open();
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "a", {1, 0, 0, 0}, "A")));
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "b", {0, 1, 0, 0}, "B")));
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "c", Toward(0.6), "C")));

  auto found = store.Lookup(BaseKey(), {0, 1, 0, 0}, 0.5);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->entry.payload, "B");
  EXPECT_NEAR((*found)->similarity, 1.0, 1e-6);

  found = store.Lookup(BaseKey(), Toward(0.8), 0.5);  // 0.8 to "a", 0.96 to "c", 0.6 to "b"
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->entry.payload, "C");
  EXPECT_NEAR((*found)->similarity, 0.96, 1e-6);
}

TEST_P(CacheStoreTest, MissesWhenAnyFieldOfTheKeyDiffers) {
  CacheStore& store = Open();
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "total revenue by country", Toward(1), "hit")));

  struct Variant {
    const char* field;
    Key key;
  };
  std::vector<Variant> variants;
  Key k = BaseKey();
  k.tenant = "other";
  variants.push_back({"tenant", k});
  k = BaseKey();
  k.database = "hr";
  variants.push_back({"database", k});
  k = BaseKey();
  k.schema_version = 8;
  variants.push_back({"schema_version", k});
  k = BaseKey();
  k.embedder = "test-4b";
  variants.push_back({"embedder", k});
  k = BaseKey();
  k.context = "previous turn";
  variants.push_back({"context", k});
  k = BaseKey();
  k.signature = "avg:revenue|by:country";
  variants.push_back({"signature", k});

  for (const Variant& v : variants) {
    auto found = store.Lookup(v.key, Toward(1), 0.0);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_FALSE(found->has_value()) << "a different " << v.field << " must not match";
  }
  EXPECT_EQ(Find(store, BaseKey(), Toward(1)), "hit");
}

TEST_P(CacheStoreTest, AnEmbeddingOfAnotherSizeNeverMatches) {
  CacheStore& store = Open();
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "t", Toward(1))));
  auto found = store.Lookup(BaseKey(), {1, 0, 0}, 0.0);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->has_value());
}

// The only test of each backend that waits (Redis: about 1.2 s of real time).
TEST_P(CacheStoreTest, EntriesExpireTheirTtlAfterInsertionEvenWhenUsed) {
  CacheStore& store = Open({.max_size = 100, .ttl = 1s});
  ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature("old"), "t", Toward(1), "old")));
  Wait(600ms);
  EXPECT_EQ(Find(store, KeyWithSignature("old"), Toward(1)), "old");  // a use does not extend
  ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature("new"), "t", Toward(1), "new")));
  Wait(600ms);
  EXPECT_EQ(Find(store, KeyWithSignature("old"), Toward(1)), "");
  EXPECT_EQ(Find(store, KeyWithSignature("new"), Toward(1)), "new");
  EXPECT_EQ(SizeOf(store), 1u) << "the lookup drops the expired entry";
}

TEST_P(CacheStoreTest, EvictsTheLeastRecentlyUsedPastMaxSize) {
  CacheStore& store = Open({.max_size = 3, .ttl = 3600s});
  for (std::string name : {"a", "b", "c"}) {
    ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature(name), name, Toward(1), name)));
  }
  EXPECT_EQ(Find(store, KeyWithSignature("a"), Toward(1)), "a");  // a is now the most recent
  ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature("d"), "d", Toward(1), "d")));
  EXPECT_EQ(SizeOf(store), 3u);
  EXPECT_EQ(Find(store, KeyWithSignature("b"), Toward(1)), "");

  // Uses in the order a, c, d leave a the least recently used.
  EXPECT_EQ(Find(store, KeyWithSignature("a"), Toward(1)), "a");
  EXPECT_EQ(Find(store, KeyWithSignature("c"), Toward(1)), "c");
  EXPECT_EQ(Find(store, KeyWithSignature("d"), Toward(1)), "d");
  ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature("e"), "e", Toward(1), "e")));
  EXPECT_EQ(SizeOf(store), 3u);
  EXPECT_EQ(Find(store, KeyWithSignature("a"), Toward(1)), "");
  EXPECT_EQ(Find(store, KeyWithSignature("c"), Toward(1)), "c");
  EXPECT_EQ(Find(store, KeyWithSignature("d"), Toward(1)), "d");
  EXPECT_EQ(Find(store, KeyWithSignature("e"), Toward(1)), "e");
}

TEST_P(CacheStoreTest, ABucketKeepsItsMostRecentlyUsedPastMaxBucketSize) {
  CacheStore& store = Open({.max_size = 100, .ttl = 3600s, .max_bucket_size = 3});
  // Four phrasings of one question, each at its own angle (distinct embeddings).
  const std::vector<std::vector<float>> at = {
      {1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store.Insert(
        MakeEntry(BaseKey(), "phrasing " + std::to_string(i), at[i], std::to_string(i))));
  }
  EXPECT_EQ(Find(store, BaseKey(), at[0]), "0");  // 0 is now newer than 1
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "phrasing 3", at[3], "3")));
  EXPECT_EQ(SizeOf(store), 3u);
  EXPECT_EQ(Find(store, BaseKey(), at[1]), "");  // the bucket's least recently used went
  EXPECT_EQ(Find(store, BaseKey(), at[0]), "0");
  EXPECT_EQ(Find(store, BaseKey(), at[2]), "2");
  EXPECT_EQ(Find(store, BaseKey(), at[3]), "3");
  // Other buckets are not counted against it.
  ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature("other"), "x", at[1], "x")));
  EXPECT_EQ(SizeOf(store), 4u);
}

TEST_P(CacheStoreTest, ReplacesTheEntryWithTheSameTemplateInTheSameBucket) {
  CacheStore& store = Open();
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "total revenue by country", Toward(1), "old")));
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "total revenue by country", Toward(1), "new")));
  EXPECT_EQ(SizeOf(store), 1u);
  EXPECT_EQ(Find(store, BaseKey(), Toward(1)), "new");

  // The same template in another bucket, or another template in this one, is a new entry.
  ASSERT_TRUE(store.Insert(
      MakeEntry(KeyWithSignature("other"), "total revenue by country", Toward(1), "other")));
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "revenue by country", {0, 0, 1, 0}, "second")));
  EXPECT_EQ(SizeOf(store), 3u);
  EXPECT_EQ(Find(store, BaseKey(), Toward(1)), "new");
  EXPECT_EQ(Find(store, KeyWithSignature("other"), Toward(1)), "other");
  EXPECT_EQ(Find(store, BaseKey(), {0, 0, 1, 0}), "second");
}

TEST_P(CacheStoreTest, AssignsIdsAndReplacesAnEntryInsertedAgainWithItsId) {
  CacheStore& store = Open();
  ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature("1"), "t", Toward(1))));
  ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature("2"), "t", Toward(1))));
  auto first = store.Lookup(KeyWithSignature("1"), Toward(1), 0.9);
  auto second = store.Lookup(KeyWithSignature("2"), Toward(1), 0.9);
  ASSERT_TRUE(first && *first && second && *second);
  EXPECT_FALSE((*first)->entry.id.empty());
  EXPECT_NE((*first)->entry.id, (*second)->entry.id);

  Entry moved = MakeEntry(KeyWithSignature("3"), "u", Toward(1), "moved");
  moved.id = (*first)->entry.id;
  ASSERT_TRUE(store.Insert(moved));
  EXPECT_EQ(SizeOf(store), 2u);
  EXPECT_EQ(Find(store, KeyWithSignature("1"), Toward(1)), "");
  auto found = store.Lookup(KeyWithSignature("3"), Toward(1), 0.9);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->entry.id, moved.id);
  EXPECT_EQ((*found)->entry.payload, "moved");
}

TEST_P(CacheStoreTest, ClearDropsEveryEntry) {
  CacheStore& store = Open();
  for (std::string name : {"a", "b", "c"}) {
    ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature(name), name, Toward(1), name)));
  }
  ASSERT_TRUE(store.Clear());
  EXPECT_EQ(SizeOf(store), 0u);
  EXPECT_EQ(Find(store, KeyWithSignature("a"), Toward(1)), "");
  ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature("a"), "a", Toward(1), "again")));
  EXPECT_EQ(Find(store, KeyWithSignature("a"), Toward(1)), "again");
  EXPECT_EQ(SizeOf(store), 1u);
}

TEST_P(CacheStoreTest, KeepsEveryByteOfTheEntry) {
  CacheStore& store = Open();
  using std::string_literals::operator""s;
  Key key = BaseKey();
  key.tenant = "t\0x"s;
  key.context = "Größe \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x93\x88"s;
  key.signature = "sig\nwith\0nul"s;
  Entry e = MakeEntry(key, "umsatz <value:customers.country> \xE2\x82\xAC", Toward(1));
  e.question = "Umsatz in Österreich?\0and after"s;
  e.payload = "{\"sql\":\"SELECT 1\"}\0\xFF\xFE not utf-8 \x80"s;
  e.slots = {{"value:customers.country", "Österreich", "AT"}, {"quoted", "a\0b"s, "\xC0"s}};
  ASSERT_TRUE(store.Insert(e));

  auto found = store.Lookup(key, Toward(1), 0.9);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  const Entry& got = (*found)->entry;
  EXPECT_EQ(got.key, key);
  EXPECT_EQ(got.question, e.question);
  EXPECT_EQ(got.template_text, e.template_text);
  EXPECT_EQ(got.payload, e.payload);
  EXPECT_EQ(got.slots, e.slots);
  EXPECT_EQ(got.embedding, e.embedding);

  Key shifted = key;
  shifted.tenant = "t";
  EXPECT_EQ(Find(store, shifted, Toward(1)), "");
}

TEST_P(CacheStoreTest, ServesConcurrentCallers) {
  CacheStore& store = Open({.max_size = 1000, .ttl = 3600s});
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        std::string name = std::to_string(t) + "/" + std::to_string(i);
        if (!store.Insert(MakeEntry(KeyWithSignature(name), name, Toward(1), name))) ++failures;
        auto found = store.Lookup(KeyWithSignature(name), Toward(1), 0.9);
        if (!found || !*found || (*found)->entry.payload != name) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(SizeOf(store), 160u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CacheStoreTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis),
                         testing::StoreBackendName);

// --- Only the Redis store ---------------------------------------------------------------------

std::unique_ptr<redis::Client> Connect(const testing::ScopedRedis& redis) {
  auto client = redis::Client::Create(*redis.url());
  EXPECT_TRUE(client) << client.error().message;
  return client ? std::move(*client) : nullptr;
}

TEST(RedisCacheStore, StoresOnTwoClientsShareEntries) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto first_client = Connect(redis);
  auto second_client = Connect(redis);
  ASSERT_TRUE(first_client && second_client);
  RedisCacheStore first(*first_client, {});
  RedisCacheStore second(*second_client, {});

  ASSERT_TRUE(first.Insert(MakeEntry(BaseKey(), "total revenue by country", Toward(1), "x")));
  auto found = second.Lookup(BaseKey(), Toward(1), 0.9);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->entry.payload, "x");
  EXPECT_EQ(*second.Size(), 1u);

  // An insert through the second replaces the first's entry of the same template.
  ASSERT_TRUE(second.Insert(MakeEntry(BaseKey(), "total revenue by country", Toward(1), "y")));
  found = first.Lookup(BaseKey(), Toward(1), 0.9);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->entry.payload, "y");

  ASSERT_TRUE(second.Clear());
  EXPECT_EQ(*first.Size(), 0u);
}

TEST(RedisCacheStore, KeepsItsKeysUnderItsPrefixWithTheTtl) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = Connect(redis);
  ASSERT_TRUE(client);
  RedisCacheStore store(*client, {.max_size = 2, .ttl = 60s}, "p:");
  ASSERT_TRUE(client->Command({"SET", "unrelated", "1"}));

  for (std::string name : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(store.Insert(MakeEntry(KeyWithSignature(name), name, Toward(1), name)));
  }
  auto found = store.Lookup(KeyWithSignature("d"), Toward(1), 0.9);
  ASSERT_TRUE(found && *found);
  auto pttl = client->Command({"PTTL", "p:e:" + (*found)->entry.id});
  ASSERT_TRUE(pttl);
  EXPECT_GT(pttl->integer, 50'000);
  EXPECT_LE(pttl->integer, 60'000);

  // Evicted entries leave nothing behind: the two entries left (ids 3 and 4), their buckets,
  // the indexes and the counters.
  auto keys = client->Command({"KEYS", "p:*"});
  ASSERT_TRUE(keys);
  std::vector<std::string> names;
  for (const redis::Reply& k : keys->elements) names.push_back(k.str);
  std::vector<std::string> expected = {"p:b:" + BucketOf(KeyWithSignature("c")),
                                       "p:b:" + BucketOf(KeyWithSignature("d")),
                                       "p:e:3",
                                       "p:e:4",
                                       "p:id",
                                       "p:lru",
                                       "p:m",
                                       "p:t",
                                       "p:tick"};
  std::sort(names.begin(), names.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);
  EXPECT_EQ(client->Command({"HLEN", "p:m"})->integer, 2);
  EXPECT_EQ(client->Command({"HLEN", "p:t"})->integer, 2);
  EXPECT_EQ(client->Command({"ZCARD", "p:lru"})->integer, 2);

  ASSERT_TRUE(store.Clear());
  keys = client->Command({"KEYS", "*"});
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->elements.size(), 1u);
  EXPECT_EQ(keys->elements[0].str, "unrelated");
}

TEST(RedisCacheStore, ClearTakesThePrefixLiterally) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = Connect(redis);
  ASSERT_TRUE(client);
  RedisCacheStore star(*client, {}, "x*");
  RedisCacheStore other(*client, {}, "xy");
  ASSERT_TRUE(star.Insert(MakeEntry(BaseKey(), "t", Toward(1), "star")));
  ASSERT_TRUE(other.Insert(MakeEntry(BaseKey(), "t", Toward(1), "other")));
  ASSERT_TRUE(star.Clear());
  EXPECT_EQ(*star.Size(), 0u);
  EXPECT_EQ(*other.Size(), 1u);
  auto found = other.Lookup(BaseKey(), Toward(1), 0.9);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->entry.payload, "other");
}

TEST(RedisCacheStore, ReportsRedisGoneAsUnavailable) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = Connect(redis);
  ASSERT_TRUE(client);
  RedisCacheStore store(*client, {});
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "t", Toward(1))));
  ASSERT_TRUE(redis.Stop());

  auto found = store.Lookup(BaseKey(), Toward(1), 0.9);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, ErrorCode::kUnavailable);
  auto inserted = store.Insert(MakeEntry(BaseKey(), "u", Toward(1)));
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, ErrorCode::kUnavailable);
  auto size = store.Size();
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error().code, ErrorCode::kUnavailable);
  auto cleared = store.Clear();
  ASSERT_FALSE(cleared);
  EXPECT_EQ(cleared.error().code, ErrorCode::kUnavailable);
}

TEST(RedisCacheStore, ReportsAnErrorReplyAsUnavailable) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = Connect(redis);
  ASSERT_TRUE(client);
  RedisCacheStore store(*client, {}, "w:");
  ASSERT_TRUE(client->Command({"SET", "w:lru", "not a sorted set"}));
  auto size = store.Size();
  ASSERT_FALSE(size);
  EXPECT_EQ(size.error().code, ErrorCode::kUnavailable);
  auto inserted = store.Insert(MakeEntry(BaseKey(), "t", Toward(1)));
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, ErrorCode::kUnavailable);
}

TEST(RedisCacheStore, TreatsAnEntryItCannotReadAsAMiss) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = Connect(redis);
  ASSERT_TRUE(client);
  RedisCacheStore store(*client, {}, "q:");
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "t", Toward(1), "whole")));
  auto found = store.Lookup(BaseKey(), Toward(1), 0.9);
  ASSERT_TRUE(found && *found);
  const std::string entry_key = "q:e:" + (*found)->entry.id;
  auto value = client->Command({"GET", entry_key});
  ASSERT_TRUE(value);

  // Cut short after the embedding, then not in the format at all.
  ASSERT_TRUE(client->Command({"SET", entry_key, value->str.substr(0, value->str.size() - 3)}));
  found = store.Lookup(BaseKey(), Toward(1), 0.9);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->has_value());
  ASSERT_TRUE(client->Command({"SET", entry_key, "not an entry"}));
  found = store.Lookup(BaseKey(), Toward(1), 0.0);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->has_value());
}

TEST(RedisCacheStore, DropsTheIdOfAVanishedEntryFromItsBucket) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = Connect(redis);
  ASSERT_TRUE(client);
  RedisCacheStore store(*client, {}, "v:");
  ASSERT_TRUE(store.Insert(MakeEntry(BaseKey(), "t", Toward(1))));
  const std::string bucket = "v:b:" + BucketOf(BaseKey());
  ASSERT_EQ(client->Command({"SCARD", bucket})->integer, 1);
  // As after a Clear that ran alongside an insert: the entry and its record are gone.
  ASSERT_TRUE(client->Command({"DEL", "v:e:1", "v:m"}));

  auto found = store.Lookup(BaseKey(), Toward(1), 0.9);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(client->Command({"SCARD", bucket})->integer, 0);
  EXPECT_EQ(*store.Size(), 0u);
}

// --- Bucket names -----------------------------------------------------------------------------

TEST(BucketOf, IsAStableHexDigestOfEveryField) {
  std::string bucket = BucketOf(BaseKey());
  EXPECT_EQ(bucket.size(), 64u);
  EXPECT_EQ(bucket.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(BucketOf(BaseKey()), bucket);
  // Fixed: instances of different versions share a Redis cache only while this holds. (The
  // SHA-256 of the length-prefixed layout that semantic_cache.cc documents, computed apart.)
  EXPECT_EQ(bucket, "057c05339b866bf7de64ca9ca14f24eb59e074929134f2d3d4dbcbb5ece4695d");
}

TEST(BucketOf, FieldsCannotRunIntoEachOther) {
  Key a = BaseKey();
  a.tenant = "ab";
  a.database = "c";
  Key b = BaseKey();
  b.tenant = "a";
  b.database = "bc";
  EXPECT_NE(BucketOf(a), BucketOf(b));
  a = BaseKey();
  a.context = "";
  a.signature = "x";
  b = BaseKey();
  b.context = "x";
  b.signature = "";
  EXPECT_NE(BucketOf(a), BucketOf(b));
  a = BaseKey();
  a.schema_version = 1;
  b = BaseKey();
  b.schema_version = 256;
  EXPECT_NE(BucketOf(a), BucketOf(b));
}

}  // namespace
}  // namespace helios::cache
