#include "observability/logger.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <system_error>
#include <vector>

#include "common/json_writer.h"
#include "common/text.h"

namespace helios::observability {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::atomic<uint64_t> process_dropped_lines{0};

constexpr std::array<std::string_view, 4> kFixedKeys = {"timestamp", "level", "service", "message"};

bool IsFixedKey(std::string_view key) {
  for (std::string_view fixed : kFixedKeys) {
    if (key == fixed) return true;
  }
  return false;
}

std::string FieldKey(const std::string& key) { return IsFixedKey(key) ? "field_" + key : key; }

// A JSON string literal (with quotes) for s; invalid UTF-8 becomes U+FFFD.
std::string JsonQuote(std::string_view s) {
  return OrderedJson(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool HasControlCharacter(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

// Text form of a message: as is, unless it would break the line or is not UTF-8.
std::string TextMessage(std::string_view s) {
  if (HasControlCharacter(s) || !text::IsValidUtf8(s)) return JsonQuote(s);
  return std::string(s);
}

// Text form of a string value: bare when unambiguous, otherwise a JSON string literal.
std::string TextValue(std::string_view s) {
  bool needs_quotes = s.empty() || HasControlCharacter(s) || !text::IsValidUtf8(s) ||
                      s.find_first_of(" \"=\\") != std::string_view::npos;
  return needs_quotes ? JsonQuote(s) : std::string(s);
}

std::string TextFieldValue(const LogField::Value& value) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return TextValue(s); }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
  };
  return std::visit(Visitor{}, value);
}

void WriteJsonField(json::Writer& out, const LogField::Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          out.Double(v);  // JSON has no NaN or infinity: those are null
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out.Int(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.Bool(v);
        } else {
          out.String(v);
        }
      },
      value);
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  std::string lower = text::ToLower(text::Trim(name));
  if (lower == "trace") return LogLevel::kTrace;
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warn" || lower == "warning") return LogLevel::kWarn;
  if (lower == "error") return LogLevel::kError;
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("unknown log level {} (expected trace, debug, info, warn or error)",
                          JsonQuote(name)));
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "TRACE";
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

Result<LogFormat> ParseLogFormat(std::string_view name) {
  std::string lower = text::ToLower(text::Trim(name));
  if (lower == "json") return LogFormat::kJson;
  if (lower == "text") return LogFormat::kText;
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("unknown log format {} (expected json or text)", JsonQuote(name)));
}

std::string FormatTimestamp(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  auto ms = floor<milliseconds>(time);
  auto day = floor<days>(ms);
  year_month_day ymd{day};
  hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

Result<std::unique_ptr<Logger>> Logger::Create(LogLevel level, std::string_view format,
                                               std::string_view output, const Clock& clock) {
  auto parsed_format = ParseLogFormat(format);
  if (!parsed_format) return std::unexpected(parsed_format.error());
  if (output == "stdout") return std::make_unique<Logger>(std::cout, level, *parsed_format, clock);
  if (output == "stderr") return std::make_unique<Logger>(std::cerr, level, *parsed_format, clock);
  if (output.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the log output is empty (expected stdout, stderr or a file path)");
  }
  // O_APPEND: every line lands at the end even when a log rotator truncated the file.
  const int fd =
      ::open(std::string(output).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot open the log output file for appending: {}",
                            std::error_code(err, std::generic_category()).message()));
  }
  return std::unique_ptr<Logger>(new Logger(fd, level, *parsed_format, clock));
}

Logger::Logger(std::ostream& out, LogLevel level, LogFormat format, const Clock& clock,
               std::ostream* notices)
    : out_(&out),
      notices_(notices != nullptr ? notices : &std::cerr),
      level_(level),
      format_(format),
      clock_(clock) {}

Logger::Logger(int fd, LogLevel level, LogFormat format, const Clock& clock)
    : fd_(fd), out_(nullptr), notices_(&std::cerr), level_(level), format_(format), clock_(clock) {}

Logger::~Logger() {
  if (fd_ >= 0) ::close(fd_);
}

void Logger::Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  Log(level, message, std::span<const LogField>(fields.begin(), fields.size()));
}

void Logger::Log(LogLevel level, std::string_view message, std::span<const LogField> fields) {
  if (!Enabled(level)) return;
  std::string line;
  try {
    line = FormatLine(level, message, fields);
  } catch (const std::exception&) {
    // Formatting only throws on allocation failure; a lost log line must not take the caller
    // down with it.
    return;
  }
  line.push_back('\n');
  std::lock_guard lock(mutex_);
  if (failing_) {
    WriteAfterFailureLocked(line);
    return;
  }
  int error = 0;
  if (WriteLocked(line, &error)) return;
  failing_ = true;
  DropLocked();
  NoticeLocked(fmt::format(
      "warning: cannot write the log{}; log lines are dropped (counted in "
      "log_lines_dropped_total) until it can be written again\n",
      error != 0 ? ": " + std::error_code(error, std::generic_category()).message() : ""));
}

