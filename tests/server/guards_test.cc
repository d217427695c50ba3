// The request guards of the HTTP server, over real sockets: authentication (401), roles (403),
// login throttling, per-tenant rate limiting (429 and its headers), tenant scoping of
// sessions, CORS and metrics. Time is a FakeClock: nothing sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "auth/authenticator.h"
#include "auth/password.h"
#include "auth/token.h"
#include "auth/user_store.h"
#include "common/clock.h"
#include "common/text.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "ratelimit/rate_limiter.h"
#include "resilience/circuit_breaker.h"
#include "server/http_server.h"
#include "server/test_fakes.h"
#include "support/secret_capture.h"

namespace helios::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test-secret";
constexpr char kPassword[] = "correct horse battery";
// Cheap Argon2id parameters: the tests check behaviour, not cost.
const auth::PasswordParams kCheap{256, 1, 1};

nl2sql::Answer AnswerFor(const nl2sql::AskRequest& request) {
  nl2sql::Answer answer;
  answer.session_id = request.session_id.empty() ? "s-new" : request.session_id;
  answer.turn = 1;
  answer.sql = "SELECT COUNT(*) FROM customers";
  answer.explanation = "tenant " + request.tenant_id;
  answer.columns = {"count"};
  answer.rows = {{int64_t{7}}};
  answer.row_count = 1;
  answer.source = "engine";
  return answer;
}

class GuardsTest : public ::testing::Test {
 protected:
  GuardsTest()
      : log_stream_(&log_buffer_),
        logger_(log_stream_, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                clock_),
        limiter_(clock_),
        metrics_(registry_) {
    service_.SetAsk([](const nl2sql::AskRequest& r) { return AnswerFor(r); });
    service_.SetHealth([] { return nl2sql::HealthReport{true, {}}; });
  }

