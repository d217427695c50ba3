// Sending one provider request with retries: every provider calls SendWithRetries, so they all
// retry the same things the same way.
//
// Retried: transport timeouts and connection failures, and the statuses 429, 500, 502, 503, 504
// and 529 (Anthropic's "overloaded"). Everything else is returned as is after one attempt; in
// particular 400, 401, 403, 404 and 422 are never retried (the same request fails the same way).
//
// Waits: exponential backoff with full jitter, uniform in [0, min(max_delay, base_delay * 2^n)]
// before retry n+1 (base 250 ms, cap 8 s). A Retry-After header (delay-seconds or an HTTP date)
// or OpenAI's retry-after-ms header on a retried status replaces the backoff.
//
// The deadline bounds everything: each attempt's HTTP timeout is cut to the time left, and when
// the next wait would reach the deadline the call stops with kDeadlineExceeded instead of
// sleeping. Time is read from the injected Clock and waiting goes through the injected Sleeper,
// so tests advance a FakeClock instead of sleeping.
//
// Thread-safety: SendWithRetries is reentrant; it is as thread-safe as the transport, clock,
// sleeper and jitter given to it. DefaultJitter() and RealSleeper() are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"
#include "llm/http_transport.h"
#include "llm/provider.h"

namespace helios::llm {

struct RetryPolicy {
  int max_retries = 3;  // retries after the first attempt
  std::chrono::milliseconds base_delay{250};
  std::chrono::milliseconds max_delay{8000};
};

// A uniform random number in [0, 1]; the fraction of the backoff ceiling to wait.
using Jitter = std::function<double()>;

// A thread-safe uniform random source (one generator per thread).
Jitter DefaultJitter();

// Sleeps for real (std::this_thread::sleep_for).
Sleeper RealSleeper();

struct RetriedResponse {
  HttpResponse response;  // the last one: a success, a status not worth a retry, or the last try
  int attempts = 0;       // HTTP requests made
};

struct RetryContext {
  const Clock& clock;
  const Sleeper& sleeper;
  const Jitter& jitter;
  RetryPolicy policy;
  // Who is asked, for messages ("OpenAI").
  std::string_view service;
};

// Sends `request` until it succeeds, fails in a way a retry cannot help, or the retries or the
// deadline run out. Any HTTP response is a value (the caller reads its status and body); errors
// are the transport's, after the retries:
//   kDeadlineExceeded  the deadline passed, or would pass during the next wait; or the last
//                      attempt timed out
//   kUnavailable       the service could not be reached on the last attempt
//   others             the transport's error that no retry can help (a malformed URL)
// Messages name the service and the number of attempts; they never contain request headers.
Result<RetriedResponse> SendWithRetries(HttpTransport& transport, HttpRequest request,
                                        std::chrono::steady_clock::time_point deadline,
                                        const RetryContext& context);

// True for the statuses retried: 429, 500, 502, 503, 504, 529.
bool IsRetryableStatus(int status);

// The wait a response asks for: retry-after-ms (milliseconds), else Retry-After as
// delay-seconds or as an HTTP date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") measured from
// `now`. nullopt when absent or unreadable; a date in the past is a zero wait.
std::optional<std::chrono::milliseconds> RetryAfter(const HttpResponse& response,
                                                    std::chrono::system_clock::time_point now);

// The backoff ceiling before retry `retry` (1 for the first retry): min(max, base * 2^(retry-1)).
std::chrono::milliseconds BackoffCeiling(const RetryPolicy& policy, int retry);

}  // namespace helios::llm
