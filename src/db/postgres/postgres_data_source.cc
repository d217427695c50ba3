#include "db/postgres/postgres_data_source.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/text.h"
#include "db/network_pool.h"
#include "security/sql_guard.h"

namespace helios::db {

using Deadline = std::chrono::steady_clock::time_point;

// What every connection of a data source is opened with, fixed at Open.
struct PgSettings {
  // libpq's connection keywords and values, for PQconnectdbParams.
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  // The password as written in the URL and as decoded, to scrub from messages should libpq
  // ever repeat it.
  std::vector<std::string> secrets;
  std::string session_sql;  // the SET statements each new connection runs
  std::chrono::milliseconds connect_timeout{2000};
};

// One libpq connection, used by one thread at a time (the holder of its lease). The socket is
// non-blocking: every wait is a poll() against a deadline.
struct PgConnection {
  PGconn* conn = nullptr;
  bool reused = false;  // has served a lease before, so it may have died while idle
  // The current lease's state.
  size_t completed = 0;    // commands that completed
  bool broken = false;     // must be closed rather than given back to the pool
  bool timed_out = false;  // the client-side deadline passed while the server was busy

  PgConnection() = default;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() {
    if (conn) PQfinish(conn);
  }
};

namespace {

using namespace std::chrono_literals;

// Time the client waits beyond a statement's own limit before it gives up on the server.
constexpr std::chrono::milliseconds kClientGrace = 3s;
// The pool's round trip on a connection that has been idle a while.
constexpr std::chrono::milliseconds kCheckTimeout = 2s;
// Ping's limit: /health must answer quickly.
constexpr std::chrono::milliseconds kPingTimeout = 3s;
// How long a cancel request may take before the connection is given up instead.
constexpr std::chrono::milliseconds kCancelWait = 2s;
// Tables never analyzed (reltuples < 0) are counted exactly when their heap is below this.
constexpr int64_t kCountBelowBytes = 8 << 20;
// WritePrivileges names at most this many tables.
constexpr size_t kListedTables = 5;

// Type OIDs of the built-in types (catalog/pg_type_d.h, stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kTimestampOid = 1114;
constexpr Oid kTimestamptzOid = 1184;
constexpr Oid kNumericOid = 1700;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// A failed round trip, before it becomes an Error with the caller's context.
enum class FailureKind {
  kDeadline,  // the client-side deadline passed
  kLost,      // the connection is gone
  kServer,    // the server refused the statement; the connection is fine
};
struct PgFailure {
  FailureKind kind = FailureKind::kServer;
  std::string sqlstate;
  std::string severity;
  std::string message;
};
template <typename T>
using PgResult = std::expected<T, PgFailure>;

// ---------------------------------------------------------------------------------------------
// Messages.

// libpq's messages end in a newline and may span lines ("...failed: Connection refused\n\tIs
// the server running ..."); users get one line.
std::string OneLine(std::string_view s) {
  std::string out;
  bool space = false;
  for (char ch : s) {
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
  }
  return out;
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// Removes passwords from a message. libpq does not print passwords, but some of its URL
// errors quote the whole URL (or a token of it); a password too short to replace safely drops
// the details altogether.
std::string Scrub(std::string message, std::string_view url,
                  const std::vector<std::string>& secrets) {
  if (!url.empty()) message = ReplaceAll(std::move(message), url, text::RedactUrl(url));
  for (const std::string& secret : secrets) {
    if (secret.empty() || message.find(secret) == std::string::npos) continue;
    if (secret.size() < 4) return "(details withheld: they would show the password)";
    message = ReplaceAll(std::move(message), secret, "***");
  }
  return message;
}

// The password of a URL's user information (user:password@, up to the last '@'), as written.
std::string UrlPassword(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  const size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return "";
  const std::string_view user_info = rest.substr(0, at);
  const size_t colon = user_info.find(':');
  if (colon == std::string_view::npos) return "";
  return std::string(user_info.substr(colon + 1));
}

std::string QuoteIdentifier(std::string_view id) {
  std::string out = "\"";
  for (char ch : id) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Round trips under a deadline.

PgFailure Lost(PgConnection& c, std::string message = "") {
  c.broken = true;
  if (message.empty()) message = OneLine(PQerrorMessage(c.conn));
  if (message.empty()) message = "the server closed the connection";
  return PgFailure{FailureKind::kLost, "", "", std::move(message)};
}

PgFailure TimedOut(PgConnection& c) {
  c.broken = true;  // the statement may still be running: the connection's state is unknown
  c.timed_out = true;
  return PgFailure{FailureKind::kDeadline, "", "", "the database did not answer in time"};
}

bool IsConnectionLoss(std::string_view sqlstate, std::string_view severity) {
  if (severity == "FATAL" || severity == "PANIC") return true;
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") return true;
  // 08P01 (protocol violation) is also what a wrong number of parameters gets, as a plain
  // ERROR on a healthy connection; the rest of class 08 means the connection failed.
  return sqlstate.starts_with("08") && sqlstate != "08P01";
}

PgFailure FailureOf(PgConnection& c, const PGresult* r) {
  PgFailure f;
  auto field = [r](int code) -> std::string {
    const char* v = r ? PQresultErrorField(r, code) : nullptr;
    return v ? v : "";
  };
  f.sqlstate = field(PG_DIAG_SQLSTATE);
  f.severity = field(PG_DIAG_SEVERITY_NONLOCALIZED);
  f.message = field(PG_DIAG_MESSAGE_PRIMARY);
  if (f.message.empty() && r) f.message = OneLine(PQresultErrorMessage(r));
  if (f.message.empty()) f.message = OneLine(PQerrorMessage(c.conn));
  if (PQstatus(c.conn) == CONNECTION_BAD || IsConnectionLoss(f.sqlstate, f.severity)) {
    f.kind = FailureKind::kLost;
    c.broken = true;
  }
  return f;
}

// A PQsend* call failed: the connection is known to be bad, or it is in a state that cannot
// take a command. Either way it is not reused.
PgFailure SendFailure(PgConnection& c) {
  if (PQstatus(c.conn) == CONNECTION_BAD) return Lost(c);
  c.broken = true;
  return PgFailure{FailureKind::kServer, "", "", OneLine(PQerrorMessage(c.conn))};
}

enum class Readiness { kReady, kTimeout, kError };

Readiness WaitSocket(PGconn* conn, short events, Deadline deadline) {
  const int fd = PQsocket(conn);
  if (fd < 0) return Readiness::kError;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Readiness::kTimeout;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (n > 0) return Readiness::kReady;  // errors and hang-ups are read by PQconsumeInput
    if (n < 0 && errno != EINTR) return Readiness::kError;
  }
}

// Sends what libpq has queued for the server.
std::optional<PgFailure> Flush(PgConnection& c, Deadline deadline) {
  for (;;) {
    const int r = PQflush(c.conn);
    if (r == 0) return std::nullopt;
    if (r < 0) return Lost(c);
    switch (WaitSocket(c.conn, POLLIN | POLLOUT, deadline)) {
      case Readiness::kTimeout:
        return TimedOut(c);
      case Readiness::kError:
        return Lost(c);
      case Readiness::kReady:
        break;
    }
    // The server may be sending while we send (a notice, an error): read it so it cannot
    // block us both.
    if (PQconsumeInput(c.conn) == 0) return Lost(c);
  }
}

// The next result of the command in progress; null once the command is complete.
PgResult<ResultPtr> NextResult(PgConnection& c, Deadline deadline) {
  while (PQisBusy(c.conn)) {
    switch (WaitSocket(c.conn, POLLIN, deadline)) {
      case Readiness::kTimeout:
        return std::unexpected(TimedOut(c));
      case Readiness::kError:
        return std::unexpected(Lost(c));
      case Readiness::kReady:
        break;
    }
    if (PQconsumeInput(c.conn) == 0) return std::unexpected(Lost(c));
  }
  return ResultPtr(PQgetResult(c.conn));
}

// Reads every result of the command just sent, handing the successful ones to on_result.
// A server error is returned after the rest has been read, so that the connection can take
// the next command; a lost connection or the deadline returns at once.
std::optional<PgFailure> Drain(PgConnection& c, Deadline deadline,
                               const std::function<void(ResultPtr)>& on_result) {
  std::optional<PgFailure> failure;
  for (;;) {
    auto next = NextResult(c, deadline);
    if (!next) return next.error();
    if (!*next) break;
    switch (PQresultStatus(next->get())) {
      case PGRES_TUPLES_OK:
      case PGRES_SINGLE_TUPLE:
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        if (!failure && on_result) on_result(std::move(*next));
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        // Never asked for; the connection cannot be brought back to a known state.
        c.broken = true;
        return PgFailure{FailureKind::kServer, "", "", "the server started an unexpected COPY"};
      default:
        if (!failure) failure = FailureOf(c, next->get());
        if (failure->kind == FailureKind::kLost) return failure;
        break;
    }
  }
  if (!failure) ++c.completed;
  return failure;
}

// Runs a command (or several separated by semicolons) and discards its rows.
std::optional<PgFailure> RunCommand(PgConnection& c, const std::string& sql, Deadline deadline) {
  if (!PQsendQuery(c.conn, sql.c_str())) return SendFailure(c);
  if (auto failure = Flush(c, deadline)) return failure;
  return Drain(c, deadline, nullptr);
}

// Runs one of the data source's own statements with text parameters; its rows.
PgResult<ResultPtr> Query(PgConnection& c, const std::string& sql,
                          const std::vector<std::string>& params, Deadline deadline) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  if (!PQsendQueryParams(c.conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                         values.empty() ? nullptr : values.data(), nullptr, nullptr, 0))
    return std::unexpected(SendFailure(c));
  if (auto failure = Flush(c, deadline)) return std::unexpected(*failure);
  ResultPtr rows;
  auto failure = Drain(c, deadline, [&rows](ResultPtr r) {
    if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) rows = std::move(r);
  });
  if (failure) return std::unexpected(*failure);
  if (!rows) {
    c.broken = true;
    return std::unexpected(PgFailure{FailureKind::kServer, "", "", "the query returned no rows"});
  }
  return rows;
}

// Asks the server to cancel the statement running on `conn`. PQcancel opens a connection of
// its own and waits for the server to handle the request, with no time limit, so it runs on a
// helper thread that owns everything it touches. True when the request was delivered within
// `wait`; otherwise the helper is left to finish on its own.
bool Cancel(PGconn* conn, std::chrono::milliseconds wait) {
  PGcancel* cancel = PQgetCancel(conn);
  if (!cancel) return false;
  struct State {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    bool delivered = false;
  };
  auto state = std::make_shared<State>();
  try {
    std::thread([cancel, state] {
      char error[256];
      const bool delivered = PQcancel(cancel, error, sizeof error) == 1;
      PQfreeCancel(cancel);
      {
        std::lock_guard lock(state->mutex);
        state->done = true;
        state->delivered = delivered;
      }
      state->done_cv.notify_all();
    }).detach();
  } catch (const std::system_error&) {
    PQfreeCancel(cancel);
    return false;
  }
  std::unique_lock lock(state->mutex);
  state->done_cv.wait_for(lock, wait, [&state] { return state->done; });
  return state->done && state->delivered;
}

// True when an idle connection still answers.
bool Alive(PgConnection& c) {
  c.broken = false;
  c.timed_out = false;
  const Deadline deadline = std::chrono::steady_clock::now() + kCheckTimeout;
  if (RunCommand(c, "SELECT 1", deadline)) return false;
  return PQtransactionStatus(c.conn) == PQTRANS_IDLE;
}

// ---------------------------------------------------------------------------------------------
// Values.

std::string_view Cell(const PGresult* r, int row, int column) {
  return {PQgetvalue(r, row, column), static_cast<size_t>(PQgetlength(r, row, column))};
}

bool CellBool(const PGresult* r, int row, int column) { return Cell(r, row, column) == "t"; }

int64_t CellInt(const PGresult* r, int row, int column) {
  const std::string_view s = Cell(r, row, column);
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// "2024-11-29 13:05:00.5+00" -> "2024-11-29T13:05:00.5+00:00". Infinity and BC timestamps
// stay as printed.
std::string IsoTimestamp(std::string_view printed, bool with_zone) {
  std::string s(printed);
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])) || s.ends_with(" BC")) return s;
  const size_t space = s.find(' ');
  if (space == std::string::npos) return s;
  s[space] = 'T';
  if (with_zone) {
    const size_t sign = s.find_last_of("+-");
    if (sign != std::string::npos && sign > space && s.size() - sign == 3) s += ":00";
  }
  return s;
}

