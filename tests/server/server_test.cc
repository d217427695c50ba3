#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/text.h"
#include "nl2sql/service.h"
#include "observability/logger.h"
#include "server/http_server.h"
#include "server/test_fakes.h"

namespace helios::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kQueryPath[] = "/api/v1/query";
constexpr char kJson[] = "application/json";

nl2sql::Answer SimpleAnswer(const nl2sql::AskRequest& request) {
  nl2sql::Answer answer;
  answer.session_id = request.session_id.empty() ? "s-new" : request.session_id;
  answer.turn = 1;
  answer.sql = "SELECT COUNT(*) FROM customers";
  answer.explanation = request.question;
  answer.columns = {"count"};
  answer.rows = {{int64_t{7}}};
  answer.row_count = 1;
  answer.source = "engine";
  answer.confidence = 0.9;
  answer.chart.type = "number";
  answer.chart.y = {"count"};
  return answer;
}

nl2sql::HealthReport HealthyReport() {
  nl2sql::HealthReport report;
  report.ok = true;
  report.dependencies = {{"database", true, "sqlite", 0.5}};
  return report;
}

std::string QueryBody(std::string_view query) {
  return json({{"query", std::string(query)}}).dump();
}

// Sends raw bytes and reads one response (headers plus Content-Length bytes of body), or
// whatever arrives before the peer closes or 5 s pass.
std::string RawExchange(int port, std::string_view request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    while (true) {
      size_t header_end = response.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string headers = text::ToLower(response.substr(0, header_end));
        size_t at = headers.find("content-length:");
        size_t length = at == std::string::npos ? 0 : std::stoul(headers.substr(at + 15));
        if (response.size() >= header_end + 4 + length) break;
      }
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      response.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return response;
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest()
      : log_stream_(&log_buffer_),
        logger_(log_stream_, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                clock_) {
    service_.SetAsk([](const nl2sql::AskRequest& request) { return SimpleAnswer(request); });
    service_.SetHealth(HealthyReport);
  }

  void Start(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.version = "9.9.9-test";
    server_ = std::make_unique<HttpServer>(service_, logger_, clock_, options);
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    ASSERT_GT(*port, 0);
    port_ = *port;
    run_done_ = std::async(std::launch::async, [this] { server_->Run(); });
  }

  void TearDown() override {
    if (server_) {
      server_->Stop();
      ASSERT_EQ(run_done_.wait_for(30s), std::future_status::ready) << "Run() did not return";
    }
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    return client;
  }

  // The request log lines written so far.
  std::vector<json> RequestLines() {
    std::vector<json> lines;
    for (const std::string& line : text::Split(log_buffer_.str(), '\n')) {
      if (line.empty()) continue;
      json parsed = json::parse(line);
      if (parsed["message"] == "request") lines.push_back(std::move(parsed));
    }
    return lines;
  }

  // Checks the error envelope and returns its message.
  static std::string ExpectError(const httplib::Result& res, int status, std::string_view code) {
    EXPECT_TRUE(res) << "no response";
    if (!res) return {};
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), kJson);
    EXPECT_FALSE(res->get_header_value("X-Request-Id").empty());
    json body = json::parse(res->body, nullptr, false);
    EXPECT_TRUE(body.is_object()) << res->body;
    if (!body.is_object() || !body.contains("error")) return {};
    EXPECT_EQ(body["error"]["code"], code) << res->body;
    EXPECT_EQ(body.size(), 1u);
    EXPECT_EQ(body["error"].size(), 2u);
    return body["error"]["message"].get<std::string>();
  }

  FakeClock clock_;
  LockedStringBuf log_buffer_;
  std::ostream log_stream_;
  observability::Logger logger_;
  FakeService service_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> run_done_;
  int port_ = 0;
};

