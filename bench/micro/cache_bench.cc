// The semantic cache: shaping a question (its values into slots, its meaning words into a
// signature), embedding its template with the built-in HashingEmbedder, looking it up in the
// in-memory store holding 10,000 entries (a hit, a miss on an unknown signature, a miss inside
// a bucket), AnswerCache::Find, which embeds, looks up and re-binds a hit's query to the new
// question's values, and AnswerCache::RememberQuery, which stores an engine answer. See
// README.md.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_env.h"
#include "cache/embedder.h"
#include "cache/semantic_cache.h"
#include "nl2sql/answer_cache.h"
#include "nl2sql/question_shape.h"

namespace helios::bench {
namespace {

constexpr size_t kCacheEntries = 10'000;
constexpr size_t kEntriesPerBucket = 5;  // phrasings of one question shape
constexpr double kThreshold = 0.85;      // [cache] similarity_threshold's default

// Words of question templates as question_shape.h writes them (lemmas, slots as <TYPE>).
const std::vector<std::string>& TemplateWords() {
  static const std::vector<std::string> words = {
      "show",     "list",     "total",    "average",  "count",    "revenue",  "order",  "customer",
      "product",  "sale",     "by",       "per",      "in",       "top",      "bottom", "country",
      "region",   "city",     "month",    "year",     "quarter",  "category", "price",  "amount",
      "employee", "segment",  "highest",  "lowest",   "new",      "status",   "ship",   "date",
      "salary",   "title",    "discount", "quantity", "<number>", "<year>",   "<date>", "<quoted>",
      "last",     "first",    "between",  "more",     "than",     "less",     "each",   "number",
      "most",     "expensive"};
  return words;
}

// A template of 3..8 words drawn from TemplateWords().
std::string RandomTemplate(std::mt19937_64& rng) {
  const auto& words = TemplateWords();
  std::uniform_int_distribution<size_t> length(3, 8);
  std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
  std::string out;
  for (size_t n = length(rng), i = 0; i < n; ++i) {
    if (!out.empty()) out += ' ';
    out += words[pick(rng)];
  }
  return out;
}

cache::Key BucketKey(const cache::Embedder& embedder, size_t bucket) {
  cache::Key key;
  key.tenant = "default";
  key.database = "default";
  key.schema_version = 1;
  key.embedder = embedder.name();
  key.signature = fmt::format("v3|sig-{}", bucket);
  return key;
}

// A store of `count` entries: count / kEntriesPerBucket buckets of distinct signatures, each
// holding kEntriesPerBucket templates, with payloads the size of a cached engine query.
struct FilledStore {
  FakeClock clock;
  cache::HashingEmbedder embedder;
  std::unique_ptr<cache::MemoryCacheStore> store;
  std::vector<cache::Entry> samples;  // one entry of each bucket, as inserted
};

std::unique_ptr<FilledStore> FillStore(size_t count) {
  auto filled = std::make_unique<FilledStore>();
  cache::StoreOptions options;
  options.max_size = kCacheEntries;
  options.ttl = std::chrono::hours(24);
  filled->store = std::make_unique<cache::MemoryCacheStore>(filled->clock, options);
  std::mt19937_64 rng(42);
  const std::string payload(600, 'p');
  for (size_t i = 0; i < count; ++i) {
    cache::Entry entry;
    entry.key = BucketKey(filled->embedder, i / kEntriesPerBucket);
    entry.template_text = RandomTemplate(rng) + fmt::format(" w{}", i);
    entry.question = entry.template_text;
    entry.embedding = *filled->embedder.Embed(entry.template_text);
    entry.slots = {cache::Slot{"number", "5", "5"}};
    entry.payload = payload;
    if (i % kEntriesPerBucket == 0) filled->samples.push_back(entry);
    (void)filled->store->Insert(std::move(entry));
  }
  return filled;
}

FilledStore& Store10k() {
  static FilledStore* filled = FillStore(kCacheEntries).release();
  return *filled;
}

void ShapeQuestion(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  for (auto _ : state) {
    nl2sql::QuestionShape shape = nl2sql::ShapeQuestion(q.question, *env->index());
    benchmark::DoNotOptimize(shape.signature.data());
  }
  state.SetLabel(nl2sql::ShapeQuestion(q.question, *env->index()).template_text);
}

// HashingEmbedder::Embed of the question's template (what Find and Remember embed).
void EmbedTemplate(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  const std::string text = nl2sql::ShapeQuestion(q.question, *env->index()).template_text;
  cache::HashingEmbedder embedder;
  for (auto _ : state) {
    auto embedding = embedder.Embed(text);
    benchmark::DoNotOptimize(embedding->data());
  }
  state.SetLabel(text);
}

enum class LookupCase { kHit, kMissUnknownBucket, kMissInBucket };

// MemoryCacheStore::Lookup in a store of 10,000 entries (2,000 buckets of 5), with the
// embedding computed outside the loop.
void StoreLookup(benchmark::State& state, LookupCase which) {
  FilledStore& filled = Store10k();
  std::mt19937_64 rng(7);
  std::vector<std::pair<cache::Key, std::vector<float>>> probes;
  for (size_t i = 0; i < 64; ++i) {
    const cache::Entry& sample = filled.samples[(i * 31) % filled.samples.size()];
    switch (which) {
      case LookupCase::kHit:
        probes.emplace_back(sample.key, sample.embedding);
        break;
      case LookupCase::kMissUnknownBucket: {
        cache::Key key = sample.key;
        key.signature += "-unknown";
        probes.emplace_back(key, sample.embedding);
        break;
      }
      case LookupCase::kMissInBucket:
        probes.emplace_back(sample.key, *filled.embedder.Embed("zz qq xx yy"));
        break;
    }
  }
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    const auto& [key, embedding] = probes[i++ % probes.size()];
    auto match = filled.store->Lookup(key, embedding, kThreshold);
    if (match && *match) ++hits;
    benchmark::DoNotOptimize(match);
  }
  if ((which == LookupCase::kHit) != (hits > 0)) {
    state.SkipWithError(which == LookupCase::kHit ? "a hit was expected" : "a miss was expected");
  }
  state.SetLabel(fmt::format("{} entries", *filled.store->Size()));
}

// AnswerCache over a memory store filled to 10,000 entries, where the benchmark questions were
// remembered as the engine answered them.
struct FilledAnswerCache {
  std::unique_ptr<FilledStore> filled;
  std::unique_ptr<nl2sql::AnswerCache> cache;
  nl2sql::CacheContext context;
};

FilledAnswerCache* AnswerCacheOrSkip(benchmark::State& state, BenchEnv& env) {
  static FilledAnswerCache* made = nullptr;
  if (made != nullptr) return made;
  auto fresh = std::make_unique<FilledAnswerCache>();
  fresh->filled = FillStore(kCacheEntries - 2 * Questions().size());
  fresh->cache = std::make_unique<nl2sql::AnswerCache>(
      *fresh->filled->store, fresh->filled->embedder, env.clock(), kThreshold);
  fresh->context.tenant = "default";
  fresh->context.database = "default";
  fresh->context.schema_version = env.index()->catalog().version;
  for (const BenchQuestion& q : Questions()) {
    if (!q.previous.empty()) continue;
    auto prepared = PrepareOrSkip(state, env, q);
    if (!prepared) return nullptr;
    nl2sql::QuestionShape shape = nl2sql::ShapeQuestion(q.question, *env.index());
    if (auto remembered = fresh->cache->RememberQuery(
            fresh->context, shape, std::string(q.question), prepared->understood);
        !remembered) {
      state.SkipWithError(remembered.error().message.c_str());
      return nullptr;
    }
  }
  made = fresh.release();
  return made;
}

// AnswerCache::Find for `question` (shaped outside the loop): embedding, lookup and, on a hit,
// decoding the cached query and putting this question's values into it.
void Find(benchmark::State& state, std::string_view question, bool expect_hit) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  FilledAnswerCache* cache = AnswerCacheOrSkip(state, *env);
  if (cache == nullptr) return;
  const nl2sql::QuestionShape shape = nl2sql::ShapeQuestion(question, *env->index());
  bool hit = false;
  for (auto _ : state) {
    auto plan = cache->cache->Find(cache->context, shape);
    hit = plan && *plan;
    benchmark::DoNotOptimize(plan);
  }
  if (hit != expect_hit) {
    state.SkipWithError(expect_hit ? "a hit was expected" : "a miss was expected");
  }
  state.SetLabel(std::string(question));
}

