// A schema index over a SQLite file a test wrote, with the source and catalog it was built from.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "db/open.h"
#include "nl2sql/engine/schema_index.h"

namespace helios::nl2sql::engine {

struct SqliteIndex {
  std::unique_ptr<db::DataSource> source;
  std::shared_ptr<const db::SchemaCatalog> catalog;
  std::unique_ptr<SchemaIndex> index;
};

// Opens `path` read-only, introspects it and indexes it (up to 1,000 values a column); a
// failure fails the calling test (call it inside ASSERT_NO_FATAL_FAILURE).
inline void OpenSqliteIndex(const std::string& path, SqliteIndex* out) {
  auto source = db::OpenDataSource("sqlite://" + path);
  ASSERT_TRUE(source) << source.error().message;
  out->source = std::move(*source);
  auto catalog = out->source->Introspect();
  ASSERT_TRUE(catalog) << catalog.error().message;
  out->catalog = *catalog;
  auto index = SchemaIndex::Build(out->catalog, *out->source, 1000);
  ASSERT_TRUE(index) << index.error().message;
  out->index = std::move(*index);
}

}  // namespace helios::nl2sql::engine
