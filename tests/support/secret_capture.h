// Recording for the suite-wide secrets scan (scripts/scan_secrets.py): the secrets the tests hand
// to the product (JWT secrets, API keys, passwords, the passwords in URLs), and what the product
// wrote back (the output of every child process, the logs and HTTP responses of in-process
// servers that record them). Nothing is recorded unless HELIOS_TEST_CAPTURE_DIR names a
// directory; then, under it:
//   secrets/<pid>.txt           the secrets this process handed over, one a line
//   output/<pid>-<n>-<label>    what was produced: a child's stdout or stderr, a log, responses
//   children/<pid>.txt          one line per child process: whether its output was copied
// The scanner reads the first and looks for every secret in everything else, so a leak anywhere
// in the suite is found even by tests that never look for one.
//
// Header-only, so that test binaries which do not link helios_test_support (tests/server) can
// record too. Thread-safe: every function may be called from any thread; writes are appends of
// whole lines or whole files.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace helios::testing {

// Shorter values are not recorded: one like "pw123" would match ordinary text by chance, and no
// real credential is that short (scripts/scan_secrets.py applies the same bound).
inline constexpr size_t kMinScannedSecretLength = 8;

// The capture directory, or nullopt when capture is off.
inline std::optional<std::filesystem::path> CaptureDir() {
  const char* dir = std::getenv("HELIOS_TEST_CAPTURE_DIR");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  return std::filesystem::path(dir);
}

namespace capture_detail {

// Appends `text` with one write to `file` (created 0600: it may hold secrets).
inline void Append(const std::filesystem::path& file, std::string_view text) {
  std::error_code ignored;
  std::filesystem::create_directories(file.parent_path(), ignored);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n <= 0) break;
    text.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fd);
}

// A label safe in a file name.
inline std::string FileLabel(std::string_view label) {
  std::string out;
  for (char c : label.substr(0, 80)) {
    out +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  }
  return out.empty() ? "unnamed" : out;
}

inline std::string NextOutputName(std::string_view label) {
  static std::atomic<uint64_t> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         FileLabel(label);
}

