// The real Application (demo database, engine, sessions, pipeline) behind the real HTTP server
// on an ephemeral port, driven over HTTP.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/application.h"
#include "common/clock.h"
#include "config/config.h"
#include "db/demo_data.h"
#include "db/open.h"
#include "observability/logger.h"
#include "server/http_server.h"

namespace helios::app {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr char kQueryPath[] = "/api/v1/query";
constexpr size_t kMaxQueryLength = 200;

class ServerIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("helios-server-it-" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    std::string path = HELIOS_DEMO_DB;

    config::Config config;
    config.database.url = "sqlite://" + path;
    config.database.pool_size = 4;
    config.server.max_result_rows = 100;
    clock_ = new SystemClock();
    log_ = new std::ostringstream();
    logger_ = new observability::Logger(*log_, observability::LogLevel::kWarn,
                                        observability::LogFormat::kJson, *clock_);
    auto app = Application::Build(config, *clock_, *logger_);
    ASSERT_TRUE(app.has_value()) << app.error().message;
    app_ = app->release();

    server::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 8;
    options.max_query_length = kMaxQueryLength;
    options.version = VersionString();
    options.keep_alive_timeout = 1s;
    server_ = new server::HttpServer(app_->service(), *logger_, *clock_, options);
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
    run_ = new std::future<void>(std::async(std::launch::async, [] { server_->Run(); }));
  }

  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      server_->Stop();
      if (run_ != nullptr) run_->wait();
    }
    delete run_;
    delete server_;
    delete app_;
    delete logger_;
    delete log_;
    delete clock_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  void SetUp() override { ASSERT_GT(port_, 0) << "the server did not start"; }

  static std::unique_ptr<httplib::Client> Client() {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_connection_timeout(5s);
    c->set_read_timeout(30s);
    return c;
  }

  static httplib::Result PostQuery(httplib::Client& c, const json& body) {
    return c.Post(kQueryPath, body.dump(), "application/json");
  }

  // POSTs the body and returns the decoded reply, checking the status.
  static json Query(const json& body, int expected_status) {
    auto c = Client();
    auto res = PostQuery(*c, body);
    EXPECT_TRUE(res) << "request failed: " << httplib::to_string(res.error());
    if (!res) return json();
    EXPECT_EQ(res->status, expected_status) << res->body;
    EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("application/json"));
    return json::parse(res->body, nullptr, false);
  }

  static void ExpectError(const json& reply, const std::string& code) {
    ASSERT_TRUE(reply.is_object()) << reply.dump();
    ASSERT_TRUE(reply.contains("error")) << reply.dump();
    EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
    ASSERT_TRUE(reply["error"]["message"].is_string());
    EXPECT_FALSE(reply["error"]["message"].get<std::string>().empty());
  }

  static fs::path* dir_;
  static Clock* clock_;
  static std::ostringstream* log_;
  static observability::Logger* logger_;
  static Application* app_;
  static server::HttpServer* server_;
  static std::future<void>* run_;
  static int port_;
};

fs::path* ServerIntegrationTest::dir_ = nullptr;
Clock* ServerIntegrationTest::clock_ = nullptr;
std::ostringstream* ServerIntegrationTest::log_ = nullptr;
observability::Logger* ServerIntegrationTest::logger_ = nullptr;
Application* ServerIntegrationTest::app_ = nullptr;
server::HttpServer* ServerIntegrationTest::server_ = nullptr;
std::future<void>* ServerIntegrationTest::run_ = nullptr;
int ServerIntegrationTest::port_ = 0;

TEST_F(ServerIntegrationTest, HealthSaysAliveAndReadyReportsTheDatabase) {
  auto c = Client();
  auto alive = c->Get("/health");
  ASSERT_TRUE(alive) << httplib::to_string(alive.error());
  EXPECT_EQ(alive->status, 200);
  EXPECT_EQ(json::parse(alive->body)["status"], "alive");
  EXPECT_FALSE(json::parse(alive->body).contains("dependencies")) << alive->body;

  auto res = c->Get("/ready");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  json h = json::parse(res->body);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["version"], VersionString());
  EXPECT_TRUE(h["uptime_seconds"].is_number_integer());
  ASSERT_TRUE(h["dependencies"].contains("database")) << res->body;
  EXPECT_EQ(h["dependencies"]["database"]["status"], "ok");
  EXPECT_THAT(h["dependencies"]["database"]["detail"].get<std::string>(), HasSubstr("demo.db"));
  EXPECT_THAT(res->body,
              ::testing::Not(HasSubstr(fs::path(HELIOS_DEMO_DB).parent_path().string())));
}

