// A loop oracle on the whole process heap: runs a loop body (one sync, one
// upload, one session open/close, one download context...) many times and
// requires live_heap_bytes() (heap.h) to be exactly flat once warmed up.
// It sees what a MemoryAccount cannot: the client's Replica, and any engine
// allocation nobody charges (a plain container member of a Session or Store).
// This is the unit-level form of the KB 887828 bug: memory that every
// download synchronization keeps, reachable, freed at exit, so LeakSanitizer
// never reports it.
//
//   Status s = testkit::check_loop_heap_flat([&] { return replica.sync(*session); },
//                                            {.warmup = 2, .loops = 24});
//
// What it does: runs the body `warmup` times unmeasured, reads the live heap
// bytes (the baseline), then runs it `loops` times and reads the live bytes
// after each run. The verdict is exact by default: every reading must equal
// the baseline (within LoopHeapOptions::tolerance when one is given). Only the body runs between two readings (the helper's own sample
// buffer is reserved before the baseline and nothing else allocates), so
// GoogleTest's own allocations between assertions do not count; the body
// must not use GoogleTest assertions (return a Status instead).
//
// Exact flatness holds for a deterministic engine once every cache the loop
// touches has settled: under a sanitizer (exact allocator count) that is one
// or two runs for lazily grown capacities (a vector's capacity, a free list).
// Under glibc mallinfo2 the thread's tcache also parks freed chunks that
// count as in use; a loop that only allocates and frees what it uses settles
// as fast. A loop that REPLACES long-lived objects (a store's message
// version, a replica's local message) moves them around the heap, and
// mallinfo2 counts whole chunks: a chunk split whose remainder is too small
// to stand alone is handed out whole, freed chunks go to fastbins (free) or
// the tcache (in use) depending on the order, so the readings wander by
// multiples of 16 bytes and drift for tens of runs while the free lists
// fill. Such loops need LoopHeapOptions::tolerance under mallinfo2 (and stay
// exact under a sanitizer). Also under mallinfo2, an allocation served from a
// tcache-parked chunk (up to 7 per size class, blocks up to 1032 bytes) does
// not move the reading: a small growth can hide for a few runs, longer when
// earlier work in the process (other tests) left chunks parked. Measure
// enough loops (tens), and prefer one test per process (ctest does that). Callers pick the warm-up they measured and say so
// (see engine/tests/loop_heap_test.cpp).
// Something that legitimately grows per loop (a tombstone per delete, a
// conflict record per conflicting upload, a new message) does not belong in
// such a loop.
//
// Results:
//   ok             flat: every reading equals the baseline (+-tolerance);
//   GeneralFailure not flat; the text gives the warm-up, the loops, the heap
//                  source, the total change, the bytes per loop and the
//                  per-loop deltas of the first loops (see describe_loop_heap);
//   NotSupported   this build has no heap source (heap_source() == "none");
//   any other      the body's own error, with the run that returned it
//                  (the error's code; the text says which run).
//
// Single-threaded use: other threads allocating while it measures make the
// readings meaningless. No global state besides what live_heap_bytes() reads.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ics/errors.h"
#include "ics/testkit/heap.h"

namespace ics::testkit {

struct LoopHeapOptions {
  std::size_t warmup = 2;  // unmeasured runs before the baseline
  std::size_t loops = 16;  // measured runs after it (at least 1)
  // A reading passes when it is within +-tolerance bytes of the baseline; 0
  // (the default) is the exact oracle. Only for the mallinfo2 source and only
  // for loops that replace long-lived objects (see the top): never under a
  // sanitizer, whose count is exact.
  std::size_t tolerance = 0;
};

// What one measurement saw: the baseline and the reading after each loop.
struct LoopHeapSamples {
  std::size_t warmup = 0;
  std::size_t tolerance = 0;
  std::size_t baseline = 0;
  std::vector<std::size_t> after;  // after[i]: live bytes after measured loop i

  // Every reading within +-tolerance of the baseline (exactly equal for 0).
  bool flat() const;
  // after.back() - baseline, signed.
  long long total_delta() const;
  double bytes_per_loop() const;
  // The warm-up that would have made these readings exactly flat: warmup +
  // i + 1 for the smallest i whose reading every later one equals (warmup
  // itself when they all equal the baseline), when at least the last two
  // readings are equal (the loop had settled, or its growth had stopped);
  // nullopt when the last two differ or there is one reading.
  std::optional<std::size_t> flat_with_warmup() const;
};

// The failure text: "live heap not flat over L loops after a warm-up of W
// (heap source S[, tolerance +-T]): +T bytes in all, B bytes per loop; per-loop deltas of the
// first N: +d1 +d2 ...; first change at measured loop K; ...; baseline X bytes"
// (and the flat_with_warmup() figure when there is one). first_deltas bounds N.
std::string describe_loop_heap(const LoopHeapSamples& s, std::size_t first_deltas = 8);

namespace detail {
Error loop_body_failed(const Error& e, std::size_t run, std::size_t warmup);
Status loop_heap_verdict(const LoopHeapSamples& s);
}  // namespace detail

// Runs body (a callable returning Status) warmup + loops times; the samples,
// or the body's error (see above), or NotSupported without a heap source.
template <class Body>
Result<LoopHeapSamples> measure_loop_heap(Body&& body, LoopHeapOptions options = {}) {
  if (!live_heap_bytes()) {
    return Error(ErrorCode::NotSupported,
                 "no live heap source in this build (" + std::string(heap_source()) + ")");
  }
  if (options.loops == 0) return Error(ErrorCode::InvalidParameter, "loops must be at least 1");
  LoopHeapSamples s;
  s.warmup = options.warmup;
  s.tolerance = options.tolerance;
  s.after.assign(options.loops, 0);  // allocated before the baseline: the readings never allocate
  for (std::size_t i = 0; i < options.warmup; ++i) {
    Status st = body();
    if (!st.ok()) return detail::loop_body_failed(st.error(), i, options.warmup);
  }
  s.baseline = *live_heap_bytes();
  for (std::size_t i = 0; i < options.loops; ++i) {
    Status st = body();
    if (!st.ok()) return detail::loop_body_failed(st.error(), options.warmup + i, options.warmup);
    s.after[i] = *live_heap_bytes();
  }
  return s;
}

// The oracle: ok when flat, GeneralFailure with describe_loop_heap's text
// when not, or the errors of measure_loop_heap.
template <class Body>
Status check_loop_heap_flat(Body&& body, LoopHeapOptions options = {}) {
  Result<LoopHeapSamples> s = measure_loop_heap(std::forward<Body>(body), options);
  if (!s.ok()) return s.error();
  return detail::loop_heap_verdict(*s);
}

}  // namespace ics::testkit
