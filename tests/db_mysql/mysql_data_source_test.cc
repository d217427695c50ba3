// MysqlDataSource against the real MariaDB server of the test run (tests/support/
// test_databases.h): each test case creates its own tables, named with a random prefix, through
// a separate admin connection, reads them as helios_reader (SELECT only) through the data
// source, and drops them at the end. The restart test runs a private server of its own.
#include "db/mysql/mysql_data_source.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mysql.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/text.h"
#include "security/test_data.h"
#include "support/child_process.h"
#include "support/test_databases.h"

namespace helios::db {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace std::chrono_literals;

using Clock = std::chrono::steady_clock;

milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

// A plain libmariadb connection for the test's own setup: creating tables, reading checksums.
class RawConnection {
 public:
  explicit RawConnection(const std::string& url) {
    auto u = ParseMysqlUrl(url);
    if (!u) {
      error_ = u.error().message;
      return;
    }
    url_ = *u;
    m_ = mysql_init(nullptr);
    const unsigned protocol = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(m_, MYSQL_OPT_PROTOCOL, &protocol);
    mysql_optionsv(m_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(m_, u->host.c_str(), u->user.c_str(), u->password.c_str(),
                            u->database.c_str(), u->port, nullptr, 0)) {
      error_ = mysql_error(m_);
      return;
    }
    Exec("SET time_zone = '+00:00'");
  }
  ~RawConnection() {
    if (m_) mysql_close(m_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const MysqlUrl& url() const { return url_; }

  void Exec(const std::string& sql) {
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) {
      ADD_FAILURE() << sql << ": " << mysql_error(m_);
      return;
    }
    if (MYSQL_RES* r = mysql_store_result(m_)) mysql_free_result(r);
  }

  // Rows as text; NULL as "NULL".
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    if (mysql_real_query(m_, sql.data(), sql.size()) != 0) {
      ADD_FAILURE() << sql << ": " << mysql_error(m_);
      return rows;
    }
    MYSQL_RES* r = mysql_store_result(m_);
    if (!r) return rows;
    const unsigned n = mysql_num_fields(r);
    while (MYSQL_ROW row = mysql_fetch_row(r)) {
      unsigned long* lengths = mysql_fetch_lengths(r);
      std::vector<std::string> out;
      for (unsigned i = 0; i < n; ++i)
        out.push_back(row[i] ? std::string(row[i], lengths[i]) : "NULL");
      rows.push_back(std::move(out));
    }
    mysql_free_result(r);
    return rows;
  }

 private:
  MYSQL* m_ = nullptr;
  MysqlUrl url_;
  std::string error_;
};

std::string RandomPrefix() {
  std::random_device rd;
  return fmt::format("t_{:08x}_", rd());
}

// The server's URL with another port, user or password.
std::string WithPort(const MysqlUrl& u, unsigned port) {
  return fmt::format("{}://{}:{}@{}:{}/{}", u.scheme, u.user, u.password, u.host, port, u.database);
}

// A loopback port that was free a moment ago (0 when none could be had).
unsigned UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  unsigned port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

OpenOptions SmallPool(size_t size = 2) {
  OpenOptions o;
  o.pool_size = size;
  o.max_idle = size;
  o.acquire_timeout = 1000ms;
  return o;
}

class MysqlDataSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::SharedServer(testing::ServerKind::kMariadb);
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = *server;
    admin_ = std::make_unique<RawConnection>(server_.admin_url);
    ASSERT_TRUE(admin_->ok()) << admin_->error();
    prefix_ = RandomPrefix();
  }

  void TearDown() override {
    if (!admin_ || !admin_->ok()) return;
    source_.reset();
    const auto tables = admin_->Query(fmt::format(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
        "DATABASE() AND TABLE_NAME LIKE '{}%' ORDER BY TABLE_TYPE = 'VIEW' DESC",
        prefix_));
    admin_->Exec("SET FOREIGN_KEY_CHECKS = 0");
    for (const auto& row : tables)
      admin_->Exec(fmt::format("DROP {} `{}`", row[1] == "VIEW" ? "VIEW" : "TABLE", row[0]));
    admin_->Exec("SET FOREIGN_KEY_CHECKS = 1");
  }

  std::string T(std::string_view name) const { return prefix_ + std::string(name); }

  MysqlDataSource& Reader(const OpenOptions& options = SmallPool()) {
    auto opened = MysqlDataSource::Open(server_.reader_url, options);
    if (!opened) throw std::runtime_error("cannot open the reader: " + opened.error().message);
    source_ = std::move(*opened);
    return *source_;
  }

  // A table n with the integers 1..rows.
  void CreateNumbers(const std::string& table, int rows) {
    admin_->Exec(fmt::format("CREATE TABLE `{}` (n INT PRIMARY KEY)", table));
    admin_->Exec(fmt::format(
        "INSERT INTO `{}` WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
        "WHERE n < {}) SELECT n FROM s",
        table, rows));
  }

  testing::TestServer server_;
  std::unique_ptr<RawConnection> admin_;
  std::unique_ptr<MysqlDataSource> source_;
  std::string prefix_;
};

// ---------------------------------------------------------------------------------------------
// URLs and grants (no server needed).

TEST(MysqlUrlTest, ParsesAndDecodes) {
  auto u = ParseMysqlUrl(
      "MariaDB://app%20user:p%40ss%3Aw%2Frd%25@db.example.com:3307/sales%2Deu?ssl-mode=required&"
      "ssl-ca=%2Fetc%2Fca.pem&charset=UTF8MB4");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->scheme, "mariadb");
  EXPECT_EQ(u->user, "app user");
  EXPECT_EQ(u->password, "p@ss:w/rd%");
  EXPECT_EQ(u->host, "db.example.com");
  EXPECT_EQ(u->port, 3307u);
  EXPECT_EQ(u->database, "sales-eu");
  EXPECT_EQ(u->ssl_mode, MysqlUrl::SslMode::kRequired);
  EXPECT_EQ(u->ssl_ca, "/etc/ca.pem");
  EXPECT_EQ(u->charset, "utf8mb4");

  auto plain = ParseMysqlUrl("mysql://u:p@ss@[::1]/db?ssl-ca=/certs/ca@2.pem");
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ(plain->password, "p@ss");  // an unencoded '@' in the password
  EXPECT_EQ(plain->host, "::1");
  EXPECT_EQ(plain->port, 3306u);
  EXPECT_EQ(plain->ssl_mode, MysqlUrl::SslMode::kPreferred);
  EXPECT_EQ(plain->ssl_ca, "/certs/ca@2.pem");

  auto no_password = ParseMysqlUrl("mysql://reader@localhost:3306/helios?ssl-mode=DISABLED");
  ASSERT_TRUE(no_password.has_value());
  EXPECT_EQ(no_password->password, "");
  EXPECT_EQ(no_password->ssl_mode, MysqlUrl::SslMode::kDisabled);
}