  void SetUp() override {
    testing::RegisterSecretForScan(kSecret);
    testing::RegisterSecretForScan(kPassword);
    dir_ = std::filesystem::temp_directory_path() / ("helios-guards-" + text::NewUuid());
    std::filesystem::create_directories(dir_);
    auth::UserStore store;
    AddUser(store, "alice", "acme", {"analyst"});
    AddUser(store, "carol", "acme", {"analyst"});  // alice's colleague
    AddUser(store, "bob", "globex", {"analyst"});
    AddUser(store, "victor", "acme", {"viewer"});
    AddUser(store, "root", "acme", {"admin"});
    ASSERT_TRUE(store.Save(UsersFile()).has_value());
    auto users = auth::UserDirectory::Open(UsersFile(), clock_);
    ASSERT_TRUE(users.has_value()) << users.error().message;
    users_ = std::move(*users);
    auto tokens = auth::TokenService::Create(kSecret, "heliosdb-test", 1h, clock_);
    ASSERT_TRUE(tokens.has_value()) << tokens.error().message;
    tokens_ = std::make_unique<auth::TokenService>(std::move(*tokens));
    auth::AuthenticatorOptions options;
    options.dummy_hash_params = kCheap;
    auto authenticator =
        auth::Authenticator::Create(*users_, *tokens_, limiter_, auth::LoginLimits{3, 10}, options);
    ASSERT_TRUE(authenticator.has_value()) << authenticator.error().message;
    authenticator_ = std::move(*authenticator);
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      ASSERT_EQ(run_done_.wait_for(30s), std::future_status::ready);
    }
    std::filesystem::remove_all(dir_);
    testing::CaptureText("server-guards-log", log_buffer_.str());
  }

  std::string UsersFile() const { return (dir_ / "users.json").string(); }

  static void AddUser(auth::UserStore& store, const std::string& name, const std::string& tenant,
                      std::vector<std::string> roles) {
    auto hash = auth::HashPassword(kPassword, kCheap);
    ASSERT_TRUE(hash.has_value());
    ASSERT_TRUE(store.Add(auth::User{name, tenant, std::move(roles), *hash}).has_value());
  }

  // Starts the server with authentication, a per-tenant limit of `burst` questions refilling
  // one a second, and an override of 1 for tenant "globex".
  void Start(double burst = 5, std::vector<std::string> origins = {}, bool with_auth = true) {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.cors_allowed_origins = std::move(origins);
    ServerGuards guards;
    guards.authenticator = with_auth ? authenticator_.get() : nullptr;
    guards.limiter = &limiter_;
    guards.rate_limits.default_policy = ratelimit::BucketPolicy{burst, 1.0, 60};
    guards.rate_limits.tenants = {{"globex", ratelimit::BucketPolicy{1, 1.0 / 60, 1}}};
    guards.metrics = &metrics_;
    guards.breaker = &breaker_;
    server_ = std::make_unique<HttpServer>(service_, logger_, clock_, options, guards);
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
    run_done_ = std::async(std::launch::async, [this] { server_->Run(); });
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    client.set_logger(testing::CaptureResponses("server-guards-responses"));
    return client;
  }

  httplib::Result Login(const std::string& user, const std::string& password) {
    return Client().Post("/api/v1/auth/login",
                         json({{"username", user}, {"password", password}}).dump(),
                         "application/json");
  }

  std::string TokenFor(const std::string& user) {
    auto res = Login(user, kPassword);
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body).value("token", "");
  }

  httplib::Result Ask(const std::string& token, const std::string& question,
                      const std::string& session = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    json body = {{"query", question}};
    if (!session.empty()) body["session_id"] = session;
    return Client().Post("/api/v1/query", headers, body.dump(), "application/json");
  }

  static std::string ErrorCode(const httplib::Result& res) {
    if (!res) return "no response";
    json body = json::parse(res->body, nullptr, false);
    if (!body.is_object() || !body.contains("error")) return "no error object: " + res->body;
    return body["error"]["code"].get<std::string>();
  }

  std::string Log() const { return log_buffer_.str(); }

  FakeClock clock_;
  LockedStringBuf log_buffer_;
  std::ostream log_stream_;
  observability::Logger logger_;
  ratelimit::MemoryRateLimiter limiter_;
  observability::MetricsRegistry registry_;
  observability::ServiceMetrics metrics_;
  resilience::CircuitBreaker breaker_{"nl2sql", clock_,
                                      resilience::BreakerOptions{true, 2, 60s, 1}};
  FakeService service_;
  std::filesystem::path dir_;
  std::unique_ptr<auth::UserDirectory> users_;
  std::unique_ptr<auth::TokenService> tokens_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> run_done_;
  int port_ = 0;
};

TEST_F(GuardsTest, LoginReturnsATokenThatOpensTheApi) {
  Start();
  auto res = Login("alice", kPassword);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json body = json::parse(res->body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_TRUE(body["expires_at"].get<std::string>().ends_with("Z"));
  const std::string token = body["token"];
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);

  auto answer = Ask(token, "how many customers");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200) << answer->body;
  ASSERT_EQ(service_.requests().size(), 1u);
  EXPECT_EQ(service_.requests()[0].tenant_id, "acme");
}

