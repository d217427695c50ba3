// The words each dialect will not take as a bare table or column name, for QuoteIdentifier
// (sql/render.h), which quotes an identifier only when it must so that the SQL shown to people
// stays readable.
//
//   SQLite      SQLite's own keyword list, asked at run time (sqlite3_keyword_check), so it is
//               always the list of the library the data source runs on.
//   PostgreSQL  the keywords PostgreSQL 15 classes as reserved, reserved "(can be function or
//               type)" and non-reserved "(cannot be function or type)": pg_get_keywords()
//               catcodes R, T and C. Those of class C do parse as bare column names, but not
//               as function or type names, so they are quoted too.
//   MySQL       the reserved words of MySQL 8.0 and of MariaDB 10.11 (the union of both
//               documented lists, plus the words MariaDB 10.11's parser refuses though its list
//               omits them), and the two words our MySQL allow-list (security/mysql_guard.h)
//               refuses when bare. `_name` is also quoted when name is a character set:
//               `_utf8mb4 'x'` is a string with a character set introducer.
//
// tests/security/keyword_lists_test.cc checks the static lists against libpg_query's keyword
// kinds, the MySQL allow-list, and real PostgreSQL and MariaDB servers.
// Thread-safety: pure functions over constant tables.
#pragma once

#include <span>
#include <string_view>

#include "db/data_source.h"

namespace helios::sql {

// True when `word` is a keyword that `dialect` needs quoted to read it as an identifier.
// `word` must already be lower case: mixed-case names are quoted anyway to keep them exact.
bool IsKeywordNeedingQuotes(std::string_view word, db::Dialect dialect);

// The static lists behind IsKeywordNeedingQuotes, sorted byte-wise and lower case.
std::span<const std::string_view> PostgresKeywordsNeedingQuotes();
// MySQL 8.0's and MariaDB 10.11's reserved words.
std::span<const std::string_view> MysqlReservedWords();
// Words that are not reserved but that the MySQL allow-list refuses when bare.
std::span<const std::string_view> MysqlGuardedWords();
// Character set names of MySQL 8.0 and MariaDB 10.11 (and their aliases): `_` + name is an
// introducer.
std::span<const std::string_view> MysqlCharsetNames();

}  // namespace helios::sql
