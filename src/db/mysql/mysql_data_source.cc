#include "db/mysql/mysql_data_source.h"

#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "common/text.h"
#include "security/mysql_guard.h"

namespace helios::db {

// One libmariadb connection and what the data source knows about it. Used by one thread at a
// time (the holder of its lease).
struct MysqlConnection {
  MYSQL* mysql = nullptr;
  bool mariadb = true;        // MariaDB or MySQL: they spell statement time limits differently
  unsigned io_timeout_s = 0;  // its read and write timeouts
  uint64_t commands = 0;      // round trips that succeeded, over its whole life
  uint64_t leases = 0;        // times it was handed to a caller
  bool lost = false;          // the connection failed (lost, timed out, protocol error)
  bool broken = false;        // its state is unknown or it was closed on purpose

  MysqlConnection() = default;
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;
  ~MysqlConnection() { Close(); }

  void Close() {
    if (mysql) mysql_close(mysql);
    mysql = nullptr;
  }
};

namespace {

using std::chrono::milliseconds;

// Added to a statement's time limit for the client-side read and write timeouts, so that the
// server's own limit (a clean error) fires first and the socket timeout only catches a dead
// server or network.
constexpr std::chrono::seconds kIoGrace{5};
// Rows read and dropped past max_rows, hoping to reach the end of the result so that the
// connection can be reused; past this many it is closed instead (the server stops when its
// next write fails).
constexpr size_t kDrainRows = 1000;
// First buffer for a string or blob column; it grows to the longest value seen.
constexpr unsigned long kInitialBuffer = 256;

std::string ServerName(const MysqlUrl& url) {
  return url.scheme == "mariadb" ? "MariaDB" : "MySQL";
}

unsigned CeilSeconds(milliseconds ms) {
  const auto s = (ms.count() + 999) / 1000;
  return static_cast<unsigned>(std::clamp<int64_t>(s, 1, 365LL * 24 * 3600));
}

unsigned IoTimeoutFor(milliseconds statement_timeout) {
  return CeilSeconds(statement_timeout + std::chrono::duration_cast<milliseconds>(kIoGrace));
}

// ---------------------------------------------------------------------------------------------
// Errors.

// Server errors that mean the session is gone.
bool IsConnectionGone(unsigned code) {
  return (code >= CR_MIN_ERROR && code <= CR_MAX_ERROR) || code == ER_CONNECTION_KILLED ||
         code == ER_SERVER_SHUTDOWN || code == ER_NET_READ_ERROR ||
         code == ER_NET_READ_INTERRUPTED || code == ER_NET_ERROR_ON_WRITE ||
         code == ER_NET_WRITE_INTERRUPTED || code == 4031 /* MySQL: idle client dropped */;
}

bool IsStatementTimeout(unsigned code) {
  return code == ER_STATEMENT_TIMEOUT /* MariaDB 1969 */ || code == 3024 /* MySQL */;
}

bool IsRefusal(unsigned code) {
  return code == ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION || code == ER_TABLEACCESS_DENIED_ERROR ||
         code == ER_COLUMNACCESS_DENIED_ERROR || code == ER_DBACCESS_DENIED_ERROR ||
         code == ER_SPECIFIC_ACCESS_DENIED_ERROR || code == ER_PROCACCESS_DENIED_ERROR ||
         code == 1290 /* ER_OPTION_PREVENTS_STATEMENT: read_only, secure_file_priv */;
}

// The error for a failed round trip, recording on the connection what it means for its reuse.
Error MapError(MysqlConnection& c, unsigned code, std::string_view message, milliseconds timeout) {
  if (IsStatementTimeout(code))
    return Error(ErrorCode::kDeadlineExceeded,
                 fmt::format("the query took longer than {} ms", timeout.count()));
  if (IsConnectionGone(code)) {
    c.lost = true;
    return Error(ErrorCode::kUnavailable,
                 fmt::format("the database connection was lost ({}); try again", message));
  }
  if (IsRefusal(code))
    return Error(ErrorCode::kUnsafeSql, fmt::format("the database refused the query: {}", message));
  if (code >= CER_MIN_ERROR) {
    // Connector/C's own errors about its use (bind types, callbacks): the state is unknown.
    c.broken = true;
    return Error(ErrorCode::kInternal, fmt::format("the MySQL client failed: {}", message));
  }
  return Error(ErrorCode::kDatabaseError, std::string(message));
}

Error ConnectionError(MysqlConnection& c, milliseconds timeout) {
  return MapError(c, mysql_errno(c.mysql), mysql_error(c.mysql), timeout);
}

Error StatementError(MysqlConnection& c, MYSQL_STMT* stmt, milliseconds timeout) {
  // An error packet met while streaming rows is recorded on the connection, not the statement.
  if (mysql_stmt_errno(stmt) == 0 && c.mysql && mysql_errno(c.mysql) != 0)
    return ConnectionError(c, timeout);
  if (mysql_stmt_errno(stmt) == 0) {
    c.broken = true;
    return Error(ErrorCode::kUnavailable, "the database connection failed without a reason");
  }
  return MapError(c, mysql_stmt_errno(stmt), mysql_stmt_error(stmt), timeout);
}

// ---------------------------------------------------------------------------------------------
// Text-protocol round trips, for the data source's own statements (small results).

using TextRow = std::vector<std::optional<std::string>>;

// Runs sql and returns its rows (none for statements without a result).
Result<std::vector<TextRow>> QueryText(MysqlConnection& c, std::string_view sql,
                                       milliseconds timeout) {
  if (!c.mysql) return Fail(ErrorCode::kUnavailable, "the database connection was closed");
  if (mysql_real_query(c.mysql, sql.data(), sql.size()) != 0)
    return std::unexpected(ConnectionError(c, timeout));
  std::vector<TextRow> rows;
  MYSQL_RES* res = mysql_store_result(c.mysql);
  if (!res) {
    if (mysql_field_count(c.mysql) != 0) return std::unexpected(ConnectionError(c, timeout));
    ++c.commands;
    return rows;
  }
  const unsigned n = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    const unsigned long* lengths = mysql_fetch_lengths(res);
    TextRow out(n);
    for (unsigned i = 0; i < n; ++i)
      if (row[i]) out[i] = std::string(row[i], lengths[i]);
    rows.push_back(std::move(out));
  }
  mysql_free_result(res);
  ++c.commands;
  return rows;
}

Result<void> Command(MysqlConnection& c, std::string_view sql, milliseconds timeout) {
  auto r = QueryText(c, sql, timeout);
  if (!r) return std::unexpected(r.error());
  return {};
}

// A string literal for sql the data source writes itself (names from the URL and the catalog).
std::string Literal(MYSQL* mysql, std::string_view s) {
  std::string out(s.size() * 2 + 1, '\0');
  const unsigned long n = mysql_real_escape_string(mysql, out.data(), s.data(), s.size());
  out.resize(n);
  return "'" + out + "'";
}

std::string QuoteName(std::string_view name) {
  std::string out = "`";
  for (char ch : name) {
    if (ch == '`') out += '`';
    out += ch;
  }
  return out + "`";
}

// The statement with its time limit. MariaDB takes the limit as part of the statement; MySQL
// (5.7.8+) as a session variable that applies to the SELECT statements that follow.
Result<std::string> WithTimeLimit(MysqlConnection& c, std::string_view statement,
                                  milliseconds timeout) {
  const int64_t ms = std::max<int64_t>(timeout.count(), 1);
  if (c.mariadb)
    return fmt::format("SET STATEMENT max_statement_time={}.{:03} FOR {}", ms / 1000, ms % 1000,
                       statement);
  if (auto set = Command(c, fmt::format("SET SESSION max_execution_time = {}", ms), timeout); !set)
    return std::unexpected(set.error());
  return std::string(statement);
}

// The session's sql_mode without the modes that change how quotes and backslashes are read
// (ANSI_QUOTES, NO_BACKSLASH_ESCAPES, and the combinations that include ANSI_QUOTES).
std::string ReadableSqlMode(std::string_view mode) {
  static const std::set<std::string, std::less<>> kDrop = {
      "ANSI_QUOTES", "NO_BACKSLASH_ESCAPES", "ANSI", "ORACLE", "MSSQL",
      "DB2",         "POSTGRESQL",           "MAXDB"};
  std::vector<std::string> kept;
  for (const std::string& part : text::Split(mode, ',')) {
    std::string name = text::Trim(part);
    for (char& ch : name)
      if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    const bool plain = std::all_of(name.begin(), name.end(), [](char ch) {
      return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    });
    if (!name.empty() && plain && !kDrop.contains(name)) kept.push_back(name);
  }
  return text::Join(kept, ",");
}

// ---------------------------------------------------------------------------------------------
// Prepared statements: parameters in, rows streamed out.

struct StmtCloser {
  void operator()(MYSQL_STMT* s) const { mysql_stmt_close(s); }
};
using StmtPtr = std::unique_ptr<MYSQL_STMT, StmtCloser>;

// Storage a parameter's MYSQL_BIND points into.
struct ParamSlot {
  int64_t integer = 0;
  double real = 0;
  signed char tiny = 0;
  unsigned long length = 0;
};

Result<void> BindParams(MYSQL_STMT* stmt, const std::vector<Value>& params,
                        std::vector<ParamSlot>& slots, std::vector<MYSQL_BIND>& binds) {
  slots.assign(params.size(), ParamSlot{});
  binds.assign(params.size(), MYSQL_BIND{});
  for (size_t k = 0; k < params.size(); ++k) {
    MYSQL_BIND& b = binds[k];
    ParamSlot& slot = slots[k];
    const Value& v = params[k];
    if (std::holds_alternative<std::monostate>(v)) {
      b.buffer_type = MYSQL_TYPE_NULL;
    } else if (const auto* i = std::get_if<int64_t>(&v)) {
      slot.integer = *i;
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = &slot.integer;
    } else if (const auto* d = std::get_if<double>(&v)) {
      if (!std::isfinite(*d))
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("parameter {} is not a finite number", k + 1));
      slot.real = *d;
      b.buffer_type = MYSQL_TYPE_DOUBLE;
      b.buffer = &slot.real;
    } else if (const auto* flag = std::get_if<bool>(&v)) {
      slot.tiny = *flag ? 1 : 0;
      b.buffer_type = MYSQL_TYPE_TINY;
      b.buffer = &slot.tiny;
    } else {
      const std::string* s = std::get_if<std::string>(&v);
      const Decimal* dec = std::get_if<Decimal>(&v);
      const Blob* blob = std::get_if<Blob>(&v);
      if (s) {
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = const_cast<char*>(s->data());
        slot.length = s->size();
      } else if (dec) {
        b.buffer_type = MYSQL_TYPE_NEWDECIMAL;
        b.buffer = const_cast<char*>(dec->digits.data());
        slot.length = dec->digits.size();
      } else {
        b.buffer_type = MYSQL_TYPE_BLOB;
        b.buffer = const_cast<uint8_t*>(blob->bytes.data());
        slot.length = blob->bytes.size();
      }
      b.buffer_length = slot.length;
      b.length = &slot.length;
    }
  }
  if (!params.empty() && mysql_stmt_bind_param(stmt, binds.data()) != 0)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot bind the parameters: {}", mysql_stmt_error(stmt)));
  return {};
}

