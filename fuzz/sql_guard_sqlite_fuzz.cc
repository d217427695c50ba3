// Fuzzes the SQLite read-only guard: SqliteDataSource::Check (prepare under an authorizer, one
// statement, no EXPLAIN, read-only) and Execute, on a small database with the demo's tables.
// The verdict must be stable; accepted SQL must run without changing the file (the connection
// is read-only and query_only, so any change is a hole in the guard).
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "db/sqlite/sqlite_data_source.h"
#include "fuzz_check.h"

namespace {

namespace fs = std::filesystem;

constexpr const char* kSchema = R"sql(
CREATE TABLE regions(region_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE employees(employee_id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT,
  email TEXT, title TEXT, region_id INTEGER REFERENCES regions(region_id), hire_date DATE,
  salary REAL);
CREATE TABLE customers(customer_id INTEGER PRIMARY KEY, name TEXT, email TEXT, city TEXT,
  country TEXT, segment TEXT, signup_date DATE,
  employee_id INTEGER REFERENCES employees(employee_id));
CREATE TABLE orders(order_id INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers(customer_id), order_date DATE, status TEXT,
  total_amount REAL);
CREATE INDEX orders_customer ON orders(customer_id);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total_amount > 1000;
INSERT INTO regions VALUES (1, 'North'), (2, 'South');
INSERT INTO employees VALUES (1, 'Ann', 'Lee', 'ann@example.com', 'Rep', 1, '2020-01-02', 50000);
INSERT INTO customers VALUES (1, 'Acme', 'a@example.com', 'Berlin', 'Germany', 'Enterprise',
  '2023-03-04', 1), (2, 'Bolt', NULL, 'Paris', 'France', 'SMB', '2024-05-06', NULL);
INSERT INTO orders VALUES (1, 1, '2024-01-01', 'shipped', 1200.5), (2, 2, '2025-02-03',
  'pending', 80);
)sql";

struct Fixture {
  fs::path dir;
  std::string path;
  std::unique_ptr<helios::db::SqliteDataSource> source;
};

Fixture* fixture = nullptr;

void RemoveFixture() {
  if (!fixture) return;
  fixture->source.reset();
  std::error_code ec;
  fs::remove_all(fixture->dir, ec);
}

// The bytes of the database file: Execute must never change them.
std::string FileDigest(const std::string& path) {
  std::error_code ec;
  return std::to_string(fs::file_size(path, ec)) + ":" +
         std::to_string(fs::last_write_time(path, ec).time_since_epoch().count());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture = new Fixture;
  fixture->dir = fs::temp_directory_path() /
                 ("helios_fuzz_sqlite_" + std::to_string(static_cast<long>(::getpid())));
  fs::create_directories(fixture->dir);
  fixture->path = (fixture->dir / "guard.db").string();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(fixture->path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  FUZZ_CHECK(rc == SQLITE_OK);
  helios::db::SqliteOptions options;
  options.pool_size = 1;
  auto source = helios::db::SqliteDataSource::Open(fixture->path, options);
  FUZZ_CHECK(source.has_value());
  fixture->source = std::move(*source);
  std::atexit(RemoveFixture);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto& source = *fixture->source;
  auto first = source.Check(sql);
  auto second = source.Check(sql);
  FUZZ_CHECK(first.has_value() == second.has_value());
  if (!first) {
    FUZZ_CHECK(!first.error().message.empty());
    return 0;
  }
  const std::string before = FileDigest(fixture->path);
  helios::db::ExecuteOptions options;
  options.max_rows = 100;
  // Recursive CTEs can run forever; the guard's job is safety, not speed.
  options.timeout = std::chrono::milliseconds(50);
  auto result = source.Execute(sql, {}, options);
  (void)result;
  FUZZ_CHECK(FileDigest(fixture->path) == before);
  return 0;
}
