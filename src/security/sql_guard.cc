#include "security/sql_guard.h"

#include <fmt/format.h>
#include <pg_query.h>

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/text.h"

namespace helios::security {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxSqlBytes = 1'000'000;
constexpr int kMaxDepth = 2000;  // JSON nesting; PostgreSQL's parser stops far earlier

// Side-effect-free built-in functions a generated query may call, by the name the parser
// reports (lowercase for unquoted names). Syntax such as EXTRACT(.. FROM ..), SUBSTRING(.. FROM
// ..), TRIM(BOTH ..), POSITION(.. IN ..), OVERLAY, AT TIME ZONE and LIKE .. ESCAPE becomes calls
// of pg_catalog.extract, substring, btrim, position, overlay, timezone and like_escape.
const std::set<std::string, std::less<>>& AllowedFunctions() {
  static const std::set<std::string, std::less<>> kAllowed = {
      // aggregates
      "count", "sum", "avg", "min", "max", "stddev", "stddev_pop", "stddev_samp", "variance",
      "var_pop", "var_samp", "bool_and", "bool_or", "every", "string_agg", "array_agg", "json_agg",
      "jsonb_agg", "json_object_agg", "jsonb_object_agg", "percentile_cont", "percentile_disc",
      "mode", "corr", "covar_pop", "covar_samp", "regr_avgx", "regr_avgy", "regr_count",
      "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "bit_and",
      "bit_or", "bit_xor", "any_value", "grouping",
      // window functions
      "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
      "first_value", "last_value", "nth_value",
      // math
      "abs", "cbrt", "ceil", "ceiling", "degrees", "div", "exp", "factorial", "floor", "gcd", "lcm",
      "ln", "log", "log10", "mod", "pi", "power", "pow", "radians", "round", "scale", "sign",
      "sqrt", "trunc", "width_bucket", "min_scale", "trim_scale", "random", "acos", "acosd", "asin",
      "asind", "atan", "atand", "atan2", "atan2d", "cos", "cosd", "cot", "cotd", "sin", "sind",
      "tan", "tand", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "numeric_inc",
      // strings
      "length", "char_length", "character_length", "octet_length", "bit_length", "lower", "upper",
      "initcap", "btrim", "ltrim", "rtrim", "trim", "lpad", "rpad", "substr", "substring",
      "position", "strpos", "replace", "translate", "concat", "concat_ws", "left", "right",
      "repeat", "reverse", "split_part", "starts_with", "format", "to_char", "to_number", "to_date",
      "to_timestamp", "md5", "ascii", "chr", "quote_ident", "quote_literal", "quote_nullable",
      "regexp_replace", "regexp_match", "regexp_matches", "regexp_split_to_array",
      "regexp_split_to_table", "regexp_like", "regexp_count", "regexp_substr", "regexp_instr",
      "string_to_array", "string_to_table", "array_to_string", "overlay", "normalize", "unistr",
      "encode", "decode", "like_escape", "similar_escape", "similar_to_escape", "sha224", "sha256",
      "sha384", "sha512", "to_hex", "to_ascii",
      // date and time
      "now", "date_part", "date_trunc", "extract", "age", "make_date", "make_time",
      "make_timestamp", "make_timestamptz", "make_interval", "justify_days", "justify_hours",
      "justify_interval", "date_bin", "isfinite", "clock_timestamp", "statement_timestamp",
      "transaction_timestamp", "timeofday", "timezone", "overlaps",
      // conditionals and type conversion written as calls
      "coalesce", "nullif", "greatest", "least", "num_nonnulls", "num_nulls", "date", "time",
      "timestamp", "timestamptz", "interval", "numeric", "int", "int2", "int4", "int8", "integer",
      "bigint", "smallint", "float4", "float8", "text", "varchar", "bool", "money", "pg_typeof",
      // arrays and sets
      "array_length", "cardinality", "unnest", "array_position", "array_positions", "array_append",
      "array_prepend", "array_cat", "array_remove", "array_replace", "array_lower", "array_upper",
      "array_ndims", "array_dims", "generate_series", "generate_subscripts", "array_fill",
      "trim_array",
      // JSON
      "to_json", "to_jsonb", "json_build_object", "jsonb_build_object", "json_build_array",
      "jsonb_build_array", "json_object", "jsonb_object", "array_to_json", "row_to_json",
      "json_extract_path", "json_extract_path_text", "jsonb_extract_path",
      "jsonb_extract_path_text", "json_array_length", "jsonb_array_length", "json_each",
      "jsonb_each", "json_each_text", "jsonb_each_text", "json_typeof", "jsonb_typeof",
      "jsonb_pretty", "json_array_elements", "jsonb_array_elements", "json_array_elements_text",
      "jsonb_array_elements_text", "json_object_keys", "jsonb_object_keys", "jsonb_path_query",
      "jsonb_path_query_array", "jsonb_path_query_first", "jsonb_path_exists", "jsonb_path_match",
      "jsonb_strip_nulls", "json_strip_nulls", "jsonb_set", "jsonb_insert", "json_populate_record",
      "jsonb_populate_record", "json_to_record", "jsonb_to_record", "json_to_recordset",
      "jsonb_to_recordset"};
  return kAllowed;
}

// Functions refused with a specific reason (also matched case-insensitively and by prefix, so
// that "PG_SLEEP" and lo_open get the same treatment).
std::optional<std::string_view> DangerousFunctionReason(std::string_view name) {
  static const std::unordered_map<std::string_view, std::string_view> kDangerous = {
      {"pg_sleep", "it makes the server wait"},
      {"pg_sleep_for", "it makes the server wait"},
      {"pg_sleep_until", "it makes the server wait"},
      {"sleep", "it makes the server wait"},
      {"benchmark", "it makes the server work for nothing"},
      {"pg_read_file", "it reads the server's files"},
      {"pg_read_binary_file", "it reads the server's files"},
      {"pg_stat_file", "it reads the server's files"},
      {"load_file", "it reads the server's files"},
      {"pg_file_write", "it writes the server's files"},
      {"pg_file_rename", "it writes the server's files"},
      {"pg_file_unlink", "it writes the server's files"},
      {"query_to_xml", "it runs SQL given as text"},
      {"query_to_xml_and_xmlschema", "it runs SQL given as text"},
      {"query_to_xmlschema", "it runs SQL given as text"},
      {"cursor_to_xml", "it runs SQL given as text"},
      {"table_to_xml", "it dumps whole tables"},
      {"schema_to_xml", "it dumps whole schemas"},
      {"database_to_xml", "it dumps the whole database"},
      {"set_config", "it changes server settings"},
      {"current_setting", "it reads server settings"},
      {"pg_terminate_backend", "it controls the server"},
      {"pg_cancel_backend", "it controls the server"},
      {"pg_reload_conf", "it controls the server"},
      {"pg_rotate_logfile", "it controls the server"},
      {"pg_promote", "it controls the server"},
      {"pg_switch_wal", "it controls the server"},
      {"pg_create_restore_point", "it controls the server"},
      {"pg_backup_start", "it controls the server"},
      {"pg_backup_stop", "it controls the server"},
      {"nextval", "it changes a sequence"},
      {"setval", "it changes a sequence"},
      {"currval", "it reads session state"},
      {"lastval", "it reads session state"},
      {"txid_current", "it starts a write transaction"},
      {"pg_current_xact_id", "it starts a write transaction"},
      {"pg_notify", "it sends notifications"},
      {"pg_logical_emit_message", "it writes to the log"},
      {"version", "it reveals the server's version"},
      {"inet_server_addr", "it reveals the server's address"},
      {"inet_server_port", "it reveals the server's address"},
      {"inet_client_addr", "it reveals network addresses"},
      {"load_extension", "it loads native code"},
  };
  const std::string lower = text::ToLower(name);
  if (auto it = kDangerous.find(lower); it != kDangerous.end()) return it->second;
  static const std::pair<std::string_view, std::string_view> kPrefixes[] = {
      {"lo_", "it reads or writes large objects and files"},
      {"dblink", "it connects to other databases"},
      {"pg_ls_", "it lists the server's files"},
      {"pg_read_", "it reads the server's files"},
      {"pg_advisory", "it takes locks"},
      {"pg_try_advisory", "it takes locks"},
      {"pg_replication_", "it controls replication"},
      {"pg_create_", "it changes the server"},
      {"pg_drop_", "it changes the server"},
      {"pg_stat_reset", "it changes the server"},
  };
  for (const auto& [prefix, reason] : kPrefixes)
    if (text::StartsWith(lower, prefix)) return reason;
  if (lower == "loread" || lower == "lowrite") return "it reads or writes large objects";
  return std::nullopt;
}

// "InsertStmt" -> "INSERT", "CreateTableAsStmt" -> "CREATE TABLE AS".
std::string StatementName(std::string_view node) {
  static const std::unordered_map<std::string_view, std::string_view> kNames = {
      {"VariableSetStmt", "SET"},
      {"VariableShowStmt", "SHOW"},
      {"TransactionStmt", "BEGIN/COMMIT/ROLLBACK"},
      {"CreateStmt", "CREATE TABLE"},
      {"DropStmt", "DROP"},
      {"ExplainStmt", "EXPLAIN"},
      {"VacuumStmt", "VACUUM/ANALYZE"},
      {"CopyStmt", "COPY"}};
  if (auto it = kNames.find(node); it != kNames.end()) return std::string(it->second);
  if (node.size() > 4 && node.substr(node.size() - 4) == "Stmt") node.remove_suffix(4);
  std::string out;
  for (size_t i = 0; i < node.size(); ++i) {
    const char c = node[i];
    if (i > 0 && c >= 'A' && c <= 'Z') out += ' ';
    out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  return out;
}

bool IsStatementNode(std::string_view key) {
  return key.size() > 4 && key.substr(key.size() - 4) == "Stmt" && key.front() >= 'A' &&
         key.front() <= 'Z';
}

// How bad a finding is: the worst one is reported.
enum class Severity { kWrite = 0, kInto, kLock, kFunction, kCatalog, kOther, kNone };

class Walker {
 public:
  void Walk(const json& node, int depth) {
    if (depth > kMaxDepth) {
      Report(Severity::kOther, "the SQL is nested too deeply");
      return;
    }
    if (node.is_array()) {
      for (const json& item : node) Walk(item, depth + 1);
      return;
    }
    if (!node.is_object()) return;
    if (node.contains("relname")) CheckRelation(node);
    for (const auto& [key, value] : node.items()) {
      if (key == "intoClause") {
        Report(Severity::kInto, "SELECT ... INTO writes a table");
      } else if (key == "lockingClause") {
        CheckLocking(value);
      } else if (IsStatementNode(key) && key != "SelectStmt") {
        Report(Severity::kWrite,
               fmt::format("a data-modifying statement ({}) inside the query is not allowed",
                           StatementName(key)));
      } else if (key == "FuncCall") {
        CheckFunction(value);
      } else if (key == "SQLValueFunction") {
        CheckValueFunction(value);
      } else if (key == "XmlExpr" || key == "XmlSerialize" || key == "RangeTableFunc") {
        Report(Severity::kFunction, "XML functions are not allowed");
      }
      Walk(value, depth + 1);
    }
  }

  std::optional<std::string> worst() const { return worst_; }

 private:
  void Report(Severity severity, std::string message) {
    if (severity >= severity_) return;
    severity_ = severity;
    worst_ = std::move(message);
  }

  static std::string StringField(const json& node, const char* key) {
    auto it = node.find(key);
    return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  void CheckLocking(const json& clauses) {
    std::string strength;
    if (clauses.is_array() && !clauses.empty()) {
      const json& first = clauses.front();
      const json& clause = first.contains("LockingClause") ? first["LockingClause"] : first;
      if (clause.is_object()) strength = StringField(clause, "strength");
    }
    std::string_view what = "FOR UPDATE";
    if (strength == "LCS_FORNOKEYUPDATE") what = "FOR NO KEY UPDATE";
    if (strength == "LCS_FORSHARE") what = "FOR SHARE";
    if (strength == "LCS_FORKEYSHARE") what = "FOR KEY SHARE";
    Report(Severity::kLock, fmt::format("{} locks rows and is not allowed", what));
  }

  void CheckFunction(const json& call) {
    std::vector<std::string> parts;
    if (auto it = call.find("funcname"); it != call.end() && it->is_array()) {
      for (const json& part : *it) {
        const json* str = nullptr;
        if (part.contains("String")) str = &part["String"];
        if (str == nullptr || !str->is_object()) continue;
        std::string value = StringField(*str, "sval");
        if (value.empty()) value = StringField(*str, "str");
        parts.push_back(std::move(value));
      }
    }
    if (parts.empty()) {
      Report(Severity::kFunction, "a function call could not be read");
      return;
    }
    const std::string& name = parts.back();
    const std::string full = text::Join(parts, ".");
    if (auto reason = DangerousFunctionReason(name)) {
      Report(Severity::kFunction, fmt::format("function {} is not allowed ({})", full, *reason));
      return;
    }
    if (parts.size() > 2 || (parts.size() == 2 && parts.front() != "pg_catalog")) {
      Report(
          Severity::kFunction,
          fmt::format("function {} is not allowed (only built-in functions may be called)", full));
      return;
    }
    if (!AllowedFunctions().contains(name))
      Report(Severity::kFunction,
             fmt::format("function {} is not allowed (it is not on the list of safe functions)",
                         full));
  }

  void CheckValueFunction(const json& node) {
    static const std::set<std::string, std::less<>> kAllowed = {
        "SVFOP_CURRENT_DATE",      "SVFOP_CURRENT_TIME",        "SVFOP_CURRENT_TIME_N",
        "SVFOP_CURRENT_TIMESTAMP", "SVFOP_CURRENT_TIMESTAMP_N", "SVFOP_LOCALTIME",
        "SVFOP_LOCALTIME_N",       "SVFOP_LOCALTIMESTAMP",      "SVFOP_LOCALTIMESTAMP_N"};
    const std::string op = node.is_object() ? StringField(node, "op") : std::string();
    if (kAllowed.contains(op)) return;
    std::string name = text::StartsWith(op, "SVFOP_") ? op.substr(6) : op;
    Report(Severity::kFunction,
           fmt::format("{} is not allowed", name.empty() ? "this value" : name));
  }

  void CheckRelation(const json& range_var) {
    const std::string catalog = StringField(range_var, "catalogname");
    const std::string schema = StringField(range_var, "schemaname");
    const std::string relation = StringField(range_var, "relname");
    if (!catalog.empty()) {
      Report(Severity::kCatalog, "references to other databases are not allowed");
      return;
    }
    const std::string lower_schema = text::ToLower(schema);
    if (lower_schema == "pg_catalog" || lower_schema == "information_schema" ||
        text::StartsWith(lower_schema, "pg_toast") || text::StartsWith(lower_schema, "pg_temp")) {
      Report(Severity::kCatalog,
             fmt::format("the system schema {} is not allowed ({}.{})", schema, schema, relation));
      return;
    }
    if (schema.empty() && text::StartsWith(relation, "pg_"))
      Report(Severity::kCatalog, fmt::format("the system catalog {} is not allowed", relation));
  }

  Severity severity_ = Severity::kNone;
  std::optional<std::string> worst_;
};

}  // namespace

Result<void> CheckPostgresSelect(std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos)
    return Fail(ErrorCode::kUnsafeSql, "the SQL contains a NUL character");
  if (sql.size() > kMaxSqlBytes)
    return Fail(ErrorCode::kUnsafeSql,
                fmt::format("the SQL is longer than {} bytes", kMaxSqlBytes));
  // libpg_query copies invalid bytes into its JSON tree, which the JSON parser then rejects:
  // without this check such SQL failed as an internal error instead of being refused.
  if (!text::IsValidUtf8(sql)) return Fail(ErrorCode::kUnsafeSql, "the SQL is not valid UTF-8");

  const std::string text(sql);
  PgQueryParseResult parsed = pg_query_parse(text.c_str());
  if (parsed.error != nullptr) {
    std::string message = parsed.error->message ? parsed.error->message : "unknown error";
    if (parsed.error->cursorpos > 0)
      message += fmt::format(" (at character {})", parsed.error->cursorpos);
    pg_query_free_parse_result(parsed);
    return Fail(ErrorCode::kUnsafeSql, "the SQL does not parse: " + message);
  }
  json tree = json::parse(parsed.parse_tree ? parsed.parse_tree : "", nullptr, false);
  pg_query_free_parse_result(parsed);
  if (tree.is_discarded() || !tree.is_object())
    return Fail(ErrorCode::kInternal, "the SQL parser returned an unreadable tree");

  const json& stmts = tree.contains("stmts") ? tree["stmts"] : json::array();
  if (!stmts.is_array() || stmts.empty())
    return Fail(ErrorCode::kUnsafeSql, "the SQL holds no statement");
  if (stmts.size() > 1) return Fail(ErrorCode::kUnsafeSql, "only one statement is allowed");
  const json& raw = stmts[0];
  const json& stmt = raw.is_object() && raw.contains("stmt") ? raw["stmt"] : raw;
  if (!stmt.is_object() || stmt.empty())
    return Fail(ErrorCode::kUnsafeSql, "the SQL holds no statement");
  const std::string kind = stmt.begin().key();
  if (kind != "SelectStmt")
    return Fail(ErrorCode::kUnsafeSql,
                fmt::format("only SELECT statements are allowed; this is {}",
                            IsStatementNode(kind) ? StatementName(kind) : kind));

  Walker walker;
  walker.Walk(stmt, 0);
  if (auto problem = walker.worst()) return Fail(ErrorCode::kUnsafeSql, *problem);
  return {};
}

}  // namespace helios::security