// One result column: how it is fetched and where it lands.
struct ColumnSlot {
  enum class As { kInteger, kFloat, kDouble, kTime, kBytes };
  As as = As::kBytes;
  enum_field_types type = MYSQL_TYPE_NULL;
  unsigned flags = 0;
  unsigned charset = 0;
  unsigned long field_length = 0;
  unsigned decimals = 0;

  int64_t integer = 0;
  float real4 = 0;
  double real8 = 0;
  MYSQL_TIME time{};
  std::vector<char> bytes;
  unsigned long length = 0;
  my_bool is_null = 0;
  my_bool error = 0;
};

bool IsIntegerType(enum_field_types t) {
  return t == MYSQL_TYPE_TINY || t == MYSQL_TYPE_SHORT || t == MYSQL_TYPE_LONG ||
         t == MYSQL_TYPE_INT24 || t == MYSQL_TYPE_LONGLONG || t == MYSQL_TYPE_YEAR;
}

bool IsTimeType(enum_field_types t) {
  return t == MYSQL_TYPE_DATE || t == MYSQL_TYPE_NEWDATE || t == MYSQL_TYPE_DATETIME ||
         t == MYSQL_TYPE_TIMESTAMP || t == MYSQL_TYPE_TIME || t == MYSQL_TYPE_DATETIME2 ||
         t == MYSQL_TYPE_TIMESTAMP2 || t == MYSQL_TYPE_TIME2;
}

