#include "db/sqlite/sqlite_data_source.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/text.h"
#include "db/sqlite/connection_pool.h"

namespace helios::db {

enum class AuthMode { kUser, kInternal };

// One SQLite connection plus the per-statement state its callbacks read. Used by one thread
// at a time (the holder of its lease).
struct SqliteConnection {
  sqlite3* db = nullptr;

  // Authorizer: user statements are checked, the data source's own statements are not.
  AuthMode mode = AuthMode::kUser;
  int first_action = -1;        // first action code seen while preparing, -1 before any
  std::string denial;           // why the statement was refused; empty when it was not
  bool denial_is_weak = false;  // denial came from SQLite's own bookkeeping on sqlite_* tables

  // Time limit of the running statement.
  const Clock* clock = nullptr;
  bool has_deadline = false;
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;

  // User statements that passed PrepareChecked and ran, by their SQL, kept reset (holding no
  // read transaction) for the next run of the same SQL: answers repeat their SQL (a cached
  // plan, a follow-up's unchanged query), and preparing costs as much as running a small query.
  // At most kKeptStatements; owned here and finalized before the connection closes.
  static constexpr size_t kKeptStatements = 64;
  std::unordered_map<std::string, sqlite3_stmt*> kept;

  SqliteConnection() = default;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  ~SqliteConnection() {
    for (auto& [sql, stmt] : kept) sqlite3_finalize(stmt);
    if (db) sqlite3_close_v2(db);
  }
};

namespace {

namespace fs = std::filesystem;

constexpr int kProgressInterval = 1000;   // VM steps between deadline checks
constexpr int kMaxSqlBytes = 1'000'000;   // longest statement accepted
constexpr int kMaxValueBytes = 64 << 20;  // longest string or blob a query may build

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

const Clock& DefaultClock() {
  static const SystemClock clock;
  return clock;
}

// ---------------------------------------------------------------------------------------------
// The authorizer for user SQL.

// Functions a read-only query may call: SQLite's core scalar, aggregate, window, date, math
// and JSON functions, minus those that touch files, load code, or build huge values.
const std::set<std::string, std::less<>>& AllowedFunctions() {
  static const std::set<std::string, std::less<>> kAllowed = {
      // core scalar
      "abs", "char", "coalesce", "concat", "concat_ws", "format", "glob", "hex", "ifnull", "iif",
      "instr", "length", "like", "likelihood", "likely", "lower", "ltrim", "max", "min", "nullif",
      "octet_length", "printf", "quote", "random", "replace", "round", "rtrim", "sign", "soundex",
      "substr", "substring", "trim", "typeof", "unhex", "unicode", "unlikely", "upper",
      "sqlite_version",
      // aggregate
      "avg", "count", "group_concat", "string_agg", "sum", "total", "median",
      // window
      "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
      "first_value", "last_value", "nth_value",
      // date and time
      "date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff", "current_date",
      "current_time", "current_timestamp",
      // math
      "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
      "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power",
      "radians", "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
      // JSON (read and build; nothing here writes to the database)
      "json", "json_array", "json_array_length", "json_extract", "json_insert", "json_object",
      "json_patch", "json_remove", "json_replace", "json_set", "json_type", "json_valid",
      "json_quote", "json_group_array", "json_group_object", "json_error_position", "json_pretty",
      "->", "->>"};
  return kAllowed;
}

// Functions refused with a specific reason.
std::optional<std::string_view> DangerousFunctionReason(std::string_view name) {
  static const std::unordered_map<std::string_view, std::string_view> kDangerous = {
      {"load_extension", "it loads native code"},
      {"readfile", "it reads files"},
      {"writefile", "it writes files"},
      {"edit", "it runs an editor"},
      {"fts3_tokenizer", "it can register native code"},
      {"zeroblob", "it can exhaust memory"},
      {"randomblob", "it can exhaust memory"},
      {"sqlite_offset", "it exposes storage details"},
      {"sqlite_compileoption_get", "it exposes build details"},
      {"sqlite_compileoption_used", "it exposes build details"},
      {"changes", "it reports on writes"},
      {"total_changes", "it reports on writes"},
      {"last_insert_rowid", "it reports on writes"},
  };
  auto it = kDangerous.find(name);
  if (it == kDangerous.end()) return std::nullopt;
  return it->second;
}

// Table-valued functions (eponymous virtual tables) that expose the file system, the storage
// or the connection's configuration (pragma_database_list shows the file path). json_each and
// json_tree stay readable.
bool IsForbiddenTable(std::string_view table) {
  const std::string t = text::ToLower(table);
  static const std::set<std::string, std::less<>> kForbidden = {
      "dbstat", "sqlite_dbpage", "sqlite_dbdata", "sqlite_dbptr", "sqlite_stmt", "sqlite_memstat",
      "fsdir",  "zipfile",       "fts3tokenize",  "completion",   "carray",      "generate_series"};
  return text::StartsWith(t, "pragma_") || kForbidden.contains(t);
}

std::string_view ActionName(int action) {
  switch (action) {
    case SQLITE_CREATE_INDEX:
      return "CREATE INDEX";
    case SQLITE_CREATE_TABLE:
      return "CREATE TABLE";
    case SQLITE_CREATE_TEMP_INDEX:
      return "CREATE TEMP INDEX";
    case SQLITE_CREATE_TEMP_TABLE:
      return "CREATE TEMP TABLE";
    case SQLITE_CREATE_TEMP_TRIGGER:
      return "CREATE TEMP TRIGGER";
    case SQLITE_CREATE_TEMP_VIEW:
      return "CREATE TEMP VIEW";
    case SQLITE_CREATE_TRIGGER:
      return "CREATE TRIGGER";
    case SQLITE_CREATE_VIEW:
      return "CREATE VIEW";
    case SQLITE_DELETE:
      return "DELETE";
    case SQLITE_DROP_INDEX:
      return "DROP INDEX";
    case SQLITE_DROP_TABLE:
      return "DROP TABLE";
    case SQLITE_DROP_TEMP_INDEX:
      return "DROP TEMP INDEX";
    case SQLITE_DROP_TEMP_TABLE:
      return "DROP TEMP TABLE";
    case SQLITE_DROP_TEMP_TRIGGER:
      return "DROP TEMP TRIGGER";
    case SQLITE_DROP_TEMP_VIEW:
      return "DROP TEMP VIEW";
    case SQLITE_DROP_TRIGGER:
      return "DROP TRIGGER";
    case SQLITE_DROP_VIEW:
      return "DROP VIEW";
    case SQLITE_INSERT:
      return "INSERT";
    case SQLITE_PRAGMA:
      return "PRAGMA";
    case SQLITE_TRANSACTION:
      return "Transaction control (BEGIN, COMMIT, ROLLBACK)";
    case SQLITE_UPDATE:
      return "UPDATE";
    case SQLITE_ATTACH:
      return "ATTACH";
    case SQLITE_DETACH:
      return "DETACH";
    case SQLITE_ALTER_TABLE:
      return "ALTER TABLE";
    case SQLITE_REINDEX:
      return "REINDEX";
    case SQLITE_ANALYZE:
      return "ANALYZE";
    case SQLITE_CREATE_VTABLE:
      return "CREATE VIRTUAL TABLE";
    case SQLITE_DROP_VTABLE:
      return "DROP VIRTUAL TABLE";
    case SQLITE_SAVEPOINT:
      return "SAVEPOINT";
    default:
      return "This statement";
  }
}

int Authorize(void* user, int action, const char* arg3, const char* arg4, const char* /*db*/,
              const char* /*trigger_or_view*/) {
  auto& c = *static_cast<SqliteConnection*>(user);
  if (c.mode == AuthMode::kInternal) return SQLITE_OK;
  const int first_action = c.first_action;
  if (c.first_action < 0) c.first_action = action;
  const std::string_view a3 = arg3 ? arg3 : "";
  const std::string_view a4 = arg4 ? arg4 : "";
  // DDL first asks to write SQLite's own tables (CREATE inserts into sqlite_master, DROP
  // deletes from it) and only then names itself. Such a write is recorded, not denied, so that
  // preparing goes on to the more telling reason; the recorded reason alone still refuses the
  // statement, which is then never run.
  const bool weak = (action == SQLITE_INSERT || action == SQLITE_UPDATE ||
                     action == SQLITE_DELETE || action == SQLITE_CREATE_TABLE) &&
                    text::StartsWith(text::ToLower(a3), "sqlite_");
  auto deny = [&c, weak](std::string reason) {
    if (c.denial.empty() || (c.denial_is_weak && !weak)) {
      c.denial = std::move(reason);
      c.denial_is_weak = weak;
    }
    return weak ? SQLITE_OK : SQLITE_DENY;
  };

  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_READ:
      if (IsForbiddenTable(a3))
        return deny(fmt::format("reading '{}' is not allowed: it exposes database internals", a3));
      return SQLITE_OK;
    case SQLITE_FUNCTION: {
      const std::string name = text::ToLower(a4);
      if (auto reason = DangerousFunctionReason(name))
        return deny(fmt::format("the function {}() is not allowed: {}", name, *reason));
      if (!AllowedFunctions().contains(name))
        return deny(fmt::format("the function {}() is not on the list of allowed functions", name));
      return SQLITE_OK;
    }
    case SQLITE_UPDATE:
      // Inside a SELECT, SQLite asks to update the schema table the first time a connection
      // uses a table-valued function (an eponymous virtual table such as json_each). Nothing
      // is written; which of those may be read is decided by IsForbiddenTable.
      if (first_action == SQLITE_SELECT && (a3 == "sqlite_master" || a3 == "sqlite_temp_master"))
        return SQLITE_OK;
      return deny("UPDATE is not allowed: only read-only queries can run");
    default:
      return deny(
          fmt::format("{} is not allowed: only read-only queries can run", ActionName(action)));
  }
}

int OnProgress(void* user) {
  auto& c = *static_cast<SqliteConnection*>(user);
  if (!c.has_deadline) return 0;
  if (c.clock->Steady() >= c.deadline) {
    c.timed_out = true;
    return 1;
  }
  return 0;
}

// Lets the data source's own statements past the authorizer for its lifetime.
class InternalScope {
 public:
  explicit InternalScope(SqliteConnection& c) : c_(c) {
    c_.mode = AuthMode::kInternal;
    c_.denial.clear();  // a refused user statement must not colour this one's errors
  }
  ~InternalScope() { c_.mode = AuthMode::kUser; }
  InternalScope(const InternalScope&) = delete;
  InternalScope& operator=(const InternalScope&) = delete;