TEST_F(GuardsTest, MissingOrBadCredentialsAre401WithAJsonError) {
  Start();
  const std::string good = TokenFor("alice");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no header"},
      {"Bearer", "scheme only"},
      {"Basic YWxpY2U6cGFzcw==", "another scheme"},
      {"Bearer not-a-jwt", "malformed"},
      {"Bearer " + good + "x", "tampered signature"},
      {"Bearer  " + good, "two spaces"},
  };
  // A token signed with another secret.
  auto other = auth::TokenService::Create(std::string(40, 'z'), "heliosdb-test", 1h, clock_);
  ASSERT_TRUE(other.has_value());
  auto forged = other->Issue(auth::User{"alice", "acme", {"admin"}, ""});
  ASSERT_TRUE(forged.has_value());
  cases.emplace_back("Bearer " + forged->token, "wrong secret");
  // alg "none": the same claims, no signature.
  const std::string payload = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  cases.emplace_back("Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + ".", "alg none");

  for (const auto& [header, what] : cases) {
    httplib::Headers headers;
    if (!header.empty()) headers.emplace("Authorization", header);
    auto res = Client().Post("/api/v1/query", headers, R"({"query":"how many customers"})",
                             "application/json");
    ASSERT_TRUE(res) << what;
    EXPECT_EQ(res->status, 401) << what << ": " << res->body;
    EXPECT_EQ(ErrorCode(res), "unauthenticated") << what;
    EXPECT_THAT(res->get_header_value("WWW-Authenticate"), HasSubstr("Bearer")) << what;
    EXPECT_THAT(res->body, ::testing::Not(HasSubstr(good))) << what;
  }
  EXPECT_TRUE(service_.requests().empty()) << "no unauthenticated question reached the pipeline";
  // Session routes are guarded too.
  EXPECT_EQ(Client().Get("/api/v1/sessions/s-1")->status, 401);
  EXPECT_EQ(Client().Delete("/api/v1/sessions/s-1")->status, 401);
  // Nor can an unknown route under /api/v1/ be told from a known one without a token.
  EXPECT_EQ(Client().Get("/api/v1/users")->status, 401);
  httplib::Headers bearer = {{"Authorization", "Bearer " + good}};
  EXPECT_EQ(Client().Get("/api/v1/users", bearer)->status, 404);
  // Health and login are not.
  EXPECT_EQ(Client().Get("/health")->status, 200);
}

TEST_F(GuardsTest, ATokenExpiresByTheInjectedClock) {
  Start();
  const std::string token = TokenFor("alice");
  clock_.Advance(59min);
  EXPECT_EQ(Ask(token, "how many customers")->status, 200);
  clock_.Advance(1min);
  auto res = Ask(token, "how many customers");
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(res->body, HasSubstr("expired"));
}

TEST_F(GuardsTest, AUserWithoutTheAnalystRoleIs403) {
  Start();
  auto res = Ask(TokenFor("victor"), "how many customers");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_EQ(ErrorCode(res), "permission_denied");
  EXPECT_TRUE(service_.requests().empty());
  // admin implies analyst.
  EXPECT_EQ(Ask(TokenFor("root"), "how many customers")->status, 200);
}

TEST_F(GuardsTest, LoginFailuresLookTheSameAndAreThrottledPerUser) {
  Start();
  auto wrong = Login("alice", "wrong password!");
  auto unknown = Login("nobody", "wrong password!");
  ASSERT_TRUE(wrong && unknown);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(unknown->status, 401);
  EXPECT_EQ(json::parse(wrong->body)["error"], json::parse(unknown->body)["error"]);

  // Limit 3 a minute per user: two more failures empty alice's bucket.
  EXPECT_EQ(Login("alice", "wrong password!")->status, 401);
  EXPECT_EQ(Login("alice", "wrong password!")->status, 401);
  auto limited = Login("alice", kPassword);  // even the right password waits
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429) << limited->body;
  EXPECT_EQ(ErrorCode(limited), "rate_limited");
  EXPECT_EQ(limited->get_header_value("Retry-After"), "20");
  // Another user is not affected.
  EXPECT_EQ(Login("bob", kPassword)->status, 200);
  clock_.Advance(20s);
  EXPECT_EQ(Login("alice", kPassword)->status, 200);
  EXPECT_EQ(metrics_.login_failures_total.Value({"rate_limited"}), 1);
  EXPECT_EQ(metrics_.login_failures_total.Value({"credentials"}), 4);
}

TEST_F(GuardsTest, BadLoginBodiesAre400) {
  Start();
  for (const char* body : {"", "[]", R"({"username":"alice"})", R"({"username":1,"password":"x"})",
                           R"({"username":"","password":"x"})", "{not json"}) {
    auto res = Client().Post("/api/v1/auth/login", body, "application/json");
    ASSERT_TRUE(res) << body;
    EXPECT_EQ(res->status, 400) << body << ": " << res->body;
  }
  EXPECT_EQ(Client().Get("/api/v1/auth/login")->status, 405);
}

