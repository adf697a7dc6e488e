#include "ics/testkit/heap.h"

#include "ics/testkit/sanitizers.h"

#if defined(ICS_SANITIZER_HEAP)
#include <sanitizer/allocator_interface.h>
#elif defined(__GLIBC__)
#include <malloc.h>

#include <cstdlib>
#endif

namespace ics::testkit {

std::optional<std::size_t> live_heap_bytes() {
#if defined(ICS_SANITIZER_HEAP)
  return __sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#else
  return std::nullopt;
#endif
}

std::string_view heap_source() {
#if defined(ICS_SANITIZER_HEAP)
  return "sanitizer";
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  return "mallinfo2";
#else
  return "none";
#endif
}

bool heap_bytes_exact() {
#if defined(ICS_SANITIZER_HEAP)
  return true;
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  // GLIBC_TUNABLES is a colon-separated list of name=value; glibc reads it at start-up.
  const char* env = std::getenv("GLIBC_TUNABLES");
  if (env == nullptr) return false;
  constexpr std::string_view kOff = "glibc.malloc.tcache_count=0";
  std::string_view rest(env);
  bool off = false;
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string_view item = rest.substr(0, colon);
    if (item.substr(0, item.find('=')) == "glibc.malloc.tcache_count") off = item == kOff;  // the last one counts
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return off;
#else
  return false;
#endif
}

}  // namespace ics::testkit
