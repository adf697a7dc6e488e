// The synchronization DOWNLOAD context: RopSynchronizationConfigure
// ([MS-OXCFXICS] 2.2.3.2.1.1, digest 4.1) and the contentsSync /
// hierarchySync FastTransfer streams it serves ([MS-OXCFXICS] 2.2.4.3,
// digest 3.2, 6.1, 6.2).
//
// Life of a context: sync_configure() validates the request and adds a
// DownloadContext to the session's handle table. The client uploads its ICS
// state with upload_state_begin/continue/end (context.h) and then reads the
// stream with get_buffer(). On the FIRST get_buffer the context reads
// Store::current_cn() once, computes every change from the store's CN indexes,
// writes the whole stream with FxWriter into a BufferedFxSource charged to the
// session (kind FxBuffer), keeps the final state (charged as one more
// DownloadContext object of about its heap size), and from then on only
// slices the stream; the uploaded state
// is frozen (can_upload_state() is NotSupported). transfer_state() is the
// state the client holds once it has applied the whole stream; asked before
// the stream started, it is computed the same way from the current store.
// Releasing the handle frees everything the context owns.
//
// WHAT IS SENT (contents). K = the kinds asked for (Normal -> normal messages,
// FAI -> associated ones; neither -> none). U(k) = [1, current_cn] minus the
// client's CNSET for kind k (CnsetSeen / CnsetSeenFAI) under the store's
// REPLGUID; R = [1, current_cn] minus CnsetRead.
//  * Changes: without a restriction, every message of a kind in K whose CN is
//    in U(k) (Store::collect_changes over U(k); the folder is never scanned).
//    With a restriction the folder IS scanned (the only way to find messages
//    in the client's IdsetGiven that no longer match): a message is sent when
//    it matches and (its MID is not in IdsetGiven or its CN is unseen); a
//    message in IdsetGiven that no longer matches is NoLongerInScope. Without
//    a restriction a message whose CN is seen but whose MID is missing from
//    IdsetGiven is NOT re-sent (the "compact IDSET" contract of 3.1.5.5).
//    A restriction is evaluated on the message's properties with
//    PidTagMessageFlags as sent (mfRead from the read state, see below), so
//    a read-state change can move a message in or out of scope.
//  * messageChangeFull: IncrSyncChg, the header propList (PidTagSourceKey,
//    PidTagLastModificationTime, PidTagChangeKey, PidTagPredecessorChangeList,
//    PidTagAssociated, then PidTagMid if Eid, PidTagMessageSize if
//    MessageSize, PidTagChangeNumber if Cn), IncrSyncMessage, the message's
//    properties. messageChangePartial (SendOptions PartialItem and the MID is
//    in IdsetGiven): IncrSyncChgPartial, the same header, then ONE property
//    group: MetaTagIncrementalSyncMessagePartial = 0 followed by the complete
//    property set. This engine defines a single group (group 0) that holds
//    every property, so no IncrSyncGroupInfo / MetaTagIncrSyncGroupId is sent;
//    as [MS-OXCFXICS] 2.2.4.3.15 says, a group's propList is complete:
//    properties missing from it are deleted.
//  * Message properties: the store's bag, minus tags that are markers or
//    meta-properties (is_meta_property), filtered by property_tags: matched
//    by property ID, an exclude list, or an include list with
//    OnlySpecifiedProperties; with IgnoreSpecifiedOnFAI the list does not
//    apply to FAI messages. PidTagMessageFlags is always sent, whatever the
//    list says: the bag's value (0 if none) with mfRead (0x1) set from the
//    message's read state, so a replica learns read state with the message.
//    PidTagMessageSize (header, progress) = the stream bytes of that propList
//    (message_stream_size()).
//  * Order: ascending CN (both kinds merged), or with OrderByDeliveryTime by
//    PidTagMessageDeliveryTime descending (missing = 0), then
//    LastModificationTime descending, then CN ascending.
//  * Progress: progressTotal (IncrSyncProgressMode + 0x00000102 binary
//    ProgressInformation, Version 0) first, and before each change
//    IncrSyncProgressPerMsg + 0x00000003 size + 0x0000000B FAI flag.
//  * deletions (not with NoDeletions): IncrSyncDel + MetaTagIdsetDeleted
//    (REPLID IDSET of MIDs: tombstones - hard, soft, moved away - of a kind in
//    K with deletion CN in U(k) and MID in IdsetGiven; and every ID of
//    IdsetGiven under a REPLGUID the store has never mapped, which cannot name
//    a message; such a REPLGUID gets a REPLID through Store::replid_for, and
//    is dropped silently if the replica map is full) + MetaTagIdsetNoLonger-
//    InScope (restriction only, not with IgnoreNoLongerInScope). Only the
//    non-empty ones; no element when both are empty.
//  * readStateChanges (ReadState only): IncrSyncRead + MetaTagIdsetRead /
//    MetaTagIdsetUnread (non-empty ones): messages in IdsetGiven, still in
//    scope, whose read CN is in R (Store::collect_read_changes over R) and
//    that are not sent as a change in this stream.
//  * state (IdsetGiven, CnsetSeen, CnsetSeenFAI, CnsetRead), IncrSyncEnd.
// WHAT IS SENT (hierarchy): per folder below the sync folder whose CN is
// unseen, parents before children: IncrSyncChg + PidTagParentSourceKey
// (zero-length for children of the sync folder), PidTagSourceKey,
// PidTagLastModificationTime, PidTagChangeKey, PidTagPredecessorChangeList,
// PidTagDisplayName, PidTagFolderId if Eid, PidTagParentFolderId,
// PidTagChangeNumber if Cn, then the folder's other properties (filtered as
// above). deletions (not with NoDeletions): MetaTagIdsetDeleted with the FIDs
// in IdsetGiven of folders deleted below the sync folder (tombstone CN
// unseen), of folders moved out from below it (and their subtrees), and of
// never-mapped REPLGUIDs. Then state (IdsetGiven, CnsetSeen), IncrSyncEnd.
//
// FINAL STATE (transfer_state): IdsetGiven = (given - reported deleted -
// reported no longer in scope) + every object sent; CnsetSeen |= [1,
// current_cn] if Normal (always for hierarchy), CnsetSeenFAI |= [1,
// current_cn] if FAI, CnsetRead |= [1, current_cn] if ReadState; the other
// CNSETs are kept as uploaded. With NoDeletions / IgnoreNoLongerInScope what
// is not reported stays in IdsetGiven (the client still holds it).
//
// Cost: O(U-ranges * log n + changes) store work without a restriction, plus
// linear work in the size of the uploaded state (the IDSETs themselves).
//
// Threading: like the session (one fiber or thread at a time per session);
// the store is shared and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "ics/bytes.h"
#include "ics/context.h"
#include "ics/errors.h"
#include "ics/props.h"
#include "ics/restriction.h"
#include "ics/session.h"
#include "ics/store.h"

