// Synthetic schemas for the prompt tests: a data source over a catalog built in code (no values
// to index, nothing to execute) and a catalog of 1,000 tables.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db/data_source.h"
#include "db/schema.h"

namespace helios::nl2sql::prompt {

// A fake data source over a synthetic catalog: no values to index, nothing to execute.
class SyntheticSource : public db::DataSource {
 public:
  explicit SyntheticSource(std::shared_ptr<const db::SchemaCatalog> c) : catalog_(std::move(c)) {}
  db::Dialect dialect() const override { return db::Dialect::kSqlite; }
  std::string DisplayName() const override { return "synthetic"; }
  Result<std::shared_ptr<const db::SchemaCatalog>> Introspect() override { return catalog_; }
  Result<void> Check(std::string_view) override { return {}; }
  Result<db::QueryResult> Execute(std::string_view, const std::vector<db::Value>&,
                                  const db::ExecuteOptions&) override {
    return Fail(ErrorCode::kUnavailable, "synthetic source");
  }
  Result<std::vector<std::string>> DistinctTextValues(std::string_view, std::string_view,
                                                      size_t) override {
    return std::vector<std::string>{};
  }
  db::PoolUsage Usage() const override { return {}; }
  Result<std::vector<std::string>> WritePrivileges() override { return std::vector<std::string>{}; }
  Result<void> Ping() override { return {}; }

 private:
  std::shared_ptr<const db::SchemaCatalog> catalog_;
};

// 1,000 tables named from 40 subjects x 25 qualifiers ("shipment_audit", "invoice_archive"),
// each with a key, a name, a few measures and dates, and foreign keys to two earlier tables.
inline std::shared_ptr<const db::SchemaCatalog> ThousandTables() {
  const std::vector<std::string> subjects = {
      "account", "invoice", "shipment", "supplier", "warehouse", "payment", "contract", "employee",
      "vehicle", "route",   "campaign", "ticket",   "device",    "sensor",  "patient",  "doctor",
      "lab",     "claim",   "policy",   "broker",   "store",     "product", "customer", "coupon",
      "review",  "booking", "flight",   "hotel",    "course",    "student", "teacher",  "exam",
      "project", "task",    "budget",   "asset",    "license",   "vendor",  "region",   "meter"};
  const std::vector<std::string> qualifiers = {
      "daily",  "archive", "audit", "summary", "detail",  "history", "stage", "backup", "snapshot",
      "log",    "queue",   "note",  "event",   "metric",  "plan",    "quota", "rule",   "score",
      "status", "target",  "tier",  "trend",   "version", "window",  "zone"};
  auto catalog = std::make_shared<db::SchemaCatalog>();
  for (size_t i = 0; i < subjects.size() * qualifiers.size(); ++i) {
    db::TableInfo t;
    t.name = subjects[i % subjects.size()] + "_" + qualifiers[i / subjects.size()];
    t.columns = {{t.name + "_id", "INTEGER", db::TypeFamily::kInteger, true, true, ""},
                 {"name", "TEXT", db::TypeFamily::kText, false, true, ""},
                 {"description", "TEXT", db::TypeFamily::kText, false, false, ""},
                 {"amount", "REAL", db::TypeFamily::kReal, false, false, ""},
                 {"quantity", "INTEGER", db::TypeFamily::kInteger, false, false, ""},
                 {"created_at", "DATETIME", db::TypeFamily::kDateTime, false, false, ""},
                 {"updated_at", "DATETIME", db::TypeFamily::kDateTime, false, false, ""},
                 {"status_code", "TEXT", db::TypeFamily::kText, false, false, ""}};
    for (size_t k : {i / 2, i / 3}) {
      if (k == i) continue;
      const std::string parent = catalog->tables[k].name;
      t.columns.push_back({parent + "_id", "INTEGER", db::TypeFamily::kInteger, false, false, ""});
      t.foreign_keys.push_back({parent + "_id", parent, parent + "_id"});
    }
    catalog->tables.push_back(std::move(t));
  }
  return catalog;
}

}  // namespace helios::nl2sql::prompt
