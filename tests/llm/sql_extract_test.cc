// ExtractSql over the shapes models really answer in: clean JSON, fenced JSON, JSON in prose,
// ```sql blocks, bare statements, refusals, and answers cut off mid-way.
#include "llm/sql_extract.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace helios::llm {
namespace {

using ::testing::HasSubstr;

GeneratedSql Extracted(std::string_view text) {
  auto result = ExtractSql(text);
  EXPECT_TRUE(result.has_value()) << text << "\n-> " << result.error().message;
  return result.value_or(GeneratedSql{});
}

Error Failed(std::string_view text) {
  auto result = ExtractSql(text);
  EXPECT_FALSE(result.has_value()) << text << "\n-> " << (result ? result->sql : "");
  return result ? Error() : result.error();
}

TEST(ExtractSqlTest, ReadsAPlainJsonObject) {
  auto sql = Extracted(
      R"({"sql": "SELECT COUNT(*) FROM customers;", "explanation": "Counts the customers."})");
  EXPECT_EQ(sql.sql, "SELECT COUNT(*) FROM customers");
  EXPECT_EQ(sql.explanation, "Counts the customers.");
}

TEST(ExtractSqlTest, ReadsJsonInsideFencesAndProse) {
  auto fenced = Extracted(
      "Here is the query:\n```json\n{\n  \"sql\": \"SELECT name FROM products ORDER BY price "
      "DESC LIMIT 5\",\n  \"explanation\": \"The five most expensive products.\"\n}\n```\nLet me "
      "know if you need anything else.");
  EXPECT_EQ(fenced.sql, "SELECT name FROM products ORDER BY price DESC LIMIT 5");
  EXPECT_EQ(fenced.explanation, "The five most expensive products.");

  auto prose = Extracted(
      R"(Sure! {"sql": "SELECT 1", "explanation": "A {brace} in text"} Hope this helps.)");
  EXPECT_EQ(prose.sql, "SELECT 1");
  EXPECT_EQ(prose.explanation, "A {brace} in text");
}

TEST(ExtractSqlTest, KeepsEscapesAndMultiLineSql) {
  auto sql = Extracted(R"({"sql": "SELECT c.name\nFROM customers c\n)"
                       R"(WHERE c.city = 'O''Brien \"Town\"'", "explanation": ""})");
  EXPECT_EQ(sql.sql, "SELECT c.name\nFROM customers c\nWHERE c.city = 'O''Brien \"Town\"'");
  EXPECT_EQ(sql.explanation, "");
}

TEST(ExtractSqlTest, AcceptsQueryAsTheMemberName) {
  EXPECT_EQ(Extracted(R"({"query": "SELECT 2"})").sql, "SELECT 2");
}

TEST(ExtractSqlTest, StripsFencesInsideTheJsonString) {
  EXPECT_EQ(Extracted(R"({"sql": "```sql\nSELECT 3;\n```"})").sql, "SELECT 3");
}

TEST(ExtractSqlTest, ANullSqlIsARefusalWithTheModelsReason) {
  auto error =
      Failed(R"({"sql": null, "explanation": "The database has no table about the weather."})");
  EXPECT_EQ(error.code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(error.message, HasSubstr("no table about the weather"));

  auto empty = Failed(R"({"sql": "  ", "explanation": ""})");
  EXPECT_EQ(empty.code, ErrorCode::kNotUnderstood);
}

TEST(ExtractSqlTest, TruncatedJsonIsNotUnderstoodAndItsSqlIsNotUsed) {
  for (const char* text : {
           R"({"sql": "SELECT name FROM customers WHERE country = 'Fr)",
           R"({"sql": "SELECT name FROM customers", "explanation": "Lists the)",
           "```json\n{\"sql\": \"SELECT * FROM orders LIMIT 10\",\n",
           R"({"sql": "SELECT 1")",
           R"({ "sql" : 42 })",
       }) {
    auto error = Failed(text);
    EXPECT_EQ(error.code, ErrorCode::kNotUnderstood) << text;
    EXPECT_THAT(error.message, HasSubstr("cut off")) << text;
  }
}

