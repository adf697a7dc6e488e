// fiber_stack_overflow_selftest MODE: writes one byte past a 16-byte local array inside a fiber.
//   fresh_frame:   the array's frame was created after the fiber's last switch. Oracle (in
//                  check_report.cmake): ASan reports a stack-buffer-overflow naming
//                  ics_selftest_overflow_local; otherwise stack checking inside fibers is off.
//   across_switch: the fiber yields between creating the array and the write. With the
//                  ucontext build, ASan's swapcontext interceptor clears the shadow of the whole
//                  stack it switches to, so the redzones of frames live across a switch are
//                  gone and the overflow is NOT reported (the program then prints "missed" and
//                  exits 0); Debian's fcontext build reports it. The test records which is true.
#include <boost/fiber/all.hpp>

#include <cstdio>
#include <string_view>

namespace {

[[gnu::noinline]] void ics_selftest_write_at(char* base, int index) {
  static_cast<volatile char*>(base)[index] = 1;
}

[[gnu::noinline]] void ics_selftest_overflow_local(bool yield_first, volatile int& index) {
  char local[16] = {};
  if (yield_first) boost::this_fiber::yield();
  ics_selftest_write_at(local, index);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode != "fresh_frame" && mode != "across_switch") {
    std::fprintf(stderr, "usage: fiber_stack_overflow_selftest fresh_frame|across_switch\n");
    return 2;
  }
  volatile int index = 16;  // one past the end, unknown to the optimiser
  boost::fibers::fiber fiber(std::allocator_arg, boost::fibers::fixedsize_stack(64 * 1024),
                             [&] { ics_selftest_overflow_local(mode == "across_switch", index); });
  boost::fibers::fiber other([] { boost::this_fiber::yield(); });
  fiber.join();
  other.join();
  std::printf("fiber_stack_overflow_selftest %s: overflow missed by ASan\n", argv[1]);
  return 0;
}
