// The op script of fuzz_import, described once for the target, its seeds
// (fuzz/seeds/import_seeds.cpp) and `fuzz/describe import FILE`.
//
// Bytes are read through ScriptReader (FuzzedDataProvider order: integers from the
// end, most significant byte first; strings and byte runs from the front).
//   setup  workload seed u8, messages 2..10
//   then up to kMaxSteps ops: an op byte (taken modulo the number of kSlots), its operands:
//   change          key, [associated bool: new keys only], wrong kind (0..7 == 0),
//                   FailOnConflict bool, stray bits (0..15 == 0) {u8}, version, time,
//                   raw header fields (Raw only: 3 x {bool [length 0..40, bytes]}),
//                   too few values (Raw only: bool [0..3]), properties 0..3 {kind 0..3,
//                   value}, race (existing keys: 0..5 == 0)
//   deletes         hard bool, raw flags (0..15 == 0) {u8}, keys 0..6 {key},
//                   fuzzed key (0..7 == 0) {length 0..30, bytes}
//   hierarchy_deletes  as deletes, folder keys
//   read            keys 0..6 {key}, then a read bool per key, fuzzed key (0..7 == 0)
//   move            message (index into the known keys), own folder? bool (existing
//                   only), version, Raw: field 0..4 {bytes}
//   folder          folder key, version, parent? bool {index}, time, name string(20),
//                   Raw header fields and cut as change, container class bool
//   server_change   -
//   stray           handle u32
// "key" is a kind 0..7: 0 a fresh client key, 1 a reserved store id {count 1..4,
// reported deleted bool}, 2 an id the store never handed out {u8}, else an index into
// the known keys (messages of the folder and of `elsewhere`, then those created).
// "folder key": new? bool, else an index into the folder's subfolders.
// "version" is a shape 0..4 (Shape: Newer, Same, Older, Conflict, Raw); "time" a case
// 0..3 (the server's, later by 1 + u16, one earlier, any u64).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "script/slots.h"

namespace ics_fuzz::import {

enum class Op : std::uint8_t { Change, Deletes, HierarchyDeletes, Read, Move, Folder, ServerChange, Stray };

constexpr int kMaxSteps = 40;
constexpr std::size_t kMaxKeys = 6;  // keys per delete / read-state call

// Op byte modulo the number of slots -> op: change and folder imports weigh more.
constexpr Op kSlots[] = {Op::Change, Op::Change, Op::Change,  Op::Deletes, Op::HierarchyDeletes, Op::Read,
                         Op::Move,   Op::Folder, Op::Folder, Op::ServerChange, Op::Stray};

constexpr Op op_of(std::uint8_t byte) { return slot_op(kSlots, byte); }

constexpr std::uint8_t code_of(Op op) { return slot_code(kSlots, op); }

constexpr std::string_view name(Op op) {
  switch (op) {
    case Op::Change: return "change";
    case Op::Deletes: return "deletes";
    case Op::HierarchyDeletes: return "hierarchy_deletes";
    case Op::Read: return "read";
    case Op::Move: return "move";
    case Op::Folder: return "folder";
    case Op::ServerChange: return "server_change";
    case Op::Stray: return "stray";
  }
  return "?";
}

// How the import's version relates to the store's (the version's shape operand).
enum class Shape : std::uint8_t { Newer, Same, Older, Conflict, Raw, kCount };

// The key kind operand.
enum KeyKind : std::uint8_t { kFreshKey, kReservedKey, kUnknownStoreKey, kKnownKey };

}  // namespace ics_fuzz::import
