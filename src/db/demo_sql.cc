#include "db/demo_sql.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cassert>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/text.h"

namespace helios::db {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// The demo's tables as a real deployment would declare them. The names and column order are
// those of db/demo_data.cc; ReadSchema checks the SQLite file against this list, so a change
// to the generator that is not made here too fails loudly instead of being dropped.

enum class Kind {
  kInteger,   // INTEGER
  kMoney,     // NUMERIC(12,2): amounts in US dollars, exact to the cent
  kDiscount,  // NUMERIC(4,2): a fraction such as 0.15
  kDate,      // DATE, ISO-8601 text in SQLite
  kBoolean,   // BOOLEAN, 0/1 in SQLite
  kText,      // VARCHAR(max_chars)
};

struct ColumnSpec {
  const char* name;
  Kind kind;
  int max_chars = 0;  // kText: the VARCHAR length, in characters
  bool primary_key = false;
  bool nullable = false;
  const char* references = nullptr;  // the table whose primary key this column refers to
  const char* default_sql = nullptr;
  const char* comment = nullptr;
};

struct TableSpec {
  const char* name;
  const char* comment;
  std::vector<ColumnSpec> columns;
};

// The comments are what the language model reads about the data, so they state facts the
// generator guarantees (value sets, ranges, units, when a column is NULL).
const std::vector<TableSpec>& DemoTables() {
  static const std::vector<TableSpec> kTables = {
      {"regions",
       "Sales regions; every employee works in one and every country belongs to one",
       {
           {.name = "region_id", .kind = Kind::kInteger, .primary_key = true},
           {.name = "name",
            .kind = Kind::kText,
            .max_chars = 50,
            .comment = "region name, e.g. North America, Europe, Asia Pacific"},
       }},
      {"employees",
       "Sales staff: in each region one sales manager, account managers, senior sales "
       "representatives and sales representatives",
       {
           {.name = "employee_id", .kind = Kind::kInteger, .primary_key = true},
           {.name = "first_name", .kind = Kind::kText, .max_chars = 50},
           {.name = "last_name", .kind = Kind::kText, .max_chars = 50},
           {.name = "email", .kind = Kind::kText, .max_chars = 100},
           {.name = "title",
            .kind = Kind::kText,
            .max_chars = 50,
            .comment = "job title: one of Sales Manager, Account Manager, Senior Sales "
                       "Representative, Sales Representative"},
           {.name = "region_id",
            .kind = Kind::kInteger,
            .references = "regions",
            .comment = "the region the employee works in"},
           {.name = "hire_date", .kind = Kind::kDate, .comment = "first day of employment"},
           {.name = "salary", .kind = Kind::kMoney, .comment = "yearly base salary in US dollars"},
       }},
      {"customers",
       "Customer accounts with their location, market segment, sign-up date and sales "
       "representative",
       {
           {.name = "customer_id", .kind = Kind::kInteger, .primary_key = true},
           {.name = "name",
            .kind = Kind::kText,
            .max_chars = 100,
            .comment = "the customer's full name"},
           {.name = "email", .kind = Kind::kText, .max_chars = 100},
           {.name = "city", .kind = Kind::kText, .max_chars = 50},
           {.name = "country", .kind = Kind::kText, .max_chars = 50},
           {.name = "segment",
            .kind = Kind::kText,
            .max_chars = 20,
            .comment = "market segment: one of Consumer, Corporate, Small Business"},
           {.name = "signup_date",
            .kind = Kind::kDate,
            .comment = "the day the customer opened the account"},
           {.name = "employee_id",
            .kind = Kind::kInteger,
            .nullable = true,
            .references = "employees",
            .comment = "the account's sales representative; NULL for the few web sign-ups "
                       "that have none"},
       }},
      {"categories",
       "Product categories",
       {
           {.name = "category_id", .kind = Kind::kInteger, .primary_key = true},
           {.name = "name", .kind = Kind::kText, .max_chars = 50},
           {.name = "description", .kind = Kind::kText, .max_chars = 255, .nullable = true},
       }},
      {"products",
       "Products for sale, each in one category",
       {
           {.name = "product_id", .kind = Kind::kInteger, .primary_key = true},
           {.name = "name", .kind = Kind::kText, .max_chars = 100},
           {.name = "category_id", .kind = Kind::kInteger, .references = "categories"},
           {.name = "unit_price",
            .kind = Kind::kMoney,
            .comment = "list price of one unit in US dollars"},
           {.name = "cost",
            .kind = Kind::kMoney,
            .comment = "what one unit costs the business, in US dollars"},
           {.name = "stock_quantity", .kind = Kind::kInteger, .comment = "units in stock"},
           {.name = "discontinued",
            .kind = Kind::kBoolean,
            .default_sql = "FALSE",
            .comment = "true when the product is no longer sold (no orders from 2025-07-01, "
                       "no stock)"},
       }},
      {"orders",
       "Customer orders from 2023-01-01 to 2025-12-31, one row per order",
       {
           {.name = "order_id", .kind = Kind::kInteger, .primary_key = true},
           {.name = "customer_id", .kind = Kind::kInteger, .references = "customers"},
           {.name = "employee_id",
            .kind = Kind::kInteger,
            .references = "employees",
            .comment = "the employee credited with the sale"},
           {.name = "order_date", .kind = Kind::kDate},
           {.name = "ship_date",
            .kind = Kind::kDate,
            .nullable = true,
            .comment = "NULL while the order is processing and when it was cancelled"},
           {.name = "status",
            .kind = Kind::kText,
            .max_chars = 20,
            .comment = "one of processing, shipped, delivered, cancelled, returned"},
           {.name = "total_amount",
            .kind = Kind::kMoney,
            .comment = "order total after discounts, in US dollars: the sum over its items of "
                       "quantity * unit_price * (1 - discount), rounded to the cent"},
       }},
      {"order_items",
       "Order lines: one product of an order with its quantity, price and discount",
       {
           {.name = "order_item_id", .kind = Kind::kInteger, .primary_key = true},
           {.name = "order_id", .kind = Kind::kInteger, .references = "orders"},
           {.name = "product_id", .kind = Kind::kInteger, .references = "products"},
           {.name = "quantity", .kind = Kind::kInteger, .comment = "units ordered"},
           {.name = "unit_price",
            .kind = Kind::kMoney,
            .comment = "price of one unit in US dollars when the order was placed"},
           {.name = "discount",
            .kind = Kind::kDiscount,
            .default_sql = "0",
            .comment = "fraction taken off the line's price, from 0 to 0.2 (0.15 is 15% off)"},
       }},
  };
  return kTables;
}

// Rows per INSERT statement: large enough that parsing and round trips do not dominate the
// load, small enough to stay far below MySQL's max_allowed_packet.
constexpr size_t kRowsPerInsert = 1000;

// ---------------------------------------------------------------------------------------------
// SQLite plumbing.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

std::unexpected<Error> SqliteFailure(sqlite3* db, std::string_view what) {
  return Fail(ErrorCode::kDatabaseError,
              fmt::format("reading the demo database failed ({}): {}", what, sqlite3_errmsg(db)));
}

Result<StmtPtr> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    return SqliteFailure(db, "prepare");
  return StmtPtr(stmt);
}

