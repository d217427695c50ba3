// The demo as a SQL script (db/demo_sql.h): the text itself. Loading it into real PostgreSQL
// and MariaDB servers is tested in tests/db_demo/.
#include "db/demo_sql.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.h"

namespace helios::db {
namespace {

using ::testing::HasSubstr;

// A writable SQLite connection for building small databases.
class Sqlite {
 public:
  explicit Sqlite(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, flags, nullptr), SQLITE_OK) << path;
  }
  ~Sqlite() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "") << " in " << sql;
    sqlite3_free(message);
  }
  // The first column of every row as a double.
  std::vector<double> Doubles(const std::string& sql) {
    std::vector<double> out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_) << " in " << sql;
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) out.push_back(sqlite3_column_double(stmt, 0));
    sqlite3_finalize(stmt);
    return out;
  }
  // The first column of every row, as text ("NULL" for NULL).
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_) << " in " << sql;
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      out.emplace_back(text ? text : "NULL");
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// The demo's CREATE TABLE and CREATE INDEX statements, read from the real demo database so that
// the small databases below have exactly its schema.
std::vector<std::string> DemoSchemaSql() {
  Sqlite demo(HELIOS_DEMO_DB, SQLITE_OPEN_READONLY);
  return demo.Column(
      "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
      "ORDER BY rowid");
}

// A demo database with one row per table, in a temporary directory. `customer_name`,
// `item_price` and `discount` are the values the tests vary.
class TinyDemo {
 public:
  explicit TinyDemo(std::string_view customer_name = "Ada Lovelace",
                    std::string_view item_price = "19.99", std::string_view discount = "0.15")
      : path_((dir_.path() / "tiny.db").string()) {
    Sqlite db(path_);
    // No journal and no fsync: the file is thrown away after the test.
    db.Exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF");
    for (const auto& sql : DemoSchemaSql()) db.Exec(sql);
    db.Exec("INSERT INTO regions VALUES (1, 'Europe')");
    db.Exec(
        "INSERT INTO employees VALUES (1, 'Grace', 'Hopper', 'grace.hopper@example.com', "
        "'Sales Manager', 1, '2016-02-29', 120000.0)");
    db.Exec(fmt::format(
        "INSERT INTO customers VALUES (1, {}, 'ada@example.com', 'London', 'United Kingdom', "
        "'Corporate', '2020-01-01', NULL)",
        SqliteQuote(customer_name)));
    db.Exec("INSERT INTO categories VALUES (1, 'Books', NULL)");
    db.Exec("INSERT INTO products VALUES (1, 'The Silent River', 1, 19.99, 8.4, 0, 1)");
    db.Exec("INSERT INTO orders VALUES (1, 1, 1, '2025-12-31', NULL, 'processing', 1234567.89)");
    db.Exec(
        fmt::format("INSERT INTO order_items VALUES (1, 1, 1, 3, {}, {})", item_price, discount));
  }
  const std::string& path() const { return path_; }

  // Runs `sql` on the database (to break it in a particular way).
  void Exec(const std::string& sql) {
    Sqlite db(path_);
    db.Exec("PRAGMA synchronous = OFF; " + sql);
  }

  static std::string SqliteQuote(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') out += '\'';
      out += c;
    }
    return out + "'";
  }

 private:
  testing::TempDir dir_{"helios-demo-sql"};
  std::string path_;
};

Result<std::string> Script(const std::string& path, Dialect dialect) {
  std::ostringstream out;
  auto written = WriteDemoSql(path, dialect, out);
  if (!written) return std::unexpected(written.error());
  return out.str();
}

std::string ScriptOrDie(const std::string& path, Dialect dialect) {
  auto script = Script(path, dialect);
  EXPECT_TRUE(script.has_value()) << script.error().message;
  return script.value_or("");
}

// Position of the first occurrence; fails the test when absent.
size_t Pos(const std::string& script, std::string_view needle) {
  const size_t at = script.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle;
  return at;
}

// The row lines ("(1, 'x', ...)") of each table's INSERT statements, and the number of rows in
// the largest single INSERT.
struct InsertedRows {
  std::map<std::string, std::vector<std::string>> rows;
  size_t largest_statement = 0;
};