TEST(MysqlUrlTest, MalformedUrlsAreRefusedWithoutThePassword) {
  const std::string secret = "Sup3rSecretPw";
  struct Case {
    std::string url;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"mysql:/u:" + secret + "@h/db", "looks like mysql://"},
      {"postgres://u:" + secret + "@h/db", "mysql:// or mariadb://"},
      {"mysql://u:" + secret + "@/db", "names no host"},
      {"mysql://u:" + secret + "@h:abc/db", "port 'abc' is not a number"},
      {"mysql://u:" + secret + "@h:0/db", "port '0'"},
      {"mysql://u:" + secret + "@h:70000/db", "port '70000'"},
      {"mysql://u:" + secret + "@h:/db", "port ''"},
      {"mysql://u:" + secret + "@h:3306", "names no database"},
      {"mysql://u:" + secret + "@h:3306/", "names no database"},
      {"mysql://:" + secret + "@h/db", "names no user"},
      {"mysql://u:" + secret + "@h/db?sslmode=require", "unknown option 'sslmode'"},
      {"mysql://u:" + secret + "@h/db?password=x", "unknown option 'password'"},
      {"mysql://u:" + secret + "@h/db?ssl-mode=sometimes", "ssl-mode 'sometimes'"},
      {"mysql://u:" + secret + "@h/db?charset=gbk", "charset 'gbk' is not supported"},
      {"mysql://u:" + secret + "%zz@h/db", "password in the MySQL URL has a '%'"},
      {"mysql://u:" + secret + "@[::1/db", "unclosed '['"},
  };
  for (const Case& c : cases) {
    auto r = ParseMysqlUrl(c.url);
    ASSERT_FALSE(r.has_value()) << c.url;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.url;
    EXPECT_THAT(r.error().message, HasSubstr(c.reason)) << c.url;
    EXPECT_THAT(r.error().message, Not(HasSubstr(secret))) << c.url;
    auto opened = MysqlDataSource::Open(c.url, {});
    ASSERT_FALSE(opened.has_value()) << c.url;
    EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(MysqlGrantsTest, ListsWhatTheRoleCanChange) {
  EXPECT_THAT(WritePrivilegesFromGrants({
                  "GRANT USAGE ON *.* TO `helios_reader`@`%` IDENTIFIED BY PASSWORD '*ABCDEF'",
                  "GRANT SELECT, SHOW VIEW ON `helios`.* TO `helios_reader`@`%`",
                  "GRANT SELECT (`a`, `b`) ON `helios`.`t` TO `helios_reader`@`%`",
              }),
              IsEmpty());
  EXPECT_THAT(WritePrivilegesFromGrants({
                  "GRANT USAGE ON *.* TO `a`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF'",
                  "GRANT ALL PRIVILEGES ON `helios`.* TO `a`@`%`",
                  "GRANT SELECT, INSERT, UPDATE (`price`, `name`) ON `shop`.`products` TO `a`@`%`",
                  "GRANT FILE, SUPER ON *.* TO `a`@`%` WITH GRANT OPTION",
                  "GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `a`@`%`",
                  "GRANT `writer` TO `a`@`%`",
              }),
              ElementsAre("ALL PRIVILEGES on helios.*", "INSERT on shop.products",
                          "UPDATE (price, name) on shop.products", "FILE", "SUPER", "GRANT OPTION",
                          "EXECUTE on PROCEDURE shop.p"));
}

// ---------------------------------------------------------------------------------------------
// Opening.

TEST_F(MysqlDataSourceTest, OpenFailuresAreClearAndNeverShowThePassword) {
  const MysqlUrl& admin = admin_->url();
  const std::string wrong = "WrongPassw0rd";
  const std::string bad_password = fmt::format("mariadb://{}:{}@{}:{}/{}", admin.user, wrong,
                                               admin.host, admin.port, admin.database);
  auto denied = MysqlDataSource::Open(bad_password, SmallPool());
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(denied.error().message, HasSubstr("Access denied"));
  EXPECT_THAT(denied.error().message, HasSubstr(admin.user));
  EXPECT_THAT(denied.error().message, Not(HasSubstr(wrong)));

  // A port nobody listens on: one the kernel hands out, closed again.
  {
    auto u = ParseMysqlUrl(server_.reader_url);
    ASSERT_TRUE(u.has_value());
    const unsigned closed_port = UnusedPort();
    ASSERT_NE(closed_port, 0u);
    const auto start = Clock::now();
    auto refused = MysqlDataSource::Open(WithPort(*u, closed_port), SmallPool());
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(refused.error().message,
                HasSubstr(fmt::format("cannot connect to the MariaDB server at {}:{} as {}",
                                      u->host, closed_port, u->user)));
    EXPECT_THAT(refused.error().message, Not(HasSubstr(u->password)));
    EXPECT_LT(Since(start), 5000ms) << "a refused connection should fail at once";
  }

  auto malformed = MysqlDataSource::Open("mysql://nobody@localhost", SmallPool());
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument);

  // The test server has no TLS: REQUIRED and VERIFY_* refuse it, PREFERRED falls back.
  for (const char* mode : {"REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"}) {
    auto tls = MysqlDataSource::Open(server_.reader_url + "?ssl-mode=" + mode, SmallPool());
    ASSERT_FALSE(tls.has_value()) << mode;
    EXPECT_EQ(tls.error().code, ErrorCode::kUnavailable) << mode;
  }
  for (const char* mode : {"PREFERRED", "DISABLED"}) {
    auto opened = MysqlDataSource::Open(server_.reader_url + "?ssl-mode=" + mode, SmallPool());
    ASSERT_TRUE(opened.has_value()) << mode << ": " << opened.error().message;
    EXPECT_TRUE((*opened)->Ping().has_value());
  }
}

