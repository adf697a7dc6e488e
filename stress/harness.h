// The pieces of ics-stress that scenarios see: the per-fiber context (seeded randomness, yield
// points, error checks, logon/logoff, memory publishing), the worker and scenario interfaces,
// and the shared run state (loop claims, findings, memory meter, growth detectors).
//
// Memory signal. The growth detector must see what a loop leaves behind, not what other
// fibers' unfinished loops hold at that moment (thousands of download contexts are in flight
// at any time). Each fiber tracks the sessions it holds; at a loop's end it records their live
// bytes as its "settled" figure, and whenever it yields mid-loop it publishes its "in flight"
// bytes (held now minus settled) to a sharded meter. The sample taken at every loop's end is
//     Store::memory_stats() totals (per kind too) - every fiber's published in-flight bytes
//   = the sum of the fibers' settled bytes + bytes left in the totals by destroyed accounts.
// With one thread this is exact (other fibers only run while this one is suspended, after
// publishing); with several threads a fiber's unpublished bytes race with the sample (noise
// of about one loop's working set). The raw store totals are sampled too, for comparison.
// The same is done for the heap (heap.h): a fiber's live heap bytes (and the client side's
// share) beside its sessions' accounts, giving the process and client series.
//
// Threading: a Run is shared by every fiber and thread (its members are atomics or guarded by
// mutexes); a FiberCtx and a Worker belong to one fiber.
#pragma once

#include <array>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "growth.h"
#include "heap.h"
#include "ics/errors.h"
#include "ics/memory.h"
#include "ics/session.h"
#include "ics/store.h"
#include "ics/testkit/random.h"
#include "options.h"

namespace ics::stress {

using Json = nlohmann::ordered_json;

// One per fiber: 8 bytes of state (100k fibers).
using testkit::Rng;

// Findings of a run, deduplicated; thread-safe.
class Findings {
 public:
  void unexpected(std::string_view call, const Error& error, std::uint64_t loop, std::size_t fiber);
  void divergence(std::string_view what, std::string_view message, std::uint64_t loop,
                  std::size_t fiber);
  void expected(ErrorCode code);
  void add(Json finding);  // a finished finding object (Memory-growth)
  void sanitizer_report(std::string_view what);

  std::uint64_t diverged() const;
  std::uint64_t errors() const;
  bool any() const;
  Json to_json() const;           // findings[]
  Json expected_json() const;     // {"OutOfMemory": n, ...}
  Json errors_json() const;       // [{call, error, count}]
  std::vector<std::string> sanitizer_reports() const;

 private:
  struct Entry {
    std::uint64_t count = 0;
    std::uint64_t loop = 0;
    std::size_t fiber = 0;
    std::string message;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> unexpected_;
  std::map<std::string, Entry> divergences_;
  std::map<std::string, std::uint64_t> expected_;
  std::vector<Json> others_;
  std::vector<std::string> sanitizer_;
};

inline constexpr std::size_t kMeterShards = 8;
using KindCounts = std::array<std::int64_t, kObjectKindCount>;

// What a fiber holds: its sessions' MemoryAccounts (total, per kind), and the heap bytes it
// allocated that are still live (all, and the client side's share; heap.h).
struct Held {
  std::int64_t total = 0;
  KindCounts kinds{};
  std::int64_t heap = 0;
  std::int64_t client = 0;
  Held minus(const Held& o) const;
  bool zero() const;
};

// One sample of the three series a run watches, after in-flight bytes are taken out.
struct Sample {
  double total = 0;  // server: the sessions' MemoryAccounts
  KindBytes kinds{};
  double process = 0;  // every live heap byte
  double client = 0;   // heap bytes allocated under heap::ClientScope
};

// In-flight bytes of every fiber, sharded by fiber index.
class Meter {
 public:
  void add(std::size_t fiber, const Held& delta);
  // Store totals and heap totals minus in-flight bytes.
  Sample settled(const MemoryStats& stats) const;

