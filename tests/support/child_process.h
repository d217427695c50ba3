// Running the real binary (or promtool, prometheus) from tests: a child process with its
// standard streams in files, stopped and reaped when the object goes away (and killed with the
// test process through PR_SET_PDEATHSIG, so a crashed test leaves no server behind).
// Waiting polls with short sleeps: these are real processes, and no timing is asserted.
// With HELIOS_TEST_CAPTURE_DIR set, the secrets in a child's arguments and environment are
// recorded when it starts, and its stdout and stderr copied when it is reaped, for the
// suite-wide secrets scan (support/secret_capture.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace helios::testing {

std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, std::string_view content);

// The test's environment without the variables that configure the binary (DATABASE_URL,
// JWT_SECRET, ...), so a developer's settings cannot change results; then `extra`
// ("NAME=value").
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra = {});

// The program's absolute path, searched on PATH like a shell would.
std::optional<std::filesystem::path> FindProgram(const std::string& name);

// A fresh directory under the system's temp directory, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "helios-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the program's absolute path
  std::vector<std::string> env;
  std::filesystem::path stdin_path = "/dev/null";
  std::filesystem::path stdout_path;
  std::filesystem::path stderr_path;
  std::filesystem::path cwd;  // empty: the test's own
};

class ChildProcess {
 public:
  // Starts the program; nullptr (with the reason in *error) when it cannot be started. The
  // output files must stay until the child is reaped if they are to be captured.
  static std::unique_ptr<ChildProcess> Start(const SpawnOptions& options, std::string* error);
  ~ChildProcess() { Stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // True once the child has exited (it is then reaped).
  bool Exited();
  // Waits up to `timeout` for the child to exit: its exit code (128 + signal when killed), or
  // nullopt while it still runs.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Sends SIGTERM, waits up to `grace`, then SIGKILLs. Returns the exit code as Wait does.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(20));
  pid_t pid() const { return pid_; }

 private:
  ChildProcess(pid_t pid, const SpawnOptions& options);
  int Code() const;
  // Marks the child reaped with `status` and copies its output for the secrets scan.
  void Reaped(int status);
  pid_t pid_;
  bool reaped_ = false;
  int status_ = 0;
  std::string program_;  // argv[0]'s file name, to name the captured output
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
};

struct RunResult {
  int exit_code = -1;  // 128 + signal when the child was killed
  std::string out;
  std::string err;
};

// Runs argv to completion in cwd with stdin from stdin_path, capturing its output.
RunResult RunToCompletion(std::vector<std::string> argv, const std::filesystem::path& cwd,
                          const std::vector<std::string>& env,
                          const std::filesystem::path& stdin_path = "/dev/null");

}  // namespace helios::testing