InsertedRows ParseInserts(const std::string& script) {
  InsertedRows out;
  std::istringstream in(script);
  std::string line, table;
  size_t in_statement = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("INSERT INTO ")) {
      table = line.substr(12, line.find(' ', 12) - 12);
      in_statement = 0;
      continue;
    }
    if (table.empty() || !line.starts_with("(")) {
      table.clear();
      continue;
    }
    // Drop the trailing "," or ";" and the parentheses.
    const bool last = line.ends_with(";");
    out.rows[table].push_back(line.substr(1, line.size() - 3));
    out.largest_statement = std::max(out.largest_statement, ++in_statement);
    if (last) table.clear();
  }
  return out;
}

// "123.4" -> 12340: a decimal literal as an exact number of cents.
int64_t Cents(std::string_view literal) {
  const size_t point = literal.find('.');
  std::string digits(literal.substr(0, point));
  std::string fraction =
      point == std::string_view::npos ? "" : std::string(literal.substr(point + 1));
  EXPECT_LE(fraction.size(), 2u) << literal;
  fraction.resize(2, '0');
  const bool negative = digits.starts_with("-");
  const int64_t cents =
      std::stoll(negative ? digits.substr(1) : digits) * 100 + std::stoll(fraction);
  return negative ? -cents : cents;
}

std::string LastField(const std::string& row) { return row.substr(row.rfind(", ") + 2); }

TEST(DemoSqlTest, TrickyTextIsQuotedByDoublingTheQuoteWithBackslashesMadeOrdinary) {
  // A quote, a backslash before a quote (which ends the literal early where backslash escapes
  // are on), a double backslash, double quotes and non-ASCII text.
  const std::string tricky = "O'Brien \\' \\\\ \"Zoë\" 東京 -- ;";
  TinyDemo demo(tricky);
  const std::string literal = "'O''Brien \\'' \\\\ \"Zoë\" 東京 -- ;'";

  const std::string pg = ScriptOrDie(demo.path(), Dialect::kPostgres);
  EXPECT_THAT(pg, HasSubstr("(1, " + literal + ", 'ada@example.com'"));
  EXPECT_LT(Pos(pg, "SET standard_conforming_strings = on;"), Pos(pg, "INSERT INTO"));
  EXPECT_LT(Pos(pg, "SET client_encoding = 'UTF8';"), Pos(pg, "INSERT INTO"));

  const std::string my = ScriptOrDie(demo.path(), Dialect::kMysql);
  EXPECT_THAT(my, HasSubstr("(1, " + literal + ", 'ada@example.com'"));
  EXPECT_LT(Pos(my, "SET NAMES utf8mb4;"), Pos(my, "INSERT INTO"));
  const size_t mode = Pos(my, "SET SESSION sql_mode = '");
  EXPECT_LT(mode, Pos(my, "INSERT INTO"));
  const std::string mode_line = my.substr(mode, my.find('\n', mode) - mode);
  EXPECT_THAT(mode_line, HasSubstr("NO_BACKSLASH_ESCAPES"));
  EXPECT_THAT(mode_line, HasSubstr("STRICT_ALL_TABLES"));
}

TEST(DemoSqlTest, NullsBooleansDatesAndNumbersAreCopiedAsLiterals) {
  TinyDemo demo;
  for (Dialect dialect : {Dialect::kPostgres, Dialect::kMysql}) {
    const InsertedRows inserted = ParseInserts(ScriptOrDie(demo.path(), dialect));
    auto row = [&](const std::string& table) {
      const auto it = inserted.rows.find(table);
      return it == inserted.rows.end() || it->second.empty() ? std::string() : it->second[0];
    };
    EXPECT_EQ(row("employees"),
              "1, 'Grace', 'Hopper', 'grace.hopper@example.com', 'Sales Manager', 1, "
              "'2016-02-29', 120000");
    EXPECT_EQ(row("categories"), "1, 'Books', NULL");
    EXPECT_EQ(row("products"), "1, 'The Silent River', 1, 19.99, 8.4, 0, TRUE");
    EXPECT_EQ(row("orders"), "1, 1, 1, '2025-12-31', NULL, 'processing', 1234567.89");
    EXPECT_EQ(row("order_items"), "1, 1, 1, 3, 19.99, 0.15");
    EXPECT_THAT(row("customers"), ::testing::EndsWith("'2020-01-01', NULL"));
  }
}

