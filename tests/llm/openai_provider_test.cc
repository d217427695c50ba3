// The OpenAI and OpenAI-compatible providers against a fake Chat Completions API that checks
// requests the way api.openai.com does (path, Bearer key, JSON body, field names and types,
// json_object mode needing the word "json", reasoning models refusing max_tokens and
// temperature) and answers with OpenAI's real success and error bodies. Real HTTP through
// CurlTransport; retry waits on a FakeClock.
#include "llm/openai/openai_provider.h"

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
using testing::ClosedPort;
using ::testing::ElementsAre;
using testing::FakeServer;
using testing::Harness;
using ::testing::HasSubstr;
using testing::JsonReply;
using testing::kApiKey;
using ::testing::Not;
using testing::Reply;

Reply OpenAiError(int status, const std::string& message, const std::string& type,
                  json param = nullptr, json code = nullptr) {
  return JsonReply(status, {{"error",
                             {{"message", message},
                              {"type", type},
                              {"param", std::move(param)},
                              {"code", std::move(code)}}}});
}

Reply OpenAiAnswer(const json& content, const std::string& finish_reason = "stop",
                   const std::string& model = "gpt-4o-2024-08-06") {
  return JsonReply(
      200, {{"id", "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"},
            {"object", "chat.completion"},
            {"created", 1741569952},
            {"model", model},
            {"choices",
             {{{"index", 0},
               {"message", {{"role", "assistant"}, {"content", content}, {"refusal", nullptr}}},
               {"logprobs", nullptr},
               {"finish_reason", finish_reason}}}},
            {"usage", {{"prompt_tokens", 57}, {"completion_tokens", 21}, {"total_tokens", 78}}},
            {"system_fingerprint", "fp_44709d6fcb"}});
}

const char* const kSqlAnswer =
    R"({"sql": "SELECT COUNT(*) FROM customers", "explanation": "Counts the customers."})";

struct FakeOpenAi {
  std::string path = "/v1/chat/completions";
  std::string key = kApiKey;  // empty: no key needed (a local compatible server)
  bool compatible = false;    // knows max_tokens only, like many compatible servers
  bool reasoning = false;     // an o-series model: no max_tokens, only the default temperature
};

