// A single SQL value as it travels between the database, the query IR and JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace helios::db {

struct Blob {
  std::vector<uint8_t> bytes;
  bool operator==(const Blob&) const = default;
};

// An exact decimal (PostgreSQL NUMERIC, MySQL DECIMAL) kept as the database printed it, e.g.
// "-1234.50", so no digit is lost on the way to JSON.
struct Decimal {
  std::string digits;
  bool operator==(const Decimal&) const = default;
};

// NULL, integer, floating point, text, binary, boolean or exact decimal. Dates and timestamps
// travel as ISO 8601 text ("2024-11-29", "2024-11-29T13:05:00", "...+00:00" with a zone).
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob, bool, Decimal>;

inline bool IsNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// True for integers, floats and decimals.
bool IsNumber(const Value& v);
// The value as a double for integers, floats and decimals (decimals may round); nullopt
// otherwise.
std::optional<double> AsDouble(const Value& v);

// Text for humans (tables in the terminal, explanations). NULL prints as "NULL", booleans as
// true/false, decimals with their exact digits.
std::string ToDisplayString(const Value& v);

using Row = std::vector<Value>;

}  // namespace helios::db
