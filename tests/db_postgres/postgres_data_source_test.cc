// PostgresDataSource against a real PostgreSQL server: the CTest fixture's shared server (each
// test case in a schema of its own, since ctest runs cases in parallel processes) and, for the
// restart test, a private server. The database owner sets up tables through libpq directly;
// the data source under test connects as helios_reader, as a deployment would.
#include "db/postgres/postgres_data_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db/sqlite/sqlite_data_source.h"
#include "support/child_process.h"
#include "support/test_databases.h"

namespace helios::db {
namespace {

using ::helios::testing::ServerKind;
using ::helios::testing::SharedServer;
using ::helios::testing::TestServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A query that would run for hours: 10^10 rows counted (pg_sleep is refused by the guard).
constexpr const char* kSlowQuery =
    "SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b";

std::string RandomSuffix() {
  std::random_device random;
  std::uniform_int_distribution<uint32_t> dist;
  char buffer[16];
  snprintf(buffer, sizeof buffer, "%08x", dist(random));
  return buffer;
}

// Replaces the user and password of a postgresql:// URL.
std::string WithCredentials(const std::string& url, const std::string& user,
                            const std::string& password) {
  const size_t at = url.rfind('@');
  return "postgresql://" + user + ":" + password + url.substr(at);
}

std::string PasswordOf(const std::string& url) {
  const size_t start = url.find(':', url.find("://") + 3) + 1;
  return url.substr(start, url.rfind('@') - start);
}

int64_t Ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A connection of the database owner, for setting up what the tests read.
class AdminConnection {
 public:
  explicit AdminConnection(const std::string& url) : conn_(PQconnectdb(url.c_str())) {}
  ~AdminConnection() { PQfinish(conn_); }
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }

  // Runs SQL (several statements allowed); the error message, empty on success.
  std::string Run(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    std::string error;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
    PQclear(r);
    return error;
  }

  // The first column of the first row; empty when there is none.
  std::string Scalar(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string value;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) value = PQgetvalue(r, 0, 0);
    PQclear(r);
    return value;
  }

 private:
  PGconn* conn_;
};

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = SharedServer(ServerKind::kPostgres);
    ASSERT_TRUE(server) << server.error().message;
    server_ = *server;
    admin_ = std::make_unique<AdminConnection>(server_.admin_url);
    ASSERT_TRUE(admin_->ok()) << admin_->error();
    ASSERT_EQ(admin_->Run("SET client_min_messages = warning"), "");
    schema_ = "t_" + RandomSuffix();
    AddSchema(schema_);
  }

  void TearDown() override {
    if (!admin_) return;
    for (const std::string& schema : schemas_)
      EXPECT_EQ(admin_->Run("DROP SCHEMA IF EXISTS " + schema + " CASCADE"), "");
    for (const std::string& role : roles_)
      EXPECT_EQ(admin_->Run("DROP OWNED BY " + role + "; DROP ROLE IF EXISTS " + role), "");
  }

  // A schema the reader may use, dropped after the test.
  void AddSchema(const std::string& schema) {
    schemas_.push_back(schema);
    ASSERT_EQ(admin_->Run("CREATE SCHEMA " + schema + "; GRANT USAGE ON SCHEMA " + schema +
                          " TO helios_reader"),
              "");
  }

  // SQL with the test's schema names in place of {s}, {s2} and {h}.
  std::string S(std::string sql) const {
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"{s}", schema_},
                                   {"{s2}", schema_ + "_b"},
                                   {"{h}", schema_ + "_h"}}) {
      for (size_t at = sql.find(from); at != std::string::npos; at = sql.find(from, at + to.size()))
        sql.replace(at, from.size(), to);
    }
    return sql;
  }

  // Runs SQL as the owner (after S), then lets the reader read every table of the test's
  // schemas.
  void Setup(const std::string& sql_template) {
    const std::string sql = S(sql_template);
    ASSERT_EQ(admin_->Run(sql), "") << sql;
    for (const std::string& schema : schemas_)
      ASSERT_EQ(admin_->Run("GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO helios_reader"),
                "");
  }

  // A login role dropped after the test; its URL.
  std::string AddRole(const std::string& role) {
    const std::string password = "pw" + RandomSuffix();
    roles_.push_back(role);
    EXPECT_EQ(admin_->Run("CREATE ROLE " + role + " LOGIN PASSWORD '" + password +
                          "'; GRANT CONNECT ON DATABASE helios TO " + role),
              "");
    return WithCredentials(server_.reader_url, role, password);
  }

  OpenOptions Options(size_t pool_size = 2) const {
    OpenOptions options;
    options.pool_size = pool_size;
    options.max_idle = pool_size;
    options.acquire_timeout = 2000ms;
    options.schemas = {schema_};
    return options;
  }

  std::unique_ptr<PostgresDataSource> OpenAs(const std::string& url, const OpenOptions& options) {
    auto source = PostgresDataSource::Open(url, options);
    EXPECT_TRUE(source) << source.error().message;
    return source ? std::move(*source) : nullptr;
  }

  std::unique_ptr<PostgresDataSource> OpenReader(size_t pool_size = 2) {
    return OpenAs(server_.reader_url, Options(pool_size));
  }

  TestServer server_;
  std::unique_ptr<AdminConnection> admin_;
  std::string schema_;
  std::vector<std::string> schemas_;
  std::vector<std::string> roles_;
};

Result<QueryResult> Query(DataSource& source, const std::string& sql,
                          const std::vector<Value>& params = {}, size_t max_rows = 1000,
                          std::chrono::milliseconds timeout = 10s) {
  ExecuteOptions options;
  options.max_rows = max_rows;
  options.timeout = timeout;
  return source.Execute(sql, params, options);
}

// ---------------------------------------------------------------------------------------------
// Opening.

