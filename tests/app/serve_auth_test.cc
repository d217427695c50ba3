// The real binary serving with authentication: start-up refusals (no secret, a short secret,
// no users file, authentication off on a public address), and a whole exchange over HTTP —
// login, questions, tenant and user isolation of sessions, rate-limit headers, metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sched.h>

#include <algorithm>
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
#include "support/secret_capture.h"
#include "support/served_binary.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kSecret[] = "an-end-to-end-test-secret-of-more-than-32-bytes";
constexpr char kPassword[] = "a long enough password";

// The binary serving in dir, its output in files there; stopped when it goes out of scope.
class Child : public testing::ServedBinary {
 public:
  Child(const std::vector<std::string>& args, const fs::path& dir,
        const std::vector<std::string>& extra_env)
      : ServedBinary(HELIOS_BINARY, args, dir, extra_env) {
    EXPECT_TRUE(started());
  }
};

class ServeAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::RegisterSecretForScan(kPassword);
    dir_ = fs::temp_directory_path() / ("helios-serve-auth-" + text::NewUuid());
    fs::create_directories(dir_);
    fs::copy_file(HELIOS_DEMO_DB, dir_ / "demo.db");
    auth::UserStore users;
    // Cheap hashes: the test is about behaviour, not cost.
    const auth::PasswordParams cheap{1024, 1, 1};
    for (auto [name, tenant] :
         {std::pair{"alice", "acme"}, std::pair{"bob", "globex"}, std::pair{"carol", "acme"}}) {
      auto hash = auth::HashPassword(kPassword, cheap);
      ASSERT_TRUE(hash.has_value());
      ASSERT_TRUE(users.Add(auth::User{name, tenant, {"analyst"}, *hash}).has_value());
    }
    ASSERT_TRUE(users.Save((dir_ / "users.json").string()).has_value());
    std::ofstream(dir_ / "server.toml") << "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
                                        << "[metrics]\nprometheus_port = 0\n"
                                        << "[auth]\nusers_file = \"users.json\"\n"
                                        << "[production.rate_limiting]\nburst_allowance = 3\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A token for the user (whose password is kPassword); empty, with a failure, when refused.
  static std::string TokenOf(httplib::Client& client, const std::string& user) {
    auto res =
        client.Post("/api/v1/auth/login",
                    json({{"username", user}, {"password", kPassword}}).dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    return res ? json::parse(res->body).value("token", "") : std::string();
  }

  // POST /api/v1/query as `who`, continuing `session` unless it is empty.
  static httplib::Result Ask(httplib::Client& client, const httplib::Headers& who,
                             const std::string& question, const std::string& session) {
    json body = {{"query", question}};
    if (!session.empty()) body["session_id"] = session;
    return client.Post("/api/v1/query", who, body.dump(), "application/json");
  }

  std::vector<std::string> ServeArgs() const {
    return {"--config", "server.toml", "serve", "--database", "sqlite://demo.db"};
  }

  fs::path dir_;
};

TEST_F(ServeAuthTest, RefusesToStartWithoutAStrongSecret) {
  Child none(ServeArgs(), dir_, {});
  ASSERT_EQ(none.Wait(60s), 1) << none.err();
  EXPECT_THAT(none.err(), HasSubstr("JWT_SECRET is not set"));

  Child short_secret(ServeArgs(), dir_, {"JWT_SECRET=only-twenty-bytes-long"});
  ASSERT_NE(short_secret.Wait(60s).value_or(0), 0);
  EXPECT_THAT(short_secret.err(), HasSubstr("at least 32 bytes"));
  EXPECT_THAT(short_secret.err(), ::testing::Not(HasSubstr("only-twenty-bytes-long")));
}

TEST_F(ServeAuthTest, RefusesToStartWithoutTheUsersFile) {
  fs::remove(dir_ / "users.json");
  Child child(ServeArgs(), dir_, {std::string("JWT_SECRET=") + kSecret});
  ASSERT_EQ(child.Wait(60s), 1) << child.err();
  EXPECT_THAT(child.err(), HasSubstr("user add"));
}

