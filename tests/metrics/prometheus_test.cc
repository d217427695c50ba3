// The metrics as Prometheus itself sees them:
//   - the exposition of a registry with awkward content passes `promtool check metrics`
//     (Prometheus' own parser and linter);
//   - the real binary (HELIOS_BINARY serve) is scraped by a real Prometheus server while it
//     answers questions, and each expression of the runbook returns a value, and the rules of
//     deploy/alerts.yml evaluate without error against the real series.
// prometheus and promtool come from Debian's prometheus package (scripts/setup.sh --test); when
// they are missing the tests fail, saying so.
//
// The child processes are killed when a test ends, whether it passes or not (and, through
// PR_SET_PDEATHSIG, if the test process itself dies). Waiting on the children polls with short
// sleeps: these are real processes, and no timing is asserted.
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/text.h"
#include "observability/metrics.h"
#include "support/child_process.h"
#include "support/prometheus_server.h"

namespace helios {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using testing::ChildEnvironment;
using testing::ChildProcess;
using testing::FindProgram;
using testing::ReadFile;
using testing::SpawnOptions;
using testing::TailOfFile;
using testing::TempDir;
using testing::WriteFile;

// ---------------------------------------------------------------------------------------------
// promtool check metrics

TEST(ExpositionTest, PromtoolAcceptsTheExposition) {
  std::optional<fs::path> promtool = FindProgram("promtool");
  ASSERT_TRUE(promtool.has_value())
      << "promtool is not on PATH: install Debian's prometheus package (scripts/setup.sh --test)";

  observability::MetricsRegistry registry;
  observability::ServiceMetrics m(registry);
  m.queries_total.Inc({"acme"}, 3);
  m.queries_failed_total.Inc({"acme"});
  m.query_errors_total.Inc({"acme", "not_understood"});
  m.query_errors_total.Inc({"tenant \"quoted\" \\ with\nnewline", "internal"});
  m.query_duration_seconds.Observe({"acme"}, 0.042);
  m.query_duration_seconds.Observe({"caf\xC3\xA9"}, 12);
  m.llm_request_duration_seconds.Observe({"openai"}, 1.5);
  m.db_query_duration_seconds.Observe({"demo"}, std::nan(""));
  m.circuit_breaker_state.Set({"nl2sql"}, 1);
  m.active_sessions.Set({}, std::numeric_limits<double>::infinity());
  m.http_requests_total.Inc({"/api/v1/query", "200"}, 1e20);
  m.login_failures_total.Inc({"credentials"}, 0.1);
  registry.GaugeCallback("uptime_seconds", "Seconds since start.\nSecond line \\ here.",
                         [] { return -1.5e-9; });
  TempDir dir;
  WriteFile(dir.path() / "metrics.txt", registry.Render());

  std::string error;
  auto child = ChildProcess::Start({{promtool->string(), "check", "metrics"},
                                    ChildEnvironment(),
                                    dir.path() / "metrics.txt",
                                    dir.path() / "out.txt",
                                    dir.path() / "err.txt",
                                    {}},
                                   &error);
  ASSERT_NE(child, nullptr) << error;
  const auto deadline = SteadyClock::now() + 60s;
  while (!child->Exited() && SteadyClock::now() < deadline) std::this_thread::sleep_for(20ms);
  int code = child->Stop();
  std::string out = ReadFile(dir.path() / "out.txt") + ReadFile(dir.path() / "err.txt");
  EXPECT_EQ(code, 0) << out << "\n--- exposition:\n" << registry.Render();
  EXPECT_EQ(out, "");
}

// ---------------------------------------------------------------------------------------------
// The real binary scraped by a real Prometheus.

// Prometheus' HTTP API. Each call says in *detail what it got, for failure messages.
class PrometheusApi {
 public:
  explicit PrometheusApi(int port) : client_("127.0.0.1", port) {
    client_.set_connection_timeout(5s);
    client_.set_read_timeout(30s);
  }

  bool Ready() {
    auto res = client_.Get("/-/ready");
    return res && res->status == 200;
  }