TEST_F(PostgresTest, BadPasswordIsUnavailableWithoutThePassword) {
  const std::string wrong = "Wrong" + RandomSuffix() + "Secret";
  auto source = PostgresDataSource::Open(
      WithCredentials(server_.reader_url, "helios_reader", wrong), Options());
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(source.error().message, HasSubstr("could not connect to PostgreSQL at 127.0.0.1:"));
  EXPECT_THAT(source.error().message, HasSubstr("password authentication failed"));
  EXPECT_THAT(source.error().message, Not(HasSubstr(wrong)));
}

TEST_F(PostgresTest, UnreachablePortFailsQuicklyWithoutThePassword) {
  const std::string password = PasswordOf(server_.reader_url);
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  const std::string url = "postgresql://helios_reader:" + password + "@127.0.0.1:1/helios";
  const auto start = Clock::now();
  auto source = PostgresDataSource::Open(url, Options());
  ASSERT_FALSE(source);
  EXPECT_LT(Ms(Clock::now() - start), 5000);
  EXPECT_EQ(source.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(source.error().message, HasSubstr("could not connect to PostgreSQL at 127.0.0.1:1/"));
  EXPECT_THAT(source.error().message, HasSubstr("Connection refused"));
  EXPECT_THAT(source.error().message, Not(HasSubstr(password)));
}

TEST_F(PostgresTest, MalformedUrlIsInvalidArgumentWithoutThePassword) {
  for (const std::string url : {"postgresql://bob:Sup3rSecretPw@[::1/db",
                                "postgresql://bob:Sup3rSecretPw@host:5432/db?nosuchoption=1",
                                "postgresql://bob:Sup3rSecretPw@host:5432/db?sslmode"}) {
    auto source = PostgresDataSource::Open(url, Options());
    ASSERT_FALSE(source) << url;
    EXPECT_EQ(source.error().code, ErrorCode::kInvalidArgument) << source.error().message;
    EXPECT_THAT(source.error().message, HasSubstr("malformed"));
    EXPECT_THAT(source.error().message, Not(HasSubstr("Sup3rSecretPw")));
  }
}

TEST_F(PostgresTest, UnknownSchemaIsInvalidArgument) {
  OpenOptions options = Options();
  options.schemas = {schema_, "no_such_schema_here"};
  auto source = PostgresDataSource::Open(server_.reader_url, options);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(source.error().message, HasSubstr("'no_such_schema_here'"));
}

TEST_F(PostgresTest, DisplayNameShowsNoPassword) {
  auto source = OpenReader();
  ASSERT_TRUE(source);
  const std::string port =
      server_.reader_url.substr(server_.reader_url.rfind(':') + 1,
                                server_.reader_url.rfind('/') - server_.reader_url.rfind(':') - 1);
  EXPECT_EQ(source->DisplayName(), "postgresql://helios_reader@127.0.0.1:" + port + "/helios");
  EXPECT_EQ(source->dialect(), Dialect::kPostgres);
}

// ---------------------------------------------------------------------------------------------
// Values.

TEST_F(PostgresTest, MapsEveryType) {
  Setup(R"sql(
    CREATE TYPE {s}.mood AS ENUM ('happy', 'sad');
    CREATE TABLE {s}.feelings (m {s}.mood);
    INSERT INTO {s}.feelings VALUES ('sad');
  )sql");
  auto source = OpenReader();
  ASSERT_TRUE(source);
  auto r = Query(*source, R"sql(SELECT
      1::int2 AS i2, (-2147483648)::int4 AS i4, 9223372036854775807::int8 AS i8,
      4294967295::oid AS o,
      1.5::float4 AS f4, 0.30000000000000004::float8 AS f8, 'NaN'::float8 AS nan,
      '-Infinity'::float8 AS ninf,
      12345678901234567890.123456789::numeric AS big, (-0.50)::numeric AS neg,
      'NaN'::numeric AS nnan,
      true AS yes, false AS no,
      DATE '2024-11-29' AS d,
      TIMESTAMP '2024-11-29 13:05:00' AS ts, TIMESTAMP '2024-11-29 13:05:00.123456' AS tsf,
      TIMESTAMPTZ '2024-11-29 13:05:00+02' AS tz,
      TIME '13:05:01' AS t, TIMETZ '13:05:01+02' AS ttz, INTERVAL '1 day 2 hours' AS iv,
      '\x00ff00'::bytea AS b, ''::bytea AS empty_b,
      '{"a": 1}'::jsonb AS j, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
      'x'::varchar(5) AS vc, 'ab'::char(3) AS ch, 'plain' AS txt,
      NULL::int AS null_int, NULL::text AS null_text,
      (SELECT m FROM feelings) AS enum_value)sql");
  ASSERT_TRUE(r) << r.error().message;
  const std::vector<std::string> columns = {
      "i2",   "i4",      "i8", "o", "f4", "f8",  "nan", "ninf",     "big",       "neg",
      "nnan", "yes",     "no", "d", "ts", "tsf", "tz",  "t",        "ttz",       "iv",
      "b",    "empty_b", "j",  "u", "vc", "ch",  "txt", "null_int", "null_text", "enum_value"};
  EXPECT_EQ(r->columns, columns);
  ASSERT_EQ(r->rows.size(), 1u);
  const Row& row = r->rows[0];
  EXPECT_EQ(row[0], Value(int64_t{1}));
  EXPECT_EQ(row[1], Value(int64_t{-2147483648LL}));
  EXPECT_EQ(row[2], Value(int64_t{9223372036854775807LL}));
  EXPECT_EQ(row[3], Value(int64_t{4294967295LL}));
  EXPECT_EQ(row[4], Value(1.5));
  EXPECT_EQ(row[5], Value(0.30000000000000004));
  ASSERT_TRUE(std::holds_alternative<double>(row[6]));
  EXPECT_TRUE(std::isnan(std::get<double>(row[6])));
  EXPECT_EQ(row[7], Value(-HUGE_VAL));
  EXPECT_EQ(row[8], Value(Decimal{"12345678901234567890.123456789"}));
  EXPECT_EQ(row[9], Value(Decimal{"-0.50"}));
  EXPECT_EQ(row[10], Value(Decimal{"NaN"}));
  EXPECT_EQ(row[11], Value(true));
  EXPECT_EQ(row[12], Value(false));
  EXPECT_EQ(row[13], Value(std::string("2024-11-29")));
  EXPECT_EQ(row[14], Value(std::string("2024-11-29T13:05:00")));
  EXPECT_EQ(row[15], Value(std::string("2024-11-29T13:05:00.123456")));
  EXPECT_EQ(row[16], Value(std::string("2024-11-29T11:05:00+00:00")));
  EXPECT_EQ(row[17], Value(std::string("13:05:01")));
  EXPECT_EQ(row[18], Value(std::string("13:05:01+02")));
  EXPECT_EQ(row[19], Value(std::string("P1DT2H")));
  EXPECT_EQ(row[20], Value(Blob{{0x00, 0xff, 0x00}}));
  EXPECT_EQ(row[21], Value(Blob{}));
  EXPECT_EQ(row[22], Value(std::string(R"({"a": 1})")));
  EXPECT_EQ(row[23], Value(std::string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")));
  EXPECT_EQ(row[24], Value(std::string("x")));
  EXPECT_EQ(row[25], Value(std::string("ab ")));
  EXPECT_EQ(row[26], Value(std::string("plain")));
  EXPECT_TRUE(IsNull(row[27]));
  EXPECT_TRUE(IsNull(row[28]));
  EXPECT_EQ(row[29], Value(std::string("sad")));
}

TEST_F(PostgresTest, BindsEveryParameterKind) {
  Setup(R"sql(
    CREATE TABLE {s}.people (id int PRIMARY KEY, name text, score numeric);
    INSERT INTO {s}.people VALUES (1, 'O''Brien ☃', 2.50), (2, 'Ada', 7);
  )sql");
  auto source = OpenReader();
  ASSERT_TRUE(source);
  const Blob blob{{0x00, 0x01, 0x00, 0xfe}};
  auto r = Query(*source,
                 "SELECT $1::int8 AS i, $2::float8 AS d, $3::text AS s, $4::bytea AS b, "
                 "length($4::bytea) AS blen, $5::bool AS t, $6::numeric AS n, "
                 "$7::text IS NULL AS is_null, $8::float8 AS inf",
                 {Value(int64_t{-9223372036854775807LL - 1}), Value(0.30000000000000004),
                  Value(std::string("O'Brien ☃ \"quoted\"")), Value(blob), Value(true),
                  Value(Decimal{"-12345678901234567890.5"}), Value(), Value(HUGE_VAL)});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->rows.size(), 1u);
  const Row& row = r->rows[0];
  EXPECT_EQ(row[0], Value(int64_t{-9223372036854775807LL - 1}));
  EXPECT_EQ(row[1], Value(0.30000000000000004));
  EXPECT_EQ(row[2], Value(std::string("O'Brien ☃ \"quoted\"")));
  EXPECT_EQ(row[3], Value(blob));
  EXPECT_EQ(row[4], Value(int64_t{4}));
  EXPECT_EQ(row[5], Value(true));
  EXPECT_EQ(row[6], Value(Decimal{"-12345678901234567890.5"}));
  EXPECT_EQ(row[7], Value(true));
  EXPECT_EQ(row[8], Value(HUGE_VAL));

  // Types the server infers from the columns compared with, as the renderer writes them.
  auto inferred = Query(*source,
                        "SELECT name FROM people WHERE id = $1 OR (name ILIKE $2 AND score > $3) "
                        "ORDER BY id",
                        {Value(int64_t{2}), Value(std::string("o'b%")), Value(2.0)});
  ASSERT_TRUE(inferred) << inferred.error().message;
  ASSERT_EQ(inferred->rows.size(), 2u);
  EXPECT_EQ(inferred->rows[0][0], Value(std::string("O'Brien ☃")));
  EXPECT_EQ(inferred->rows[1][0], Value(std::string("Ada")));
  auto by_bool =
      Query(*source, "SELECT count(*) FROM people WHERE (score > 5) = $1", {Value(false)});
  ASSERT_TRUE(by_bool) << by_bool.error().message;
  EXPECT_EQ(by_bool->rows[0][0], Value(int64_t{1}));
}

TEST_F(PostgresTest, WrongParameterCountIsInvalidArgumentAndConnectionStaysUsable) {
  auto source = OpenReader(1);
  ASSERT_TRUE(source);
  auto r = Query(*source, "SELECT $1::int + $2::int", {Value(int64_t{1})});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
  EXPECT_THAT(r.error().message, HasSubstr("parameters"));
  EXPECT_EQ(source->Usage().open, 1u);  // not treated as a lost connection
  auto again = Query(*source, "SELECT $1::int + $2::int", {Value(int64_t{1}), Value(int64_t{2})});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->rows[0][0], Value(int64_t{3}));
}

TEST_F(PostgresTest, SqlErrorsCarryTheServersMessage) {
  Setup("CREATE TABLE {s}.items (id int)");
  auto source = OpenReader(1);
  ASSERT_TRUE(source);
  auto column = Query(*source, "SELECT nope FROM items");
  ASSERT_FALSE(column);
  EXPECT_EQ(column.error().code, ErrorCode::kDatabaseError);
  EXPECT_EQ(column.error().message, "column \"nope\" does not exist");
  auto table = Query(*source, "SELECT * FROM no_such_table");
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().code, ErrorCode::kDatabaseError);
  EXPECT_EQ(table.error().message, "relation \"no_such_table\" does not exist");
  auto division = Query(*source, "SELECT 1 / 0");
  ASSERT_FALSE(division);
  EXPECT_EQ(division.error().code, ErrorCode::kDatabaseError);
  EXPECT_EQ(division.error().message, "division by zero");
  // The failed transactions were rolled back: the connection is clean and still pooled.
  EXPECT_EQ(source->Usage().open, 1u);
  auto ok = Query(*source, "SELECT count(*) FROM items");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->rows[0][0], Value(int64_t{0}));
}

