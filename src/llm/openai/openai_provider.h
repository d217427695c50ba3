// OpenAI's Chat Completions API (POST {base}/chat/completions), for OpenAI itself and for any
// server that speaks the same format ("openai-compatible": vLLM, llama.cpp, LM Studio, Ollama's
// /v1, OpenRouter, ...).
//
// Request: Authorization: Bearer <key> (omitted when an openai-compatible endpoint has no key);
// {model, messages[{role, content}], max_completion_tokens (OpenAI; max_tokens is deprecated and
// refused by its reasoning models) or max_tokens (compatible servers, which mostly know only
// that), temperature (left out for OpenAI's reasoning models, which accept only the default),
// response_format {"type": "json_object"} when JSON is wanted (llm/wire.h)}.
// Answer: choices[0].message.content (or .refusal), finish_reason ("length" = cut off), model,
// usage.prompt_tokens / completion_tokens. Errors: {"error": {"message", "type", "code"}}.
//
// Thread-safety: see llm/http_provider.h.
#pragma once

#include <memory>
#include <string_view>

#include "llm/http_provider.h"

namespace helios::llm {

inline constexpr std::string_view kOpenAiDefaultBaseUrl = "https://api.openai.com/v1";

// settings.url is the complete endpoint (wire::OpenAiChatUrl builds it from a base URL).
std::unique_ptr<LlmProvider> MakeOpenAiProvider(ProviderSettings settings, ProviderDeps deps);
std::unique_ptr<LlmProvider> MakeOpenAiCompatibleProvider(ProviderSettings settings,
                                                          ProviderDeps deps);

// OpenAI's reasoning models (o1, o3-mini, o4-mini, gpt-5, ...), which refuse a temperature
// other than the default. "gpt-5-chat" models are not reasoning models.
bool IsOpenAiReasoningModel(std::string_view model);

}  // namespace helios::llm
