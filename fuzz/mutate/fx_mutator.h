// Structure-aware mutation of FastTransfer streams ([MS-OXCFXICS] 2.2.4.1), for
// fuzz_fxstream and any target that carries a stream inside its input
// (mutate_fx_stream works on embedded bytes).
//
// A stream is cut by the engine's FxParser into its events (markers and
// property values, named-property info included) and a tail: the bytes from
// the first element the lexer refuses. Events are deleted, duplicated,
// swapped, copied elsewhere, inserted (a marker from the table of 2.2.4.1.4, or
// a property of a fixed, variable, multi-valued or code-page type with a small
// value, named or not), a tag's type changed (the value carried over where the
// representation allows, else a fresh one), a value grown or cut (bytes, or the
// items of a multi value), a value tweaked (integer +-1 or a boundary, a byte
// flipped), a property made named or unnamed; the tail can be dropped. The
// events are written back with the engine's FxWriter, then the tail, so the
// part before the tail always lexes. For fuzz_fxstream's input (stream ‖ chunk
// sizes ‖ control, fxstream_input.h) it also re-splits the chunks, places a
// chunk boundary inside a chosen element, and moves the element-size limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ics/bytes.h"
#include "ics/fxstream.h"
#include "mutate/rng.h"

namespace ics_fuzz {

struct FxElements {
  std::vector<ics::FxEvent> events;
  ics::Bytes tail;  // from the first element FxParser refuses (or the end cut short)
};

FxElements split_fx(ics::ByteView stream);
// The events through FxWriter, then the tail; nullopt if the writer refuses an event.
std::optional<ics::Bytes> join_fx(const FxElements& e);

enum class FxMutation {
  DeleteEvent, DuplicateEvent, SwapEvents, CopyEvent, InsertMarker, InsertProperty, ChangeType,
  ResizeValue, TweakValue, ToggleNamed, DropTail, kCount
};
// Applies one mutation of the kind; false (elements unchanged or not worth
// writing) when it does not apply.
bool mutate_fx(FxMutation kind, FxElements& e, Rng& rng);
// One element-level mutation of a random kind on a stream; false if none applied.
bool mutate_fx_stream(ics::Bytes& stream, Rng& rng);

enum class FxInputMutation { Stream, Resplit, SplitInsideElement, Limit, kCount };
// One mutation of a whole fuzz_fxstream input (fxstream_input.h's layout).
bool mutate_fx_input(FxInputMutation kind, ics::Bytes& input, Rng& rng);
bool mutate_fx_input(ics::Bytes& input, Rng& rng);

// libFuzzer entry points of fuzz_fxstream: one structured mutation, or `bytes`
// one time in five (and when no structured one applies).
std::size_t fxstream_custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                   unsigned seed, ByteMutator bytes);
// Events of a before a random point, then events of b after one; a's chunks.
std::size_t fxstream_custom_crossover(const std::uint8_t* a, std::size_t a_size,
                                      const std::uint8_t* b, std::size_t b_size,
                                      std::uint8_t* out, std::size_t max_out, unsigned seed);

}  // namespace ics_fuzz
