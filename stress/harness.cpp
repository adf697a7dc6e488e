#include "harness.h"

#include <boost/fiber/operations.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

#include "ics/testkit/sanitizers.h"
#if defined(ICS_LSAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace ics::stress {

// ---- Findings ----

void Findings::unexpected(std::string_view call, const Error& error, std::uint64_t loop,
                          std::size_t fiber) {
  std::lock_guard lock(mu_);
  Entry& e = unexpected_[{std::string(call), std::string(name(error.code()))}];
  if (e.count++ == 0) {
    e.loop = loop;
    e.fiber = fiber;
    e.message = error.to_string();
  }
}

void Findings::divergence(std::string_view what, std::string_view message, std::uint64_t loop,
                          std::size_t fiber) {
  std::lock_guard lock(mu_);
  Entry& e = divergences_[std::string(what)];
  if (e.count++ == 0) {
    e.loop = loop;
    e.fiber = fiber;
    e.message = std::string(message);
  }
}

void Findings::expected(ErrorCode code) {
  std::lock_guard lock(mu_);
  ++expected_[std::string(name(code))];
}

void Findings::add(Json finding) {
  std::lock_guard lock(mu_);
  others_.push_back(std::move(finding));
}

void Findings::sanitizer_report(std::string_view what) {
  std::lock_guard lock(mu_);
  sanitizer_.emplace_back(what);
}

std::uint64_t Findings::diverged() const {
  std::lock_guard lock(mu_);
  std::uint64_t n = 0;
  for (const auto& [what, e] : divergences_) n += e.count;
  return n;
}

std::uint64_t Findings::errors() const {
  std::lock_guard lock(mu_);
  std::uint64_t n = 0;
  for (const auto& [key, e] : unexpected_) n += e.count;
  return n;
}

bool Findings::any() const {
  std::lock_guard lock(mu_);
  return !unexpected_.empty() || !divergences_.empty() || !others_.empty() || !sanitizer_.empty();
}

namespace {

void put_where(Json& j, std::uint64_t count, std::uint64_t loop, std::size_t fiber,
               const std::string& message) {
  j["count"] = count;
  if (loop != FiberCtx::kNoLoop) j["loop"] = loop;
  j["fiber"] = fiber;
  j["message"] = message;
}

}  // namespace

Json Findings::to_json() const {
  std::lock_guard lock(mu_);
  Json out = Json::array();
  for (const auto& f : others_) out.push_back(f);
  for (const auto& [what, e] : divergences_) {
    Json j = {{"type", "Divergence"}, {"what", what}};
    put_where(j, e.count, e.loop, e.fiber, e.message);
    out.push_back(std::move(j));
  }
  for (const auto& [key, e] : unexpected_) {
    Json j = {{"type", "Unexpected-error"}, {"call", key.first}, {"error", key.second}};
    put_where(j, e.count, e.loop, e.fiber, e.message);
    out.push_back(std::move(j));
  }
  return out;
}

Json Findings::expected_json() const {
  std::lock_guard lock(mu_);
  Json out = Json::object();
  for (const auto& [code, n] : expected_) out[code] = n;
  return out;
}

Json Findings::errors_json() const {
  std::lock_guard lock(mu_);
  Json out = Json::array();
  for (const auto& [key, e] : unexpected_) {
    out.push_back({{"call", key.first}, {"error", key.second}, {"count", e.count}});
  }
  return out;
}

std::vector<std::string> Findings::sanitizer_reports() const {
  std::lock_guard lock(mu_);
  return sanitizer_;
}

// ---- Meter ----

Held Held::minus(const Held& o) const {
  Held d;
  d.total = total - o.total;
  for (std::size_t k = 0; k < kinds.size(); ++k) d.kinds[k] = kinds[k] - o.kinds[k];
  d.heap = heap - o.heap;
  d.client = client - o.client;
  return d;
}

bool Held::zero() const {
  return total == 0 && heap == 0 && client == 0 &&
         std::all_of(kinds.begin(), kinds.end(), [](std::int64_t k) { return k == 0; });
}

