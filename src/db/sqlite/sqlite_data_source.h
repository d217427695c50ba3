// DataSource over a SQLite file, opened read-only.
//
// Safety is enforced in layers: connections are opened SQLITE_OPEN_READONLY with
// `PRAGMA query_only`, defensive mode, no attached databases and untrusted schema; user SQL is
// prepared under an authorizer that permits only SELECT, reading tables and views, recursive
// CTEs and an allow-list of side-effect-free functions; exactly one statement is accepted and
// it must be read-only by sqlite3_stmt_readonly. Every statement runs under a time limit
// (progress handler against a steady-clock deadline) and a row cap; strings and blobs are
// capped at 64 MiB and statements at 1 MB.
//
// Thread-safety: SqliteDataSource is safe to use from many threads at once. Each call leases
// one connection from a small pool for its duration.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "db/data_source.h"

namespace helios::db {

template <typename T>
class ConnectionPool;
struct SqliteConnection;

struct SqliteOptions {
  size_t pool_size = 4;                             // connections opened up front (>= 1)
  std::chrono::milliseconds acquire_timeout{2000};  // wait for a free connection
  std::chrono::milliseconds busy_timeout{1000};     // SQLite's wait on a locked file
  // Time limit for the data source's own queries (introspection, distinct values).
  std::chrono::milliseconds internal_timeout{10000};
  // Pages of the database each pooled connection keeps in memory, in KiB (SQLite's own default
  // is 2,000 per connection). Each connection caches apart, so the pool holds up to this many
  // times pool_size; the operating system caches the file for all of them, and a page read
  // again costs a copy from it. Kept small so the server's memory does not grow, long after
  // start-up, as the connections come to read other parts of the file.
  size_t page_cache_kib = 256;
  // Source of time for statement time limits; null means the system clock. Must outlive
  // the data source.
  const Clock* clock = nullptr;
};

// Bytes of memory SQLite holds in this process for every connection of every data source:
// page caches, schemas, prepared statements (sqlite3_memory_used()). Safe from any thread.
uint64_t SqliteMemoryUsed();

class SqliteDataSource final : public DataSource {
 public:
  // Opens `path`, which must be an existing SQLite file; never creates one.
  // kInvalidArgument: empty path, a directory, or not a SQLite database. kNotFound: no such
  // file. kUnavailable: the file cannot be opened.
  static Result<std::unique_ptr<SqliteDataSource>> Open(const std::string& path,
                                                        const SqliteOptions& options = {});
  ~SqliteDataSource() override;

  Dialect dialect() const override { return Dialect::kSqlite; }
  // "sqlite:<file name>", without directories.
  std::string DisplayName() const override;

  Result<std::shared_ptr<const SchemaCatalog>> Introspect() override;
  Result<void> Check(std::string_view sql) override;
  // Parameters bind to ?1, ?2, ... in order; their number must match the statement's.
  // kDeadlineExceeded when the time limit interrupts the statement.
  Result<QueryResult> Execute(std::string_view sql, const std::vector<Value>& params,
                              const ExecuteOptions& options) override;
  Result<std::vector<std::string>> DistinctTextValues(std::string_view table,
                                                      std::string_view column,
                                                      size_t limit) override;
  Result<void> Ping() override;
  PoolUsage Usage() const override;
  // Always empty: connections are opened read-only with query_only set, so no statement can
  // write whatever the file's permissions are.
  Result<std::vector<std::string>> WritePrivileges() override;

 private:
  using Pool = ConnectionPool<SqliteConnection>;
  SqliteDataSource(std::string file_name, std::unique_ptr<Pool> pool, const SqliteOptions& options);

  std::string file_name_;
  std::unique_ptr<Pool> pool_;
  SqliteOptions options_;
  const Clock& clock_;
};

}  // namespace helios::db
