#include "app/table_format.h"

#include <fmt/format.h>

#include <algorithm>

namespace helios::app {
namespace {

// Display width in characters, counting each UTF-8 sequence once.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string Cut(const std::string& s, size_t max) {
  if (Width(s) <= max) return s;
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (n == max - 3) break;
      ++n;
    }
    out += s[i];
  }
  return out + "...";
}

bool IsNumeric(const db::Value& v) { return db::IsNumber(v); }

}  // namespace

std::string FormatTable(const std::vector<std::string>& columns, const std::vector<db::Row>& rows,
                        size_t max_rows, size_t max_cell) {
  size_t shown = std::min(rows.size(), max_rows);
  std::vector<size_t> width(columns.size());
  std::vector<std::vector<std::string>> cells(shown);
  for (size_t c = 0; c < columns.size(); ++c) width[c] = Width(Cut(columns[c], max_cell));
  for (size_t r = 0; r < shown; ++r) {
    for (size_t c = 0; c < columns.size() && c < rows[r].size(); ++c) {
      std::string cell = Cut(db::ToDisplayString(rows[r][c]), max_cell);
      width[c] = std::max(width[c], Width(cell));
      cells[r].push_back(std::move(cell));
    }
  }
  auto pad = [](const std::string& s, size_t w, bool right) {
    std::string fill(w > Width(s) ? w - Width(s) : 0, ' ');
    return right ? fill + s : s + fill;
  };
  std::string out;
  std::string rule = "+";
  for (size_t w : width) rule += std::string(w + 2, '-') + "+";
  out += rule + "\n|";
  for (size_t c = 0; c < columns.size(); ++c)
    out += " " + pad(Cut(columns[c], max_cell), width[c], false) + " |";
  out += "\n" + rule + "\n";
  for (size_t r = 0; r < shown; ++r) {
    out += "|";
    for (size_t c = 0; c < columns.size(); ++c) {
      std::string cell = c < cells[r].size() ? cells[r][c] : "";
      bool right = c < rows[r].size() && IsNumeric(rows[r][c]);
      out += " " + pad(cell, width[c], right) + " |";
    }
    out += "\n";
  }
  out += rule + "\n";
  if (rows.size() > shown) out += fmt::format("... {} more rows\n", rows.size() - shown);
  return out;
}

}  // namespace helios::app
