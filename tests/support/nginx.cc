#include "support/nginx.h"

#include <unistd.h>

#include <optional>

namespace helios::testing {
namespace {

// On PATH, else where Debian installs it (a user's PATH often leaves out /usr/sbin).
std::optional<std::filesystem::path> FindNginx() {
  if (auto found = FindProgram("nginx")) return found;
  if (::access("/usr/sbin/nginx", X_OK) == 0) return std::filesystem::path("/usr/sbin/nginx");
  return std::nullopt;
}

}  // namespace

std::unique_ptr<ChildProcess> StartNginx(const std::filesystem::path& root, std::string* error) {
  auto nginx = FindNginx();
  if (!nginx) {
    *error = "nginx is not installed (scripts/setup.sh --test installs it)";
    return nullptr;
  }
  std::filesystem::create_directories(root / "logs");
  return ChildProcess::Start({{nginx->string(), "-p", root.string(), "-c",
                               (root / "nginx.conf").string(), "-g", "daemon off;"},
                              ChildEnvironment(),
                              "/dev/null",
                              root / "logs/stdout.log",
                              root / "logs/stderr.log",
                              root},
                             error);
}

}  // namespace helios::testing
