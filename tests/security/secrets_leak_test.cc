// The real binary given every kind of secret the product takes — a JWT secret, a language
// model's API key, database and Redis URLs with passwords, users' login passwords — and driven
// down every error path a test can reach: wrong logins until they are limited, forged, expired
// and malformed tokens, malformed and oversized bodies, unknown routes and sources, a provider
// that answers 401 echoing the key it was sent (as real ones do, whole or cut short), then 403,
// 429, 500 and garbage, the rate limit, the database and Redis going away, start-ups that fail,
// and the command line's help and `config check`. Every response (status line, headers, body),
// /metrics, /health, /ready and the server's stdout and stderr at log levels trace and debug, in
// JSON and text, are kept and handed to scripts/scan_secrets.py, which looks for each secret as
// it is, base64-encoded, URL-encoded, JSON-escaped and cut to its first 12 characters. None may
// appear. The scan is shown to find a secret planted in the same material, so the test can fail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/text.h"
#include "security/encodings.h"
#include "security/raw_http.h"
#include "support/child_process.h"
#include "support/loopback.h"
#include "support/secret_capture.h"
#include "support/served_binary.h"
#include "support/test_databases.h"

namespace helios::security {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using testing::HttpRequest;
using testing::RawExchange;
using testing::RawResponse;
using testing::ServerKind;

// Letters and digits from the system's random source: secrets no other file contains.
std::string RandomText(size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device random;
  std::string out;
  for (size_t i = 0; i < n; ++i) out += kAlphabet[random() % (sizeof(kAlphabet) - 1)];
  return out;
}

// The port in the text-format log line of `message` ("... INFO  listening host=... port=N"),
// waiting for it like ServedBinary::PortOf does for JSON; 0 when the process exits first.
int TextLogPort(testing::ServedBinary& served, const std::string& message) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const std::string& line : text::Split(served.out(), '\n')) {
      const size_t at = line.find("  " + message + " ");
      const size_t port = line.find(" port=", at == std::string::npos ? line.size() : at);
      if (at != std::string::npos && port != std::string::npos) {
        return std::atoi(line.c_str() + port + 6);
      }
    }
    if (served.Wait(0ms)) return 0;
    std::this_thread::sleep_for(20ms);
  }
  return 0;
}

std::string PasswordOf(const std::string& url) {
  const auto passwords = testing::UrlPasswords(url);
  return passwords.empty() ? "" : passwords.front();
}

// The secrets of one run. Some carry characters that JSON or a URL must escape, so that those
// encodings differ from the raw value.
struct Secrets {
  std::string jwt = "jwt-" + RandomText(44);
  // Random from its third character on, so that its first 12 characters are a secret too.
  std::string api_key = "sk-" + RandomText(48);
  // In the provider's base URL (a gateway that wants Basic credentials).
  std::string llm_url_password = "llm-gw-" + RandomText(20);
  std::string login_password = "login \"pw\" / " + RandomText(16);
  std::string wrong_login_password = "wrong <pw> & " + RandomText(16);
  // Too short for a JWT secret: the refusal must not repeat it.
  std::string short_jwt = "jwt-short-" + RandomText(10);
  // A URL carries it percent-encoded ("%21" for "!"); the server must not show either form.
  std::string down_pg_password = "pgdown-" + RandomText(16) + "!";
  std::string down_mysql_password = "mydown-" + RandomText(16);
  std::string wrong_pg_password = "pgwrong-" + RandomText(16);
  std::string down_redis_password = "redisdown-" + RandomText(16);

  std::vector<std::string> All() const {
    return {jwt,
            api_key,
            llm_url_password,
            login_password,
            wrong_login_password,
            short_jwt,
            down_pg_password,
            testing::PercentEncode(down_pg_password),
            down_mysql_password,
            wrong_pg_password,
            down_redis_password};
  }
};