  // The result vector of an instant query; nullopt (and *detail says why) on any error.
  std::optional<json> Query(const std::string& expr, std::string* detail) {
    return testing::PrometheusInstantQuery(client_, expr, detail);
  }

  std::optional<json> Rules(std::string* detail) {
    auto res = client_.Get("/api/v1/rules");
    if (!res || res->status != 200) {
      *detail = res ? res->body : httplib::to_string(res.error());
      return std::nullopt;
    }
    json body = json::parse(res->body, nullptr, false);
    if (!body.is_object()) return std::nullopt;
    return body["data"]["groups"];
  }

 private:
  httplib::Client client_;
};

// The one sample's value of an instant-query result (a vector of exactly one sample).
std::optional<double> OnlyValue(const json& result) {
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  const json& value = result[0]["value"];
  if (!value.is_array() || value.size() != 2 || !value[1].is_string()) return std::nullopt;
  // Prometheus writes values as strings: "0.25", "NaN", "+Inf".
  return std::strtod(value[1].get<std::string>().c_str(), nullptr);
}

class PrometheusIntegrationTest : public ::testing::Test {
 protected:
  // Starts the binary and waits for both "listening" lines; fails the test (fatally) if it
  // cannot.
  void StartServer() {
    fs::copy_file(HELIOS_DEMO_DB, dir_.path() / "demo.db");
    // Questions arrive faster than the default quota (100 a minute, burst 20) allows; a
    // refusal is not what this test measures.
    WriteFile(dir_.path() / "config.toml",
              "[server]\n"
              "host = \"127.0.0.1\"\n"
              "port = 0\n"
              "\n"
              "[auth]\n"
              "enabled = false\n"
              "\n"
              "[metrics]\n"
              "host = \"127.0.0.1\"\n"
              "prometheus_port = 0\n"
              "\n"
              "[logging]\n"
              "level = \"info\"\n"
              "format = \"json\"\n"
              "output = \"stdout\"\n"
              "\n"
              "[production.rate_limiting]\n"
              "queries_per_minute = 100000\n"
              "burst_allowance = 10000\n");
    std::string error;
    server_ = ChildProcess::Start(
        {{HELIOS_BINARY, "serve", "--config", (dir_.path() / "config.toml").string(), "--database",
          "sqlite://" + (dir_.path() / "demo.db").string()},
         ChildEnvironment(),
         "/dev/null",
         dir_.path() / "server.out",
         dir_.path() / "server.err",
         {}},
        &error);
    ASSERT_NE(server_, nullptr) << error;

    // Loading the schema takes a while (longer under the sanitizers); once the API listens,
    // the metrics listener is started alongside it. The logger's JSON lines carry their text
    // under "message".
    auto deadline = SteadyClock::now() + 120s;
    bool api_seen = false;
    while (SteadyClock::now() < deadline && (api_port_ == 0 || metrics_port_ == 0)) {
      for (const std::string& line : text::Split(ReadFile(dir_.path() / "server.out"), '\n')) {
        json j = json::parse(line, nullptr, false);
        if (!j.is_object() || !j.contains("port") || !j["port"].is_number_integer()) continue;
        if (j.value("message", "") == "listening") api_port_ = j["port"].get<int>();
        if (j.value("message", "") == "metrics listening") metrics_port_ = j["port"].get<int>();
      }
      if (api_port_ != 0 && !api_seen) {
        api_seen = true;
        deadline = std::min(deadline, SteadyClock::now() + 15s);
      }
      if (server_->Exited()) break;
      if (api_port_ == 0 || metrics_port_ == 0) std::this_thread::sleep_for(100ms);
    }
    ASSERT_GT(api_port_, 0) << "the binary did not log {\"message\":\"listening\",...}\n"
                            << ServerLogs();
    ASSERT_GT(metrics_port_, 0)
        << "the binary did not log {\"message\":\"metrics listening\",...}: is the metrics "
           "listener started by `serve`?\n"
        << ServerLogs();
  }