TEST(ExtractSqlTest, ReadsASqlFenceWithItsExplanation) {
  auto sql = Extracted(
      "To count orders per month:\n\n```sql\nSELECT strftime('%Y-%m', order_date) AS month, "
      "COUNT(*)\nFROM orders\nGROUP BY month;\n```\n\nThis groups by month.");
  EXPECT_EQ(sql.sql,
            "SELECT strftime('%Y-%m', order_date) AS month, COUNT(*)\nFROM orders\nGROUP BY month");
  EXPECT_EQ(sql.explanation, "To count orders per month:\nThis groups by month.");
}

TEST(ExtractSqlTest, ReadsOtherDialectTagsAndUntaggedFences) {
  EXPECT_EQ(Extracted("```sqlite\nSELECT 1\n```").sql, "SELECT 1");
  EXPECT_EQ(Extracted("```postgresql\nSELECT now()\n```").sql, "SELECT now()");
  EXPECT_EQ(Extracted("```\nWITH t AS (SELECT 1 AS x) SELECT x FROM t\n```").sql,
            "WITH t AS (SELECT 1 AS x) SELECT x FROM t");
}

TEST(ExtractSqlTest, AnUnclosedSqlFenceIsCutOff) {
  auto error = Failed("```sql\nSELECT name FROM customers WHERE");
  EXPECT_EQ(error.code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(error.message, HasSubstr("cut off"));
}

TEST(ExtractSqlTest, ReadsABareStatement) {
  auto sql = Extracted("SELECT COUNT(*) FROM customers;");
  EXPECT_EQ(sql.sql, "SELECT COUNT(*) FROM customers");
  EXPECT_EQ(sql.explanation, "");

  auto with_prose = Extracted(
      "The query is:\nSELECT name FROM customers WHERE city = 'Paris; France';\nIt lists Paris.");
  EXPECT_EQ(with_prose.sql, "SELECT name FROM customers WHERE city = 'Paris; France'");
  EXPECT_EQ(with_prose.explanation, "The query is:\nIt lists Paris.");

  auto lower = Extracted("select name\nfrom customers\n\nThat's all.");
  EXPECT_EQ(lower.sql, "select name\nfrom customers");

  auto cte = Extracted(
      "WITH totals AS (SELECT customer_id, SUM(total) AS s FROM orders GROUP BY customer_id) "
      "SELECT * FROM totals ORDER BY s DESC LIMIT 3");
  EXPECT_THAT(cte.sql, HasSubstr("WITH totals AS"));
}

TEST(ExtractSqlTest, EnglishIsNotMistakenForSql) {
  for (const char* text : {
           "I cannot select the right table for this question.",
           "With the data available I can't answer that.",
           "I'm sorry, but I can't help with that.",
           "The question is ambiguous: which year do you mean?",
       }) {
    auto error = Failed(text);
    EXPECT_EQ(error.code, ErrorCode::kNotUnderstood) << text;
  }
}

TEST(ExtractSqlTest, ARefusalQuotesTheModelShortened) {
  const std::string long_refusal =
      "I'm sorry, but I cannot answer that question because " + std::string(500, 'x');
  auto error = Failed(long_refusal);
  EXPECT_EQ(error.code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(error.message, HasSubstr("I'm sorry, but I cannot answer"));
  EXPECT_LT(error.message.size(), 300u);
}

TEST(ExtractSqlTest, EmptyAnswersAreNotUnderstood) {
  EXPECT_EQ(Failed("").code, ErrorCode::kNotUnderstood);
  EXPECT_EQ(Failed(" \n\t ").code, ErrorCode::kNotUnderstood);
}

TEST(ExtractSqlTest, SurvivesGarbage) {
  for (std::string text :
       {std::string("{{{{{{"), std::string("}}}"), std::string("```"), std::string("```sql"),
        std::string("{\"sql\":"), std::string("\xff\xfe{\"sql\": \"SELECT 1\"}"),
        std::string(10000, '{'), std::string("{\"a\": [1, 2, {\"b\": ")}) {
    auto result = ExtractSql(text);
    if (!result) {
      EXPECT_EQ(result.error().code, ErrorCode::kNotUnderstood);
    }
  }
}

}  // namespace
}  // namespace helios::llm
