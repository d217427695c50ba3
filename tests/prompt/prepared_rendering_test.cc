// The prompt's schema part is the same, byte for byte, whether its tables are rendered from the
// renderings the linker prepared once per schema (LinkedTable::prepared) or from scratch, and
// the budget's measure of a table (TableBytes) is the size of its rendering.
//
// The reference is the renderer as it was before tables were prepared, kept here verbatim: it
// quotes and writes every table of every schema it is given. Compared on many questions over
// the demo database, synthetic schemas (awkward names in each dialect, composite keys, 1,000
// tables) and, when present, the Spider training databases; in every dialect, with notes, and
// with budgets tight enough that columns, tables and notes are left out.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/text.h"
#include "db/open.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/prompt/linked_schema.h"
#include "nl2sql/prompt/prompt_builder.h"
#include "nl2sql/prompt/schema_linker.h"
#include "prompt/synthetic_schema.h"
#include "sql/render.h"

namespace helios::nl2sql::prompt {
namespace {

namespace fs = std::filesystem;

// ---- The reference: RenderSchema as of ba126b3, before prepared renderings. ----

std::string RefOneLine(std::string_view s, size_t max_bytes) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  out = text::Trim(out);
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

std::string RefLiteral(std::string_view value, const SchemaRenderOptions& o) {
  return sql::QuoteLiteral(db::Value(RefOneLine(value, o.max_note_bytes)), o.dialect);
}

template <typename T>
std::unordered_map<std::string, const T*> RefByLowercaseKey(const std::map<std::string, T>& map) {
  std::unordered_map<std::string, const T*> out;
  for (const auto& [k, v] : map) out.emplace(text::ToLower(k), &v);
  return out;
}

template <typename T>
const T* RefFind(const std::unordered_map<std::string, const T*>& map, const std::string& key) {
  auto it = map.find(text::ToLower(key));
  return it == map.end() ? nullptr : it->second;
}

struct RefTableLines {
  std::string description;
  std::vector<std::string> items;
  std::vector<std::vector<std::string>> comments;
  std::string omitted;
};

RefTableLines RefLines(const LinkedTable& t, const SchemaRenderOptions& o) {
  RefTableLines out;
  size_t pk_count = 0;
  for (const auto& c : t.columns) pk_count += c.primary_key ? 1 : 0;
  std::vector<std::string> pk_names;
  for (const auto& c : t.columns) {
    std::string line = sql::QuoteIdentifier(c.name, o.dialect);
    if (!c.type.empty()) line += " " + c.type;
    if (c.primary_key && pk_count == 1) line += " PRIMARY KEY";
    if (c.primary_key) pk_names.push_back(sql::QuoteIdentifier(c.name, o.dialect));
    if (!c.ref_table.empty())
      line += fmt::format(" REFERENCES {}({})", sql::QuoteIdentifier(c.ref_table, o.dialect),
                          sql::QuoteIdentifier(c.ref_column, o.dialect));
    out.items.push_back(std::move(line));
    std::vector<std::string> comments;
    if (!c.matched_values.empty()) {
      std::string values;
      for (const auto& v : c.matched_values) {
        if (!values.empty()) values += ", ";
        values += RefLiteral(v, o);
      }
      comments.push_back("matches " + values);
    }
    out.comments.push_back(std::move(comments));
  }
  if (pk_count > 1) {
    out.items.push_back(fmt::format("PRIMARY KEY ({})", text::Join(pk_names, ", ")));
    out.comments.emplace_back();
  }
  if (t.omitted_columns > 0)
    out.omitted = fmt::format("  -- {} more column{} not shown\n", t.omitted_columns,
                              t.omitted_columns == 1 ? "" : "s");
  return out;
}

std::string RefCommentText(const std::vector<std::string>& parts) {
  return parts.empty() ? std::string() : " -- " + text::Join(parts, "; ");
}

size_t RefSize(const RefTableLines& t, std::string_view name) {
  size_t n = t.description.empty() ? 0 : t.description.size() + 4;
  n += fmt::format("CREATE TABLE {} (\n", name).size() + 3;
  for (size_t i = 0; i < t.items.size(); ++i)
    n += 2 + t.items[i].size() + (i + 1 < t.items.size() ? 1 : 0) +
         RefCommentText(t.comments[i]).size() + 1;
  return n + t.omitted.size();
}

void RefAppend(const RefTableLines& t, std::string_view name, std::string& out) {
  if (!t.description.empty()) out += "-- " + t.description + "\n";
  out += fmt::format("CREATE TABLE {} (\n", name);
  for (size_t i = 0; i < t.items.size(); ++i) {
    out += "  " + t.items[i];
    if (i + 1 < t.items.size()) out += ",";
    out += RefCommentText(t.comments[i]);
    out += "\n";
  }
  out += t.omitted;
  out += ");\n";
}

std::string ReferenceRender(const LinkedSchema& schema, const SchemaRenderOptions& o) {
  std::vector<RefTableLines> lines;
  std::vector<std::string> names;
  size_t total = 0;
  for (const auto& t : schema.tables) {
    lines.push_back(RefLines(t, o));
    names.push_back(sql::QuoteIdentifier(t.name, o.dialect));
    total += RefSize(lines.back(), names.back());
  }
  if (schema.omitted_tables > 0) total += 64;
  const size_t budget_bytes =
      o.token_budget >= static_cast<size_t>(-1) / 4 ? static_cast<size_t>(-1) : o.token_budget * 4;
  auto fits = [&](size_t extra) { return total + extra <= budget_bytes; };
  if (o.notes) {
    const auto descriptions = RefByLowercaseKey(o.notes->descriptions);
    const auto sample_values = RefByLowercaseKey(o.notes->sample_values);
    for (size_t ti = 0; ti < schema.tables.size(); ++ti) {
      const LinkedTable& t = schema.tables[ti];
      RefTableLines& tl = lines[ti];
      if (const std::string* d = RefFind(descriptions, t.name)) {
        std::string text = RefOneLine(*d, o.max_note_bytes);
        if (!text.empty() && fits(text.size() + 4)) {
          tl.description = text;
          total += text.size() + 4;
        }
      }
      for (size_t ci = 0; ci < t.columns.size(); ++ci) {
        const std::string key = t.name + "." + t.columns[ci].name;
        auto add = [&](std::string part) {
          const size_t cost = part.size() + (tl.comments[ci].empty() ? 4 : 2);
          if (!fits(cost)) return;
          tl.comments[ci].push_back(std::move(part));
          total += cost;
        };
        if (const std::string* d = RefFind(descriptions, key)) {
          std::string text = RefOneLine(*d, o.max_note_bytes);
          if (!text.empty()) add(text);
        }
        const auto* samples = RefFind(sample_values, key);
        if (samples && !samples->empty() && o.max_samples_per_column > 0) {
          std::string part = "e.g. ";
          for (size_t k = 0; k < samples->size() && k < o.max_samples_per_column; ++k) {
            if (k) part += ", ";
            part += RefLiteral((*samples)[k], o);
          }
          add(std::move(part));
        }
      }
    }
  }
  std::string out;
  for (size_t ti = 0; ti < lines.size(); ++ti) RefAppend(lines[ti], names[ti], out);
  if (schema.omitted_tables > 0)
    out += fmt::format("-- {} more table{} not shown\n", schema.omitted_tables,
                       schema.omitted_tables == 1 ? "" : "s");
  return out;
}

// ---- The comparison. ----

struct Config {
  db::Dialect dialect;
  size_t budget;   // tokens, for the linker and the notes alike
  bool selective;  // no context tables, no whole small schema
};

const std::vector<Config>& Configs() {
  static const std::vector<Config> configs = {
      {db::Dialect::kSqlite, 1500, false}, {db::Dialect::kPostgres, 1500, false},
      {db::Dialect::kMysql, 1500, false},  {db::Dialect::kSqlite, 150, false},
      {db::Dialect::kMysql, 60, true},     {db::Dialect::kPostgres, 400, true},
      {db::Dialect::kSqlite, 40, false},
  };
  return configs;
}

// A schema to compare on: its linker, notes (as the server gives them, plus descriptions with
// awkward keys and text) and questions.
struct Subject {
  std::string name;
  std::unique_ptr<db::DataSource> source;
  std::shared_ptr<const engine::SchemaIndex> index;
  std::unique_ptr<SchemaLinker> linker;
  SchemaNotes notes;
  std::vector<std::pair<std::string, std::string>> questions;  // question, SQL answering it
};

// Notes as Application::LoadSchema gives them (three stored values of each low-cardinality
// text column), and descriptions for some tables and columns: keys in other cases, control
// characters, quotes, text past max_note_bytes with multi-byte characters at the cut.
SchemaNotes NotesFor(const engine::SchemaIndex& index, db::DataSource& source) {
  SchemaNotes notes;
  size_t k = 0;
  for (const auto& table : index.tables()) {
    const std::string& name = table.table->name;
    ++k;
    if (k % 2 == 0) notes.descriptions[name] = "About " + name + ":\n\tit's \"here\"  ";
    if (k % 5 == 1) notes.descriptions[text::ToLower(name)] = "lower " + name;
    if (k % 5 == 2) {
      std::string longer = "Ünïcödé ";
      while (longer.size() < 400) longer += "größer ";
      notes.descriptions[name] = longer;
    }
    for (const auto* column : table.columns) {
      const std::string key = name + "." + column->column->name;
      if (k % 3 == 0) notes.descriptions[key] = "a column's note";
      if (k % 7 == 0) notes.descriptions[text::ToLower(key)] = "lowercase key's note";
      if (!column->is_text || column->distinct_values == 0) continue;
      auto values = source.DistinctTextValues(name, column->column->name, column->distinct_values);
      if (!values || values->empty()) continue;
      values->resize(std::min<size_t>(values->size(), 3));
      notes.sample_values[key] = std::move(*values);
    }
  }
  return notes;
}

Subject MakeSubject(std::string name, std::unique_ptr<db::DataSource> source,
                    std::shared_ptr<const db::SchemaCatalog> catalog) {
  Subject s;
  s.name = std::move(name);
  s.source = std::move(source);
  auto index = engine::SchemaIndex::Build(std::move(catalog), *s.source, 1000);
  EXPECT_TRUE(index) << s.name << ": " << index.error().message;
  if (!index) return s;
  s.index = std::shared_ptr<const engine::SchemaIndex>(std::move(*index));
  s.linker = std::make_unique<SchemaLinker>(s.index);
  s.notes = NotesFor(*s.index, *s.source);
  return s;
}

Subject OpenSubject(std::string name, const std::string& path) {
  db::OpenOptions open;
  open.pool_size = 1;
  auto source = db::OpenDataSource(path, open);
  EXPECT_TRUE(source) << path << ": " << source.error().message;
  if (!source) return {};
  auto catalog = (*source)->Introspect();
  EXPECT_TRUE(catalog) << path << ": " << catalog.error().message;
  if (!catalog) return {};
  return MakeSubject(std::move(name), std::move(*source), *catalog);
}

// Names each dialect quotes differently or not at all, keywords, quotes inside names, composite
// keys of two and three columns, undeclared types, foreign keys to keyword-named columns.
std::shared_ptr<const db::SchemaCatalog> AwkwardNames() {
  using F = db::TypeFamily;
  auto catalog = std::make_shared<db::SchemaCatalog>();
  db::TableInfo order;
  order.name = "order";
  order.columns = {{"select", "INTEGER", F::kInteger, true, true, ""},
                   {"line no", "INTEGER", F::kInteger, true, true, ""},
                   {"Group", "TEXT", F::kText, false, false, ""},
                   {"from", "", F::kOther, false, false, ""},
                   {"user", "VARCHAR(20)", F::kText, false, false, ""}};
  catalog->tables.push_back(order);
  db::TableInfo weird;
  weird.name = "Weird\"Name`";
  weird.columns = {{"id", "INTEGER", F::kInteger, true, true, ""},
                   {"a\"b", "TEXT", F::kText, false, false, ""},
                   {"c`d", "TEXT", F::kText, false, false, ""},
                   {"order_select", "INTEGER", F::kInteger, false, false, ""},
                   {"2nd", "REAL", F::kReal, false, false, ""}};
  weird.foreign_keys = {{"order_select", "order", "select"}};
  catalog->tables.push_back(weird);
  db::TableInfo items;
  items.name = "line_items";
  items.columns = {{"order_select", "INTEGER", F::kInteger, true, true, ""},
                   {"line_no", "INTEGER", F::kInteger, true, true, ""},
                   {"position", "INTEGER", F::kInteger, true, true, ""},
                   {"quantity", "INTEGER", F::kInteger, false, false, ""},
                   {"Limit", "NUMERIC(10,2)", F::kReal, false, false, ""},
                   {"weird_id", "INTEGER", F::kInteger, false, false, ""}};
  items.foreign_keys = {{"order_select", "order", "select"}, {"weird_id", "Weird\"Name`", "id"}};
  catalog->tables.push_back(items);
  db::TableInfo plain;
  plain.name = "notes";
  plain.columns = {{"text", "", F::kOther, false, false, ""},
                   {"when", "", F::kOther, false, false, ""}};
  catalog->tables.push_back(plain);
  return catalog;
}

LinkedSchema WithoutPrepared(LinkedSchema s) {
  for (auto& t : s.tables) t.prepared = nullptr;
  return s;
}

// The masks of columns to show that FitBudget may try, and more: every one for narrow tables;
// each column alone, each left out, the keys only, every other one for wider ones.
std::vector<std::vector<bool>> Masks(const LinkedTable& t) {
  const size_t n = t.columns.size();
  std::vector<std::vector<bool>> masks;
  if (n <= 6) {
    for (size_t bits = 0; bits < (size_t{1} << n); ++bits) {
      std::vector<bool> m(n);
      for (size_t i = 0; i < n; ++i) m[i] = (bits >> i) & 1;
      masks.push_back(std::move(m));
    }
    return masks;
  }
  for (size_t i = 0; i < n; ++i) {
    std::vector<bool> alone(n, false), without(n, true);
    alone[i] = true;
    without[i] = false;
    masks.push_back(std::move(alone));
    masks.push_back(std::move(without));
  }
  std::vector<bool> keys(n), even(n), odd(n);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = t.columns[i].primary_key || !t.columns[i].ref_table.empty();
    even[i] = i % 2 == 0;
    odd[i] = i % 2 == 1;
  }
  masks.push_back(std::move(keys));
  masks.push_back(std::move(even));
  masks.push_back(std::move(odd));
  return masks;
}

LinkedTable Shown(const LinkedTable& t, const std::vector<bool>& mask) {
  LinkedTable out = t;
  out.prepared = nullptr;
  out.columns.clear();
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (mask[i])
      out.columns.push_back(t.columns[i]);
    else
      ++out.omitted_columns;
  }
  return out;
}

