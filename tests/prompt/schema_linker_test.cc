#include "nl2sql/prompt/schema_linker.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/text.h"
#include "db/open.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/prompt/linked_schema.h"
#include "nl2sql/prompt/prompt_builder.h"
#include "prompt/synthetic_schema.h"

namespace helios::nl2sql::prompt {
namespace {

using Strings = std::vector<std::string>;

Strings TableNames(const LinkedSchema& s) {
  Strings out;
  for (const auto& t : s.tables) out.push_back(t.name);
  return out;
}

std::string Names(const LinkedSchema& s) { return text::Join(TableNames(s), ", "); }

bool Has(const LinkedSchema& s, std::string_view table) {
  return std::any_of(s.tables.begin(), s.tables.end(),
                     [&](const LinkedTable& t) { return t.name == table; });
}

const LinkedTable* Find(const LinkedSchema& s, std::string_view table) {
  for (const auto& t : s.tables)
    if (t.name == table) return &t;
  return nullptr;
}

// Options that show what the linker chose: no context tables, no whole small schema.
LinkOptions Selective() {
  LinkOptions o;
  o.context_share = 0;
  o.context_floor_tokens = 0;
  o.small_schema_tokens = 0;
  return o;
}

class DemoLinkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db::OpenOptions open;
    open.pool_size = 1;
    auto source = db::OpenDataSource(HELIOS_DEMO_DB, open);
    ASSERT_TRUE(source) << source.error().message;
    source_ = std::move(*source).release();
    auto catalog = source_->Introspect();
    ASSERT_TRUE(catalog) << catalog.error().message;
    auto index = engine::SchemaIndex::Build(*catalog, *source_, 1000);
    ASSERT_TRUE(index) << index.error().message;
    linker_ = new SchemaLinker(std::shared_ptr<const engine::SchemaIndex>(std::move(*index)));
  }
  static void TearDownTestSuite() {
    delete linker_;
    delete source_;
    linker_ = nullptr;
    source_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(linker_, nullptr); }

  static LinkedSchema Link(std::string_view q, std::span<const Turn> history = {}) {
    return linker_->Link(q, history, Selective());
  }

  static db::DataSource* source_;
  static SchemaLinker* linker_;
};

db::DataSource* DemoLinkerTest::source_ = nullptr;
SchemaLinker* DemoLinkerTest::linker_ = nullptr;

TEST_F(DemoLinkerTest, PicksTheObviousTables) {
  EXPECT_EQ(TableNames(Link("How many customers are there in each country?")),
            Strings{"customers"});
  EXPECT_EQ(TableNames(Link("List the products that are discontinued")), Strings{"products"});
  EXPECT_EQ(TableNames(Link("Average salary of employees hired after 2020")), Strings{"employees"});
  const LinkedSchema s = Link("Total order amount per customer");
  EXPECT_TRUE(Has(s, "orders") && Has(s, "customers")) << Names(s);
  EXPECT_FALSE(Has(s, "regions"));
  EXPECT_FALSE(Has(s, "categories"));
}

TEST_F(DemoLinkerTest, StoredValuesLinkTheirColumns) {
  const LinkedSchema s = Link("Which customers are in Germany?");
  ASSERT_EQ(TableNames(s), Strings{"customers"});
  const LinkedTable& t = s.tables[0];
  const auto country = std::find_if(t.columns.begin(), t.columns.end(),
                                    [](const LinkedColumn& c) { return c.name == "country"; });
  ASSERT_NE(country, t.columns.end());
  EXPECT_EQ(country->matched_values, Strings{"Germany"});
  EXPECT_GT(country->score, 0);
  // The rendering tells the model the stored spelling.
  EXPECT_NE(RenderSchema(s).find("  country TEXT, -- matches 'Germany'\n"), std::string::npos);
}

TEST_F(DemoLinkerTest, AddsTheBridgeTableOfATwoHopQuestion) {
  // customers -> employees -> regions: the question names only the two ends.
  const LinkedSchema s = Link("How many customers are there per region?");
  ASSERT_TRUE(Has(s, "customers") && Has(s, "regions")) << Names(s);
  const LinkedTable* bridge = Find(s, "employees");
  ASSERT_NE(bridge, nullptr);
  EXPECT_TRUE(bridge->bridge);
  EXPECT_FALSE(Find(s, "customers")->bridge);
  // Keys always come with a linked table, so the join can be written.
  const auto& cols = bridge->columns;
  auto shown = [&](std::string_view c) {
    return std::any_of(cols.begin(), cols.end(),
                       [&](const LinkedColumn& x) { return x.name == c; });
  };
  EXPECT_TRUE(shown("employee_id"));
  EXPECT_TRUE(shown("region_id"));
}

TEST_F(DemoLinkerTest, ThreeBridgesFromCustomersToCategories) {
  const LinkedSchema s = Link("Which categories do customers in France buy most?");
  for (const char* t : {"customers", "categories", "orders", "order_items", "products"})
    EXPECT_TRUE(Has(s, t)) << t;
  EXPECT_FALSE(Has(s, "regions"));
}

