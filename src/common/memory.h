#pragma once

namespace helios::memory {

// Hands the free memory inside malloc's arenas back to the operating system, so that the
// resident size follows what the process holds rather than the most it ever held.
//
// glibc returns memory to the system only from the top of a heap. A peak of work (a stall
// that lets requests pile up, a burst of large answers) leaves its freed chunks in the middle
// of the arenas, resident for good, and the resident size rises in steps with each new peak
// while the live data stays flat (docs/reliability.md, "Soak"). malloc_trim(0) gives back
// every whole free page of every arena (madvise(MADV_DONTNEED)); the addresses stay reserved,
// so the next allocation there costs a page fault, not a system call. The server calls this
// from its housekeeping thread every few seconds. Returns true when some memory was released;
// false where the C library has no such call (or under a sanitizer's allocator).
bool ReleaseFreeMemory();

// The process's resident set size in bytes (from /proc/self/statm), 0 when unknown.
long ResidentBytes();

}  // namespace helios::memory
