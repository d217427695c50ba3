#include "eval/benchmark.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/text.h"

namespace helios::eval {
namespace {

using nlohmann::json;

// The string field `key` (or `alt`) of `object`, or an error naming element `index`.
Result<std::string> Field(const json& object, const char* key, const char* alt, size_t index,
                          std::string_view what) {
  const json* v = nullptr;
  if (object.contains(key)) {
    v = &object[key];
  } else if (alt != nullptr && object.contains(alt)) {
    v = &object[alt];
  }
  if (v == nullptr || !v->is_string())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} {}: \"{}\" is missing or not a string", what, index, key));
  return v->get<std::string>();
}

Result<Item> SpiderItem(const json& e, size_t index) {
  if (!e.is_object())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("element {} is not an object", index));
  Item item;
  auto db = Field(e, "db_id", nullptr, index, "element");
  if (!db) return std::unexpected(db.error());
  auto question = Field(e, "question", nullptr, index, "element");
  if (!question) return std::unexpected(question.error());
  auto sql = Field(e, "query", "SQL", index, "element");
  if (!sql) return std::unexpected(sql.error());
  item.database = std::move(*db);
  item.turns.push_back({std::move(*question), std::move(*sql)});
  return item;
}

Result<Item> SparcItem(const json& e, size_t index) {
  if (!e.is_object())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("element {} is not an object", index));
  Item item;
  auto db = Field(e, "database_id", nullptr, index, "element");
  if (!db) return std::unexpected(db.error());
  item.database = std::move(*db);
  if (!e.contains("interaction") || !e["interaction"].is_array() || e["interaction"].empty())
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("element {}: \"interaction\" is missing or not a non-empty list", index));
  for (const auto& t : e["interaction"]) {
    if (!t.is_object())
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("element {}: a turn is not an object", index));
    auto question = Field(t, "utterance", nullptr, index, "a turn of element");
    if (!question) return std::unexpected(question.error());
    auto sql = Field(t, "query", nullptr, index, "a turn of element");
    if (!sql) return std::unexpected(sql.error());
    item.turns.push_back({std::move(*question), std::move(*sql)});
  }
  return item;
}

}  // namespace

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kAuto:
      return "auto";
    case Format::kSpider:
      return "spider";
    case Format::kSparc:
      return "sparc";
  }
  return "auto";
}

Result<Format> ParseFormat(std::string_view name) {
  const std::string lower = text::ToLower(std::string(name));
  if (lower == "auto") return Format::kAuto;
  if (lower == "spider" || lower == "bird") return Format::kSpider;
  if (lower == "sparc" || lower == "cosql") return Format::kSparc;
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("unknown benchmark format '{}' (spider or sparc)", name));
}

Result<Benchmark> ParseBenchmark(std::string_view text, Format format) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return Fail(ErrorCode::kInvalidArgument, "the benchmark file is not valid JSON");
  if (!doc.is_array())
    return Fail(ErrorCode::kInvalidArgument, "the benchmark file must hold a JSON array");
  Benchmark out;
  if (format == Format::kAuto) {
    if (doc.empty()) return Fail(ErrorCode::kInvalidArgument, "the benchmark file is empty");
    const json& first = doc.front();
    if (first.is_object() && first.contains("interaction")) {
      format = Format::kSparc;
    } else if (first.is_object() && first.contains("question")) {
      format = Format::kSpider;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot tell the benchmark's format: the first element has neither "
                  "\"question\" (Spider) nor \"interaction\" (SParC); pass --format");
    }
  }
  out.format = format;
  out.items.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    auto item = format == Format::kSparc ? SparcItem(doc[i], i) : SpiderItem(doc[i], i);
    if (!item) return std::unexpected(item.error());
    item->index = i;
    out.items.push_back(std::move(*item));
  }
  return out;
}

Result<Benchmark> ReadBenchmark(const std::string& path, Format format) {
  std::error_code ec;
  const std::string name = std::filesystem::path(path).filename().string();
  if (!std::filesystem::is_regular_file(path, ec))
    return Fail(ErrorCode::kNotFound, fmt::format("benchmark file '{}' not found", name));
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof())
    return Fail(ErrorCode::kNotFound, fmt::format("cannot read benchmark file '{}'", name));
  auto parsed = ParseBenchmark(ss.str(), format);
  if (!parsed)
    return Fail(parsed.error().code, fmt::format("{}: {}", name, parsed.error().message));
  return parsed;
}

}  // namespace helios::eval
