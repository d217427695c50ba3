#include "common/text.h"

#include <fmt/format.h>

#include <cctype>
#include <random>

namespace helios::text {

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0x0F]);
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> SplitIdentifier(std::string_view id) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(ToLower(cur));
    cur.clear();
  };
  for (size_t i = 0; i < id.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(id[i]);
    if (!std::isalnum(c)) {
      flush();
      continue;
    }
    if (!cur.empty()) {
      unsigned char prev = static_cast<unsigned char>(cur.back());
      bool boundary = false;
      if (std::isupper(c) && std::islower(prev)) boundary = true;
      if (std::isdigit(c) != std::isdigit(prev)) boundary = true;
      // "HTTPCode": split before the last capital of a run followed by a lowercase letter.
      // A plural acronym ("IDs", "URLs") stays one word.
      bool plural_acronym =
          i + 1 < id.size() && id[i + 1] == 's' &&
          (i + 2 == id.size() || !std::islower(static_cast<unsigned char>(id[i + 2])));
      if (std::isupper(c) && std::isupper(prev) && i + 1 < id.size() &&
          std::islower(static_cast<unsigned char>(id[i + 1])) && !plural_acronym)
        boundary = true;
      if (boundary) flush();
    }
    cur.push_back(static_cast<char>(c));
  }
  flush();
  return words;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  size_t start = 0;
  if (size_t sep = out.find("://"); sep != std::string::npos) start = sep + 3;
  const size_t at = out.rfind('@');
  if (at != std::string::npos && at >= start) {
    const size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  const size_t query = out.find('?', start);
  if (query == std::string::npos) return out;
  size_t fragment = out.find('#', query);
  if (fragment == std::string::npos) fragment = out.size();
  std::vector<std::string> params = Split(out.substr(query + 1, fragment - query - 1), '&');
  for (std::string& param : params) {
    size_t eq = param.find('=');
    if (eq == std::string::npos) continue;
    std::string name = ToLower(param.substr(0, eq));
    for (std::string_view word : {"pass", "pwd", "secret", "token", "key"}) {
      if (name.find(word) != std::string::npos) {
        param = param.substr(0, eq + 1) + "***";
        break;
      }
    }
  }
  return out.substr(0, query + 1) + Join(params, "&") + out.substr(fragment);
}

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFFF,
                     b >> 48, b & 0xFFFFFFFFFFFFULL);
}

}  // namespace helios::text
