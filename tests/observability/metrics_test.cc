#include "observability/metrics.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace helios::observability {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(FormatMetricValueTest, WritesNumbersPrometheusParses) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(1), "1");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(0.0025), "0.0025");
  EXPECT_EQ(FormatMetricValue(123456789), "123456789");
  EXPECT_EQ(FormatMetricValue(1e20), "1e+20");
  EXPECT_EQ(FormatMetricValue(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatMetricValue(kInf), "+Inf");
  EXPECT_EQ(FormatMetricValue(-kInf), "-Inf");
  EXPECT_EQ(FormatMetricValue(kNaN), "NaN");
  // Round trip: the shortest form still reads back as the same double.
  for (double v : {0.1 + 0.2, 1.0 / 3.0, 2.5e-300, 1.7976931348623157e308}) {
    EXPECT_EQ(std::stod(FormatMetricValue(v)), v) << FormatMetricValue(v);
  }
}

TEST(MetricsRegistryTest, RendersASmallRegistryExactly) {
  MetricsRegistry registry;
  CounterFamily& requests =
      registry.Counter("requests_total", "Requests served.", {"route", "status"});
  GaugeFamily& temperature = registry.Gauge("temperature_celsius", "Current temperature.");
  HistogramFamily& latency =
      registry.Histogram("latency_seconds", "Request latency.", {"tenant"}, {0.1, 0.5, 1});
  registry.GaugeCallback("breaker_state", "Breaker state.", [] { return 2.0; });

  requests.Inc({"/b", "200"});
  requests.Inc({"/a", "500"}, 2.5);
  requests.Inc({"/a", "200"});
  requests.Inc({"/a", "200"});
  temperature.Set({}, -4.25);
  latency.Observe({"acme"}, 0.05);
  latency.Observe({"acme"}, 0.5);  // a value equal to a bound falls in that bound's bucket
  latency.Observe({"acme"}, 3);

  EXPECT_EQ(registry.Render(),
            "# HELP breaker_state Breaker state.\n"
            "# TYPE breaker_state gauge\n"
            "breaker_state 2\n"
            "# HELP latency_seconds Request latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{tenant=\"acme\",le=\"0.1\"} 1\n"
            "latency_seconds_bucket{tenant=\"acme\",le=\"0.5\"} 2\n"
            "latency_seconds_bucket{tenant=\"acme\",le=\"1\"} 2\n"
            "latency_seconds_bucket{tenant=\"acme\",le=\"+Inf\"} 3\n"
            "latency_seconds_sum{tenant=\"acme\"} 3.55\n"
            "latency_seconds_count{tenant=\"acme\"} 3\n"
            "# HELP requests_total Requests served.\n"
            "# TYPE requests_total counter\n"
            "requests_total{route=\"/a\",status=\"200\"} 2\n"
            "requests_total{route=\"/a\",status=\"500\"} 2.5\n"
            "requests_total{route=\"/b\",status=\"200\"} 1\n"
            "# HELP temperature_celsius Current temperature.\n"
            "# TYPE temperature_celsius gauge\n"
            "temperature_celsius -4.25\n");
}

TEST(MetricsRegistryTest, FamiliesWithoutLabelsAreExportedBeforeTheirFirstUpdate) {
  MetricsRegistry registry;
  registry.Counter("jobs_total", "Jobs.");
  registry.Histogram("wait_seconds", "Wait.", {}, {1});
  registry.Counter("errors_total", "Errors.", {"code"});  // no child until first use
  EXPECT_EQ(registry.Render(),
            "# HELP errors_total Errors.\n"
            "# TYPE errors_total counter\n"
            "# HELP jobs_total Jobs.\n"
            "# TYPE jobs_total counter\n"
            "jobs_total 0\n"
            "# HELP wait_seconds Wait.\n"
            "# TYPE wait_seconds histogram\n"
            "wait_seconds_bucket{le=\"1\"} 0\n"
            "wait_seconds_bucket{le=\"+Inf\"} 0\n"
            "wait_seconds_sum 0\n"
            "wait_seconds_count 0\n");
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  CounterFamily& c =
      registry.Counter("odd_total", "A \\ backslash,\na newline and \"quotes\".", {"value"});
  c.Inc({"back\\slash \"quoted\"\nnext line"});
  EXPECT_EQ(registry.Render(),
            "# HELP odd_total A \\\\ backslash,\\na newline and \"quotes\".\n"
            "# TYPE odd_total counter\n"
            "odd_total{value=\"back\\\\slash \\\"quoted\\\"\\nnext line\"} 1\n");
}