void PrepareColumn(const MYSQL_FIELD& field, ColumnSlot& col, MYSQL_BIND& b) {
  col.type = field.type;
  col.flags = field.flags;
  col.charset = field.charsetnr;
  col.field_length = field.length;
  col.decimals = field.decimals;
  b = MYSQL_BIND{};
  b.is_null = &col.is_null;
  b.error = &col.error;
  b.length = &col.length;
  if (IsIntegerType(field.type)) {
    col.as = ColumnSlot::As::kInteger;
    b.buffer_type = MYSQL_TYPE_LONGLONG;
    b.buffer = &col.integer;
    b.is_unsigned = (field.flags & UNSIGNED_FLAG) != 0;
  } else if (field.type == MYSQL_TYPE_FLOAT) {
    col.as = ColumnSlot::As::kFloat;
    b.buffer_type = MYSQL_TYPE_FLOAT;
    b.buffer = &col.real4;
  } else if (field.type == MYSQL_TYPE_DOUBLE) {
    col.as = ColumnSlot::As::kDouble;
    b.buffer_type = MYSQL_TYPE_DOUBLE;
    b.buffer = &col.real8;
  } else if (IsTimeType(field.type)) {
    col.as = ColumnSlot::As::kTime;
    b.buffer_type =
        field.type == MYSQL_TYPE_DATE || field.type == MYSQL_TYPE_NEWDATE ? MYSQL_TYPE_DATE
        : field.type == MYSQL_TYPE_TIME || field.type == MYSQL_TYPE_TIME2 ? MYSQL_TYPE_TIME
                                                                          : MYSQL_TYPE_DATETIME;
    b.buffer = &col.time;
    b.buffer_length = sizeof col.time;
  } else {
    // Decimals, bits, strings, blobs, JSON, ENUM and SET arrive as bytes.
    col.as = ColumnSlot::As::kBytes;
    col.bytes.resize(std::clamp<unsigned long>(field.length, 16, kInitialBuffer));
    b.buffer_type = MYSQL_TYPE_BLOB;
    b.buffer = col.bytes.data();
    b.buffer_length = col.bytes.size();
  }
}

// A FLOAT as the double of its shortest decimal form: 1.1f is 1.1, not 1.100000023841858.
double FloatValue(float f) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, f);
  if (ec != std::errc()) return static_cast<double>(f);
  *end = '\0';
  return std::strtod(buffer, nullptr);
}

std::string Fraction(const MYSQL_TIME& t, unsigned decimals) {
  // decimals above 6 means "not fixed" (an expression): show what is there.
  unsigned digits = decimals <= 6 ? decimals : (t.second_part ? 6 : 0);
  if (digits == 0) return "";
  std::string frac = fmt::format("{:06}", t.second_part % 1000000);
  return "." + frac.substr(0, digits);
}

std::string FormatTime(const MYSQL_TIME& t, const ColumnSlot& col) {
  const enum_field_types type = col.type;
  if (type == MYSQL_TYPE_DATE || type == MYSQL_TYPE_NEWDATE)
    return fmt::format("{:04}-{:02}-{:02}", t.year, t.month, t.day);
  if (type == MYSQL_TYPE_TIME || type == MYSQL_TYPE_TIME2) {
    const unsigned long hours = static_cast<unsigned long>(t.day) * 24 + t.hour;
    return fmt::format("{}{:02}:{:02}:{:02}{}", t.neg ? "-" : "", hours, t.minute, t.second,
                       Fraction(t, col.decimals));
  }
  std::string s = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", t.year, t.month, t.day,
                              t.hour, t.minute, t.second, Fraction(t, col.decimals));
  const bool zero_date = t.year == 0 && t.month == 0 && t.day == 0;
  if ((type == MYSQL_TYPE_TIMESTAMP || type == MYSQL_TYPE_TIMESTAMP2) && !zero_date)
    s += "+00:00";  // the session's time_zone
  return s;
}

Value FromUnsigned(uint64_t u) {
  if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return Decimal{std::to_string(u)};
  return static_cast<int64_t>(u);
}

Value ColumnValue(const ColumnSlot& col) {
  if (col.is_null || col.type == MYSQL_TYPE_NULL) return std::monostate{};
  switch (col.as) {
    case ColumnSlot::As::kInteger: {
      if (col.type == MYSQL_TYPE_TINY && col.field_length == 1) return col.integer != 0;
      if (col.flags & UNSIGNED_FLAG) return FromUnsigned(static_cast<uint64_t>(col.integer));
      return col.integer;
    }
    case ColumnSlot::As::kFloat:
      return FloatValue(col.real4);
    case ColumnSlot::As::kDouble:
      return col.real8;
    case ColumnSlot::As::kTime:
      return FormatTime(col.time, col);
    case ColumnSlot::As::kBytes:
      break;
  }
  const size_t n = std::min<size_t>(col.length, col.bytes.size());
  std::string_view bytes(col.bytes.data(), n);
  switch (col.type) {
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
      return Decimal{std::string(bytes)};
    case MYSQL_TYPE_BIT: {
      uint64_t bits = 0;
      for (unsigned char byte : bytes) bits = (bits << 8) | byte;
      if (col.field_length == 1) return bits != 0;
      return FromUnsigned(bits);
    }
    case MYSQL_TYPE_JSON:  // MySQL labels JSON binary, but it is text
      return std::string(bytes);
    default:
      break;
  }
  if (col.charset == 63 /* binary */) {
    Blob blob;
    blob.bytes.assign(bytes.begin(), bytes.end());
    return blob;
  }
  return std::string(bytes);
}

