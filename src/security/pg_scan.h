// PostgreSQL's own lexer (libpg_query's pg_query_scan) as a token list. The security checks use
// it to read text the way a SQL engine would, instead of guessing with patterns.
//
// pg_query_scan returns its tokens as a protobuf message; this module decodes the few fields it
// needs (start, end, token number, keyword kind) from the wire format itself, so no protobuf
// library is needed.
// Thread-safety: free functions without shared state (libpg_query keeps its memory per thread).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace helios::security {

// Token numbers from libpg_query's pg_query.proto (enum Token) that the checks look at.
// Single-character tokens use their ASCII code (';' is 59).
inline constexpr int kPgIdent = 258;
inline constexpr int kPgUident = 259;
inline constexpr int kPgFconst = 260;
inline constexpr int kPgSconst = 261;
inline constexpr int kPgUsconst = 262;
inline constexpr int kPgBconst = 263;
inline constexpr int kPgXconst = 264;
inline constexpr int kPgOp = 265;
inline constexpr int kPgIconst = 266;
inline constexpr int kPgParam = 267;
inline constexpr int kPgDotDot = 269;
inline constexpr int kPgSqlComment = 275;
inline constexpr int kPgCComment = 276;

struct PgToken {
  size_t begin = 0;  // byte offsets into the scanned text
  size_t end = 0;
  int token = 0;         // pg_query.proto Token number
  int keyword_kind = 0;  // 0: not a keyword; 1..4: unreserved .. reserved
};

// The tokens of `sql` in order, or nullopt when the lexer reports an error (an unterminated
// literal or comment, a number followed by letters such as "3rd", ...). Text after a NUL
// character is never seen by the lexer, so callers must not pass NULs.
std::optional<std::vector<PgToken>> ScanPostgres(std::string_view sql);

}  // namespace helios::security
