// Structure-aware mutation of GLOBSETs ([MS-OXCFXICS] 2.2.2.6) and IDSETs
// (2.2.2.4), for fuzz_globset, fuzz_idset and any target that carries one
// inside its input (mutate_globset / mutate_idset work on embedded bytes).
//
// Two levels. Command level: a GLOBSET is cut into its commands (Push 1-6,
// Pop, Bitmask, Range, End; Range's operand length follows the stack depth)
// and a trailing part (what follows End, or everything from the first command
// that cannot be cut); commands are inserted, deleted, duplicated, swapped,
// Push widths changed, Range edges moved by one, Bitmask bits flipped, the
// GLOBSET cut inside a command's operands, and the commands written back
// through ics::Writer as they are (so malformed sequences stay reachable).
// Set level: a GLOBSET the engine decodes becomes a
// Globset whose ranges are edited with Globset::insert/remove (an edge moved by
// one, a range split by one value, two ranges merged or brought to one value
// apart, a range added near an edge or at a byte boundary, a range deleted) and
// re-encoded with ics::encode_globset. An IDSET is cut into (key, GLOBSET)
// pairs; pairs are inserted, deleted, duplicated, swapped, keys moved by one or
// repeated, a pair's GLOBSET mutated as above, and the whole set converted
// between the REPLID and REPLGUID forms (through ics::ReplicaMap when it
// decodes, key by key otherwise).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ics/bytes.h"
#include "mutate/rng.h"

namespace ics_fuzz {

// A command's operands, held inline: at most twelve bytes (a Range at stack
// depth 0), so cutting a GLOBSET into commands allocates once, not per command.
class GlobOperand {
 public:
  static constexpr std::size_t kMax = 12;
  GlobOperand() = default;
  explicit GlobOperand(ics::ByteView b) : n_(std::min(b.size(), kMax)) {
    std::copy(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n_), bytes_);
  }
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::uint8_t* data() { return bytes_; }
  const std::uint8_t* data() const { return bytes_; }
  std::uint8_t* begin() { return bytes_; }
  std::uint8_t* end() { return bytes_ + n_; }
  const std::uint8_t* begin() const { return bytes_; }
  const std::uint8_t* end() const { return bytes_ + n_; }
  std::uint8_t& operator[](std::size_t i) { return bytes_[i]; }
  std::uint8_t& back() { return bytes_[n_ - 1]; }
  // New bytes are zero; sizes above kMax are cut to kMax.
  void resize(std::size_t n) {
    n = std::min(n, kMax);
    if (n > n_) std::fill(bytes_ + n_, bytes_ + n, std::uint8_t{0});
    n_ = n;
  }
  // Inserts b before `at` (nothing when full); erases the byte at `at`.
  void insert(std::uint8_t* at, std::uint8_t b) {
    if (n_ == kMax) return;
    std::copy_backward(at, end(), end() + 1);
    *at = b;
    ++n_;
  }
  void erase(std::uint8_t* at) {
    std::copy(at + 1, end(), at);
    --n_;
  }
  bool operator==(const GlobOperand& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

 private:
  std::uint8_t bytes_[kMax] = {};
  std::size_t n_ = 0;
};

struct GlobCmd {
  std::uint8_t op = 0;
  GlobOperand operand;
  bool operator==(const GlobCmd&) const = default;
};

struct GlobsetElements {
  std::vector<GlobCmd> commands;
  bool complete = false;  // the commands end with End
  ics::Bytes tail;        // bytes after End, or from the first command that cannot be cut
};

GlobsetElements split_globset(ics::ByteView b);
ics::Bytes join_globset(const GlobsetElements& e);

enum class GlobMutation {
  InsertCommand, DeleteCommand, DuplicateCommand, SwapCommands, PushWidth, RangeEdge,
  BitmaskBits, Truncate, SetEdge, SetSplit, SetMerge, SetNewRange, SetDeleteRange, kCount
};
// Applies one mutation of the kind to a GLOBSET (plus whatever follows it,
// kept); false, bytes unchanged, when the kind does not apply.
bool mutate_globset(GlobMutation kind, ics::Bytes& bytes, Rng& rng);
// One applicable mutation of a random kind; false if none changed the bytes.
bool mutate_globset(ics::Bytes& bytes, Rng& rng);

struct IdsetPair {
  ics::Bytes key;      // 2 bytes (REPLID form) or 16 (REPLGUID form)
  ics::Bytes globset;  // one whole GLOBSET, through its End
  bool operator==(const IdsetPair&) const = default;
};

struct IdsetElements {
  std::vector<IdsetPair> pairs;
  ics::Bytes tail;  // from the first pair that cannot be cut
};

IdsetElements split_idset(ics::ByteView body, bool guid_form);
ics::Bytes join_idset(const IdsetElements& e);

enum class IdsetMutation {
  InsertPair, DeletePair, DuplicatePair, SwapPairs, KeyEdge, RepeatKey, PairGlobset, SwapForm,
  kCount
};
// Applies one mutation to an IDSET body in the given form (SwapForm flips
// guid_form); false, nothing changed, when the kind does not apply.
bool mutate_idset(IdsetMutation kind, ics::Bytes& body, bool& guid_form, Rng& rng);
bool mutate_idset(ics::Bytes& body, bool& guid_form, Rng& rng);

// libFuzzer entry points of fuzz_globset (the input is one GLOBSET) and
// fuzz_idset (byte 0 = form and capacity, then the IDSET): one structured
// mutation, or `bytes` one time in five (and when no structured one applies).
std::size_t globset_custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                  unsigned seed, ByteMutator bytes);
std::size_t globset_custom_crossover(const std::uint8_t* a, std::size_t a_size,
                                     const std::uint8_t* b, std::size_t b_size, std::uint8_t* out,
                                     std::size_t max_out, unsigned seed);
std::size_t idset_custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                unsigned seed, ByteMutator bytes);
std::size_t idset_custom_crossover(const std::uint8_t* a, std::size_t a_size,
                                   const std::uint8_t* b, std::size_t b_size, std::uint8_t* out,
                                   std::size_t max_out, unsigned seed);

}  // namespace ics_fuzz
