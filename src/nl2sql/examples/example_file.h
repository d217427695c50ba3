// Example files in JSON Lines: one object per line, blank lines ignored.
//
//   {"question": "Revenue by region", "sql": "SELECT ...", "database": "demo",
//    "tenant": "acme", "source": "user", "added": "2025-03-01T12:00:00.250Z"}
//
// "question" and "sql" are required, non-empty strings. The others are optional strings:
// "database" and "source" default to the caller's FileDefaults, "tenant" to shared (empty),
// "added" (UTC, RFC 3339 with "Z", kept to the millisecond) to the zero time point. Any other
// key is an error, so a misspelt key is reported rather than silently ignored.
// Thread-safety: free functions without shared state; writers of the same path race only in
// which complete file wins.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "nl2sql/examples/example.h"

namespace helios::nl2sql::examples {

struct FileDefaults {
  std::string database;                           // for lines without "database"
  std::string source = std::string(kSourceSeed);  // for lines without "source"
};

// Parses the text of an example file; `name` (usually its path) starts every error message,
// which then names the line: "seed.jsonl:7: \"sql\" must be a non-empty string".
// kInvalidArgument for any malformed line; nothing is returned unless every line is good.
Result<std::vector<Example>> ParseExamples(std::string_view text, std::string_view name,
                                           const FileDefaults& defaults = {});

// Reads and parses the file at `path`. kNotFound when it does not exist, kUnavailable when it
// cannot be read, kInvalidArgument as ParseExamples.
Result<std::vector<Example>> ReadExamplesFile(const std::string& path,
                                              const FileDefaults& defaults = {});

// One line per example, every key written, "added" to the millisecond.
std::string FormatExamples(std::span<const Example> examples);

// Replaces `path` atomically with FormatExamples(examples): the text goes to a temporary file
// in the same directory (mode 0600), which is flushed to disk (fsync) and renamed over `path`;
// the directory is synced so the rename survives a crash. A reader sees the old file or the
// new one, never a part. kUnavailable when any step fails (the temporary file is removed).
Result<void> WriteExamplesFile(const std::string& path, std::span<const Example> examples);

// "2025-03-01T12:00:00.250Z" and back. ParseTimestamp accepts 0 to 9 fraction digits (kept to
// the millisecond) and only the "Z" zone; kInvalidArgument otherwise.
std::string FormatTimestamp(std::chrono::system_clock::time_point t);
Result<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view text);

}  // namespace helios::nl2sql::examples
