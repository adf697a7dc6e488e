// Synchronization upload collector ([MS-OXCFXICS] 2.2.3.2.4, 3.2.5.9.4):
// the server side of a client uploading its offline changes.
//
//   open_collector                   RopSynchronizationOpenCollector
//   import_message_change            RopSynchronizationImportMessageChange + the
//                                    RopSaveChangesMessage that commits it (one call)
//   import_hierarchy_change          RopSynchronizationImportHierarchyChange
//   import_deletes                   RopSynchronizationImportDeletes
//   import_read_state_changes        RopSynchronizationImportReadStateChanges
//   import_message_move              RopSynchronizationImportMessageMove
//   get_local_replica_ids            RopGetLocalReplicaIds
//   set_local_replica_midset_deleted RopSetLocalReplicaMidsetDeleted
// The state ROPs (upload_state_*, get_transfer_state) are those of context.h.
//
// Decisions: an import is compared with the store's current version by PCL
// (pcl.h): a new object is created; a Newer import is applied; an Older or
// Equal one is SyncIgnore and changes nothing; a Conflict is SyncConflict with
// FailOnConflict (nothing changes), otherwise it is resolved by last writer
// wins ([MS-OXCFXICS] 3.1.5.6.2): the later PidTagLastModificationTime wins; on
// a tie the higher change-key GUID (byte compare), then the higher LocalId;
// identical change keys leave the server's version. The resolved version has
// the winner's properties and change key, the merge of both PCLs, and for a
// normal message msInConflict (0x800) in PidTagMessageStatus; FAI messages and
// folders get no flag. Both versions are kept in the store's conflict records
// (store.h), so neither is ever silently lost.
//
// Concurrency: the decision is written with the store's expected CN; when
// another writer got there in between (ObjectModified), the import is decided
// again against the new version, at most kMaxImportAttempts times, then the
// call fails with ObjectModified.
//
// State: the collector's state is what the client uploaded (before its first
// import: afterwards upload_state_begin/continue/end are NotSupported, and an
// import while a state upload is open is NotSupported) plus what was imported;
// transfer_state() reports it. An imported object's source key goes into
// IdsetGiven, and the new CN into CnsetSeen (CnsetSeenFAI for FAI) only when
// the client's replica holds the version the store now has: after a conflict
// resolution, or a move the client's version lost, the CN stays unseen so the
// client downloads the resolved version. Deletes take source keys out of
// IdsetGiven; read-state imports add their read CNs to CnsetRead.
//
// Ids: a source key (GID) names the object; its GUID maps to a REPLID through
// the store's replica map. A new object with the store's own GUID must use a
// GLOBCNT from get_local_replica_ids(): a GLOBCNT the store never handed out is
// InvalidParameter, one it handed out for something else (an object that is
// gone) or one reported by set_local_replica_midset_deleted() is
// SyncObjectDeleted, as is a key whose object was deleted (tombstone).
//
// Argument errors: a handle that is not a collector of this session is
// NullObject; the wrong kind of collector, NotSupported; unknown flags, a
// missing, misordered or mistyped fixed value, InvalidParameter; a binary that
// does not parse as a GID / XID / PCL, FormatError. Every error leaves the
// store, the collector's state and the session's live bytes as they were
// (import_deletes and import_read_state_changes validate every key before
// changing anything; a store failure part-way keeps what was done).
//
// Memory: the collector and, from its first import on, its state (an estimate
// per range and replica, kind StateStream) are charged to the session;
// releasing the handle returns every byte.
//
// Threading: like the session (one fiber or thread at a time); the store may
// be changed concurrently by other sessions and threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "ics/ids.h"
#include "ics/props.h"
#include "ics/session.h"

