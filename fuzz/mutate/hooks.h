// Defines libFuzzer's custom mutator hooks for one target (include it from the
// target's .cpp only). In a libFuzzer build (ICS_FUZZ_ENGINE, set by
// fuzz/CMakeLists.txt) ICS_FUZZ_CUSTOM_MUTATORS(mutate, cross) defines
//   LLVMFuzzerCustomMutator   -> mutate(data, size, max_size, seed, &LLVMFuzzerMutate)
//   LLVMFuzzerCustomCrossOver -> cross(a, a_size, b, b_size, out, max_out, seed)
// both handing over to libFuzzer's own byte mutation when ICS_FUZZ_BYTE_ONLY=1
// (the crossover then returns 0, which makes libFuzzer use another mutator).
// In the replay build it defines nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mutate/rng.h"

#if defined(ICS_FUZZ_ENGINE)
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

#define ICS_FUZZ_CUSTOM_MUTATORS(mutate, cross)                                                  \
  extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,          \
                                                 std::size_t max_size, unsigned seed) {         \
    if (ics_fuzz::byte_only()) return LLVMFuzzerMutate(data, size, max_size);                   \
    return mutate(data, size, max_size, seed, &LLVMFuzzerMutate);                               \
  }                                                                                             \
  extern "C" std::size_t LLVMFuzzerCustomCrossOver(                                             \
      const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b, std::size_t b_size,     \
      std::uint8_t* out, std::size_t max_out, unsigned seed) {                                  \
    if (ics_fuzz::byte_only()) return 0;                                                        \
    return cross(a, a_size, b, b_size, out, max_out, seed);                                     \
  }
#else
#define ICS_FUZZ_CUSTOM_MUTATORS(mutate, cross)
#endif
