// Explains a query IR in plain English, from its structure (not from SQL text), so the
// explanation always says what the SQL does. Thread-safety: pure function.
#pragma once

#include <string>

#include "db/data_source.h"
#include "sql/ir.h"

namespace helios::sql {

// Words for an identifier: "total_amount" -> "total amount", "CustomerName" -> "customer name".
std::string HumanName(std::string_view identifier);

// "Counts the orders of customers in Germany, grouped by month of order date, ..."
std::string Explain(const Query& query);

}  // namespace helios::sql
