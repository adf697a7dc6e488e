// The client's reading of a synchronization download stream: the syntactic
// grammar of contentsSync / hierarchySync ([MS-OXCFXICS] 2.2.4.2-2.2.4.3,
// digest 3.2) over FxParser events, into a SyncDownload value.
//
//   contentsSync  = [progressTotal] *([progressPerMessage] messageChange)
//                   [deletions] [readStateChanges] state IncrSyncEnd
//   hierarchySync = *folderChange [deletions] state IncrSyncEnd
//   messageChangeFull    = IncrSyncChg propList IncrSyncMessage propList messageChildren
//   messageChangePartial = [groupInfo] [MetaTagIncrSyncGroupId] IncrSyncChgPartial
//                          propList *(MetaTagIncrementalSyncMessagePartial propList)
//                          messageChildren
//   messageChildren = [MetaTagFXDelProp] *recipient [MetaTagFXDelProp] *attachment
//   recipient = StartRecip propList EndToRecip
//   attachment = NewAttach propList [StartEmbed messageContent EndEmbed] EndAttach
//
// SyncStreamParser is push-based: push() each event in stream order (from
// FxParser, any chunking), then finish(). Every violation is FormatError whose
// offset is the index of the offending event (TooBig for recipients and
// attachments nested more than kMaxSyncNesting deep). Element contents are
// checked too: progressTotal holds exactly a 32-byte 0x00000102 binary
// (ProgressInformation, Version 0); progressPerMessage exactly 0x00000003 and a
// 0x0000000B Boolean 0/1; a message header PidTagSourceKey (a 22-byte GID),
// PidTagLastModificationTime, PidTagChangeKey (an XID),
// PidTagPredecessorChangeList (a PCL), optionally PidTagAssociated, PidTagMid,
// PidTagMessageSize, PidTagChangeNumber; a folder change also
// PidTagParentSourceKey (empty or a GID); deletions only MetaTagIdsetDeleted /
// NoLongerInScope / Expired, read-state changes only MetaTagIdsetRead /
// Unread (REPLID IDSETs), state only the state properties the sync type
// uses (REPLGUID IDSETs); a tag twice in one propList or group, a
// meta-property inside a message, anything after IncrSyncEnd, all fail.
// Recipients, attachments and IncrSyncGroupInfo contents are checked for
// shape and otherwise ignored (counted).
//
// The parser holds the propList in progress and the SyncDownload built so
// far. Single-threaded, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ics/errors.h"
#include "ics/fxstream.h"
#include "ics/idset.h"
#include "ics/pcl.h"
#include "ics/props.h"
#include "ics/state.h"

namespace ics {

inline constexpr std::size_t kMaxSyncNesting = 16;

struct ProgressInformation {
  std::uint16_t version = 0;
  std::uint32_t fai_message_count = 0;
  std::uint64_t fai_message_total_size = 0;
  std::uint32_t normal_message_count = 0;
  std::uint64_t normal_message_total_size = 0;
  bool operator==(const ProgressInformation&) const = default;
};

struct ProgressPerMessage {
  std::uint32_t size = 0;
  bool associated = false;
  bool operator==(const ProgressPerMessage&) const = default;
};

// The ICS header of a message or folder change.
struct ChangeHeader {
  Gid source_key;
  std::uint64_t last_modified = 0;
  Xid change_key;
  Pcl pcl;
  std::optional<Id> id;         // PidTagMid / PidTagFolderId
  std::optional<Cn> cn;         // PidTagChangeNumber
};

struct DownloadedMessage {
  ChangeHeader header;
  bool associated = false;
  bool partial = false;
  std::size_t groups = 0;                    // property groups (partial only)
  std::optional<std::uint32_t> message_size;  // PidTagMessageSize
  std::optional<ProgressPerMessage> progress;
  PropertyBag props;  // full: the propList; partial: the union of the groups
  std::size_t recipients = 0;
  std::size_t attachments = 0;
};

struct DownloadedFolder {
  ChangeHeader header;
  std::optional<Gid> parent_source_key;  // none: a child of the sync folder
  std::optional<Fid> parent_fid;          // PidTagParentFolderId
  PropertyBag props;                      // PidTagDisplayName and the rest
};

struct SyncDownload {
  bool hierarchy = false;
  std::optional<ProgressInformation> progress;
  std::vector<DownloadedMessage> messages;
  std::vector<DownloadedFolder> folders;
  bool has_deletions = false;  // an IncrSyncDel element was present
  IdSet deleted;
  IdSet no_longer_in_scope;
  IdSet expired;
  bool has_read_state = false;  // an IncrSyncRead element was present
  IdSet read;
  IdSet unread;
  IcsState state;
};

class SyncStreamParser {
 public:
  explicit SyncStreamParser(bool hierarchy);

  // After an error every later call returns the same error.
  Status push(const FxEvent& event);
  // Pushes every event and clears the vector (keeping its capacity).
  Status push_all(std::vector<FxEvent>& events);
  // FormatError unless the stream ended right after IncrSyncEnd.
  Result<SyncDownload> finish();
  bool done() const;
  std::size_t events_seen() const { return index_; }

 private:
  enum class Elem : std::uint8_t {
    None, ProgressTotal, PerMsg, GroupInfo, ChgHeader, PartialHeader, Body, FolderChange,
    Deletions, Read, State,
  };
  struct Frame {
    enum class Kind : std::uint8_t { Recipient, Attachment, Embedded };
    Kind kind;
    int children = 0;       // Embedded: where in messageChildren it is
    bool embedded = false;  // Attachment: StartEmbed seen
  };

  Status fail(std::string what);
  Status on_property(const PropValue& v);
  Status on_marker(std::uint32_t tag);
  Status on_frame_event(const FxEvent& e);
  Status on_body_property(const PropValue& v);
  Status on_group_id();
  Status open_top_level(std::uint32_t tag);
  Status open_change(std::uint32_t tag);
  Status open_section(std::uint32_t tag);
  Status close_element();
  Status close_header();
  Status close_body();
  Status close_group();
  Status close_state();
  Status child_step(int& children, std::uint32_t what);
  Status push_frame(Frame::Kind kind);
  bool pending() const { return want_change_ || want_partial_; }

  bool hierarchy_;
  std::optional<Error> error_;
  std::size_t index_ = 0;
  int phase_ = 0;
  Elem elem_ = Elem::None;
  bool state_closed_ = false;
  bool want_change_ = false;   // progressPerMessage seen: a change must follow
  bool want_partial_ = false;  // groupInfo / group id seen: IncrSyncChgPartial must follow
  bool group_id_seen_ = false;
  std::vector<PropValue> props_;  // the propList in progress
  DownloadedMessage message_;     // the message change in progress
  int children_ = 0;              // of message_
  std::optional<ProgressPerMessage> progress_;
  std::vector<Frame> frames_;
  SyncDownload out_;
};

// The whole stream at once (FxParser + SyncStreamParser).
Result<SyncDownload> parse_sync_stream(ByteView stream, bool hierarchy);

}  // namespace ics
