// Store: a thread-safe in-memory message store, the server side of ICS.
//
// What it holds: a folder hierarchy (FIDs) under a root folder made at
// construction; in each folder normal and FAI (associated) messages (MIDs)
// with property bags; read state; tombstones of hard deletes, soft deletes and
// moves. Ids (FIDs, MIDs, reserve_ids) and change numbers (CNs) are two
// separate per-store 48-bit GLOBCNT counters, two namespaces of the same
// REPLGUID ([MS-OXCFXICS] 2.2.2.1, 2.2.2.5): every id is unique among ids,
// every CN among CNs, and CNs strictly increase. Keeping them apart keeps the
// MIDs of a folder dense, so a client's IdsetGiven stays a few ranges.
//
// Ids and replicas: REPLID 1 is the store's own REPLGUID. An object's source
// key (PidTagSourceKey, a GID) is (REPLGUID of its REPLID, GLOBCNT); objects
// imported from a client with a foreign GUID get a REPLID on demand, so an id
// and its source key always convert both ways through the replica map.
// reserve_ids() is GetLocalReplicaIds ([MS-OXCROPS] 2.2.13.13): a range the
// id counter then skips, which a client may use in source keys.
//
// Versions: a server-side change sets ChangeKey = XID(store GUID, CN), merges
// it into the PCL and sets LastModificationTime from a deterministic logical
// clock (filetime_for_cn). put_message_version()/put_folder_version() store a
// client's version as given (its change key and PCL) under a fresh server CN:
// the upload collector decides conflicts and calls them, with an expected CN
// for optimistic concurrency (ObjectModified if another change got there first).
//
// Conflicts ([MS-OXCFXICS] 3.1.5.6.2): the upload collector resolves a
// conflicting import and hands the store both versions with the resolution
// (MessageVersion::conflict / FolderVersion::conflict); the store keeps them,
// under the same lock as the resolved version, as a ConflictRecord named by
// the resolution's CN. Records are never dropped: they are the conflict resolve
// message's attachments (each version's bag carries PidTagInConflict) and the
// store-wide list oracles read.
//
// Reserved ids: reserve_ids() remembers its ranges; mark_reserved_deleted()
// records ids a client reports deleted with RopSetLocalReplicaMidsetDeleted.
//
// Read state: set_read() takes a read CN from the CN counter and leaves the
// message CN alone; the read flag lives only in MessageSnapshot::read.
//
// Moves keep the MID (unlike Exchange, which gives the moved copy a new MID):
// the message leaves its folder, which keeps a tombstone of kind Moved, and
// joins the destination with a NEW CN (a move is a change there).
//
// Incremental download: each folder keeps ordered indexes CN -> MID (normal),
// CN -> MID (FAI), read CN -> MID and deletion CN -> tombstone, and the store
// keeps folder CN -> FID and folder tombstones by CN. The collect_* calls walk
// an index only over the CN ranges the client has not seen, so they cost
// O(ranges * log n + changes), not the size of the folder.
//
// Threading: every public member is thread-safe. One mutex guards the state;
// each call holds it briefly, never across a callback or a yield, and returns
// copies (snapshots), never references into the store. The store's own memory
// is not charged to any session; memory_stats() holds the totals of the
// sessions opened on it. Lifetime: sessions keep the store alive (shared_ptr).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "ics/errors.h"
#include "ics/globset.h"
#include "ics/ids.h"
#include "ics/memory.h"
#include "ics/pcl.h"
#include "ics/props.h"

