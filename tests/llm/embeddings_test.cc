// Model embeddings for the semantic cache: the exact request each provider sends (URL, headers,
// JSON body), reading the vector out of each API's real answer shape, normalisation, the status
// and transport error mapping, Ollama's fallback to /api/embeddings, and the API key never
// showing in a message. Most tests use an in-process fake transport that records requests and
// answers from a script; a few talk real HTTP through CurlTransport to a fake server.
#include "llm/embeddings.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <deque>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "llm/fake_server.h"

namespace helios::llm {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kApiKey;
using ::testing::Not;

// Records every request; answers from a script (an HTTP response or a transport error). With
// the script empty, answers 500 so that a test sending more than it scripted fails visibly.
class FakeTransport final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (script_.empty()) return HttpResponse{500, {}, "unscripted request"};
    auto next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  void Answer(int status, const json& body) {
    Push(HttpResponse{status, {{"Content-Type", "application/json"}}, body.dump()});
  }
  void AnswerText(int status, std::string body, std::string content_type = "text/plain") {
    Push(HttpResponse{status, {{"Content-Type", std::move(content_type)}}, std::move(body)});
  }
  void FailWith(ErrorCode code, std::string message) {
    Push(std::unexpected(Error(code, std::move(message))));
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  HttpRequest last() const {
    std::lock_guard lock(mu_);
    return requests_.empty() ? HttpRequest{} : requests_.back();
  }

 private:
  void Push(Result<HttpResponse> reply) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(reply));
  }

  mutable std::mutex mu_;
  std::deque<Result<HttpResponse>> script_;
  std::vector<HttpRequest> requests_;
};

std::string HeaderOf(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

bool HasHeader(const HttpRequest& request, std::string_view name) {
  for (const auto& header : request.headers) {
    if (header.first == name) return true;
  }
  return false;
}

json BodyOf(const HttpRequest& request) {
  return json::parse(request.body, nullptr, /*allow_exceptions=*/false);
}

// The answers the real APIs give, abridged only in the vectors' length.
json OpenAiAnswer(const json& embedding) {
  return {
      {"object", "list"},
      {"data", json::array({{{"object", "embedding"}, {"index", 0}, {"embedding", embedding}}})},
      {"model", "text-embedding-3-small"},
      {"usage", {{"prompt_tokens", 5}, {"total_tokens", 5}}}};
}

json CohereAnswer(const json& embedding) {
  return {{"id", "da6e531f-54c6-4a73-bf92-f60566d8d753"},
          {"embeddings", {{"float", json::array({embedding})}}},
          {"texts", json::array({"how many customers are there"})},
          {"meta", {{"api_version", {{"version", "2"}}}, {"billed_units", {{"input_tokens", 6}}}}},
          {"response_type", "embeddings_by_type"}};
}

json OllamaAnswer(const json& embedding) {
  return {{"model", "nomic-embed-text"},
          {"embeddings", json::array({embedding})},
          {"total_duration", 14143917},
          {"load_duration", 1019500},
          {"prompt_eval_count", 8}};
}

json OllamaLegacyAnswer(const json& embedding) { return {{"embedding", embedding}}; }

EmbeddingOptions Options(std::string provider, std::string model) {
  EmbeddingOptions options;
  options.provider = std::move(provider);
  options.model = std::move(model);
  options.api_key = kApiKey;
  options.timeout = milliseconds(2500);
  return options;
}

std::unique_ptr<cache::Embedder> Make(const EmbeddingOptions& options, HttpTransport& transport) {
  auto made = MakeEmbedder(options, transport);
  EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().message);
  return made ? std::move(*made) : nullptr;
}

double Norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

const char* const kQuestion = "how many customers are there";

// ---- Requests and answers, per provider -------------------------------------------------------

