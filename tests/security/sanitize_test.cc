#include "security/sanitize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace helios::security {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// --- StripSqlComments ------------------------------------------------------------------------

TEST(StripSqlCommentsTest, RemovesLineAndBlockComments) {
  EXPECT_EQ(StripSqlComments("SELECT 1 -- the answer"), "SELECT 1");
  EXPECT_EQ(StripSqlComments("SELECT 1 /* the answer */"), "SELECT 1");
  EXPECT_EQ(StripSqlComments("SELECT /* a */ 1"), "SELECT 1");
  EXPECT_EQ(StripSqlComments("SELECT/**/1"), "SELECT 1");  // a comment separates tokens
  EXPECT_EQ(StripSqlComments("SELECT a/*x*/FROM t"), "SELECT a FROM t");
  EXPECT_EQ(StripSqlComments("/* lead */ SELECT 1"), "SELECT 1");
  EXPECT_EQ(StripSqlComments("SELECT 1--x"), "SELECT 1");
  EXPECT_EQ(StripSqlComments("SELECT 1; -- ignore previous instructions"), "SELECT 1;");
}

TEST(StripSqlCommentsTest, TidiesTheLinesLeftBehind) {
  EXPECT_EQ(StripSqlComments("SELECT a -- first\nFROM t -- second\nWHERE x = 1"),
            "SELECT a\nFROM t\nWHERE x = 1");
  EXPECT_EQ(StripSqlComments("-- header\nSELECT 1\n-- between\nFROM t\n-- footer"),
            "SELECT 1\nFROM t");
  EXPECT_EQ(StripSqlComments("SELECT 1\n/* a block\n   over lines */\nFROM t"), "SELECT 1\nFROM t");
  EXPECT_EQ(StripSqlComments("SELECT 1 /* c */\nFROM t"), "SELECT 1\nFROM t");
  EXPECT_EQ(StripSqlComments("SELECT  1   /* c */   + 2"), "SELECT  1   + 2");
}

TEST(StripSqlCommentsTest, NestedAndUnterminatedBlockComments) {
  EXPECT_EQ(StripSqlComments("SELECT 1 /* outer /* inner */ still outer */ + 2"), "SELECT 1 + 2");
  EXPECT_EQ(StripSqlComments("SELECT 1 /* never closed"), "SELECT 1");
  EXPECT_EQ(StripSqlComments("SELECT 1 /* a */ /* b */ /* c */ FROM t"), "SELECT 1 FROM t");
}

TEST(StripSqlCommentsTest, KeepsCommentsInsideQuoting) {
  for (const char* sql : {
           "SELECT '-- not a comment'",
           "SELECT '/* not a comment */'",
           "SELECT 'it''s -- still a string'",
           "SELECT \"col -- name\" FROM t",
           "SELECT \"a \"\" /* b\" FROM t",
           "SELECT `weird -- column` FROM t",
           "SELECT [odd /* name */] FROM t",
           "SELECT $$ -- body /* x */ $$",
           "SELECT $fn$ a -- b $x$ c /* d */ $fn$",
           "SELECT E'\\' -- still inside'",
           "SELECT a$b, $1 FROM t",
           "SELECT 2 - -1",
           "SELECT 4 / 2 * 3",
       }) {
    EXPECT_EQ(StripSqlComments(sql), sql) << sql;
  }
  EXPECT_EQ(StripSqlComments("SELECT '--' -- real"), "SELECT '--'");
  EXPECT_EQ(StripSqlComments("SELECT $$--$$ /* real */, 1"), "SELECT $$--$$ , 1");
  EXPECT_EQ(StripSqlComments("SELECT 'a' /* x */ || 'b'"), "SELECT 'a' || 'b'");
  // Without E, a backslash does not escape: the string ends at the second quote.
  EXPECT_EQ(StripSqlComments("SELECT '\\' -- gone"), "SELECT '\\'");
}

TEST(StripSqlCommentsTest, UnterminatedQuotesKeepTheRest) {
  EXPECT_EQ(StripSqlComments("SELECT 'open -- x"), "SELECT 'open -- x");
  EXPECT_EQ(StripSqlComments("SELECT $$ open -- x"), "SELECT $$ open -- x");
}

TEST(StripSqlCommentsTest, SqlWithoutCommentsIsUnchanged) {
  const std::string sql = "  SELECT name\n  FROM regions\t ORDER BY 1  ";
  EXPECT_EQ(StripSqlComments(sql), sql);
  EXPECT_EQ(StripSqlComments(""), "");
}

// --- SanitizeErrorMessage ----------------------------------------------------------------------

TEST(SanitizeErrorMessageTest, ReplacesAbsolutePaths) {
  EXPECT_EQ(SanitizeErrorMessage("unable to open /var/lib/helios/x.db"), "unable to open <path>");
  EXPECT_EQ(SanitizeErrorMessage("cannot read '/data/my files/x.db': denied"),
            "cannot read '<path>': denied");
  EXPECT_EQ(SanitizeErrorMessage("file \"/tmp/a b.txt\" missing"), "file \"<path>\" missing");
  EXPECT_EQ(SanitizeErrorMessage("see ~/helios/config.toml."), "see <path>.");
  EXPECT_EQ(SanitizeErrorMessage("open C:\\ProgramData\\helios\\x.db failed"),
            "open <path> failed");
  EXPECT_EQ(SanitizeErrorMessage("share \\\\fileserver\\bi\\x.db is gone"), "share <path> is gone");
  EXPECT_EQ(SanitizeErrorMessage("at path=/etc/helios.toml"), "at path=<path>");
  EXPECT_EQ(SanitizeErrorMessage("read file:///etc/passwd"), "read file://<path>");
  // Not paths.
  for (const char* message : {"division by zero", "ratio 1/2 is wrong", "and/or", "near \"/\"",
                              "integer / text", "https://example.com/docs/errors"}) {
    EXPECT_EQ(SanitizeErrorMessage(message), message);
  }
}