namespace ics {

// ImportFlag of RopSynchronizationImportMessageChange ([MS-OXCFXICS] 2.2.3.2.4.2.1).
namespace import_flag {
inline constexpr std::uint8_t kAssociated = 0x10;
inline constexpr std::uint8_t kFailOnConflict = 0x40;
}  // namespace import_flag

// ImportDeleteFlags of RopSynchronizationImportDeletes ([MS-OXCFXICS] 2.2.3.2.4.5.1).
namespace import_delete_flag {
inline constexpr std::uint8_t kHierarchy = 0x01;
inline constexpr std::uint8_t kHardDelete = 0x02;
}  // namespace import_delete_flag

// PidTagMessageStatus bit of a conflict resolve message ([MS-OXCMSG] 2.2.1.8).
inline constexpr std::uint32_t kMsInConflict = 0x00000800;
// How often an import is decided again after a concurrent change.
inline constexpr std::uint32_t kMaxImportAttempts = 8;

enum class ImportOutcome : std::uint8_t {
  Created,    // a new object
  Updated,    // the import was newer and replaced the store's version
  ClientWon,  // a conflict, resolved in favour of the import
  ServerWon,  // a conflict, resolved in favour of the store's version
};
std::string_view name(ImportOutcome outcome);

struct ImportResult {
  ImportOutcome outcome = ImportOutcome::Created;
  Id id;           // the MID or FID
  Gid source_key;
  Globcnt cn = 0;  // the stored version's CN (a conflict record's resolved_cn)
  bool seen = false;         // whether cn went into the collector's CnsetSeen(FAI)
  std::uint32_t attempts = 1;  // decisions taken (more than 1 after a race)
};

struct DeleteResult {
  std::size_t deleted = 0;  // objects deleted (a folder counts once)
  std::size_t skipped = 0;  // unknown, already gone, or outside the collector's folder
};

struct ReadStateChange {
  Bytes source_key;  // a GID
  bool mark_as_read = true;
};

struct ReadStateResult {
  std::size_t changed = 0;    // a new read CN
  std::size_t unchanged = 0;  // already in that state
  std::size_t ignored = 0;    // FAI messages ([MS-OXCFXICS] 3.2.5.9.4.6: MUST be ignored)
  std::size_t skipped = 0;    // unknown or in another folder
};

// RopSynchronizationImportMessageMove's request ([MS-OXCFXICS] 2.2.3.2.4.4.1).
// The store keeps a message's MID on a move, so the destination message keeps
// its source key: destination_message must equal source_message
// (InvalidParameter otherwise). The collector's folder is the destination.
struct ImportMove {
  Bytes source_folder;        // GID: PidTagSourceKey of the source folder
  Bytes source_message;       // GID: PidTagSourceKey of the message
  Bytes pcl;                  // the client's PCL of the message
  Bytes destination_message;  // GID: equal to source_message here
  Bytes change_number;        // XID: the client's change key for the move
};

struct MoveResult {
  // Success, or NewerClientChange (0x00040821): the move was done but the
  // client's replica has changes the store lacks, so ChangeNumber and PCL were
  // not applied (the client should import its version next).
  ErrorCode code = ErrorCode::Success;
  Mid mid;
  Globcnt cn = 0;     // the moved message's CN
  bool seen = false;  // whether cn went into CnsetSeen(FAI)
  std::uint32_t attempts = 1;
};

struct LocalReplicaIds {
  Guid replguid;
  Globcnt first = 0;  // the first of the reserved GLOBCNTs
};

// A LongTermId range of RopSetLocalReplicaMidsetDeleted (the 2 pad bytes dropped).
struct LongTermIdRange {
  Gid min;
  Gid max;
};

// Test seams, per collector: before_write runs after each decision and before
// the store write (attempt = 1, 2, ...), so a test can change the store there.
struct CollectorHooks {
  std::function<void(std::uint32_t attempt)> before_write;
};

// A contents collector (contents = true) or a hierarchy collector on folder.
// NotFound for a missing folder.
Result<std::uint32_t> open_collector(Session& s, Fid folder, bool contents);

// values[0..3] are PidTagSourceKey (GID), PidTagLastModificationTime (PtypTime),
// PidTagChangeKey (XID) and PidTagPredecessorChangeList (PCL), in that order;
// the rest are the message's properties (ICS header tags among them are
// dropped). import_flags: import_flag::*. Errors beyond the above: SyncIgnore,
// SyncConflict, SyncObjectDeleted; InvalidParameter for a message that is in
// another folder (and never was in this one) or of the other kind (FAI/normal);
// NotSupported on a hierarchy collector.
Result<ImportResult> import_message_change(Session& s, std::uint32_t collector,
                                           std::uint8_t import_flags,
                                           const std::vector<PropValue>& values);

// hierarchy_values are exactly PidTagParentSourceKey (empty: the collector's
// folder; else a GID), PidTagSourceKey, PidTagLastModificationTime,
// PidTagChangeKey, PidTagPredecessorChangeList, PidTagDisplayName (PtypString
// or PtypString8), in that order; property_values are the folder's other
// properties. Creates, updates (renames) or re-parents the folder.
// SyncNoParent for a parent that is missing or outside the collector's
// folder; SyncIncest for a move below itself; InvalidParameter for the
// collector's own folder or a folder outside it; NotSupported on a contents
// collector. Conflicts are resolved (last writer wins) and recorded.
Result<ImportResult> import_hierarchy_change(Session& s, std::uint32_t collector,
                                             const std::vector<PropValue>& hierarchy_values,
                                             const std::vector<PropValue>& property_values);

// Deletes the messages (or, with kHierarchy, the folders and everything below
// them) named by source_keys: soft deletes unless kHardDelete. The flag must
// match the collector (NotSupported otherwise); unknown objects, and objects
// outside the collector's folder, are skipped and counted. A key naming the
// collector's own folder is InvalidParameter.
Result<DeleteResult> import_deletes(Session& s, std::uint32_t collector, std::uint8_t flags,
                                    const std::vector<Bytes>& source_keys);

// Sets read state; unknown messages are skipped, FAI ones ignored.
Result<ReadStateResult> import_read_state_changes(Session& s, std::uint32_t collector,
                                                  const std::vector<ReadStateChange>& changes);

// Moves a message from the source folder into the collector's folder. Every
// field must be non-empty (InvalidParameter). The client's PCL against the
// store's: Equal moves and applies ChangeNumber and the PCL (CN seen); the
// client newer moves without them (NewerClientChange, CN seen); the store
// newer moves (Success, CN unseen: the client downloads the newer version); a
// conflict moves without them (NewerClientChange, CN unseen). A message
// already in the collector's folder is left alone (Success, CN unseen). A
// source folder that never existed is NotFound; a deleted one, or a message
// no longer in the source folder, SyncObjectDeleted.
Result<MoveResult> import_message_move(Session& s, std::uint32_t collector, const ImportMove& move);

// Reserves count ids through Store::reserve_ids (InvalidParameter for 0).
Result<LocalReplicaIds> get_local_replica_ids(Session& s, std::uint32_t count);

// Records the ranges as ids the client deleted without uploading them
// (Store::mark_reserved_deleted): a later import creating an object with one
// of them is SyncObjectDeleted. NotFound for a missing folder; InvalidParameter
// (and nothing recorded) if any range mixes GUIDs, is not the store's GUID, has
// min > max, or holds ids the store never reserved.
Status set_local_replica_midset_deleted(Session& s, Fid folder,
                                        const std::vector<LongTermIdRange>& ranges);

// Installs hooks on a collector (tests).
Status set_collector_hooks(Session& s, std::uint32_t collector, CollectorHooks hooks);

}  // namespace ics
