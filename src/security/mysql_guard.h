// The allow-list for generated SQL in the MySQL/MariaDB dialect, checked before a statement is
// sent to a MySQL or MariaDB server.
//
// There is no embeddable MySQL parser among Debian's packages, so this guard is lexical: a
// lexer for MySQL's token grammar (quoted strings with backslash escapes and doubled quotes,
// backtick identifiers, numbers, `-- `, `#` and `/* */` comments, variables, operators), then
// rules over the tokens. It is the first of three locks, and the weakest: the data source
// (db/mysql/) also runs every statement inside START TRANSACTION READ ONLY on a session set to
// READ ONLY, without multi-statement support, and deployments connect as a role that has only
// SELECT (docs/security.md). A lexer cannot know everything the server's grammar knows, so the
// rules below lean towards refusing.
//
// The lexer reads text the way the server does only when the session's sql_mode has neither
// ANSI_QUOTES ("..." would be an identifier) nor NO_BACKSLASH_ESCAPES ('\' would not escape),
// and the connection's character set is UTF-8 (in GBK, Big5 or SJIS a backslash byte can end
// a multi-byte character). MysqlDataSource guarantees all three on its connections.
//
// Accepted: exactly one statement beginning with SELECT or WITH (or opening parentheses that
// lead to one), optionally followed by semicolons, comments and whitespace, that has
//   - no executable comment (/*! ... */, /*M! ... */: the server runs their content), no
//     optimizer hint (/*+ ... */: MySQL's SET_VAR changes settings) and no comment nested in a
//     comment (servers disagree on where it ends);
//   - no INTO (SELECT ... INTO OUTFILE/DUMPFILE writes a file on the server, INTO @v a
//     variable), no locking clause (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE), no PROCEDURE
//     clause, no NEXT/PREVIOUS VALUE FOR (sequences);
//   - no user or system variable (@v, @@v) and no assignment (:=);
//   - none of the reserved words that begin other statements (INSERT, UPDATE, DELETE, REPLACE,
//     CREATE, DROP, ALTER, RENAME, GRANT, REVOKE, SET, CALL, LOAD, LOCK, UNLOCK, KILL, SHOW,
//     EXPLAIN, DESCRIBE, USE, ANALYZE, OPTIMIZE, PURGE, ...) anywhere, except where MySQL's
//     grammar gives them another meaning (the functions INSERT() and REPLACE(), CHARACTER SET,
//     USE INDEX). Non-reserved statement words (TRUNCATE, HANDLER, DO, PREPARE, EXECUTE, ...)
//     are refused where a statement can begin: MySQL has no statement nested in a query;
//   - calls only functions on an allow-list of side-effect-free built-ins (aggregates, window
//     functions, math, string, date/time including DATE_FORMAT, QUARTER and TIMESTAMPDIFF,
//     JSON, CAST/CONVERT, IF/IFNULL/COALESCE/NULLIF, ...). A call is a name followed by '(',
//     with or without space between. Functions that wait (SLEEP, BENCHMARK, MASTER_POS_WAIT),
//     take locks (GET_LOCK, RELEASE_LOCK, IS_FREE_LOCK), read files (LOAD_FILE), run programs
//     (SYS_EXEC and other sys_ UDFs), reveal the session or server (USER(), CURRENT_USER,
//     DATABASE(), VERSION(), CONNECTION_ID()), read session state (LAST_INSERT_ID) or touch
//     sequences are refused by name with the reason; qualified (db.f()) and quoted (`f`())
//     calls name stored functions and are refused, as is anything else not on the list;
//   - reads nothing in the system schemas mysql, information_schema, performance_schema and
//     sys (a name followed by '.').
// Operators are not restricted: the built-in ones have no side effects.
//
// Failures are ErrorCode::kUnsafeSql with a reason for the user: "only one statement is
// allowed", "SELECT ... INTO writes a file or variable", "function sleep is not allowed (it
// makes the server wait)", "the SQL does not parse: a quoted string is not closed".
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <string_view>

#include "common/error.h"

namespace helios::security {

Result<void> CheckMysqlSelect(std::string_view sql);

// As CheckMysqlSelect, and returns the statement alone: `sql` up to the end of its last token,
// without the semicolons, comments and whitespace that may follow (a prepared statement must
// not end in ';', and the data source wraps the statement in SET STATEMENT ... FOR).
Result<std::string_view> CheckMysqlSelectStatement(std::string_view sql);

}  // namespace helios::security
