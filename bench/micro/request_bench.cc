// What the HTTP handler does around the pipeline for each request: decoding the request body,
// verifying the bearer token (HS256), taking a token from the tenant's rate-limit bucket in
// memory, and writing the JSON (or text) request log line. See README.md.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

#include "auth/token.h"
#include "auth/user_store.h"
#include "bench_env.h"
#include "common/clock.h"
#include "observability/logger.h"
#include "ratelimit/rate_limiter.h"
#include "server/query_request.h"

namespace helios::bench {
namespace {

constexpr std::string_view kSecret = "bench-secret-0123456789abcdef-0123456789abcdef";

// A token service and a token it issued for a user with two roles.
struct Tokens {
  FakeClock clock;
  std::optional<auth::TokenService> service;
  std::string token;
  std::string error;
};

Tokens& SharedTokens() {
  static Tokens* tokens = [] {
    auto* t = new Tokens();
    auto service = auth::TokenService::Create(std::string(kSecret), "heliosdb",
                                              std::chrono::hours(1), t->clock);
    if (!service) {
      t->error = service.error().message;
      return t;
    }
    t->service.emplace(std::move(*service));
    auth::User user{"alice", "acme", {"analyst", "viewer"}, ""};
    auto issued = t->service->Issue(user);
    if (!issued) {
      t->error = issued.error().message;
      return t;
    }
    t->token = issued->token;
    return t;
  }();
  return *tokens;
}

void TokenVerify(benchmark::State& state, bool valid) {
  Tokens& tokens = SharedTokens();
  if (!tokens.error.empty()) {
    state.SkipWithError(tokens.error.c_str());
    return;
  }
  std::string token = tokens.token;
  // A signature that does not match: one character changed inside it (not the last, whose low
  // bits may be padding).
  if (!valid) {
    char& c = token[token.size() - 10];
    c = c == 'A' ? 'B' : 'A';
  }
  if (tokens.service->Verify(token).has_value() != valid) {
    state.SkipWithError(valid ? "the token was refused" : "the forged token was accepted");
    return;
  }
  for (auto _ : state) {
    auto principal = tokens.service->Verify(token);
    benchmark::DoNotOptimize(principal);
  }
  state.SetLabel(fmt::format("{} bytes", token.size()));
}

void TokenIssue(benchmark::State& state) {
  Tokens& tokens = SharedTokens();
  if (!tokens.error.empty()) {
    state.SkipWithError(tokens.error.c_str());
    return;
  }
  const auth::User user{"alice", "acme", {"analyst", "viewer"}, ""};
  for (auto _ : state) {
    auto issued = tokens.service->Issue(user);
    benchmark::DoNotOptimize(issued);
  }
}

// MemoryRateLimiter::Acquire on one tenant's bucket (every request of a busy tenant), or
// cycling over `keys` buckets (many tenants; the map holds them all).
void RateLimitAcquire(benchmark::State& state) {
  const auto keys = static_cast<size_t>(state.range(0));
  FakeClock clock;
  ratelimit::MemoryRateLimiter limiter(clock);
  // Large enough never to refuse, so every call takes the admitting path.
  const ratelimit::BucketPolicy policy{1e12, 1e6, 0};
  std::vector<std::string> names;
  for (size_t i = 0; i < keys; ++i) names.push_back(fmt::format("tenant:tenant-{}", i));
  for (const auto& n : names) (void)limiter.Acquire(n, policy);
  size_t i = 0;
  for (auto _ : state) {
    auto decision = limiter.Acquire(names[i++ % keys], policy);
    benchmark::DoNotOptimize(decision);
  }
}

observability::RequestLog TypicalRequest() {
  observability::RequestLog log;
  log.request_id = "0f8e2b1c-4d5a-4b6c-9e7f-112233445566";
  log.method = "POST";
  log.path = "/api/v1/query";
  log.tenant_id = "acme";
  log.session_id = "5b0c3a34-1f3e-4d0e-9b7a-2f1d6c8e9a10";
  log.query = "How many customers are in Germany?";
  log.source = "engine";
  log.status = 200;
  log.latency_ms = 0.734;
  log.sql_generated = true;
  log.row_count = 1;
  return log;
}

// LogRequest into a stream that discards the bytes: formatting, the lock and the stream write.
void LogRequestLine(benchmark::State& state, observability::LogFormat format) {
  FakeClock clock;
  NullStream sink;
  observability::Logger logger(sink, observability::LogLevel::kInfo, format, clock);
  const observability::RequestLog request = TypicalRequest();
  for (auto _ : state) {
    observability::LogRequest(logger, request);
  }
}

// A request line below the logger's level: what a disabled level costs.
void LogRequestFiltered(benchmark::State& state) {
  FakeClock clock;
  NullStream sink;
  observability::Logger logger(sink, observability::LogLevel::kWarn,
                               observability::LogFormat::kJson, clock);
  const observability::RequestLog request = TypicalRequest();
  for (auto _ : state) {
    observability::LogRequest(logger, request);
  }
}

void ParseQueryBody(benchmark::State& state) {
  const std::string body = R"({"query": "How many customers are in Germany?", )"
                           R"("session_id": "5b0c3a34-1f3e-4d0e-9b7a-2f1d6c8e9a10"})";
  for (auto _ : state) {
    auto request = server::ParseQueryRequest(body, 2000);
    benchmark::DoNotOptimize(request);
  }
}

}  // namespace

void RegisterRequestBenchmarks() {
  benchmark::RegisterBenchmark("Request/ParseQueryRequest", ParseQueryBody)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Request/TokenVerify/valid", [](benchmark::State& s) {
    TokenVerify(s, true);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Request/TokenVerify/bad_signature", [](benchmark::State& s) {
    TokenVerify(s, false);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Request/TokenIssue", TokenIssue)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Request/RateLimitAcquire/keys", RateLimitAcquire)
      ->Arg(1)
      ->Arg(10000)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Request/LogRequest/json", [](benchmark::State& s) {
    LogRequestLine(s, observability::LogFormat::kJson);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Request/LogRequest/text", [](benchmark::State& s) {
    LogRequestLine(s, observability::LogFormat::kText);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Request/LogRequest/filtered_out", LogRequestFiltered)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace helios::bench
