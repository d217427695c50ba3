// The whole application with a language model: Application::Build from a configuration naming
// each provider, its base_url pointed at a loopback stand-in that speaks that provider's wire
// format (path, auth header, response shape), and a question the built-in engine declines.
// The provider's own request checks live in tests/llm/; this is the composition end to end:
// router, prompt (schema linking, examples), provider, SQL extraction, the database's check,
// execution and the answer.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "app/application.h"
#include "common/clock.h"
#include "config/config.h"
#include "observability/logger.h"
#include "support/child_process.h"
#include "support/secret_capture.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr char kKey[] = "sk-app-test-key-never-shown";
const std::string kSql =
    "SELECT country, COUNT(*) AS customers FROM customers GROUP BY country ORDER BY country";

// The model's answer text in the JSON form the prompt asks for.
std::string ModelText() {
  return json({{"sql", kSql}, {"explanation", "Customers per country."}}).dump();
}

struct ProviderCase {
  const char* provider;
  const char* path;         // where the provider posts
  const char* auth_header;  // "" for none
  const char* auth_value;
  json (*reply)();
};

json OpenAiReply() {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion"},
          {"model", "test-model"},
          {"choices",
           {{{"index", 0},
             {"message", {{"role", "assistant"}, {"content", ModelText()}}},
             {"finish_reason", "stop"}}}},
          {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}};
}
json AnthropicReply() {
  return {{"id", "msg_1"},
          {"type", "message"},
          {"role", "assistant"},
          {"model", "test-model"},
          {"content", {{{"type", "text"}, {"text", ModelText()}}}},
          {"stop_reason", "end_turn"},
          {"usage", {{"input_tokens", 10}, {"output_tokens", 5}}}};
}
json CohereReply() {
  return {{"id", "c-1"},
          {"finish_reason", "COMPLETE"},
          {"message",
           {{"role", "assistant"}, {"content", {{{"type", "text"}, {"text", ModelText()}}}}}},
          {"usage",
           {{"billed_units", {{"input_tokens", 10}, {"output_tokens", 5}}},
            {"tokens", {{"input_tokens", 10}, {"output_tokens", 5}}}}}};
}
json OllamaReply() {
  return {{"model", "test-model"},
          {"created_at", "2025-01-01T00:00:00Z"},
          {"message", {{"role", "assistant"}, {"content", ModelText()}}},
          {"done", true},
          {"done_reason", "stop"},
          {"prompt_eval_count", 10},
          {"eval_count", 5}};
}

class LlmAppTest : public ::testing::TestWithParam<ProviderCase> {};

TEST_P(LlmAppTest, AQuestionTheEngineDeclinesIsAnsweredThroughTheProvider) {
  const ProviderCase& c = GetParam();
  testing::RegisterSecretForScan(kKey);
  testing::TempDir dir("helios-llm-app");
  fs::copy_file(HELIOS_DEMO_DB, dir.path() / "demo.db");

  std::mutex mu;
  std::vector<json> bodies;
  std::string seen_path, seen_auth;
  httplib::Server fake;
  fake.Post(".*", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    seen_path = req.path;
    seen_auth = c.auth_header[0] ? req.get_header_value(c.auth_header) : "";
    bodies.push_back(json::parse(req.body, nullptr, false));
    res.set_content(c.reply().dump(), "application/json");
  });
  int port = fake.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { fake.listen_after_bind(); });
  struct Stop {
    httplib::Server& server;
    std::thread& thread;
    ~Stop() {
      server.stop();
      thread.join();
    }
  } stop{fake, serving};

  auto parsed = config::ParseConfig(
      fmt::format(
          "[llm]\nprovider = \"{}\"\nmodel = \"test-model\"\nbase_url = "
          "\"http://127.0.0.1:{}{}\"\nmax_retries = 0\n",
          c.provider, port,
          std::string(c.provider) == "openai" || std::string(c.provider) == "openai-compatible"
              ? "/v1"
              : ""),
      "test.toml", [&](std::string_view name) -> std::optional<std::string> {
        if (name == "OPENAI_API_KEY") return std::string(kKey);
        return std::nullopt;
      });
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  parsed->database.url = "sqlite://" + (dir.path() / "demo.db").string();

  std::ostringstream log_text;
  SystemClock clock;
  observability::Logger logger(log_text, observability::LogLevel::kInfo,
                               observability::LogFormat::kJson, clock);
  auto app = Application::Build(*parsed, clock, logger);
  ASSERT_TRUE(app.has_value()) << app.error().message;
  ASSERT_NE((*app)->provider(), nullptr);

  nl2sql::AskRequest ask;
  ask.question = "how are our clients spread over the nations of the world";
  auto answer = (*app)->service().Ask(ask);
  ASSERT_TRUE(answer.has_value()) << answer.error().message;
  EXPECT_EQ(answer->source, "llm");
  EXPECT_EQ(answer->sql, kSql);
  EXPECT_EQ(answer->explanation, "Customers per country.");
  EXPECT_EQ(answer->rows.size(), 18u);
  EXPECT_EQ(answer->chart.type, "bar");

  std::lock_guard lock(mu);
  EXPECT_EQ(seen_path, c.path);
  if (c.auth_header[0]) {
    EXPECT_EQ(seen_auth, std::string(c.auth_value) + kKey);
  }
  ASSERT_EQ(bodies.size(), 1u);
  // The prompt carried the linked schema: the customers table and its country column.
  EXPECT_THAT(bodies[0].dump(), HasSubstr("customers"));
  EXPECT_THAT(bodies[0].dump(), HasSubstr("country"));
  // ...with a few stored values of its text columns.
  EXPECT_THAT(bodies[0].dump(), HasSubstr("e.g. '"));
  EXPECT_THAT(log_text.str(), ::testing::Not(HasSubstr(kKey)));
  testing::CaptureText("llm-app-log", log_text.str());
}

INSTANTIATE_TEST_SUITE_P(
    Providers, LlmAppTest,
    ::testing::Values(ProviderCase{"openai", "/v1/chat/completions", "Authorization", "Bearer ",
                                   OpenAiReply},
                      ProviderCase{"openai-compatible", "/v1/chat/completions", "Authorization",
                                   "Bearer ", OpenAiReply},
                      ProviderCase{"anthropic", "/v1/messages", "x-api-key", "", AnthropicReply},
                      ProviderCase{"cohere", "/v2/chat", "Authorization", "Bearer ", CohereReply},
                      ProviderCase{"ollama", "/api/chat", "", "", OllamaReply}),
    [](const ::testing::TestParamInfo<ProviderCase>& info) {
      std::string name = info.param.provider;
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

}  // namespace
}  // namespace helios::app