TEST(DemoSqlTest, DropsChildrenFirstCreatesParentsFirstAndLoadsBeforeIndexing) {
  TinyDemo demo;
  const std::vector<std::string> parents_first = {
      "regions", "employees", "customers", "categories", "products", "orders", "order_items"};
  for (Dialect dialect : {Dialect::kPostgres, Dialect::kMysql}) {
    SCOPED_TRACE(dialect == Dialect::kPostgres ? "postgres" : "mysql");
    const std::string s = ScriptOrDie(demo.path(), dialect);
    const std::string drop =
        "DROP TABLE IF EXISTS order_items, orders, products, categories, customers, employees, "
        "regions";
    const size_t drop_at = Pos(s, drop + (dialect == Dialect::kPostgres ? " CASCADE;" : ";"));

    // Every table is created after the drop and after the tables it refers to.
    std::map<std::string, size_t> created;
    for (const auto& t : parents_first) {
      created[t] = Pos(s, "CREATE TABLE " + t + " (");
      EXPECT_LT(drop_at, created[t]);
    }
    for (const auto& [table, at] : created) {
      const size_t end = s.find(';', at);
      for (size_t ref = s.find("REFERENCES ", at); ref < end;
           ref = s.find("REFERENCES ", ref + 1)) {
        const std::string parent = s.substr(ref + 11, s.find(' ', ref + 11) - ref - 11);
        ASSERT_TRUE(created.contains(parent)) << parent;
        EXPECT_LT(created[parent], at) << table << " refers to " << parent;
      }
    }

    // Tables, then the rows in one transaction, then the indexes, then statistics.
    const size_t last_create = created["order_items"];
    const size_t first_insert = Pos(s, "INSERT INTO regions");
    const size_t last_insert = s.rfind("INSERT INTO order_items");
    const size_t first_index = Pos(s, "CREATE INDEX ");
    const size_t analyze =
        Pos(s, dialect == Dialect::kPostgres ? "ANALYZE regions, employees, customers, categories, "
                                               "products, orders, order_items;"
                                             : "ANALYZE TABLE regions, employees, customers, "
                                               "categories, products, orders, order_items;");
    const size_t begin = Pos(s, dialect == Dialect::kPostgres ? "BEGIN;" : "START TRANSACTION;");
    const size_t commit = Pos(s, "COMMIT;");
    EXPECT_EQ(s.find("COMMIT;", commit + 1), std::string::npos) << "one transaction";
    EXPECT_LT(last_create, first_insert);
    EXPECT_LT(begin, first_insert);
    EXPECT_LT(last_insert, commit);
    EXPECT_LT(last_insert, first_index);
    EXPECT_LT(commit, analyze);
    EXPECT_LT(first_index, analyze);
    if (dialect == Dialect::kPostgres) {
      // The whole replacement is atomic: a failed load leaves the previous tables.
      EXPECT_LT(begin, drop_at);
      EXPECT_LT(s.rfind("CREATE INDEX "), commit);
    } else {
      EXPECT_LT(commit, first_index);
      EXPECT_THAT(s, HasSubstr(") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='"));
    }
  }
}

TEST(DemoSqlTest, DeclaresTheTypesAKeysAndCommentsOfARealDeployment) {
  TinyDemo demo;
  const std::string pg = ScriptOrDie(demo.path(), Dialect::kPostgres);
  EXPECT_THAT(pg, HasSubstr("  order_id INTEGER PRIMARY KEY,\n"));
  EXPECT_THAT(pg, HasSubstr("  total_amount NUMERIC(12,2) NOT NULL,\n"));
  EXPECT_THAT(pg, HasSubstr("  discount NUMERIC(4,2) NOT NULL DEFAULT 0,\n"));
  EXPECT_THAT(pg, HasSubstr("  discontinued BOOLEAN NOT NULL DEFAULT FALSE,\n"));
  EXPECT_THAT(pg, HasSubstr("  ship_date DATE,\n"));
  EXPECT_THAT(pg, HasSubstr("  FOREIGN KEY (order_id) REFERENCES orders (order_id)"));
  EXPECT_THAT(pg, HasSubstr("COMMENT ON TABLE orders IS '"));
  EXPECT_THAT(pg, HasSubstr("COMMENT ON COLUMN orders.status IS 'one of processing, shipped, "
                            "delivered, cancelled, returned';"));
  EXPECT_THAT(pg, HasSubstr("COMMENT ON COLUMN orders.total_amount IS 'order total after "
                            "discounts, in US dollars"));

  const std::string my = ScriptOrDie(demo.path(), Dialect::kMysql);
  EXPECT_THAT(my, HasSubstr("  total_amount DECIMAL(12,2) NOT NULL COMMENT 'order total after "
                            "discounts, in US dollars"));
  EXPECT_THAT(my, HasSubstr("  discount DECIMAL(4,2) NOT NULL DEFAULT 0 COMMENT '"));
  EXPECT_THAT(my, HasSubstr("  discontinued BOOLEAN NOT NULL DEFAULT FALSE COMMENT '"));
  EXPECT_THAT(my, HasSubstr("  segment VARCHAR(20) NOT NULL COMMENT 'market segment: one of "
                            "Consumer, Corporate, Small Business',\n"));
  EXPECT_THAT(my, ::testing::Not(HasSubstr("COMMENT ON")));
}