TEST_F(MysqlDataSourceTest, DisplayNameHasNoPassword) {
  MysqlDataSource& source = Reader();
  auto u = ParseMysqlUrl(server_.reader_url);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(source.DisplayName(),
            fmt::format("mariadb://{}@{}:{}/{}", u->user, u->host, u->port, u->database));
  EXPECT_THAT(source.DisplayName(), Not(HasSubstr(u->password)));
  EXPECT_EQ(source.dialect(), Dialect::kMysql);
  const PoolUsage usage = source.Usage();
  EXPECT_EQ(usage.max_size, 2u);
  EXPECT_EQ(usage.open, 1u);  // the connection that checked the URL
  EXPECT_EQ(usage.in_use, 0u);
}

// ---------------------------------------------------------------------------------------------
// Values.

TEST_F(MysqlDataSourceTest, MapsEveryTypeFaithfully) {
  const std::string t = T("types");
  admin_->Exec(fmt::format(
      "CREATE TABLE `{}` (id INT PRIMARY KEY, ti TINYINT, tb TINYINT(1), bo BOOLEAN, "
      "si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT, ubi BIGINT UNSIGNED, ui INT UNSIGNED, "
      "yr YEAR, fl FLOAT, db DOUBLE, de DECIMAL(12,2), big DECIMAL(40,10), d DATE, "
      "dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL, tm TIME, "
      "tm2 TIME(2), b1 BIT(1), b8 BIT(8), c CHAR(5), vc VARCHAR(20), tx TEXT, bl BLOB, "
      "bn BINARY(4), vb VARBINARY(8), js JSON, en ENUM('small','large'), st SET('a','b','c'), "
      "nul INT)",
      t));
  // The TIMESTAMPs are written at +02:00 and must come back in UTC.
  admin_->Exec("SET time_zone = '+02:00'");
  admin_->Exec(fmt::format(
      "INSERT INTO `{}` VALUES (1, -5, 1, 0, -300, 70000, -2000000000, -9000000000000000000, "
      "18446744073709551615, 4000000000, 2024, 1.1, 2.5, -1234.50, "
      "123456789012345678901234567890.0123456789, '2024-11-29', '2024-11-29 13:05:00', "
      "'2024-11-29 13:05:00.123456', '2024-11-29 15:05:00', '2024-11-29 15:05:00.5', "
      "'-838:59:59', '100:00:00.25', b'1', b'10100101', 'ab', 'héllo wörld', REPEAT('x', 1000), "
      "X'00FF10', X'01020304', X'DEADBEEF', '{{\"a\": [1, 2]}}', 'large', 'a,c', NULL)",
      t));
  admin_->Exec("SET time_zone = '+00:00'");

  MysqlDataSource& source = Reader();
  for (bool with_param : {false, true}) {
    auto r = with_param ? source.Execute(fmt::format("SELECT * FROM `{}` WHERE id = ?", t),
                                         {int64_t{1}}, {})
                        : source.Execute(fmt::format("SELECT * FROM `{}`", t), {}, {});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_FALSE(r->truncated);
    ASSERT_EQ(r->columns.size(), 34u);
    EXPECT_EQ(r->columns[1], "ti");
    EXPECT_EQ(r->columns[33], "nul");
    const Row& row = r->rows[0];
    auto at = [&](std::string_view name) -> const Value& {
      for (size_t i = 0; i < r->columns.size(); ++i)
        if (r->columns[i] == name) return row[i];
      ADD_FAILURE() << "no column " << name;
      return row[0];
    };
    EXPECT_EQ(at("ti"), Value(int64_t{-5}));
    EXPECT_EQ(at("tb"), Value(true));
    EXPECT_EQ(at("bo"), Value(false));
    EXPECT_EQ(at("si"), Value(int64_t{-300}));
    EXPECT_EQ(at("mi"), Value(int64_t{70000}));
    EXPECT_EQ(at("i"), Value(int64_t{-2000000000}));
    EXPECT_EQ(at("bi"), Value(int64_t{-9000000000000000000}));
    EXPECT_EQ(at("ubi"), Value(Decimal{"18446744073709551615"}));
    EXPECT_EQ(at("ui"), Value(int64_t{4000000000}));
    EXPECT_EQ(at("yr"), Value(int64_t{2024}));
    EXPECT_EQ(at("fl"), Value(1.1));
    EXPECT_EQ(at("db"), Value(2.5));
    EXPECT_EQ(at("de"), Value(Decimal{"-1234.50"}));
    EXPECT_EQ(at("big"), Value(Decimal{"123456789012345678901234567890.0123456789"}));
    EXPECT_EQ(at("d"), Value(std::string("2024-11-29")));
    EXPECT_EQ(at("dt"), Value(std::string("2024-11-29T13:05:00")));
    EXPECT_EQ(at("dt6"), Value(std::string("2024-11-29T13:05:00.123456")));
    EXPECT_EQ(at("ts"), Value(std::string("2024-11-29T13:05:00+00:00")));
    EXPECT_EQ(at("ts3"), Value(std::string("2024-11-29T13:05:00.500+00:00")));
    EXPECT_EQ(at("tm"), Value(std::string("-838:59:59")));
    EXPECT_EQ(at("tm2"), Value(std::string("100:00:00.25")));
    EXPECT_EQ(at("b1"), Value(true));
    EXPECT_EQ(at("b8"), Value(int64_t{165}));
    EXPECT_EQ(at("c"), Value(std::string("ab")));
    EXPECT_EQ(at("vc"), Value(std::string("héllo wörld")));
    EXPECT_EQ(at("tx"), Value(std::string(1000, 'x')));
    EXPECT_EQ(at("bl"), Value(Blob{{0x00, 0xFF, 0x10}}));
    EXPECT_EQ(at("bn"), Value(Blob{{1, 2, 3, 4}}));
    EXPECT_EQ(at("vb"), Value(Blob{{0xDE, 0xAD, 0xBE, 0xEF}}));
    EXPECT_EQ(at("js"), Value(std::string("{\"a\": [1, 2]}")));
    EXPECT_EQ(at("en"), Value(std::string("large")));
    EXPECT_EQ(at("st"), Value(std::string("a,c")));
    EXPECT_TRUE(IsNull(at("nul")));
  }

  // Expressions: aggregates of integers are exact decimals; NULL; values longer than the first
  // buffer on several rows.
  admin_->Exec(fmt::format("INSERT INTO `{}` (id, tx, de) VALUES (2, REPEAT('y', 5000), 1.25)", t));
  auto agg = source.Execute(
      fmt::format("SELECT SUM(i), AVG(de), COUNT(*), MAX(tx), NULL AS n FROM `{}`", t), {}, {});
  ASSERT_TRUE(agg.has_value()) << agg.error().message;
  ASSERT_EQ(agg->rows.size(), 1u);
  EXPECT_EQ(agg->rows[0][0], Value(Decimal{"-2000000000"}));
  EXPECT_EQ(agg->rows[0][1], Value(Decimal{"-616.625000"}));
  EXPECT_EQ(agg->rows[0][2], Value(int64_t{2}));
  EXPECT_EQ(agg->rows[0][3], Value(std::string(5000, 'y')));
  EXPECT_TRUE(IsNull(agg->rows[0][4]));
  auto both = source.Execute(fmt::format("SELECT tx FROM `{}` ORDER BY id", t), {}, {});
  ASSERT_TRUE(both.has_value()) << both.error().message;
  ASSERT_EQ(both->rows.size(), 2u);
  EXPECT_EQ(both->rows[0][0], Value(std::string(1000, 'x')));
  EXPECT_EQ(both->rows[1][0], Value(std::string(5000, 'y')));
}

