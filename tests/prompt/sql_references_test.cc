#include "nl2sql/prompt/sql_references.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace helios::nl2sql::prompt {
namespace {

db::TableInfo Table(std::string name, std::vector<std::string> columns) {
  db::TableInfo t;
  t.name = std::move(name);
  for (auto& c : columns) t.columns.push_back({std::move(c), "TEXT", db::TypeFamily::kText});
  return t;
}

db::SchemaCatalog Catalog() {
  db::SchemaCatalog c;
  c.tables.push_back(Table("customers", {"customer_id", "name", "country"}));
  c.tables.push_back(Table("orders", {"order_id", "customer_id", "total_amount", "status"}));
  c.tables.push_back(Table("Order Items", {"order_id", "product_id", "quantity"}));
  c.tables.push_back(Table("products", {"product_id", "name", "Unit Price"}));
  return c;
}

std::vector<std::string> Columns(const SqlReferences& r) {
  std::vector<std::string> out;
  for (const auto& c : r.columns) out.push_back(c.table + "." + c.column);
  return out;
}

using Strings = std::vector<std::string>;

TEST(SqlReferencesTest, ResolvesAliasesAndBareColumns) {
  const auto cat = Catalog();
  const SqlReferences r = ExtractReferences(
      "SELECT T1.name, count(*) FROM customers AS T1 JOIN orders T2 ON T1.customer_id = "
      "T2.customer_id WHERE status = 'shipped' GROUP BY T1.name",
      cat);
  EXPECT_EQ(r.tables, (Strings{"customers", "orders"}));
  EXPECT_EQ(Columns(r), (Strings{"customers.customer_id", "customers.name", "orders.customer_id",
                                 "orders.status"}));
}

TEST(SqlReferencesTest, SubqueriesAndCompoundSelectsHaveTheirOwnTables) {
  const auto cat = Catalog();
  // `name` in the subquery is products.name; in the outer query customers.name.
  const SqlReferences r = ExtractReferences(
      "SELECT name FROM customers WHERE customer_id IN (SELECT customer_id FROM orders WHERE "
      "total_amount > 10) EXCEPT SELECT name FROM products",
      cat);
  EXPECT_EQ(r.tables, (Strings{"customers", "orders", "products"}));
  EXPECT_EQ(Columns(r), (Strings{"customers.customer_id", "customers.name", "orders.customer_id",
                                 "orders.total_amount", "products.name"}));
}

TEST(SqlReferencesTest, CorrelatedSubqueryReachesTheOuterTable) {
  const auto cat = Catalog();
  const SqlReferences r = ExtractReferences(
      "SELECT c.name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id "
      "= c.customer_id AND country = 'DE')",
      cat);
  EXPECT_EQ(Columns(r), (Strings{"customers.country", "customers.customer_id", "customers.name",
                                 "orders.customer_id"}));
}

TEST(SqlReferencesTest, QuotedIdentifiersAndStringLiterals) {
  const auto cat = Catalog();
  // Double quotes name a column when one is called that, and are a string otherwise (SQLite).
  const SqlReferences r = ExtractReferences(
      "SELECT \"Unit Price\", `quantity` FROM products JOIN \"Order Items\" AS oi ON "
      "products.product_id = oi.product_id WHERE name = \"status\" AND name != 'country'",
      cat);
  EXPECT_EQ(r.tables, (Strings{"Order Items", "products"}));
  EXPECT_EQ(Columns(r), (Strings{"Order Items.product_id", "Order Items.quantity",
                                 "products.Unit Price", "products.name", "products.product_id"}));
}

TEST(SqlReferencesTest, OutputAliasesStarsAndUnknownNamesAreLeftOut) {
  const auto cat = Catalog();
  const SqlReferences r = ExtractReferences(
      "WITH big AS (SELECT * FROM orders WHERE total_amount > 100) SELECT count(*) AS n, "
      "big.status FROM big ORDER BY n DESC -- a comment naming country\n",
      cat);
  EXPECT_EQ(r.tables, (Strings{"orders"}));
  EXPECT_EQ(Columns(r), (Strings{"orders.total_amount"}));
}

TEST(SqlReferencesTest, IsCaseInsensitiveAndReturnsCatalogSpelling) {
  const auto cat = Catalog();
  const SqlReferences r = ExtractReferences("select NAME from CUSTOMERS, Orders", cat);
  EXPECT_EQ(r.tables, (Strings{"customers", "orders"}));
  EXPECT_EQ(Columns(r), (Strings{"customers.name"}));
  EXPECT_TRUE(ExtractReferences("", cat).tables.empty());
  EXPECT_TRUE(ExtractReferences("SELECT 1", cat).columns.empty());
}

}  // namespace
}  // namespace helios::nl2sql::prompt
