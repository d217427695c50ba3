// JSON written straight into a string, for the hot paths (an answer's rows, the chart's data,
// the request log): no document is built. The text is byte for byte what nlohmann::json's
// dump() writes for the same values (compact, UTF-8 kept, invalid UTF-8 replaced by U+FFFD,
// NaN and infinities as null), so callers can move between the two without changing output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace helios::json {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // The member name; the next value written is its value.
  void Key(std::string_view key);

  void String(std::string_view s);
  void Int(int64_t i);
  void UInt(uint64_t u);
  // null when not finite (JSON has no NaN or infinity).
  void Double(double d);
  void Bool(bool b);
  void Null();
  // Text that is already one JSON value, written as it is.
  void Raw(std::string_view json);

  // Convenience: Key then the value.
  void Member(std::string_view key, std::string_view s) {
    Key(key);
    String(s);
  }
  void StringArray(const std::vector<std::string>& items);

 private:
  // A comma before every value but the first of its array or object, and none after a key.
  void Separate();

  std::string& out_;
  // Per open array/object: whether a value has been written in it yet.
  std::vector<bool> has_value_;
  bool after_key_ = false;
};

// s as a JSON string literal (quotes included), appended to out.
void AppendString(std::string& out, std::string_view s);
// d as nlohmann::json writes it (shortest text that reads back the same double; "1.0" rather
// than "1"), or null when not finite.
void AppendDouble(std::string& out, double d);

}  // namespace helios::json