inline std::string PercentDecoded(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace capture_detail

// The passwords of every URL in `text` ("scheme://user:PASSWORD@host", "redis://:PASSWORD@h"),
// as written and, when it differs, percent-decoded (the form a client library uses).
inline std::vector<std::string> UrlPasswords(std::string_view text) {
  std::vector<std::string> out;
  for (size_t sep = text.find("://"); sep != std::string_view::npos;
       sep = text.find("://", sep + 3)) {
    const size_t begin = sep + 3;
    size_t end = begin;
    while (end < text.size() &&
           std::string_view("/?# \t\r\n\"'<>").find(text[end]) == std::string_view::npos) {
      ++end;
    }
    const std::string_view authority = text.substr(begin, end - begin);
    const size_t at = authority.rfind('@');
    if (at == std::string_view::npos) continue;
    const std::string_view userinfo = authority.substr(0, at);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string password(userinfo.substr(colon + 1));
    if (password.empty()) continue;
    out.push_back(password);
    std::string decoded = capture_detail::PercentDecoded(password);
    if (decoded != password) out.push_back(std::move(decoded));
  }
  return out;
}

// The secrets in one "NAME=value" environment entry: the whole value when the name says it is
// one (JWT_SECRET, *_API_KEY, anything with SECRET, PASSWORD, PASSWD or TOKEN in it), and the
// passwords of any URL in the value.
inline std::vector<std::string> SecretsInEnvironmentEntry(std::string_view entry) {
  const size_t eq = entry.find('=');
  if (eq == std::string_view::npos) return {};
  std::string name(entry.substr(0, eq));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const std::string_view value = entry.substr(eq + 1);
  std::vector<std::string> out;
  const bool named_secret = name.ends_with("API_KEY") || name.find("SECRET") != std::string::npos ||
                            name.find("PASSWORD") != std::string::npos ||
                            name.find("PASSWD") != std::string::npos ||
                            name.find("TOKEN") != std::string::npos;
  if (named_secret && !value.empty()) out.emplace_back(value);
  for (std::string& p : UrlPasswords(value)) out.push_back(std::move(p));
  return out;
}

// Records a secret in `dir`/secrets/<pid>.txt (once per process), when it is long enough and
// fits on a line.
inline void RegisterSecretIn(const std::filesystem::path& dir, std::string_view secret) {
  if (secret.size() < kMinScannedSecretLength ||
      secret.find_first_of("\r\n") != std::string_view::npos) {
    return;
  }
  static std::mutex mu;
  static std::set<std::string, std::less<>> recorded;
  std::lock_guard lock(mu);
  const std::string key = dir.string() + '\n' + std::string(secret);
  if (!recorded.insert(key).second) return;
  capture_detail::Append(dir / "secrets" / (std::to_string(::getpid()) + ".txt"),
                         std::string(secret) + "\n");
}

// Records a secret the test hands to the product some other way than a child's environment or
// arguments (a constant given to an in-process server, a configuration file, a request body).
inline void RegisterSecretForScan(std::string_view secret) {
  if (auto dir = CaptureDir()) RegisterSecretIn(*dir, secret);
}

// Records the passwords of every URL in `text`.
inline void RegisterUrlPasswordsForScan(std::string_view text) {
  if (auto dir = CaptureDir()) {
    for (const std::string& p : UrlPasswords(text)) RegisterSecretIn(*dir, p);
  }
}

// Records the secrets a child process is given: in its arguments, the passwords of URLs; in its
// environment, what SecretsInEnvironmentEntry finds in the entries the test set. Entries
// inherited unchanged from the test's own environment are skipped: they are the developer's
// settings, not the suite's secrets, and are no business of a file in the build directory.
inline void RegisterChildSecrets(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env,
                                 const std::vector<std::string>& inherited) {
  auto dir = CaptureDir();
  if (!dir) return;
  for (const std::string& arg : argv) {
    for (const std::string& p : UrlPasswords(arg)) RegisterSecretIn(*dir, p);
  }
  for (const std::string& entry : env) {
    if (std::find(inherited.begin(), inherited.end(), entry) != inherited.end()) continue;
    for (const std::string& s : SecretsInEnvironmentEntry(entry)) RegisterSecretIn(*dir, s);
  }
}

// Keeps `text` (a log, responses, a process's output) in output/ for the scan.
inline void CaptureText(std::string_view label, std::string_view text) {
  if (auto dir = CaptureDir()) {
    capture_detail::Append(*dir / "output" / capture_detail::NextOutputName(label), text);
  }
}

// Appends `text` to this process's output file for `label` (one file per label and process,
// for things that come one at a time, like HTTP responses).
inline void AppendCapture(std::string_view label, std::string_view text) {
  if (auto dir = CaptureDir()) {
    capture_detail::Append(
        *dir / "output" /
            (std::to_string(::getpid()) + "-" + capture_detail::FileLabel(label) + ".txt"),
        text);
  }
}

// Copies a file into output/; false when it could not be read (it was already removed).
inline bool CaptureFile(const std::filesystem::path& file, std::string_view label) {
  auto dir = CaptureDir();
  if (!dir) return true;
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream content;
  content << in.rdbuf();
  capture_detail::Append(*dir / "output" / capture_detail::NextOutputName(label), content.str());
  return true;
}

// An httplib client logger (client.set_logger(CaptureResponses("label"))) that keeps every
// response's status, headers and body. A template, so that this header needs no httplib.
inline auto CaptureResponses(std::string label) {
  return [label = std::move(label)](const auto& request, const auto& response) {
    if (!CaptureDir()) return;
    std::string text = "<<< " + request.method + " " + request.path + " -> " +
                       std::to_string(response.status) + "\n";
    for (const auto& [name, value] : response.headers) text += name + ": " + value + "\n";
    text += response.body + "\n";
    AppendCapture(label, text);
  };
}

}  // namespace helios::testing
