// The part every HTTP provider shares: checking the request, the deadline, sending with retries
// (llm/retry.h), and turning HTTP statuses and error bodies into Errors. A provider folder
// (openai/, anthropic/, cohere/, ollama/) only says how its API spells a request, its
// authentication headers, and how to read its answers and error bodies.
//
// Status mapping, after the retries (llm/provider.h lists the codes):
//   2xx                        the provider's answer (kNotUnderstood when it holds no text)
//   400, 422, other 4xx        kInternal: the provider calls our request malformed
//   401, 403                   kUnavailable: the key is refused (names api_key_env)
//   404                        kUnavailable: unknown model or endpoint (a configuration problem)
//   429, 5xx, 529              kUnavailable: rate limited, failing or overloaded
// Every message names the service, quotes the provider's own error message shortened, and never
// contains the API key (it is redacted should a provider echo it).
//
// Thread-safety: Complete() may be called concurrently; providers hold only immutable settings,
// and the transport, clock, sleeper and jitter they are given must be thread-safe.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "llm/http_transport.h"
#include "llm/provider.h"
#include "llm/retry.h"

namespace helios::llm {

struct ProviderSettings {
  std::string url;  // the endpoint, complete ("https://api.openai.com/v1/chat/completions")
  std::string model;
  config::Secret api_key;                    // empty when the provider needs none
  std::string api_key_env;                   // where the key comes from, for messages
  std::chrono::milliseconds timeout{30000};  // one HTTP attempt
  RetryPolicy retry;
};

// What a provider needs from outside; the references must outlive it.
struct ProviderDeps {
  HttpTransport& transport;
  const Clock& clock;
  Sleeper sleeper;  // empty: RealSleeper()
  Jitter jitter;    // empty: DefaultJitter()
};

class HttpProvider : public LlmProvider {
 public:
  std::string_view name() const final { return name_; }
  Result<Completion> Complete(const CompletionRequest& request) final;

 protected:
  // `name` is the configuration's spelling ("openai"); `service` is how messages call it
  // ("OpenAI").
  HttpProvider(std::string name, std::string service, ProviderSettings settings, ProviderDeps deps);

  const ProviderSettings& settings() const { return settings_; }
  const std::string& service() const { return service_; }

  // The request body.
  virtual nlohmann::json BuildBody(const CompletionRequest& request) const = 0;
  // Authentication and version headers (Content-Type, Accept and User-Agent are added here).
  virtual std::vector<std::pair<std::string, std::string>> ApiHeaders() const = 0;
  // Reads a 2xx answer. `attempts` is filled in afterwards.
  virtual Result<Completion> ParseAnswer(const nlohmann::json& answer) const = 0;
  // The provider's own message in an error body; "" when it has none.
  virtual std::string ErrorMessage(const nlohmann::json& body) const = 0;

 private:
  Error StatusError(const HttpResponse& response, int attempts) const;

  const std::string name_;
  const std::string service_;
  const ProviderSettings settings_;
  HttpTransport& transport_;
  const Clock& clock_;
  const Sleeper sleeper_;
  const Jitter jitter_;
};

// The message roles as OpenAI, Cohere and Ollama spell them.
std::string_view RoleName(Role role);

}  // namespace helios::llm
