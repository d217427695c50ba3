// The Cohere provider against a fake Chat v2 API that checks requests the way api.cohere.com
// does (Bearer key, model required, system/user/assistant roles with the system turn first,
// temperature within 0..1, response_format types, stream false) and answers with Cohere's real
// bodies ({"message": ...} errors). Real HTTP through CurlTransport; waits on a FakeClock.
#include "llm/cohere/cohere_provider.h"

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

Reply CohereError(int status, const std::string& message) {
  return JsonReply(status, {{"id", "d0b0ff5c-1b22-4b5e-9b0a-0c4b1c2f3e7a"}, {"message", message}});
}

Reply CohereAnswer(const std::string& text, const std::string& finish_reason = "COMPLETE",
                   bool with_tokens = true) {
  json usage = {{"billed_units", {{"input_tokens", 40}, {"output_tokens", 19}}}};
  if (with_tokens) usage["tokens"] = {{"input_tokens", 241.0}, {"output_tokens", 19.0}};
  return JsonReply(
      200, {{"id", "c14c80c3-18eb-4519-9460-6c92edd8cfb4"},
            {"finish_reason", finish_reason},
            {"message", {{"role", "assistant"}, {"content", {{{"type", "text"}, {"text", text}}}}}},
            {"usage", usage}});
}

const char* const kSqlAnswer =
    R"({"sql": "SELECT COUNT(*) FROM customers", "explanation": "Counts the customers."})";

FakeServer::Check CheckLikeCohere() {
  return [](const httplib::Request& request) -> std::optional<Reply> {
    if (request.method != "POST" || request.path != "/v2/chat") {
      return CohereError(404, "Not Found");
    }
    const std::string auth = request.get_header_value("Authorization");
    if (auth.empty()) return CohereError(401, "no api key supplied");
    if (auth != std::string("Bearer ") + kApiKey) return CohereError(401, "invalid api token");
    if (request.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
      return CohereError(400, "invalid request: content-type must be application/json");
    }
    const json body = testing::BodyOf(request);
    if (!body.is_object()) return CohereError(400, "invalid request: invalid JSON body");
    if (!body.contains("model") || !body["model"].is_string()) {
      return CohereError(400, "a model parameter is required for this endpoint.");
    }
    if (body.contains("stream") && body["stream"] != false) {
      return CohereError(400, "invalid request: this fake does not stream");
    }
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
      return CohereError(400, "invalid request: messages must not be empty");
    }
    static const std::set<std::string> kRoles = {"system", "user", "assistant", "tool"};
    for (size_t i = 0; i < body["messages"].size(); ++i) {
      const json& message = body["messages"][i];
      if (!message.is_object() || !message.contains("role") || !message["role"].is_string() ||
          kRoles.count(message["role"].get<std::string>()) == 0) {
        return CohereError(400, fmt::format("invalid request: messages[{}].role is invalid", i));
      }
      if (message["role"] == "system" && i != 0) {
        return CohereError(400, "system turn must be the first in the list");
      }
      if (!message.contains("content") ||
          (message["content"].is_string() && message["content"].get<std::string>().empty())) {
        return CohereError(400, "message must not be empty in a turn");
      }
    }
    if (body.contains("max_tokens") &&
        (!body["max_tokens"].is_number_integer() || body["max_tokens"].get<int>() < 1)) {
      return CohereError(400, "invalid request: max_tokens must be a positive integer");
    }
    if (body.contains("temperature") &&
        (!body["temperature"].is_number() || body["temperature"].get<double>() < 0 ||
         body["temperature"].get<double>() > 1)) {
      return CohereError(400, "invalid request: temperature must be between 0 and 1.0 inclusive.");
    }
    if (body.contains("response_format")) {
      const json& format = body["response_format"];
      if (!format.is_object() || !format.contains("type") ||
          (format["type"] != "text" && format["type"] != "json_object")) {
        return CohereError(400,
                           "invalid request: response_format.type must be one of text, "
                           "json_object");
      }
    }
    for (const auto& [key, value] : body.items()) {
      static const std::set<std::string> kKnown = {"model",      "messages",    "stream",
                                                   "max_tokens", "temperature", "response_format"};
      if (kKnown.count(key) == 0) {
        return CohereError(400, fmt::format("invalid request: unknown field: parameter {} is "
                                            "not a valid field",
                                            key));
      }
    }
    return std::nullopt;
  };
}

class CohereProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness.config.provider = config::LlmProvider::kCohere;
    harness.config.model = "command-a-03-2025";
    harness.config.api_key_env = "COHERE_API_KEY";
    harness.config.base_url = server.base_url();
  }

  FakeServer server{CheckLikeCohere(), CohereAnswer(kSqlAnswer)};
  Harness harness;
};

TEST_F(CohereProviderTest, SendsTheRequestCohereExpectsAndReadsTheAnswer) {
  auto provider = harness.Make();
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), "cohere");

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->text, kSqlAnswer);
  EXPECT_EQ(completion->model, "command-a-03-2025");  // Cohere does not echo it
  EXPECT_EQ(completion->input_tokens, 241);
  EXPECT_EQ(completion->output_tokens, 19);
  EXPECT_EQ(completion->attempts, 1);

  const auto seen = server.last();
  EXPECT_EQ(seen.path, "/v2/chat");
  EXPECT_EQ(seen.Header("Authorization"), std::string("Bearer ") + kApiKey);
  const json body = seen.Json();
  EXPECT_EQ(body["model"], "command-a-03-2025");
  EXPECT_EQ(body["stream"], false);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["role"], "user");
  EXPECT_EQ(body["max_tokens"], 400);
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.1);
  EXPECT_EQ(body["response_format"], json({{"type", "json_object"}}));
}

TEST_F(CohereProviderTest, FallsBackToBilledUnits) {
  server.Script(CohereAnswer(kSqlAnswer, "COMPLETE", /*with_tokens=*/false));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->input_tokens, 40);
  EXPECT_EQ(completion->output_tokens, 19);
}

TEST_F(CohereProviderTest, ClampsTemperatureAndLeavesJsonModeOutWithoutJsonInThePrompt) {
  auto provider = harness.Make();
  auto request = harness.Request();
  request.temperature = 1.5;
  request.messages[0].content = "Write SQL.";

  auto completion = provider->Complete(request);

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_DOUBLE_EQ(server.last().Json()["temperature"].get<double>(), 1.0);
  EXPECT_FALSE(server.last().Json().contains("response_format"));
}

TEST_F(CohereProviderTest, AWrongKeyIsUnavailable) {
  harness.config.api_key = config::Secret("wrong-cohere-key");
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("COHERE_API_KEY"));
  EXPECT_THAT(completion.error().message, HasSubstr("invalid api token"));
  EXPECT_THAT(completion.error().message, Not(HasSubstr("wrong-cohere-key")));
  EXPECT_EQ(server.seen().size(), 1u);
}

TEST_F(CohereProviderTest, ABadRequestIsInternal) {
  server.Script(CohereError(400,
                            "too many tokens: total number of tokens in the prompt cannot "
                            "exceed 4081 - received 4292."));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kInternal);
  EXPECT_THAT(completion.error().message, HasSubstr("too many tokens"));
}

TEST_F(CohereProviderTest, RetriesRateLimitsAndServerErrors) {
  Reply limited = CohereError(429,
                              "You are past the per minute request limit, please wait and "
                              "try again later.");
  limited.headers = {{"Retry-After", "1"}};
  server.Script(limited);
  server.Script(CohereError(500,
                            "internal server error, this has been reported to our "
                            "developers"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->attempts, 3);
  EXPECT_THAT(harness.waits, ElementsAre(seconds(1), milliseconds(250)));
}

TEST_F(CohereProviderTest, ASlowAnswerEndsAtTheDeadline) {
  server.Script(Reply{200, "{}", "application/json", {}, /*hang=*/true});
  auto provider = harness.Make();
  auto request = harness.Request();
  request.deadline = harness.clock.Steady() + milliseconds(150);

  auto completion = provider->Complete(request);

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kDeadlineExceeded);
}

TEST_F(CohereProviderTest, MaxTokensIsFlaggedAsCutOff) {
  server.Script(CohereAnswer(R"({"sql": "SELECT)", "MAX_TOKENS"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_TRUE(completion->truncated);
  EXPECT_EQ(ExtractSql(completion->text).error().code, ErrorCode::kNotUnderstood);
}

TEST_F(CohereProviderTest, ATruncatedBodyIsUnavailable) {
  server.Script(Reply{200,
                      R"({"id":"c14c","message":{"role":"assistant","content":[{"ty)",
                      "application/json",
                      {},
                      false});
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
}

TEST_F(CohereProviderTest, ABaseUrlEndingInV2IsCompleted) {
  harness.config.base_url = server.base_url() + "/v2";
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(server.last().path, "/v2/chat");
}

}  // namespace
}  // namespace helios::llm
