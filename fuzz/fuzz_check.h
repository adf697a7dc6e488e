// Oracle helpers shared by the fuzz targets. A broken oracle prints what broke
// and traps, so libFuzzer keeps the input and the replay driver fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>

#define ICS_FUZZ_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "oracle failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                             \
    }                                                                               \
  } while (0)

namespace ics_fuzz {

// FNV-1a over the input: a deterministic seed for choices an oracle derives
// from the input itself.
inline std::uint64_t fnv1a(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

}  // namespace ics_fuzz
