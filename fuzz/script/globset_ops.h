// The op script of fuzz_globset_ops, described once for the target, its seeds
// (fuzz/seeds/globset_ops_seeds.cpp) and `fuzz/describe globset_ops FILE`.
//
// The script is read one byte at a time from the END of the input (FuzzedDataProvider's
// integer order), so encode() writes the ops in call order and reverses the bytes.
//   op byte     low nibble modulo kKindCount = the kind, bit 4 = the set (0 or 1) the
//               call is made on (the other set is the operand of the algebra ops);
//               bits 5-7 are ignored
//   operands    insert / remove: one value byte; insert_range / remove_range: two
//               (the low value's byte, then the high one's); the others: none
//   value byte  window (bits 6-7) + offset (bits 0-5): kWindow[window] + offset; a
//               range's high value is in the low value's window, so low > high and
//               values over 48 bits are reachable (both rejected with InvalidParameter)
// A byte missing at the end reads as 0. At most kMaxSteps ops are read; bytes after
// them are ignored. Every input decodes, so any crash input can be printed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ics/globset.h"

namespace ics_fuzz::globset_ops {

enum class Kind : std::uint8_t {
  Insert, InsertRange, Remove, RemoveRange, Unite, Intersect, Difference, Clear, RoundTrip, FromRanges
};
constexpr int kKindCount = 10;
constexpr int kMaxSteps = 128;

// Four windows of 64 values: around 0x100, 2^32, the top of 48 bits and just above it.
constexpr std::uint64_t kWindow[4] = {0xE0, (std::uint64_t{1} << 32) - 32, ics::kGlobcntMax - 63,
                                      ics::kGlobcntMax + 1};

struct Op {
  Kind kind = Kind::Insert;
  int set = 0;           // 0 or 1
  std::uint8_t low = 0;  // value bytes (operands of insert/remove and their ranges)
  std::uint8_t high = 0;
  bool operator==(const Op&) const = default;
};

constexpr bool has_range(Kind k) { return k == Kind::InsertRange || k == Kind::RemoveRange; }
constexpr bool has_value(Kind k) { return has_range(k) || k == Kind::Insert || k == Kind::Remove; }

constexpr std::uint64_t value_of(std::uint8_t b) { return kWindow[b >> 6] + (b & 63); }
// The high end of a range: the high byte's offset in the low byte's window.
constexpr std::uint64_t high_of(const Op& op) {
  return kWindow[op.low >> 6] + ((has_range(op.kind) ? op.high : op.low) & 63);
}

constexpr std::string_view name(Kind k) {
  switch (k) {
    case Kind::Insert: return "insert";
    case Kind::InsertRange: return "insert_range";
    case Kind::Remove: return "remove";
    case Kind::RemoveRange: return "remove_range";
    case Kind::Unite: return "unite";
    case Kind::Intersect: return "intersect";
    case Kind::Difference: return "difference";
    case Kind::Clear: return "clear";
    case Kind::RoundTrip: return "round_trip";
    case Kind::FromRanges: return "from_ranges";
  }
  return "?";
}

// Reads ops one at a time, without allocating (the target's loop).
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), left_(size) {}

  bool next(Op& op) {
    if (steps_ == kMaxSteps || left_ == 0) return false;
    ++steps_;
    const std::uint8_t b = take();
    op = Op{static_cast<Kind>((b & 15) % kKindCount), (b >> 4) & 1, 0, 0};
    if (has_value(op.kind)) op.low = op.high = take();
    if (has_range(op.kind)) op.high = take();
    return true;
  }

 private:
  std::uint8_t take() { return left_ == 0 ? 0 : data_[--left_]; }

  const std::uint8_t* data_;
  std::size_t left_;
  int steps_ = 0;
};

inline std::vector<Op> decode(const std::uint8_t* data, std::size_t size) {
  std::vector<Op> ops;
  Reader r(data, size);
  for (Op op; r.next(op);) ops.push_back(op);
  return ops;
}

inline std::vector<std::uint8_t> encode(const std::vector<Op>& ops) {
  std::vector<std::uint8_t> b;
  for (const Op& op : ops) {
    b.push_back(static_cast<std::uint8_t>(static_cast<int>(op.kind) | (op.set & 1) << 4));
    if (has_value(op.kind)) b.push_back(op.low);
    if (has_range(op.kind)) b.push_back(op.high);
  }
  return std::vector<std::uint8_t>(b.rbegin(), b.rend());
}

inline std::string hex64(std::uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), kHex[v & 15]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

// "<kind> s<set> [low[..high]]", values as the target computes them.
inline std::string to_string(const Op& op) {
  std::string s = std::string(name(op.kind)) + " s" + std::to_string(op.set);
  if (has_value(op.kind)) s += " " + hex64(value_of(op.low));
  if (has_range(op.kind)) s += ".." + hex64(high_of(op));
  return s;
}

// Seed building: a value byte from its window and offset.
constexpr std::uint8_t at(int window, int offset) { return static_cast<std::uint8_t>(window << 6 | (offset & 63)); }
constexpr Op value_op(Kind k, int set, std::uint8_t v) { return Op{k, set, v, v}; }
constexpr Op range_op(Kind k, int set, std::uint8_t low, std::uint8_t high) { return Op{k, set, low, high}; }
constexpr Op plain_op(Kind k, int set) { return Op{k, set, 0, 0}; }

}  // namespace ics_fuzz::globset_ops
