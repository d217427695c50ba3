#include "common/memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace helios::memory {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HELIOS_SANITIZED_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define HELIOS_SANITIZED_ALLOCATOR 1
#endif
#endif

TEST(MemoryTest, ResidentSizeIsRead) {
  const long rss = ResidentBytes();
  EXPECT_GT(rss, 1 << 20);  // a test binary holds more than a mebibyte
}

// Memory freed in the middle of a heap stays resident until it is released: many small
// blocks, all freed but the last (which keeps the heap's top from shrinking on its own).
TEST(MemoryTest, FreedBlocksInTheMiddleOfTheHeapAreHandedBack) {
#if defined(HELIOS_SANITIZED_ALLOCATOR) || !defined(__GLIBC__)
  GTEST_SKIP() << "glibc's allocator only";
#else
  constexpr size_t kBlock = 512;
  constexpr size_t kBlocks = 128 * 1024;  // 64 MiB
  std::vector<char*> blocks;
  blocks.reserve(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) {
    char* b = static_cast<char*>(std::malloc(kBlock));
    ASSERT_NE(b, nullptr);
    std::memset(b, static_cast<int>(i), kBlock);  // make every page resident
    blocks.push_back(b);
  }
  for (size_t i = 0; i + 1 < kBlocks; ++i) std::free(blocks[i]);
  const long before = ResidentBytes();
  EXPECT_TRUE(ReleaseFreeMemory());
  const long after = ResidentBytes();
  std::free(blocks.back());
  // Most of the 64 MiB freed goes back; the rest of the process is unchanged.
  EXPECT_GT(before - after, 32L << 20) << "resident before " << before << ", after " << after;
#endif
}

}  // namespace
}  // namespace helios::memory
