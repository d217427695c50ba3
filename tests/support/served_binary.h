// The product's binary run as a server by a test: its output in files of a directory, the
// port read from its "listening" log line, stopped when the object goes away.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.h"

namespace helios::testing {

class ServedBinary {
 public:
  // Runs `binary args...` in `dir` with the test's environment plus extra_env.
  ServedBinary(const std::string& binary, const std::vector<std::string>& args,
               const std::filesystem::path& dir, const std::vector<std::string>& extra_env);

  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Stop();
  // SIGKILL: ended at once, as a crash would end it.
  void Kill();

  // The port of the first JSON log line with this message, waiting for it to appear; 0 when
  // the process exits first or a minute passes.
  int PortOf(std::string_view message);

  std::string out() const;
  std::string err() const;
  bool started() const { return process_ != nullptr; }

 private:
  std::filesystem::path out_;
  std::filesystem::path err_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace helios::testing
