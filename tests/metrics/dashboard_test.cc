// The monitoring kit against the real binary: every metric that deploy/grafana-dashboard.json
// and deploy/alerts.yml name is one the server exposes on its metrics port, and every
// dashboard expression is PromQL that a real Prometheus (scraping the real server, with
// deploy/alerts.yml loaded) accepts and, once the series it reads exist, answers with data.
// Also: the dashboard is a Grafana dashboard with a Prometheus data source variable, and it
// covers the runbook's key indicators.
//
// Metric names are taken out of the expressions by a small PromQL scanner (tested here on
// its own); the alert expressions are read back from Prometheus' rules API, as Prometheus
// parsed them. prometheus comes from Debian's prometheus package (scripts/setup.sh --test);
// without it the integration test fails, saying so.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/text.h"
#include "support/child_process.h"
#include "support/prometheus_server.h"
#include "support/served_binary.h"

namespace helios {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

fs::path Deploy(std::string_view name) { return fs::path(HELIOS_SOURCE_DIR) / "deploy" / name; }

// ---------------------------------------------------------------------------------------------
// Metric names in a PromQL expression.

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

// The metric names an expression selects: every identifier that is not a function, an
// aggregation, a keyword, a label name (inside {...} or a by/without/on/ignoring/group_*
// list), a string, a number or a duration.
std::set<std::string> MetricNames(std::string_view e) {
  static const std::set<std::string> kAggregations = {
      "sum",   "min",          "max",     "avg",  "group",    "stddev", "stdvar",
      "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"};
  static const std::set<std::string> kGrouping = {"by",       "without",    "on",
                                                  "ignoring", "group_left", "group_right"};
  static const std::set<std::string> kKeywords = {"bool",   "and",   "or",  "unless",
                                                  "offset", "atan2", "inf", "nan"};
  std::set<std::string> names;
  size_t i = 0;
  const size_t n = e.size();
  auto skip_string = [&](char quote) {
    ++i;
    while (i < n && e[i] != quote) {
      if (e[i] == '\\' && quote != '`') ++i;
      ++i;
    }
    ++i;
  };
  auto skip_until = [&](char close) {
    while (i < n && e[i] != close) {
      if (e[i] == '"' || e[i] == '\'' || e[i] == '`') {
        skip_string(e[i]);
      } else {
        ++i;
      }
    }
    ++i;
  };
  auto next_char = [&]() {
    size_t j = i;
    while (j < n && std::isspace(static_cast<unsigned char>(e[j]))) ++j;
    return j < n ? e[j] : '\0';
  };
  while (i < n) {
    const char c = e[i];
    if (c == '"' || c == '\'' || c == '`') {
      skip_string(c);
    } else if (c == '{') {
      skip_until('}');
    } else if (c == '[') {
      skip_until(']');
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(e[i + 1])))) {
      while (i < n && (IsIdentChar(e[i]) || e[i] == '.')) ++i;
    } else if (IsIdentStart(c) || c == ':') {
      size_t start = i;
      while (i < n && IsIdentChar(e[i])) ++i;
      std::string word(e.substr(start, i - start));
      std::string lower = text::ToLower(word);
      if (kGrouping.contains(lower)) {
        if (next_char() == '(') skip_until(')');
      } else if (next_char() == '(' || kAggregations.contains(lower) || kKeywords.contains(lower)) {
        // a function call, an aggregation (its by/without clause may come first), a keyword
      } else {
        names.insert(word);
      }
    } else {
      ++i;
    }
  }
  return names;
}

