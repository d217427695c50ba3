// The request path's engine part as a whole: everything the pipeline and the handler do for an
// engine answer except the database and the session store (Answer/WithoutDb, with the semantic
// cache missing or off), the database's part alone (Db/Execute), and Pipeline::Ask end to end
// on the SQLite demo database, with the cache off or hit. See README.md.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_env.h"
#include "cache/embedder.h"
#include "cache/semantic_cache.h"
#include "common/text.h"
#include "conversation/session_store.h"
#include "nl2sql/answer_cache.h"
#include "nl2sql/chart.h"
#include "nl2sql/pipeline.h"
#include "nl2sql/question_shape.h"
#include "nl2sql/suggestions.h"
#include "security/question_screen.h"
#include "security/sanitize.h"
#include "server/api_json.h"
#include "sql/explain.h"
#include "sql/render.h"

namespace helios::bench {
namespace {

// The statement the engine wrote for the question, run against the demo database: what
// Pipeline::FromEngine spends in DataSource::Execute (the guard's prepare included).
void DbExecute(benchmark::State& state, const BenchQuestion& q) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  sql::RenderedSql bound = sql::Render(prepared->understood.query, {db::Dialect::kSqlite, false});
  const db::ExecuteOptions options{1000, std::chrono::milliseconds(10000)};
  size_t rows = 0;
  for (auto _ : state) {
    auto result = env->source().Execute(bound.text, bound.params, options);
    if (!result) {
      state.SkipWithError(result.error().message.c_str());
      break;
    }
    rows = result->rows.size();
    benchmark::DoNotOptimize(result->rows.data());
  }
  state.SetLabel(fmt::format("{} rows", rows));
}

// One engine answer's CPU work outside the database and the session store, in the pipeline's
// order: screen the question; with the cache on (the default configuration), shape it and look
// it up (a miss); understand it, validate and render the IR (bound and for display), explain
// it, strip comments, choose the chart, check up to 12 follow-up suggestions with the engine;
// with the cache on, remember the answer; and encode the response body. The rows are read once
// before the loop.
void AnswerWithoutDb(benchmark::State& state, const BenchQuestion& q, bool cache_on) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  auto prepared = PrepareOrSkip(state, *env, q);
  if (!prepared) return;
  sql::RenderedSql bound0 = sql::Render(prepared->understood.query, {db::Dialect::kSqlite, false});
  auto result = env->source().Execute(bound0.text, bound0.params, db::ExecuteOptions{});
  if (!result) {
    state.SkipWithError(result.error().message.c_str());
    return;
  }
  const nl2sql::engine::Engine& engine = *env->engine();
  nl2sql::SuggestOptions suggest;
  suggest.known_values = [](const nl2sql::engine::ColumnEntry& column) { return column.values; };
  // Lookups go to an empty store (always a miss); answers are remembered in another, where
  // each iteration replaces the entries of the one before (same bucket, same template).
  cache::HashingEmbedder embedder;
  cache::MemoryCacheStore lookup_store(env->clock(), cache::StoreOptions{});
  cache::MemoryCacheStore remember_store(env->clock(), cache::StoreOptions{});
  nl2sql::AnswerCache lookup_cache(lookup_store, embedder, env->clock(), 0.85);
  nl2sql::AnswerCache remember_cache(remember_store, embedder, env->clock(), 0.85);
  nl2sql::CacheContext context;
  context.tenant = "default";
  context.database = "default";
  context.schema_version = env->index()->catalog().version;
  if (prepared->previous()) {
    context.previous_sql = sql::Render(*prepared->previous(), {db::Dialect::kSqlite, true}).text;
  }
  size_t body_bytes = 0;
  for (auto _ : state) {
    security::Screening screening = security::ScreenQuestion(q.question);
    benchmark::DoNotOptimize(screening.flagged);
    std::optional<nl2sql::QuestionShape> shape;
    if (cache_on) {
      shape = nl2sql::ShapeQuestion(q.question, engine.index());
      auto found = lookup_cache.Find(context, *shape);
      if (!found || *found) {
        state.SkipWithError("the cache lookup was expected to miss");
        break;
      }
    }
    auto understood = engine.Understand(q.question, prepared->previous());
    if (!understood || !sql::Validate(understood->query)) {
      state.SkipWithError("the question was not understood in the loop");
      break;
    }
    sql::RenderedSql bound = sql::Render(understood->query, {db::Dialect::kSqlite, false});
    benchmark::DoNotOptimize(bound.text.data());
    nl2sql::Answer answer;
    answer.session_id = "5b0c3a34-1f3e-4d0e-9b7a-2f1d6c8e9a10";
    answer.turn = 1;
    answer.sql = sql::Render(understood->query, {db::Dialect::kSqlite, true}).text;
    answer.explanation = sql::Explain(understood->query);
    answer.columns = result->columns;
    answer.rows = result->rows;
    answer.row_count = answer.rows.size();
    answer.source = "engine";
    answer.confidence = understood->confidence;
    answer.chart = nl2sql::ChooseChart(&understood->query, answer.columns, answer.rows);
    suggest.rows = &answer.rows;
    answer.suggestions = nl2sql::SuggestFollowUps(engine, understood->query, suggest);
    answer.sql = security::StripSqlComments(answer.sql);
    if (cache_on) {
      (void)remember_cache.RememberQuery(context, *shape, std::string(q.question), *understood);
    }
    std::string body = server::AnswerToJson(answer);
    body_bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetLabel(
      fmt::format("{} ({} rows, {} bytes of JSON)", q.question, result->rows.size(), body_bytes));
}

// Pipeline::Ask in engine mode on the demo database: the whole question path below the HTTP
// handler, every question a new conversation (a follow-up: the first question is asked, outside
// the timing, in a new conversation each time). `cached`: the semantic cache is on (memory
// store, built-in embedder), so after the first ask every question is a hit whose re-bound
// query runs afresh.
void PipelineAsk(benchmark::State& state, const BenchQuestion& q, bool cached) {
  BenchEnv* env = BenchEnv::Get(state);
  if (env == nullptr) return;
  conversation::MemorySessionStore sessions(env->clock(), conversation::MemoryStoreOptions{});
  cache::MemoryCacheStore store(env->clock(), cache::StoreOptions{});
  cache::HashingEmbedder embedder;
  nl2sql::AnswerCache answer_cache(store, embedder, env->clock(), 0.85);
  nl2sql::PipelineOptions options;
  options.mode = nl2sql::Mode::kEngine;
  if (cached) options.cache = &answer_cache;
  nl2sql::Pipeline pipeline(env->source(), env->engine(), sessions, env->clock(), options);

  auto ask = [&](std::string_view question, std::string session) {
    nl2sql::AskRequest request;
    request.user = "bench";
    request.question = std::string(question);
    request.session_id = std::move(session);
    return pipeline.Ask(request);
  };
  // The first ask fills the cache (when on) and shows that the question is answered.
  std::string session;
  if (!q.previous.empty()) {
    auto first = ask(q.previous, "");
    if (!first) {
      state.SkipWithError(first.error().message.c_str());
      return;
    }
    session = first->session_id;
  }
  auto warm = ask(q.question, session);
  if (!warm) {
    state.SkipWithError(warm.error().message.c_str());
    return;
  }
  std::string source;
  for (auto _ : state) {
    session.clear();
    if (!q.previous.empty()) {
      state.PauseTiming();
      auto first = ask(q.previous, "");
      if (first) session = first->session_id;
      state.ResumeTiming();
    }
    auto answer = ask(q.question, session);
    if (!answer) {
      state.SkipWithError(answer.error().message.c_str());
      break;
    }
    source = answer->source;
    benchmark::DoNotOptimize(answer->rows.data());
  }
  state.SetLabel(fmt::format("answered by {}", source));
}

}  // namespace

void RegisterPipelineBenchmarks() {
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Answer/WithoutDb/{}/cache_miss", q.name).c_str(),
                                 [&q](benchmark::State& s) { AnswerWithoutDb(s, q, true); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(fmt::format("Answer/WithoutDb/{}/cache_off", q.name).c_str(),
                                 [&q](benchmark::State& s) { AnswerWithoutDb(s, q, false); })
        ->Unit(benchmark::kMicrosecond);
  }
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Db/Execute/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { DbExecute(s, q); })
        ->Unit(benchmark::kMicrosecond);
  }
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Pipeline/Ask/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { PipelineAsk(s, q, false); })
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(fmt::format("Pipeline/AskCached/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { PipelineAsk(s, q, true); })
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace helios::bench