void Meter::add(std::size_t fiber, const Held& d) {
  Shard& s = shards_[fiber % kMeterShards];
  if (d.total != 0) s.total.fetch_add(d.total, std::memory_order_relaxed);
  for (std::size_t k = 0; k < d.kinds.size(); ++k) {
    if (d.kinds[k] != 0) s.kinds[k].fetch_add(d.kinds[k], std::memory_order_relaxed);
  }
  if (d.heap != 0) s.heap.fetch_add(d.heap, std::memory_order_relaxed);
  if (d.client != 0) s.client.fetch_add(d.client, std::memory_order_relaxed);
}

Sample Meter::settled(const MemoryStats& stats) const {
  Held in;
  for (const Shard& s : shards_) {
    in.total += s.total.load(std::memory_order_relaxed);
    for (std::size_t k = 0; k < in.kinds.size(); ++k) {
      in.kinds[k] += s.kinds[k].load(std::memory_order_relaxed);
    }
    in.heap += s.heap.load(std::memory_order_relaxed);
    in.client += s.client.load(std::memory_order_relaxed);
  }
  Sample out;
  out.total = static_cast<double>(stats.live_bytes()) - static_cast<double>(in.total);
  for (std::size_t k = 0; k < out.kinds.size(); ++k) {
    out.kinds[k] = static_cast<double>(stats.bytes(static_cast<ObjectKind>(k))) -
                   static_cast<double>(in.kinds[k]);
  }
  const heap::Totals t = heap::totals();
  out.process = static_cast<double>(t.bytes - in.heap);
  out.client = static_cast<double>(t.client - in.client);
  return out;
}

// ---- Run ----

namespace {

GrowthOptions growth_options(double threshold) {
  GrowthOptions g;
  g.threshold = threshold;
  return g;
}

// The heap series also hold per-fiber state that fills during a fiber's own first loops (its
// handle table, a bounded list of stale handles, its replica's PCLs): with thousands of fibers
// those first loops are spread over the whole run, so the warm-up is at least
// kFiberWarmupLoops loops of every fiber (a short run with many fibers gets no verdict).
constexpr std::uint64_t kFiberWarmupLoops = 10;

GrowthOptions heap_growth_options(const Options& o, double threshold) {
  GrowthOptions g = growth_options(threshold);
  g.min_warmup_loops = kFiberWarmupLoops * o.fibers;
  return g;
}

}  // namespace

Run::Run(const Options& options, Scenario& scenario, std::shared_ptr<Store> store,
         bool heap_tracked)
    : options_(options),
      scenario_(scenario),
      store_(std::move(store)),
      settled_(growth_options(options.growth_threshold)),
      raw_(growth_options(options.growth_threshold)),
      client_(heap_growth_options(options, client_threshold())),
      process_(heap_growth_options(options, heap_threshold())),
      heap_tracked_(heap_tracked) {}

double Run::heap_threshold() const {
  if (options_.heap_growth_threshold >= 0) return options_.heap_growth_threshold;
  return std::max(options_.growth_threshold, scenario_.heap_growth_floor());
}

double Run::client_threshold() const {
  if (options_.heap_growth_threshold >= 0) return options_.heap_growth_threshold;
  return std::max(options_.growth_threshold, scenario_.client_growth_floor());
}