namespace ics {

// SynchronizationType ([MS-OXCFXICS] 2.2.3.2.1.1.1).
namespace sync_type {
inline constexpr std::uint8_t kContents = 0x01;
inline constexpr std::uint8_t kHierarchy = 0x02;
}  // namespace sync_type

// SendOptions ([MS-OXCFXICS] 2.2.3.1.1.1.1). Accepted and without effect on
// this engine's output (strings are always PtypString): UseCpid, ForUpload,
// RecoverMode, ForceUnicode. PartialItem enables messageChangePartial.
namespace send_options {
inline constexpr std::uint8_t kUnicode = 0x01;
inline constexpr std::uint8_t kUseCpid = 0x02;
inline constexpr std::uint8_t kForUpload = 0x03;
inline constexpr std::uint8_t kRecoverMode = 0x04;
inline constexpr std::uint8_t kForceUnicode = 0x08;
inline constexpr std::uint8_t kPartialItem = 0x10;
inline constexpr std::uint8_t kKnown = 0x1F;
}  // namespace send_options

// SynchronizationFlags ([MS-OXCFXICS] 2.2.3.2.1.1.1). Accepted without
// effect: NoForeignIdentifiers, Reserved, BestBody.
namespace sync_flags {
inline constexpr std::uint16_t kUnicode = 0x0001;
inline constexpr std::uint16_t kNoDeletions = 0x0002;
inline constexpr std::uint16_t kIgnoreNoLongerInScope = 0x0004;
inline constexpr std::uint16_t kReadState = 0x0008;
inline constexpr std::uint16_t kFAI = 0x0010;
inline constexpr std::uint16_t kNormal = 0x0020;
inline constexpr std::uint16_t kOnlySpecifiedProperties = 0x0080;
inline constexpr std::uint16_t kNoForeignIdentifiers = 0x0100;
inline constexpr std::uint16_t kReserved = 0x1000;
inline constexpr std::uint16_t kBestBody = 0x2000;
inline constexpr std::uint16_t kIgnoreSpecifiedOnFAI = 0x4000;
inline constexpr std::uint16_t kProgress = 0x8000;
inline constexpr std::uint16_t kKnown = 0xF1BF;
// Flags that only mean something for a contents synchronization.
inline constexpr std::uint16_t kContentsOnly = kIgnoreNoLongerInScope | kReadState | kFAI |
                                               kNormal | kBestBody | kIgnoreSpecifiedOnFAI |
                                               kProgress;
}  // namespace sync_flags

// SynchronizationExtraFlags ([MS-OXCFXICS] 2.2.3.2.1.1.1).
namespace extra_flags {
inline constexpr std::uint32_t kEid = 0x00000001;
inline constexpr std::uint32_t kMessageSize = 0x00000002;
inline constexpr std::uint32_t kCn = 0x00000004;
inline constexpr std::uint32_t kOrderByDeliveryTime = 0x00000008;
inline constexpr std::uint32_t kKnown = 0x0000000F;
inline constexpr std::uint32_t kContentsOnly = kMessageSize | kOrderByDeliveryTime;
}  // namespace extra_flags

// PidTagMessageFlags mfRead.
inline constexpr std::uint32_t kMessageFlagRead = 0x00000001;

// The fields of RopSynchronizationConfigure, raw, so that any request can be
// expressed (fuzzers) and validated.
struct SyncConfig {
  std::uint8_t type = sync_type::kContents;
  std::uint8_t send_options = send_options::kUnicode;
  std::uint16_t flags = sync_flags::kUnicode | sync_flags::kNormal | sync_flags::kFAI;
  std::uint32_t extra_flags = 0;
  std::vector<PropTag> property_tags;
  Bytes restriction;  // RestrictionData; empty = none