TEST_F(MysqlDataSourceTest, BindsEveryKindOfParameter) {
  const std::string t = T("params");
  admin_->Exec(fmt::format(
      "CREATE TABLE `{}` (id INT PRIMARY KEY, bi BIGINT, db DOUBLE, vc VARCHAR(40), bl BLOB, "
      "flag BOOLEAN, de DECIMAL(12,2), n INT)",
      t));
  admin_->Exec(fmt::format(
      "INSERT INTO `{}` VALUES (1, 9000000000, 0.25, 'O''Re\\\\illy; DROP', X'00FF', TRUE, "
      "-12.50, NULL), (2, 1, 1, 'x', X'01', FALSE, 0, 7)",
      t));
  MysqlDataSource& source = Reader();
  const std::string sql = fmt::format(
      "SELECT id FROM `{}` WHERE bi = ? AND db = ? AND vc = ? AND bl = ? AND flag = ? AND de = ? "
      "AND n <=> ?",
      t);
  const std::vector<Value> match = {int64_t{9000000000}, 0.25, std::string("O'Re\\illy; DROP"),
                                    Blob{{0x00, 0xFF}},  true, Decimal{"-12.50"},
                                    std::monostate{}};
  auto r = source.Execute(sql, match, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0][0], Value(int64_t{1}));
  // Changing any one parameter loses the row: each is bound as itself.
  const std::vector<Value> other = {int64_t{9000000001}, 0.5,   std::string("O'Re\\illy"),
                                    Blob{{0x00}},        false, Decimal{"-12.51"},
                                    int64_t{0}};
  for (size_t k = 0; k < match.size(); ++k) {
    std::vector<Value> params = match;
    params[k] = other[k];
    auto none = source.Execute(sql, params, {});
    ASSERT_TRUE(none.has_value()) << none.error().message;
    EXPECT_THAT(none->rows, IsEmpty()) << "parameter " << k + 1;
  }
  // Values come back as they went in.
  auto echo = source.Execute("SELECT ? AS s, ? AS i, ? AS d, ? AS m",
                             {std::string("a'b\\c\"d"), int64_t{-42}, 1.5, Decimal{"3.14"}}, {});
  ASSERT_TRUE(echo.has_value()) << echo.error().message;
  EXPECT_EQ(echo->columns, (std::vector<std::string>{"s", "i", "d", "m"}));
  EXPECT_EQ(echo->rows.at(0)[0], Value(std::string("a'b\\c\"d")));
  EXPECT_EQ(echo->rows.at(0)[1], Value(int64_t{-42}));
  EXPECT_EQ(echo->rows.at(0)[2], Value(1.5));
  EXPECT_EQ(echo->rows.at(0)[3], Value(Decimal{"3.14"}));

  auto wrong_count = source.Execute(sql, {int64_t{1}}, {});
  ASSERT_FALSE(wrong_count.has_value());
  EXPECT_EQ(wrong_count.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(wrong_count.error().message, HasSubstr("takes 7 parameter(s) but 1 were given"));
  auto infinite = source.Execute("SELECT ?", {std::numeric_limits<double>::infinity()}, {});
  ASSERT_FALSE(infinite.has_value());
  EXPECT_EQ(infinite.error().code, ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Limits.

// The server's id of the connection a data source with a pool of one uses.
std::string ConnectionId(MysqlDataSource& source) {
  auto r = source.ExecuteWithoutAllowListForTesting("SELECT CONNECTION_ID()");
  if (!r || r->rows.empty()) return "none";
  return ToDisplayString(r->rows[0][0]);
}

TEST_F(MysqlDataSourceTest, RowCapStopsABigResultQuickly) {
  const std::string n = T("n");
  CreateNumbers(n, 1000);
  MysqlDataSource& source = Reader(SmallPool(1));
  ExecuteOptions options;
  options.max_rows = 100;
  options.timeout = 30s;
  // A million rows, then a billion: neither is read to the end. The connection is closed
  // rather than drained, and the next statement gets a new one.
  for (const std::string& sql :
       {fmt::format("SELECT a.n, b.n FROM `{0}` a CROSS JOIN `{0}` b", n),
        fmt::format("SELECT a.n, b.n, c.n FROM `{0}` a, `{0}` b, `{0}` c", n)}) {
    const std::string before = ConnectionId(source);
    const auto start = Clock::now();
    auto r = source.Execute(sql, {}, options);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->rows.size(), 100u);
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->columns.size(), sql.find("c.n") != std::string::npos ? 3u : 2u);
    // Reading a billion rows to the end would run into the 30 s limit.
    EXPECT_LT(Since(start), 15s) << sql;
    EXPECT_NE(ConnectionId(source), before) << sql;
  }
  auto after = source.Execute(fmt::format("SELECT COUNT(*) FROM `{}`", n), {}, options);
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->rows.at(0).at(0), Value(int64_t{1000}));
  // Exactly max_rows rows is not truncated; a few rows past it are drained and the connection
  // is kept.
  const std::string kept = ConnectionId(source);
  auto exact = source.Execute(fmt::format("SELECT n FROM `{}` LIMIT 100", n), {}, options);
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ(exact->rows.size(), 100u);
  EXPECT_FALSE(exact->truncated);
  auto few = source.Execute(fmt::format("SELECT n FROM `{}` ORDER BY n LIMIT 150", n), {}, options);
  ASSERT_TRUE(few.has_value());
  EXPECT_TRUE(few->truncated);
  EXPECT_EQ(few->rows.size(), 100u);
  EXPECT_EQ(few->rows.back().at(0), Value(int64_t{100}));
  EXPECT_EQ(ConnectionId(source), kept);
  EXPECT_EQ(source.Usage().open, 1u);
}