// How the fake provider answers, chosen by "leakmodeN" in the question (the last one in the
// prompt). Every failure carries the key it was sent, the way real providers echo a wrong key.
enum ProviderMode {
  kEchoWholeKey = 0,  // 401, OpenAI's words, the whole key
  kEchoCutKey = 1,    // 401, the key cut short and starred, as OpenAI shows it
  kPlainText403 = 2,  // 403 from a proxy, plain text
  kServerError = 3,   // 500
  kHtmlGarbage = 4,   // 200 that is not JSON
  kWrongShape = 5,    // 200 JSON without choices
  kRateLimited = 6,   // 429 with Retry-After
  kBadRequest = 7,    // 400
  kAnswer = 8,        // a good answer
  kModes = 9,
};

std::string ModeMarker(int mode) { return "leakmode" + std::to_string(mode); }

testing::ScriptedReply ProviderReply(const std::string& head, const std::string& body) {
  std::string key = testing::HeaderValue(head, "Authorization");
  if (key.starts_with("Bearer ")) key = key.substr(7);
  const size_t at = body.rfind("leakmode");
  const int mode = at == std::string::npos || at + 8 >= body.size() ? kAnswer : body[at + 8] - '0';
  auto error = [](int status, const std::string& message, const std::string& type) {
    return testing::ScriptedReply{
        status,
        "application/json",
        json({{"error", {{"message", message}, {"type", type}, {"param", nullptr}}}}).dump(),
        {}};
  };
  switch (mode) {
    case kEchoWholeKey:
      return error(
          401,
          "Incorrect API key provided: " + key +
              ". You can find your API key at https://platform.openai.com/account/api-keys.",
          "invalid_request_error");
    case kEchoCutKey:
      return error(401,
                   "Incorrect API key provided: " + key.substr(0, 16) + "****************" +
                       key.substr(key.size() > 4 ? key.size() - 4 : 0) + ".",
                   "invalid_request_error");
    case kPlainText403:
      return {403, "text/plain", "Forbidden: the gateway refused key=" + key + "\n", {}};
    case kServerError:
      return error(500, "The server had an error while processing the request of key " + key,
                   "server_error");
    case kHtmlGarbage:
      return {200,
              "text/html",
              "<html><body>502 from upstream; Authorization: Bearer " + key + "</body></html>",
              {}};
    case kWrongShape:
      return {200, "application/json", json({{"id", "x"}, {"choices", key}}).dump(), {}};
    case kRateLimited: {
      auto reply = error(429, "Rate limit reached for key " + key, "requests");
      reply.headers = {{"Retry-After", "1"}};
      return reply;
    }
    case kBadRequest:
      return error(400, "bad request from key " + key, "invalid_request_error");
    default: {
      const std::string content = json({{"sql", "SELECT COUNT(*) AS customers FROM customers"},
                                        {"explanation", "Counts the customers."}})
                                      .dump();
      return {200,
              "application/json",
              json({{"id", "chatcmpl-1"},
                    {"object", "chat.completion"},
                    {"model", "leak-test-model"},
                    {"choices",
                     {{{"index", 0},
                       {"message", {{"role", "assistant"}, {"content", content}}},
                       {"finish_reason", "stop"}}}},
                    {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}}}})
                  .dump(),
              {}};
    }
  }
}

class SecretsLeakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(work() / "capture" / "secrets");
    fs::create_directories(work() / "capture" / "output");
    fs::copy_file(HELIOS_DEMO_DB, work() / "demo.db");
  }

  fs::path work() const { return dir_.path(); }
  fs::path capture() const { return work() / "capture"; }

  // Keeps `text` for the scan, here and in the suite's capture.
  void Keep(const std::string& label, const std::string& text) {
    const std::string name = std::to_string(kept_++) + "-" + label;
    std::string file;
    for (char c : name) file += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    testing::WriteFile(capture() / "output" / file, text);
    testing::CaptureText("secrets-leak-" + label, text);
  }

  // Sends a request to the server on `port` and keeps the whole response.
  RawResponse Send(int port, const std::string& label, const std::string& request) {
    RawResponse response = RawExchange(port, request);
    Keep(label, response.raw.empty() ? "(no response)" : response.raw);
    return response;
  }

  RawResponse Post(int port, const std::string& path, const std::string& body,
                   const std::vector<std::string>& headers = {}) {
    return Send(port, "POST " + path, HttpRequest("POST", path, headers, body));
  }

  RawResponse Get(int port, const std::string& path, const std::vector<std::string>& headers = {}) {
    return Send(port, "GET " + path, HttpRequest("GET", path, headers));
  }

  std::string Login(int port, const std::string& user, const std::string& password) {
    RawResponse r =
        Post(port, "/api/v1/auth/login", json({{"username", user}, {"password", password}}).dump());
    const json body = json::parse(r.body, nullptr, false);
    return r.status == 200 && body.is_object() ? body.value("token", "") : "";
  }

  // Runs the binary to completion with the secrets' environment plus `env`, keeping its output.
  testing::RunResult Run(const std::string& label, const std::vector<std::string>& args,
                         const std::vector<std::string>& env,
                         const fs::path& stdin_path = "/dev/null") {
    std::vector<std::string> argv = {HELIOS_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::RunResult r =
        testing::RunToCompletion(argv, work(), testing::ChildEnvironment(env), stdin_path);
    Keep(label, "exit " + std::to_string(r.exit_code) + "\n" + r.out + "\n" + r.err);
    return r;
  }

  // Adds a user with `password` through the command line (the password on stdin).
  void AddUser(const std::string& name, const std::string& tenant, const std::string& role,
               const std::string& password) {
    const fs::path in = work() / ("password-" + name);
    testing::WriteFile(in, password + "\n");
    testing::RunResult r = Run("user add " + name,
                               {"user", "add", name, "--tenant", tenant, "--role", role,
                                "--password-stdin", "--users-file", "users.json"},
                               {}, in);
    fs::remove(in);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Writes the recorded secrets and runs the scanner over what was kept (and `extra`).
  testing::RunResult Scan(const std::vector<std::string>& secrets,
                          const std::vector<std::string>& extra = {}) {
    std::string lines;
    for (const std::string& s : secrets) {
      lines += s + "\n";
      testing::RegisterSecretForScan(s);
    }
    testing::WriteFile(capture() / "secrets" / "leak-test.txt", lines);
    const auto python = testing::FindProgram("python3");
    if (!python) {
      ADD_FAILURE() << "python3 is needed to run scripts/scan_secrets.py";
      return {};
    }
    std::vector<std::string> argv = {python->string(),
                                     std::string(HELIOS_SOURCE_DIR) + "/scripts/scan_secrets.py",
                                     capture().string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::RunToCompletion(argv, work(), testing::ChildEnvironment());
  }

  // The scan finds nothing in what was kept, and does find a secret planted in a copy of it.
  void ExpectNoSecretIn(const std::vector<std::string>& secrets, const std::string& planted) {
    ASSERT_GT(kept_, 0);
    testing::RunResult clean = Scan(secrets);
    EXPECT_EQ(clean.exit_code, 0) << "a secret leaked (masked):\n" << clean.out << clean.err;
    EXPECT_THAT(clean.out, HasSubstr(" 0 hits"));

    // Planted in a file scanned with the kept material (and outside the suite's capture):
    // base64 as a Basic credential would carry it, and cut short as a provider's echo would.
    const fs::path plant = work() / "planted.log";
    testing::WriteFile(plant, "Authorization: Basic " + testing::Base64("user:" + planted) +
                                  "\nIncorrect API key provided: " + planted.substr(0, 14) +
                                  "*****\n");
    testing::RunResult found = Scan(secrets, {plant.string()});
    EXPECT_EQ(found.exit_code, 1) << found.out << found.err;
    EXPECT_THAT(found.out, HasSubstr(plant.string() + ":1: base64"));
    EXPECT_THAT(found.out, HasSubstr(plant.string() + ":2: first 12 characters"));
    EXPECT_THAT(found.out + found.err, ::testing::Not(HasSubstr(planted)));
  }

  void Drive(int port, int metrics_port, bool full);

  void TearDown() override {
    if (!pg_dir_.empty()) (void)testing::StopPrivateServer(ServerKind::kPostgres, pg_dir_);
  }

  testing::TempDir dir_{"helios-secrets-leak"};
  Secrets secrets_;
  int kept_ = 0;
  std::string pg_dir_;
};

// The questions and requests of one server run; `full` drives every path, otherwise a sample.
void SecretsLeakTest::Drive(int port, int metrics_port, bool full) {
  EXPECT_EQ(Get(port, "/health").status, 200);
  Get(port, "/ready");
  EXPECT_EQ(Get(metrics_port, "/metrics").status, 200);
  Get(port, "/metrics");

  // Wrong passwords until the login is limited, for a user of its own so the others can log in.
  int limited = 0;
  for (int i = 0; i < (full ? 5 : 2); ++i) {
    const int status =
        Post(port, "/api/v1/auth/login",
             json({{"username", "victor"}, {"password", secrets_.wrong_login_password}}).dump())
            .status;
    EXPECT_THAT(status, ::testing::AnyOf(401, 429));
    limited += status == 429;
  }
  if (full) {
    EXPECT_GT(limited, 0) << "the failed logins were never limited";
  }
  const std::string alice = Login(port, "alice", secrets_.login_password);
  ASSERT_FALSE(alice.empty());
  const std::string bearer = "Authorization: Bearer " + alice;

  // Tokens that must be refused, one of them signed with the real secret but expired.
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string claims =
      R"({"sub":"alice","tenant":"acme","roles":["admin"],"iss":"heliosdb-conversational-bi","iat":1700000000,"exp":4102444800})";
  const std::string expired =
      R"({"sub":"alice","tenant":"acme","roles":["analyst"],"iss":"heliosdb-conversational-bi","iat":1500000000,"exp":1500003600})";
  const std::vector<std::string> refused = {
      "",
      "Authorization: Bearer not-a-token",
      "Authorization: Bearer " +
          testing::SignHs256(header, claims, "not-the-secret-" + secrets_.jwt.substr(0, 4)),
      "Authorization: Bearer " + testing::SignHs256(header, expired, secrets_.jwt),
      "Authorization: Bearer " + testing::Base64(R"({"alg":"none"})", true) + "." +
          testing::Base64(claims, true) + ".",
      "Authorization: Basic " + testing::Base64("alice:" + secrets_.login_password),
      "Authorization: Bearer " + alice.substr(0, alice.rfind('.')) + ".AAAA",
  };
  for (const std::string& h : refused) {
    std::vector<std::string> headers;
    if (!h.empty()) headers.push_back(h);
    EXPECT_EQ(Post(port, "/api/v1/query", R"({"query":"how many customers"})", headers).status, 401)
        << h;
  }
  if (!full) {
    for (int mode : {kEchoWholeKey, kEchoCutKey, kHtmlGarbage}) {
      Post(port, "/api/v1/query", json({{"query", "how are sales " + ModeMarker(mode)}}).dump(),
           {bearer});
    }
    return;
  }

  // Logins the server cannot read.
  Post(port, "/api/v1/auth/login",
       "{\"username\":\"alice\",\"password\":\"" + secrets_.login_password);
  Post(port, "/api/v1/auth/login",
       json({{"username", "nobody"}, {"password", secrets_.login_password}}).dump());
  Post(port, "/api/v1/auth/login", json({{"username", "alice"}, {"password", 12345}}).dump());
  Send(port, "POST form login",
       HttpRequest(
           "POST", "/api/v1/auth/login", {"Content-Type: application/x-www-form-urlencoded"},
           "username=alice&password=" + testing::PercentEncode(secrets_.login_password), false));

  // Bodies, routes and sources that are wrong.
  Post(port, "/api/v1/query", "{\"query\": \"unterminated", {bearer});
  Post(port, "/api/v1/query", R"({"query": 5})", {bearer});
  EXPECT_EQ(Post(port, "/api/v1/query", json({{"query", std::string(6000, 'a')}}).dump(), {bearer})
                .status,
            413);
  EXPECT_EQ(Get(port, "/api/v1/nope", {bearer}).status, 404);
  Send(port, "DELETE query", HttpRequest("DELETE", "/api/v1/query", {bearer}));
  Get(port, "/api/v1/sessions/no-such-session", {bearer});
  EXPECT_EQ(
      Post(port, "/api/v1/query", R"({"query":"how many customers","database":"nosuch"})", {bearer})
          .status,
      404);
  Post(port, "/api/v1/feedback", R"({"session_id":"nope","turn":7,"correct":true})", {bearer});

  // The model failing in every way, each question a new conversation; then answering.
  for (int mode = 0; mode < kAnswer; ++mode) {
    RawResponse r =
        Post(port, "/api/v1/query",
             json({{"query", "how are sales doing " + ModeMarker(mode)}}).dump(), {bearer});
    EXPECT_GE(r.status, 400) << ModeMarker(mode) << ": " << r.body;
  }
  RawResponse answered = Post(
      port, "/api/v1/query",
      json({{"query", "how many customers " + ModeMarker(kAnswer)}, {"database", "demo"}}).dump(),
      {bearer});
  EXPECT_EQ(answered.status, 200) << answered.body;
  Get(port, "/api/v1/sessions", {bearer});

  // The rate limit of tenant "limited" (one question).
  const std::string lim = "Authorization: Bearer " + Login(port, "lim", secrets_.login_password);
  int rate_limited = 0;
  for (int i = 0; i < 3; ++i) {
    rate_limited +=
        Post(port, "/api/v1/query",
             json({{"query", "count customers " + ModeMarker(kAnswer)}, {"database", "demo"}})
                 .dump(),
             {lim})
            .status == 429;
  }
  EXPECT_GT(rate_limited, 0);

  // Admin routes, refused to an analyst and used by an admin.
  EXPECT_EQ(Post(port, "/api/v1/admin/cache/flush", "", {bearer}).status, 403);
  const std::string root = "Authorization: Bearer " + Login(port, "root", secrets_.login_password);
  Get(port, "/api/v1/admin/circuit-breaker", {root});
  Post(port, "/api/v1/admin/schema/refresh", "", {root});
  Get(port, "/api/v1/admin/sessions", {root});
  Post(port, "/api/v1/admin/cache/flush", "", {root});
  Get(port, "/ready");
  Get(metrics_port, "/metrics");
}

TEST_F(SecretsLeakTest, TheServerShowsNoSecretOnAnyPath) {
  auto pg = testing::StartPrivateServer(ServerKind::kPostgres, (work() / "pg").string());
  ASSERT_TRUE(pg.has_value()) << pg.error().message;
  pg_dir_ = pg->dir;
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url().has_value()) << redis.url().error().message;
  testing::ScriptedServer provider(ProviderReply);
  ASSERT_GT(provider.port(), 0);

  AddUser("alice", "acme", "analyst", secrets_.login_password);
  AddUser("root", "acme", "admin", secrets_.login_password);
  AddUser("victor", "acme", "analyst", secrets_.login_password);
  AddUser("lim", "limited", "analyst", secrets_.login_password);

  auto write_config =
      [&](const std::string& name, const std::string& format) {
        std::ofstream(work() / name)
            << "[server]\nhost = \"127.0.0.1\"\nport = 0\nworkers = 4\nweb_chat = false\n"
            << "max_request_body_bytes = 4096\nrequest_timeout_secs = 20\n"
            << "[auth]\nusers_file = \"users.json\"\nlogin_failures_per_user_per_minute = 3\n"
            << "[llm]\nprovider = \"openai\"\nmodel = \"leak-test-model\"\n"
            << "api_key_env = \"OPENAI_API_KEY\"\nmax_retries = 0\ntimeout_secs = 10\n"
            << "base_url = \"http://gateway:" << secrets_.llm_url_password
            << "@127.0.0.1:" << provider.port() << "/v1\"\n"
            << "[nl2sql]\nmode = \"llm\"\n"
            << "[production.circuit_breaker]\nfailure_threshold = 1000\n"
            << "[production.rate_limiting]\nburst_allowance = 1000\n"
            << "[production.rate_limiting.tenants.limited]\nqueries_per_minute = 1\n"
            << "burst_allowance = 1\n"
            << "[metrics]\nprometheus_port = 0\n"
            << "[logging]\nlevel = \"debug\"\nformat = \"" << format << "\"\n"
            << "[databases.demo]\nurl = \"sqlite://demo.db\"\n";
      };
  write_config("json.toml", "json");
  write_config("text.toml", "text");
  const std::vector<std::string> env = {
      "JWT_SECRET=" + secrets_.jwt, "OPENAI_API_KEY=" + secrets_.api_key,
      "DATABASE_URL=" + pg->reader_url, "REDIS_URL=" + *redis.url()};

  {
    // Trace, the most the server says, in JSON.
    std::vector<std::string> trace_env = env;
    trace_env.push_back("HELIOSDB_LOG_LEVEL=trace");
    testing::ServedBinary served(HELIOS_BINARY, {"--config", "json.toml", "serve"}, work(),
                                 trace_env);
    const int port = served.PortOf("listening");
    const int metrics_port = served.PortOf("metrics listening");
    ASSERT_GT(port, 0) << served.out() << served.err();
    ASSERT_GT(metrics_port, 0);
    Drive(port, metrics_port, /*full=*/true);
    served.Stop();
    Keep("serve json trace stdout", served.out());
    Keep("serve json trace stderr", served.err());
    EXPECT_GE(provider.requests(), static_cast<size_t>(kModes));
  }

  {
    // A start-up that fails on the database's password.
    std::vector<std::string> wrong = env;
    wrong[2] = "DATABASE_URL=postgresql://helios_reader:" + secrets_.wrong_pg_password +
               "@127.0.0.1:" + pg->reader_url.substr(pg->reader_url.rfind(':') + 1);
    testing::RunResult r =
        Run("serve wrong database password", {"--config", "json.toml", "serve"}, wrong);
    EXPECT_NE(r.exit_code, 0);
  }

  {
    // Debug in text form; then the database and Redis go away under it.
    testing::ServedBinary served(HELIOS_BINARY, {"--config", "text.toml", "serve"}, work(), env);
    const int port = TextLogPort(served, "listening");
    ASSERT_GT(port, 0) << served.out() << served.err();
    const int metrics_port = TextLogPort(served, "metrics listening");
    ASSERT_GT(metrics_port, 0);
    Drive(port, metrics_port, /*full=*/false);

    const std::string root =
        "Authorization: Bearer " + Login(port, "root", secrets_.login_password);
    ASSERT_TRUE(testing::StopPrivateServer(ServerKind::kPostgres, pg_dir_).has_value());
    EXPECT_EQ(Post(port, "/api/v1/query",
                   json({{"query", "how many customers " + ModeMarker(kAnswer)}}).dump(), {root})
                  .status,
              503);
    EXPECT_EQ(Get(port, "/ready").status, 503);
    Post(port, "/api/v1/admin/schema/refresh", "", {root});
    ASSERT_TRUE(redis.Stop().has_value());
    Post(
        port, "/api/v1/query",
        json({{"query", "how many customers " + ModeMarker(kAnswer)}, {"database", "demo"}}).dump(),
        {root});
    Get(port, "/ready");
    served.Stop();
    Keep("serve text debug stdout", served.out());
    Keep("serve text debug stderr", served.err());
  }

  std::vector<std::string> all = secrets_.All();
  for (const std::string& url : {pg->reader_url, pg->admin_url, *redis.url()}) {
    all.push_back(PasswordOf(url));
  }
  ExpectNoSecretIn(all, secrets_.jwt);
}

TEST_F(SecretsLeakTest, TheCommandLineShowsNoSecret) {
  const std::string closed = std::to_string(testing::FreeLoopbackPort());
  const std::string pg_url =
      "postgresql://helios_reader:" + testing::PercentEncode(secrets_.down_pg_password) +
      "@127.0.0.1:" + closed + "/helios";
  const std::string mysql_url =
      "mysql://helios:" + secrets_.down_mysql_password + "@127.0.0.1:" + closed + "/helios";
  const std::string redis_url =
      "redis://:" + secrets_.down_redis_password + "@127.0.0.1:" + closed + "/0";
  const std::vector<std::string> env = {
      "JWT_SECRET=" + secrets_.jwt, "OPENAI_API_KEY=" + secrets_.api_key,
      "ANTHROPIC_API_KEY=" + secrets_.api_key, "DATABASE_URL=" + pg_url, "REDIS_URL=" + redis_url};
  std::ofstream(work() / "cli.toml")
      << "[server]\nport = 0\n[metrics]\nprometheus_port = 0\n"
      << "[llm]\nprovider = \"openai\"\nmodel = \"m\"\n"
      << "base_url = \"https://gateway:" << secrets_.llm_url_password << "@llm.example/v1\"\n"
      << "[databases.warehouse]\nurl = \"" << mysql_url << "\"\n";
  // A file with a mistake on the line that carries a password.
  std::ofstream(work() / "bad.toml") << "[databases.warehouse]\nurl = \"" << mysql_url
                                     << "\"\npool_size = \"many\"\n[nonsense]\nkey = 1\n";
  std::ofstream(work() / "local.toml")
      << "[server]\nport = 0\n[auth]\nenabled = false\n[metrics]\nenabled = false\n";

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"},
           {"serve", "--help"},
           {"ask", "--help"},
           {"config", "check", "--help"},
           {"user", "add", "--help"},
           {"--version"},
           {"--config", "cli.toml", "config", "check"},
           {"--config", "bad.toml", "config", "check"},
           {"--config", "cli.toml", "serve"},
           {"ask", "--database", pg_url, "how many customers"},
           {"ask", "--database", mysql_url, "how many customers"},
           {"ask", "--database",
            "postgresql://u:" + secrets_.down_pg_password + "@127.0.0.1:notaport/x", "q"},
           {"ask", "--database", "ftp://u:" + secrets_.down_mysql_password + "@host/x", "q"},
       }) {
    std::string label;
    for (const std::string& a : args) label += (label.empty() ? "" : " ") + a.substr(0, 20);
    Run(label, args, env);
  }
  // `ask` answered through a provider that fails in every way, then answers.
  testing::ScriptedServer provider(ProviderReply);
  ASSERT_GT(provider.port(), 0);
  std::ofstream(work() / "llm.toml")
      << "[llm]\nprovider = \"openai\"\nmodel = \"m\"\nmax_retries = 0\ntimeout_secs = 10\n"
      << "base_url = \"http://gateway:" << secrets_.llm_url_password
      << "@127.0.0.1:" << provider.port() << "/v1\"\n"
      << "[nl2sql]\nmode = \"llm\"\n[production.circuit_breaker]\nfailure_threshold = 1000\n";
  std::vector<std::string> ask = {"--config", "llm.toml", "ask", "--database", "sqlite://demo.db"};
  for (int mode = 0; mode <= kAnswer; ++mode) {
    ask.push_back("how are sales doing " + ModeMarker(mode));
  }
  for (bool as_json : {false, true}) {
    std::vector<std::string> args = ask;
    if (as_json) args.insert(args.begin() + 3, "--json");
    testing::RunResult r = Run(as_json ? "ask llm json" : "ask llm", args,
                               {"OPENAI_API_KEY=" + secrets_.api_key, "HELIOSDB_LOG_LEVEL=trace"});
    EXPECT_THAT(r.out, HasSubstr(as_json ? "\"rows\"" : "customers")) << r.out << r.err;
  }
  EXPECT_GE(provider.requests(), 2u * kModes);

  testing::RunResult short_secret =
      Run("config check short JWT secret", {"--config", "cli.toml", "config", "check"},
          {"JWT_SECRET=" + secrets_.short_jwt});
  EXPECT_NE(short_secret.exit_code, 0);

  // Serving with Redis unreachable: it starts, on its own state, and says so.
  testing::ServedBinary served(
      HELIOS_BINARY, {"--config", "local.toml", "serve", "--database", "sqlite://demo.db"}, work(),
      {"REDIS_URL=" + redis_url, "HELIOSDB_LOG_LEVEL=trace"});
  const int port = served.PortOf("listening");
  ASSERT_GT(port, 0) << served.out() << served.err();
  Get(port, "/ready");
  Post(port, "/api/v1/query", R"({"query":"How many customers are there?"})");
  served.Stop();
  Keep("serve with Redis down stdout", served.out());
  Keep("serve with Redis down stderr", served.err());

  ExpectNoSecretIn(secrets_.All(), secrets_.api_key);
}

}  // namespace
}  // namespace helios::security
