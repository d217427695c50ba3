// Fuzzes the built-in engine on the demo schema. The input is one question, or a question and a
// follow-up separated by a newline (the follow-up edits the first answer's query, as in a
// conversation). Every question the engine answers must yield SQL that the data sources' guards
// accept in each dialect (SQLite also prepares it against the real schema, so an unknown column
// or a malformed query fails here), and answering must not depend on anything but the question.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "demo_index.h"
#include "fuzz_check.h"
#include "nl2sql/engine/engine.h"
#include "security/mysql_guard.h"
#include "security/sql_guard.h"
#include "sql/render.h"

namespace {

using helios::nl2sql::engine::Engine;
using helios::nl2sql::engine::Understanding;

// Questions longer than this are refused by the server before they reach the engine.
constexpr size_t kMaxQuestionBytes = 2000;

const Engine& TheEngine() {
  static const Engine* engine = new Engine(helios::fuzz::Demo().index, helios::fuzz::Demo().clock);
  return *engine;
}

void CheckAnswer(const Understanding& answer) {
  FUZZ_CHECK(answer.confidence >= 0 && answer.confidence <= 1);
  using helios::db::Dialect;
  const auto sqlite = helios::sql::Render(answer.query, {Dialect::kSqlite, false});
  auto checked = helios::fuzz::Demo().source->Check(sqlite.text);
  if (!checked)
    std::fprintf(stderr, "SQLite refused: %s\n%s\n", checked.error().message.c_str(),
                 sqlite.text.c_str());
  FUZZ_CHECK(checked.has_value());
  const auto postgres = helios::sql::Render(answer.query, {Dialect::kPostgres, false});
  auto pg = helios::security::CheckPostgresSelect(postgres.text);
  if (!pg)
    std::fprintf(stderr, "PostgreSQL guard refused: %s\n%s\n", pg.error().message.c_str(),
                 postgres.text.c_str());
  FUZZ_CHECK(pg.has_value());
  const auto mysql = helios::sql::Render(answer.query, {Dialect::kMysql, false});
  auto my = helios::security::CheckMysqlSelect(mysql.text);
  if (!my)
    std::fprintf(stderr, "MySQL guard refused: %s\n%s\n", my.error().message.c_str(),
                 mysql.text.c_str());
  FUZZ_CHECK(my.has_value());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  TheEngine();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxQuestionBytes) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view question = input.substr(0, newline);
  const Engine& engine = TheEngine();

  auto first = engine.Understand(question, nullptr);
  if (!first) {
    FUZZ_CHECK(!first.error().message.empty());
    return 0;
  }
  CheckAnswer(*first);
  auto again = engine.Understand(question, nullptr);
  FUZZ_CHECK(again.has_value());
  using helios::db::Dialect;
  FUZZ_CHECK(helios::sql::Render(again->query, {Dialect::kSqlite, false}).text ==
             helios::sql::Render(first->query, {Dialect::kSqlite, false}).text);

  if (newline == std::string_view::npos) return 0;
  auto follow_up = engine.Understand(input.substr(newline + 1), &first->query);
  if (follow_up) CheckAnswer(*follow_up);
  return 0;
}