// Reads the current row's columns that did not fit their buffers, growing the buffers (and
// rebinding, so the next rows fit too).
bool FetchTruncated(MYSQL_STMT* stmt, std::vector<ColumnSlot>& cols,
                    std::vector<MYSQL_BIND>& binds) {
  bool grown = false;
  for (size_t i = 0; i < cols.size(); ++i) {
    ColumnSlot& col = cols[i];
    if (col.as != ColumnSlot::As::kBytes || col.is_null || col.length <= col.bytes.size()) continue;
    col.bytes.resize(col.length);
    binds[i].buffer = col.bytes.data();
    binds[i].buffer_length = col.bytes.size();
    if (mysql_stmt_fetch_column(stmt, &binds[i], static_cast<unsigned>(i), 0) != 0) return false;
    grown = true;
  }
  if (grown && mysql_stmt_bind_result(stmt, binds.data()) != 0) return false;
  return true;
}

// Prepares sql on the connection and, unless prepare_only, executes it with params and reads
// up to max_rows rows.
Result<QueryResult> RunPrepared(MysqlConnection& c, std::string_view sql,
                                const std::vector<Value>& params, const ExecuteOptions& options,
                                bool prepare_only) {
  StmtPtr stmt(mysql_stmt_init(c.mysql));
  if (!stmt) return Fail(ErrorCode::kUnavailable, "the MySQL client is out of memory");
  if (mysql_stmt_prepare(stmt.get(), sql.data(), sql.size()) != 0)
    return std::unexpected(StatementError(c, stmt.get(), options.timeout));
  ++c.commands;

  QueryResult result;
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> meta(
      mysql_stmt_result_metadata(stmt.get()), &mysql_free_result);
  const unsigned column_count = meta ? mysql_num_fields(meta.get()) : 0;
  const MYSQL_FIELD* fields = meta ? mysql_fetch_fields(meta.get()) : nullptr;
  for (unsigned i = 0; i < column_count; ++i)
    result.columns.emplace_back(fields[i].name, fields[i].name_length);
  if (prepare_only) return result;

  const unsigned long expected = mysql_stmt_param_count(stmt.get());
  if (expected != params.size())
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("the query takes {} parameter(s) but {} were given", expected, params.size()));
  std::vector<ParamSlot> param_slots;
  std::vector<MYSQL_BIND> param_binds;
  if (auto bound = BindParams(stmt.get(), params, param_slots, param_binds); !bound)
    return std::unexpected(bound.error());
  if (mysql_stmt_execute(stmt.get()) != 0)
    return std::unexpected(StatementError(c, stmt.get(), options.timeout));
  ++c.commands;
  if (column_count == 0) return result;

  std::vector<ColumnSlot> cols(column_count);
  std::vector<MYSQL_BIND> binds(column_count);
  for (unsigned i = 0; i < column_count; ++i) PrepareColumn(fields[i], cols[i], binds[i]);
  if (mysql_stmt_bind_result(stmt.get(), binds.data()) != 0) {
    c.broken = true;
    return Fail(ErrorCode::kInternal,
                fmt::format("cannot read the result: {}", mysql_stmt_error(stmt.get())));
  }

  result.rows.reserve(std::min<size_t>(options.max_rows, 1024));
  int rc;
  while ((rc = mysql_stmt_fetch(stmt.get())) == 0 || rc == MYSQL_DATA_TRUNCATED) {
    if (result.rows.size() == options.max_rows) {
      result.truncated = true;
      break;
    }
    if (rc == MYSQL_DATA_TRUNCATED && !FetchTruncated(stmt.get(), cols, binds))
      return std::unexpected(StatementError(c, stmt.get(), options.timeout));
    Row row;
    row.reserve(column_count);
    for (const ColumnSlot& col : cols) row.push_back(ColumnValue(col));
    result.rows.push_back(std::move(row));
  }
  if (rc == 1) return std::unexpected(StatementError(c, stmt.get(), options.timeout));
  if (!result.truncated) return result;

  // Past the cap: read on a little, dropping rows, to leave the connection clean.
  size_t dropped = 0;
  while (dropped < kDrainRows &&
         ((rc = mysql_stmt_fetch(stmt.get())) == 0 || rc == MYSQL_DATA_TRUNCATED))
    ++dropped;
  if (dropped == kDrainRows) {
    // Too much remains. Closing the connection first makes closing the statement free (it
    // would otherwise read every remaining row); the server stops at its next write.
    c.Close();
    c.broken = true;
  } else if (rc == 1) {
    (void)StatementError(c, stmt.get(), options.timeout);  // marks a lost connection
    c.broken = c.broken || c.lost;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Leasing with one retry.

// Runs body on a leased connection. When the connection came from the idle list and failed
// before any round trip succeeded (the server restarted since it was opened), the idle ones
// are closed too and body runs once more on a fresh connection.
template <typename T, typename Acquire, typename Body>
Result<T> WithConnection(NetworkPool<MysqlConnection>& pool, Acquire acquire, Body body) {
  for (int attempt = 0;; ++attempt) {
    bool retry = false;
    Result<T> outcome = [&]() -> Result<T> {
      auto lease = acquire();
      if (!lease) return std::unexpected(lease.error());
      MysqlConnection& c = **lease;
      const bool reused = c.leases++ > 0;
      const uint64_t before = c.commands;
      Result<T> r = body(c);
      if (c.lost || c.broken || !c.mysql) lease->MarkBroken();
      retry = !r && c.lost && reused && c.commands == before && attempt == 0;
      return r;
    }();
    if (!retry) return outcome;
    pool.CloseIdle();
  }
}

// ---------------------------------------------------------------------------------------------
// URLs.

Result<std::string> PercentDecode(std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    auto hex = [](char ch) -> int {
      if (ch >= '0' && ch <= '9') return ch - '0';
      if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
      if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
      return -1;
    };
    const int hi = i + 1 < s.size() ? hex(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? hex(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("the {} in the MySQL URL has a '%' that is not followed by two hex "
                              "digits",
                              what));
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

constexpr std::string_view kUrlForm = "mysql://user:password@host:port/database";

// ---------------------------------------------------------------------------------------------
// SHOW GRANTS.

// Splits s at `sep` where it is outside parentheses and quotes.
std::vector<std::string> SplitTopLevel(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (char ch : s) {
    if (quote) {
      if (ch == quote) quote = 0;
    } else if (ch == '`' || ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '(') {
      ++depth;
    } else if (ch == ')') {
      --depth;
    } else if (ch == sep && depth == 0) {
      parts.push_back(text::Trim(current));
      current.clear();
      continue;
    }
    current += ch;
  }
  if (!text::Trim(current).empty()) parts.push_back(text::Trim(current));
  return parts;
}

// The position of ` word ` in s outside quotes and parentheses, case-insensitively.
size_t FindTopLevelWord(std::string_view s, std::string_view word, size_t from = 0) {
  int depth = 0;
  char quote = 0;
  for (size_t i = from; i < s.size(); ++i) {
    const char ch = s[i];
    if (quote) {
      if (ch == quote) quote = 0;
      continue;
    }
    if (ch == '`' || ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '(') {
      ++depth;
    } else if (ch == ')') {
      --depth;
    } else if (depth == 0 && ch == ' ' && i + word.size() + 2 <= s.size() &&
               text::EqualsIgnoreCase(s.substr(i + 1, word.size()), word) &&
               s[i + 1 + word.size()] == ' ') {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<std::string> WritePrivilegesFromGrants(const std::vector<std::string>& grants) {
  std::vector<std::string> out;
  for (const std::string& line : grants) {
    const std::string_view g = line;
    if (g.size() < 6 || !text::EqualsIgnoreCase(g.substr(0, 6), "GRANT ")) continue;
    const size_t on = FindTopLevelWord(g, "ON", 5);
    const size_t to = FindTopLevelWord(g, "TO", 5);
    if (on == std::string_view::npos || to == std::string_view::npos || to < on)
      continue;  // a role granted to the user: its privileges are listed under the role
    const std::string_view privileges = g.substr(6, on - 6);
    std::string object;
    for (char ch : text::Trim(g.substr(on + 4, to - on - 4)))
      if (ch != '`') object += ch;
    const bool global = object == "*.*";
    auto add = [&](std::string privilege) {
      out.push_back(global ? privilege : fmt::format("{} on {}", privilege, object));
    };
    for (std::string p : SplitTopLevel(privileges, ',')) {
      std::erase(p, '`');
      const std::string lower = text::ToLower(p);
      const std::string name = lower.substr(0, lower.find(" ("));
      if (name == "select" || name == "show view" || name == "usage") continue;
      add(p);
    }
    if (FindTopLevelWord(g, "WITH GRANT OPTION", to) != std::string_view::npos ||
        text::ToLower(g).ends_with(" with grant option"))
      add("GRANT OPTION");
  }
  return out;
}

Result<MysqlUrl> ParseMysqlUrl(std::string_view url) {
  MysqlUrl out;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("a MySQL URL looks like {}", kUrlForm));
  out.scheme = text::ToLower(url.substr(0, sep));
  if (out.scheme != "mysql" && out.scheme != "mariadb")
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("a MySQL URL begins with mysql:// or mariadb://, not {}://", out.scheme));
  std::string_view rest = url.substr(sep + 3);

  // The user information runs to the last '@' (a password may hold '@' unencoded), unless that
  // '@' is inside the query string (ssl-ca=/path/x@y.pem).
  size_t at = rest.rfind('@');
  if (const size_t q = rest.find('?'); at != std::string_view::npos &&
                                       q != std::string_view::npos && q < at &&
                                       rest.substr(q, at - q).find('=') != std::string_view::npos)
    at = rest.substr(0, q).rfind('@');
  std::string_view userinfo;
  if (at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  const size_t colon = userinfo.find(':');
  auto user = PercentDecode(userinfo.substr(0, colon), "user name");
  if (!user) return std::unexpected(user.error());
  out.user = std::move(*user);
  if (colon != std::string_view::npos) {
    auto password = PercentDecode(userinfo.substr(colon + 1), "password");
    if (!password) return std::unexpected(password.error());
    out.password = std::move(*password);
  }
  if (out.user.empty())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the MySQL URL names no user; it looks like {}", kUrlForm));

  const size_t q = rest.find('?');
  const std::string_view query = q == std::string_view::npos ? "" : rest.substr(q + 1);
  const std::string_view hostpath = rest.substr(0, q);
  const size_t slash = hostpath.find('/');
  const std::string_view hostport = hostpath.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view() : hostpath.substr(slash + 1);

  std::string_view port_text;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos)
      return Fail(ErrorCode::kInvalidArgument, "the MySQL URL has an unclosed '[' in its host");
    out.host = std::string(hostport.substr(1, close - 1));
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after.front() != ':')
      return Fail(ErrorCode::kInvalidArgument, "the MySQL URL has text after its host's ']'");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const size_t c = hostport.rfind(':');
    out.host = std::string(hostport.substr(0, c));
    if (c != std::string_view::npos) port_text = hostport.substr(c + 1);
  }
  if (out.host.empty())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the MySQL URL names no host; it looks like {}", kUrlForm));
  if (!port_text.empty() || hostport.ends_with(":")) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("the MySQL URL's port '{}' is not a number from 1 to 65535", port_text));
    out.port = port;
  }

  auto database = PercentDecode(path, "database name");
  if (!database) return std::unexpected(database.error());
  out.database = std::move(*database);
  if (out.database.empty())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the MySQL URL names no database; it looks like {}", kUrlForm));
  if (out.database.find('/') != std::string::npos)
    return Fail(ErrorCode::kInvalidArgument, "the MySQL URL's database name contains a '/'");

  for (const std::string& option : text::Split(query, '&')) {
    if (option.empty()) continue;
    const size_t eq = option.find('=');
    auto name = PercentDecode(std::string_view(option).substr(0, eq), "option name");
    if (!name) return std::unexpected(name.error());
    auto value = PercentDecode(
        eq == std::string::npos ? std::string_view() : std::string_view(option).substr(eq + 1),
        "option value");
    if (!value) return std::unexpected(value.error());
    const std::string key = text::ToLower(*name);
    if (key == "ssl-mode") {
      const std::string mode = text::ToLower(*value);
      if (mode == "disabled") {
        out.ssl_mode = MysqlUrl::SslMode::kDisabled;
      } else if (mode == "preferred") {
        out.ssl_mode = MysqlUrl::SslMode::kPreferred;
      } else if (mode == "required") {
        out.ssl_mode = MysqlUrl::SslMode::kRequired;
      } else if (mode == "verify_ca") {
        out.ssl_mode = MysqlUrl::SslMode::kVerifyCa;
      } else if (mode == "verify_identity") {
        out.ssl_mode = MysqlUrl::SslMode::kVerifyIdentity;
      } else {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("ssl-mode '{}' is not one of DISABLED, PREFERRED, REQUIRED, "
                                "VERIFY_CA, VERIFY_IDENTITY",
                                *value));
      }
    } else if (key == "ssl-ca") {
      out.ssl_ca = *value;
    } else if (key == "charset") {
      const std::string charset = text::ToLower(*value);
      // Character sets in which a backslash or quote byte can be part of a wider character
      // (GBK, Big5, SJIS, ...) would let the server read the SQL differently from the
      // allow-list; results are UTF-8 text too.
      if (charset != "utf8mb4" && charset != "utf8mb3" && charset != "utf8")
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("charset '{}' is not supported; use utf8mb4 (or utf8mb3)", *value));
      out.charset = charset;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("unknown option '{}' in the MySQL URL (known: ssl-mode, ssl-ca, "
                              "charset)",
                              *name));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<MysqlDataSource>> MysqlDataSource::Open(const std::string& url,
                                                               const OpenOptions& options) {
  auto parsed = ParseMysqlUrl(url);
  if (!parsed) return std::unexpected(parsed.error());
  std::unique_ptr<MysqlDataSource> source(new MysqlDataSource(std::move(*parsed), options));
  // Connect once now, so that a wrong address or password shows at start-up. The connection
  // stays in the pool.
  auto lease = source->pool_->Acquire();
  if (!lease) return std::unexpected(lease.error());
  ++(*lease)->leases;  // from now on it is an idle connection like any other
  return source;
}

