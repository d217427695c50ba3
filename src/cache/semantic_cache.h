// The semantic cache's storage: entries of answered questions, found again by the exact part
// of their key (tenant, data source, schema version, embedder, conversation context and the
// question's signature) and then by the similarity of their question templates.
//
// What makes the cache never wrong lives above this layer (nl2sql/question_shape.h lifts the
// question's values into typed slots and puts every word that decides the query's meaning in
// the signature; nl2sql/rebind.h puts the new values into the cached query). Here: the exact
// bucket, the nearest template in it at or above the threshold, TTL expiry and LRU eviction
// at max_size. Two backends with the same behaviour: MemoryCacheStore (one process) and
// RedisCacheStore (shared by every instance).
//
// Thread-safety: stores are safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "redis/redis_client.h"

namespace helios::cache {

// A value lifted out of a question, in the order the question has them.
struct Slot {
  // "number", "year", "date", "quoted", "entity", or "value:TABLE.COLUMN" for a value found
  // in that column of the database.
  std::string type;
  std::string text;   // as written in the question ("five", "Germany", "2023")
  std::string value;  // canonical: a number's shortest decimal form, an ISO date, a stored value
  bool operator==(const Slot&) const = default;
};

// The exact part of a lookup: an entry is a candidate only when all of it matches.
struct Key {
  std::string tenant;
  std::string database;
  uint64_t schema_version = 0;
  std::string embedder;   // the embedder's name: vectors of different models never meet
  std::string context;    // "" for a question that opens a conversation; else the prior turn's
  std::string signature;  // slot types and meaning words (nl2sql/question_shape.h)
  bool operator==(const Key&) const = default;
};

// A stable digest of a key (hex), the name of its bucket in every backend.
std::string BucketOf(const Key& key);

struct Entry {
  std::string id;  // set by Insert when empty
  Key key;
  std::string question;          // as asked
  std::string template_text;     // the question with its slots replaced by their types
  std::vector<float> embedding;  // of template_text, unit length
  std::vector<Slot> slots;
  std::string payload;  // what answered it (opaque here; JSON written by nl2sql)
};

struct Match {
  Entry entry;
  double similarity = 0;  // cosine of the two templates' embeddings
};

struct StoreOptions {
  size_t max_size = 10000;         // entries; past it the least recently used go
  std::chrono::seconds ttl{3600};  // an entry's life from its insertion
  // Entries of one bucket at most (past it the bucket's least recently used goes): a bucket
  // holds the phrasings of one question (an entry of the same template is replaced), so this
  // bounds a lookup's work without costing hits.
  size_t max_bucket_size = 32;
};

class CacheStore {
 public:
  virtual ~CacheStore() = default;
  // The entry of key's bucket whose embedding is most similar to `embedding`, when that
  // similarity is at least `threshold`; a hit counts as a use (LRU) but does not extend the
  // entry's TTL. An entry whose embedding has another size never matches. nullopt on a miss.
  // kUnavailable when the backend cannot be reached.
  virtual Result<std::optional<Match>> Lookup(const Key& key, const std::vector<float>& embedding,
                                              double threshold) = 0;
  // Adds an entry (an entry of the same bucket with the same template, or with the same id
  // when entry.id is set, is replaced), evicting the least recently used past max_size.
  virtual Result<void> Insert(Entry entry) = 0;
  // Entries held (expired ones not yet dropped may be counted).
  virtual Result<size_t> Size() = 0;
  // Drops every entry.
  virtual Result<void> Clear() = 0;
  // Drops the entries of one tenant, or of every tenant when `tenant` is empty (an
  // administrator's flush); returns how many live (unexpired) entries went. Entries inserted
  // while it runs may stay.
  virtual Result<size_t> Flush(const std::string& tenant) = 0;
};

// Cosine similarity of two unit vectors (their dot product); 0 when the sizes differ.
double Similarity(const std::vector<float>& a, const std::vector<float>& b);

// Entries in this process. Lookup is O(bucket size); Insert and eviction O(1). Expired entries
// are dropped when a lookup meets them, or evicted as least recently used.
class MemoryCacheStore final : public CacheStore {
 public:
  MemoryCacheStore(const Clock& clock, StoreOptions options);
  Result<std::optional<Match>> Lookup(const Key& key, const std::vector<float>& embedding,
                                      double threshold) override;
  Result<void> Insert(Entry entry) override;
  Result<size_t> Size() override;
  Result<void> Clear() override;
  Result<size_t> Flush(const std::string& tenant) override;

 private:
  struct Held;
  // Drops `held` from every index; mu_ is held. Erases its bucket when that becomes empty.
  void RemoveLocked(Held* held);

  const Clock& clock_;
  const StoreOptions options_;
  std::mutex mu_;
  std::list<std::shared_ptr<Held>> lru_;  // most recently used first; owns the entries
  std::unordered_map<std::string, std::vector<std::shared_ptr<Held>>> buckets_;
  std::unordered_map<std::string, Held*> by_id_;
  std::unordered_map<std::string, Held*> by_template_;  // bucket + template_text
  uint64_t uses_ = 0;                                   // insertions and hits, for last_use
  uint64_t next_id_ = 1;
};

// Entries in Redis under `prefix`, shared by every instance: each entry a key with the TTL
// (a length-prefixed binary value, embedding first as little-endian floats: the layout is in
// semantic_cache.cc), each bucket a set of entry ids, one sorted set ordering all entries by
// last use. Insert (with replacement and eviction) and the reading of a bucket's candidates
// run as Lua scripts (atomic); the similarity is computed here, and only the best entry is read
// in full. The order of use is a counter in Redis, not a clock, so that it is exact across
// instances. Every key this store writes starts with `prefix`; Clear removes them all
// (SCAN + UNLINK). Flush walks the entries with ZSCAN, a page at a time, and drops a page's
// matching entries in one script (a tenant's are told by the tenant stored in each value).
// On a Redis Cluster the prefix must carry a hash tag ("{helios:cache}:").
// Lookups cost O(bucket size) in Redis and in transfer: a bucket is meant to hold a handful of
// templates. Any failure, including an error reply, is kUnavailable.
class RedisCacheStore final : public CacheStore {
 public:
  RedisCacheStore(redis::Client& client, StoreOptions options,
                  std::string prefix = "helios:cache:");
  Result<std::optional<Match>> Lookup(const Key& key, const std::vector<float>& embedding,
                                      double threshold) override;
  Result<void> Insert(Entry entry) override;
  Result<size_t> Size() override;
  Result<void> Clear() override;
  Result<size_t> Flush(const std::string& tenant) override;

 private:
  redis::Client& client_;
  const StoreOptions options_;
  const std::string prefix_;
};

}  // namespace helios::cache
