// The schema index's foreign-key graph on schemas far larger than the library of
// schema_index_test.cc: the joins it plans, what fans out, which tables are referenced, and
// finding tables by name, compared for every pair of tables with a reference written the
// plainest way (a scan of every edge for every table visited), which the index once was. The
// index precomputes its graph so that large schemas stay fast; these tests hold it to the same
// answers, tie-breaks between equally short paths included.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/text.h"
#include "db/open.h"
#include "nl2sql/engine/schema_index.h"
#include "sqlite_index.h"

namespace helios::nl2sql::engine {
namespace {

namespace fs = std::filesystem;

// The plain graph search, over the catalog's foreign keys in the order the index takes them.
class ReferenceGraph {
 public:
  explicit ReferenceGraph(const db::SchemaCatalog& catalog) {
    for (const auto& table : catalog.tables) {
      for (const auto& fk : table.foreign_keys) {
        edges_.push_back({table.name, fk.column, fk.ref_table, fk.ref_column});
        // Lowercased once here rather than at every visit, only to keep the test quick.
        lower_.emplace_back(text::ToLower(table.name), text::ToLower(fk.ref_table));
      }
    }
  }

  std::vector<FkEdge> ShortestPath(const std::string& from, const std::string& to) const {
    if (text::EqualsIgnoreCase(from, to)) return {};
    std::map<std::string, std::pair<std::string, size_t>> prev;
    std::deque<std::string> queue{text::ToLower(from)};
    std::set<std::string> seen{text::ToLower(from)};
    const std::string target = text::ToLower(to);
    while (!queue.empty()) {
      std::string cur = queue.front();
      queue.pop_front();
      if (cur == target) break;
      for (size_t i = 0; i < edges_.size(); ++i) {
        const std::string& a = lower_[i].first;
        const std::string& b = lower_[i].second;
        if (a == b) continue;
        std::string next;
        if (a == cur) {
          next = b;
        } else if (b == cur) {
          next = a;
        } else {
          continue;
        }
        if (seen.insert(next).second) {
          prev[next] = {cur, i};
          queue.push_back(next);
        }
      }
    }
    if (!seen.contains(target)) return {FkEdge{}};
    std::vector<FkEdge> path;
    for (std::string cur = target; cur != text::ToLower(from);) {
      auto [p, edge] = prev[cur];
      path.push_back(edges_[edge]);
      cur = p;
    }
    std::reverse(path.begin(), path.end());
    return path;
  }

  static bool Unreachable(const std::vector<FkEdge>& path) {
    return path.size() == 1 && path[0].from_table.empty();
  }

  // "unreachable", or the path's edges as text.
  static std::string PathText(const std::vector<FkEdge>& path) {
    if (Unreachable(path)) return "unreachable";
    std::string out;
    for (const auto& e : path)
      out += e.from_table + "." + e.from_column + "->" + e.to_table + "." + e.to_column + ";";
    return out;
  }

  // What the index's FansOut answers, given ShortestPath(from, to).
  static bool FansOut(const std::string& from, const std::vector<FkEdge>& path) {
    std::string cur = text::ToLower(from);
    for (const auto& e : path) {
      if (e.from_table.empty()) return true;
      if (text::ToLower(e.to_table) == cur) return true;
      cur = text::ToLower(e.to_table);
    }
    return false;
  }

  bool IsReferenced(const std::string& table) const {
    for (const auto& e : edges_)
      if (text::EqualsIgnoreCase(e.to_table, table) && !text::EqualsIgnoreCase(e.from_table, table))
        return true;
    return false;
  }

