// Ollama's chat API (POST {base}/api/chat, base http://localhost:11434). No API key: a local
// server needs none; when one is configured (a proxy or hosted Ollama in front), it is sent as
// Authorization: Bearer.
//
// Request: {model, messages[{role: system|user|assistant, content}], stream: false (otherwise
// Ollama streams one JSON object per line), format: "json" when JSON is wanted (llm/wire.h),
// options {temperature, num_predict (= max_tokens)}}.
// Answer: message.content; model; done_reason ("length" = cut off); prompt_eval_count,
// eval_count. Errors: {"error": "..."} (404 for a model that is not pulled).
//
// Thread-safety: see llm/http_provider.h.
#pragma once

#include <memory>
#include <string_view>

#include "llm/http_provider.h"

namespace helios::llm {

inline constexpr std::string_view kOllamaDefaultBaseUrl = "http://localhost:11434";

// settings.url is the complete endpoint (wire::RootJoinedUrl(base, "/api/chat")).
std::unique_ptr<LlmProvider> MakeOllamaProvider(ProviderSettings settings, ProviderDeps deps);

}  // namespace helios::llm
