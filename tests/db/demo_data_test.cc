#include "db/demo_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "db/sqlite/sqlite_data_source.h"

namespace helios::db {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "helios-demo-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path path() const { return path_; }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename());
    return out;
  }

 private:
  fs::path path_;
};

// A read-only connection for inspecting what was written.
class Db {
 public:
  explicit Db(const fs::path& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  }
  ~Db() { sqlite3_close(db_); }

  // All rows of a query, each cell as text ("NULL" for NULL), cells joined by '|'.
  std::vector<std::string> Rows(const std::string& sql) const {
    std::vector<std::string> out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_) << " in " << sql;
    if (!stmt) return out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        if (i) row += '|';
        const auto* text = sqlite3_column_text(stmt, i);
        row += text ? reinterpret_cast<const char*>(text) : "NULL";
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::string One(const std::string& sql) const {
    auto rows = Rows(sql);
    EXPECT_EQ(rows.size(), 1u) << sql;
    return rows.empty() ? "" : rows[0];
  }
  int64_t Int(const std::string& sql) const { return std::stoll(One(sql)); }

  // FNV-1a over every row of every table, in primary-key order.
  uint64_t Checksum() const {
    uint64_t h = 1469598103934665603ULL;
    for (const char* table :
         {"regions", "employees", "customers", "categories", "products", "orders", "order_items"}) {
      for (const auto& row : Rows(std::string("SELECT * FROM ") + table + " ORDER BY 1")) {
        for (unsigned char c : row) h = (h ^ c) * 1099511628211ULL;
        h = (h ^ '\n') * 1099511628211ULL;
      }
    }
    return h;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string out(fs::file_size(path), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

// Building the database takes a moment; the read-only checks share one copy.
class DemoDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto summary = WriteDemoDatabase((dir_->path() / "demo.db").string());
    ASSERT_TRUE(summary.has_value()) << summary.error().message;
    summary_ = new DemoSummary(*summary);
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete dir_;
  }
  static fs::path DbPath() { return dir_->path() / "demo.db"; }

  static TempDir* dir_;
  static DemoSummary* summary_;
};
TempDir* DemoDataTest::dir_ = nullptr;
DemoSummary* DemoDataTest::summary_ = nullptr;

TEST_F(DemoDataTest, RowCountsMatchTheContract) {
  Db db(DbPath());
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM regions"), 5);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM employees"), 50);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM customers"), 5000);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM categories"), 12);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM products"), 300);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM orders"), 40000);
  const int64_t items = db.Int("SELECT COUNT(*) FROM order_items");
  EXPECT_GE(items, 100000);

  ASSERT_EQ(summary_->tables.size(), 7u);
  EXPECT_EQ(summary_->tables.front().table, "regions");
  EXPECT_EQ(summary_->tables.back().table, "order_items");
  EXPECT_EQ(summary_->RowCount("regions"), 5);
  EXPECT_EQ(summary_->RowCount("employees"), 50);
  EXPECT_EQ(summary_->RowCount("customers"), 5000);
  EXPECT_EQ(summary_->RowCount("categories"), 12);
  EXPECT_EQ(summary_->RowCount("products"), 300);
  EXPECT_EQ(summary_->RowCount("orders"), 40000);
  EXPECT_EQ(summary_->RowCount("order_items"), items);
  EXPECT_EQ(summary_->RowCount("suppliers"), -1);
}