namespace ics {

inline constexpr Replid kLocalReplid = 1;

// Inclusive [low, high] GLOBCNT ranges. Order and overlaps do not matter;
// low > high is InvalidParameter.
using CnRanges = std::vector<std::pair<Globcnt, Globcnt>>;

enum class MessageKind : std::uint8_t { Normal, Associated };
enum class DeleteKind : std::uint8_t { Hard, Soft, Moved };

// The logical LastModificationTime of a server change: a FILETIME one second
// per CN after 2020-01-01T00:00:00Z.
std::uint64_t filetime_for_cn(Globcnt cn);

// Properties to set (replacing values with the same tag) and to remove.
// ICS header properties (source key, change key, PCL, LastModificationTime,
// CN, MID/FID, associated, parent ids) are the store's own fields: such tags
// are dropped from any bag handed to the store.
struct PropChanges {
  PropertyBag set;
  std::vector<PropTag> remove;
};

struct MessageSnapshot {
  Mid mid;
  Fid folder;
  Gid source_key;
  bool associated = false;
  Globcnt cn = 0;
  Globcnt read_cn = 0;  // 0: read state never changed
  bool read = false;
  Xid change_key;
  Pcl pcl;
  std::uint64_t last_modified = 0;
  PropertyBag props;  // empty when fetched without properties
};

struct ReadChange {
  Mid mid;
  Gid source_key;
  Globcnt read_cn = 0;
  bool read = false;
  bool associated = false;
};

struct MessageTombstone {
  Mid mid;
  Gid source_key;
  Globcnt cn = 0;  // the deletion (or move) CN
  DeleteKind kind = DeleteKind::Hard;
  bool associated = false;
  Fid moved_to;  // for kind Moved
};

struct FolderSnapshot {
  Fid fid;
  Fid parent;  // {0, 0} for the root
  Gid source_key;
  std::optional<Gid> parent_source_key;  // none for the root
  Globcnt cn = 0;
  Xid change_key;
  Pcl pcl;
  std::uint64_t last_modified = 0;
  PropertyBag props;  // includes PidTagDisplayName
};

struct FolderTombstone {
  Fid fid;
  Fid parent;
  Gid source_key;
  Globcnt cn = 0;
  DeleteKind kind = DeleteKind::Hard;
};

// What a conflict was about.
enum class ConflictObject : std::uint8_t { Message, Associated, Folder };

// One side of a conflict, as it was before the resolution.
struct ConflictVersion {
  Fid parent;  // the message's folder or the folder's parent
  Xid change_key;
  Pcl pcl;
  std::uint64_t last_modified = 0;
  PropertyBag props;  // as the version had them, plus PidTagInConflict TRUE
  bool operator==(const ConflictVersion&) const = default;
};

// A resolved conflict: what conflicted with what, and who won.
struct ConflictRecord {
  ConflictObject object = ConflictObject::Message;
  Gid source_key;
  ConflictVersion server;  // the version the store held
  ConflictVersion client;  // the imported version
  bool client_won = false;
  Globcnt resolved_cn = 0;  // set by the store: the CN of the resolved version
  bool operator==(const ConflictRecord&) const = default;
};

// A client's version of a message (ImportMessageChange + SaveChangesMessage).
struct MessageVersion {
  Fid folder;
  Gid source_key;
  bool associated = false;
  Xid change_key;
  Pcl pcl;                         // stored merged with change_key
  std::uint64_t last_modified = 0;  // 0: filetime_for_cn(new CN)
  PropertyBag props;               // replaces the message's properties
  // nullopt: no check; 0: the message must not exist; otherwise its current CN.
  std::optional<Globcnt> expected_cn;
  // A conflict this version resolves; recorded with it (resolved_cn filled in).
  std::optional<ConflictRecord> conflict;
};

// A client's move of a message (ImportMessageMove).
struct MoveVersion {
  Mid mid;
  Fid source;  // the folder the message must be in
  Fid dest;
  std::optional<Globcnt> expected_cn;  // nullopt: no check
  // Set: the moved message takes this change key and the merge of its PCL,
  // `pcl` and the change key. Unset: it keeps its change key, PCL and
  // LastModificationTime and only takes a new CN.
  std::optional<Xid> change_key;
  Pcl pcl;
};

// A client's version of a folder (ImportHierarchyChange).
struct FolderVersion {
  Fid parent;  // SyncNoParent if it does not exist
  Gid source_key;
  Xid change_key;
  Pcl pcl;
  std::uint64_t last_modified = 0;
  PropertyBag props;  // replaces the folder's properties (PidTagDisplayName...)
  std::optional<Globcnt> expected_cn;
  std::optional<ConflictRecord> conflict;  // as in MessageVersion
};

struct StoreOptions {
  Guid guid = Guid::from_seed(0x5702E);
  Globcnt first_globcnt = 1;  // the first GLOBCNT each counter (ids, CNs) hands out
};

class Store {
 public:
  explicit Store(StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // An independent copy of everything the store holds (folders, messages, read state,
  // tombstones, conflicts, reserved ids, the replica map, both counters), taken under the
  // lock: the copy and this store share nothing mutable, so a change to one is invisible to
  // the other. The copy has no sessions: its memory_stats() start at zero and its session ids
  // continue from this store's. It costs one copy of every record (the session-level fuzz
  // targets restore their populated store with it, once per input).
  std::unique_ptr<Store> clone() const;

  const Guid& guid() const { return guid_; }
  Fid root() const { return root_; }

  // ---- ids and replicas ----
  // The last change number handed out. A consistent cut:
  // a CN is allocated and its change committed under one lock, so every
  // change with CN <= current_cn() is visible to any later call. A download
  // reads it BEFORE collecting, clips its unseen ranges to [1, it], and may
  // then report [1, it] as seen; changes made meanwhile have larger CNs and
  // come with the next sync.
  Globcnt current_cn() const;
  // The last id GLOBCNT handed out (FID, MID or reserved by reserve_ids).
  Globcnt current_id() const;
  // GetLocalReplicaIds: reserves count GLOBCNTs; returns the store GUID and
  // the first. InvalidParameter for 0; GeneralFailure when the 48-bit space
  // would run out.
  Result<std::pair<Guid, Globcnt>> reserve_ids(std::uint32_t count);
  // Whether reserve_ids() handed out every GLOBCNT of [low, high].
  bool is_reserved(Globcnt low, Globcnt high) const;
  // RopSetLocalReplicaMidsetDeleted: records reserved GLOBCNTs [low, high] as
  // deleted by the client. InvalidParameter for low > high or ids that were
  // not reserved. Existing objects are not touched.
  Status mark_reserved_deleted(Globcnt low, Globcnt high);
  bool is_reserved_deleted(Globcnt id) const;
  // The REPLID of guid, assigning the next free one if it has none.
  Result<Replid> replid_for(const Guid& guid);
  std::optional<Replid> find_replid(const Guid& guid) const;
  std::optional<Guid> guid_of(Replid replid) const;
  // NotFound when the REPLID / REPLGUID is not in the replica map.
  Result<Gid> to_gid(const Id& id) const;
  Result<Id> to_id(const Gid& gid) const;

  // ---- folders ----
  // source_key (from a client) decides the FID; otherwise a fresh one.
  Result<Fid> create_folder(Fid parent, std::string_view display_name,
                            std::optional<Gid> source_key = std::nullopt);
  Result<FolderSnapshot> modify_folder(Fid fid, const PropChanges& changes);
  // Deletes fid, its subfolders and their messages; one tombstone (and CN)
  // per folder. InvalidParameter for the root or for kind Moved.
  Status delete_folder(Fid fid, DeleteKind kind = DeleteKind::Hard);
  // Creates, updates or re-parents the folder named by source_key.
  // SyncNoParent if the parent is missing, SyncIncest for a cycle.
  Result<FolderSnapshot> put_folder_version(const FolderVersion& version);
  Result<FolderSnapshot> get_folder(Fid fid) const;
  std::optional<Fid> find_folder(const Gid& source_key) const;
  Result<std::vector<Fid>> child_folders(Fid fid) const;
  // Every folder below top (not top itself), parents before children; without
  // their properties when with_props is false.
  Result<std::vector<FolderSnapshot>> folder_tree(Fid top, bool with_props = true) const;
  // Folders below top whose CN is in ranges, parents before children.
  Result<std::vector<FolderSnapshot>> collect_folder_changes(Fid top, const CnRanges& ranges) const;
  // Tombstones of folders that were below top, deletion CN in ranges.
  Result<std::vector<FolderTombstone>> collect_folder_tombstones(Fid top,
                                                                 const CnRanges& ranges) const;

  // ---- messages ----
  Result<Mid> create_message(Fid fid, PropertyBag props, bool associated);
  Result<MessageSnapshot> modify_message(Mid mid, const PropChanges& changes);
  Result<MessageSnapshot> put_message_version(const MessageVersion& version);
  // Moves as move_message() does, checking the CN (ObjectModified) and that
  // the message is in v.source (InvalidParameter), stamping as MoveVersion says.
  Result<MessageSnapshot> put_message_move(const MoveVersion& v);
  // The new read CN, or 0 when the message already had that read state.
  Result<Globcnt> set_read(Mid mid, bool read);
  // Returns the deletion CN. InvalidParameter for kind Moved.
  Result<Globcnt> delete_message(Mid mid, DeleteKind kind = DeleteKind::Hard);
  // Returns the message's new CN. InvalidParameter if dest is its folder.
  Result<Globcnt> move_message(Mid mid, Fid dest);
  Result<MessageSnapshot> get_message(Mid mid, bool with_props = true) const;
  std::optional<Mid> find_message(const Gid& source_key) const;
  // MIDs in the folder, ascending.
  Result<std::vector<Mid>> message_ids(Fid fid, MessageKind kind) const;
  // Messages of kind whose CN is in ranges, ascending by CN.
  Result<std::vector<MessageSnapshot>> collect_changes(Fid fid, MessageKind kind,
                                                       const CnRanges& ranges,
                                                       bool with_props = true) const;
  // Messages (both kinds) whose read CN is in ranges, ascending by read CN.
  Result<std::vector<ReadChange>> collect_read_changes(Fid fid, const CnRanges& ranges) const;
  // Tombstones in the folder whose deletion CN is in ranges, ascending by CN.
  Result<std::vector<MessageTombstone>> collect_tombstones(Fid fid, const CnRanges& ranges) const;
  // The tombstone source_key left in fid, if any.
  std::optional<MessageTombstone> find_message_tombstone(Fid fid, const Gid& source_key) const;
  std::optional<FolderTombstone> find_folder_tombstone(const Gid& source_key) const;
  // Drops tombstones with CN <= up_to; returns how many went.
  std::size_t purge_tombstones(Globcnt up_to);

  // ---- conflicts ----
  // Every record, ascending by resolved CN; those about one object.
  std::vector<ConflictRecord> conflicts() const;
  std::vector<ConflictRecord> conflicts_of(const Gid& source_key) const;
  std::size_t conflict_count() const;

  // ---- figures ----
  std::size_t message_count() const;
  std::size_t folder_count() const;  // including the root
  std::size_t tombstone_count() const;
  // Checks every index against the records; GeneralFailure naming the first
  // inconsistency. For tests and stress verification.
  Status check_invariants() const;

  // Totals of the sessions' memory accounts (see memory.h).
  MemoryStats& memory_stats() { return memory_; }
  const MemoryStats& memory_stats() const { return memory_; }
  // A fresh id for a session opened on this store (1, 2, ...).
  std::uint64_t next_session_id() { return next_session_id_.fetch_add(1) + 1; }

  struct State;  // defined in store.cpp

 private:
  Store(const Guid& guid, Fid root, std::unique_ptr<State> state, std::uint64_t sessions_opened);
  const Guid guid_;
  Fid root_;
  mutable std::mutex mu_;
  std::unique_ptr<State> state_;  // guarded by mu_
  MemoryStats memory_;
  std::atomic<std::uint64_t> next_session_id_{0};
};

}  // namespace ics