TEST(DemoSqlTest, TheDemoIndexesAreCreated) {
  TinyDemo demo;
  Sqlite sqlite(HELIOS_DEMO_DB, SQLITE_OPEN_READONLY);
  const auto names = sqlite.Column(
      "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid");
  ASSERT_EQ(names.size(), 11u);
  for (Dialect dialect : {Dialect::kPostgres, Dialect::kMysql}) {
    const std::string s = ScriptOrDie(demo.path(), dialect);
    for (const auto& name : names) EXPECT_THAT(s, HasSubstr("CREATE INDEX " + name + " ON "));
    EXPECT_THAT(s, HasSubstr("CREATE INDEX idx_orders_order_date ON orders (order_date);\n"));
    // SQLite's case-insensitive indexes become plain ones (MySQL's collation ignores case).
    EXPECT_THAT(s, HasSubstr("CREATE INDEX idx_customers_country ON customers (country);\n"));
  }
}

// Every amount and discount of the real demo has at most two decimals, so NUMERIC(12,2) and
// NUMERIC(4,2) hold it exactly; and the script carries exactly those values.
TEST(DemoSqlTest, NoValueOfTheDemoIsRounded) {
  struct Money {
    const char* table;
    const char* column;
    int integer_digits;
  };
  const Money columns[] = {{"employees", "salary", 10},       {"products", "unit_price", 10},
                           {"products", "cost", 10},          {"orders", "total_amount", 10},
                           {"order_items", "unit_price", 10}, {"order_items", "discount", 2}};
  Sqlite sqlite(HELIOS_DEMO_DB, SQLITE_OPEN_READONLY);
  size_t checked = 0;
  for (const Money& m : columns) {
    for (double v : sqlite.Doubles(fmt::format("SELECT {} FROM {}", m.column, m.table))) {
      const std::string text = fmt::format("{}", v);
      ASSERT_EQ(text.find_first_not_of("-0123456789."), std::string::npos) << text;
      const size_t point = text.find('.');
      if (point != std::string::npos) {
        ASSERT_LE(text.size() - point - 1, 2u) << m.table << "." << m.column << " " << text;
      }
      ASSERT_LE(point == std::string::npos ? text.size() : point,
                static_cast<size_t>(m.integer_digits))
          << m.table << "." << m.column << " " << text;
      ++checked;
    }
  }
  EXPECT_GT(checked, 150'000u);

  // The script of the whole demo: every row, every total to the cent.
  const std::string script = ScriptOrDie(HELIOS_DEMO_DB, Dialect::kPostgres);
  const InsertedRows inserted = ParseInserts(script);
  for (const char* table :
       {"regions", "employees", "customers", "categories", "products", "orders", "order_items"}) {
    const auto count = sqlite.Column(fmt::format("SELECT COUNT(*) FROM {}", table));
    ASSERT_EQ(count.size(), 1u);
    EXPECT_EQ(std::to_string(inserted.rows.count(table) ? inserted.rows.at(table).size() : 0),
              count[0])
        << table;
  }
  EXPECT_EQ(inserted.largest_statement, 1000u);
  int64_t script_cents = 0;
  for (const auto& row : inserted.rows.at("orders")) script_cents += Cents(LastField(row));
  const auto sqlite_cents =
      sqlite.Column("SELECT SUM(CAST(ROUND(total_amount * 100) AS INTEGER)) FROM orders");
  ASSERT_EQ(sqlite_cents.size(), 1u);
  EXPECT_EQ(std::to_string(script_cents), sqlite_cents[0]);
  EXPECT_EQ(script, ScriptOrDie(HELIOS_DEMO_DB, Dialect::kPostgres)) << "deterministic";
}

TEST(DemoSqlTest, RefusesValuesTheColumnsWouldRoundOrTruncate) {
  struct Case {
    const char* name;
    std::string customer;
    const char* price;
    const char* discount;
    const char* mentions;
    const char* row;
  };
  const Case cases[] = {
      {"third decimal", "Ada", "1.005", "0", "order_items.unit_price", "order_item_id 1"},
      {"discount with three decimals", "Ada", "2.5", "0.125", "order_items.discount",
       "order_item_id 1"},
      {"too large for NUMERIC(12,2)", "Ada", "12345678901.5", "0", "order_items.unit_price",
       "order_item_id 1"},
      {"too large for NUMERIC(4,2)", "Ada", "2.5", "100", "order_items.discount",
       "order_item_id 1"},
      {"text price", "Ada", "'cheap'", "0", "order_items.unit_price", "order_item_id 1"},
      {"longer than VARCHAR(100)", std::string(101, 'x'), "2.5", "0", "customers.name",
       "customer_id 1"},
      {"not UTF-8", "Ada \xff", "2.5", "0", "customers.name", "customer_id 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TinyDemo demo(c.customer, c.price, c.discount);
    for (Dialect dialect : {Dialect::kPostgres, Dialect::kMysql}) {
      auto script = Script(demo.path(), dialect);
      ASSERT_FALSE(script.has_value());
      EXPECT_EQ(script.error().code, ErrorCode::kInvalidArgument);
      EXPECT_THAT(script.error().message, HasSubstr(c.mentions));
      EXPECT_THAT(script.error().message, HasSubstr(c.row));
    }
  }
  // 100 characters fit, counted as characters rather than bytes.
  TinyDemo fits(std::string(98, 'x') + "ëë");
  EXPECT_TRUE(Script(fits.path(), Dialect::kMysql).has_value());
}

TEST(DemoSqlTest, RefusesAFileThatIsNotTheDemo) {
  {
    TinyDemo demo;
    demo.Exec("ALTER TABLE orders ADD COLUMN channel TEXT");
    auto script = Script(demo.path(), Dialect::kPostgres);
    ASSERT_FALSE(script.has_value());
    EXPECT_EQ(script.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(script.error().message, HasSubstr("table 'orders' has the columns"));
  }
  {
    TinyDemo demo;
    demo.Exec("CREATE TABLE suppliers(supplier_id INTEGER PRIMARY KEY)");
    auto script = Script(demo.path(), Dialect::kMysql);
    ASSERT_FALSE(script.has_value());
    EXPECT_THAT(script.error().message, HasSubstr("unexpected table 'suppliers'"));
  }
  {
    TinyDemo demo;
    demo.Exec("DROP TABLE order_items");
    auto script = Script(demo.path(), Dialect::kMysql);
    ASSERT_FALSE(script.has_value());
    EXPECT_THAT(script.error().message, HasSubstr("no table 'order_items'"));
  }
  {
    // Index names go into the script unquoted.
    TinyDemo demo;
    demo.Exec("CREATE INDEX \"x ON orders (status); DROP TABLE regions; --\" ON orders(status)");
    auto script = Script(demo.path(), Dialect::kPostgres);
    ASSERT_FALSE(script.has_value());
    EXPECT_THAT(script.error().message, HasSubstr("an index has an unusual name"));
  }
  testing::TempDir dir("helios-demo-sql");
  auto missing = Script((dir.path() / "secret-dir" / "none.db").string(), Dialect::kPostgres);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, ::testing::Not(HasSubstr("secret-dir")));

  auto sqlite = Script(HELIOS_DEMO_DB, Dialect::kSqlite);
  ASSERT_FALSE(sqlite.has_value());
  EXPECT_EQ(sqlite.error().code, ErrorCode::kInvalidArgument);
}

TEST(DemoSqlTest, AFailingStreamIsAnError) {
  TinyDemo demo;
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  auto written = WriteDemoSql(demo.path(), Dialect::kPostgres, out);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace helios::db