TEST_F(GuardsTest, RateLimitIsPerTenantWithHeadersAndARetryAfter) {
  Start(/*burst=*/3);
  const std::string alice = TokenFor("alice");  // tenant acme: 3 at once, then 1 a second
  for (int i = 0; i < 3; ++i) {
    auto res = Ask(alice, "how many customers");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << i;
    EXPECT_EQ(res->get_header_value("X-RateLimit-Limit"), "60");
    EXPECT_EQ(res->get_header_value("X-RateLimit-Remaining"), std::to_string(2 - i));
  }
  auto refused = Ask(alice, "how many customers");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_EQ(ErrorCode(refused), "rate_limited");
  EXPECT_EQ(refused->get_header_value("Retry-After"), "1");
  EXPECT_EQ(refused->get_header_value("X-RateLimit-Remaining"), "0");
  EXPECT_EQ(refused->get_header_value("X-RateLimit-Reset"), "3");
  EXPECT_EQ(service_.requests().size(), 3u);
  EXPECT_THAT(Log(), HasSubstr(R"("message":"Rate limit exceeded")"));
  EXPECT_THAT(Log(), HasSubstr(R"("tenant_id":"acme")"));
  EXPECT_EQ(metrics_.rate_limit_rejections_total.Value({"acme"}), 1);

  // Another tenant has its own bucket (and its override: one question a minute).
  const std::string bob = TokenFor("bob");
  EXPECT_EQ(Ask(bob, "how many customers")->status, 200);
  auto bob_refused = Ask(bob, "how many customers");
  EXPECT_EQ(bob_refused->status, 429);
  EXPECT_EQ(bob_refused->get_header_value("X-RateLimit-Limit"), "1");
  EXPECT_EQ(bob_refused->get_header_value("Retry-After"), "60");

  // A second user of the same tenant shares its bucket.
  EXPECT_EQ(Ask(TokenFor("root"), "how many customers")->status, 429);
  clock_.Advance(1s);
  EXPECT_EQ(Ask(alice, "how many customers")->status, 200);
}

TEST_F(GuardsTest, WithoutAuthenticationEveryoneIsTheDefaultTenant) {
  Start(5, {}, /*with_auth=*/false);
  auto res = Ask("", "how many customers");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(service_.requests().at(0).tenant_id, "default");
  EXPECT_EQ(Login("alice", kPassword)->status, 404);
}

TEST_F(GuardsTest, SessionsAreScopedToTheTokensTenant) {
  Start();
  nl2sql::SessionView view{
      "s-acme",
      2,
      {{1, "how many customers", "SELECT 1", 1}, {2, "only in Germany", "SELECT 2", 1}}};
  service_.PutSession({"acme", "alice"}, view);
  const std::string alice = TokenFor("alice");
  const std::string bob = TokenFor("bob");
  httplib::Headers as_alice = {{"Authorization", "Bearer " + alice}};
  httplib::Headers as_bob = {{"Authorization", "Bearer " + bob}};

  auto mine = Client().Get("/api/v1/sessions/s-acme", as_alice);
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->status, 200) << mine->body;
  json body = json::parse(mine->body);
  EXPECT_EQ(body["turn_count"], 2);
  EXPECT_EQ(body["turns"][1]["question"], "only in Germany");

  auto theirs = Client().Get("/api/v1/sessions/s-acme", as_bob);
  EXPECT_EQ(theirs->status, 404);
  EXPECT_THAT(theirs->body, ::testing::Not(HasSubstr("Germany")));
  EXPECT_EQ(Client().Delete("/api/v1/sessions/s-acme", as_bob)->status, 404);
  EXPECT_EQ(Client().Get("/api/v1/sessions/s-acme", as_alice)->status, 200);

  // Continuing it as bob asks the pipeline under bob's tenant, never acme's.
  EXPECT_EQ(Ask(bob, "and their emails?", "s-acme")->status, 200);
  EXPECT_EQ(service_.requests().back().tenant_id, "globex");

  EXPECT_EQ(Client().Delete("/api/v1/sessions/s-acme", as_alice)->status, 204);
  EXPECT_EQ(Client().Get("/api/v1/sessions/s-acme", as_alice)->status, 404);
  EXPECT_EQ(Client().Get("/api/v1/sessions/bad%20id", as_alice)->status, 400);
}