TEST_F(DemoLinkerTest, FollowUpsKeepThePreviousTables) {
  const Turn previous{"Revenue by product category",
                      "SELECT c.name, sum(oi.quantity * oi.unit_price) FROM order_items oi JOIN "
                      "products p ON p.product_id = oi.product_id JOIN categories c ON "
                      "c.category_id = p.category_id GROUP BY c.name",
                      ""};
  const LinkedSchema alone = Link("only for 2024");
  const LinkedSchema s = Link("only for 2024", std::span<const Turn>(&previous, 1));
  EXPECT_TRUE(Has(s, "order_items") && Has(s, "products") && Has(s, "categories"));
  EXPECT_FALSE(Has(s, "regions"));
  EXPECT_NE(TableNames(alone), TableNames(s));
}

TEST_F(DemoLinkerTest, ASmallSchemaIsSentWholeMostRelevantFirst) {
  LinkOptions o;
  o.small_schema_tokens = 10000;
  const LinkedSchema s = linker_->Link("Average salary of employees hired after 2020", {}, o);
  EXPECT_EQ(s.tables.size(), linker_->index().catalog().tables.size());
  EXPECT_EQ(s.tables.front().name, "employees");
  EXPECT_EQ(s.omitted_tables, 0u);
}

TEST_F(DemoLinkerTest, ANarrowBudgetDropsColumnsBeforeTablesAndKeepsKeys) {
  LinkOptions o = Selective();
  const LinkedSchema full = linker_->Link("customer names with their order totals", {}, o);
  ASSERT_TRUE(Has(full, "customers") && Has(full, "orders"));
  // Room for both tables' keys and named columns, not for all their columns.
  o.token_budget = ApproxTokens(RenderSchema(full)) - 5;
  const LinkedSchema cut = linker_->Link("customer names with their order totals", {}, o);
  EXPECT_LE(ApproxTokens(RenderSchema(cut)), o.token_budget);
  EXPECT_EQ(TableNames(cut), TableNames(full));
  size_t omitted = 0;
  for (const auto& t : cut.tables) omitted += t.omitted_columns;
  EXPECT_GT(omitted, 0u);
  const LinkedTable* orders = Find(cut, "orders");
  ASSERT_NE(orders, nullptr);
  for (const char* key : {"order_id", "customer_id", "employee_id", "total_amount"})
    EXPECT_TRUE(std::any_of(orders->columns.begin(), orders->columns.end(),
                            [&](const LinkedColumn& c) { return c.name == key; }))
        << key;
  EXPECT_NE(RenderSchema(cut).find("more column"), std::string::npos);
}

TEST(LargeSchemaLinkerTest, AThousandTablesStayWithinTheBudget) {
  auto catalog = ThousandTables();
  ASSERT_EQ(catalog->tables.size(), 1000u);
  SyntheticSource source(catalog);
  const auto start = std::chrono::steady_clock::now();
  auto index = engine::SchemaIndex::Build(catalog, source, 1000);
  ASSERT_TRUE(index) << index.error().message;
  // Indexing is linear in the schema: a tenth of a second here, far less than the limit even
  // under a sanitizer; a step that compares every table with every other takes minutes.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  const SchemaLinker linker(std::shared_ptr<const engine::SchemaIndex>(std::move(*index)));
  const LinkOptions options;  // 1,500 tokens
  const size_t whole = ApproxTokens(RenderSchema(WholeSchema(*catalog)));
  EXPECT_GT(whole, 50 * options.token_budget);

  for (const char* q : {
           // Names two tables: both linked, within budget.
           "total amount of shipment audit rows per supplier history",
           // "name", "amount", "status" are columns of every table.
           "name and amount and status of everything created in 2023",
           // Names nothing at all.
           "hello there",
           // Names many tables.
           "invoices, shipments, suppliers, warehouses, payments, contracts, employees, "
           "vehicles, routes, campaigns, tickets, devices, sensors, patients and doctors",
       }) {
    const LinkedSchema s = linker.Link(q, {}, options);
    const std::string text = RenderSchema(s);
    EXPECT_LE(ApproxTokens(text), options.token_budget) << q;
    EXPECT_FALSE(s.tables.empty()) << q;
    // The whole prompt's schema part too, notes and all.
    PromptInput in;
    in.schema = s;
    in.question = q;
    for (const auto& t : s.tables)
      in.notes.descriptions[t.name] = "A table about " + t.name + " with a long description.";
    const std::string system = PromptBuilder().Build(in)[0].content;
    EXPECT_LE(ApproxTokens(system.substr(system.find("Schema:\n") + 8)), 1500u) << q;
  }
  const LinkedSchema two =
      linker.Link("total amount of shipment audit rows per supplier history", {}, options);
  EXPECT_TRUE(Has(two, "shipment_audit")) << Names(two);
  EXPECT_TRUE(Has(two, "supplier_history"));
  EXPECT_LT(two.tables.size(), 50u);
  // With nothing to go on, what fits is shown and the rest is said to be left out.
  const LinkedSchema nothing = linker.Link("hello there", {}, options);
  EXPECT_GT(nothing.omitted_tables, 900u);
  EXPECT_NE(RenderSchema(nothing).find("more tables not shown"), std::string::npos);
}

}  // namespace
}  // namespace helios::nl2sql::prompt
