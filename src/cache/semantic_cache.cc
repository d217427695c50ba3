#include "cache/semantic_cache.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <utility>

#include "common/sha256.h"

namespace helios::cache {
namespace {

void AppendU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void AppendU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

std::string BucketOf(const Key& key) {
  // Every field length-prefixed, so no two keys can produce the same bytes by moving text
  // from one field into the next. The version tag changes whenever this layout does.
  std::string bytes = "helios-cache-key/1";
  for (const std::string* field :
       {&key.tenant, &key.database, &key.embedder, &key.context, &key.signature}) {
    AppendU64(bytes, field->size());
    bytes += *field;
  }
  AppendU64(bytes, key.schema_version);
  return sha256::Hex(bytes);
}

// ---------------------------------------------------------------------------------------------
// MemoryCacheStore

struct MemoryCacheStore::Held {
  Entry entry;
  std::string bucket;
  std::string template_key;  // bucket + template_text: the key of by_template_
  std::chrono::steady_clock::time_point expires;
  std::list<std::shared_ptr<Held>>::iterator lru_pos;
  size_t index = 0;       // position in its bucket's vector
  uint64_t last_use = 0;  // the store's use counter at its insertion or last hit
};

MemoryCacheStore::MemoryCacheStore(const Clock& clock, StoreOptions options)
    : clock_(clock), options_(options) {}

void MemoryCacheStore::RemoveLocked(Held* held) {
  auto bucket = buckets_.find(held->bucket);
  assert(bucket != buckets_.end());
  std::vector<std::shared_ptr<Held>>& entries = bucket->second;
  // Swap with the last one: O(1), and the order inside a bucket does not matter.
  if (held->index + 1 != entries.size()) {
    entries[held->index] = std::move(entries.back());
    entries[held->index]->index = held->index;
  }
  entries.pop_back();
  if (entries.empty()) buckets_.erase(bucket);
  if (auto it = by_id_.find(held->entry.id); it != by_id_.end() && it->second == held) {
    by_id_.erase(it);
  }
  if (auto it = by_template_.find(held->template_key);
      it != by_template_.end() && it->second == held) {
    by_template_.erase(it);
  }
  lru_.erase(held->lru_pos);  // the last owner: `held` is gone after this
}

Result<std::optional<Match>> MemoryCacheStore::Lookup(const Key& key,
                                                      const std::vector<float>& embedding,
                                                      double threshold) {
  const std::string bucket = BucketOf(key);
  const auto now = clock_.Steady();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return std::optional<Match>();

  Held* best = nullptr;
  double best_similarity = 0;
  std::vector<Held*> expired;
  for (const std::shared_ptr<Held>& held : it->second) {
    if (now >= held->expires) {
      expired.push_back(held.get());
      continue;
    }
    if (held->entry.embedding.size() != embedding.size()) continue;  // never a match
    double similarity = Similarity(embedding, held->entry.embedding);
    if (similarity >= threshold && (best == nullptr || similarity > best_similarity)) {
      best = held.get();
      best_similarity = similarity;
    }
  }
  for (Held* held : expired) RemoveLocked(held);  // may erase the bucket: `it` is stale now
  if (best == nullptr) return std::optional<Match>();

  lru_.splice(lru_.begin(), lru_, best->lru_pos);
  best->last_use = ++uses_;
  return std::optional<Match>(Match{best->entry, best_similarity});
}

Result<void> MemoryCacheStore::Insert(Entry entry) {
  auto held = std::make_shared<Held>();
  held->bucket = BucketOf(entry.key);
  held->template_key = held->bucket + entry.template_text;  // the digest has a fixed length
  held->entry = std::move(entry);
  held->expires = clock_.Steady() + options_.ttl;

  std::lock_guard lock(mu_);
  if (held->entry.id.empty()) held->entry.id = std::to_string(next_id_++);
  if (auto it = by_id_.find(held->entry.id); it != by_id_.end()) RemoveLocked(it->second);
  if (auto it = by_template_.find(held->template_key); it != by_template_.end()) {
    RemoveLocked(it->second);
  }
  Held* raw = held.get();
  std::vector<std::shared_ptr<Held>>& entries = buckets_[raw->bucket];
  raw->index = entries.size();
  raw->last_use = ++uses_;
  entries.push_back(held);
  lru_.push_front(std::move(held));
  raw->lru_pos = lru_.begin();
  by_id_[raw->entry.id] = raw;
  by_template_[raw->template_key] = raw;
  while (entries.size() > std::max<size_t>(1, options_.max_bucket_size)) {
    // The bucket's least recently used (never the one just inserted: it has the newest use).
    Held* oldest = entries.front().get();
    for (const auto& e : entries) {
      if (e->last_use < oldest->last_use) oldest = e.get();
    }
    RemoveLocked(oldest);
  }
  while (lru_.size() > options_.max_size) RemoveLocked(lru_.back().get());
  return {};
}

Result<size_t> MemoryCacheStore::Size() {
  std::lock_guard lock(mu_);
  return lru_.size();
}

Result<size_t> MemoryCacheStore::Flush(const std::string& tenant) {
  const auto now = clock_.Steady();
  std::lock_guard lock(mu_);
  std::vector<Held*> doomed;
  for (const std::shared_ptr<Held>& held : lru_) {
    if (tenant.empty() || held->entry.key.tenant == tenant) doomed.push_back(held.get());
  }
  size_t live = 0;
  for (Held* held : doomed) {
    if (now < held->expires) ++live;
    RemoveLocked(held);
  }
  return live;
}

Result<void> MemoryCacheStore::Clear() {
  std::lock_guard lock(mu_);
  by_id_.clear();
  by_template_.clear();
  buckets_.clear();
  lru_.clear();
  return {};
}

// ---------------------------------------------------------------------------------------------
// RedisCacheStore
//
// An entry's value (the key prefix + "e:" + id), all integers little-endian:
//   "HCE1"                      magic and format version
//   u32 n, then n f32           the embedding, first so that a lookup can read it alone
//   tenant, database            strings: u32 length, then the bytes as they are
//   u64 schema_version
//   embedder, context, signature, question, template_text, payload   strings
//   u32 slot count, then per slot: type, text, value                  strings
// Not JSON: the payload and the question are opaque bytes here, and need not be UTF-8.

namespace {

constexpr std::string_view kMagic = "HCE1";

size_t EmbeddingPrefixSize(size_t dimensions) { return kMagic.size() + 4 + 4 * dimensions; }

void AppendString(std::string& out, std::string_view s) {
  AppendU32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

std::string Serialize(const Entry& e) {
  std::string out;
  size_t strings = e.key.tenant.size() + e.key.database.size() + e.key.embedder.size() +
                   e.key.context.size() + e.key.signature.size() + e.question.size() +
                   e.template_text.size() + e.payload.size();
  out.reserve(EmbeddingPrefixSize(e.embedding.size()) + strings + 64 + 64 * e.slots.size());
  out += kMagic;
  AppendU32(out, static_cast<uint32_t>(e.embedding.size()));
  for (float f : e.embedding) AppendU32(out, std::bit_cast<uint32_t>(f));
  AppendString(out, e.key.tenant);
  AppendString(out, e.key.database);
  AppendU64(out, e.key.schema_version);
  for (const std::string* s : {&e.key.embedder, &e.key.context, &e.key.signature, &e.question,
                               &e.template_text, &e.payload}) {
    AppendString(out, *s);
  }
  AppendU32(out, static_cast<uint32_t>(e.slots.size()));
  for (const Slot& slot : e.slots) {
    AppendString(out, slot.type);
    AppendString(out, slot.text);
    AppendString(out, slot.value);
  }
  return out;
}

// Reads the layout above, refusing anything truncated or malformed.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool Magic() {
    if (data_.substr(pos_, kMagic.size()) != kMagic) return false;
    pos_ += kMagic.size();
    return true;
  }
  bool U32(uint32_t& v) {
    if (data_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i)
      v |= uint32_t{static_cast<unsigned char>(data_[pos_ + i])} << (8 * i);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t& v) {
    if (data_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i)
      v |= uint64_t{static_cast<unsigned char>(data_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return true;
  }
  bool String(std::string& s) {
    uint32_t size = 0;
    if (!U32(size) || data_.size() - pos_ < size) return false;
    s.assign(data_.substr(pos_, size));
    pos_ += size;
    return true;
  }
  bool Floats(std::vector<float>& v) {
    uint32_t n = 0;
    if (!U32(n) || (data_.size() - pos_) / 4 < n) return false;
    v.resize(n);
    for (float& f : v) {
      uint32_t bits = 0;
      U32(bits);
      f = std::bit_cast<float>(bits);
    }
    return true;
  }
  bool AtEnd() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

std::optional<Entry> Deserialize(std::string id, std::string_view data) {
  Entry e;
  e.id = std::move(id);
  Reader r(data);
  uint32_t slots = 0;
  bool ok = r.Magic() && r.Floats(e.embedding) && r.String(e.key.tenant) &&
            r.String(e.key.database) && r.U64(e.key.schema_version) && r.String(e.key.embedder) &&
            r.String(e.key.context) && r.String(e.key.signature) && r.String(e.question) &&
            r.String(e.template_text) && r.String(e.payload) && r.U32(slots);
  if (!ok || slots > data.size()) return std::nullopt;
  e.slots.resize(slots);
  for (Slot& s : e.slots) {
    if (!r.String(s.type) || !r.String(s.text) || !r.String(s.value)) return std::nullopt;
  }
  if (!r.AtEnd()) return std::nullopt;
  return e;
}

// The similarity of `query` to an entry's embedding read from the start of its value; nullopt
// when the value is not in this format or its embedding has another size (never a match).
std::optional<double> SimilarityToStored(const std::vector<float>& query, std::string_view head) {
  Reader r(head);
  uint32_t n = 0;
  if (!r.Magic() || !r.U32(n) || n != query.size() ||
      head.size() < EmbeddingPrefixSize(query.size())) {
    return std::nullopt;
  }
  const char* p = head.data() + kMagic.size() + 4;
  double dot = 0;
  for (size_t i = 0; i < n; ++i, p += 4) {
    uint32_t bits;
    std::memcpy(&bits, p, 4);
    if constexpr (std::endian::native == std::endian::big) bits = std::byteswap(bits);
    dot += static_cast<double>(query[i]) * std::bit_cast<float>(bits);
  }
  return dot;
}

// Keys, all under the prefix P:
//   P e:<id>        an entry's value (above), with the TTL
//   P b:<bucket>    SET of the ids in a bucket
//   P lru           ZSET of every id, scored by the tick of its last use
//   P m             HASH id -> "<bucket> <template digest>": what to clean up once the entry
//                   key has expired (its value is gone then)
//   P t             HASH "<bucket> <template digest>" -> id, for replacing the same template
//   P id, P tick    counters: entry ids, and uses (the LRU order)
// The LRU order is a counter in Redis rather than a clock's time: uses are then ordered
// exactly across every instance, without ties within one millisecond or clock skew.
// Keys are derived inside the scripts: on a Redis Cluster the prefix must hold a hash tag
// ("{helios:cache}:") so that they all live in one slot.

// Drops every trace of one id. Shared by the scripts below.
constexpr std::string_view kDropLua = R"lua(
local function drop(p, id)
  local where = redis.call('HGET', p .. 'm', id)
  redis.call('DEL', p .. 'e:' .. id)
  redis.call('ZREM', p .. 'lru', id)
  redis.call('HDEL', p .. 'm', id)
  if where then
    local bucket = string.sub(where, 1, string.find(where, ' ', 1, true) - 1)
    redis.call('SREM', p .. 'b:' .. bucket, id)
    if redis.call('HGET', p .. 't', where) == id then redis.call('HDEL', p .. 't', where) end
  end
end
)lua";

// ARGV: prefix, id ("" for a new one), bucket, template digest, value, ttl ms, max size, max
// bucket size. Returns the entry's id.
constexpr std::string_view kInsertLua = R"lua(
local p, id, bucket, tdigest, value = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ttl, max_size = tonumber(ARGV[6]), tonumber(ARGV[7])
if id == '' then id = tostring(redis.call('INCR', p .. 'id')) end
local where = bucket .. ' ' .. tdigest
if redis.call('HEXISTS', p .. 'm', id) == 1 then drop(p, id) end
local old = redis.call('HGET', p .. 't', where)
if old then drop(p, old) end
redis.call('SET', p .. 'e:' .. id, value, 'PX', ttl)
redis.call('SADD', p .. 'b:' .. bucket, id)
redis.call('ZADD', p .. 'lru', redis.call('INCR', p .. 'tick'), id)
redis.call('HSET', p .. 'm', id, where)
redis.call('HSET', p .. 't', where, id)
local max_bucket = tonumber(ARGV[8])
local members = redis.call('SMEMBERS', p .. 'b:' .. bucket)
while #members > max_bucket do
  local oldest, oldest_score = nil, nil
  for _, member in ipairs(members) do
    local score = tonumber(redis.call('ZSCORE', p .. 'lru', member) or '-1')
    if member ~= id and (oldest == nil or score < oldest_score) then
      oldest, oldest_score = member, score
    end
  end
  drop(p, oldest)
  redis.call('SREM', p .. 'b:' .. bucket, oldest)
  members = redis.call('SMEMBERS', p .. 'b:' .. bucket)
end
while redis.call('ZCARD', p .. 'lru') > max_size do
  drop(p, redis.call('ZPOPMIN', p .. 'lru')[1])
end
return id
)lua";

// ARGV: prefix, bucket, bytes to read of each value. Returns id1, head1, id2, head2, ... for
// the live entries of the bucket, and drops the ids whose entry has expired.
constexpr std::string_view kCandidatesLua = R"lua(
local p, bucket, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'b:' .. bucket)) do
  local head = redis.call('GETRANGE', p .. 'e:' .. id, 0, n - 1)
  if head == '' then
    drop(p, id)
    redis.call('SREM', p .. 'b:' .. bucket, id)  -- even if its record in P m is gone
  else
    out[#out + 1] = id
    out[#out + 1] = head
  end
end
return out
)lua";

// ARGV: prefix, id. The entry's whole value, counting a use; nil when it has gone meanwhile.
constexpr std::string_view kFetchLua = R"lua(
local p, id = ARGV[1], ARGV[2]
local value = redis.call('GET', p .. 'e:' .. id)
if value then redis.call('ZADD', p .. 'lru', 'XX', redis.call('INCR', p .. 'tick'), id) end
return value
)lua";

// ARGV: prefix, "1" to drop every entry or "0" to drop one tenant's, the tenant, then the ids
// of one page of P lru. Returns how many of the dropped entries were live. An entry's tenant is
// read from its value (after the magic, the embedding's size and floats: the layout above)
// without reading the rest of it. Ids whose entry has expired are cleaned up, not counted.
constexpr std::string_view kFlushLua = R"lua(
local function u32(s, i)
  local a, b, c, d = string.byte(s, i, i + 3)
  return a + b * 256 + c * 65536 + d * 16777216
end
local p, all, tenant = ARGV[1], ARGV[2] == '1', ARGV[3]
local dropped = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local key = p .. 'e:' .. id
  local head = redis.call('GETRANGE', key, 0, 7)
  if head == '' then
    drop(p, id)
  else
    local match = all
    if not all and #head == 8 and string.sub(head, 1, 4) == 'HCE1' then
      local at = 8 + 4 * u32(head, 5)
      local size = redis.call('GETRANGE', key, at, at + 3)
      if #size == 4 and u32(size, 1) == #tenant then
        match = #tenant == 0 or
                redis.call('GETRANGE', key, at + 4, at + 3 + #tenant) == tenant
      end
    end
    if match then
      dropped = dropped + 1
      drop(p, id)
    end
  end
end
return dropped
)lua";

const redis::Script& InsertScript() {
  static const redis::Script script(std::string(kDropLua) + std::string(kInsertLua));
  return script;
}
const redis::Script& CandidatesScript() {
  static const redis::Script script(std::string(kDropLua) + std::string(kCandidatesLua));
  return script;
}
const redis::Script& FlushScript() {
  static const redis::Script script(std::string(kDropLua) + std::string(kFlushLua));
  return script;
}
const redis::Script& FetchScript() {
  static const redis::Script script{std::string(kFetchLua)};
  return script;
}

std::unexpected<Error> Unavailable(std::string_view what, std::string_view detail) {
  return Fail(ErrorCode::kUnavailable,
              "The answer cache could not " + std::string(what) + ": " + std::string(detail));
}

// The reply of a command that must not fail: a failed call or an error reply is kUnavailable.
Result<redis::Reply> Checked(Result<redis::Reply> reply, std::string_view what) {
  if (!reply) return Unavailable(what, reply.error().message);
  if (reply->is_error()) return Unavailable(what, "Redis answered " + reply->str);
  return reply;
}

// A SCAN MATCH pattern for keys starting with `prefix`.
std::string GlobPrefix(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('*');
  return out;
}

}  // namespace

