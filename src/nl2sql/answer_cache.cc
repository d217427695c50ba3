#include "nl2sql/answer_cache.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "nl2sql/rebind.h"
#include "sql/ir_json.h"

namespace helios::nl2sql {

namespace {

constexpr std::string_view kKindQuery = "query";
constexpr std::string_view kKindSql = "sql";

}  // namespace

cache::Key AnswerCache::KeyOf(const CacheContext& context, const QuestionShape& shape) const {
  cache::Key key;
  key.tenant = context.tenant;
  key.database = context.database;
  key.schema_version = context.schema_version;
  key.embedder = embedder_.name();
  key.context = context.previous_sql;
  if (shape.relative_time) {
    // "last month" means another month tomorrow: such entries live for the day they were made.
    key.context += fmt::format("\x1f{:%Y-%m-%d}",
                               fmt::gmtime(std::chrono::system_clock::to_time_t(clock_.Now())));
  }
  key.signature = shape.signature;
  return key;
}

namespace {

// The new question's slots in the order of the entry's, matched by type (each type appears at
// most once in a question with a loose signature); nullopt when the types differ.
std::optional<std::vector<cache::Slot>> ByType(const std::vector<cache::Slot>& entry_slots,
                                               const std::vector<cache::Slot>& slots) {
  if (entry_slots.size() != slots.size()) return std::nullopt;
  std::vector<cache::Slot> ordered;
  ordered.reserve(slots.size());
  for (const auto& old : entry_slots) {
    auto same = [&](const cache::Slot& s) { return s.type == old.type; };
    if (std::count_if(slots.begin(), slots.end(), same) != 1) return std::nullopt;
    ordered.push_back(*std::find_if(slots.begin(), slots.end(), same));
  }
  return ordered;
}

// A cache entry's payload, decoded.
struct Decoded {
  bool is_query = false;
  sql::Query query;  // is_query
  double confidence = 0;
  std::vector<std::string> notes;
  std::string sql;  // !is_query
  std::string explanation;
};

std::optional<Decoded> Decode(const std::string& text) {
  nlohmann::json payload = nlohmann::json::parse(text, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) return std::nullopt;
  const std::string kind = payload.value("kind", "");
  Decoded d;
  if (kind == kKindQuery && payload.contains("query")) {
    auto query = sql::QueryFromJson(payload["query"]);
    if (!query) return std::nullopt;
    d.is_query = true;
    d.query = std::move(*query);
    d.confidence = payload.value("confidence", 0.0);
    if (payload.contains("notes") && payload["notes"].is_array()) {
      for (const auto& note : payload["notes"]) {
        if (note.is_string()) d.notes.push_back(note.get<std::string>());
      }
    }
    return d;
  }
  if (kind == kKindSql && payload.contains("sql") && payload["sql"].is_string()) {
    d.sql = payload["sql"].get<std::string>();
    d.explanation = payload.value("explanation", "");
    return d;
  }
  return std::nullopt;
}

}  // namespace

// Payloads decoded before, by their text: a hit decodes the same few payloads over and over.
class AnswerCache::DecodedPayloads {
 public:
  std::shared_ptr<const Decoded> Get(const std::string& text) {
    Shard& shard = shards_[std::hash<std::string>{}(text) % kShards];
    {
      std::lock_guard lock(shard.mu);
      if (auto it = shard.decoded.find(text); it != shard.decoded.end()) return it->second;
    }
    auto decoded = Decode(text);
    if (!decoded) return nullptr;
    auto shared = std::make_shared<const Decoded>(std::move(*decoded));
    std::lock_guard lock(shard.mu);
    if (shard.decoded.size() >= kPerShard) shard.decoded.erase(shard.decoded.begin());
    shard.decoded.insert_or_assign(text, shared);
    return shared;
  }

 private:
  static constexpr size_t kShards = 8;
  static constexpr size_t kPerShard = 128;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const Decoded>> decoded;
  };
  std::array<Shard, kShards> shards_;
};

// Defined after DecodedPayloads: make_unique needs the complete type where it is instantiated
// (GCC defers that to the end of the file, clang does not).
AnswerCache::AnswerCache(cache::CacheStore& store, cache::Embedder& embedder, const Clock& clock,
                         double similarity_threshold)
    : store_(store),
      embedder_(embedder),
      clock_(clock),
      threshold_(similarity_threshold),
      decoded_(std::make_unique<DecodedPayloads>()) {}

AnswerCache::~AnswerCache() = default;

