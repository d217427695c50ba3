#include "security/question_screen.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "security/decode.h"
#include "security/pg_scan.h"
#include "security/test_data.h"

namespace helios::security {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Screening Screen(std::string_view q) { return ScreenQuestion(q); }

// Expects `question` to be flagged with a reason containing `reason`.
void ExpectFlagged(std::string_view question, std::string_view reason) {
  const Screening s = ScreenQuestion(question);
  EXPECT_TRUE(s.flagged) << question;
  EXPECT_THAT(s.reason, HasSubstr(std::string(reason))) << question;
}

// --- Ordinary questions pass ---------------------------------------------------------------------

TEST(QuestionScreenTest, OrdinaryPhrasingsPass) {
  for (const char* q : {
           "select customers from Germany",
           "Select the top 5 customers by revenue",
           "orders with a discount of 10%",
           "sales in Q1 -- excluding returns?",
           "what's the revenue of O'Reilly's products",
           "what\u2019s the revenue of O\u2019Reilly\u2019s products",
           "rock & roll albums",
           "customers named 'Smith'",
           "customers whose name contains 'union'",
           "orders with the note 'where'",
           "products tagged 'limit'",
           "customers named \"Smith\"",
           "customers named O'Brien or O'Neil",
           "customers who said 'yes' or 'no'",
           "show products where name = 'Widget'",
           "customers where country = 'Germany' or country = 'France'",
           "customers with id = 1 or id = 2",
           "orders where quantity > 5 and total < 100",
           "price > 100 or price < 10",
           "products with 1 or 2 reviews",
           "is it true or false that sales grew",
           "orders between 1 and 2",
           "employees hired after 2020-01-01 and before 2023-12-31",
           "drop in revenue last month",
           "which products had the biggest drop",
           "create a chart of sales by month",
           "update me on sales in 2024",
           "users' emails; drop duplicates",
           "top 10 products; show revenue",
           "revenue; select the top 5",
           "the sales; then sort by date",
           "union members by region",
           "copy of the sales report from 2024 to 2025",
           "execute the monthly report",
           "exec summary for Q3",
           "grant totals by region",
           "insert the numbers into a chart",
           "truncate names to 10 characters",
           "user(s) with more than 5 orders",
           "products for better sleep (pillows)",
           "#1 selling product",
           "order #123 status",
           "products tagged #sale or #new",
           "products with 50% off & free shipping",
           "revenue /* per region */",
           "products where description contains '--'",
           "revenue (excluding tax) by quarter",
           "count(*) of orders",
           "avg(order value) by month",
           "What does 'OR' mean in the report?",
           "Is 'a' = 'a'?",
           "name like 'A%' or name like 'B%'",
           "customers with email like '%@gmail.com'",
           "revenue in Q1'24 vs Q1'23",
           "customers in 'C\u00f4te d'Ivoire'",
           "list customers where city = 'St. John's'",
           "\u201cBooks\u201d category revenue",
           "compare 2023 vs. 2024 \u2013 month by month",
           "3rd quarter revenue 2024",
           "revenue over 1M in 2023 and 2024",
           "products priced 10$ or more",
           "revenue in EUR (\u20ac)",
           "call center (Berlin) revenue",
           "create table of sales by region",
           "create view of revenue per month",
           "with discounts as (percent) by month",
           "set targets = revenue goals for 2025",
           "",
           "   ",
       }) {
    const Screening s = Screen(q);
    EXPECT_FALSE(s.flagged) << q << " -> " << s.reason;
    EXPECT_TRUE(s.reason.empty()) << q;
  }
}

TEST(QuestionScreenTest, NoGoldenQuestionIsFlagged) {
  const std::vector<std::string> questions = testdata::GoldenQuestions();
  ASSERT_GT(questions.size(), 100u) << "the golden set did not load";
  for (const std::string& q : questions) {
    const Screening s = Screen(q);
    EXPECT_FALSE(s.flagged) << q << " -> " << s.reason;
  }
}

// The Spider training questions (thousands of questions written by people about 138 databases)
// sit beside the repository when the dataset is installed; none of them is an attack.
TEST(QuestionScreenTest, NoSpiderQuestionIsFlagged) {
  const auto path = std::filesystem::path(HELIOS_SOURCE_DIR) / ".." / "shared" / "datasets" /
                    "spider-train" / "train_spider.json";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "the Spider dataset is not installed beside the repository";
  const nlohmann::json cases = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(cases.is_array());
  size_t flagged = 0;
  for (const auto& c : cases) {
    const std::string q = c.value("question", "");
    const Screening s = Screen(q);
    if (s.flagged && ++flagged <= 20) {
      ADD_FAILURE() << q << " -> " << s.reason;
    }
  }
  EXPECT_EQ(flagged, 0u) << "of " << cases.size();
}

// --- Every hostile question is flagged -----------------------------------------------------------

TEST(QuestionScreenTest, EveryHostileQuestionIsFlagged) {
  const auto lines = testdata::ReadLines(testdata::DataDir() / "hostile_questions.txt");
  ASSERT_GE(lines.size(), 150u);
  for (const auto& line : lines) {
    const Screening s = Screen(line.text);
    EXPECT_TRUE(s.flagged) << "line " << line.number << ": " << line.text;
    EXPECT_EQ(s.flagged, !s.reason.empty()) << line.text;
  }
}

// --- Categories and reasons ----------------------------------------------------------------------

TEST(QuestionScreenTest, StackedStatements) {
  ExpectFlagged("customers; DROP TABLE customers", "a stacked statement: '; DROP TABLE'");
  ExpectFlagged("x'; DROP TABLE users; --", "a stacked statement: '; DROP TABLE'");
  ExpectFlagged("orders;delete from order_items", "a stacked statement: ';delete from'");
  ExpectFlagged("1; update products set unit_price = 0", "a stacked statement");
  ExpectFlagged("regions; PRAGMA writable_schema = 1", "a stacked statement: '; PRAGMA");
  ExpectFlagged("x; ATTACH 'pwn.db' AS p", "a stacked statement");
  ExpectFlagged("x; SELECT * FROM sqlite_master", "a stacked statement: '; SELECT *'");
  ExpectFlagged("x; select name from users", "a stacked statement");
  ExpectFlagged("x; VACUUM", "a stacked statement: '; VACUUM'");
  ExpectFlagged("x; shutdown", "a stacked statement: '; shutdown'");
}

TEST(QuestionScreenTest, QuoteBreakOuts) {
  ExpectFlagged("x' OR '1'='1", "a tautology: 'OR '1'='1'");
  ExpectFlagged("admin'--", "a quote break-out followed by a comment: ''--'");
  ExpectFlagged("admin' #", "a quote break-out followed by a comment");
  ExpectFlagged("admin'/*", "a quote break-out followed by a comment");
  ExpectFlagged("'; --", "a quote break-out followed by a comment: ''; --'");
  ExpectFlagged("') OR ('a'='a", "a tautology");
  ExpectFlagged("x'='x", "a quote break-out: ''='");
  ExpectFlagged("x' or username like '%admin%", "a quote break-out: '' or'");
  ExpectFlagged("1' ORDER BY 3--+", "a quote break-out: '' ORDER'");
  ExpectFlagged("\" OR \"\"=\"", "a tautology");
}

TEST(QuestionScreenTest, Tautologies) {
  ExpectFlagged("1 OR 1=1", "a tautology: 'OR 1=1'");
  ExpectFlagged("orders where 1=1", "a tautology: 'where 1=1'");
  ExpectFlagged("x or 2 > 1", "a tautology");
  ExpectFlagged("x OR 'a' LIKE 'a'", "a tautology");
  ExpectFlagged("x or name=name", "a tautology: 'or name=name'");
  ExpectFlagged("' or true--", "a tautology: 'or true--'");
  ExpectFlagged("1 AND 1=2", "a tautology");
  ExpectFlagged("x OR NULL IS NULL", "a tautology");
  ExpectFlagged("x OR 3-2=1", "a tautology");
}

TEST(QuestionScreenTest, UnionSelect) {
  ExpectFlagged("' UNION SELECT name, email FROM customers --", "a UNION SELECT: 'UNION SELECT'");
  ExpectFlagged("x UNION ALL SELECT NULL, NULL", "a UNION SELECT: 'UNION ALL SELECT'");
  ExpectFlagged("1 union (select 1)", "a UNION SELECT");
  ExpectFlagged("customers UNION SELECT password FROM users", "a UNION SELECT");
  EXPECT_FALSE(Screen("union members select plans").flagged);
}

TEST(QuestionScreenTest, Statements) {
  ExpectFlagged("DROP TABLE customers", "a DROP statement: 'DROP TABLE'");
  ExpectFlagged("please delete from customers", "a DELETE statement: 'delete from'");
  ExpectFlagged("INSERT INTO regions VALUES (1)", "an INSERT statement");
  ExpectFlagged("update employees set salary = 0", "an UPDATE statement");
  ExpectFlagged("ALTER TABLE x ADD y int", "an ALTER statement");
  ExpectFlagged("TRUNCATE TABLE orders", "a TRUNCATE statement");
  ExpectFlagged("create temp table t (x int)", "a CREATE statement");
  ExpectFlagged("CREATE TABLE IF NOT EXISTS main.t AS SELECT 1", "a CREATE statement");
  ExpectFlagged("create index i on orders (customer_id)", "a CREATE statement");
  ExpectFlagged("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END", "a CREATE statement");
  ExpectFlagged("GRANT ALL ON customers TO public", "a GRANT statement");
  ExpectFlagged("revoke select on orders from bob", "a REVOKE statement");
  ExpectFlagged("ATTACH DATABASE 'x.db' AS x", "an ATTACH statement");
  ExpectFlagged("PRAGMA table_info(customers)", "a PRAGMA statement");
  ExpectFlagged("COPY customers TO '/tmp/x.csv'", "a COPY statement");
  ExpectFlagged("copy (select 1) to program 'id'", "a COPY statement");
  ExpectFlagged("select 1 into outfile '/tmp/x'", "a SELECT ... INTO OUTFILE");
  ExpectFlagged("LOAD DATA INFILE '/etc/passwd' INTO TABLE t", "a LOAD DATA statement");
  ExpectFlagged("EXEC xp_cmdshell 'dir'", "an EXEC statement");
  ExpectFlagged("WAITFOR DELAY '0:0:5'", "a WAITFOR statement");
  ExpectFlagged("SELECT * FROM customers", "a SELECT statement: 'SELECT *'");
  ExpectFlagged("select count(*) from orders", "a SELECT statement");
  ExpectFlagged("WITH x AS (SELECT 1) SELECT * FROM x", "a WITH query");
  ExpectFlagged("x; CALL purge(1)", "a stacked statement: '; CALL purge'");
  ExpectFlagged("x; SET @a = 1", "a stacked statement");
  ExpectFlagged("x; set role = admin", "a stacked statement");
}

TEST(QuestionScreenTest, DangerousFunctions) {
  ExpectFlagged("x and sleep(5)", "a call of a dangerous function: 'sleep('");
  ExpectFlagged("1 AND pg_sleep(10)", "a call of a dangerous function: 'pg_sleep('");
  ExpectFlagged("x PG_SLEEP (10)", "a call of a dangerous function");
  ExpectFlagged("benchmark(1000000,md5(1))", "a call of a dangerous function: 'benchmark('");
  ExpectFlagged("x load_extension('evil.so')", "load_extension(");
  ExpectFlagged("pg_read_file('/etc/passwd')", "pg_read_file(");
  ExpectFlagged("lo_import('/etc/passwd')", "lo_import(");
  ExpectFlagged("lo_unlink(1)", "lo_unlink(");
  ExpectFlagged("dblink('host=x', 'select 1')", "dblink(");
  ExpectFlagged("dblink_exec('host=x', 'drop table t')", "dblink_exec(");
  ExpectFlagged("xp_cmdshell('whoami')", "xp_cmdshell(");
  ExpectFlagged("load_file('/etc/passwd')", "load_file(");
  ExpectFlagged("WAITFOR DELAY '0:0:5'", "WAITFOR");
  ExpectFlagged("utl_http.request('http://x')", "utl_http.request(");
  ExpectFlagged("x pg_sleep/**/(5)", "pg_sleep");
  ExpectFlagged("customers and @@version", "a server variable: '@@version'");
  ExpectFlagged("customers and version()", "version(");
  // English words with parentheses are not calls.
  EXPECT_FALSE(Screen("products for better sleep (pillows)").flagged);
  EXPECT_FALSE(Screen("user(s) per region").flagged);
  EXPECT_FALSE(Screen("benchmark (2024) revenue").flagged);
}

TEST(QuestionScreenTest, Subqueries) {
  ExpectFlagged("id = (SELECT max(id) FROM users)", "a subquery: '(SELECT'");
  ExpectFlagged("x' AND (select count(*) from users) > 0 --", "a subquery");
}

TEST(QuestionScreenTest, CommentTricks) {
  ExpectFlagged("' UN/**/ION SEL/**/ECT 1 --", "a comment inside a word: 'UN/**/ION'");
  ExpectFlagged("DR/**/OP TABLE x", "a comment inside a word: 'DR/**/OP'");
  ExpectFlagged("customers /**/ in Germany", "an empty comment: '/**/'");
  ExpectFlagged("x /*!50000UNION*/ 1", "a MySQL executable comment: '/*!50000UNION*/'");
  ExpectFlagged("x' UNION/*foo*/SELECT 1 --", "a UNION SELECT");
}

// --- Encodings -----------------------------------------------------------------------------------

TEST(QuestionScreenTest, EncodedAttacksAreDecodedFirst) {
  ExpectFlagged("%27%20OR%201%3D1--", "a tautology: 'OR 1=1' (after decoding URL escapes)");
  ExpectFlagged("x%3B%20DROP%20TABLE%20t",
                "a stacked statement: '; DROP TABLE' (after decoding "
                "URL escapes)");
  ExpectFlagged("%2527%2520OR%25201%253D1--", "(after decoding URL escapes)");
  ExpectFlagged("&apos; OR &apos;a&apos;=&apos;a", "(after decoding HTML entities)");
  ExpectFlagged("x&#59; DROP TABLE t", "a stacked statement");
  ExpectFlagged("x&#x3b; DROP TABLE t", "a stacked statement");
  ExpectFlagged("\\u0027 OR \\u0027\\u0027=\\u0027", "(after decoding backslash escapes)");
  ExpectFlagged("\\x27; DROP TABLE t; --", "a stacked statement");
  ExpectFlagged("\uff07 \uff2f\uff32 \uff11\uff1d\uff11 \uff0d\uff0d",
                "(after decoding look-alike Unicode characters)");
  ExpectFlagged("customers\uff1b DROP TABLE orders", "a stacked statement");
  ExpectFlagged("customers\u037e DROP TABLE orders", "a stacked statement");
  ExpectFlagged("\u2018 OR \u20181\u2019=\u20181", "a tautology");
  ExpectFlagged("DR\u041eP TABLE customers", "a DROP statement");   // Cyrillic O
  ExpectFlagged("DR\u200bOP TABLE customers", "a DROP statement");  // zero-width space
  ExpectFlagged("x CHAR(39)||CHAR(59)||CHAR(32)||CHAR(68)||CHAR(82)||CHAR(79)||CHAR(80)",
                "(after decoding CHAR() codes)");
  ExpectFlagged("name = CHAR(97)+CHAR(100)+CHAR(109)",
                "a string built from character codes: 'CHAR(97)+CHAR(100)+CHAR(109)'");
  ExpectFlagged("0x44524f50205441424c45207573657273",
                "a DROP statement: 'DROP TABLE' (after "
                "decoding hex strings)");
}

TEST(QuestionScreenTest, ReasonsAreShort) {
  const std::string long_tail(500, 'x');
  const Screening s = Screen("x' UNION SELECT " + long_tail + ", b FROM t --");
  ASSERT_TRUE(s.flagged);
  EXPECT_LT(s.reason.size(), 120u);
  const Screening t = Screen("copy (" + long_tail + ") to program 'id'");
  ASSERT_TRUE(t.flagged);
  EXPECT_LT(t.reason.size(), 120u) << t.reason;
  EXPECT_THAT(t.reason, HasSubstr("..."));
}

TEST(QuestionScreenTest, OddInputDoesNotBreakTheScreen) {
  EXPECT_FALSE(Screen(std::string("customers\0in Germany", 21)).flagged);
  EXPECT_TRUE(Screen(std::string("x\0; DROP TABLE t", 16)).flagged);
  EXPECT_FALSE(Screen("\xff\xfe customers \xc3").flagged);
  EXPECT_FALSE(Screen(std::string(100000, '\'')).flagged);
  EXPECT_FALSE(Screen("$$ unterminated dollar quote and 3rd \"quote").flagged);
  EXPECT_TRUE(Screen(std::string(20000, '(') + "1 OR 1=1").flagged);
  std::string many_words;
  for (int i = 0; i < 5000; ++i) many_words += "revenue by region and month ";
  EXPECT_FALSE(Screen(many_words).flagged);
}

// --- The decoder and the lexer on their own ----------------------------------------------------

TEST(DecodeTest, UndoesEachEncoding) {
  EXPECT_EQ(DecodeForScreening("%27%3B%20x").text, "'; x");
  EXPECT_EQ(DecodeForScreening("%2527").text, "'");  // double encoding
  EXPECT_EQ(DecodeForScreening("%u0027").text, "'");
  EXPECT_EQ(DecodeForScreening("&#39;&#x27;&apos;&quot;&semi;&amp;").text, "'''\";&");
  EXPECT_EQ(DecodeForScreening("&#39 x").text, "' x");
  EXPECT_EQ(DecodeForScreening("\\u0027\\x27\\u{27}\\U00000027").text, "''''");
  EXPECT_EQ(DecodeForScreening("\uff07\uff1b\uff33\uff25\uff2c").text, "';SEL");
  EXPECT_EQ(DecodeForScreening("\u2018\u2019\u201c\u201d\u037e\u2013").text, "''\"\";-");
  EXPECT_EQ(DecodeForScreening("a\u200bb\u00adc").text, "abc");
  EXPECT_EQ(DecodeForScreening("CHAR(65)||chr(66) + CHAR(67,68)").text, "ABCD");
  EXPECT_EQ(DecodeForScreening("0x41424344 and 0xFF00").text, "ABCD and 0xFF00");
  EXPECT_EQ(DecodeForScreening("%00").text, " ");
}

TEST(DecodeTest, LeavesOrdinaryTextAlone) {
  for (const char* q :
       {"orders with a discount of 10%", "rock & roll", "R&D costs", "100% of customers",
        "C:\\users", "order #12", "chars per line", "charity (2024)", "0x1 0xABC"}) {
    const DecodedText d = DecodeForScreening(q);
    EXPECT_EQ(d.text, q);
    EXPECT_TRUE(d.steps.empty()) << q;
  }
}

TEST(DecodeTest, NamesTheStepsAndTheCharChain) {
  const DecodedText d = DecodeForScreening("%26%2339%3B CHAR(65)+CHAR(66)");
  EXPECT_EQ(d.text, "' AB");
  EXPECT_THAT(d.steps, ::testing::ElementsAre("URL escapes", "HTML entities", "CHAR() codes"));
  EXPECT_EQ(d.longest_char_chain, 2u);
  EXPECT_EQ(d.char_chain_text, "CHAR(65)+CHAR(66)");
}

TEST(PgScanTest, ReturnsTokensWithOffsets) {
  auto tokens = ScanPostgres("SELECT a, 'x' FROM t;");
  ASSERT_TRUE(tokens.has_value());
  ASSERT_EQ(tokens->size(), 7u);
  EXPECT_EQ((*tokens)[0].begin, 0u);
  EXPECT_EQ((*tokens)[0].end, 6u);
  EXPECT_EQ((*tokens)[0].keyword_kind, 4);  // reserved keyword
  EXPECT_EQ((*tokens)[1].token, kPgIdent);
  EXPECT_EQ((*tokens)[2].token, ',');
  EXPECT_EQ((*tokens)[3].token, kPgSconst);
  EXPECT_EQ((*tokens)[3].begin, 10u);
  EXPECT_EQ((*tokens)[3].end, 13u);
  EXPECT_EQ((*tokens)[6].token, ';');
}

TEST(PgScanTest, ReportsLexerErrors) {
  EXPECT_FALSE(ScanPostgres("'unterminated").has_value());
  EXPECT_FALSE(ScanPostgres("the 3rd quarter").has_value());
  auto empty = ScanPostgres("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace helios::security
