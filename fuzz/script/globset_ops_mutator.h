// An op-level mutator for fuzz_globset_ops (LLVMFuzzerCustomMutator): the input is decoded
// into its ops (script/globset_ops.h), one op-level edit is made — insert a new op,
// delete, duplicate or swap ops, change one op's kind, set or one value byte (a random
// byte or its offset moved by one) — and the script is encoded again. With probability
// kBytePercent, or when the edit cannot be made, libFuzzer's byte mutation runs instead,
// so inputs no op edit produces (an operand cut off at the end, ignored high bits of an
// op byte) stay reachable.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "ics/testkit/random.h"
#include "script/globset_ops.h"

namespace ics_fuzz::globset_ops {

// libFuzzer's LLVMFuzzerMutate, or nullptr where there is none (the replay build).
using ByteMutator = std::size_t (*)(std::uint8_t* data, std::size_t size, std::size_t max_size);

constexpr unsigned kBytePercent = 20;

enum class Edit : std::uint8_t { Insert, Delete, Duplicate, Swap, Kind, Set, Value, Nudge, kCount };

inline std::uint8_t random_value(ics::testkit::Rng& rng) {
  // Mostly near a window's ends (where the boundaries of the encoding are), else anywhere.
  const int window = static_cast<int>(rng.below(4));
  const int offset = rng.percent(50) ? static_cast<int>(rng.below(4)) * 21 : static_cast<int>(rng.below(64));
  return at(window, offset);
}

inline Op random_op(ics::testkit::Rng& rng) {
  Op op{static_cast<Kind>(rng.below(kKindCount)), static_cast<int>(rng.below(2)), 0, 0};
  if (has_value(op.kind)) op.low = op.high = random_value(rng);
  if (has_range(op.kind)) op.high = at(op.low >> 6, random_value(rng) & 63);
  return op;
}

// One edit of `ops`; false when this edit does not apply (nothing to delete, say).
inline bool edit(std::vector<Op>& ops, Edit e, ics::testkit::Rng& rng) {
  const std::size_t n = ops.size();
  const std::size_t i = static_cast<std::size_t>(rng.below(n)), j = static_cast<std::size_t>(rng.below(n));
  switch (e) {
    case Edit::Insert:
      if (n >= static_cast<std::size_t>(kMaxSteps)) return false;
      ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(rng.below(n + 1)), random_op(rng));
      return true;
    case Edit::Delete:
      if (n == 0) return false;
      ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    case Edit::Duplicate:
      if (n == 0 || n >= static_cast<std::size_t>(kMaxSteps)) return false;
      ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(j), ops[i]);
      return true;
    case Edit::Swap:
      if (n < 2 || ops[i] == ops[j]) return false;
      std::swap(ops[i], ops[j]);
      return true;
    case Edit::Kind: {
      if (n == 0) return false;
      const Kind k = static_cast<Kind>(rng.below(kKindCount));
      if (k == ops[i].kind) return false;
      ops[i].kind = k;
      if (!has_range(k)) ops[i].high = ops[i].low;  // the form decode gives
      if (!has_value(k)) ops[i].low = ops[i].high = 0;
      return true;
    }
    case Edit::Set:
      if (n == 0) return false;
      ops[i].set ^= 1;
      return true;
    case Edit::Value:
    case Edit::Nudge: {
      if (n == 0 || !has_value(ops[i].kind)) return false;
      const bool high = has_range(ops[i].kind) && rng.percent(50);
      std::uint8_t& b = high ? ops[i].high : ops[i].low;
      const std::uint8_t before = b;
      b = e == Edit::Value ? random_value(rng)
                           : static_cast<std::uint8_t>((b & 0xC0) | ((b + (rng.percent(50) ? 1 : 63)) & 63));
      if (!has_range(ops[i].kind)) ops[i].high = ops[i].low;
      return b != before;
    }
    case Edit::kCount: break;
  }
  return false;
}

// The custom mutator's body: the new size of data (at most max_size).
inline std::size_t mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed,
                          ByteMutator bytes) {
  ics::testkit::Rng rng(seed);
  if (bytes && rng.percent(kBytePercent)) return bytes(data, size, max_size);
  std::vector<Op> ops = decode(data, size);
  bool done = false;
  for (int attempt = 0; attempt < 4 && !done; ++attempt) {
    done = edit(ops, static_cast<Edit>(rng.below(static_cast<std::uint64_t>(Edit::kCount))), rng);
  }
  if (!done) return bytes ? bytes(data, size, max_size) : size;
  std::vector<std::uint8_t> out = encode(ops);
  while (out.size() > max_size && !ops.empty()) {  // keep the first ops that fit
    ops.pop_back();
    out = encode(ops);
  }
  if (!out.empty()) std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace ics_fuzz::globset_ops
