#include "common/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/text.h"

namespace helios::json {

namespace {

// Whether c needs an escape inside a JSON string (as nlohmann::json escapes: quote, backslash
// and the control characters; DEL and non-ASCII bytes are written as they are).
bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void AppendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t plain = 0;  // start of the run not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!NeedsEscape(c)) continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + plain, s.size() - plain);
}

}  // namespace

void AppendString(std::string& out, std::string_view s) {
  bool ascii = true;
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii && !text::IsValidUtf8(s)) {
    // Where bytes are replaced (and how many per bad sequence) is nlohmann's decoder's business;
    // the rare invalid text goes through it so the output stays the same.
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  AppendEscaped(out, s);
  out += '"';
}

void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  // nlohmann::json's own Grisu2 (what its dump() uses), so numbers read the same as before.
  std::array<char, 64> buffer{};
  char* end = nlohmann::detail::to_chars(buffer.data(), buffer.data() + buffer.size(), d);
  out.append(buffer.data(), end);
}

void Writer::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_value_.empty()) {
    if (has_value_.back()) out_ += ',';
    has_value_.back() = true;
  }
}

void Writer::BeginObject() {
  Separate();
  out_ += '{';
  has_value_.push_back(false);
}

void Writer::EndObject() {
  has_value_.pop_back();
  out_ += '}';
}

void Writer::BeginArray() {
  Separate();
  out_ += '[';
  has_value_.push_back(false);
}

void Writer::EndArray() {
  has_value_.pop_back();
  out_ += ']';
}

void Writer::Key(std::string_view key) {
  Separate();
  AppendString(out_, key);
  out_ += ':';
  after_key_ = true;
}

void Writer::String(std::string_view s) {
  Separate();
  AppendString(out_, s);
}

void Writer::Int(int64_t i) {
  Separate();
  std::array<char, 24> buffer{};
  char* end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), i).ptr;
  out_.append(buffer.data(), end);
}

void Writer::UInt(uint64_t u) {
  Separate();
  std::array<char, 24> buffer{};
  char* end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), u).ptr;
  out_.append(buffer.data(), end);
}

void Writer::Double(double d) {
  Separate();
  AppendDouble(out_, d);
}

void Writer::Bool(bool b) {
  Separate();
  out_ += b ? "true" : "false";
}

void Writer::Null() {
  Separate();
  out_ += "null";
}

void Writer::Raw(std::string_view json) {
  Separate();
  out_ += json;
}

void Writer::StringArray(const std::vector<std::string>& items) {
  BeginArray();
  for (const std::string& item : items) String(item);
  EndArray();
}

}  // namespace helios::json
