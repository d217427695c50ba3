// Measuring schema linking against known-good SQL: does the linked schema hold every table and
// column the gold query uses, and how large is it next to the whole schema? Used by the recall
// test over Spider (tests/prompt/linking_recall_test.cc) and reusable for any question set with
// gold SQL, such as a deployment's own golden cases.
//
// "Holds a column" means the linked schema shows that column of that table. A gold `*` needs
// no column; gold names that resolve to nothing in the catalog are not counted (see
// sql_references.h).
//
// Thread-safety: pure functions over immutable inputs; a RecallTally is a plain value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nl2sql/prompt/linked_schema.h"
#include "nl2sql/prompt/schema_linker.h"
#include "nl2sql/prompt/sql_references.h"

namespace helios::nl2sql::prompt {

struct LinkingOutcome {
  size_t gold_tables = 0;
  size_t gold_columns = 0;
  std::vector<std::string> missing_tables;
  std::vector<ColumnName> missing_columns;
  size_t linked_tokens = 0;  // ApproxTokens of the linked schema's rendering
  size_t full_tokens = 0;    // ApproxTokens of the whole schema's rendering

  bool TablesCovered() const { return missing_tables.empty(); }
  bool ColumnsCovered() const { return missing_columns.empty(); }
  // linked_tokens / full_tokens; 0 when the schema is empty.
  double SizeRatio() const;
};

// Compares a linked schema with the references of a gold query.
LinkingOutcome CompareLinking(const LinkedSchema& linked, const SqlReferences& gold);

// Links `question` with `linker` and compares the result with `gold_sql`, sizes included.
LinkingOutcome MeasureLinking(const SchemaLinker& linker, std::string_view question,
                              std::string_view gold_sql, const LinkOptions& options = {});

// Sums of outcomes, for a report.
struct RecallTally {
  size_t questions = 0;
  size_t tables_covered = 0;
  size_t columns_covered = 0;
  // Size ratios, over the questions added with `count_size`.
  size_t sized = 0;
  double ratio_sum = 0;
  double worst_ratio = 0;

  void Add(const LinkingOutcome& outcome, bool count_size);
  void Merge(const RecallTally& other);
  double TableRecall() const;   // share of questions with every gold table linked
  double ColumnRecall() const;  // share of questions with every gold column linked
  double MeanRatio() const;
};

}  // namespace helios::nl2sql::prompt
