// The real binary serving questions about a PostgreSQL server of the test's own: a warning
// at start-up when its role could write, and the server failing: stopped in the middle of a run
// (503s with a clear message, no request left hanging), started again (answers again, with no
// restart of ours), and a pool exhausted by queries that wait on a lock (503 after
// connection_timeout_secs, not a pile of waiting threads).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/text.h"
#include "support/child_process.h"
#include "support/served_binary.h"
#include "support/test_databases.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ServerKind;

// The password of a URL (between "user:" and "@"), to check that no reply shows it.
std::string PasswordOf(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  const size_t colon = url.find(':', scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos || colon > at) return "";
  return url.substr(colon + 1, at - colon - 1);
}

struct Reply {
  int status = 0;  // 0: no reply at all
  std::string body;
  std::chrono::milliseconds took{0};
};

class DatabaseFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "server");
    auto server = testing::StartPrivateServer(ServerKind::kPostgres, (dir_.path() / "pg").string());
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = *server;
    ASSERT_GE(PasswordOf(server_.reader_url).size(), 8u);  // the checks below look for it
    auto loaded =
        testing::RunDbServerScript("load-demo", ServerKind::kPostgres, server_.dir, HELIOS_BINARY);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  }
  void TearDown() override { (void)testing::StopPrivateServer(ServerKind::kPostgres, server_.dir); }

  // Serves the private server's demo data with these [database] settings.
  std::unique_ptr<testing::ServedBinary> Serve(int pool_size, int connection_timeout_secs,
                                               int statement_timeout_secs) {
    const fs::path dir = dir_.path() / "server";
    std::ofstream(dir / "server.toml")
        << "[server]\nhost = \"127.0.0.1\"\nport = 0\nworkers = 16\n"
        << "[auth]\nenabled = false\n[metrics]\nenabled = false\n"
        << "[production.rate_limiting]\nenabled = false\n"
        << "[database]\npool_size = " << pool_size << "\nmax_idle_connections = " << pool_size
        << "\nconnection_timeout_secs = " << connection_timeout_secs
        << "\nstatement_timeout_secs = " << statement_timeout_secs << "\n";
    auto served = std::make_unique<testing::ServedBinary>(
        HELIOS_BINARY, std::vector<std::string>{"--config", "server.toml", "serve"}, dir,
        std::vector<std::string>{"DATABASE_URL=" + server_.reader_url});
    port_ = served->PortOf("listening");
    EXPECT_NE(port_, 0) << served->out() << served->err();
    return served;
  }

  Reply Ask(const std::string& question) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60s);
    const auto start = std::chrono::steady_clock::now();
    auto res = client.Post("/api/v1/query", json({{"query", question}}).dump(), "application/json");
    Reply r;
    r.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    if (res) {
      r.status = res->status;
      r.body = res->body;
    }
    return r;
  }

  testing::TempDir dir_{"helios-db-faults"};
  testing::TestServer server_;
  int port_ = 0;
};

TEST_F(DatabaseFaultsTest, StoppedDatabaseGives503sAndARestartedOneAnswersAgain) {
  auto served = Serve(/*pool_size=*/4, /*connection_timeout_secs=*/2, /*statement_timeout_secs=*/5);
  ASSERT_NE(port_, 0);
  Reply first = Ask("How many customers are there?");
  ASSERT_EQ(first.status, 200) << first.body;

  // Four clients ask without pause while the database goes away under them.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<Reply> during;
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      const std::string questions[] = {"How many orders are there?", "revenue by country",
                                       "top 5 products by quantity sold",
                                       "average order value by segment"};
      while (!stop) {
        Reply r = Ask(questions[i]);
        std::lock_guard lock(mu);
        during.push_back(std::move(r));
      }
    });
  }
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(testing::StopPrivateServer(ServerKind::kPostgres, server_.dir).has_value());
  std::this_thread::sleep_for(4s);
  stop = true;
  for (auto& t : clients) t.join();

  size_t unavailable = 0;
  for (const Reply& r : during) {
    // Every request got an answer, and none waited on the dead database for long.
    ASSERT_NE(r.status, 0) << "a request got no reply";
    EXPECT_LT(r.took, 15s) << r.body;
    EXPECT_THAT(r.status, ::testing::AnyOf(200, 503)) << r.body;
    if (r.status == 503) {
      ++unavailable;
      json body = json::parse(r.body);
      EXPECT_EQ(body["error"]["code"], "unavailable") << r.body;
      EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr("database")) << r.body;
      EXPECT_THAT(r.body, Not(HasSubstr(PasswordOf(server_.reader_url))));
    }
  }
  EXPECT_GT(unavailable, 0u) << "no request saw the database down";

  // While it is down, /ready says so, naming the source without its password; the process
  // is still alive (/health), so nothing restarts it.
  httplib::Client client("127.0.0.1", port_);
  auto health = client.Get("/ready");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503) << health->body;
  EXPECT_EQ(json::parse(health->body)["dependencies"]["database"]["status"], "down");
  EXPECT_THAT(health->body, Not(HasSubstr(PasswordOf(server_.reader_url))));
  auto alive = client.Get("/health");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200) << alive->body;

  // Started again: the very next question is answered, by the same server process.
  ASSERT_TRUE(testing::StartPrivateServer(ServerKind::kPostgres, server_.dir).has_value());
  Reply after = Ask("How many customers are there?");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(json::parse(after.body)["rows"], json::parse(first.body)["rows"]);
  health = client.Get("/ready");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  EXPECT_FALSE(served->Wait(0ms).has_value()) << "the server exited";
  // Its log told the story without ever naming the password.
  served->Stop();
  EXPECT_THAT(served->out(), HasSubstr("database"));
  EXPECT_THAT(served->out() + served->err(), Not(HasSubstr(PasswordOf(server_.reader_url))));
}

