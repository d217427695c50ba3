// The server's lifecycle over real sockets: liveness (/health) apart from readiness (/ready),
// stopping that answers every request already received while refusing new connections, and
// rate limits replaced while serving. Questions that must stay in flight wait at a gate the
// test opens; nothing depends on timing.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "observability/logger.h"
#include "ratelimit/rate_limiter.h"
#include "resilience/circuit_breaker.h"
#include "server/http_server.h"
#include "server/test_fakes.h"
#include "support/loopback.h"

namespace helios::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kJson[] = "application/json";

class LifecycleTest : public ::testing::Test {
 protected:
  LifecycleTest()
      : log_stream_(&log_buffer_),
        logger_(log_stream_, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                clock_),
        limiter_(clock_) {
    service_.SetAsk([](const nl2sql::AskRequest& r) { return AnswerFor(r); });
    service_.SetHealth([] {
      nl2sql::HealthReport report;
      report.ok = true;
      report.dependencies = {{"database", true, "sqlite", 0.5}};
      return report;
    });
  }

  void Start(ServerGuards guards = {}, int workers = 4) {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = workers;
    options.version = "1.2.3-test";
    server_ = std::make_unique<HttpServer>(service_, logger_, clock_, options, std::move(guards));
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
    run_done_ = std::async(std::launch::async, [this] { server_->Run(); });
  }

  void TearDown() override {
    gate_.Open();
    if (server_) {
      server_->Stop();
      ASSERT_EQ(run_done_.wait_for(30s), std::future_status::ready) << "Run() did not return";
    }
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(30, 0);
    return client;
  }

  std::future<httplib::Result> AskAsync(const std::string& question) {
    return std::async(std::launch::async, [this, question] {
      return Client().Post("/api/v1/query", json({{"query", question}}).dump(), kJson);
    });
  }

  // Waits (up to 10 s) until `n` connections wait for a worker.
  bool Waiting(size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (server_->Stats().connections_waiting >= n) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  FakeClock clock_;
  LockedStringBuf log_buffer_;
  std::ostream log_stream_;
  observability::Logger logger_;
  ratelimit::MemoryRateLimiter limiter_;
  FakeService service_;
  Gate gate_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> run_done_;
  int port_ = 0;
};

TEST_F(LifecycleTest, StopAnswersEveryRequestAlreadyReceivedAndRefusesNewConnections) {
  service_.SetAsk([this](const nl2sql::AskRequest& r) {
    gate_.Pass();
    return AnswerFor(r);
  });
  // One worker: the first question is being answered, the other two wait for the worker.
  Start({}, 1);
  std::vector<std::future<httplib::Result>> replies;
  replies.push_back(AskAsync("first"));
  ASSERT_TRUE(gate_.Reached(1));
  replies.push_back(AskAsync("second"));
  replies.push_back(AskAsync("third"));
  ASSERT_TRUE(Waiting(2)) << "the two later connections were not accepted";
  EXPECT_EQ(server_->Stats().requests_in_flight, 1u);

  server_->Stop();
  EXPECT_TRUE(server_->draining());
  EXPECT_EQ(testing::ConnectLoopback(port_), ECONNREFUSED)
      << "a new connection must be refused once stopped";
  EXPECT_NE(run_done_.wait_for(200ms), std::future_status::ready)
      << "Run() returned with requests still unanswered";

  gate_.Open();
  for (size_t i = 0; i < replies.size(); ++i) {
    httplib::Result res = replies[i].get();
    ASSERT_TRUE(res) << "request " << i << ": " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200) << "request " << i << ": " << res->body;
    EXPECT_EQ(json::parse(res->body)["row_count"], 1) << "request " << i;
    EXPECT_EQ(res->get_header_value("Connection"), "close") << "request " << i;
  }
  ASSERT_EQ(run_done_.wait_for(10s), std::future_status::ready);
  const ServerStats stats = server_->Stats();
  EXPECT_EQ(stats.requests_served, 3u);
  EXPECT_EQ(stats.requests_in_flight, 0u);
  EXPECT_EQ(stats.connections_waiting, 0u);
  EXPECT_EQ(service_.requests().size(), 3u);
}

TEST_F(LifecycleTest, ReadyTurnsDrainingOnStopWhileHealthStaysAlive) {
  Start();
  httplib::Client kept = Client();
  kept.set_keep_alive(true);  // the one connection still open after Stop()
  auto before = kept.Get("/ready");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);
  EXPECT_EQ(json::parse(before->body)["status"], "ok");

  server_->Stop();
  auto draining = kept.Get("/ready");
  ASSERT_TRUE(draining) << httplib::to_string(draining.error());
  EXPECT_EQ(draining->status, 503);
  json body = json::parse(draining->body);
  EXPECT_EQ(body["status"], "draining");
  EXPECT_EQ(body["dependencies"]["database"]["status"], "ok");
  EXPECT_EQ(draining->get_header_value("Connection"), "close");
  EXPECT_EQ(run_done_.wait_for(10s), std::future_status::ready);
}