Value ValueOf(const PGresult* r, int row, int column, Oid type) {
  if (PQgetisnull(r, row, column)) return std::monostate{};
  const std::string_view s = Cell(r, row, column);
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t v = 0;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return v;
      return std::string(s);
    }
    case kFloat4Oid:
    case kFloat8Oid: {
      // from_chars reads "NaN", "Infinity" and "-Infinity" as PostgreSQL prints them.
      double v = 0;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return v;
      return std::string(s);
    }
    case kNumericOid:
      return Decimal{std::string(s)};
    case kBoolOid:
      return s == "t";
    case kTimestampOid:
      return IsoTimestamp(s, false);
    case kTimestamptzOid:
      return IsoTimestamp(s, true);
    case kByteaOid: {
      size_t length = 0;
      unsigned char* bytes = PQunescapeBytea(
          reinterpret_cast<const unsigned char*>(PQgetvalue(r, row, column)), &length);
      if (!bytes) return std::string(s);
      Blob blob{std::vector<uint8_t>(bytes, bytes + length)};
      PQfreemem(bytes);
      return blob;
    }
    default:
      // Dates, times and intervals print in ISO 8601 under the session's DateStyle and
      // IntervalStyle; text, json, uuid, enums and the rest are text.
      return std::string(s);
  }
}

