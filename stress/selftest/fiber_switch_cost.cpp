// fiber_switch_cost [FIBERS [SWITCHES [ALLOC [STACK_KIB]]]]: times FIBERS fibers on
// round_robin, each yielding SWITCHES times (with ALLOC=1, one small new/delete per switch, the
// malloc-heavy case where fast_unwind_on_malloc=0 costs most), on STACK_KIB stacks (default 64).
// Prints wall time and ns per switch, to compare the ucontext+ASan Boost build with Debian's
// fcontext build (stress/README.md).
#include "fiber_runner.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

[[gnu::noinline]] void small_allocation(int i) {
  auto* p = new int[4]{i, i, i, i};
  asm volatile("" : : "r"(p) : "memory");
  delete[] p;
}

}  // namespace

int main(int argc, char** argv) {
  const int fibers = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int switches = argc > 2 ? std::atoi(argv[2]) : 100;
  const bool alloc = argc > 3 && std::atoi(argv[3]) != 0;
  const int stack_kib = argc > 4 ? std::atoi(argv[4]) : 64;
  if (fibers <= 0 || switches <= 0 || stack_kib < 8) {
    std::fprintf(stderr,
                 "usage: fiber_switch_cost [FIBERS>0 [SWITCHES>0 [ALLOC 0|1 [STACK_KIB>=8]]]]\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const ics::selftest::Schedule schedule{"round_robin", 1, std::size_t(stack_kib) * 1024};
  ics::selftest::run_fibers(schedule, fibers, [&](int) {
    for (int s = 0; s < switches; ++s) {
      if (alloc) small_allocation(s);
      boost::this_fiber::yield();
    }
  });
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  const double total = static_cast<double>(fibers) * switches;
  std::printf("fiber_switch_cost: %d fibers x %d switches%s, %d KiB stacks: %.3f s, %.0f ns per "
              "switch\n",
              fibers, switches, alloc ? " (+1 new/delete each)" : "", stack_kib, took.count(),
              took.count() * 1e9 / total);
  return 0;
}
