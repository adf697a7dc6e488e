// fiber_race_selftest MODE: plants accesses to one shared int from fibers and lets
// ThreadSanitizer judge them (check_report.cmake reads its report). MODE:
//   cross_thread  two OS threads, each running its own fibers (round_robin); after some
//                 switches, a fiber on one thread writes the int and a fiber on the other reads
//                 it, with no synchronisation: a data race, to be reported with both stacks
//                 (ics_selftest_race_write and ics_selftest_race_read).
//   locked        the same accesses under one std::mutex: no report.
//   same_thread   100 fibers of one thread read and write the int in turn, switching between
//                 each read and write: not a race (the thread runs its fibers one at a time),
//                 no report.
//   migrate       fibers created on the main thread and run on work_stealing (2 threads), each
//                 keeping state on its own stack and heap across 50 switches (some sleep now
//                 and then, so that a thread runs dry and steals): no report, and some fibers
//                 must have run on the helper thread. It prints how many resumed on another
//                 thread than the one they had switched out on.
// The program prints "fiber_race_selftest MODE: OK" when it ran to its end; in cross_thread
// ThreadSanitizer's exit code replaces its own.
#include "fiber_runner.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int kSwitchesBeforeAccess = 50;

int g_shared = 0;  // the planted race's target
std::mutex g_shared_mutex;

[[gnu::noinline]] void ics_selftest_race_write(int value) { g_shared = value; }
[[gnu::noinline]] int ics_selftest_race_read() { return g_shared; }

void switch_a_while() {
  for (int i = 0; i < kSwitchesBeforeAccess; ++i) boost::this_fiber::yield();
}

// Runs `fibers` fibers on the calling thread's own round_robin scheduler; fiber 0 calls
// access() after some switches, the others only switch.
template <class Access>
void fibers_on_this_thread(int fibers, Access access) {
  std::vector<boost::fibers::fiber> running;
  for (int i = 0; i < fibers; ++i) {
    running.emplace_back(std::allocator_arg,
                         boost::fibers::fixedsize_stack(ics::selftest::kStackBytes), [i, &access] {
                           switch_a_while();
                           if (i == 0) access();
                           switch_a_while();
                         });
  }
  for (auto& f : running) f.join();
}

int cross_thread(bool locked) {
  int seen = -1;
  auto write = [locked] {
    if (!locked) return ics_selftest_race_write(7);
    const std::lock_guard lock(g_shared_mutex);
    ics_selftest_race_write(7);
  };
  auto read = [locked, &seen] {
    if (!locked) {
      seen = ics_selftest_race_read();
      return;
    }
    const std::lock_guard lock(g_shared_mutex);
    seen = ics_selftest_race_read();
  };
  std::thread writer([&] { fibers_on_this_thread(4, write); });
  std::thread reader([&] { fibers_on_this_thread(4, read); });
  writer.join();
  reader.join();
  std::printf("read %d\n", seen);
  return 0;
}

int same_thread() {
  constexpr int kFibers = 100;
  constexpr int kRounds = 50;
  ics::selftest::run_fibers(ics::selftest::Schedule{"round_robin", 1}, kFibers, [](int) {
    for (int r = 0; r < kRounds; ++r) {
      const int value = ics_selftest_race_read();
      boost::this_fiber::yield();  // another fiber runs between the read and the write
      ics_selftest_race_write(value + 1);
      boost::this_fiber::yield();
    }
  });
  std::printf("%d fibers x %d read/write rounds on one thread, final value %d\n", kFibers,
              kRounds, g_shared);
  return 0;
}

int migrate() {
  constexpr int kFibers = 200;
  constexpr int kRounds = 50;
  std::atomic<int> moved{0};  // a fiber resumed on another thread than before its switch
  std::atomic<int> wrong{0};
  std::atomic<int> elsewhere{0};  // fibers that ran on another thread than their creator's
  const auto creator = std::this_thread::get_id();
  const bool stolen = ics::selftest::run_fibers(
      *ics::selftest::parse_schedule("work_stealing"), kFibers, [&](int i) {
        int on_stack[16] = {};
        std::vector<int> on_heap(16, 0);
        auto last = std::this_thread::get_id();
        bool away = last != creator;
        for (int r = 0; r < kRounds; ++r) {
          for (int k = 0; k < 16; ++k) {
            if (on_stack[k] != r * i || on_heap[k] != r * i) wrong.fetch_add(1);
            on_stack[k] = (r + 1) * i;
            on_heap[k] = (r + 1) * i;
          }
          if (i % 2 == 1 && r % 10 == 0) {
            boost::this_fiber::sleep_for(std::chrono::microseconds(200));
          } else {
            boost::this_fiber::yield();
          }
          if (std::this_thread::get_id() != last) {
            moved.fetch_add(1);
            last = std::this_thread::get_id();
          }
          away = away || last != creator;
        }
        if (away) elsewhere.fetch_add(1);
      });
  std::printf("%d fibers x %d switches on work_stealing: %d ran on the helper thread, %d "
              "resumed on another thread than before, %d wrong values\n",
              kFibers, kRounds, elsewhere.load(), moved.load(), wrong.load());
  return stolen && elsewhere.load() > 0 && wrong.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  int rc = 2;
  if (mode == "cross_thread") rc = cross_thread(false);
  else if (mode == "locked") rc = cross_thread(true);
  else if (mode == "same_thread") rc = same_thread();
  else if (mode == "migrate") rc = migrate();
  else {
    std::fprintf(stderr, "usage: fiber_race_selftest cross_thread|locked|same_thread|migrate\n");
    return 2;
  }
  if (rc == 0) std::printf("fiber_race_selftest %s: OK\n", argv[1]);
  std::fflush(stdout);
  return rc;
}
