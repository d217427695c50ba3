// The allow-list for generated SQL in the PostgreSQL dialect, checked with PostgreSQL's own
// parser (libpg_query) before a statement is sent to a PostgreSQL server. It is the second
// lock; the first is the server itself (a read-only transaction under a role that can only
// read). MySQL gets its own guard when that data source exists.
//
// Accepted: exactly one SELECT (WITH, set operations, subqueries, window functions and VALUES
// allowed) that
//   - has no INTO clause (SELECT ... INTO creates a table) and no locking clause (FOR UPDATE,
//     FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE) at any depth;
//   - holds no data-modifying statement anywhere (INSERT/UPDATE/DELETE/MERGE in a CTE);
//   - calls only functions on an allow-list of side-effect-free built-ins (aggregates, window
//     functions, math, string, date/time, JSON, array and formatting functions), unqualified or
//     qualified with pg_catalog. Functions that wait, read files, touch large objects, reach
//     other databases, run SQL given as text (query_to_xml), change or read settings
//     (set_config, current_setting), signal backends, advance sequences or take locks are
//     refused by name with the reason; anything else not on the list is refused too;
//   - reads no system catalog: no relation in the schemas pg_catalog, information_schema or
//     pg_toast and no unqualified relation named pg_* (pg_authid, pg_shadow, pg_user, pg_roles,
//     pg_settings, pg_stat_activity, ... resolve to pg_catalog first). A BI question never
//     needs them, and several expose password hashes, settings or other sessions' SQL;
//   - uses no XML constructs (XMLPARSE, XMLTABLE, ...) and no session-identity values
//     (CURRENT_USER, SESSION_USER, CURRENT_ROLE, USER, CURRENT_SCHEMA, CURRENT_CATALOG);
//     CURRENT_DATE, CURRENT_TIME(STAMP), LOCALTIME(STAMP) are fine.
// Operators and type casts are not restricted: the built-in ones have no side effects, and
// user-defined ones belong to the database's owner.
//
// Failures are ErrorCode::kUnsafeSql with a reason for the user: "only one statement is
// allowed", "SELECT ... INTO writes a table", "function pg_sleep is not allowed (it makes the
// server wait)", "the SQL does not parse: syntax error at or near ...".
// Thread-safety: a pure function, safe from any thread.
#pragma once

#include <string_view>

#include "common/error.h"

namespace helios::security {

Result<void> CheckPostgresSelect(std::string_view sql);

}  // namespace helios::security
