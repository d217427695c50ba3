#include "server/api_json.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <variant>

#include "common/json_writer.h"

namespace helios::server {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::string Dump(const OrderedJson& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

OrderedJson Number(double d) {
  if (!std::isfinite(d)) return nullptr;
  return d;
}

// Significant digits of a decimal's text ("-0012.3400" has 4: 1234).
size_t SignificantDigits(std::string_view digits) {
  std::string all;
  for (char c : digits) {
    if (c >= '0' && c <= '9') all += c;
    if (c == 'e' || c == 'E') break;
  }
  const size_t first = all.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  size_t last = all.size();
  // Zeros after the point are not significant; zeros before it are (1200 has 4 digits here,
  // which is the safe side).
  if (digits.find('.') != std::string_view::npos) {
    while (last > first + 1 && all[last - 1] == '0') --last;
  }
  return last - first;
}

// An exact decimal becomes a JSON number when a double holds it exactly to its last digit (at
// most 15 significant digits: every JSON reader gets the same value back), and a JSON string
// with the exact digits otherwise. docs/api.md states this.
void WriteDecimal(json::Writer& out, const db::Decimal& d) {
  if (SignificantDigits(d.digits) <= 15) {
    if (auto parsed = db::AsDouble(db::Value{d}); parsed && std::isfinite(*parsed)) {
      out.Double(*parsed);
      return;
    }
  }
  out.String(d.digits);
}

// A result cell, written straight into the answer's text: an answer of a thousand rows would
// otherwise build (and free) a JSON node per cell.
void WriteCell(json::Writer& out, const db::Value& value) {
  struct Visitor {
    json::Writer& out;
    void operator()(std::monostate) const { out.Null(); }
    void operator()(int64_t i) const { out.Int(i); }
    void operator()(double d) const { out.Double(d); }
    void operator()(const std::string& s) const { out.String(s); }
    void operator()(const db::Blob& b) const {
      out.String(Base64Encode(
          std::string_view(reinterpret_cast<const char*>(b.bytes.data()), b.bytes.size())));
    }
    void operator()(bool b) const { out.Bool(b); }
    void operator()(const db::Decimal& d) const { WriteDecimal(out, d); }
  };
  std::visit(Visitor{out}, value);
}

}  // namespace

// "2026-11-29T09:12:47.123Z" for Unix milliseconds.
std::string IsoTime(int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, unix_ms % 1000);
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 0x3F]);
    out.push_back(kAlphabet[(n >> 12) & 0x3F]);
    out.push_back(kAlphabet[(n >> 6) & 0x3F]);
    out.push_back(kAlphabet[n & 0x3F]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 0x3F]);
    out.push_back(kAlphabet[(n >> 12) & 0x3F]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 0x3F] : '=');
    out.push_back('=');
  }
  return out;
}

std::string AnswerToJson(const nl2sql::Answer& answer) {
  std::string body;
  // Most of an answer's text is its rows: a guess at their size saves the string's regrowth.
  body.reserve(512 + answer.sql.size() + answer.explanation.size() + answer.chart.spec.size() +
               answer.rows.size() * (8 + 12 * answer.columns.size()));
  json::Writer out(body);
  out.BeginObject();
  out.Member("session_id", answer.session_id);
  out.Key("turn");
  out.Int(answer.turn);
  out.Member("sql", answer.sql);
  out.Member("explanation", answer.explanation);
  out.Key("columns");
  out.StringArray(answer.columns);
  out.Key("rows");
  out.BeginArray();
  for (const db::Row& row : answer.rows) {
    out.BeginArray();
    for (const db::Value& value : row) WriteCell(out, value);
    out.EndArray();
  }
  out.EndArray();
  out.Key("row_count");
  out.UInt(answer.row_count);
  out.Key("truncated");
  out.Bool(answer.truncated);
  out.Member("source", answer.source);
  out.Key("confidence");
  out.Double(answer.confidence);
  out.Key("correction_rounds");
  out.Int(answer.correction_rounds);
  out.Key("cache_hit");
  out.Bool(answer.cache_hit);
  if (answer.cache_hit) out.Member("cached_question", answer.cached_question);
  out.Key("latency_ms");
  out.Double(answer.latency_ms);
  out.Key("chart");
  out.BeginObject();
  out.Member("type", answer.chart.type);
  out.Member("x", answer.chart.x);
  out.Key("y");
  out.StringArray(answer.chart.y);
  out.Key("spec");
  // The chart's spec is JSON text already, written by the server's own chart module: it is
  // checked, not parsed into a document and written out again. A spec that is not a JSON object
  // is a bug, shown as no chart rather than a broken answer. (The check also refuses text that
  // is not UTF-8.)
  const std::string& spec = answer.chart.spec;
  const bool object = !spec.empty() && spec.front() == '{' && nlohmann::json::accept(spec);
  if (object) {
    out.Raw(spec);
  } else {
    out.Null();
  }
  out.Member("note", answer.chart.note);
  out.EndObject();
  out.Key("suggestions");
  out.StringArray(answer.suggestions);
  out.EndObject();
  return body;
}