// The session routes act for the token's user: a colleague of the same tenant neither lists,
// reads, ends, marks nor continues another user's session.
TEST_F(GuardsTest, SessionRoutesActForTheSignedInUser) {
  Start();
  service_.PutSession(
      {"acme", "alice"},
      nl2sql::SessionView{"s-alice", 1, {{1, "how many customers", "SELECT 1", 1}}});
  service_.PutSession({"acme", "carol"},
                      nl2sql::SessionView{"s-carol", 1, {{1, "top products", "SELECT 2", 1}}});
  const std::string carol_token = TokenFor("carol");
  const httplib::Headers alice = {{"Authorization", "Bearer " + TokenFor("alice")}};
  const httplib::Headers carol = {{"Authorization", "Bearer " + carol_token}};
  auto listed_ids = [&](const httplib::Headers& who) {
    auto res = Client().Get("/api/v1/sessions", who);
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    std::vector<std::string> ids;
    if (!res || res->status != 200) return ids;
    const json body = json::parse(res->body);
    for (const auto& s : body["sessions"]) ids.push_back(s["session_id"]);
    return ids;
  };
  EXPECT_EQ(listed_ids(alice), std::vector<std::string>{"s-alice"});
  EXPECT_EQ(listed_ids(carol), std::vector<std::string>{"s-carol"});

  auto peek = Client().Get("/api/v1/sessions/s-alice", carol);
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->status, 404);
  EXPECT_THAT(peek->body, ::testing::Not(HasSubstr("how many customers")));
  EXPECT_EQ(Client()
                .Post("/api/v1/feedback", carol,
                      R"({"session_id":"s-alice","turn":1,"correct":true})", "application/json")
                ->status,
            404);
  EXPECT_TRUE(service_.marked().empty());
  EXPECT_EQ(Client().Delete("/api/v1/sessions/s-alice", carol)->status, 404);
  EXPECT_EQ(Client().Get("/api/v1/sessions/s-alice", alice)->status, 200);

  // A question names the asker, so that the pipeline continues only the asker's own session.
  EXPECT_EQ(Ask(carol_token, "and their emails?", "s-alice")->status, 200);
  ASSERT_FALSE(service_.requests().empty());
  EXPECT_EQ(service_.requests().back().tenant_id, "acme");
  EXPECT_EQ(service_.requests().back().user, "carol");

  // Every session call named the token's tenant and user.
  std::vector<std::string> users;
  for (const nl2sql::Caller& c : service_.callers()) {
    EXPECT_EQ(c.tenant_id, "acme");
    users.push_back(c.user);
  }
  EXPECT_EQ(users,
            (std::vector<std::string>{"alice", "carol", "carol", "carol", "carol", "alice"}));
}

TEST_F(GuardsTest, WithoutAuthenticationSessionsAreTheAnonymousUsers) {
  Start(5, {}, /*with_auth=*/false);
  service_.PutSession({"default", ""}, nl2sql::SessionView{"s-demo", 1, {{1, "q", "SELECT 1", 1}}});
  auto listed = Client().Get("/api/v1/sessions");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  ASSERT_EQ(json::parse(listed->body)["sessions"].size(), 1u);
  EXPECT_EQ(Client().Get("/api/v1/sessions/s-demo")->status, 200);
  EXPECT_EQ(Ask("", "and in Germany?", "s-demo")->status, 200);
  EXPECT_EQ(service_.requests().back().user, "");
  for (const nl2sql::Caller& c : service_.callers()) {
    EXPECT_EQ(c.tenant_id, "default");
    EXPECT_EQ(c.user, "");
  }
  EXPECT_EQ(service_.callers().size(), 2u);
}