TEST_F(MysqlDataSourceTest, StatementTimeoutIsDeadlineExceededAndTheConnectionSurvives) {
  const std::string n = T("n");
  CreateNumbers(n, 1000);
  MysqlDataSource& source = Reader(SmallPool(1));
  ExecuteOptions options;
  options.timeout = 700ms;
  const std::string slow =
      fmt::format("SELECT COUNT(*) FROM `{0}` a, `{0}` b, `{0}` c WHERE a.n + b.n + c.n = -1", n);
  const std::string id = ConnectionId(source);
  const auto start = Clock::now();
  auto r = source.Execute(slow, {}, options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().message;
  EXPECT_EQ(r.error().message, "the query took longer than 700 ms");
  EXPECT_LT(Since(start), 10s);
  // Same connection, next statement.
  EXPECT_EQ(ConnectionId(source), id);
  auto next = source.Execute("SELECT 1", {}, options);
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_EQ(next->rows.at(0).at(0), Value(int64_t{1}));
  EXPECT_EQ(source.Usage().open, 1u);
  // The time limit applies to parameterised statements too.
  auto with_param = source.Execute(slow + " AND a.n > ?", {int64_t{0}}, options);
  ASSERT_FALSE(with_param.has_value());
  EXPECT_EQ(with_param.error().code, ErrorCode::kDeadlineExceeded);
}

TEST_F(MysqlDataSourceTest, ExhaustedPoolAnswersUnavailableAfterTheAcquireTimeout) {
  const std::string n = T("n");
  CreateNumbers(n, 1000);
  OpenOptions options = SmallPool(1);
  options.acquire_timeout = 500ms;
  MysqlDataSource& source = Reader(options);
  ExecuteOptions slow_options;
  slow_options.timeout = 4s;
  Result<QueryResult> slow_result = Fail(ErrorCode::kInternal, "not run");
  std::thread slow([&] {
    slow_result = source.Execute(
        fmt::format("SELECT COUNT(*) FROM `{0}` a, `{0}` b, `{0}` c WHERE a.n + b.n + c.n = -1", n),
        {}, slow_options);
  });
  const auto wait_start = Clock::now();
  while (source.Usage().in_use == 0 && Since(wait_start) < 3s) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(source.Usage().in_use, 1u);

  const auto start = Clock::now();
  auto busy = source.Execute("SELECT 1", {}, {});
  const milliseconds waited = Since(start);
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(busy.error().message, HasSubstr("all 1 database connections are busy"));
  EXPECT_GE(waited, 450ms);
  EXPECT_LT(waited, 3s) << "the caller waited for the slow query instead of the acquire timeout";
  auto ping = source.Ping();
  ASSERT_FALSE(ping.has_value());
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);

  slow.join();
  ASSERT_FALSE(slow_result.has_value());
  EXPECT_EQ(slow_result.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(source.Execute("SELECT 1", {}, {}).has_value());
}

// ---------------------------------------------------------------------------------------------
// Safety.

TEST_F(MysqlDataSourceTest, WritesAreRefusedByTheAllowListAndByTheReadOnlyTransaction) {
  const std::string n = T("n");
  CreateNumbers(n, 10);
  MysqlDataSource& reader = Reader();
  for (const std::string& sql :
       {fmt::format("DELETE FROM `{}`", n), fmt::format("SELECT 1; DROP TABLE `{}`", n),
        fmt::format("SELECT * FROM `{}` INTO OUTFILE '/tmp/helios_pwned'", n),
        fmt::format("SELECT * FROM `{}` FOR UPDATE", n), std::string("SELECT SLEEP(5)")}) {
    auto r = reader.Execute(sql, {}, {});
    ASSERT_FALSE(r.has_value()) << sql;
    EXPECT_EQ(r.error().code, ErrorCode::kUnsafeSql) << sql;
    auto checked = reader.Check(sql);
    ASSERT_FALSE(checked.has_value()) << sql;
    EXPECT_EQ(checked.error().code, ErrorCode::kUnsafeSql) << sql;
  }

  // Past the allow-list, the server refuses writes even for the owner of the tables.
  auto admin = MysqlDataSource::Open(server_.admin_url, SmallPool());
  ASSERT_TRUE(admin.has_value()) << admin.error().message;
  for (const std::string& sql :
       {fmt::format("INSERT INTO `{}` VALUES (1000)", n), fmt::format("DELETE FROM `{}`", n),
        fmt::format("UPDATE `{}` SET n = n + 100", n),
        fmt::format("SELECT * FROM `{}` FOR UPDATE", n),
        // DDL commits the transaction implicitly, but the session itself is READ ONLY.
        fmt::format("DROP TABLE `{}`", n), fmt::format("CREATE TABLE `{}x` (a INT)", n),
        fmt::format("TRUNCATE TABLE `{}`", n)}) {
    auto r = (*admin)->ExecuteWithoutAllowListForTesting(sql);
    ASSERT_FALSE(r.has_value()) << sql;
    EXPECT_EQ(r.error().code, ErrorCode::kUnsafeSql) << sql << ": " << r.error().message;
    EXPECT_THAT(r.error().message, HasSubstr("READ ONLY")) << sql;
  }
  // And for the reader, whose role cannot write in the first place.
  auto as_reader = reader.ExecuteWithoutAllowListForTesting(fmt::format("DELETE FROM `{}`", n));
  ASSERT_FALSE(as_reader.has_value());
  EXPECT_EQ(as_reader.error().code, ErrorCode::kUnsafeSql);
  // Nothing changed.
  EXPECT_THAT(admin_->Query(fmt::format("SELECT COUNT(*), SUM(n) FROM `{}`", n)),
              ElementsAre(ElementsAre("10", "55")));
  // The read-only path still reads.
  auto read =
      (*admin)->ExecuteWithoutAllowListForTesting(fmt::format("SELECT SUM(n) FROM `{}`", n));
  ASSERT_TRUE(read.has_value()) << read.error().message;
}

TEST_F(MysqlDataSourceTest, TheServerReadsQuotesAsTheAllowListDoes) {
  MysqlDataSource& source = Reader();
  // With backslash escapes the whole tail is one string; the server must agree.
  auto r = source.Execute("SELECT 'a\\' ; DROP TABLE t; -- ' AS s", {}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->rows.at(0).at(0), Value(std::string("a' ; DROP TABLE t; -- ")));
  auto dq = source.Execute("SELECT \"x\\\"; DELETE FROM t; #\" AS s", {}, {});
  ASSERT_TRUE(dq.has_value()) << dq.error().message;
  EXPECT_EQ(dq->rows.at(0).at(0), Value(std::string("x\"; DELETE FROM t; #")));
}

TEST_F(MysqlDataSourceTest, CheckUsesTheServersParser) {
  const std::string n = T("n");
  CreateNumbers(n, 3);
  MysqlDataSource& source = Reader();
  EXPECT_TRUE(source.Check(fmt::format("SELECT n FROM `{}` WHERE n > ?", n)).has_value());
  EXPECT_TRUE(source.Check(fmt::format("SELECT n FROM `{}`;", n)).has_value());
  auto missing = source.Check(fmt::format("SELECT n FROM `{}missing`", prefix_));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kDatabaseError);
  EXPECT_THAT(missing.error().message, HasSubstr("doesn't exist"));
  auto syntax = source.Check("SELECT * FROM");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code, ErrorCode::kDatabaseError);
  EXPECT_THAT(syntax.error().message, HasSubstr("SQL syntax"));
  auto unknown_column = source.Execute(fmt::format("SELECT nope FROM `{}`", n), {}, {});
  ASSERT_FALSE(unknown_column.has_value());
  EXPECT_EQ(unknown_column.error().code, ErrorCode::kDatabaseError);
  EXPECT_THAT(unknown_column.error().message, HasSubstr("Unknown column 'nope'"));
}