std::string_view ColumnText(sqlite3_stmt* stmt, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  if (p == nullptr) return {};
  return {p, static_cast<size_t>(sqlite3_column_bytes(stmt, i))};
}

// Runs a query, with `param` bound to ?1 when it has one, and returns every row as text.
Result<std::vector<std::vector<std::string>>> TextRows(sqlite3* db, const std::string& sql,
                                                       std::string_view param = {}) {
  auto stmt = Prepare(db, sql);
  if (!stmt) return std::unexpected(stmt.error());
  if (sqlite3_bind_parameter_count(stmt->get()) > 0)
    sqlite3_bind_text(stmt->get(), 1, param.data(), static_cast<int>(param.size()),
                      SQLITE_TRANSIENT);
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt->get()); ++i)
      row.emplace_back(ColumnText(stmt->get(), i));
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return SqliteFailure(db, "query");
  return rows;
}

std::unexpected<Error> NotTheDemo(std::string_view detail) {
  return Fail(
      ErrorCode::kInvalidArgument,
      fmt::format("the SQLite file is not the demo database (demo-data writes one): {}", detail));
}

std::string JoinNames(const std::vector<std::string>& names) { return text::Join(names, ", "); }

// Checks that the file holds exactly the demo's tables, with the demo's columns in order, its
// primary keys and its foreign keys.
Result<void> CheckSchema(sqlite3* db) {
  const auto& tables = DemoTables();
  std::set<std::string> known;
  for (const auto& t : tables) known.insert(t.name);
  auto names = TextRows(db,
                        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  if (!names) return std::unexpected(names.error());
  std::set<std::string> present;
  for (const auto& row : *names) {
    if (!known.contains(row[0])) return NotTheDemo(fmt::format("unexpected table '{}'", row[0]));
    present.insert(row[0]);
  }
  for (const auto& t : tables) {
    if (!present.contains(t.name)) return NotTheDemo(fmt::format("no table '{}'", t.name));
    auto info = TextRows(db, "SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid", t.name);
    if (!info) return std::unexpected(info.error());
    std::vector<std::string> actual, expected;
    for (const auto& row : *info) actual.push_back(row[0]);
    for (const auto& c : t.columns) expected.push_back(c.name);
    if (actual != expected)
      return NotTheDemo(fmt::format("table '{}' has the columns ({}) instead of ({})", t.name,
                                    JoinNames(actual), JoinNames(expected)));
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (((*info)[i][1] != "0") != t.columns[i].primary_key)
        return NotTheDemo(fmt::format("the primary key of table '{}' is not the demo's", t.name));
    }
    auto fks = TextRows(db, "SELECT \"from\", \"table\" FROM pragma_foreign_key_list(?1)", t.name);
    if (!fks) return std::unexpected(fks.error());
    std::set<std::pair<std::string, std::string>> actual_fks, expected_fks;
    for (const auto& row : *fks) actual_fks.emplace(row[0], row[1]);
    for (const auto& c : t.columns)
      if (c.references) expected_fks.emplace(c.name, c.references);
    if (actual_fks != expected_fks)
      return NotTheDemo(fmt::format("the foreign keys of table '{}' are not the demo's", t.name));
  }
  return {};
}