TEST(PromqlMetricNamesTest, FindsTheSelectedMetricsOnly) {
  EXPECT_THAT(MetricNames("histogram_quantile(0.99, sum by (le) "
                          "(rate(query_duration_seconds_bucket{tenant=~\"a.*\"}[5m]))) > 0.5"),
              ElementsAre("query_duration_seconds_bucket"));
  EXPECT_THAT(MetricNames("sum(rate(queries_failed_total[5m])) / sum(rate(queries_total[5m])) > "
                          "0.05"),
              ElementsAre("queries_failed_total", "queries_total"));
  EXPECT_THAT(MetricNames("count(circuit_breaker_state{service=\"nl2sql\"} > 0) or vector(0)"),
              ElementsAre("circuit_breaker_state"));
  EXPECT_THAT(MetricNames("a / on(instance) group_left(tenant) b offset 5m"),
              ElementsAre("a", "b"));
  EXPECT_THAT(MetricNames("sum without (instance) (rate(x_total{l=\"}{\"}[1m:10s])) @ 1e3"),
              ElementsAre("x_total"));
  EXPECT_THAT(MetricNames("SUM BY (le) (foo) AND bar"), ElementsAre("bar", "foo"));
  EXPECT_THAT(MetricNames("label_replace(up, \"dst\", \"$1\", \"src\", \"(.*)\")"),
              ElementsAre("up"));
  EXPECT_THAT(MetricNames("sum(rate(x[5m])) by (job) * 1.5e-3 + inf"), ElementsAre("x"));
  EXPECT_THAT(MetricNames("vector(1)"), IsEmpty());
}

// Grafana's variables replaced by what they stand for when everything is selected: rate
// intervals by a duration, the dashboard's multi-value variables by their "All" value.
std::string ForPrometheus(const std::string& expr) {
  static const std::regex kVariable(R"(\$\{?([A-Za-z_][A-Za-z0-9_]*)(:[a-z]+)?\}?)");
  std::string out;
  auto begin = std::sregex_iterator(expr.begin(), expr.end(), kVariable);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += expr.substr(last, it->position() - last);
    out += (*it)[1].str().starts_with("__") ? "1m" : ".*";
    last = it->position() + it->length();
  }
  return out + expr.substr(last);
}

TEST(PromqlMetricNamesTest, GrafanaVariablesAreReplaced) {
  EXPECT_EQ(ForPrometheus("rate(x{instance=~\"$instance\",t=~\"${tenant}\"}[$__rate_interval])"),
            "rate(x{instance=~\".*\",t=~\".*\"}[1m])");
}

// ---------------------------------------------------------------------------------------------
// The dashboard.

struct Query {
  std::string where;  // panel id, title and refId, or the variable: unique
  std::string title;  // the panel's title, or the variable's name
  std::string expr;   // as Grafana sends it, variables unreplaced
};

// The panels (pointers into `dashboard`), with those inside collapsed rows.
std::vector<const json*> Panels(const json& dashboard) {
  std::vector<const json*> out;
  auto panels = dashboard.find("panels");
  if (panels == dashboard.end() || !panels->is_array()) return out;
  for (const json& panel : *panels) {
    out.push_back(&panel);
    auto inner = panel.find("panels");
    if (inner == panel.end() || !inner->is_array()) continue;
    for (const json& p : *inner) out.push_back(&p);
  }
  return out;
}

// Every PromQL expression of the dashboard: the panels' targets and the query variables
// (label_values(selector, label) reads the selector's series).
std::vector<Query> DashboardQueries(const json& dashboard) {
  std::vector<Query> out;
  for (const json* panel : Panels(dashboard)) {
    for (const json& target : panel->value("targets", json::array())) {
      const std::string title = panel->value("title", "?");
      out.push_back({fmt::format("panel {} \"{}\" / {}", panel->value("id", 0), title,
                                 target.value("refId", "?")),
                     title, target.value("expr", "")});
    }
  }
  static const std::regex kLabelValues(R"(^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)\s*$)");
  for (const json& variable :
       dashboard.value("templating", json::object()).value("list", json::array())) {
    if (variable.value("type", "") != "query") continue;
    // Grafana writes a variable's query as a string, or (since 10) as {"query": "..."}.
    const json query = variable.value("query", json());
    std::string definition = query.is_object()   ? query.value("query", "")
                             : query.is_string() ? query.get<std::string>()
                                                 : "";
    std::smatch m;
    std::string selector = std::regex_match(definition, m, kLabelValues) ? m[1].str() : definition;
    out.push_back(
        {"variable " + variable.value("name", "?"), variable.value("name", "?"), selector});
  }
  return out;
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text = testing::ReadFile(Deploy("grafana-dashboard.json"));
    ASSERT_FALSE(text.empty()) << "deploy/grafana-dashboard.json is missing";
    dashboard_ = json::parse(text, nullptr, false);
    ASSERT_TRUE(dashboard_.is_object()) << "deploy/grafana-dashboard.json is not JSON";
  }
  json dashboard_;
};