MysqlDataSource::MysqlDataSource(MysqlUrl url, const OpenOptions& options)
    : url_(std::move(url)),
      options_(options),
      io_timeout_s_(IoTimeoutFor(std::max(options.internal_timeout, ExecuteOptions{}.timeout))) {
  NetworkPoolOptions pool;
  pool.max_size = options.pool_size;
  pool.max_idle = options.max_idle;
  pool.acquire_timeout = options.acquire_timeout;
  pool_ = std::make_unique<Pool>(
      pool, [this] { return Connect(); },
      [](MysqlConnection& c) {
        if (!c.mysql || mysql_ping(c.mysql) != 0) return false;
        ++c.commands;
        return true;
      });
}

MysqlDataSource::~MysqlDataSource() = default;

std::string MysqlDataSource::DisplayName() const {
  const bool v6 = url_.host.find(':') != std::string::npos;
  return fmt::format("{}://{}@{}{}{}:{}/{}", url_.scheme, url_.user, v6 ? "[" : "", url_.host,
                     v6 ? "]" : "", url_.port, url_.database);
}

Result<std::unique_ptr<MysqlConnection>> MysqlDataSource::Connect() {
  auto c = std::make_unique<MysqlConnection>();
  c->mysql = mysql_init(nullptr);
  if (!c->mysql) return Fail(ErrorCode::kUnavailable, "the MySQL client is out of memory");
  MYSQL* m = c->mysql;
  const unsigned connect_s = std::max(2u, CeilSeconds(options_.acquire_timeout));
  c->io_timeout_s = io_timeout_s_.load();
  const my_bool off = 0;
  const my_bool on = 1;
  const unsigned protocol = MYSQL_PROTOCOL_TCP;
  const unsigned no_local_infile = 0;
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
  mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &c->io_timeout_s);
  mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &c->io_timeout_s);
  mysql_optionsv(m, MYSQL_OPT_RECONNECT, &off);
  mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &no_local_infile);
  mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, url_.charset.c_str());
  const bool verify = url_.ssl_mode == MysqlUrl::SslMode::kVerifyCa ||
                      url_.ssl_mode == MysqlUrl::SslMode::kVerifyIdentity;
  if (url_.ssl_mode != MysqlUrl::SslMode::kDisabled) {
    mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
    mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, verify ? &on : &off);
    if (!url_.ssl_ca.empty()) {
      mysql_optionsv(m, MYSQL_OPT_SSL_CA, url_.ssl_ca.c_str());
    } else if (verify) {
      mysql_optionsv(m, MYSQL_OPT_SSL_CAPATH, "/etc/ssl/certs");
    }
  } else {
    mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &off);
  }

  const std::string where = fmt::format("the {} server at {}:{} as {}", ServerName(url_), url_.host,
                                        url_.port, url_.user);
  // Connector/C never repeats a password in its messages; this makes sure of it.
  auto scrub = [this](std::string message) {
    if (url_.password.size() >= 3)
      for (size_t p; (p = message.find(url_.password)) != std::string::npos;)
        message.replace(p, url_.password.size(), "***");
    return message;
  };
  if (!mysql_real_connect(m, url_.host.c_str(), url_.user.c_str(), url_.password.c_str(),
                          url_.database.c_str(), url_.port, nullptr, 0))
    return Fail(ErrorCode::kUnavailable,
                scrub(fmt::format("cannot connect to {}: {}", where, mysql_error(m))));
  ++c->commands;
  // Connector/C 3.3 falls back to plain text when the server has no TLS, unless the
  // certificate is verified: REQUIRED is enforced here.
  if (url_.ssl_mode != MysqlUrl::SslMode::kDisabled &&
      url_.ssl_mode != MysqlUrl::SslMode::kPreferred && mysql_get_ssl_cipher(m) == nullptr)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot connect to {}: ssl-mode requires TLS but the server does "
                            "not offer it",
                            where));
  const std::string charset = mysql_character_set_name(m);
  if (!text::StartsWith(charset, "utf8"))
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot connect to {}: the connection uses the character set {}, "
                            "not UTF-8",
                            where, charset));
  const char* info = mysql_get_server_info(m);
  c->mariadb = info && (std::strstr(info, "MariaDB") || std::strstr(info, "-maria-"));

  const milliseconds timeout = options_.internal_timeout;
  auto session_error = [&](const Error& e) {
    return Fail(ErrorCode::kUnavailable,
                scrub(fmt::format("cannot prepare a session on {}: {}", where, e.message)));
  };
  auto mode = QueryText(*c, "SELECT @@SESSION.sql_mode", timeout);
  if (!mode) return session_error(mode.error());
  const std::string current =
      !mode->empty() && !mode->front().empty() && mode->front()[0] ? *mode->front()[0] : "";
  const std::string readable = ReadableSqlMode(current);
  std::string set = "SET time_zone = '+00:00'";
  if (readable != current) set += fmt::format(", SESSION sql_mode = '{}'", readable);
  if (auto r = Command(*c, set, timeout); !r) return session_error(r.error());
  if (auto r = Command(*c, "SET SESSION TRANSACTION READ ONLY", timeout); !r)
    return session_error(r.error());
  return c;
}

