// The query IR (ir.h) as JSON, for state kept outside the process (sessions shared through
// Redis). The mapping is lossless: QueryFromJson(QueryToJson(q)) == q for every Query
// nested at most kMaxNesting levels deep (sql/ir.h).
//
// Shape: an object per struct, with the field names of ir.h; fields at their default value
// (false, "", empty lists, no limit, Aggregate/TimeGrain kNone) are left out, and a missing field
// reads as its default. Enums are lowercase names ("count_distinct", "month", "is_not_null").
// Every db::Value is an object with exactly one member naming its type:
//   {"null": null}  {"int": "-42"}  {"double": "0.1"}  {"string": "5"}  {"bool": true}
//   {"decimal": "-1234.50"}  {"blob": "00ff"} (lowercase hex)
//   {"bytes": "c328"}  a string that is not valid UTF-8, as hex (JSON text must be UTF-8)
// Integers and doubles are decimal text, so no JSON reader can round them (integers beyond
// 2^53, -0.0, infinities and NaN survive); doubles are written in their shortest form that
// reads back to the same bits.
//
// Reading is strict: a wrong JSON type, an unknown field, enum name or value type, or a number
// that does not parse is kInvalidArgument naming where it is ("where[0].values[1]: ...").
// A field added to the IR later must therefore be optional here, so that what older servers
// wrote still reads.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "common/error.h"
#include "db/value.h"
#include "sql/ir.h"

namespace helios::sql {

nlohmann::json QueryToJson(const Query& query);
Result<Query> QueryFromJson(const nlohmann::json& json);

// One value, tagged with its type as above.
nlohmann::json ValueToJson(const db::Value& value);
Result<db::Value> ValueFromJson(const nlohmann::json& json);

}  // namespace helios::sql