 private:
  std::vector<FkEdge> edges_;
  std::vector<std::pair<std::string, std::string>> lower_;  // edges_' tables, lowercase
};

std::string JoinsText(const std::optional<std::vector<sql::Join>>& joins) {
  if (!joins) return "unreachable";
  std::string out;
  for (const auto& j : *joins)
    out += j.table + " ON " + j.left.table + "." + j.left.column + " = " + j.right.table + "." +
           j.right.column + "; ";
  return out;
}

// A SQLite file with `tables` tables named with mixed case ("Part_7"), each referencing up to
// three others (sometimes itself, sometimes one twice, naming the table in another case), so
// that equally short paths, self-references, parallel edges and unconnected tables all occur.
class GraphSchema {
 public:
  GraphSchema(int tables, unsigned seed) {
    dir_ = fs::temp_directory_path() / ("helios_schema_graph_" + text::NewUuid());
    fs::create_directories(dir_);
    const std::string path = (dir_ / "graph.db").string();
    std::mt19937 rng(seed);
    std::string sql = "BEGIN;";
    for (int t = 0; t < tables; ++t) {
      names_.push_back((t % 3 == 0 ? "Part_" : t % 3 == 1 ? "part_" : "PART_") + std::to_string(t));
      sql += "CREATE TABLE " + names_.back() + " (id INTEGER PRIMARY KEY, label TEXT";
      const int refs = static_cast<int>(rng() % 4);
      for (int r = 0; r < refs && t > 0; ++r) {
        const int target = rng() % 10 == 0 ? t : static_cast<int>(rng() % static_cast<unsigned>(t));
        std::string target_name = text::ToLower(names_[static_cast<size_t>(target)]);
        if (rng() % 2 == 0) target_name = names_[static_cast<size_t>(target)];
        sql += ", ref" + std::to_string(r) + "_id INTEGER REFERENCES " + target_name + "(id)";
      }
      sql += ");";
    }
    sql += "COMMIT;";
    sqlite3* db = nullptr;
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);

