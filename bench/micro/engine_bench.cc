// The built-in engine's phases on the demo database's schema: building the schema index,
// tokenizing, the lexicon's word keys, understanding a question (tagging and building the IR),
// checking and rendering the IR per dialect, explaining it, and the whole engine call from
// question to SQL; then what the pipeline does around it without the database (chart, follow-up
// suggestions). See README.md for what each benchmark measures.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "bench_env.h"
#include "db/data_source.h"
#include "nl2sql/chart.h"
#include "nl2sql/engine/lexicon.h"
#include "nl2sql/engine/tokenizer.h"
#include "nl2sql/engine/wordnet_morph.h"
#include "nl2sql/suggestions.h"
#include "sql/explain.h"
#include "sql/ir.h"
#include "sql/render.h"

namespace helios::bench {
namespace {

using nl2sql::engine::SchemaIndex;

// A data source that answers DistinctTextValues from what it read once through the real one,
// so that building the index can be timed without SQLite's share. Everything else is passed
// through. Not thread-safe (the benchmarks are single-threaded).
class RecordedValues final : public db::DataSource {
 public:
  explicit RecordedValues(db::DataSource& real) : real_(real) {}

  db::Dialect dialect() const override { return real_.dialect(); }
  std::string DisplayName() const override { return real_.DisplayName(); }
  Result<std::shared_ptr<const db::SchemaCatalog>> Introspect() override {
    return real_.Introspect();
  }
  Result<void> Check(std::string_view sql) override { return real_.Check(sql); }
  Result<db::QueryResult> Execute(std::string_view sql, const std::vector<db::Value>& params,
                                  const db::ExecuteOptions& options) override {
    return real_.Execute(sql, params, options);
  }
  Result<std::vector<std::string>> DistinctTextValues(std::string_view table,
                                                      std::string_view column,
                                                      size_t limit) override {
    auto key = std::make_tuple(std::string(table), std::string(column), limit);
    if (auto it = recorded_.find(key); it != recorded_.end()) return it->second;
    auto values = real_.DistinctTextValues(table, column, limit);
    if (values) recorded_.emplace(std::move(key), *values);
    return values;
  }
  Result<void> Ping() override { return real_.Ping(); }
  db::PoolUsage Usage() const override { return real_.Usage(); }
  Result<std::vector<std::string>> WritePrivileges() override { return real_.WritePrivileges(); }