struct Tally {
  size_t prompts = 0;
  size_t prepared_tables = 0;  // tables rendered from their prepared rendering
  size_t cut_schemas = 0;      // schemas with columns or tables left out for the budget
  size_t measured = 0;         // TableBytes compared
};

// Every table of the schema, whole and with the columns of each mask, measured by TableBytes
// and by the reference, in each dialect.
void CompareTableBytes(const Subject& s, Tally& tally) {
  for (const auto& config : Configs()) {
    if (config.budget != 1500) continue;  // one configuration per dialect
    LinkOptions all;
    all.dialect = config.dialect;
    all.small_schema_tokens = static_cast<size_t>(-1) / 8;
    all.token_budget = static_cast<size_t>(-1) / 8;
    // A question naming stored values, so that some columns carry matched values.
    const std::string question =
        s.questions.empty() ? std::string("everything") : s.questions.front().first;
    const LinkedSchema whole = s.linker->Link(question, {}, all);
    ASSERT_EQ(whole.tables.size(), s.index->tables().size()) << s.name;
    for (const LinkedTable& t : whole.tables) {
      ASSERT_NE(t.prepared, nullptr) << s.name << " " << t.name;
      SchemaRenderOptions o;
      o.dialect = config.dialect;
      LinkedSchema one;
      one.tables.push_back(t);
      ASSERT_EQ(TableBytes(t, config.dialect), ReferenceRender(one, o).size())
          << s.name << " " << t.name;
      for (const auto& mask : Masks(t)) {
        LinkedSchema part;
        part.tables.push_back(Shown(t, mask));
        ASSERT_EQ(TableBytes(t, config.dialect, &mask), ReferenceRender(part, o).size())
            << s.name << " " << t.name << " " << ReferenceRender(part, o);
        ++tally.measured;
      }
    }
  }
}