// Shortest text that reads back as the same double, in a form PostgreSQL accepts.
std::string FloatText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", d);
}

// Parameters in libpq's form: text, except blobs (binary). The texts must outlive the call.
struct BoundParams {
  std::vector<std::string> texts;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

Result<BoundParams> Bind(const std::vector<Value>& params) {
  static constexpr char kEmpty[1] = {0};
  if (params.size() > 65535)
    return Fail(ErrorCode::kInvalidArgument, "a query takes at most 65535 parameters");
  BoundParams b;
  const size_t n = params.size();
  b.texts.resize(n);
  b.values.assign(n, nullptr);
  b.lengths.assign(n, 0);
  b.formats.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const Value& v = params[i];
    if (IsNull(v)) continue;
    if (const auto* blob = std::get_if<Blob>(&v)) {
      if (blob->bytes.size() > static_cast<size_t>(INT_MAX))
        return Fail(ErrorCode::kPayloadTooLarge, fmt::format("parameter {} is too large", i + 1));
      b.values[i] =
          blob->bytes.empty() ? kEmpty : reinterpret_cast<const char*>(blob->bytes.data());
      b.lengths[i] = static_cast<int>(blob->bytes.size());
      b.formats[i] = 1;
      continue;
    }
    if (const auto* n64 = std::get_if<int64_t>(&v)) {
      b.texts[i] = std::to_string(*n64);
    } else if (const auto* d = std::get_if<double>(&v)) {
      b.texts[i] = FloatText(*d);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      // Text parameters travel as C strings: a NUL would silently cut the value short.
      if (s->find('\0') != std::string::npos)
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("parameter {} contains a NUL character", i + 1));
      b.texts[i] = *s;
    } else if (const auto* flag = std::get_if<bool>(&v)) {
      b.texts[i] = *flag ? "true" : "false";
    } else if (const auto* dec = std::get_if<Decimal>(&v)) {
      b.texts[i] = dec->digits;
    }
    b.values[i] = b.texts[i].c_str();
  }
  return b;
}

// FamilyOfDeclaredType reads SQLite-style names; a few PostgreSQL names would fool it
// ("interval" and "point" hold "int", "daterange" holds "date", arrays look like their
// element type).
TypeFamily PgFamily(std::string_view type) {
  const std::string t = text::ToLower(type);
  if (t.ends_with("[]") || t.ends_with("range") || t.starts_with("interval") || t == "point")
    return TypeFamily::kOther;
  return FamilyOfDeclaredType(t);
}

uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ULL;
  return (h ^ 0xff) * 1099511628211ULL;  // field separator
}

// Errors of a failed round trip, for the person who asked.
Error ErrorOf(const PgFailure& f, std::chrono::milliseconds limit) {
  switch (f.kind) {
    case FailureKind::kDeadline:
      return Error(ErrorCode::kDeadlineExceeded,
                   fmt::format("the database did not answer within {} ms; the query was cancelled",
                               (limit + kClientGrace).count()));
    case FailureKind::kLost:
      return Error(ErrorCode::kUnavailable,
                   fmt::format("the database connection was lost ({}); try again", f.message));
    case FailureKind::kServer:
      break;
  }
  if (f.sqlstate == "57014")
    return Error(ErrorCode::kDeadlineExceeded,
                 fmt::format("the query took longer than {} ms", limit.count()));
  if (f.sqlstate == "25006")
    return Error(ErrorCode::kUnsafeSql,
                 fmt::format("the database refused to write: {}", f.message));
  if (f.sqlstate == "08P01") return Error(ErrorCode::kInvalidArgument, f.message);
  return Error(ErrorCode::kDatabaseError, f.message);
}

