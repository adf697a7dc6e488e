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

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ics/bytes.h"
#include "mutate/rng.h"

namespace ics_fuzz {

struct GlobCmd {
  std::uint8_t op = 0;
  ics::Bytes operand;
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