// Lowercase letters, digits and underscores, not starting with a digit: safe unquoted in both
// dialects.
bool IsPlainIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 64 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

struct IndexSpec {
  std::string name;
  std::string table;
  bool unique = false;
  std::vector<std::string> columns = {};  // with " DESC" where descending
};

// The indexes created with CREATE INDEX in the SQLite file, in creation order. Primary keys and
// UNIQUE constraints are not among them: the CREATE TABLE statements declare those.
Result<std::vector<IndexSpec>> ReadIndexes(sqlite3* db) {
  auto rows = TextRows(db,
                       "SELECT m.name, m.tbl_name, l.\"unique\", l.partial FROM sqlite_schema m "
                       "JOIN pragma_index_list(m.tbl_name) l ON l.name = m.name "
                       "WHERE m.type = 'index' AND l.origin = 'c' ORDER BY m.rowid");
  if (!rows) return std::unexpected(rows.error());
  std::vector<IndexSpec> out;
  for (const auto& row : *rows) {
    IndexSpec index{.name = row[0], .table = row[1], .unique = row[2] != "0"};
    // The name goes into the script unquoted, so it must be a plain identifier.
    if (!IsPlainIdentifier(index.name)) return NotTheDemo("an index has an unusual name");
    if (row[3] != "0")
      return NotTheDemo(fmt::format("index '{}' is partial, which the script cannot copy", row[0]));
    // Key columns only (key = 1), in index order; an expression has no name (cid -2). The
    // columns are the table's, which CheckSchema compared with the demo's.
    auto cols = TextRows(db,
                         "SELECT cid, name, \"desc\" FROM pragma_index_xinfo(?1) WHERE key = 1 "
                         "ORDER BY seqno",
                         index.name);
    if (!cols) return std::unexpected(cols.error());
    for (const auto& col : *cols) {
      if (col[0] == "-2")
        return NotTheDemo(
            fmt::format("index '{}' is on an expression, which the script cannot copy", row[0]));
      index.columns.push_back(col[2] == "0" ? col[1] : col[1] + " DESC");
    }
    out.push_back(std::move(index));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values.

// Appends `s` as a string literal. Both scripts make the backslash an ordinary character
// (standard_conforming_strings, NO_BACKSLASH_ESCAPES), so doubling the quote is the whole rule.
void AppendQuoted(fmt::memory_buffer& buf, std::string_view s) {
  buf.push_back('\'');
  for (char c : s) {
    if (c == '\'') buf.push_back('\'');
    buf.push_back(c);
  }
  buf.push_back('\'');
}

std::string Quoted(std::string_view s) {
  fmt::memory_buffer buf;
  AppendQuoted(buf, s);
  return fmt::to_string(buf);
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// The shortest text that reads back as `v` (fmt's "{}"), when it is a plain decimal with at most
// `scale` digits after the point and `precision - scale` before it: then NUMERIC(precision,
// scale) holds exactly the value SQLite holds. nullopt when the column would round it, overflow,
// or it is not finite.
std::optional<std::string> ExactDecimal(double v, int precision, int scale) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_not_of("-0123456789.") != std::string::npos) return std::nullopt;
  const size_t digits_from = s[0] == '-' ? 1 : 0;
  const size_t point = s.find('.');
  const size_t int_digits = (point == std::string::npos ? s.size() : point) - digits_from;
  const size_t frac_digits = point == std::string::npos ? 0 : s.size() - point - 1;
  const bool zero_int = int_digits == 1 && s[digits_from] == '0';
  if (frac_digits > static_cast<size_t>(scale)) return std::nullopt;
  if (!zero_int && int_digits > static_cast<size_t>(precision - scale)) return std::nullopt;
  return s;
}

bool IsIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  auto number = [&](size_t from, size_t len) {
    int n = 0;
    for (size_t i = from; i < from + len; ++i) n = n * 10 + (s[i] - '0');
    return n;
  };
  const int year = number(0, 4);
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                        std::chrono::day{static_cast<unsigned>(number(8, 2))}};
  // MySQL's DATE starts at year 1000.
  return ymd.ok() && year >= 1000;
}