TEST(EmbeddingsTest, OpenAiSendsModelAndInputWithBearerKey) {
  FakeTransport transport;
  auto embedder = Make(Options("openai", "text-embedding-3-small"), transport);
  ASSERT_NE(embedder, nullptr);
  EXPECT_EQ(embedder->name(), "openai:text-embedding-3-small");
  transport.Answer(200, OpenAiAnswer({3.0, 4.0}));

  auto vector = embedder->Embed(kQuestion);
  ASSERT_TRUE(vector) << vector.error().message;
  EXPECT_THAT(*vector, ElementsAre(::testing::FloatEq(0.6F), ::testing::FloatEq(0.8F)));

  const HttpRequest request = transport.last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://api.openai.com/v1/embeddings");
  EXPECT_EQ(request.timeout, milliseconds(2500));
  EXPECT_EQ(HeaderOf(request, "Authorization"), std::string("Bearer ") + kApiKey);
  EXPECT_EQ(HeaderOf(request, "Content-Type"), "application/json");
  EXPECT_EQ(BodyOf(request), json({{"model", "text-embedding-3-small"}, {"input", kQuestion}}));
}

TEST(EmbeddingsTest, OpenAiBaseUrlSpellings) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://api.openai.com/v1/", "https://api.openai.com/v1/embeddings"},
      {"http://localhost:8000", "http://localhost:8000/v1/embeddings"},
      {"https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1/embeddings"},
      {"http://vllm:8000/v1/embeddings", "http://vllm:8000/v1/embeddings"},
      {"http://vllm:8000/v1/chat/completions", "http://vllm:8000/v1/embeddings"},
  };
  for (const auto& [base, url] : cases) {
    FakeTransport transport;
    auto options = Options("openai", "text-embedding-3-small");
    options.base_url = base;
    auto embedder = Make(options, transport);
    ASSERT_NE(embedder, nullptr);
    transport.Answer(200, OpenAiAnswer({1.0}));
    ASSERT_TRUE(embedder->Embed(kQuestion));
    EXPECT_EQ(transport.last().url, url) << base;
  }
}

TEST(EmbeddingsTest, OpenAiCompatibleUsesItsBaseUrlAndSendsNoKeyWhenNoneIsSet) {
  FakeTransport transport;
  auto options = Options("openai-compatible", "bge-m3");
  options.base_url = "http://10.0.0.5:8000/v1";
  options.api_key.clear();
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  EXPECT_EQ(embedder->name(), "openai-compatible:bge-m3");
  transport.Answer(200, OpenAiAnswer({0.0, 2.0, 0.0}));

  auto vector = embedder->Embed(kQuestion);
  ASSERT_TRUE(vector) << vector.error().message;
  EXPECT_THAT(*vector, ElementsAre(0.0F, 1.0F, 0.0F));
  EXPECT_EQ(transport.last().url, "http://10.0.0.5:8000/v1/embeddings");
  EXPECT_FALSE(HasHeader(transport.last(), "Authorization"));
  EXPECT_EQ(BodyOf(transport.last()), json({{"model", "bge-m3"}, {"input", kQuestion}}));
}

TEST(EmbeddingsTest, OpenAiCompatibleSendsAKeyWhenOneIsSet) {
  FakeTransport transport;
  auto options = Options("openai-compatible", "bge-m3");
  options.base_url = "https://gateway.example.com/v1";
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(200, OpenAiAnswer({1.0}));
  ASSERT_TRUE(embedder->Embed(kQuestion));
  EXPECT_EQ(HeaderOf(transport.last(), "Authorization"), std::string("Bearer ") + kApiKey);
}

TEST(EmbeddingsTest, CohereSendsTheV2EmbedRequest) {
  FakeTransport transport;
  auto embedder = Make(Options("cohere", "embed-v4.0"), transport);
  ASSERT_NE(embedder, nullptr);
  EXPECT_EQ(embedder->name(), "cohere:embed-v4.0");
  transport.Answer(200, CohereAnswer({0.0, -5.0}));

  auto vector = embedder->Embed(kQuestion);
  ASSERT_TRUE(vector) << vector.error().message;
  EXPECT_THAT(*vector, ElementsAre(0.0F, -1.0F));

  const HttpRequest request = transport.last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://api.cohere.com/v2/embed");
  EXPECT_EQ(HeaderOf(request, "Authorization"), std::string("Bearer ") + kApiKey);
  EXPECT_EQ(BodyOf(request), json({{"model", "embed-v4.0"},
                                   {"texts", json::array({kQuestion})},
                                   {"input_type", "search_query"},
                                   {"embedding_types", json::array({"float"})}}));
}

