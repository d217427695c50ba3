// Helpers shared by the security tests: the attack sets in tests/security/data, the golden
// questions, a private copy of the demo database in a temporary directory, and the engine over
// it built the way src/app/application.cc builds it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/clock.h"
#include "common/text.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "sql/render.h"

namespace helios::security::testdata {

inline constexpr std::string_view kReadOnlyOk = "# read-only ok";

struct Line {
  std::string text;
  int number = 0;             // 1-based line number in the file
  bool read_only_ok = false;  // ends in "# read-only ok" (the marker is removed from text)
};

inline std::filesystem::path DataDir() {
  return std::filesystem::path(HELIOS_SOURCE_DIR) / "tests" / "security" / "data";
}

// The non-empty lines of a data file that do not start with '#'.
inline std::vector<Line> ReadLines(const std::filesystem::path& path) {
  std::vector<Line> lines;
  std::ifstream in(path);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (text::Trim(raw).empty() || raw.front() == '#') continue;
    Line line{raw, number, false};
    if (line.text.size() >= kReadOnlyOk.size() &&
        line.text.compare(line.text.size() - kReadOnlyOk.size(), kReadOnlyOk.size(), kReadOnlyOk) ==
            0) {
      line.read_only_ok = true;
      line.text = text::Trim(line.text.substr(0, line.text.size() - kReadOnlyOk.size()));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

inline nlohmann::json LoadGolden(const std::string& name) {
  std::ifstream in(std::filesystem::path(HELIOS_SOURCE_DIR) / "tests" / "golden" / "data" / name);
  return nlohmann::json::parse(in, nullptr, false);
}

// Every question of the golden set, single questions and conversation turns.
inline std::vector<std::string> GoldenQuestions() {
  std::vector<std::string> questions;
  const nlohmann::json single = LoadGolden("questions.json");
  if (single.is_object())
    for (const auto& c : single["cases"]) questions.push_back(c["question"].get<std::string>());
  const nlohmann::json conversations = LoadGolden("conversations.json");
  if (conversations.is_object())
    for (const auto& conv : conversations["conversations"])
      for (const auto& turn : conv["turns"])
        questions.push_back(turn["question"].get<std::string>());
  return questions;
}

// A temporary directory holding a copy of the demo database; removed on destruction.
class DemoCopy {
 public:
  explicit DemoCopy(const std::string& tag) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("helios-security-" + tag + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    db_ = dir_ / "demo.db";
    std::error_code ec;
    std::filesystem::copy_file(HELIOS_DEMO_DB, db_, ec);
    ok_ = !ec;
  }
  ~DemoCopy() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  DemoCopy(const DemoCopy&) = delete;
  DemoCopy& operator=(const DemoCopy&) = delete;

  bool ok() const { return ok_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& db() const { return db_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path db_;
  bool ok_ = false;
};

// A data source over a database file and the built-in engine over its schema.
struct DemoEngine {
  std::unique_ptr<db::DataSource> source;
  std::shared_ptr<const nl2sql::engine::Engine> engine;
  std::string error;  // empty when both were built
};

// Statement time limits of the data source use the real clock, so a runaway query cannot hang
// a test; `clock` (usually a FakeClock) is the engine's.
inline DemoEngine OpenDemoEngine(const std::filesystem::path& db_file, const Clock& clock) {
  DemoEngine demo;
  auto source = db::OpenDataSource("sqlite://" + db_file.string());
  if (!source) {
    demo.error = source.error().message;
    return demo;
  }
  demo.source = std::move(*source);
  auto catalog = demo.source->Introspect();
  if (!catalog) {
    demo.error = catalog.error().message;
    return demo;
  }
  auto index = nl2sql::engine::SchemaIndex::Build(*catalog, *demo.source, 1000);
  if (!index) {
    demo.error = index.error().message;
    return demo;
  }
  demo.engine = std::make_shared<const nl2sql::engine::Engine>(
      std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index)), clock);
  return demo;
}

// The engine's SQL for every golden question (single ones: follow-ups need their
// conversation), rendered in `dialect` with bound parameters and with inline literals, must
// pass `guard`. Returns how many renderings were checked.
inline int ExpectEngineSqlPassesGuard(db::Dialect dialect,
                                      Result<void> (*guard)(std::string_view sql)) {
  DemoCopy demo("guard");
  EXPECT_TRUE(demo.ok());
  FakeClock clock(std::chrono::sys_days{std::chrono::year{2025} / 12 / 15});
  DemoEngine env = OpenDemoEngine(demo.db(), clock);
  EXPECT_TRUE(env.error.empty()) << env.error;
  if (!env.engine) return 0;
  int checked = 0;
  for (const std::string& question : GoldenQuestions()) {
    auto understood = env.engine->Understand(question, nullptr);
    if (!understood) continue;  // follow-ups need their conversation; declines have no SQL
    for (bool inline_literals : {false, true}) {
      const sql::RenderedSql rendered = sql::Render(understood->query, {dialect, inline_literals});
      auto r = guard(rendered.text);
      EXPECT_TRUE(r.has_value()) << question << "\n"
                                 << rendered.text << "\n"
                                 << (r ? "" : r.error().message);
      ++checked;
    }
  }
  return checked;
}

}  // namespace helios::security::testdata
