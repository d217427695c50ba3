// The demo database (db/demo_data.h) as a SQL script for PostgreSQL or MySQL/MariaDB, so that
// the same rows can be loaded into a real server: `demo-data --sql postgresql | psql URL`.
//
// The script is idempotent: it drops the demo tables (children first), creates them with the
// types a real deployment would use (INTEGER keys with PRIMARY and FOREIGN KEY constraints,
// NUMERIC(12,2) money, NUMERIC(4,2) discounts, DATE, BOOLEAN, VARCHAR(n)) and comments that the
// product shows the language model as descriptions, inserts every row in one transaction
// (multi-row INSERTs), then creates the SQLite demo's indexes and runs ANALYZE.
//
// Values are copied exactly or not at all: a REAL that a NUMERIC column would round, text that
// is too long for its column or not UTF-8, a date that is not a valid ISO date or a table whose
// columns differ from the demo's is an error, never a silently different script.
//
// Text literals are quoted the same way in both dialects, by doubling the single quote only:
// the PostgreSQL script sets standard_conforming_strings on and the MySQL script adds
// NO_BACKSLASH_ESCAPES to its session's sql_mode, so a backslash is an ordinary character.
//
// Thread-safety: a free function without shared state; concurrent calls are safe.
#pragma once

#include <ostream>
#include <string>

#include "common/error.h"
#include "db/data_source.h"

namespace helios::db {

// Writes SQL that creates the demo tables in `dialect` and fills them with the rows of the
// SQLite demo database at `sqlite_path` (opened read-only): same tables, columns, keys and
// values. `dialect` is kPostgres or kMysql (MySQL and MariaDB share one script).
// Errors: kInvalidArgument (kSqlite asked for; the file is not the demo database; a value the
// target types cannot hold exactly), kNotFound (no such file), kDatabaseError (SQLite failed
// while reading), kUnavailable (writing to `out` failed).
Result<void> WriteDemoSql(const std::string& sqlite_path, Dialect dialect, std::ostream& out);

}  // namespace helios::db