// ---------------------------------------------------------------------------------------------
// Limits.

TEST_F(PostgresTest, RowCapKeepsMaxRowsAndStopsEarly) {
  auto source = OpenReader(1);
  ASSERT_TRUE(source);
  auto start = Clock::now();
  auto r = Query(*source, "SELECT g FROM generate_series(1, 100000) AS g ORDER BY g", {}, 10);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->truncated);
  ASSERT_EQ(r->rows.size(), 10u);
  EXPECT_EQ(r->rows[0][0], Value(int64_t{1}));
  EXPECT_EQ(r->rows[9][0], Value(int64_t{10}));
  EXPECT_LT(Ms(Clock::now() - start), 10000);
  // The connection was left clean (cancelled and rolled back), not discarded.
  EXPECT_EQ(source->Usage().open, 1u);

  // A billion rows streamed from the select list: reading them all would take many minutes,
  // so returning within seconds shows the statement was stopped after the cap.
  start = Clock::now();
  r = Query(*source, "SELECT generate_series(1, 1000000000) AS g", {}, 5, 120s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->rows.size(), 5u);
  EXPECT_LT(Ms(Clock::now() - start), 10000);
  EXPECT_EQ(source->Usage().open, 1u);

  // An error in a row past the cap does not spoil the rows kept (SQLite never reaches it).
  auto past_cap =
      Query(*source, "SELECT 100 / (g - 20) AS q FROM generate_series(1, 30) AS g", {}, 5);
  ASSERT_TRUE(past_cap) << past_cap.error().message;
  EXPECT_TRUE(past_cap->truncated);
  EXPECT_EQ(past_cap->rows.size(), 5u);
  auto within_cap =
      Query(*source, "SELECT 100 / (g - 3) AS q FROM generate_series(1, 30) AS g", {}, 5);
  ASSERT_FALSE(within_cap);
  EXPECT_EQ(within_cap.error().code, ErrorCode::kDatabaseError);

  auto exact = Query(*source, "SELECT g FROM generate_series(1, 10) AS g", {}, 10);
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_FALSE(exact->truncated);
  EXPECT_EQ(exact->rows.size(), 10u);
  auto none = Query(*source, "SELECT g FROM generate_series(1, 0) AS g");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_THAT(none->columns, ElementsAre("g"));
  EXPECT_TRUE(none->rows.empty());
  EXPECT_FALSE(none->truncated);
}

