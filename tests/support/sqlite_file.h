// Writing to a SQLite file from a test, with a connection of the test's own (the product only
// ever opens databases read-only).
#pragma once

#include <filesystem>
#include <string>

namespace helios::testing {

// Runs `sql` (one or more statements) on `file`, creating it when absent. An empty string on
// success, else SQLite's message.
std::string ExecSqlite(const std::filesystem::path& file, const std::string& sql);

}  // namespace helios::testing