// Every line of the attack set goes to the real server through the data source as the reader:
// each attack is refused by the allow-list or by the server, and no table changes.
TEST_F(MysqlDataSourceTest, AttackSetIsRefusedAndChangesNothing) {
  const std::string probe = T("probe");
  CreateNumbers(probe, 5);
  auto checksums = [&] {
    std::vector<std::string> sums;
    for (const auto& row : admin_->Query(
             "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
             "AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1")) {
      // Other test cases create and drop their own t_ tables meanwhile.
      if (row[0].starts_with("t_") && !row[0].starts_with(prefix_)) continue;
      for (const auto& sum : admin_->Query(fmt::format("CHECKSUM TABLE `{}` EXTENDED", row[0])))
        sums.push_back(sum[0] + "=" + sum[1]);
    }
    return sums;
  };
  const auto before = checksums();
  ASSERT_FALSE(before.empty());

  MysqlDataSource& source = Reader();
  ExecuteOptions options;
  options.max_rows = 50;
  options.timeout = 5s;
  int guard = 0, server = 0, read = 0;
  for (const auto& line :
       security::testdata::ReadLines(security::testdata::DataDir() / "hostile_sql.txt")) {
    auto r = source.Execute(line.text, {}, options);
    if (r) {
      ++read;
      EXPECT_TRUE(line.read_only_ok) << "line " << line.number << " ran: " << line.text;
      continue;
    }
    EXPECT_NE(r.error().code, ErrorCode::kInternal) << line.text << ": " << r.error().message;
    EXPECT_NE(r.error().code, ErrorCode::kUnavailable) << line.text << ": " << r.error().message;
    if (r.error().code == ErrorCode::kUnsafeSql && !r.error().message.starts_with("the database"))
      ++guard;
    else
      ++server;
  }
  fmt::print("[attack] MariaDB: {} refused by the allow-list, {} by the server, {} ran as reads\n",
             guard, server, read);
  EXPECT_GT(guard, 150);
  EXPECT_EQ(checksums(), before);
  EXPECT_TRUE(source.Ping().has_value());
}

// ---------------------------------------------------------------------------------------------
// Schema.

