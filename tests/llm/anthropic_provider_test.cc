// The Anthropic provider against a fake Messages API that checks requests the way
// api.anthropic.com does (x-api-key, anthropic-version, content-type, a top-level system,
// user/assistant roles only, max_tokens required, temperature within 0..1, no unknown fields)
// and answers with Anthropic's real bodies, including 529 overloaded_error. Real HTTP through
// CurlTransport; retry waits on a FakeClock.
#include "llm/anthropic/anthropic_provider.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "llm/fake_server.h"
#include "llm/sql_extract.h"

namespace helios::llm {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using testing::FakeServer;
using testing::Harness;
using ::testing::HasSubstr;
using testing::JsonReply;
using testing::kApiKey;
using ::testing::Not;
using testing::Reply;

Reply AnthropicError(int status, const std::string& type, const std::string& message) {
  return JsonReply(status, {{"type", "error"},
                            {"error", {{"type", type}, {"message", message}}},
                            {"request_id", "req_011CSHoEeqs5C35K2UUqR7Fy"}});
}

Reply AnthropicAnswer(const json& content, const std::string& stop_reason = "end_turn") {
  return JsonReply(200, {{"id", "msg_013Zva2CMHLNnXjNJJKqJ2EF"},
                         {"type", "message"},
                         {"role", "assistant"},
                         {"model", "claude-sonnet-4-20250514"},
                         {"content", content},
                         {"stop_reason", stop_reason},
                         {"stop_sequence", nullptr},
                         {"usage", {{"input_tokens", 2095}, {"output_tokens", 503}}}});
}

json TextBlocks(std::initializer_list<std::string> texts) {
  json blocks = json::array();
  for (const auto& text : texts) blocks.push_back({{"type", "text"}, {"text", text}});
  return blocks;
}

const char* const kSqlAnswer =
    R"({"sql": "SELECT COUNT(*) FROM customers", "explanation": "Counts the customers."})";

FakeServer::Check CheckLikeAnthropic() {
  return [](const httplib::Request& request) -> std::optional<Reply> {
    if (request.method != "POST" || request.path != "/v1/messages") {
      return AnthropicError(404, "not_found_error", "Not Found");
    }
    const std::string key = request.get_header_value("x-api-key");
    if (key.empty()) {
      return AnthropicError(401, "authentication_error", "x-api-key header is required");
    }
    if (key != kApiKey) return AnthropicError(401, "authentication_error", "invalid x-api-key");
    if (request.has_header("Authorization")) {
      return AnthropicError(401, "authentication_error",
                            "Authorization header is not used with x-api-key");
    }
    const std::string version = request.get_header_value("anthropic-version");
    if (version.empty()) {
      return AnthropicError(400, "invalid_request_error", "anthropic-version: header is required");
    }
    if (version != "2023-06-01") {
      return AnthropicError(400, "invalid_request_error",
                            "anthropic-version: unknown version " + version);
    }
    if (request.get_header_value("content-type").rfind("application/json", 0) != 0) {
      return AnthropicError(400, "invalid_request_error",
                            "content-type: expected application/json");
    }
    const json body = testing::BodyOf(request);
    if (!body.is_object()) {
      return AnthropicError(400, "invalid_request_error",
                            "There was an issue with the request body");
    }
    static const std::set<std::string> kKnown = {
        "model",          "messages", "max_tokens", "system",   "temperature",
        "stop_sequences", "top_p",    "top_k",      "metadata", "stream"};
    for (const auto& [key_name, value] : body.items()) {
      if (kKnown.count(key_name) == 0) {
        return AnthropicError(400, "invalid_request_error",
                              key_name + ": Extra inputs are not permitted");
      }
    }
    if (!body.contains("model") || !body["model"].is_string()) {
      return AnthropicError(400, "invalid_request_error", "model: Field required");
    }
    if (!body.contains("max_tokens")) {
      return AnthropicError(400, "invalid_request_error", "max_tokens: Field required");
    }
    if (!body["max_tokens"].is_number_integer() || body["max_tokens"].get<int>() < 1) {
      return AnthropicError(400, "invalid_request_error",
                            "max_tokens: Input should be a valid integer greater than 0");
    }
    if (body.contains("system") && !body["system"].is_string() && !body["system"].is_array()) {
      return AnthropicError(400, "invalid_request_error", "system: Input should be a valid list");
    }
    if (body.contains("temperature") &&
        (!body["temperature"].is_number() || body["temperature"].get<double>() < 0 ||
         body["temperature"].get<double>() > 1)) {
      return AnthropicError(400, "invalid_request_error", "temperature: range: 0..1");
    }
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
      return AnthropicError(400, "invalid_request_error", "messages: Field required");
    }
    for (size_t i = 0; i < body["messages"].size(); ++i) {
      const json& message = body["messages"][i];
      const std::string role =
          message.is_object() && message.contains("role") && message["role"].is_string()
              ? message["role"].get<std::string>()
              : "";
      if (role == "system") {
        return AnthropicError(
            400, "invalid_request_error",
            "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` "
            "parameter, not \"system\" as an input message role.");
      }
      if (role != "user" && role != "assistant") {
        return AnthropicError(400, "invalid_request_error",
                              fmt::format("messages.{}.role: Input should be 'user' or "
                                          "'assistant'",
                                          i));
      }
      if (i == 0 && role != "user") {
        return AnthropicError(400, "invalid_request_error",
                              "messages: first message must use the \"user\" role");
      }
      if (!message.contains("content") ||
          (!message["content"].is_string() && !message["content"].is_array()) ||
          (message["content"].is_string() && message["content"].get<std::string>().empty())) {
        return AnthropicError(400, "invalid_request_error",
                              fmt::format("messages.{}: text content blocks must be non-empty", i));
      }
    }
    return std::nullopt;
  };
}

class AnthropicProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness.config.provider = config::LlmProvider::kAnthropic;
    harness.config.model = "claude-sonnet-4-20250514";
    harness.config.api_key_env = "ANTHROPIC_API_KEY";
    harness.config.base_url = server.base_url();
  }

  FakeServer server{CheckLikeAnthropic(), AnthropicAnswer(TextBlocks({kSqlAnswer}))};
  Harness harness;
};

TEST_F(AnthropicProviderTest, SendsTheRequestAnthropicExpectsAndReadsTheAnswer) {
  auto provider = harness.Make();
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), "anthropic");

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->text, kSqlAnswer);
  EXPECT_EQ(completion->model, "claude-sonnet-4-20250514");
  EXPECT_EQ(completion->input_tokens, 2095);
  EXPECT_EQ(completion->output_tokens, 503);
  EXPECT_EQ(completion->attempts, 1);
  EXPECT_FALSE(completion->truncated);

  const auto seen = server.last();
  EXPECT_EQ(seen.path, "/v1/messages");
  EXPECT_EQ(seen.Header("x-api-key"), kApiKey);
  EXPECT_EQ(seen.Header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(seen.Header("content-type"), "application/json");
  const json body = seen.Json();
  EXPECT_EQ(body["model"], "claude-sonnet-4-20250514");
  EXPECT_EQ(body["max_tokens"], 400);
  EXPECT_THAT(body["system"].get<std::string>(), HasSubstr("SQLite SELECT"));
  ASSERT_EQ(body["messages"].size(), 1u);
  EXPECT_EQ(body["messages"][0]["role"], "user");
  EXPECT_EQ(body["messages"][0]["content"], "How many customers are there?");
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.1);
}

TEST_F(AnthropicProviderTest, AFollowUpConversationKeepsItsTurns) {
  auto provider = harness.Make();
  auto request = harness.Request();
  request.messages.push_back({Role::kAssistant, kSqlAnswer});
  request.messages.push_back({Role::kUser, "And in France?"});

  auto completion = provider->Complete(request);

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  const json messages = server.last().Json()["messages"];
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1]["role"], "assistant");
  EXPECT_EQ(messages[2]["content"], "And in France?");
}

