#include "support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "support/secret_capture.h"

extern char** environ;

namespace helios::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Variables the binary reads; none leaks from the test's environment into the child.
const std::vector<std::string> kConfigVariables = {"DATABASE_URL",
                                                   "REDIS_URL",
                                                   "JWT_SECRET",
                                                   "CORS_ALLOWED_ORIGINS",
                                                   "HELIOSDB_LOG_LEVEL",
                                                   "RUST_LOG",
                                                   "HELIOSDB_WORKER_THREADS",
                                                   "TOKIO_WORKER_THREADS",
                                                   "OPENAI_API_KEY"};

std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  std::random_device random;
  return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(random());
}

}  // namespace

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (std::find(kConfigVariables.begin(), kConfigVariables.end(), name) ==
        kConfigVariables.end()) {
      env.push_back(std::move(entry));
    }
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::optional<fs::path> FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

TempDir::TempDir(std::string_view prefix)
    : path_(fs::temp_directory_path() / (std::string(prefix) + "-" + UniqueSuffix())) {
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

ChildProcess::ChildProcess(pid_t pid, const SpawnOptions& options)
    : pid_(pid),
      program_(options.argv.empty() ? "" : fs::path(options.argv[0]).filename().string()),
      stdout_path_(options.stdout_path),
      stderr_path_(options.stderr_path) {}

std::unique_ptr<ChildProcess> ChildProcess::Start(const SpawnOptions& options, std::string* error) {
  if (CaptureDir()) {
    std::vector<std::string> inherited;
    for (char** e = environ; *e != nullptr; ++e) inherited.emplace_back(*e);
    RegisterChildSecrets(options.argv, options.env, inherited);
  }
  std::vector<std::string> argv_storage = options.argv;
  std::vector<std::string> env_storage = options.env;
  std::vector<char*> argv, envp;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwd = options.cwd.string();

  int in = ::open(options.stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out = ::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  auto close_all = [&] {
    for (int fd : {in, out, err}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if (in < 0 || out < 0 || err < 0) {
    close_all();
    *error = "cannot open the child's standard streams";
    return nullptr;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    close_all();
    *error = "fork failed";
    return nullptr;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  close_all();
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, options));
}

void ChildProcess::Reaped(int status) {
  reaped_ = true;
  status_ = status;
  const auto dir = CaptureDir();
  if (!dir) return;
  std::string lost;
  for (const auto& [path, stream] :
       {std::pair{stdout_path_, "out"}, std::pair{stderr_path_, "err"}}) {
    std::error_code ec;
    const fs::file_type type = path.empty() ? fs::file_type::none : fs::status(path, ec).type();
    // Streams sent to a device (/dev/null) hold nothing to scan; a file the test removed
    // before the child was reaped is counted as lost.
    if (type != fs::file_type::regular && type != fs::file_type::not_found) continue;
    if (!CaptureFile(path, program_ + "." + stream)) lost += std::string(" ") + stream;
  }
  // The scanner reports how many children's output it saw, and how many were lost.
  capture_detail::Append(*dir / "children" / (std::to_string(::getpid()) + ".txt"),
                         program_ + (lost.empty() ? " captured\n" : " lost" + lost + "\n"));
}

bool ChildProcess::Exited() {
  if (reaped_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) Reaped(status);
  return reaped_;
}

int ChildProcess::Code() const {
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Exited()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return Code();
}

int ChildProcess::Stop(std::chrono::milliseconds grace) {
  if (!Exited()) {
    ::kill(pid_, SIGTERM);
    if (!Wait(grace)) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      Reaped(status);
    }
  }
  return Code();
}

RunResult RunToCompletion(std::vector<std::string> argv, const fs::path& cwd,
                          const std::vector<std::string>& env, const fs::path& stdin_path) {
  const std::string suffix = UniqueSuffix();
  const fs::path out_path = cwd / ("stdout-" + suffix + ".txt");
  const fs::path err_path = cwd / ("stderr-" + suffix + ".txt");
  RunResult result;
  std::string error;
  auto child =
      ChildProcess::Start({std::move(argv), env, stdin_path, out_path, err_path, cwd}, &error);
  if (!child) {
    result.err = error;
    return result;
  }
  // Long enough for any command of this program under the sanitizers; a hung child is killed.
  result.exit_code = child->Wait(std::chrono::minutes(5)).value_or(child->Stop());
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  std::error_code ec;
  fs::remove(out_path, ec);
  fs::remove(err_path, ec);
  return result;
}

}  // namespace helios::testing