TEST_F(PostgresTest, StatementTimeoutIsDeadlineExceededAndTheConnectionIsReused) {
  auto source = OpenReader(1);
  ASSERT_TRUE(source);
  const auto start = Clock::now();
  auto r = Query(*source, kSlowQuery, {}, 1000, 300ms);
  const auto elapsed = Ms(Clock::now() - start);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(r.error().message, "the query took longer than 300 ms");
  EXPECT_GE(elapsed, 250);
  EXPECT_LT(elapsed, 3000);  // the server's statement_timeout, not the client's deadline
  EXPECT_EQ(source->Usage().open, 1u);
  auto after = Query(*source, "SELECT 42");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->rows[0][0], Value(int64_t{42}));
}

// A server that stops answering (its backend frozen with SIGSTOP) must not hold a worker past
// the statement's limit plus the client's grace.
TEST_F(PostgresTest, FrozenServerGivesDeadlineExceededNotAHang) {
  const std::string app = "hang_" + schema_;
  auto source = OpenAs(server_.reader_url + "?application_name=" + app, Options(1));
  ASSERT_TRUE(source);
  ASSERT_TRUE(Query(*source, "SELECT 1"));
  const std::string pid =
      admin_->Scalar("SELECT pid FROM pg_stat_activity WHERE application_name = '" + app + "'");
  ASSERT_FALSE(pid.empty());
  const pid_t backend = static_cast<pid_t>(std::stol(pid));
  ASSERT_EQ(kill(backend, SIGSTOP), 0);
  struct Resume {
    pid_t pid;
    ~Resume() { kill(pid, SIGCONT); }
  } resume{backend};

  const auto start = Clock::now();
  auto r = Query(*source, "SELECT 2", {}, 1000, 300ms);
  const auto elapsed = Ms(Clock::now() - start);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().message;
  EXPECT_THAT(r.error().message, HasSubstr("did not answer within"));
  EXPECT_GE(elapsed, 300);
  EXPECT_LT(elapsed, 10000);
  EXPECT_EQ(source->Usage().open, 0u);  // the frozen connection was given up
  kill(backend, SIGCONT);
  auto after = Query(*source, "SELECT 3");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->rows[0][0], Value(int64_t{3}));
}

// The backend killed under a running statement (what a server shutdown or a DBA does): the
// caller gets kUnavailable at once, and the next query runs on a new connection.
TEST_F(PostgresTest, LostConnectionIsUnavailableAndTheNextQuerySucceeds) {
  const std::string app = "kill_" + schema_;
  auto source = OpenAs(server_.reader_url + "?application_name=" + app, Options(1));
  ASSERT_TRUE(source);
  std::optional<Error> error;
  int64_t elapsed = 0;
  std::thread slow([&] {
    const auto start = Clock::now();
    auto r = Query(*source, kSlowQuery, {}, 1000, 60s);
    elapsed = Ms(Clock::now() - start);
    if (!r) error = r.error();
  });
  std::string killed;
  for (int i = 0; i < 500 && killed != "t"; ++i) {
    std::this_thread::sleep_for(10ms);
    killed = admin_->Scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + app +
        "' AND state = 'active'");
  }
  slow.join();
  EXPECT_EQ(killed, "t");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, ErrorCode::kUnavailable) << error->message;
  EXPECT_THAT(error->message, HasSubstr("connection was lost"));
  EXPECT_LT(elapsed, 10000);
  EXPECT_EQ(source->Usage().open, 0u);
  auto after = Query(*source, "SELECT 5");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->rows[0][0], Value(int64_t{5}));
}

