// Expected failures as values. Every module returns Result<T>; the server maps each
// ErrorCode to exactly one HTTP status (server/http_status.cc). Messages are written for
// the person who asked and must never contain secrets, file paths or stack traces.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helios {

enum class ErrorCode {
  kInvalidArgument,   // malformed request or configuration; retry will not help
  kPayloadTooLarge,   // input longer than a configured limit
  kNotUnderstood,     // the question could not be turned into SQL with confidence
  kUnsafeSql,         // SQL refused by the allow-list (writes, several statements, ...)
  kNotFound,          // unknown session, database or resource
  kUnauthenticated,   // missing or bad credentials
  kPermissionDenied,  // authenticated but not allowed
  kRateLimited,       // over quota; retry after a while
  kUnavailable,       // a dependency is down or overloaded; retry may help
  kDeadlineExceeded,  // a time limit was hit
  kDatabaseError,     // the database rejected or failed the statement
  kInternal,          // a bug: never for bad input
};

// Stable lowercase name used in API errors and logs ("not_understood").
std::string_view ErrorCodeName(ErrorCode code);
// True when the same request may succeed if retried later.
bool IsRetryable(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Structured help for the caller, each a name and a list of values (kNotUnderstood:
  // "recognised", "unknown_words", "tables"); shown in the API's error body as "details".
  std::vector<std::pair<std::string, std::vector<std::string>>> details;

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for `return Fail(ErrorCode::kX, "...")` in functions returning Result<T>.
inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}

}  // namespace helios