// Each question linked and its prompt built as the server does, in each configuration, against
// the reference rendering of the same linked schema.
void CompareRenderings(const Subject& s, size_t stride, Tally& tally) {
  for (size_t qi = 0; qi < s.questions.size(); qi += stride) {
    std::vector<Turn> history;
    if (qi > 0 && qi % 2 == 1)
      history.push_back({s.questions[qi - 1].first, s.questions[qi - 1].second, ""});
    const std::string& question = s.questions[qi].first;
    for (const Config& config : Configs()) {
      LinkOptions link;
      link.dialect = config.dialect;
      link.token_budget = config.budget;
      if (config.selective) {
        link.context_share = 0;
        link.context_floor_tokens = 0;
        link.small_schema_tokens = 0;
      }
      PromptInput input;
      input.dialect = config.dialect;
      input.schema = s.linker->Link(question, history, link);
      input.notes = s.notes;
      input.history = history;
      input.question = question;
      const LinkedSchema scratch = WithoutPrepared(input.schema);
      const std::string where =
          fmt::format("{} [dialect {}, {} tokens{}] \"{}\"", s.name, DialectName(config.dialect),
                      config.budget, config.selective ? ", selective" : "", question);

      SchemaRenderOptions plain;
      plain.dialect = config.dialect;
      const std::string reference = ReferenceRender(scratch, plain);
      ASSERT_EQ(RenderSchema(input.schema, plain), reference) << where;
      ASSERT_EQ(RenderSchema(scratch, plain), reference) << where;

      SchemaRenderOptions noted = plain;
      noted.notes = &s.notes;
      noted.token_budget = config.budget;
      const std::string reference_noted = ReferenceRender(scratch, noted);
      ASSERT_EQ(RenderSchema(input.schema, noted), reference_noted) << where;

      PromptOptions options;
      options.schema_token_budget = config.budget;
      const std::string system = PromptBuilder(options).Build(input)[0].content;
      const size_t at = system.find("Schema:\n");
      ASSERT_NE(at, std::string::npos) << where;
      ASSERT_EQ(system.substr(at + 8, reference_noted.size()), reference_noted) << where;

      ++tally.prompts;
      for (const auto& t : input.schema.tables) {
        tally.prepared_tables += t.prepared ? 1 : 0;
        if (t.omitted_columns > 0) ++tally.cut_schemas;
        LinkedSchema one;
        one.tables.push_back(t);
        ASSERT_EQ(TableBytes(t, config.dialect), ReferenceRender(one, plain).size())
            << where << " " << t.name;
      }
      if (input.schema.omitted_tables > 0) ++tally.cut_schemas;
    }
  }
}

