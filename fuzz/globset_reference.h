// A deliberately naive GLOBSET decoder ([MS-OXCFXICS] 2.2.2.6, 3.1.5.4.3.2),
// the other side of fuzz_globset's differential oracle. It shares no code with
// the engine's decoder and is written differently on purpose: the common byte
// stack is a list of byte strings (one per Push), every GLOBCNT is assembled
// from six bytes, a Bitmask yields one singleton per value, and the decoded
// ranges are merged by a plain sort. It follows the reject rules documented in
// ics/globset.h.
//
// Header-only, no state; plain functions over borrowed bytes. The decoded
// ranges live in a caller-given memory resource (the target's stack arena).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <span>
#include <utility>
#include <vector>

namespace ics_fuzz {

using RefRanges = std::pmr::vector<std::pair<std::uint64_t, std::uint64_t>>;

struct RefGlobset {
  explicit RefGlobset(std::pmr::memory_resource* mr) : ranges(mr) {}
  bool ok = false;
  std::size_t error_offset = 0;  // offset of the failing command, or of the end of the input
  RefRanges ranges;              // as decoded, unmerged
};

// One Push: the bytes it placed on the common byte stack.
struct RefEntry {
  std::uint8_t bytes[6] = {};
  std::size_t size = 0;
};

// The GLOBCNT whose six bytes are the stacked entries, bottom first, then tail.
inline std::uint64_t ref_value(const RefEntry* stack, std::size_t entries,
                               std::span<const std::uint8_t> tail) {
  std::uint64_t v = 0;
  for (std::size_t e = 0; e < entries; ++e) {
    for (std::size_t i = 0; i < stack[e].size; ++i) v = v * 256 + stack[e].bytes[i];
  }
  for (std::uint8_t b : tail) v = v * 256 + b;
  return v;
}

inline RefGlobset ref_decode_globset(std::span<const std::uint8_t> in,
                                     std::pmr::memory_resource* mr = std::pmr::get_default_resource()) {
  RefGlobset out(mr);
  out.ranges.reserve(in.size());  // one allocation for most inputs (a Bitmask may give 9 per 3 bytes)
  RefEntry stack[6];  // at most six Pushes of one byte each
  std::size_t entries = 0;
  std::size_t pos = 0;
  auto reject = [&out](std::size_t at) {
    out.ok = false;
    out.error_offset = at;
    out.ranges.clear();
    return out;
  };
  for (;;) {
    if (pos == in.size()) return reject(pos);  // no End command
    const std::size_t at = pos;
    const std::uint8_t cmd = in[pos++];
    std::size_t depth = 0;
    for (std::size_t e = 0; e < entries; ++e) depth += stack[e].size;
    const std::size_t left = in.size() - pos;
    if (cmd >= 1 && cmd <= 6) {  // Push cmd bytes
      if (depth + cmd > 6 || left < cmd) return reject(at);
      std::span<const std::uint8_t> bytes = in.subspan(pos, cmd);
      pos += cmd;
      if (depth + cmd == 6) {  // a whole GLOBCNT: a singleton, popped at once
        std::uint64_t v = ref_value(stack, entries, bytes);
        out.ranges.push_back({v, v});
      } else {
        std::copy(bytes.begin(), bytes.end(), stack[entries].bytes);
        stack[entries++].size = cmd;
      }
    } else if (cmd == 0x50) {  // Pop
      if (entries == 0) return reject(at);
      --entries;
    } else if (cmd == 0x42) {  // Bitmask: StartingValue, Bitmask
      if (depth != 5 || left < 2) return reject(at);
      const unsigned start = in[pos], mask = in[pos + 1];
      pos += 2;
      for (unsigned i = 0; i <= 8; ++i) {  // i = 0: StartingValue; i > 0: bit i - 1
        if (i > 0 && !(mask & (1u << (i - 1)))) continue;
        if (start + i > 0xFF) return reject(at);
        const std::uint8_t low[1] = {static_cast<std::uint8_t>(start + i)};
        std::uint64_t v = ref_value(stack, entries, low);
        out.ranges.push_back({v, v});
      }
    } else if (cmd == 0x52) {  // Range: LowValue, HighValue of 6 - depth bytes each
      if (depth > 5) return reject(at);
      const std::size_t n = 6 - depth;
      if (left < 2 * n) return reject(at);
      std::uint64_t low = ref_value(stack, entries, in.subspan(pos, n));
      std::uint64_t high = ref_value(stack, entries, in.subspan(pos + n, n));
      pos += 2 * n;
      if (low > high) return reject(at);
      out.ranges.push_back({low, high});
    } else if (cmd == 0x00) {  // End
      if (depth != 0) return reject(at);
      if (pos != in.size()) return reject(pos);  // bytes after the End
      out.ok = true;
      return out;
    } else {
      return reject(at);
    }
  }
}

// Replaces `ranges` by their union as sorted, disjoint, non-touching ranges.
inline void ref_merge(RefRanges& ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (kept > 0 && ranges[i].first <= ranges[kept - 1].second + 1) {
      ranges[kept - 1].second = std::max(ranges[kept - 1].second, ranges[i].second);
    } else {
      ranges[kept++] = ranges[i];
    }
  }
  ranges.resize(kept);
}

}  // namespace ics_fuzz
