// Cohere's Chat API v2 (POST {base}/v2/chat, base https://api.cohere.com).
//
// Request: Authorization: Bearer <key>; {model, messages[{role: system|user|assistant,
// content}], stream: false, max_tokens, temperature (Cohere's range is 0..1, so higher values are
// clamped), response_format {"type": "json_object"} when JSON is wanted (llm/wire.h)}.
// Answer: message.content[] blocks of type "text", joined; finish_reason ("MAX_TOKENS" = cut
// off); usage.tokens.input_tokens / output_tokens, else usage.billed_units. The answer does not
// name the model, so Completion.model is the configured one.
// Errors: {"message": "..."}.
//
// Thread-safety: see llm/http_provider.h.
#pragma once

#include <memory>
#include <string_view>

#include "llm/http_provider.h"

namespace helios::llm {

inline constexpr std::string_view kCohereDefaultBaseUrl = "https://api.cohere.com";

// settings.url is the complete endpoint (wire::RootJoinedUrl(base, "/v2/chat")).
std::unique_ptr<LlmProvider> MakeCohereProvider(ProviderSettings settings, ProviderDeps deps);

}  // namespace helios::llm