TEST_F(ServerIntegrationTest, QueryAnswersWithTheDocumentedFields) {
  json a = Query({{"query", "How many customers are there?"}}, 200);
  ASSERT_TRUE(a.is_object());
  EXPECT_TRUE(a["session_id"].is_string());
  EXPECT_FALSE(a["session_id"].get<std::string>().empty());
  EXPECT_EQ(a["turn"], 1);
  EXPECT_TRUE(a["turn"].is_number_integer());
  ASSERT_TRUE(a["sql"].is_string());
  EXPECT_THAT(a["sql"].get<std::string>(), HasSubstr("customers"));
  EXPECT_TRUE(a["explanation"].is_string());
  EXPECT_EQ(a["columns"].size(), 1u);
  EXPECT_TRUE(a["columns"][0].is_string());
  ASSERT_TRUE(a["rows"].is_array());
  ASSERT_EQ(a["rows"].size(), 1u);
  ASSERT_TRUE(a["rows"][0][0].is_number_integer());
  EXPECT_EQ(a["rows"][0][0].get<int64_t>(), 5000);
  EXPECT_EQ(a["row_count"], 1);
  EXPECT_EQ(a["truncated"], false);
  EXPECT_EQ(a["source"], "engine");
  ASSERT_TRUE(a["confidence"].is_number());
  EXPECT_GT(a["confidence"].get<double>(), 0.0);
  EXPECT_LE(a["confidence"].get<double>(), 1.0);
  EXPECT_EQ(a["cache_hit"], false);
  ASSERT_TRUE(a["latency_ms"].is_number());
  EXPECT_GE(a["latency_ms"].get<double>(), 0.0);
  ASSERT_TRUE(a["chart"].is_object());
  EXPECT_EQ(a["chart"]["type"], "number");
  EXPECT_TRUE(a["chart"]["x"].is_string());
  EXPECT_TRUE(a["chart"]["y"].is_array());
}

TEST_F(ServerIntegrationTest, RowsKeepTheirJsonTypes) {
  json a = Query({{"query", "Revenue by country"}}, 200);
  ASSERT_TRUE(a["rows"].is_array());
  ASSERT_FALSE(a["rows"].empty());
  bool text = false, number = false;
  for (const json& cell : a["rows"][0]) {
    text |= cell.is_string();
    number |= cell.is_number_float();
  }
  EXPECT_TRUE(text) << a["rows"][0].dump();
  EXPECT_TRUE(number) << a["rows"][0].dump();
  EXPECT_EQ(a["chart"]["type"], "bar");
}

TEST_F(ServerIntegrationTest, ThreeTurnConversationThroughSessionId) {
  json first = Query({{"query", "How many customers are there?"}}, 200);
  std::string session = first["session_id"];
  json second = Query({{"session_id", session}, {"query", "only in Germany"}}, 200);
  json third = Query({{"session_id", session}, {"query", "what about France"}}, 200);
  EXPECT_EQ(second["session_id"], session);
  EXPECT_EQ(third["session_id"], session);
  EXPECT_EQ(second["turn"], 2);
  EXPECT_EQ(third["turn"], 3);
  int64_t all = first["rows"][0][0], germany = second["rows"][0][0], france = third["rows"][0][0];
  EXPECT_EQ(all, 5000);
  EXPECT_GT(germany, 0);
  EXPECT_LT(germany, all);
  EXPECT_GT(france, 0);
  EXPECT_LT(france, all);
  EXPECT_NE(germany, france);
  EXPECT_THAT(second["sql"].get<std::string>(), HasSubstr("'Germany'"));
  EXPECT_THAT(third["sql"].get<std::string>(), HasSubstr("'France'"));

  // A new conversation does not inherit the filter.
  json fresh = Query({{"query", "How many customers are there?"}}, 200);
  EXPECT_NE(fresh["session_id"], session);
  EXPECT_EQ(fresh["turn"], 1);
  EXPECT_EQ(fresh["rows"][0][0], 5000);
}

