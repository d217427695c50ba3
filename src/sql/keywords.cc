#include "sql/keywords.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>

namespace helios::sql {
namespace {

// PostgreSQL 15: SELECT word FROM pg_get_keywords() WHERE catcode <> 'U' (the appendix "SQL
// Key Words" of its documentation gives the same classes).
// clang-format off
constexpr std::array<std::string_view, 151> kPostgres = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
    "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character",
    "check", "coalesce", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable", "desc",
    "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float",
    "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having",
    "ilike", "in", "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into",
    "is", "isnull", "join", "lateral", "leading", "least", "left", "like", "limit", "localtime",
    "localtimestamp", "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null",
    "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps",
    "overlay", "placing", "position", "precision", "primary", "real", "references", "returning",
    "right", "row", "select", "session_user", "setof", "similar", "smallint", "some", "substring",
    "symmetric", "table", "tablesample", "then", "time", "timestamp", "to", "trailing", "treat",
    "trim", "true", "union", "unique", "user", "using", "values", "varchar", "variadic", "verbose",
    "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement", "xmlexists",
    "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable"};
// clang-format on

// MySQL 8.0 (INFORMATION_SCHEMA.KEYWORDS WHERE RESERVED = 1, and _FILENAME, which its manual
// lists as reserved too), MariaDB 10.11 (the manual's "Reserved Words"), and the words MariaDB
// 10.11 refuses as a bare column name though its manual does not list them: delete_domain_id,
// master_demote_to_replica, master_demote_to_slave, offset, portion and row_number anywhere;
// sql_buffer_result, sql_cache and sql_no_cache as the first item after SELECT, where they are
// select options.
// clang-format off
constexpr std::array<std::string_view, 286> kMysqlReserved = {
    "_filename", "accessible", "add", "all", "alter", "analyze", "and", "as", "asc", "asensitive",
    "before", "between", "bigint", "binary", "blob", "both", "by", "call", "cascade", "case",
    "change", "char", "character", "check", "collate", "column", "condition", "constraint",
    "continue", "convert", "create", "cross", "cube", "cume_dist", "current_date", "current_role",
    "current_time", "current_timestamp", "current_user", "cursor", "database", "databases",
    "day_hour", "day_microsecond", "day_minute", "day_second", "dec", "decimal", "declare",
    "default", "delayed", "delete", "delete_domain_id", "dense_rank", "desc", "describe",
    "deterministic", "distinct", "distinctrow", "div", "do_domain_ids", "double", "drop", "dual",
    "each", "else", "elseif", "empty", "enclosed", "escaped", "except", "exists", "exit", "explain",
    "false", "fetch", "first_value", "float", "float4", "float8", "for", "force", "foreign", "from",
    "fulltext", "function", "general", "generated", "get", "grant", "group", "grouping", "groups",
    "having", "high_priority", "hour_microsecond", "hour_minute", "hour_second", "if", "ignore",
    "ignore_domain_ids", "ignore_server_ids", "in", "index", "infile", "inner", "inout",
    "insensitive", "insert", "int", "int1", "int2", "int3", "int4", "int8", "integer", "intersect",
    "interval", "into", "io_after_gtids", "io_before_gtids", "is", "iterate", "join", "json_table",
    "key", "keys", "kill", "lag", "last_value", "lateral", "lead", "leading", "leave", "left",
    "like", "limit", "linear", "lines", "load", "localtime", "localtimestamp", "lock", "long",
    "longblob", "longtext", "loop", "low_priority", "master_bind", "master_demote_to_replica",
    "master_demote_to_slave", "master_heartbeat_period", "master_ssl_verify_server_cert", "match",
    "maxvalue", "mediumblob", "mediumint", "mediumtext", "middleint", "minute_microsecond",
    "minute_second", "mod", "modifies", "natural", "no_write_to_binlog", "not", "nth_value",
    "ntile", "null", "numeric", "of", "offset", "on", "optimize", "optimizer_costs", "option",
    "optionally", "or", "order", "out", "outer", "outfile", "over", "page_checksum",
    "parse_vcol_expr", "partition", "percent_rank", "portion", "position", "precision", "primary",
    "procedure", "purge", "range", "rank", "read", "read_write", "reads", "real", "recursive",
    "ref_system_id", "references", "regexp", "release", "rename", "repeat", "replace", "require",
    "resignal", "restrict", "return", "returning", "revoke", "right", "rlike", "row", "row_number",
    "rows", "schema", "schemas", "second_microsecond", "select", "sensitive", "separator", "set",
    "show", "signal", "slow", "smallint", "spatial", "specific", "sql", "sql_big_result",
    "sql_buffer_result", "sql_cache", "sql_calc_found_rows", "sql_no_cache", "sql_small_result",
    "sqlexception", "sqlstate", "sqlwarning", "ssl", "starting", "stats_auto_recalc",
    "stats_persistent", "stats_sample_pages", "stored", "straight_join", "system", "table",
    "terminated", "then", "tinyblob", "tinyint", "tinytext", "to", "trailing", "trigger", "true",
    "undo", "union", "unique", "unlock", "unsigned", "update", "usage", "use", "using", "utc_date",
    "utc_time", "utc_timestamp", "values", "varbinary", "varchar", "varcharacter", "varying",
    "virtual", "when", "where", "while", "window", "with", "write", "xor", "year_month",
    "zerofill"};
// clang-format on

// Not reserved, but mysql_guard.cc refuses them bare (they read the session's identity).
constexpr std::array<std::string_view, 2> kMysqlGuarded = {"session_user", "system_user"};

// SHOW CHARACTER SET of MySQL 8.0 and MariaDB 10.11, the alias utf8, and filename (the
// internal character set that makes _filename reserved).
constexpr std::array<std::string_view, 43> kMysqlCharsets = {
    "armscii8", "ascii",   "big5",   "binary",  "cp1250", "cp1251",  "cp1256",  "cp1257",
    "cp850",    "cp852",   "cp866",  "cp932",   "dec8",   "eucjpms", "euckr",   "filename",
    "gb18030",  "gb2312",  "gbk",    "geostd8", "greek",  "hebrew",  "hp8",     "keybcs2",
    "koi8r",    "koi8u",   "latin1", "latin2",  "latin5", "latin7",  "macce",   "macroman",
    "sjis",     "swe7",    "tis620", "ucs2",    "ujis",   "utf16",   "utf16le", "utf32",
    "utf8",     "utf8mb3", "utf8mb4"};

static_assert(std::ranges::is_sorted(kPostgres));
static_assert(std::ranges::is_sorted(kMysqlReserved));
static_assert(std::ranges::is_sorted(kMysqlGuarded));
static_assert(std::ranges::is_sorted(kMysqlCharsets));

template <size_t N>
bool Contains(const std::array<std::string_view, N>& sorted, std::string_view word) {
  return std::ranges::binary_search(sorted, word);
}

}  // namespace

bool IsKeywordNeedingQuotes(std::string_view word, db::Dialect dialect) {
  switch (dialect) {
    case db::Dialect::kSqlite:
      // A hash lookup in SQLite's own keyword table; no connection needed.
      return sqlite3_keyword_check(word.data(), static_cast<int>(word.size())) != 0;
    case db::Dialect::kPostgres:
      return Contains(kPostgres, word);
    case db::Dialect::kMysql:
      if (word.starts_with('_') && Contains(kMysqlCharsets, word.substr(1))) return true;
      return Contains(kMysqlReserved, word) || Contains(kMysqlGuarded, word);
  }
  return true;
}

std::span<const std::string_view> PostgresKeywordsNeedingQuotes() { return kPostgres; }
std::span<const std::string_view> MysqlReservedWords() { return kMysqlReserved; }
std::span<const std::string_view> MysqlGuardedWords() { return kMysqlGuarded; }
std::span<const std::string_view> MysqlCharsetNames() { return kMysqlCharsets; }

}  // namespace helios::sql