const char* SqliteTypeName(int type) {
  switch (type) {
    case SQLITE_INTEGER:
      return "an integer";
    case SQLITE_FLOAT:
      return "a real number";
    case SQLITE_TEXT:
      return "text";
    case SQLITE_BLOB:
      return "binary data";
    default:
      return "NULL";
  }
}

// Appends the literal of column `i` of the current row. `key` names the row in errors.
Result<void> AppendValue(fmt::memory_buffer& buf, sqlite3_stmt* stmt, int i, const TableSpec& table,
                         const ColumnSpec& column, int64_t key) {
  const int type = sqlite3_column_type(stmt, i);
  auto refuse = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot copy {}.{} of the row with {} {} exactly: {}", table.name,
                            column.name, table.columns[0].name, key, why));
  };
  auto wrong_type = [&](std::string_view wanted) {
    return refuse(fmt::format("it is {}, not {}", SqliteTypeName(type), wanted));
  };
  if (type == SQLITE_NULL) {
    if (!column.nullable) return refuse("it is NULL in a column that does not allow NULL");
    fmt::format_to(std::back_inserter(buf), "NULL");
    return {};
  }
  switch (column.kind) {
    case Kind::kInteger: {
      if (type != SQLITE_INTEGER) return wrong_type("an integer");
      const int64_t v = sqlite3_column_int64(stmt, i);
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        return refuse(fmt::format("{} does not fit in an INTEGER column", v));
      fmt::format_to(std::back_inserter(buf), "{}", v);
      return {};
    }
    case Kind::kMoney:
    case Kind::kDiscount: {
      const int precision = column.kind == Kind::kMoney ? 12 : 4;
      std::optional<std::string> exact;
      if (type == SQLITE_INTEGER) {
        // Whole numbers with at most precision - 2 digits.
        const int64_t v = sqlite3_column_int64(stmt, i);
        const int64_t limit = column.kind == Kind::kMoney ? 10'000'000'000 : 100;
        if (v > -limit && v < limit) exact = fmt::format("{}", v);
      } else if (type == SQLITE_FLOAT) {
        exact = ExactDecimal(sqlite3_column_double(stmt, i), precision, 2);
      } else {
        return wrong_type("a number");
      }
      if (!exact)
        return refuse(fmt::format("{} does not fit NUMERIC({},2) without rounding",
                                  fmt::format("{}", sqlite3_column_double(stmt, i)), precision));
      fmt::format_to(std::back_inserter(buf), "{}", *exact);
      return {};
    }
    case Kind::kDate: {
      if (type != SQLITE_TEXT) return wrong_type("an ISO date");
      const std::string_view v = ColumnText(stmt, i);
      if (!IsIsoDate(v)) return refuse(fmt::format("'{}' is not a date as YYYY-MM-DD", v));
      AppendQuoted(buf, v);
      return {};
    }
    case Kind::kBoolean: {
      const int64_t v = sqlite3_column_int64(stmt, i);
      if (type != SQLITE_INTEGER || (v != 0 && v != 1)) return refuse("it is not 0 or 1");
      fmt::format_to(std::back_inserter(buf), "{}", v ? "TRUE" : "FALSE");
      return {};
    }
    case Kind::kText: {
      if (type != SQLITE_TEXT) return wrong_type("text");
      const std::string_view v = ColumnText(stmt, i);
      // Neither server stores a NUL in text (PostgreSQL refuses it), and both check encodings.
      if (v.find('\0') != std::string_view::npos) return refuse("it contains a NUL character");
      if (!text::IsValidUtf8(v)) return refuse("it is not valid UTF-8");
      const size_t length = CodePoints(v);
      if (length > static_cast<size_t>(column.max_chars))
        return refuse(fmt::format("it has {} characters, more than VARCHAR({}) holds", length,
                                  column.max_chars));
      AppendQuoted(buf, v);
      return {};
    }
  }
  return Fail(ErrorCode::kInternal, "unknown column kind");
}

