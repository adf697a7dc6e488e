// An op script's op byte, taken modulo a table of slots (an op may hold several slots to run
// more often), and the byte a seed writes for an op: its first slot.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ics_fuzz {

template <typename Op, std::size_t N>
constexpr Op slot_op(const Op (&slots)[N], std::uint8_t byte) {
  return slots[byte % N];
}

template <typename Op, std::size_t N>
constexpr std::uint8_t slot_code(const Op (&slots)[N], Op op) {
  for (std::size_t i = 0; i < N; ++i) {
    if (slots[i] == op) return static_cast<std::uint8_t>(i);
  }
  return 0;
}

}  // namespace ics_fuzz
