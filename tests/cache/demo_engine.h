// Fixtures of the tests of question shapes and re-binding: the demo database's schema index
// and the built-in engine over it, built once per test process (today is Monday 2025-12-15 for
// the engine), and the question sets of tests/data/cache.
#pragma once

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/text.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"

namespace helios::nl2sql {

inline const std::chrono::system_clock::time_point kDemoNow =
    std::chrono::sys_days{std::chrono::year_month_day{
        std::chrono::year{2025}, std::chrono::December, std::chrono::day{15}}} +
    std::chrono::hours(10);

class DemoEngine {
 public:
  static DemoEngine& Get() {
    static DemoEngine* demo = new DemoEngine();
    return *demo;
  }
  const std::string& failure() const { return failure_; }
  const engine::SchemaIndex& index() const { return *index_; }
  const engine::Engine& engine() const { return *engine_; }
  FakeClock& clock() { return clock_; }

 private:
  DemoEngine() : clock_(kDemoNow) {
    auto source = db::OpenDataSource(std::string("sqlite://") + HELIOS_DEMO_DB);
    if (!source) {
      failure_ = "open: " + source.error().message;
      return;
    }
    source_ = std::move(*source);
    auto catalog = source_->Introspect();
    if (!catalog) {
      failure_ = "introspect: " + catalog.error().message;
      return;
    }
    auto index = engine::SchemaIndex::Build(*catalog, *source_, 1000);
    if (!index) {
      failure_ = "index: " + index.error().message;
      return;
    }
    index_ = std::shared_ptr<const engine::SchemaIndex>(std::move(*index));
    engine_ = std::make_unique<engine::Engine>(index_, clock_);
  }
  FakeClock clock_;
  std::unique_ptr<db::DataSource> source_;
  std::shared_ptr<const engine::SchemaIndex> index_;
  std::unique_ptr<engine::Engine> engine_;
  std::string failure_;
};

// The rows of a tab-separated file of tests/data/cache, each split at its tabs (blank lines
// left out).
inline std::vector<std::vector<std::string>> ReadTsv(const std::string& name) {
  std::ifstream in(std::string(HELIOS_SOURCE_DIR) + "/tests/data/cache/" + name);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(text::Split(line, '\t'));
  }
  return rows;
}

// Every question of such a file, trimmed, in file order (lines starting with '#' left out).
inline std::vector<std::string> TsvQuestions(const std::string& name) {
  std::vector<std::string> out;
  for (const auto& row : ReadTsv(name)) {
    if (row.front().starts_with('#')) continue;
    for (const auto& q : row) {
      std::string t = text::Trim(q);
      if (!t.empty()) out.push_back(std::move(t));
    }
  }
  return out;
}

}  // namespace helios::nl2sql
