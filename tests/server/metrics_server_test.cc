#include "server/metrics_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/text.h"
#include "observability/logger.h"
#include "observability/metrics.h"

namespace helios::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kExpositionType[] = "text/plain; version=0.0.4; charset=utf-8";

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    requests_ = &registry_.Counter("scrape_test_total", "A counter for the test.", {"kind"});
    requests_->Inc({"a"});
    server_ = std::make_unique<MetricsServer>(registry_, logger_, "127.0.0.1", 0);
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    ASSERT_GT(*port, 0);
    port_ = *port;
    run_ = std::async(std::launch::async, [this] { server_->Run(); });
  }

  void TearDown() override { StopServer(); }

  void StopServer() {
    if (server_ == nullptr) return;
    server_->Stop();
    if (run_.valid()) {
      ASSERT_EQ(run_.wait_for(30s), std::future_status::ready) << "Run() did not return";
      run_.get();
    }
  }

  std::unique_ptr<httplib::Client> Client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_connection_timeout(5s);
    c->set_read_timeout(10s);
    return c;
  }

  // The logger's lines; read only once Run() has returned, since the server writes to it.
  std::vector<json> LogLines() const {
    std::vector<json> lines;
    for (const std::string& line : text::Split(log_.str(), '\n')) {
      if (!line.empty()) lines.push_back(json::parse(line));
    }
    return lines;
  }

  FakeClock clock_;
  std::ostringstream log_;
  observability::Logger logger_{log_, observability::LogLevel::kInfo,
                                observability::LogFormat::kJson, clock_};
  observability::MetricsRegistry registry_;
  observability::CounterFamily* requests_ = nullptr;
  std::unique_ptr<MetricsServer> server_;
  std::future<void> run_;
  int port_ = 0;
};

TEST_F(MetricsServerTest, ServesTheRegistrysExposition) {
  auto c = Client();
  auto res = c->Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kExpositionType);
  EXPECT_EQ(res->body, registry_.Render());
  EXPECT_THAT(res->body, HasSubstr("scrape_test_total{kind=\"a\"} 1\n"));

  // Every scrape renders afresh.
  requests_->Inc({"a"}, 2);
  requests_->Inc({"b"});
  res = c->Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_THAT(res->body, HasSubstr("scrape_test_total{kind=\"a\"} 3\n"));
  EXPECT_THAT(res->body, HasSubstr("scrape_test_total{kind=\"b\"} 1\n"));
}

TEST_F(MetricsServerTest, HeadAnswersLikeGetWithoutABody) {
  auto res = Client()->Head("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kExpositionType);
  EXPECT_TRUE(res->body.empty());
}

TEST_F(MetricsServerTest, HealthSaysOk) {
  auto res = Client()->Get("/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/plain"));
}

TEST_F(MetricsServerTest, OtherMethodsOnMetricsAreNotAllowed) {
  auto c = Client();
  std::vector<httplib::Result> results;
  results.push_back(c->Post("/metrics", "x", "text/plain"));
  results.push_back(c->Put("/metrics", "x", "text/plain"));
  results.push_back(c->Delete("/metrics"));
  results.push_back(c->Options("/metrics"));
  results.push_back(c->Post("/health", "", "text/plain"));
  for (auto& res : results) {
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 405);
    EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");
    EXPECT_THAT(res->body, HasSubstr("not allowed"));
  }
}

TEST_F(MetricsServerTest, OtherPathsAreNotFound) {
  auto c = Client();
  for (const char* path : {"/", "/metrics/extra", "/api/v1/query", "/metricsx"}) {
    auto res = c->Get(path);
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 404) << path;
  }
  auto res = c->Post("/api/v1/query", "{}", "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 404);
}

TEST_F(MetricsServerTest, LogsWhereItListensWhenRunStarts) {
  ASSERT_EQ(Client()->Get("/health")->status, 200);  // Run() has started
  StopServer();
  std::vector<json> lines = LogLines();
  ASSERT_GE(lines.size(), 1u) << log_.str();
  EXPECT_EQ(lines[0]["message"], "metrics listening");
  EXPECT_EQ(lines[0]["level"], "INFO");
  EXPECT_EQ(lines[0]["host"], "127.0.0.1");
  EXPECT_EQ(lines[0]["port"], port_);
  // Scrapes themselves are not logged.
  for (const json& line : lines) EXPECT_NE(line["message"], "request") << line.dump();
}

TEST_F(MetricsServerTest, BindingTwiceOrAfterStopIsRefused) {
  auto again = server_->Bind();
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kInvalidArgument);
  StopServer();
  MetricsServer stopped(registry_, logger_, "127.0.0.1", 0);
  stopped.Stop();
  auto after = stopped.Bind();
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(MetricsServerTest, APortInUseIsUnavailable) {
  MetricsServer second(registry_, logger_, "127.0.0.1", port_);
  auto bound = second.Bind();
  ASSERT_FALSE(bound.has_value());
  EXPECT_EQ(bound.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(bound.error().message, HasSubstr(std::to_string(port_)));
}

TEST(MetricsServerLifecycleTest, BadOptionsAreInvalidArguments) {
  FakeClock clock;
  std::ostringstream log;
  observability::Logger logger(log, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                               clock);
  observability::MetricsRegistry registry;
  for (auto [host, port] :
       std::vector<std::pair<std::string, int>>{{"", 0}, {"127.0.0.1", -1}, {"127.0.0.1", 65536}}) {
    MetricsServer server(registry, logger, host, port);
    auto bound = server.Bind();
    ASSERT_FALSE(bound.has_value()) << host << ":" << port;
    EXPECT_EQ(bound.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(MetricsServerLifecycleTest, RunReturnsAtOnceWhenNotBoundOrStoppedFirst) {
  FakeClock clock;
  std::ostringstream log;
  observability::Logger logger(log, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                               clock);
  observability::MetricsRegistry registry;
  {
    MetricsServer unbound(registry, logger, "127.0.0.1", 0);
    auto run = std::async(std::launch::async, [&] { unbound.Run(); });
    EXPECT_EQ(run.wait_for(30s), std::future_status::ready);
  }
  {
    // A Stop() that comes before Run() is not lost.
    MetricsServer server(registry, logger, "127.0.0.1", 0);
    ASSERT_TRUE(server.Bind().has_value());
    server.Stop();
    server.Stop();  // idempotent
    auto run = std::async(std::launch::async, [&] { server.Run(); });
    EXPECT_EQ(run.wait_for(30s), std::future_status::ready);
  }
  EXPECT_EQ(log.str(), "");  // neither served
}

}  // namespace
}  // namespace helios::server
