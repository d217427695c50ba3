#include "nl2sql/prompt/linking_recall.h"

#include <algorithm>

#include "common/text.h"

namespace helios::nl2sql::prompt {

double LinkingOutcome::SizeRatio() const {
  return full_tokens == 0 ? 0.0
                          : static_cast<double>(linked_tokens) / static_cast<double>(full_tokens);
}

LinkingOutcome CompareLinking(const LinkedSchema& linked, const SqlReferences& gold) {
  LinkingOutcome out;
  out.gold_tables = gold.tables.size();
  out.gold_columns = gold.columns.size();
  auto find_table = [&](std::string_view name) -> const LinkedTable* {
    for (const auto& t : linked.tables)
      if (text::EqualsIgnoreCase(t.name, name)) return &t;
    return nullptr;
  };
  for (const auto& name : gold.tables)
    if (!find_table(name)) out.missing_tables.push_back(name);
  for (const auto& c : gold.columns) {
    const LinkedTable* t = find_table(c.table);
    const bool shown =
        t && std::any_of(t->columns.begin(), t->columns.end(), [&](const LinkedColumn& lc) {
          return text::EqualsIgnoreCase(lc.name, c.column);
        });
    if (!shown) out.missing_columns.push_back(c);
  }
  out.linked_tokens = ApproxTokens(RenderSchema(linked));
  return out;
}

LinkingOutcome MeasureLinking(const SchemaLinker& linker, std::string_view question,
                              std::string_view gold_sql, const LinkOptions& options) {
  const db::SchemaCatalog& catalog = linker.index().catalog();
  const LinkedSchema linked = linker.Link(question, {}, options);
  LinkingOutcome out = CompareLinking(linked, ExtractReferences(gold_sql, catalog));
  SchemaRenderOptions render;
  render.dialect = options.dialect;
  out.linked_tokens = ApproxTokens(RenderSchema(linked, render));
  out.full_tokens = ApproxTokens(RenderSchema(WholeSchema(catalog), render));
  return out;
}

void RecallTally::Add(const LinkingOutcome& outcome, bool count_size) {
  ++questions;
  if (outcome.TablesCovered()) ++tables_covered;
  if (outcome.ColumnsCovered()) ++columns_covered;
  if (count_size) {
    ++sized;
    ratio_sum += outcome.SizeRatio();
    worst_ratio = std::max(worst_ratio, outcome.SizeRatio());
  }
}

void RecallTally::Merge(const RecallTally& other) {
  questions += other.questions;
  tables_covered += other.tables_covered;
  columns_covered += other.columns_covered;
  sized += other.sized;
  ratio_sum += other.ratio_sum;
  worst_ratio = std::max(worst_ratio, other.worst_ratio);
}

double RecallTally::TableRecall() const {
  return questions == 0 ? 0.0
                        : static_cast<double>(tables_covered) / static_cast<double>(questions);
}

double RecallTally::ColumnRecall() const {
  return questions == 0 ? 0.0
                        : static_cast<double>(columns_covered) / static_cast<double>(questions);
}

double RecallTally::MeanRatio() const {
  return sized == 0 ? 0.0 : ratio_sum / static_cast<double>(sized);
}

}  // namespace helios::nl2sql::prompt
