// ICS state ([MS-OXCFXICS] 2.2.1.1) and its upload (RopSynchronizationUpload-
// StateStreamBegin / Continue / End, [MS-OXCROPS] 2.2.13.9-11).
//
// IcsState is the client's view of a folder: four REPLGUID-based IDSETs.
// StateUpload is the part of a download context or an upload collector that
// receives those IDSETs from the client in pieces: begin(property, size), any
// number of append(chunk), end(). Its bytes are charged to the session and
// capped at Session::max_state_size(). A rejected property (bad tag, too big,
// malformed IDSET) is not applied and leaves the upload closed and the context
// usable: the next begin() starts afresh.
//
// Plain value / single-owner objects; thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ics/errors.h"
#include "ics/fxstream.h"
#include "ics/idset.h"
#include "ics/memory.h"
#include "ics/props.h"

namespace ics {

class Session;

enum class StateProperty : std::uint8_t { IdsetGiven, CnsetSeen, CnsetSeenFAI, CnsetRead };

struct IcsState {
  GuidIdSet given;       // MetaTagIdsetGiven: MIDs (contents) or FIDs (hierarchy)
  GuidCnset seen;        // MetaTagCnsetSeen: CNs of normal messages / folders
  GuidCnset seen_fai;    // MetaTagCnsetSeenFAI: CNs of FAI messages
  GuidCnset read;        // MetaTagCnsetRead: CNs of read-state changes

  GuidIdSet& get(StateProperty p);
  const GuidIdSet& get(StateProperty p) const;
  bool operator==(const IcsState&) const = default;
};

// The state property a tag names: MetaTagIdsetGiven (as 0x40170003 or
// 0x40170102), MetaTagCnsetSeen, MetaTagCnsetSeenFAI, MetaTagCnsetRead.
// InvalidParameter for any other tag; NotSupported for the FAI and read CNSETs
// on a hierarchy context (hierarchy sync uses IdsetGiven and CnsetSeen only).
Result<StateProperty> state_property(PropTag tag, bool hierarchy);
// The tag a state property is written with (IdsetGiven as 0x40170003).
PropTag state_tag(StateProperty p);

// The TransferBufferSize RopSynchronizationUploadStateStreamBegin declares
// for a state property of `bytes` bytes: the size itself, or TooBig when it
// does not fit the field's 32 bits.
Result<std::uint32_t> state_stream_size(std::size_t bytes);

// Writes the `state` element: IncrSyncStateBegin, the properties that apply
// (all four for contents, IdsetGiven + CnsetSeen for hierarchy),
// IncrSyncStateEnd.
Status write_state(FxWriter& w, const IcsState& state, bool hierarchy);
// Reads the state properties out of events: those between the first
// IncrSyncStateBegin and the IncrSyncStateEnd after it (FormatError if either
// is missing), or, if there is no IncrSyncStateBegin at all, every state
// property in events. FormatError for a malformed IDSET.
Result<IcsState> read_state(const std::vector<FxEvent>& events);
// The state's bytes as a stream holding only the `state` element.
Result<Bytes> serialize_state(const IcsState& state, bool hierarchy);

class StateUpload {
 public:
  StateUpload(Session& session, bool hierarchy);

  // Opens an upload of one property. NotSupported if one is already open;
  // InvalidParameter / NotSupported for a bad tag (see state_property);
  // TooBig if size exceeds the cap.
  Status begin(PropTag property, std::uint32_t size);
  // Appends a chunk. NotSupported if no upload is open; TooBig past the cap
  // (the upload is then abandoned); GeneralFailure over the memory budget.
  Status append(ByteView chunk);
  // Parses what was uploaded and replaces that property of `into`.
  // NotSupported if no upload is open; FormatError for a malformed IDSET
  // (into is unchanged). Either way the upload is closed.
  Status end(IcsState& into);
  bool open() const { return property_.has_value(); }
  // Forgets an open upload.
  void abort();

 private:
  ChargedBuffer buffer_;
  bool hierarchy_;
  std::optional<StateProperty> property_;
};

}  // namespace ics
