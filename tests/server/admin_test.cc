// The administrators' routes over real sockets, with authentication: only the admin role may
// flush the answer cache, list sessions or end one (403 for an analyst, 401 without a token),
// and each route hands the store exactly the tenant asked for. The stores behind the routes
// are fakes here; tests/cache and tests/conversation test the real ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "auth/authenticator.h"
#include "auth/password.h"
#include "auth/token.h"
#include "auth/user_store.h"
#include "common/clock.h"
#include "common/text.h"
#include "observability/logger.h"
#include "ratelimit/rate_limiter.h"
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
constexpr char kJson[] = "application/json";
const auth::PasswordParams kCheap{256, 1, 1};

// 2025-01-02T03:04:05.678Z
constexpr int64_t kCreatedMs = 1735787045678;

// The cache and sessions behind the admin routes: entries counted per tenant, sessions kept
// as AdminSession values. Records what each route asked for.
class FakeAdminState {
 public:
  Result<size_t> Flush(const std::string& tenant) {
    std::lock_guard lock(mu_);
    flushed_.push_back(tenant);
    size_t n = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (tenant.empty() || it->first == tenant) {
        n += it->second;
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    return n;
  }
  Result<std::vector<AdminSession>> List(const std::string& tenant, size_t limit) {
    std::lock_guard lock(mu_);
    listed_.emplace_back(tenant, limit);
    std::vector<AdminSession> out;
    for (const AdminSession& s : sessions_) {
      if ((tenant.empty() || s.tenant == tenant) && out.size() < limit) out.push_back(s);
    }
    return out;
  }
  Result<size_t> End(const std::string& tenant, const std::string& id) {
    std::lock_guard lock(mu_);
    size_t n = std::erase_if(sessions_, [&](const AdminSession& s) {
      return s.session_id == id && (tenant.empty() || s.tenant == tenant);
    });
    return n;
  }

  std::map<std::string, size_t> entries_ = {{"acme", 3}, {"globex", 2}};
  std::vector<AdminSession> sessions_ = {
      {"s-1", "acme", "alice", 2, kCreatedMs, kCreatedMs + 1000, kCreatedMs + 61000},
      {"s-2", "globex", "bob", 1, 0, kCreatedMs + 500, kCreatedMs + 60500},
      {"shared-id", "acme", "carol", 1, kCreatedMs, kCreatedMs, kCreatedMs + 60000},
      {"shared-id", "globex", "bob", 4, kCreatedMs, kCreatedMs, kCreatedMs + 60000},
  };
  std::vector<std::string> flushed_;
  std::vector<std::pair<std::string, size_t>> listed_;
  std::mutex mu_;
};

class AdminTest : public ::testing::Test {
 protected:
  AdminTest()
      : log_stream_(&log_buffer_),
        logger_(log_stream_, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                clock_),
        limiter_(clock_) {
    service_.SetHealth([] { return nl2sql::HealthReport{true, {}}; });
  }

