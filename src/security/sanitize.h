// Output sanitising: what leaves the server must not carry comments that could smuggle
// instructions to whoever (or whatever) reads the SQL next, nor secrets, file paths or stack
// traces in error messages.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace helios::security {

// Removes -- line comments and /* */ block comments (nested the PostgreSQL way; an unterminated
// one runs to the end), never touching text inside '...' (with '' and, after E, backslash
// escapes), "...", `...`, [...] or $tag$...$tag$ quoting. A removed comment counts as white
// space: "SELECT/**/1" becomes "SELECT 1"; a line that held only a comment disappears, spaces
// left at the end of a line or around a removed comment are dropped, and the result is trimmed.
// SQL without comments is returned unchanged.
std::string StripSqlComments(std::string_view sql);

// Makes an error message safe to show or log:
//   - stack-trace-like lines ("    at f (x.js:1:2)", "#0 0x... in main", "Traceback ...",
//     "  File \"x.py\", line 3", sanitizer reports) are dropped;
//   - API keys shown whole or in part become "***": a word with a run of three or more "*"
//     right after its visible characters (providers echo a wrong key as "sk-proj-AbCd****WxYz")
//     or a word of at least 20 characters starting "sk-" or "sk_";
//   - URL credentials become "scheme://user:***@" (secret-looking query parameters too);
//   - the values of secret-looking keys (password=, pwd=, secret=, token=, api_key=,
//     "password": "...", Authorization: Bearer ...) become "***";
//   - absolute file paths ("/var/lib/x.db", "~/x", "C:\\data\\x.db", "\\\\server\\share",
//     file:// URLs, quoted paths with spaces) become "<path>";
//   - other control characters become spaces, and the result is cut to max_bytes (at a UTF-8
//     boundary, ending in "...").
std::string SanitizeErrorMessage(std::string_view message, size_t max_bytes = 500);

}  // namespace helios::security