 private:
  SqliteConnection& c_;
};

// Arms the connection's time limit for its lifetime.
class DeadlineScope {
 public:
  DeadlineScope(SqliteConnection& c, const Clock& clock, std::chrono::milliseconds timeout)
      : c_(c) {
    c_.clock = &clock;
    c_.deadline = clock.Steady() + timeout;
    c_.timed_out = false;
    c_.has_deadline = true;
  }
  ~DeadlineScope() { c_.has_deadline = false; }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  SqliteConnection& c_;
};

// True when s holds only whitespace, semicolons and comments: what may follow the one
// statement.
bool IsTrivia(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const char ch = s[i];
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v' ||
        ch == ';') {
      ++i;
    } else if (s.substr(i, 2) == "--") {
      const size_t end = s.find('\n', i);
      i = end == std::string_view::npos ? s.size() : end + 1;
    } else if (s.substr(i, 2) == "/*") {
      const size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

std::string ColumnText(sqlite3_stmt* stmt, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, i))) : std::string();
}

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT:
      return ColumnText(stmt, i);
    case SQLITE_BLOB: {
      const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, i));
      const size_t n = static_cast<size_t>(sqlite3_column_bytes(stmt, i));
      Blob blob;
      if (p) blob.bytes.assign(p, p + n);
      return blob;
    }
    default:
      return std::monostate{};
  }
}

