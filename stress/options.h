// Command line of ics-stress: parsing, the help text, and the command that reproduces a run.
// Plain values; parse() has no side effects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ics::stress {

struct Options {
  std::string program = "ics-stress";  // argv[0], for the reproduce command
  std::string scenario = "download-loop";
  std::size_t fibers = 64;
  std::size_t threads = 1;
  std::uint64_t loops = 0;  // total loops over all fibers; 0 = use seconds
  double seconds = 0;       // run time when loops == 0
  std::uint64_t seed = 1;
  bool seed_given = false;
  std::size_t buffer_size = 4096;   // get_buffer size
  std::size_t messages = 100;       // folder size
  std::size_t inject_growth = 0;    // bytes kept per loop (harness-only)
  std::string inject_where = "charged";  // charged | uncharged | client
  bool heap = true;                 // track every heap allocation (heap.h); --no-heap: off
  std::uint32_t heap_stack_every = 1;  // record the stack of every Nth allocation; 0 = none
  double fail_alloc_rate = 0;       // MemoryAccount::set_fail_rate on every session
  std::uint64_t leak_check_every = 0;  // loops between LSan checks at quiescent points; 0 = none
  std::uint64_t verify_every = 0;   // loops between quiescent points; 0 = four per run
  std::size_t stack_kib = 64;       // fixedsize_stack per fiber
  double yield_rate = 0.1;          // probability of a yield at each mid-loop yield point
  std::size_t budget = 0;           // SessionOptions::memory_budget; 0 = the engine's default
  double growth_threshold = 0.5;    // bytes per loop (see growth.h)
  // For the client and process heap series; < 0: growth_threshold, raised to the scenario's
  // floor (Scenario::heap_growth_floor).
  double heap_growth_threshold = -1;
  std::size_t writers = 0;          // mixed: writer fibers; 0 = fibers / 8 (at least 1)
  std::string json;                 // --json FILE
  bool quiet = false;               // no progress lines
  bool measure_stack = false;       // paint stacks, report their high-water mark
  bool help = false;
  bool list_scenarios = false;      // --list-scenarios
};

struct ParseResult {
  std::optional<Options> options;
  std::string error;  // set when options is empty
};

ParseResult parse_options(const std::vector<std::string>& args);
std::string usage();
// The scenarios --scenario accepts (scenario_names.inc), the default first.
const std::vector<std::string>& scenario_names();
// "<program> --scenario ... --seed ..." with every option that changes behaviour spelled out;
// loops_override (when non-zero) replaces --seconds / --loops by --loops N.
std::string reproduce_command(const Options& o, std::uint64_t loops_override = 0);

}  // namespace ics::stress