// Ends the transaction of a lease. A connection whose state is unknown is not reused.
void Finish(PgConnection& c, Deadline deadline) {
  if (c.broken) return;
  const Deadline at_least = std::chrono::steady_clock::now() + kClientGrace;
  if (RunCommand(c, "ROLLBACK", std::max(deadline, at_least)) ||
      PQtransactionStatus(c.conn) != PQTRANS_IDLE)
    c.broken = true;
}

// The relations SQL can name through the search path, in search-path order.
constexpr const char* kVisibleRelations =
    "c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
    "AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' "
    "AND pg_catalog.pg_table_is_visible(c.oid)";
constexpr const char* kSearchPathOrder =
    "pg_catalog.array_position(pg_catalog.current_schemas(false), n.nspname::text)";

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<PostgresDataSource>> PostgresDataSource::Open(const std::string& url,
                                                                     const OpenOptions& options) {
  if (url.find('\0') != std::string::npos)
    return Fail(ErrorCode::kInvalidArgument, "the PostgreSQL URL contains a NUL character");
  for (const std::string& schema : options.schemas) {
    if (schema.empty() || schema.find('\0') != std::string::npos)
      return Fail(ErrorCode::kInvalidArgument, "a schema name is empty or contains NUL");
  }
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (!parsed) {
    std::string reason = parse_error ? OneLine(parse_error) : "out of memory";
    if (parse_error) PQfreemem(parse_error);
    return Fail(ErrorCode::kInvalidArgument,
                "the PostgreSQL URL is malformed: " + Scrub(reason, url, {UrlPassword(url)}));
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> parsed_owner(parsed, PQconninfoFree);

  auto settings = std::make_unique<PgSettings>();
  settings->secrets.push_back(UrlPassword(url));
  // Set here whatever the URL says: a connection must never outwait the pool's acquire timeout
  // by much, and keepalives are what notice a server that vanished without closing sockets.
  static const std::set<std::string, std::less<>> kOverridden = {
      "connect_timeout",     "keepalives",       "keepalives_idle",
      "keepalives_interval", "keepalives_count", "client_encoding"};
  std::string host, port, dbname, user;
  for (const PQconninfoOption* o = parsed; o->keyword; ++o) {
    if (!o->val || kOverridden.contains(o->keyword)) continue;
    const std::string_view key = o->keyword;
    if (key == "password") settings->secrets.emplace_back(o->val);
    if (key == "host" || key == "hostaddr") host = host.empty() ? o->val : host;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
    if (key == "user") user = o->val;
    settings->keywords.emplace_back(key);
    settings->values.emplace_back(o->val);
  }
  const auto seconds = std::max<int64_t>(
      2, std::chrono::ceil<std::chrono::seconds>(options.acquire_timeout).count());
  settings->connect_timeout = std::chrono::seconds(seconds);
  const std::pair<const char*, std::string> added[] = {
      {"connect_timeout", std::to_string(seconds)},
      {"keepalives", "1"},
      {"keepalives_idle", "30"},
      {"keepalives_interval", "10"},
      {"keepalives_count", "3"},
      {"client_encoding", "UTF8"},
      {"fallback_application_name", "heliosdb-conversational-bi"}};
  for (const auto& [key, value] : added) {
    settings->keywords.emplace_back(key);
    settings->values.emplace_back(value);
  }
  // The session: read-only by default (each statement also runs in BEGIN READ ONLY), and
  // output formats the value mapping relies on.
  settings->session_sql =
      "SET default_transaction_read_only = on; SET DateStyle = 'ISO, YMD'; "
      "SET IntervalStyle = 'iso_8601'; SET TimeZone = 'UTC'; SET extra_float_digits = 3; "
      "SET client_encoding = 'UTF8'; SET bytea_output = 'hex'";
  if (!options.schemas.empty()) {
    std::vector<std::string> quoted;
    for (const std::string& schema : options.schemas) quoted.push_back(QuoteIdentifier(schema));
    settings->session_sql += "; SET search_path = " + text::Join(quoted, ", ");
  }

  if (host.empty()) host = "localhost";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6
  const std::string target =
      fmt::format("{}:{}/{}", host, port.empty() ? "5432" : port, dbname.empty() ? user : dbname);
  std::unique_ptr<PostgresDataSource> source(new PostgresDataSource(std::move(settings), options));
  auto first = source->Connect();
  if (!first)
    return Fail(ErrorCode::kUnavailable, fmt::format("could not connect to PostgreSQL at {}: {}",
                                                     target, first.error().message));
  PgConnection& c = **first;

  const char* conn_host = PQhost(c.conn);
  std::string shown_host = conn_host ? conn_host : "";
  if (shown_host.empty() || shown_host.starts_with('/')) shown_host = "localhost";
  if (shown_host.find(':') != std::string::npos) shown_host = "[" + shown_host + "]";
  source->display_name_ = fmt::format("postgresql://{}@{}:{}/{}", PQuser(c.conn), shown_host,
                                      PQport(c.conn), PQdb(c.conn));

  if (!options.schemas.empty()) {
    // current_schemas leaves out schemas that do not exist or that the role may not use.
    const Deadline deadline = std::chrono::steady_clock::now() + options.internal_timeout;
    auto rows = Query(c, "SELECT s FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) s", {},
                      deadline);
    if (!rows)
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("could not read the search path of PostgreSQL at {}: {}", target,
                              rows.error().message));
    std::set<std::string> usable;
    for (int i = 0; i < PQntuples(rows->get()); ++i) usable.emplace(Cell(rows->get(), i, 0));
    for (const std::string& schema : options.schemas) {
      if (!usable.contains(schema))
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("the schema '{}' does not exist in {} or the role may not use it",
                                schema, target));
    }
  }
  c.reused = true;  // it waits for the first caller like an idle connection
  {
    std::lock_guard lock(source->first_mutex_);
    source->first_connection_ = std::move(*first);
  }
  return source;
}

