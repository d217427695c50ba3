#include "app/cli.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "app/application.h"
#include "app/table_format.h"
#include "config/config.h"
#include "db/demo_data.h"
#include "server/api_json.h"

namespace helios::app {
namespace {

struct Overrides {
  std::string config_path;
  std::string database;
  std::string host;
  int port = -1;
};

Result<config::Config> LoadConfig(const Overrides& o) {
  auto env = config::ProcessEnvironment();
  auto cfg = o.config_path.empty() ? config::DefaultConfig(env)
                                   : config::LoadConfigFile(o.config_path, env);
  if (!cfg) return cfg;
  if (!o.database.empty()) cfg->database.url = o.database;
  if (!o.host.empty()) cfg->server.host = o.host;
  if (o.port >= 0) cfg->server.port = o.port;
  auto valid = config::Validate(*cfg);
  if (!valid) return std::unexpected(valid.error());
  return cfg;
}

observability::LogLevel ToLogLevel(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace:
      return observability::LogLevel::kTrace;
    case config::LogLevel::kDebug:
      return observability::LogLevel::kDebug;
    case config::LogLevel::kInfo:
      return observability::LogLevel::kInfo;
    case config::LogLevel::kWarn:
      return observability::LogLevel::kWarn;
    case config::LogLevel::kError:
      return observability::LogLevel::kError;
  }
  return observability::LogLevel::kInfo;
}

int PrintError(const Error& e) {
  fmt::print(stderr, "error: {}\n", e.message);
  return e.code == ErrorCode::kInvalidArgument || e.code == ErrorCode::kNotFound ? 2 : 1;
}

int Ask(const Overrides& o, const std::vector<std::string>& questions, bool json) {
  auto cfg = LoadConfig(o);
  if (!cfg) return PrintError(cfg.error());
  SystemClock clock;
  // Logs go to stderr so the answer on stdout stays clean.
  observability::Logger logger(
      std::cerr, std::max(ToLogLevel(cfg->logging.level), observability::LogLevel::kWarn),
      observability::LogFormat::kText, clock);
  auto app = Application::Build(*cfg, clock, logger);
  if (!app) return PrintError(app.error());
  std::string session;
  int failures = 0;
  for (const auto& q : questions) {
    nl2sql::AskRequest request;
    request.question = q;
    request.session_id = session;
    auto answer = (*app)->pipeline().Ask(request);
    if (!answer) {
      ++failures;
      if (json) {
        fmt::print("{}\n", server::ErrorToJson(answer.error()));
      } else {
        fmt::print("Q: {}\nerror ({}): {}\n\n", q, ErrorCodeName(answer.error().code),
                   answer.error().message);
      }
      continue;
    }
    session = answer->session_id;
    if (json) {
      fmt::print("{}\n", server::AnswerToJson(*answer));
      continue;
    }
    fmt::print("Q: {}\nSQL: {}\nExplanation: {}\n", q, answer->sql, answer->explanation);
    fmt::print("{}", FormatTable(answer->columns, answer->rows));
    fmt::print("{} row{}{} · chart: {} · confidence {:.2f} · {:.1f} ms\n\n", answer->row_count,
               answer->row_count == 1 ? "" : "s", answer->truncated ? " (truncated)" : "",
               answer->chart.type, answer->confidence, answer->latency_ms);
  }
  return failures == 0 ? 0 : 1;
}

int DemoData(const std::string& path, bool force, uint64_t seed) {
  auto summary = db::WriteDemoDatabase(path, seed, force);
  if (!summary) return PrintError(summary.error());
  fmt::print("Wrote the demo database to {}:\n", path);
  for (const auto& t : summary->tables) fmt::print("  {:<12} {:>8} rows\n", t.table, t.rows);
  return 0;
}

int ConfigCheck(const Overrides& o) {
  auto cfg = LoadConfig(o);
  if (!cfg) return PrintError(cfg.error());
  fmt::print("{}: OK\n{}", o.config_path.empty() ? "(defaults and environment)" : o.config_path,
             config::RedactedSummary(*cfg));
  return 0;
}

int ServeCommand(const Overrides& o) {
  auto cfg = LoadConfig(o);
  if (!cfg) return PrintError(cfg.error());
  SystemClock clock;
  auto logger = observability::Logger::Create(
      ToLogLevel(cfg->logging.level),
      cfg->logging.format == config::LogFormat::kJson ? "json" : "text", cfg->logging.output,
      clock);
  if (!logger) return PrintError(logger.error());
  return Serve(*cfg, clock, **logger);
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App cli{
      "HeliosDB Conversational BI: ask questions about your data in plain language and get "
      "the SQL, an explanation and the results.",
      "heliosdb-conversational-bi"};
  Overrides o;
  bool version = false;
  cli.add_flag("-V,--version", version, "Print the version and git revision");
  cli.add_option("-c,--config", o.config_path, "Configuration file (TOML)");
  cli.require_subcommand(0, 1);

  auto add_db = [&](CLI::App* sub) {
    sub->add_option("--database", o.database,
                    "Database URL, e.g. sqlite:///path/file.db (overrides the configuration)");
  };
  CLI::App* serve = cli.add_subcommand("serve", "Run the HTTP server (the default command)");
  add_db(serve);
  serve->add_option("--host", o.host, "Address to bind (overrides [server] host)");
  serve->add_option("--port", o.port, "Port to bind, 0 for any free port")
      ->check(CLI::Range(0, 65535));
  serve->fallthrough();

  std::vector<std::string> questions;
  bool json = false;
  CLI::App* ask = cli.add_subcommand(
      "ask", "Answer one question (several questions are asked as one conversation)");
  ask->add_option("question", questions, "The question(s), in plain language")->required();
  ask->add_flag("--json", json, "Print the same JSON object the API returns");
  add_db(ask);
  ask->fallthrough();

  std::string demo_path;
  bool force = false;
  uint64_t seed = 42;
  CLI::App* demo = cli.add_subcommand("demo-data", "Write the demo retail database");
  demo->add_option("path", demo_path, "Where to write the SQLite file")->required();
  demo->add_flag("--force", force, "Replace an existing file");
  demo->add_option("--seed", seed, "Random seed (the same seed gives the same data)");

  CLI::App* config_cmd = cli.add_subcommand("config", "Configuration tools");
  config_cmd->require_subcommand(1);
  CLI::App* check = config_cmd->add_subcommand("check", "Validate a configuration file");
  check->fallthrough();
  config_cmd->fallthrough();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (version) {
    fmt::print("{}\n", VersionString());
    return 0;
  }
  if (ask->parsed()) return Ask(o, questions, json);
  if (demo->parsed()) return DemoData(demo_path, force, seed);
  if (check->parsed()) return ConfigCheck(o);
  return ServeCommand(o);
}

}  // namespace helios::app
