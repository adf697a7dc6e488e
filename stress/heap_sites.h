// Where the heap grows: UMDH's per-stack diff between two snapshots of the heap tracker
// (heap.h), symbolised, grouped by allocation site. A site is the top three frames of project
// code (engine/, stress/; not the standard library, not the tracker) of the stacks, the
// ClusterFuzz crash state of a growth finding.
//
// Symbolisation runs addr2line (binutils) once per module over the return addresses that
// matter; without it, frames are named by dladdr or by address.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "heap.h"

namespace ics::stress::heap {

struct Frame {
  std::string function;  // demangled, without the parameter list
  std::string file;      // relative to the source tree when inside it
  int line = 0;
};

struct Site {
  std::vector<Frame> frames;  // up to three, innermost first
  double bytes = 0;           // net growth between the snapshots (scaled by stack_every)
  std::int64_t allocations = 0;
};

// Sites whose live bytes grew from `before` to `after`, largest first, at most `limit`.
// Allocations without a recorded stack form a site with no frames.
std::vector<Site> growth_sites(const Snapshot& before, const Snapshot& after, std::size_t limit = 5);

// Frames of a stack (innermost first), project frames only, inline frames expanded.
std::vector<Frame> project_frames(const std::vector<std::uintptr_t>& pcs);

}  // namespace ics::stress::heap
