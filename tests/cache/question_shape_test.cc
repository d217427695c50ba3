// Question shapes over the demo database: which values become slots (and of which type),
// which questions share a signature (only those the engine reads alike, with other values)
// and which must not ("top" and "bottom", "more than" and "less than", "loyal customers" and
// "customers"), and which questions depend on the day they are asked.
#include "nl2sql/question_shape.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cache/demo_engine.h"
#include "common/clock.h"
#include "common/text.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "sql/render.h"

namespace helios::nl2sql {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using Demo = DemoEngine;

class QuestionShapeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(Demo::Get().failure(), ""); }
  static QuestionShape Shape(std::string_view q) { return ShapeQuestion(q, Demo::Get().index()); }
  static std::vector<std::string> Types(const QuestionShape& s) {
    std::vector<std::string> out;
    for (const auto& slot : s.slots) out.push_back(slot.type);
    return out;
  }
  // The engine's query with its literals and their question words blanked: what a question
  // means apart from its values.
  static std::optional<std::string> Structure(std::string_view q) {
    auto u = Demo::Get().engine().Understand(q, nullptr);
    if (!u) return std::nullopt;
    sql::Query query = u->query;
    if (query.limit) query.limit = 0;
    for (auto* list : {&query.where, &query.having}) {
      for (auto& p : *list) {
        p.phrase.clear();
        for (auto& v : p.values) v = db::Value{};
      }
    }
    return sql::Render(query, {db::Dialect::kSqlite, true}).text;
  }
  static std::optional<std::string> Sql(std::string_view q) {
    auto u = Demo::Get().engine().Understand(q, nullptr);
    if (!u) return std::nullopt;
    sql::Query query = u->query;
    for (auto* list : {&query.where, &query.having})
      for (auto& p : *list) p.phrase.clear();
    return sql::Render(query, {db::Dialect::kSqlite, true}).text;
  }
};

using Slots = std::vector<cache::Slot>;

struct SlotCase {
  const char* question;
  Slots slots;
};

TEST_F(QuestionShapeTest, LiftsValuesIntoTypedSlotsInQuestionOrder) {
  const std::vector<SlotCase> cases = {
      {"top 5 customers by revenue", {{"number", "5", "5"}}},
      {"top five customers by revenue", {{"number", "five", "5"}}},
      {"customers who spent more than 35,000", {{"number", "35,000", "35000"}}},
      {"customers who spent more than $20k", {{"number", "$20k", "20000"}}},
      {"products priced above 99.99", {{"number", "99.99", "99.99"}}},
      {"How many orders were placed in 2024?", {{"year", "2024", "2024"}}},
      // A comparison reads a four-digit number as a number; a period as a year.
      {"Which products are priced over 2000?", {{"number", "2000", "2000"}}},
      {"list the employees hired after 2020", {{"year", "2020", "2020"}}},
      {"revenue in March 2025", {{"year", "2025", "2025"}}},
      {"number of orders between 2023 and 2024",
       {{"year", "2023", "2023"}, {"year", "2024", "2024"}}},
      {"How many orders were placed on 2024-02-29?", {{"date", "2024-02-29", "2024-02-29"}}},
      {"How many customers are in Germany?", {{"value:customers.country", "Germany", "Germany"}}},
      {"What is the average order value for customers in the United States?",
       {{"value:customers.country", "United States", "United States"}}},
      {"count customers in Rio de Janeiro",
       {{"value:customers.city", "Rio de Janeiro", "Rio de Janeiro"}}},
      // Values as stored, whatever the case and number the question uses.
      {"How many sales managers are there?",
       {{"value:employees.title", "sales managers", "Sales Manager"}}},
      {"how many orders of Nova Smartphone were placed",
       {{"value:products.name", "Nova Smartphone", "Nova Smartphone"}}},
      {"products named 'Nova'", {{"quoted", "'Nova'", "Nova"}}},
      {"How many customers have the segment 'Corporate'?",
       {{"value:customers.segment", "'Corporate'", "Corporate"}}},
      {"orders from Acme Corp", {{"entity", "Acme Corp", "Acme Corp"}}},
      {"top 3 customers in Spain by revenue in 2024",
       {{"number", "3", "3"},
        {"value:customers.country", "Spain", "Spain"},
        {"year", "2024", "2024"}}},
      {"customers in Germany or France",
       {{"value:customers.country", "Germany", "Germany"},
        {"value:customers.country", "France", "France"}}},
      {"Which products are priced between 50 and 100?",
       {{"number", "50", "50"}, {"number", "100", "100"}}},
  };
  for (const auto& c : cases) EXPECT_EQ(Shape(c.question).slots, c.slots) << c.question;
}

