#include "nl2sql/prompt/linked_schema.h"

#include <fmt/format.h>

#include <string_view>
#include <unordered_map>

#include "common/text.h"
#include "sql/render.h"

namespace helios::nl2sql::prompt {
namespace {

// One line of text, at most `max_bytes` long (cut on a UTF-8 boundary, marked with "...").
std::string OneLine(std::string_view s, size_t max_bytes) {
  std::string out(s);
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
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

// The entry of a key already lowercase.
template <typename T>
const T* Find(const std::unordered_map<std::string, const T*>& map, const std::string& lower_key) {
  auto it = map.find(lower_key);
  return it == map.end() ? nullptr : it->second;
}

constexpr std::string_view kPrimaryKeySuffix = " PRIMARY KEY";

// A column as an SQL item: name, type, " PRIMARY KEY" when it is the table's only key column
// shown, the reference of a foreign key.
std::string ColumnItem(const LinkedColumn& c, bool primary_key_suffix, db::Dialect dialect) {
  std::string line = sql::QuoteIdentifier(c.name, dialect);
  if (!c.type.empty()) {
    line += ' ';
    line += c.type;
  }
  if (primary_key_suffix) line += kPrimaryKeySuffix;
  if (!c.ref_table.empty()) {
    line += " REFERENCES ";
    line += sql::QuoteIdentifier(c.ref_table, dialect);
    line += '(';
    line += sql::QuoteIdentifier(c.ref_column, dialect);
    line += ')';
  }
  return line;
}

// The comment naming the stored values the question matched ("matches 'Germany'").
std::string MatchesComment(const LinkedColumn& c, const SchemaRenderOptions& o) {
  std::string out = "matches ";
  for (size_t i = 0; i < c.matched_values.size(); ++i) {
    if (i) out += ", ";
    out += Literal(c.matched_values[i], o);
  }
  return out;
}

// The line saying how many columns are not shown; empty when none is left out.
std::string OmittedColumnsLine(size_t omitted) {
  if (omitted == 0) return {};
  return fmt::format("  -- {} more column{} not shown\n", omitted, omitted == 1 ? "" : "s");
}

// The bytes of " -- " + the parts joined by "; " (nothing without parts).
size_t CommentBytes(const std::vector<std::string>& parts) {
  if (parts.empty()) return 0;
  size_t n = 4 + 2 * (parts.size() - 1);
  for (const auto& p : parts) n += p.size();
  return n;
}

// "CREATE TABLE <name> (\n" and ");\n".
constexpr size_t kStatementBytes = 13 + 3 + 3;

// The bytes of one item's line, "  " <item> [","] <comment> "\n", but for its comment.
size_t ItemLineBytes(size_t item_bytes, bool last) { return 2 + item_bytes + (last ? 0 : 1) + 1; }

// Whether `t.prepared` renders `t` in `dialect`.
bool PreparedApplies(const LinkedTable& t, db::Dialect dialect) {
  return t.prepared && t.prepared->dialect == dialect &&
         t.prepared->column_bytes.size() == t.columns.size();
}

// A table as lines: the optional description comment, then the CREATE TABLE statement.
struct TableLines {
  // The quoted name and the SQL items (columns, PRIMARY KEY (...)), without commas: the
  // table's prepared ones when they apply, else its own.
  const PreparedTable* prepared = nullptr;
  PreparedTable own;
  std::string description;                         // empty: none
  std::vector<std::vector<std::string>> comments;  // per item
  std::string omitted;                             // the "more columns" comment line, or empty

  const PreparedTable& table() const { return prepared ? *prepared : own; }
};

TableLines Lines(const LinkedTable& t, const SchemaRenderOptions& o) {
  TableLines out;
  if (PreparedApplies(t, o.dialect))
    out.prepared = t.prepared.get();
  else
    out.own = PrepareTable(t, o.dialect);
  out.comments.resize(out.table().items.size());
  for (size_t i = 0; i < t.columns.size(); ++i)
    if (!t.columns[i].matched_values.empty())
      out.comments[i].push_back(MatchesComment(t.columns[i], o));
  out.omitted = OmittedColumnsLine(t.omitted_columns);
  return out;
}

size_t Size(const TableLines& t) {
  size_t n = t.description.empty() ? 0 : t.description.size() + 4;  // "-- " ... "\n"
  const PreparedTable& p = t.table();
  n += kStatementBytes + p.name.size();
  for (size_t i = 0; i < p.items.size(); ++i)
    n += ItemLineBytes(p.items[i].size(), i + 1 == p.items.size()) + CommentBytes(t.comments[i]);
  return n + t.omitted.size();
}

void Append(const TableLines& t, std::string& out) {
  if (!t.description.empty()) {
    out += "-- ";
    out += t.description;
    out += '\n';
  }
  const PreparedTable& p = t.table();
  out += "CREATE TABLE ";
  out += p.name;
  out += " (\n";
  for (size_t i = 0; i < p.items.size(); ++i) {
    out += "  ";
    out += p.items[i];
    if (i + 1 < p.items.size()) out += ',';
    const auto& comments = t.comments[i];
    for (size_t k = 0; k < comments.size(); ++k) {
      out += k == 0 ? " -- " : "; ";
      out += comments[k];
    }
    out += '\n';
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

PreparedTable PrepareTable(const LinkedTable& table, db::Dialect dialect) {
  PreparedTable p;
  p.dialect = dialect;
  p.name = sql::QuoteIdentifier(table.name, dialect);
  size_t pk_count = 0;
  for (const auto& c : table.columns) pk_count += c.primary_key ? 1 : 0;
  std::vector<std::string> pk_names;
  for (const auto& c : table.columns) {
    const bool suffix = c.primary_key && pk_count == 1;
    std::string item = ColumnItem(c, suffix, dialect);
    p.column_bytes.push_back(item.size() - (suffix ? kPrimaryKeySuffix.size() : 0));
    p.name_bytes.push_back(0);
    if (c.primary_key) {
      pk_names.push_back(sql::QuoteIdentifier(c.name, dialect));
      p.name_bytes.back() = pk_names.back().size();
    }
    p.items.push_back(std::move(item));
  }
  if (pk_count > 1) p.items.push_back(fmt::format("PRIMARY KEY ({})", text::Join(pk_names, ", ")));
  p.note_key = text::ToLower(table.name);
  for (const auto& c : table.columns)
    p.column_note_keys.push_back(p.note_key + "." + text::ToLower(c.name));
  p.bytes = kStatementBytes + p.name.size();
  for (size_t i = 0; i < p.items.size(); ++i)
    p.bytes += ItemLineBytes(p.items[i].size(), i + 1 == p.items.size());
  return p;
}

size_t TableBytes(const LinkedTable& table, db::Dialect dialect, const std::vector<bool>* shown) {
  SchemaRenderOptions o;
  o.dialect = dialect;
  PreparedTable own;
  const PreparedTable* p = table.prepared.get();
  if (!PreparedApplies(table, dialect)) {
    own = PrepareTable(table, dialect);
    p = &own;
  }
  auto comment_bytes = [&](const LinkedColumn& c) {
    return c.matched_values.empty() ? 0 : 4 + MatchesComment(c, o).size();  // " -- " ...
  };
  if (!shown) {
    size_t n = p->bytes + OmittedColumnsLine(table.omitted_columns).size();
    for (const auto& c : table.columns) n += comment_bytes(c);
    return n;
  }
  // As PrepareTable and Size would count the table of the shown columns.
  const auto& columns = table.columns;
  size_t pk_count = 0, items = 0, omitted = table.omitted_columns;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!(*shown)[i]) {
      ++omitted;
      continue;
    }
    ++items;
    pk_count += columns[i].primary_key ? 1 : 0;
  }
  size_t n = kStatementBytes + p->name.size();
  size_t item = 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!(*shown)[i]) continue;
    const size_t bytes = p->column_bytes[i] +
                         (columns[i].primary_key && pk_count == 1 ? kPrimaryKeySuffix.size() : 0);
    n += ItemLineBytes(bytes, ++item == items + (pk_count > 1 ? 1 : 0)) + comment_bytes(columns[i]);
  }
  if (pk_count > 1) {
    size_t key = std::string_view("PRIMARY KEY ()").size() + 2 * (pk_count - 1);
    for (size_t i = 0; i < columns.size(); ++i)
      if ((*shown)[i] && columns[i].primary_key) key += p->name_bytes[i];
    n += ItemLineBytes(key, true);
  }
  return n + OmittedColumnsLine(omitted).size();
}

std::string RenderSchema(const LinkedSchema& schema, const SchemaRenderOptions& o) {
  std::vector<TableLines> lines;
  lines.reserve(schema.tables.size());
  size_t total = 0;
  for (const auto& t : schema.tables) {
    lines.push_back(Lines(t, o));
    total += Size(lines.back());
  }
  if (schema.omitted_tables > 0) total += 64;  // the closing note, generously
  // Notes, most relevant table first, each only if the rendering still fits.
  const size_t budget_bytes =
      o.token_budget >= static_cast<size_t>(-1) / 4 ? static_cast<size_t>(-1) : o.token_budget * 4;
  auto fits = [&](size_t extra) { return total + extra <= budget_bytes; };
  if (o.notes && (!o.notes->descriptions.empty() || !o.notes->sample_values.empty())) {
    const auto descriptions = ByLowercaseKey(o.notes->descriptions);
    const auto sample_values = ByLowercaseKey(o.notes->sample_values);
    for (size_t ti = 0; ti < schema.tables.size(); ++ti) {
      const LinkedTable& t = schema.tables[ti];
      TableLines& tl = lines[ti];
      const PreparedTable& keys = tl.table();
      if (const std::string* d = Find(descriptions, keys.note_key)) {
        std::string text = OneLine(*d, o.max_note_bytes);
        if (!text.empty() && fits(text.size() + 4)) {
          tl.description = text;
          total += text.size() + 4;
        }
      }
      for (size_t ci = 0; ci < t.columns.size(); ++ci) {
        const std::string& key = keys.column_note_keys[ci];
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
  for (const auto& tl : lines) Append(tl, out);
  if (schema.omitted_tables > 0)
    out += fmt::format("-- {} more table{} not shown\n", schema.omitted_tables,
                       schema.omitted_tables == 1 ? "" : "s");
  return out;
}

}  // namespace helios::nl2sql::prompt