  void SetUp() override {
    testing::RegisterSecretForScan(kSecret);
    testing::RegisterSecretForScan(kPassword);
    dir_ = std::filesystem::temp_directory_path() / ("helios-admin-" + text::NewUuid());
    std::filesystem::create_directories(dir_);
    auth::UserStore store;
    for (auto [name, roles] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"alice", {"analyst"}}, {"root", {"admin"}}}) {
      auto hash = auth::HashPassword(kPassword, kCheap);
      ASSERT_TRUE(hash.has_value());
      ASSERT_TRUE(store.Add(auth::User{name, "acme", roles, *hash}).has_value());
    }
    const std::string users_file = (dir_ / "users.json").string();
    ASSERT_TRUE(store.Save(users_file).has_value());
    auto users = auth::UserDirectory::Open(users_file, clock_);
    ASSERT_TRUE(users.has_value()) << users.error().message;
    users_ = std::move(*users);
    auto tokens = auth::TokenService::Create(kSecret, "heliosdb-test", 1h, clock_);
    ASSERT_TRUE(tokens.has_value());
    tokens_ = std::make_unique<auth::TokenService>(std::move(*tokens));
    auth::AuthenticatorOptions options;
    options.dummy_hash_params = kCheap;
    auto authenticator = auth::Authenticator::Create(*users_, *tokens_, limiter_,
                                                     auth::LoginLimits{10, 10}, options);
    ASSERT_TRUE(authenticator.has_value());
    authenticator_ = std::move(*authenticator);
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      ASSERT_EQ(run_done_.wait_for(30s), std::future_status::ready);
    }
    std::filesystem::remove_all(dir_);
    testing::CaptureText("server-admin-log", log_buffer_.str());
  }

  // with_state: the cache and session routes are wired to `state_`; otherwise left null.
  void Start(bool with_state = true) {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    ServerGuards guards;
    guards.authenticator = authenticator_.get();
    if (with_state) {
      guards.flush_cache = [this](const std::string& t) { return state_.Flush(t); };
      guards.list_sessions = [this](const std::string& t, size_t n) { return state_.List(t, n); };
      guards.end_session = [this](const std::string& t, const std::string& id) {
        return state_.End(t, id);
      };
    }
    server_ = std::make_unique<HttpServer>(service_, logger_, clock_, options, guards);
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
    run_done_ = std::async(std::launch::async, [this] { server_->Run(); });
    admin_ = Bearer("root");
    analyst_ = Bearer("alice");
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    client.set_logger(testing::CaptureResponses("server-admin-responses"));
    return client;
  }

  httplib::Headers Bearer(const std::string& user) {
    auto res = Client().Post("/api/v1/auth/login",
                             json({{"username", user}, {"password", kPassword}}).dump(), kJson);
    EXPECT_TRUE(res && res->status == 200);
    if (!res) return {};
    return {{"Authorization", "Bearer " + json::parse(res->body).value("token", "")}};
  }

  httplib::Result Flush(const httplib::Headers& who, const std::string& body) {
    return Client().Post("/api/v1/admin/cache/flush", who, body, kJson);
  }

  static std::string CodeOf(const httplib::Result& res) {
    if (!res) return "no response";
    json body = json::parse(res->body, nullptr, false);
    if (!body.is_object() || !body.contains("error")) return "no error: " + res->body;
    return body["error"]["code"];
  }

  FakeClock clock_;
  LockedStringBuf log_buffer_;
  std::ostream log_stream_;
  observability::Logger logger_;
  ratelimit::MemoryRateLimiter limiter_;
  FakeService service_;
  FakeAdminState state_;
  std::filesystem::path dir_;
  std::unique_ptr<auth::UserDirectory> users_;
  std::unique_ptr<auth::TokenService> tokens_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> run_done_;
  int port_ = 0;
  httplib::Headers admin_;
  httplib::Headers analyst_;
};

TEST_F(AdminTest, OnlyTheAdminRoleMayUseTheRoutes) {
  Start();
  const std::vector<std::pair<std::string, std::function<httplib::Result(httplib::Headers)>>>
      routes = {
          {"flush", [&](httplib::Headers h) { return Flush(h, ""); }},
          {"list", [&](httplib::Headers h) { return Client().Get("/api/v1/admin/sessions", h); }},
          {"end",
           [&](httplib::Headers h) { return Client().Delete("/api/v1/admin/sessions/s-1", h); }},
      };
  for (const auto& [name, call] : routes) {
    auto anonymous = call({});
    ASSERT_TRUE(anonymous) << name;
    EXPECT_EQ(anonymous->status, 401) << name;
    auto analyst = call(analyst_);
    ASSERT_TRUE(analyst) << name;
    EXPECT_EQ(analyst->status, 403) << name << ": " << analyst->body;
    EXPECT_EQ(CodeOf(analyst), "permission_denied") << name;
  }
  EXPECT_TRUE(state_.flushed_.empty());
  EXPECT_TRUE(state_.listed_.empty());
  EXPECT_EQ(state_.sessions_.size(), 4u) << "an analyst ended a session";
  for (const auto& [name, call] : routes) {
    auto admin = call(admin_);
    ASSERT_TRUE(admin) << name;
    EXPECT_EQ(admin->status, 200) << name << ": " << admin->body;
  }
}

TEST_F(AdminTest, FlushesOneTenantOrAll) {
  Start();
  auto one = Flush(admin_, R"({"tenant":"acme"})");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(json::parse(one->body), json::parse(R"({"tenant":"acme","flushed":3})"));
  EXPECT_EQ(state_.entries_.count("globex"), 1u) << "another tenant's entries went too";

  auto all = Flush(admin_, "");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  EXPECT_EQ(json::parse(all->body), json::parse(R"({"tenant":null,"flushed":2})"));
  EXPECT_EQ(state_.flushed_, (std::vector<std::string>{"acme", ""}));
  EXPECT_THAT(log_buffer_.str(), HasSubstr("answer cache flushed by an administrator"));

  auto braces = Flush(admin_, "{}");
  ASSERT_TRUE(braces);
  EXPECT_EQ(braces->status, 200);
  EXPECT_EQ(state_.flushed_.back(), "");
}

