// The fake model served on a real socket (127.0.0.1, port 0), its event loop on one thread of
// the test: answers come after the delay and never before, hundreds of connections are held at
// once without a thread each, keep-alive and pipelining work, malformed requests get 400 at
// once, and the product's own OpenAI-compatible provider and whole application accept the
// answer.
//
// Timing: only lower bounds are exact (an answer never comes before its delay). Where an upper
// bound shows that requests are held concurrently, it is generous (seconds, where answering one
// request at a time would take minutes), and "at once" is checked against a delay far longer
// than the read's timeout, so a busy machine cannot make these tests fail.
#include "fakellm/fake_llm_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "app/application.h"
#include "common/clock.h"
#include "config/config.h"
#include "fakellm/chat_completion.h"
#include "llm/factory.h"
#include "llm/http_transport.h"
#include "llm/sql_extract.h"
#include "observability/logger.h"
#include "raw_client.h"
#include "support/child_process.h"

namespace helios::fakellm {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::ChatRequest;
using testing::Clock;
using testing::Connection;
using testing::GetRequest;

// The fake on a thread of the test, stopped when the object goes away.
class Served {
 public:
  explicit Served(milliseconds delay) {
    ServerOptions options;
    options.delay = delay;
    auto started = FakeLlmServer::Start(options);
    if (!started) throw std::runtime_error(started.error().message);
    server_ = std::move(*started);
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~Served() {
    server_->Stop();
    thread_.join();
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

  FakeLlmServer& server() { return *server_; }
  uint16_t port() const { return server_->port(); }

  // Waits (a few seconds at most) until `done` holds for the server's counters.
  template <typename Predicate>
  bool WaitFor(Predicate done) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      if (done(server_->stats())) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return done(server_->stats());
  }

 private:
  std::unique_ptr<FakeLlmServer> server_;
  std::thread thread_;
};

std::string ContentOf(const testing::RawResponse& response) {
  return json::parse(response.body)["choices"][0]["message"]["content"].get<std::string>();
}

int ThreadsOfThisProcess() {
  int count = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    ++count;
  }
  return count;
}

// Both ends of every connection live in this process.
void AllowDescriptors(rlim_t wanted) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur >= wanted) return;
  ASSERT_GE(limit.rlim_max, wanted) << "the hard limit on open files is too low for this test";
  limit.rlim_cur = wanted;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
}

TEST(FakeLlmServerTest, AnswersAfterTheDelayAndNotBefore) {
  const milliseconds delay(300);
  Served served(delay);
  Connection connection(served.port());
  ASSERT_TRUE(connection.connected());
  const auto sent = Clock::now();
  ASSERT_TRUE(connection.Send(ChatRequest()));
  auto response = connection.Read(std::chrono::seconds(10));
  ASSERT_TRUE(response.has_value());
  EXPECT_GE(response->arrived - sent, delay);
  EXPECT_EQ(response->status, 200) << response->body;
  auto sql = llm::ExtractSql(ContentOf(*response));
  ASSERT_TRUE(sql.has_value());
  EXPECT_EQ(sql->sql, kDefaultSql);

  const Stats stats = served.server().stats();
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.answered, 1u);
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.max_in_flight, 1u);
}

TEST(FakeLlmServerTest, HoldsSixHundredConnectionsAtOnceOnOneThread) {
  constexpr size_t kConnections = 600;
  const milliseconds delay(1500);
  AllowDescriptors(4 * kConnections);
  Served served(delay);
  const int threads_before = ThreadsOfThisProcess();

  std::vector<Connection> connections;
  std::vector<Clock::time_point> sent;
  connections.reserve(kConnections);
  const auto first_sent = Clock::now();
  for (size_t i = 0; i < kConnections; ++i) {
    connections.emplace_back(served.port());
    ASSERT_TRUE(connections.back().connected()) << "connection " << i;
    sent.push_back(Clock::now());
    ASSERT_TRUE(connections.back().Send(ChatRequest()));
  }
  // Every request held at once, and no thread started for any of them.
  ASSERT_TRUE(served.WaitFor([](const Stats& s) { return s.in_flight == kConnections; }))
      << "in flight: " << served.server().stats().in_flight;
  EXPECT_EQ(served.server().stats().connections, kConnections);
  EXPECT_EQ(ThreadsOfThisProcess(), threads_before);

  const auto responses = testing::ReadOneEach(connections, std::chrono::seconds(60));
  Clock::time_point last_arrived = first_sent;
  for (size_t i = 0; i < kConnections; ++i) {
    ASSERT_EQ(responses[i].status, 200) << "connection " << i;
    EXPECT_GE(responses[i].arrived - sent[i], delay) << "connection " << i;
    last_arrived = std::max(last_arrived, responses[i].arrived);
  }
  // All within the delay and a slack of seconds: one at a time, they would take 15 minutes.
  EXPECT_LT(last_arrived - first_sent, delay + std::chrono::seconds(5));
  const Stats stats = served.server().stats();
  EXPECT_EQ(stats.max_in_flight, kConnections);
  EXPECT_EQ(stats.answered, kConnections);
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.accepted, kConnections);
}

