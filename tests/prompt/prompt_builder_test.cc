#include "nl2sql/prompt/prompt_builder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nl2sql/prompt/linked_schema.h"

namespace helios::nl2sql::prompt {
namespace {

LinkedColumn Column(std::string name, std::string type, bool pk = false, std::string ref_table = "",
                    std::string ref_column = "") {
  LinkedColumn c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.primary_key = pk;
  c.ref_table = std::move(ref_table);
  c.ref_column = std::move(ref_column);
  return c;
}

// customers(customer_id, name, country) <- orders(order_id, customer_id, total_amount, ...).
LinkedSchema TinySchema() {
  LinkedTable customers;
  customers.name = "customers";
  customers.columns = {Column("customer_id", "INTEGER", true), Column("name", "TEXT"),
                       Column("country", "TEXT")};
  customers.columns[2].matched_values = {"Germany"};
  LinkedTable orders;
  orders.name = "orders";
  orders.columns = {Column("order_id", "INTEGER", true),
                    Column("customer_id", "INTEGER", false, "customers", "customer_id"),
                    Column("total_amount", "REAL")};
  orders.omitted_columns = 2;
  LinkedSchema s;
  s.tables = {customers, orders};
  return s;
}

PromptInput TinyInput() {
  PromptInput in;
  in.dialect = db::Dialect::kSqlite;
  in.schema = TinySchema();
  in.notes.descriptions["customers"] = "People and companies who buy from us.";
  in.notes.descriptions["orders.total_amount"] = "Order value in EUR, after discounts";
  in.notes.sample_values["customers.name"] = {"Acme GmbH", "O'Brien & Sons", "Zeta", "Omega"};
  in.question = "Total order value of customers in Germany?";
  return in;
}

constexpr const char* kTinySystem =
    R"(You write SQL for a SQLite database to answer a user's question.

Rules:
- Reply with one JSON object and nothing else: {"sql": "...", "explanation": "..."}.
- "sql" is one read-only SQLite statement: a SELECT, or WITH ... SELECT. Never write INSERT, UPDATE, DELETE, MERGE, DDL or more than one statement.
- Use only the tables and columns listed below, spelled as listed; quote a name that needs it with double quotes ("like this").
- Comments in the schema show stored values; compare with values as stored.
- Dates are ISO-8601 text: use date('now', '-1 month'), strftime('%Y-%m', col) and compare with '2024-01-01'; there is no INTERVAL.
- Match text case-insensitively with LIKE (ASCII) or col = 'x' COLLATE NOCASE.
- Integer / integer truncates: write 1.0 * a / b for a fraction.
- Yes/no columns hold 1 and 0. Limit rows with LIMIT n.
- "explanation" says in one or two plain sentences what the query returns and any assumption made.
- If the question cannot be answered from these tables and columns, set "sql" to "" and say why in "explanation".

Schema:
-- People and companies who buy from us.
CREATE TABLE customers (
  customer_id INTEGER PRIMARY KEY,
  name TEXT, -- e.g. 'Acme GmbH', 'O''Brien & Sons', 'Zeta'
  country TEXT -- matches 'Germany'
);
CREATE TABLE orders (
  order_id INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers(customer_id),
  total_amount REAL -- Order value in EUR, after discounts
  -- 2 more columns not shown
);
)";

TEST(PromptBuilderTest, ExactPromptForATinySchema) {
  const std::vector<llm::Message> messages = PromptBuilder().Build(TinyInput());
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].role, llm::Role::kSystem);
  EXPECT_EQ(messages[0].content, kTinySystem);
  EXPECT_EQ(messages[1].role, llm::Role::kUser);
  EXPECT_EQ(messages[1].content, "Total order value of customers in Germany?");
}

TEST(PromptBuilderTest, IsDeterministic) {
  const PromptInput in = TinyInput();
  const auto a = PromptBuilder().Build(in);
  const auto b = PromptBuilder().Build(in);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].content, b[i].content);
}

