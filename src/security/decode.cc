#include "security/decode.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace helios::security {
namespace {

constexpr int kMaxRounds = 6;
constexpr uint32_t kMaxCodePoint = 0x10FFFF;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsValidCodePoint(uint32_t cp) { return cp <= kMaxCodePoint && (cp < 0xD800 || cp > 0xDFFF); }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp == 0) {
    out += ' ';  // a NUL would cut the text short for C APIs
  } else if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The code point starting at s[i] and its length in bytes; an invalid sequence is one byte
// with no code point.
struct CodePoint {
  std::optional<uint32_t> value;
  size_t length = 1;
};

CodePoint NextCodePoint(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return {b0, 1};
  size_t length = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
  } else {
    return {};
  }
  if (i + length > s.size()) return {};
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[length] || !IsValidCodePoint(cp)) return {};
  return {cp, length};
}

// Reads up to max_digits hex digits at s[i]; returns the value and advances i, or nullopt
// (i unchanged) when fewer than min_digits are there.
std::optional<uint32_t> ReadHex(std::string_view s, size_t& i, size_t min_digits,
                                size_t max_digits) {
  size_t k = i;
  uint32_t value = 0;
  while (k < s.size() && k - i < max_digits && HexValue(s[k]) >= 0) {
    value = value * 16 + static_cast<uint32_t>(HexValue(s[k]));
    ++k;
  }
  if (k - i < min_digits) return std::nullopt;
  i = k;
  return value;
}

// --- URL escapes: %XX and %uXXXX --------------------------------------------------------------

std::string DecodeUrl(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      size_t k = i + 1;
      if (s[k] == 'u' || s[k] == 'U') {
        size_t h = k + 1;
        if (auto cp = ReadHex(s, h, 4, 4); cp && IsValidCodePoint(*cp)) {
          AppendUtf8(out, *cp);
          i = h - 1;
          continue;
        }
      }
      if (auto byte = ReadHex(s, k, 2, 2)) {
        out += *byte == 0 ? ' ' : static_cast<char>(*byte);
        i = k - 1;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// --- HTML entities ------------------------------------------------------------------------------

const std::unordered_map<std::string_view, uint32_t>& NamedEntities() {
  static const std::unordered_map<std::string_view, uint32_t> kEntities = {
      {"quot", '"'},     {"apos", '\''},    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},
      {"semi", ';'},     {"num", '#'},      {"lpar", '('},     {"rpar", ')'},     {"equals", '='},
      {"sol", '/'},      {"bsol", '\\'},    {"ast", '*'},      {"comma", ','},    {"period", '.'},
      {"colon", ':'},    {"excl", '!'},     {"quest", '?'},    {"percnt", '%'},   {"plus", '+'},
      {"verbar", '|'},   {"vert", '|'},     {"lowbar", '_'},   {"commat", '@'},   {"dollar", '$'},
      {"grave", '`'},    {"hyphen", '-'},   {"dash", '-'},     {"minus", '-'},    {"nbsp", ' '},
      {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"Tab", '\t'},
      {"NewLine", '\n'}, {"lsqb", '['},     {"rsqb", ']'},     {"lcub", '{'},     {"rcub", '}'},
      {"Hat", '^'},      {"sbquo", 0x201A}, {"bdquo", 0x201E}, {"prime", 0x2032}};
  return kEntities;
}

std::string DecodeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&' || i + 2 >= s.size()) {
      out += s[i];
      continue;
    }
    size_t k = i + 1;
    if (s[k] == '#') {
      ++k;
      std::optional<uint32_t> cp;
      if (k < s.size() && (s[k] == 'x' || s[k] == 'X')) {
        ++k;
        cp = ReadHex(s, k, 1, 6);
      } else {
        uint32_t value = 0;
        const size_t start = k;
        while (k < s.size() && k - start < 7 && s[k] >= '0' && s[k] <= '9')
          value = value * 10 + static_cast<uint32_t>(s[k++] - '0');
        if (k > start) cp = value;
      }
      if (cp && IsValidCodePoint(*cp)) {
        if (k < s.size() && s[k] == ';') ++k;  // browsers accept numeric entities without ';'
        AppendUtf8(out, *cp);
        i = k - 1;
        continue;
      }
    } else {
      const size_t start = k;
      while (k < s.size() && k - start < 10 && IsAsciiAlnum(s[k])) ++k;
      if (k < s.size() && s[k] == ';') {
        auto it = NamedEntities().find(s.substr(start, k - start));
        if (it == NamedEntities().end()) {
          // Entity names are case-sensitive, but lenient decoders accept &QUOT; and the like.
          std::string lower;
          for (size_t j = start; j < k; ++j) lower += AsciiLower(s[j]);
          it = NamedEntities().find(lower);
        }
        if (it != NamedEntities().end()) {
          AppendUtf8(out, it->second);
          i = k;
          continue;
        }
      }
    }
    out += s[i];
  }
  return out;
}

