// Fuzzes the PostgreSQL allow-list (security::CheckPostgresSelect over libpg_query). The guard
// is a pure function: the same SQL must get the same verdict twice, and a refusal must say why
// with the kUnsafeSql code the server maps to its status.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "fuzz_check.h"
#include "security/sql_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto first = helios::security::CheckPostgresSelect(sql);
  auto second = helios::security::CheckPostgresSelect(sql);
  FUZZ_CHECK(first.has_value() == second.has_value());
  if (!first) {
    if (first.error().code != helios::ErrorCode::kUnsafeSql)
      std::fprintf(stderr, "code %d: %s\n", static_cast<int>(first.error().code),
                   first.error().message.c_str());
    FUZZ_CHECK(first.error().code == helios::ErrorCode::kUnsafeSql);
    FUZZ_CHECK(!first.error().message.empty());
    FUZZ_CHECK(first.error().message == second.error().message);
  }
  return 0;
}