TEST_F(AdminTest, ABadFlushBodyFlushesNothing) {
  Start();
  for (const std::string body :
       {R"({"tenant": 7})", R"({"tenant": "no spaces allowed"})", R"({"tenants": "acme"})", "[1]",
        "not json", R"({"tenant": ""})"}) {
    auto res = Flush(admin_, body);
    ASSERT_TRUE(res) << body;
    EXPECT_EQ(res->status, 400) << body << ": " << res->body;
  }
  auto huge = Flush(admin_, std::string(2 << 20, ' '));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  EXPECT_TRUE(state_.flushed_.empty()) << "a refused body flushed " << state_.flushed_.size();
}

TEST_F(AdminTest, WithoutACacheOrSessionStoreTheRoutesAre404) {
  Start(/*with_state=*/false);
  EXPECT_EQ(Flush(admin_, "")->status, 404);
  EXPECT_EQ(Client().Get("/api/v1/admin/sessions", admin_)->status, 404);
  EXPECT_EQ(Client().Delete("/api/v1/admin/sessions/s-1", admin_)->status, 404);
}

TEST_F(AdminTest, ListsSessionsOfEveryTenantOrOne) {
  Start();
  auto all = Client().Get("/api/v1/admin/sessions", admin_);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  json body = json::parse(all->body);
  ASSERT_EQ(body["sessions"].size(), 4u);
  EXPECT_EQ(body["truncated"], false);
  EXPECT_EQ(body["sessions"][0],
            json::parse(R"({"session_id":"s-1","tenant":"acme","user":"alice","turns":2,
                            "created_at":"2025-01-02T03:04:05.678Z",
                            "last_used_at":"2025-01-02T03:04:06.678Z",
                            "expires_at":"2025-01-02T03:05:06.678Z"})"));
  EXPECT_TRUE(body["sessions"][1]["created_at"].is_null()) << "not recorded: null";
  // One more than shown is asked for, to tell whether the list was cut.
  EXPECT_EQ(state_.listed_.back(), (std::pair<std::string, size_t>{"", 101}));

  auto globex = Client().Get("/api/v1/admin/sessions?tenant=globex", admin_);
  ASSERT_TRUE(globex);
  ASSERT_EQ(globex->status, 200);
  body = json::parse(globex->body);
  ASSERT_EQ(body["sessions"].size(), 2u);
  for (const json& s : body["sessions"]) EXPECT_EQ(s["tenant"], "globex");

  auto cut = Client().Get("/api/v1/admin/sessions?limit=3", admin_);
  ASSERT_TRUE(cut);
  body = json::parse(cut->body);
  EXPECT_EQ(body["sessions"].size(), 3u);
  EXPECT_EQ(body["truncated"], true);

  for (const std::string bad :
       {"?limit=0", "?limit=1001", "?limit=ten", "?limit=", "?tenant=", "?tenant=a%20b"}) {
    auto res = Client().Get("/api/v1/admin/sessions" + bad, admin_);
    ASSERT_TRUE(res) << bad;
    EXPECT_EQ(res->status, 400) << bad << ": " << res->body;
  }
}

TEST_F(AdminTest, EndsASessionWhoeverOwnsIt) {
  Start();
  auto ended = Client().Delete("/api/v1/admin/sessions/s-1", admin_);
  ASSERT_TRUE(ended);
  ASSERT_EQ(ended->status, 200) << ended->body;
  EXPECT_EQ(json::parse(ended->body), json::parse(R"({"session_id":"s-1","ended":1})"));
  auto again = Client().Delete("/api/v1/admin/sessions/s-1", admin_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);

  // One tenant's session of an id, then every tenant's.
  auto acme = Client().Delete("/api/v1/admin/sessions/shared-id?tenant=acme", admin_);
  ASSERT_TRUE(acme);
  EXPECT_EQ(json::parse(acme->body)["ended"], 1);
  ASSERT_EQ(state_.sessions_.size(), 2u);
  EXPECT_EQ(state_.sessions_.back().tenant, "globex");
  auto rest = Client().Delete("/api/v1/admin/sessions/shared-id", admin_);
  ASSERT_TRUE(rest);
  EXPECT_EQ(json::parse(rest->body)["ended"], 1);
  EXPECT_EQ(state_.sessions_.size(), 1u);
  EXPECT_THAT(log_buffer_.str(), HasSubstr("session ended by an administrator"));

  EXPECT_EQ(Client().Delete("/api/v1/admin/sessions/bad%20id", admin_)->status, 400);
}

}  // namespace
}  // namespace helios::server
