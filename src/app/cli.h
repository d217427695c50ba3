// The command line: serve (default), ask, demo-data, config check, user add|remove|list.
#pragma once

namespace helios::app {

// Runs the command line and returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace helios::app
