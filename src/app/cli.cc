#include "app/cli.h"

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app/application.h"
#include "app/table_format.h"
#include "app/version.h"
#include "auth/password.h"
#include "auth/user_store.h"
#include "common/text.h"
#include "config/config.h"
#include "db/demo_data.h"
#include "db/demo_sql.h"
#include "eval/benchmark.h"
#include "eval/calibrate.h"
#include "eval/report.h"
#include "eval/runner.h"
#include "nl2sql/engine/confidence.h"
#include "security/sanitize.h"
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
    auto answer = (*app)->service().Ask(request);
    if (!answer) {
      ++failures;
      // Like the server's replies: a dependency's words (a provider echoing the API key it was
      // sent, a database naming a path) are sanitised before they are shown.
      Error shown = answer.error();
      if (shown.code == ErrorCode::kDatabaseError || shown.code == ErrorCode::kUnavailable ||
          shown.code == ErrorCode::kDeadlineExceeded || shown.code == ErrorCode::kInternal) {
        shown.message = security::SanitizeErrorMessage(shown.message);
      }
      if (json) {
        fmt::print("{}\n", server::ErrorToJson(shown));
      } else {
        fmt::print("Q: {}\nerror ({}): {}\n\n", q, ErrorCodeName(shown.code), shown.message);
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

// A directory of our own under the system's temp directory, removed with its contents.
class ScratchDir {
 public:
  static Result<ScratchDir> Create() {
    std::error_code ec;
    std::string dir = (std::filesystem::temp_directory_path(ec) / "helios-demo-XXXXXX").string();
    if (ec || mkdtemp(dir.data()) == nullptr)
      return Fail(ErrorCode::kUnavailable, "cannot create a temporary directory");
    return ScratchDir(std::move(dir));
  }
  ScratchDir(ScratchDir&& other) noexcept : dir_(std::exchange(other.dir_, "")) {}
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& path() const { return dir_; }

 private:
  explicit ScratchDir(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// `demo-data --sql DIALECT [PATH]`: the demo as a SQL script, to standard output or to PATH.
// The rows come from a SQLite demo written to a temporary directory first, so the script holds
// exactly what `demo-data PATH --seed N` writes.
int DemoSql(db::Dialect dialect, const std::string& path, bool force, uint64_t seed) {
  const std::string name = std::filesystem::path(path).filename().string();
  std::error_code ec;
  if (!path.empty() && std::filesystem::exists(std::filesystem::symlink_status(path, ec)) && !force)
    return PrintError(Error(ErrorCode::kInvalidArgument,
                            fmt::format("'{}' already exists; refusing to overwrite it (--force "
                                        "replaces it)",
                                        name)));
  auto scratch = ScratchDir::Create();
  if (!scratch) return PrintError(scratch.error());
  const std::string sqlite_path = scratch->path() + "/demo.db";
  if (auto summary = db::WriteDemoDatabase(sqlite_path, seed); !summary)
    return PrintError(summary.error());

  if (path.empty()) {
    // A reader that goes away early (`| head`) makes the write fail instead of killing the
    // process, so the temporary directory is still removed.
    std::signal(SIGPIPE, SIG_IGN);
    auto written = db::WriteDemoSql(sqlite_path, dialect, std::cout);
    std::cout.flush();
    if (written && !std::cout)
      written = Fail(ErrorCode::kUnavailable, "writing the SQL script failed");
    return written ? 0 : PrintError(written.error());
  }
  // Written next to PATH and renamed into place, so PATH never holds half a script.
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0)
    return PrintError(Error(ErrorCode::kUnavailable,
                            fmt::format("cannot create '{}': {}", name, std::strerror(errno))));
  close(fd);
  struct RemoveUnlessKept {
    const std::string& file;
    bool keep = false;
    ~RemoveUnlessKept() {
      std::error_code ignored;
      if (!keep) std::filesystem::remove(file, ignored);
    }
  } temp{tmp};
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    auto written = db::WriteDemoSql(sqlite_path, dialect, out);
    out.close();
    if (written && !out) written = Fail(ErrorCode::kUnavailable, "writing the SQL script failed");
    if (!written) return PrintError(written.error());
  }
  // mkstemp made it private; a script is as readable as the SQLite demo.
  std::filesystem::permissions(
      tmp,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
          std::filesystem::perms::group_read | std::filesystem::perms::others_read,
      ec);
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return PrintError(
        Error(ErrorCode::kUnavailable, fmt::format("cannot write '{}': {}", name, ec.message())));
  temp.keep = true;
  fmt::print("Wrote the demo database as a {} script to {}\n",
             dialect == db::Dialect::kPostgres ? "PostgreSQL" : "MySQL/MariaDB", path);
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

// `user add|remove|list`: edits the users file ([auth] users_file, or --users-file).
struct UserArgs {
  std::string users_file;
  std::string name;
  std::string tenant;
  std::vector<std::string> roles;
  bool password_stdin = false;
  bool json = false;
};

// Exit codes of the user commands: 0 done, 1 the operation failed, 2 the command was wrong.
constexpr int kUserOk = 0;
constexpr int kUserFailed = 1;
constexpr int kUserUsage = 2;

int UserFail(int code, std::string_view message) {
  fmt::print(stderr, "error: {}\n", message);
  return code;
}

// The terminal's settings while a password is typed without echo, restored by the signal
// handler if the prompt is interrupted.
termios g_saved_termios;

void RestoreTerminalAndDie(int sig) {
  ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Reads one line from the terminal on stdin with echo off, after printing prompt to stderr.
std::optional<std::string> PromptWithoutEcho(std::string_view prompt) {
  if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return std::nullopt;
  termios quiet = g_saved_termios;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  auto old_int = std::signal(SIGINT, RestoreTerminalAndDie);
  auto old_term = std::signal(SIGTERM, RestoreTerminalAndDie);
  auto old_hup = std::signal(SIGHUP, RestoreTerminalAndDie);
  // Echo goes off (dropping anything typed before) before the prompt appears, so nothing typed
  // after the prompt is shown or lost.
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  fmt::print(stderr, "{}", prompt);
  std::fflush(stderr);
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  std::signal(SIGHUP, old_hup);
  fmt::print(stderr, "\n");
  if (!got) return std::nullopt;
  return line;
}

// The new user's password: one line of stdin with --password-stdin, otherwise typed twice at
// the terminal. nullopt after printing why (a usage error).
std::optional<std::string> ReadNewPassword(const UserArgs& u) {
  if (u.password_stdin) {
    std::string line;
    if (!std::getline(std::cin, line) && line.empty()) {
      UserFail(kUserUsage, "--password-stdin: no password on standard input");
      return std::nullopt;
    }
    if (line.ends_with('\r')) line.pop_back();
    return line;
  }
  if (::isatty(STDIN_FILENO) == 0) {
    UserFail(kUserUsage,
             "standard input is not a terminal: pass the password with --password-stdin");
    return std::nullopt;
  }
  auto first = PromptWithoutEcho(fmt::format("Password for {}: ", u.name));
  if (!first) {
    UserFail(kUserUsage, "no password entered");
    return std::nullopt;
  }
  if (auto valid = auth::CheckNewPassword(*first); !valid) {
    UserFail(kUserUsage, valid.error().message);
    return std::nullopt;
  }
  auto second = PromptWithoutEcho("Repeat the password: ");
  if (!second || *second != *first) {
    UserFail(kUserUsage, "the passwords do not match");
    return std::nullopt;
  }
  return first;
}

// The users file: --users-file, else [auth] users_file from the configuration.
Result<std::string> UsersFilePath(const Overrides& o, const UserArgs& u) {
  if (!u.users_file.empty()) return u.users_file;
  auto cfg = LoadConfig(o);
  if (!cfg) return std::unexpected(cfg.error());
  return cfg->auth.users_file;
}

int UserAdd(const Overrides& o, UserArgs u) {
  if (u.roles.empty()) u.roles.emplace_back(auth::kRoleAnalyst);
  // Everything about the entry is checked before asking for a password.
  auth::User user{u.name, u.tenant, u.roles, ""};
  if (!auth::IsValidUsername(user.username)) {
    return UserFail(kUserUsage, "the username must be 1-64 characters of A-Z a-z 0-9 . _ @ -");
  }
  if (!auth::IsValidTenant(user.tenant)) {
    return UserFail(kUserUsage, "the tenant must be 1-64 characters of A-Z a-z 0-9 . _ -");
  }
  for (size_t i = 0; i < user.roles.size(); ++i) {
    if (!auth::IsValidRole(user.roles[i])) {
      return UserFail(kUserUsage,
                      fmt::format("role \"{}\" must be 1-32 characters of a-z _", user.roles[i]));
    }
    if (std::find(user.roles.begin(), user.roles.begin() + i, user.roles[i]) !=
        user.roles.begin() + i) {
      return UserFail(kUserUsage, fmt::format("role \"{}\" is given twice", user.roles[i]));
    }
  }
  auto path = UsersFilePath(o, u);
  if (!path) return PrintError(path.error());
  auto store = auth::UserStore::Load(*path);
  if (!store && store.error().code == ErrorCode::kNotFound) store = auth::UserStore();
  if (!store) return UserFail(kUserFailed, store.error().message);
  if (store->Find(user.username) != nullptr) {
    return UserFail(kUserFailed,
                    fmt::format("user \"{}\" already exists in {}", user.username, *path));
  }

  auto password = ReadNewPassword(u);
  if (!password) return kUserUsage;
  if (auto valid = auth::CheckNewPassword(*password); !valid) {
    return UserFail(kUserUsage, valid.error().message);
  }
  auto hash = auth::HashPassword(*password);
  if (!hash) return UserFail(kUserFailed, hash.error().message);
  user.password_hash = std::move(*hash);
  // Reload under the lock: another `user` command may have saved the file meanwhile.
  auto lock = auth::UsersFileLock::Acquire(*path);
  if (!lock) return UserFail(kUserFailed, lock.error().message);
  store = auth::UserStore::Load(*path);
  if (!store && store.error().code == ErrorCode::kNotFound) store = auth::UserStore();
  if (!store) return UserFail(kUserFailed, store.error().message);
  if (auto added = store->Add(user); !added) return UserFail(kUserFailed, added.error().message);
  if (auto saved = store->Save(*path); !saved) return UserFail(kUserFailed, saved.error().message);
  fmt::print("Added user {} (tenant {}, roles {}) to {}\n", user.username, user.tenant,
             text::Join(user.roles, ", "), *path);
  return kUserOk;
}

int UserRemove(const Overrides& o, const UserArgs& u) {
  auto path = UsersFilePath(o, u);
  if (!path) return PrintError(path.error());
  auto lock = auth::UsersFileLock::Acquire(*path);
  if (!lock) return UserFail(kUserFailed, lock.error().message);
  auto store = auth::UserStore::Load(*path);
  if (!store) return UserFail(kUserFailed, store.error().message);
  if (auto removed = store->Remove(u.name); !removed) {
    return UserFail(kUserFailed, fmt::format("{} in {}", removed.error().message, *path));
  }
  if (auto saved = store->Save(*path); !saved) return UserFail(kUserFailed, saved.error().message);
  fmt::print("Removed user {} from {}\n", u.name, *path);
  return kUserOk;
}

// Lists users without their password hashes.
int UserList(const Overrides& o, const UserArgs& u) {
  auto path = UsersFilePath(o, u);
  if (!path) return PrintError(path.error());
  auto store = auth::UserStore::Load(*path);
  if (!store) return UserFail(kUserFailed, store.error().message);
  const auto& users = store->List();
  if (u.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& user : users) {
      list.push_back({{"username", user.username}, {"tenant", user.tenant}, {"roles", user.roles}});
    }
    fmt::print("{}\n", nlohmann::ordered_json{{"users", std::move(list)}}.dump());
    return kUserOk;
  }
  if (users.empty()) {
    fmt::print("No users in {}\n", *path);
    return kUserOk;
  }
  size_t name_width = std::string_view("USERNAME").size();
  size_t tenant_width = std::string_view("TENANT").size();
  for (const auto& user : users) {
    name_width = std::max(name_width, user.username.size());
    tenant_width = std::max(tenant_width, user.tenant.size());
  }
  fmt::print("{:<{}}  {:<{}}  {}\n", "USERNAME", name_width, "TENANT", tenant_width, "ROLES");
  for (const auto& user : users) {
    fmt::print("{:<{}}  {:<{}}  {}\n", user.username, name_width, user.tenant, tenant_width,
               text::Join(user.roles, ","));
  }
  return kUserOk;
}

// `eval FILE --db-root DIR`: the engine's execution accuracy on a text-to-SQL benchmark.
struct EvalArgs {
  std::string file;
  std::string db_root;
  std::string format = "auto";
  std::string output;
  size_t jobs = 0;   // 0: every core
  size_t limit = 0;  // 0: every item
  std::vector<std::string> databases;
  size_t show_wrong = 10;
  size_t top_databases = 20;
  double threshold = -1;  // <0: the product's default
  size_t folds = 5;
  int fold = -1;       // keep only this fold's databases
  int skip_fold = -1;  // leave this fold's databases out
  bool calibrate = false;
  double target_precision = 0.9;
  std::string confidence_model = "trees";  // or "logistic"
  std::string write_model;                 // directory for the engine's confidence_*.inc
};

// Writes every file or none: each goes to a temporary file first, and only when all are written
// are they renamed into place.
Result<void> WriteTexts(const std::vector<std::pair<std::string, std::string>>& files) {
  auto clean = [&] {
    std::error_code ignored;
    for (const auto& [path, text] : files) std::filesystem::remove(path + ".tmp", ignored);
  };
  for (const auto& [path, text] : files) {
    std::ofstream out(path + ".tmp", std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      clean();
      return Fail(ErrorCode::kUnavailable, fmt::format("cannot write '{}.tmp'", path));
    }
  }
  for (const auto& [path, text] : files) {
    std::error_code ec;
    std::filesystem::rename(path + ".tmp", path, ec);
    if (ec) {
      clean();
      return Fail(ErrorCode::kUnavailable,
                  fmt::format("cannot write '{}': {}", path, ec.message()));
    }
  }
  return {};
}

int EvalCommand(const EvalArgs& a) {
  auto format = eval::ParseFormat(a.format);
  if (!format) return PrintError(format.error());
  std::error_code ec;
  if (!std::filesystem::is_directory(a.db_root, ec))
    return PrintError(
        Error(ErrorCode::kNotFound, fmt::format("--db-root '{}' is not a directory", a.db_root)));
  auto benchmark = eval::ReadBenchmark(a.file, *format);
  if (!benchmark) return PrintError(benchmark.error());
  if (!a.databases.empty()) {
    const std::set<std::string> wanted(a.databases.begin(), a.databases.end());
    std::erase_if(benchmark->items,
                  [&](const eval::Item& item) { return !wanted.contains(item.database); });
  }
  if (a.fold >= 0 || a.skip_fold >= 0) {
    if (std::max(a.fold, a.skip_fold) >= static_cast<int>(a.folds))
      return PrintError(Error(ErrorCode::kInvalidArgument,
                              fmt::format("folds are numbered 0 to {}", a.folds - 1)));
    std::erase_if(benchmark->items, [&](const eval::Item& item) {
      const int f = static_cast<int>(eval::FoldOf(item.database, a.folds));
      return (a.fold >= 0 && f != a.fold) || (a.skip_fold >= 0 && f == a.skip_fold);
    });
  }
  if (a.limit > 0 && benchmark->items.size() > a.limit) benchmark->items.resize(a.limit);
  if (benchmark->items.empty())
    return PrintError(Error(ErrorCode::kInvalidArgument, "no questions to ask"));

  eval::RunOptions options;
  options.db_root = a.db_root;
  if (a.calibrate) {
    options.confidence_threshold = 0.0;
  } else if (a.threshold >= 0) {
    options.confidence_threshold = a.threshold;
  }
  options.jobs = a.jobs > 0 ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
  // On a terminal the line is rewritten in place; otherwise (a log) one line every few seconds.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last = std::chrono::steady_clock::now();
  options.progress = [&](const eval::Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool finished = p.done == p.total;
    if (!finished && now - last < (tty ? std::chrono::milliseconds(200) : std::chrono::seconds(5)))
      return;
    last = now;
    const std::string line =
        fmt::format("eval: {}/{} questions, {}/{} databases, answered {}, correct {}", p.done,
                    p.total, p.databases_done, p.databases, p.answered, p.correct);
    if (tty) {
      fmt::print(stderr, "\r{}\x1b[K{}", line, finished ? "\n" : "");
    } else {
      fmt::print(stderr, "{}\n", line);
    }
    std::fflush(stderr);
  };
  auto report = eval::RunBenchmark(*benchmark, options);
  if (!report) return PrintError(report.error());
  std::optional<eval::Calibration> calibration;
  if (a.calibrate) {
    std::vector<std::string> names;
    for (auto n : nl2sql::engine::ConfidenceFeatureNames()) names.emplace_back(n);
    eval::CalibrationOptions co;
    co.folds = a.folds;
    co.target_precision = a.target_precision;
    co.model =
        a.confidence_model == "logistic" ? eval::ModelKind::kLogistic : eval::ModelKind::kTrees;
    auto c = eval::Calibrate(*report, std::move(names), co);
    if (!c) return PrintError(c.error());
    calibration = std::move(*c);
    // The report shows each answer's held-out probability as its confidence.
    for (size_t i = 0; i < report->results.size(); ++i)
      report->results[i].confidence = calibration->held_out_probability[i];
  }
  if (!a.output.empty()) {
    std::ofstream out(a.output, std::ios::binary | std::ios::trunc);
    out << eval::ReportToJson(*report).dump(2) << "\n";
    out.close();
    if (!out)
      return PrintError(
          Error(ErrorCode::kUnavailable, fmt::format("cannot write the report to '{}'", a.output)));
  }
  fmt::print("{}", eval::SummaryText(*report, a.top_databases, a.show_wrong));
  if (!calibration) return 0;
  fmt::print("\n{}", eval::CalibrationText(*calibration));
  if (!a.write_model.empty()) {
    const std::filesystem::path dir(a.write_model);
    if (auto w = WriteTexts(
            {{(dir / "confidence_model.inc").string(), eval::ModelInclude(*calibration)},
             {(dir / "confidence_trees.inc").string(), eval::TreesInclude(*calibration)},
             {(dir / "confidence_threshold.inc").string(), eval::ThresholdInclude(*calibration)}});
        !w)
      return PrintError(w.error());
    fmt::print("wrote the model to {}\n", a.write_model);
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App cli{
      "HeliosDB Conversational BI: ask questions about your data in plain language and get "
      "the SQL, an explanation and the results.",
      "heliosdb-conversational-bi"};
  Overrides o;
  bool version = false;
  cli.add_flag("-V,--version", version, "Print the version, git revision and build date");
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
  std::string demo_sql;
  CLI::App* demo = cli.add_subcommand("demo-data", "Write the demo retail database");
  demo->add_option("path", demo_path,
                   "Where to write the SQLite file (with --sql: the script; standard output "
                   "when omitted)");
  demo->add_flag("--force", force, "Replace an existing file");
  demo->add_option("--seed", seed, "Random seed (the same seed gives the same data)");
  demo->add_option("--sql", demo_sql,
                   "Write a SQL script that loads the demo into a PostgreSQL or MySQL/MariaDB "
                   "database instead")
      ->option_text("postgresql|postgres|mysql|mariadb")
      ->check(CLI::IsMember({"postgresql", "postgres", "mysql", "mariadb"}, CLI::ignore_case));

  CLI::App* config_cmd = cli.add_subcommand("config", "Configuration tools");
  config_cmd->require_subcommand(1);
  CLI::App* check = config_cmd->add_subcommand("check", "Validate a configuration file");
  check->fallthrough();
  config_cmd->fallthrough();

  UserArgs user_args;
  CLI::App* user = cli.add_subcommand("user", "Manage who may log in (the users file)");
  user->require_subcommand(1);
  user->fallthrough();
  auto add_users_file = [&](CLI::App* sub) {
    sub->add_option("--users-file", user_args.users_file,
                    "The users file (overrides [auth] users_file)");
    sub->fallthrough();
  };
  CLI::App* user_add = user->add_subcommand(
      "add", "Add a user; the password is asked for twice, or read from --password-stdin");
  user_add->add_option("name", user_args.name, "Username: 1-64 of A-Z a-z 0-9 . _ @ -")->required();
  user_add->add_option("--tenant", user_args.tenant, "The user's tenant")->required();
  user_add->add_option("--role", user_args.roles,
                       "A role, repeatable (default analyst; admin may do everything)");
  user_add->add_flag("--password-stdin", user_args.password_stdin,
                     "Read the password from the first line of standard input");
  add_users_file(user_add);
  CLI::App* user_remove = user->add_subcommand("remove", "Remove a user");
  user_remove->add_option("name", user_args.name, "Username")->required();
  add_users_file(user_remove);
  CLI::App* user_list = user->add_subcommand("list", "List users (never their password hashes)");
  user_list->add_flag("--json", user_args.json, "Print JSON");
  add_users_file(user_list);

  EvalArgs eval_args;
  CLI::App* eval_cmd = cli.add_subcommand(
      "eval", "Run the built-in engine over a text-to-SQL benchmark and report its accuracy");
  eval_cmd
      ->add_option("file", eval_args.file,
                   "Benchmark file: Spider/BIRD form ([{question, query, db_id}]) or "
                   "SParC/CoSQL form ([{database_id, interaction}])")
      ->required();
  eval_cmd->add_option("--db-root", eval_args.db_root, "Directory holding <db_id>/<db_id>.sqlite")
      ->required();
  eval_cmd->add_option("--format", eval_args.format, "spider or sparc (default: detected)")
      ->check(CLI::IsMember({"auto", "spider", "bird", "sparc", "cosql"}, CLI::ignore_case));
  eval_cmd->add_option("--output", eval_args.output, "Write the JSON report here");
  eval_cmd->add_option("--jobs", eval_args.jobs, "Worker threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  eval_cmd
      ->add_option("--limit", eval_args.limit,
                   "Ask only the first N questions (interactions for SParC)")
      ->check(CLI::PositiveNumber);
  eval_cmd->add_option("--databases", eval_args.databases, "Only these databases (a,b,...)")
      ->delimiter(',');
  eval_cmd->add_option("--show-wrong", eval_args.show_wrong,
                       "Wrong answers listed in the summary (default 10; all are in the report)");
  eval_cmd->add_option("--top-databases", eval_args.top_databases,
                       "Databases shown in the summary, most questions first (default 20)");
  eval_cmd
      ->add_option("--threshold", eval_args.threshold,
                   "Confidence below which the engine declines (default: the product's)")
      ->check(CLI::Range(0.0, 1.0));
  eval_cmd
      ->add_option("--folds", eval_args.folds,
                   "Folds the databases are split into, by a hash of the name (default 5)")
      ->check(CLI::Range(1, 100));
  eval_cmd->add_option("--fold", eval_args.fold, "Ask only the databases of this fold (0-based)")
      ->check(CLI::NonNegativeNumber);
  eval_cmd->add_option("--skip-fold", eval_args.skip_fold, "Leave this fold's databases out")
      ->check(CLI::NonNegativeNumber);
  eval_cmd->add_flag("--calibrate", eval_args.calibrate,
                     "Answer with no threshold, fit the confidence model by cross-validation over "
                     "the folds and report every figure on databases the model never saw");
  eval_cmd
      ->add_option("--target-precision", eval_args.target_precision,
                   "Precision the calibrated threshold must reach on held-out folds (default 0.9)")
      ->check(CLI::Range(0.5, 1.0));
  eval_cmd
      ->add_option("--confidence-model", eval_args.confidence_model,
                   "With --calibrate: the model fitted, 'trees' (gradient-boosted trees, the "
                   "default) or 'logistic'")
      ->check(CLI::IsMember({"trees", "logistic"}));
  eval_cmd->add_option("--write-model", eval_args.write_model,
                       "With --calibrate: write confidence_model.inc, confidence_trees.inc and "
                       "confidence_threshold.inc (the engine's model, src/nl2sql/engine) into this "
                       "directory");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    // The user commands promise 2 for every usage error (CLI11's own codes are 100+).
    return code != 0 && user->parsed() ? kUserUsage : code;
  }
  if (version) {
    // The build date is the commit's date (or SOURCE_DATE_EPOCH), never the time of the build,
    // so that two builds of one commit are identical: see cmake/version.cmake.
    fmt::print("{}\nbuilt {}\n", VersionString(), HELIOS_BUILD_DATE);
    return 0;
  }
  if (ask->parsed()) return Ask(o, questions, json);
  if (demo->parsed()) {
    if (!demo_sql.empty())
      return DemoSql(demo_sql == "postgresql" || demo_sql == "postgres" ? db::Dialect::kPostgres
                                                                        : db::Dialect::kMysql,
                     demo_path, force, seed);
    if (demo_path.empty())
      return PrintError(Error(ErrorCode::kInvalidArgument,
                              "demo-data needs a PATH for the SQLite file (or --sql DIALECT for "
                              "a SQL script)"));
    return DemoData(demo_path, force, seed);
  }
  if (check->parsed()) return ConfigCheck(o);
  if (eval_cmd->parsed()) return EvalCommand(eval_args);
  if (user_add->parsed()) return UserAdd(o, user_args);
  if (user_remove->parsed()) return UserRemove(o, user_args);
  if (user_list->parsed()) return UserList(o, user_args);
  return ServeCommand(o);
}

}  // namespace helios::app
