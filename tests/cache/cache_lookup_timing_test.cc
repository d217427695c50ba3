// How long a lookup takes in a full cache (10,000 entries of 512-d HashingEmbedder vectors),
// for both stores: with realistic buckets (2,000 signatures of a few entries each and one hot
// bucket of 50) and in the worst case, every entry in one bucket (which keeps only its most
// recently used max_bucket_size). The figures are printed,
// never asserted (CONVENTIONS.md: a timing is not a test assertion); what is asserted is that
// every lookup finds the entry it should.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cache/embedder.h"
#include "cache/semantic_cache.h"
#include "common/clock.h"
#include "redis/redis_client.h"
#include "support/test_databases.h"

namespace helios::cache {
namespace {

constexpr size_t kEntries = 10'000;
constexpr size_t kMaxBucket = 64;  // [cache] stores' bucket cap here: above the hot bucket's 50
constexpr size_t kHotBucketEntries = 50;
constexpr size_t kEntriesPerBucket = 5;  // the other 9,950 entries: 1,990 buckets

const std::vector<std::string> kWords = {"show",
                                         "list",
                                         "total",
                                         "average",
                                         "count",
                                         "revenue",
                                         "order",
                                         "customer",
                                         "product",
                                         "sale",
                                         "by",
                                         "per",
                                         "in",
                                         "for",
                                         "top",
                                         "bottom",
                                         "country",
                                         "region",
                                         "city",
                                         "month",
                                         "year",
                                         "quarter",
                                         "week",
                                         "category",
                                         "supplier",
                                         "price",
                                         "amount",
                                         "margin",
                                         "return",
                                         "ship",
                                         "employee",
                                         "store",
                                         "channel",
                                         "segment",
                                         "growth",
                                         "share",
                                         "highest",
                                         "lowest",
                                         "new",
                                         "active",
                                         "<number>",
                                         "<year>",
                                         "<date>",
                                         "<value:customers.country>",
                                         "<value:products.category>",
                                         "<quoted>",
                                         "last",
                                         "first",
                                         "between",
                                         "and",
                                         "with",
                                         "without",
                                         "most",
                                         "least",
                                         "each",
                                         "all"};

struct Workload {
  std::vector<Entry> entries;
  std::vector<size_t> hot;  // indexes of the hot bucket's entries
};

// Distinct templates of 4 to 6 words, each with its embedding.
Workload MakeWorkload(bool one_bucket) {
  std::mt19937 rng(20240611);  // fixed: the same workload on every run
  HashingEmbedder embedder;
  std::set<std::string> seen;
  Workload w;
  w.entries.reserve(kEntries);
  for (size_t i = 0; i < kEntries; ++i) {
    std::string text;
    do {
      text.clear();
      size_t n = 4 + rng() % 3;
      for (size_t k = 0; k < n; ++k) {
        if (k > 0) text += ' ';
        text += kWords[rng() % kWords.size()];
      }
    } while (!seen.insert(text).second);

    Entry e;
    e.key.tenant = "acme";
    e.key.database = "sales";
    e.key.schema_version = 3;
    e.key.embedder = embedder.name();
    if (one_bucket) {
      e.key.signature = "everything";
    } else if (i < kHotBucketEntries) {
      e.key.signature = "hot";
      w.hot.push_back(i);
    } else {
      e.key.signature = "sig-" + std::to_string((i - kHotBucketEntries) / kEntriesPerBucket);
    }
    e.question = "question: " + text;
    e.template_text = text;
    e.embedding = *embedder.Embed(text);
    e.payload = R"({"sql":"SELECT country, SUM(revenue) FROM sales GROUP BY country","n":)" +
                std::to_string(i) + "}";
    w.entries.push_back(std::move(e));
  }
  return w;
}

struct Figures {
  double mean_us = 0;
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

Figures Summarise(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  Figures f;
  for (double x : us) f.mean_us += x;
  f.mean_us /= static_cast<double>(us.size());
  f.p50_us = us[us.size() / 2];
  f.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  f.max_us = us.back();
  return f;
}

// Fills `store`, then looks up `lookups` entries (half of them in the hot bucket when there is
// one) by their own template's embedding, checking that each finds its entry.
void Measure(const char* label, CacheStore& store, bool one_bucket, size_t lookups) {
  Workload w = MakeWorkload(one_bucket);
  auto fill_start = std::chrono::steady_clock::now();
  for (const Entry& e : w.entries) ASSERT_TRUE(store.Insert(e));
  double fill_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_start).count();
  auto size = store.Size();
  ASSERT_TRUE(size) << size.error().message;
  // Every entry in one bucket: the bucket keeps only its max_bucket_size most recent.
  const size_t kept = one_bucket ? kMaxBucket : kEntries;
  ASSERT_EQ(*size, kept);

