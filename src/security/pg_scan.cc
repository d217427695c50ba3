#include "security/pg_scan.h"

#include <pg_query.h>

#include <cstdint>
#include <string>

namespace helios::security {
namespace {

// Protobuf wire types.
constexpr uint64_t kVarint = 0;
constexpr uint64_t kFixed64 = 1;
constexpr uint64_t kLengthDelimited = 2;
constexpr uint64_t kFixed32 = 5;

// A reader over one protobuf message; every read fails (returns false) past the end.
class WireReader {
 public:
  WireReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  bool AtEnd() const { return p_ >= end_; }

  bool Varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      const uint8_t byte = *p_++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

  // Reads a field key; `bytes` is set for length-delimited fields, `value` for varints.
  bool Field(uint64_t& number, uint64_t& wire_type, uint64_t& value, const uint8_t*& bytes) {
    uint64_t key = 0;
    if (!Varint(key)) return false;
    number = key >> 3;
    wire_type = key & 7;
    bytes = nullptr;
    switch (wire_type) {
      case kVarint:
        return Varint(value);
      case kLengthDelimited:
        if (!Varint(value) || value > static_cast<uint64_t>(end_ - p_)) return false;
        bytes = p_;
        p_ += value;
        return true;
      case kFixed64:
        return Skip(8);
      case kFixed32:
        return Skip(4);
      default:
        return false;
    }
  }

 private:
  bool Skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

// ScanToken { int32 start = 1; int32 end = 2; Token token = 4; KeywordKind keyword_kind = 5; }
bool DecodeToken(const uint8_t* data, size_t size, size_t text_size, PgToken& out) {
  WireReader reader(data, size);
  while (!reader.AtEnd()) {
    uint64_t number = 0, wire_type = 0, value = 0;
    const uint8_t* bytes = nullptr;
    if (!reader.Field(number, wire_type, value, bytes)) return false;
    if (wire_type != kVarint) continue;
    switch (number) {
      case 1:
        out.begin = static_cast<size_t>(value);
        break;
      case 2:
        out.end = static_cast<size_t>(value);
        break;
      case 4:
        out.token = static_cast<int>(value);
        break;
      case 5:
        out.keyword_kind = static_cast<int>(value);
        break;
      default:
        break;
    }
  }
  return out.begin <= out.end && out.end <= text_size;
}

}  // namespace

std::optional<std::vector<PgToken>> ScanPostgres(std::string_view sql) {
  const std::string text(sql);  // pg_query_scan reads a NUL-terminated string
  PgQueryScanResult result = pg_query_scan(text.c_str());
  std::optional<std::vector<PgToken>> tokens;
  if (result.error == nullptr) {
    tokens.emplace();
    // ScanResult { int32 version = 1; repeated ScanToken tokens = 2; }
    WireReader reader(reinterpret_cast<const uint8_t*>(result.pbuf.data), result.pbuf.len);
    while (!reader.AtEnd()) {
      uint64_t number = 0, wire_type = 0, value = 0;
      const uint8_t* bytes = nullptr;
      if (!reader.Field(number, wire_type, value, bytes)) {
        tokens.reset();
        break;
      }
      if (number != 2 || wire_type != kLengthDelimited) continue;
      PgToken token;
      if (!DecodeToken(bytes, static_cast<size_t>(value), text.size(), token)) {
        tokens.reset();
        break;
      }
      tokens->push_back(token);
    }
  }
  pg_query_free_scan_result(result);
  return tokens;
}

}  // namespace helios::security