Result<MysqlDataSource::Pool::Lease> MysqlDataSource::Acquire(milliseconds timeout) {
  const unsigned needed = IoTimeoutFor(timeout);
  unsigned current = io_timeout_s_.load();
  while (current < needed && !io_timeout_s_.compare_exchange_weak(current, needed)) {
  }
  // A connection opened for shorter statements would cut this one off: replace it. New
  // connections get the raised timeout, so this ends within pool_size + 1 rounds.
  for (size_t round = 0; round <= pool_->options().max_size; ++round) {
    auto lease = pool_->Acquire();
    if (!lease) return std::unexpected(lease.error());
    if ((*lease)->io_timeout_s >= needed) return lease;
    lease->MarkBroken();
  }
  return Fail(ErrorCode::kUnavailable, "no database connection could be opened; try again");
}

Result<QueryResult> MysqlDataSource::Run(std::string_view statement,
                                         const std::vector<Value>& params,
                                         const ExecuteOptions& options, bool prepare_only) {
  return WithConnection<QueryResult>(
      *pool_, [&] { return Acquire(options.timeout); },
      [&](MysqlConnection& c) -> Result<QueryResult> {
        if (prepare_only) return RunPrepared(c, statement, {}, options, true);
        if (auto begun = Command(c, "START TRANSACTION READ ONLY", options.timeout); !begun)
          return std::unexpected(begun.error());
        auto sql = WithTimeLimit(c, statement, options.timeout);
        Result<QueryResult> result = sql ? RunPrepared(c, *sql, params, options, false)
                                         : Result<QueryResult>(std::unexpected(sql.error()));
        if (c.mysql && !c.lost && !c.broken && !Command(c, "ROLLBACK", options.timeout))
          c.broken = true;
        return result;
      });
}

