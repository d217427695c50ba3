#include "server/query_request.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/text.h"

namespace helios::server {
namespace {

using nlohmann::json;

// The position (in characters, 1-based) and code point of the first control character other
// than tab, LF and CR, covering C0, DEL and C1 controls; 0 when there is none.
struct ControlCharacter {
  size_t position = 0;
  uint32_t code_point = 0;
};

ControlCharacter FindControlCharacter(std::string_view s) {
  size_t position = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    ++position;
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return {position, c};
      ++i;
      continue;
    }
    // U+0080..U+009F are encoded as C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < s.size()) {
      auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return {position, next};
    }
    size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    i += length;
  }
  return {};
}

// Reads an optional string field; null and absent both yield "".
Result<std::string> OptionalString(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("field '{}' must be a string", name));
  }
  return it->get<std::string>();
}

Result<std::string> OptionalId(const json& object, const char* name) {
  auto value = OptionalString(object, name);
  if (!value) return value;
  if (!value->empty() && !IsValidId(*value)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("field '{}' must be at most {} characters of letters, digits, '.', "
                            "'_', ':' and '-'",
                            name, kMaxIdLength));
  }
  return value;
}

}  // namespace

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

size_t CountUtf8Characters(std::string_view text) {
  size_t count = 0;
  for (char c : text) {
    // Count every byte that is not a continuation byte.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

Result<QueryRequest> ParseQueryRequest(std::string_view body, size_t max_query_characters) {
  if (!text::IsValidUtf8(body)) {
    return Fail(ErrorCode::kInvalidArgument, "the request body is not valid UTF-8");
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the request body is not valid JSON (expected an object such as "
                "{\"query\": \"how many customers are there?\"})");
  }
  if (!parsed.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "the request body must be a JSON object");
  }

  QueryRequest request;
  auto query = parsed.find("query");
  if (query == parsed.end() || query->is_null()) {
    return Fail(ErrorCode::kInvalidArgument, "field 'query' is required");
  }
  if (!query->is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "field 'query' must be a string");
  }
  request.query = query->get<std::string>();
  if (text::Trim(request.query).empty()) {
    return Fail(ErrorCode::kInvalidArgument, "field 'query' must not be empty");
  }
  // The body was valid UTF-8 but JSON escapes (\u0000, \u0085) can still carry controls.
  if (ControlCharacter control = FindControlCharacter(request.query); control.position != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("field 'query' contains a control character (U+{:04X}) at character "
                            "{}; only tab, line feed and carriage return are allowed",
                            control.code_point, control.position));
  }
  size_t characters = CountUtf8Characters(request.query);
  if (characters > max_query_characters) {
    return Fail(ErrorCode::kPayloadTooLarge,
                fmt::format("field 'query' is too long: {} characters, the limit is {} "
                            "characters (counted as Unicode characters, not bytes)",
                            characters, max_query_characters));
  }

  auto session_id = OptionalId(parsed, "session_id");
  if (!session_id) return std::unexpected(session_id.error());
  request.session_id = std::move(*session_id);
  auto database = OptionalId(parsed, "database");
  if (!database) return std::unexpected(database.error());
  request.database = std::move(*database);
  return request;
}

}  // namespace helios::server