void ExpectCovered(const Tally& t, std::string_view name) {
  // The comparison must have run through the prepared renderings and the budget's cuts, or it
  // compares the reference with itself.
  EXPECT_GT(t.prompts, 0u) << name;
  EXPECT_GT(t.prepared_tables, 0u) << name;
  EXPECT_GT(t.cut_schemas, 0u) << name;
  EXPECT_GT(t.measured, 0u) << name;
  fmt::print("[prepared] {}: {} prompts, {} tables from prepared renderings, {} cut, {} sizes\n",
             name, t.prompts, t.prepared_tables, t.cut_schemas, t.measured);
}

TEST(PreparedRenderingTest, DemoDatabasePromptsAreTheReferencesBytes) {
  Subject s = OpenSubject("demo", HELIOS_DEMO_DB);
  ASSERT_NE(s.linker, nullptr);
  s.questions = {
      {"Which customers are in Germany?", "SELECT * FROM customers WHERE country = 'Germany'"},
      {"how are our clients spread over the nations of the world", ""},
      {"which customers are most likely to churn", ""},
      {"what is the weather like for our customers", ""},
      {"summarize our business", ""},
      {"which products pair well together", ""},
      {"what should we sell next year", ""},
      {"who are our happiest customers", ""},
      {"tell me something interesting about our data", ""},
      {"How many customers are there per region?", ""},
      {"Which categories do customers in France buy most?",
       "SELECT c.name, count(*) FROM categories c JOIN products p ON p.category_id = "
       "c.category_id GROUP BY c.name"},
      {"only for 2024", ""},
      {"customer names with their order totals", ""},
      {"orders that were 'delivered' or cancelled in Germany and France in 2023", ""},
      {"Average salary of employees hired after 2020", ""},
      {"hello there", ""},
  };
  Tally tally;
  CompareTableBytes(s, tally);
  CompareRenderings(s, 1, tally);
  ExpectCovered(tally, s.name);
}

