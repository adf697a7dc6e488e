#include "runner.h"

#include <boost/fiber/all.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include "ics/testkit/sanitizers.h"
#if defined(ICS_ASAN)
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace ics::stress {

namespace {

using Clock = std::chrono::steady_clock;

// While fibers run, ASan's fiber annotations make LeakSanitizer scan the running fiber's stack
// instead of the thread's own, so what only a thread's stack points to (main()'s Run, the
// scheduler) looked leaked at a quiescent leak check. The thread's stack is a root region for
// as long as this object lives.
class ThreadStackRoot {
 public:
  ThreadStackRoot() {
#if defined(ICS_ASAN)
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    void* base = nullptr;
    std::size_t size = 0;
    if (pthread_attr_getstack(&attr, &base, &size) == 0) {
      base_ = base;
      size_ = size;
      __lsan_register_root_region(base_, size_);
    }
    pthread_attr_destroy(&attr);
#endif
  }
  ~ThreadStackRoot() {
#if defined(ICS_ASAN)
    if (base_ != nullptr) __lsan_unregister_root_region(base_, size_);
#endif
  }
  ThreadStackRoot(const ThreadStackRoot&) = delete;
  ThreadStackRoot& operator=(const ThreadStackRoot&) = delete;

 private:
  [[maybe_unused]] void* base_ = nullptr;
  [[maybe_unused]] std::size_t size_ = 0;
};

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

void helper_thread(std::size_t threads, std::latch& ready, StopSignal& stop) {
  const ThreadStackRoot root;
  heap::enter_thread();
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(
      static_cast<std::uint32_t>(threads));
  ready.arrive_and_wait();  // every scheduler registered before anyone steals
  std::unique_lock lock(stop.mutex);
  stop.cv.wait(lock, [&] { return stop.done; });  // while blocked, this thread steals fibers
  lock.unlock();
  stop.notified.wait();
}

void run_epoch(Run& run, FiberCtx& ctx, Worker& worker) {
  if (!worker.counts_loops()) {
    while (run.epoch_open()) {
      worker.loop(ctx);
      ctx.settle();  // what a writer put in the store stays: it counts, as the store's
      ctx.point(true);  // a writer never holds the scheduler
    }
    return;
  }
  std::uint64_t loop = 0;
  while (run.claim(loop)) {
    ctx.begin_loop(loop);
    worker.loop(ctx);
    ctx.end_loop(worker.anchor());
    ctx.point(true);  // loops spread over the fibers
  }
}

// Where a fiber's stack lies (FiberStack writes it before the fiber first runs).
struct StackBounds {
  const char* lo = nullptr;
  const char* hi = nullptr;
};

void fiber_main(Run& run, boost::fibers::barrier& barrier, std::size_t index,
                const StackBounds& stack) {
  FiberCtx ctx(run, index);
  ctx.set_stack(stack.lo, stack.hi);
  // Every wait may resume this fiber on another thread, after other fibers ran here.
  auto wait = [&] {
    const bool leader = barrier.wait();
    ctx.resume_heap();
    return leader;
  };
  std::unique_ptr<Worker> worker;
  {
    const heap::ClientScope client;  // a replica is the client's
    worker = run.scenario().make_worker(index);
  }
  worker->start(ctx);
  ctx.settle();
  if (wait()) run.begin_operate();
  wait();
  for (;;) {
    run_epoch(run, ctx, *worker);
    if (wait()) run.quiescent_point(ctx);  // no fiber is inside a loop
    wait();
    ctx.set_faults(false);
    worker->before_verify(ctx);
    wait();
    worker->verify(ctx);
    ctx.set_faults(true);
    ctx.settle();
    if (wait()) run.next_epoch();
    wait();
    if (run.finished()) break;
  }
  run.add_worker_bytes(worker->data_bytes());
  ctx.release_injected();
  worker->stop(ctx);
  {
    const heap::ClientScope client;
    worker.reset();
  }
  ctx.settle();
  heap::set_context({});  // what runs on this stack from here on is Boost's
}

// A malloc'd stack like fixedsize_stack (thread-safe, scanned whole by LeakSanitizer) that
// records its bounds for its fiber (the heap tracker walks frame pointers only inside them)
// and, with --measure-stack, is filled with a pattern so that deallocate() can tell how deep
// the fiber went.
class FiberStack {
 public:
  static constexpr unsigned char kPaint = 0xA7;
  FiberStack(std::size_t size, StackBounds& bounds, std::atomic<std::size_t>* high_water)
      : size_(size), bounds_(&bounds), high_water_(high_water) {}

  boost::context::stack_context allocate() {
    void* p = std::malloc(size_);
    if (p == nullptr) throw std::bad_alloc();
    if (high_water_ != nullptr) std::memset(p, kPaint, size_);
    bounds_->lo = static_cast<const char*>(p);
    bounds_->hi = bounds_->lo + size_;
    boost::context::stack_context sc;
    sc.size = size_;
    sc.sp = static_cast<char*>(p) + size_;
    return sc;
  }

  void deallocate(boost::context::stack_context& sc) noexcept {
    auto* base = static_cast<unsigned char*>(sc.sp) - sc.size;
    if (high_water_ != nullptr) measure(base, sc.size);
    std::free(base);
  }

 private:
  void measure(unsigned char* base, std::size_t size) noexcept {
#if defined(ICS_ASAN)
    __asan_unpoison_memory_region(base, size);  // frames abandoned by the last switch
#endif
    std::size_t untouched = 0;
    while (untouched < size && base[untouched] == kPaint) ++untouched;
    const std::size_t used = size - untouched;
    std::size_t seen = high_water_->load(std::memory_order_relaxed);
    while (used > seen && !high_water_->compare_exchange_weak(seen, used)) {
    }
  }

  std::size_t size_;
  StackBounds* bounds_;
  std::atomic<std::size_t>* high_water_;
};

// Progress each second; ends --seconds runs; asks for quiescent points in --seconds runs.
class Monitor {
 public:
  explicit Monitor(Run& run) : run_(run), started_(Clock::now()), thread_([this] { body(); }) {}
  ~Monitor() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void body() {
    const heap::Untracked quiet;  // the monitor's figures are not the run's memory
    const Options& o = run_.options();
    const double quiesce_every =
        o.loops == 0 && o.verify_every == 0 ? std::max(o.seconds / 4, 1.0) : 0;
    std::uint64_t last_loops = 0, next_quiesce_loops = o.verify_every;
    Clock::time_point last_print = started_, next_quiesce{};
    bool saw_operate = false;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return done_; })) {
      const Clock::time_point now = Clock::now();
      if (!saw_operate && run_.operating()) {
        saw_operate = true;
        next_quiesce = run_.operate_start() + to_duration(quiesce_every);
      }
      if (saw_operate && o.loops == 0) {
        const double ran = std::chrono::duration<double>(now - run_.operate_start()).count();
        if (ran >= o.seconds) run_.request_stop();
        if (quiesce_every > 0 && now >= next_quiesce) {
          run_.request_quiesce();
          next_quiesce = now + to_duration(quiesce_every);
        }
        if (o.verify_every != 0 && run_.loops_done() >= next_quiesce_loops) {
          run_.request_quiesce();
          next_quiesce_loops = run_.loops_done() + o.verify_every;
        }
      }
      if (now - last_print >= std::chrono::seconds(1)) {
        const std::uint64_t loops = run_.loops_done();
        const double dt = std::chrono::duration<double>(now - last_print).count();
        if (!o.quiet) print(now, loops, static_cast<double>(loops - last_loops) / dt);
        last_loops = loops;
        last_print = now;
      }
    }
  }

  static Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  void print(Clock::time_point now, std::uint64_t loops, double rate) {
    const double t = std::chrono::duration<double>(now - started_).count();
    const double live = static_cast<double>(run_.store().memory_stats().live_bytes());
    std::fprintf(stderr,
                 "ics-stress: %.0fs loops %llu (%.0f/s) fibers %zu live %.1f KiB slope %.2f "
                 "B/loop\n",
                 t, static_cast<unsigned long long>(loops), rate,
                 run_.live_fibers().load(std::memory_order_relaxed), live / 1024,
                 run_.current_slope());
  }

  Run& run_;
  Clock::time_point started_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