RedisCacheStore::RedisCacheStore(redis::Client& client, StoreOptions options, std::string prefix)
    : client_(client), options_(options), prefix_(std::move(prefix)) {}

Result<std::optional<Match>> RedisCacheStore::Lookup(const Key& key,
                                                     const std::vector<float>& embedding,
                                                     double threshold) {
  const std::string bucket = BucketOf(key);
  auto reply = Checked(
      client_.Eval(CandidatesScript(), {},
                   {prefix_, bucket, std::to_string(EmbeddingPrefixSize(embedding.size()))}),
      "look up a question");
  if (!reply) return std::unexpected(reply.error());
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() % 2 != 0) {
    return Unavailable("look up a question", "unexpected reply from Redis");
  }

  std::vector<std::pair<double, const std::string*>> hits;
  for (size_t i = 0; i < reply->elements.size(); i += 2) {
    std::optional<double> similarity = SimilarityToStored(embedding, reply->elements[i + 1].str);
    if (similarity && *similarity >= threshold) {
      hits.emplace_back(*similarity, &reply->elements[i].str);
    }
  }
  std::sort(hits.begin(), hits.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });

  // Normally the first: a later one only when the best expired or was evicted meanwhile.
  for (const auto& [similarity, id] : hits) {
    auto value = Checked(client_.Eval(FetchScript(), {}, {prefix_, *id}), "read an answer");
    if (!value) return std::unexpected(value.error());
    if (value->is_nil()) continue;
    std::optional<Entry> entry = Deserialize(*id, value->str);
    if (!entry || entry->key != key) continue;
    return std::optional<Match>(Match{std::move(*entry), similarity});
  }
  return std::optional<Match>();
}