TEST_F(DashboardTest, IsAGrafanaDashboardOverAPrometheusDataSourceVariable) {
  EXPECT_GE(dashboard_.value("schemaVersion", 0), 36);
  EXPECT_FALSE(dashboard_.value("title", "").empty());
  EXPECT_FALSE(dashboard_.value("uid", "").empty());
  std::string datasource;
  for (const json& variable : dashboard_["templating"]["list"]) {
    if (variable.value("type", "") == "datasource" &&
        variable.value("query", json()) == "prometheus") {
      datasource = variable.value("name", "");
    }
  }
  ASSERT_FALSE(datasource.empty()) << "no variable of type datasource for prometheus";
  const std::string uid = "${" + datasource + "}";
  std::set<int> ids;
  for (const json* panel : Panels(dashboard_)) {
    const std::string title = panel->value("title", "?");
    EXPECT_TRUE(ids.insert(panel->value("id", 0)).second) << title << ": id used twice";
    const json& pos = (*panel)["gridPos"];
    EXPECT_LE(pos.value("x", 0) + pos.value("w", 0), 24) << title;
    if (panel->value("type", "") == "row") continue;
    EXPECT_EQ((*panel)["datasource"].value("uid", ""), uid) << title;
    EXPECT_EQ((*panel)["datasource"].value("type", ""), "prometheus") << title;
    ASSERT_FALSE(panel->value("targets", json::array()).empty()) << title;
    for (const json& target : (*panel)["targets"]) {
      EXPECT_FALSE(target.value("expr", "").empty()) << title;
      EXPECT_EQ(target["datasource"].value("uid", ""), uid) << title;
    }
  }
  // Every query reads at least one metric.
  for (const Query& q : DashboardQueries(dashboard_)) {
    EXPECT_FALSE(MetricNames(ForPrometheus(q.expr)).empty()) << q.where << ": " << q.expr;
  }
}

TEST_F(DashboardTest, CoversTheRunbooksKeyIndicators) {
  std::set<std::string> used;
  std::string all;
  for (const Query& q : DashboardQueries(dashboard_)) {
    used.merge(MetricNames(ForPrometheus(q.expr)));
    all += ForPrometheus(q.expr) + "\n";
  }
  for (const std::string name :
       {"query_duration_seconds_bucket", "queries_total", "queries_failed_total",
        "cache_hits_total", "cache_requests_total", "circuit_breaker_state",
        "rate_limit_rejections_total", "llm_request_duration_seconds_count",
        "llm_request_duration_seconds_bucket", "active_sessions",
        "db_query_duration_seconds_bucket"}) {
    EXPECT_TRUE(used.contains(name)) << "no panel reads " << name;
  }
  // Latency as p50, p95 and p99 of the service's (all tenants') histogram.
  for (const std::string q : {"0.50", "0.95", "0.99"}) {
    EXPECT_THAT(all, ::testing::HasSubstr("histogram_quantile(" + q +
                                          ", sum by (le) (rate(query_duration_seconds_bucket"))
        << "p" << q.substr(2);
  }
  // Rate-limited requests per tenant.
  EXPECT_THAT(all, ::testing::HasSubstr("sum by (tenant) (rate(rate_limit_rejections_total"));
}

// ---------------------------------------------------------------------------------------------
// Against the real binary and a real Prometheus.