int BindValue(sqlite3_stmt* stmt, int index, const Value& v) {
  struct Binder {
    sqlite3_stmt* stmt;
    int index;
    int operator()(std::monostate) const { return sqlite3_bind_null(stmt, index); }
    int operator()(int64_t i) const { return sqlite3_bind_int64(stmt, index, i); }
    int operator()(double d) const { return sqlite3_bind_double(stmt, index, d); }
    int operator()(const std::string& s) const {
      return sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    int operator()(const Blob& b) const {
      // A null pointer would bind NULL, so an empty blob is bound as a zero-length blob.
      if (b.bytes.empty()) return sqlite3_bind_zeroblob(stmt, index, 0);
      return sqlite3_bind_blob64(stmt, index, b.bytes.data(), b.bytes.size(), SQLITE_TRANSIENT);
    }
    // SQLite has no boolean type: true and false are stored as 1 and 0.
    int operator()(bool b) const { return sqlite3_bind_int64(stmt, index, b ? 1 : 0); }
    int operator()(const Decimal& d) const {
      return sqlite3_bind_text64(stmt, index, d.digits.data(), d.digits.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
    }
  };
  return std::visit(Binder{stmt, index}, v);
}

// The error for a failed sqlite3_step.
Error StepError(const SqliteConnection& c, int rc, std::chrono::milliseconds timeout) {
  if (c.timed_out)
    return Error(ErrorCode::kDeadlineExceeded,
                 fmt::format("the query took longer than {} ms", timeout.count()));
  if (!c.denial.empty()) return Error(ErrorCode::kUnsafeSql, c.denial);
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return Error(ErrorCode::kUnavailable, "the database is busy; try again in a moment");
  return Error(ErrorCode::kDatabaseError, sqlite3_errmsg(c.db));
}

// Prepares user SQL and accepts only one read-only statement.
Result<StmtPtr> PrepareChecked(SqliteConnection& c, std::string_view sql) {
  if (sql.empty()) return Fail(ErrorCode::kInvalidArgument, "the SQL is empty");
  if (sql.size() > static_cast<size_t>(kMaxSqlBytes))
    return Fail(ErrorCode::kPayloadTooLarge,
                fmt::format("the SQL is longer than {} bytes", kMaxSqlBytes));
  c.mode = AuthMode::kUser;
  c.first_action = -1;
  c.denial.clear();
  c.denial_is_weak = false;
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(c.db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  StmtPtr stmt(raw);
  if (!c.denial.empty()) return Fail(ErrorCode::kUnsafeSql, c.denial);
  if (rc != SQLITE_OK) return Fail(ErrorCode::kDatabaseError, sqlite3_errmsg(c.db));
  if (!stmt) return Fail(ErrorCode::kInvalidArgument, "the SQL holds no statement");
  const size_t consumed = tail ? static_cast<size_t>(tail - sql.data()) : sql.size();
  if (!IsTrivia(sql.substr(std::min(consumed, sql.size()))))
    return Fail(ErrorCode::kUnsafeSql, "only one statement is allowed");
  if (sqlite3_stmt_isexplain(stmt.get()) != 0)
    return Fail(ErrorCode::kUnsafeSql, "EXPLAIN is not allowed");
  if (sqlite3_stmt_readonly(stmt.get()) == 0)
    return Fail(ErrorCode::kUnsafeSql, "only read-only statements are allowed");
  return stmt;
}

// Runs one of the data source's own statements with text parameters, calling on_row per row.
Result<void> RunInternal(SqliteConnection& c, const Clock& clock, std::chrono::milliseconds timeout,
                         const std::string& sql, std::initializer_list<std::string_view> params,
                         const std::function<void(sqlite3_stmt*)>& on_row) {
  InternalScope internal(c);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    return Fail(ErrorCode::kDatabaseError, sqlite3_errmsg(c.db));
  StmtPtr stmt(raw);
  int index = 0;
  for (std::string_view p : params)
    sqlite3_bind_text64(stmt.get(), ++index, p.data(), p.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  DeadlineScope deadline(c, clock, timeout);
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) on_row(stmt.get());
  if (rc != SQLITE_DONE) return std::unexpected(StepError(c, rc, timeout));
  return {};
}

uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ULL;
  return (h ^ 0xff) * 1099511628211ULL;  // field separator
}

Result<std::unique_ptr<SqliteConnection>> OpenConnection(const std::string& sqlite_path,
                                                         const std::string& file_name,
                                                         const SqliteOptions& options) {
  auto c = std::make_unique<SqliteConnection>();
  // No SQLITE_OPEN_CREATE: a missing file is an error, never a new database.
  const int rc = sqlite3_open_v2(sqlite_path.c_str(), &c->db,
                                 SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK)
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot open the SQLite database '{}': {}",
                                                     file_name, sqlite3_errstr(rc)));
  sqlite3_busy_timeout(c->db, static_cast<int>(options.busy_timeout.count()));
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_limit(c->db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(c->db, SQLITE_LIMIT_LENGTH, kMaxValueBytes);
  sqlite3_limit(c->db, SQLITE_LIMIT_SQL_LENGTH, kMaxSqlBytes);
  if (sqlite3_exec(c->db, "PRAGMA query_only = 1", nullptr, nullptr, nullptr) != SQLITE_OK)
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot open the SQLite database '{}': {}",
                                                     file_name, sqlite3_errmsg(c->db)));
  // Reading the schema proves the file is a database.
  const int check =
      sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  if ((check & 0xff) == SQLITE_NOTADB)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not a SQLite database", file_name));
  if (check != SQLITE_OK)
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot read the SQLite database '{}': {}",
                                                     file_name, sqlite3_errmsg(c->db)));
  // After the check: setting it reads the file's header.
  const std::string cache_size =
      fmt::format("PRAGMA cache_size = -{}", std::max<size_t>(options.page_cache_kib, 1));
  if (sqlite3_exec(c->db, cache_size.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot read the SQLite database '{}': {}",
                                                     file_name, sqlite3_errmsg(c->db)));
  sqlite3_set_authorizer(c->db, Authorize, c.get());
  sqlite3_progress_handler(c->db, kProgressInterval, OnProgress, c.get());
  return c;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<SqliteDataSource>> SqliteDataSource::Open(const std::string& path,
                                                                 const SqliteOptions& options) {
  if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "no SQLite database file was given");
  const std::string file_name = fs::path(path).filename().string();
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found)
    return Fail(ErrorCode::kNotFound,
                fmt::format("the SQLite database file '{}' does not exist", file_name));
  if (ec)
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("cannot access the SQLite database file '{}': {}", file_name, ec.message()));
  if (!fs::is_regular_file(status))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not a SQLite database file", file_name));

  // SQLite may be built to read "file:" names as URIs; a path never is one.
  const std::string sqlite_path = text::StartsWith(path, "file:") ? "./" + path : path;
  std::vector<std::unique_ptr<SqliteConnection>> connections;
  const size_t pool_size = std::max<size_t>(options.pool_size, 1);
  for (size_t i = 0; i < pool_size; ++i) {
    auto c = OpenConnection(sqlite_path, file_name, options);
    if (!c) return std::unexpected(c.error());
    connections.push_back(std::move(*c));
  }
  return std::unique_ptr<SqliteDataSource>(
      new SqliteDataSource(file_name, std::make_unique<Pool>(std::move(connections)), options));
}

