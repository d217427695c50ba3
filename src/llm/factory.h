// Builds the configured LLM provider: the only place that maps [llm] settings to a provider.
//
// config::LlmConfig -> provider:
//   provider    openai | anthropic | cohere | ollama | openai-compatible (kNone is refused)
//   base_url    empty: the provider's public endpoint (OpenAI https://api.openai.com/v1,
//               Anthropic https://api.anthropic.com, Cohere https://api.cohere.com, Ollama
//               http://localhost:11434); required for openai-compatible. How the endpoint path
//               is joined to it: EndpointUrl below.
//   api_key     required for openai, anthropic and cohere; optional for openai-compatible and
//               ollama (sent as a bearer token when set)
//   timeout     one HTTP attempt; max_retries the retries after it (llm/retry.h)
//   model       sent as is
// max_tokens and temperature are not read here: each CompletionRequest carries them, so the
// caller copies them from the configuration.
//
// Thread-safety: MakeProvider is reentrant; see llm/http_provider.h for the providers.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/error.h"
#include "config/config.h"
#include "llm/http_transport.h"
#include "llm/provider.h"
#include "llm/retry.h"

namespace helios::llm {

// kInvalidArgument when the provider is kNone, needs a key that is missing (the message names
// api_key_env, never the key), or when base_url is missing (openai-compatible) or not an http(s)
// URL. `transport` and `clock` must outlive the provider. An empty `jitter` uses DefaultJitter();
// an empty `sleeper` uses RealSleeper().
Result<std::unique_ptr<LlmProvider>> MakeProvider(const config::LlmConfig& config,
                                                  HttpTransport& transport, const Clock& clock,
                                                  Sleeper sleeper, Jitter jitter = nullptr);

// The URL requests go to for `config` (base_url or the default, joined with the endpoint path):
//   openai, openai-compatible  base + "/chat/completions" (the base names the version, as in the
//                              OpenAI SDKs: ".../v1"); a bare host gets "/v1/chat/completions";
//                              a base already ending in "/chat/completions" is used as is
//   anthropic                  base + "/v1/messages"
//   cohere                     base + "/v2/chat"
//   ollama                     base + "/api/chat"
// For the last three, a base that already ends with the path or its first segment ("/v1",
// "/v2", "/api") is completed, not doubled. kInvalidArgument as for MakeProvider.
Result<std::string> EndpointUrl(const config::LlmConfig& config);

}  // namespace helios::llm
