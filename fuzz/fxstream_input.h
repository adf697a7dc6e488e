// The input layout of fuzz_fxstream, shared with the seed generator:
//   stream ‖ chunk sizes (n bytes) ‖ control (1 byte)
// control bits 0-3: n (0..15); bits 4-7: the FxParser element-size limit
// (kFxLimits). The parser is fed the stream in chunks of the listed sizes, in
// a cycle (0 = an empty feed); with no sizes, or all zero, in eight chunk sizes
// of 0..23 drawn from a hash of the stream.
//
// Header-only, no state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.h"

namespace ics_fuzz {

// 0 = the parser's default limit (16 MiB).
inline constexpr std::size_t kFxLimits[16] = {0,  3,  4,  8,   12,  16,   20,   24,
                                              32, 40, 64, 128, 256, 1024, 4096, 65536};

struct FxInput {
  std::span<const std::uint8_t> stream;
  std::vector<std::size_t> chunks;  // non-empty, with a non-zero sum
  std::size_t limit = 0;            // 0 = default
};

// Eight chunk sizes (0..23, not all zero) from an FNV-1a hash of the stream.
inline std::vector<std::size_t> hashed_chunks(std::span<const std::uint8_t> stream) {
  std::uint64_t h = fnv1a(stream);
  std::vector<std::size_t> sizes(8);
  for (std::size_t& n : sizes) {
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    n = static_cast<std::size_t>(h >> 59) % 24;
  }
  sizes[0] += 1;
  return sizes;
}

inline FxInput split_fx_input(std::span<const std::uint8_t> in) {
  FxInput out;
  if (in.empty()) {
    out.chunks = {1};
    return out;
  }
  const std::uint8_t control = in.back();
  const std::size_t n = std::min<std::size_t>(control & 15, in.size() - 1);
  out.limit = kFxLimits[control >> 4];
  out.stream = in.first(in.size() - 1 - n);
  std::size_t sum = 0;
  for (std::uint8_t c : in.subspan(in.size() - 1 - n, n)) {
    out.chunks.push_back(c);
    sum += c;
  }
  if (sum == 0) out.chunks = hashed_chunks(out.stream);
  return out;
}

// The inverse of split_fx_input (sizes: at most 15, each 0..255).
inline std::vector<std::uint8_t> make_fx_input(std::span<const std::uint8_t> stream,
                                               const std::vector<std::uint8_t>& sizes,
                                               unsigned limit_index = 0) {
  std::vector<std::uint8_t> out(stream.begin(), stream.end());
  out.insert(out.end(), sizes.begin(), sizes.end());
  out.push_back(static_cast<std::uint8_t>((limit_index & 15) << 4 | (sizes.size() & 15)));
  return out;
}

}  // namespace ics_fuzz