SqliteDataSource::SqliteDataSource(std::string file_name, std::unique_ptr<Pool> pool,
                                   const SqliteOptions& options)
    : file_name_(std::move(file_name)),
      pool_(std::move(pool)),
      options_(options),
      clock_(options.clock ? *options.clock : DefaultClock()) {}

SqliteDataSource::~SqliteDataSource() = default;

uint64_t SqliteMemoryUsed() { return static_cast<uint64_t>(sqlite3_memory_used()); }

std::string SqliteDataSource::DisplayName() const { return "sqlite:" + file_name_; }

Result<void> SqliteDataSource::Check(std::string_view sql) {
  auto lease = pool_->Acquire(options_.acquire_timeout);
  if (!lease) return std::unexpected(lease.error());
  auto stmt = PrepareChecked(**lease, sql);
  if (!stmt) return std::unexpected(stmt.error());
  return {};
}

Result<QueryResult> SqliteDataSource::Execute(std::string_view sql,
                                              const std::vector<Value>& params,
                                              const ExecuteOptions& options) {
  auto lease = pool_->Acquire(options_.acquire_timeout);
  if (!lease) return std::unexpected(lease.error());
  SqliteConnection& c = **lease;
  StmtPtr prepared;
  if (auto kept = c.kept.find(std::string(sql)); kept != c.kept.end()) {
    prepared.reset(kept->second);
    c.kept.erase(kept);
    sqlite3_clear_bindings(prepared.get());
    // SQLite prepares a kept statement again by itself when the schema changed; the
    // authorizer then checks it as it did the first time.
    c.mode = AuthMode::kUser;
    c.first_action = -1;
    c.denial.clear();
    c.denial_is_weak = false;
  } else {
    auto checked = PrepareChecked(c, sql);
    if (!checked) return std::unexpected(checked.error());
    prepared = std::move(*checked);
  }
  sqlite3_stmt* stmt = prepared.get();

  const int expected = sqlite3_bind_parameter_count(stmt);
  if (static_cast<size_t>(expected) != params.size())
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("the query takes {} parameter(s) but {} were given", expected, params.size()));
  for (size_t i = 0; i < params.size(); ++i) {
    if (BindValue(stmt, static_cast<int>(i) + 1, params[i]) != SQLITE_OK)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot bind parameter {}: {}", i + 1, sqlite3_errmsg(c.db)));
  }

  QueryResult result;
  DeadlineScope deadline(c, clock_, options.timeout);
  // The columns are read after the first step: a kept statement that SQLite prepared again
  // for a changed schema may have other columns than before ("SELECT *").
  int rc = sqlite3_step(stmt);
  const int column_count = sqlite3_column_count(stmt);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
    for (int i = 0; i < column_count; ++i) {
      const char* name = sqlite3_column_name(stmt, i);
      result.columns.emplace_back(name ? name : "");
    }
    result.rows.reserve(std::min<size_t>(options.max_rows, 1024));
  }
  for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
    if (result.rows.size() == options.max_rows) {
      result.truncated = true;
      rc = SQLITE_DONE;
      break;
    }
    Row row;
    row.reserve(static_cast<size_t>(column_count));
    for (int i = 0; i < column_count; ++i) row.push_back(ColumnValue(stmt, i));
    result.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return std::unexpected(StepError(c, rc, options.timeout));
  // Kept only when it ran cleanly and resets cleanly (a reset ends its read transaction).
  if (c.denial.empty() && sqlite3_reset(stmt) == SQLITE_OK) {
    if (c.kept.size() >= SqliteConnection::kKeptStatements) {
      sqlite3_finalize(c.kept.begin()->second);
      c.kept.erase(c.kept.begin());
    }
    c.kept.emplace(std::string(sql), prepared.release());
  }
  return result;
}