std::string SessionListToJson(const std::vector<nl2sql::SessionListItem>& sessions) {
  OrderedJson list = OrderedJson::array();
  for (const nl2sql::SessionListItem& s : sessions) {
    OrderedJson item;
    item["session_id"] = s.session_id;
    item["turn_count"] = s.turn_count;
    item["database"] = s.database;
    item["last_question"] = s.last_question;
    item["updated_at"] = IsoTime(s.updated_at_ms);
    list.push_back(std::move(item));
  }
  OrderedJson json;
  json["sessions"] = std::move(list);
  return Dump(json);
}

std::string SessionToJson(const nl2sql::SessionView& session) {
  OrderedJson turns = OrderedJson::array();
  for (const nl2sql::TurnView& t : session.turns) {
    OrderedJson turn;
    turn["turn"] = t.turn;
    turn["question"] = t.question;
    turn["sql"] = t.sql;
    turn["row_count"] = t.row_count;
    turns.push_back(std::move(turn));
  }
  OrderedJson json;
  json["session_id"] = session.session_id;
  json["turn_count"] = session.turn_count;
  json["turns"] = std::move(turns);
  return Dump(json);
}

std::string LoginToJson(std::string_view token, int64_t expires_at_unix, int64_t expires_in) {
  OrderedJson json;
  json["token"] = token;
  json["token_type"] = "Bearer";
  json["expires_at"] = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                                   std::chrono::sys_seconds(std::chrono::seconds(expires_at_unix)));
  json["expires_in"] = expires_in;
  return Dump(json);
}

std::string ErrorBodyToJson(std::string_view code, std::string_view message) {
  OrderedJson error;
  error["code"] = std::string(code);
  error["message"] = std::string(message);
  OrderedJson json;
  json["error"] = std::move(error);
  return Dump(json);
}

std::string ErrorToJson(const Error& error) {
  if (error.details.empty()) return ErrorBodyToJson(ErrorCodeName(error.code), error.message);
  OrderedJson details = OrderedJson::object();
  for (const auto& [name, values] : error.details) details[name] = values;
  OrderedJson body;
  body["code"] = std::string(ErrorCodeName(error.code));
  body["message"] = error.message;
  body["details"] = std::move(details);
  OrderedJson json;
  json["error"] = std::move(body);
  return Dump(json);
}

std::string HealthToJson(const nl2sql::HealthReport& report, std::string_view version,
                         int64_t uptime_seconds) {
  OrderedJson dependencies = OrderedJson::object();
  for (const nl2sql::DependencyHealth& dependency : report.dependencies) {
    OrderedJson entry;
    entry["status"] = dependency.ok ? "ok" : "down";
    entry["detail"] = dependency.detail;
    entry["latency_ms"] = Number(dependency.latency_ms);
    if (!dependency.database.empty()) entry["database"] = dependency.database;
    if (dependency.pool) {
      const db::PoolUsage& pool = *dependency.pool;
      entry["pool"] = {{"size", pool.max_size},
                       {"open", pool.open},
                       {"in_use", pool.in_use},
                       {"idle", pool.open - std::min(pool.open, pool.in_use)},
                       {"waiting", pool.waiting}};
    }
    dependencies[dependency.name] = std::move(entry);
  }
  OrderedJson json;
  json["status"] = report.ok ? "ok" : "degraded";
  json["version"] = std::string(version);
  json["uptime_seconds"] = uptime_seconds;
  json["dependencies"] = std::move(dependencies);
  return Dump(json);
}

}  // namespace helios::server