TEST_F(GuardsTest, CorsPreflightAndResponsesForAllowedOriginsOnly) {
  Start(5, {"https://bi.example.com"});
  httplib::Headers preflight = {{"Origin", "https://bi.example.com"},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "authorization,content-type"}};
  auto ok = Client().Options("/api/v1/query", preflight);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 204);
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Origin"), "https://bi.example.com");
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Methods"), "POST");
  EXPECT_THAT(ok->get_header_value("Access-Control-Allow-Headers"), HasSubstr("Authorization"));
  EXPECT_EQ(ok->get_header_value("Vary"), "Origin");
  EXPECT_TRUE(ok->body.empty());

  httplib::Headers evil = {{"Origin", "https://evil.example.com"},
                           {"Access-Control-Request-Method", "POST"}};
  auto refused = Client().Options("/api/v1/query", evil);
  EXPECT_EQ(refused->status, 403);
  EXPECT_FALSE(refused->has_header("Access-Control-Allow-Origin"));
  // A near miss is not a match.
  httplib::Headers near = {{"Origin", "https://bi.example.com.evil.net"},
                           {"Access-Control-Request-Method", "POST"}};
  EXPECT_EQ(Client().Options("/api/v1/query", near)->status, 403);

  // The actual request: the allowed origin may read the answer and the rate-limit headers.
  httplib::Headers request = {{"Origin", "https://bi.example.com"},
                              {"Authorization", "Bearer " + TokenFor("alice")}};
  auto answer = Client().Post("/api/v1/query", request, R"({"query":"how many customers"})",
                              "application/json");
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->get_header_value("Access-Control-Allow-Origin"), "https://bi.example.com");
  EXPECT_THAT(answer->get_header_value("Access-Control-Expose-Headers"),
              HasSubstr("X-RateLimit-Remaining"));
  httplib::Headers other = {{"Origin", "https://evil.example.com"},
                            {"Authorization", "Bearer " + TokenFor("alice")}};
  auto theirs = Client().Post("/api/v1/query", other, R"({"query":"how many customers"})",
                              "application/json");
  EXPECT_FALSE(theirs->has_header("Access-Control-Allow-Origin"));
  // A preflight for a method the path does not have.
  httplib::Headers wrong_method = {{"Origin", "https://bi.example.com"},
                                   {"Access-Control-Request-Method", "PUT"}};
  EXPECT_EQ(Client().Options("/api/v1/query", wrong_method)->status, 405);
}

TEST_F(GuardsTest, QuestionsAreCountedAndTimedPerTenant) {
  Start();
  const std::string alice = TokenFor("alice");
  EXPECT_EQ(Ask(alice, "how many customers")->status, 200);
  service_.SetAsk([](const nl2sql::AskRequest&) -> Result<nl2sql::Answer> {
    return Fail(ErrorCode::kNotUnderstood, "no idea");
  });
  EXPECT_EQ(Ask(alice, "purple monkey")->status, 422);
  EXPECT_EQ(metrics_.queries_total.Value({"acme"}), 2);
  EXPECT_EQ(metrics_.queries_failed_total.Value({"acme"}), 1);
  EXPECT_EQ(metrics_.query_errors_total.Value({"acme", "not_understood"}), 1);
  EXPECT_EQ(metrics_.query_duration_seconds.Count({"acme"}), 2u);
  EXPECT_EQ(metrics_.cache_requests_total.Value({"acme"}), 0);  // no cache yet: no lookups
  EXPECT_EQ(metrics_.cache_hits_total.Value({"acme"}), 0);
  std::string text = registry_.Render();
  EXPECT_THAT(text, HasSubstr("queries_total{tenant=\"acme\"} 2"));
  EXPECT_THAT(text, HasSubstr("http_requests_total{route=\"/api/v1/query\",status=\"422\"} 1"));
}

