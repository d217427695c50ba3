// The response body of POST /api/v1/query: server::AnswerToJson on answers of 10, 100 and 1,000
// rows: eight columns of mixed types (integers, text with non-ASCII letters, ISO dates,
// doubles, exact decimals, booleans and NULLs; shown as a table), and two columns drawn as a
// bar chart, whose Vega-Lite spec the body carries as well. See README.md.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bench_env.h"
#include "nl2sql/chart.h"
#include "nl2sql/service.h"
#include "server/api_json.h"

namespace helios::bench {
namespace {

nl2sql::Answer MixedAnswer(size_t rows) {
  static const char* const kNames[] = {"Müller GmbH",     "Acme Corp",   "Søren & Co", "Zoë Ltd",
                                       "O'Brien Trading", "Ångström AB", "北京贸易"};
  static const char* const kCountries[] = {"Germany", "France", "Denmark", "United Kingdom",
                                           "Ireland", "Sweden", "China"};
  nl2sql::Answer answer;
  answer.session_id = "5b0c3a34-1f3e-4d0e-9b7a-2f1d6c8e9a10";
  answer.turn = 2;
  answer.sql =
      "SELECT orders.order_id, customers.name, customers.country, orders.order_date, "
      "orders.total_amount, orders.discount, orders.shipped, orders.ship_date FROM orders JOIN "
      "customers ON customers.customer_id = orders.customer_id WHERE orders.order_date >= "
      "'2024-01-01' ORDER BY orders.total_amount DESC LIMIT 1000";
  answer.explanation =
      "Lists the orders since 2024-01-01 with their customers, the largest totals first.";
  answer.columns = {"order_id",     "name",     "country", "order_date",
                    "total_amount", "discount", "shipped", "ship_date"};
  for (size_t i = 0; i < rows; ++i) {
    db::Row row;
    row.emplace_back(static_cast<int64_t>(100000 + i));
    row.emplace_back(std::string(kNames[i % 7]));
    row.emplace_back(std::string(kCountries[(i / 3) % 7]));
    row.emplace_back(fmt::format("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28));
    row.emplace_back(12345.67 / static_cast<double>(i + 1) + 0.005 * static_cast<double>(i));
    row.emplace_back(db::Decimal{fmt::format("0.{:02}", i % 30)});
    row.emplace_back(i % 3 != 0);
    if (i % 5 == 0) {
      row.emplace_back(std::monostate{});
    } else {
      row.emplace_back(fmt::format("2024-{:02}-{:02}", 1 + i % 12, 2 + i % 27));
    }
    answer.rows.push_back(std::move(row));
  }
  answer.row_count = rows;
  answer.source = "engine";
  answer.confidence = 0.93;
  answer.latency_ms = 1.234;
  answer.chart = nl2sql::ChooseChart(nullptr, answer.columns, answer.rows);
  answer.suggestions = {"top 5 instead", "only in Germany", "by month instead", "excluding France"};
  return answer;
}

void AnswerToJson(benchmark::State& state) {
  const nl2sql::Answer answer = MixedAnswer(static_cast<size_t>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = server::AnswerToJson(answer);
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetLabel(fmt::format("chart {}, {} bytes",
                             answer.chart.type.empty() ? "none" : answer.chart.type, bytes));
}

// A category and a measure ("revenue by customer"): ChooseChart draws bars, so the body also
// carries a Vega-Lite spec (the top 20 bars, the rest as "Other"), which AnswerToJson parses
// back into the document.
nl2sql::Answer BarChartAnswer(size_t rows) {
  nl2sql::Answer answer;
  answer.session_id = "5b0c3a34-1f3e-4d0e-9b7a-2f1d6c8e9a10";
  answer.turn = 1;
  answer.sql =
      "SELECT customers.name, SUM(orders.total_amount) AS sum_total_amount FROM orders JOIN "
      "customers ON orders.customer_id = customers.customer_id GROUP BY customers.customer_id, "
      "customers.name";
  answer.explanation = "Adds up the total amount of orders for each customer.";
  answer.columns = {"name", "sum_total_amount"};
  for (size_t i = 0; i < rows; ++i) {
    answer.rows.push_back(
        db::Row{fmt::format("Customer {} Müller", i), 98765.4321 / static_cast<double>(i + 1)});
  }
  answer.row_count = rows;
  answer.source = "engine";
  answer.confidence = 0.88;
  answer.chart = nl2sql::ChooseChart(nullptr, answer.columns, answer.rows);
  answer.suggestions = {"top 5 instead", "only in Germany", "by month instead"};
  return answer;
}

void AnswerToJsonBarChart(benchmark::State& state) {
  const nl2sql::Answer answer = BarChartAnswer(static_cast<size_t>(state.range(0)));
  if (answer.chart.spec.empty()) {
    state.SkipWithError("expected a chart with a spec");
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = server::AnswerToJson(answer);
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetLabel(fmt::format("chart {}, spec {} bytes, {} bytes", answer.chart.type,
                             answer.chart.spec.size(), bytes));
}

}  // namespace

void RegisterJsonBenchmarks() {
  benchmark::RegisterBenchmark("Json/AnswerToJson", AnswerToJson)
      ->Arg(10)
      ->Arg(100)
      ->Arg(1000)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Json/AnswerToJsonBarChart", AnswerToJsonBarChart)
      ->Arg(10)
      ->Arg(100)
      ->Arg(1000)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace helios::bench