// ---------------------------------------------------------------------------------------------
// Read-only, twice.

TEST_F(PostgresTest, CheckRefusesWrites) {
  Setup("CREATE TABLE {s}.orders (id int); INSERT INTO {s}.orders VALUES (1), (2)");
  auto source = OpenReader(1);
  ASSERT_TRUE(source);
  for (const std::string sql :
       {"INSERT INTO orders VALUES (3)", "UPDATE orders SET id = 9",
        "WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d",
        "SELECT * INTO orders_copy FROM orders", "SELECT 1; DELETE FROM orders",
        "DROP TABLE orders", "SELECT pg_sleep(10)"}) {
    auto checked = source->Check(sql);
    ASSERT_FALSE(checked) << sql;
    EXPECT_EQ(checked.error().code, ErrorCode::kUnsafeSql) << sql;
    auto executed = Query(*source, sql);
    ASSERT_FALSE(executed) << sql;
    EXPECT_EQ(executed.error().code, ErrorCode::kUnsafeSql) << sql;
  }
  EXPECT_TRUE(source->Check("SELECT id FROM orders WHERE id > $1"));
  EXPECT_EQ(admin_->Scalar(S("SELECT count(*) || ':' || sum(id) FROM {s}.orders")), "2:3");
}

// The guard does not restrict operators, so an operator whose function writes passes it; the
// read-only transaction is what stops it. The data source connects as the owner here, so the
// transaction is the only lock left.
TEST_F(PostgresTest, ReadOnlyTransactionRefusesAWriteThatPassesTheGuard) {
  Setup(R"sql(
    CREATE TABLE {s}.audit (n int);
    CREATE FUNCTION {s}.sneaky(a int, b int) RETURNS int LANGUAGE sql VOLATILE
      AS $$ INSERT INTO {s}.audit VALUES (a); SELECT a + b $$;
    CREATE OPERATOR {s}.<~~> (LEFTARG = int, RIGHTARG = int, FUNCTION = {s}.sneaky);
  )sql");
  auto source = OpenAs(server_.admin_url, Options(1));
  ASSERT_TRUE(source);
  const std::string sql = "SELECT 1 <~~> 2";
  ASSERT_TRUE(source->Check(sql));
  auto r = Query(*source, sql);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnsafeSql) << r.error().message;
  EXPECT_THAT(r.error().message, HasSubstr("read-only transaction"));
  EXPECT_EQ(admin_->Scalar(S("SELECT count(*) FROM {s}.audit")), "0");
  // Outside a read-only transaction the same statement does write: the test can fail.
  EXPECT_EQ(admin_->Scalar(S("SET search_path = {s}; SELECT 1 <~~> 2")), "3");
  EXPECT_EQ(admin_->Scalar(S("SELECT count(*) FROM {s}.audit")), "1");
}

// ---------------------------------------------------------------------------------------------
// Introspection.

