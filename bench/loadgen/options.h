// The command line of helios-loadgen: what to send, to which server, at what rate and for how
// long. ParseArguments checks every value and reads the --bodies and --paths files, so that the
// generator starts only with a complete, valid description of the load; every problem is an
// ErrorCode::kInvalidArgument error whose message names the flag.
// Thread-safety: plain values and free functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace helios::loadgen {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 80;
  std::string method = "GET";
  // Extra request headers, each "Name: value" as given; Host is added unless one is given.
  std::vector<std::string> headers;
  // Request targets, used round-robin (request i gets paths[i % size]); never empty.
  std::vector<std::string> paths = {"/"};
  // Request bodies, used round-robin like paths; empty: requests without a body.
  std::vector<std::string> bodies;
  int connections = 16;
  // Requests per second, scheduled at fixed intervals (open loop); 0: closed loop, each
  // connection sending its next request as soon as the previous one is answered.
  double rate = 0;
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  // Run at the same rate for this long first; those requests are not reported.
  std::chrono::nanoseconds warmup = std::chrono::seconds(0);
  // A request without a complete response this long after it was written is a timeout.
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);
  // Where to write the report as JSON; empty: nowhere.
  std::string json_path;
};

struct ParsedArguments {
  bool help = false;  // --help was given: print HelpText() and exit
  Options options;
};

// `args` excludes the program's name.
Result<ParsedArguments> ParseArguments(const std::vector<std::string>& args);

std::string HelpText();

// "host:port", with an IPv6 address in brackets ("[::1]:8080").
std::string HostPort(const Options& options);

}  // namespace helios::loadgen