TEST_F(DemoDataTest, SchemaHasTheAgreedColumns) {
  Db db(DbPath());
  auto columns = [&](const std::string& table) {
    return db.Rows(
        "SELECT name || ':' || type || ':' || \"notnull\" || ':' || pk "
        "FROM pragma_table_info('" +
        table + "') ORDER BY cid");
  };
  EXPECT_EQ(columns("regions"),
            (std::vector<std::string>{"region_id:INTEGER:0:1", "name:TEXT:1:0"}));
  EXPECT_EQ(
      columns("employees"),
      (std::vector<std::string>{"employee_id:INTEGER:0:1", "first_name:TEXT:1:0",
                                "last_name:TEXT:1:0", "email:TEXT:1:0", "title:TEXT:1:0",
                                "region_id:INTEGER:1:0", "hire_date:DATE:1:0", "salary:REAL:1:0"}));
  EXPECT_EQ(columns("customers"),
            (std::vector<std::string>{"customer_id:INTEGER:0:1", "name:TEXT:1:0", "email:TEXT:1:0",
                                      "city:TEXT:1:0", "country:TEXT:1:0", "segment:TEXT:1:0",
                                      "signup_date:DATE:1:0", "employee_id:INTEGER:0:0"}));
  EXPECT_EQ(columns("categories"),
            (std::vector<std::string>{"category_id:INTEGER:0:1", "name:TEXT:1:0",
                                      "description:TEXT:0:0"}));
  EXPECT_EQ(
      columns("products"),
      (std::vector<std::string>{"product_id:INTEGER:0:1", "name:TEXT:1:0",
                                "category_id:INTEGER:1:0", "unit_price:REAL:1:0", "cost:REAL:1:0",
                                "stock_quantity:INTEGER:1:0", "discontinued:INTEGER:1:0"}));
  EXPECT_EQ(
      columns("orders"),
      (std::vector<std::string>{"order_id:INTEGER:0:1", "customer_id:INTEGER:1:0",
                                "employee_id:INTEGER:1:0", "order_date:DATE:1:0",
                                "ship_date:DATE:0:0", "status:TEXT:1:0", "total_amount:REAL:1:0"}));
  EXPECT_EQ(columns("order_items"),
            (std::vector<std::string>{"order_item_id:INTEGER:0:1", "order_id:INTEGER:1:0",
                                      "product_id:INTEGER:1:0", "quantity:INTEGER:1:0",
                                      "unit_price:REAL:1:0", "discount:REAL:1:0"}));

  // Every foreign key column and orders.order_date are indexed.
  std::set<std::string> indexed;
  for (const auto& row : db.Rows("SELECT m.name || '.' || ii.name FROM sqlite_schema m, "
                                 "pragma_index_list(m.name) il, pragma_index_info(il.name) ii "
                                 "WHERE m.type = 'table'"))
    indexed.insert(row);
  for (const char* col : {"employees.region_id", "customers.employee_id", "products.category_id",
                          "orders.customer_id", "orders.employee_id", "orders.order_date",
                          "order_items.order_id", "order_items.product_id"})
    EXPECT_TRUE(indexed.count(col)) << col;
}

TEST_F(DemoDataTest, ForeignKeysAreAllValid) {
  Db db(DbPath());
  EXPECT_TRUE(db.Rows("PRAGMA foreign_key_check").empty());
  // Same check spelled out, so a missing REFERENCES clause would not hide a dangling id.
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM order_items i LEFT JOIN orders o USING (order_id) "
                   "WHERE o.order_id IS NULL"),
            0);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM order_items i LEFT JOIN products p USING (product_id) "
                   "WHERE p.product_id IS NULL"),
            0);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM orders o LEFT JOIN customers c USING (customer_id) "
                   "WHERE c.customer_id IS NULL"),
            0);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM customers c WHERE employee_id IS NOT NULL AND "
                   "employee_id NOT IN (SELECT employee_id FROM employees)"),
            0);
}

TEST_F(DemoDataTest, TotalsEqualTheSumOfItems) {
  Db db(DbPath());
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM orders o WHERE o.total_amount IS NOT "
                   "(SELECT ROUND(SUM(quantity * unit_price * (1 - discount)), 2) "
                   "FROM order_items i WHERE i.order_id = o.order_id)"),
            0);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM orders WHERE total_amount <= 0"), 0);
  // Items carry the product's price.
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM order_items i JOIN products p USING (product_id) "
                   "WHERE i.unit_price <> p.unit_price"),
            0);
}