// AnswerCache::RememberQuery after an engine answer (cache on, a miss): the query written as
// the entry's payload, the template embedded and inserted, and the same for the loose key when
// the question opens a conversation. Each iteration replaces the previous one's entries.
void RememberQuery(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  cache::HashingEmbedder embedder;
  cache::MemoryCacheStore store(env->clock(), cache::StoreOptions{});
  nl2sql::AnswerCache answer_cache(store, embedder, env->clock(), kThreshold);
  nl2sql::CacheContext context;
  context.tenant = "default";
  context.database = "default";
  context.schema_version = env->index()->catalog().version;
  if (prepared->previous()) context.previous_sql = "SELECT the previous turn's SQL";
  const nl2sql::QuestionShape shape = nl2sql::ShapeQuestion(q.question, *env->index());
  const std::string question(q.question);
  for (auto _ : state) {
    auto remembered = answer_cache.RememberQuery(context, shape, question, prepared->understood);
    if (!remembered) {
      state.SkipWithError(remembered.error().message.c_str());
      break;
    }
  }
  state.SetLabel(fmt::format("{} entries", *store.Size()));
}

}  // namespace

void RegisterCacheBenchmarks() {
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Cache/ShapeQuestion/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { ShapeQuestion(s, q); })
        ->Unit(benchmark::kMicrosecond);
  }
  for (const char* name : {"count_filter", "group_join"}) {
    const BenchQuestion& q = QuestionNamed(name);
    benchmark::RegisterBenchmark(fmt::format("Cache/Embed/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { EmbedTemplate(s, q); })
        ->Unit(benchmark::kMicrosecond);
  }
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Cache/RememberQuery/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { RememberQuery(s, q); })
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("Cache/StoreLookup10k/hit", [](benchmark::State& s) {
    StoreLookup(s, LookupCase::kHit);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(
      "Cache/StoreLookup10k/miss_unknown_signature",
      [](benchmark::State& s) { StoreLookup(s, LookupCase::kMissUnknownBucket); })
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Cache/StoreLookup10k/miss_in_bucket", [](benchmark::State& s) {
    StoreLookup(s, LookupCase::kMissInBucket);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Cache/Find10k/hit_same_question", [](benchmark::State& s) {
    Find(s, "total revenue by country", true);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Cache/Find10k/hit_other_value", [](benchmark::State& s) {
    Find(s, "How many customers are in France?", true);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Cache/Find10k/hit_other_number", [](benchmark::State& s) {
    Find(s, "What are the 10 most expensive products?", true);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Cache/Find10k/miss", [](benchmark::State& s) {
    Find(s, "average salary by title", false);
  })->Unit(benchmark::kMicrosecond);
}

}  // namespace helios::bench
