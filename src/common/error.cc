#include "common/error.h"

namespace helios {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorCode::kNotUnderstood:
      return "not_understood";
    case ErrorCode::kUnsafeSql:
      return "unsafe_sql";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::kDatabaseError:
      return "database_error";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

bool IsRetryable(ErrorCode code) {
  return code == ErrorCode::kRateLimited || code == ErrorCode::kUnavailable ||
         code == ErrorCode::kDeadlineExceeded;
}

}  // namespace helios