TEST_F(ServerTest, AnswersAQueryWithTypedJson) {
  service_.SetAsk([](const nl2sql::AskRequest& request) -> Result<nl2sql::Answer> {
    nl2sql::Answer answer = SimpleAnswer(request);
    answer.columns = {"name", "orders", "avg", "note", "raw"};
    answer.rows = {{std::string("Alice"), int64_t{9'007'199'254'740'993}, 2.5, std::monostate{},
                    db::Blob{{0x00, 0xff, 0x10}}}};
    answer.cache_hit = true;
    answer.latency_ms = 3.5;
    answer.chart.type = "bar";
    answer.chart.x = "name";
    answer.chart.y = {"orders"};
    return answer;
  });
  Start();
  auto cli = Client();
  auto res = cli.Post(
      kQueryPath, R"({"session_id":"sess-1","query":"orders by name","database":"demo"})", kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), kJson);
  json body = json::parse(res->body);
  EXPECT_EQ(body["session_id"], "sess-1");
  EXPECT_EQ(body["turn"], 1);
  EXPECT_EQ(body["sql"], "SELECT COUNT(*) FROM customers");
  EXPECT_EQ(body["explanation"], "orders by name");
  EXPECT_EQ(body["columns"], json({"name", "orders", "avg", "note", "raw"}));
  const json& row = body["rows"].at(0);
  EXPECT_EQ(row[0], "Alice");
  ASSERT_TRUE(row[1].is_number_integer());
  EXPECT_EQ(row[1].get<int64_t>(), 9'007'199'254'740'993);
  ASSERT_TRUE(row[2].is_number_float());
  EXPECT_DOUBLE_EQ(row[2].get<double>(), 2.5);
  EXPECT_TRUE(row[3].is_null());
  EXPECT_EQ(row[4], "AP8Q");
  EXPECT_EQ(body["row_count"], 1);
  EXPECT_EQ(body["truncated"], false);
  EXPECT_EQ(body["source"], "engine");
  EXPECT_DOUBLE_EQ(body["confidence"].get<double>(), 0.9);
  EXPECT_EQ(body["cache_hit"], true);
  EXPECT_DOUBLE_EQ(body["latency_ms"].get<double>(), 3.5);
  EXPECT_EQ(
      body["chart"],
      json({{"type", "bar"}, {"x", "name"}, {"y", {"orders"}}, {"spec", nullptr}, {"note", ""}}));

  auto requests = service_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].tenant_id, "default");
  EXPECT_EQ(requests[0].session_id, "sess-1");
  EXPECT_EQ(requests[0].question, "orders by name");
  EXPECT_EQ(requests[0].database, "demo");
}

TEST_F(ServerTest, AcceptsJsonWithCharsetOrNoContentType) {
  Start();
  auto cli = Client();
  auto with_charset = cli.Post(kQueryPath, QueryBody("q"), "application/json; charset=utf-8");
  ASSERT_TRUE(with_charset);
  EXPECT_EQ(with_charset->status, 200) << with_charset->body;
  std::string body = QueryBody("q");
  std::string raw = fmt::format(
      "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n"
      "\r\n{}",
      body.size(), body);
  std::string response = RawExchange(port_, raw);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
}

TEST_F(ServerTest, RejectsAnUploadContentType) {
  Start();
  auto cli = Client();
  std::string message =
      ExpectError(cli.Post(kQueryPath, QueryBody("q"), "application/octet-stream"), 415,
                  "unsupported_media_type");
  EXPECT_NE(message.find("application/json"), std::string::npos);
  EXPECT_TRUE(service_.requests().empty());
}

