#include "support/served_binary.h"

#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/text.h"

namespace helios::testing {

using namespace std::chrono_literals;

ServedBinary::ServedBinary(const std::string& binary, const std::vector<std::string>& args,
                           const std::filesystem::path& dir,
                           const std::vector<std::string>& extra_env)
    : out_(dir / ("out-" + text::NewUuid() + ".log")),
      err_(dir / ("err-" + text::NewUuid() + ".log")) {
  std::vector<std::string> argv = {binary};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string error;
  process_ = ChildProcess::Start({argv, ChildEnvironment(extra_env), "/dev/null", out_, err_, dir},
                                 &error);
}

std::optional<int> ServedBinary::Wait(std::chrono::milliseconds timeout) {
  return process_ ? process_->Wait(timeout) : std::optional<int>(-1);
}

void ServedBinary::Stop() {
  if (process_) process_->Stop();
}

void ServedBinary::Kill() {
  if (!process_ || process_->Exited()) return;
  ::kill(process_->pid(), SIGKILL);
  process_->Wait(60s);
}

int ServedBinary::PortOf(std::string_view message) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const std::string& line : text::Split(out(), '\n')) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("message", "") == message && j.contains("port")) {
        return j["port"].get<int>();
      }
    }
    if (Wait(0ms)) return 0;
    std::this_thread::sleep_for(20ms);
  }
  return 0;
}

std::string ServedBinary::out() const { return ReadFile(out_); }
std::string ServedBinary::err() const { return ReadFile(err_); }

}  // namespace helios::testing
