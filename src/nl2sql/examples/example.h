// An example question with the SQL that answers it, as the LLM prompt shows it (few-shot).
// Examples come from a seed file written for a database, or from a user who marked an answer
// correct.
// Thread-safety: a plain value.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"

namespace helios::nl2sql::examples {

// Values of Example::source.
inline constexpr std::string_view kSourceSeed = "seed";
inline constexpr std::string_view kSourceUser = "user";

struct Example {
  // Every member has an initializer, so callers may name only the fields they set.
  std::string question{};
  std::string sql{};
  std::string database{};                         // the data source the SQL was written for
  std::string tenant{};                           // empty: shared by every tenant
  std::string source = std::string(kSourceUser);  // kSourceSeed or kSourceUser
  // When it joined the store; the zero time point means "now" to ExampleStore::Add.
  std::chrono::system_clock::time_point added{};

  bool operator==(const Example&) const = default;
};

// Longest question and SQL an example may hold: an example is pasted into prompts.
inline constexpr size_t kMaxQuestionBytes = 4096;
inline constexpr size_t kMaxSqlBytes = 65536;

// The example with question and SQL trimmed, or why it cannot be one: kInvalidArgument for an
// empty question or SQL, a question without a word or digit, text that is not UTF-8, or an
// unknown source; kPayloadTooLarge beyond the limits above. Messages name the field.
Result<Example> CheckExample(Example example);

}  // namespace helios::nl2sql::examples
