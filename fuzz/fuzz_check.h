// Oracle helpers shared by the fuzz targets. A broken oracle prints what broke
// and traps, so libFuzzer keeps the input and the replay driver fails.
#pragma once

#include <cstdio>

#define ICS_FUZZ_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "oracle failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                             \
    }                                                                               \
  } while (0)
