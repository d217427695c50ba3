// Embeddings from model providers for the semantic cache: cache::Embedder implementations that
// ask OpenAI (or an OpenAI-compatible server), Cohere or Ollama for the vector of a question
// template, over the injected HttpTransport (llm/http_transport.h).
//
// Wire formats (one text per request; the first vector of the answer is used):
//   openai, openai-compatible  POST {base}/embeddings, the base naming the API version as in
//                              llm/wire.h ("https://api.openai.com/v1"; a bare host gets
//                              "/v1/embeddings"; a base ending in "/embeddings" is used as is,
//                              one ending in "/chat/completions" has that replaced).
//                              Authorization: Bearer <key> (optional for openai-compatible).
//                              {"model", "input"} -> data[0].embedding
//   cohere                     POST {base}/v2/embed (API v2, the current one; v1 is legacy and
//                              answers in another shape). Authorization: Bearer <key>.
//                              {"model", "texts": [text], "input_type": "search_query",
//                              "embedding_types": ["float"]} -> embeddings.float[0]. The same
//                              input_type is used for stored and looked-up questions, since the
//                              cache compares questions with questions.
//   ollama                     POST {base}/api/embed {"model", "input"} -> embeddings[0]. Older
//                              Ollama releases have only the now deprecated POST
//                              {base}/api/embeddings {"model", "prompt"} -> embedding: when
//                              /api/embed answers 404 with anything but Ollama's own
//                              {"error": ...} (which means the endpoint exists and the model is
//                              missing), the old endpoint is tried, and used from then on once it
//                              has answered. A key, when set, is sent as Bearer.
//
// Each request is one attempt with options.timeout, no retries: a failed embedding costs the
// cache a miss, and waiting longer would cost the question more than the cache saves.
//
// Errors from Embed (the API key never appears in a message; it is redacted should a provider
// echo it). Statuses map as for the LLM providers (llm/http_provider.h):
//   kInvalidArgument   the text is empty (providers refuse to embed nothing)
//   kUnavailable       401/403 (the key is refused), 404 (unknown model or endpoint), 429, 5xx;
//                      an answer that is not JSON, has no vector, holds something other than
//                      finite numbers, is all zeros, or whose dimension differs from the first
//                      vector this embedder returned
//   kInternal          other 4xx: the provider calls the request malformed
//   kDeadlineExceeded  the transport's timeout; other transport errors keep their code
//
// Thread-safety: the embedders are safe to call concurrently (immutable settings, atomics, and
// the thread-safe transport).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cache/embedder.h"
#include "common/error.h"
#include "llm/http_transport.h"

namespace helios::llm {

struct EmbeddingOptions {
  std::string provider;  // "openai", "openai-compatible", "cohere", "ollama"
  std::string model;     // sent as is; required
  // Empty: the provider's public endpoint (https://api.openai.com/v1, https://api.cohere.com,
  // http://localhost:11434). Required for openai-compatible.
  std::string base_url;
  std::string api_key;                       // required for openai and cohere; optional otherwise
  std::chrono::milliseconds timeout{10000};  // one HTTP request
};

// An embedder whose name() is "<provider>:<model>" and whose Embed returns unit-length vectors.
// kInvalidArgument for an unknown provider (the message lists the known ones), a missing model,
// key or base URL, a base URL that is not http(s), or a timeout that is not positive. The
// transport must outlive the embedder.
Result<std::unique_ptr<cache::Embedder>> MakeEmbedder(const EmbeddingOptions& options,
                                                      HttpTransport& transport);

}  // namespace helios::llm
