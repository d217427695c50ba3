// Request checks, retries and status mapping shared by the HTTP providers (see http_provider.h).
#include "llm/http_provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "llm/wire.h"

namespace helios::llm {
namespace {

// A caller's mistake in building the conversation: a bug, so kInternal.
Result<void> CheckRequest(const CompletionRequest& request) {
  if (request.messages.empty()) return Fail(ErrorCode::kInternal, "the prompt has no messages");
  for (size_t i = 0; i < request.messages.size(); ++i) {
    if (request.messages[i].role == Role::kSystem && i != 0) {
      return Fail(ErrorCode::kInternal, "a system message may only come first in the prompt");
    }
  }
  if (request.messages.back().role != Role::kUser) {
    return Fail(ErrorCode::kInternal, "the prompt must end with a user message");
  }
  if (request.max_tokens <= 0) {
    return Fail(ErrorCode::kInternal, "max_tokens must be positive");
  }
  if (!std::isfinite(request.temperature) || request.temperature < 0 || request.temperature > 2) {
    return Fail(ErrorCode::kInternal, "temperature must be within 0..2");
  }
  return {};
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSystem:
      return "system";
    case Role::kUser:
      return "user";
    case Role::kAssistant:
      return "assistant";
  }
  return "user";
}

HttpProvider::HttpProvider(std::string name, std::string service, ProviderSettings settings,
                           ProviderDeps deps)
    : name_(std::move(name)),
      service_(std::move(service)),
      settings_(std::move(settings)),
      transport_(deps.transport),
      clock_(deps.clock),
      sleeper_(deps.sleeper ? std::move(deps.sleeper) : RealSleeper()),
      jitter_(deps.jitter ? std::move(deps.jitter) : DefaultJitter()) {}

Result<Completion> HttpProvider::Complete(const CompletionRequest& request) {
  if (auto checked = CheckRequest(request); !checked) return std::unexpected(checked.error());

  auto deadline = request.deadline;
  if (deadline == std::chrono::steady_clock::time_point{}) {
    deadline = clock_.Steady() + settings_.timeout * (std::max(settings_.retry.max_retries, 0) + 1);
  }

  HttpRequest http;
  http.method = "POST";
  http.url = settings_.url;
  http.timeout = settings_.timeout;
  http.headers = {{"Content-Type", "application/json"},
                  {"Accept", "application/json"},
                  {"User-Agent", "heliosdb-conversational-bi"}};
  for (auto& header : ApiHeaders()) http.headers.push_back(std::move(header));
  http.body = wire::Dump(BuildBody(request));

  const RetryContext context{clock_, sleeper_, jitter_, settings_.retry, service_};
  auto sent = SendWithRetries(transport_, std::move(http), deadline, context);
  if (!sent) {
    Error error = std::move(sent.error());
    error.message = wire::Redact(error.message, settings_.api_key.Reveal());
    return std::unexpected(std::move(error));
  }
  const HttpResponse& response = sent->response;
  if (response.status < 200 || response.status > 299) {
    return std::unexpected(StatusError(response, sent->attempts));
  }

  const auto answer = wire::ParseJson(response.body);
  if (!answer || !answer->is_object()) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("{} sent an answer that is not a JSON object (HTTP {})", service_,
                            response.status));
  }
  auto completion = ParseAnswer(*answer);
  if (!completion) {
    Error error = std::move(completion.error());
    error.message = wire::Redact(error.message, settings_.api_key.Reveal());
    return std::unexpected(std::move(error));
  }
  completion->attempts = sent->attempts;
  if (completion->model.empty()) completion->model = settings_.model;
  return completion;
}

Error HttpProvider::StatusError(const HttpResponse& response, int attempts) const {
  std::string said;
  if (const auto body = wire::ParseJson(response.body)) said = ErrorMessage(*body);
  if (said.empty() && response.Header("Content-Type").find("json") == std::string::npos) {
    said = response.body;  // a proxy's plain-text or HTML page
  }
  said = wire::Shorten(wire::Redact(said, settings_.api_key.Reveal()));
  const std::string quoted = said.empty() ? "" : fmt::format(": {}", said);
  const std::string tries =
      attempts > 1 ? fmt::format(" after {} attempts", attempts) : std::string();
  const int status = response.status;

  if (status == 401 || status == 403) {
    const std::string where = settings_.api_key_env.empty()
                                  ? std::string("the configured API key")
                                  : fmt::format("the API key in {}", settings_.api_key_env);
    return Error(ErrorCode::kUnavailable,
                 fmt::format("{} refused {} (HTTP {}){}", service_, where, status, quoted));
  }
  if (status == 404) {
    return Error(ErrorCode::kUnavailable,
                 fmt::format("{} does not know the model \"{}\" or the endpoint {} (HTTP 404){}",
                             service_, settings_.model, wire::UrlHost(settings_.url), quoted));
  }
  if (status == 429) {
    return Error(
        ErrorCode::kUnavailable,
        fmt::format("{} is rate limiting this server (HTTP 429){}{}", service_, tries, quoted));
  }
  if (status >= 500) {
    return Error(ErrorCode::kUnavailable, fmt::format("{} is failing or overloaded (HTTP {}){}{}",
                                                      service_, status, tries, quoted));
  }
  if (status >= 400) {
    return Error(
        ErrorCode::kInternal,
        fmt::format("{} refused the request as malformed (HTTP {}){}", service_, status, quoted));
  }
  return Error(ErrorCode::kUnavailable,
               fmt::format("{} gave an unexpected answer (HTTP {}){}", service_, status, quoted));
}

}  // namespace helios::llm