// ---------------------------------------------------------------------------------------------
// The script.

class ScriptWriter {
 public:
  ScriptWriter(sqlite3* db, Dialect dialect, std::ostream& out)
      : db_(db), postgres_(dialect == Dialect::kPostgres), out_(out) {}

  Result<void> Write(const std::vector<IndexSpec>& indexes) {
    const auto& tables = DemoTables();
    std::vector<std::string> names, reversed;
    for (const auto& t : tables) names.emplace_back(t.name);
    reversed.assign(names.rbegin(), names.rend());

    if (postgres_) {
      Emit(
          "-- The HeliosDB Conversational BI demo database (a retail business) for PostgreSQL,\n"
          "-- written by `heliosdb-conversational-bi demo-data --sql postgresql`.\n"
          "-- Loading it replaces the demo tables; it runs as one transaction.\n"
          "SET client_encoding = 'UTF8';\n"
          "-- Backslashes in string literals are ordinary characters: quotes are doubled.\n"
          "SET standard_conforming_strings = on;\n"
          "SET client_min_messages = warning;\n"
          "BEGIN;\n");
      // CASCADE also drops views and foreign keys of other tables that depend on these.
      Emit(fmt::format("DROP TABLE IF EXISTS {} CASCADE;\n", JoinNames(reversed)));
    } else {
      Emit(
          "-- The HeliosDB Conversational BI demo database (a retail business) for MySQL and\n"
          "-- MariaDB, written by `heliosdb-conversational-bi demo-data --sql mysql`.\n"
          "-- Loading it replaces the demo tables; the rows are inserted in one transaction.\n"
          "SET NAMES utf8mb4;\n"
          "-- Backslashes in string literals are ordinary characters: quotes are doubled. Strict\n"
          "-- mode makes a value that does not fit an error instead of a warning.\n"
          "SET SESSION sql_mode = "
          "'STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION';\n");
      Emit(fmt::format("DROP TABLE IF EXISTS {};\n", JoinNames(reversed)));
    }
    for (const auto& t : tables) CreateTable(t);
    if (!postgres_) Emit("START TRANSACTION;\n");
    for (const auto& t : tables)
      if (auto r = InsertRows(t); !r) return r;
    if (!postgres_) Emit("COMMIT;\n");
    for (const auto& index : indexes) {
      Emit(fmt::format("CREATE {}INDEX {} ON {} ({});\n", index.unique ? "UNIQUE " : "", index.name,
                       index.table, JoinNames(index.columns)));
    }
    if (postgres_) {
      Emit("COMMIT;\n");
      Emit(fmt::format("ANALYZE {};\n", JoinNames(names)));
    } else {
      Emit(fmt::format("ANALYZE TABLE {};\n", JoinNames(names)));
    }
    return Flush();
  }

 private:
  void Emit(std::string_view s) { buf_.append(s.data(), s.data() + s.size()); }

