// MakeProvider and EndpointUrl: which configurations are refused and why, which provider comes
// out, and where each one sends its requests.
#include "llm/factory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace helios::llm {
namespace {

using Kind = config::LlmProvider;
using ::testing::HasSubstr;
using ::testing::Not;

class NoTransport final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest&) override {
    return Fail(ErrorCode::kInternal, "not used");
  }
};

config::LlmConfig Config(Kind provider, std::string base_url = "") {
  config::LlmConfig config;
  config.provider = provider;
  config.model = "some-model";
  config.api_key = config::Secret("sk-factory-test-key");
  config.base_url = std::move(base_url);
  return config;
}

Result<std::unique_ptr<LlmProvider>> Make(const config::LlmConfig& config) {
  static NoTransport transport;
  static FakeClock clock;
  return MakeProvider(config, transport, clock, [](std::chrono::milliseconds) {});
}

std::string Endpoint(Kind provider, std::string base_url) {
  auto url = EndpointUrl(Config(provider, std::move(base_url)));
  return url ? *url : "error: " + url.error().message;
}

TEST(FactoryTest, BuildsEachProviderByName) {
  EXPECT_EQ((*Make(Config(Kind::kOpenAi)))->name(), "openai");
  EXPECT_EQ((*Make(Config(Kind::kAnthropic)))->name(), "anthropic");
  EXPECT_EQ((*Make(Config(Kind::kCohere)))->name(), "cohere");
  EXPECT_EQ((*Make(Config(Kind::kOllama)))->name(), "ollama");
  EXPECT_EQ((*Make(Config(Kind::kOpenAiCompatible, "http://localhost:8000/v1")))->name(),
            "openai-compatible");
}

TEST(FactoryTest, RefusesAMissingKeyNamingTheVariable) {
  for (Kind provider : {Kind::kOpenAi, Kind::kAnthropic, Kind::kCohere}) {
    auto config = Config(provider);
    config.api_key = config::Secret();
    config.api_key_env = "MY_LLM_KEY";

    auto made = Make(config);

    ASSERT_FALSE(made.has_value());
    EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(made.error().message, HasSubstr("MY_LLM_KEY"));
    EXPECT_THAT(made.error().message, HasSubstr(config::LlmProviderName(provider)));
  }
}

TEST(FactoryTest, AMissingKeyWithoutAVariableSaysWhereToConfigureIt) {
  auto config = Config(Kind::kOpenAi);
  config.api_key = config::Secret();
  config.api_key_env = "";

  auto made = Make(config);

  ASSERT_FALSE(made.has_value());
  EXPECT_THAT(made.error().message, HasSubstr("api_key_env"));
}

TEST(FactoryTest, OllamaAndCompatibleEndpointsNeedNoKey) {
  auto ollama = Config(Kind::kOllama);
  ollama.api_key = config::Secret();
  auto compatible = Config(Kind::kOpenAiCompatible, "http://localhost:8000/v1");
  compatible.api_key = config::Secret();

  EXPECT_TRUE(Make(ollama).has_value());
  EXPECT_TRUE(Make(compatible).has_value());
}

TEST(FactoryTest, RefusesNoProvider) {
  auto made = Make(Config(Kind::kNone));
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
}

TEST(FactoryTest, CompatibleNeedsABaseUrl) {
  auto made = Make(Config(Kind::kOpenAiCompatible));
  ASSERT_FALSE(made.has_value());
  EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(made.error().message, HasSubstr("base_url"));
}

TEST(FactoryTest, RefusesABaseUrlThatIsNotHttp) {
  for (const char* url : {"ftp://example.com", "localhost:8000", "http://", "file:///tmp/x"}) {
    auto made = Make(Config(Kind::kOpenAiCompatible, url));
    ASSERT_FALSE(made.has_value()) << url;
    EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument) << url;
  }
}

TEST(FactoryTest, ErrorMessagesNeverHoldTheKeyOrAUrlPassword) {
  auto config = Config(Kind::kOpenAiCompatible, "ftp://user:hunter2@example.com");
  auto made = Make(config);
  ASSERT_FALSE(made.has_value());
  EXPECT_THAT(made.error().message, Not(HasSubstr("sk-factory-test-key")));
  EXPECT_THAT(made.error().message, Not(HasSubstr("hunter2")));
}

TEST(FactoryTest, RefusesAnEmptyModel) {
  auto config = Config(Kind::kOpenAi);
  config.model = "";
  EXPECT_FALSE(Make(config).has_value());
}

TEST(EndpointUrlTest, DefaultsToEachProvidersPublicEndpoint) {
  EXPECT_EQ(Endpoint(Kind::kOpenAi, ""), "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(Endpoint(Kind::kAnthropic, ""), "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(Endpoint(Kind::kCohere, ""), "https://api.cohere.com/v2/chat");
  EXPECT_EQ(Endpoint(Kind::kOllama, ""), "http://localhost:11434/api/chat");
}

TEST(EndpointUrlTest, JoinsOpenAiStyleBaseUrls) {
  const auto compatible = Kind::kOpenAiCompatible;
  EXPECT_EQ(Endpoint(compatible, "http://localhost:8000/v1"),
            "http://localhost:8000/v1/chat/completions");
  EXPECT_EQ(Endpoint(compatible, "http://localhost:8000/v1/"),
            "http://localhost:8000/v1/chat/completions");
  EXPECT_EQ(Endpoint(compatible, "http://localhost:8000"),
            "http://localhost:8000/v1/chat/completions");
  EXPECT_EQ(Endpoint(compatible, "http://localhost:8000/"),
            "http://localhost:8000/v1/chat/completions");
  EXPECT_EQ(Endpoint(compatible, "https://openrouter.ai/api/v1"),
            "https://openrouter.ai/api/v1/chat/completions");
  EXPECT_EQ(Endpoint(compatible, "http://host/v1/chat/completions"),
            "http://host/v1/chat/completions");
  EXPECT_EQ(Endpoint(Kind::kOpenAi, "https://proxy.example.com/openai/v1"),
            "https://proxy.example.com/openai/v1/chat/completions");
}

TEST(EndpointUrlTest, JoinsRootBaseUrls) {
  EXPECT_EQ(Endpoint(Kind::kAnthropic, "https://gw.example.com/anthropic"),
            "https://gw.example.com/anthropic/v1/messages");
  EXPECT_EQ(Endpoint(Kind::kAnthropic, "https://gw.example.com/anthropic/v1"),
            "https://gw.example.com/anthropic/v1/messages");
  EXPECT_EQ(Endpoint(Kind::kAnthropic, "https://api.anthropic.com/v1/messages"),
            "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(Endpoint(Kind::kCohere, "https://api.cohere.com/v2/"),
            "https://api.cohere.com/v2/chat");
  EXPECT_EQ(Endpoint(Kind::kOllama, "http://gpu-box:11434"), "http://gpu-box:11434/api/chat");
  EXPECT_EQ(Endpoint(Kind::kOllama, "http://gpu-box:11434/api"), "http://gpu-box:11434/api/chat");
}

}  // namespace
}  // namespace helios::llm
