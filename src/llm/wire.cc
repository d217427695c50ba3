// Shared provider helpers (see wire.h).
#include "llm/wire.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/json_writer.h"
#include "common/text.h"

namespace helios::llm::wire {
namespace {

std::string_view StripTrailingSlashes(std::string_view s) {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The path of a URL ("" for "http://host:8000").
std::string_view UrlPath(std::string_view url) {
  const auto scheme = url.find("://");
  const auto host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto slash = url.find('/', host_start);
  return slash == std::string_view::npos ? std::string_view() : url.substr(slash);
}

}  // namespace

std::string OpenAiChatUrl(std::string_view base) {
  base = StripTrailingSlashes(base);
  if (EndsWith(base, "/chat/completions")) return std::string(base);
  if (UrlPath(base).empty()) return std::string(base) + "/v1/chat/completions";
  return std::string(base) + "/chat/completions";
}

std::string RootJoinedUrl(std::string_view base, std::string_view path) {
  base = StripTrailingSlashes(base);
  if (EndsWith(base, path)) return std::string(base);
  const auto second = path.find('/', 1);
  if (second != std::string_view::npos && EndsWith(base, path.substr(0, second))) {
    return std::string(base) + std::string(path.substr(second));
  }
  return std::string(base) + std::string(path);
}

bool IsHttpUrl(std::string_view url) {
  std::string_view rest;
  if (text::StartsWith(text::ToLower(url.substr(0, 8)), "https://")) {
    rest = url.substr(8);
  } else if (text::StartsWith(text::ToLower(url.substr(0, 7)), "http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  return !rest.empty() && rest.front() != '/' && rest.front() != ':' &&
         rest.find_first_of(" \t\r\n") == std::string_view::npos;
}

std::string UrlHost(std::string_view url) {
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  }
  url = url.substr(0, url.find_first_of("/?#"));
  if (auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  return std::string(url);
}

bool WantsJsonMode(const CompletionRequest& request) {
  if (!request.json_object) return false;
  // Scanned in place: a prompt is kilobytes of schema, and a lower-cased copy of each message
  // cost more than the search.
  auto mentions_json = [](std::string_view text) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    for (size_t i = 0; i + 4 <= text.size(); ++i) {
      if (lower(text[i]) == 'j' && lower(text[i + 1]) == 's' && lower(text[i + 2]) == 'o' &&
          lower(text[i + 3]) == 'n')
        return true;
    }
    return false;
  };
  return std::any_of(request.messages.begin(), request.messages.end(),
                     [&](const Message& m) { return mentions_json(m.content); });
}

std::optional<nlohmann::json> ParseJson(std::string_view body) {
  nlohmann::json parsed = nlohmann::json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

std::string String(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

std::optional<int> Int(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  const double value = it->get<double>();
  if (!std::isfinite(value)) return std::nullopt;
  return static_cast<int>(
      std::clamp(std::round(value), 0.0, static_cast<double>(std::numeric_limits<int>::max())));
}

const nlohmann::json* Object(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

const nlohmann::json* Array(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it != object.end() && it->is_array() ? &*it : nullptr;
}

std::string Shorten(std::string_view input, size_t max_bytes) {
  std::string collapsed;
  collapsed.reserve(std::min(input.size(), max_bytes + 8));
  bool in_space = false;
  for (char c : input) {
    const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v';
    if (space) {
      in_space = !collapsed.empty();
      continue;
    }
    if (in_space) collapsed.push_back(' ');
    in_space = false;
    collapsed.push_back(c);
    if (collapsed.size() > max_bytes + 4) break;  // enough to know it must be cut
  }
  if (collapsed.size() <= max_bytes) return collapsed;
  size_t cut = max_bytes;
  // Back up to the start of a UTF-8 character (continuation bytes are 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(collapsed[cut]) & 0xC0) == 0x80) --cut;
  collapsed.resize(cut);
  while (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  return collapsed + "...";
}

namespace {

// The longest run of characters `a` and `b` have in common (a message's word and a key: short).
size_t LongestCommonRun(std::string_view a, std::string_view b) {
  std::vector<size_t> previous(b.size() + 1, 0), current(b.size() + 1, 0);
  size_t longest = 0;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : 0;
      longest = std::max(longest, current[j]);
    }
    std::swap(previous, current);
  }
  return longest;
}

// Characters a provider masks part of a key with: "sk-ab12****wxyz", "sk-ab12...wxyz".
bool IsMask(char c) { return c == '*' || c == '.' || c == '#'; }

// Whether a word of a message shows part of the secret: 4 or more of its characters in a row
// next to a mask, or 8 or more anywhere.
bool ShowsPartOf(std::string_view word, std::string_view secret) {
  const bool masked = word.find("**") != std::string_view::npos ||
                      word.find("...") != std::string_view::npos ||
                      word.find("\xe2\x80\xa6") != std::string_view::npos;  // "…"
  size_t start = 0;
  while (start < word.size()) {
    while (start < word.size() && IsMask(word[start])) ++start;
    size_t end = start;
    while (end < word.size() && !IsMask(word[end])) ++end;
    const size_t run = LongestCommonRun(word.substr(start, end - start), secret);
    if (run >= 8 || (masked && run >= 4)) return true;
    start = end;
  }
  return false;
}

bool IsWordBreak(char c) {
  return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '\'' || c == '`' || c == ',' ||
         c == ';' || c == ':' || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' ||
         c == '}' || c == '<' || c == '>' || c == '=';
}

}  // namespace

std::string Redact(std::string_view input, std::string_view secret) {
  std::string out(input);
  if (secret.empty()) return out;
  for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
    out.replace(pos, secret.size(), "[redacted]");
    pos += 10;
  }
  // What a provider shows of a key it refused ("Incorrect API key provided: sk-ab12****wxyz")
  // is part of the secret too. Short secrets are matched whole only: their parts are too
  // common to tell.
  // The scan for parts looks at the first kPartScanBytes only: an error page can be megabytes
  // (16 MiB took 2 s here), and no message shows more than a few hundred bytes of what a
  // provider said (every caller shortens it). The whole key is replaced everywhere above.
  if (secret.size() < 12) return out;
  constexpr size_t kPartScanBytes = 64 * 1024;
  const size_t scan_end = std::min(out.size(), kPartScanBytes);
  std::string result;
  result.reserve(out.size());
  size_t i = 0;
  while (i < scan_end) {
    if (IsWordBreak(out[i])) {
      result += out[i++];
      continue;
    }
    size_t end = i;
    while (end < out.size() && !IsWordBreak(out[end])) ++end;
    // A sentence's full stop after the word is not part of it.
    if (end - i > 1 && out[end - 1] == '.' && out[end - 2] != '.') --end;
    std::string_view word(out.data() + i, end - i);
    result += ShowsPartOf(word, secret) ? std::string_view("[redacted]") : word;
    i = end;
  }
  result.append(out, i, std::string::npos);
  return result;
}

namespace {

// Writes a document as nlohmann::json's dump(-1, ' ', false, replace) does (json::Writer's text
// is byte for byte the same), without its character-at-a-time serializer: a request body is
// mostly the prompt's kilobytes of text, which json::Writer copies in runs.
void WriteValue(json::Writer& out, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      out.BeginObject();
      for (const auto& [key, member] : value.items()) {
        out.Key(key);
        WriteValue(out, member);
      }
      out.EndObject();
      return;
    case nlohmann::json::value_t::array:
      out.BeginArray();
      for (const nlohmann::json& item : value) WriteValue(out, item);
      out.EndArray();
      return;
    case nlohmann::json::value_t::string:
      out.String(value.get_ref<const std::string&>());
      return;
    case nlohmann::json::value_t::boolean:
      out.Bool(value.get<bool>());
      return;
    case nlohmann::json::value_t::number_integer:
      out.Int(value.get<int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned:
      out.UInt(value.get<uint64_t>());
      return;
    case nlohmann::json::value_t::number_float:
      out.Double(value.get<double>());
      return;
    case nlohmann::json::value_t::null:
      out.Null();
      return;
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded:
      // Never in a request body; nlohmann's own text for them.
      out.Raw(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return;
  }
}

}  // namespace

std::string Dump(const nlohmann::json& body) {
  std::string text;
  json::Writer out(text);
  WriteValue(out, body);
  return text;
}

}  // namespace helios::llm::wire
