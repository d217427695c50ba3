// Provider construction from the configuration (see factory.h).
#include "llm/factory.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/text.h"
#include "llm/anthropic/anthropic_provider.h"
#include "llm/cohere/cohere_provider.h"
#include "llm/ollama/ollama_provider.h"
#include "llm/openai/openai_provider.h"
#include "llm/wire.h"

namespace helios::llm {
namespace {

using Kind = config::LlmProvider;

bool NeedsKey(Kind provider) {
  return provider == Kind::kOpenAi || provider == Kind::kAnthropic || provider == Kind::kCohere;
}

std::string_view DefaultBaseUrl(Kind provider) {
  switch (provider) {
    case Kind::kOpenAi:
      return kOpenAiDefaultBaseUrl;
    case Kind::kAnthropic:
      return kAnthropicDefaultBaseUrl;
    case Kind::kCohere:
      return kCohereDefaultBaseUrl;
    case Kind::kOllama:
      return kOllamaDefaultBaseUrl;
    case Kind::kOpenAiCompatible:
    case Kind::kNone:
      break;
  }
  return "";
}

}  // namespace

Result<std::string> EndpointUrl(const config::LlmConfig& config) {
  const std::string_view name = config::LlmProviderName(config.provider);
  if (config.provider == Kind::kNone) {
    return Fail(ErrorCode::kInvalidArgument, "[llm] provider: no LLM provider is configured");
  }
  const std::string base = text::Trim(config.base_url);
  if (base.empty() && config.provider == Kind::kOpenAiCompatible) {
    return Fail(ErrorCode::kInvalidArgument,
                "[llm] base_url: required for the openai-compatible provider (the server's "
                "URL, e.g. http://localhost:8000/v1)");
  }
  const std::string_view chosen = base.empty() ? DefaultBaseUrl(config.provider) : base;
  if (!wire::IsHttpUrl(chosen)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("[llm] base_url: must be an http:// or https:// URL for the {} "
                            "provider, got \"{}\"",
                            name, text::RedactUrl(chosen)));
  }
  switch (config.provider) {
    case Kind::kOpenAi:
    case Kind::kOpenAiCompatible:
      return wire::OpenAiChatUrl(chosen);
    case Kind::kAnthropic:
      return wire::RootJoinedUrl(chosen, "/v1/messages");
    case Kind::kCohere:
      return wire::RootJoinedUrl(chosen, "/v2/chat");
    case Kind::kOllama:
      return wire::RootJoinedUrl(chosen, "/api/chat");
    case Kind::kNone:
      break;
  }
  return Fail(ErrorCode::kInvalidArgument, "[llm] provider: no LLM provider is configured");
}

Result<std::unique_ptr<LlmProvider>> MakeProvider(const config::LlmConfig& config,
                                                  HttpTransport& transport, const Clock& clock,
                                                  Sleeper sleeper, Jitter jitter) {
  auto url = EndpointUrl(config);
  if (!url) return std::unexpected(url.error());
  const std::string_view name = config::LlmProviderName(config.provider);
  if (NeedsKey(config.provider) && config.api_key.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                config.api_key_env.empty()
                    ? fmt::format("the {} provider needs an API key: set [llm] api_key_env to "
                                  "the environment variable that holds it",
                                  name)
                    : fmt::format("the {} provider needs an API key: set the environment "
                                  "variable {}",
                                  name, config.api_key_env));
  }
  if (config.model.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "[llm] model: required");
  }
  if (config.timeout.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "[llm] timeout: must be positive");
  }

  ProviderSettings settings;
  settings.url = std::move(*url);
  settings.model = config.model;
  settings.api_key = config.api_key;
  settings.api_key_env = config.api_key_env;
  settings.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  settings.retry.max_retries = std::max(config.max_retries, 0);
  ProviderDeps deps{transport, clock, std::move(sleeper), std::move(jitter)};

  switch (config.provider) {
    case Kind::kOpenAi:
      return MakeOpenAiProvider(std::move(settings), std::move(deps));
    case Kind::kOpenAiCompatible:
      return MakeOpenAiCompatibleProvider(std::move(settings), std::move(deps));
    case Kind::kAnthropic:
      return MakeAnthropicProvider(std::move(settings), std::move(deps));
    case Kind::kCohere:
      return MakeCohereProvider(std::move(settings), std::move(deps));
    case Kind::kOllama:
      return MakeOllamaProvider(std::move(settings), std::move(deps));
    case Kind::kNone:
      break;
  }
  return Fail(ErrorCode::kInvalidArgument, "[llm] provider: no LLM provider is configured");
}

}  // namespace helios::llm
