// testkit::Rng: the seeded generator of tests, fuzz targets, the workload generator and
// ics-stress (one per fiber: 8 bytes of state). splitmix64 (ics/splitmix.h): tiny, fast, the
// same sequence from the same seed on every platform.
#pragma once

#include <cstdint>

#include "ics/splitmix.h"

namespace ics::testkit {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : state_(seed) {}
  std::uint64_t next() { return splitmix64_next(state_); }
  // Uniform in [0, n) (0 for n == 0).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability p.
  bool chance(double p) { return unit() < p; }
  // True in `percent` of the draws out of 100.
  bool percent(unsigned percent) { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

}  // namespace ics::testkit