Result<void> MysqlDataSource::Check(std::string_view sql) {
  auto statement = security::CheckMysqlSelectStatement(sql);
  if (!statement) return std::unexpected(statement.error());
  ExecuteOptions options;
  options.timeout = options_.internal_timeout;
  auto prepared = Run(*statement, {}, options, true);
  if (!prepared) return std::unexpected(prepared.error());
  return {};
}

Result<QueryResult> MysqlDataSource::Execute(std::string_view sql, const std::vector<Value>& params,
                                             const ExecuteOptions& options) {
  auto statement = security::CheckMysqlSelectStatement(sql);
  if (!statement) return std::unexpected(statement.error());
  return Run(*statement, params, options, false);
}

Result<QueryResult> MysqlDataSource::ExecuteWithoutAllowListForTesting(std::string_view sql) {
  return Run(sql, {}, ExecuteOptions{}, false);
}

Result<std::shared_ptr<const SchemaCatalog>> MysqlDataSource::Introspect() {
  const milliseconds timeout = options_.internal_timeout;
  return WithConnection<std::shared_ptr<const SchemaCatalog>>(
      *pool_, [&] { return Acquire(timeout); },
      [&](MysqlConnection& c) -> Result<std::shared_ptr<const SchemaCatalog>> {
        const std::string db = Literal(c.mysql, url_.database);
        auto query = [&](std::string_view sql) -> Result<std::vector<TextRow>> {
          auto limited = WithTimeLimit(c, sql, timeout);
          if (!limited) return std::unexpected(limited.error());
          return QueryText(c, *limited, timeout);
        };
        auto tables = query(
            "SELECT TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, TABLE_ROWS FROM "
            "information_schema.TABLES WHERE TABLE_SCHEMA = " +
            db + " AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') ORDER BY 1");
        if (!tables) return std::unexpected(tables.error());
        auto columns = query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY, "
            "COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
            db + " ORDER BY TABLE_NAME, ORDINAL_POSITION");
        if (!columns) return std::unexpected(columns.error());
        auto keys = query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, "
            "REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE "
            "TABLE_SCHEMA = " +
            db + " AND REFERENCED_TABLE_SCHEMA = " + db +
            " AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME, "
            "ORDINAL_POSITION");
        if (!keys) return std::unexpected(keys.error());

        // The version: a hash of everything read except the row estimates.
        uint64_t hash = 1469598103934665603ULL;
        auto mix = [&hash](const std::optional<std::string>& field) {
          for (unsigned char ch : field.value_or("\x01NULL")) hash = (hash ^ ch) * 1099511628211ULL;
          hash = (hash ^ 0xff) * 1099511628211ULL;
        };
        auto text = [](const TextRow& row, size_t i) { return row[i].value_or(""); };

        auto catalog = std::make_shared<SchemaCatalog>();
        std::map<std::string, size_t> index;  // table name -> position in catalog->tables
        for (const TextRow& row : *tables) {
          for (size_t i = 0; i < 3; ++i) mix(row[i]);
          TableInfo table;
          table.name = text(row, 0);
          table.schema = url_.database;
          const bool view = text(row, 1) == "VIEW";
          const std::string comment = text(row, 2);
          if (!(view && comment == "VIEW")) table.description = comment;
          if (row[3]) {
            int64_t count = -1;
            std::from_chars(row[3]->data(), row[3]->data() + row[3]->size(), count);
            table.row_count = count;
          }
          index[table.name] = catalog->tables.size();
          catalog->tables.push_back(std::move(table));
        }
        for (const TextRow& row : *columns) {
          for (const auto& field : row) mix(field);
          auto it = index.find(text(row, 0));
          if (it == index.end()) continue;  // a table of a kind left out (a sequence)
          ColumnInfo col;
          col.name = text(row, 1);
          col.declared_type = text(row, 2);
          const std::string base =
              text::ToLower(col.declared_type.substr(0, col.declared_type.find('(')));
          // ENUM and SET hold text (their declared values must not be read as type names);
          // YEAR holds an integer.
          col.family = base == "enum" || base == "set" ? TypeFamily::kText
                       : base == "year"                ? TypeFamily::kInteger
                                                       : FamilyOfDeclaredType(col.declared_type);
          col.not_null = text(row, 3) == "NO";
          col.primary_key = text(row, 4) == "PRI";
          col.description = text(row, 5);
          catalog->tables[it->second].columns.push_back(std::move(col));
        }
        // Single-column foreign keys only: a composite key cannot be joined on one column.
        std::map<std::pair<std::string, std::string>, std::vector<const TextRow*>> constraints;
        for (const TextRow& row : *keys) {
          for (const auto& field : row) mix(field);
          constraints[{text(row, 0), text(row, 1)}].push_back(&row);
        }
        for (const auto& [name, parts] : constraints) {
          if (parts.size() != 1) continue;
          const TextRow& row = *parts.front();
          auto owner = index.find(text(row, 0));
          const TableInfo* target = catalog->FindTable(text(row, 3));
          if (owner == index.end() || !target) continue;
          const ColumnInfo* ref = target->FindColumn(text(row, 4));
          catalog->tables[owner->second].foreign_keys.push_back(
              {text(row, 2), target->name, ref ? ref->name : text(row, 4)});
        }
        catalog->version = hash == 0 ? 1 : hash;
        return std::shared_ptr<const SchemaCatalog>(std::move(catalog));
      });
}

