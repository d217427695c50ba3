#include "nl2sql/examples/example.h"

#include <fmt/format.h>

#include "common/text.h"
#include "nl2sql/examples/question_terms.h"

namespace helios::nl2sql::examples {

Result<Example> CheckExample(Example example) {
  example.question = text::Trim(example.question);
  example.sql = text::Trim(example.sql);
  for (const auto& [field, value] :
       {std::pair<std::string_view, const std::string*>{"question", &example.question},
        {"sql", &example.sql},
        {"database", &example.database},
        {"tenant", &example.tenant}}) {
    if (!text::IsValidUtf8(*value)) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("\"{}\" is not valid UTF-8", field));
    }
  }
  if (example.question.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "\"question\" must be a non-empty string");
  }
  if (example.sql.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "\"sql\" must be a non-empty string");
  }
  if (example.question.size() > kMaxQuestionBytes) {
    return Fail(ErrorCode::kPayloadTooLarge,
                fmt::format("\"question\" is longer than {} bytes", kMaxQuestionBytes));
  }
  if (example.sql.size() > kMaxSqlBytes) {
    return Fail(ErrorCode::kPayloadTooLarge,
                fmt::format("\"sql\" is longer than {} bytes", kMaxSqlBytes));
  }
  if (NormalizeQuestion(example.question).empty()) {
    return Fail(ErrorCode::kInvalidArgument, "\"question\" has no words");
  }
  if (example.source != kSourceSeed && example.source != kSourceUser) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("\"source\" must be \"{}\" or \"{}\"", kSourceSeed, kSourceUser));
  }
  return example;
}

}  // namespace helios::nl2sql::examples