TEST(PreparedRenderingTest, SyntheticSchemasPromptsAreTheReferencesBytes) {
  for (auto catalog : {AwkwardNames(), ThousandTables()}) {
    Subject s = MakeSubject(catalog->tables.size() > 100 ? "1,000 tables" : "awkward names",
                            std::make_unique<SyntheticSource>(catalog), catalog);
    ASSERT_NE(s.linker, nullptr);
    s.questions = {
        {"select the group and user from every order", "SELECT \"Group\", \"user\" FROM \"order\""},
        {"line items per order with their limit", ""},
        {"weird names and their 2nd value", ""},
        {"total amount of shipment audit rows per supplier history", ""},
        {"name and amount and status of everything created in 2023", ""},
        {"hello there", ""},
        {"invoices, shipments, suppliers, warehouses, payments, contracts, employees, vehicles, "
         "routes, campaigns, tickets, devices, sensors, patients and doctors",
         ""},
    };
    Tally tally;
    CompareTableBytes(s, tally);
    CompareRenderings(s, 1, tally);
    ExpectCovered(tally, s.name);
  }
}

fs::path SpiderRoot() {
  return (fs::path(HELIOS_SOURCE_DIR) / ".." / "shared" / "datasets" / "spider-train")
      .lexically_normal();
}

