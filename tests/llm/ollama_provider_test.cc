// The Ollama provider against a fake /api/chat that behaves like Ollama: without "stream": false
// it streams one JSON object per line, an unknown model is a 404, errors are {"error": "..."},
// format must be "json" or a schema, options hold temperature and num_predict. Real HTTP
// through CurlTransport; waits on a FakeClock.
#include "llm/ollama/ollama_provider.h"

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
using testing::ClosedPort;
using ::testing::ElementsAre;
using testing::FakeServer;
using testing::Harness;
using ::testing::HasSubstr;
using testing::JsonReply;
using testing::Reply;

Reply OllamaError(int status, const std::string& message) {
  return JsonReply(status, {{"error", message}});
}

json OllamaChunk(const std::string& content, bool done, const std::string& done_reason = "stop") {
  json chunk = {{"model", "llama3.2"},
                {"created_at", "2024-12-06T00:46:58.265747Z"},
                {"message", {{"role", "assistant"}, {"content", content}}},
                {"done", done}};
  if (done) {
    chunk["done_reason"] = done_reason;
    chunk["total_duration"] = 2254970291LL;
    chunk["load_duration"] = 574751416;
    chunk["prompt_eval_count"] = 34;
    chunk["prompt_eval_duration"] = 1502000000;
    chunk["eval_count"] = 12;
    chunk["eval_duration"] = 175000000;
  }
  return chunk;
}

Reply OllamaAnswer(const std::string& content, const std::string& done_reason = "stop") {
  return JsonReply(200, OllamaChunk(content, true, done_reason));
}

const char* const kSqlAnswer =
    R"({"sql": "SELECT COUNT(*) FROM customers", "explanation": "Counts the customers."})";

FakeServer::Check CheckLikeOllama(std::set<std::string> models = {"llama3.2"}) {
  return [models](const httplib::Request& request) -> std::optional<Reply> {
    if (request.method != "POST" || request.path != "/api/chat") {
      return Reply{404, "404 page not found", "text/plain", {}, false};
    }
    const json body = testing::BodyOf(request);
    if (!body.is_object())
      return OllamaError(400, "invalid character 'x' looking for beginning of value");
    if (!body.contains("model") || !body["model"].is_string() ||
        body["model"].get<std::string>().empty()) {
      return OllamaError(400, "model is required");
    }
    const std::string model = body["model"].get<std::string>();
    if (models.count(model) == 0) {
      return OllamaError(404, fmt::format("model \"{}\" not found, try pulling it first", model));
    }
    if (!body.contains("messages") || !body["messages"].is_array()) {
      return OllamaError(400, "messages are required");
    }
    static const std::set<std::string> kRoles = {"system", "user", "assistant", "tool"};
    for (const json& message : body["messages"]) {
      if (!message.is_object() || !message.contains("role") || !message["role"].is_string() ||
          kRoles.count(message["role"].get<std::string>()) == 0 || !message.contains("content") ||
          !message["content"].is_string()) {
        return OllamaError(400, "json: cannot unmarshal into Go struct field ChatRequest.messages");
      }
    }
    if (body.contains("format") && !(body["format"] == "json" || body["format"].is_object())) {
      return OllamaError(400, "invalid format: expected \"json\" or a JSON schema");
    }
    if (body.contains("options")) {
      const json& options = body["options"];
      if (!options.is_object() ||
          (options.contains("temperature") && !options["temperature"].is_number()) ||
          (options.contains("num_predict") && !options["num_predict"].is_number_integer())) {
        return OllamaError(400, "json: cannot unmarshal options");
      }
    }
    if (!body.contains("stream") || body["stream"] != false) {
      // What Ollama does by default: stream newline-delimited JSON objects.
      const std::string stream = OllamaChunk("{\"sql\"", false).dump() + "\n" +
                                 OllamaChunk(": \"SELECT 1\"}", false).dump() + "\n" +
                                 OllamaChunk("", true).dump() + "\n";
      return Reply{200, stream, "application/x-ndjson", {}, false};
    }
    return std::nullopt;
  };
}

class OllamaProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    harness.config.provider = config::LlmProvider::kOllama;
    harness.config.model = "llama3.2";
    harness.config.api_key = config::Secret();
    harness.config.api_key_env = "";
    harness.config.base_url = server.base_url();
  }

  FakeServer server{CheckLikeOllama(), OllamaAnswer(kSqlAnswer)};
  Harness harness;
};

TEST_F(OllamaProviderTest, SendsTheRequestOllamaExpectsAndReadsTheAnswer) {
  auto provider = harness.Make();
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), "ollama");

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->text, kSqlAnswer);
  EXPECT_EQ(completion->model, "llama3.2");
  EXPECT_EQ(completion->input_tokens, 34);
  EXPECT_EQ(completion->output_tokens, 12);
  EXPECT_FALSE(completion->truncated);

  const auto seen = server.last();
  EXPECT_EQ(seen.path, "/api/chat");
  EXPECT_FALSE(seen.HasHeader("Authorization"));
  const json body = seen.Json();
  EXPECT_EQ(body["stream"], false);
  EXPECT_EQ(body["format"], "json");
  EXPECT_EQ(body["options"]["num_predict"], 400);
  EXPECT_DOUBLE_EQ(body["options"]["temperature"].get<double>(), 0.1);
  EXPECT_EQ(body["messages"][0]["role"], "system");
}

TEST_F(OllamaProviderTest, AModelThatIsNotPulledIsUnavailable) {
  harness.config.model = "sqlcoder:7b";
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("try pulling it first"));
  EXPECT_EQ(server.seen().size(), 1u);
}

TEST_F(OllamaProviderTest, RetriesWhenTheServerIsBusy) {
  server.Script(OllamaError(503,
                            "server busy, please try again.  maximum pending requests "
                            "exceeded"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(completion->attempts, 2);
  EXPECT_THAT(harness.waits, ElementsAre(milliseconds(125)));
}

TEST_F(OllamaProviderTest, AServerErrorAfterTheRetriesQuotesOllama) {
  harness.config.max_retries = 1;
  server.Script(OllamaError(500, "llama runner process has terminated: signal: killed"));
  server.Script(OllamaError(500, "llama runner process has terminated: signal: killed"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("llama runner process has terminated"));
}

TEST_F(OllamaProviderTest, ASlowAnswerEndsAtTheDeadline) {
  server.Script(Reply{200, "{}", "application/json", {}, /*hang=*/true});
  auto provider = harness.Make();
  auto request = harness.Request();
  request.deadline = harness.clock.Steady() + milliseconds(150);

  auto completion = provider->Complete(request);

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kDeadlineExceeded);
}

TEST_F(OllamaProviderTest, LengthIsFlaggedAsCutOff) {
  server.Script(OllamaAnswer(R"({"sql": "SELECT name FR)", "length"));
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_TRUE(completion->truncated);
  EXPECT_EQ(ExtractSql(completion->text).error().code, ErrorCode::kNotUnderstood);
}

TEST_F(OllamaProviderTest, ATruncatedBodyIsUnavailable) {
  server.Script(Reply{200,
                      R"({"model":"llama3.2","message":{"role":"assistant","cont)",
                      "application/json",
                      {},
                      false});
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
}

TEST_F(OllamaProviderTest, SendsAConfiguredKeyAsBearer) {
  harness.config.api_key = config::Secret(testing::kApiKey);
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_TRUE(completion.has_value()) << completion.error().message;
  EXPECT_EQ(server.last().Header("Authorization"), std::string("Bearer ") + testing::kApiKey);
}

TEST_F(OllamaProviderTest, NotRunningIsUnavailable) {
  harness.config.base_url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  harness.config.max_retries = 1;
  auto provider = harness.Make();

  auto completion = provider->Complete(harness.Request());

  ASSERT_FALSE(completion.has_value());
  EXPECT_EQ(completion.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(completion.error().message, HasSubstr("Ollama"));
}

}  // namespace
}  // namespace helios::llm