  bool hierarchy() const { return type == sync_type::kHierarchy; }
  bool has(std::uint16_t flag) const { return (flags & flag) != 0; }
  bool has_extra(std::uint32_t flag) const { return (extra_flags & flag) != 0; }
  bool operator==(const SyncConfig&) const = default;
};

// Whether tag names an ICS meta-property ([MS-OXCFXICS] 2.2.1.1-2.2.1.5,
// digest 2.1-2.3: MetaTagIdsetGiven, the CNSETs, the deletion and read-state
// IDSETs, MetaTagDnPrefix, EcWarning, NewFXFolder, FXDelProp,
// IncrementalSyncMessagePartial, IncrSyncGroupId), matched by property ID.
bool is_meta_property(PropTag tag);

// Checks a configuration; the parsed restriction if there is one.
//   InvalidParameter: SynchronizationType not Contents/Hierarchy; unknown
//     SendOptions, SynchronizationFlags or SynchronizationExtraFlags bits;
//     SynchronizationFlags.Unicode != SendOptions.Unicode; a contents-only
//     flag (sync_flags::kContentsOnly, extra_flags::kContentsOnly) or a
//     restriction on a hierarchy synchronization; a property tag of type 0,
//     of a type a FastTransfer stream cannot carry, that is a marker, or that
//     names a meta-property.
//   NotSupported / FormatError / TooBig: the restriction (restriction.h).
Result<std::optional<Restriction>> validate_sync_config(const SyncConfig& config);

// RopSynchronizationConfigure on folder: a new download context's handle.
// The errors of validate_sync_config; NotFound when the folder does not
// exist; the errors of Session::add (GeneralFailure over the memory budget or
// when the handle table is full, OutOfMemory when injected). On failure
// nothing stays allocated.
Result<std::uint32_t> sync_configure(Session& session, Fid folder, const SyncConfig& config);

// What one download did (for tests, benchmarks and the replica's counters).
struct DownloadStats {
  std::size_t store_calls = 0;        // collect_* / scan calls on the store
  std::size_t messages_examined = 0;  // message snapshots the store returned
  std::size_t tombstones_examined = 0;
  std::size_t read_changes_examined = 0;
  std::size_t folders_examined = 0;
  std::size_t changes = 0;  // messageChange / folderChange elements
  std::size_t partial_changes = 0;
  std::uint64_t deleted = 0;  // IDs in MetaTagIdsetDeleted
  std::uint64_t no_longer_in_scope = 0;
  std::uint64_t read = 0;  // IDs in MetaTagIdsetRead + MetaTagIdsetUnread
  std::size_t stream_bytes = 0;
  Globcnt current_cn = 0;  // the cut the download used
};

class DownloadContext final : public StatefulContext, public FxSource {
 public:
  // Use sync_configure(); restriction is the parsed config.restriction.
  DownloadContext(Session& session, Fid folder, SyncConfig config,
                  std::optional<Restriction> restriction);

  ObjectKind kind() const override { return ObjectKind::DownloadContext; }
  FxSource* as_fx_source() override { return this; }
  std::size_t footprint() const override;
  // NotSupported once the stream has started.
  Status can_upload_state() const override;
  Result<IcsState> transfer_state() override;
  // NotSupported while a state upload is open; InvalidParameter for max 0;
  // the store's errors (NotFound if the folder went away) and GeneralFailure
  // over the memory budget on the first call, which may then be retried.
  Result<BufferResult> get_buffer(std::size_t max, Bytes& transfer_buffer) override;

  bool started() const { return started_; }
  const DownloadStats& stats() const { return stats_; }
  const SyncConfig& config() const { return config_; }
  Fid folder() const { return folder_; }

 private:
  Status start();

  Session* session_;
  Fid folder_;
  SyncConfig config_;
  std::optional<Restriction> restriction_;
  BufferedFxSource source_;
  IcsState final_state_;
  Charge final_state_charge_;
  DownloadStats stats_;
  bool started_ = false;
};

// The stats of the download context named by handle (NullObject otherwise).
Result<DownloadStats> download_stats(Session& session, std::uint32_t handle);

// Approximate heap bytes of a state (what a context charges for holding it).
std::size_t state_footprint(const IcsState& state);

// Stream bytes of the propList made of bag's values (what PidTagMessageSize
// and the progress elements report for a message).
std::size_t message_stream_size(const PropertyBag& bag);

}  // namespace ics
