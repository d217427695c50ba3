// The schema catalog: what a data source holds, read once by introspection and shared as an
// immutable snapshot (std::shared_ptr<const SchemaCatalog>) by every thread that links
// questions to it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace helios::db {

// Coarse type families; the engine reasons about these, not about dialect type names.
enum class TypeFamily { kInteger, kReal, kText, kDate, kDateTime, kBoolean, kBlob, kOther };

struct ColumnInfo {
  std::string name;
  std::string declared_type;  // as the database reports it
  TypeFamily family = TypeFamily::kOther;
  bool primary_key = false;
  bool not_null = false;
  std::string description = {};  // the database's comment on the column; empty when none
};

struct ForeignKey {
  std::string column;  // in the owning table
  std::string ref_table;
  std::string ref_column;
};

struct TableInfo {
  // How SQL names the table: unqualified, as the connection's search path resolves it.
  std::string name;
  std::string schema;  // namespace holding it (PostgreSQL schema, MySQL database); may be empty
  std::string description;  // the database's comment on the table; empty when none
  std::vector<ColumnInfo> columns;
  std::vector<ForeignKey> foreign_keys;
  int64_t row_count = -1;  // -1 when unknown

  const ColumnInfo* FindColumn(std::string_view column) const;  // case-insensitive
};

struct SchemaCatalog {
  std::vector<TableInfo> tables;
  // Bumped whenever introspection finds a different schema; caches key on it.
  uint64_t version = 0;

  const TableInfo* FindTable(std::string_view table) const;  // case-insensitive
};

// Maps a declared type ("VARCHAR(20)", "numeric", "DATETIME") to its family, by SQLite's
// affinity rules extended with date and boolean names.
TypeFamily FamilyOfDeclaredType(std::string_view declared_type);

}  // namespace helios::db
