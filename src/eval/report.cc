#include "eval/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/text.h"
#include "nl2sql/engine/confidence.h"

namespace helios::eval {
namespace {

using nlohmann::ordered_json;

double Share(size_t part, size_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

ordered_json FiguresJson(const Figures& f) {
  return ordered_json{{"questions", f.questions},   {"answered", f.answered},
                      {"correct", f.correct},       {"declined", f.declined},
                      {"errors", f.errors},         {"coverage", f.coverage()},
                      {"precision", f.precision()}, {"accuracy", f.accuracy()}};
}

ordered_json ValueJson(const db::Value& v) {
  if (db::IsNull(v)) return nullptr;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return db::ToDisplayString(v);
}

ordered_json RowsJson(const std::vector<db::Row>& rows) {
  ordered_json out = ordered_json::array();
  for (const auto& r : rows) {
    ordered_json row = ordered_json::array();
    for (const auto& v : r) row.push_back(ValueJson(v));
    out.push_back(std::move(row));
  }
  return out;
}

ordered_json ResultJson(const QuestionResult& r) {
  ordered_json j{{"database", r.database},
                 {"item", r.item},
                 {"turn", r.turn},
                 {"question", r.question},
                 {"difficulty", DifficultyName(r.difficulty)},
                 {"outcome", OutcomeName(r.outcome)},
                 {"gold_sql", r.gold_sql}};
  if (!r.predicted_sql.empty()) j["predicted_sql"] = r.predicted_sql;
  if (r.confidence >= 0) j["confidence"] = r.confidence;
  if (!r.detail.empty()) j["detail"] = r.detail;
  if (r.outcome == Outcome::kWrong) {
    j["gold"] = {{"columns", r.gold_columns}, {"rows", RowsJson(r.gold_rows)}};
    j["predicted"] = {{"columns", r.predicted_columns}, {"rows", RowsJson(r.predicted_rows)}};
  }
  return j;
}

std::string RowsText(const std::vector<std::string>& columns, const std::vector<db::Row>& rows) {
  if (rows.empty()) return fmt::format("({}) no rows", text::Join(columns, ", "));
  std::vector<std::string> shown;
  for (const auto& r : rows) {
    std::vector<std::string> cells;
    for (const auto& v : r) cells.push_back(db::ToDisplayString(v));
    shown.push_back("(" + text::Join(cells, ", ") + ")");
  }
  return fmt::format("({}) {}", text::Join(columns, ", "), text::Join(shown, " "));
}

std::string Line(std::string_view name, const Figures& f) {
  return fmt::format("{:<32} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}\n", name, f.questions, f.answered,
                     f.correct, fmt::format("{:.1f}%", 100 * f.coverage()),
                     fmt::format("{:.1f}%", 100 * f.precision()),
                     fmt::format("{:.1f}%", 100 * f.accuracy()));
}

}  // namespace

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kCorrect:
      return "correct";
    case Outcome::kWrong:
      return "wrong";
    case Outcome::kDeclined:
      return "declined";
    case Outcome::kError:
      return "error";
    case Outcome::kGoldError:
      return "gold_error";
  }
  return "error";
}

void Figures::Add(Outcome o) {
  if (o == Outcome::kGoldError) return;
  ++questions;
  switch (o) {
    case Outcome::kCorrect:
      ++answered;
      ++correct;
      break;
    case Outcome::kWrong:
      ++answered;
      break;
    case Outcome::kDeclined:
      ++declined;
      break;
    default:
      ++errors;
      break;
  }
}

double Figures::coverage() const { return Share(answered, questions); }
double Figures::precision() const { return Share(correct, answered); }
double Figures::accuracy() const { return Share(correct, questions); }

Report Summarize(Format format, std::vector<QuestionResult> results) {
  Report report;
  report.format = format;
  std::set<std::string> databases;
  std::set<size_t> items;
  for (const auto& r : results) {
    databases.insert(r.database);
    items.insert(r.item);
    if (r.outcome == Outcome::kGoldError) {
      ++report.gold_errors;
      continue;
    }
    report.overall.Add(r.outcome);
    report.overall_same_columns.Add(
        r.outcome == Outcome::kCorrect && !r.same_columns ? Outcome::kWrong : r.outcome);
    report.by_difficulty[r.difficulty].Add(r.outcome);
    report.by_database[r.database].Add(r.outcome);
  }
  report.items = items.size();
  report.databases = databases.size();
  if (format == Format::kSparc) {
    Figures interactions;
    // Results are in file order, so one item's turns are adjacent.
    for (size_t i = 0; i < results.size();) {
      size_t end = i;
      bool gold_error = false, all_answered = true, all_correct = true, any_declined = false;
      while (end < results.size() && results[end].item == results[i].item) {
        const Outcome o = results[end].outcome;
        gold_error |= o == Outcome::kGoldError;
        all_answered &= o == Outcome::kCorrect || o == Outcome::kWrong;
        all_correct &= o == Outcome::kCorrect;
        any_declined |= o == Outcome::kDeclined;
        ++end;
      }
      if (!gold_error) {
        interactions.Add(all_correct    ? Outcome::kCorrect
                         : all_answered ? Outcome::kWrong
                         : any_declined ? Outcome::kDeclined
                                        : Outcome::kError);
      }
      i = end;
    }
    report.interactions = interactions;
  }
  report.results = std::move(results);
  return report;
}