RunTimes run_fibers(Run& run) {
  const Options& o = run.options();
  const Clock::time_point t0 = Clock::now();
  RunTimes times;
  const ThreadStackRoot root;
  heap::enter_thread();
  {
    Monitor monitor(run);
    StopSignal stop;
    // The latch must outlive the helpers: a helper that arrived first is still inside
    // arrive_and_wait() (spinning on the latch's counter) when the last arrival releases this
    // thread, so a latch scoped to the branch below was read after its end (ASan:
    // stack-use-after-scope in helper_thread). It is destroyed after the helpers are joined.
    std::latch ready(static_cast<std::ptrdiff_t>(std::max<std::size_t>(o.threads, 1)));
    std::vector<std::thread> helpers;
    if (o.threads <= 1) {
      boost::fibers::use_scheduling_algorithm<boost::fibers::algo::round_robin>();
    } else {
      for (std::size_t t = 1; t < o.threads; ++t) {
        helpers.emplace_back(helper_thread, o.threads, std::ref(ready), std::ref(stop));
      }
      boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(
          static_cast<std::uint32_t>(o.threads));
      ready.arrive_and_wait();
    }
    {
      boost::fibers::barrier barrier(o.fibers);
      std::vector<StackBounds> bounds(o.fibers);
      std::vector<boost::fibers::fiber> fibers;
      fibers.reserve(o.fibers);
      const std::size_t stack = o.stack_kib * 1024;
      std::atomic<std::size_t>* high_water = o.measure_stack ? &run.stack_high_water() : nullptr;
      for (std::size_t i = 0; i < o.fibers; ++i) {
        const StackBounds& b = bounds[i];
        auto body = [&run, &barrier, i, &b] { fiber_main(run, barrier, i, b); };
        fibers.emplace_back(std::allocator_arg, FiberStack(stack, bounds[i], high_water), body);
      }
      for (auto& f : fibers) f.join();
    }
    heap::enter_thread();
    if (!helpers.empty()) {
      {
        std::unique_lock lock(stop.mutex);
        stop.done = true;
      }
      stop.cv.notify_all();
      stop.notified.count_down();
      for (auto& h : helpers) h.join();
    }
  }
  times.start_seconds = std::chrono::duration<double>(run.operate_start() - t0).count();
  times.total_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return times;
}

}  // namespace ics::stress
