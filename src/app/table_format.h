// Formats a result as a text table for the terminal.
#pragma once

#include <string>
#include <vector>

#include "db/value.h"

namespace helios::app {

// Cells longer than max_cell characters are cut with "..."; at most max_rows rows are shown,
// followed by a line saying how many more there were.
std::string FormatTable(const std::vector<std::string>& columns, const std::vector<db::Row>& rows,
                        size_t max_rows = 25, size_t max_cell = 40);

}  // namespace helios::app
