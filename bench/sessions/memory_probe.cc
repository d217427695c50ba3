#include "memory_probe.h"

#include <malloc.h>
#include <unistd.h>

#include <fstream>

namespace helios::bench {

Result<MemorySample> SampleMemory() {
  ::malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  size_t total_pages = 0;
  size_t resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages))
    return Fail(ErrorCode::kInternal, "/proc/self/statm could not be read");
  const struct mallinfo2 info = ::mallinfo2();
  MemorySample sample;
  sample.rss_bytes = resident_pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  sample.heap_bytes = info.uordblks + info.hblkhd;
  return sample;
}

std::string Grouped(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace helios::bench
