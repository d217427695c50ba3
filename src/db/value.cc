#include "db/value.h"

#include <fmt/format.h>

#include <cstdlib>

namespace helios::db {

bool IsNumber(const Value& v) {
  return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v) ||
         std::holds_alternative<Decimal>(v);
}

std::optional<double> AsDouble(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* m = std::get_if<Decimal>(&v)) {
    const char* begin = m->digits.c_str();
    char* end = nullptr;
    double parsed = std::strtod(begin, &end);
    if (end == begin) return std::nullopt;
    return parsed;
  }
  return std::nullopt;
}

std::string ToDisplayString(const Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{:.{}g}", d, 15); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const Blob& b) const {
      return fmt::format("<{} bytes>", b.bytes.size());
    }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const Decimal& d) const { return d.digits; }
  };
  return std::visit(Visitor{}, v);
}

}  // namespace helios::db