 private:
  struct alignas(64) Shard {
    std::atomic<std::int64_t> total{0};
    std::array<std::atomic<std::int64_t>, kObjectKindCount> kinds{};
    std::atomic<std::int64_t> heap{0};
    std::atomic<std::int64_t> client{0};
  };
  std::array<Shard, kMeterShards> shards_{};
};

class Scenario;
class FiberCtx;

// Shared state of one run.
class Run {
 public:
  // heap_tracked: the heap tracker (heap.h) was started for this run.
  Run(const Options& options, Scenario& scenario, std::shared_ptr<Store> store, bool heap_tracked);

  const Options& options() const { return options_; }
  Scenario& scenario() { return scenario_; }
  // The process and client series' thresholds (bytes per loop).
  double heap_threshold() const;
  double client_threshold() const;
  Store& store() { return *store_; }
  const std::shared_ptr<Store>& store_ptr() const { return store_; }
  Findings& findings() { return findings_; }
  Meter& meter() { return meter_; }

  // Claims the next loop of the current epoch; false when the epoch is over.
  bool claim(std::uint64_t& loop);
  // Whether loops remain to be claimed in this epoch (writers run while they do).
  bool epoch_open() const;
  void loop_done(std::uint64_t loop, std::size_t fiber);

  // Called by one fiber (the barrier's leader) with every other fiber blocked. The heap
  // snapshots for the growth sites are taken in next_epoch(), after verification.
  void begin_operate();
  void quiescent_point(FiberCtx& leader);
  void next_epoch();
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  // For the monitor thread.
  void request_stop() { stop_.store(true, std::memory_order_release); }
  void request_quiesce() { quiesce_.store(true, std::memory_order_release); }
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  std::uint64_t loops_done() const { return done_.load(std::memory_order_relaxed); }
  std::atomic<std::size_t>& live_fibers() { return live_fibers_; }
  bool operating() const { return operating_.load(std::memory_order_acquire); }

  // Named event counts (import outcomes, ...) for the JSON; thread-safe.
  void count(std::string_view key, std::uint64_t n = 1);
  Json counters_json() const;
  // Memory a fiber's worker keeps as its own data (a replica's messages), added once per fiber
  // at the last quiescent point.
  void add_worker_bytes(std::size_t bytes) { worker_bytes_.fetch_add(bytes, std::memory_order_relaxed); }
  std::size_t worker_bytes() const { return worker_bytes_.load(std::memory_order_relaxed); }
  std::atomic<std::size_t>& stack_high_water() { return stack_high_water_; }

  GrowthReport settled_report(std::size_t max_points = 200) const { return report(settled_, max_points); }
  GrowthReport raw_report(std::size_t max_points = 200) const { return report(raw_, max_points); }
  GrowthReport client_report(std::size_t max_points = 200) const { return report(client_, max_points); }
  GrowthReport process_report(std::size_t max_points = 200) const { return report(process_, max_points); }
  // Whether the heap tracker watched this run (heap.h), and its per-stack snapshots of the
  // allocations made during the loops, one per quiescent point (loops done, all, client).
  bool heap_tracked() const { return heap_tracked_; }
  struct HeapSnapshot {
    std::uint64_t loops = 0;
    heap::Snapshot all;
    heap::Snapshot client;
  };
  const std::vector<HeapSnapshot>& heap_snapshots() const { return heap_snapshots_; }
  std::int64_t heap_bytes_start() const { return heap_bytes_start_; }
  std::int64_t heap_bytes_end() const { return heap_bytes_end_; }
  double current_slope() const;

  std::size_t live_bytes_start() const { return live_bytes_start_; }
  // When the loops began (valid once operating() or finished()).
  std::chrono::steady_clock::time_point operate_start() const { return operate_start_; }
  // Store totals and the process's resident set at the last quiescent point (every fiber alive).
  std::size_t live_bytes_end() const { return live_bytes_end_; }
  std::size_t rss_at_end() const { return rss_at_end_; }
  double loop_seconds() const { return loop_seconds_; }
  double loop_cpu_seconds() const { return loop_cpu_seconds_; }
  double verify_seconds() const { return verify_seconds_; }
  std::uint64_t epochs() const { return epochs_; }
  std::uint64_t leak_checks() const { return leak_checks_; }

