#include "turn_shapes.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <utility>

#include "common/clock.h"
#include "db/demo_data.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/pipeline.h"

namespace helios::bench {

namespace {

constexpr std::string_view kQuestions[] = {
    "Top 5 customers by revenue", "only in Germany",
    "and their emails?",          "top 3 instead",
    "what about France?",         "revenue per month in 2024",
    "by quarter instead",         "only for corporate customers",
    "and the average?",           "How many customers are in Germany?",
};

// The server builds its index with this many distinct values per text column (app/).
constexpr size_t kMaxDistinctValues = 1000;

// 2025-12-15 12:00 UTC, inside the demo's orders, as the micro-benchmarks use: relative dates
// read the same on every run.
std::chrono::system_clock::time_point HarvestNow() {
  return std::chrono::sys_days{std::chrono::year{2025} / 12 / 15} + std::chrono::hours(12);
}

void Stamp(std::string& text, uint64_t tag) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  constexpr size_t kWidth = 6;
  const size_t n = std::min(kWidth, text.size());
  for (size_t i = 0; i < n; ++i) {
    text[text.size() - 1 - i] = kDigits[tag % 36];
    tag /= 36;
  }
}

void StampValues(std::vector<db::Value>& values, uint64_t tag) {
  for (db::Value& v : values) {
    if (auto* s = std::get_if<std::string>(&v)) Stamp(*s, tag);
  }
}

void StampQuery(sql::Query& q, uint64_t tag);

void StampPredicates(std::vector<sql::Predicate>& predicates, uint64_t tag) {
  for (sql::Predicate& p : predicates) {
    StampValues(p.values, tag);
    Stamp(p.phrase, tag);
    for (sql::Query& sub : p.subquery) StampQuery(sub, tag);
    StampPredicates(p.any, tag);
  }
}

void StampQuery(sql::Query& q, uint64_t tag) {
  StampPredicates(q.where, tag);
  StampPredicates(q.having, tag);
  for (sql::Query& rhs : q.set_rhs) StampQuery(rhs, tag);
}

size_t Heap(const std::string& s) {
  // libstdc++ keeps up to 15 characters inside the string itself.
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}
size_t Heap(const sql::ColumnRef& c) { return Heap(c.table) + Heap(c.column); }
size_t Heap(const sql::Expr& e) { return e.column ? Heap(*e.column) : 0; }
size_t Heap(const db::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return Heap(*s);
  if (const auto* b = std::get_if<db::Blob>(&v)) return b->bytes.capacity();
  if (const auto* d = std::get_if<db::Decimal>(&v)) return Heap(d->digits);
  return 0;
}
size_t Heap(const sql::Query& q);
size_t Heap(const sql::Predicate& p);
size_t Heap(const sql::Join& j) { return Heap(j.table) + Heap(j.left) + Heap(j.right); }
size_t Heap(const sql::SelectItem& s) { return Heap(s.expr) + Heap(s.alias); }
size_t Heap(const sql::OrderItem& o) { return Heap(o.expr); }
template <typename T>
size_t HeapOfVector(const std::vector<T>& v) {
  size_t n = v.capacity() * sizeof(T);
  for (const T& item : v) n += Heap(item);
  return n;
}
size_t Heap(const sql::Predicate& p) {
  return Heap(p.lhs) + HeapOfVector(p.values) + Heap(p.phrase) + HeapOfVector(p.subquery) +
         HeapOfVector(p.any);
}
size_t Heap(const sql::Query& q) {
  return Heap(q.from) + HeapOfVector(q.joins) + HeapOfVector(q.select) + HeapOfVector(q.where) +
         HeapOfVector(q.group_by) + HeapOfVector(q.having) + HeapOfVector(q.order_by) +
         HeapOfVector(q.set_rhs);
}

}  // namespace

std::span<const std::string_view> ConversationQuestions() { return kQuestions; }

Result<std::vector<HarvestedTurn>> HarvestTurns(const std::string& work_dir,
                                                std::span<const std::string_view> questions) {
  const std::string path = (std::filesystem::path(work_dir) / "demo.db").string();
  if (auto written = db::WriteDemoDatabase(path, 42, /*overwrite=*/true); !written)
    return std::unexpected(written.error());
  auto source = db::OpenDataSource("sqlite://" + path);
  if (!source) return std::unexpected(source.error());
  auto catalog = (*source)->Introspect();
  if (!catalog) return std::unexpected(catalog.error());
  auto built = nl2sql::engine::SchemaIndex::Build(*catalog, **source, kMaxDistinctValues);
  if (!built) return std::unexpected(built.error());
  std::shared_ptr<const nl2sql::engine::SchemaIndex> index(std::move(*built));
  FakeClock clock(HarvestNow());
  auto engine = std::make_shared<const nl2sql::engine::Engine>(index, clock);

  conversation::MemorySessionStore store(clock, {});
  nl2sql::PipelineOptions options;  // the server's defaults, without a model or a cache
  nl2sql::Pipeline pipeline(**source, engine, store, clock, options);

  std::vector<HarvestedTurn> out;
  nl2sql::AskRequest request;
  for (std::string_view question : questions) {
    request.question = std::string(question);
    auto answer = pipeline.Ask(request);
    if (!answer) {
      return Fail(answer.error().code,
                  fmt::format("\"{}\" was not answered: {}", question, answer.error().message));
    }
    request.session_id = answer->session_id;
    // The store keeps the query of its latest turn only: read each turn right after it.
    auto session =
        store.Load(conversation::Owner{request.tenant_id, request.user}, answer->session_id);
    if (!session || !*session || (*session)->turns.empty())
      return Fail(ErrorCode::kInternal,
                  fmt::format("\"{}\" left no turn in its session", question));
    HarvestedTurn h;
    h.turn = (*session)->turns.back();
    h.source = answer->source;
    out.push_back(std::move(h));
  }
  return out;
}

conversation::Turn Varied(const conversation::Turn& turn, uint64_t tag) {
  conversation::Turn copy = turn;
  Stamp(copy.question, tag);
  Stamp(copy.sql, tag);
  StampQuery(copy.query, tag);
  return copy;
}

size_t TurnHeapBytes(const conversation::Turn& turn) {
  return Heap(turn.question) + Heap(turn.query) + Heap(turn.sql) + Heap(turn.database);
}

}  // namespace helios::bench
