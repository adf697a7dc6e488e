// fiber_quiescent_leak_check STACK: can the stress harness run a leak check while fibers are
// suspended (a quiescent point), instead of only at exit? Two fibers on round_robin:
//   holder:  allocates an object whose only pointer lives on its own stack, then suspends;
//   planter: leaks an object (pointer kept only XOR-masked, so LeakSanitizer cannot see it,
//            and the test can free it afterwards), scrubs its stack, then suspends.
// The main fiber runs __lsan_do_recoverable_leak_check() twice: (1) with only the holder's
// object live, (2) after the planter leaked. Then it frees the planted leak, wakes and joins
// both fibers and exits 0 if the two results are what STACK should give:
//   fixedsize:        malloc'd stacks, which LSan scans: (1) no leak, (2) a leak.
//   protected:        mmap'd guard-paged stacks, which LSan does not scan: (1) reports the
//                     holder's object as a FALSE leak -- the trap this mode documents.
//   protected_rooted: the same stacks registered with __lsan_register_root_region: (1) no leak.
// Exit 1 when a result differs. check_report.cmake also checks which functions the reports name.
#include <sanitizer/lsan_interface.h>

#include <boost/context/protected_fixedsize_stack.hpp>
#include <boost/fiber/all.hpp>

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace {

namespace ctx = boost::context;
namespace fibers = boost::fibers;

constexpr std::size_t kStackBytes = 64 * 1024;
constexpr std::uintptr_t kMask = 0x5a5a5a5a5a5a5a5aULL;

struct Held {
  unsigned char bytes[72];
};
struct Leak {
  unsigned char bytes[56];
};

// protected_fixedsize_stack whose stacks LeakSanitizer scans as root regions.
class RootedProtectedStack {
 public:
  explicit RootedProtectedStack(std::size_t size) : inner_(size) {}
  ctx::stack_context allocate() {
    ctx::stack_context sctx = inner_.allocate();
    __lsan_register_root_region(bottom(sctx), sctx.size);
    return sctx;
  }
  void deallocate(ctx::stack_context& sctx) noexcept {
    __lsan_unregister_root_region(bottom(sctx), sctx.size);
    inner_.deallocate(sctx);
  }

 private:
  static void* bottom(const ctx::stack_context& sctx) {
    return static_cast<char*>(sctx.sp) - sctx.size;
  }
  ctx::protected_fixedsize_stack inner_;
};

// Fibers wait here until the main fiber opens the gate.
struct Gate {
  fibers::mutex mutex;
  fibers::condition_variable cv;
  bool open = false;
  int waiting = 0;
  void wait() {
    std::unique_lock lock(mutex);
    ++waiting;
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::unique_lock lock(mutex);
      open = true;
    }
    cv.notify_all();
  }
  int waiters() {
    std::unique_lock lock(mutex);
    return waiting;
  }
};

[[gnu::noinline]] Held* ics_selftest_stack_held_alloc() { return new Held{}; }

[[gnu::noinline]] void ics_selftest_plant_hidden_leak(std::uintptr_t& hidden) {
  auto* leak = new Leak{};
  leak->bytes[0] = 1;
  hidden = reinterpret_cast<std::uintptr_t>(leak) ^ kMask;
}

// Overwrites the dead part of this fiber's stack: LSan scans a malloc'd stack whole, so a
// stale copy of the leaked pointer left there by operator new would hide the leak.
[[gnu::noinline]] void ics_selftest_scrub_stack() {
  volatile unsigned char frame[16 * 1024];
  for (auto& b : frame) b = 0;
}

void wait_until(Gate& gate, int waiters) {
  while (gate.waiters() < waiters) boost::this_fiber::yield();
}

template <class Stack>
bool run(Stack stack, bool expect_false_leak) {
  Gate gate;
  std::uintptr_t hidden = 0;
  fibers::fiber holder(std::allocator_arg, stack, [&] {
    Held* volatile held = ics_selftest_stack_held_alloc();
    gate.wait();
    delete held;
  });
  wait_until(gate, 1);
  const int first = __lsan_do_recoverable_leak_check();  // (1) quiescent: holder suspended
  fibers::fiber planter(std::allocator_arg, stack, [&] {
    ics_selftest_plant_hidden_leak(hidden);
    ics_selftest_scrub_stack();
    gate.wait();
  });
  wait_until(gate, 2);
  const int second = __lsan_do_recoverable_leak_check();  // (2) both suspended, one leak
  delete reinterpret_cast<Leak*>(hidden ^ kMask);
  gate.release();
  holder.join();
  planter.join();
  // check1: holder suspended, nothing leaked; check2: the planter leaked one object.
  std::printf("results: check1=%s check2=%s\n", first ? "LEAK" : "clean", second ? "LEAK" : "clean");
  return first == (expect_false_leak ? 1 : 0) && second == 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  bool ok = false;
  if (mode == "fixedsize") {
    ok = run(ctx::fixedsize_stack(kStackBytes), false);
  } else if (mode == "protected") {
    ok = run(ctx::protected_fixedsize_stack(kStackBytes), true);
  } else if (mode == "protected_rooted") {
    ok = run(RootedProtectedStack(kStackBytes), false);
  } else {
    std::fprintf(stderr, "usage: fiber_quiescent_leak_check fixedsize|protected|protected_rooted\n");
    return 2;
  }
  std::printf("fiber_quiescent_leak_check %s: %s\n", argv[1], ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
