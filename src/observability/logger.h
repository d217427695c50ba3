// Structured logging: one self-contained line per event, either a JSON object (for log
// shippers) or a readable single-line text form (for a terminal). Every line carries
// `timestamp` (RFC 3339 UTC with milliseconds, from the injected Clock), `level`, `service`
// and `message`, followed by the caller's fields in the order given. Request lines are written
// by LogRequest so that every transport logs the same field names.
//
// A failing output (a full disk, a closed pipe) never stops the caller and never silences the
// logger for good: the line is dropped and counted (dropped_lines(), and process-wide
// DroppedLogLines(), exported as log_lines_dropped_total), and the next line is tried again.
// One notice goes to stderr when writing starts to fail and one when it works again; the first
// line written after the gap is a WARN line saying how many lines were lost (unless the level
// drops WARN lines).
//
// Thread-safety: Logger is thread-safe. A line is formatted outside the lock, then written and
// flushed under one mutex with a single write, so lines from different threads never interleave.
// The level is an atomic read without a lock, so SetLevel may run while other threads log: each
// line is kept or dropped by the level in force when it is logged.
// Ownership: a Logger never owns the Clock; a Logger built over a caller's std::ostream does not
// own the stream (nor the notice stream). They must outlive the Logger.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/clock.h"
#include "common/error.h"

namespace helios::observability {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

// Accepts trace, debug, info, warn (or warning) and error, in any case.
Result<LogLevel> ParseLogLevel(std::string_view name);
// "TRACE", "DEBUG", "INFO", "WARN", "ERROR".
std::string_view LogLevelName(LogLevel level);

enum class LogFormat { kJson, kText };

// Accepts "json" and "text", in any case.
Result<LogFormat> ParseLogFormat(std::string_view name);

// RFC 3339 in UTC with millisecond precision: "2025-11-14T20:00:00.123Z".
std::string FormatTimestamp(std::chrono::system_clock::time_point time);

// One key/value pair of a log line. Integers are stored as int64 (unsigned values above
// INT64_MAX are clamped), so they stay integers in JSON.
struct LogField {
  using Value = std::variant<std::string, int64_t, double, bool>;

  LogField(std::string k, std::string_view v) : key(std::move(k)), value(std::string(v)) {}
  LogField(std::string k, const char* v) : key(std::move(k)), value(std::string(v)) {}
  LogField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  LogField(std::string k, bool v) : key(std::move(k)), value(v) {}
  LogField(std::string k, double v) : key(std::move(k)), value(v) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) LogField(std::string k, T v)
      : key(std::move(k)), value(ToInt64(v)) {}

  std::string key;
  Value value;

 private:
  template <std::integral T>
  static int64_t ToInt64(T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      constexpr auto kMax = static_cast<T>(INT64_MAX);
      return v > kMax ? INT64_MAX : static_cast<int64_t>(v);
    } else {
      return static_cast<int64_t>(v);
    }
  }
};

class Logger {
 public:
  // The service name written in every line.
  static constexpr std::string_view kServiceName = "conversational-bi";

  // output is "stdout", "stderr" or a file path (opened for appending, created if missing, and
  // written with one write(2) per line, so a failed line leaves nothing behind in a buffer).
  // Fails with kInvalidArgument for an unknown format, an empty output or a file that cannot be
  // opened.
  static Result<std::unique_ptr<Logger>> Create(LogLevel level, std::string_view format,
                                                std::string_view output, const Clock& clock);

  // Writes to a stream the caller owns (tests, embedding). After a failed line the stream's
  // error state is cleared; what the stream still holds buffered is up to it. Notices about
  // failing writes go to `notices` (null: std::cerr).
  Logger(std::ostream& out, LogLevel level, LogFormat format, const Clock& clock,
         std::ostream* notices = nullptr);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  LogLevel level() const { return level_.load(std::memory_order_relaxed); }
  bool Enabled(LogLevel level) const { return level >= this->level(); }
  // From the next line on, lines below `level` are dropped (a configuration reload).
  void SetLevel(LogLevel level) { level_.store(level, std::memory_order_relaxed); }

  // Field keys that collide with the fixed keys (timestamp, level, service, message) are
  // written with a "field_" prefix rather than overwrite them. Strings are escaped; invalid
  // UTF-8 is replaced with U+FFFD.
  void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
  void Log(LogLevel level, std::string_view message, std::span<const LogField> fields);

  void Trace(std::string_view message, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kTrace, message, fields);
  }
  void Debug(std::string_view message, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kDebug, message, fields);
  }
  void Info(std::string_view message, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kInfo, message, fields);
  }
  void Warn(std::string_view message, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kWarn, message, fields);
  }
  void Error(std::string_view message, std::initializer_list<LogField> fields = {}) {
    Log(LogLevel::kError, message, fields);
  }

  // Lines this logger could not write since it was built.
  uint64_t dropped_lines() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  // Over a file the logger opened (and closes).
  Logger(int fd, LogLevel level, LogFormat format, const Clock& clock);
  std::string FormatLine(LogLevel level, std::string_view message,
                         std::span<const LogField> fields) const;
  // Writes `data` whole; false (with errno's value in *error, 0 when unknown) when it failed.
  // mutex_ is held.
  bool WriteLocked(std::string_view data, int* error);
  // Writes the line while the output is failing, preceded by the line that reports the gap.
  // mutex_ is held.
  void WriteAfterFailureLocked(const std::string& line);
  void DropLocked();
  void NoticeLocked(std::string_view text);

  const int fd_ = -1;            // the file the logger opened; -1 when writing to *out_
  std::ostream* const out_;      // the caller's stream; null when writing to fd_
  std::ostream* const notices_;  // where the failure and recovery notices go
  // Relaxed: no other state is published through the level.
  std::atomic<LogLevel> level_;
  const LogFormat format_;
  const Clock& clock_;
  std::atomic<uint64_t> dropped_{0};
  std::mutex mutex_;             // guards the output and the fields below
  bool failing_ = false;         // the last write failed
  bool torn_ = false;            // a failed write left part of a line in the file
  uint64_t dropped_in_gap_ = 0;  // lines dropped since the output last worked
};

// Lines that every Logger of this process failed to write: the log_lines_dropped_total metric
// (ServiceMetrics reads it when scraped). Process-wide because the logger is built before, and
// without, the metrics registry.
uint64_t DroppedLogLines();

// What one HTTP (or CLI) request did, for the request log line.
struct RequestLog {
  std::string request_id;  // omitted when empty
  std::string method;      // omitted when empty
  std::string path;
  std::string tenant_id;
  std::string session_id;
  std::string query;
  std::string error_code;  // ErrorCodeName of the failure; empty on success
  std::string source;      // "engine", "llm", "cache"; omitted when empty
  int status = 0;
  double latency_ms = 0;
  double database_ms = 0;  // of latency_ms, the database's; written on success only
  bool cache_hit = false;
  bool sql_generated = false;
  size_t row_count = 0;  // written on success only
};

// Writes the request line: message "request"; fields request_id, method, path, status,
// tenant_id, session_id, query, latency_ms, cache_hit, sql_generated, then error_code on
// failure or source, row_count and db_ms (the database's share of latency_ms) on success. Level
// INFO below 400, WARN for 4xx, ERROR for 5xx.
void LogRequest(Logger& logger, const RequestLog& request);

}  // namespace helios::observability
