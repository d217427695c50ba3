// The load generator behind helios-loadgen: N keep-alive connections to one server, driven by
// one thread with epoll, sending requests at a fixed rate (open loop) or as fast as answered
// (closed loop, rate 0), and what it measured.
//
// Open loop: request i is scheduled at t0 + i / rate. It goes out on any idle connection (at
// most one request in flight per connection, no pipelining); when every connection is busy it
// waits in the generator's queue. Its latency runs from its scheduled time, not from when it
// was written, to the last byte of its response, so a server stall shows up in the latency of
// every request scheduled during it (no coordinated omission). Requests scheduled in the
// warm-up are sent and answered like the others but not reported. After the last scheduled
// time the run waits for outstanding responses for at most the timeout.
// Closed loop: each connection sends its next request when the previous one is answered,
// during the measured duration; latency runs from the write.
//
// Thread-safety: RunLoad blocks the calling thread for the whole run and shares nothing; runs
// in different threads are independent.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "common/error.h"
#include "histogram.h"
#include "options.h"

namespace helios::loadgen {

// Failures while measuring, each counted once per request (connect: once per attempt).
struct ErrorCounts {
  uint64_t connect = 0;   // a connection refused, failed or not established within the timeout
  uint64_t read = 0;      // reading a response failed (e.g. reset by the server)
  uint64_t write = 0;     // writing a request failed
  uint64_t closed = 0;    // the server closed the connection before the response ended
  uint64_t protocol = 0;  // a malformed response, or bytes that answer no request
  uint64_t timeout = 0;   // no complete response within the timeout
  uint64_t Total() const { return connect + read + write + closed + protocol + timeout; }
};

struct Report {
  // What ran.
  std::string target;  // http://host:port
  std::string method;
  int connections = 0;
  double rate = 0;  // asked; 0: closed loop
  std::chrono::nanoseconds duration{0};
  std::chrono::nanoseconds warmup{0};
  std::chrono::nanoseconds timeout{0};

  // The measured requests: open loop, those scheduled after the warm-up; closed loop, those
  // written during the measured duration.
  uint64_t scheduled = 0;
  uint64_t sent = 0;
  uint64_t responses = 0;  // complete responses, any status
  uint64_t not_sent = 0;   // open loop: still queued when the run ended
  // Written, within their timeout, but not answered when the run ended (at most `timeout`
  // after the last scheduled time, or after the duration in closed loop).
  uint64_t unfinished = 0;
  uint64_t late = 0;       // open loop: written more than 1 ms after their scheduled time
  uint64_t max_queue = 0;  // open loop: most requests due and waiting for a connection at once
  uint64_t reconnects = 0;
  uint64_t body_bytes = 0;  // response bodies, decoded from chunks
  ErrorCounts errors;
  std::map<int, uint64_t> status_counts;  // exact status -> responses
  // Of complete responses, any status: open loop from each request's scheduled time (what a
  // user arriving then would have waited), closed loop from its write.
  LatencyHistogram latency;
  // From each request's write to the end of its response: the server's share, without the
  // wait in the generator's queue (what a closed-loop tool would report).
  LatencyHistogram service_time;
  // From the end of the warm-up to the last measured response (at least `duration`).
  std::chrono::nanoseconds elapsed{0};
  double achieved_rate = 0;  // responses / elapsed

  // The generator's own cost: its thread's CPU time over the whole run (warm-up included), in
  // its own code and in the kernel (system calls, and waking up, which dominates at low
  // rates), and every request it wrote. The kernel samples the split between the two, so only
  // their sum is exact.
  std::chrono::nanoseconds cpu_user{0};
  std::chrono::nanoseconds cpu_system{0};
  uint64_t requests_written = 0;

  // Responses per class: [1] 1xx ... [5] 5xx ([0] unused).
  std::array<uint64_t, 6> StatusClassCounts() const;
};

// Runs the load `options` describes. Errors: kUnavailable when the host cannot be resolved or
// no connection can be opened at the start; kInternal when the system refuses epoll or timers.
Result<Report> RunLoad(const Options& options);

}  // namespace helios::loadgen