// --- Backslash escapes: \uXXXX \u{X..} \UXXXXXXXX \xXX -----------------------------------------

std::string DecodeBackslash(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      size_t k = i + 2;
      std::optional<uint32_t> cp;
      switch (s[i + 1]) {
        case 'u':
          if (k < s.size() && s[k] == '{') {
            ++k;
            cp = ReadHex(s, k, 1, 6);
            if (cp && k < s.size() && s[k] == '}')
              ++k;
            else
              cp.reset();
          } else {
            cp = ReadHex(s, k, 4, 4);
          }
          break;
        case 'U':
          cp = ReadHex(s, k, 8, 8);
          break;
        case 'x':
          cp = ReadHex(s, k, 2, 2);
          break;
        case '\\':
          out += "\\\\";  // an escaped backslash starts no escape
          ++i;
          continue;
        default:
          break;
      }
      if (cp && IsValidCodePoint(*cp)) {
        AppendUtf8(out, *cp);
        i = k - 1;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// --- Look-alike Unicode -------------------------------------------------------------------------

// The ASCII character a code point imitates, 0 to drop it, or nullopt to keep it.
std::optional<uint32_t> LookAlike(uint32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) return cp - 0xFF01 + 0x21;  // fullwidth ASCII forms
  static const std::unordered_map<uint32_t, char> kLookAlikes = [] {
    std::unordered_map<uint32_t, char> map;
    const auto add = [&](std::initializer_list<uint32_t> code_points, char ascii) {
      for (uint32_t c : code_points) map[c] = ascii;
    };
    // Zero-width and invisible characters disappear (0).
    add({0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}, '\0');
    add({0x00A0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
         0x2009, 0x200A, 0x202F, 0x205F, 0x3000},
        ' ');
    // Single quotes, primes and accents used as apostrophes; double quotes.
    add({0x00B4, 0x02B9, 0x02BC, 0x02C8, 0x2018, 0x2019, 0x201A, 0x201B, 0x2032, 0x2035, 0xA78C},
        '\'');
    add({0x02BA, 0x201C, 0x201D, 0x201E, 0x201F, 0x2033, 0x2036, 0x3003}, '"');
    // Semicolons (the Greek question mark, the small form), dashes and other operators.
    add({0x037E, 0xFE54}, ';');
    add({0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE58, 0xFE63}, '-');
    add({0x2044, 0x2215}, '/');
    add({0x204E, 0x2217, 0x066D}, '*');
    add({0xFE59}, '(');
    add({0xFE5A}, ')');
    add({0xFE66}, '=');
    add({0xFE60}, '&');
    add({0xFE5F}, '#');
    add({0x2223, 0x01C0}, '|');
    // Cyrillic and Greek letters that look Latin.
    const std::pair<uint32_t, char> kLetters[] = {
        {0x0410, 'A'}, {0x0412, 'B'}, {0x0415, 'E'}, {0x041A, 'K'}, {0x041C, 'M'}, {0x041D, 'H'},
        {0x041E, 'O'}, {0x0420, 'P'}, {0x0421, 'C'}, {0x0422, 'T'}, {0x0425, 'X'}, {0x0430, 'a'},
        {0x0435, 'e'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0443, 'y'}, {0x0445, 'x'},
        {0x0455, 's'}, {0x0456, 'i'}, {0x0458, 'j'}, {0x0405, 'S'}, {0x0406, 'I'}, {0x0408, 'J'},
        {0x04C0, 'I'}, {0x0501, 'd'}, {0x0391, 'A'}, {0x0392, 'B'}, {0x0395, 'E'}, {0x0396, 'Z'},
        {0x0397, 'H'}, {0x0399, 'I'}, {0x039A, 'K'}, {0x039C, 'M'}, {0x039D, 'N'}, {0x039F, 'O'},
        {0x03A1, 'P'}, {0x03A4, 'T'}, {0x03A5, 'Y'}, {0x03A7, 'X'}, {0x03BF, 'o'}};
    for (const auto& [c, ascii] : kLetters) map[c] = ascii;
    return map;
  }();
  auto it = kLookAlikes.find(cp);
  if (it == kLookAlikes.end()) return std::nullopt;
  return static_cast<uint32_t>(static_cast<unsigned char>(it->second));
}

std::string DecodeLookAlikes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const CodePoint cp = NextCodePoint(s, i);
    std::optional<uint32_t> ascii = cp.value ? LookAlike(*cp.value) : std::nullopt;
    if (ascii) {
      if (*ascii != 0) out += static_cast<char>(*ascii);
    } else if (cp.value && *cp.value == 0) {
      out += ' ';
    } else {
      out.append(s.substr(i, cp.length));
    }
    i += cp.length;
  }
  return out;
}

// --- CHAR() chains ------------------------------------------------------------------------------

void SkipSpaces(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
}