// The checks api.openai.com makes, with its error bodies.
FakeServer::Check CheckLikeOpenAi(FakeOpenAi fake) {
  return [fake](const httplib::Request& request) -> std::optional<Reply> {
    if (request.method != "POST" || request.path != fake.path) {
      return OpenAiError(404, fmt::format("Invalid URL ({} {})", request.method, request.path),
                         "invalid_request_error");
    }
    if (!fake.key.empty()) {
      const std::string auth = request.get_header_value("Authorization");
      if (auth.empty()) {
        return OpenAiError(401,
                           "You didn't provide an API key. You need to provide your API key in "
                           "an Authorization header using Bearer auth (i.e. Authorization: "
                           "Bearer YOUR_KEY).",
                           "invalid_request_error");
      }
      if (auth != "Bearer " + fake.key) {
        const std::string given = auth.size() > 7 ? auth.substr(7) : "";
        const std::string masked =
            given.size() > 8 ? given.substr(0, 3) + "****" + given.substr(given.size() - 4)
                             : "****";
        return OpenAiError(401,
                           "Incorrect API key provided: " + masked +
                               ". You can find your API key at "
                               "https://platform.openai.com/account/api-keys.",
                           "invalid_request_error", nullptr, "invalid_api_key");
      }
    }
    if (request.get_header_value("Content-Type").rfind("application/json", 0) != 0) {
      return OpenAiError(400, "Invalid Content-Type header, expected application/json.",
                         "invalid_request_error");
    }
    const json body = testing::BodyOf(request);
    if (!body.is_object()) {
      return OpenAiError(400,
                         "We could not parse the JSON body of your request. (HINT: This likely "
                         "means you aren't using your HTTP library correctly.)",
                         "invalid_request_error");
    }
    static const std::set<std::string> kKnown = {
        "model",       "messages",        "max_tokens", "max_completion_tokens",
        "temperature", "response_format", "stream"};
    for (const auto& [key, value] : body.items()) {
      if (kKnown.count(key) == 0 || (fake.compatible && key == "max_completion_tokens")) {
        return OpenAiError(400, "Unrecognized request argument supplied: " + key,
                           "invalid_request_error");
      }
    }
    if (!body.contains("model") || !body["model"].is_string()) {
      return OpenAiError(400, "you must provide a model parameter", "invalid_request_error");
    }
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
      return OpenAiError(400, "[] is too short - 'messages'", "invalid_request_error", "messages");
    }
    bool mentions_json = false;
    for (size_t i = 0; i < body["messages"].size(); ++i) {
      const json& message = body["messages"][i];
      static const std::set<std::string> kRoles = {"system", "developer", "user", "assistant"};
      if (!message.is_object() || !message.contains("role") || !message["role"].is_string() ||
          kRoles.count(message["role"].get<std::string>()) == 0) {
        return OpenAiError(400,
                           "Invalid value. Supported values are: 'system', 'assistant', 'user', "
                           "'function', 'tool', and 'developer'.",
                           "invalid_request_error", fmt::format("messages[{}].role", i),
                           "invalid_value");
      }
      if (!message.contains("content") || !message["content"].is_string()) {
        return OpenAiError(400, "Invalid type for 'content': expected a string.",
                           "invalid_request_error", fmt::format("messages[{}].content", i),
                           "invalid_type");
      }
      std::string content = message["content"].get<std::string>();
      for (char& c : content) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (content.find("json") != std::string::npos) mentions_json = true;
    }
    if (body.contains("max_tokens") && fake.reasoning) {
      return OpenAiError(400,
                         "Unsupported parameter: 'max_tokens' is not supported with this model. "
                         "Use 'max_completion_tokens' instead.",
                         "invalid_request_error", "max_tokens", "unsupported_parameter");
    }
    for (const char* field : {"max_tokens", "max_completion_tokens"}) {
      if (body.contains(field) &&
          (!body[field].is_number_integer() || body[field].get<int>() < 1)) {
        return OpenAiError(400, fmt::format("Invalid '{}': expected a positive integer.", field),
                           "invalid_request_error", field, "invalid_type");
      }
    }
    if (body.contains("temperature")) {
      if (!body["temperature"].is_number() || body["temperature"].get<double>() < 0 ||
          body["temperature"].get<double>() > 2) {
        return OpenAiError(400, "Invalid 'temperature': expected a number within 0..2.",
                           "invalid_request_error", "temperature", "invalid_value");
      }
      if (fake.reasoning && body["temperature"].get<double>() != 1.0) {
        return OpenAiError(400,
                           fmt::format("Unsupported value: 'temperature' does not support {} "
                                       "with this model. Only the default (1) value is "
                                       "supported.",
                                       body["temperature"].get<double>()),
                           "invalid_request_error", "temperature", "unsupported_value");
      }
    }
    if (body.contains("response_format")) {
      const json& format = body["response_format"];
      if (!format.is_object() || !format.contains("type") || !format["type"].is_string()) {
        return OpenAiError(400, "Missing required parameter: 'response_format.type'.",
                           "invalid_request_error", "response_format.type",
                           "missing_required_parameter");
      }
      if (format["type"] == "json_object" && !mentions_json) {
        return OpenAiError(400,
                           "'messages' must contain the word 'json' in some form, to use "
                           "'response_format' of type 'json_object'.",
                           "invalid_request_error", "messages");
      }
    }
    if (body.contains("stream") && body["stream"] != false) {
      return OpenAiError(400, "this fake does not stream", "invalid_request_error", "stream");
    }
    return std::nullopt;
  };
}

class OpenAiProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness.config.provider = config::LlmProvider::kOpenAi;
    harness.config.model = "gpt-4o";
    harness.config.api_key_env = "OPENAI_API_KEY";
    harness.config.base_url = server.base_url() + "/v1";
  }

  // Servers are declared before the harness so that the transport's pooled connections close
  // before the servers stop (an idle keep-alive connection would hold a server's shutdown).
  FakeServer server{CheckLikeOpenAi({}), OpenAiAnswer(kSqlAnswer)};
  std::unique_ptr<FakeServer> other;
  Harness harness;
};

TEST_F(OpenAiProviderTest, SendsTheRequestOpenAiExpectsAndReadsTheAnswer) {
  auto provider = harness.Make();
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), "openai");

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->text, kSqlAnswer);
  EXPECT_EQ(completion->model, "gpt-4o-2024-08-06");
  EXPECT_EQ(completion->input_tokens, 57);
  EXPECT_EQ(completion->output_tokens, 21);
  EXPECT_EQ(completion->attempts, 1);
  EXPECT_FALSE(completion->truncated);
  auto sql = ExtractSql(completion->text);
  ASSERT_TRUE(sql.has_value());
  EXPECT_EQ(sql->sql, "SELECT COUNT(*) FROM customers");

  const auto seen = server.last();
  EXPECT_EQ(seen.path, "/v1/chat/completions");
  EXPECT_EQ(seen.Header("Authorization"), std::string("Bearer ") + kApiKey);
  EXPECT_EQ(seen.Header("Content-Type"), "application/json");
  const json body = seen.Json();
  EXPECT_EQ(body["model"], "gpt-4o");
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1]["role"], "user");
  EXPECT_EQ(body["messages"][1]["content"], "How many customers are there?");
  EXPECT_EQ(body["max_completion_tokens"], 400);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.1);
  EXPECT_EQ(body["response_format"], json({{"type", "json_object"}}));
}

TEST_F(OpenAiProviderTest, AsksForJsonModeOnlyWhenThePromptMentionsJson) {
  auto provider = harness.Make();
  auto request = harness.Request();
  request.messages[0].content = "Translate the question into SQL.";

  auto completion = provider->Complete(request);

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_FALSE(server.last().Json().contains("response_format"));
}

TEST_F(OpenAiProviderTest, LeavesTemperatureOutForReasoningModels) {
  FakeOpenAi reasoning;
  reasoning.reasoning = true;
  other = std::make_unique<FakeServer>(CheckLikeOpenAi(reasoning),
                                       OpenAiAnswer(kSqlAnswer, "stop", "o3-mini"));
  FakeServer& o_series = *other;
  harness.config.base_url = o_series.base_url() + "/v1";
  harness.config.model = "o3-mini";
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_FALSE(o_series.last().Json().contains("temperature"));
  EXPECT_EQ(o_series.last().Json()["max_completion_tokens"], 400);
}

TEST_F(OpenAiProviderTest, AWrongKeyIsUnavailableNamesTheVariableAndIsNotRetried) {
  harness.config.api_key = config::Secret("sk-wrong-key-0000000000000000");
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("OPENAI_API_KEY"));
  EXPECT_THAT(completion.error().message, HasSubstr("HTTP 401"));
  EXPECT_THAT(completion.error().message, HasSubstr("Incorrect API key provided"));
  EXPECT_THAT(completion.error().message, Not(HasSubstr("sk-wrong-key-0000000000000000")));
  // What OpenAI shows of the key ("sk-****0000") is part of it: masked at the source.
  EXPECT_THAT(completion.error().message, Not(HasSubstr("****0000")));
  EXPECT_THAT(completion.error().message, HasSubstr("Incorrect API key provided: [redacted]"));
  EXPECT_EQ(server.seen().size(), 1u);
  EXPECT_TRUE(harness.waits.empty());
}

