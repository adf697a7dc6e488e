// The op script of fuzz_sync_session, described once for the target, its seeds
// (fuzz/seeds/sync_session_seeds.cpp) and `fuzz/describe sync_session FILE`.
//
// Bytes are read through ScriptReader (FuzzedDataProvider order: integers from the
// end, most significant byte first; strings from the front).
//   setup    seed u8, messages 1..4, replicas 1..3
//   replica  one line per replica: hierarchy? (0..3 == 0), flags u16, [contents:
//            Normal? (0..3 != 0)], extra u8, [contents: PartialItem bool, property
//            list? (0..3 == 0) {4 tag bools, OnlySpecified bool, IgnoreSpecifiedOnFAI
//            bool}], tiny buffer? (0..7 == 0) {size 1..24 | 64..4096}, whole state?
//            bool {else chunk 1..64}
//   then up to kMaxSteps ops: an op byte (taken modulo the number of kSlots), its operands:
//   server_changes  count 1..3
//   sync            replica
//   local_modify    replica, message, subject string(16), remove binary? bool
//   local_create    replica, subject string(16), integer? bool {u32}, FAI? (0..3 == 0)
//   local_delete    replica, message, hard? bool
//   local_read      replica, message, read bool
//   upload          replica
// "replica" is 0..replicas-1 (nothing taken with one replica); "message" is 0..n-1 over
// the replica's messages (nothing taken when it holds none or is a hierarchy replica;
// the op then does nothing more). local_modify / local_create stop after the pick on a
// replica that holds filtered copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "script/slots.h"

namespace ics_fuzz::sync_session {

enum class Op : std::uint8_t { ServerChanges, Sync, LocalModify, LocalCreate, LocalDelete, LocalRead, Upload };

constexpr int kMaxSteps = 16;
constexpr std::size_t kMaxReplicas = 3;

// Op byte modulo kSlots -> op. Sync holds two slots (more syncs than anything else).
constexpr Op kSlots[] = {Op::ServerChanges, Op::Sync,       Op::Sync,      Op::LocalModify,
                         Op::LocalCreate,   Op::LocalDelete, Op::LocalRead, Op::Upload};

constexpr Op op_of(std::uint8_t byte) { return slot_op(kSlots, byte); }

// The byte a seed writes for `op`: its first slot.
constexpr std::uint8_t code_of(Op op) { return slot_code(kSlots, op); }

constexpr std::string_view name(Op op) {
  switch (op) {
    case Op::ServerChanges: return "server_changes";
    case Op::Sync: return "sync";
    case Op::LocalModify: return "local_modify";
    case Op::LocalCreate: return "local_create";
    case Op::LocalDelete: return "local_delete";
    case Op::LocalRead: return "local_read";
    case Op::Upload: return "upload";
  }
  return "?";
}

}  // namespace ics_fuzz::sync_session