// The metric names an exposition offers: each family (a histogram's as name_bucket, _sum and
// _count, a summary's as name, _sum and _count), whether or not it has samples yet.
std::set<std::string> ExposedNames(const std::string& exposition) {
  std::set<std::string> names;
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ([a-z]+)$)");
  for (const std::string& line : text::Split(exposition, '\n')) {
    std::smatch m;
    if (std::regex_match(line, m, kType)) {
      const std::string name = m[1];
      if (m[2] == "histogram") {
        names.insert({name + "_bucket", name + "_sum", name + "_count"});
      } else if (m[2] == "summary") {
        names.insert({name, name + "_sum", name + "_count"});
      } else {
        names.insert(name);
      }
    } else if (!line.empty() && line[0] != '#') {
      names.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  return names;
}

// The names of an exposition that have at least one sample.
std::set<std::string> NamesWithSamples(const std::string& exposition) {
  std::set<std::string> names;
  for (const std::string& line : text::Split(exposition, '\n')) {
    if (!line.empty() && line[0] != '#') names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

class DashboardPrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy_file(HELIOS_DEMO_DB, dir_.path() / "demo.db");
    testing::WriteFile(dir_.path() / "config.toml",
                       "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
                       "[auth]\nenabled = false\n"
                       "[metrics]\nhost = \"127.0.0.1\"\nprometheus_port = 0\n"
                       "[production.rate_limiting]\nqueries_per_minute = 100000\n"
                       "burst_allowance = 10000\n");
    server_ = std::make_unique<testing::ServedBinary>(
        HELIOS_BINARY,
        std::vector<std::string>{"serve", "--config", "config.toml", "--database",
                                 "sqlite://demo.db"},
        dir_.path(), std::vector<std::string>{});
    api_port_ = server_->PortOf("listening");
    metrics_port_ = server_->PortOf("metrics listening");
    ASSERT_GT(api_port_, 0) << server_->out() << server_->err();
    ASSERT_GT(metrics_port_, 0) << server_->out() << server_->err();
    ASSERT_NO_FATAL_FAILURE(StartPrometheus());
  }

  void TearDown() override {
    if (prometheus_) prometheus_->Stop();
    if (server_) server_->Stop();
  }

  // Prometheus scraping the server every second, with deploy/alerts.yml loaded.
  void StartPrometheus() {
    std::string error;
    testing::StartedPrometheus started =
        testing::StartPrometheus(dir_.path(), metrics_port_, "conversational-bi", &error);
    ASSERT_TRUE(started.process) << error;
    prometheus_ = std::move(started.process);
    prometheus_port_ = started.port;
  }

  httplib::Client Prometheus() const {
    httplib::Client client("127.0.0.1", prometheus_port_);
    client.set_connection_timeout(5s);
    client.set_read_timeout(30s);
    return client;
  }

  // An instant query: the result vector, or nullopt with Prometheus' complaint in *error.
  std::optional<json> Evaluate(const std::string& expr, std::string* error) const {
    httplib::Client client = Prometheus();
    return testing::PrometheusInstantQuery(client, expr, error);
  }

  std::string Exposition() const {
    httplib::Client client("127.0.0.1", metrics_port_);
    client.set_read_timeout(30s);
    auto res = client.Get("/metrics");
    return res && res->status == 200 ? res->body : "";
  }

  void Ask(const std::string& question) const {
    httplib::Client client("127.0.0.1", api_port_);
    client.set_read_timeout(60s);
    client.Post("/api/v1/query", json{{"query", question}}.dump(), "application/json");
  }

  testing::TempDir dir_{"helios-dashboard"};
  std::unique_ptr<testing::ServedBinary> server_;
  std::unique_ptr<testing::ChildProcess> prometheus_;
  int api_port_ = 0;
  int metrics_port_ = 0;
  int prometheus_port_ = 0;
};

TEST_F(DashboardPrometheusTest, EveryExpressionReadsExposedMetricsAndIsValidPromql) {
  json dashboard = json::parse(testing::ReadFile(Deploy("grafana-dashboard.json")), nullptr, false);
  ASSERT_TRUE(dashboard.is_object());
  std::vector<Query> queries = DashboardQueries(dashboard);
  ASSERT_FALSE(queries.empty());

  // The alert expressions as Prometheus parsed them: as many rules as the file has alerts.
  std::vector<Query> alerts;
  {
    auto res = Prometheus().Get("/api/v1/rules");
    ASSERT_TRUE(res && res->status == 200);
    json body = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res->body;
    for (const json& group : body["data"]["groups"]) {
      for (const json& rule : group["rules"]) {
        alerts.push_back(
            {"alert " + rule.value("name", "?"), rule.value("name", "?"), rule.value("query", "")});
      }
    }
    size_t in_file = 0;
    static const std::regex kAlert(R"(^\s*-\s*alert:)");
    for (const std::string& line : text::Split(testing::ReadFile(Deploy("alerts.yml")), '\n')) {
      if (std::regex_search(line, kAlert)) ++in_file;
    }
    ASSERT_GT(in_file, 0u);
    EXPECT_EQ(alerts.size(), in_file) << res->body;
  }

  // Every name is one the real server exposes.
  const std::string exposition = Exposition();
  ASSERT_FALSE(exposition.empty()) << "no /metrics from the server";
  const std::set<std::string> exposed = ExposedNames(exposition);
  std::vector<std::string> unknown;
  for (const std::vector<Query>* list : {&queries, &alerts}) {
    for (const Query& q : *list) {
      std::set<std::string> names = MetricNames(ForPrometheus(q.expr));
      if (names.empty()) unknown.push_back(q.where + ": reads no metric");
      for (const std::string& name : names) {
        if (!exposed.contains(name)) unknown.push_back(q.where + ": " + name);
      }
    }
  }
  EXPECT_THAT(unknown, IsEmpty()) << "not exposed by the server:\n" << exposition;

  // Every dashboard expression is valid PromQL.
  for (const Query& q : queries) {
    std::string error;
    EXPECT_TRUE(Evaluate(ForPrometheus(q.expr), &error)) << q.where << ": " << q.expr << "\n"
                                                         << error;
  }

  // With questions answered, failed and repeated, every expression whose metrics all have
  // samples returns data (rate() needs two scrapes in its window). Those whose series this
  // server never makes (no language model is configured, nobody logs in, no tenant is over
  // its quota) are not expected to.
  constexpr char kNoSeries[] = "its series do not exist";
  std::map<std::string, std::string> waiting;  // where -> what the last attempt saw
  for (const Query& q : queries) waiting[q.where] = "not tried";
  const auto deadline = SteadyClock::now() + 90s;
  while (SteadyClock::now() < deadline) {
    Ask("How many customers are there?");
    Ask("How many customers are there?");
    Ask("purple monkey dishwasher");
    const std::set<std::string> sampled = NamesWithSamples(Exposition());
    for (const Query& q : queries) {
      if (!waiting.contains(q.where)) continue;
      std::set<std::string> names = MetricNames(ForPrometheus(q.expr));
      if (!std::ranges::includes(sampled, names)) {
        waiting[q.where] = kNoSeries;
        continue;
      }
      std::string error;
      auto result = Evaluate(ForPrometheus(q.expr), &error);
      if (result && !result->empty()) {
        waiting.erase(q.where);
      } else {
        waiting[q.where] = result ? "empty result" : error;
      }
    }
    if (std::ranges::all_of(waiting, [&](const auto& w) { return w.second == kNoSeries; })) break;
    std::this_thread::sleep_for(500ms);
  }
  std::vector<std::string> failed;
  for (const auto& [where, why] : waiting) {
    if (why != kNoSeries) failed.push_back(where + ": " + why);
  }
  EXPECT_THAT(failed, IsEmpty());
  // The runbook's indicators were among those answered.
  for (const std::string title :
       {"Queries per second", "P99 latency", "Error rate", "Cache hit rate",
        "Circuit breakers open", "Active sessions", "Query latency (p50, p95, p99)"}) {
    bool found = false;
    for (const Query& q : queries) {
      if (q.title != title) continue;
      found = true;
      EXPECT_FALSE(waiting.contains(q.where)) << q.where << ": " << waiting[q.where];
    }
    EXPECT_TRUE(found) << "no panel titled " << title;
  }
}

}  // namespace
}  // namespace helios