TEST_F(OpenAiProviderTest, AKeyEchoedByTheProviderIsRedacted) {
  server.Script(OpenAiError(401, std::string("Incorrect API key provided: ") + kApiKey,
                            "invalid_request_error", nullptr, "invalid_api_key"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_THAT(completion.error().message, Not(HasSubstr(kApiKey)));
  EXPECT_THAT(completion.error().message, HasSubstr("[redacted]"));
}

TEST_F(OpenAiProviderTest, ABadRequestIsInternalAndQuotesOpenAi) {
  server.Script(OpenAiError(400, "Invalid 'messages[1].content': string too long.",
                            "invalid_request_error", "messages[1].content",
                            "string_above_max_length"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kInternal);
  EXPECT_THAT(completion.error().message, HasSubstr("string too long"));
  EXPECT_EQ(server.seen().size(), 1u);
}

TEST_F(OpenAiProviderTest, AnUnknownModelIsUnavailable) {
  server.Script(OpenAiError(404,
                            "The model `gpt-9` does not exist or you do not have access to it.",
                            "invalid_request_error", nullptr, "model_not_found"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("does not exist"));
  EXPECT_EQ(server.seen().size(), 1u);
}

TEST_F(OpenAiProviderTest, RetriesARateLimitWithBackoff) {
  server.Script(OpenAiError(429, "Rate limit reached for gpt-4o on requests per min (RPM).",
                            "requests", nullptr, "rate_limit_exceeded"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->attempts, 2);
  EXPECT_EQ(server.seen().size(), 2u);
  // No Retry-After: jittered backoff (half of 250 ms with the harness's jitter).
  EXPECT_THAT(harness.waits, ElementsAre(milliseconds(125)));
}

TEST_F(OpenAiProviderTest, HonoursRetryAfterOnA429) {
  Reply limited =
      OpenAiError(429, "Rate limit reached.", "requests", nullptr, "rate_limit_exceeded");
  limited.headers = {{"Retry-After", "2"}};
  server.Script(limited);
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->attempts, 2);
  EXPECT_THAT(harness.waits, ElementsAre(seconds(2)));
}

TEST_F(OpenAiProviderTest, RetriesServerErrorsUntilTheyPass) {
  server.Script(
      OpenAiError(500, "The server had an error while processing your request.", "server_error"));
  server.Script(Reply{502, "<html>Bad gateway</html>", "text/html", {}, false});
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->attempts, 3);
  EXPECT_THAT(harness.waits, ElementsAre(milliseconds(125), milliseconds(250)));
}

TEST_F(OpenAiProviderTest, GivesUpAfterMaxRetries) {
  harness.config.max_retries = 2;
  for (int i = 0; i < 3; ++i) {
    server.Script(OpenAiError(503, "The engine is currently overloaded, please try again later.",
                              "server_error"));
  }
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("HTTP 503"));
  EXPECT_THAT(completion.error().message, HasSubstr("after 3 attempts"));
  EXPECT_THAT(completion.error().message, HasSubstr("overloaded"));
  EXPECT_EQ(server.seen().size(), 3u);
}

TEST_F(OpenAiProviderTest, StopsWhenRetryAfterPassesTheDeadline) {
  Reply limited = OpenAiError(429, "Rate limit reached.", "requests");
  limited.headers = {{"Retry-After", "120"}};
  server.Script(limited);
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(server.seen().size(), 1u);
  EXPECT_TRUE(harness.waits.empty());
}

TEST_F(OpenAiProviderTest, ASlowAnswerEndsAtTheDeadline) {
  server.Script(Reply{200, "{}", "application/json", {}, /*hang=*/true});
  auto provider = harness.Make();
  auto request = harness.Request();
  request.deadline = harness.clock.Steady() + milliseconds(200);

  auto completion = provider->Complete(request);

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(completion.error().message, HasSubstr("OpenAI"));
  EXPECT_EQ(server.seen().size(), 1u);
}

TEST_F(OpenAiProviderTest, ATruncatedBodyIsUnavailableNotACrash) {
  const std::string whole = OpenAiAnswer(kSqlAnswer).body;
  server.Script(Reply{200, whole.substr(0, whole.size() / 2), "application/json", {}, false});
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("not a JSON object"));
}

TEST_F(OpenAiProviderTest, AnAnswerCutAtMaxTokensIsFlaggedAndItsSqlNotUsed) {
  server.Script(
      OpenAiAnswer(R"({"sql": "SELECT name FROM customers WHERE country = 'Fr)", "length"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_TRUE(completion->truncated);
  auto sql = ExtractSql(completion->text);
  ASSERT_FALSE(sql.has_value());
  EXPECT_EQ(sql.error().code, ErrorCode::kNotUnderstood);
}

TEST_F(OpenAiProviderTest, ARefusalIsNotUnderstoodWithTheModelsWords) {
  server.Script(JsonReply(200, {{"id", "chatcmpl-1"},
                                {"object", "chat.completion"},
                                {"model", "gpt-4o"},
                                {"choices",
                                 {{{"index", 0},
                                   {"message",
                                    {{"role", "assistant"},
                                     {"content", nullptr},
                                     {"refusal", "I'm sorry, I cannot help with that request."}}},
                                   {"finish_reason", "stop"}}}}}));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(completion.error().message, HasSubstr("cannot help with that request"));
}

TEST_F(OpenAiProviderTest, AnEmptyAnswerIsNotUnderstood) {
  server.Script(OpenAiAnswer(""));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kNotUnderstood);
}

TEST_F(OpenAiProviderTest, AnUnreachableServerIsUnavailableAfterTheRetries) {
  harness.config.base_url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1";
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("4 attempts"));
  EXPECT_EQ(harness.waits.size(), 3u);
}

TEST_F(OpenAiProviderTest, RefusesAMalformedConversationBeforeSending) {
  auto provider = harness.Make();
  auto request = harness.Request();
  request.messages.push_back({Role::kAssistant, "SELECT 1"});

  auto completion = provider->Complete(request);

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(server.seen().empty());
}

TEST_F(OpenAiProviderTest, TheKeyNeverReachesErrorsOrTheProcessOutput) {
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  std::vector<std::string> messages;
  {
    server.Script(OpenAiError(401, std::string("Incorrect API key provided: ") + kApiKey,
                              "invalid_request_error"));
    server.Script(
        OpenAiError(400, std::string("bad request from key ") + kApiKey, "invalid_request_error"));
    harness.config.max_retries = 0;
    auto provider = harness.Make();
    for (int i = 0; i < 2; ++i) {
      auto completion = provider->Complete(harness.Request());
      if (!completion) messages.push_back(completion.error().message);
    }
    server.Script(Reply{200, "{\"choices\": [", "application/json", {}, false});
    auto completion = provider->Complete(harness.Request());
    if (!completion) messages.push_back(completion.error().message);
    harness.config.base_url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v1";
    auto unreachable = harness.Make()->Complete(harness.Request());
    if (!unreachable) messages.push_back(unreachable.error().message);
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  const std::string out = ::testing::internal::GetCapturedStdout();

  ASSERT_EQ(messages.size(), 4u);
  for (const auto& message : messages) EXPECT_THAT(message, Not(HasSubstr(kApiKey)));
  EXPECT_THAT(err, Not(HasSubstr(kApiKey)));
  EXPECT_THAT(out, Not(HasSubstr(kApiKey)));
}

// --- openai-compatible --------------------------------------------------------------------

class OpenAiCompatibleTest : public ::testing::Test {
 protected:
  static FakeOpenAi Compatible() {
    FakeOpenAi fake;
    fake.compatible = true;
    fake.key = "";
    return fake;
  }

  void SetUp() override {
    harness.config.provider = config::LlmProvider::kOpenAiCompatible;
    harness.config.model = "Qwen/Qwen2.5-Coder-7B-Instruct";
    harness.config.api_key = config::Secret();
    harness.config.api_key_env = "";
  }

  FakeServer& Serve(FakeOpenAi fake, Reply success) {
    server_ = std::make_unique<FakeServer>(CheckLikeOpenAi(std::move(fake)), std::move(success));
    return *server_;
  }

  std::unique_ptr<FakeServer> server_;  // before the harness: see OpenAiProviderTest
  Harness harness;
};

TEST_F(OpenAiCompatibleTest, SendsMaxTokensAndNoKeyToABaseEndingInV1) {
  FakeServer& server = Serve(Compatible(), OpenAiAnswer(kSqlAnswer, "stop", "qwen"));
  harness.config.base_url = server.base_url() + "/v1/";
  auto provider = harness.Make();
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), "openai-compatible");

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->model, "qwen");
  const auto seen = server.last();
  EXPECT_EQ(seen.path, "/v1/chat/completions");
  EXPECT_FALSE(seen.HasHeader("Authorization"));
  EXPECT_EQ(seen.Json()["max_tokens"], 400);
  EXPECT_FALSE(seen.Json().contains("max_completion_tokens"));
  EXPECT_DOUBLE_EQ(seen.Json()["temperature"].get<double>(), 0.1);
}