TEST(PromptBuilderTest, ExamplesHistoryAndTheQuestionInOrder) {
  PromptInput in = TinyInput();
  in.examples = {{"How many customers?", "SELECT count(*) FROM customers"},
                 {"Largest order?", "SELECT max(total_amount) FROM orders"}};
  in.history = {{"old question", "SELECT 1", ""},
                {"Orders per country", "SELECT country, count(*) FROM orders JOIN customers ...",
                 "Counts orders by the customer's country."},
                {"Only 2024", "", "The schema holds no order dates."}};
  PromptOptions options;
  options.max_history_turns = 2;
  options.max_examples = 1;
  const auto messages = PromptBuilder(options).Build(in);
  ASSERT_EQ(messages.size(), 6u);
  EXPECT_NE(messages[0].content.find("Examples of questions and their SQL on this database:\n"
                                     "Question: How many customers?\n"
                                     "SQL: SELECT count(*) FROM customers\n"),
            std::string::npos);
  EXPECT_EQ(messages[0].content.find("Largest order?"), std::string::npos);  // max_examples
  EXPECT_EQ(messages[1].role, llm::Role::kUser);
  EXPECT_EQ(messages[1].content, "Orders per country");  // the oldest turn is dropped
  EXPECT_EQ(messages[2].role, llm::Role::kAssistant);
  EXPECT_EQ(messages[2].content,
            R"({"sql":"SELECT country, count(*) FROM orders JOIN customers ...","explanation":)"
            R"("Counts orders by the customer's country."})");
  EXPECT_EQ(messages[3].content, "Only 2024");
  EXPECT_EQ(messages[4].content, R"({"sql":"","explanation":"The schema holds no order dates."})");
  EXPECT_EQ(messages[5].role, llm::Role::kUser);
  EXPECT_EQ(messages[5].content, in.question);
}

TEST(PromptBuilderTest, CorrectionRoundCarriesThePreviousSqlAndTheError) {
  PromptInput in = TinyInput();
  in.correction = Correction{"SELECT sum(total) FROM orders", "no such column: total"};
  const auto messages = PromptBuilder().Build(in);
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[1].content, in.question);
  EXPECT_EQ(messages[2].role, llm::Role::kAssistant);
  EXPECT_EQ(messages[2].content, R"({"sql":"SELECT sum(total) FROM orders","explanation":""})");
  EXPECT_EQ(messages[3].role, llm::Role::kUser);
  EXPECT_EQ(messages[3].content,
            "That SQL failed with this error:\nno such column: total\nReply with corrected SQL in "
            "the same JSON form, or with an empty \"sql\" and the reason if the question cannot "
            "be answered from the schema.");
}

TEST(PromptBuilderTest, DialectNameAndQuoting) {
  PromptInput in = TinyInput();
  in.schema.tables[0].name = "Customer Accounts";
  in.dialect = db::Dialect::kMysql;
  std::string system = PromptBuilder().Build(in)[0].content;
  EXPECT_NE(system.find("for a MySQL database"), std::string::npos);
  EXPECT_NE(system.find("one read-only MySQL statement"), std::string::npos);
  EXPECT_NE(system.find("with backquotes (`like this`)"), std::string::npos);
  EXPECT_NE(system.find("CREATE TABLE `Customer Accounts` ("), std::string::npos);
  // Each dialect's own rules for dates, text matching, division and booleans.
  EXPECT_NE(system.find("CURDATE() - INTERVAL 1 MONTH"), std::string::npos);
  EXPECT_NE(system.find("DIV truncates"), std::string::npos);
  EXPECT_EQ(system.find("ILIKE"), std::string::npos);
  in.dialect = db::Dialect::kPostgres;
  system = PromptBuilder().Build(in)[0].content;
  EXPECT_NE(system.find("one read-only PostgreSQL statement"), std::string::npos);
  EXPECT_NE(system.find("CREATE TABLE \"Customer Accounts\" ("), std::string::npos);
  EXPECT_NE(system.find("case-insensitively with ILIKE"), std::string::npos);
  EXPECT_NE(system.find("INTERVAL '1 month'"), std::string::npos);
  EXPECT_NE(system.find("take TRUE and FALSE"), std::string::npos);
  EXPECT_EQ(system.find("COLLATE NOCASE"), std::string::npos);
  EXPECT_EQ(DialectName(db::Dialect::kSqlite), "SQLite");
}

