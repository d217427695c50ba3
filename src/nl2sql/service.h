// The request/answer contract between the transport (HTTP, CLI) and the question pipeline.
// The HTTP server and the `ask` command depend only on QueryService, so either can be tested
// with a fake and the pipeline can grow (cache, LLM, several data sources) behind it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/data_source.h"
#include "db/value.h"

namespace helios::nl2sql {

// Who is calling: the tenant, and the user of that tenant ("" when authentication is off: the
// loopback demo has one anonymous user). A session belongs to the user who started it.
struct Caller {
  std::string tenant_id = "default";
  std::string user;
};

struct AskRequest {
  std::string tenant_id = "default";
  std::string user;        // who asks (see Caller); a session is continued only by its owner
  std::string session_id;  // empty: start a new session
  std::string question;
  std::string database;  // empty: the default data source
};

// The chart that fits an answer, chosen by the server from the query and the result's shape
// (nl2sql/chart.h). The browser only renders `spec`; it never decides or runs anything.
struct ChartSuggestion {
  std::string type;            // "number", "bar", "line", "scatter", "table"
  std::string x;               // column for the x axis / categories; empty for none
  std::vector<std::string> y;  // measure columns
  // A Vega-Lite v6 specification (a JSON object, data inline) for "bar", "line" and "scatter";
  // empty for "number" (shown as a figure) and "table".
  std::string spec;
  // What the chart leaves out, for the reader ("Top 20 of 57 countries; the other 37 as
  // 'Other'"); empty when it shows every row.
  std::string note;
};

struct Answer {
  std::string session_id;
  int turn = 0;     // 1-based position of this answer in the session
  std::string sql;  // the SQL that ran, literals shown inline
  std::string explanation;
  std::vector<std::string> columns;
  std::vector<db::Row> rows;
  size_t row_count = 0;    // rows returned (after the cap)
  bool truncated = false;  // the cap dropped rows
  std::string source;      // "engine", "llm", or "cache" (a re-bound earlier answer)
  double confidence = 0;   // 0..1 for the engine; NaN (shown as null) for a model's answer
  // The engine's signals behind `confidence` (engine/confidence.h), for calibration by the eval
  // command; not shown to users. Empty for other answers.
  std::vector<double> confidence_features;
  int correction_rounds = 0;  // LLM answers: rounds in which the database's error went back
  bool cache_hit = false;
  bool cache_lookup = false;    // the semantic cache was consulted (hit or miss)
  std::string cached_question;  // on a hit: the earlier question whose query was re-used
  double latency_ms = 0;
  // Of latency_ms, the time the database took to run the SQL (including waiting for a pooled
  // connection): what is left is the server's own part of the answer.
  double database_ms = 0;
  ChartSuggestion chart;
  // Follow-up questions the engine is known to answer in this conversation, for the user to
  // pick; empty when there are none.
  std::vector<std::string> suggestions;
};

struct DependencyHealth {
  std::string name;  // "database"
  bool ok = false;
  std::string detail;  // safe to show: no credentials or paths
  double latency_ms = 0;
  std::string database = {};               // for a data source: its name ("default", "warehouse")
  std::optional<db::PoolUsage> pool = {};  // for a data source: its connections
  // False for a dependency the service answers without (Redis: local state meanwhile); it is
  // reported but does not make the instance unhealthy.
  bool required = true;
};

struct HealthReport {
  bool ok = false;
  std::vector<DependencyHealth> dependencies;
};

// A conversation as the API shows it: the turns still kept (the most recent ones), without
// result rows.
struct TurnView {
  int turn = 0;  // 1-based number of the turn in the session
  std::string question;
  std::string sql;
  size_t row_count = 0;
};

struct SessionView {
  std::string session_id;
  int turn_count = 0;  // turns ever answered
  std::vector<TurnView> turns;
};

// A session as the list of a user's sessions shows it.
struct SessionListItem {
  std::string session_id;
  int turn_count = 0;
  std::string database;
  std::string last_question;
  int64_t updated_at_ms = 0;  // Unix milliseconds of the last turn
};

// Thread-safety: implementations are called concurrently from the server's worker threads.
// Every call names the caller (tenant and user). A session of another tenant, or of another
// user of the same tenant, is kNotFound with the same message as a session that does not
// exist, and the call leaves it as it was. Ask with another user's session_id is kNotFound
// too; with an unknown one it starts a session of that id.
class QueryService {
 public:
  virtual ~QueryService() = default;
  virtual Result<Answer> Ask(const AskRequest& request) = 0;
  virtual HealthReport Health() = 0;
  virtual Result<SessionView> GetSession(const Caller& caller, const std::string& session_id) = 0;
  // The caller's own live sessions, most recently used first.
  virtual Result<std::vector<SessionListItem>> ListSessions(const Caller& caller) = 0;
  // Forgets the session; kNotFound when the caller has none of that id.
  virtual Result<void> EndSession(const Caller& caller, const std::string& session_id) = 0;
  // The user says turn `turn` of their session was answered correctly: its question and SQL
  // become an example for the language model's prompts (this tenant's only). kNotFound for an
  // unknown session (or another user's) or a turn no longer kept.
  virtual Result<void> MarkCorrect(const Caller& caller, const std::string& session_id,
                                   int turn) = 0;
};

}  // namespace helios::nl2sql