 private:
  db::DataSource& real_;
  std::map<std::tuple<std::string, std::string, size_t>, std::vector<std::string>> recorded_;
};

// The index as the server builds it at start-up and on a schema change: the catalog plus one
// DISTINCT query per text column against SQLite.
void SchemaIndexBuildSqlite(benchmark::State& state) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  for (auto _ : state) {
    auto index = SchemaIndex::Build(env->catalog(), env->source(), kMaxDistinctValues);
    if (!index) {
      state.SkipWithError(index.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(index->get());
  }
}

// The same without the database: the distinct values come from memory.
void SchemaIndexBuildRecorded(benchmark::State& state) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  RecordedValues recorded(env->source());
  if (auto warm = SchemaIndex::Build(env->catalog(), recorded, kMaxDistinctValues); !warm) {
    state.SkipWithError(warm.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    auto index = SchemaIndex::Build(env->catalog(), recorded, kMaxDistinctValues);
    benchmark::DoNotOptimize(index->get());
  }
}

void Tokenize(benchmark::State& state, const BenchQuestion& q) {
  for (auto _ : state) {
    auto tokens = nl2sql::engine::Tokenize(q.question);
    benchmark::DoNotOptimize(tokens.data());
  }
  state.SetLabel(std::string(q.question));
}

// Key() of every word of the questions, once the thread's cache holds them (as on a server
// thread that has seen these words before).
void LexiconKeysWarm(benchmark::State& state) {
  std::vector<std::string> words;
  for (const BenchQuestion& q : Questions()) {
    for (const auto& token : nl2sql::engine::Tokenize(q.question)) {
      if (token.kind == nl2sql::engine::Token::Kind::kWord) words.push_back(token.text);
    }
  }
  for (const auto& w : words) benchmark::DoNotOptimize(nl2sql::engine::Key(w));
  for (auto _ : state) {
    for (const auto& w : words) {
      std::string key = nl2sql::engine::Key(w);
      benchmark::DoNotOptimize(key.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * words.size()));
  state.SetLabel(fmt::format("{} words per iteration", words.size()));
}

// Words a server meets for the first time, for Lemma(): inflected forms of the WordNet
// dictionary's nouns ("+s") and verbs ("+ed", "+ing"), or non-words made of the same letters
// shuffled, in a fixed pseudo-random order. There are more of them than the lexicon's memory
// holds (4,096 words per thread; the shared memory it had when it asked libwordnet held
// 50,000), so that cycling through them the lexicon never answers from a memory. Empty when
// the dictionary cannot be read.
std::vector<std::string> NewWords(bool real) {
  const std::string dir = nl2sql::engine::WordNetDictDir();
  constexpr size_t kWords = 70000;
  std::vector<std::string> words;
  for (const auto& [file, endings] :
       {std::pair<std::string, std::vector<std::string>>{"index.verb", {"ed", "ing"}},
        {"index.noun", {"s"}}}) {
    std::ifstream in(dir + "/" + file);
    std::string line;
    while (words.size() < kWords && std::getline(in, line)) {
      std::string lemma = line.substr(0, line.find(' '));
      if (lemma.size() < 3 ||
          !std::all_of(lemma.begin(), lemma.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
        continue;
      for (const auto& ending : endings) words.push_back(lemma + ending);
    }
  }
  std::mt19937 random(42);
  if (!real) {
    for (auto& w : words) std::shuffle(w.begin(), w.end(), random);
  }
  std::shuffle(words.begin(), words.end(), random);
  if (words.size() < kWords) words.clear();
  return words;
}

// Lemma() of a word this server has not seen before: each iteration one new word. The words
// are taken in turn, across runs and threads, in batches of kBatch per thread, so that a word
// comes back only after all the others have been looked up.
void LemmaNewWords(benchmark::State& state, bool real) {
  static const std::vector<std::string> kReal = NewWords(true);
  static const std::vector<std::string> kMade = NewWords(false);
  static std::atomic<size_t> next_real{0};
  static std::atomic<size_t> next_made{0};
  constexpr size_t kBatch = 64;
  const std::vector<std::string>& words = real ? kReal : kMade;
  std::atomic<size_t>& next = real ? next_real : next_made;
  if (words.empty()) {
    state.SkipWithError("the WordNet dictionary could not be read");
    return;
  }
  benchmark::DoNotOptimize(nl2sql::engine::Lemma("warming"));  // the dictionary is ready
  size_t i = 0;
  size_t end = 0;
  size_t changed = 0;
  for (auto _ : state) {
    if (i == end) {
      i = next.fetch_add(kBatch, std::memory_order_relaxed);
      end = i + kBatch;
    }
    const std::string& w = words[i++ % words.size()];
    std::string lemma = nl2sql::engine::Lemma(w);
    changed += lemma != w;
    benchmark::DoNotOptimize(lemma.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["changed"] =
      benchmark::Counter(static_cast<double>(changed) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
}

// Lemma() of words the thread has seen (the words of the six questions): its memory answers.
void LemmaSeenWords(benchmark::State& state) {
  std::vector<std::string> words;
  for (const BenchQuestion& q : Questions()) {
    for (const auto& token : nl2sql::engine::Tokenize(q.question)) {
      if (token.kind == nl2sql::engine::Token::Kind::kWord) words.push_back(token.text);
    }
  }
  for (const auto& w : words) benchmark::DoNotOptimize(nl2sql::engine::Lemma(w));
  size_t i = 0;
  for (auto _ : state) {
    std::string lemma = nl2sql::engine::Lemma(words[i++ % words.size()]);
    benchmark::DoNotOptimize(lemma.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Reading WordNet's noun and verb morphology into memory, as Lemma() does at first use.
void WordNetMorphologyLoad(benchmark::State& state) {
  size_t bytes = 0;
  for (auto _ : state) {
    auto loaded = nl2sql::engine::WordNetMorphology::Load(nl2sql::engine::WordNetDictDir());
    if (!loaded) {
      state.SkipWithError(loaded.error().message.c_str());
      return;
    }
    bytes = (*loaded)->MemoryBytes();
  }
  state.SetLabel(fmt::format("{:.2f} MiB held", static_cast<double>(bytes) / (1 << 20)));
}

// WordNetMorphology::BaseForm() alone, as Lemma() asks it (noun, then verb when the noun has
// none), for the words of Lemma/new_words or new_nonwords: the cost of a new word without the
// lexicon's memories.
void WordNetBaseForm(benchmark::State& state, bool real) {
  using nl2sql::engine::WordNetPos;
  static const std::vector<std::string> kReal = NewWords(true);
  static const std::vector<std::string> kMade = NewWords(false);
  const std::vector<std::string>& words = real ? kReal : kMade;
  auto loaded = nl2sql::engine::WordNetMorphology::Load(nl2sql::engine::WordNetDictDir());
  if (!loaded || words.empty()) {
    state.SkipWithError("the WordNet dictionary could not be read");
    return;
  }
  const nl2sql::engine::WordNetMorphology& morphology = **loaded;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& w = words[i++ % words.size()];
    auto base = morphology.BaseForm(w, WordNetPos::kNoun);
    if (!base) base = morphology.BaseForm(w, WordNetPos::kVerb);
    benchmark::DoNotOptimize(base);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Engine::Understand: tokens, tagging against the schema index and the lexicon, and the IR.
void Understand(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  const nl2sql::engine::Engine& engine = *env->engine();
  for (auto _ : state) {
    auto understood = engine.Understand(q.question, prepared->previous());
    benchmark::DoNotOptimize(understood);
  }
  state.SetLabel(
      fmt::format("{} (confidence {:.2f})", q.question, prepared->understood.confidence));
}

void Validate(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  for (auto _ : state) {
    auto valid = sql::Validate(prepared->understood.query);
    benchmark::DoNotOptimize(valid);
  }
}

// The statement that runs (bound parameters) or the one shown to people (inline literals).
void Render(benchmark::State& state, const BenchQuestion& q, db::Dialect dialect,
            bool inline_literals) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  const sql::RenderOptions options{dialect, inline_literals};
  for (auto _ : state) {
    sql::RenderedSql rendered = sql::Render(prepared->understood.query, options);
    benchmark::DoNotOptimize(rendered.text.data());
    benchmark::DoNotOptimize(rendered.params.data());
  }
  state.SetLabel(sql::Render(prepared->understood.query, {dialect, true}).text);
}

void Explain(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  for (auto _ : state) {
    std::string explanation = sql::Explain(prepared->understood.query);
    benchmark::DoNotOptimize(explanation.data());
  }
}

// The whole engine call as the pipeline makes it (Pipeline::Ask and FromEngine), without the
// database: understand, validate, render with bound parameters, render for display, explain.
void QuestionToSql(benchmark::State& state, const BenchQuestion& q, db::Dialect dialect) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  const nl2sql::engine::Engine& engine = *env->engine();
  for (auto _ : state) {
    auto understood = engine.Understand(q.question, prepared->previous());
    if (!understood || !sql::Validate(understood->query)) {
      state.SkipWithError("the question was not understood in the loop");
      break;
    }
    sql::RenderedSql bound = sql::Render(understood->query, {dialect, false});
    std::string shown = sql::Render(understood->query, {dialect, true}).text;
    std::string explanation = sql::Explain(understood->query);
    benchmark::DoNotOptimize(bound.text.data());
    benchmark::DoNotOptimize(shown.data());
    benchmark::DoNotOptimize(explanation.data());
  }
  state.SetLabel(std::string(q.question));
}

// The rows the question's query returns from the demo database (as the pipeline would have
// them when it chooses the chart and the follow-ups), or nullopt after SkipWithError.
std::optional<db::QueryResult> RowsOf(benchmark::State& state, BenchEnv& env,
                                      const PreparedQuestion& prepared) {
  sql::RenderedSql bound = sql::Render(prepared.understood.query, {env.source().dialect(), false});
  auto result = env.source().Execute(bound.text, bound.params, db::ExecuteOptions{});
  if (!result) {
    state.SkipWithError(("the query failed: " + result.error().message).c_str());
    return std::nullopt;
  }
  return std::move(*result);
}

void ChooseChart(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  auto result = RowsOf(state, *env, *prepared);
  if (!result) return;
  for (auto _ : state) {
    nl2sql::ChartSuggestion chart = nl2sql::ChooseChart(
        &prepared->understood.query, result->columns, result->rows, result->truncated);
    benchmark::DoNotOptimize(chart.spec.data());
  }
  state.SetLabel(fmt::format("{} rows", result->rows.size()));
}

// SuggestFollowUps with the pipeline's options: up to 12 candidate edits, each checked with
// Engine::Understand.
void SuggestFollowUps(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  auto result = RowsOf(state, *env, *prepared);
  if (!result) return;
  nl2sql::SuggestOptions options;
  options.rows = &result->rows;
  options.known_values = [](const nl2sql::engine::ColumnEntry& column) { return column.values; };
  size_t offered = 0;
  for (auto _ : state) {
    std::vector<std::string> suggestions =
        nl2sql::SuggestFollowUps(*env->engine(), prepared->understood.query, options);
    offered = suggestions.size();
    benchmark::DoNotOptimize(suggestions.data());
  }
  state.SetLabel(fmt::format("{} suggestions", offered));
}

std::string_view DialectName(db::Dialect dialect) {
  switch (dialect) {
    case db::Dialect::kSqlite:
      return "sqlite";
    case db::Dialect::kPostgres:
      return "postgres";
    case db::Dialect::kMysql:
      return "mysql";
  }
  return "?";
}

constexpr db::Dialect kDialects[] = {db::Dialect::kSqlite, db::Dialect::kPostgres,
                                     db::Dialect::kMysql};

// Engine/<what>/<question> for each question, timed in microseconds.
void PerQuestion(std::string_view what, void (*run)(benchmark::State&, const BenchQuestion&)) {
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Engine/{}/{}", what, q.name).c_str(),
                                 [&q, run](benchmark::State& s) { run(s, q); })
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

void RegisterEngineBenchmarks() {
  benchmark::RegisterBenchmark("Engine/SchemaIndexBuild/sqlite_values", SchemaIndexBuildSqlite)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Engine/SchemaIndexBuild/recorded_values", SchemaIndexBuildRecorded)
      ->Unit(benchmark::kMillisecond);
  PerQuestion("Tokenize", Tokenize);
  benchmark::RegisterBenchmark("Engine/LexiconKeys/warm", LexiconKeysWarm)
      ->Unit(benchmark::kMicrosecond);
  for (bool real : {true, false}) {
    benchmark::RegisterBenchmark(real ? "Engine/Lemma/new_words" : "Engine/Lemma/new_nonwords",
                                 [real](benchmark::State& s) { LemmaNewWords(s, real); })
        ->Unit(benchmark::kMicrosecond)
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("Engine/Lemma/seen_words", LemmaSeenWords)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Engine/WordNetMorphology/Load", WordNetMorphologyLoad)
      ->Unit(benchmark::kMillisecond);
  for (bool real : {true, false}) {
    benchmark::RegisterBenchmark(real ? "Engine/WordNetMorphology/BaseForm/new_words"
                                      : "Engine/WordNetMorphology/BaseForm/new_nonwords",
                                 [real](benchmark::State& s) { WordNetBaseForm(s, real); })
        ->Unit(benchmark::kMicrosecond);
  }
  PerQuestion("Understand", Understand);
  PerQuestion("Validate", Validate);
  for (const BenchQuestion& q : Questions()) {
    for (db::Dialect d : kDialects) {
      benchmark::RegisterBenchmark(
          fmt::format("Engine/RenderBound/{}/{}", q.name, DialectName(d)).c_str(),
          [&q, d](benchmark::State& s) { Render(s, q, d, false); })
          ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(
        fmt::format("Engine/RenderInline/{}/sqlite", q.name).c_str(),
        [&q](benchmark::State& s) { Render(s, q, db::Dialect::kSqlite, true); })
        ->Unit(benchmark::kMicrosecond);
  }
  PerQuestion("Explain", Explain);
  for (const BenchQuestion& q : Questions()) {
    for (db::Dialect d : kDialects) {
      benchmark::RegisterBenchmark(
          fmt::format("Engine/QuestionToSql/{}/{}", q.name, DialectName(d)).c_str(),
          [&q, d](benchmark::State& s) { QuestionToSql(s, q, d); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Answer/ChooseChart/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { ChooseChart(s, q); })
        ->Unit(benchmark::kMicrosecond);
  }
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Answer/SuggestFollowUps/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { SuggestFollowUps(s, q); })
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace helios::bench