TEST_F(PostgresTest, IntrospectReadsCommentsKeysSchemasAndViews) {
  const std::string s = schema_;
  const std::string s2 = schema_ + "_b";
  const std::string hidden = schema_ + "_h";
  AddSchema(s2);
  AddSchema(hidden);
  Setup(R"sql(
    CREATE TYPE {s}.mood AS ENUM ('happy', 'sad');
    CREATE TABLE {s}.customers (id serial PRIMARY KEY, name text NOT NULL, mood {s}.mood,
                                created timestamptz, tags text[]);
    COMMENT ON TABLE {s}.customers IS 'People who buy';
    COMMENT ON COLUMN {s}.customers.name IS 'Full name';
    CREATE TABLE {s}.orders (id int8 PRIMARY KEY, customer_id int REFERENCES {s}.customers (id),
                             amount numeric(10,2) NOT NULL, note varchar(20), placed date,
                             took interval);
    CREATE TABLE {s}.pairs (a int, b int, PRIMARY KEY (a, b));
    CREATE TABLE {s}.pair_refs (x int, y int, FOREIGN KEY (x, y) REFERENCES {s}.pairs (a, b));
    CREATE VIEW {s}.big_orders AS SELECT id, amount FROM {s}.orders WHERE amount > 100;
    COMMENT ON VIEW {s}.big_orders IS 'Orders over 100';
    CREATE TABLE {s2}.products (sku text PRIMARY KEY, price double precision, in_stock boolean);
    CREATE TABLE {s2}.orders (shadowed int);
    CREATE TABLE {h}.secret_stuff (x int);
    INSERT INTO {s}.customers (name) VALUES ('Ada'), ('Bob'), ('Cleo');
    INSERT INTO {s}.orders (id, customer_id, amount) VALUES (1, 1, 10), (2, 1, 200), (3, 2, 300),
                                                            (4, 3, 5);
  )sql");
  OpenOptions options = Options();
  options.schemas = {s, s2};
  auto source = OpenAs(server_.reader_url, options);
  ASSERT_TRUE(source);
  auto catalog = source->Introspect();
  ASSERT_TRUE(catalog) << catalog.error().message;
  const SchemaCatalog& c = **catalog;

  std::vector<std::string> names;
  for (const TableInfo& t : c.tables) names.push_back(t.schema + "." + t.name);
  // Search-path order, then names; the shadowed s2.orders and the schema off the path are out.
  EXPECT_THAT(names, ElementsAre(s + ".big_orders", s + ".customers", s + ".orders",
                                 s + ".pair_refs", s + ".pairs", s2 + ".products"));

  const TableInfo* customers = c.FindTable("customers");
  ASSERT_NE(customers, nullptr);
  EXPECT_EQ(customers->description, "People who buy");
  EXPECT_EQ(customers->row_count, 3);
  ASSERT_EQ(customers->columns.size(), 5u);
  EXPECT_EQ(customers->columns[0].name, "id");
  EXPECT_EQ(customers->columns[0].declared_type, "integer");
  EXPECT_EQ(customers->columns[0].family, TypeFamily::kInteger);
  EXPECT_TRUE(customers->columns[0].primary_key);
  EXPECT_TRUE(customers->columns[0].not_null);
  EXPECT_EQ(customers->columns[1].name, "name");
  EXPECT_EQ(customers->columns[1].description, "Full name");
  EXPECT_TRUE(customers->columns[1].not_null);
  EXPECT_FALSE(customers->columns[1].primary_key);
  EXPECT_EQ(customers->columns[1].family, TypeFamily::kText);
  EXPECT_EQ(customers->columns[2].declared_type, "mood");
  EXPECT_EQ(customers->columns[2].family, TypeFamily::kText);  // an enum is text to the engine
  EXPECT_EQ(customers->columns[3].declared_type, "timestamp with time zone");
  EXPECT_EQ(customers->columns[3].family, TypeFamily::kDateTime);
  EXPECT_EQ(customers->columns[4].declared_type, "text[]");
  EXPECT_EQ(customers->columns[4].family, TypeFamily::kOther);
  EXPECT_TRUE(customers->foreign_keys.empty());

  const TableInfo* orders = c.FindTable("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->schema, s);
  EXPECT_EQ(orders->row_count, 4);
  ASSERT_EQ(orders->columns.size(), 6u);
  EXPECT_EQ(orders->columns[0].declared_type, "bigint");
  EXPECT_EQ(orders->columns[2].name, "amount");
  EXPECT_EQ(orders->columns[2].declared_type, "numeric(10,2)");
  EXPECT_EQ(orders->columns[2].family, TypeFamily::kReal);
  EXPECT_TRUE(orders->columns[2].not_null);
  EXPECT_EQ(orders->columns[3].declared_type, "character varying(20)");
  EXPECT_EQ(orders->columns[4].family, TypeFamily::kDate);
  EXPECT_EQ(orders->columns[5].declared_type, "interval");
  EXPECT_EQ(orders->columns[5].family, TypeFamily::kOther);
  ASSERT_EQ(orders->foreign_keys.size(), 1u);
  EXPECT_EQ(orders->foreign_keys[0].column, "customer_id");
  EXPECT_EQ(orders->foreign_keys[0].ref_table, "customers");
  EXPECT_EQ(orders->foreign_keys[0].ref_column, "id");

  const TableInfo* pairs = c.FindTable("pairs");
  ASSERT_NE(pairs, nullptr);
  EXPECT_TRUE(pairs->columns[0].primary_key);
  EXPECT_TRUE(pairs->columns[1].primary_key);
  const TableInfo* pair_refs = c.FindTable("pair_refs");
  ASSERT_NE(pair_refs, nullptr);
  EXPECT_TRUE(pair_refs->foreign_keys.empty());  // composite keys are left out

  const TableInfo* view = c.FindTable("big_orders");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->description, "Orders over 100");
  EXPECT_EQ(view->row_count, -1);
  ASSERT_EQ(view->columns.size(), 2u);
  EXPECT_EQ(view->columns[1].declared_type, "numeric(10,2)");

  const TableInfo* products = c.FindTable("products");
  ASSERT_NE(products, nullptr);
  EXPECT_EQ(products->schema, s2);
  EXPECT_EQ(products->row_count, 0);
  ASSERT_EQ(products->columns.size(), 3u);
  EXPECT_TRUE(products->columns[0].primary_key);
  EXPECT_EQ(products->columns[1].family, TypeFamily::kReal);
  EXPECT_EQ(products->columns[2].family, TypeFamily::kBoolean);

  // Unqualified names run: the search path reaches both schemas.
  auto joined = Query(*source,
                      "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id "
                      "CROSS JOIN products");
  ASSERT_TRUE(joined) << joined.error().message;
  EXPECT_EQ(joined->rows[0][0], Value(int64_t{0}));
}

// The demo data the fixture loads, read through the reader's default search path, has the
// same shape as the SQLite demo database (tables, columns, keys), plus the comments SQLite
// cannot hold.
TEST_F(PostgresTest, IntrospectsTheDemoDataLikeSqlite) {
  OpenOptions options = Options();
  options.schemas.clear();
  auto source = OpenAs(server_.reader_url, options);
  ASSERT_TRUE(source);
  auto pg = source->Introspect();
  ASSERT_TRUE(pg) << pg.error().message;
  if ((*pg)->tables.empty()) GTEST_SKIP() << "the demo data is not loaded (run under ctest)";
  auto sqlite = SqliteDataSource::Open(HELIOS_DEMO_DB);
  ASSERT_TRUE(sqlite) << sqlite.error().message;
  auto lite = (*sqlite)->Introspect();
  ASSERT_TRUE(lite) << lite.error().message;

  const TableInfo* regions = (*pg)->FindTable("regions");
  ASSERT_NE(regions, nullptr);
  EXPECT_THAT(regions->description, HasSubstr("Sales regions"));
  ASSERT_EQ((*pg)->tables.size(), (*lite)->tables.size());
  for (const TableInfo& expected : (*lite)->tables) {
    SCOPED_TRACE(expected.name);
    const TableInfo* table = (*pg)->FindTable(expected.name);
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->schema, "public");
    ASSERT_EQ(table->columns.size(), expected.columns.size());
    for (size_t i = 0; i < expected.columns.size(); ++i) {
      const ColumnInfo& want = expected.columns[i];
      const ColumnInfo& got = table->columns[i];
      SCOPED_TRACE(want.name + " " + want.declared_type + " / " + got.declared_type);
      EXPECT_EQ(got.name, want.name);
      EXPECT_EQ(got.primary_key, want.primary_key);
      // SQLite has no boolean type: the demo's flags are INTEGER there, boolean here.
      if (!(got.family == TypeFamily::kBoolean && want.family == TypeFamily::kInteger)) {
        EXPECT_EQ(got.family, want.family);
      }
    }
    ASSERT_EQ(table->foreign_keys.size(), expected.foreign_keys.size());
    for (const ForeignKey& key : expected.foreign_keys) {
      const bool found = std::any_of(
          table->foreign_keys.begin(), table->foreign_keys.end(), [&](const ForeignKey& k) {
            return k.column == key.column && k.ref_table == key.ref_table &&
                   k.ref_column == key.ref_column;
          });
      EXPECT_TRUE(found) << key.column << " -> " << key.ref_table << "." << key.ref_column;
    }
    if (table->row_count >= 0 && expected.row_count > 0) {
      // reltuples is an estimate once the table has been analyzed.
      EXPECT_NEAR(static_cast<double>(table->row_count), static_cast<double>(expected.row_count),
                  0.1 * static_cast<double>(expected.row_count));
    }
  }
}

