#include "sql/ir_json.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>
#include <utility>

#include "common/text.h"

namespace helios::sql {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<Aggregate, std::string_view>, 7> kAggregates = {{
    {Aggregate::kNone, "none"},
    {Aggregate::kCount, "count"},
    {Aggregate::kCountDistinct, "count_distinct"},
    {Aggregate::kSum, "sum"},
    {Aggregate::kAvg, "avg"},
    {Aggregate::kMin, "min"},
    {Aggregate::kMax, "max"},
}};

constexpr std::array<std::pair<TimeGrain, std::string_view>, 6> kGrains = {{
    {TimeGrain::kNone, "none"},
    {TimeGrain::kYear, "year"},
    {TimeGrain::kQuarter, "quarter"},
    {TimeGrain::kMonth, "month"},
    {TimeGrain::kWeek, "week"},
    {TimeGrain::kDay, "day"},
}};

constexpr std::array<std::pair<CompareOp, std::string_view>, 12> kOps = {{
    {CompareOp::kEq, "eq"},
    {CompareOp::kNe, "ne"},
    {CompareOp::kLt, "lt"},
    {CompareOp::kLe, "le"},
    {CompareOp::kGt, "gt"},
    {CompareOp::kGe, "ge"},
    {CompareOp::kBetween, "between"},
    {CompareOp::kRange, "range"},
    {CompareOp::kIn, "in"},
    {CompareOp::kContains, "contains"},
    {CompareOp::kIsNull, "is_null"},
    {CompareOp::kIsNotNull, "is_not_null"},
}};

constexpr std::array<std::pair<SetOp, std::string_view>, 5> kSetOps = {{
    {SetOp::kNone, "none"},
    {SetOp::kUnion, "union"},
    {SetOp::kUnionAll, "union_all"},
    {SetOp::kIntersect, "intersect"},
    {SetOp::kExcept, "except"},
}};

template <typename E, size_t N>
std::string NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return std::string(name);
  // Every enumerator is in its table (the tests go through all of them).
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Writing

using text::ToHex;

template <typename Number>
std::string NumberText(Number n) {
  // Shortest text that reads back to the same value (for doubles: the same bits, -0 included).
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

json ColumnToJson(const ColumnRef& c) {
  json j = json::object();
  if (!c.table.empty()) j["table"] = c.table;
  if (!c.column.empty()) j["column"] = c.column;
  return j;
}

json ExprToJson(const Expr& e) {
  json j = json::object();
  if (e.agg != Aggregate::kNone) j["agg"] = NameOf(kAggregates, e.agg);
  if (e.column) j["column"] = ColumnToJson(*e.column);
  if (e.grain != TimeGrain::kNone) j["grain"] = NameOf(kGrains, e.grain);
  return j;
}

json QueryToJsonImpl(const Query& q);

json PredicateToJson(const Predicate& p) {
  json j = json::object();
  j["lhs"] = ExprToJson(p.lhs);
  if (p.op != CompareOp::kEq) j["op"] = NameOf(kOps, p.op);
  if (!p.values.empty()) {
    json values = json::array();
    for (const auto& v : p.values) values.push_back(ValueToJson(v));
    j["values"] = std::move(values);
  }
  if (p.case_insensitive) j["case_insensitive"] = true;
  if (!p.phrase.empty()) j["phrase"] = p.phrase;
  if (p.negated) j["negated"] = true;
  if (!p.subquery.empty()) {
    json list = json::array();
    for (const auto& sub : p.subquery) list.push_back(QueryToJsonImpl(sub));
    j["subquery"] = std::move(list);
  }
  if (!p.any.empty()) {
    json list = json::array();
    for (const auto& member : p.any) list.push_back(PredicateToJson(member));
    j["any"] = std::move(list);
  }
  return j;
}

template <typename T, typename F>
void PutList(json& j, const char* name, const std::vector<T>& items, F&& to_json) {
  if (items.empty()) return;
  json list = json::array();
  for (const auto& item : items) list.push_back(to_json(item));
  j[name] = std::move(list);
}

// ---------------------------------------------------------------------------------------------
// Reading: every function takes the path of the element it reads, for the error message.

std::unexpected<Error> Bad(const std::string& path, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, fmt::format("Query JSON is malformed at {}: {}.",
                                                       path.empty() ? "the top" : path, what));
}

std::string_view TypeName(const json& j) { return j.type_name(); }

std::string Field(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : fmt::format("{}.{}", path, name);
}

std::string Index(const std::string& path, size_t i) { return fmt::format("{}[{}]", path, i); }

Result<void> ExpectObject(const json& j, const std::string& path) {
  if (!j.is_object()) return Bad(path, fmt::format("expected an object, got {}", TypeName(j)));
  return {};
}

Result<std::string> ReadString(const json& j, const std::string& path) {
  if (!j.is_string()) return Bad(path, fmt::format("expected a string, got {}", TypeName(j)));
  return j.get<std::string>();
}

Result<bool> ReadBool(const json& j, const std::string& path) {
  if (!j.is_boolean()) return Bad(path, fmt::format("expected true or false, got {}", TypeName(j)));
  return j.get<bool>();
}

Result<int64_t> ReadInteger(const json& j, const std::string& path) {
  if (j.is_number_unsigned()) {
    auto u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return Bad(path, "the integer is too large");
    return static_cast<int64_t>(u);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  return Bad(path, fmt::format("expected an integer, got {}", TypeName(j)));
}

template <typename Number>
Result<Number> ParseNumber(std::string_view text, const std::string& path, std::string_view what) {
  Number n{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end)
    return Bad(path, fmt::format("\"{}\" is not {}", text, what));
  return n;
}

Result<std::string> FromHex(std::string_view hex, const std::string& path) {
  if (hex.size() % 2 != 0) return Bad(path, "hex text must have an even number of digits");
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return Bad(path, "hex text may only contain 0-9 and a-f");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

template <typename E, size_t N>
Result<E> ReadEnum(const json& j, const std::string& path,
                   const std::array<std::pair<E, std::string_view>, N>& table,
                   std::string_view kind) {
  auto name = ReadString(j, path);
  if (!name) return std::unexpected(name.error());
  for (const auto& [v, n] : table)
    if (n == *name) return v;
  std::vector<std::string> known;
  for (const auto& entry : table) known.emplace_back(entry.second);
  return Bad(path, fmt::format("unknown {} \"{}\" (expected one of {})", kind, *name,
                               text::Join(known, ", ")));
}

// Calls read(name, value, path) for each member of the object at `path`; `read` returns false
// for a name it does not know, which is an error.
template <typename F>
Result<void> ForEachField(const json& j, const std::string& path, F&& read) {
  if (auto ok = ExpectObject(j, path); !ok) return ok;
  for (const auto& [name, value] : j.items()) {
    std::string field_path = Field(path, name);
    auto known = read(name, value, field_path);
    if (!known) return std::unexpected(known.error());
    if (!*known) return Bad(path, fmt::format("unknown field \"{}\"", name));
  }
  return {};
}

// For the lambdas given to ForEachField: stores a read value, or passes its error on.
template <typename T>
Result<bool> Store(Result<T> read, T& into) {
  if (!read) return std::unexpected(read.error());
  into = std::move(*read);
  return true;
}

template <typename T, typename F>
Result<bool> ReadList(const json& j, const std::string& path, std::vector<T>& into, F&& read) {
  if (!j.is_array()) return Bad(path, fmt::format("expected a list, got {}", TypeName(j)));
  into.clear();
  into.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    auto item = read(j[i], Index(path, i));
    if (!item) return std::unexpected(item.error());
    into.push_back(std::move(*item));
  }
  return true;
}

Result<db::Value> ReadValue(const json& j, const std::string& path) {
  if (auto ok = ExpectObject(j, path); !ok) return std::unexpected(ok.error());
  if (j.size() != 1)
    return Bad(path,
               fmt::format("a value has exactly one member naming its type, found {}", j.size()));
  const auto member = j.begin();
  const std::string& type = member.key();
  const json& v = member.value();
  const std::string vpath = Field(path, type);
  if (type == "null") {
    if (!v.is_null()) return Bad(vpath, fmt::format("expected null, got {}", TypeName(v)));
    return db::Value();
  }
  if (type == "bool") {
    auto b = ReadBool(v, vpath);
    if (!b) return std::unexpected(b.error());
    return db::Value(*b);
  }
  auto s = ReadString(v, vpath);
  if (!s) return std::unexpected(s.error());
  if (type == "string") return db::Value(std::move(*s));
  if (type == "int") {
    auto n = ParseNumber<int64_t>(*s, vpath, "a 64-bit integer");
    if (!n) return std::unexpected(n.error());
    return db::Value(*n);
  }
  if (type == "double") {
    auto d = ParseNumber<double>(*s, vpath, "a floating-point number");
    if (!d) return std::unexpected(d.error());
    return db::Value(*d);
  }
  if (type == "decimal") return db::Value(db::Decimal{std::move(*s)});
  if (type == "blob" || type == "bytes") {
    auto bytes = FromHex(*s, vpath);
    if (!bytes) return std::unexpected(bytes.error());
    if (type == "bytes") return db::Value(std::move(*bytes));
    return db::Value(db::Blob{std::vector<uint8_t>(bytes->begin(), bytes->end())});
  }
  return Bad(path, fmt::format("unknown value type \"{}\" (expected null, int, double, string, "
                               "bytes, blob, bool or decimal)",
                               type));
}

Result<ColumnRef> ReadColumn(const json& j, const std::string& path) {
  ColumnRef c;
  auto ok = ForEachField(
      j, path, [&](const std::string& name, const json& v, const std::string& p) -> Result<bool> {
        if (name == "table") return Store(ReadString(v, p), c.table);
        if (name == "column") return Store(ReadString(v, p), c.column);
        return false;
      });
  if (!ok) return std::unexpected(ok.error());
  return c;
}

Result<Expr> ReadExpr(const json& j, const std::string& path) {
  Expr e;
  auto ok = ForEachField(
      j, path, [&](const std::string& name, const json& v, const std::string& p) -> Result<bool> {
        if (name == "agg") return Store(ReadEnum(v, p, kAggregates, "aggregate"), e.agg);
        if (name == "grain") return Store(ReadEnum(v, p, kGrains, "time grain"), e.grain);
        if (name == "column") {
          auto c = ReadColumn(v, p);
          if (!c) return std::unexpected(c.error());
          e.column = std::move(*c);
          return true;
        }
        return false;
      });
  if (!ok) return std::unexpected(ok.error());
  return e;
}

Result<Query> ReadQuery(const json& j, const std::string& path, int depth);

// Each subquery, set operand and OR group is one level deeper; sql::Validate takes no more
// than kMaxNesting, and a reader that recursed without a bound could be made to overflow its
// stack.
Result<void> CheckDepth(int depth, const std::string& path) {
  if (depth > kMaxNesting)
    return Bad(path, fmt::format("queries and filters nest more than {} levels deep", kMaxNesting));
  return {};
}

Result<Predicate> ReadPredicate(const json& j, const std::string& path, int depth) {
  if (auto deep = CheckDepth(depth, path); !deep) return std::unexpected(deep.error());
  Predicate pr;
  bool has_lhs = false;
  auto ok = ForEachField(
      j, path, [&](const std::string& name, const json& v, const std::string& p) -> Result<bool> {
        if (name == "lhs") {
          has_lhs = true;
          return Store(ReadExpr(v, p), pr.lhs);
        }
        if (name == "op") return Store(ReadEnum(v, p, kOps, "comparison"), pr.op);
        if (name == "values") return ReadList(v, p, pr.values, ReadValue);
        if (name == "case_insensitive") return Store(ReadBool(v, p), pr.case_insensitive);
        if (name == "phrase") return Store(ReadString(v, p), pr.phrase);
        if (name == "negated") return Store(ReadBool(v, p), pr.negated);
        if (name == "subquery") {
          return ReadList(v, p, pr.subquery, [&](const json& item, const std::string& at) {
            return ReadQuery(item, at, depth + 1);
          });
        }
        if (name == "any") {
          return ReadList(v, p, pr.any, [&](const json& item, const std::string& at) {
            return ReadPredicate(item, at, depth + 1);
          });
        }
        return false;
      });
  if (!ok) return std::unexpected(ok.error());
  if (!has_lhs) return Bad(path, "a filter needs \"lhs\"");
  return pr;
}

Result<SelectItem> ReadSelectItem(const json& j, const std::string& path) {
  SelectItem s;
  auto ok = ForEachField(
      j, path, [&](const std::string& name, const json& v, const std::string& p) -> Result<bool> {
        if (name == "expr") return Store(ReadExpr(v, p), s.expr);
        if (name == "alias") return Store(ReadString(v, p), s.alias);
        return false;
      });
  if (!ok) return std::unexpected(ok.error());
  return s;
}

Result<Join> ReadJoin(const json& j, const std::string& path) {
  Join jn;
  auto ok = ForEachField(
      j, path, [&](const std::string& name, const json& v, const std::string& p) -> Result<bool> {
        if (name == "table") return Store(ReadString(v, p), jn.table);
        if (name == "left") return Store(ReadColumn(v, p), jn.left);
        if (name == "right") return Store(ReadColumn(v, p), jn.right);
        return false;
      });
  if (!ok) return std::unexpected(ok.error());
  return jn;
}

Result<OrderItem> ReadOrderItem(const json& j, const std::string& path) {
  OrderItem o;
  auto ok = ForEachField(
      j, path, [&](const std::string& name, const json& v, const std::string& p) -> Result<bool> {
        if (name == "expr") return Store(ReadExpr(v, p), o.expr);
        if (name == "descending") return Store(ReadBool(v, p), o.descending);
        return false;
      });
  if (!ok) return std::unexpected(ok.error());
  return o;
}

Result<Query> ReadQuery(const json& j, const std::string& path, int depth) {
  if (auto deep = CheckDepth(depth, path); !deep) return std::unexpected(deep.error());
  Query q;
  auto read_predicate = [&](const json& item, const std::string& at) {
    return ReadPredicate(item, at, depth);
  };
  auto ok = ForEachField(
      j, path, [&](const std::string& name, const json& v, const std::string& p) -> Result<bool> {
        if (name == "from") return Store(ReadString(v, p), q.from);
        if (name == "joins") return ReadList(v, p, q.joins, ReadJoin);
        if (name == "distinct") return Store(ReadBool(v, p), q.distinct);
        if (name == "select") return ReadList(v, p, q.select, ReadSelectItem);
        if (name == "where") return ReadList(v, p, q.where, read_predicate);
        if (name == "group_by") return ReadList(v, p, q.group_by, ReadExpr);
        if (name == "having") return ReadList(v, p, q.having, read_predicate);
        if (name == "set_op") return Store(ReadEnum(v, p, kSetOps, "set operation"), q.set_op);
        if (name == "set_rhs") {
          return ReadList(v, p, q.set_rhs, [&](const json& item, const std::string& at) {
            return ReadQuery(item, at, depth + 1);
          });
        }
        if (name == "order_by") return ReadList(v, p, q.order_by, ReadOrderItem);
        if (name == "limit") {
          if (v.is_null()) {
            q.limit.reset();
            return true;
          }
          auto n = ReadInteger(v, p);
          if (!n) return std::unexpected(n.error());
          q.limit = *n;
          return true;
        }
        return false;
      });
  if (!ok) return std::unexpected(ok.error());
  return q;
}

}  // namespace

json ValueToJson(const db::Value& value) {
  struct Visitor {
    json operator()(std::monostate) const { return {{"null", nullptr}}; }
    json operator()(int64_t n) const { return {{"int", NumberText(n)}}; }
    json operator()(double d) const { return {{"double", NumberText(d)}}; }
    json operator()(const std::string& s) const {
      if (text::IsValidUtf8(s)) return {{"string", s}};
      return {{"bytes", ToHex(s)}};
    }
    json operator()(const db::Blob& b) const {
      return {{"blob", ToHex(std::string_view(reinterpret_cast<const char*>(b.bytes.data()),
                                              b.bytes.size()))}};
    }
    json operator()(bool b) const { return {{"bool", b}}; }
    json operator()(const db::Decimal& d) const { return {{"decimal", d.digits}}; }
  };
  return std::visit(Visitor{}, value);
}

Result<db::Value> ValueFromJson(const json& j) {
  try {
    return ReadValue(j, "");
  } catch (const std::exception& e) {  // nlohmann reports misuse by throwing; none expected
    return Fail(ErrorCode::kInvalidArgument, fmt::format("Value JSON is malformed: {}", e.what()));
  }
}

namespace {

json QueryToJsonImpl(const Query& q) {
  json j = json::object();
  if (!q.from.empty()) j["from"] = q.from;
  PutList(j, "joins", q.joins, [](const Join& jn) {
    json o = json::object();
    if (!jn.table.empty()) o["table"] = jn.table;
    o["left"] = ColumnToJson(jn.left);
    o["right"] = ColumnToJson(jn.right);
    return o;
  });
  if (q.distinct) j["distinct"] = true;
  PutList(j, "select", q.select, [](const SelectItem& s) {
    json o = json::object();
    o["expr"] = ExprToJson(s.expr);
    if (!s.alias.empty()) o["alias"] = s.alias;
    return o;
  });
  PutList(j, "where", q.where, PredicateToJson);
  PutList(j, "group_by", q.group_by, ExprToJson);
  PutList(j, "having", q.having, PredicateToJson);
  PutList(j, "order_by", q.order_by, [](const OrderItem& o) {
    json item = json::object();
    item["expr"] = ExprToJson(o.expr);
    if (o.descending) item["descending"] = true;
    return item;
  });
  if (q.limit) j["limit"] = *q.limit;
  if (q.set_op != SetOp::kNone) j["set_op"] = NameOf(kSetOps, q.set_op);
  PutList(j, "set_rhs", q.set_rhs, QueryToJsonImpl);
  return j;
}

}  // namespace

json QueryToJson(const Query& q) { return QueryToJsonImpl(q); }

Result<Query> QueryFromJson(const json& j) {
  try {
    return ReadQuery(j, "", 0);
  } catch (const std::exception& e) {  // nlohmann reports misuse by throwing; none expected
    return Fail(ErrorCode::kInvalidArgument, fmt::format("Query JSON is malformed: {}", e.what()));
  }
}

}  // namespace helios::sql
