// Anthropic's Messages API (POST {base}/v1/messages, base https://api.anthropic.com).
//
// Request headers: x-api-key, anthropic-version: 2023-06-01, content-type: application/json.
// Body: {model, max_tokens (required), system (top-level string: the system message is not a
// message here), messages[{role: user|assistant, content}], temperature (Anthropic's range is
// 0..1, so higher values are clamped)}. The API has no JSON mode; the prompt asks for JSON and
// llm/sql_extract.h copes with prose around it.
// Answer: content[] blocks, the "text" ones joined; stop_reason ("max_tokens" = cut off,
// "refusal" = declined); model; usage.input_tokens / output_tokens.
// Errors: {"type": "error", "error": {"type", "message"}}; 529 overloaded_error is retried.
//
// Thread-safety: see llm/http_provider.h.
#pragma once

#include <memory>
#include <string_view>

#include "llm/http_provider.h"

namespace helios::llm {

inline constexpr std::string_view kAnthropicDefaultBaseUrl = "https://api.anthropic.com";
inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

// settings.url is the complete endpoint (wire::RootJoinedUrl(base, "/v1/messages")).
std::unique_ptr<LlmProvider> MakeAnthropicProvider(ProviderSettings settings, ProviderDeps deps);

}  // namespace helios::llm
