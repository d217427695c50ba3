// DataSource: the seam between the product and a database. One implementation per engine
// (sqlite/, postgres/, mysql/), built by the composition root from a URL (db/open.h).
//
// Contract: Execute() runs exactly one read-only statement. Every implementation enforces that
// twice: with the database's own parser (Check) before running, and by asking the database for
// read-only execution (read-only connection or transaction), with a time limit and a row cap.
// Thread-safety: implementations are safe to call from many threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "db/schema.h"
#include "db/value.h"

namespace helios::db {

enum class Dialect { kSqlite, kPostgres, kMysql };

struct ExecuteOptions {
  size_t max_rows = 1000;                   // rows beyond this are dropped, truncated=true
  std::chrono::milliseconds timeout{5000};  // statement time limit
};

// Connections of a data source's pool, for /health and metrics.
struct PoolUsage {
  size_t max_size = 0;  // pool_size
  size_t open = 0;      // connections currently open (in use + idle)
  size_t in_use = 0;    // leased to a running statement
  size_t waiting = 0;   // callers waiting for a connection
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  bool truncated = false;  // more rows existed than max_rows
};

class DataSource {
 public:
  virtual ~DataSource() = default;

  virtual Dialect dialect() const = 0;
  // A description safe to show (no credentials), e.g. "sqlite:demo.db".
  virtual std::string DisplayName() const = 0;

  // Reads tables, columns, keys and row counts.
  virtual Result<std::shared_ptr<const SchemaCatalog>> Introspect() = 0;

  // Parses sql with the database's own parser and accepts only a single read-only statement.
  // kUnsafeSql when it writes or holds several statements, kDatabaseError when it does not parse.
  virtual Result<void> Check(std::string_view sql) = 0;

  // Checks, then runs sql with positional parameters: ?1, ?2, ... in SQLite, $1, $2, ... in
  // PostgreSQL, ? in MySQL (sql/render.h writes each). Rows stream from the server and only
  // max_rows are kept. kUnavailable when no connection could be had (pool exhausted past
  // the acquire timeout, database unreachable); kDeadlineExceeded past options.timeout.
  virtual Result<QueryResult> Execute(std::string_view sql, const std::vector<Value>& params,
                                      const ExecuteOptions& options) = 0;

  // Up to `limit` distinct non-null text values of a column, for linking values in questions.
  // Returns an empty list (not an error) when the column has more than `limit` values.
  virtual Result<std::vector<std::string>> DistinctTextValues(std::string_view table,
                                                              std::string_view column,
                                                              size_t limit) = 0;

  // Cheap liveness check for /health.
  virtual Result<void> Ping() = 0;

  // The pool's connections right now.
  virtual PoolUsage Usage() const = 0;

  // What the connecting role may change, for the start-up warning: e.g. "INSERT on
  // public.orders", "CREATE on schema public", "superuser". Empty when it can only read.
  virtual Result<std::vector<std::string>> WritePrivileges() = 0;
};

}  // namespace helios::db