TEST(EmbeddingsTest, CohereBaseUrlIsCompletedNotDoubled) {
  for (const char* base : {"https://api.cohere.com/", "https://api.cohere.com/v2"}) {
    FakeTransport transport;
    auto options = Options("cohere", "embed-v4.0");
    options.base_url = base;
    auto embedder = Make(options, transport);
    ASSERT_NE(embedder, nullptr);
    transport.Answer(200, CohereAnswer({1.0}));
    ASSERT_TRUE(embedder->Embed(kQuestion));
    EXPECT_EQ(transport.last().url, "https://api.cohere.com/v2/embed") << base;
  }
}

TEST(EmbeddingsTest, CohereV1ShapedAnswerIsRefused) {
  // API v1 without embedding_types answers {"embeddings": [[...]]}: not what v2 promises.
  FakeTransport transport;
  auto embedder = Make(Options("cohere", "embed-english-v3.0"), transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(200, {{"id", "x"},
                         {"embeddings", json::array({json::array({0.5, 0.5})})},
                         {"texts", json::array({kQuestion})}});
  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(vector.error().message, HasSubstr("Cohere sent an answer without an embedding"));
}

TEST(EmbeddingsTest, OllamaSendsModelAndInputToApiEmbedWithoutAKey) {
  FakeTransport transport;
  auto options = Options("ollama", "nomic-embed-text");
  options.api_key.clear();
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  EXPECT_EQ(embedder->name(), "ollama:nomic-embed-text");
  transport.Answer(200, OllamaAnswer({1.0, 1.0, 1.0, 1.0}));

  auto vector = embedder->Embed(kQuestion);
  ASSERT_TRUE(vector) << vector.error().message;
  EXPECT_THAT(*vector, ElementsAre(0.5F, 0.5F, 0.5F, 0.5F));
  const HttpRequest request = transport.last();
  EXPECT_EQ(request.url, "http://localhost:11434/api/embed");
  EXPECT_FALSE(HasHeader(request, "Authorization"));
  EXPECT_EQ(BodyOf(request), json({{"model", "nomic-embed-text"}, {"input", kQuestion}}));
}

TEST(EmbeddingsTest, OllamaSendsAConfiguredKeyAsBearer) {
  FakeTransport transport;
  auto options = Options("ollama", "nomic-embed-text");
  options.base_url = "https://ollama.example.com/api";
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(200, OllamaAnswer({1.0}));
  ASSERT_TRUE(embedder->Embed(kQuestion));
  EXPECT_EQ(transport.last().url, "https://ollama.example.com/api/embed");
  EXPECT_EQ(HeaderOf(transport.last(), "Authorization"), std::string("Bearer ") + kApiKey);
}

// ---- Ollama's older endpoint -----------------------------------------------------------------

TEST(EmbeddingsTest, OllamaFallsBackToApiEmbeddingsWhenApiEmbedIsMissingAndRemembers) {
  FakeTransport transport;
  auto options = Options("ollama", "nomic-embed-text");
  options.api_key.clear();
  options.base_url = "http://gpu-box:11434";
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  // What an Ollama without /api/embed (a Gin router) answers for an unknown route.
  transport.AnswerText(404, "404 page not found");
  transport.Answer(200, OllamaLegacyAnswer({0.0, 0.0, 7.0}));
  transport.Answer(200, OllamaLegacyAnswer({0.0, -2.0, 0.0}));

  auto first = embedder->Embed(kQuestion);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_THAT(*first, ElementsAre(0.0F, 0.0F, 1.0F));
  auto second = embedder->Embed("top products");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_THAT(*second, ElementsAre(0.0F, -1.0F, 0.0F));

  const auto requests = transport.requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[0].url, "http://gpu-box:11434/api/embed");
  EXPECT_EQ(requests[1].url, "http://gpu-box:11434/api/embeddings");
  EXPECT_EQ(BodyOf(requests[1]), json({{"model", "nomic-embed-text"}, {"prompt", kQuestion}}));
  // Once the old endpoint has answered, the new one is not asked again.
  EXPECT_EQ(requests[2].url, "http://gpu-box:11434/api/embeddings");
  EXPECT_EQ(BodyOf(requests[2]), json({{"model", "nomic-embed-text"}, {"prompt", "top products"}}));
}