TEST_F(OpenAiCompatibleTest, ABareHostGetsV1) {
  FakeServer& server = Serve(Compatible(), OpenAiAnswer(kSqlAnswer));
  harness.config.base_url = server.base_url();
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(server.last().path, "/v1/chat/completions");
}

TEST_F(OpenAiCompatibleTest, AnotherVersionPathIsKeptAndAFullEndpointUsedAsIs) {
  FakeOpenAi fake = Compatible();
  fake.path = "/api/openai/v1beta/chat/completions";
  FakeServer& server = Serve(fake, OpenAiAnswer(kSqlAnswer));

  harness.config.base_url = server.base_url() + "/api/openai/v1beta";
  auto versioned = harness.Make()->Complete(harness.Request());
  harness.config.base_url = server.base_url() + "/api/openai/v1beta/chat/completions";
  auto full = harness.Make()->Complete(harness.Request());

  ASSERT_TRUE(versioned.has_value()) << versioned.error().message;
  ASSERT_TRUE(full.has_value()) << full.error().message;
  EXPECT_EQ(server.seen().size(), 2u);
}

TEST_F(OpenAiCompatibleTest, SendsTheKeyWhenOneIsConfigured) {
  FakeOpenAi fake = Compatible();
  fake.key = kApiKey;
  FakeServer& server = Serve(fake, OpenAiAnswer(kSqlAnswer));
  harness.config.base_url = server.base_url() + "/v1";
  harness.config.api_key = config::Secret(kApiKey);

  auto completion = harness.Make()->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(server.last().Header("Authorization"), std::string("Bearer ") + kApiKey);
}