Result<std::shared_ptr<const SchemaCatalog>> SqliteDataSource::Introspect() {
  auto lease = pool_->Acquire(options_.acquire_timeout);
  if (!lease) return std::unexpected(lease.error());
  SqliteConnection& c = **lease;
  const auto timeout = options_.internal_timeout;
  auto catalog = std::make_shared<SchemaCatalog>();

  // The version: a hash of the whole schema text.
  uint64_t hash = 1469598103934665603ULL;
  if (auto r = RunInternal(c, clock_, timeout,
                           "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                           "ORDER BY type, name",
                           {},
                           [&](sqlite3_stmt* s) {
                             for (int i = 0; i < 4; ++i) hash = Fnv1a(hash, ColumnText(s, i));
                           });
      !r)
    return std::unexpected(r.error());
  catalog->version = hash == 0 ? 1 : hash;

  struct Entry {
    std::string name;
    bool is_view = false;
  };
  std::vector<Entry> entries;
  if (auto r = RunInternal(c, clock_, timeout,
                           "SELECT name, type FROM sqlite_schema "
                           "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' "
                           "ESCAPE '\\' AND (sql IS NULL OR sql NOT LIKE 'CREATE VIRTUAL%') "
                           "ORDER BY rowid",
                           {},
                           [&](sqlite3_stmt* s) {
                             entries.push_back({ColumnText(s, 0), ColumnText(s, 1) == "view"});
                           });
      !r)
    return std::unexpected(r.error());

  // Primary-key columns of each table in key order, to resolve foreign keys that name no column.
  std::vector<std::vector<std::string>> primary_keys;
  for (const Entry& entry : entries) {
    TableInfo table;
    table.name = entry.name;
    std::vector<std::pair<int, std::string>> pk;
    auto columns = RunInternal(c, clock_, timeout,
                               "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)",
                               {entry.name}, [&](sqlite3_stmt* s) {
                                 ColumnInfo col;
                                 col.name = ColumnText(s, 0);
                                 col.declared_type = ColumnText(s, 1);
                                 col.family = FamilyOfDeclaredType(col.declared_type);
                                 col.not_null = sqlite3_column_int(s, 2) != 0;
                                 const int pk_index = sqlite3_column_int(s, 3);
                                 col.primary_key = pk_index > 0;
                                 if (pk_index > 0) pk.emplace_back(pk_index, col.name);
                                 table.columns.push_back(std::move(col));
                               });
    if (!columns) {
      if (entry.is_view) continue;  // a broken view does not hide the rest of the schema
      return std::unexpected(columns.error());
    }
    std::sort(pk.begin(), pk.end());
    std::vector<std::string> pk_names;
    for (auto& [index, name] : pk) pk_names.push_back(std::move(name));
    primary_keys.push_back(std::move(pk_names));

    if (!entry.is_view) {
      int64_t count = -1;
      auto counted =
          RunInternal(c, clock_, timeout, "SELECT COUNT(*) FROM " + QuoteIdentifier(entry.name), {},
                      [&](sqlite3_stmt* s) { count = sqlite3_column_int64(s, 0); });
      table.row_count = counted ? count : -1;
    }
    catalog->tables.push_back(std::move(table));
  }

  for (TableInfo& table : catalog->tables) {
    struct RawKey {
      int seq;
      std::string ref_table, from;
      std::optional<std::string> to;
    };
    std::vector<RawKey> raw;
    auto keys = RunInternal(
        c, clock_, timeout,
        "SELECT seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) "
        "ORDER BY id, seq",
        {table.name}, [&](sqlite3_stmt* s) {
          RawKey k{sqlite3_column_int(s, 0), ColumnText(s, 1), ColumnText(s, 2), std::nullopt};
          if (sqlite3_column_type(s, 3) != SQLITE_NULL) k.to = ColumnText(s, 3);
          raw.push_back(std::move(k));
        });
    if (!keys) return std::unexpected(keys.error());
    for (RawKey& k : raw) {
      // Use the catalog's spelling of the target; a key to a missing table cannot be joined.
      const TableInfo* target = catalog->FindTable(k.ref_table);
      if (!target) continue;
      std::string ref_column;
      if (k.to) {
        const ColumnInfo* col = target->FindColumn(*k.to);
        ref_column = col ? col->name : *k.to;
      } else {
        // No column named: the key refers to the target's primary key.
        const auto& pk = primary_keys[static_cast<size_t>(target - catalog->tables.data())];
        if (k.seq < 0 || static_cast<size_t>(k.seq) >= pk.size()) continue;
        ref_column = pk[static_cast<size_t>(k.seq)];
      }
      table.foreign_keys.push_back({std::move(k.from), target->name, std::move(ref_column)});
    }
  }
  return std::shared_ptr<const SchemaCatalog>(std::move(catalog));
}