TEST_F(QuestionShapeTest, WordsThatAreNoValuesStayWords) {
  // The first word of a sentence is capitalised anyway; an adjective naming a stored value
  // ("Japanese") is a word of the signature, not a slot.
  EXPECT_EQ(Shape("Loyal customers in Germany").slots,
            (Slots{{"value:customers.country", "Germany", "Germany"}}));
  EXPECT_TRUE(Shape("show me the different cities our Japanese customers are in").slots.empty());
  EXPECT_TRUE(Shape("List all regions").slots.empty());
  // A number that becomes dates ("the last 30 days") is no literal of any query.
  EXPECT_TRUE(Shape("orders in the last 30 days").slots.empty());
  // A percentage is often written otherwise in SQL (0.1, "/ 10").
  EXPECT_TRUE(Shape("order items with a discount above 10%").slots.empty());
  EXPECT_TRUE(Shape("the top 10 percent of customers by revenue").slots.empty());
  EXPECT_NE(Shape("order items with a discount above 10%").signature,
            Shape("order items with a discount above 20%").signature);
  // Beside a period relative to today, years and dates are words: SQL for "in 2025 compared
  // with last month" holds dates of 2025 that come from today, not from the year.
  auto relative = Shape("revenue in 2025 compared with last month");
  EXPECT_TRUE(relative.relative_time);
  EXPECT_TRUE(relative.slots.empty());
  EXPECT_NE(relative.signature, Shape("revenue in 2024 compared with last month").signature);
  EXPECT_EQ(Shape("top 5 customers by revenue this year").slots, (Slots{{"number", "5", "5"}}));
}

TEST_F(QuestionShapeTest, TemplateIsTheCanonicalWordsWithSlotTypes) {
  EXPECT_EQ(Shape("Show me the top 5 customers by revenue").template_text,
            "top <number> customer by revenue");
  EXPECT_EQ(Shape("How many customers are in Germany?").template_text,
            "count customer <value:customers.country>");
  EXPECT_EQ(Shape("revenue per month in 2024").template_text, "revenue by month during <year>");
  EXPECT_EQ(Shape("Which products are priced over 5000?").template_text,
            "product price gt <number>");
}

// Pairs the engine reads differently: never one signature.
TEST_F(QuestionShapeTest, DifferentMeaningsHaveDifferentSignatures) {
  const std::vector<std::pair<const char*, const char*>> pairs = {
      {"top 5 customers by revenue", "bottom 5 customers by revenue"},
      {"top 5 customers by revenue", "top 5 products by revenue"},
      {"list the discontinued products", "list the products"},
      {"list the discontinued products", "list the products that are not discontinued"},
      {"average salary by title", "total salary by title"},
      {"What is the highest salary?", "What is the lowest salary?"},
      {"customers with more than 5 orders", "customers with less than 5 orders"},
      {"customers with more than 5 orders", "customers with at least 5 orders"},
      {"customers not in Germany", "customers in Germany"},
      {"customers in Germany", "loyal customers in Germany"},
      {"revenue by month", "revenue by year"},
      {"monthly revenue", "quarterly revenue"},
      {"How many orders were placed in 2024?", "How many orders were placed before 2024?"},
      {"How many orders were placed in 2024?", "How many orders were placed after 2024?"},
      {"orders in 2022 and 2023", "orders between 2022 and 2023"},
      {"revenue in March 2025", "revenue in April 2025"},
      {"revenue last year", "revenue this year"},
      {"orders in the last 30 days", "orders in the last 60 days"},
      // Word order binds words to each other: the same words, swapped, mean another query.
      {"products with price over 5 and stock under 10",
       "products with price under 5 and stock over 10"},
      {"number of customers per country", "number of countries per customer"},
      {"customers with more than 5 orders", "orders with more than 5 customers"},
      // What the engine reads from the words themselves.
      {"top customers by revenue", "top customer by revenue"},     // 10 rows or 1
      {"order items with a discount", "order items discount"},     // a filter or a column
      {"quantity sold per category", "quantity per category"},     // sold: what was sold
      {"top 5 customers by revenue", "top 5 clients by revenue"},  // a synonym links weaker
      {"customers in Germany or in the Corporate segment",
       "customers in Germany and in the Corporate segment"},
      {"How many customers are in Germany?", "How many customers are in Berlin?"},
      {"products named 'Nova'", "products named 'Books'"},  // a name part, a stored value
      {"top 5 customers", "5 customers"},                   // a ranking, a plain limit
  };
  for (const auto& [a, b] : pairs) {
    auto sa = Shape(a), sb = Shape(b);
    EXPECT_FALSE(sa.signature == sb.signature && Types(sa) == Types(sb)) << a << "\n"
                                                                         << b << "\n"
                                                                         << sa.signature;
  }
}

