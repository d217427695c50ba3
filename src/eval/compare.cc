#include "eval/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "common/text.h"

namespace helios::eval {
namespace {

int Rank(const db::Value& v) {
  if (db::IsNull(v)) return 0;
  // Booleans compare as 1 and 0: SQLite stores them so, and results from different databases
  // are compared with each other.
  if (db::IsNumber(v) || std::holds_alternative<bool>(v)) return 1;
  if (std::holds_alternative<std::string>(v)) return 2;
  return 3;
}

double NumberOf(const db::Value& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  return db::AsDouble(v).value_or(0);
}

bool Equal(const db::Value& a, const db::Value& b) {
  if (Rank(a) != Rank(b)) return false;
  switch (Rank(a)) {
    case 0:
      return true;
    case 1: {
      double x = NumberOf(a), y = NumberOf(b);
      return std::fabs(x - y) <= 1e-6 * std::max({1.0, std::fabs(x), std::fabs(y)});
    }
    case 2:
      return std::get<std::string>(a) == std::get<std::string>(b);
    default:
      return a == b;
  }
}

bool Less(const db::Value& a, const db::Value& b) {
  if (Rank(a) != Rank(b)) return Rank(a) < Rank(b);
  switch (Rank(a)) {
    case 0:
      return false;
    case 1:
      return NumberOf(a) < NumberOf(b) && !Equal(a, b);
    case 2:
      return std::get<std::string>(a) < std::get<std::string>(b);
    default:
      return db::ToDisplayString(a) < db::ToDisplayString(b);
  }
}

bool RowLess(const db::Row& a, const db::Row& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (Less(a[i], b[i])) return true;
    if (Less(b[i], a[i])) return false;
  }
  return a.size() < b.size();
}

bool RowsEqual(const std::vector<db::Row>& a, const std::vector<db::Row>& b) {
  if (a.size() != b.size()) return false;
  for (size_t r = 0; r < a.size(); ++r) {
    if (a[r].size() != b[r].size()) return false;
    for (size_t c = 0; c < a[r].size(); ++c)
      if (!Equal(a[r][c], b[r][c])) return false;
  }
  return true;
}

std::vector<db::Value> Column(const std::vector<db::Row>& rows, size_t c) {
  std::vector<db::Value> out;
  for (const auto& r : rows) out.push_back(c < r.size() ? r[c] : db::Value{});
  return out;
}

std::vector<db::Row> Project(const std::vector<db::Row>& rows, const std::vector<size_t>& cols) {
  std::vector<db::Row> out;
  for (const auto& r : rows) {
    db::Row p;
    for (size_t c : cols) p.push_back(c < r.size() ? r[c] : db::Value{});
    out.push_back(std::move(p));
  }
  return out;
}

std::string Preview(const std::vector<db::Row>& rows) {
  std::string s;
  for (size_t r = 0; r < rows.size() && r < 3; ++r) {
    std::vector<std::string> cells;
    for (const auto& v : rows[r]) cells.push_back(db::ToDisplayString(v));
    s += "(" + text::Join(cells, ", ") + ") ";
  }
  return s;
}

}  // namespace

bool HasOrderBy(const std::string& sql) {
  std::string lower = text::ToLower(sql);
  // Ignore ORDER BY inside parentheses (subqueries, window functions).
  int depth = 0;
  for (size_t i = 0; i + 8 <= lower.size(); ++i) {
    if (lower[i] == '(') ++depth;
    if (lower[i] == ')') --depth;
    if (depth == 0 && lower.compare(i, 8, "order by") == 0) return true;
  }
  return false;
}

std::string CompareResults(const ResultTable& gold, const ResultTable& got, bool ordered) {
  if (gold.rows.size() != got.rows.size())
    return fmt::format("expected {} rows, got {}; expected {}; got {}", gold.rows.size(),
                       got.rows.size(), Preview(gold.rows), Preview(got.rows));
  size_t gc = gold.columns.size();
  // Candidate answer columns for each gold column: same values as a multiset.
  std::vector<std::vector<size_t>> candidates(gc);
  for (size_t g = 0; g < gc; ++g) {
    auto gv = Column(gold.rows, g);
    std::sort(gv.begin(), gv.end(), Less);
    for (size_t c = 0; c < got.columns.size(); ++c) {
      auto cv = Column(got.rows, c);
      std::sort(cv.begin(), cv.end(), Less);
      bool same = gv.size() == cv.size();
      for (size_t i = 0; same && i < gv.size(); ++i) same = Equal(gv[i], cv[i]);
      if (same) candidates[g].push_back(c);
    }
    if (candidates[g].empty())
      return fmt::format(
          "no column of the answer ({}) holds the values of gold column '{}'; "
          "expected {}; got {}",
          text::Join(got.columns, ", "), gold.columns[g], Preview(gold.rows), Preview(got.rows));
  }
  std::vector<db::Row> want = gold.rows;
  if (!ordered) std::sort(want.begin(), want.end(), RowLess);
  std::vector<size_t> chosen;
  std::function<bool(size_t)> search = [&](size_t g) {
    if (g == gc) {
      auto rows = Project(got.rows, chosen);
      if (!ordered) std::sort(rows.begin(), rows.end(), RowLess);
      return RowsEqual(want, rows);
    }
    for (size_t c : candidates[g]) {
      if (std::find(chosen.begin(), chosen.end(), c) != chosen.end()) continue;
      chosen.push_back(c);
      if (search(g + 1)) return true;
      chosen.pop_back();
    }
    return false;
  };
  if (search(0)) return "";
  return fmt::format("the rows differ{}; expected {}; got {}", ordered ? " (in order)" : "",
                     Preview(gold.rows), Preview(got.rows));
}

}  // namespace helios::eval
