// JSON bodies of the HTTP API, shared by the server and the CLI's `ask --json`, so both print
// the same shape. Encoders never throw: text that is not valid UTF-8 is written with U+FFFD,
// and non-finite numbers are written as null.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "nl2sql/service.h"

namespace helios::server {

// {"session_id","turn","sql","explanation","columns","rows","row_count","truncated","source",
//  "confidence","correction_rounds","cache_hit","latency_ms",
//  "chart":{"type","x","y","spec": Vega-Lite object or null,"note"},"suggestions":[string]}
// confidence is null for a language model's answer (it has no calibrated confidence);
// correction_rounds counts the rounds in which the database's error went back to the model.
// Cells keep their type: int64 -> integer, double -> number (NaN/inf -> null), text -> string,
// NULL -> null, blob -> base64 string. chart.x is "" when there is no x axis.
std::string AnswerToJson(const nl2sql::Answer& answer);

// {"error":{"code":ErrorCodeName(code),"message":message}}, plus "details":{name:[values]}
// when the error carries any.
std::string ErrorToJson(const Error& error);

// The same envelope for transport-level failures that have no ErrorCode
// (e.g. "method_not_allowed").
std::string ErrorBodyToJson(std::string_view code, std::string_view message);

// {"status":"ok"|"degraded","version","uptime_seconds",
//  "dependencies":{"<name>":{"status":"ok"|"down","detail","latency_ms"}}}
std::string HealthToJson(const nl2sql::HealthReport& report, std::string_view version,
                         int64_t uptime_seconds);

// {"session_id","turn_count","turns":[{"turn","question","sql","row_count"}]}
std::string SessionToJson(const nl2sql::SessionView& session);
// {"sessions":[{"session_id","turn_count","database","last_question","updated_at"}, ...]}
std::string SessionListToJson(const std::vector<nl2sql::SessionListItem>& sessions);

// {"token","token_type":"Bearer","expires_at": RFC 3339 UTC,"expires_in": seconds}
std::string LoginToJson(std::string_view token, int64_t expires_at_unix, int64_t expires_in);

// Standard base64 (RFC 4648, with padding).
std::string Base64Encode(std::string_view bytes);

}  // namespace helios::server
