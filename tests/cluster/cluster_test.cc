// Several instances behind a load balancer, as the runbook deploys them: a private Redis, two
// real server processes sharing it (REDIS_URL), and nginx on loopback balancing between them.
// Shown here: a conversation whose turns alternate between instances keeps its context; the
// cache filled through one instance is hit through the other; a tenant's rate limit counts
// requests to both; an instance killed mid-conversation leaves the conversation to the other;
// Redis stopped and restarted, the service answers throughout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/password.h"
#include "auth/user_store.h"
#include "common/text.h"
#include "support/child_process.h"
#include "support/loopback.h"
#include "support/nginx.h"
#include "support/served_binary.h"
#include "support/test_databases.h"

namespace helios {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kSecret[] = "a-cluster-test-secret-of-more-than-32-bytes!";
constexpr char kPassword[] = "a long enough password";

struct Reply {
  int status = 0;
  json body;
  std::string raw;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.url()) << redis_.url().error().message;
    fs::copy_file(HELIOS_DEMO_DB, dir_.path() / "demo.db");
    auth::UserStore users;
    const auth::PasswordParams cheap{1024, 1, 1};  // the test is about behaviour, not cost
    for (auto [name, tenant] : {std::pair{"alice", "acme"}, std::pair{"bob", "globex"}}) {
      auto hash = auth::HashPassword(kPassword, cheap);
      ASSERT_TRUE(hash.has_value());
      ASSERT_TRUE(users.Add(auth::User{name, tenant, {"analyst"}, *hash}).has_value());
    }
    ASSERT_TRUE(users.Save((dir_.path() / "users.json").string()).has_value());
    // Tenant globex has a small quota (6 questions, refilling one per 1000 s), so the test can
    // count to it; acme has room for the rest of the test.
    std::ofstream(dir_.path() / "server.toml")
        << "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
        << "[metrics]\nenabled = false\n"
        << "[auth]\nusers_file = \"users.json\"\n"
        << "[production.rate_limiting]\nburst_allowance = 1000\n"
        << "[production.rate_limiting.tenants.globex]\nburst_allowance = 6\n"
        << "token_bucket_refill_rate = 0.001\nqueries_per_minute = 1\n";
    instances_.push_back(StartInstance());
    instances_.push_back(StartInstance());
    for (const auto& instance : instances_) {
      ports_.push_back(instance->PortOf("listening"));
      ASSERT_GT(ports_.back(), 0) << instance->err() << instance->out();
    }
    StartNginx();
  }

  void TearDown() override {
    if (nginx_) nginx_->Stop(5s);
    for (auto& instance : instances_) instance->Stop();
  }

  std::unique_ptr<testing::ServedBinary> StartInstance() {
    return std::make_unique<testing::ServedBinary>(
        HELIOS_BINARY,
        std::vector<std::string>{"--config", "server.toml", "serve", "--database",
                                 "sqlite://demo.db"},
        dir_.path(),
        std::vector<std::string>{std::string("JWT_SECRET=") + kSecret,
                                 "REDIS_URL=" + *redis_.url()});
  }

  void StartNginx() {
    const fs::path root = dir_.path() / "nginx";
    fs::create_directories(root / "logs");
    nginx_port_ = testing::FreeLoopbackPort();
    std::ofstream(root / "nginx.conf")
        << "worker_processes 1;\n"
        << "pid " << (root / "nginx.pid").string() << ";\n"
        << "error_log " << (root / "logs/error.log").string() << " info;\n"
        << "events { worker_connections 256; }\n"
        << "http {\n"
        << "  access_log off;\n"
        << "  client_body_temp_path " << (root / "body").string() << ";\n"
        << "  proxy_temp_path " << (root / "proxy").string() << ";\n"
        << "  fastcgi_temp_path " << (root / "fastcgi").string() << ";\n"
        << "  uwsgi_temp_path " << (root / "uwsgi").string() << ";\n"
        << "  scgi_temp_path " << (root / "scgi").string() << ";\n"
        << "  upstream helios {\n"
        << "    server 127.0.0.1:" << ports_[0] << " max_fails=1 fail_timeout=30s;\n"
        << "    server 127.0.0.1:" << ports_[1] << " max_fails=1 fail_timeout=30s;\n"
        << "    keepalive 8;\n"
        << "  }\n"
        << "  server {\n"
        << "    listen 127.0.0.1:" << nginx_port_ << ";\n"
        << "    location / {\n"
        << "      proxy_pass http://helios;\n"
        << "      proxy_http_version 1.1;\n"
        << "      proxy_set_header Connection \"\";\n"
        << "      proxy_set_header X-Forwarded-For $remote_addr;\n"
        << "      proxy_next_upstream error timeout http_502;\n"
        << "      proxy_connect_timeout 2s;\n"
        << "      proxy_max_temp_file_size 0;\n"
        << "    }\n"
        << "  }\n"
        << "}\n";
    std::string error;
    nginx_ = testing::StartNginx(root, &error);
    ASSERT_TRUE(nginx_) << error;
    // Ready when it proxies /health.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      httplib::Client probe("127.0.0.1", nginx_port_);
      probe.set_connection_timeout(1, 0);
      if (auto res = probe.Get("/health"); res && res->status == 200) return;
      ASSERT_FALSE(nginx_->Exited()) << testing::ReadFile(root / "logs/stderr.log")
                                     << testing::ReadFile(root / "logs/error.log");
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "nginx did not come up: " << testing::ReadFile(root / "logs/error.log");
  }

  std::string Login(int port, const std::string& user) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    auto res =
        client.Post("/api/v1/auth/login",
                    json({{"username", user}, {"password", kPassword}}).dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    return res ? json::parse(res->body).value("token", "") : std::string();
  }

  Reply Ask(int port, const std::string& token, const std::string& question,
            const std::string& session = "") {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    json body = {{"query", question}};
    if (!session.empty()) body["session_id"] = session;
    auto res = client.Post("/api/v1/query", {{"Authorization", "Bearer " + token}}, body.dump(),
                           "application/json");
    Reply reply;
    if (!res) return reply;
    reply.status = res->status;
    reply.raw = res->body;
    reply.body = json::parse(res->body, nullptr, false);
    return reply;
  }

  Reply Get(int port, const std::string& token, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto res = client.Get(path, headers);
    Reply reply;
    if (!res) return reply;
    reply.status = res->status;
    reply.raw = res->body;
    reply.body = json::parse(res->body, nullptr, false);
    return reply;
  }

  testing::TempDir dir_{"helios-cluster"};
  testing::ScopedRedis redis_;
  std::vector<std::unique_ptr<testing::ServedBinary>> instances_;
  std::vector<int> ports_;
  std::unique_ptr<testing::ChildProcess> nginx_;
  int nginx_port_ = 0;
};