TEST_F(ServeAuthTest, AuthenticationOffOnlyOnLoopbackAndWithAWarning) {
  std::ofstream(dir_ / "open.toml") << "[server]\nport = 0\n[metrics]\nenabled = false\n"
                                    << "[auth]\nenabled = false\n";
  Child public_host(
      {"--config", "open.toml", "serve", "--host", "0.0.0.0", "--database", "sqlite://demo.db"},
      dir_, {});
  ASSERT_NE(public_host.Wait(60s).value_or(0), 0);
  EXPECT_THAT(public_host.err(), HasSubstr("may be false only when [server] host is a loopback"));

  Child loopback({"--config", "open.toml", "serve", "--database", "sqlite://demo.db"}, dir_, {});
  int port = loopback.PortOf("listening");
  ASSERT_GT(port, 0) << loopback.err();
  EXPECT_THAT(loopback.out(), HasSubstr("authentication is OFF"));
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post("/api/v1/query", R"({"query":"How many customers are there?"})",
                         "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

// glibc's malloc keeps up to 8 arenas per core; the server caps them at its CPUs (at least 2)
// so that its resident size levels off under load (scripts/soak.sh), unless the operator set a
// number, which is then left alone.
TEST_F(ServeAuthTest, MallocArenasAreCappedAtTheCpusUnlessTheOperatorSetsThem) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The binary under test is built like this test: a sanitizer's allocator stands in for
  // glibc's malloc there, and has no arenas to cap (its mallopt does nothing).
  GTEST_SKIP() << "built with a sanitizer: glibc's malloc is not in use";
#endif
  std::ofstream(dir_ / "open.toml") << "[server]\nport = 0\n[metrics]\nenabled = false\n"
                                    << "[auth]\nenabled = false\n";
  const std::vector<std::string> args = {"--config", "open.toml", "serve", "--database",
                                         "sqlite://demo.db"};
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  const int expected = std::max(2, CPU_COUNT(&set));
  {
    Child server(args, dir_, {});
    ASSERT_GT(server.PortOf("listening"), 0) << server.err();
    std::optional<int> arenas;
    for (const auto& line : text::Split(server.out(), '\n')) {
      auto entry = json::parse(line, nullptr, false);
      if (!entry.is_discarded() && entry.value("message", "") == "malloc arenas limited") {
        arenas = entry.value("arenas", 0);
      }
    }
    ASSERT_TRUE(arenas.has_value()) << server.out();
    EXPECT_EQ(*arenas, expected);
  }
  for (const std::string env : {"MALLOC_ARENA_MAX=3", "GLIBC_TUNABLES=glibc.malloc.arena_max=3"}) {
    Child server(args, dir_, {env});
    ASSERT_GT(server.PortOf("listening"), 0) << server.err();
    EXPECT_THAT(server.out(), ::testing::Not(HasSubstr("malloc arenas limited"))) << env;
  }
}

TEST_F(ServeAuthTest, TenantsNeverSeeEachOthersSessions) {
  Child server(ServeArgs(), dir_, {std::string("JWT_SECRET=") + kSecret});
  int port = server.PortOf("listening");
  ASSERT_GT(port, 0) << server.err() << server.out();
  int metrics_port = server.PortOf("metrics listening");
  ASSERT_GT(metrics_port, 0);
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);

  const httplib::Headers alice = {{"Authorization", "Bearer " + TokenOf(client, "alice")}};
  const httplib::Headers bob = {{"Authorization", "Bearer " + TokenOf(client, "bob")}};
  auto ask = [&](const httplib::Headers& who, const std::string& q, const std::string& session) {
    return Ask(client, who, q, session);
  };

  EXPECT_EQ(
      client
          .Post("/api/v1/query", R"({"query":"How many customers are there?"})", "application/json")
          ->status,
      401);

  auto first = ask(alice, "How many customers are in Germany?", "");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(first->get_header_value("X-RateLimit-Remaining"), "2");
  const std::string session = json::parse(first->body)["session_id"];

  auto peek = client.Get("/api/v1/sessions/" + session, bob);
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->status, 404);
  EXPECT_THAT(peek->body, ::testing::Not(HasSubstr("Germany")));
  EXPECT_EQ(client.Delete("/api/v1/sessions/" + session, bob)->status, 404);

  // Bob continuing "alice's" session id starts a conversation of his own: his follow-up has
  // no previous question to edit.
  auto hijack = ask(bob, "only in France", session);
  ASSERT_TRUE(hijack);
  if (hijack->status == 200) {
    json body = json::parse(hijack->body);
    EXPECT_EQ(body["turn"], 1) << hijack->body;
    EXPECT_THAT(body["sql"].get<std::string>(), ::testing::Not(HasSubstr("Germany")));
  } else {
    EXPECT_EQ(hijack->status, 422) << hijack->body;
  }

  auto follow = ask(alice, "only in France", session);
  ASSERT_TRUE(follow);
  ASSERT_EQ(follow->status, 200) << follow->body;
  json answer = json::parse(follow->body);
  EXPECT_EQ(answer["turn"], 2);
  EXPECT_THAT(answer["sql"].get<std::string>(), HasSubstr("France"));

  auto history = client.Get("/api/v1/sessions/" + session, alice);
  ASSERT_EQ(history->status, 200);
  EXPECT_EQ(json::parse(history->body)["turn_count"], 2);

  // The burst of 3 is spent (two questions of alice's, none of bob's counted against acme).
  auto limited = ask(alice, "How many products are there?", "");
  EXPECT_EQ(limited->status, 200);
  auto refused = ask(alice, "How many products are there?", "");
  EXPECT_EQ(refused->status, 429);
  EXPECT_FALSE(refused->get_header_value("Retry-After").empty());
  EXPECT_EQ(ask(bob, "How many products are there?", "")->status, 200);

  httplib::Client metrics("127.0.0.1", metrics_port);
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_EQ(scraped->status, 200);
  EXPECT_THAT(scraped->body, HasSubstr("queries_total{tenant=\"acme\"} 3"));
  EXPECT_THAT(scraped->body, HasSubstr("rate_limit_rejections_total{tenant=\"acme\"} 1"));
  EXPECT_THAT(scraped->body, HasSubstr("circuit_breaker_state{service=\"nl2sql\"} 0"));
  // SQLite's memory, read when scraped: the pool's connections hold schemas and pages.
  const size_t at = scraped->body.find("\nsqlite_memory_bytes ");
  ASSERT_NE(at, std::string::npos) << scraped->body;
  EXPECT_GT(std::stod(scraped->body.substr(at + 21)), 64 * 1024) << scraped->body.substr(at, 40);
  server.Stop();
  EXPECT_THAT(server.out(), HasSubstr("Rate limit exceeded"));
}