PostgresDataSource::PostgresDataSource(std::unique_ptr<PgSettings> settings,
                                       const OpenOptions& options)
    : settings_(std::move(settings)), options_(options) {
  NetworkPoolOptions pool;
  pool.max_size = options.pool_size;
  pool.max_idle = options.max_idle;
  pool.acquire_timeout = options.acquire_timeout;
  pool_ = std::make_unique<Pool>(
      pool,
      [this]() -> Result<std::unique_ptr<PgConnection>> {
        {
          std::lock_guard lock(first_mutex_);
          if (first_connection_) return std::move(first_connection_);
        }
        auto c = Connect();
        if (!c)
          return Fail(ErrorCode::kUnavailable, "the database is unreachable: " + c.error().message);
        return c;
      },
      [](PgConnection& c) { return Alive(c); });
}

PostgresDataSource::~PostgresDataSource() = default;

std::string PostgresDataSource::DisplayName() const { return display_name_; }

Result<std::unique_ptr<PgConnection>> PostgresDataSource::Connect() const {
  std::vector<const char*> keywords, values;
  for (size_t i = 0; i < settings_->keywords.size(); ++i) {
    keywords.push_back(settings_->keywords[i].c_str());
    values.push_back(settings_->values[i].c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  auto c = std::make_unique<PgConnection>();
  c->conn = PQconnectdbParams(keywords.data(), values.data(), 0);
  if (!c->conn) return Fail(ErrorCode::kUnavailable, "out of memory");
  if (PQstatus(c->conn) != CONNECTION_OK)
    return Fail(ErrorCode::kUnavailable,
                Scrub(OneLine(PQerrorMessage(c->conn)), "", settings_->secrets));
  if (PQsetnonblocking(c->conn, 1) != 0)
    return Fail(ErrorCode::kUnavailable, "the connection cannot be made non-blocking");
  const Deadline deadline = std::chrono::steady_clock::now() + settings_->connect_timeout;
  if (auto failure = RunCommand(*c, settings_->session_sql, deadline))
    return Fail(ErrorCode::kUnavailable, "the session could not be set up: " +
                                             Scrub(failure->message, "", settings_->secrets));
  c->completed = 0;
  return c;
}

template <typename T, typename Fn>
Result<T> PostgresDataSource::InReadOnlyTransaction(std::chrono::milliseconds timeout, Fn&& fn) {
  const std::chrono::milliseconds limit = std::max(timeout, std::chrono::milliseconds(1));
  for (int attempt = 0;; ++attempt) {
    auto lease = pool_->Acquire();
    if (!lease) return std::unexpected(lease.error());
    PgConnection& c = **lease;
    const bool reused = std::exchange(c.reused, true);
    c.completed = 0;
    c.broken = false;
    c.timed_out = false;
    const Deadline deadline = std::chrono::steady_clock::now() + limit + kClientGrace;
    const std::string begin =
        fmt::format("BEGIN READ ONLY; SET LOCAL statement_timeout = {}", limit.count());
    if (auto failure = RunCommand(c, begin, deadline)) {
      if (c.timed_out) Cancel(c.conn, 0ms);
      lease->MarkBroken();
      // A pooled connection dead at its first command: the server restarted (or the network
      // dropped) since it was opened, and the other idle ones are likely dead too.
      if (failure->kind == FailureKind::kLost && reused && c.completed == 0 && attempt == 0) {
        pool_->CloseIdle();
        continue;
      }
      return std::unexpected(ErrorOf(*failure, limit));
    }
    Result<T> out = fn(c, deadline, limit);
    // Past the client's deadline the server may still be working: ask it to stop, without
    // waiting for an answer that may never come; the connection is closed either way.
    if (c.timed_out) Cancel(c.conn, 0ms);
    Finish(c, deadline);
    if (c.broken) lease->MarkBroken();
    return out;
  }
}

Result<void> PostgresDataSource::Check(std::string_view sql) {
  return security::CheckPostgresSelect(sql);
}

Result<QueryResult> PostgresDataSource::Execute(std::string_view sql,
                                                const std::vector<Value>& params,
                                                const ExecuteOptions& options) {
  if (auto checked = Check(sql); !checked) return std::unexpected(checked.error());
  auto bound = Bind(params);
  if (!bound) return std::unexpected(bound.error());
  const std::string statement(sql);
  const size_t max_rows = options.max_rows;

  return InReadOnlyTransaction<QueryResult>(
      options.timeout,
      [&](PgConnection& c, Deadline deadline,
          std::chrono::milliseconds limit) -> Result<QueryResult> {
        const int n = static_cast<int>(bound->values.size());
        if (!PQsendQueryParams(
                c.conn, statement.c_str(), n, nullptr, n ? bound->values.data() : nullptr,
                n ? bound->lengths.data() : nullptr, n ? bound->formats.data() : nullptr, 0))
          return std::unexpected(ErrorOf(SendFailure(c), limit));
        // Rows one at a time, so that only max_rows are ever held.
        if (!PQsetSingleRowMode(c.conn)) {
          c.broken = true;
          return Fail(ErrorCode::kInternal, "single-row mode could not be set");
        }
        if (auto failure = Flush(c, deadline)) return std::unexpected(ErrorOf(*failure, limit));

        QueryResult result;
        std::vector<Oid> types;
        bool described = false;
        bool cancelled = false;  // we asked the server to stop: enough rows were read
        std::optional<PgFailure> failure;
        for (;;) {
          auto next = NextResult(c, deadline);
          if (!next) {
            failure = next.error();
            break;
          }
          const PGresult* r = next->get();
          if (!r) break;
          const ExecStatusType status = PQresultStatus(r);
          if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
            if (!described) {
              described = true;
              const int fields = PQnfields(r);
              for (int i = 0; i < fields; ++i) {
                const char* name = PQfname(r, i);
                result.columns.emplace_back(name ? name : "");
                types.push_back(PQftype(r, i));
              }
            }
            for (int row = 0; row < PQntuples(r); ++row) {
              if (result.rows.size() >= max_rows) {
                result.truncated = true;
                if (!cancelled) {
                  cancelled = true;
                  // Reading the rest could take as long as the query: stop it instead. If the
                  // request cannot be delivered, the connection is given up (closing it ends
                  // the statement too).
                  if (!Cancel(c.conn, kCancelWait)) c.broken = true;
                }
                break;
              }
              Row values;
              values.reserve(types.size());
              for (int col = 0; col < static_cast<int>(types.size()); ++col)
                values.push_back(ValueOf(r, row, col, types[static_cast<size_t>(col)]));
              result.rows.push_back(std::move(values));
            }
            if (c.broken) break;
          } else if (status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY) {
            continue;
          } else if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT ||
                     status == PGRES_COPY_BOTH) {
            c.broken = true;
            return Fail(ErrorCode::kInternal, "the server started an unexpected COPY");
          } else if (!failure) {
            failure = FailureOf(c, r);
            if (failure->kind == FailureKind::kLost) break;
          }
        }
        // Once max_rows were kept, what ends the statement afterwards (our own cancel, 57014,
        // or an error in rows that would have been dropped anyway) does not change the answer.
        if (failure && !cancelled) return std::unexpected(ErrorOf(*failure, limit));
        if (!failure && !c.broken) ++c.completed;
        return result;
      });
}