  std::mt19937 rng(7);
  std::vector<double> hot_us;
  std::vector<double> other_us;
  for (size_t i = 0; i < lookups; ++i) {
    const bool hot = !w.hot.empty() && i % 2 == 0;
    size_t target = hot ? w.hot[rng() % w.hot.size()]
                        : w.entries.size() - kept + rng() % kept;  // one still kept
    const Entry& want = w.entries[target];
    auto start = std::chrono::steady_clock::now();
    auto found = store.Lookup(want.key, want.embedding, 0.9);
    (hot ? hot_us : other_us)
        .push_back(
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                .count());
    ASSERT_TRUE(found) << found.error().message;
    ASSERT_TRUE(found->has_value()) << want.template_text;
    ASSERT_EQ((*found)->entry.template_text, want.template_text);
    ASSERT_EQ((*found)->entry.payload, want.payload);
  }
  std::printf("[ timing   ] %s: %zu entries, filled in %.2f s\n", label, kEntries, fill_s);
  auto print = [](const char* what, std::vector<double> us) {
    if (us.empty()) return;
    size_t n = us.size();
    Figures f = Summarise(std::move(us));
    std::printf(
        "[ timing   ]   %s: %zu lookups, mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us\n",
        what, n, f.mean_us, f.p50_us, f.p99_us, f.max_us);
  };
  print("in the hot bucket (50 entries)", hot_us);
  print(w.hot.empty() ? "in the one bucket (10,000 inserted, 64 kept)"
                      : "in the other buckets (5 entries)",
        other_us);
  std::vector<double> all = hot_us;
  all.insert(all.end(), other_us.begin(), other_us.end());
  if (!hot_us.empty()) print("all", all);
}

constexpr StoreOptions kOptions{
    .max_size = kEntries, .ttl = std::chrono::seconds(3600), .max_bucket_size = kMaxBucket};

TEST(CacheLookupTiming, MemoryStore) {
  SystemClock clock;
  MemoryCacheStore store(clock, kOptions);
  Measure("memory, 2,000 buckets + hot bucket of 50", store, false, 4000);
}

TEST(CacheLookupTiming, MemoryStoreAllInOneBucket) {
  SystemClock clock;
  MemoryCacheStore store(clock, kOptions);
  Measure("memory, all in one bucket", store, true, 200);
}

std::unique_ptr<redis::Client> Connect(const testing::ScopedRedis& redis) {
  redis::ClientOptions options;
  options.command_timeout = std::chrono::seconds(10);  // the one-bucket case moves ~20 MB
  auto client = redis::Client::Create(*redis.url(), options);
  EXPECT_TRUE(client) << client.error().message;
  return client ? std::move(*client) : nullptr;
}

TEST(CacheLookupTiming, RedisStore) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = Connect(redis);
  ASSERT_TRUE(client);
  RedisCacheStore store(*client, kOptions);
  Measure("redis, 2,000 buckets + hot bucket of 50", store, false, 4000);
}

TEST(CacheLookupTiming, RedisStoreAllInOneBucket) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  auto client = Connect(redis);
  ASSERT_TRUE(client);
  RedisCacheStore store(*client, kOptions);
  Measure("redis, all in one bucket", store, true, 50);
}

}  // namespace
}  // namespace helios::cache
