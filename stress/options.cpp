#include <algorithm>
#include "options.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string_view>

namespace ics::stress {

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// An integer with an optional binary suffix k, m or g.
std::optional<std::uint64_t> parse_size(std::string_view s) {
  std::uint64_t mult = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 'k': case 'K': mult = std::uint64_t{1} << 10; break;
      case 'm': case 'M': mult = std::uint64_t{1} << 20; break;
      case 'g': case 'G': mult = std::uint64_t{1} << 30; break;
      default: break;
    }
    if (mult != 1) s.remove_suffix(1);
  }
  auto v = parse_u64(s);
  if (!v || *v > UINT64_MAX / mult) return std::nullopt;
  return *v * mult;
}

std::optional<double> parse_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

using Setter = std::function<std::string(Options&, const std::string&)>;

template <class T>
Setter size_setter(T Options::*field, std::uint64_t lo, std::uint64_t hi) {
  return [=](Options& o, const std::string& v) -> std::string {
    auto n = parse_size(v);
    if (!n || *n < lo || *n > hi) {
      return "expects an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    }
    o.*field = static_cast<T>(*n);
    return {};
  };
}

Setter double_setter(double Options::*field, double lo, double hi) {
  return [=](Options& o, const std::string& v) -> std::string {
    auto d = parse_double(v);
    if (!d || *d < lo || *d > hi) {
      return "expects a number in [" + fmt_double(lo) + ", " + fmt_double(hi) + "]";
    }
    o.*field = *d;
    return {};
  };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = {
      {"--fibers", size_setter(&Options::fibers, 1, 1'000'000)},
      {"--threads", size_setter(&Options::threads, 1, 64)},
      {"--loops", size_setter(&Options::loops, 1, UINT64_MAX / 4)},
      {"--seconds", double_setter(&Options::seconds, 0.001, 1e7)},
      {"--seed",
       [](Options& o, const std::string& v) -> std::string {
         auto n = parse_u64(v);
         if (!n) return "expects an unsigned 64-bit integer";
         o.seed = *n;
         o.seed_given = true;
         return {};
       }},
      {"--buffer-size", size_setter(&Options::buffer_size, 1, 1 << 20)},
      {"--messages", size_setter(&Options::messages, 0, 100'000)},
      {"--inject-growth", size_setter(&Options::inject_growth, 0, 1 << 20)},
      {"--fail-alloc-rate", double_setter(&Options::fail_alloc_rate, 0, 0.99)},
      {"--leak-check-every", size_setter(&Options::leak_check_every, 0, UINT64_MAX / 4)},
      {"--verify-every", size_setter(&Options::verify_every, 0, UINT64_MAX / 4)},
      {"--stack-kib", size_setter(&Options::stack_kib, 8, 64)},
      {"--yield-rate", double_setter(&Options::yield_rate, 0, 1)},
      {"--budget", size_setter(&Options::budget, 0, std::size_t{1} << 40)},
      {"--growth-threshold", double_setter(&Options::growth_threshold, 0, 1e12)},
      {"--heap-growth-threshold", double_setter(&Options::heap_growth_threshold, 0, 1e12)},
      {"--writers", size_setter(&Options::writers, 0, 1'000'000)},
      {"--scenario",
       [](Options& o, const std::string& v) -> std::string {
         for (const auto& n : scenario_names()) {
           if (n == v) {
             o.scenario = v;
             return {};
           }
         }
         return "unknown scenario (see --help)";
       }},
      {"--inject-where",
       [](Options& o, const std::string& v) -> std::string {
         if (v != "charged" && v != "uncharged" && v != "client") {
           return "expects charged, uncharged or client";
         }
         o.inject_where = v;
         return {};
       }},
      {"--heap-stack-every", size_setter(&Options::heap_stack_every, 0, 1'000'000)},
      {"--json",
       [](Options& o, const std::string& v) -> std::string {
         if (v.empty()) return "expects a file name";
         o.json = v;
         return {};
       }},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names = {
#include "scenario_names.inc"
  };
  return names;
}

ParseResult parse_options(const std::vector<std::string>& args) {
  Options o;
  bool loops_given = false, seconds_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    bool has_value = false;
    if (auto eq = flag.find('='); eq != std::string::npos && flag.rfind("--", 0) == 0) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
      has_value = true;
    }
    if (flag == "--help" || flag == "-h") {
      o.help = true;
      continue;
    }
    if (flag == "--list-scenarios") {
      o.list_scenarios = true;
      continue;
    }
    if (flag == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (flag == "--no-heap") {
      o.heap = false;
      continue;
    }
    if (flag == "--measure-stack") {
      o.measure_stack = true;
      continue;
    }
    auto it = setters().find(flag);
    if (it == setters().end()) return {std::nullopt, "unknown argument '" + args[i] + "'"};
    if (!has_value) {
      if (i + 1 >= args.size()) return {std::nullopt, flag + " needs a value"};
      value = args[++i];
    }
    if (std::string err = it->second(o, value); !err.empty()) {
      return {std::nullopt, flag + " " + err + ", got '" + value + "'"};
    }
    loops_given |= flag == "--loops";
    seconds_given |= flag == "--seconds";
  }
  if (loops_given && seconds_given) return {std::nullopt, "--seconds and --loops exclude each other"};
  if (!loops_given && !seconds_given) o.loops = 10'000;
  if (seconds_given) o.loops = 0;
  if (o.threads > o.fibers) return {std::nullopt, "--threads must not exceed --fibers"};
  if ((o.scenario == "mixed" || o.scenario == "live-loop") && o.fibers < 2) {
    return {std::nullopt, "--scenario " + o.scenario + " needs at least 2 fibers (writers and replicas)"};
  }
  if (o.writers >= o.fibers) return {std::nullopt, "--writers must be below --fibers"};
  return {o, {}};
}

std::string reproduce_command(const Options& o, std::uint64_t loops_override) {
  std::string c = o.program;
  auto add = [&c](const std::string& flag, const std::string& value) {
    c += " " + flag + " " + value;
  };
  add("--scenario", o.scenario);
  add("--fibers", std::to_string(o.fibers));
  add("--threads", std::to_string(o.threads));
  if (loops_override != 0 || o.loops != 0) {
    add("--loops", std::to_string(loops_override != 0 ? loops_override : o.loops));
  } else {
    add("--seconds", fmt_double(o.seconds));
  }
  add("--seed", std::to_string(o.seed));
  add("--buffer-size", std::to_string(o.buffer_size));
  add("--messages", std::to_string(o.messages));
  const Options d;
  if (o.inject_growth != 0) add("--inject-growth", std::to_string(o.inject_growth));
  if (o.inject_growth != 0 && o.inject_where != d.inject_where) add("--inject-where", o.inject_where);
  if (!o.heap) c += " --no-heap";
  if (o.heap_stack_every != d.heap_stack_every) {
    add("--heap-stack-every", std::to_string(o.heap_stack_every));
  }
  if (o.fail_alloc_rate != 0) add("--fail-alloc-rate", fmt_double(o.fail_alloc_rate));
  if (o.leak_check_every != 0) add("--leak-check-every", std::to_string(o.leak_check_every));
  if (o.verify_every != 0) add("--verify-every", std::to_string(o.verify_every));
  if (o.stack_kib != d.stack_kib) add("--stack-kib", std::to_string(o.stack_kib));
  if (o.yield_rate != d.yield_rate) add("--yield-rate", fmt_double(o.yield_rate));
  if (o.budget != 0) add("--budget", std::to_string(o.budget));
  if (o.growth_threshold != d.growth_threshold) {
    add("--growth-threshold", fmt_double(o.growth_threshold));
  }
  if (o.writers != 0) add("--writers", std::to_string(o.writers));
  if (o.heap_growth_threshold >= 0) add("--heap-growth-threshold", fmt_double(o.heap_growth_threshold));
  if (o.measure_stack) c += " --measure-stack";
  if (!o.json.empty()) add("--json", o.json);
  return c;
}

std::string usage() {
  std::string scenarios;
  for (const auto& n : scenario_names()) {
    scenarios += (scenarios.empty() ? "" : ", ") + n;
  }
  return R"(usage: ics-stress [options]
Runs thousands of concurrent ICS sync loops on Boost.Fiber against one in-memory store and
checks convergence, errors and memory growth. Exit 0 clean, 1 finding, 2 usage.

  --scenario NAME        )" + scenarios + R"( (default download-loop)
  --list-scenarios       print the scenario names, one a line, and exit
  --fibers N             concurrent client replicas (default 64)
  --threads T            1: round_robin, exactly reproducible from the seed; more: work_stealing
  --loops L              total loops over all fibers (default 10000), or
  --seconds S            run for S seconds
  --seed X               fiber i is seeded from X + i (default 1)
  --buffer-size B        get_buffer size in bytes (default 4096)
  --messages M           messages in the synced folder (default 100)
  --inject-growth BYTES  harness-only leak: each loop keeps BYTES more (the detector's
                         self-test), where --inject-where says:
  --inject-where W       charged (default): charged to the session as kind Other;
                         uncharged: a plain heap block kept on the server side, charged to
                         nobody; client: kept by the replica side (ClientScope)
  --no-heap              do not track heap allocations (only the engine's account is
                         watched; for measuring what the tracking costs)
  --heap-stack-every N   record the call stack of every Nth allocation (default 1: all;
                         0: none, and growth findings name no site)
  --fail-alloc-rate P    MemoryAccount::set_fail_rate(P) on every session: OutOfMemory and
                         GeneralFailure become expected errors; nothing may leak
  --leak-check-every N   __lsan_do_recoverable_leak_check() at a quiescent point every N loops
                         (LeakSanitizer builds only)
  --verify-every N       loops between quiescent points (convergence checks); default: 4 per run
  --writers W            mixed, live-loop: writer fibers among --fibers (default fibers / 8)
  --budget BYTES         SessionOptions::memory_budget (default: the engine's)
  --growth-threshold B   bytes per loop the detector needs (default 0.5)
  --heap-growth-threshold B
                         the same for the client and process heap series (default: as
                         --growth-threshold; mixed: 1024 or 12 per fiber, its replicas'
                         copies legitimately grow as more replicas edit a message and its PCL
                         gains their XIDs; live-loop: 256 / replicas (at least 2) for the process
                         series, the store's tombstones, and 128 for the client series
                         on several threads)
  --stack-kib K          fiber stack size, 8..64 KiB (default 64)
  --yield-rate P         probability of a yield at each yield point between two engine calls
                         (default 0.1); every fiber also yields after each loop
  --json FILE            write the result as JSON (ci/README.md, "ics-stress JSON")
  --quiet                no progress line
  --measure-stack        fill each fiber stack with a pattern and report the deepest use
                         (makes whole stacks resident: not for RSS figures)
  --help                 this text
Sizes take a k, m or g suffix.
)";
}

}  // namespace ics::stress