TEST(EmbeddingsTest, OllamaDoesNotFallBackWhenTheModelIsMissing) {
  FakeTransport transport;
  auto options = Options("ollama", "nomic-embed-text");
  options.api_key.clear();
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(404, {{"error", "model \"nomic-embed-text\" not found, try pulling it first"}});

  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(vector.error().message, HasSubstr("Ollama does not know the embedding model"));
  EXPECT_THAT(vector.error().message, HasSubstr("try pulling it first"));
  ASSERT_EQ(transport.requests().size(), 1U);
}

TEST(EmbeddingsTest, OllamaFallbackThatFailsReportsTheOldEndpointsAnswer) {
  FakeTransport transport;
  auto options = Options("ollama", "nomic-embed-text");
  options.api_key.clear();
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  transport.AnswerText(404, "404 page not found");
  transport.Answer(404, {{"error", "model 'nomic-embed-text' not found"}});
  // The new endpoint is asked again next time: the old one never answered with a vector.
  transport.Answer(200, OllamaAnswer({1.0}));

  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(vector.error().message, HasSubstr("model 'nomic-embed-text' not found"));
  ASSERT_TRUE(embedder->Embed(kQuestion));
  const auto requests = transport.requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[2].url, "http://localhost:11434/api/embed");
}

TEST(EmbeddingsTest, OllamaLegacyEmptyEmbeddingIsAnError) {
  // Some Ollama releases answer the deprecated endpoint with an empty vector.
  FakeTransport transport;
  auto options = Options("ollama", "nomic-embed-text");
  options.api_key.clear();
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  transport.AnswerText(404, "404 page not found");
  transport.Answer(200, OllamaLegacyAnswer(json::array()));
  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(vector.error().message, HasSubstr("without an embedding"));
}

// ---- Vectors ---------------------------------------------------------------------------------

TEST(EmbeddingsTest, VectorsAreNormalisedAndKeepTheirDirection) {
  FakeTransport transport;
  auto embedder = Make(Options("openai", "text-embedding-3-large"), transport);
  ASSERT_NE(embedder, nullptr);
  const std::vector<double> raw = {0.013, -0.442, 1.7, 0.0, -3.25, 12.5};
  transport.Answer(200, OpenAiAnswer(raw));
  auto vector = embedder->Embed(kQuestion);
  ASSERT_TRUE(vector) << vector.error().message;
  ASSERT_EQ(vector->size(), raw.size());
  EXPECT_NEAR(Norm(*vector), 1.0, 1e-6);
  double raw_norm = 0;
  for (double x : raw) raw_norm += x * x;
  raw_norm = std::sqrt(raw_norm);
  for (size_t i = 0; i < raw.size(); ++i) EXPECT_NEAR((*vector)[i], raw[i] / raw_norm, 1e-6);
}

struct BadAnswer {
  std::string what;
  json body;  // an OpenAI 200 answer
};

void PrintTo(const BadAnswer& answer, std::ostream* os) { *os << answer.what; }

class MalformedAnswerTest : public ::testing::TestWithParam<BadAnswer> {};