TEST(FakeLlmServerTest, KeepsAConnectionForManyRequests) {
  Served served(milliseconds(20));
  Connection connection(served.port());
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(connection.Send(ChatRequest()));
    auto response = connection.Read(std::chrono::seconds(10));
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->head.find("Connection: close"), std::string::npos);
    ids.insert(json::parse(response->body)["id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(served.server().stats().accepted, 1u);
  EXPECT_EQ(served.server().stats().answered, 5u);
}

TEST(FakeLlmServerTest, AnswersPipelinedRequestsInOrder) {
  Served served(milliseconds(50));
  Connection connection(served.port());
  // A slow request, then one answered at once: the second answer waits for the first.
  ASSERT_TRUE(connection.Send(ChatRequest() + GetRequest("/health")));
  auto first = connection.Read(std::chrono::seconds(10));
  auto second = connection.Read(std::chrono::seconds(10));
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_TRUE(json::parse(first->body).contains("choices"));
  EXPECT_EQ(json::parse(second->body), json({{"status", "ok"}}));
}

TEST(FakeLlmServerTest, ClosesAfterAnsweringARequestThatAsksForIt) {
  Served served(milliseconds(10));
  Connection connection(served.port());
  ASSERT_TRUE(connection.Send(ChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":"q"}]})", "Connection: close\r\n")));
  auto response = connection.Read(std::chrono::seconds(10));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(connection.ClosedByPeer(std::chrono::seconds(10)));
}

// The delay is a minute and the reads wait ten seconds: an answer read at all came at once.
TEST(FakeLlmServerTest, MalformedBodiesGet400AtOnceAndTheConnectionStaysUsable) {
  Served served(std::chrono::minutes(1));
  Connection connection(served.port());
  for (const char* body : {"{not json", R"({"model":"m"})", R"({"model":"m","messages":[]})",
                           R"({"messages":[{"role":"user","content":"q"}]})"}) {
    ASSERT_TRUE(connection.Send(ChatRequest(body)));
    auto response = connection.Read(std::chrono::seconds(10));
    ASSERT_TRUE(response.has_value()) << body;
    EXPECT_EQ(response->status, 400) << body;
    EXPECT_FALSE(json::parse(response->body)["error"]["message"].get<std::string>().empty());
  }
  ASSERT_TRUE(connection.Send(GetRequest("/health")));
  auto health = connection.Read(std::chrono::seconds(10));
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  const Stats stats = served.server().stats();
  EXPECT_EQ(stats.rejected, 4u);
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.in_flight, 0u);
}

TEST(FakeLlmServerTest, UnframeableRequestsGet400AndTheConnectionIsClosed) {
  Served served(std::chrono::minutes(1));
  for (const char* request :
       {"GARBAGE\r\n\r\n", "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "GET /health HTTP/1.1\r\nno colon here\r\n\r\n"}) {
    Connection connection(served.port());
    ASSERT_TRUE(connection.Send(request));
    auto response = connection.Read(std::chrono::seconds(10));
    ASSERT_TRUE(response.has_value()) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_NE(response->head.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(connection.ClosedByPeer(std::chrono::seconds(10))) << request;
  }
}

TEST(FakeLlmServerTest, UnknownPathsAndWrongMethods) {
  Served served(milliseconds(10));
  Connection connection(served.port());
  ASSERT_TRUE(connection.Send(GetRequest("/v1/models")));
  auto unknown = connection.Read(std::chrono::seconds(10));
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status, 404);
  ASSERT_TRUE(connection.Send(GetRequest("/v1/chat/completions")));
  auto get = connection.Read(std::chrono::seconds(10));
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 405);
}

