#include "server/http_status.h"

namespace helios::server {

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kNotUnderstood:
      return 422;
    case ErrorCode::kUnsafeSql:
      return 422;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kDeadlineExceeded:
      return 504;
    case ErrorCode::kDatabaseError:
      return 502;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

}  // namespace helios::server
