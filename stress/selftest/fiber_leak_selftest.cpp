// fiber_leak_selftest SCHEDULE: plants kFibers x kLeaksPerFiber deliberate leaks (`new`
// without delete) inside fibers, then exits normally. Oracle (in check_report.cmake, run by
// ctest): LeakSanitizer must report exactly these leaks at exit, with
// ics_selftest_plant_leak in the allocation stack; otherwise leak checking inside fibers is
// broken and every green stress run under this configuration proves nothing.
// SCHEDULE: round_robin (1 thread) or work_stealing (2 threads; the program fails with exit
// code 3 when no leak was planted on the helper thread, i.e. stealing was not exercised).
// The last line, "fiber_leak_selftest SCHEDULE: OK", says the program itself did its part.
#include "fiber_runner.h"

#include <atomic>
#include <cstdio>
#include <thread>

namespace {

constexpr int kFibers = 16;
constexpr int kLeaksPerFiber = 8;
constexpr std::size_t kLeakBytes = 40;

struct Leak {
  unsigned char bytes[kLeakBytes];
};

// The allocation is written and used, so it cannot be elided, and then forgotten.
[[gnu::noinline]] void ics_selftest_plant_leak(int tag) {
  auto* leak = new Leak{};
  leak->bytes[0] = static_cast<unsigned char>(tag);
  asm volatile("" : : "r"(leak) : "memory");
}

}  // namespace

int main(int argc, char** argv) {
  const auto schedule = ics::selftest::parse_schedule(argc > 1 ? argv[1] : "");
  if (!schedule) {
    std::fprintf(stderr, "usage: fiber_leak_selftest round_robin|work_stealing\n");
    return 2;
  }
  const auto main_thread = std::this_thread::get_id();
  std::atomic<int> planted{0};
  std::atomic<int> planted_on_helper{0};
  ics::selftest::run_fibers(*schedule, kFibers, [&](int fiber) {
    for (int k = 0; k < kLeaksPerFiber; ++k) {
      ics_selftest_plant_leak(fiber * kLeaksPerFiber + k);
      ++planted;
      if (std::this_thread::get_id() != main_thread) ++planted_on_helper;
      boost::this_fiber::yield();
    }
  });
  std::printf("fiber_leak_selftest %s: planted %d leaks of %zu bytes (%zu bytes) in %d fibers, "
              "%d on the helper thread\n",
              schedule->name, planted.load(), kLeakBytes, planted.load() * kLeakBytes, kFibers,
              planted_on_helper.load());
  if (schedule->threads > 1 && planted_on_helper.load() == 0) {
    std::printf("fiber_leak_selftest %s: FAILED: no leak was planted on the helper thread\n",
                schedule->name);
    std::fflush(stdout);
    return 3;
  }
  std::printf("fiber_leak_selftest %s: OK\n", schedule->name);
  std::fflush(stdout);  // LeakSanitizer ends the process at exit before stdio is flushed
  return 0;
}
