// Runs a batch of fibers on one of the two schedulers the stress harness uses, for the
// sanitizer self-tests: round_robin on the calling thread, or work_stealing over the calling
// thread plus helper threads. run_fibers() returns only after every fiber has been joined and
// every helper thread has exited (a fiber still blocked at exit hangs the process).
// Threading: call once per process, from main(): it installs the scheduling algorithm of the
// calling thread for the rest of the process. Stacks are fixedsize_stack (malloc'd,
// thread-safe, scanned by LeakSanitizer) of kStackBytes: Boost's default 128 KiB reaches
// glibc's mmap threshold, so every fiber costs an mmap and a munmap, and on this VM a munmap
// (TLB flush) took about 250 us: 10k fibers ran 3-13x slower than with 64 KiB.
#pragma once

#include <boost/fiber/all.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace ics::selftest {

inline constexpr std::size_t kStackBytes = 64 * 1024;

struct Schedule {
  const char* name;
  int threads;  // 1: round_robin on the calling thread; >1: work_stealing
  std::size_t stack_bytes = kStackBytes;
};

// Parses "round_robin" or "work_stealing" (two threads).
inline std::optional<Schedule> parse_schedule(std::string_view arg) {
  if (arg == "round_robin") return Schedule{"round_robin", 1};
  if (arg == "work_stealing") return Schedule{"work_stealing", 2};
  return std::nullopt;
}

namespace detail {

// A helper thread takes part in work stealing until `done` is set. It leaves only once the
// waker has returned from notify_all(): Boost.Fiber 1.74 still reads the woken thread's
// scheduler after handing it the fiber (scheduler::schedule_from_remote), so a helper that
// exited at once could free its scheduler under the waker (ThreadSanitizer reported it).
struct StopSignal {
  boost::fibers::mutex mutex;
  boost::fibers::condition_variable cv;
  bool done = false;
  std::latch notified{1};
};

inline void helper_thread(int threads, std::latch& ready, StopSignal& stop) {
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(threads);
  ready.arrive_and_wait();  // every scheduler registered before anyone steals
  std::unique_lock lock(stop.mutex);
  stop.cv.wait(lock, [&] { return stop.done; });  // while blocked, this thread steals fibers
  lock.unlock();
  stop.notified.wait();
}

template <class Body>
void launch_and_join(int count, std::size_t stack_bytes, Body& body) {
  std::vector<boost::fibers::fiber> fibers;
  fibers.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    fibers.emplace_back(std::allocator_arg, boost::fibers::fixedsize_stack(stack_bytes),
                        [&body, i] { body(i); });
  }
  for (auto& f : fibers) f.join();
}

}  // namespace detail

// Runs body(i) for i in [0, count) each in its own fiber, joins them all. Under work_stealing
// no body starts before one fiber has been stolen by a helper thread (or 10 s have passed), so
// that fibers really migrate even when the helper is slow to get a core; returns whether one
// was stolen (always true under round_robin).
template <class Body>
bool run_fibers(const Schedule& schedule, int count, Body body) {
  if (schedule.threads <= 1) {
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
    detail::launch_and_join(count, schedule.stack_bytes, body);
    return true;
  }
  const auto main_thread = std::this_thread::get_id();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::atomic<bool> stolen{false};
  auto after_first_steal = [&](int i) {
    while (!stolen.load() && std::chrono::steady_clock::now() < deadline) {
      if (std::this_thread::get_id() != main_thread) stolen.store(true);
      else boost::this_fiber::yield();
    }
    body(i);
  };
  detail::StopSignal stop;
  std::latch ready(schedule.threads);
  std::vector<std::thread> helpers;
  for (int t = 1; t < schedule.threads; ++t)
    helpers.emplace_back(detail::helper_thread, schedule.threads, std::ref(ready), std::ref(stop));
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(schedule.threads);
  ready.arrive_and_wait();
  detail::launch_and_join(count, schedule.stack_bytes, after_first_steal);
  {
    std::unique_lock lock(stop.mutex);
    stop.done = true;
  }
  stop.cv.notify_all();
  stop.notified.count_down();
  for (auto& h : helpers) h.join();
  return stolen.load();
}

}  // namespace ics::selftest