TEST_F(DatabaseFaultsTest, StartUpWarnsWhenTheRoleCanWrite) {
  auto ask = [&](const std::string& url) {
    return testing::RunToCompletion(
        {HELIOS_BINARY, "ask", "--database", url, "How many customers are there?"}, dir_.path(),
        testing::ChildEnvironment());
  };
  testing::RunResult owner = ask(server_.admin_url);
  EXPECT_EQ(owner.exit_code, 0) << owner.err;
  EXPECT_THAT(owner.out + owner.err, HasSubstr("the database role can write"));
  EXPECT_THAT(owner.out + owner.err, HasSubstr("superuser"));
  EXPECT_THAT(owner.out + owner.err, Not(HasSubstr(PasswordOf(server_.admin_url))));
  testing::RunResult reader = ask(server_.reader_url);
  EXPECT_EQ(reader.exit_code, 0) << reader.err;
  EXPECT_THAT(reader.out + reader.err, Not(HasSubstr("can write")));
  EXPECT_THAT(reader.out, HasSubstr("5000"));
}

TEST_F(DatabaseFaultsTest, ExhaustedPoolAnswers503AfterTheConnectionTimeout) {
  auto served =
      Serve(/*pool_size=*/2, /*connection_timeout_secs=*/1, /*statement_timeout_secs=*/30);
  ASSERT_NE(port_, 0);
  ASSERT_EQ(Ask("How many customers are there?").status, 200);

  // Another session of the owner holds a lock that every read of customers waits for.
  const auto psql = testing::FindProgram("psql");
  ASSERT_TRUE(psql.has_value());
  std::string error;
  auto locker = testing::ChildProcess::Start(
      {{psql->string(), server_.admin_url, "-v", "ON_ERROR_STOP=1", "-c",
        "BEGIN; LOCK TABLE customers IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;"},
       testing::ChildEnvironment(),
       "/dev/null",
       dir_.path() / "locker.out",
       dir_.path() / "locker.err",
       {}},
      &error);
  ASSERT_NE(locker, nullptr) << error;
  std::this_thread::sleep_for(1s);  // the lock is taken

  // Two questions take both connections and wait on the lock.
  std::vector<Reply> slow(2);
  std::vector<std::thread> waiting;
  for (int i = 0; i < 2; ++i) {
    waiting.emplace_back(
        [&, i] { slow[static_cast<size_t>(i)] = Ask("How many customers are there?"); });
  }
  std::this_thread::sleep_for(1s);
  Reply third = Ask("How many customers are in Germany?");
  EXPECT_EQ(third.status, 503) << third.body;
  EXPECT_THAT(third.body, HasSubstr("database connections are busy"));
  EXPECT_GE(third.took, 900ms);
  EXPECT_LT(third.took, 4s);
  for (auto& t : waiting) t.join();
  // When the lock goes, the waiting questions finish normally.
  for (const Reply& r : slow) EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(locker->Wait(30s), 0) << testing::ReadFile(dir_.path() / "locker.err");
  EXPECT_EQ(Ask("How many customers are in Germany?").status, 200);
}

}  // namespace
}  // namespace helios::app
