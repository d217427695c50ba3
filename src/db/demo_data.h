// The demo database: a small retail business (regions, employees, customers, categories,
// products, orders, order_items) generated deterministically from a seed, so that examples,
// golden tests and benchmarks see the same rows on every machine.
//
// Schema (names are a contract; tests are written against them):
//   regions(region_id PK, name)                                              5 rows
//   employees(employee_id PK, first_name, last_name, email, title,
//             region_id -> regions, hire_date DATE, salary REAL)             50 rows
//   customers(customer_id PK, name, email, city, country, segment,
//             signup_date DATE, employee_id -> employees NULL allowed)       5,000 rows
//   categories(category_id PK, name, description)                            12 rows
//   products(product_id PK, name, category_id -> categories, unit_price REAL,
//            cost REAL, stock_quantity INTEGER, discontinued INTEGER 0/1)    300 rows
//   orders(order_id PK, customer_id -> customers, employee_id -> employees,
//          order_date DATE, ship_date DATE NULL, status, total_amount REAL)  40,000 rows
//   order_items(order_item_id PK, order_id -> orders, product_id -> products,
//               quantity INTEGER, unit_price REAL, discount REAL)            >= 100,000 rows
// Dates are ISO-8601 text ("2024-11-29"); orders span 2023-01-01..2025-12-31.
// orders.total_amount = ROUND(SUM(quantity * unit_price * (1 - discount)), 2) of its items.
//
// Thread-safety: WriteDemoDatabase is a free function with no shared state; concurrent calls
// for different paths are safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace helios::db {

struct DemoTableCount {
  std::string table;
  int64_t rows = 0;
};

struct DemoSummary {
  // One entry per table, in creation order (regions first, order_items last).
  std::vector<DemoTableCount> tables;

  // Rows written to `table`, or -1 when the demo has no such table.
  int64_t RowCount(std::string_view table) const;
};

// Writes the demo database to `path`. The same seed always yields the same rows.
// Refuses (kInvalidArgument) when `path` exists unless `overwrite` is true. The database is
// built in a temporary file next to `path` and renamed into place at the end, so `path` never
// holds a half-written database; the temporary file is removed on failure.
// Errors: kInvalidArgument (file exists), kUnavailable (cannot create or write the file),
// kDatabaseError (SQLite failed while building).
Result<DemoSummary> WriteDemoDatabase(const std::string& path, uint64_t seed = 42,
                                      bool overwrite = false);

}  // namespace helios::db
