// The real binary serving with authentication, two analysts of one tenant: a conversation is
// its starter's. The colleague can neither list, read, continue, mark nor end it, and each
// refusal is the 404 an unknown session gets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/password.h"
#include "auth/user_store.h"
#include "common/text.h"
#include "support/served_binary.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kSecret[] = "an-end-to-end-test-secret-of-more-than-32-bytes";
constexpr char kPassword[] = "a long enough password";

class SessionOwnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("helios-session-owner-" + text::NewUuid());
    fs::create_directories(dir_);
    fs::copy_file(HELIOS_DEMO_DB, dir_ / "demo.db");
    auth::UserStore users;
    const auth::PasswordParams cheap{1024, 1, 1};  // the test is about behaviour, not cost
    for (const char* name : {"alice", "carol"}) {
      auto hash = auth::HashPassword(kPassword, cheap);
      ASSERT_TRUE(hash.has_value());
      ASSERT_TRUE(users.Add(auth::User{name, "acme", {"analyst"}, *hash}).has_value());
    }
    ASSERT_TRUE(users.Save((dir_ / "users.json").string()).has_value());
    std::ofstream(dir_ / "server.toml") << "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
                                        << "[metrics]\nenabled = false\n"
                                        << "[auth]\nusers_file = \"users.json\"\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

// The error body's message; empty when the body is not an error.
std::string ErrorMessage(const httplib::Result& res) {
  if (!res) return "no response";
  json body = json::parse(res->body, nullptr, false);
  if (!body.is_object() || !body.contains("error")) return "";
  return body["error"].value("message", "");
}

TEST_F(SessionOwnerTest, AColleagueOfTheSameTenantFindsNothingOfAConversation) {
  testing::ServedBinary server(
      HELIOS_BINARY, {"--config", "server.toml", "serve", "--database", "sqlite://demo.db"}, dir_,
      {std::string("JWT_SECRET=") + kSecret});
  ASSERT_TRUE(server.started());
  const int port = server.PortOf("listening");
  ASSERT_GT(port, 0) << server.err() << server.out();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);

  auto token_of = [&](const std::string& user) {
    auto res =
        client.Post("/api/v1/auth/login",
                    json({{"username", user}, {"password", kPassword}}).dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    return res ? json::parse(res->body).value("token", "") : std::string();
  };
  const httplib::Headers alice = {{"Authorization", "Bearer " + token_of("alice")}};
  const httplib::Headers carol = {{"Authorization", "Bearer " + token_of("carol")}};
  auto ask = [&](const httplib::Headers& who, const std::string& q, const std::string& session) {
    json body = {{"query", q}};
    if (!session.empty()) body["session_id"] = session;
    return client.Post("/api/v1/query", who, body.dump(), "application/json");
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