TEST_F(ClusterTest, AConversationAlternatingBetweenInstancesKeepsItsContext) {
  const std::string token = Login(ports_[0], "alice");
  const std::vector<std::string> turns = {
      "total revenue by country",
      "only in Germany",
      "by month instead",
      "number of orders by month",
      "only in 2024",
      "average unit price by category",
      "top 3 products by price",
      "top 5 instead",
      "how many customers are there",
      "customers in France",
      "how many customers per country",
  };
  std::string session;
  for (size_t i = 0; i < turns.size(); ++i) {
    const int port = ports_[i % 2];  // A, B, A, B, ...
    Reply r = Ask(port, token, turns[i], session);
    ASSERT_EQ(r.status, 200) << turns[i] << ": " << r.raw;
    if (session.empty()) session = r.body["session_id"].get<std::string>();
    EXPECT_EQ(r.body["session_id"], session);
    EXPECT_EQ(r.body["turn"].get<int>(), static_cast<int>(i) + 1) << turns[i];
    const std::string sql = r.body["sql"].get<std::string>();
    // Follow-ups edit the previous turn's query, which the other instance answered.
    if (turns[i] == "only in Germany") {
      EXPECT_THAT(sql, HasSubstr("'Germany'"));
      EXPECT_THAT(sql, HasSubstr("country"));
    }
    if (turns[i] == "by month instead") {
      EXPECT_THAT(sql, HasSubstr("'Germany'"));
    }
    if (turns[i] == "only in 2024") {
      EXPECT_THAT(sql, HasSubstr("2024"));
    }
    if (turns[i] == "top 5 instead") {
      EXPECT_THAT(sql, HasSubstr("LIMIT 5"));
      EXPECT_EQ(r.body["row_count"].get<int>(), 5);
    }
  }
  // Either instance shows the whole conversation (the last 10 turns) and lists it.
  for (int port : ports_) {
    Reply view = Get(port, token, "/api/v1/sessions/" + session);
    ASSERT_EQ(view.status, 200) << view.raw;
    EXPECT_EQ(view.body["turn_count"].get<int>(), static_cast<int>(turns.size()));
    EXPECT_EQ(view.body["turns"].size(), 10u);
    Reply list = Get(port, token, "/api/v1/sessions");
    ASSERT_EQ(list.status, 200) << list.raw;
    ASSERT_EQ(list.body["sessions"].size(), 1u) << list.raw;
    EXPECT_EQ(list.body["sessions"][0]["session_id"], session);
    EXPECT_EQ(list.body["sessions"][0]["last_question"], turns.back());
  }
  // Another tenant sees none of it, through either instance.
  const std::string bob = Login(ports_[1], "bob");
  EXPECT_EQ(Get(ports_[0], bob, "/api/v1/sessions/" + session).status, 404);
  EXPECT_EQ(Get(ports_[1], bob, "/api/v1/sessions").body["sessions"].size(), 0u);
  // Ended through one instance, it is gone from both.
  httplib::Client a("127.0.0.1", ports_[0]);
  auto ended = a.Delete("/api/v1/sessions/" + session, {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->status, 204);
  EXPECT_EQ(Get(ports_[1], token, "/api/v1/sessions/" + session).status, 404);
}

TEST_F(ClusterTest, TheCacheFilledThroughOneInstanceIsHitThroughTheOther) {
  const std::string token = Login(ports_[0], "alice");
  Reply first = Ask(ports_[0], token, "top 5 customers by revenue");
  ASSERT_EQ(first.status, 200) << first.raw;
  EXPECT_FALSE(first.body["cache_hit"].get<bool>());

  // The same question with another value, through the other instance: a hit, re-bound.
  Reply other = Ask(ports_[1], token, "top 8 customers by revenue");
  ASSERT_EQ(other.status, 200) << other.raw;
  EXPECT_TRUE(other.body["cache_hit"].get<bool>()) << other.raw;
  EXPECT_EQ(other.body["cached_question"], "top 5 customers by revenue");
  EXPECT_EQ(other.body["row_count"].get<int>(), 8);
  EXPECT_THAT(other.body["sql"].get<std::string>(), HasSubstr("LIMIT 8"));
  // Its rows are the first five and three more: the same ranking, never the first's rows.
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(other.body["rows"][i], first.body["rows"][i]) << i;

  // The same question in other words, through the first instance.
  Reply paraphrase = Ask(ports_[0], token, "Show me the top 5 customers by revenue");
  ASSERT_EQ(paraphrase.status, 200) << paraphrase.raw;
  EXPECT_TRUE(paraphrase.body["cache_hit"].get<bool>()) << paraphrase.raw;
  EXPECT_EQ(paraphrase.body["rows"], first.body["rows"]);

  // Another tenant never hits acme's entries.
  const std::string bob = Login(ports_[1], "bob");
  Reply theirs = Ask(ports_[1], bob, "top 5 customers by revenue");
  ASSERT_EQ(theirs.status, 200) << theirs.raw;
  EXPECT_FALSE(theirs.body["cache_hit"].get<bool>());
}

TEST_F(ClusterTest, ATenantsRateLimitCountsRequestsToBothInstances) {
  const std::string token = Login(ports_[0], "bob");  // tenant globex: 6 questions
  for (int i = 0; i < 6; ++i) {
    Reply r = Ask(ports_[i % 2], token, "how many customers are there");
    ASSERT_EQ(r.status, 200) << i << ": " << r.raw;
  }
  for (int port : ports_) {
    Reply refused = Ask(port, token, "how many customers are there");
    EXPECT_EQ(refused.status, 429) << refused.raw;
  }
  // Another tenant's quota is its own.
  const std::string alice = Login(ports_[1], "alice");
  EXPECT_EQ(Ask(ports_[0], alice, "how many customers are there").status, 200);
}

TEST_F(ClusterTest, AConversationGoesOnWhenItsInstanceIsKilled) {
  const std::string token = Login(nginx_port_, "alice");
  Reply first = Ask(nginx_port_, token, "number of orders by month");
  ASSERT_EQ(first.status, 200) << first.raw;
  const std::string session = first.body["session_id"].get<std::string>();
  Reply second = Ask(nginx_port_, token, "only in 2024", session);
  ASSERT_EQ(second.status, 200) << second.raw;

  instances_[0]->Kill();  // SIGKILL mid-conversation: no goodbye, no flush

  Reply third = Ask(nginx_port_, token, "by quarter instead", session);
  ASSERT_EQ(third.status, 200) << third.raw;
  EXPECT_EQ(third.body["turn"].get<int>(), 3);
  EXPECT_THAT(third.body["sql"].get<std::string>(), HasSubstr("2024"));
  for (int i = 0; i < 4; ++i) {
    Reply more = Ask(nginx_port_, token, "how many customers are there");
    EXPECT_EQ(more.status, 200) << more.raw;
  }
  Reply view = Get(nginx_port_, token, "/api/v1/sessions/" + session);
  ASSERT_EQ(view.status, 200) << view.raw;
  EXPECT_EQ(view.body["turn_count"].get<int>(), 3);
}

// Under load: several conversations go on through nginx while one instance is killed. The only
// requests that may fail are those already on their way when it died (each client has one at
// a time); every later one is answered by the other instance, with its conversation's context.
TEST_F(ClusterTest, UnderLoadAKilledInstanceLosesOnlyTheRequestsInFlightOnIt) {
  using Clock = std::chrono::steady_clock;
  const std::string token = Login(nginx_port_, "alice");
  ASSERT_FALSE(token.empty());
  // Each follow-up changes one thing and keeps the other from the conversation: the period
  // answers must still group by a period, the grouping answers still filter by a year.
  const std::vector<std::string> follow_ups = {"by quarter instead", "what about 2023?",
                                               "by month instead", "what about 2024?"};
  struct Request {
    Clock::time_point start, end;
    int status = 0;
    std::string question, sql, raw;
  };
  constexpr int kClients = 4;
  constexpr int kRequestsAfterKill = 12;
  std::vector<std::vector<Request>> log(kClients);
  std::vector<std::string> sessions(kClients);
  std::atomic<int> answered_before_kill{0};
  std::atomic<bool> killed{false};
  std::atomic<int> clients_done{0};
  Clock::time_point kill_sent{}, kill_done{};

  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      int after_kill = 0;
      // `turn` advances only on an answer: a user whose question failed asks it again.
      for (int i = 0, turn = 0; i < 200 && after_kill < kRequestsAfterKill; ++i) {
        Request r;
        r.question =
            turn == 0 ? "number of orders by month"
                      : (turn == 1 ? "only in 2024" : follow_ups[(turn - 2) % follow_ups.size()]);
        const bool after = killed.load();
        r.start = Clock::now();
        Reply reply = Ask(nginx_port_, token, r.question, sessions[c]);
        r.end = Clock::now();
        r.status = reply.status;
        r.raw = reply.raw;
        if (reply.status == 200) {
          ++turn;
          if (sessions[c].empty()) sessions[c] = reply.body["session_id"].get<std::string>();
          r.sql = reply.body["sql"].get<std::string>();
          if (!after) ++answered_before_kill;
        }
        log[c].push_back(std::move(r));
        if (after) ++after_kill;
        // Paced, so the run stays within the tenant's quota of 1000.
        std::this_thread::sleep_for(10ms);
      }
      ++clients_done;
    });
  }
  // Kill instance 0 once every client has had some answers through both instances.
  const auto wait_until = Clock::now() + 60s;
  while (answered_before_kill.load() < 6 * kClients && Clock::now() < wait_until)
    std::this_thread::sleep_for(5ms);
  kill_sent = Clock::now();
  instances_[0]->Kill();
  kill_done = Clock::now();
  killed = true;
  for (auto& t : clients) t.join();

  int failed = 0, in_flight_failed = 0;
  for (int c = 0; c < kClients; ++c) {
    int answered_after = 0;
    for (const Request& r : log[c]) {
      if (r.status != 200) {
        ++failed;
        // On its way when the instance died: sent before the kill was over, answered after it
        // began.
        const bool in_flight = r.start <= kill_done && r.end >= kill_sent;
        if (in_flight) ++in_flight_failed;
        EXPECT_TRUE(in_flight)
            << "client " << c << ": \"" << r.question << "\" got " << r.status << ", sent "
            << std::chrono::duration_cast<std::chrono::milliseconds>(r.start - kill_done).count()
            << " ms after the kill: " << r.raw;
        continue;
      }
      if (r.start > kill_done) ++answered_after;
      // The conversation's context is there on whichever instance answered.
      if (r.question.starts_with("what about")) {
        EXPECT_THAT(r.sql, HasSubstr("GROUP BY")) << r.question;
        EXPECT_THAT(r.sql, HasSubstr(r.question.substr(11, 4) + "-01-01")) << r.question;
      } else if (r.question.starts_with("by ")) {
        EXPECT_THAT(r.sql, HasSubstr("order_date >= '20")) << r.question << ": " << r.sql;
      }
    }
    EXPECT_GE(answered_after, kRequestsAfterKill - 1) << "client " << c;
    // Turns after the kill were added to the same conversation, kept in Redis.
    Reply view = Get(nginx_port_, token, "/api/v1/sessions/" + sessions[c]);
    ASSERT_EQ(view.status, 200) << view.raw;
    const int answered = static_cast<int>(std::count_if(
        log[c].begin(), log[c].end(), [](const Request& r) { return r.status == 200; }));
    const int lost = static_cast<int>(log[c].size()) - answered;
    EXPECT_GE(view.body["turn_count"].get<int>(), std::min(answered, 50)) << view.raw;
    EXPECT_LE(view.body["turn_count"].get<int>(), answered + lost) << view.raw;
  }
  EXPECT_LE(failed, kClients) << "each client has one request in flight at most";
  EXPECT_EQ(failed, in_flight_failed);
  EXPECT_EQ(clients_done.load(), kClients);
}