  // Starts Prometheus scraping the metrics port every second, with deploy/alerts.yml loaded,
  // and waits until it is ready.
  void StartPrometheus() {
    std::string error;
    testing::StartedPrometheus started =
        testing::StartPrometheus(dir_.path(), metrics_port_, "helios", &error);
    ASSERT_NE(started.process, nullptr) << error;
    prometheus_ = std::move(started.process);
    prometheus_port_ = started.port;
  }

  void TearDown() override {
    // Prometheus first, so that nothing holds a connection to the server while it stops.
    if (prometheus_ != nullptr) prometheus_->Stop();
    if (server_ != nullptr) {
      int code = server_->Stop();
      EXPECT_EQ(code, 0) << "the server did not exit cleanly on SIGTERM\n" << ServerLogs();
    }
  }

  std::string ServerLogs() const {
    return "--- server stdout (tail):\n" + TailOfFile(dir_.path() / "server.out") +
           "--- server stderr (tail):\n" + TailOfFile(dir_.path() / "server.err");
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> server_;
  std::unique_ptr<ChildProcess> prometheus_;
  int api_port_ = 0;
  int metrics_port_ = 0;
  int prometheus_port_ = 0;
};

// One thing to see in Prometheus: `ok` queries it and explains in *detail what it saw.
struct Check {
  using Fn = std::function<bool(PrometheusApi&, std::string* detail)>;
  Check(std::string what_, Fn ok_) : what(std::move(what_)), ok(std::move(ok_)) {}
  std::string what;
  Fn ok;
  bool passed = false;
  std::string detail;  // what the last attempt saw
};

// A check that expr returns exactly one sample whose value satisfies `good`.
Check ValueCheck(std::string what, std::string expr, std::function<bool(double)> good) {
  return Check{std::move(what), [expr = std::move(expr), good = std::move(good)](
                                    PrometheusApi& api, std::string* detail) {
                 auto result = api.Query(expr, detail);
                 if (!result) return false;
                 std::optional<double> value = OnlyValue(*result);
                 *detail = expr + " -> " + *detail;
                 return value.has_value() && good(*value);
               }};
}

bool Finite(double v) { return std::isfinite(v); }

TEST_F(PrometheusIntegrationTest, RunbookExpressionsReturnValuesFromTheRealServer) {
  ASSERT_NO_FATAL_FAILURE(StartServer());

  // The listener answers on its own before Prometheus is involved.
  {
    httplib::Client metrics("127.0.0.1", metrics_port_);
    metrics.set_read_timeout(30s);
    auto res = metrics.Get("/metrics");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_THAT(res->body, HasSubstr("# TYPE queries_total counter\n"));
    EXPECT_THAT(res->body, HasSubstr("# TYPE query_duration_seconds histogram\n"));
  }

  ASSERT_NO_FATAL_FAILURE(StartPrometheus());
  PrometheusApi api(prometheus_port_);

  // The runbook's expressions, exactly as it writes them (rate() needs two samples in its
  // window; the scrapes come every second). With authentication off every question is tenant
  // "default", so each expression has one series.
  std::vector<Check> checks;
  checks.push_back(
      ValueCheck("the target is up", "up{job=\"helios\"}", [](double v) { return v == 1; }));
  checks.push_back(ValueCheck("p99 latency",
                              "histogram_quantile(0.99, rate(query_duration_seconds_bucket[5m]))",
                              [](double v) { return Finite(v) && v >= 0; }));
  checks.push_back(ValueCheck("queries per second", "rate(queries_total[1m])",
                              [](double v) { return Finite(v) && v > 0; }));
  checks.push_back(ValueCheck("error rate",
                              "rate(queries_failed_total[5m]) / rate(queries_total[5m])",
                              [](double v) { return Finite(v) && v > 0 && v <= 1; }));
  // The cache hit ratio is hits / lookups. There is no cache yet, so there are no lookups and
  // the ratio is 0/0 = NaN, which is Prometheus' honest answer; the check is: both series
  // exist, the ratio returns a sample, and that sample is a ratio in [0, 1] whenever there
  // were lookups.
  checks.push_back(Check{
      "cache hit ratio", [](PrometheusApi& api, std::string* detail) {
        std::string hits_detail, requests_detail, rate_detail, ratio_detail;
        auto hits = api.Query("cache_hits_total", &hits_detail);
        auto requests = api.Query("cache_requests_total", &requests_detail);
        auto rate = api.Query("rate(cache_requests_total[5m])", &rate_detail);
        auto ratio =
            api.Query("rate(cache_hits_total[5m]) / rate(cache_requests_total[5m])", &ratio_detail);
        *detail = fmt::format(
            "cache_hits_total -> {}; cache_requests_total -> {}; lookup rate "
            "-> {}; ratio -> {}",
            hits_detail, requests_detail, rate_detail, ratio_detail);
        if (!hits || hits->empty() || !requests || requests->empty() || !rate || !ratio) {
          return false;
        }
        std::optional<double> lookups = OnlyValue(*rate);
        std::optional<double> value = OnlyValue(*ratio);
        if (!lookups || !value) return false;
        if (*lookups > 0) return Finite(*value) && *value >= 0 && *value <= 1;
        return std::isnan(*value);
      }});
  checks.push_back(ValueCheck("circuit breaker state", "circuit_breaker_state{service=\"nl2sql\"}",
                              [](double v) { return v == 0 || v == 1 || v == 2; }));
  // Every rule of deploy/alerts.yml, the runbook's three among them, has been evaluated
  // against the live series without an error.
  checks.push_back(Check{
      "deploy/alerts.yml evaluates without errors", [](PrometheusApi& api, std::string* detail) {
        auto groups = api.Rules(detail);
        if (!groups) return false;
        *detail = groups->dump();
        std::set<std::string> alerts;
        for (const json& group : *groups) {
          if (group.value("name", "") != "conversational_bi") continue;
          for (const json& rule : group["rules"]) {
            if (rule.value("health", "") != "ok") return false;
            if (rule.value("lastEvaluation", "").starts_with("0001-")) return false;
            alerts.insert(rule.value("name", ""));
          }
        }
        return alerts.contains("HighLatency") && alerts.contains("HighErrorRate") &&
               alerts.contains("CircuitBreakerOpen");
      }});

  httplib::Client client("127.0.0.1", api_port_);
  client.set_connection_timeout(5s);
  client.set_read_timeout(60s);
  int answered = 0, refused = 0;
  std::vector<std::string> unexpected;
  auto ask = [&](const std::string& question, int expected_status) {
    auto res = client.Post("/api/v1/query", json{{"query", question}}.dump(), "application/json");
    if (res && res->status == expected_status) {
      (expected_status == 200 ? answered : refused)++;
    } else if (unexpected.size() < 5) {
      unexpected.push_back(fmt::format(
          "{} -> {}", json(question).dump(),
          res ? fmt::format("{} {}", res->status, res->body) : httplib::to_string(res.error())));
    }
  };

  const auto deadline = SteadyClock::now() + 90s;
  bool all_passed = false;
  while (!all_passed && SteadyClock::now() < deadline && !server_->Exited()) {
    ask("How many customers are there?", 200);
    ask("How many customers are there?", 200);
    ask("purple monkey dishwasher", 422);
    all_passed = true;
    for (Check& check : checks) {
      if (!check.passed) check.passed = check.ok(api, &check.detail);
      all_passed = all_passed && check.passed;
    }
    if (!all_passed) std::this_thread::sleep_for(300ms);
  }

  EXPECT_TRUE(unexpected.empty()) << "unexpected answers:\n"
                                  << fmt::format("{}", fmt::join(unexpected, "\n"));
  EXPECT_GT(answered, 0);
  EXPECT_GT(refused, 0);
  ASSERT_FALSE(server_->Exited()) << "the server died\n" << ServerLogs();
  for (const Check& check : checks) {
    EXPECT_TRUE(check.passed) << check.what << " never returned the expected value in 90 s; "
                              << "last answer: " << check.detail;
  }
}

}  // namespace
}  // namespace helios