TEST_F(AnthropicProviderTest, ClampsTemperatureToAnthropicsRange) {
  auto provider = harness.Make();
  auto request = harness.Request();
  request.temperature = 1.7;

  auto completion = provider->Complete(request);

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_DOUBLE_EQ(server.last().Json()["temperature"].get<double>(), 1.0);
}

TEST_F(AnthropicProviderTest, JoinsTextBlocksAndSkipsOthers) {
  json content = TextBlocks({"Here is the query:\n", kSqlAnswer});
  const json thinking = {{"type", "thinking"}, {"thinking", "SELECT 1"}};
  content.insert(content.begin(), thinking);
  server.Script(AnthropicAnswer(content));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->text, std::string("Here is the query:\n") + kSqlAnswer);
  EXPECT_EQ(ExtractSql(completion->text)->sql, "SELECT COUNT(*) FROM customers");
}

TEST_F(AnthropicProviderTest, AWrongKeyIsUnavailableAndNotRetried) {
  harness.config.api_key = config::Secret("sk-ant-api03-wrong");
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("ANTHROPIC_API_KEY"));
  EXPECT_THAT(completion.error().message, HasSubstr("authentication_error: invalid x-api-key"));
  EXPECT_THAT(completion.error().message, Not(HasSubstr("sk-ant-api03-wrong")));
  EXPECT_EQ(server.seen().size(), 1u);
}

TEST_F(AnthropicProviderTest, AnInvalidRequestIsInternal) {
  server.Script(AnthropicError(400, "invalid_request_error",
                               "prompt is too long: 215000 tokens > 200000 maximum"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kInternal);
  EXPECT_THAT(completion.error().message, HasSubstr("prompt is too long"));
  EXPECT_EQ(server.seen().size(), 1u);
}

TEST_F(AnthropicProviderTest, RetriesOverloadedAndRateLimited) {
  server.Script(AnthropicError(529, "overloaded_error", "Overloaded"));
  Reply limited = AnthropicError(429, "rate_limit_error",
                                 "This request would exceed your organization's rate limit.");
  limited.headers = {{"retry-after", "4"}};
  server.Script(limited);
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->attempts, 3);
  EXPECT_THAT(harness.waits, ElementsAre(milliseconds(125), seconds(4)));
}

TEST_F(AnthropicProviderTest, PersistentOverloadIsUnavailable) {
  harness.config.max_retries = 1;
  server.Script(AnthropicError(529, "overloaded_error", "Overloaded"));
  server.Script(AnthropicError(529, "overloaded_error", "Overloaded"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("HTTP 529"));
  EXPECT_THAT(completion.error().message, HasSubstr("overloaded_error"));
}

TEST_F(AnthropicProviderTest, ASlowAnswerEndsAtTheDeadline) {
  server.Script(Reply{200, "{}", "application/json", {}, /*hang=*/true});
  auto provider = harness.Make();
  auto request = harness.Request();
  request.deadline = harness.clock.Steady() + milliseconds(150);

  auto completion = provider->Complete(request);

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kDeadlineExceeded);
}

TEST_F(AnthropicProviderTest, StopAtMaxTokensIsFlagged) {
  server.Script(
      AnthropicAnswer(TextBlocks({R"({"sql": "SELECT name, email FROM cus)"}), "max_tokens"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_TRUE(completion->truncated);
  EXPECT_EQ(ExtractSql(completion->text).error().code, ErrorCode::kNotUnderstood);
}

TEST_F(AnthropicProviderTest, ARefusalIsNotUnderstood) {
  server.Script(AnthropicAnswer(TextBlocks({"I can't help with that."}), "refusal"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(completion.error().message, HasSubstr("I can't help with that."));
}

TEST_F(AnthropicProviderTest, ATruncatedBodyIsUnavailable) {
  server.Script(Reply{200,
                      R"({"id":"msg_01","type":"message","content":[{"type":"te)",
                      "application/json",
                      {},
                      false});
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
}

TEST_F(AnthropicProviderTest, ABaseUrlEndingInV1IsCompleted) {
  harness.config.base_url = server.base_url() + "/v1/";
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(server.last().path, "/v1/messages");
}

}  // namespace
}  // namespace helios::llm