Result<std::vector<std::string>> MysqlDataSource::DistinctTextValues(std::string_view table,
                                                                     std::string_view column,
                                                                     size_t limit) {
  if (table.find('\0') != std::string_view::npos || column.find('\0') != std::string_view::npos)
    return Fail(ErrorCode::kInvalidArgument, "identifiers cannot contain NUL characters");
  const milliseconds timeout = options_.internal_timeout;
  return WithConnection<std::vector<std::string>>(
      *pool_, [&] { return Acquire(timeout); },
      [&](MysqlConnection& c) -> Result<std::vector<std::string>> {
        // Resolve the names first (case-insensitively, like the catalog), so a typo is
        // kNotFound rather than an SQL error.
        auto found = QueryText(
            c,
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE "
            "TABLE_SCHEMA = " +
                Literal(c.mysql, url_.database) + " AND LOWER(TABLE_NAME) = LOWER(" +
                Literal(c.mysql, table) + ") ORDER BY ORDINAL_POSITION",
            timeout);
        if (!found) return std::unexpected(found.error());
        if (found->empty())
          return Fail(ErrorCode::kNotFound, fmt::format("there is no table named '{}'", table));
        const TextRow* match = nullptr;
        for (const TextRow& row : *found) {
          if (row[1].value_or("") == column) {
            match = &row;
            break;
          }
          if (!match && text::EqualsIgnoreCase(row[1].value_or(""), column)) match = &row;
        }
        if (!match)
          return Fail(ErrorCode::kNotFound,
                      fmt::format("the table '{}' has no column named '{}'", table, column));
        static const std::set<std::string, std::less<>> kText = {
            "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"};
        if (limit == 0 || !kText.contains(text::ToLower((*match)[2].value_or(""))))
          return std::vector<std::string>{};

        const std::string col = QuoteName((*match)[1].value_or(""));
        const std::string sql = fmt::format(
            "SELECT DISTINCT TRIM({0}) FROM {1}.{2} WHERE {0} IS NOT NULL AND TRIM({0}) <> '' "
            "LIMIT {3}",
            col, QuoteName(url_.database), QuoteName((*match)[0].value_or("")), limit + 1);
        auto limited = WithTimeLimit(c, sql, timeout);
        if (!limited) return std::unexpected(limited.error());
        auto rows = QueryText(c, *limited, timeout);
        if (!rows) return std::unexpected(rows.error());
        if (rows->size() > limit) return std::vector<std::string>{};
        std::set<std::string> values;
        for (const TextRow& row : *rows)
          if (row[0]) values.insert(text::Trim(*row[0]));
        values.erase("");
        return std::vector<std::string>(values.begin(), values.end());
      });
}

Result<void> MysqlDataSource::Ping() {
  const milliseconds timeout = options_.internal_timeout;
  return WithConnection<void>(
      *pool_, [&] { return Acquire(timeout); },
      [&](MysqlConnection& c) -> Result<void> {
        if (mysql_ping(c.mysql) != 0) {
          const Error e = ConnectionError(c, timeout);
          return Fail(ErrorCode::kUnavailable, "the database did not answer: " + e.message);
        }
        ++c.commands;
        return {};
      });
}

PoolUsage MysqlDataSource::Usage() const { return pool_->Usage(); }

Result<std::vector<std::string>> MysqlDataSource::WritePrivileges() {
  const milliseconds timeout = options_.internal_timeout;
  return WithConnection<std::vector<std::string>>(
      *pool_, [&] { return Acquire(timeout); },
      [&](MysqlConnection& c) -> Result<std::vector<std::string>> {
        auto rows = QueryText(c, "SHOW GRANTS", timeout);
        if (!rows) return std::unexpected(rows.error());
        std::vector<std::string> grants;
        for (const TextRow& row : *rows)
          if (!row.empty() && row[0]) grants.push_back(*row[0]);
        return WritePrivilegesFromGrants(grants);
      });
}

}  // namespace helios::db