TEST_F(MysqlDataSourceTest, IntrospectsTablesColumnsKeysCommentsAndViews) {
  const std::string parent = T("parent"), child = T("child"), pair = T("pair"),
                    composite = T("composite"), view = T("view");
  admin_->Exec(fmt::format(
      "CREATE TABLE `{}` (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL COMMENT 'Display name') "
      "COMMENT 'Our customers'",
      parent));
  admin_->Exec(fmt::format(
      "CREATE TABLE `{0}` (id BIGINT UNSIGNED PRIMARY KEY, parent_id INT, amount DECIMAL(12,2), "
      "paid TINYINT(1) NOT NULL DEFAULT 0, created DATETIME, day DATE, kind ENUM('date','int'), "
      "yr YEAR, data JSON, FOREIGN KEY (parent_id) REFERENCES `{1}` (id))",
      child, parent));
  admin_->Exec(fmt::format("CREATE TABLE `{}` (a INT, b INT, PRIMARY KEY (a, b))", pair));
  admin_->Exec(
      fmt::format("CREATE TABLE `{0}` (x INT, y INT, FOREIGN KEY (x, y) REFERENCES `{1}` (a, b))",
                  composite, pair));
  admin_->Exec(fmt::format("INSERT INTO `{}` VALUES (1, 'a'), (2, 'b')", parent));
  admin_->Exec(fmt::format("ANALYZE TABLE `{}`", parent));
  admin_->Exec(fmt::format("CREATE VIEW `{}` AS SELECT id, name FROM `{}`", view, parent));

  MysqlDataSource& source = Reader();
  auto catalog = source.Introspect();
  ASSERT_TRUE(catalog.has_value()) << catalog.error().message;
  const SchemaCatalog& c = **catalog;

  const TableInfo* p = c.FindTable(parent);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->schema, admin_->url().database);
  EXPECT_EQ(p->description, "Our customers");
  EXPECT_EQ(p->row_count, 2);
  ASSERT_EQ(p->columns.size(), 2u);
  EXPECT_EQ(p->columns[0].name, "id");
  EXPECT_TRUE(p->columns[0].primary_key);
  EXPECT_TRUE(p->columns[0].not_null);
  EXPECT_EQ(p->columns[1].name, "name");
  EXPECT_EQ(p->columns[1].declared_type, "varchar(40)");
  EXPECT_EQ(p->columns[1].family, TypeFamily::kText);
  EXPECT_EQ(p->columns[1].description, "Display name");
  EXPECT_TRUE(p->columns[1].not_null);
  EXPECT_FALSE(p->columns[1].primary_key);

  const TableInfo* ch = c.FindTable(child);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->description, "");
  std::vector<std::string> names, types;
  std::vector<TypeFamily> families;
  for (const ColumnInfo& col : ch->columns) {
    names.push_back(col.name);
    types.push_back(col.declared_type);
    families.push_back(col.family);
  }
  EXPECT_THAT(names, ElementsAre("id", "parent_id", "amount", "paid", "created", "day", "kind",
                                 "yr", "data"));
  EXPECT_THAT(types, ElementsAre("bigint(20) unsigned", "int(11)", "decimal(12,2)", "tinyint(1)",
                                 "datetime", "date", "enum('date','int')", "year(4)", "longtext"));
  EXPECT_THAT(families, ElementsAre(TypeFamily::kInteger, TypeFamily::kInteger, TypeFamily::kReal,
                                    TypeFamily::kBoolean, TypeFamily::kDateTime, TypeFamily::kDate,
                                    TypeFamily::kText, TypeFamily::kInteger, TypeFamily::kText));
  EXPECT_TRUE(ch->columns[3].not_null);
  EXPECT_FALSE(ch->columns[2].not_null);
  ASSERT_EQ(ch->foreign_keys.size(), 1u);
  EXPECT_EQ(ch->foreign_keys[0].column, "parent_id");
  EXPECT_EQ(ch->foreign_keys[0].ref_table, parent);
  EXPECT_EQ(ch->foreign_keys[0].ref_column, "id");

  const TableInfo* comp = c.FindTable(composite);
  ASSERT_NE(comp, nullptr);
  EXPECT_THAT(comp->foreign_keys, IsEmpty()) << "composite keys cannot be joined on one column";
  const TableInfo* pr = c.FindTable(pair);
  ASSERT_NE(pr, nullptr);
  EXPECT_TRUE(pr->columns[0].primary_key && pr->columns[1].primary_key);

  const TableInfo* v = c.FindTable(view);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->description, "") << "MariaDB's automatic 'VIEW' comment is not a description";
  EXPECT_EQ(v->row_count, -1);
  ASSERT_EQ(v->columns.size(), 2u);
  EXPECT_EQ(v->columns[1].name, "name");

  // The version changes with the schema (its stability is shown on a private server, where no
  // other test adds tables meanwhile).
  admin_->Exec(fmt::format("ALTER TABLE `{}` ADD COLUMN email VARCHAR(80)", parent));
  auto changed = source.Introspect();
  ASSERT_TRUE(changed.has_value());
  EXPECT_NE((*changed)->version, c.version);
  EXPECT_EQ((*changed)->FindTable(parent)->columns.size(), 3u);
}

TEST_F(MysqlDataSourceTest, DistinctTextValues) {
  const std::string t = T("cities");
  admin_->Exec(
      fmt::format("CREATE TABLE `{}` (id INT, City VARCHAR(20), n INT, kind ENUM('a','b'))", t));
  admin_->Exec(fmt::format(
      "INSERT INTO `{}` VALUES (1, 'Paris', 1, 'a'), (2, ' Paris ', 2, 'b'), (3, 'Lyon', 3, 'a'), "
      "(4, NULL, 4, NULL), (5, '', 5, 'a'), (6, 'Nice', 6, 'b')",
      t));
  MysqlDataSource& source = Reader();
  auto values = source.DistinctTextValues(t, "city", 10);
  ASSERT_TRUE(values.has_value()) << values.error().message;
  EXPECT_THAT(*values, ElementsAre("Lyon", "Nice", "Paris"));
  auto upper = source.DistinctTextValues(text::ToLower(t), "CITY", 10);
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(*upper, *values);
  auto kinds = source.DistinctTextValues(t, "kind", 10);
  ASSERT_TRUE(kinds.has_value());
  EXPECT_THAT(*kinds, ElementsAre("a", "b"));
  auto over = source.DistinctTextValues(t, "city", 2);
  ASSERT_TRUE(over.has_value());
  EXPECT_THAT(*over, IsEmpty()) << "more values than the limit";
  auto numbers = source.DistinctTextValues(t, "n", 10);
  ASSERT_TRUE(numbers.has_value());
  EXPECT_THAT(*numbers, IsEmpty());
  auto no_table = source.DistinctTextValues(T("nope"), "city", 10);
  ASSERT_FALSE(no_table.has_value());
  EXPECT_EQ(no_table.error().code, ErrorCode::kNotFound);
  auto no_column = source.DistinctTextValues(t, "nope", 10);
  ASSERT_FALSE(no_column.has_value());
  EXPECT_EQ(no_column.error().code, ErrorCode::kNotFound);
}