TEST_F(LifecycleTest, HealthStaysAliveWhileDraining) {
  Start();
  httplib::Client kept = Client();
  kept.set_keep_alive(true);
  ASSERT_TRUE(kept.Get("/health"));
  server_->Stop();
  auto alive = kept.Get("/health");
  ASSERT_TRUE(alive) << httplib::to_string(alive.error());
  EXPECT_EQ(alive->status, 200);
  EXPECT_EQ(json::parse(alive->body)["status"], "alive");
}

TEST_F(LifecycleTest, ReadyReportsTheBreakerAndRequiresItOnlyWhenTold) {
  resilience::CircuitBreaker breaker("nl2sql", clock_, resilience::BreakerOptions{true, 1, 60s, 1});
  ServerGuards guards;
  guards.breaker = &breaker;
  Start(guards);
  auto closed = Client().Get("/ready");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, 200);
  EXPECT_EQ(json::parse(closed->body)["dependencies"]["llm"]["status"], "ok");

  ASSERT_TRUE(breaker.Allow());
  breaker.RecordFailure();  // one failure opens it
  auto open = Client().Get("/ready");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 200) << "the engine still answers: an open breaker is not required";
  json body = json::parse(open->body);
  EXPECT_EQ(body["dependencies"]["llm"]["status"], "down");
  EXPECT_EQ(body["dependencies"]["llm"]["detail"], "circuit breaker open");
}

TEST_F(LifecycleTest, AnOpenBreakerMakesTheInstanceUnreadyWhenEveryQuestionNeedsTheModel) {
  resilience::CircuitBreaker breaker("nl2sql", clock_, resilience::BreakerOptions{true, 1, 60s, 1});
  ServerGuards guards;
  guards.breaker = &breaker;
  guards.breaker_required = true;
  Start(guards);
  EXPECT_EQ(Client().Get("/ready")->status, 200);
  ASSERT_TRUE(breaker.Allow());
  breaker.RecordFailure();
  auto open = Client().Get("/ready");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 503);
  EXPECT_EQ(json::parse(open->body)["status"], "degraded");
  EXPECT_EQ(Client().Get("/health")->status, 200);
  breaker.Reset();
  EXPECT_EQ(Client().Get("/ready")->status, 200);
}

TEST_F(LifecycleTest, RateLimitsReplacedWhileServingApplyToTheNextQuestion) {
  ServerGuards guards;
  guards.limiter = &limiter_;
  guards.rate_limits.default_policy = ratelimit::BucketPolicy{1, 1.0 / 60, 1};
  Start(guards);
  auto first = Client().Post("/api/v1/query", R"({"query":"a"})", kJson);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->get_header_value("X-RateLimit-Limit"), "1");
  EXPECT_EQ(Client().Post("/api/v1/query", R"({"query":"b"})", kJson)->status, 429);

  RateLimits off;
  off.enabled = false;
  server_->SetRateLimits(off);
  auto unlimited = Client().Post("/api/v1/query", R"({"query":"c"})", kJson);
  ASSERT_TRUE(unlimited);
  EXPECT_EQ(unlimited->status, 200);
  EXPECT_FALSE(unlimited->has_header("X-RateLimit-Limit"));

  // A larger default: the tenant, on the default, keeps its (empty) bucket, which now
  // refills at the new rate.
  RateLimits larger;
  larger.default_policy = ratelimit::BucketPolicy{30, 0.5, 30};
  server_->SetRateLimits(larger);
  auto empty = Client().Post("/api/v1/query", R"({"query":"d"})", kJson);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 429);
  EXPECT_EQ(empty->get_header_value("X-RateLimit-Limit"), "30");
  clock_.Advance(2s);
  EXPECT_EQ(Client().Post("/api/v1/query", R"({"query":"e"})", kJson)->status, 200);
}

TEST_F(LifecycleTest, ATenantWhoseOwnLimitsChangedStartsWithAFullBucket) {
  ServerGuards guards;
  guards.limiter = &limiter_;
  guards.rate_limits.default_policy = ratelimit::BucketPolicy{1, 1.0 / 60, 1};
  guards.rate_limits.tenants = {{"default", ratelimit::BucketPolicy{1, 1.0 / 60, 1}}};
  Start(guards);
  auto ask = [this] { return Client().Post("/api/v1/query", R"({"query":"q"})", kJson)->status; };
  EXPECT_EQ(ask(), 200);
  EXPECT_EQ(ask(), 429);

  // The same limits again: nothing changed for the tenant, its bucket stays empty.
  server_->SetRateLimits(guards.rate_limits);
  EXPECT_EQ(ask(), 429);

  RateLimits raised = guards.rate_limits;
  raised.tenants = {{"default", ratelimit::BucketPolicy{3, 1.0 / 60, 3}}};
  server_->SetRateLimits(raised);
  EXPECT_EQ(ask(), 200);  // at once: the clock has not moved
  EXPECT_EQ(ask(), 200);
  EXPECT_EQ(ask(), 200);
  EXPECT_EQ(ask(), 429);

  // Its override removed: the default applies, from a full bucket too.
  RateLimits removed = guards.rate_limits;
  removed.tenants.clear();
  server_->SetRateLimits(removed);
  EXPECT_EQ(ask(), 200);
  EXPECT_EQ(ask(), 429);
}

}  // namespace
}  // namespace helios::server