Result<void> RedisCacheStore::Insert(Entry entry) {
  const std::string bucket = BucketOf(entry.key);
  auto ttl_ms = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(options_.ttl).count());
  auto reply = Checked(
      client_.Eval(InsertScript(), {},
                   {prefix_, entry.id, bucket, sha256::Hex(entry.template_text), Serialize(entry),
                    std::to_string(ttl_ms), std::to_string(options_.max_size),
                    std::to_string(std::max<size_t>(1, options_.max_bucket_size))}),
      "store an answer");
  if (!reply) return std::unexpected(reply.error());
  return {};
}

Result<size_t> RedisCacheStore::Size() {
  auto reply = Checked(client_.Command({"ZCARD", prefix_ + "lru"}), "count its entries");
  if (!reply) return std::unexpected(reply.error());
  return static_cast<size_t>(reply->integer);
}

Result<size_t> RedisCacheStore::Flush(const std::string& tenant) {
  constexpr std::string_view kWhat = "flush its entries";
  size_t dropped = 0;
  std::string cursor = "0";
  do {
    auto page = Checked(client_.Command({"ZSCAN", prefix_ + "lru", cursor, "COUNT", "500"}), kWhat);
    if (!page) return std::unexpected(page.error());
    if (page->type != redis::Reply::Type::kArray || page->elements.size() != 2 ||
        page->elements[1].elements.size() % 2 != 0) {
      return Unavailable(kWhat, "unexpected reply from Redis");
    }
    cursor = page->elements[0].str;
    const std::vector<redis::Reply>& pairs = page->elements[1].elements;  // id, score, ...
    if (pairs.empty()) continue;
    std::vector<std::string> args = {prefix_, tenant.empty() ? "1" : "0", tenant};
    for (size_t i = 0; i < pairs.size(); i += 2) args.push_back(pairs[i].str);
    auto done = Checked(client_.Eval(FlushScript(), {}, args), kWhat);
    if (!done) return std::unexpected(done.error());
    if (done->type != redis::Reply::Type::kInteger || done->integer < 0) {
      return Unavailable(kWhat, "unexpected reply from Redis");
    }
    dropped += static_cast<size_t>(done->integer);
  } while (cursor != "0");
  return dropped;
}

Result<void> RedisCacheStore::Clear() {
  const std::string pattern = GlobPrefix(prefix_);
  std::string cursor = "0";
  do {
    auto reply = Checked(client_.Command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}),
                         "clear its entries");
    if (!reply) return std::unexpected(reply.error());
    if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 2) {
      return Unavailable("clear its entries", "unexpected reply from Redis");
    }
    cursor = reply->elements[0].str;
    const std::vector<redis::Reply>& keys = reply->elements[1].elements;
    if (!keys.empty()) {
      std::vector<std::string> unlink = {"UNLINK"};
      unlink.reserve(keys.size() + 1);
      for (const redis::Reply& k : keys) unlink.push_back(k.str);
      auto done = Checked(client_.Command(unlink), "clear its entries");
      if (!done) return std::unexpected(done.error());
    }
  } while (cursor != "0");
  return {};
}

}  // namespace helios::cache
