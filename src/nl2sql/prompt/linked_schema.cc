#include "nl2sql/prompt/linked_schema.h"

#include <fmt/format.h>

#include <unordered_map>

#include "common/text.h"
#include "sql/render.h"

namespace helios::nl2sql::prompt {
namespace {

// One line of text, at most `max_bytes` long (cut on a UTF-8 boundary, marked with "...").
std::string OneLine(std::string_view s, size_t max_bytes) {
  std::string out;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  out = text::Trim(out);
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

std::string Literal(std::string_view value, const SchemaRenderOptions& o) {
  return sql::QuoteLiteral(db::Value(OneLine(value, o.max_note_bytes)), o.dialect);
}

// A map's entries by lowercase key, so "Customers.Name" finds "customers.name".
template <typename T>
std::unordered_map<std::string, const T*> ByLowercaseKey(const std::map<std::string, T>& map) {
  std::unordered_map<std::string, const T*> out;
  for (const auto& [k, v] : map) out.emplace(text::ToLower(k), &v);
  return out;
}

template <typename T>
const T* Find(const std::unordered_map<std::string, const T*>& map, const std::string& key) {
  auto it = map.find(text::ToLower(key));
  return it == map.end() ? nullptr : it->second;
}

// A table as lines: the optional description comment, then the CREATE TABLE statement.
struct TableLines {
  std::string description;         // empty: none
  std::vector<std::string> items;  // SQL items (columns, PRIMARY KEY (...)), without commas
  std::vector<std::vector<std::string>> comments;  // per item
  std::string omitted;                             // the "more columns" comment line, or empty
};

TableLines Lines(const LinkedTable& t, const SchemaRenderOptions& o) {
  TableLines out;
  size_t pk_count = 0;
  for (const auto& c : t.columns) pk_count += c.primary_key ? 1 : 0;
  std::vector<std::string> pk_names;
  for (const auto& c : t.columns) {
    std::string line = sql::QuoteIdentifier(c.name, o.dialect);
    if (!c.type.empty()) line += " " + c.type;
    if (c.primary_key && pk_count == 1) line += " PRIMARY KEY";
    if (c.primary_key) pk_names.push_back(sql::QuoteIdentifier(c.name, o.dialect));
    if (!c.ref_table.empty())
      line += fmt::format(" REFERENCES {}({})", sql::QuoteIdentifier(c.ref_table, o.dialect),
                          sql::QuoteIdentifier(c.ref_column, o.dialect));
    out.items.push_back(std::move(line));
    std::vector<std::string> comments;
    if (!c.matched_values.empty()) {
      std::string values;
      for (const auto& v : c.matched_values) {
        if (!values.empty()) values += ", ";
        values += Literal(v, o);
      }
      comments.push_back("matches " + values);
    }
    out.comments.push_back(std::move(comments));
  }
  if (pk_count > 1) {
    out.items.push_back(fmt::format("PRIMARY KEY ({})", text::Join(pk_names, ", ")));
    out.comments.emplace_back();
  }
  if (t.omitted_columns > 0)
    out.omitted = fmt::format("  -- {} more column{} not shown\n", t.omitted_columns,
                              t.omitted_columns == 1 ? "" : "s");
  return out;
}

std::string CommentText(const std::vector<std::string>& parts) {
  return parts.empty() ? std::string() : " -- " + text::Join(parts, "; ");
}

size_t Size(const TableLines& t, std::string_view name) {
  size_t n = t.description.empty() ? 0 : t.description.size() + 4;  // "-- " ... "\n"
  n += fmt::format("CREATE TABLE {} (\n", name).size() + 3;         // ");\n"
  for (size_t i = 0; i < t.items.size(); ++i)
    n += 2 + t.items[i].size() + (i + 1 < t.items.size() ? 1 : 0) +
         CommentText(t.comments[i]).size() + 1;
  return n + t.omitted.size();
}

void Append(const TableLines& t, std::string_view name, std::string& out) {
  if (!t.description.empty()) out += "-- " + t.description + "\n";
  out += fmt::format("CREATE TABLE {} (\n", name);
  for (size_t i = 0; i < t.items.size(); ++i) {
    out += "  " + t.items[i];
    if (i + 1 < t.items.size()) out += ",";
    out += CommentText(t.comments[i]);
    out += "\n";
  }
  out += t.omitted;
  out += ");\n";
}

}  // namespace

LinkedSchema WholeSchema(const db::SchemaCatalog& catalog) {
  LinkedSchema out;
  for (const auto& table : catalog.tables) {
    LinkedTable t;
    t.name = table.name;
    for (const auto& col : table.columns) {
      LinkedColumn c;
      c.name = col.name;
      c.type = col.declared_type;
      c.primary_key = col.primary_key;
      for (const auto& fk : table.foreign_keys) {
        if (text::EqualsIgnoreCase(fk.column, col.name)) {
          c.ref_table = fk.ref_table;
          c.ref_column = fk.ref_column;
          break;
        }
      }
      t.columns.push_back(std::move(c));
    }
    out.tables.push_back(std::move(t));
  }
  return out;
}

std::string RenderSchema(const LinkedSchema& schema, const SchemaRenderOptions& o) {
  std::vector<TableLines> lines;
  std::vector<std::string> names;
  size_t total = 0;
  for (const auto& t : schema.tables) {
    lines.push_back(Lines(t, o));
    names.push_back(sql::QuoteIdentifier(t.name, o.dialect));
    total += Size(lines.back(), names.back());
  }
  if (schema.omitted_tables > 0) total += 64;  // the closing note, generously
  // Notes, most relevant table first, each only if the rendering still fits.
  const size_t budget_bytes =
      o.token_budget >= static_cast<size_t>(-1) / 4 ? static_cast<size_t>(-1) : o.token_budget * 4;
  auto fits = [&](size_t extra) { return total + extra <= budget_bytes; };
  if (o.notes) {
    const auto descriptions = ByLowercaseKey(o.notes->descriptions);
    const auto sample_values = ByLowercaseKey(o.notes->sample_values);
    for (size_t ti = 0; ti < schema.tables.size(); ++ti) {
      const LinkedTable& t = schema.tables[ti];
      TableLines& tl = lines[ti];
      if (const std::string* d = Find(descriptions, t.name)) {
        std::string text = OneLine(*d, o.max_note_bytes);
        if (!text.empty() && fits(text.size() + 4)) {
          tl.description = text;
          total += text.size() + 4;
        }
      }
      for (size_t ci = 0; ci < t.columns.size(); ++ci) {
        const std::string key = t.name + "." + t.columns[ci].name;
        auto add = [&](std::string part) {
          const size_t cost = part.size() + (tl.comments[ci].empty() ? 4 : 2);
          if (!fits(cost)) return;
          tl.comments[ci].push_back(std::move(part));
          total += cost;
        };
        if (const std::string* d = Find(descriptions, key)) {
          std::string text = OneLine(*d, o.max_note_bytes);
          if (!text.empty()) add(text);
        }
        const auto* samples = Find(sample_values, key);
        if (samples && !samples->empty() && o.max_samples_per_column > 0) {
          std::string part = "e.g. ";
          for (size_t k = 0; k < samples->size() && k < o.max_samples_per_column; ++k) {
            if (k) part += ", ";
            part += Literal((*samples)[k], o);
          }
          add(std::move(part));
        }
      }
    }
  }
  std::string out;
  out.reserve(total);
  for (size_t ti = 0; ti < lines.size(); ++ti) Append(lines[ti], names[ti], out);
  if (schema.omitted_tables > 0)
    out += fmt::format("-- {} more table{} not shown\n", schema.omitted_tables,
                       schema.omitted_tables == 1 ? "" : "s");
  return out;
}

}  // namespace helios::nl2sql::prompt
