// Decoding and validation of the body of POST /api/v1/query. A plain function with no I/O, so
// every rule is unit-tested without a socket; the HTTP handler only reads the body and calls it.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"

namespace helios::server {

struct QueryRequest {
  std::string session_id;  // empty: start a new session
  std::string query;
  std::string database;  // empty: the default data source
};

// Longest accepted session id or database name.
inline constexpr size_t kMaxIdLength = 128;

// True for 1..kMaxIdLength characters of [A-Za-z0-9._:-].
bool IsValidId(std::string_view id);

// Number of Unicode code points in valid UTF-8 text.
size_t CountUtf8Characters(std::string_view text);

// Decodes {"session_id": string?, "query": string, "database": string?}. null or "" for an
// optional field means "not given"; unknown fields are ignored. Failures:
//   kInvalidArgument: not UTF-8, not JSON, not an object, a field of the wrong type, a missing or
//     blank query, a control character in the query other than tab, LF and CR, a malformed id;
//   kPayloadTooLarge: a query longer than max_query_characters (counted in Unicode characters).
// Messages name the offending field.
Result<QueryRequest> ParseQueryRequest(std::string_view body, size_t max_query_characters);

}  // namespace helios::server
