// Helpers shared by the collector tests: building import values and reading a
// context's transfer state back the way a client would.
#pragma once

#include <string_view>
#include <vector>

#include "ics/collector.h"
#include "ics/context.h"
#include "ics/fxstream.h"
#include "ics/state.h"

namespace ics::collector_testing {

inline PropValue subject(std::string_view text) { return PropValue::unicode(tags::kSubject, text); }

// The four ICS header values of an import, then the given properties.
inline std::vector<PropValue> message_values(const Gid& key, std::uint64_t time, const Xid& change_key,
                                             const Pcl& pcl, std::vector<PropValue> props = {}) {
  std::vector<PropValue> v = {PropValue::binary(tags::kSourceKey, serialize_gid(key)),
                              PropValue::integer(tags::kLastModificationTime, time),
                              PropValue::binary(tags::kChangeKey, serialize_xid(change_key)),
                              PropValue::binary(tags::kPredecessorChangeList, pcl.serialize())};
  v.insert(v.end(), props.begin(), props.end());
  return v;
}

// The six hierarchy values of a folder import (parent: nullopt = the collector's folder).
inline std::vector<PropValue> folder_values(std::optional<Gid> parent, const Gid& key, std::uint64_t time,
                                            const Xid& change_key, const Pcl& pcl, std::string_view name) {
  return {PropValue::binary(tags::kParentSourceKey, parent ? serialize_gid(*parent) : Bytes{}),
          PropValue::binary(tags::kSourceKey, serialize_gid(key)),
          PropValue::integer(tags::kLastModificationTime, time),
          PropValue::binary(tags::kChangeKey, serialize_xid(change_key)),
          PropValue::binary(tags::kPredecessorChangeList, pcl.serialize()),
          PropValue::unicode(tags::kDisplayName, name)};
}

// RopSynchronizationGetTransferState, then GetBuffer until Done, parsed.
inline Result<IcsState> transfer_state_of(Session& s, std::uint32_t handle, std::size_t chunk = 97) {
  ICS_TRY_ASSIGN(std::uint32_t ts, get_transfer_state(s, handle));
  Bytes stream;
  for (;;) {
    ICS_TRY_ASSIGN(BufferResult r, get_buffer(s, ts, chunk));
    stream.insert(stream.end(), r.buffer.begin(), r.buffer.end());
    if (r.status != TransferStatus::Partial) break;
  }
  ICS_TRY(s.release(ts));
  ICS_TRY_ASSIGN(std::vector<FxEvent> events, parse_fx(stream));
  return read_state(events);
}

// Uploads one state property in two chunks.
inline Status upload_property(Session& s, std::uint32_t handle, PropTag tag, const GuidIdSet& set) {
  Bytes b = encode_idset(set);
  ICS_TRY(upload_state_begin(s, handle, tag, static_cast<std::uint32_t>(b.size())));
  const std::size_t half = b.size() / 2;
  ICS_TRY(upload_state_continue(s, handle, ByteView(b).first(half)));
  ICS_TRY(upload_state_continue(s, handle, ByteView(b).subspan(half)));
  return upload_state_end(s, handle);
}

}  // namespace ics::collector_testing