void Logger::WriteAfterFailureLocked(const std::string& line) {
  std::string batch;
  try {
    if (Enabled(LogLevel::kWarn)) {
      // Whoever reads the log sees the gap where it happened, not only in the metric.
      const LogField fields[] = {{"dropped_lines", dropped_in_gap_}};
      batch = FormatLine(LogLevel::kWarn, "log lines were dropped: the log could not be written",
                         fields);
      batch.push_back('\n');
    }
    batch += line;
  } catch (const std::exception&) {
    batch = line;
  }
  int error = 0;
  if (!WriteLocked(batch, &error)) {
    DropLocked();
    return;
  }
  NoticeLocked(fmt::format("notice: the log can be written again; {} line(s) were dropped\n",
                           dropped_in_gap_));
  failing_ = false;
  dropped_in_gap_ = 0;
}

bool Logger::WriteLocked(std::string_view data, int* error) {
  *error = 0;
  if (out_ != nullptr) {
    out_->write(data.data(), static_cast<std::streamsize>(data.size()));
    out_->flush();
    if (*out_) return true;
    // Left in its failed state, the stream would ignore every later write.
    out_->clear();
    return false;
  }
  std::string mended;
  if (torn_) {
    // The file ends in part of a line: end it, so that this line stays whole.
    mended.reserve(data.size() + 1);
    mended.push_back('\n');
    mended.append(data);
    data = mended;
  }
  bool wrote_some = false;
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = n < 0 ? errno : EIO;
      torn_ = torn_ || wrote_some;
      return false;
    }
    wrote_some = true;
    data.remove_prefix(static_cast<size_t>(n));
  }
  torn_ = false;
  return true;
}

void Logger::DropLocked() {
  ++dropped_in_gap_;
  dropped_.fetch_add(1, std::memory_order_relaxed);
  process_dropped_lines.fetch_add(1, std::memory_order_relaxed);
}

void Logger::NoticeLocked(std::string_view text) {
  notices_->write(text.data(), static_cast<std::streamsize>(text.size()));
  notices_->flush();
  if (!*notices_) notices_->clear();
}

uint64_t DroppedLogLines() { return process_dropped_lines.load(std::memory_order_relaxed); }

std::string Logger::FormatLine(LogLevel level, std::string_view message,
                               std::span<const LogField> fields) const {
  std::string timestamp = FormatTimestamp(clock_.Now());
  if (format_ == LogFormat::kText) {
    std::string line =
        fmt::format("{} {:<5} {}", timestamp, LogLevelName(level), TextMessage(message));
    for (const LogField& field : fields) {
      line += fmt::format(" {}={}", FieldKey(field.key), TextFieldValue(field.value));
    }
    return line;
  }
  // Written straight out (one line per request: no document built). A key given twice keeps
  // its first place and its last value.
  std::string line;
  line.reserve(256);
  json::Writer out(line);
  out.BeginObject();
  out.Member("timestamp", timestamp);
  out.Member("level", LogLevelName(level));
  out.Member("service", kServiceName);
  out.Member("message", message);
  std::vector<std::string> keys;
  keys.reserve(fields.size());
  for (const LogField& field : fields) keys.push_back(FieldKey(field.key));
  for (size_t i = 0; i < fields.size(); ++i) {
    if (std::find(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(i), keys[i]) !=
        keys.begin() + static_cast<std::ptrdiff_t>(i)) {
      continue;  // written already, with the last value
    }
    size_t last = i;
    for (size_t j = i + 1; j < fields.size(); ++j) {
      if (keys[j] == keys[i]) last = j;
    }
    out.Key(keys[i]);
    WriteJsonField(out, fields[last].value);
  }
  out.EndObject();
  return line;
}

void LogRequest(Logger& logger, const RequestLog& request) {
  LogLevel level = request.status >= 500   ? LogLevel::kError
                   : request.status >= 400 ? LogLevel::kWarn
                                           : LogLevel::kInfo;
  if (!logger.Enabled(level)) return;
  std::vector<LogField> fields;
  fields.reserve(14);
  if (!request.request_id.empty()) fields.emplace_back("request_id", request.request_id);
  if (!request.method.empty()) fields.emplace_back("method", request.method);
  fields.emplace_back("path", request.path);
  fields.emplace_back("status", request.status);
  fields.emplace_back("tenant_id", request.tenant_id);
  fields.emplace_back("session_id", request.session_id);
  fields.emplace_back("query", request.query);
  // Microsecond precision is plenty and keeps the lines short.
  fields.emplace_back("latency_ms", std::round(request.latency_ms * 1000.0) / 1000.0);
  fields.emplace_back("cache_hit", request.cache_hit);
  fields.emplace_back("sql_generated", request.sql_generated);
  if (!request.error_code.empty()) {
    fields.emplace_back("error_code", request.error_code);
  } else {
    if (!request.source.empty()) fields.emplace_back("source", request.source);
    fields.emplace_back("row_count", request.row_count);
    fields.emplace_back("db_ms", std::round(request.database_ms * 1000.0) / 1000.0);
  }
  logger.Log(level, "request", fields);
}

}  // namespace helios::observability