TEST(MetricsRegistryTest, InvalidUtf8InLabelValuesBecomesReplacementCharacters) {
  MetricsRegistry registry;
  CounterFamily& c = registry.Counter("bytes_total", "Bytes.", {"tenant"});
  const std::string bad = "caf\xC3";  // truncated two-byte sequence
  c.Inc({bad});
  c.Inc({bad});
  c.Inc({"ok \xE2\x9C\x93"});  // valid UTF-8 is kept as is
  EXPECT_EQ(c.Value({bad}), 2);
  EXPECT_EQ(c.Value({"caf\xEF\xBF\xBD"}), 2);
  EXPECT_THAT(registry.Render(), HasSubstr("bytes_total{tenant=\"caf\xEF\xBF\xBD\"} 2\n"));
  EXPECT_THAT(registry.Render(), HasSubstr("bytes_total{tenant=\"ok \xE2\x9C\x93\"} 1\n"));
  EXPECT_THAT(registry.Render(), Not(HasSubstr("caf\xC3\"")));
}

TEST(HistogramTest, BucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  HistogramFamily& h = registry.Histogram("size_bytes", "Sizes.", {}, {1, 10, 100, kInf});
  for (double v : {0.5, 1.0, 2.0, 10.0, 11.0, 1000.0, -5.0}) h.Observe({}, v);
  EXPECT_EQ(h.Count(), 7u);
  EXPECT_EQ(registry.Render(),
            "# HELP size_bytes Sizes.\n"
            "# TYPE size_bytes histogram\n"
            "size_bytes_bucket{le=\"1\"} 3\n"
            "size_bytes_bucket{le=\"10\"} 5\n"
            "size_bytes_bucket{le=\"100\"} 6\n"
            "size_bytes_bucket{le=\"+Inf\"} 7\n"
            "size_bytes_sum 1019.5\n"
            "size_bytes_count 7\n");
}

TEST(HistogramTest, NanIsCountedInTheInfBucketAndMakesTheSumNan) {
  MetricsRegistry registry;
  HistogramFamily& h = registry.Histogram("x_seconds", "X.", {}, {1});
  h.Observe({}, kNaN);
  h.Observe({}, kInf);
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("x_seconds_bucket{le=\"1\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_bucket{le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_sum NaN\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_count 2\n"));
}

TEST(HistogramTest, CountIsPerChild) {
  MetricsRegistry registry;
  HistogramFamily& h = registry.Histogram("d_seconds", "D.", {"db"}, LatencyBuckets());
  h.Observe({"a"}, 0.01);
  h.Observe({"a"}, 0.02);
  h.Observe({"b"}, 20);
  EXPECT_EQ(h.Count({"a"}), 2u);
  EXPECT_EQ(h.Count({"b"}), 1u);
  EXPECT_EQ(h.Count({"c"}), 0u);
}

TEST(GaugeTest, SetAndAdd) {
  MetricsRegistry registry;
  GaugeFamily& g = registry.Gauge("in_flight", "In flight.", {"pool"});
  g.Set({"a"}, 5);
  g.Add({"a"}, -2);
  g.Add({"b"}, 0.5);
  EXPECT_EQ(g.Value({"a"}), 3);
  EXPECT_EQ(g.Value({"b"}), 0.5);
  g.Set({"a"}, kNaN);
  EXPECT_THAT(registry.Render(), HasSubstr("in_flight{pool=\"a\"} NaN\n"));
}

TEST(MetricsRegistryTest, ValueOfAMissingChildIsZeroAndCreatesNothing) {
  MetricsRegistry registry;
  CounterFamily& c = registry.Counter("hits_total", "Hits.", {"tenant"});
  GaugeFamily& g = registry.Gauge("level", "Level.", {"tank"});
  std::string before = registry.Render();
  EXPECT_EQ(c.Value({"nobody"}), 0);
  EXPECT_EQ(g.Value({"nothing"}), 0);
  EXPECT_EQ(registry.Render(), before);
}

TEST(MetricsRegistryTest, RegisteringTheSameFamilyAgainReturnsIt) {
  MetricsRegistry registry;
  CounterFamily& a = registry.Counter("a_total", "First help.", {"x"});
  CounterFamily& b = registry.Counter("a_total", "Other help.", {"x"});
  EXPECT_EQ(&a, &b);
  a.Inc({"1"});
  EXPECT_EQ(b.Value({"1"}), 1);
  EXPECT_THAT(registry.Render(), HasSubstr("# HELP a_total First help.\n"));
  HistogramFamily& h1 = registry.Histogram("h", "H.", {}, {1, 2});
  HistogramFamily& h2 = registry.Histogram("h", "H.", {}, {1, 2, kInf});
  EXPECT_EQ(&h1, &h2);
  GaugeFamily& g1 = registry.Gauge("g", "G.");
  EXPECT_EQ(&g1, &registry.Gauge("g", "G."));
}

