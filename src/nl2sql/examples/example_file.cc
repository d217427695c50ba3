#include "nl2sql/examples/example_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace helios::nl2sql::examples {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

std::string ErrnoText(int err) { return std::strerror(err); }

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads `count` decimal digits at `pos`; false when any is not a digit.
bool Digits(std::string_view s, size_t pos, size_t count, int& out) {
  if (pos + count > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// One line's object as an Example, or the reason it is not one (without the file:line prefix).
Result<Example> ExampleFromJson(const nlohmann::json& doc, const FileDefaults& defaults) {
  if (!doc.is_object()) return Fail(ErrorCode::kInvalidArgument, "expected a JSON object");
  Example e;
  e.database = defaults.database;
  e.source = defaults.source;
  bool has_question = false, has_sql = false;
  for (const auto& [key, value] : doc.items()) {
    if (!value.is_string()) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("\"{}\" must be a string", key));
    }
    const auto& text = value.get_ref<const std::string&>();
    if (key == "question") {
      e.question = text;
      has_question = true;
    } else if (key == "sql") {
      e.sql = text;
      has_sql = true;
    } else if (key == "database") {
      e.database = text;
    } else if (key == "tenant") {
      e.tenant = text;
    } else if (key == "source") {
      e.source = text;
    } else if (key == "added") {
      auto added = ParseTimestamp(text);
      if (!added) return Fail(ErrorCode::kInvalidArgument, "\"added\": " + added.error().message);
      e.added = *added;
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("unknown key \"{}\" (expected question, sql, database, tenant, "
                              "source, added)",
                              key));
    }
  }
  if (!has_question) return Fail(ErrorCode::kInvalidArgument, "\"question\" is missing");
  if (!has_sql) return Fail(ErrorCode::kInvalidArgument, "\"sql\" is missing");
  auto checked = CheckExample(std::move(e));
  if (!checked) return Fail(ErrorCode::kInvalidArgument, checked.error().message);
  return checked;
}

}  // namespace

Result<std::vector<Example>> ParseExamples(std::string_view text, std::string_view name,
                                           const FileDefaults& defaults) {
  std::vector<Example> out;
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line_number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // BOM
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto fail = [&](std::string_view message) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("{}:{}: {}", name, line_number, message));
    };
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      return fail(fmt::format("not valid JSON (at byte {})", e.byte));
    }
    auto example = ExampleFromJson(doc, defaults);
    if (!example) return fail(example.error().message);
    out.push_back(std::move(*example));
  }
  return out;
}

Result<std::vector<Example>> ReadExamplesFile(const std::string& path,
                                              const FileDefaults& defaults) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    return Fail(ErrorCode::kNotFound, fmt::format("example file {} does not exist", path));
  }
  if (fs::is_directory(status)) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("example file {} is a directory", path));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot read example file {}: {}", path, ErrnoText(errno)));
  }
  return ParseExamples(text.str(), path, defaults);
}

std::string FormatExamples(std::span<const Example> examples) {
  std::string out;
  for (const Example& e : examples) {
    nlohmann::ordered_json line;
    line["question"] = e.question;
    line["sql"] = e.sql;
    line["database"] = e.database;
    line["tenant"] = e.tenant;
    line["source"] = e.source;
    line["added"] = FormatTimestamp(e.added);
    // Invalid UTF-8 cannot reach here through CheckExample; replacing it keeps this total.
    out += line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

Result<void> WriteExamplesFile(const std::string& path, std::span<const Example> examples) {
  const fs::path target(path);
  if (target.filename().empty()) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("example file {} names no file", path));
  }
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::string temp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const std::string text = FormatExamples(examples);

  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot write example file {}: {}", path, ErrnoText(errno)));
  }
  auto fail = [&](int err, std::string_view step) {
    ::unlink(temp.c_str());
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot write example file {}: {}: {}", path, step, ErrnoText(err)));
  };
  if (!WriteAll(fd, text) || ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(err, "writing");
  }
  if (::close(fd) != 0) return fail(errno, "writing");
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail(errno, "replacing");
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    const int err = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("example file {} was replaced but its directory could not be synced: {}", path,
                    ErrnoText(err)));
  }
  ::close(dir_fd);
  return {};
}

std::string FormatTimestamp(system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

Result<system_clock::time_point> ParseTimestamp(std::string_view s) {
  using namespace std::chrono;
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                "expected a UTC time such as \"2025-03-01T12:00:00.250Z\"");
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 20 || !Digits(s, 0, 4, y) || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return bad();
  }
  size_t pos = 19;
  int millis = 0;
  if (s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return bad();
    for (size_t i = digits; i < 3; ++i) millis *= 10;
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return bad();
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return bad();
  return system_clock::time_point(sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} +
                                  milliseconds{millis});
}

}  // namespace helios::nl2sql::examples