TEST(PreparedRenderingTest, SpiderPromptsAreTheReferencesBytes) {
  std::error_code ec;
  if (!fs::is_regular_file(SpiderRoot() / "train_spider.json", ec))
    GTEST_SKIP() << "the Spider training set is not present at " << SpiderRoot();
  std::ifstream in(SpiderRoot() / "train_spider.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> questions;
  for (const auto& q : nlohmann::json::parse(ss.str()))
    questions[q["db_id"].get<std::string>()].emplace_back(q["question"].get<std::string>(),
                                                          q["query"].get<std::string>());
  Tally all;
  size_t databases = 0;
  for (auto& [id, list] : questions) {
    const fs::path file = SpiderRoot() / "database" / id / (id + ".sqlite");
    if (!fs::is_regular_file(file, ec)) continue;
    Subject s = OpenSubject(id, file.string());
    ASSERT_NE(s.linker, nullptr) << id;
    s.questions = std::move(list);
    Tally tally;
    // Every database's tables measured; every 4th question's prompts (every one takes about
    // twice as long and finds nothing more).
    CompareTableBytes(s, tally);
    CompareRenderings(s, 4, tally);
    all.prompts += tally.prompts;
    all.prepared_tables += tally.prepared_tables;
    all.cut_schemas += tally.cut_schemas;
    all.measured += tally.measured;
    ++databases;
  }
  EXPECT_GT(databases, 100u);
  ExpectCovered(all, fmt::format("Spider, {} databases", databases));
}

}  // namespace
}  // namespace helios::nl2sql::prompt