TEST_F(ClusterTest, TheServiceAnswersWhileRedisIsDownAndUsesItAgainWhenItReturns) {
  const std::string token = Login(nginx_port_, "alice");
  ASSERT_EQ(Ask(nginx_port_, token, "how many customers are there").status, 200);
  Reply ready = Get(ports_[0], "", "/ready");
  ASSERT_EQ(ready.status, 200) << ready.raw;
  EXPECT_EQ(ready.body["dependencies"]["redis"]["status"], "ok") << ready.raw;

  ASSERT_TRUE(redis_.Stop());
  for (int i = 0; i < 6; ++i) {
    Reply r = Ask(nginx_port_, token, i % 2 ? "total revenue by country" : "top 3 products");
    EXPECT_EQ(r.status, 200) << i << ": " << r.raw;
  }
  // A conversation on one instance goes on from its own memory meanwhile.
  Reply opened = Ask(ports_[1], token, "total revenue by country");
  ASSERT_EQ(opened.status, 200) << opened.raw;
  Reply follow = Ask(ports_[1], token, "only in Germany", opened.body["session_id"]);
  ASSERT_EQ(follow.status, 200) << follow.raw;
  EXPECT_THAT(follow.body["sql"].get<std::string>(), HasSubstr("'Germany'"));
  for (int port : ports_) {
    // Redis is not required: the instance stays ready, so it is not taken out of rotation.
    Reply still_ready = Get(port, "", "/ready");
    EXPECT_EQ(still_ready.status, 200) << still_ready.raw;
    EXPECT_EQ(still_ready.body["status"], "ok") << still_ready.raw;
    EXPECT_EQ(still_ready.body["dependencies"]["redis"]["status"], "down") << still_ready.raw;
  }
  EXPECT_THAT(instances_[1]->out(), HasSubstr("Redis is unreachable"));

  ASSERT_TRUE(redis_.Start());
  std::this_thread::sleep_for(1500ms);  // past the client's retry_after
  Reply back = Ask(ports_[0], token, "total revenue by country");
  ASSERT_EQ(back.status, 200) << back.raw;
  // Shared again: a session opened through one instance continues through the other.
  Reply next = Ask(ports_[1], token, "only in France", back.body["session_id"]);
  ASSERT_EQ(next.status, 200) << next.raw;
  EXPECT_EQ(next.body["turn"].get<int>(), 2);
  EXPECT_THAT(next.body["sql"].get<std::string>(), HasSubstr("'France'"));
  Reply ready_again = Get(ports_[0], "", "/ready");
  EXPECT_EQ(ready_again.status, 200) << ready_again.raw;
  EXPECT_EQ(ready_again.body["dependencies"]["redis"]["status"], "ok") << ready_again.raw;
  EXPECT_THAT(instances_[0]->out(), HasSubstr("Redis is reachable again"));
}

}  // namespace
}  // namespace helios
