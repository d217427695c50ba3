// DataSource over a MySQL or MariaDB server, through libmariadb (MariaDB Connector/C).
//
//   mysql://user:password@host:port/database?ssl-mode=REQUIRED   (also mariadb://)
//
// The user, password and database may be percent-encoded; the port defaults to 3306 and the
// connection always uses TCP. Query options: ssl-mode (DISABLED, PREFERRED, REQUIRED,
// VERIFY_CA, VERIFY_IDENTITY; default PREFERRED), ssl-ca (a CA file; the system's CA directory
// when absent) and charset (utf8mb4, the default, or utf8mb3/utf8). Connector/C 3.3 checks the
// certificate and the host name together, so VERIFY_CA verifies the host name as well.
//
// Safety is enforced in layers. User SQL must pass security::CheckMysqlSelect (a lexical
// allow-list). It runs inside START TRANSACTION READ ONLY on a session set to READ ONLY, so the
// server refuses writes even from a role that could make them; multi-statement support is never
// enabled, LOAD DATA LOCAL is disabled, and auto-reconnect is off (a reconnect would lose the
// session settings; the pool opens a fresh connection instead). Every session has time_zone
// '+00:00', a UTF-8 character set, and a sql_mode without ANSI_QUOTES or NO_BACKSLASH_ESCAPES
// (and without the modes that imply them), so that the server reads quotes and backslashes the
// way the allow-list and sql/render.cc write them. Deployments should still connect as a role
// with SELECT only (docs/security.md); WritePrivileges() reports what the role could change.
//
// Each statement has a server-side time limit (MariaDB: SET STATEMENT max_statement_time=...
// FOR ...; MySQL: SET SESSION max_execution_time) and a client-side one: the connection's read
// and write timeouts are the statement's limit plus a grace period, so a dead server or network
// never holds a worker. Rows stream from the server (prepared statements, fetched one row at a
// time, never stored whole); past max_rows the result is marked truncated and the rest is
// discarded, or the connection is closed when too much remains.
//
// Values: integers -> int64 (BIGINT UNSIGNED above INT64_MAX -> Decimal), TINYINT(1)/BOOLEAN
// and BIT(1) -> bool, other BIT -> int64, FLOAT/DOUBLE -> double (a FLOAT keeps the digits of
// its shortest decimal form), DECIMAL -> Decimal (exact digits), DATE -> "YYYY-MM-DD", DATETIME
// -> "YYYY-MM-DDTHH:MM:SS[.ffffff]", TIMESTAMP -> the same in UTC with "+00:00" appended (its
// zone is known: the session's), TIME -> "[-]HH:MM:SS[.ffffff]" (hours may exceed 24), binary
// strings and BLOBs -> Blob, JSON, text, ENUM and SET -> string, NULL -> monostate.
//
// Thread-safety: MysqlDataSource is safe to use from many threads at once; each call leases one
// connection from a NetworkPool for its duration.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "db/data_source.h"
#include "db/network_pool.h"
#include "db/open.h"

namespace helios::db {

struct MysqlConnection;

// The parts of a mysql:// URL, decoded. Exposed for tests and for DisplayName.
struct MysqlUrl {
  enum class SslMode { kDisabled, kPreferred, kRequired, kVerifyCa, kVerifyIdentity };
  std::string scheme;  // "mysql" or "mariadb", lowercase
  std::string user;
  std::string password;
  std::string host;  // without brackets for IPv6
  unsigned port = 3306;
  std::string database;
  SslMode ssl_mode = SslMode::kPreferred;
  std::string ssl_ca;
  std::string charset = "utf8mb4";
};

// kInvalidArgument for a malformed URL, naming the problem but never repeating the password.
Result<MysqlUrl> ParseMysqlUrl(std::string_view url);

// The privileges in SHOW GRANTS lines other than SELECT, SHOW VIEW and USAGE: "FILE" (global),
// "INSERT on helios.orders", "ALL PRIVILEGES on helios.*", "GRANT OPTION on helios.*",
// "UPDATE (price) on shop.products". Lines granting a role are skipped (the role's own grants
// are listed as well when it is active).
std::vector<std::string> WritePrivilegesFromGrants(const std::vector<std::string>& grants);

class MysqlDataSource final : public DataSource {
 public:
  // Parses the URL and connects once to check it. kInvalidArgument: malformed URL or unknown
  // option. kUnavailable: the server cannot be reached or refuses the login (the message names
  // the user, host and port, never the password).
  static Result<std::unique_ptr<MysqlDataSource>> Open(const std::string& url,
                                                       const OpenOptions& options);
  ~MysqlDataSource() override;

  Dialect dialect() const override { return Dialect::kMysql; }
  // "mysql://user@host:port/database" (or mariadb://, as the URL was given).
  std::string DisplayName() const override;

  // Tables and views of the URL's database, from information_schema.
  Result<std::shared_ptr<const SchemaCatalog>> Introspect() override;
  // The allow-list, then the server's own parser (the statement is prepared, not run):
  // kUnsafeSql when refused, kDatabaseError when the server cannot prepare it.
  Result<void> Check(std::string_view sql) override;
  // Parameters bind to the '?' placeholders in order. kDeadlineExceeded past the time limit,
  // kUnsafeSql when the server refuses a write or a privilege, kDatabaseError with the server's
  // message for other errors, kUnavailable when the connection is lost.
  Result<QueryResult> Execute(std::string_view sql, const std::vector<Value>& params,
                              const ExecuteOptions& options) override;
  // Only for text columns (CHAR, VARCHAR, TEXT, ENUM, SET); other columns give an empty list.
  Result<std::vector<std::string>> DistinctTextValues(std::string_view table,
                                                      std::string_view column,
                                                      size_t limit) override;
  Result<void> Ping() override;
  PoolUsage Usage() const override;
  // From SHOW GRANTS: every privilege other than SELECT, SHOW VIEW and USAGE, e.g.
  // "ALL PRIVILEGES on helios.*", "INSERT on helios.orders", "FILE", "GRANT OPTION on helios.*".
  Result<std::vector<std::string>> WritePrivileges() override;

  // Runs sql as Execute does but without the allow-list, so tests can show that the read-only
  // transaction refuses writes by itself. Never call it with SQL from users or models.
  Result<QueryResult> ExecuteWithoutAllowListForTesting(std::string_view sql);

 private:
  using Pool = NetworkPool<MysqlConnection>;
  MysqlDataSource(MysqlUrl url, const OpenOptions& options);

  Result<QueryResult> Run(std::string_view statement, const std::vector<Value>& params,
                          const ExecuteOptions& options, bool prepare_only);
  Result<std::unique_ptr<MysqlConnection>> Connect();
  // Leases a connection whose read timeout covers a statement limited to `timeout`.
  Result<Pool::Lease> Acquire(std::chrono::milliseconds timeout);

  const MysqlUrl url_;
  const OpenOptions options_;
  // The read/write timeout (seconds) new connections get: the longest statement limit seen so
  // far plus the grace period. Raised by Execute; connections below it are replaced.
  std::atomic<unsigned> io_timeout_s_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace helios::db