Result<std::shared_ptr<const SchemaCatalog>> PostgresDataSource::Introspect() {
  return InReadOnlyTransaction<std::shared_ptr<const SchemaCatalog>>(
      options_.internal_timeout,
      [&](PgConnection& c, Deadline deadline,
          std::chrono::milliseconds limit) -> Result<std::shared_ptr<const SchemaCatalog>> {
        auto catalog = std::make_shared<SchemaCatalog>();
        auto relations =
            Query(c,
                  fmt::format("SELECT c.oid::int8, c.relname, n.nspname, "
                              "coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), ''), "
                              "c.reltuples::float8, "
                              "CASE WHEN c.relkind IN ('r', 'm') AND c.reltuples < 0 "
                              "THEN pg_catalog.pg_relation_size(c.oid) < {} ELSE false END, "
                              "c.relkind IN ('v', 'f') "
                              "FROM pg_catalog.pg_class c "
                              "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE {} AND pg_catalog.has_any_column_privilege(c.oid, 'SELECT') "
                              "ORDER BY {}, c.relname",
                              kCountBelowBytes, kVisibleRelations, kSearchPathOrder),
                  {}, deadline);
        if (!relations) return std::unexpected(ErrorOf(relations.error(), limit));
        const PGresult* rel = relations->get();
        std::unordered_map<int64_t, size_t> index_of_oid;
        std::vector<std::string> oids;
        std::vector<bool> needs_count;
        for (int i = 0; i < PQntuples(rel); ++i) {
          TableInfo table;
          table.name = Cell(rel, i, 1);
          table.schema = Cell(rel, i, 2);
          table.description = Cell(rel, i, 3);
          const double tuples = std::strtod(PQgetvalue(rel, i, 4), nullptr);
          const bool no_stats = CellBool(rel, i, 6) || tuples < 0;
          table.row_count = no_stats ? -1 : static_cast<int64_t>(std::llround(tuples));
          needs_count.push_back(CellBool(rel, i, 5));
          index_of_oid[CellInt(rel, i, 0)] = catalog->tables.size();
          oids.emplace_back(Cell(rel, i, 0));
          catalog->tables.push_back(std::move(table));
        }
        const std::string oid_array = "{" + text::Join(oids, ",") + "}";

        auto columns =
            Query(c,
                  "SELECT a.attrelid::int8, a.attname, "
                  "pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                  "coalesce(pg_catalog.col_description(a.attrelid, a.attnum), ''), "
                  "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid "
                  "AND i.indisprimary AND a.attnum = ANY (i.indkey)), "
                  // What the engine should reason about: enums are text, domains their base type.
                  "CASE WHEN t.typtype = 'e' THEN 'text' WHEN t.typtype = 'd' "
                  "THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) "
                  "ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END "
                  "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
                  "WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped "
                  "AND pg_catalog.has_column_privilege(a.attrelid, a.attnum, 'SELECT') "
                  "ORDER BY a.attrelid, a.attnum",
                  {oid_array}, deadline);
        if (!columns) return std::unexpected(ErrorOf(columns.error(), limit));
        const PGresult* col = columns->get();
        for (int i = 0; i < PQntuples(col); ++i) {
          auto it = index_of_oid.find(CellInt(col, i, 0));
          if (it == index_of_oid.end()) continue;
          ColumnInfo info;
          info.name = Cell(col, i, 1);
          info.declared_type = Cell(col, i, 2);
          info.not_null = CellBool(col, i, 3);
          info.description = Cell(col, i, 4);
          info.primary_key = CellBool(col, i, 5);
          info.family = PgFamily(Cell(col, i, 6));
          catalog->tables[it->second].columns.push_back(std::move(info));
        }

        // Single-column keys only: joining on one column of a composite key would multiply
        // rows. conparentid = 0 leaves out the copies made for each partition of a target.
        auto keys =
            Query(c,
                  "SELECT con.conrelid::int8, a.attname, con.confrelid::int8, fa.attname "
                  "FROM pg_catalog.pg_constraint con "
                  "JOIN pg_catalog.pg_attribute a "
                  "ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] "
                  "JOIN pg_catalog.pg_attribute fa "
                  "ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[1] "
                  "WHERE con.contype = 'f' AND con.conparentid = 0 "
                  "AND pg_catalog.cardinality(con.conkey) = 1 AND con.conrelid = ANY ($1::oid[]) "
                  "ORDER BY con.conrelid, con.conname",
                  {oid_array}, deadline);
        if (!keys) return std::unexpected(ErrorOf(keys.error(), limit));
        const PGresult* key = keys->get();
        for (int i = 0; i < PQntuples(key); ++i) {
          auto from = index_of_oid.find(CellInt(key, i, 0));
          auto to = index_of_oid.find(CellInt(key, i, 2));
          if (from == index_of_oid.end() || to == index_of_oid.end()) continue;
          TableInfo& table = catalog->tables[from->second];
          const TableInfo& target = catalog->tables[to->second];
          const std::string column(Cell(key, i, 1));
          const std::string ref_column(Cell(key, i, 3));
          // Columns the role cannot read are not in the catalog, nor are joins through them.
          if (!table.FindColumn(column) || !target.FindColumn(ref_column)) continue;
          table.foreign_keys.push_back({column, target.name, ref_column});
        }

        // The version: the catalog's shape and comments, not its row counts.
        uint64_t hash = 1469598103934665603ULL;
        for (const TableInfo& t : catalog->tables) {
          hash = Fnv1a(Fnv1a(Fnv1a(hash, t.schema), t.name), t.description);
          for (const ColumnInfo& ci : t.columns) {
            hash = Fnv1a(Fnv1a(Fnv1a(hash, ci.name), ci.declared_type), ci.description);
            hash = Fnv1a(hash,
                         fmt::format("{}{}", ci.not_null ? 'n' : '-', ci.primary_key ? 'p' : '-'));
          }
          for (const ForeignKey& fk : t.foreign_keys)
            hash = Fnv1a(Fnv1a(Fnv1a(hash, fk.column), fk.ref_table), fk.ref_column);
        }
        catalog->version = hash == 0 ? 1 : hash;

        // Exact counts for small tables without statistics (new, or never vacuumed). A count
        // that fails on the server leaves the rest unknown, since the transaction is then over.
        for (size_t i = 0; i < catalog->tables.size(); ++i) {
          if (!needs_count[i]) continue;
          TableInfo& t = catalog->tables[i];
          auto counted = Query(c,
                               fmt::format("SELECT count(*) FROM {}.{}", QuoteIdentifier(t.schema),
                                           QuoteIdentifier(t.name)),
                               {}, deadline);
          if (!counted) {
            if (counted.error().kind != FailureKind::kServer)
              return std::unexpected(ErrorOf(counted.error(), limit));
            break;
          }
          t.row_count = CellInt(counted->get(), 0, 0);
        }
        return std::shared_ptr<const SchemaCatalog>(std::move(catalog));
      });
}