TEST_F(DemoDataTest, ValuesStayInTheirDomains) {
  Db db(DbPath());
  EXPECT_EQ(db.Rows("SELECT name FROM regions ORDER BY region_id"),
            (std::vector<std::string>{"North America", "Europe", "Asia Pacific", "Latin America",
                                      "Middle East & Africa"}));
  EXPECT_EQ(db.Rows("SELECT DISTINCT title FROM employees ORDER BY 1"),
            (std::vector<std::string>{"Account Manager", "Sales Manager", "Sales Representative",
                                      "Senior Sales Representative"}));
  EXPECT_EQ(db.One("SELECT MIN(hire_date) >= '2015-01-01', MAX(hire_date) <= '2022-12-31' "
                   "FROM employees"),
            "1|1");
  EXPECT_EQ(db.Rows("SELECT DISTINCT segment FROM customers ORDER BY 1"),
            (std::vector<std::string>{"Consumer", "Corporate", "Small Business"}));
  EXPECT_EQ(db.One("SELECT MIN(signup_date) >= '2020-01-01', MAX(signup_date) <= '2025-12-31' "
                   "FROM customers"),
            "1|1");
  EXPECT_GE(db.Int("SELECT COUNT(DISTINCT country) FROM customers"), 15);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM (SELECT country FROM customers GROUP BY country "
                   "HAVING COUNT(DISTINCT city) NOT BETWEEN 2 AND 5)"),
            0);
  EXPECT_EQ(db.One("SELECT country FROM customers GROUP BY country ORDER BY COUNT(*) DESC "
                   "LIMIT 1"),
            "United States");
  EXPECT_EQ(db.Int("SELECT COUNT(DISTINCT email) FROM customers"), 5000);
  EXPECT_EQ(db.Int("SELECT COUNT(DISTINCT email) FROM employees"), 50);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM employees WHERE email NOT LIKE '%@example.com'"), 0);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM customers WHERE email NOT LIKE '%@example.%' OR "
                   "name NOT LIKE '% %'"),
            0);

  EXPECT_EQ(db.Int("SELECT COUNT(DISTINCT name) FROM products"), 300);
  EXPECT_EQ(db.Int("SELECT COUNT(DISTINCT category_id) FROM products"), 12);
  EXPECT_EQ(db.One("SELECT MIN(unit_price) >= 2, MAX(unit_price) <= 2500 FROM products"), "1|1");
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM products WHERE unit_price <> ROUND(unit_price, 2) OR "
                   "cost < 0.4 * unit_price - 0.01 OR cost > 0.8 * unit_price"),
            0);
  const int64_t discontinued = db.Int("SELECT SUM(discontinued) FROM products");
  EXPECT_GT(discontinued, 3);
  EXPECT_LT(discontinued, 35);
  EXPECT_EQ(db.Rows("SELECT name FROM categories ORDER BY category_id"),
            (std::vector<std::string>{"Electronics", "Computers", "Office Supplies", "Furniture",
                                      "Books", "Clothing", "Shoes", "Sports & Outdoors",
                                      "Toys & Games", "Home & Kitchen", "Beauty", "Groceries"}));

  EXPECT_EQ(
      db.Rows("SELECT DISTINCT status FROM orders ORDER BY 1"),
      (std::vector<std::string>{"cancelled", "delivered", "processing", "returned", "shipped"}));
  EXPECT_EQ(db.One("SELECT MIN(order_date), MAX(order_date) <= '2025-12-31' FROM orders"),
            "2023-01-01|1");
  EXPECT_GT(db.Int("SELECT COUNT(*) FROM orders WHERE status = 'delivered'"), 30000);
  // Processing and shipped only for recent orders.
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM orders WHERE status IN ('processing', 'shipped') AND "
                   "order_date < '2025-12-01'"),
            0);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM orders WHERE (ship_date IS NULL) <> "
                   "(status IN ('processing', 'cancelled'))"),
            0);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM orders WHERE ship_date IS NOT NULL AND "
                   "julianday(ship_date) - julianday(order_date) NOT BETWEEN 1 AND 7"),
            0);
  // Nobody orders before signing up.
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM orders o JOIN customers c USING (customer_id) "
                   "WHERE o.order_date < c.signup_date"),
            0);

  EXPECT_EQ(db.One("SELECT MIN(n), MAX(n) FROM (SELECT COUNT(*) AS n FROM order_items "
                   "GROUP BY order_id)"),
            "1|5");
  EXPECT_EQ(db.Int("SELECT COUNT(DISTINCT order_id) FROM order_items"), 40000);
  EXPECT_EQ(db.One("SELECT MIN(quantity), MAX(quantity) FROM order_items"), "1|10");
  EXPECT_EQ(db.Rows("SELECT DISTINCT discount FROM order_items ORDER BY 1"),
            (std::vector<std::string>{"0.0", "0.05", "0.1", "0.15", "0.2"}));
  EXPECT_GT(db.Int("SELECT COUNT(*) FROM order_items WHERE discount = 0") * 2,
            db.Int("SELECT COUNT(*) FROM order_items"));
  EXPECT_GT(db.Int("SELECT COUNT(*) FROM order_items WHERE quantity <= 3") * 2,
            db.Int("SELECT COUNT(*) FROM order_items"));
}

TEST_F(DemoDataTest, OrdersGrowAndPeakInTheHolidays) {
  Db db(DbPath());
  const auto y = db.Rows(
      "SELECT COUNT(*) FROM orders GROUP BY substr(order_date, 1, 4) ORDER BY "
      "substr(order_date, 1, 4)");
  ASSERT_EQ(y.size(), 3u);
  EXPECT_LT(std::stoll(y[0]), std::stoll(y[1]));
  EXPECT_LT(std::stoll(y[1]), std::stoll(y[2]));
  // December is the busiest month of 2024, February among the quietest.
  EXPECT_EQ(db.One("SELECT substr(order_date, 6, 2) FROM orders WHERE order_date LIKE '2024-%' "
                   "GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1"),
            "12");
  EXPECT_GT(db.Int("SELECT COUNT(*) FROM orders WHERE order_date LIKE '2024-11-%'"),
            db.Int("SELECT COUNT(*) FROM orders WHERE order_date LIKE '2024-02-%'") * 3 / 2);
}