TEST(MetricsRegistryTest, GaugeCallbacksAreReadWhenRendered) {
  MetricsRegistry registry;
  double sessions = 3;
  registry.GaugeCallback("sessions", "Sessions.", [&] { return sessions; });
  EXPECT_THAT(registry.Render(), HasSubstr("\nsessions 3\n"));
  sessions = 7;
  EXPECT_THAT(registry.Render(), HasSubstr("\nsessions 7\n"));
  // Registering the name again replaces the reader.
  registry.GaugeCallback("sessions", "Sessions.", [] { return 11.0; });
  EXPECT_THAT(registry.Render(), HasSubstr("\nsessions 11\n"));
  // A reader that throws does not fail the scrape.
  registry.GaugeCallback("broken", "Broken.", []() -> double { throw std::runtime_error("x"); });
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("\nbroken NaN\n"));
  EXPECT_THAT(text, HasSubstr("\nsessions 11\n"));
}

TEST(MetricsRegistryTest, LatencyBucketsSpanOneMillisecondToTenSeconds) {
  std::vector<double> b = LatencyBuckets();
  ASSERT_GE(b.size(), 12u);
  ASSERT_LE(b.size(), 18u);
  EXPECT_EQ(b.front(), 0.001);
  EXPECT_EQ(b.back(), 10);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  // The alert's 500 ms threshold is a bucket bound, so the P99 test is exact there.
  EXPECT_NE(std::find(b.begin(), b.end(), 0.5), b.end());
}

