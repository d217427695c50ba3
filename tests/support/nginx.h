// nginx (Debian's package) run by a test in a directory of its own, as tests/cluster needs it:
// `nginx -p ROOT -c ROOT/nginx.conf -g "daemon off;"`, its stdout and stderr in ROOT/logs/.
// The functions hold no state and are safe to call from any thread.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "support/child_process.h"

namespace helios::testing {

// Starts nginx on root/nginx.conf, which the caller has written (creating root/logs/ if
// needed); nullptr, with the reason in *error, when nginx is not installed or cannot be
// started. It does not wait for nginx to listen: how to tell depends on the configuration.
std::unique_ptr<ChildProcess> StartNginx(const std::filesystem::path& root, std::string* error);

}  // namespace helios::testing