Result<std::vector<std::string>> PostgresDataSource::DistinctTextValues(std::string_view table,
                                                                        std::string_view column,
                                                                        size_t limit) {
  if (table.find('\0') != std::string_view::npos || column.find('\0') != std::string_view::npos)
    return Fail(ErrorCode::kInvalidArgument, "identifiers cannot contain NUL characters");
  const std::string table_name(table);
  const std::string column_name(column);
  return InReadOnlyTransaction<std::vector<std::string>>(
      options_.internal_timeout,
      [&](PgConnection& c, Deadline deadline,
          std::chrono::milliseconds timeout) -> Result<std::vector<std::string>> {
        // Resolve the names first, so that a typo is kNotFound rather than an SQL error.
        auto found =
            Query(c,
                  fmt::format("SELECT n.nspname, c.relname, a.attname "
                              "FROM pg_catalog.pg_class c "
                              "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                              "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid "
                              "AND a.attnum > 0 AND NOT a.attisdropped "
                              "WHERE {} AND pg_catalog.lower(c.relname) = pg_catalog.lower($1) "
                              "ORDER BY {}, c.relname, a.attnum",
                              kVisibleRelations, kSearchPathOrder),
                  {table_name}, deadline);
        if (!found) return std::unexpected(ErrorOf(found.error(), timeout));
        const PGresult* r = found->get();
        const int rows = PQntuples(r);
        // An exact spelling wins over a case-insensitive one.
        int chosen = -1;
        for (int i = 0; i < rows && chosen < 0; ++i)
          if (Cell(r, i, 1) == table_name) chosen = i;
        if (chosen < 0 && rows > 0) chosen = 0;
        if (chosen < 0)
          return Fail(ErrorCode::kNotFound, fmt::format("there is no table named '{}'", table));
        const std::string schema(Cell(r, chosen, 0));
        const std::string relname(Cell(r, chosen, 1));
        std::optional<std::string> attname;
        for (int i = 0; i < rows; ++i) {
          if (Cell(r, i, 0) != schema || Cell(r, i, 1) != relname || PQgetisnull(r, i, 2)) continue;
          const std::string_view name = Cell(r, i, 2);
          if (name == column_name) {
            attname = std::string(name);
            break;
          }
          if (!attname && text::EqualsIgnoreCase(name, column_name)) attname = std::string(name);
        }
        if (!attname)
          return Fail(ErrorCode::kNotFound,
                      fmt::format("the table '{}' has no column named '{}'", table, column));
        if (limit == 0) return std::vector<std::string>{};

        const uint64_t fetch = limit < static_cast<size_t>(std::numeric_limits<int64_t>::max())
                                   ? static_cast<uint64_t>(limit) + 1
                                   : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
        const std::string trimmed =
            fmt::format("pg_catalog.btrim({}::text, E' \\t\\r\\n')", QuoteIdentifier(*attname));
        auto values = Query(c,
                            fmt::format("SELECT DISTINCT {0} FROM {1}.{2} WHERE {3} IS NOT NULL "
                                        "AND {0} <> '' LIMIT {4}",
                                        trimmed, QuoteIdentifier(schema), QuoteIdentifier(relname),
                                        QuoteIdentifier(*attname), fetch),
                            {}, deadline);
        if (!values) return std::unexpected(ErrorOf(values.error(), timeout));
        const PGresult* v = values->get();
        if (static_cast<size_t>(PQntuples(v)) > limit) return std::vector<std::string>{};
        std::set<std::string> distinct;
        for (int i = 0; i < PQntuples(v); ++i) distinct.insert(text::Trim(Cell(v, i, 0)));
        distinct.erase("");
        return std::vector<std::string>(distinct.begin(), distinct.end());
      });
}