TEST_F(MysqlDataSourceTest, WritePrivilegesOfAdminAndReader) {
  auto admin = MysqlDataSource::Open(server_.admin_url, SmallPool());
  ASSERT_TRUE(admin.has_value()) << admin.error().message;
  auto admin_privileges = (*admin)->WritePrivileges();
  ASSERT_TRUE(admin_privileges.has_value()) << admin_privileges.error().message;
  EXPECT_THAT(*admin_privileges,
              ElementsAre(fmt::format("ALL PRIVILEGES on {}.*", admin_->url().database)));
  auto reader_privileges = Reader().WritePrivileges();
  ASSERT_TRUE(reader_privileges.has_value()) << reader_privileges.error().message;
  EXPECT_THAT(*reader_privileges, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// A private server that stops and starts.

class PrivateServer {
 public:
  PrivateServer() : dir_("helios-mysql-restart") {
    path_ = (dir_.path() / "mariadb").string();
    auto started = testing::StartPrivateServer(testing::ServerKind::kMariadb, path_);
    if (!started) {
      // The server's own account of what went wrong, before the directory is removed.
      error_ = started.error().message;
      for (const char* log : {"install.log", "server.log"})
        for (const std::string& line :
             text::Split(testing::ReadFile(std::filesystem::path(path_) / log), '\n'))
          if (line.find("ERROR") != std::string::npos) error_ += "\n" + line;
      return;
    }
    server_ = *started;
    running_ = true;
  }
  ~PrivateServer() {
    if (running_) (void)testing::StopPrivateServer(testing::ServerKind::kMariadb, path_);
  }
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  bool Stop() {
    running_ = false;
    return testing::StopPrivateServer(testing::ServerKind::kMariadb, path_).has_value();
  }
  bool Start() {
    running_ = testing::StartPrivateServer(testing::ServerKind::kMariadb, path_).has_value();
    return running_;
  }
  const std::string& error() const { return error_; }
  const testing::TestServer& server() const { return server_; }
  const std::string& path() const { return path_; }

 private:
  testing::TempDir dir_;
  std::string path_;
  testing::TestServer server_;
  std::string error_;
  bool running_ = false;
};

TEST(MysqlRestartTest, ReconnectsAfterTheServerRestarts) {
  PrivateServer db;
  ASSERT_TRUE(db.error().empty()) << db.error();
  OpenOptions options = SmallPool(2);
  options.acquire_timeout = 2s;
  RawConnection admin(db.server().admin_url);
  ASSERT_TRUE(admin.ok()) << admin.error();
  admin.Exec("CREATE TABLE kept (id INT PRIMARY KEY, name VARCHAR(20)) COMMENT 'Survives'");
  admin.Exec("INSERT INTO kept VALUES (1, 'one')");
  auto opened = MysqlDataSource::Open(db.server().reader_url, options);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  MysqlDataSource& source = **opened;
  ASSERT_TRUE(source.Execute("SELECT 1", {}, {}).has_value());
  auto before = source.Introspect();
  ASSERT_TRUE(before.has_value()) << before.error().message;
  ASSERT_NE((*before)->FindTable("kept"), nullptr);

  // Stopped: a quick, clear kUnavailable.
  ASSERT_TRUE(db.Stop());
  auto start = Clock::now();
  auto down = source.Execute("SELECT 1", {}, {});
  ASSERT_FALSE(down.has_value());
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable) << down.error().message;
  EXPECT_LT(Since(start), 5s);
  auto ping = source.Ping();
  ASSERT_FALSE(ping.has_value());
  EXPECT_EQ(ping.error().code, ErrorCode::kUnavailable);

  // Restarted: the same object answers again.
  ASSERT_TRUE(db.Start());
  auto up = source.Execute("SELECT 2", {}, {});
  ASSERT_TRUE(up.has_value()) << up.error().message;
  EXPECT_EQ(up->rows.at(0).at(0), Value(int64_t{2}));

  // Restarted while a connection sat idle: the first query finds it dead and retries once on
  // a fresh connection, without an error.
  ASSERT_TRUE(db.Stop());
  ASSERT_TRUE(db.Start());
  auto again = source.Execute("SELECT 3", {}, {});
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->rows.at(0).at(0), Value(int64_t{3}));
  EXPECT_TRUE(source.Ping().has_value());
  auto read = source.Execute("SELECT name FROM kept WHERE id = ?", {int64_t{1}}, {});
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(read->rows.at(0).at(0), Value(std::string("one")));

  // The schema version is the same after the restarts, and changes with the schema.
  auto after = source.Introspect();
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ((*after)->version, (*before)->version);
  RawConnection admin_again(db.server().admin_url);
  ASSERT_TRUE(admin_again.ok()) << admin_again.error();
  admin_again.Exec("ALTER TABLE kept ADD COLUMN note TEXT COMMENT 'A note'");
  auto altered = source.Introspect();
  ASSERT_TRUE(altered.has_value()) << altered.error().message;
  EXPECT_NE((*altered)->version, (*before)->version);
  EXPECT_EQ((*altered)->FindTable("kept")->columns.back().description, "A note");
}

// Settings only root can change, on a private server: odd credentials in the URL, and a
// server whose default sql_mode would make it read quotes and backslashes differently.
TEST(MysqlRestartTest, OddCredentialsAndQuotingModes) {
  PrivateServer db;
  ASSERT_TRUE(db.error().empty()) << db.error();
  MYSQL* root = mysql_init(nullptr);
  ASSERT_NE(mysql_real_connect(root, "localhost", "root", "", nullptr, 0,
                               (db.path() + "/mysqld.sock").c_str(), 0),
            nullptr)
      << mysql_error(root);
  const std::string password = "p@ss:w/rd?%#&'x";
  for (const std::string& sql :
       {std::string("CREATE USER 'odd user'@'%' IDENTIFIED BY 'p@ss:w/rd?%#&\\'x'"),
        std::string("GRANT SELECT ON helios.* TO 'odd user'@'%'"),
        std::string("SET GLOBAL sql_mode = 'ANSI,NO_BACKSLASH_ESCAPES'")})
    ASSERT_EQ(mysql_real_query(root, sql.data(), sql.size()), 0) << mysql_error(root);
  mysql_close(root);

  auto u = ParseMysqlUrl(db.server().reader_url);
  ASSERT_TRUE(u.has_value());
  const std::string url = fmt::format(
      "mysql://odd%20user:p%40ss%3Aw%2Frd%3F%25%23%26'x@{}:{}/helios", u->host, u->port);
  auto opened = MysqlDataSource::Open(url, SmallPool());
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  MysqlDataSource& source = **opened;
  EXPECT_EQ(source.DisplayName(), fmt::format("mysql://odd user@{}:{}/helios", u->host, u->port));
  EXPECT_THAT(source.DisplayName(), Not(HasSubstr(password)));
  auto privileges = source.WritePrivileges();
  ASSERT_TRUE(privileges.has_value()) << privileges.error().message;
  EXPECT_THAT(*privileges, IsEmpty());

  // Under the server's ANSI_QUOTES and NO_BACKSLASH_ESCAPES the first statement would be a
  // syntax error and the second would name a column; the session reads them as the allow-list
  // and the renderer do.
  auto r = source.Execute("SELECT 'a\\' ; DROP TABLE t; -- ' AS s, \"x\" AS d", {}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->rows.at(0).at(0), Value(std::string("a' ; DROP TABLE t; -- ")));
  EXPECT_EQ(r->rows.at(0).at(1), Value(std::string("x")));
  auto like = source.Execute("SELECT 'a%b' LIKE ? ESCAPE '\\\\'", {std::string("a\\%b")}, {});
  ASSERT_TRUE(like.has_value()) << like.error().message;
  EXPECT_EQ(like->rows.at(0).at(0), Value(int64_t{1}));
}

}  // namespace
}  // namespace helios::db
