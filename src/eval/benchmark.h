// Text-to-SQL benchmark files: single-turn Spider/BIRD form ([{question, query (BIRD: SQL),
// db_id}]) and multi-turn SParC/CoSQL form ([{database_id, interaction: [{utterance, query}],
// final?}]). Both are read into one shape: items of one or more turns on one database.
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace helios::eval {

enum class Format { kAuto, kSpider, kSparc };

std::string_view FormatName(Format f);
// "spider", "sparc" (also "bird", "cosql"), "auto"; kInvalidArgument otherwise.
Result<Format> ParseFormat(std::string_view name);

struct Turn {
  std::string question;
  std::string gold_sql;
};

// One question (Spider) or one interaction (SParC), asked in one session.
struct Item {
  size_t index = 0;  // position in the file, kept when a subset of the items is asked
  std::string database;
  std::vector<Turn> turns;
};

struct Benchmark {
  Format format = Format::kSpider;  // never kAuto once read
  std::vector<Item> items;          // in file order
};

// Parses the text of a benchmark file. kAuto looks at the first element: "interaction" means
// SParC form, "question" Spider form. kInvalidArgument for malformed JSON or a missing field,
// naming the element.
Result<Benchmark> ParseBenchmark(std::string_view text, Format format = Format::kAuto);

// Reads and parses a file; kNotFound when it cannot be read.
Result<Benchmark> ReadBenchmark(const std::string& path, Format format = Format::kAuto);

}  // namespace helios::eval