Result<std::vector<std::string>> SqliteDataSource::DistinctTextValues(std::string_view table,
                                                                      std::string_view column,
                                                                      size_t limit) {
  if (table.find('\0') != std::string_view::npos || column.find('\0') != std::string_view::npos)
    return Fail(ErrorCode::kInvalidArgument, "identifiers cannot contain NUL characters");
  auto lease = pool_->Acquire(options_.acquire_timeout);
  if (!lease) return std::unexpected(lease.error());
  SqliteConnection& c = **lease;
  const auto timeout = options_.internal_timeout;

  // Resolve the names first, so a typo is kNotFound rather than an SQL error.
  std::vector<std::string> columns;
  if (auto r = RunInternal(c, clock_, timeout, "SELECT name FROM pragma_table_info(?1)", {table},
                           [&](sqlite3_stmt* s) { columns.push_back(ColumnText(s, 0)); });
      !r)
    return std::unexpected(r.error());
  if (columns.empty())
    return Fail(ErrorCode::kNotFound, fmt::format("there is no table named '{}'", table));
  auto it = std::find_if(columns.begin(), columns.end(), [&](const std::string& name) {
    return text::EqualsIgnoreCase(name, column);
  });
  if (it == columns.end())
    return Fail(ErrorCode::kNotFound,
                fmt::format("the table '{}' has no column named '{}'", table, column));
  if (limit == 0) return std::vector<std::string>{};

  const std::string col = QuoteIdentifier(*it);
  const std::string trimmed = fmt::format("TRIM({}, ' ' || char(9, 10, 13))", col);
  const std::string sql = fmt::format(
      "SELECT DISTINCT {0} FROM {1} WHERE typeof({2}) = 'text' AND {0} <> '' "
      "LIMIT {3}",
      trimmed, QuoteIdentifier(table), col, limit + 1);
  std::set<std::string> values;
  size_t rows = 0;
  if (auto r = RunInternal(c, clock_, timeout, sql, {},
                           [&](sqlite3_stmt* s) {
                             ++rows;
                             values.insert(text::Trim(ColumnText(s, 0)));
                           });
      !r)
    return std::unexpected(r.error());
  if (rows > limit) return std::vector<std::string>{};
  values.erase("");
  return std::vector<std::string>(values.begin(), values.end());
}

Result<void> SqliteDataSource::Ping() {
  auto lease = pool_->Acquire(options_.acquire_timeout);
  if (!lease) return std::unexpected(lease.error());
  bool answered = false;
  auto r = RunInternal(**lease, clock_, options_.internal_timeout, "SELECT 1", {},
                       [&](sqlite3_stmt* s) { answered = sqlite3_column_int(s, 0) == 1; });
  if (!r) return Fail(ErrorCode::kUnavailable, "the database did not answer: " + r.error().message);
  if (!answered) return Fail(ErrorCode::kUnavailable, "the database did not answer");
  return {};
}

PoolUsage SqliteDataSource::Usage() const {
  PoolUsage usage;
  usage.max_size = pool_->size();
  usage.open = pool_->size();
  usage.in_use = pool_->size() - pool_->available();
  return usage;
}

Result<std::vector<std::string>> SqliteDataSource::WritePrivileges() {
  return std::vector<std::string>{};
}

}  // namespace helios::db
