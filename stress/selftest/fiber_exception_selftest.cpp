// fiber_exception_selftest SCHEDULE: throws and catches exceptions inside many fibers (through
// instrumented frames, across a yield, rethrown, and out of a fiber into a future), then reuses
// the unwound stack. Oracle: the program exits 0 having caught every exception, and (in
// check_report.cmake) ASan/UBSan print nothing. Under work_stealing a fiber must have been
// stolen, so that exceptions are also thrown in fibers that migrated. With Debian's fcontext Boost under ASan the
// first catch is followed by a false stack-buffer-underflow (stress/README.md, "Fibers under
// the sanitizers").
// SCHEDULE: round_robin (1 thread) or work_stealing (2 threads).
#include "fiber_runner.h"

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace {

constexpr int kFibers = 500;
constexpr int kRounds = 4;

// Frames with arrays give ASan redzones to poison on the way down and forget on unwinding.
[[gnu::noinline]] int ics_selftest_throw_deep(int depth, int tag) {
  volatile char frame[64];
  for (int i = 0; i < 64; ++i) frame[i] = static_cast<char>(tag + i);
  if (depth == 0) throw std::runtime_error("tag " + std::to_string(tag));
  return ics_selftest_throw_deep(depth - 1, tag) + frame[depth % 64];
}

[[gnu::noinline]] void ics_selftest_yield_then_throw(int tag) {
  volatile char frame[32] = {};
  boost::this_fiber::yield();
  frame[0] = static_cast<char>(tag);
  throw std::out_of_range("after yield " + std::to_string(frame[0]));
}

// Reuses the stack region the unwound frames occupied.
[[gnu::noinline]] int ics_selftest_touch_stack(int tag) {
  volatile char frame[2048];
  for (int i = 0; i < 2048; ++i) frame[i] = static_cast<char>(tag ^ i);
  int sum = 0;
  for (int i = 0; i < 2048; i += 64) sum += frame[i];
  return sum;
}

bool caught_deep(int tag) {
  try {
    ics_selftest_throw_deep(6, tag);
  } catch (const std::runtime_error& e) {
    return e.what() == "tag " + std::to_string(tag);
  }
  return false;
}

bool caught_after_yield(int tag) {
  try {
    ics_selftest_yield_then_throw(tag);
  } catch (const std::out_of_range&) {
    return true;
  }
  return false;
}

bool caught_rethrown(int tag) {
  try {
    try {
      ics_selftest_throw_deep(3, tag);
    } catch (const std::runtime_error&) {
      throw;
    }
  } catch (const std::exception& e) {
    return e.what() == "tag " + std::to_string(tag);
  }
  return false;
}

bool caught_from_future(int tag) {
  auto future = boost::fibers::async([tag] { return ics_selftest_throw_deep(2, tag); });
  try {
    future.get();
  } catch (const std::runtime_error& e) {
    return e.what() == "tag " + std::to_string(tag);
  }
  return false;
}

int one_round(int tag) {
  int ok = 0;
  ok += caught_deep(tag);
  ok += caught_after_yield(tag);
  ok += caught_rethrown(tag);
  ok += caught_from_future(tag);
  ics_selftest_touch_stack(tag);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  const auto schedule = ics::selftest::parse_schedule(argc > 1 ? argv[1] : "");
  if (!schedule) {
    std::fprintf(stderr, "usage: fiber_exception_selftest round_robin|work_stealing\n");
    return 2;
  }
  constexpr int kKinds = 4;
  std::atomic<int> caught{0};
  const bool stolen = ics::selftest::run_fibers(*schedule, kFibers, [&](int fiber) {
    for (int round = 0; round < kRounds; ++round) {
      caught += one_round(fiber * kRounds + round);
      boost::this_fiber::yield();
    }
  });
  const int expected = kFibers * kRounds * kKinds;
  std::printf("fiber_exception_selftest %s: caught %d of %d exceptions in %d fibers%s\n",
              schedule->name, caught.load(), expected, kFibers,
              stolen ? "" : " (no fiber was stolen)");
  const bool ok = caught.load() == expected && stolen;
  std::printf("fiber_exception_selftest %s: %s\n", schedule->name, ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