// The error body's message; empty when the body is not an error.
std::string ErrorMessage(const httplib::Result& res) {
  if (!res) return "no response";
  json body = json::parse(res->body, nullptr, false);
  if (!body.is_object() || !body.contains("error")) return "";
  return body["error"].value("message", "");
}

// Two analysts of one tenant: a conversation is its starter's. The colleague can neither list,
// read, continue, mark nor end it, and each refusal is the 404 an unknown session gets.
TEST_F(ServeAuthTest, AColleagueOfTheSameTenantFindsNothingOfAConversation) {
  Child server(ServeArgs(), dir_, {std::string("JWT_SECRET=") + kSecret});
  const int port = server.PortOf("listening");
  ASSERT_GT(port, 0) << server.err() << server.out();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);

  const httplib::Headers alice = {{"Authorization", "Bearer " + TokenOf(client, "alice")}};
  const httplib::Headers carol = {{"Authorization", "Bearer " + TokenOf(client, "carol")}};
  auto ask = [&](const httplib::Headers& who, const std::string& q, const std::string& session) {
    return Ask(client, who, q, session);
  };
  auto listed_ids = [&](const httplib::Headers& who) {
    std::vector<std::string> ids;
    auto res = client.Get("/api/v1/sessions", who);
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    if (!res || res->status != 200) return ids;
    const json body = json::parse(res->body);
    for (const auto& s : body["sessions"]) ids.push_back(s["session_id"]);
    return ids;
  };

  auto first = ask(alice, "How many customers are in Germany?", "");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  const std::string session = json::parse(first->body)["session_id"];

  // What anyone gets for a session that does not exist, with this session's id in it.
  auto unknown = client.Get("/api/v1/sessions/no-such-session", carol);
  ASSERT_TRUE(unknown);
  ASSERT_EQ(unknown->status, 404);
  std::string expected = ErrorMessage(unknown);
  ASSERT_THAT(expected, HasSubstr("no-such-session"));
  expected.replace(expected.find("no-such-session"), std::string("no-such-session").size(),
                   session);

  auto peek = client.Get("/api/v1/sessions/" + session, carol);
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->status, 404);
  EXPECT_EQ(ErrorMessage(peek), expected);
  EXPECT_THAT(peek->body, ::testing::Not(HasSubstr("Germany")));
  EXPECT_THAT(peek->body, ::testing::Not(HasSubstr("alice")));

  auto hijack = ask(carol, "only in France", session);
  ASSERT_TRUE(hijack);
  EXPECT_EQ(hijack->status, 404) << hijack->body;
  EXPECT_EQ(ErrorMessage(hijack), expected);

  const json feedback = {{"session_id", session}, {"turn", 1}, {"correct", true}};
  auto marked = client.Post("/api/v1/feedback", carol, feedback.dump(), "application/json");
  ASSERT_TRUE(marked);
  EXPECT_EQ(marked->status, 404) << marked->body;
  EXPECT_EQ(ErrorMessage(marked), expected);

  auto ended = client.Delete("/api/v1/sessions/" + session, carol);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->status, 404) << ended->body;
  EXPECT_EQ(ErrorMessage(ended), expected);

  EXPECT_TRUE(listed_ids(carol).empty());
  EXPECT_EQ(listed_ids(alice), std::vector<std::string>{session});

  // Alice's conversation is as she left it, and goes on.
  auto history = client.Get("/api/v1/sessions/" + session, alice);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->status, 200) << history->body;
  EXPECT_EQ(json::parse(history->body)["turn_count"], 1);
  auto follow = ask(alice, "only in France", session);
  ASSERT_TRUE(follow);
  ASSERT_EQ(follow->status, 200) << follow->body;
  const json answer = json::parse(follow->body);
  EXPECT_EQ(answer["turn"], 2);
  EXPECT_THAT(answer["sql"].get<std::string>(), HasSubstr("France"));
  auto mine = client.Post("/api/v1/feedback", alice, feedback.dump(), "application/json");
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->status, 204) << mine->body;
  EXPECT_EQ(client.Delete("/api/v1/sessions/" + session, alice)->status, 204);
  EXPECT_TRUE(listed_ids(alice).empty());
  server.Stop();
}

}  // namespace
}  // namespace helios::app