    auto source = db::OpenDataSource("sqlite://" + path);
    EXPECT_TRUE(source) << source.error().message;
    if (!source) return;
    source_ = std::move(*source);
    auto catalog = source_->Introspect();
    EXPECT_TRUE(catalog) << catalog.error().message;
    if (!catalog) return;
    catalog_ = *catalog;
    auto index = SchemaIndex::Build(catalog_, *source_, 1000);
    EXPECT_TRUE(index) << index.error().message;
    if (index) index_ = std::move(*index);
  }
  ~GraphSchema() {
    index_.reset();
    source_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  const std::vector<std::string>& names() const { return names_; }
  const SchemaIndex* index() const { return index_.get(); }
  const db::SchemaCatalog& catalog() const { return *catalog_; }

 private:
  fs::path dir_;
  std::vector<std::string> names_;
  std::unique_ptr<db::DataSource> source_;
  std::shared_ptr<const db::SchemaCatalog> catalog_;
  std::unique_ptr<SchemaIndex> index_;
};

TEST(SchemaIndexGraphTest, PlansTheSameJoinsAsAScanOfEveryEdge) {
  GraphSchema schema(64, 7);
  ASSERT_NE(schema.index(), nullptr);
  const ReferenceGraph reference(schema.catalog());
  size_t edges = 0;
  for (const auto& t : schema.catalog().tables) edges += t.foreign_keys.size();
  ASSERT_GT(edges, 64u);  // a graph worth searching

  size_t reachable = 0, multi_step = 0;
  const auto& names = schema.names();
  for (const std::string& from : names) {
    for (const std::string& to : names) {
      const std::vector<FkEdge> path = reference.ShortestPath(from, to);
      EXPECT_EQ(schema.index()->FansOut(from, to), ReferenceGraph::FansOut(from, path))
          << from << " -> " << to;
      // PlanJoins takes the shortest path; one target makes it that path's joins exactly.
      const auto joins = schema.index()->PlanJoins(from, {to});
      if (ReferenceGraph::Unreachable(path)) {
        EXPECT_FALSE(joins.has_value()) << from << " -> " << to;
        continue;
      }
      ASSERT_TRUE(joins.has_value()) << from << " -> " << to;
      ++reachable;
      if (joins->size() > 1) ++multi_step;
      // Each join follows the reference path's edge, in order, whichever way it points.
      ASSERT_EQ(joins->size(), path.size()) << from << " -> " << to;
      for (size_t i = 0; i < path.size(); ++i) {
        const sql::Join& j = (*joins)[i];
        const bool forward = text::EqualsIgnoreCase(j.table, path[i].to_table) &&
                             j.right.column == path[i].to_column &&
                             j.left.column == path[i].from_column;
        const bool backward = text::EqualsIgnoreCase(j.table, path[i].from_table) &&
                              j.right.column == path[i].from_column &&
                              j.left.column == path[i].to_column;
        EXPECT_TRUE(forward || backward)
            << from << " -> " << to << " step " << i << ": " << JoinsText(joins) << " vs "
            << ReferenceGraph::PathText(path);
      }
    }
  }
  // The schema exercised what it is for: long paths and unconnected pairs both occur.
  EXPECT_GT(multi_step, 1000u);
  EXPECT_LT(reachable, names.size() * names.size());
}

TEST(SchemaIndexGraphTest, PlansJoinsToSeveralTablesLikeTheReference) {
  GraphSchema schema(60, 11);
  ASSERT_NE(schema.index(), nullptr);
  const ReferenceGraph reference(schema.catalog());
  const auto& names = schema.names();
  std::mt19937 rng(3);
  for (int round = 0; round < 300; ++round) {
    const std::string& from = names[rng() % names.size()];
    std::vector<std::string> targets;
    for (int k = 0; k < 3; ++k) targets.push_back(names[rng() % names.size()]);
    const auto joins = schema.index()->PlanJoins(from, targets);
    // Every target the reference reaches from `from` is reached; an unreachable one fails all.
    bool all_reachable = true;
    for (const auto& t : targets)
      all_reachable &= !ReferenceGraph::Unreachable(reference.ShortestPath(from, t));
    EXPECT_EQ(joins.has_value(), all_reachable)
        << from << " -> " << targets[0] << ", " << targets[1] << ", " << targets[2];
  }
}

TEST(SchemaIndexGraphTest, KnowsWhichTablesAreReferencedAndFindsTablesInAnyCase) {
  GraphSchema schema(120, 5);
  ASSERT_NE(schema.index(), nullptr);
  const ReferenceGraph reference(schema.catalog());
  size_t referenced = 0;
  for (const std::string& name : schema.names()) {
    EXPECT_EQ(schema.index()->IsReferenced(name), reference.IsReferenced(name)) << name;
    if (reference.IsReferenced(name)) ++referenced;
    for (const std::string& spelling : {name, text::ToLower(name), "PART_" + name.substr(5)}) {
      const TableEntry* found = schema.index()->FindTable(spelling);
      ASSERT_NE(found, nullptr) << spelling;
      EXPECT_EQ(found->table->name, name);
    }
  }
  EXPECT_GT(referenced, 10u);
  EXPECT_LT(referenced, schema.names().size());
  EXPECT_EQ(schema.index()->FindTable("part_9999"), nullptr);
  EXPECT_EQ(schema.index()->FindTable(""), nullptr);
  EXPECT_FALSE(schema.index()->IsReferenced("part_9999"));
}

// A chain of 1,000 tables, each referencing the one before: the longest path a schema of that
// size can hold, planned in full.
TEST(SchemaIndexGraphTest, PlansAcrossAThousandTableChain) {
  const fs::path dir = fs::temp_directory_path() / ("helios_schema_chain_" + text::NewUuid());
  fs::create_directories(dir);
  const std::string path = (dir / "chain.db").string();
  std::string sql = "BEGIN; CREATE TABLE t0 (id INTEGER PRIMARY KEY);";
  for (int t = 1; t < 1000; ++t) {
    sql += "CREATE TABLE t" + std::to_string(t) + " (id INTEGER PRIMARY KEY, prev_id INTEGER " +
           "REFERENCES t" + std::to_string(t - 1) + "(id));";
  }
  sql += "COMMIT;";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  {
    SqliteIndex opened;
    ASSERT_NO_FATAL_FAILURE(OpenSqliteIndex(path, &opened));
    const auto& index = opened.index;

    const auto joins = index->PlanJoins("t999", {"t0"});
    ASSERT_TRUE(joins.has_value());
    ASSERT_EQ(joins->size(), 999u);
    EXPECT_EQ(JoinsText(std::vector<sql::Join>(joins->begin(), joins->begin() + 1)),
              "t998 ON t999.prev_id = t998.id; ");
    EXPECT_EQ((*joins)[998].table, "t0");
    EXPECT_FALSE(index->FansOut("t999", "t0"));  // every step many-to-one
    EXPECT_TRUE(index->FansOut("t0", "t999"));
    EXPECT_TRUE(index->IsReferenced("t0"));
    EXPECT_FALSE(index->IsReferenced("t999"));
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace helios::nl2sql::engine