Result<void> PostgresDataSource::Ping() {
  const auto timeout = std::min(options_.internal_timeout, kPingTimeout);
  auto answered = InReadOnlyTransaction<bool>(
      timeout,
      [](PgConnection& c, Deadline deadline, std::chrono::milliseconds limit) -> Result<bool> {
        auto rows = Query(c, "SELECT 1", {}, deadline);
        if (!rows) return std::unexpected(ErrorOf(rows.error(), limit));
        return PQntuples(rows->get()) == 1 && Cell(rows->get(), 0, 0) == "1";
      });
  if (!answered) {
    if (answered.error().code == ErrorCode::kUnavailable) return std::unexpected(answered.error());
    return Fail(ErrorCode::kUnavailable,
                "the database did not answer: " + answered.error().message);
  }
  if (!*answered) return Fail(ErrorCode::kUnavailable, "the database did not answer");
  return {};
}

PoolUsage PostgresDataSource::Usage() const { return pool_->Usage(); }

Result<std::vector<std::string>> PostgresDataSource::WritePrivileges() {
  return InReadOnlyTransaction<std::vector<std::string>>(
      options_.internal_timeout,
      [](PgConnection& c, Deadline deadline,
         std::chrono::milliseconds limit) -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        auto role = Query(c,
                          "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, "
                          "pg_catalog.has_database_privilege(pg_catalog.current_database(), "
                          "'CREATE'), pg_catalog.current_database() "
                          "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
                          {}, deadline);
        if (!role) return std::unexpected(ErrorOf(role.error(), limit));
        const PGresult* r = role->get();
        if (PQntuples(r) == 1) {
          // A superuser can change anything; listing tables would add nothing.
          if (CellBool(r, 0, 0)) return std::vector<std::string>{"superuser"};
          if (CellBool(r, 0, 2)) out.emplace_back("CREATEDB");
          if (CellBool(r, 0, 1)) out.emplace_back("CREATEROLE");
          if (CellBool(r, 0, 3)) out.push_back(fmt::format("CREATE on database {}", Cell(r, 0, 4)));
        }

        auto schemas = Query(c,
                             fmt::format("SELECT n.nspname FROM pg_catalog.pg_namespace n "
                                         "WHERE n.nspname = ANY "
                                         "(pg_catalog.current_schemas(false)) "
                                         "AND pg_catalog.has_schema_privilege(n.oid, 'CREATE') "
                                         "ORDER BY {}",
                                         kSearchPathOrder),
                             {}, deadline);
        if (!schemas) return std::unexpected(ErrorOf(schemas.error(), limit));
        for (int i = 0; i < PQntuples(schemas->get()); ++i)
          out.push_back(fmt::format("CREATE on schema {}", Cell(schemas->get(), i, 0)));

        auto tables = Query(c,
                            fmt::format("SELECT n.nspname, c.relname, "
                                        "pg_catalog.has_table_privilege(c.oid, 'INSERT'), "
                                        "pg_catalog.has_table_privilege(c.oid, 'UPDATE'), "
                                        "pg_catalog.has_table_privilege(c.oid, 'DELETE'), "
                                        "pg_catalog.has_table_privilege(c.oid, 'TRUNCATE') "
                                        "FROM pg_catalog.pg_class c "
                                        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                                        "WHERE n.nspname = ANY (pg_catalog.current_schemas(false)) "
                                        "AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                                        "ORDER BY {}, c.relname",
                                        kSearchPathOrder),
                            {}, deadline);
        if (!tables) return std::unexpected(ErrorOf(tables.error(), limit));
        const PGresult* t = tables->get();
        static constexpr const char* kPrivileges[] = {"INSERT", "UPDATE", "DELETE", "TRUNCATE"};
        size_t writable = 0;
        for (int i = 0; i < PQntuples(t); ++i) {
          std::vector<std::string> granted;
          for (int p = 0; p < 4; ++p)
            if (CellBool(t, i, 2 + p)) granted.emplace_back(kPrivileges[p]);
          if (granted.empty()) continue;
          if (++writable <= kListedTables)
            out.push_back(fmt::format("{} on {}.{}", text::Join(granted, ", "), Cell(t, i, 0),
                                      Cell(t, i, 1)));
        }
        if (writable > kListedTables)
          out.push_back(fmt::format("... and {} more tables", writable - kListedTables));
        return out;
      });
}

}  // namespace helios::db