TEST_F(ServerIntegrationTest, MalformedJsonIsBadRequest) {
  auto c = Client();
  auto res = c->Post(kQueryPath, "{\"query\": \"How many", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  ExpectError(json::parse(res->body), "invalid_argument");
}

TEST_F(ServerIntegrationTest, MissingOrBlankQueryIsBadRequest) {
  ExpectError(Query({{"session_id", "abc"}}, 400), "invalid_argument");
  ExpectError(Query({{"query", "   "}}, 400), "invalid_argument");
  ExpectError(Query({{"query", 42}}, 400), "invalid_argument");
  ExpectError(Query(json::array({"How many customers are there?"}), 400), "invalid_argument");
}

TEST_F(ServerIntegrationTest, QueryOverTheLengthLimitIsPayloadTooLarge) {
  json at_limit = Query(
      {{"query", "How many customers are there?" + std::string(kMaxQueryLength - 29, ' ')}}, 200);
  EXPECT_EQ(at_limit["rows"][0][0], 5000);
  json over = Query({{"query", std::string(kMaxQueryLength + 1, 'a')}}, 413);
  ExpectError(over, "payload_too_large");
}

TEST_F(ServerIntegrationTest, NotUnderstoodIs422) {
  json reply = Query({{"query", "purple monkey dishwasher"}}, 422);
  ExpectError(reply, "not_understood");
  EXPECT_THAT(reply["error"]["message"].get<std::string>(), HasSubstr("customers"));
}

TEST_F(ServerIntegrationTest, UnknownDatabaseIs404) {
  json reply = Query({{"query", "How many customers are there?"}, {"database", "warehouse"}}, 404);
  ExpectError(reply, "not_found");
  json ok = Query({{"query", "How many customers are there?"}, {"database", "default"}}, 200);
  EXPECT_EQ(ok["rows"][0][0], 5000);
}

TEST_F(ServerIntegrationTest, ConcurrentRequestsAllSucceed) {
  constexpr int kThreads = 8, kPerThread = 3;
  std::atomic<int> succeeded{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client();
      std::string session;
      const char* questions[kPerThread] = {"How many customers are there?", "only in Germany",
                                           "what about France"};
      for (int i = 0; i < kPerThread; ++i) {
        json body = {{"query", questions[i]}};
        if (!session.empty()) body["session_id"] = session;
        auto res = PostQuery(*c, body);
        if (!res || res->status != 200) {
          failures[t] += res ? res->body : httplib::to_string(res.error());
          return;
        }
        json a = json::parse(res->body);
        session = a["session_id"];
        if (a["turn"] != i + 1) {
          failures[t] += "turn " + a["turn"].dump();
          return;
        }
        ++succeeded;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_EQ(succeeded.load(), kThreads * kPerThread);
}

TEST_F(ServerIntegrationTest, UnknownPathIs404) {
  auto c = Client();
  auto res = c->Get("/no/such/path");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

// A server of its own, so stopping it does not affect the other tests.
TEST_F(ServerIntegrationTest, StopEndsRun) {
  server::ServerOptions options;
  options.port = 0;
  options.workers = 2;
  options.keep_alive_timeout = 1s;
  server::HttpServer server(app_->service(), *logger_, *clock_, options);
  auto port = server.Bind();
  ASSERT_TRUE(port.has_value()) << port.error().message;
  auto run = std::async(std::launch::async, [&] { server.Run(); });
  // Stops the server however the test leaves, so that `run` can always be joined.
  struct StopGuard {
    server::HttpServer& s;
    ~StopGuard() { s.Stop(); }
  } guard{server};
  {
    httplib::Client c("127.0.0.1", *port);
    auto res = c.Get("/health");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
  server.Stop();
  ASSERT_EQ(run.wait_for(10s), std::future_status::ready) << "Run() did not return after Stop()";
  server.Stop();  // idempotent
  httplib::Client after("127.0.0.1", *port);
  after.set_connection_timeout(1s);
  EXPECT_FALSE(after.Get("/health"));
}

}  // namespace
}  // namespace helios::app
