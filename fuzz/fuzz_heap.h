// The process-heap oracle of the session-level targets (state_upload, import, sync_session).
//
// testkit::MemoryBaseline sees only what the engine charges to a MemoryAccount. This oracle
// sees the whole process: it reads testkit::live_heap_bytes() before the input builds anything
// (store, workload, session, replicas: all of it lives inside `run`) and again after all of it
// is destroyed, so every byte an input leaves behind in the process -- a function-local static
// cache, a global registry, an uncharged container of anything that outlives the input -- is
// a non-zero delta.
//
// Warm-up: the first run of an input may initialise a function-local static or raise a bounded
// cache to a new high-water mark. A non-zero delta therefore runs the same input once more, and
// only a second non-zero delta fails.
//
// Only where the figure is exact (testkit::heap_bytes_exact(): under a sanitizer, or glibc with
// the tcache off, as ctest runs the regression replays); otherwise the input just runs, and the
// first such input says so once on stderr. See fuzz/README.md, "The process-heap oracle".
#pragma once

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string_view>

#include "ics/testkit/heap.h"

namespace ics_fuzz {

// Runs `run` (one whole input) and traps unless the process's live heap bytes are back where
// they were after it, or after running it once more.
template <class Run>
void check_heap_balance(const char* target, Run&& run) {
  if (!ics::testkit::heap_bytes_exact()) {
    static bool said = false;
    if (!said) {
      said = true;
      std::fprintf(stderr, "%s: heap oracle off (%.*s, not exact here; GLIBC_TUNABLES=glibc.malloc.tcache_count=0 turns it on)\n",
                   target, static_cast<int>(ics::testkit::heap_source().size()), ics::testkit::heap_source().data());
    }
    run();
    return;
  }
  const std::size_t before = *ics::testkit::live_heap_bytes();
  run();
  const std::size_t after = *ics::testkit::live_heap_bytes();
  if (after == before) return;
  const std::size_t before2 = *ics::testkit::live_heap_bytes();
  run();
  const std::size_t after2 = *ics::testkit::live_heap_bytes();
  if (after2 == before2) return;
  const auto delta = [](std::size_t from, std::size_t to) {
    return static_cast<long long>(to) - static_cast<long long>(from);
  };
  std::fprintf(stderr,
               "oracle failed: %s: process live heap bytes (%.*s) not back at baseline: %zu -> %zu (%+lld), "
               "and %zu -> %zu (%+lld) running the same input again\n",
               target, static_cast<int>(ics::testkit::heap_source().size()), ics::testkit::heap_source().data(),
               before, after, delta(before, after), before2, after2, delta(before2, after2));
  __builtin_trap();
}

}  // namespace ics_fuzz
