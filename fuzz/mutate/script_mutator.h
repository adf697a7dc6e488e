// The structure-aware mutator of the session-level op scripts (state_upload, import,
// sync_session). An input is decoded into a Tape (script/tape.h) by running it through the
// target with a recording trace, so its ops and operands are exactly those the target reads;
// one to three op-level or stream-level edits are made on the Tape; it is written back through
// FdpWriter (script/tape_codec.h). An edit keeps every other op's bytes as they were, so the
// ops after it still read what they read before (unless the edit changes what the engine's
// state lets them read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mutate/hooks.h"
#include "mutate/rng.h"
#include "script/tape.h"
#include "script/tape_codec.h"
#include "script/tape_log.h"

namespace ics_fuzz {

// What the mutator knows of a target beyond its Tape.
struct ScriptTraits {
  std::size_t slots = 1;        // op byte modulo slots picks the op
  std::size_t max_steps = 0;    // loop ops the target runs at most
  bool state_stream = false;    // state_upload: begin / continue / end carry one property value
  bool replica_picks = false;   // sync_session: setup's last read is the replica count, and each
                                // loop op's first read picks a replica when there are several
};

// A decoder: the input's Tape (from the log of the last run when it ran last, otherwise the
// target's run_input under record_tape).
using ScriptDecoder = Tape (*)(const std::uint8_t* data, std::size_t size);

enum class ScriptEdit {
  InsertOp,     // a new loop op: the kind and operand shapes of one in the script, fresh values
  DeleteOp,     // remove a loop op
  DuplicateOp,  // copy a loop op to another place
  SwapOps,      // exchange two loop ops
  MoveOp,       // take a loop op out and put it elsewhere
  RetypeOp,     // a loop op becomes another kind, with the operands of an op of that kind
  Operand,      // one value: an integer (random, +-1, an end of its range), a bool, a text
  Payload,      // a byte run: a byte or bit, insert, erase, cut or grow (its length with it)
  StreamValue,  // state_upload: the property value over its continue calls, through mutate_idset
                // (or mutate_globset), re-split over the same calls, begin's size following
  Resplit,      // state_upload: a piece boundary moved between two continue calls, one call
                // split in two or two merged, or one call's split points drawn again
  Replicas,     // sync_session: one replica more or fewer, every replica pick rewritten
  kCount
};

std::string_view edit_name(ScriptEdit e);

// Indices of the loop ops (those chosen by an op byte), in order.
std::vector<std::size_t> loop_ops(const Tape& tape);
std::vector<std::string> op_names(const Tape& tape);

// Applies one edit of the kind; false, tape unchanged, when it does not apply.
bool edit_script(ScriptEdit e, Tape& tape, const ScriptTraits& traits, Rng& rng);

// After an edit: short reads (the input ran out) completed, and the bytes after the last op
// dropped unless the loop is full (a shorter loop would read them as ops).
void settle(Tape& tape, const ScriptTraits& traits);

// libFuzzer's hooks for a scripted target: one to three edits (byte mutation one call in five,
// and when no edit applies); a crossover takes the loop ops of one input up to a point, then
// those of the other from a point.
std::size_t script_custom_mutate(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                 unsigned seed, ByteMutator bytes, ScriptDecoder decode,
                                 const ScriptTraits& traits);
std::size_t script_custom_crossover(const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b,
                                    std::size_t b_size, std::uint8_t* out, std::size_t max_out,
                                    unsigned seed, ScriptDecoder decode, const ScriptTraits& traits);

// The log a target's runs write (script/tape_log.h) for the mutator's next decoding: in a
// libFuzzer build (and the tests', ICS_FUZZ_LOG_RUNS) with the mutator on; none in a replay
// build or with ICS_FUZZ_BYTE_ONLY=1. The first call reserves its storage, so a target calls it
// before the process-heap oracle's first reading.
inline TapeLog* run_log() {
#if defined(ICS_FUZZ_ENGINE) || defined(ICS_FUZZ_LOG_RUNS)
  return byte_only() ? nullptr : &last_run_log();
#else
  return nullptr;
#endif
}

// The decoding of a target's input: the last run's log when it ran `data`, else a run.
inline Tape decode_script(ScriptRun run, const std::uint8_t* data, std::size_t size) {
  if (const TapeLog* log = run_log()) {
    if (std::optional<Tape> t = log->tape_for(data, size)) return std::move(*t);
  }
  return record_tape(run, data, size);
}

}  // namespace ics_fuzz

// Defines libFuzzer's hooks for a scripted target (through ICS_FUZZ_CUSTOM_MUTATORS, so only
// in a libFuzzer build) and, in every build, `ics_fuzz_decode_<what>`, the target's decoder,
// and `ics_fuzz_record_<what>` (always by running it), which the unit tests call. Use at
// namespace scope after run_input.
#define ICS_FUZZ_SCRIPT_MUTATORS(what, run, traits)                                                  \
  ics_fuzz::Tape ics_fuzz_decode_##what(const std::uint8_t* data, std::size_t size);                 \
  ics_fuzz::Tape ics_fuzz_decode_##what(const std::uint8_t* data, std::size_t size) {                \
    return ics_fuzz::decode_script(&run, data, size);                                                \
  }                                                                                                  \
  ics_fuzz::Tape ics_fuzz_record_##what(const std::uint8_t* data, std::size_t size);                 \
  ics_fuzz::Tape ics_fuzz_record_##what(const std::uint8_t* data, std::size_t size) {                \
    return ics_fuzz::record_tape(&run, data, size);                                                  \
  }                                                                                                  \
  [[maybe_unused]] static std::size_t ics_fuzz_mutate_##what(std::uint8_t* data, std::size_t size,   \
                                                             std::size_t max_size, unsigned seed,    \
                                                             ics_fuzz::ByteMutator bytes) {          \
    return ics_fuzz::script_custom_mutate(data, size, max_size, seed, bytes, &ics_fuzz_decode_##what, \
                                          traits);                                                   \
  }                                                                                                  \
  [[maybe_unused]] static std::size_t ics_fuzz_cross_##what(                                         \
      const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b, std::size_t b_size,          \
      std::uint8_t* out, std::size_t max_out, unsigned seed) {                                       \
    return ics_fuzz::script_custom_crossover(a, a_size, b, b_size, out, max_out, seed,               \
                                             &ics_fuzz_decode_##what, traits);                       \
  }                                                                                                  \
  ICS_FUZZ_CUSTOM_MUTATORS(ics_fuzz_mutate_##what, ics_fuzz_cross_##what)