// `curl -d '{...}'` declares a form body; a JSON object in it is still a valid request.
TEST_F(ServerTest, AcceptsAJsonBodyUnderCurlsDefaultContentType) {
  Start();
  auto cli = Client();
  auto res = cli.Post(kQueryPath, QueryBody("q"), "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(service_.requests().size(), 1u);
  // A form body that is not JSON is a 400, not a 415.
  EXPECT_NE(ExpectError(cli.Post(kQueryPath, "query=q", "application/x-www-form-urlencoded"), 400,
                        "invalid_argument"),
            "");
}

TEST_F(ServerTest, BadInputIsA400NamingTheField) {
  Start();
  auto cli = Client();
  EXPECT_NE(ExpectError(cli.Post(kQueryPath, "{\"query\": ", kJson), 400, "invalid_argument")
                .find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(ExpectError(cli.Post(kQueryPath, "[1,2]", kJson), 400, "invalid_argument")
                .find("JSON object"),
            std::string::npos);
  EXPECT_EQ(
      ExpectError(cli.Post(kQueryPath, R"({"session_id":"s"})", kJson), 400, "invalid_argument"),
      "field 'query' is required");
  EXPECT_EQ(ExpectError(cli.Post(kQueryPath, R"({"query":""})", kJson), 400, "invalid_argument"),
            "field 'query' must not be empty");
  EXPECT_EQ(ExpectError(cli.Post(kQueryPath, R"({"query":42})", kJson), 400, "invalid_argument"),
            "field 'query' must be a string");
  EXPECT_EQ(ExpectError(cli.Post(kQueryPath, R"({"query":"q","session_id":7})", kJson), 400,
                        "invalid_argument"),
            "field 'session_id' must be a string");
  EXPECT_NE(ExpectError(cli.Post(kQueryPath, R"({"query":"q","session_id":"a b"})", kJson), 400,
                        "invalid_argument")
                .find("field 'session_id'"),
            std::string::npos);
  EXPECT_NE(ExpectError(cli.Post(kQueryPath, R"({"query":"hi\u0000there"})", kJson), 400,
                        "invalid_argument")
                .find("control character (U+0000)"),
            std::string::npos);
  EXPECT_NE(
      ExpectError(cli.Post(kQueryPath, R"({"query":"a\u001b[2J"})", kJson), 400, "invalid_argument")
          .find("control character (U+001B)"),
      std::string::npos);
  EXPECT_EQ(
      ExpectError(cli.Post(kQueryPath, "{\"query\":\"caf\xC3\"}", kJson), 400, "invalid_argument"),
      "the request body is not valid UTF-8");
  // An empty body (Content-Length: 0) is not a JSON object.
  ExpectError(cli.Post(kQueryPath, "", kJson), 400, "invalid_argument");
  EXPECT_TRUE(service_.requests().empty()) << "bad input must never reach the pipeline";
}

TEST_F(ServerTest, APostWithoutContentLengthIsAnsweredWithoutWaitingForABody) {
  Start();
  std::string response =
      RawExchange(port_, "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_NE(response.find("not valid JSON"), std::string::npos) << response;
}

TEST_F(ServerTest, TooLongQueryIs413CountingCharacters) {
  ServerOptions options;
  options.max_query_length = 10;
  Start(options);
  auto cli = Client();
  std::string message =
      ExpectError(cli.Post(kQueryPath, QueryBody("abcdefghijk"), kJson), 413, "payload_too_large");
  EXPECT_NE(message.find("11 characters, the limit is 10"), std::string::npos) << message;
  // Ten two-byte characters are within a ten-character limit.
  auto res = cli.Post(kQueryPath, QueryBody("éééééééééé"), kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(ServerTest, TooLargeBodyIs413AndTheConnectionStaysUsable) {
  ServerOptions options;
  options.max_request_body_bytes = 256;
  Start(options);
  auto cli = Client();
  cli.set_keep_alive(true);
  std::string big = QueryBody(std::string(1000, 'a'));
  std::string message = ExpectError(cli.Post(kQueryPath, big, kJson), 413, "payload_too_large");
  EXPECT_NE(message.find("256 bytes"), std::string::npos) << message;
  auto next = cli.Post(kQueryPath, QueryBody("small"), kJson);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200) << next->body;
  // Exactly at the limit is accepted.
  std::string padded = R"({"query":"q","pad":")";
  padded += std::string(256 - padded.size() - 2, 'x') + "\"}";
  ASSERT_EQ(padded.size(), 256u);
  auto at_limit = cli.Post(kQueryPath, padded, kJson);
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->status, 200) << at_limit->body;
  EXPECT_EQ(service_.requests().size(), 2u);
}

TEST_F(ServerTest, TooLargeChunkedBodyIs413) {
  ServerOptions options;
  options.max_request_body_bytes = 256;
  Start(options);
  auto cli = Client();
  std::string big = QueryBody(std::string(5000, 'a'));
  auto res = cli.Post(
      kQueryPath,
      [&big](size_t offset, httplib::DataSink& sink) {
        if (offset >= big.size()) {
          sink.done();
          return true;
        }
        size_t n = std::min<size_t>(100, big.size() - offset);
        return sink.write(big.data() + offset, n);
      },
      kJson);
  ExpectError(res, 413, "payload_too_large");
  EXPECT_TRUE(service_.requests().empty());
  // The server still serves new connections.
  auto after = Client().Post(kQueryPath, QueryBody("small"), kJson);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(ServerTest, ServiceErrorsMapToTheirStatus) {
  Start();
  struct Case {
    ErrorCode code;
    int status;
    std::string_view name;
  };
  for (Case c : {Case{ErrorCode::kNotUnderstood, 422, "not_understood"},
                 Case{ErrorCode::kUnsafeSql, 422, "unsafe_sql"},
                 Case{ErrorCode::kNotFound, 404, "not_found"},
                 Case{ErrorCode::kRateLimited, 429, "rate_limited"},
                 Case{ErrorCode::kDatabaseError, 502, "database_error"},
                 Case{ErrorCode::kUnavailable, 503, "unavailable"},
                 Case{ErrorCode::kDeadlineExceeded, 504, "deadline_exceeded"},
                 Case{ErrorCode::kInternal, 500, "internal"}}) {
    std::string text = fmt::format("failure {}", c.name);
    service_.SetAsk([c, text](const nl2sql::AskRequest&) -> Result<nl2sql::Answer> {
      return Fail(c.code, text);
    });
    auto cli = Client();
    EXPECT_EQ(ExpectError(cli.Post(kQueryPath, QueryBody("q"), kJson), c.status, c.name), text);
  }
}

TEST_F(ServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Start();
  auto cli = Client();
  ExpectError(cli.Get("/nope"), 404, "not_found");
  ExpectError(cli.Post("/api/v2/query", QueryBody("q"), kJson), 404, "not_found");
  ExpectError(cli.Get("/health/"), 404, "not_found");

  auto get_query = cli.Get(kQueryPath);
  ExpectError(get_query, 405, "method_not_allowed");
  EXPECT_EQ(get_query->get_header_value("Allow"), "POST");
  auto delete_query = cli.Delete(kQueryPath);
  ExpectError(delete_query, 405, "method_not_allowed");
  EXPECT_EQ(delete_query->get_header_value("Allow"), "POST");
  auto put_query = cli.Put(kQueryPath, QueryBody("q"), kJson);
  ExpectError(put_query, 405, "method_not_allowed");
  auto post_health = cli.Post("/health", "{}", kJson);
  std::string message = ExpectError(post_health, 405, "method_not_allowed");
  EXPECT_EQ(post_health->get_header_value("Allow"), "GET, HEAD");
  EXPECT_EQ(message, "method POST is not allowed here; use GET, HEAD");
  auto head_query = cli.Head(kQueryPath);
  ASSERT_TRUE(head_query);
  EXPECT_EQ(head_query->status, 405);
  EXPECT_TRUE(service_.requests().empty());
}

TEST_F(ServerTest, UnknownMethodAndMalformedRequestAreJson400) {
  Start();
  auto cli = Client();
  httplib::Request brew;
  brew.method = "BREW";
  brew.path = "/health";
  ExpectError(cli.send(brew), 400, "invalid_argument");
  std::string response = RawExchange(port_, "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
  EXPECT_NE(response.find("Content-Type: application/json"), std::string::npos) << response;
  EXPECT_NE(response.find(R"({"error":{"code":"invalid_argument")"), std::string::npos) << response;
}

TEST_F(ServerTest, HealthIsLivenessAndChecksNoDependency) {
  int checks = 0;
  service_.SetHealth([&checks] {
    ++checks;
    nl2sql::HealthReport report;
    report.dependencies = {{"database", false, "cannot open the database", 2}};
    return report;
  });
  Start();
  auto cli = Client();
  clock_.Advance(90s);
  auto alive = cli.Get("/health");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200) << "a database outage must not get a live process restarted";
  EXPECT_EQ(alive->get_header_value("Content-Type"), kJson);
  EXPECT_EQ(json::parse(alive->body),
            json::parse(R"({"status":"alive","version":"9.9.9-test","uptime_seconds":90})"));
  auto head = cli.Head("/health");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(checks, 0);
}

TEST_F(ServerTest, ReadyIs200WhenOkAnd503WhenDegraded) {
  Start();
  auto cli = Client();
  clock_.Advance(90s);
  auto ok = cli.Get("/ready");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Content-Type"), kJson);
  EXPECT_EQ(json::parse(ok->body),
            json::parse(R"({"status":"ok","version":"9.9.9-test","uptime_seconds":90,
                            "dependencies":{"database":{"status":"ok","detail":"sqlite",
                                                        "latency_ms":0.5}}})"));
  auto head = cli.Head("/ready");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");

  service_.SetHealth([] {
    nl2sql::HealthReport report;
    report.dependencies = {{"database", false, "cannot open the database", 2}};
    return report;
  });
  auto degraded = cli.Get("/ready");
  ASSERT_TRUE(degraded);
  EXPECT_EQ(degraded->status, 503);
  json body = json::parse(degraded->body);
  EXPECT_EQ(body["status"], "degraded");
  EXPECT_EQ(body["dependencies"]["database"]["status"], "down");
  EXPECT_EQ(body["dependencies"]["database"]["detail"], "cannot open the database");
}

TEST_F(ServerTest, RequestIdIsEchoedWhenSaneAndGeneratedOtherwise) {
  Start();
  auto cli = Client();
  auto echoed = cli.Get("/health", {{"X-Request-Id", "client-req.42"}});
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->get_header_value("X-Request-Id"), "client-req.42");
  auto replaced = cli.Get("/health", {{"X-Request-Id", "has spaces and <html>"}});
  ASSERT_TRUE(replaced);
  std::string id = replaced->get_header_value("X-Request-Id");
  EXPECT_EQ(id.size(), 36u) << id;
  EXPECT_NE(id, "has spaces and <html>");
  auto generated_a = cli.Get("/health");
  auto generated_b = cli.Get("/health");
  ASSERT_TRUE(generated_a && generated_b);
  EXPECT_NE(generated_a->get_header_value("X-Request-Id"),
            generated_b->get_header_value("X-Request-Id"));
}

TEST_F(ServerTest, WritesOneRequestLogLinePerRequest) {
  service_.SetAsk([this](const nl2sql::AskRequest& request) -> Result<nl2sql::Answer> {
    clock_.Advance(250ms);
    if (request.question == "nonsense") return Fail(ErrorCode::kNotUnderstood, "not understood");
    nl2sql::Answer answer = SimpleAnswer(request);
    answer.cache_hit = true;
    answer.database_ms = 42.5;
    return answer;
  });
  Start();
  auto cli = Client();
  auto ok = cli.Post(kQueryPath, QueryBody("how many customers"), kJson);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200);
  auto failed = cli.Post(kQueryPath, R"({"session_id":"s-9","query":"nonsense"})", kJson);
  ASSERT_TRUE(failed);
  ASSERT_EQ(failed->status, 422);
  auto bad = cli.Post(kQueryPath, "{oops", kJson);
  ASSERT_TRUE(bad);
  auto missing = cli.Get("/missing");
  ASSERT_TRUE(missing);

  auto lines = RequestLines();
  ASSERT_EQ(lines.size(), 4u);
  const json& success = lines[0];
  EXPECT_EQ(success["level"], "INFO");
  EXPECT_EQ(success["service"], "conversational-bi");
  EXPECT_EQ(success["request_id"], ok->get_header_value("X-Request-Id"));
  EXPECT_EQ(success["method"], "POST");
  EXPECT_EQ(success["path"], kQueryPath);
  EXPECT_EQ(success["status"], 200);
  EXPECT_EQ(success["tenant_id"], "default");
  EXPECT_EQ(success["session_id"], "s-new");
  EXPECT_EQ(success["query"], "how many customers");
  EXPECT_DOUBLE_EQ(success["latency_ms"].get<double>(), 250.0);
  EXPECT_EQ(success["cache_hit"], true);
  EXPECT_EQ(success["sql_generated"], true);
  EXPECT_EQ(success["source"], "engine");
  EXPECT_EQ(success["row_count"], 1);
  EXPECT_DOUBLE_EQ(success["db_ms"].get<double>(), 42.5);
  EXPECT_FALSE(success.contains("error_code"));

  const json& not_understood = lines[1];
  EXPECT_EQ(not_understood["level"], "WARN");
  EXPECT_EQ(not_understood["status"], 422);
  EXPECT_EQ(not_understood["error_code"], "not_understood");
  EXPECT_EQ(not_understood["session_id"], "s-9");
  EXPECT_EQ(not_understood["query"], "nonsense");
  EXPECT_EQ(not_understood["sql_generated"], false);
  EXPECT_EQ(not_understood["cache_hit"], false);
  EXPECT_DOUBLE_EQ(not_understood["latency_ms"].get<double>(), 250.0);

  EXPECT_EQ(lines[2]["status"], 400);
  EXPECT_EQ(lines[2]["error_code"], "invalid_argument");
  EXPECT_EQ(lines[2]["query"], "");
  EXPECT_DOUBLE_EQ(lines[2]["latency_ms"].get<double>(), 0.0);

  EXPECT_EQ(lines[3]["status"], 404);
  EXPECT_EQ(lines[3]["method"], "GET");
  EXPECT_EQ(lines[3]["path"], "/missing");
  EXPECT_EQ(lines[3]["error_code"], "not_found");
}

TEST_F(ServerTest, ServesConcurrentRequests) {
  ServerOptions options;
  options.workers = 4;
  Start(options);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &ok] {
      auto cli = Client();
      cli.set_keep_alive(t % 2 == 0);
      for (int i = 0; i < kPerThread; ++i) {
        std::string question = fmt::format("question {} {}", t, i);
        auto res = cli.Post(kQueryPath, QueryBody(question), kJson);
        if (res && res->status == 200 && json::parse(res->body)["explanation"] == question) {
          ++ok;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(service_.requests().size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(RequestLines().size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(ServerTest, AThrowingServiceIsA500WithAGenericMessageAndTheServerStaysUp) {
  service_.SetAsk([](const nl2sql::AskRequest& request) -> Result<nl2sql::Answer> {
    if (request.question == "boom") throw std::runtime_error("secret table xyz_internal missing");
    if (request.question == "odd") throw 42;
    return SimpleAnswer(request);
  });
  Start();
  auto cli = Client();
  for (std::string_view question : {"boom", "odd"}) {
    auto res = cli.Post(kQueryPath, QueryBody(question), kJson);
    EXPECT_EQ(ExpectError(res, 500, "internal"), "internal server error");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body.find("xyz_internal"), std::string::npos);
    EXPECT_FALSE(res->has_header("EXCEPTION_WHAT"));
  }
  service_.SetHealth([]() -> nl2sql::HealthReport { throw std::logic_error("health exploded"); });
  EXPECT_EQ(ExpectError(cli.Get("/ready"), 500, "internal"), "internal server error");

  auto after = cli.Post(kQueryPath, QueryBody("fine"), kJson);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  // The operator's log keeps the detail the client did not get.
  EXPECT_NE(log_buffer_.str().find("secret table xyz_internal missing"), std::string::npos);
}

TEST_F(ServerTest, StopMakesRunReturnPromptly) {
  Start();
  auto cli = Client();
  ASSERT_TRUE(cli.Get("/health"));
  server_->Stop();
  EXPECT_EQ(run_done_.wait_for(10s), std::future_status::ready);
  server_->Stop();  // idempotent
  auto after = Client().Get("/health");
  EXPECT_FALSE(after) << "nothing should be listening after Stop()";
}

TEST(HttpServerLifecycleTest, StopBeforeRunMakesRunReturnAtOnce) {
  FakeClock clock;
  std::ostringstream log;
  observability::Logger logger(log, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                               clock);
  FakeService service;
  ServerOptions options;
  options.port = 0;
  HttpServer server(service, logger, clock, options);
  ASSERT_TRUE(server.Bind().has_value());
  server.Stop();
  auto run = std::async(std::launch::async, [&server] { server.Run(); });
  EXPECT_EQ(run.wait_for(10s), std::future_status::ready);
  auto again = server.Bind();
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kInvalidArgument);
}

TEST(HttpServerLifecycleTest, AStopRacingRunIsNeverLost) {
  FakeClock clock;
  std::ostringstream log;
  observability::Logger logger(log, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                               clock);
  FakeService service;
  ServerOptions options;
  options.port = 0;
  options.workers = 1;
  for (int i = 0; i < 50; ++i) {
    HttpServer server(service, logger, clock, options);
    ASSERT_TRUE(server.Bind().has_value());
    std::atomic<bool> started{false};
    auto run = std::async(std::launch::async, [&server, &started] {
      started = true;
      server.Run();
    });
    while (!started) std::this_thread::yield();
    // Sweep the window between Run() starting and its accept loop running.
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(10 * i);
    while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
    server.Stop();
    ASSERT_EQ(run.wait_for(10s), std::future_status::ready) << "iteration " << i;
  }
}

TEST(HttpServerLifecycleTest, RunWithoutBindReturnsAtOnce) {
  FakeClock clock;
  std::ostringstream log;
  observability::Logger logger(log, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                               clock);
  FakeService service;
  HttpServer server(service, logger, clock, ServerOptions{});
  auto run = std::async(std::launch::async, [&server] { server.Run(); });
  EXPECT_EQ(run.wait_for(10s), std::future_status::ready);
}

TEST(HttpServerLifecycleTest, BadOptionsAndBusyPortsAreErrors) {
  FakeClock clock;
  std::ostringstream log;
  observability::Logger logger(log, observability::LogLevel::kInfo, observability::LogFormat::kJson,
                               clock);
  FakeService service;
  auto bind_with = [&](ServerOptions options) {
    HttpServer server(service, logger, clock, std::move(options));
    return server.Bind();
  };
  ServerOptions no_workers;
  no_workers.port = 0;
  no_workers.workers = 0;
  EXPECT_EQ(bind_with(no_workers).error().code, ErrorCode::kInvalidArgument);
  ServerOptions bad_port;
  bad_port.port = 70000;
  EXPECT_EQ(bind_with(bad_port).error().code, ErrorCode::kInvalidArgument);
  ServerOptions no_body;
  no_body.port = 0;
  no_body.max_request_body_bytes = 0;
  EXPECT_EQ(bind_with(no_body).error().code, ErrorCode::kInvalidArgument);
  ServerOptions bad_host;
  bad_host.port = 0;
  bad_host.host = "192.0.2.1";  // TEST-NET-1: never an address of this machine
  EXPECT_EQ(bind_with(bad_host).error().code, ErrorCode::kUnavailable);

  ServerOptions first_options;
  first_options.port = 0;
  HttpServer first(service, logger, clock, first_options);
  auto port = first.Bind();
  ASSERT_TRUE(port.has_value());
  auto twice = first.Bind();
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::kInvalidArgument);
  ServerOptions busy;
  busy.port = *port;
  auto taken = bind_with(busy);
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(taken.error().message.find(std::to_string(*port)), std::string::npos);
}

}  // namespace
}  // namespace helios::server
