// Runs a scenario's workers on Boost.Fiber: one fiber per worker, fixedsize_stack (malloc'd:
// thread-safe and scanned whole by LeakSanitizer; pooled stacks are not thread-safe),
// round_robin on the calling thread for --threads 1 (so the interleaving comes from the
// seeded yield points alone and a run is exactly reproducible), work_stealing over the
// calling thread and threads - 1 helpers otherwise. Phases per fiber:
//   start -> barrier -> { loops of one epoch -> barrier (quiescent: store checks, leak check)
//   -> verify -> barrier (next epoch or finish) } -> stop.
// A monitor thread prints the progress line each second and ends --seconds runs.
// run() returns after every fiber has been joined and every thread has exited.
// Threading: call from main() once; it installs the calling thread's scheduling algorithm.
#pragma once

#include "harness.h"

namespace ics::stress {

struct RunTimes {
  double start_seconds = 0;  // start phase (logon, first syncs)
  double total_seconds = 0;  // whole run
};

RunTimes run_fibers(Run& run);

}  // namespace ics::stress
