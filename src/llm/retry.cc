// Retries with backoff and jitter under a deadline (see retry.h).
#include "llm/retry.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <random>
#include <thread>
#include <utility>

#include "common/text.h"

namespace helios::llm {
namespace {

using std::chrono::milliseconds;

std::string AttemptsText(int attempts) {
  return attempts == 1 ? "1 attempt" : fmt::format("{} attempts", attempts);
}

std::string DescribeWait(milliseconds wait) {
  if (wait < milliseconds(1000)) return fmt::format("{} ms", wait.count());
  return fmt::format("{:.1f} s", static_cast<double>(wait.count()) / 1000.0);
}

std::string DescribeStatus(int status) {
  switch (status) {
    case 429:
      return "HTTP 429 (rate limited)";
    case 529:
      return "HTTP 529 (overloaded)";
    default:
      return fmt::format("HTTP {}", status);
  }
}

// A non-negative decimal number ("3", "1.5"); nullopt otherwise.
std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !(value >= 0) || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<int> ParseDigits(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// IMF-fixdate, the form RFC 9110 requires senders to use: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view s) {
  const auto comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  const auto parts = text::Split(s.substr(comma + 2), ' ');
  if (parts.size() != 5 || parts[4] != "GMT") return std::nullopt;
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto month = std::find(kMonths.begin(), kMonths.end(), parts[1]);
  const auto day = ParseDigits(parts[0]);
  const auto year = ParseDigits(parts[2]);
  const auto clock = text::Split(parts[3], ':');
  if (month == kMonths.end() || !day || !year || clock.size() != 3) return std::nullopt;
  const auto hour = ParseDigits(clock[0]);
  const auto minute = ParseDigits(clock[1]);
  const auto second = ParseDigits(clock[2]);
  if (!hour || !minute || !second || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{
      std::chrono::year{*year},
      std::chrono::month{static_cast<unsigned>(month - kMonths.begin() + 1)},
      std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
         std::chrono::seconds(*second);
}

}  // namespace

Jitter DefaultJitter() {
  return [] {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
  };
}

Sleeper RealSleeper() {
  return [](milliseconds wait) { std::this_thread::sleep_for(wait); };
}

bool IsRetryableStatus(int status) {
  switch (status) {
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
    case 529:
      return true;
    default:
      return false;
  }
}

std::optional<milliseconds> RetryAfter(const HttpResponse& response,
                                       std::chrono::system_clock::time_point now) {
  // A day is far beyond any deadline; the bound keeps the arithmetic from overflowing.
  constexpr double kMaxSeconds = 86400;
  if (const auto ms = ParseNumber(text::Trim(response.Header("retry-after-ms")))) {
    return milliseconds(std::llround(std::min(*ms, kMaxSeconds * 1000)));
  }
  const std::string value = text::Trim(response.Header("Retry-After"));
  if (value.empty()) return std::nullopt;
  if (const auto seconds = ParseNumber(value)) {
    return milliseconds(std::llround(std::min(*seconds, kMaxSeconds) * 1000));
  }
  if (const auto when = ParseHttpDate(value)) {
    if (*when <= now) return milliseconds::zero();
    return std::min(std::chrono::duration_cast<milliseconds>(*when - now),
                    milliseconds(static_cast<int64_t>(kMaxSeconds) * 1000));
  }
  return std::nullopt;
}

milliseconds BackoffCeiling(const RetryPolicy& policy, int retry) {
  milliseconds ceiling = std::max(policy.base_delay, milliseconds::zero());
  for (int i = 1; i < retry && ceiling < policy.max_delay; ++i) ceiling *= 2;
  return std::min(ceiling, policy.max_delay);
}

Result<RetriedResponse> SendWithRetries(HttpTransport& transport, HttpRequest request,
                                        std::chrono::steady_clock::time_point deadline,
                                        const RetryContext& context) {
  const milliseconds per_attempt = request.timeout;
  int attempts = 0;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - context.clock.Steady());
    if (left <= milliseconds::zero()) {
      return Fail(ErrorCode::kDeadlineExceeded,
                  attempts == 0
                      ? fmt::format("no time was left to ask {}", context.service)
                      : fmt::format("{} did not answer before the request's deadline ({})",
                                    context.service, AttemptsText(attempts)));
    }
    // The attempt may not outlive the deadline.
    const bool cut_by_deadline = left < per_attempt;
    request.timeout = cut_by_deadline ? left : per_attempt;
    ++attempts;
    Result<HttpResponse> sent = transport.Send(request);

    std::string what;  // what went wrong, for the message if we stop here
    if (sent.has_value()) {
      if (!IsRetryableStatus(sent->status)) return RetriedResponse{std::move(*sent), attempts};
      what = fmt::format("{} answered {}", context.service, DescribeStatus(sent->status));
    } else {
      const Error& error = sent.error();
      if (error.code == ErrorCode::kDeadlineExceeded && cut_by_deadline) {
        return Fail(ErrorCode::kDeadlineExceeded,
                    fmt::format("{} did not answer before the request's deadline ({})",
                                context.service, AttemptsText(attempts)));
      }
      const bool transient =
          error.code == ErrorCode::kDeadlineExceeded || error.code == ErrorCode::kUnavailable;
      if (!transient) {
        return Fail(error.code, fmt::format("{}: {}", context.service, error.message));
      }
      what = fmt::format("{}: {}", context.service, error.message);
    }

    if (attempts > context.policy.max_retries) {
      if (sent.has_value()) return RetriedResponse{std::move(*sent), attempts};
      return Fail(sent.error().code, fmt::format("{} ({})", what, AttemptsText(attempts)));
    }

    std::optional<milliseconds> asked;
    if (sent.has_value()) asked = RetryAfter(*sent, context.clock.Now());
    milliseconds wait;
    if (asked.has_value()) {
      wait = *asked;
    } else {
      const double fraction = std::clamp(context.jitter ? context.jitter() : 1.0, 0.0, 1.0);
      const milliseconds ceiling = BackoffCeiling(context.policy, attempts);
      wait = milliseconds(std::llround(fraction * static_cast<double>(ceiling.count())));
    }
    if (context.clock.Steady() + wait >= deadline) {
      return Fail(ErrorCode::kDeadlineExceeded,
                  fmt::format("{}; waiting {} to retry would pass the request's deadline ({})",
                              what, DescribeWait(wait), AttemptsText(attempts)));
    }
    if (context.sleeper) context.sleeper(wait);
  }
}

}  // namespace helios::llm
