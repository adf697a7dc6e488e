// The whole process's live heap bytes, for oracles that must see memory nobody charges to a
// MemoryAccount (the client's Replica, a plain container member of an engine object).
//
// Sources, chosen at compile time:
//   - under ASan, LSan, TSan or MSan: __sanitizer_get_current_allocated_bytes(), the
//     sanitizer allocator's own count of bytes requested and not yet freed (exact: every
//     malloc, operator new and free of every thread; quarantined blocks are not counted);
//   - otherwise glibc's mallinfo2(): bytes of in-use chunks in every arena plus mmapped
//     chunks. Chunk headers and rounding are included, and chunks parked in a thread's tcache
//     count as in use, so a repeated deterministic loop is flat only once its tcache has
//     settled (warm up first), and exact only with the tcache off (heap_bytes_exact()).
// Plain functions; thread-safe; no allocation.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace ics::testkit {

// Live heap bytes now, or nullopt when this build has no source.
std::optional<std::size_t> live_heap_bytes();
// "sanitizer" or "mallinfo2" (or "none").
std::string_view heap_source();

// Whether live_heap_bytes() moves exactly with the live allocations, so that two readings
// around balanced code are equal: true under a sanitizer; with mallinfo2, only when the tcache
// is off (GLIBC_TUNABLES holds glibc.malloc.tcache_count=0), since chunks parked in it count as
// in use and the number parked differs from one reading to the next.
bool heap_bytes_exact();

}  // namespace ics::testkit