TEST_F(GuardsTest, FeedbackMarksATurnOfTheCallersOwnSession) {
  Start();
  service_.PutSession({"acme", "alice"},
                      nl2sql::SessionView{"s-acme", 1, {{1, "q", "SELECT 1", 1}}});
  httplib::Headers alice = {{"Authorization", "Bearer " + TokenFor("alice")}};
  httplib::Headers bob = {{"Authorization", "Bearer " + TokenFor("bob")}};
  auto post = [&](const httplib::Headers& who, const std::string& body) {
    return Client().Post("/api/v1/feedback", who, body, "application/json");
  };
  EXPECT_EQ(post(alice, R"({"session_id":"s-acme","turn":1,"correct":true})")->status, 204);
  EXPECT_EQ(post(bob, R"({"session_id":"s-acme","turn":1,"correct":true})")->status, 404);
  EXPECT_EQ(post(alice, R"({"session_id":"s-acme","turn":1,"correct":false})")->status, 204);
  // Marking wrong is the owner's too, and only for a turn that is kept.
  EXPECT_EQ(post(bob, R"({"session_id":"s-acme","turn":1,"correct":false})")->status, 404);
  EXPECT_EQ(post(alice, R"({"session_id":"s-acme","turn":2,"correct":false})")->status, 404);
  EXPECT_EQ(post(alice, R"({"session_id":"s-nope","turn":1,"correct":false})")->status, 404);
  for (const char* bad : {R"({"session_id":"s-acme","turn":0,"correct":true})",
                          R"({"session_id":"s-acme","turn":"1","correct":true})",
                          R"({"session_id":"s acme","turn":1,"correct":true})",
                          R"({"session_id":"s-acme","turn":1})", "[]"}) {
    EXPECT_EQ(post(alice, bad)->status, 400) << bad;
  }
  EXPECT_EQ(Client()
                .Post("/api/v1/feedback", R"({"session_id":"s-acme","turn":1,"correct":true})",
                      "application/json")
                ->status,
            401);
  auto marked = service_.marked();
  ASSERT_EQ(marked.size(), 1u);
  EXPECT_EQ(marked[0], (std::pair<std::string, std::string>{"acme", "s-acme#1"}));
}

TEST_F(GuardsTest, AnAdminResetsTheBreakerOthersMayNot) {
  Start();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(breaker_.Allow().has_value());
    breaker_.RecordFailure();
  }
  ASSERT_EQ(breaker_.state(), resilience::BreakerState::kOpen);
  httplib::Headers analyst = {{"Authorization", "Bearer " + TokenFor("alice")}};
  httplib::Headers admin = {{"Authorization", "Bearer " + TokenFor("root")}};
  EXPECT_EQ(
      Client().Post("/api/v1/admin/circuit-breaker/reset", analyst, "", "application/json")->status,
      403);
  EXPECT_EQ(Client().Post("/api/v1/admin/circuit-breaker/reset", "", "application/json")->status,
            401);
  EXPECT_EQ(breaker_.state(), resilience::BreakerState::kOpen);
  auto state = Client().Get("/api/v1/admin/circuit-breaker", admin);
  ASSERT_TRUE(state);
  EXPECT_EQ(json::parse(state->body)["state"], "open");
  auto reset = Client().Post("/api/v1/admin/circuit-breaker/reset", admin, "", "application/json");
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->status, 200) << reset->body;
  EXPECT_EQ(json::parse(reset->body), json({{"service", "nl2sql"}, {"state", "closed"}}));
  EXPECT_EQ(breaker_.state(), resilience::BreakerState::kClosed);
  EXPECT_THAT(Log(), HasSubstr("circuit breaker reset by an administrator"));
}

TEST_F(GuardsTest, SlowQuestionsAreLoggedAsSuch) {
  Start();
  service_.SetAsk([this](const nl2sql::AskRequest& r) -> Result<nl2sql::Answer> {
    clock_.Advance(301ms);  // the default threshold is 300 ms
    return AnswerFor(r);
  });
  EXPECT_EQ(Ask(TokenFor("alice"), "how many customers")->status, 200);
  EXPECT_THAT(Log(), HasSubstr(R"("message":"slow query")"));
  EXPECT_EQ(metrics_.slow_queries_total.Value({"acme"}), 1);
}

}  // namespace
}  // namespace helios::server
