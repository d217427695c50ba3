// Language-model providers: the seam between the question pipeline and OpenAI, Anthropic,
// Cohere, Ollama or any OpenAI-compatible endpoint. A provider turns a conversation of messages
// into one completion; it knows the provider's wire format, authentication, and which errors are
// worth a retry. Everything that touches the network goes through an injected HttpTransport
// (llm/http_transport.h), and waiting between retries through an injected Sleeper, so tests run
// against fake servers without sleeping.
//
// Errors (never containing the API key):
//   kUnavailable       the provider could not be reached, answered 5xx or 429 after the retries,
//                      or refused the key (401/403: a configuration problem of this server)
//   kDeadlineExceeded  the request's deadline passed (it caps every retry)
//   kInternal          the provider refused the request as malformed (400): a bug here
//   kNotUnderstood     the provider answered but the answer holds no usable text
//
// Thread-safety: providers are safe to call concurrently (they hold only immutable settings and
// a thread-safe transport).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace helios::llm {

enum class Role { kSystem, kUser, kAssistant };

struct Message {
  Role role = Role::kUser;
  std::string content;
};

struct CompletionRequest {
  // At most one system message, first; then user and assistant turns, ending with a user turn.
  std::vector<Message> messages;
  int max_tokens = 500;
  double temperature = 0.1;
  // Ask for a JSON object {"sql": ..., "explanation": ...} where the provider supports a JSON
  // mode or schema; the caller parses the text either way (llm/sql_extract.h).
  bool json_object = true;
  // The whole call, retries included, ends by then (read from the provider's Clock). The
  // default, time_point{}, means the caller set none: the provider then allows
  // (max_retries + 1) times its per-attempt timeout from the start of the call.
  std::chrono::steady_clock::time_point deadline;
};

struct Completion {
  std::string text;   // the model's answer
  std::string model;  // as the provider reports it
  int input_tokens = 0;
  int output_tokens = 0;
  int attempts = 1;  // HTTP requests made, retries included
  // The model stopped at max_tokens, so the text is probably cut off: do not run SQL taken
  // from it (a cut-off JSON answer already fails ExtractSql in llm/sql_extract.h).
  bool truncated = false;
};

class LlmProvider {
 public:
  virtual ~LlmProvider() = default;
  // "openai", "anthropic", "cohere", "ollama", "openai-compatible".
  virtual std::string_view name() const = 0;
  virtual Result<Completion> Complete(const CompletionRequest& request) = 0;
};

// Waits; the real one sleeps, tests advance a FakeClock instead.
using Sleeper = std::function<void(std::chrono::milliseconds)>;

}  // namespace helios::llm
