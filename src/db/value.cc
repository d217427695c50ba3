#include "db/value.h"

#include <fmt/format.h>

namespace helios::db {

std::string ToDisplayString(const Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{:.{}g}", d, 15); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const Blob& b) const {
      return fmt::format("<{} bytes>", b.bytes.size());
    }
  };
  return std::visit(Visitor{}, v);
}

}  // namespace helios::db
