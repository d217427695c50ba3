// A single SQL value as it travels between the database, the query IR and JSON.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace helios::db {

struct Blob {
  std::vector<uint8_t> bytes;
  bool operator==(const Blob&) const = default;
};

// NULL, integer, floating point, text, or binary.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

inline bool IsNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// Text for humans (tables in the terminal, explanations). NULL prints as "NULL".
std::string ToDisplayString(const Value& v);

using Row = std::vector<Value>;

}  // namespace helios::db