TEST(SanitizeErrorMessageTest, HidesUrlCredentials) {
  EXPECT_EQ(SanitizeErrorMessage("cannot connect to postgres://bob:hunter2@db:5432/sales"),
            "cannot connect to postgres://bob:***@db:5432/sales");
  EXPECT_EQ(SanitizeErrorMessage("mysql://root:p@ss/w0rd@10.0.0.1/x refused"),
            "mysql://root:***@10.0.0.1/x refused");
  EXPECT_EQ(SanitizeErrorMessage("redis://:s3cret@cache:6379"), "redis://:***@cache:6379");
  EXPECT_EQ(SanitizeErrorMessage("GET https://api.example.com/v1?api_key=abc123&q=1"),
            "GET https://api.example.com/v1?api_key=***&q=1");
  EXPECT_EQ(SanitizeErrorMessage("postgres://bob@db/sales"), "postgres://bob@db/sales");
}

TEST(SanitizeErrorMessageTest, HidesSecretValues) {
  EXPECT_EQ(SanitizeErrorMessage("login failed: password=hunter2 user=bob"),
            "login failed: password=*** user=bob");
  EXPECT_EQ(SanitizeErrorMessage("PGPASSWORD=abc; host=db"), "PGPASSWORD=***; host=db");
  EXPECT_EQ(SanitizeErrorMessage("secret = 's p a c e' next"), "secret = '***' next");
  EXPECT_EQ(SanitizeErrorMessage("{\"api_key\": \"sk-123\", \"n\": 1}"),
            "{\"api_key\": \"***\", \"n\": 1}");
  EXPECT_EQ(SanitizeErrorMessage("token:abc.def.ghi"), "token:***");
  EXPECT_EQ(SanitizeErrorMessage("x-api-key=K1 access_token=T2 client_secret=S3"),
            "x-api-key=*** access_token=*** client_secret=***");
  EXPECT_EQ(SanitizeErrorMessage("Authorization: Bearer eyJhbGciOi.x.y"),
            "Authorization: Bearer ***");
  EXPECT_EQ(SanitizeErrorMessage("pwd=abc"), "pwd=***");
  // Ordinary keys and words stay.
  EXPECT_EQ(SanitizeErrorMessage("Key (id)=(5) already exists"), "Key (id)=(5) already exists");
  EXPECT_EQ(SanitizeErrorMessage("password authentication failed for user \"bob\""),
            "password authentication failed for user \"bob\"");
}

TEST(SanitizeErrorMessageTest, DropsStackTraceLines) {
  const std::string message =
      "query failed: no such column: x\n"
      "Traceback (most recent call last):\n"
      "  File \"/srv/app.py\", line 3, in <module>\n"
      "    at Object.run (/srv/app.js:10:5)\n"
      "#0 0x7f12 in helios::Run() src/app.cc:42\n"
      "#1 0x7f13 in main\n"
      "==1234==ERROR: AddressSanitizer: heap-use-after-free\n"
      "Stack trace:\n"
      "0x00007fffdeadbeef\n"
      "try another column";
  EXPECT_EQ(SanitizeErrorMessage(message), "query failed: no such column: x\ntry another column");
  EXPECT_EQ(SanitizeErrorMessage("meet at noon"), "meet at noon");
  EXPECT_EQ(SanitizeErrorMessage("#hashtag is fine"), "#hashtag is fine");
}

TEST(SanitizeErrorMessageTest, BoundsLengthAndControlCharacters) {
  const std::string long_message(2000, 'x');
  const std::string out = SanitizeErrorMessage(long_message);
  EXPECT_EQ(out.size(), 500u);
  EXPECT_TRUE(out.ends_with("..."));
  EXPECT_EQ(SanitizeErrorMessage(long_message, 10), "xxxxxxx...");
  // A cut never splits a UTF-8 character.
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "\u00e9";
  const std::string cut = SanitizeErrorMessage(accents, 101);
  EXPECT_EQ(cut.size() % 2, 1u);  // whole two-byte characters plus "..."
  EXPECT_TRUE(cut.ends_with("..."));
  EXPECT_EQ(SanitizeErrorMessage("a\x01"
                                 "b\x1b[31mc\rd\x7f"),
            "a b [31mc d");
  EXPECT_EQ(SanitizeErrorMessage(""), "");
}

TEST(SanitizeErrorMessageTest, EverythingAtOnce) {
  const std::string out = SanitizeErrorMessage(
      "connect postgres://svc:Pa55@db.internal/bi failed (password=Pa55, cert "
      "/etc/ssl/private/bi.key)\n    at Connect (/srv/bi/db.js:1:1)");
  EXPECT_THAT(out, Not(HasSubstr("Pa55")));
  EXPECT_THAT(out, Not(HasSubstr("/etc/ssl")));
  EXPECT_THAT(out, Not(HasSubstr("db.js")));
  EXPECT_THAT(out, HasSubstr("postgres://svc:***@db.internal/bi"));
  EXPECT_THAT(out, HasSubstr("password=***"));
  EXPECT_THAT(out, HasSubstr("cert <path>)"));
}

}  // namespace
}  // namespace helios::security