TEST(FakeLlmServerTest, ARequestWhoseClientLeftIsForgotten) {
  Served served(milliseconds(100));
  {
    Connection connection(served.port());
    ASSERT_TRUE(connection.Send(ChatRequest()));
    ASSERT_TRUE(served.WaitFor([](const Stats& s) { return s.in_flight == 1; }));
  }
  ASSERT_TRUE(served.WaitFor([](const Stats& s) { return s.connections == 0; }));
  EXPECT_EQ(served.server().stats().in_flight, 0u);
  // Its deadline passes with nothing to answer; the server goes on serving.
  std::this_thread::sleep_for(milliseconds(200));
  Connection next(served.port());
  ASSERT_TRUE(next.Send(ChatRequest()));
  auto response = next.Read(std::chrono::seconds(10));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  const Stats stats = served.server().stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.answered, 1u);
}

TEST(FakeLlmServerTest, StatsAreServedAndReset) {
  Served served(milliseconds(10));
  Connection connection(served.port());
  ASSERT_TRUE(connection.Send(ChatRequest()));
  ASSERT_TRUE(connection.Read(std::chrono::seconds(10)).has_value());
  ASSERT_TRUE(connection.Send(GetRequest("/stats")));
  auto stats = connection.Read(std::chrono::seconds(10));
  ASSERT_TRUE(stats.has_value());
  const json before = json::parse(stats->body);
  EXPECT_EQ(before["answered"], 1);
  EXPECT_EQ(before["max_in_flight"], 1);
  EXPECT_EQ(before["delay_ms"], 10);
  ASSERT_TRUE(
      connection.Send("POST /stats/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  auto reset = connection.Read(std::chrono::seconds(10));
  ASSERT_TRUE(reset.has_value());
  const json after = json::parse(reset->body);
  EXPECT_EQ(after["max_in_flight"], 0);
  EXPECT_EQ(after["answered"], 1);  // totals are kept
}

TEST(FakeLlmServerTest, TheProductsOpenAiCompatibleProviderReadsTheAnswer) {
  Served served(milliseconds(50));
  config::LlmConfig config;
  config.provider = config::LlmProvider::kOpenAiCompatible;
  config.model = "fake-model";
  config.base_url = fmt::format("http://127.0.0.1:{}/v1", served.port());
  config.max_retries = 0;
  auto transport = llm::MakeCurlTransport();
  SystemClock clock;
  auto provider = llm::MakeProvider(config, *transport, clock, nullptr, nullptr);
  ASSERT_TRUE(provider.has_value()) << provider.error().message;

  llm::CompletionRequest request;
  request.messages = {{llm::Role::kSystem, "Answer with a JSON object."},
                      {llm::Role::kUser, "How are customers spread over countries?"}};
  auto completion = (*provider)->Complete(request);
  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->model, "fake-model");
  EXPECT_FALSE(completion->truncated);
  auto sql = llm::ExtractSql(completion->text);
  ASSERT_TRUE(sql.has_value()) << sql.error().message;
  EXPECT_EQ(sql->sql, kDefaultSql);
  EXPECT_EQ(served.server().stats().answered, 1u);
}

// The whole application, as bench/suite.sh runs it: a question the built-in engine declines
// goes to the fake, whose SQL the product checks, runs on the demo database and charts.
TEST(FakeLlmServerTest, TheApplicationAnswersADeclinedQuestionFromTheFake) {
  Served served(milliseconds(50));
  helios::testing::TempDir dir("helios-fakellm");
  std::filesystem::copy_file(HELIOS_DEMO_DB, dir.path() / "demo.db");
  auto parsed = config::ParseConfig(
      fmt::format("[llm]\nprovider = \"openai-compatible\"\nmodel = \"fake-model\"\n"
                  "base_url = \"http://127.0.0.1:{}/v1\"\nmax_retries = 0\n",
                  served.port()),
      "test.toml", [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  parsed->database.url = "sqlite://" + (dir.path() / "demo.db").string();
  std::ostringstream log_text;
  SystemClock clock;
  observability::Logger logger(log_text, observability::LogLevel::kInfo,
                               observability::LogFormat::kJson, clock);
  auto app = app::Application::Build(*parsed, clock, logger);
  ASSERT_TRUE(app.has_value()) << app.error().message;

  nl2sql::AskRequest ask;
  ask.question = "how are our clients spread over the nations of the world";
  auto answer = (*app)->service().Ask(ask);
  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->source, "llm");
  EXPECT_EQ(answer->sql, kDefaultSql);
  EXPECT_EQ(answer->rows.size(), 18u);  // the demo database's countries
  EXPECT_EQ(answer->chart.type, "bar");
  EXPECT_EQ(served.server().stats().answered, 1u);
}

}  // namespace
}  // namespace helios::fakellm
