// DataSource over a PostgreSQL server, through libpq.
//
// Safety is enforced in layers: user SQL must pass the libpg_query allow-list
// (security::CheckPostgresSelect) before it is sent; every statement then runs inside
// `BEGIN READ ONLY` with `SET LOCAL statement_timeout`, on a session whose
// default_transaction_read_only is on, and is always rolled back, never committed. The role in
// the URL should still be one that can only read (docs/security.md); WritePrivileges() reports
// what it could change. Values are always bound parameters ($1, $2, ... as text, blobs binary).
//
// Rows stream in libpq's single-row mode and only max_rows are kept: when one more arrives the
// statement is cancelled, so a huge result costs neither memory nor the time to read it. Every
// wait on the server polls the socket against a client-side deadline (the statement's limit
// plus a few seconds), so a dead or hung server turns into kDeadlineExceeded or kUnavailable,
// never into a stuck thread.
//
// Connections come from a NetworkPool (opened on demand, checked with `SELECT 1` after a
// while idle, replaced when broken). A connection taken from the pool that turns out dead at
// its first command (the server restarted since it was opened) is discarded together with the
// other idle ones and the operation is retried once on a new connection, so the first query
// after a restart succeeds.
//
// Thread-safety: PostgresDataSource is safe to use from many threads at once; each call leases
// one connection for its duration.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "db/data_source.h"
#include "db/open.h"

namespace helios::db {

template <typename Conn>
class NetworkPool;
struct PgConnection;
struct PgSettings;

class PostgresDataSource final : public DataSource {
 public:
  // url: a libpq URI (postgresql://user:pass@host:port/db?sslmode=...) or key=value string.
  // Connects once to check the URL and the credentials, and that every schema of
  // options.schemas exists. kInvalidArgument: a malformed URL or a missing schema.
  // kUnavailable: "could not connect to PostgreSQL at host:port/db: <libpq's reason>".
  // Messages never contain the password.
  //
  // Every connection uses libpq's connect_timeout (the acquire timeout rounded up, at least
  // 2 s) and TCP keepalives, overriding those of the URL; other URL parameters (sslmode,
  // sslrootcert, options, ...) are passed through. Time limits read the steady clock, since
  // every wait is a poll() on a socket: OpenOptions::clock and busy_timeout are not used.
  static Result<std::unique_ptr<PostgresDataSource>> Open(const std::string& url,
                                                          const OpenOptions& options);
  ~PostgresDataSource() override;
  PostgresDataSource(const PostgresDataSource&) = delete;
  PostgresDataSource& operator=(const PostgresDataSource&) = delete;

  Dialect dialect() const override { return Dialect::kPostgres; }
  // "postgresql://user@host:port/db", never the password (a Unix-socket host shows as
  // "localhost").
  std::string DisplayName() const override;

  // Tables, partitioned tables, views, materialized views and foreign tables visible through
  // the search path (outside pg_catalog and information_schema) that the role can read;
  // partitions are left out (their parent is what SQL names). Single-column foreign keys only:
  // a composite key joined on one of its columns would multiply rows, so those are skipped.
  // row_count is pg_class.reltuples, or an exact count(*) for a table never analyzed whose
  // heap is under 8 MiB; -1 otherwise (views too). The version hashes the schema's shape and
  // comments (not the row counts).
  Result<std::shared_ptr<const SchemaCatalog>> Introspect() override;
  // security::CheckPostgresSelect; its errors as they are (kUnsafeSql).
  Result<void> Check(std::string_view sql) override;
  // kDeadlineExceeded past options.timeout (statement_timeout on the server, or the client's
  // own deadline when the server stops answering); kUnavailable when the connection is lost;
  // kUnsafeSql when the read-only transaction refuses a write; kDatabaseError with the
  // server's message for any other SQL error (unknown column, syntax, division by zero).
  Result<QueryResult> Execute(std::string_view sql, const std::vector<Value>& params,
                              const ExecuteOptions& options) override;
  // kNotFound for an unknown table or column (names match case-insensitively when no exact
  // match exists). Values are cast to text and trimmed; empty strings are dropped.
  Result<std::vector<std::string>> DistinctTextValues(std::string_view table,
                                                      std::string_view column,
                                                      size_t limit) override;
  // SELECT 1 in a transaction limited to min(internal_timeout, 3 s); kUnavailable on failure.
  Result<void> Ping() override;
  // The pool's counters. The connection Open made is counted from its first use on.
  PoolUsage Usage() const override;
  // "superuser" alone for a superuser; otherwise "CREATEDB", "CREATEROLE", "CREATE on database
  // X", "CREATE on schema S" for the search-path schemas and "INSERT, UPDATE on S.T" for their
  // tables (five at most, then "... and N more tables").
  Result<std::vector<std::string>> WritePrivileges() override;

 private:
  using Pool = NetworkPool<PgConnection>;
  PostgresDataSource(std::unique_ptr<PgSettings> settings, const OpenOptions& options);

  // A new connection with the session settings applied; the error holds libpq's reason alone.
  Result<std::unique_ptr<PgConnection>> Connect() const;
  // Runs fn(connection, deadline, limit) inside a read-only transaction whose statements are
  // limited to `timeout` (the deadline adds the client's grace), on a leased connection;
  // retries once on a new connection when a pooled one is found dead at the first command.
  // fn returns Result<T>.
  template <typename T, typename Fn>
  Result<T> InReadOnlyTransaction(std::chrono::milliseconds timeout, Fn&& fn);

  std::unique_ptr<PgSettings> settings_;
  OpenOptions options_;
  std::string display_name_;
  // The connection Open made, handed out by the pool's first connect.
  mutable std::mutex first_mutex_;
  std::unique_ptr<PgConnection> first_connection_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace helios::db
