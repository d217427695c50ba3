// Fuzzes the MySQL/MariaDB allow-list (security::CheckMysqlSelect, a lexer plus rules). The
// verdict must be stable, CheckMysqlSelectStatement must agree with it, and the statement it
// returns (what the data source actually sends) must be a prefix of the input that the guard
// accepts on its own: trimming the trailing trivia may not turn safe SQL into unsafe SQL.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "security/mysql_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace helios::security;
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto verdict = CheckMysqlSelect(sql);
  auto statement = CheckMysqlSelectStatement(sql);
  FUZZ_CHECK(verdict.has_value() == statement.has_value());
  if (!verdict) {
    FUZZ_CHECK(verdict.error().code == helios::ErrorCode::kUnsafeSql);
    FUZZ_CHECK(!verdict.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(!statement->empty());
  FUZZ_CHECK(statement->data() == sql.data());
  FUZZ_CHECK(statement->size() <= sql.size());
  auto alone = CheckMysqlSelectStatement(*statement);
  FUZZ_CHECK(alone.has_value());
  FUZZ_CHECK(*alone == *statement);
  return 0;
}
