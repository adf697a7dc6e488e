// Globset: a set of GLOBCNT values ([MS-OXCFXICS] 2.2.2.5, 48-bit) held as
// sorted, disjoint, coalesced inclusive ranges, with set algebra and the
// GLOBSET wire codec ([MS-OXCFXICS] 2.2.2.6, 3.1.5.4.3).
//
// A Globset owns its ranges (a std::vector); it is a plain value: copyable,
// movable, no shared state, thread-compatible (concurrent const use is safe,
// any mutation needs exclusive access). Values outside 48 bits are never
// stored: the mutators reject them with InvalidParameter and leave the set
// unchanged.
//
// Invariant: for consecutive ranges a, b: a.low <= a.high and
// a.high + 1 < b.low (no overlap, no adjacency), all values <= kGlobcntMax.
//
// Costs: contains is O(log n); insert/remove at the end are amortised O(1),
// elsewhere O(n) (a vector insert/erase); unite/intersect/difference and
// from_ranges on sorted input are linear; decoding is linear in the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "ics/ids.h"

namespace ics {

// One inclusive range [low, high] of GLOBCNT values.
struct GlobRange {
  Globcnt low = 0;
  Globcnt high = 0;
  bool operator==(const GlobRange&) const = default;
};

class Globset {
 public:
  Globset() = default;

  // Builds a set from ranges in any order, overlapping or adjacent ones
  // included (linear if already sorted by low, else O(n log n)).
  // InvalidParameter if a range has low > high or a value above kGlobcntMax.
  static Result<Globset> from_ranges(std::vector<GlobRange> ranges);

  bool contains(Globcnt v) const;
  Status insert(Globcnt v) { return insert(v, v); }
  Status insert(Globcnt low, Globcnt high);
  Status remove(Globcnt v) { return remove(v, v); }
  Status remove(Globcnt low, Globcnt high);
  void clear() { ranges_.clear(); }

  bool empty() const { return ranges_.empty(); }
  // Number of values (up to 2^48).
  std::uint64_t size() const;
  std::size_t range_count() const { return ranges_.size(); }
  const std::vector<GlobRange>& ranges() const { return ranges_; }
  std::optional<Globcnt> min() const;
  std::optional<Globcnt> max() const;

  bool operator==(const Globset&) const = default;

 private:
  friend Globset unite(const Globset& a, const Globset& b);
  friend Globset intersect(const Globset& a, const Globset& b);
  friend Globset difference(const Globset& a, const Globset& b);
  friend Result<Globset> decode_globset(Reader& r);
  static Globset adopt(std::vector<GlobRange> normalized);

  std::vector<GlobRange> ranges_;
};

// Set algebra; each is a linear merge of the two range lists.
Globset unite(const Globset& a, const Globset& b);
Globset intersect(const Globset& a, const Globset& b);
// The values of a that are not in b.
Globset difference(const Globset& a, const Globset& b);

// GLOBSET codec ([MS-OXCFXICS] 2.2.2.6). Commands: Push 0x01-0x06, Pop 0x50,
// Bitmask 0x42, Range 0x52, End 0x00.
inline constexpr std::uint8_t kGlobsetEnd = 0x00;
inline constexpr std::uint8_t kGlobsetPop = 0x50;
inline constexpr std::uint8_t kGlobsetBitmask = 0x42;
inline constexpr std::uint8_t kGlobsetRange = 0x52;

// Consumes exactly one GLOBSET, through its End command, from r. Strict:
// FormatError (with the offset of the failing command, or of the end of the
// input) for an unknown command, truncated operands, a common byte stack over
// six bytes, Pop on an empty stack, End with bytes on the stack, input that
// ends before End, Bitmask without exactly five stacked bytes or whose values
// would carry out of the low byte, Range with more than five stacked bytes or
// low > high. Ranges out of order, overlapping or adjacent are accepted and
// normalised. On failure the reader's position is unspecified.
// Memory use is bounded by a constant times the input consumed.
Result<Globset> decode_globset(Reader& r);
// The whole of `whole` is one GLOBSET; FormatError on trailing bytes.
Result<Globset> decode_globset(ByteView whole);

// Appends a GLOBSET that decodes to exactly s. Shared high-order bytes are
// factored with Push/Pop, clusters with Bitmask, runs with Range, singletons
// with a Push that reaches six bytes; it ends with an empty stack and End.
// Never longer than coding every range on its own (7 bytes per singleton,
// 13 per run) plus the End byte.
void encode_globset(const Globset& s, Writer& w);
Bytes encode_globset(const Globset& s);

}  // namespace ics
