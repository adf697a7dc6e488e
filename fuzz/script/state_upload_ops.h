// The op script of fuzz_state_upload, described once for the target, its seeds
// (fuzz/seeds/state_upload_seeds.cpp) and `fuzz/describe state_upload FILE`.
//
// Bytes are read through ScriptReader (FuzzedDataProvider order: integers from the
// end, most significant byte first; byte runs from the front).
//   setup   max state size? bool {0..256}, hierarchy bool, raw config? bool
//           {send options u8, flags u16, extra u8, tags 0..3 {u32 each}} else
//           {flags u16, PartialItem bool, extra u8}
//   then up to kMaxSteps ops: an op byte (taken modulo the number of kSlots), its operands:
//   begin             tag 0..11 (kTags), size 0..512
//   begin_any_size    tag 0..11, size u32
//   continue          length 0..96, the bytes (front), split points (1..left each)
//   end               -
//   valid_property    ranges 0..4 {own guid? bool [seed u8], low 1..64, +0..64},
//                     tag 0..4 (0..2 on a hierarchy context), split points
//   stray             released? bool, [handle u32], tag 0..11
//   get_buffer        size byte (b < 8: b, else b * 37)
//   transfer_state    release? bool (only when the transfer state opened)
//   finish            size bytes until the download is Done
// The split points of continue and valid_property stop at the first refused piece.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "script/slots.h"

namespace ics_fuzz::state_upload {

enum class Op : std::uint8_t { Begin, BeginAnySize, Continue, End, ValidProperty, Stray, GetBuffer, TransferState };

constexpr int kMaxSteps = 64;

constexpr Op kSlots[] = {Op::Begin, Op::BeginAnySize, Op::Continue,  Op::End,
                         Op::ValidProperty, Op::Stray, Op::GetBuffer, Op::TransferState};

constexpr Op op_of(std::uint8_t byte) { return slot_op(kSlots, byte); }

constexpr std::uint8_t code_of(Op op) { return slot_code(kSlots, op); }

constexpr std::string_view name(Op op) {
  switch (op) {
    case Op::Begin: return "begin";
    case Op::BeginAnySize: return "begin_any_size";
    case Op::Continue: return "continue";
    case Op::End: return "end";
    case Op::ValidProperty: return "valid_property";
    case Op::Stray: return "stray";
    case Op::GetBuffer: return "get_buffer";
    case Op::TransferState: return "transfer_state";
  }
  return "?";
}

// Index of a tag in the target's table (kTags): the good state tags first.
enum Tag : std::uint8_t {
  kIdsetGiven, kIdsetGivenBinary, kCnsetSeen, kCnsetSeenFAI, kCnsetRead, kWrongType1, kWrongType2,
  kIdsetDeleted, kIdsetRead, kSubject, kZero, kAllOnes
};

}  // namespace ics_fuzz::state_upload