TEST_F(DemoDataTest, DataSourceSeesTheSchemaAndValues) {
  auto source = SqliteDataSource::Open(DbPath().string());
  ASSERT_TRUE(source.has_value()) << source.error().message;
  auto catalog = (*source)->Introspect();
  ASSERT_TRUE(catalog.has_value()) << catalog.error().message;
  std::vector<std::string> tables;
  for (const auto& t : (*catalog)->tables) tables.push_back(t.name);
  EXPECT_THAT(tables, ::testing::ElementsAre("regions", "employees", "customers", "categories",
                                             "products", "orders", "order_items"));
  const TableInfo* orders = (*catalog)->FindTable("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->row_count, 40000);
  EXPECT_EQ(orders->FindColumn("order_date")->family, TypeFamily::kDate);
  EXPECT_EQ(orders->FindColumn("total_amount")->family, TypeFamily::kReal);
  std::vector<std::string> keys;
  for (const auto& fk : orders->foreign_keys)
    keys.push_back(fk.column + "->" + fk.ref_table + "." + fk.ref_column);
  std::sort(keys.begin(), keys.end());
  EXPECT_THAT(keys, ::testing::ElementsAre("customer_id->customers.customer_id",
                                           "employee_id->employees.employee_id"));

  auto segments = (*source)->DistinctTextValues("customers", "segment", 50);
  ASSERT_TRUE(segments.has_value());
  EXPECT_THAT(*segments, ::testing::ElementsAre("Consumer", "Corporate", "Small Business"));
  auto names = (*source)->DistinctTextValues("customers", "name", 50);
  ASSERT_TRUE(names.has_value());
  EXPECT_TRUE(names->empty());
}

TEST_F(DemoDataTest, NoTemporaryFileIsLeft) {
  EXPECT_EQ(dir_->Entries(), std::vector<std::string>{"demo.db"});
}

TEST_F(DemoDataTest, RefusesToOverwriteAnExistingFile) {
  const std::string before = ReadFile(DbPath());
  auto again = WriteDemoDatabase(DbPath().string(), 7);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(again.error().message.find("demo.db"), std::string::npos);
  EXPECT_EQ(again.error().message.find(dir_->path().string()), std::string::npos)
      << "no directories in user-facing messages";
  EXPECT_EQ(ReadFile(DbPath()), before);
  EXPECT_EQ(dir_->Entries(), std::vector<std::string>{"demo.db"});
}

TEST(DemoDataDeterminismTest, SameSeedSameBytesOtherSeedOtherData) {
  TempDir dir;
  const fs::path a = dir.path() / "a.db", b = dir.path() / "b.db", c = dir.path() / "c.db";
  ASSERT_TRUE(WriteDemoDatabase(a.string(), 42).has_value());
  ASSERT_TRUE(WriteDemoDatabase(b.string(), 42).has_value());
  ASSERT_TRUE(WriteDemoDatabase(c.string(), 43).has_value());
  EXPECT_EQ(Db(a).Checksum(), Db(b).Checksum());
  EXPECT_EQ(ReadFile(a), ReadFile(b));
  EXPECT_NE(Db(a).Checksum(), Db(c).Checksum());
  // Schema and reference tables do not depend on the seed.
  EXPECT_EQ(Db(a).Rows("SELECT * FROM categories"), Db(c).Rows("SELECT * FROM categories"));
}

TEST(DemoDataOverwriteTest, OverwriteReplacesTheFile) {
  TempDir dir;
  const fs::path path = dir.path() / "demo.db";
  {
    std::ofstream out(path);
    out << "not a database";
  }
  auto refused = WriteDemoDatabase(path.string(), 42, /*overwrite=*/false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(path), "not a database");

  auto written = WriteDemoDatabase(path.string(), 42, /*overwrite=*/true);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  EXPECT_EQ(Db(path).Int("SELECT COUNT(*) FROM regions"), 5);
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"demo.db"});
}

TEST(DemoDataErrorTest, MissingDirectoryIsAnErrorAndLeavesNothing) {
  TempDir dir;
  auto result = WriteDemoDatabase((dir.path() / "no-such-dir" / "demo.db").string());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(dir.Entries().empty());
}

TEST(DemoDataErrorTest, DirectoryInTheWayIsRefusedEvenWithOverwrite) {
  TempDir dir;
  fs::create_directory(dir.path() / "demo.db");
  auto result = WriteDemoDatabase((dir.path() / "demo.db").string(), 42, /*overwrite=*/true);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs::is_directory(dir.path() / "demo.db"));
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"demo.db"});
}

TEST(DemoDataErrorTest, EmptyPathIsInvalid) {
  auto result = WriteDemoDatabase("");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace helios::db