TEST(ServiceMetricsTest, RegistersTheRunbookNames) {
  MetricsRegistry registry;
  ServiceMetrics m(registry);
  m.queries_total.Inc({"acme"});
  m.queries_failed_total.Inc({"acme"});
  m.query_errors_total.Inc({"acme", "not_understood"});
  m.query_duration_seconds.Observe({"acme"}, 0.2);
  m.circuit_breaker_state.Set({"nl2sql"}, 0);
  m.active_sessions.Set({}, 4);
  m.http_requests_total.Inc({"/api/v1/query", "200"});
  std::string text = registry.Render();
  for (const char* type_line : {
           "# TYPE query_duration_seconds histogram\n",
           "# TYPE queries_total counter\n",
           "# TYPE queries_failed_total counter\n",
           "# TYPE query_errors_total counter\n",
           "# TYPE cache_hits_total counter\n",
           "# TYPE cache_requests_total counter\n",
           "# TYPE circuit_breaker_state gauge\n",
           "# TYPE rate_limit_rejections_total counter\n",
           "# TYPE active_sessions gauge\n",
           "# TYPE llm_request_duration_seconds histogram\n",
           "# TYPE db_query_duration_seconds histogram\n",
           "# TYPE http_requests_total counter\n",
           "# TYPE login_failures_total counter\n",
           "# TYPE slow_queries_total counter\n",
       }) {
    EXPECT_THAT(text, HasSubstr(type_line));
  }
  EXPECT_THAT(text, HasSubstr("queries_failed_total{tenant=\"acme\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("query_errors_total{tenant=\"acme\",code=\"not_understood\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("query_duration_seconds_bucket{tenant=\"acme\",le=\"0.2\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("circuit_breaker_state{service=\"nl2sql\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("\nactive_sessions 4\n"));

  // A second instance (another component built over the same registry) shares the families.
  ServiceMetrics again(registry);
  EXPECT_EQ(&again.queries_total, &m.queries_total);
  EXPECT_EQ(&again.query_duration_seconds, &m.query_duration_seconds);
  EXPECT_EQ(again.queries_total.Value({"acme"}), 1);
}

TEST(MetricsConcurrencyTest, UpdatesFromManyThreadsAreAllCounted) {
  MetricsRegistry registry;
  CounterFamily& c = registry.Counter("ops_total", "Ops.", {"worker", "kind"});
  GaugeFamily& g = registry.Gauge("balance", "Balance.", {"kind"});
  HistogramFamily& h = registry.Histogram("op_seconds", "Op time.", {"kind"}, {0.5, 1.5});
  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;

  std::atomic<bool> done{false};
  std::atomic<int> renders{0};
  // Scrapes run while the children are being created and updated.
  std::thread scraper([&] {
    while (!done.load()) {
      std::string text = registry.Render();
      EXPECT_THAT(text, HasSubstr("# TYPE ops_total counter\n"));
      renders++;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string worker = "w" + std::to_string(t % 4);  // pairs of threads share a child
      for (int i = 0; i < kIterations; ++i) {
        c.Inc({worker, "shared"});
        c.Inc({"all", "shared"}, 0.5);
        g.Add({"x"}, (i % 2 == 0) ? 1 : -1);
        h.Observe({"x"}, i % 2);  // 0 -> first bucket, 1 -> second
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  done = true;
  scraper.join();
  EXPECT_GT(renders.load(), 0);

  for (int w = 0; w < 4; ++w) {
    EXPECT_EQ(c.Value({"w" + std::to_string(w), "shared"}), 2.0 * kIterations);
  }
  EXPECT_EQ(c.Value({"all", "shared"}), 0.5 * kThreads * kIterations);
  EXPECT_EQ(g.Value({"x"}), 0);
  EXPECT_EQ(h.Count({"x"}), static_cast<uint64_t>(kThreads) * kIterations);
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr(fmt::format("op_seconds_bucket{{kind=\"x\",le=\"0.5\"}} {}\n",
                                          kThreads * kIterations / 2)));
  EXPECT_THAT(text, HasSubstr(fmt::format("op_seconds_bucket{{kind=\"x\",le=\"1.5\"}} {}\n",
                                          kThreads * kIterations)));
  EXPECT_THAT(text, HasSubstr(fmt::format("op_seconds_sum{{kind=\"x\"}} {}\n",
                                          kThreads * kIterations / 2)));
}

TEST(MetricsConcurrencyTest, RegisteringFromManyThreadsYieldsOneFamily) {
  MetricsRegistry registry;
  std::vector<CounterFamily*> seen(8, nullptr);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&, t] {
      seen[t] = &registry.Counter("racy_total", "Racy.", {"k"});
      seen[t]->Inc({"v"});
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (CounterFamily* f : seen) EXPECT_EQ(f, seen[0]);
  EXPECT_EQ(seen[0]->Value({"v"}), 8);
}

// Programmer errors abort, in every build type, naming the problem.
class MetricsDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MetricsDeathTest, WrongNumberOfLabelValues) {
  MetricsRegistry registry;
  CounterFamily& c = registry.Counter("c_total", "C.", {"a", "b"});
  EXPECT_DEATH(c.Inc({"only one"}), "c_total has 2 label\\(s\\) but was given 1");
  GaugeFamily& g = registry.Gauge("g", "G.");
  EXPECT_DEATH(g.Set({"extra"}, 1), "g has 0 label");
}

TEST_F(MetricsDeathTest, InvalidNames) {
  MetricsRegistry registry;
  EXPECT_DEATH(registry.Gauge("1st", "Bad."), "invalid metric name \"1st\"");
  EXPECT_DEATH(registry.Gauge("a-b", "Bad."), "invalid metric name");
  EXPECT_DEATH(registry.Gauge("ok", "Bad.", {"__reserved"}), "invalid label name");
  EXPECT_DEATH(registry.Gauge("ok", "Bad.", {"a", "a"}), "label \"a\" given twice");
  EXPECT_DEATH(registry.Counter("requests", "Bad."), "must end in _total");
  EXPECT_DEATH(registry.Histogram("h", "Bad.", {"le"}, {1}), "cannot have a label named le");
}

TEST_F(MetricsDeathTest, ConflictingRegistrations) {
  MetricsRegistry registry;
  registry.Counter("x_total", "X.", {"a"});
  EXPECT_DEATH(registry.Counter("x_total", "X.", {"b"}), "already registered as a counter");
  EXPECT_DEATH(registry.Gauge("x_total", "X.", {"a"}), "already registered");
  registry.Histogram("lat", "L.", {}, {1, 2});
  EXPECT_DEATH(registry.Histogram("lat", "L.", {}, {1, 3}), "buckets \\[1, 2\\]");
  EXPECT_DEATH(registry.Gauge("lat_count", "Clash."), "would collide");
  registry.Gauge("depth_sum", "D.");
  EXPECT_DEATH(registry.Histogram("depth", "D.", {}, {1}), "would collide");
}

TEST_F(MetricsDeathTest, BadValues) {
  MetricsRegistry registry;
  CounterFamily& c = registry.Counter("c_total", "C.");
  EXPECT_DEATH(c.Inc({}, -1), "c_total incremented by -1");
  EXPECT_DEATH(c.Inc({}, kNaN), "incremented by NaN");
  EXPECT_DEATH(registry.Histogram("h1", "H.", {}, {2, 1}), "strictly increase");
  EXPECT_DEATH(registry.Histogram("h2", "H.", {}, {1, kNaN}), "finite");
  EXPECT_DEATH(registry.GaugeCallback("cb", "CB.", nullptr), "callback is empty");
}

}  // namespace
}  // namespace helios::observability