// Other words for the same thing: one signature, and the engine indeed answers alike.
TEST_F(QuestionShapeTest, SpellingsTheEngineReadsAlikeShareASignature) {
  const std::vector<std::vector<const char*>> groups = {
      {"top 5 customers by revenue", "Show me the top 5 customers by revenue",
       "top five customers by revenue", "What are the top 5 customers by revenue?",
       "best 5 customers by revenue"},
      {"How many customers are in Germany?", "how many customers in germany",
       "How many customers are from Germany?", "number of customers in Germany",
       "count of customers in Germany"},
      {"How many orders are over 5000?", "how many orders are above 5000",
       "How many orders exceed 5000?", "how many orders are more than 5000"},
      {"employees with a salary of at least 100000", "employees with a salary of 100000 or more",
       "employees with a salary of no less than 100000"},
      {"average salary by title", "avg salary per title", "mean salary for each title",
       "average salary for every title"},
      {"revenue by month", "revenue per month", "revenue for each month", "revenue by months"},
      {"How many orders were placed in 2022?", "How many orders were placed during 2022?",
       "how many orders were placed for 2022"},
      {"How many orders were placed between 2022 and 2023?",
       "How many orders were placed from 2022 to 2023?",
       "how many orders were placed from 2022 until 2023"},
      {"revenue last year", "revenue in the previous year", "revenue for the past year"},
      {"orders in the last 30 days", "orders in the past 30 days",
       "orders within the last 30 days"},
      {"customers with more than 50 orders", "customers having more than 50 orders",
       "customers who have more than 50 orders"},
      {"What is the cheapest product in Furniture?", "what's the cheapest product in furniture",
       "the least expensive product in Furniture"},
  };
  for (const auto& group : groups) {
    auto first = Shape(group[0]);
    auto first_sql = Sql(group[0]);
    ASSERT_TRUE(first_sql) << group[0];
    for (size_t i = 1; i < group.size(); ++i) {
      auto other = Shape(group[i]);
      EXPECT_EQ(other.signature, first.signature) << group[0] << "\n" << group[i];
      EXPECT_EQ(Types(other), Types(first)) << group[i];
      EXPECT_EQ(Sql(group[i]), first_sql) << group[i];
    }
  }
}

TEST_F(QuestionShapeTest, QuestionsAboutARelativePeriodDependOnToday) {
  for (const char* q :
       {"revenue last year", "How many orders this month?", "orders in the last 30 days",
        "revenue in March", "How many orders in Q3?", "revenue year to date", "ytd revenue",
        "orders placed today", "orders placed yesterday", "customers who signed up recently",
        "revenue so far", "orders from 3 days ago", "revenue next quarter",
        "what was our revenue in the previous quarter"})
    EXPECT_TRUE(Shape(q).relative_time) << q;
  for (const char* q : {"revenue in 2024", "revenue in March 2024", "orders after 2020",
                        "revenue by month", "How many orders were placed on 2024-02-29?",
                        "top 5 customers by revenue", "orders in Q3 2024"})
    EXPECT_FALSE(Shape(q).relative_time) << q;
}

