// Helpers the provider implementations share: endpoint URLs from a configured base URL, JSON
// reading that never throws, error messages from provider answers (shortened, the API key
// redacted), and the rule for asking for a JSON answer. Internal to llm/.
//
// Thread-safety: plain functions without shared state.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "llm/provider.h"

namespace helios::llm::wire {

// The chat completions URL of an OpenAI-style API. Following the OpenAI SDKs, the base URL names
// the API version ("https://api.openai.com/v1", "http://vllm:8000/v1",
// "https://openrouter.ai/api/v1"), and "/chat/completions" is appended. Two spellings people use
// are accepted too: a bare host ("http://localhost:8000") gets "/v1/chat/completions", and a URL
// that already ends in "/chat/completions" is used as is. A trailing '/' is ignored.
std::string OpenAiChatUrl(std::string_view base);

// The endpoint URL of an API whose base URL is the server's root (Anthropic, Cohere, Ollama):
// base + path ("https://api.anthropic.com" + "/v1/messages"). A base that already ends with the
// path, or with the path's first segment ("/v1", "/api"), is completed rather than doubled.
std::string RootJoinedUrl(std::string_view base, std::string_view path);

// True when `url` starts with http:// or https:// and names a host.
bool IsHttpUrl(std::string_view url);

// The host[:port] of a URL, for messages.
std::string UrlHost(std::string_view url);

// Whether to switch on the provider's JSON mode: the caller asked for it and some message
// mentions JSON. OpenAI refuses json_object mode when no message says "JSON", and Cohere and
// Ollama warn that the model may emit whitespace forever without such an instruction.
bool WantsJsonMode(const CompletionRequest& request);

// `body` parsed, or nullopt when it is not JSON (never throws).
std::optional<nlohmann::json> ParseJson(std::string_view body);

// The string at `key` of an object; "" when absent or not a string.
std::string String(const nlohmann::json& object, std::string_view key);
// The number at `key` of an object as an int (rounded, clamped); nullopt when not a number.
std::optional<int> Int(const nlohmann::json& object, std::string_view key);
// The object or array at `key`; nullptr when absent or of another type.
const nlohmann::json* Object(const nlohmann::json& object, std::string_view key);
const nlohmann::json* Array(const nlohmann::json& object, std::string_view key);

// Text for a message: whitespace runs collapsed to one space, cut at a UTF-8 character boundary
// to at most `max_bytes` bytes, with "..." appended when cut.
std::string Shorten(std::string_view text, size_t max_bytes = 200);

// `text` with every occurrence of `secret` replaced by "[redacted]"; unchanged if secret is empty.
std::string Redact(std::string_view text, std::string_view secret);

// The JSON text of a request body. Invalid UTF-8 in the prompt is replaced, never thrown on.
std::string Dump(const nlohmann::json& body);

}  // namespace helios::llm::wire
