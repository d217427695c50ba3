// A data source for the pipeline's tests: forwards to a real one (the demo database), counting
// the statements run, and can be told to fail or to take time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "db/data_source.h"

namespace helios::nl2sql {

// Forwards to `real`, except that Execute and Ping can be told to fail.
class FaultySource final : public db::DataSource {
 public:
  explicit FaultySource(db::DataSource& real) : real_(real) {}

  std::optional<Error> execute_error;
  std::optional<Error> ping_error;
  int executes = 0;
  int checks = 0;  // calls of Check (Execute checks by itself)
  // When set, each Execute moves this clock forward by execute_time, as a slow query would.
  FakeClock* clock = nullptr;
  std::chrono::milliseconds execute_time{0};

  db::Dialect dialect() const override { return real_.dialect(); }
  std::string DisplayName() const override { return "fake:faulty"; }
  Result<std::shared_ptr<const db::SchemaCatalog>> Introspect() override {
    return real_.Introspect();
  }
  Result<void> Check(std::string_view sql) override {
    ++checks;
    return real_.Check(sql);
  }
  Result<db::QueryResult> Execute(std::string_view sql, const std::vector<db::Value>& params,
                                  const db::ExecuteOptions& options) override {
    ++executes;
    if (clock != nullptr) clock->Advance(execute_time);
    if (execute_error) return std::unexpected(*execute_error);
    return real_.Execute(sql, params, options);
  }
  Result<std::vector<std::string>> DistinctTextValues(std::string_view table,
                                                      std::string_view column,
                                                      size_t limit) override {
    return real_.DistinctTextValues(table, column, limit);
  }
  db::PoolUsage Usage() const override { return {}; }
  Result<std::vector<std::string>> WritePrivileges() override { return std::vector<std::string>{}; }
  Result<void> Ping() override {
    if (ping_error) return std::unexpected(*ping_error);
    return real_.Ping();
  }

 private:
  db::DataSource& real_;
};

}  // namespace helios::nl2sql