TEST_F(QuestionShapeTest, ValuesInSeveralColumnsListThemAll) {
  // A database where "Paris" is a customer's city and a store's city.
  fs::path dir = fs::temp_directory_path() / ("helios_shape_" + text::NewUuid());
  fs::create_directories(dir);
  std::string path = (dir / "shops.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* ddl =
      "CREATE TABLE stores(store_id INTEGER PRIMARY KEY, city TEXT);"
      "CREATE TABLE customers(customer_id INTEGER PRIMARY KEY, name TEXT, city TEXT,"
      " store_id INTEGER REFERENCES stores(store_id));"
      "INSERT INTO stores VALUES (1, 'Paris'), (2, 'Lyon');"
      "INSERT INTO customers VALUES (1, 'Ann', 'Paris', 1), (2, 'Bob', 'Nice', 2);";
  ASSERT_EQ(sqlite3_exec(db, ddl, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto source = db::OpenDataSource("sqlite://" + path);
  ASSERT_TRUE(source) << source.error().message;
  auto catalog = (*source)->Introspect();
  ASSERT_TRUE(catalog) << catalog.error().message;
  auto index = engine::SchemaIndex::Build(*catalog, **source, 1000);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(ShapeQuestion("customers in Paris", **index).slots,
            (Slots{{"value:customers.city|stores.city", "Paris", "Paris"}}));
  EXPECT_EQ(ShapeQuestion("customers in Nice", **index).slots,
            (Slots{{"value:customers.city", "Nice", "Nice"}}));
  source->reset();
  fs::remove_all(dir);
}

TEST_F(QuestionShapeTest, IsAPureFunctionSafeAcrossThreads) {
  const std::vector<std::string> questions = {
      "top 5 customers by revenue", "How many orders were placed in 2024?",
      "What is the average price of Electronics products?", "orders from Acme Corp",
      "show me the different cities our Japanese customers are in"};
  std::vector<QuestionShape> expected;
  for (const auto& q : questions) expected.push_back(Shape(q));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < questions.size(); ++i) {
          auto s = Shape(questions[i]);
          if (s.signature != expected[i].signature || s.slots != expected[i].slots ||
              s.template_text != expected[i].template_text)
            ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Every pair of the trap file differs only in a value. Where the two share a shape, the
// engine must read them alike apart from the values; most pairs should share one (a pair
// whose new value is of another kind, "Germany" and "Berlin", must not).
TEST_F(QuestionShapeTest, TrapPairsShareAShapeOnlyWhenTheEngineReadsThemAlike) {
  auto rows = ReadTsv("value_traps.tsv");
  ASSERT_GE(rows.size(), 120u);
  size_t shared = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    auto a = Shape(row[0]), b = Shape(row[1]);
    ASSERT_FALSE(a.slots.empty()) << row[0];
    if (a.signature != b.signature || Types(a) != Types(b)) continue;
    ++shared;
    auto sa = Structure(row[0]), sb = Structure(row[1]);
    ASSERT_TRUE(sa && sb) << row[0] << " | " << row[1];
    EXPECT_EQ(*sa, *sb) << row[0] << " | " << row[1];
  }
  EXPECT_GE(shared, rows.size() * 9 / 10) << "pairs sharing a shape: " << shared;
  RecordProperty("trap_pairs", static_cast<int>(rows.size()));
  RecordProperty("trap_pairs_sharing_a_shape", static_cast<int>(shared));
}

// Paraphrases keep their values; where two share a signature the engine must give the same
// query.
TEST_F(QuestionShapeTest, ParaphrasesShareASignatureOnlyWhenTheEngineAgrees) {
  auto rows = ReadTsv("paraphrases.tsv");
  ASSERT_GE(rows.size(), 60u);
  size_t shared = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    auto a = Shape(row[0]), b = Shape(row[1]);
    if (a.signature != b.signature || Types(a) != Types(b)) continue;
    ++shared;
    EXPECT_EQ(a.slots.size(), b.slots.size());
    for (size_t i = 0; i < a.slots.size(); ++i)
      EXPECT_EQ(a.slots[i].value, b.slots[i].value) << row[0] << " | " << row[1];
    auto qa = Sql(row[0]), qb = Sql(row[1]);
    EXPECT_EQ(qa.has_value(), qb.has_value()) << row[0] << " | " << row[1];
    if (qa && qb) {
      EXPECT_EQ(*qa, *qb) << row[0] << " | " << row[1];
    }
  }
  EXPECT_GE(shared, 30u);
  RecordProperty("paraphrase_pairs", static_cast<int>(rows.size()));
  RecordProperty("paraphrase_pairs_sharing_a_signature", static_cast<int>(shared));
}

}  // namespace
}  // namespace helios::nl2sql
