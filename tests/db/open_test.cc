#include "db/open.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace helios::db {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class OpenDataSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "helios-open-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    fs::create_directory(dir_ / "sub");
    for (const char* name : {"sub/shop.db", "plain.db", "other.sqlite", "third.SQLITE3"}) {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open((dir_ / name).c_str(), &db), SQLITE_OK);
      ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr,
                             nullptr),
                SQLITE_OK);
      sqlite3_close(db);
    }
    old_cwd_ = fs::current_path();
    fs::current_path(dir_);  // relative URLs resolve against the working directory
  }
  void TearDown() override {
    fs::current_path(old_cwd_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Opens url and checks that it reads the expected file.
  void ExpectOpens(const std::string& url, const std::string& display_name) {
    auto source = OpenDataSource(url);
    ASSERT_TRUE(source.has_value()) << url << ": " << source.error().message;
    EXPECT_EQ((*source)->dialect(), Dialect::kSqlite);
    EXPECT_EQ((*source)->DisplayName(), display_name);
    auto r = (*source)->Execute("SELECT x FROM t", {}, {});
    ASSERT_TRUE(r.has_value()) << url;
    EXPECT_EQ(r->rows.at(0).at(0), Value(int64_t{1}));
  }

  void ExpectInvalid(const std::string& url, const std::string& message_part) {
    auto source = OpenDataSource(url);
    ASSERT_FALSE(source.has_value()) << url;
    EXPECT_EQ(source.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_THAT(source.error().message, HasSubstr(message_part)) << url;
  }

  fs::path dir_;
  fs::path old_cwd_;
};

TEST_F(OpenDataSourceTest, SqliteUrlForms) {
  ExpectOpens("sqlite://" + (dir_ / "sub/shop.db").string(), "sqlite:shop.db");  // sqlite:///abs
  ExpectOpens("sqlite://sub/shop.db", "sqlite:shop.db");
  ExpectOpens("sqlite:sub/shop.db", "sqlite:shop.db");
  ExpectOpens("sqlite:plain.db", "sqlite:plain.db");
  ExpectOpens("SQLite:plain.db", "sqlite:plain.db");
  ExpectOpens("  sqlite:plain.db \n", "sqlite:plain.db");
}

TEST_F(OpenDataSourceTest, BarePathsWithDatabaseExtensions) {
  ExpectOpens("plain.db", "sqlite:plain.db");
  ExpectOpens("sub/shop.db", "sqlite:shop.db");
  ExpectOpens((dir_ / "sub/shop.db").string(), "sqlite:shop.db");
  ExpectOpens("other.sqlite", "sqlite:other.sqlite");
  ExpectOpens("third.SQLITE3", "sqlite:third.SQLITE3");
}

TEST_F(OpenDataSourceTest, MissingFileIsNotFoundAndNotCreated) {
  for (const std::string url : {"sqlite:missing.db", "missing.db", "sqlite://sub/missing.db"}) {
    auto source = OpenDataSource(url);
    ASSERT_FALSE(source.has_value()) << url;
    EXPECT_EQ(source.error().code, ErrorCode::kNotFound) << url;
  }
  EXPECT_FALSE(fs::exists(dir_ / "missing.db"));
  EXPECT_FALSE(fs::exists(dir_ / "sub/missing.db"));
}

TEST_F(OpenDataSourceTest, ServerUrlsConnectAndSayWhenNothingAnswers) {
  // Port 1 on loopback: nothing listens, so each client fails at once with its own reason.
  for (const std::string url :
       {"postgresql://bob@127.0.0.1:1/sales", "postgres://127.0.0.1:1/sales",
        "mysql://bob@127.0.0.1:1/sales", "mariadb://bob@127.0.0.1:1/sales"}) {
    auto source = OpenDataSource(url);
    ASSERT_FALSE(source.has_value()) << url;
    EXPECT_EQ(source.error().code, ErrorCode::kUnavailable)
        << url << ": " << source.error().message;
  }
}

TEST_F(OpenDataSourceTest, UnknownFormsNameTheAcceptedOnes) {
  ExpectInvalid("", "sqlite:///absolute/path.db");
  ExpectInvalid("http://example.com/data.db", "unsupported database URL scheme 'http'");
  ExpectInvalid("notes.txt", "sqlite:///absolute/path.db, sqlite://relative/path.db");
  ExpectInvalid("plain", ".db, .sqlite or .sqlite3");
  ExpectInvalid("sqlite:", "names no file");
  ExpectInvalid("sqlite://", "names no file");
  ExpectInvalid("sqlite::memory:", "in-memory");
}

TEST_F(OpenDataSourceTest, PasswordsAreNeverInErrors) {
  for (const std::string url :
       {"postgresql://bob:s3cretpw@127.0.0.1:1/sales", "mysql://root:s3cretpw@127.0.0.1:1/shop",
        "mariadb://u:s3cretpw@127.0.0.1:1/d", "redis://:s3cretpw@cache:6379/0",
        "oracle://scott:s3cretpw@db/orcl", "postgresql://127.0.0.1:1/db?user=bob&password=s3cretpw",
        "mysql://root:s3cretpw@127.0.0.1:1/shop?no-such-option=1"}) {
    auto source = OpenDataSource(url);
    ASSERT_FALSE(source.has_value()) << url;
    EXPECT_THAT(source.error().code,
                ::testing::AnyOf(ErrorCode::kInvalidArgument, ErrorCode::kUnavailable));
    EXPECT_THAT(source.error().message, Not(HasSubstr("s3cretpw"))) << url;
  }
}

TEST(RedactUrlTest, HidesPasswordsOnly) {
  EXPECT_EQ(RedactUrl("postgresql://bob:s3cret@db.example.com:5432/sales"),
            "postgresql://bob:***@db.example.com:5432/sales");
  EXPECT_EQ(RedactUrl("mysql://root:p@ss/w?rd@localhost/shop"), "mysql://root:***@localhost/shop");
  EXPECT_EQ(RedactUrl("redis://:s3cret@cache:6379/0"), "redis://:***@cache:6379/0");
  EXPECT_EQ(RedactUrl("postgresql://h/db?user=bob&password=s3cret&sslmode=require"),
            "postgresql://h/db?user=bob&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://h/db?PWD=s3cret"), "postgresql://h/db?PWD=***");
  // Nothing to hide.
  EXPECT_EQ(RedactUrl("postgresql://bob@db.example.com/sales"),
            "postgresql://bob@db.example.com/sales");
  EXPECT_EQ(RedactUrl("postgresql://db.example.com:5432/sales"),
            "postgresql://db.example.com:5432/sales");
  EXPECT_EQ(RedactUrl("sqlite:///data/demo.db"), "sqlite:///data/demo.db");
  EXPECT_EQ(RedactUrl(""), "");
}

}  // namespace
}  // namespace helios::db