namespace {

// The plan of a matched entry with the new values, or nullopt when they cannot be placed.
std::optional<CachedPlan> PlanOf(const cache::Match& match, const std::vector<cache::Slot>& slots,
                                 const Decoded* payload) {
  const cache::Entry& entry = match.entry;
  CachedPlan plan;
  plan.matched_question = entry.question;
  plan.similarity = match.similarity;
  if (entry.slots.size() != slots.size() || payload == nullptr) return std::nullopt;
  for (size_t i = 0; i < entry.slots.size(); ++i) {
    if (entry.slots[i].type != slots[i].type) return std::nullopt;
    if (entry.slots[i].value != slots[i].value) plan.changed.emplace_back(entry.slots[i], slots[i]);
  }
  if (payload->is_query) {
    auto rebound = RebindQuery(payload->query, entry.slots, slots);
    if (!rebound) return std::nullopt;
    plan.kind = CachedPlan::Kind::kQuery;
    plan.query = std::move(*rebound);
    plan.confidence = payload->confidence;
    plan.notes = payload->notes;
    return plan;
  }
  auto rebound = RebindSql(payload->sql, entry.slots, slots);
  if (!rebound) return std::nullopt;
  plan.kind = CachedPlan::Kind::kSql;
  plan.sql = std::move(*rebound);
  plan.explanation = payload->explanation;
  return plan;
}

}  // namespace

bool AnswerCache::UsesLooseKey(const CacheContext& context, const QuestionShape& shape) {
  return !shape.loose_signature.empty() && context.previous_sql.empty();
}

Result<std::optional<CachedPlan>> AnswerCache::Find(const CacheContext& context,
                                                    const QuestionShape& shape) {
  auto embedding = embedder_.Embed(shape.template_text);
  if (!embedding) return std::unexpected(embedding.error());
  auto match = store_.Lookup(KeyOf(context, shape), *embedding, threshold_);
  if (!match) return std::unexpected(match.error());
  if (*match) {
    const auto payload = decoded_->Get((*match)->entry.payload);
    if (auto plan = PlanOf(**match, shape.slots, payload.get())) {
      return std::optional<CachedPlan>(std::move(plan));
    }
  }
  if (!UsesLooseKey(context, shape)) return std::optional<CachedPlan>();

  // The loose key: its entries' templates are the loose signature itself, so a match is the
  // same signature, whatever the words around it.
  auto loose_embedding = embedder_.Embed(shape.loose_signature);
  if (!loose_embedding) return std::unexpected(loose_embedding.error());
  cache::Key key = KeyOf(context, shape);
  key.signature = shape.loose_signature;
  auto loose = store_.Lookup(key, *loose_embedding, threshold_);
  if (!loose) return std::unexpected(loose.error());
  if (!*loose) return std::optional<CachedPlan>();
  auto slots = ByType((*loose)->entry.slots, shape.slots);
  if (!slots) return std::optional<CachedPlan>();
  const auto payload = decoded_->Get((*loose)->entry.payload);
  return PlanOf(**loose, *slots, payload.get());
}

Result<void> AnswerCache::Remember(const CacheContext& context, const QuestionShape& shape,
                                   const std::string& question, std::string payload) {
  auto embedding = embedder_.Embed(shape.template_text);
  if (!embedding) return std::unexpected(embedding.error());
  cache::Entry entry;
  entry.key = KeyOf(context, shape);
  entry.question = question;
  entry.template_text = shape.template_text;
  entry.embedding = std::move(*embedding);
  entry.slots = shape.slots;
  entry.payload = std::move(payload);
  if (!UsesLooseKey(context, shape)) return store_.Insert(std::move(entry));

  cache::Entry loose = entry;
  auto strict = store_.Insert(std::move(entry));
  if (!strict) return strict;
  auto loose_embedding = embedder_.Embed(shape.loose_signature);
  if (!loose_embedding) return std::unexpected(loose_embedding.error());
  loose.key.signature = shape.loose_signature;
  loose.template_text = shape.loose_signature;
  loose.embedding = std::move(*loose_embedding);
  return store_.Insert(std::move(loose));
}

Result<void> AnswerCache::RememberQuery(const CacheContext& context, const QuestionShape& shape,
                                        const std::string& question,
                                        const engine::Understanding& understood) {
  nlohmann::json payload;
  payload["kind"] = kKindQuery;
  payload["query"] = sql::QueryToJson(understood.query);
  payload["confidence"] = understood.confidence;
  payload["notes"] = understood.notes;
  return Remember(context, shape, question,
                  payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<void> AnswerCache::RememberSql(const CacheContext& context, const QuestionShape& shape,
                                      const std::string& question, const std::string& sql,
                                      const std::string& explanation) {
  nlohmann::json payload;
  payload["kind"] = kKindSql;
  payload["sql"] = sql;
  payload["explanation"] = explanation;
  return Remember(context, shape, question,
                  payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace helios::nl2sql