TEST_F(PostgresTest, IntrospectVersionChangesWithTheSchema) {
  Setup("CREATE TABLE {s}.items (id int PRIMARY KEY)");
  auto source = OpenReader();
  ASSERT_TRUE(source);
  auto first = source->Introspect();
  auto second = source->Introspect();
  ASSERT_TRUE(first && second);
  EXPECT_EQ((*first)->version, (*second)->version);
  Setup("INSERT INTO {s}.items VALUES (1), (2)");
  auto more_rows = source->Introspect();
  ASSERT_TRUE(more_rows);
  EXPECT_EQ((*more_rows)->version, (*first)->version);  // data is not schema
  EXPECT_EQ((*more_rows)->tables[0].row_count, 2);
  Setup("ALTER TABLE {s}.items ADD COLUMN label text");
  auto altered = source->Introspect();
  ASSERT_TRUE(altered);
  EXPECT_NE((*altered)->version, (*first)->version);
  Setup("COMMENT ON COLUMN {s}.items.label IS 'What it is called'");
  auto commented = source->Introspect();
  ASSERT_TRUE(commented);
  EXPECT_NE((*commented)->version, (*altered)->version);
}

TEST_F(PostgresTest, DistinctTextValues) {
  Setup(R"sql(
    CREATE TABLE {s}."Order Items" ("Status" text, qty int);
    INSERT INTO {s}."Order Items" VALUES (' open', 1), ('open ', 2), ('closed', 3), ('', 4),
                                         (NULL, 5), ('   ', 6), ('closed', 7);
  )sql");
  auto source = OpenReader();
  ASSERT_TRUE(source);
  auto values = source->DistinctTextValues("order items", "status", 10);
  ASSERT_TRUE(values) << values.error().message;
  EXPECT_THAT(*values, ElementsAre("closed", "open"));
  auto exact = source->DistinctTextValues("Order Items", "Status", 2);
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_THAT(*exact, ElementsAre("closed", "open"));
  auto too_many = source->DistinctTextValues("Order Items", "Status", 1);
  ASSERT_TRUE(too_many) << too_many.error().message;
  EXPECT_TRUE(too_many->empty());
  auto numbers = source->DistinctTextValues("Order Items", "qty", 10);
  ASSERT_TRUE(numbers) << numbers.error().message;
  EXPECT_EQ(numbers->size(), 7u);
  auto no_table = source->DistinctTextValues("nothing", "status", 10);
  ASSERT_FALSE(no_table);
  EXPECT_EQ(no_table.error().code, ErrorCode::kNotFound);
  auto no_column = source->DistinctTextValues("Order Items", "nothing", 10);
  ASSERT_FALSE(no_column);
  EXPECT_EQ(no_column.error().code, ErrorCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// The pool.

TEST_F(PostgresTest, ExhaustedPoolFailsAfterTheAcquireTimeout) {
  OpenOptions options = Options(2);
  options.acquire_timeout = 500ms;
  auto source = OpenAs(server_.reader_url, options);
  ASSERT_TRUE(source);
  EXPECT_EQ(source->Usage().max_size, 2u);

  std::vector<std::thread> slow;
  std::vector<std::optional<Error>> slow_errors(2);
  for (size_t i = 0; i < 2; ++i) {
    slow.emplace_back([&, i] {
      auto r = Query(*source, kSlowQuery, {}, 1000, 4000ms);
      if (!r) slow_errors[i] = r.error();
    });
  }
  const auto wait_until = Clock::now() + 10s;
  while (source->Usage().in_use < 2 && Clock::now() < wait_until) std::this_thread::sleep_for(10ms);
  PoolUsage busy = source->Usage();
  EXPECT_EQ(busy.in_use, 2u);
  EXPECT_EQ(busy.open, 2u);

  std::atomic<bool> third_done = false;
  std::optional<Error> third_error;
  int64_t third_ms = 0;
  std::thread third([&] {
    const auto start = Clock::now();
    auto r = Query(*source, "SELECT 1");
    third_ms = Ms(Clock::now() - start);
    if (!r) third_error = r.error();
    third_done = true;
  });
  size_t waiting = 0;
  while (!third_done) {
    waiting = std::max(waiting, source->Usage().waiting);
    std::this_thread::sleep_for(5ms);
  }
  third.join();
  EXPECT_EQ(waiting, 1u);
  ASSERT_TRUE(third_error.has_value());
  EXPECT_EQ(third_error->code, ErrorCode::kUnavailable);
  EXPECT_THAT(third_error->message, HasSubstr("busy"));
  EXPECT_GE(third_ms, 450);
  EXPECT_LT(third_ms, 3000);

  for (std::thread& t : slow) t.join();
  for (const auto& e : slow_errors) {
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->code, ErrorCode::kDeadlineExceeded) << e->message;
  }
  const PoolUsage after = source->Usage();
  EXPECT_EQ(after.in_use, 0u);
  EXPECT_EQ(after.waiting, 0u);
  EXPECT_EQ(after.open, 2u);
  EXPECT_TRUE(Query(*source, "SELECT 1"));
}

TEST_F(PostgresTest, ManyThreadsShareThePool) {
  auto source = OpenReader(3);
  ASSERT_TRUE(source);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const int64_t n = t * 100 + i;
        auto r = Query(*source, "SELECT $1::int8 * 2", {Value(n)});
        if (!r || r->rows.size() != 1 || r->rows[0][0] != Value(n * 2)) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  const PoolUsage usage = source->Usage();
  EXPECT_EQ(usage.in_use, 0u);
  EXPECT_LE(usage.open, 3u);
  EXPECT_GE(usage.open, 1u);
  EXPECT_TRUE(source->Ping());
}

// ---------------------------------------------------------------------------------------------
// Privileges.

TEST_F(PostgresTest, WritePrivileges) {
  std::string tables;
  for (int i = 1; i <= 7; ++i) tables += "CREATE TABLE {s}.t" + std::to_string(i) + " (x int);";
  Setup(tables);

  auto reader = OpenReader();
  ASSERT_TRUE(reader);
  auto none = reader->WritePrivileges();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty()) << ::testing::PrintToString(*none);

  // The reader's default search path ("$user", public) too: the demo tables are read-only.
  OpenOptions default_path = Options();
  default_path.schemas.clear();
  auto reader_public = OpenAs(server_.reader_url, default_path);
  ASSERT_TRUE(reader_public);
  auto none_public = reader_public->WritePrivileges();
  ASSERT_TRUE(none_public) << none_public.error().message;
  EXPECT_TRUE(none_public->empty()) << ::testing::PrintToString(*none_public);

  auto admin = OpenAs(server_.admin_url, Options());
  ASSERT_TRUE(admin);
  auto all = admin->WritePrivileges();
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_THAT(*all, ElementsAre("superuser"));

  const std::string role = "w_" + schema_;
  const std::string url = AddRole(role);
  ASSERT_EQ(admin_->Run("GRANT USAGE, CREATE ON SCHEMA " + schema_ + " TO " + role +
                        "; GRANT INSERT ON ALL TABLES IN SCHEMA " + schema_ + " TO " + role +
                        "; GRANT UPDATE, DELETE ON " + schema_ + ".t1 TO " + role),
            "");
  auto writer = OpenAs(url, Options());
  ASSERT_TRUE(writer);
  auto some = writer->WritePrivileges();
  ASSERT_TRUE(some) << some.error().message;
  EXPECT_THAT(*some, ElementsAre("CREATE on schema " + schema_,
                                 "INSERT, UPDATE, DELETE on " + schema_ + ".t1",
                                 "INSERT on " + schema_ + ".t2", "INSERT on " + schema_ + ".t3",
                                 "INSERT on " + schema_ + ".t4", "INSERT on " + schema_ + ".t5",
                                 "... and 2 more tables"));
}