TEST_P(MalformedAnswerTest, IsUnavailableWithAClearMessage) {
  FakeTransport transport;
  auto embedder = Make(Options("openai", "text-embedding-3-small"), transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(200, GetParam().body);
  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector) << GetParam().what;
  EXPECT_EQ(vector.error().code, ErrorCode::kUnavailable) << GetParam().what;
  EXPECT_THAT(vector.error().message, HasSubstr("OpenAI sent")) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MalformedAnswerTest,
    ::testing::Values(BadAnswer{"no data", {{"object", "list"}}},
                      BadAnswer{"empty data", {{"object", "list"}, {"data", json::array()}}},
                      BadAnswer{"data not an array", {{"data", {{"embedding", {1.0}}}}}},
                      BadAnswer{"empty embedding", OpenAiAnswer(json::array())},
                      BadAnswer{"base64 embedding", OpenAiAnswer("AAAAAAAA8D8=")},
                      BadAnswer{"string element", OpenAiAnswer({0.5, "0.5"})},
                      BadAnswer{"null element", OpenAiAnswer({0.5, nullptr})},
                      BadAnswer{"nested arrays",
                                OpenAiAnswer(json::array({json::array({0.5, 0.5})}))},
                      BadAnswer{"beyond float range", OpenAiAnswer({0.5, 1e39})},
                      BadAnswer{"all zeros", OpenAiAnswer({0.0, 0.0, 0.0})},
                      BadAnswer{"a JSON array, not an object", json::array({OpenAiAnswer({1.0})})}),
    [](const ::testing::TestParamInfo<BadAnswer>& info) {
      std::string name;
      for (char c : info.param.what) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

TEST(EmbeddingsTest, AnswerThatIsNotJsonIsUnavailable) {
  FakeTransport transport;
  auto embedder = Make(Options("openai", "text-embedding-3-small"), transport);
  ASSERT_NE(embedder, nullptr);
  transport.AnswerText(200, "<html>captive portal</html>", "text/html");
  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(vector.error().message, HasSubstr("not a JSON object"));
}

TEST(EmbeddingsTest, TheFirstVectorFixesTheDimension) {
  FakeTransport transport;
  auto embedder = Make(Options("openai", "text-embedding-3-small"), transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(200, OpenAiAnswer({1.0, 0.0, 0.0}));
  transport.Answer(200, OpenAiAnswer({1.0, 0.0}));
  transport.Answer(200, OpenAiAnswer({0.0, 1.0, 0.0}));

  ASSERT_TRUE(embedder->Embed(kQuestion));
  auto shorter = embedder->Embed(kQuestion);
  ASSERT_FALSE(shorter);
  EXPECT_EQ(shorter.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(shorter.error().message, HasSubstr("2 dimensions"));
  EXPECT_THAT(shorter.error().message, HasSubstr("earlier ones had 3"));
  auto same = embedder->Embed(kQuestion);
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_EQ(same->size(), 3U);
}

TEST(EmbeddingsTest, AFailedAnswerDoesNotFixTheDimension) {
  FakeTransport transport;
  auto embedder = Make(Options("cohere", "embed-v4.0"), transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(200, CohereAnswer({0.0, 0.0}));  // all zeros: refused
  transport.Answer(200, CohereAnswer({1.0, 2.0, 2.0}));
  ASSERT_FALSE(embedder->Embed(kQuestion));
  auto vector = embedder->Embed(kQuestion);
  ASSERT_TRUE(vector) << vector.error().message;
  EXPECT_THAT(*vector, ElementsAre(::testing::FloatNear(1.0F / 3, 1e-6F),
                                   ::testing::FloatNear(2.0F / 3, 1e-6F),
                                   ::testing::FloatNear(2.0F / 3, 1e-6F)));
}

TEST(EmbeddingsTest, EmptyTextIsRefusedWithoutARequest) {
  FakeTransport transport;
  auto embedder = Make(Options("openai", "text-embedding-3-small"), transport);
  ASSERT_NE(embedder, nullptr);
  for (const char* text : {"", "  \n\t"}) {
    auto vector = embedder->Embed(text);
    ASSERT_FALSE(vector);
    EXPECT_EQ(vector.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(transport.requests().empty());
}

TEST(EmbeddingsTest, ConcurrentCallsAllSucceed) {
  FakeTransport transport;
  auto embedder = Make(Options("openai", "text-embedding-3-small"), transport);
  ASSERT_NE(embedder, nullptr);
  constexpr int kThreads = 8;
  constexpr int kCalls = 25;
  for (int i = 0; i < kThreads * kCalls; ++i) transport.Answer(200, OpenAiAnswer({1.0, 1.0}));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        auto vector = embedder->Embed(kQuestion);
        if (vector && vector->size() == 2 && std::fabs(Norm(*vector) - 1.0) < 1e-6) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kCalls);
}

// ---- Errors ----------------------------------------------------------------------------------

struct StatusCase {
  int status;
  ErrorCode code;
  std::string says;
};

void PrintTo(const StatusCase& c, std::ostream* os) { *os << "HTTP " << c.status; }

class StatusMappingTest : public ::testing::TestWithParam<StatusCase> {};

TEST_P(StatusMappingTest, MapsLikeTheLlmProvidersAndQuotesTheProvider) {
  FakeTransport transport;
  auto embedder = Make(Options("openai", "text-embedding-3-small"), transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(GetParam().status, {{"error",
                                        {{"message", "the provider's own words"},
                                         {"type", "invalid_request_error"},
                                         {"param", nullptr},
                                         {"code", nullptr}}}});
  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, GetParam().code);
  EXPECT_THAT(vector.error().message, HasSubstr(GetParam().says));
  EXPECT_THAT(vector.error().message, HasSubstr("the provider's own words"));
  EXPECT_THAT(vector.error().message, HasSubstr(fmt::format("HTTP {}", GetParam().status)));
  EXPECT_EQ(transport.requests().size(), 1U) << "no retries";
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, StatusMappingTest,
    ::testing::Values(StatusCase{401, ErrorCode::kUnavailable, "refused the API key"},
                      StatusCase{403, ErrorCode::kUnavailable, "refused the API key"},
                      StatusCase{404, ErrorCode::kUnavailable,
                                 "does not know the embedding model \"text-embedding-3-small\""},
                      StatusCase{429, ErrorCode::kUnavailable, "rate limiting"},
                      StatusCase{500, ErrorCode::kUnavailable, "failing or overloaded"},
                      StatusCase{503, ErrorCode::kUnavailable, "failing or overloaded"},
                      StatusCase{400, ErrorCode::kInternal, "malformed"},
                      StatusCase{422, ErrorCode::kInternal, "malformed"}),
    [](const ::testing::TestParamInfo<StatusCase>& info) {
      return "Http" + std::to_string(info.param.status);
    });

TEST(EmbeddingsTest, UnauthorisedWithoutAConfiguredKeySaysSo) {
  FakeTransport transport;
  auto options = Options("openai-compatible", "bge-m3");
  options.base_url = "https://gateway.example.com/v1";
  options.api_key.clear();
  auto embedder = Make(options, transport);
  ASSERT_NE(embedder, nullptr);
  transport.Answer(401, {{"detail", "Not authenticated"}});
  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(vector.error().message,
              HasSubstr("the OpenAI-compatible endpoint gateway.example.com wants an API key"));
  EXPECT_THAT(vector.error().message, HasSubstr("Not authenticated"));
}

TEST(EmbeddingsTest, EachProviderQuotesItsOwnErrorBody) {
  struct Case {
    std::string provider;
    json body;
  };
  const std::vector<Case> cases = {
      {"cohere", {{"message", "invalid request: model 'nope' not found"}}},
      {"ollama", {{"error", "\"llama3\" does not support embeddings"}}},
  };
  for (const auto& [provider, body] : cases) {
    FakeTransport transport;
    auto embedder = Make(Options(provider, "nope"), transport);
    ASSERT_NE(embedder, nullptr);
    transport.Answer(400, body);
    auto vector = embedder->Embed(kQuestion);
    ASSERT_FALSE(vector) << provider;
    EXPECT_EQ(vector.error().code, ErrorCode::kInternal) << provider;
    const std::string said = body.contains("message") ? body["message"].get<std::string>()
                                                      : body["error"].get<std::string>();
    EXPECT_THAT(vector.error().message, HasSubstr(said)) << provider;
  }
}

TEST(EmbeddingsTest, TheKeyIsNeverInAMessageEvenWhenEchoed) {
  for (const char* provider : {"openai", "openai-compatible", "cohere", "ollama"}) {
    FakeTransport transport;
    auto options = Options(provider, "m");
    options.base_url = "http://127.0.0.1:9";
    auto embedder = Make(options, transport);
    ASSERT_NE(embedder, nullptr);
    const std::string echo = std::string("Incorrect API key provided: ") + kApiKey;
    // Each provider's error field, a plain-text page, a transport error and a bad value.
    transport.Answer(401, {{"error", {{"message", echo}}}, {"message", echo}});
    transport.Answer(403, {{"error", echo}});
    transport.AnswerText(502, "<html>bad gateway for " + echo + "</html>", "text/html");
    transport.FailWith(ErrorCode::kUnavailable, "could not reach 127.0.0.1:9: " + echo);
    transport.Answer(200, OpenAiAnswer({1.0, kApiKey}));
    for (int i = 0; i < 5; ++i) {
      auto vector = embedder->Embed(kQuestion);
      ASSERT_FALSE(vector) << provider << " " << i;
      EXPECT_THAT(vector.error().message, Not(HasSubstr(kApiKey))) << provider << " " << i;
      EXPECT_THAT(vector.error().message, Not(HasSubstr("Zq3vR8xW1yT5"))) << provider << " " << i;
    }
    // The requests did carry the key.
    EXPECT_EQ(HeaderOf(transport.last(), "Authorization"), std::string("Bearer ") + kApiKey);
  }
}

TEST(EmbeddingsTest, TransportErrorsKeepTheirCodeAndNameTheService) {
  FakeTransport transport;
  auto embedder = Make(Options("cohere", "embed-v4.0"), transport);
  ASSERT_NE(embedder, nullptr);
  transport.FailWith(ErrorCode::kDeadlineExceeded, "no answer from api.cohere.com in time");
  transport.FailWith(ErrorCode::kUnavailable, "could not reach api.cohere.com: DNS failure");
  transport.FailWith(ErrorCode::kInvalidArgument, "the request header holds a line break");

  auto timed_out = embedder->Embed(kQuestion);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(timed_out.error().message, "Cohere embeddings: no answer from api.cohere.com in time");
  auto unreachable = embedder->Embed(kQuestion);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(unreachable.error().message, HasSubstr("DNS failure"));
  auto other = embedder->Embed(kQuestion);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport.requests().size(), 3U) << "no retries";
}

// ---- Construction ----------------------------------------------------------------------------

TEST(EmbeddingsTest, UnknownProviderListsTheKnownOnes) {
  FakeTransport transport;
  auto made = MakeEmbedder(Options("anthropic", "claude"), transport);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(made.error().message, HasSubstr("\"anthropic\""));
  for (const char* known : {"openai", "openai-compatible", "cohere", "ollama"}) {
    EXPECT_THAT(made.error().message, HasSubstr(known));
  }
  EXPECT_FALSE(MakeEmbedder(Options("", "m"), transport));
  EXPECT_FALSE(MakeEmbedder(Options("OpenAI", "m"), transport));
}

TEST(EmbeddingsTest, RefusesIncompleteOrInvalidOptions) {
  FakeTransport transport;
  auto expect_refused = [&transport](const EmbeddingOptions& options, const std::string& says) {
    auto made = MakeEmbedder(options, transport);
    ASSERT_FALSE(made) << says;
    EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(made.error().message, HasSubstr(says));
    EXPECT_THAT(made.error().message, Not(HasSubstr(kApiKey)));
  };
  expect_refused(Options("openai", ""), "needs a model");
  auto no_key = Options("openai", "text-embedding-3-small");
  no_key.api_key.clear();
  expect_refused(no_key, "needs an API key");
  no_key.provider = "cohere";
  expect_refused(no_key, "needs an API key");
  expect_refused(Options("openai-compatible", "bge-m3"), "needs a base URL");
  auto bad_url = Options("ollama", "nomic-embed-text");
  bad_url.base_url = "localhost:11434";
  expect_refused(bad_url, "http:// or https://");
  auto zero = Options("ollama", "nomic-embed-text");
  zero.timeout = milliseconds(0);
  expect_refused(zero, "timeout must be positive");
  EXPECT_TRUE(transport.requests().empty());
}

TEST(EmbeddingsTest, KeyIsOptionalForOllamaAndOpenAiCompatible) {
  FakeTransport transport;
  auto ollama = Options("ollama", "nomic-embed-text");
  ollama.api_key.clear();
  EXPECT_TRUE(MakeEmbedder(ollama, transport));
  auto compatible = Options("openai-compatible", "bge-m3");
  compatible.api_key.clear();
  compatible.base_url = "http://localhost:8000/v1";
  EXPECT_TRUE(MakeEmbedder(compatible, transport));
}

// ---- Real HTTP -------------------------------------------------------------------------------

TEST(EmbeddingsHttpTest, OpenAiOverTheWire) {
  testing::FakeServer server(
      [](const httplib::Request& request) -> std::optional<testing::Reply> {
        if (request.path != "/v1/embeddings") {
          return testing::Reply{
              404, R"({"error":{"message":"Invalid URL"}})", "application/json", {}, false};
        }
        if (request.get_header_value("Authorization") != std::string("Bearer ") + kApiKey) {
          return testing::JsonReply(401, {{"error", {{"message", "Incorrect API key provided"}}}});
        }
        return std::nullopt;
      },
      testing::JsonReply(200, OpenAiAnswer({3.0, 0.0, 4.0})));
  auto transport = MakeCurlTransport();
  auto options = Options("openai-compatible", "text-embedding-3-small");
  options.base_url = server.base_url();
  auto embedder = Make(options, *transport);
  ASSERT_NE(embedder, nullptr);

  auto vector = embedder->Embed(kQuestion);
  ASSERT_TRUE(vector) << vector.error().message;
  EXPECT_THAT(*vector, ElementsAre(::testing::FloatEq(0.6F), 0.0F, ::testing::FloatEq(0.8F)));
  const auto seen = server.last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.Header("Content-Type"), "application/json");
  EXPECT_EQ(seen.Json(), json({{"model", "text-embedding-3-small"}, {"input", kQuestion}}));
}

TEST(EmbeddingsHttpTest, OllamaFallbackOverTheWire) {
  // An Ollama from before /api/embed: unknown routes get Gin's plain-text 404.
  testing::FakeServer server(
      [](const httplib::Request& request) -> std::optional<testing::Reply> {
        if (request.path != "/api/embeddings") {
          return testing::Reply{404, "404 page not found", "text/plain", {}, false};
        }
        const json body = testing::BodyOf(request);
        if (!body.contains("prompt") || !body.contains("model")) {
          return testing::JsonReply(400, {{"error", "missing prompt"}});
        }
        return std::nullopt;
      },
      testing::JsonReply(200, OllamaLegacyAnswer({0.0, 5.0})));
  auto transport = MakeCurlTransport();
  auto options = Options("ollama", "nomic-embed-text");
  options.api_key.clear();
  options.base_url = server.base_url();
  auto embedder = Make(options, *transport);
  ASSERT_NE(embedder, nullptr);

  for (int i = 0; i < 2; ++i) {
    auto vector = embedder->Embed(kQuestion);
    ASSERT_TRUE(vector) << vector.error().message;
    EXPECT_THAT(*vector, ElementsAre(0.0F, 1.0F));
  }
  std::vector<std::string> paths;
  for (const auto& seen : server.seen()) paths.push_back(seen.path);
  EXPECT_THAT(paths, ElementsAre("/api/embed", "/api/embeddings", "/api/embeddings"));
}

TEST(EmbeddingsHttpTest, ATimeoutIsDeadlineExceeded) {
  testing::FakeServer server(
      [](const httplib::Request&) -> std::optional<testing::Reply> { return std::nullopt; },
      testing::Reply{200, "{}", "application/json", {}, /*hang=*/true});
  auto transport = MakeCurlTransport();
  auto options = Options("ollama", "nomic-embed-text");
  options.base_url = server.base_url();
  options.timeout = milliseconds(300);
  auto embedder = Make(options, *transport);
  ASSERT_NE(embedder, nullptr);
  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(vector.error().message, HasSubstr("Ollama embeddings"));
  EXPECT_THAT(vector.error().message, Not(HasSubstr(kApiKey)));
}

TEST(EmbeddingsHttpTest, ANoListenerIsUnavailable) {
  auto transport = MakeCurlTransport();
  auto options = Options("openai-compatible", "bge-m3");
  options.base_url = "http://127.0.0.1:" + std::to_string(testing::ClosedPort()) + "/v1";
  auto embedder = Make(options, *transport);
  ASSERT_NE(embedder, nullptr);
  auto vector = embedder->Embed(kQuestion);
  ASSERT_FALSE(vector);
  EXPECT_EQ(vector.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(vector.error().message, HasSubstr("embeddings"));
}

}  // namespace
}  // namespace helios::llm
