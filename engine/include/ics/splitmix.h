// splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
// the one 64-bit mixer of the project. The engine uses it for fixed, well-spread mappings
// (GUIDs from seeds, handle salts, injected allocation failures); testkit::Rng
// (ics/testkit/random.h) is the generator that tests, fuzz targets and ics-stress draw from.
#pragma once

#include <cstdint>

namespace ics {

inline constexpr std::uint64_t kSplitmixGamma = 0x9E3779B97F4A7C15ull;

// The output function: a bijection of 64-bit values with good avalanche.
constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// One step of the generator: advances `state` and returns the next value.
constexpr std::uint64_t splitmix64_next(std::uint64_t& state) {
  return splitmix64_mix(state += kSplitmixGamma);
}

}  // namespace ics
