// ics-stress: thousands of concurrent ICS sync loops on Boost.Fiber against one in-memory
// store, with oracles for convergence, unexpected errors and memory growth. Usage: --help;
// the JSON result: ci/README.md, "ics-stress JSON"; the figures: stress/README.md.
// Exit 0 clean, 1 finding (divergence, unexpected error, growth, sanitizer report), 2 usage.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "heap.h"
#include "heap_sites.h"
#include "ics/testkit/heap.h"
#include "options.h"
#include "runner.h"

namespace ics::stress {
namespace {

double finite(double v) { return std::isfinite(v) ? v : std::copysign(1e300, v); }

Json samples_json(const GrowthReport& r) {
  Json out = Json::array();
  for (const auto& [loop, bytes] : r.samples) out.push_back({loop, std::llround(bytes)});
  return out;
}

std::size_t session_budget(const Options& o) {
  return o.budget != 0 ? o.budget : SessionOptions{}.memory_budget;
}

// Loops of one session until its budget is spent at the measured slope: each loop of the
// run is one session's loop, so the slope is bytes per session loop.
double projected_loops(const Options& o, const GrowthReport& r) {
  if (r.slope <= 0) return -1;
  const double per_session = r.last_bytes / static_cast<double>(o.fibers);
  return std::max(0.0, (static_cast<double>(session_budget(o)) - per_session) / r.slope);
}

Json growth_json(const GrowthReport& r) {
  Json kinds = Json::object();
  for (std::size_t k = 0; k < kObjectKindCount; ++k) {
    kinds[std::string(name(static_cast<ObjectKind>(k)))] = finite(r.kind_slopes[k]);
  }
  return {{"flagged", r.flagged},         {"reason", r.reason},
          {"slope_bytes_per_loop", r.slope}, {"r2", r.r2},
          {"t", finite(r.t)},               {"second_half_slope", r.second_half_slope},
          {"window_delta", r.window_delta}, {"window_noise", r.window_noise},
          {"threshold", r.threshold},       {"warmup_loops", r.warmup_loops},
          {"kind", r.kind},                 {"kind_slopes", kinds}};
}

// The three series a run watches, in the order a growth finding names them: the engine's
// own account is the most specific, the whole process the least.
struct SeriesReports {
  GrowthReport server;
  GrowthReport client;
  GrowthReport process;
  bool heap = false;  // client and process were watched
};

Json frame_json(const heap::Frame& f) {
  return {{"function", f.function}, {"file", f.file}, {"line", f.line}};
}

Json site_json(const heap::Site& s, double loops) {
  Json frames = Json::array();
  for (const auto& f : s.frames) frames.push_back(frame_json(f));
  return {{"frames", frames},
          {"bytes", s.bytes},
          {"bytes_per_loop", loops > 0 ? s.bytes / loops : 0.0},
          {"allocations", s.allocations}};
}

// UMDH's diff between the first snapshot after the warm-up and the last one: window_loops,
// sites, and for a top site with frames also site, state and location. Symbolising runs
// addr2line, so each run computes this at most once per side.
Json sites_json(const Run& run, const GrowthReport& r, bool client) {
  Json f = Json::object();
  const auto& snaps = run.heap_snapshots();
  if (snaps.size() < 2) return f;
  std::size_t base = 0;
  while (base + 1 < snaps.size() && snaps[base].loops < r.warmup_loops) ++base;
  if (base + 1 >= snaps.size()) base = snaps.size() - 2;
  const auto& a = snaps[base];
  const auto& b = snaps.back();
  const auto sites = heap::growth_sites(client ? a.client : a.all, client ? b.client : b.all);
  const auto loops = static_cast<double>(b.loops - a.loops);
  Json list = Json::array();
  for (const auto& s : sites) list.push_back(site_json(s, loops));
  f["window_loops"] = {a.loops, b.loops};
  f["sites"] = list;
  if (sites.empty() || sites.front().frames.empty()) return f;
  f["site"] = list.front();
  Json state = Json::array();
  for (const auto& fr : sites.front().frames) state.push_back(fr.function);
  f["state"] = state;
  const heap::Frame& top = sites.front().frames.front();
  f["location"] = {{"file", top.file}, {"line", top.line}, {"column", 0}};
  return f;
}

// The sites of the whole heap (always, for heap.growth_sites and growth findings of the
// server or process series) and of the client side (only when a client finding needs them).
struct SiteReports {
  Json all = Json::object();
  Json client = Json::object();
};

void add_growth_finding(const Options& o, const SeriesReports& s, const SiteReports& sites,
                        Findings& findings) {
  const std::pair<const char*, const GrowthReport*> order[] = {
      {"server", &s.server}, {"client", &s.client}, {"process", &s.process}};
  Json flagged = Json::array();
  const char* series = nullptr;
  const GrowthReport* r = nullptr;
  for (const auto& [name, rep] : order) {
    if (!rep->flagged || (!s.heap && rep != &s.server)) continue;
    flagged.push_back(name);
    if (r == nullptr) {
      series = name;
      r = rep;
    }
  }
  if (r == nullptr) return;
  Json f = {{"type", "Memory-growth"},
            {"series", series},
            {"series_flagged", flagged},
            {"kind", r == &s.server ? r->kind : std::string("heap")},
            {"slope_bytes_per_loop", r->slope},
            {"samples", samples_json(*r)},
            {"projected_loops_to_budget", std::llround(projected_loops(o, *r))},
            {"budget_bytes", session_budget(o)}};
  f["message"] = std::string(series) + " live bytes grow " + std::to_string(r->slope) +
                 " B/loop after " + std::to_string(r->warmup_loops) + " warm-up loops (t " +
                 std::to_string(finite(r->t)) + ", R^2 " + std::to_string(r->r2) + ")";
  if (s.heap) {
    f["series_samples"] = {{"server", samples_json(s.server)},
                           {"client", samples_json(s.client)},
                           {"process", samples_json(s.process)}};
    f.update(r == &s.client ? sites.client : sites.all);
  }
  findings.add(std::move(f));
}

// Bytes still charged once every session has logged off: an accounting leak.
void check_leftover(const Run& run, const Store& store, Findings& findings) {
  const MemoryStats& m = store.memory_stats();
  if (m.live_bytes() == 0 && m.live_objects() == 0) return;
  std::size_t top = 0;
  for (std::size_t k = 1; k < kObjectKindCount; ++k) {
    if (m.bytes(static_cast<ObjectKind>(k)) > m.bytes(static_cast<ObjectKind>(top))) top = k;
  }
  const double loops = std::max<double>(1, static_cast<double>(run.loops_done()));
  findings.add({{"type", "Memory-growth"},
                {"kind", std::string(name(static_cast<ObjectKind>(top)))},
                {"slope_bytes_per_loop", static_cast<double>(m.live_bytes()) / loops},
                {"message", std::to_string(m.live_bytes()) + " bytes in " +
                                std::to_string(m.live_objects()) +
                                " objects still charged after every session logged off"}});
}

struct Outcome {
  GrowthReport settled;
  GrowthReport raw;
  SeriesReports series;
  SiteReports sites;
  heap::Totals heap_end;
  RunTimes times;
  std::size_t leftover_bytes = 0;
  std::size_t store_messages = 0;
  std::size_t store_conflicts = 0;
};

Json series_json(const SeriesReports& s) {
  Json out = Json::object();
  auto one = [](const GrowthReport& r) {
    Json j = growth_json(r);
    j["samples"] = samples_json(r);
    return j;
  };
  out["server"] = one(s.server);
  if (s.heap) {
    out["client"] = one(s.client);
    out["process"] = one(s.process);
  }
  return out;
}

Json heap_json(const Run& run, const Outcome& out) {
  Json j = {{"tracked", run.heap_tracked()}, {"source", heap::source()}};
  if (!run.heap_tracked()) return j;
  j["live_bytes_start"] = run.heap_bytes_start();
  j["live_bytes_end"] = run.heap_bytes_end();
  j["live_bytes_after_run"] = out.heap_end.bytes;
  j["client_bytes_after_run"] = out.heap_end.client;
  j["live_allocations_after_run"] = out.heap_end.allocations;
  j["stack_every"] = heap::stack_every();
  j["snapshots"] = run.heap_snapshots().size();
  // Where the process heap grew between the windows, flagged or not (for reading a clean run).
  j["growth_sites"] = out.sites.all.value("sites", Json::array());
  return j;
}

Json result_json(const Options& o, Run& run, const Outcome& out) {
  Findings& f = run.findings();
  const double loops = static_cast<double>(run.loops_done());
  const double rate = run.loop_seconds() > 0 ? loops / run.loop_seconds() : 0;
  Json j;
  j["verdict"] = f.any() ? "finding" : "clean";
  j["command"] = reproduce_command(o, o.loops == 0 ? run.loops_done() : 0);
  j["seed"] = o.seed;
  j["scenario"] = o.scenario;
  j["loops"] = run.loops_done();
  j["loops_per_s"] = std::round(rate);
  j["fibers"] = o.fibers;
  j["threads"] = o.threads;
  j["live_bytes_start"] = run.live_bytes_start();
  j["live_bytes_end"] = run.live_bytes_end();
  j["growth_bytes_per_loop"] = out.settled.slope;
  j["diverged"] = f.diverged();
  j["errors"] = f.errors();
  j["findings"] = f.to_json();
  j["unexpected_errors"] = f.errors_json();
  j["expected_errors"] = f.expected_json();
  j["sanitizer_reports"] = f.sanitizer_reports();
  j["growth"] = growth_json(out.settled);
  j["raw_growth"] = growth_json(out.raw);
  j["series"] = series_json(out.series);
  j["heap"] = heap_json(run, out);
  j["live_bytes"] = samples_json(out.settled);
  j["live_bytes_after_logoff"] = out.leftover_bytes;
  j["counters"] = run.counters_json();
  j["store"] = {{"messages", out.store_messages}, {"conflicts", out.store_conflicts}};
  j["epochs"] = run.epochs();
  j["leak_checks"] = run.leak_checks();
  j["options"] = {{"buffer_size", o.buffer_size}, {"messages", o.messages},
                  {"inject_growth", o.inject_growth}, {"fail_alloc_rate", o.fail_alloc_rate},
                  {"stack_kib", o.stack_kib}, {"yield_rate", o.yield_rate},
                  {"budget_bytes", session_budget(o)}, {"growth_threshold", o.growth_threshold},
                  {"heap_growth_threshold", run.heap_threshold()},
                  {"client_growth_threshold", run.client_threshold()}};
  const double cpu = run.loop_cpu_seconds();
  j["figures"] = {{"seconds", out.times.total_seconds},
                 {"start_seconds", out.times.start_seconds},
                 {"loop_seconds", run.loop_seconds()},
                 {"loop_cpu_seconds", cpu},
                 {"loops_per_cpu_s", cpu > 0 ? std::round(loops / cpu) : 0},
                 {"verify_seconds", run.verify_seconds()},
                 {"rss_bytes_at_end", run.rss_at_end()},
                 {"rss_peak_bytes", peak_rss_bytes()},
                 {"worker_data_bytes", run.worker_bytes()},
                 {"stack_high_water_bytes", run.stack_high_water().load()}};
  // The allocator's own count at the end, beside the tracker's (sanitizer stats, or
  // mallinfo2: chunk headers and tcache included; the monitor thread's too).
  if (auto b = testkit::live_heap_bytes()) {
    j["figures"]["allocator_live_bytes"] = *b;
    j["figures"]["allocator_source"] = std::string(testkit::heap_source());
  }
  return j;
}

void print_summary(const Json& j, const Outcome& out) {
  std::fprintf(stderr,
               "ics-stress: verdict %s: %s loops (%s loops/s), growth %.3f B/loop (%s), "
               "%s divergences, %s unexpected errors\n",
               j["verdict"].get<std::string>().c_str(), j["loops"].dump().c_str(),
               j["loops_per_s"].dump().c_str(), out.settled.slope, out.settled.reason.c_str(),
               j["diverged"].dump().c_str(), j["errors"].dump().c_str());
  if (out.series.heap) {
    std::fprintf(stderr, "ics-stress: heap series: client %.3f B/loop (%s), process %.3f B/loop (%s)\n",
                 out.series.client.slope, out.series.client.reason.c_str(),
                 out.series.process.slope, out.series.process.reason.c_str());
  }
  for (const auto& f : j["findings"]) std::fprintf(stderr, "ics-stress: finding %s\n", f.dump().c_str());
  for (const auto& s : j["sanitizer_reports"]) {
    std::fprintf(stderr, "ics-stress: %s\n", s.get<std::string>().c_str());
  }
}

int run_main(Options o) {
  if (!o.seed_given) o.seed = (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  std::fprintf(stderr, "ics-stress: seed %llu; reproduce: %s\n",
               static_cast<unsigned long long>(o.seed), reproduce_command(o).c_str());
  // Before the store is built: every byte the run frees was seen allocated.
  const bool heap_tracked = o.heap && heap::start(o.fibers, o.heap_stack_every);
  if (heap_tracked) heap::enter_thread();
  auto setup = make_scenario(o);
  if (!setup.ok()) {
    std::fprintf(stderr, "ics-stress: error: %s\n", setup.error().to_string().c_str());
    return 2;
  }
  Outcome out;
  Run run(o, *setup->scenario, setup->store, heap_tracked);
  out.times = run_fibers(run);
  out.heap_end = heap::totals();
  heap::stop();
  out.settled = run.settled_report();
  out.raw = run.raw_report();
  out.series.server = out.settled;
  out.series.heap = heap_tracked;
  if (heap_tracked) {
    out.series.client = run.client_report();
    out.series.process = run.process_report();
    // The heap series' warm-up (at least as long as the server's) picks the first window.
    out.sites.all = sites_json(run, out.series.process, false);
    if (out.series.client.flagged) out.sites.client = sites_json(run, out.series.client, true);
  }
  add_growth_finding(o, out.series, out.sites, run.findings());
  out.leftover_bytes = setup->store->memory_stats().live_bytes();
  out.store_messages = setup->store->message_count();
  out.store_conflicts = setup->store->conflict_count();
  check_leftover(run, *setup->store, run.findings());
  const Json j = result_json(o, run, out);
  if (!o.json.empty()) {
    std::ofstream file(o.json);
    file << j.dump(2) << "\n";
    if (!file) {
      std::fprintf(stderr, "ics-stress: error: cannot write %s\n", o.json.c_str());
      return 2;
    }
  }
  print_summary(j, out);
  std::fflush(stderr);
  return j["verdict"] == "clean" ? 0 : 1;
}

}  // namespace
}  // namespace ics::stress

int main(int argc, char** argv) {
  using namespace ics::stress;
  const ParseResult p = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (!p.options) {
    std::fprintf(stderr, "ics-stress: error: %s (see --help)\n", p.error.c_str());
    return 2;
  }
  Options o = *p.options;
  o.program = argc > 0 ? argv[0] : "ics-stress";
  if (o.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (o.list_scenarios) {
    for (const auto& n : scenario_names()) std::printf("%s\n", n.c_str());
    return 0;
  }
  return run_main(o);
}
