// The figures of a benchmark run and how they are shown: per question outcomes summed into
// coverage (share answered), precision (share of answered that are correct) and accuracy
// (share of all questions answered correctly), overall, per Spider difficulty class, per
// database and, for multi-turn benchmarks, per interaction; a JSON report and a readable
// summary. Pure functions over values: no I/O.
// Thread-safety: free functions and plain values.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "db/value.h"
#include "eval/benchmark.h"
#include "eval/difficulty.h"

namespace helios::eval {

enum class Outcome {
  kCorrect,    // answered by the engine; the rows equal the gold rows
  kWrong,      // answered by the engine; other rows
  kDeclined,   // the engine declined (not_understood)
  kError,      // any other failure (the answer's SQL failed, the database could not load, ...)
  kGoldError,  // the gold query itself failed: not scored
};

std::string_view OutcomeName(Outcome o);

struct QuestionResult {
  std::string database;
  size_t item = 0;  // index of the item (interaction) in the file
  size_t turn = 0;  // 0-based turn within the item
  std::string question;
  std::string gold_sql;
  Difficulty difficulty = Difficulty::kUnknown;
  Outcome outcome = Outcome::kError;
  std::string predicted_sql;     // when the engine answered
  double confidence = -1;        // the engine's confidence when it answered; -1 otherwise
  bool same_columns = false;     // correct, with exactly the gold's number of columns
  std::vector<double> features;  // the engine's confidence signals (not written to JSON)
  std::string detail;            // the error's message, or how the rows differ
  // The first rows of each result, kept for wrong answers only.
  std::vector<std::string> gold_columns;
  std::vector<db::Row> gold_rows;
  std::vector<std::string> predicted_columns;
  std::vector<db::Row> predicted_rows;
};

struct Figures {
  size_t questions = 0;  // scored (gold errors excluded)
  size_t answered = 0;
  size_t correct = 0;
  size_t declined = 0;
  size_t errors = 0;

  void Add(Outcome o);  // kGoldError is ignored
  // Shares in [0, 1]; 0 when the denominator is 0.
  double coverage() const;
  double precision() const;
  double accuracy() const;
};

struct Report {
  Format format = Format::kSpider;
  size_t items = 0;      // questions (Spider) or interactions (SParC) asked
  size_t databases = 0;  // distinct databases asked about
  size_t gold_errors = 0;
  double seconds = 0;
  Figures overall;
  // The same, counting an answer right only when it also has exactly the gold's number of
  // columns: Spider's published execution accuracy, which does not allow the extra columns
  // (an id beside a name, the ranking measure) the product shows and `overall` accepts.
  Figures overall_same_columns;
  std::map<Difficulty, Figures> by_difficulty;
  std::map<std::string, Figures> by_database;
  // Multi-turn only: an interaction counts as answered when every turn was, correct when every
  // turn was; one with a gold error in any turn is left out.
  std::optional<Figures> interactions;
  std::vector<QuestionResult> results;  // in file order
};

// Sums results (in file order) into a report's figures; `seconds` is left to the caller.
Report Summarize(Format format, std::vector<QuestionResult> results);

// The JSON report: the figures, every wrong answer, every error and every gold error.
nlohmann::ordered_json ReportToJson(const Report& report);

// The readable summary: a table of overall, per difficulty and the `top_databases` databases
// with the most questions, then the first `show_wrong` wrong answers.
std::string SummaryText(const Report& report, size_t top_databases, size_t show_wrong);

}  // namespace helios::eval
