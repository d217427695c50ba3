// What this process holds in memory, for the sessions benchmark: its resident set as the
// kernel counts it (/proc/self/statm) and the bytes glibc's malloc has handed out and not had
// back (mallinfo2), both read after malloc_trim(0) has returned what it can to the kernel, so
// that freed memory from an earlier phase does not count.
// Thread-safety: SampleMemory may be called from any thread; the figures are the process's.
#pragma once

#include <cstddef>
#include <string>

#include "common/error.h"

namespace helios::bench {

struct MemorySample {
  size_t rss_bytes = 0;   // resident pages × page size
  size_t heap_bytes = 0;  // malloc'd and not freed: arena blocks in use plus mmapped blocks
};

// kInternal when /proc/self/statm cannot be read (not Linux).
Result<MemorySample> SampleMemory();

// "12,345,678" (thousands separated), for figures a reader compares by eye.
std::string Grouped(long long n);

}  // namespace helios::bench
