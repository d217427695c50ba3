// The single mapping from ErrorCode to HTTP status. Every transport that speaks HTTP uses it,
// so an error means the same status everywhere.
// Thread-safety: pure functions.
#pragma once

#include "common/error.h"

namespace helios::server {

// kInvalidArgument 400, kPayloadTooLarge 413, kNotUnderstood 422, kUnsafeSql 422,
// kNotFound 404, kUnauthenticated 401, kPermissionDenied 403, kRateLimited 429,
// kUnavailable 503, kDeadlineExceeded 504, kDatabaseError 502, kInternal 500.
int HttpStatusFor(ErrorCode code);

}  // namespace helios::server