bool IsWordByte(char c) {
  return IsAsciiAlnum(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

// Parses CHAR(n[, n...]) / CHR(n) / NCHAR(n) at s[i] (i at the name); appends the characters
// and returns the index after ')', or nullopt.
std::optional<size_t> ParseCharCall(std::string_view s, size_t i, std::string& chars,
                                    size_t& count) {
  if (i > 0 && IsWordByte(s[i - 1])) return std::nullopt;
  size_t k = i;
  std::string name;
  while (k < s.size() && k - i < 5 && IsAsciiAlnum(s[k])) name += AsciiLower(s[k++]);
  if (name != "char" && name != "chr" && name != "nchar") return std::nullopt;
  SkipSpaces(s, k);
  if (k >= s.size() || s[k] != '(') return std::nullopt;
  ++k;
  std::string decoded;
  size_t n = 0;
  while (true) {
    SkipSpaces(s, k);
    uint32_t value = 0;
    if (k + 1 < s.size() && s[k] == '0' && (s[k + 1] == 'x' || s[k + 1] == 'X')) {
      k += 2;
      auto hex = ReadHex(s, k, 1, 6);
      if (!hex) return std::nullopt;
      value = *hex;
    } else {
      const size_t start = k;
      while (k < s.size() && k - start < 7 && s[k] >= '0' && s[k] <= '9')
        value = value * 10 + static_cast<uint32_t>(s[k++] - '0');
      if (k == start) return std::nullopt;
    }
    if (!IsValidCodePoint(value)) return std::nullopt;
    AppendUtf8(decoded, value);
    ++n;
    SkipSpaces(s, k);
    if (k < s.size() && s[k] == ',') {
      ++k;
      continue;
    }
    if (k < s.size() && s[k] == ')') break;
    return std::nullopt;
  }
  chars += decoded;
  count += n;
  return k + 1;
}

// Replaces each chain of CHAR() calls (joined by ||, +, & or ,) with its characters.
std::string DecodeCharCalls(std::string_view s, DecodedText& info) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    std::string chars;
    size_t count = 0;
    auto end = ParseCharCall(s, i, chars, count);
    if (!end) {
      out += s[i++];
      continue;
    }
    size_t chain_end = *end;
    while (true) {
      size_t k = chain_end;
      SkipSpaces(s, k);
      if (k + 1 < s.size() && s[k] == '|' && s[k + 1] == '|') {
        k += 2;
      } else if (k < s.size() && (s[k] == '+' || s[k] == ',' || s[k] == '&')) {
        ++k;
      } else {
        break;
      }
      SkipSpaces(s, k);
      auto next = ParseCharCall(s, k, chars, count);
      if (!next) break;
      chain_end = *next;
    }
    if (count > info.longest_char_chain) {
      info.longest_char_chain = count;
      info.char_chain_text = std::string(s.substr(i, chain_end - i));
    }
    out += chars;
    i = chain_end;
  }
  return out;
}

// --- Hex strings: 0x44524f50 -> DROP -------------------------------------------------------------

std::string DecodeHexStrings(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '0' && i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
        (i == 0 || !IsWordByte(s[i - 1]))) {
      size_t k = i + 2;
      while (k < s.size() && HexValue(s[k]) >= 0) ++k;
      const size_t digits = k - i - 2;
      const bool boundary = k == s.size() || !IsWordByte(s[k]);
      if (boundary && digits >= 4 && digits % 2 == 0) {
        std::string bytes;
        bool printable = true;
        for (size_t d = i + 2; d < k; d += 2) {
          const int byte = HexValue(s[d]) * 16 + HexValue(s[d + 1]);
          if ((byte < 0x20 || byte > 0x7e) && byte != '\t' && byte != '\n' && byte != '\r') {
            printable = false;
            break;
          }
          bytes += static_cast<char>(byte);
        }
        if (printable) {
          out += bytes;
          i = k;
          continue;
        }
      }
    }
    out += s[i++];
  }
  return out;
}

void Note(DecodedText& info, const std::string& before, const std::string& after,
          std::string_view step) {
  if (before == after) return;
  if (std::find(info.steps.begin(), info.steps.end(), step) == info.steps.end())
    info.steps.emplace_back(step);
}

}  // namespace

DecodedText DecodeForScreening(std::string_view text) {
  DecodedText info;
  std::string current(text);
  for (int round = 0; round < kMaxRounds; ++round) {
    const std::string start = current;
    std::string next = DecodeUrl(current);
    Note(info, current, next, "URL escapes");
    current = std::move(next);
    next = DecodeHtml(current);
    Note(info, current, next, "HTML entities");
    current = std::move(next);
    next = DecodeBackslash(current);
    Note(info, current, next, "backslash escapes");
    current = std::move(next);
    next = DecodeLookAlikes(current);
    Note(info, current, next, "look-alike Unicode characters");
    current = std::move(next);
    next = DecodeCharCalls(current, info);
    Note(info, current, next, "CHAR() codes");
    current = std::move(next);
    next = DecodeHexStrings(current);
    Note(info, current, next, "hex strings");
    current = std::move(next);
    if (current == start) break;
  }
  info.text = std::move(current);
  return info;
}

}  // namespace helios::security
