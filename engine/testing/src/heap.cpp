#include "ics/testing/heap.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(leak_sanitizer) || __has_feature(memory_sanitizer)
#define ICS_HEAP_SANITIZER 1
#endif
#endif
#if !defined(ICS_HEAP_SANITIZER) && (defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__))
#define ICS_HEAP_SANITIZER 1
#endif

#if defined(ICS_HEAP_SANITIZER)
#include <sanitizer/allocator_interface.h>
#elif defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ics::testkit {

std::optional<std::size_t> live_heap_bytes() {
#if defined(ICS_HEAP_SANITIZER)
  return __sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#else
  return std::nullopt;
#endif
}

std::string_view heap_source() {
#if defined(ICS_HEAP_SANITIZER)
  return "sanitizer";
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  return "mallinfo2";
#else
  return "none";
#endif
}

}  // namespace ics::testkit