bool Run::claim(std::uint64_t& loop) {
  if (stop_.load(std::memory_order_acquire)) return false;
  if (options_.loops == 0) {
    if (quiesce_.load(std::memory_order_acquire)) return false;
    loop = claimed_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  const std::uint64_t limit = epoch_limit_.load(std::memory_order_acquire);
  std::uint64_t c = claimed_.load(std::memory_order_relaxed);
  while (c < limit) {
    if (claimed_.compare_exchange_weak(c, c + 1, std::memory_order_relaxed)) {
      loop = c;
      return true;
    }
  }
  return false;
}

bool Run::epoch_open() const {
  if (stop_.load(std::memory_order_acquire)) return false;
  if (options_.loops == 0) return !quiesce_.load(std::memory_order_acquire);
  return claimed_.load(std::memory_order_relaxed) < epoch_limit_.load(std::memory_order_acquire);
}

void Run::loop_done(std::uint64_t loop, std::size_t /*fiber*/) {
  sample(loop);
  done_.fetch_add(1, std::memory_order_relaxed);
}

void Run::sample(std::uint64_t loop) {
  const Sample s = meter_.settled(store_->memory_stats());
  const MemoryStats& stats = store_->memory_stats();
  KindBytes raw_kinds{};
  for (std::size_t k = 0; k < raw_kinds.size(); ++k) {
    raw_kinds[k] = static_cast<double>(stats.bytes(static_cast<ObjectKind>(k)));
  }
  const auto raw_total = static_cast<double>(stats.live_bytes());
  std::lock_guard lock(detector_mu_);
  settled_.add(loop, s.total, s.kinds);
  raw_.add(loop, raw_total, raw_kinds);
  if (heap_tracked_ && loop >= heap_resume_.load(std::memory_order_relaxed)) {
    process_.add(loop, s.process, KindBytes{});
    client_.add(loop, s.client, KindBytes{});
  }
}

namespace {

std::uint64_t epoch_step(const Options& o) {
  if (o.verify_every != 0) return o.verify_every;
  return std::max<std::uint64_t>(1, (o.loops + 3) / 4);
}

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

void Run::begin_operate() {
  live_bytes_start_ = store_->memory_stats().live_bytes();
  if (options_.loops != 0) {
    epoch_limit_.store(std::min(options_.loops, epoch_step(options_)), std::memory_order_release);
  }
  if (heap_tracked_) {
    heap_bytes_start_ = heap::totals().bytes;
    heap::next_epoch();  // epoch 1: the loops; stacks are recorded from here on
  }
  epoch_start_ = Clock::now();
  epoch_cpu_start_ = cpu_seconds();
  operate_start_ = epoch_start_;
  operating_.store(true, std::memory_order_release);
}

void Run::quiescent_point(FiberCtx& leader) {
  quiescent_start_ = Clock::now();
  loop_seconds_ += seconds_between(epoch_start_, quiescent_start_);
  loop_cpu_seconds_ += cpu_seconds() - epoch_cpu_start_;
  ++epochs_;
  scenario_.quiescent(leader);
  const std::uint64_t done = loops_done();
  if (options_.leak_check_every != 0 && done - last_leak_check_ >= options_.leak_check_every) {
    last_leak_check_ = done;
    leak_check();
  }
}

void Run::heap_snapshot() {
  if (!heap_tracked_) return;
  const heap::Untracked quiet;
  HeapSnapshot snap;
  snap.loops = loops_done();
  snap.all = heap::snapshot(1, false);
  snap.client = heap::snapshot(1, true);
  heap_snapshots_.push_back(std::move(snap));
  heap::next_epoch();
}

void Run::leak_check() {
#if defined(ICS_LSAN)
  ++leak_checks_;
  if (__lsan_do_recoverable_leak_check() != 0) {
    findings_.sanitizer_report("LeakSanitizer: leaks found at a quiescent point after loop " +
                               std::to_string(loops_done()));
  }
#endif
}

void Run::next_epoch() {
  scenario_.verified();
  heap_snapshot();  // every fiber verified and is between two loops
  const Clock::time_point now = Clock::now();
  verify_seconds_ += seconds_between(quiescent_start_, now);
  bool done = stop_.load(std::memory_order_acquire);
  if (options_.loops != 0) {
    const std::uint64_t limit = epoch_limit_.load(std::memory_order_relaxed);
    done = done || limit >= options_.loops;
    if (!done) {
      epoch_limit_.store(std::min(options_.loops, limit + epoch_step(options_)),
                         std::memory_order_release);
    }
  }
  if (done) {
    live_bytes_end_ = store_->memory_stats().live_bytes();
    if (heap_tracked_) heap_bytes_end_ = heap::totals().bytes;
    rss_at_end_ = rss_bytes();
    operating_.store(false, std::memory_order_release);
    finished_.store(true, std::memory_order_release);
    return;
  }
  heap_resume_.store(claimed_.load(std::memory_order_relaxed) + options_.fibers,
                     std::memory_order_relaxed);
  quiesce_.store(false, std::memory_order_release);
  epoch_start_ = now;
  epoch_cpu_start_ = cpu_seconds();
}

void Run::count(std::string_view key, std::uint64_t n) {
  std::lock_guard lock(counters_mu_);
  auto it = counters_.find(key);
  if (it == counters_.end()) it = counters_.emplace(std::string(key), 0).first;
  it->second += n;
}

Json Run::counters_json() const {
  std::lock_guard lock(counters_mu_);
  Json out = Json::object();
  for (const auto& [key, n] : counters_) out[key] = n;
  return out;
}

GrowthReport Run::report(const GrowthDetector& d, std::size_t max_points) const {
  std::lock_guard lock(detector_mu_);
  return d.analyze(max_points);
}

double Run::current_slope() const { return settled_report(1).slope; }

// ---- FiberCtx ----

FiberCtx::FiberCtx(Run& run, std::size_t index)
    : run_(run),
      index_(index),
      rng_(run.options().seed + index),
      faults_(run.options().fail_alloc_rate > 0) {
  run_.live_fibers().fetch_add(1, std::memory_order_relaxed);
}

FiberCtx::~FiberCtx() { run_.live_fibers().fetch_sub(1, std::memory_order_relaxed); }

Result<std::unique_ptr<Session>> FiberCtx::logon(std::string_view call) {
  SessionOptions so;
  if (options().budget != 0) so.memory_budget = options().budget;
  auto r = Session::open(run_.store_ptr(), so);
  if (!check(call, r)) return r.error();
  std::unique_ptr<Session> s = std::move(r).value();
  track(*s);
  apply_faults(*s);
  return s;
}

void FiberCtx::logoff(std::unique_ptr<Session>& session) {
  if (!session) return;
  for (Injected& k : injected_) {
    if (k.session != session.get()) continue;
    k.charge.reset();  // its account goes with the session
    k.session = nullptr;
  }
  untrack(*session);
  session.reset();
}

void FiberCtx::track(Session& s) { tracked_.push_back(&s); }

void FiberCtx::untrack(Session& s) {
  tracked_.erase(std::remove(tracked_.begin(), tracked_.end(), &s), tracked_.end());
}

void FiberCtx::apply_faults(Session& s) {
  if (!faults_) {
    s.memory().set_fail_rate(0, 0);
    return;
  }
  const std::uint64_t seed = options().seed * 0x100000001B3ull + index_ * 0x9E3779B1ull +
                             ++sessions_opened_;
  s.memory().set_fail_rate(options().fail_alloc_rate, seed);
}

void FiberCtx::set_faults(bool on) {
  faults_ = on && options().fail_alloc_rate > 0;
  for (Session* s : tracked_) apply_faults(*s);
}

bool FiberCtx::tolerated(ErrorCode code, std::initializer_list<ErrorCode> expected) const {
  if (std::find(expected.begin(), expected.end(), code) != expected.end()) return true;
  return faults_ && (code == ErrorCode::OutOfMemory || code == ErrorCode::GeneralFailure);
}

void FiberCtx::note_error(std::string_view call, const Error& e,
                          std::initializer_list<ErrorCode> expected) {
  if (tolerated(e.code(), expected)) {
    run_.findings().expected(e.code());
  } else {
    run_.findings().unexpected(call, e, loop_, index_);
  }
}

void FiberCtx::diverged(std::string_view what, std::string_view message) {
  run_.findings().divergence(what, message, loop_, index_);
}

Held FiberCtx::held() const {
  Held h;
  for (const Session* s : tracked_) {
    h.total += static_cast<std::int64_t>(s->memory().live_bytes());
    for (std::size_t k = 0; k < h.kinds.size(); ++k) {
      h.kinds[k] += static_cast<std::int64_t>(s->memory().bytes(static_cast<ObjectKind>(k)));
    }
  }
  if (run_.heap_tracked()) heap::owner_bytes(heap_ctx_.owner, h.heap, h.client);
  return h;
}

void FiberCtx::publish() {
  const Held in_flight = held().minus(settled_);
  const Held delta = in_flight.minus(published_);
  if (!delta.zero()) run_.meter().add(index_, delta);
  published_ = in_flight;
}

void FiberCtx::set_stack(const char* lo, const char* hi) {
  heap_ctx_.owner = static_cast<std::uint32_t>(index_ + 1);
  heap_ctx_.side = heap::Side::Server;
  heap_ctx_.stack_lo = lo;
  heap_ctx_.stack_hi = hi;
  resume_heap();
}

void FiberCtx::resume_heap() const { heap::set_context(heap_ctx_); }

void FiberCtx::point(bool force) {
  if (!force && !rng_.chance(options().yield_rate)) return;
  publish();
  const heap::Side side = heap::context().side;
  boost::this_fiber::yield();
  heap::Context c = heap_ctx_;  // this fiber may go on on another thread
  c.side = side;
  heap::set_context(c);
}

void FiberCtx::settle() {
  settled_ = held();
  publish();
}

// Each --inject-where keeps its bytes from a function of its own: the allocation site a
// growth finding must name.
__attribute__((noinline)) void FiberCtx::inject_charged(Session& anchor, std::size_t n) {
  recharge_injected(anchor);
  auto charge = Charge::make(anchor.memory(), ObjectKind::Other, n);
  if (!check("inject-growth Charge::make", charge)) return;
  Injected keep{std::make_unique<char[]>(n), n, std::move(charge).value(), &anchor};
  std::memset(keep.bytes.get(), 0xA5, n);
  injected_.push_back(std::move(keep));
}

void FiberCtx::recharge_injected(Session& anchor) {
  for (Injected& k : injected_) {
    if (k.session != nullptr) continue;
    auto charge = Charge::make(anchor.memory(), ObjectKind::Other, k.size);
    if (!check("inject-growth Charge::make", charge)) return;
    k.charge = std::move(charge).value();
    k.session = &anchor;
  }
}

void FiberCtx::KeptChain::keep(char* block) {
  std::memcpy(block, &head_, sizeof head_);
  head_ = block;
}

void FiberCtx::KeptChain::clear() {
  while (head_ != nullptr) {
    char* next = nullptr;
    std::memcpy(&next, head_, sizeof next);
    delete[] head_;
    head_ = next;
  }
}

__attribute__((noinline)) void FiberCtx::inject_uncharged(std::size_t n) {
  char* block = new char[KeptChain::block_size(n)];
  std::memset(block, 0xA6, KeptChain::block_size(n));
  kept_uncharged_.keep(block);
}

__attribute__((noinline)) void FiberCtx::inject_client(std::size_t n) {
  const heap::ClientScope client;
  char* block = new char[KeptChain::block_size(n)];
  std::memset(block, 0xA7, KeptChain::block_size(n));
  kept_client_.keep(block);
}

void FiberCtx::inject(Session& anchor) {
  const std::size_t n = options().inject_growth;
  if (options().inject_where == "uncharged") {
    inject_uncharged(n);
  } else if (options().inject_where == "client") {
    inject_client(n);
  } else {
    inject_charged(anchor, n);
  }
}

void FiberCtx::end_loop(Session* anchor) {
  if (options().inject_growth != 0 && anchor != nullptr) inject(*anchor);
  settle();
  run_.loop_done(loop_, index_);
  loop_ = kNoLoop;
}

void FiberCtx::release_injected() {
  injected_.clear();
  kept_uncharged_.clear();
  kept_client_.clear();
  settle();
}

// ---- process figures ----

std::size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

double cpu_seconds() {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

std::size_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// ---- Scenario ----

void Scenario::quiescent(FiberCtx& leader) {
  Status st = leader.store().check_invariants();
  if (!st.ok()) leader.diverged("store invariants violated", st.error().to_string());
}

}  // namespace ics::stress