ordered_json ReportToJson(const Report& report) {
  ordered_json j;
  j["format"] = FormatName(report.format);
  j["items"] = report.items;
  j["databases"] = report.databases;
  j["seconds"] = report.seconds;
  j["gold_errors"] = report.gold_errors;
  j["overall"] = FiguresJson(report.overall);
  j["overall_same_columns"] = FiguresJson(report.overall_same_columns);
  if (report.interactions) j["interactions"] = FiguresJson(*report.interactions);
  ordered_json by_difficulty = ordered_json::object();
  for (const auto& [d, f] : report.by_difficulty)
    by_difficulty[std::string(DifficultyName(d))] = FiguresJson(f);
  j["by_difficulty"] = std::move(by_difficulty);
  ordered_json by_database = ordered_json::object();
  for (const auto& [name, f] : report.by_database) by_database[name] = FiguresJson(f);
  j["by_database"] = std::move(by_database);
  // Every question's outcome, compactly, for analysis (calibration curves, comparisons).
  ordered_json questions = ordered_json::array();
  for (const auto& r : report.results) {
    ordered_json q{{"database", r.database},
                   {"item", r.item},
                   {"turn", r.turn},
                   {"difficulty", DifficultyName(r.difficulty)},
                   {"outcome", OutcomeName(r.outcome)}};
    if (r.confidence >= 0) q["confidence"] = r.confidence;
    // The signals the confidence was computed from, by name (the ones that are not zero).
    const auto names = nl2sql::engine::ConfidenceFeatureNames();
    if (r.features.size() == names.size()) {
      ordered_json signals = ordered_json::object();
      for (size_t i = 0; i < names.size(); ++i)
        if (r.features[i] != 0) signals[std::string(names[i])] = r.features[i];
      q["signals"] = std::move(signals);
    }
    if (r.outcome == Outcome::kDeclined && !r.detail.empty()) q["declined_because"] = r.detail;
    questions.push_back(std::move(q));
  }
  j["questions"] = std::move(questions);
  ordered_json wrong = ordered_json::array(), errors = ordered_json::array(),
               gold_errors = ordered_json::array();
  for (const auto& r : report.results) {
    if (r.outcome == Outcome::kWrong) wrong.push_back(ResultJson(r));
    if (r.outcome == Outcome::kError) errors.push_back(ResultJson(r));
    if (r.outcome == Outcome::kGoldError) gold_errors.push_back(ResultJson(r));
  }
  j["wrong"] = std::move(wrong);
  j["errors"] = std::move(errors);
  j["gold_error_list"] = std::move(gold_errors);
  return j;
}

std::string SummaryText(const Report& report, size_t top_databases, size_t show_wrong) {
  std::string out = fmt::format(
      "{} benchmark: {} {} on {} database{} in {:.1f} s; {} gold quer{} failed and {} not "
      "scored\n\n",
      FormatName(report.format), report.items,
      report.format == Format::kSparc ? "interactions" : "questions", report.databases,
      report.databases == 1 ? "" : "s", report.seconds, report.gold_errors,
      report.gold_errors == 1 ? "y" : "ies", report.gold_errors == 1 ? "is" : "are");
  out += fmt::format("{:<32} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}\n", "", "questions", "answered",
                     "correct", "coverage", "precision", "accuracy");
  out += Line("overall", report.overall);
  out += Line("  with the gold's columns only", report.overall_same_columns);
  if (report.interactions) out += Line("interactions", *report.interactions);
  for (const auto& [d, f] : report.by_difficulty)
    out += Line(fmt::format("difficulty {}", DifficultyName(d)), f);
  std::vector<std::pair<std::string, Figures>> dbs(report.by_database.begin(),
                                                   report.by_database.end());
  std::stable_sort(dbs.begin(), dbs.end(), [](const auto& a, const auto& b) {
    return a.second.questions > b.second.questions;
  });
  if (dbs.size() > top_databases) dbs.resize(top_databases);
  for (const auto& [name, f] : dbs) out += Line(fmt::format("db {}", name), f);
  if (report.by_database.size() > dbs.size())
    out += fmt::format("({} more databases in the JSON report)\n",
                       report.by_database.size() - dbs.size());
  out += fmt::format("\ndeclined {}, errors {}\n", report.overall.declined, report.overall.errors);

  size_t errors_shown = 0;
  for (const auto& r : report.results) {
    if (r.outcome != Outcome::kError || errors_shown >= show_wrong) continue;
    if (errors_shown++ == 0) out += "\nErrors:\n";
    out += fmt::format("  [{}] {}: {}\n", r.database, r.question, r.detail);
  }

  size_t shown = 0, wrong = 0;
  for (const auto& r : report.results) {
    if (r.outcome != Outcome::kWrong) continue;
    ++wrong;
    if (shown >= show_wrong) continue;
    if (shown == 0) out += "\nWrong answers:\n";
    ++shown;
    out += fmt::format(
        "\n[{}] {}\n  gold:      {}\n  predicted: {}\n  gold rows:      {}\n  predicted rows: "
        "{}\n",
        r.database, r.question, r.gold_sql, r.predicted_sql, RowsText(r.gold_columns, r.gold_rows),
        RowsText(r.predicted_columns, r.predicted_rows));
  }
  if (wrong > shown)
    out += fmt::format("\n({} more wrong answer{} in the JSON report)\n", wrong - shown,
                       wrong - shown == 1 ? "" : "s");
  return out;
}

}  // namespace helios::eval