// ---------------------------------------------------------------------------------------------
// A server that goes away and comes back.

TEST(PostgresRestartTest, FailsQuicklyWhileDownAndRecoversWithoutReopening) {
  helios::testing::TempDir dir("helios-pg-restart");
  const std::string server_dir = (dir.path() / "pg").string();
  auto server = helios::testing::StartPrivateServer(ServerKind::kPostgres, server_dir);
  ASSERT_TRUE(server) << server.error().message;
  struct Stop {
    std::string dir;
    ~Stop() { (void)helios::testing::StopPrivateServer(ServerKind::kPostgres, dir); }
  } stop{server_dir};

  OpenOptions options;
  options.pool_size = 2;
  options.max_idle = 2;
  options.acquire_timeout = 1000ms;
  auto opened = PostgresDataSource::Open(server->reader_url, options);
  ASSERT_TRUE(opened) << opened.error().message;
  PostgresDataSource& source = **opened;
  auto before = Query(source, "SELECT 1");
  ASSERT_TRUE(before) << before.error().message;
  ASSERT_TRUE(source.Ping());

  ASSERT_TRUE(helios::testing::StopPrivateServer(ServerKind::kPostgres, server_dir));
  for (int i = 0; i < 2; ++i) {
    const auto start = Clock::now();
    auto down = Query(source, "SELECT 1");
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::kUnavailable) << down.error().message;
    EXPECT_THAT(down.error().message, HasSubstr("unreachable"));
    EXPECT_THAT(down.error().message, Not(HasSubstr(PasswordOf(server->reader_url))));
    EXPECT_LT(Ms(Clock::now() - start), 5000);
  }
  auto ping = source.Ping();
  ASSERT_FALSE(ping);
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(source.Usage().in_use, 0u);

  auto restarted = helios::testing::StartPrivateServer(ServerKind::kPostgres, server_dir);
  ASSERT_TRUE(restarted) << restarted.error().message;
  auto after = Query(source, "SELECT 2");
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->rows[0][0], Value(int64_t{2}));

  // Restarted again while a connection sits idle in the pool: the first query still succeeds,
  // on a new connection.
  ASSERT_TRUE(helios::testing::StopPrivateServer(ServerKind::kPostgres, server_dir));
  ASSERT_TRUE(helios::testing::StartPrivateServer(ServerKind::kPostgres, server_dir));
  EXPECT_GE(source.Usage().open, 1u);
  auto again = Query(source, "SELECT 3");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->rows[0][0], Value(int64_t{3}));
  EXPECT_TRUE(source.Introspect());
}

}  // namespace
}  // namespace helios::db