  Result<void> Flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
    if (!out_) return Fail(ErrorCode::kUnavailable, "writing the SQL script failed");
    return {};
  }

  std::string TypeOf(const ColumnSpec& c) const {
    switch (c.kind) {
      case Kind::kInteger:
        return "INTEGER";
      case Kind::kMoney:
        return postgres_ ? "NUMERIC(12,2)" : "DECIMAL(12,2)";
      case Kind::kDiscount:
        return postgres_ ? "NUMERIC(4,2)" : "DECIMAL(4,2)";
      case Kind::kDate:
        return "DATE";
      case Kind::kBoolean:
        return "BOOLEAN";
      case Kind::kText:
        return fmt::format("VARCHAR({})", c.max_chars);
    }
    return "";
  }

  void CreateTable(const TableSpec& t) {
    std::vector<std::string> lines;
    for (const auto& c : t.columns) {
      std::string line = fmt::format("  {} {}", c.name, TypeOf(c));
      if (c.primary_key)
        line += " PRIMARY KEY";
      else if (!c.nullable)
        line += " NOT NULL";
      if (c.default_sql) line += fmt::format(" DEFAULT {}", c.default_sql);
      if (!postgres_ && c.comment) line += " COMMENT " + Quoted(c.comment);
      lines.push_back(std::move(line));
    }
    // Table-level FOREIGN KEY clauses: MySQL ignores REFERENCES written on a column.
    for (const auto& c : t.columns) {
      if (!c.references) continue;
      const TableSpec* parent = nullptr;
      for (const auto& p : DemoTables())
        if (std::string_view(p.name) == c.references) parent = &p;
      assert(parent != nullptr);
      lines.push_back(fmt::format("  FOREIGN KEY ({}) REFERENCES {} ({})", c.name, parent->name,
                                  parent->columns[0].name));
    }
    Emit(fmt::format("CREATE TABLE {} (\n{}\n)", t.name, text::Join(lines, ",\n")));
    if (postgres_) {
      Emit(";\n");
      Emit(fmt::format("COMMENT ON TABLE {} IS {};\n", t.name, Quoted(t.comment)));
      for (const auto& c : t.columns) {
        if (c.comment)
          Emit(fmt::format("COMMENT ON COLUMN {}.{} IS {};\n", t.name, c.name, Quoted(c.comment)));
      }
    } else {
      Emit(fmt::format(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT={};\n", Quoted(t.comment)));
    }
  }

  Result<void> InsertRows(const TableSpec& t) {
    std::vector<std::string> names;
    for (const auto& c : t.columns) names.emplace_back(c.name);
    const std::string columns = JoinNames(names);
    // In key order: the script reads the same whichever order SQLite stored the rows in.
    auto stmt = Prepare(
        db_, fmt::format("SELECT {} FROM {} ORDER BY {}", columns, t.name, t.columns[0].name));
    if (!stmt) return std::unexpected(stmt.error());
    const int ncols = static_cast<int>(t.columns.size());
    size_t in_statement = 0;
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
      Emit(in_statement == 0 ? fmt::format("INSERT INTO {} ({}) VALUES\n(", t.name, columns)
                             : std::string(",\n("));
      const int64_t key = sqlite3_column_int64(stmt->get(), 0);
      for (int i = 0; i < ncols; ++i) {
        if (i > 0) Emit(", ");
        if (auto r = AppendValue(buf_, stmt->get(), i, t, t.columns[static_cast<size_t>(i)], key);
            !r)
          return r;
      }
      Emit(")");
      if (++in_statement == kRowsPerInsert) {
        Emit(";\n");
        in_statement = 0;
        if (auto r = Flush(); !r) return r;
      }
    }
    if (rc != SQLITE_DONE) return SqliteFailure(db_, fmt::format("reading {}", t.name));
    if (in_statement > 0) Emit(";\n");
    return Flush();
  }

  sqlite3* db_;
  bool postgres_;
  std::ostream& out_;
  fmt::memory_buffer buf_;
};

}  // namespace

Result<void> WriteDemoSql(const std::string& sqlite_path, Dialect dialect, std::ostream& out) {
  if (dialect != Dialect::kPostgres && dialect != Dialect::kMysql)
    return Fail(ErrorCode::kInvalidArgument,
                "the demo SQL script is written for PostgreSQL or MySQL/MariaDB only");
  const std::string file_name = fs::path(sqlite_path).filename().string();
  std::error_code ec;
  if (sqlite_path.empty() || !fs::is_regular_file(sqlite_path, ec))
    return Fail(ErrorCode::kNotFound,
                fmt::format("the demo database '{}' was not found", file_name));

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(sqlite_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK)
    return Fail(ErrorCode::kDatabaseError,
                fmt::format("cannot open the demo database '{}': {}", file_name,
                            raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  // One read transaction, so the script is a consistent snapshot even if the file changes.
  if (sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK)
    return SqliteFailure(db.get(), "begin");
  if (auto r = CheckSchema(db.get()); !r) return r;
  auto indexes = ReadIndexes(db.get());
  if (!indexes) return std::unexpected(indexes.error());
  ScriptWriter writer(db.get(), dialect, out);
  auto written = writer.Write(*indexes);
  sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
  return written;
}

}  // namespace helios::db