 private:
  using Clock = std::chrono::steady_clock;
  void sample(std::uint64_t loop);
  GrowthReport report(const GrowthDetector& d, std::size_t max_points) const;
  void leak_check();
  void heap_snapshot();

  Options options_;
  Scenario& scenario_;
  std::shared_ptr<Store> store_;
  Findings findings_;
  Meter meter_;
  mutable std::mutex detector_mu_;
  GrowthDetector settled_;
  GrowthDetector raw_;
  GrowthDetector client_;
  GrowthDetector process_;
  bool heap_tracked_ = false;
  std::vector<HeapSnapshot> heap_snapshots_;  // written by the barrier leader only
  std::int64_t heap_bytes_start_ = 0;
  std::int64_t heap_bytes_end_ = 0;
  // Loops below this number are not heap samples: after a quiescent point every fiber still
  // holds what its verification left until its own next loop releases it (a step the size of
  // every fiber's leftovers, gone once each fiber has looped).
  std::atomic<std::uint64_t> heap_resume_{0};

  std::atomic<std::uint64_t> claimed_{0};
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> epoch_limit_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> quiesce_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> operating_{false};
  std::atomic<std::size_t> live_fibers_{0};
  std::atomic<std::size_t> worker_bytes_{0};
  std::atomic<std::size_t> stack_high_water_{0};
  mutable std::mutex counters_mu_;
  std::map<std::string, std::uint64_t, std::less<>> counters_;

  // Written by the barrier leader only.
  std::size_t live_bytes_start_ = 0;
  Clock::time_point operate_start_{};
  std::size_t live_bytes_end_ = 0;
  std::size_t rss_at_end_ = 0;
  Clock::time_point epoch_start_{};
  Clock::time_point quiescent_start_{};
  double loop_seconds_ = 0;
  double epoch_cpu_start_ = 0;
  double loop_cpu_seconds_ = 0;
  double verify_seconds_ = 0;
  std::uint64_t epochs_ = 0;
  std::uint64_t last_leak_check_ = 0;
  std::uint64_t leak_checks_ = 0;
};

// One fiber's view of the run.
class FiberCtx {
 public:
  static constexpr std::uint64_t kNoLoop = ~std::uint64_t{0};

  FiberCtx(Run& run, std::size_t index);
  ~FiberCtx();
  FiberCtx(const FiberCtx&) = delete;
  FiberCtx& operator=(const FiberCtx&) = delete;

  std::size_t index() const { return index_; }
  Rng& rng() { return rng_; }
  const Options& options() const { return run_.options(); }
  Store& store() { return run_.store(); }
  Run& run() { return run_; }
  std::uint64_t loop() const { return loop_; }

  // Opens a session on the store (budget from --budget; fault injection when active) and
  // tracks its memory as this fiber's. GeneralFailure/OutOfMemory are checked as expected
  // only under fault injection.
  Result<std::unique_ptr<Session>> logon(std::string_view call = "Session::open");
  // Untracks and destroys the session (logoff).
  void logoff(std::unique_ptr<Session>& session);
  void track(Session& s);
  void untrack(Session& s);

  // A yield point: with probability --yield-rate, publishes this fiber's in-flight bytes
  // and yields. force = always yield.
  void point(bool force = false);

  // Whether r succeeded; an error in `expected` (or OutOfMemory / GeneralFailure under fault
  // injection) is counted as expected, anything else becomes an Unexpected-error finding.
  template <class R>
  bool check(std::string_view call, const R& r, std::initializer_list<ErrorCode> expected = {}) {
    if (r.ok()) return true;
    note_error(call, r.error(), expected);
    return false;
  }
  // Whether code is one the caller tolerates here (same rule as check()).
  bool tolerated(ErrorCode code, std::initializer_list<ErrorCode> expected) const;
  void diverged(std::string_view what, std::string_view message);

  // Fault injection on this fiber's sessions (off while verifying).
  bool faults() const { return faults_; }
  void set_faults(bool on);

  // Runner hooks.
  // Makes this fiber the owner of the thread's allocations (heap.h), with its stack's bounds;
  // called when the fiber starts and after every switch back to it.
  void set_stack(const char* lo, const char* hi);
  void resume_heap() const;
  void begin_loop(std::uint64_t loop) { loop_ = loop; }
  void end_loop(Session* anchor);
  void settle();  // records the held bytes as settled (outside counted loops)
  void release_injected();