TEST_F(OpenAiCompatibleTest, MessagesNameTheEndpoint) {
  FakeServer& server = Serve(Compatible(), OpenAiAnswer(kSqlAnswer));
  server.Script(JsonReply(400, {{"object", "error"},
                                {"message", "This model's maximum context length is 4096 tokens."},
                                {"type", "BadRequestError"},
                                {"param", nullptr},
                                {"code", 400}}));
  harness.config.base_url = server.base_url() + "/v1";

  auto completion = harness.Make()->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kInternal);
  EXPECT_THAT(completion.error().message,
              HasSubstr("OpenAI-compatible endpoint 127.0.0.1:" + std::to_string(server.port())));
  EXPECT_THAT(completion.error().message, HasSubstr("maximum context length"));
}

TEST(OpenAiReasoningModelTest, KnowsTheReasoningModels) {
  for (const char* model : {"o1", "o1-mini", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini"}) {
    EXPECT_TRUE(IsOpenAiReasoningModel(model)) << model;
  }
  for (const char* model : {"gpt-4o", "gpt-4.1-mini", "gpt-4", "gpt-5-chat-latest", "omni"}) {
    EXPECT_FALSE(IsOpenAiReasoningModel(model)) << model;
  }
}

}  // namespace
}  // namespace helios::llm