TEST(PromptBuilderTest, NotesStayWithinTheSchemaBudget) {
  PromptInput in = TinyInput();
  const std::string bare = RenderSchema(in.schema);
  // A budget that fits the tables and columns but not every note: notes are skipped, never
  // the schema itself, and the rendering stays within the budget.
  PromptOptions options;
  options.schema_token_budget = ApproxTokens(bare) + 12;
  const std::string system = PromptBuilder(options).Build(in)[0].content;
  const size_t start = system.find("Schema:\n") + 8;
  const std::string schema = system.substr(start);
  EXPECT_LE(ApproxTokens(schema), options.schema_token_budget);
  EXPECT_NE(schema.find("-- People and companies who buy from us."), std::string::npos);
  EXPECT_EQ(schema.find("Order value in EUR"), std::string::npos);
  EXPECT_NE(schema.find("country TEXT -- matches 'Germany'"), std::string::npos);
  EXPECT_NE(schema.find("total_amount REAL\n"), std::string::npos);
}

TEST(PromptBuilderTest, AnswerJsonEscapesAndSurvivesBadUtf8) {
  const std::string json = AnswerJson("SELECT \"a\" FROM t -- x\n", "bad \xff byte");
  const auto parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["sql"], "SELECT \"a\" FROM t -- x\n");
  EXPECT_EQ(json.find("\"sql\""), 1u);  // sql first, as the system message shows it
}

TEST(RenderSchemaTest, CompositeKeysUnusualNamesAndLongNotes) {
  LinkedTable t;
  t.name = "order items";
  t.columns = {Column("order_id", "INTEGER", true, "orders", "order_id"),
               Column("line no", "INTEGER", true), Column("note", "")};
  LinkedSchema s;
  s.tables = {t};
  s.omitted_tables = 3;
  SchemaNotes notes;
  notes.descriptions["ORDER ITEMS.NOTE"] = std::string(200, 'x') + "\nsecond line";
  SchemaRenderOptions o;
  o.notes = &notes;
  o.max_note_bytes = 10;
  EXPECT_EQ(RenderSchema(s, o),
            "CREATE TABLE \"order items\" (\n"
            "  order_id INTEGER REFERENCES orders(order_id),\n"
            "  \"line no\" INTEGER,\n"
            "  note, -- xxxxxxxxxx...\n"
            "  PRIMARY KEY (order_id, \"line no\")\n"
            ");\n"
            "-- 3 more tables not shown\n");
}

TEST(RenderSchemaTest, WholeSchemaHasEveryTableAndColumn) {
  db::SchemaCatalog cat;
  db::TableInfo a;
  a.name = "a";
  a.columns = {{"id", "INTEGER", db::TypeFamily::kInteger, true, true, ""}};
  db::TableInfo b;
  b.name = "b";
  b.columns = {{"id", "INTEGER", db::TypeFamily::kInteger, true, true, ""},
               {"a_id", "INTEGER", db::TypeFamily::kInteger, false, false, ""}};
  b.foreign_keys = {{"a_id", "a", "id"}};
  cat.tables = {a, b};
  EXPECT_EQ(RenderSchema(WholeSchema(cat)),
            "CREATE TABLE a (\n"
            "  id INTEGER PRIMARY KEY\n"
            ");\n"
            "CREATE TABLE b (\n"
            "  id INTEGER PRIMARY KEY,\n"
            "  a_id INTEGER REFERENCES a(id)\n"
            ");\n");
}

}  // namespace
}  // namespace helios::nl2sql::prompt