 private:
  // Growth kept in the engine's account of the session that was the anchor (`session`).
  // When that session logs off (mixed's relogon) the charge is released with it and the
  // block waits, unowned, to be charged again to the next anchor: the growth outlives
  // the session, as a leak in a long-lived client object would.
  struct Injected {
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0;
    Charge charge;
    const Session* session = nullptr;
  };
  void recharge_injected(Session& anchor);
  void note_error(std::string_view call, const Error& e, std::initializer_list<ErrorCode> expected);
  Held held() const;
  void publish();
  void apply_faults(Session& s);
  void inject(Session& anchor);
  void inject_charged(Session& anchor, std::size_t n);
  void inject_uncharged(std::size_t n);
  void inject_client(std::size_t n);

  Run& run_;
  std::size_t index_;
  Rng rng_;
  std::uint64_t loop_ = kNoLoop;
  bool faults_;
  std::uint64_t sessions_opened_ = 0;
  std::vector<Session*> tracked_;
  Held settled_;
  Held published_;  // in flight, as last published
  heap::Context heap_ctx_;
  std::vector<Injected> injected_;
  // Blocks of --inject-where uncharged / client, chained through their first bytes, so that
  // a loop keeps exactly --inject-growth bytes (no container grows beside them).
  class KeptChain {
   public:
    KeptChain() = default;
    KeptChain(const KeptChain&) = delete;
    KeptChain& operator=(const KeptChain&) = delete;
    ~KeptChain() { clear(); }
    static std::size_t block_size(std::size_t n) { return std::max(n, sizeof(char*)); }
    void keep(char* block);  // a block of block_size() bytes
    void clear();

   private:
    char* head_ = nullptr;
  };
  KeptChain kept_uncharged_;
  KeptChain kept_client_;
};

// One fiber's part in a scenario.
class Worker {
 public:
  virtual ~Worker() = default;
  virtual void start(FiberCtx&) {}   // before the first loop: logon, first sync
  virtual void loop(FiberCtx&) = 0;  // one loop
  virtual void verify(FiberCtx&) {}  // at a quiescent point (no writer runs)
  // At a quiescent point, before any fiber verifies: send what is still pending, so that no
  // fiber changes the server while another compares its replica with it.
  virtual void before_verify(FiberCtx&) {}
  virtual void stop(FiberCtx&) {}    // logoff
  // Writers run while loops remain in the epoch; their runs are not counted as loops.
  virtual bool counts_loops() const { return true; }
  // Bytes of the worker's own client-side data (estimated), for the RSS figures.
  virtual std::size_t data_bytes() const { return 0; }
  // The session --inject-growth charges (null: none).
  virtual Session* anchor() = 0;
};

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual std::unique_ptr<Worker> make_worker(std::size_t fiber) = 0;
  // At each quiescent point, on the leader fiber, every other fiber blocked.
  virtual void quiescent(FiberCtx& leader);
  // After every fiber verified, on the leader: drop what only verification needed, so that
  // the heap between two epochs holds only what the loops keep.
  virtual void verified() {}
  // Bytes per loop a clean run of this scenario may legitimately add to the heap; the heap
  // series' threshold is at least this unless --heap-growth-threshold says otherwise. The
  // client series may have a lower floor of its own (the replicas' share of that growth).
  virtual double heap_growth_floor() const { return 0; }
  virtual double client_growth_floor() const { return heap_growth_floor(); }
};

// The store a scenario runs against and the scenario; InvalidParameter for an unknown name.
struct ScenarioSetup {
  std::shared_ptr<Store> store;
  std::unique_ptr<Scenario> scenario;
};
Result<ScenarioSetup> make_scenario(const Options& options);

// The process's resident set (/proc/self/statm) and its peak (VmHWM); 0 when unknown.
std::size_t rss_bytes();
// CPU seconds of the whole process (every thread) so far.
double cpu_seconds();
std::size_t peak_rss_bytes();

}  // namespace ics::stress
