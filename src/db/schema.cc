#include "db/schema.h"

#include "common/text.h"

namespace helios::db {

const ColumnInfo* TableInfo::FindColumn(std::string_view column) const {
  for (const auto& c : columns)
    if (text::EqualsIgnoreCase(c.name, column)) return &c;
  return nullptr;
}

const TableInfo* SchemaCatalog::FindTable(std::string_view table) const {
  for (const auto& t : tables)
    if (text::EqualsIgnoreCase(t.name, table)) return &t;
  return nullptr;
}

TypeFamily FamilyOfDeclaredType(std::string_view declared) {
  std::string t = text::ToLower(declared);
  auto has = [&](std::string_view w) { return t.find(w) != std::string::npos; };
  if (has("datetime") || has("timestamp")) return TypeFamily::kDateTime;
  if (has("date")) return TypeFamily::kDate;
  if (has("bool") || t.starts_with("tinyint(1)") || t == "bit(1)") return TypeFamily::kBoolean;
  if (has("int")) return TypeFamily::kInteger;
  if (has("char") || has("clob") || has("text")) return TypeFamily::kText;
  if (has("blob") || has("binary") || t == "bytea") return TypeFamily::kBlob;
  if (has("real") || has("floa") || has("doub") || has("num") || has("dec") || has("money"))
    return TypeFamily::kReal;
  if (t.empty()) return TypeFamily::kOther;
  return TypeFamily::kOther;
}

}  // namespace helios::db
