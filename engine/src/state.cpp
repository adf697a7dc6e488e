#include "ics/state.h"

#include "ics/session.h"

namespace ics {

GuidIdSet& IcsState::get(StateProperty p) {
  switch (p) {
    case StateProperty::IdsetGiven: return given;
    case StateProperty::CnsetSeen: return seen;
    case StateProperty::CnsetSeenFAI: return seen_fai;
    case StateProperty::CnsetRead: break;
  }
  return read;
}

const GuidIdSet& IcsState::get(StateProperty p) const {
  return const_cast<IcsState*>(this)->get(p);
}

Result<StateProperty> state_property(PropTag tag, bool hierarchy) {
  if (tag == tags::kMetaTagIdsetGiven || tag == tags::kMetaTagIdsetGivenBinary) {
    return StateProperty::IdsetGiven;
  }
  if (tag == tags::kMetaTagCnsetSeen) return StateProperty::CnsetSeen;
  if (tag != tags::kMetaTagCnsetSeenFAI && tag != tags::kMetaTagCnsetRead) {
    return Error(ErrorCode::InvalidParameter, "not an ICS state property");
  }
  if (hierarchy) return Error(ErrorCode::NotSupported, "hierarchy state has no FAI or read CNSET");
  return tag == tags::kMetaTagCnsetRead ? StateProperty::CnsetRead : StateProperty::CnsetSeenFAI;
}

PropTag state_tag(StateProperty p) {
  switch (p) {
    case StateProperty::IdsetGiven: return tags::kMetaTagIdsetGiven;
    case StateProperty::CnsetSeen: return tags::kMetaTagCnsetSeen;
    case StateProperty::CnsetSeenFAI: return tags::kMetaTagCnsetSeenFAI;
    case StateProperty::CnsetRead: break;
  }
  return tags::kMetaTagCnsetRead;
}

Result<std::uint32_t> state_stream_size(std::size_t bytes) {
  if (bytes > 0xFFFFFFFFu) return Error(ErrorCode::TooBig, "state property over 4 GiB");
  return static_cast<std::uint32_t>(bytes);
}

namespace {

constexpr StateProperty kContentsOrder[] = {StateProperty::IdsetGiven, StateProperty::CnsetSeen,
                                            StateProperty::CnsetSeenFAI, StateProperty::CnsetRead};

std::size_t property_count(bool hierarchy) { return hierarchy ? 2 : 4; }

bool is_state_tag(PropTag t) { return state_property(t, false).ok(); }

Status apply_event(const FxEvent& e, IcsState& state) {
  const Bytes* b = e.value.as_bytes();
  if (b == nullptr) return Error(ErrorCode::FormatError, "state property without a binary value");
  ICS_TRY_ASSIGN(GuidIdSet set, decode_replguid_idset(*b));
  ICS_TRY_ASSIGN(StateProperty p, state_property(e.tag, false));
  state.get(p) = std::move(set);
  return ok_status();
}

bool is_marker_event(const FxEvent& e, std::uint32_t tag) {
  return e.kind == FxEvent::Kind::Marker && e.tag.value == tag;
}

}  // namespace

Status write_state(FxWriter& w, const IcsState& state, bool hierarchy) {
  ICS_TRY(w.marker(markers::kIncrSyncStateBegin));
  for (std::size_t i = 0; i < property_count(hierarchy); ++i) {
    StateProperty p = kContentsOrder[i];
    ICS_TRY(w.property(PropValue::binary(state_tag(p), encode_idset(state.get(p)))));
  }
  return w.marker(markers::kIncrSyncStateEnd);
}

Result<IcsState> read_state(const std::vector<FxEvent>& events) {
  std::size_t begin = 0, end = events.size();
  bool framed = false;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (is_marker_event(events[i], markers::kIncrSyncStateBegin)) {
      begin = i + 1;
      framed = true;
      break;
    }
  }
  if (framed) {
    end = begin;
    while (end < events.size() && !is_marker_event(events[end], markers::kIncrSyncStateEnd)) ++end;
    if (end == events.size()) return Error(ErrorCode::FormatError, "state without IncrSyncStateEnd");
  }
  IcsState state;
  for (std::size_t i = begin; i < end; ++i) {
    const FxEvent& e = events[i];
    if (e.kind == FxEvent::Kind::Property && is_state_tag(e.tag)) ICS_TRY(apply_event(e, state));
  }
  return state;
}

Result<Bytes> serialize_state(const IcsState& state, bool hierarchy) {
  FxWriter w;
  ICS_TRY(write_state(w, state, hierarchy));
  return w.take();
}

StateUpload::StateUpload(Session& session, bool hierarchy)
    : buffer_(session.state_buffer(ObjectKind::StateStream)), hierarchy_(hierarchy) {}

Status StateUpload::begin(PropTag property, std::uint32_t size) {
  if (open()) return Error(ErrorCode::NotSupported, "a state upload is already open");
#if defined(ICS_SEEDED_BUG_STATE_REJECT_STICKY)
  // Seeded bug: a rejected property leaves a byte in the buffer, and a buffer holding bytes
  // with no upload open makes the context refuse every later property.
  if (!buffer_.empty()) return Error(ErrorCode::InvalidParameter, "not an ICS state property");
  if (!state_property(property, hierarchy_).ok() || size > buffer_.cap()) {
    const std::uint8_t rejected = 1;
    (void)buffer_.append(ByteView(&rejected, 1));
  }
#endif
  ICS_TRY_ASSIGN(StateProperty p, state_property(property, hierarchy_));
  if (size > buffer_.cap()) return Error(ErrorCode::TooBig, "state larger than the per-context cap");
  property_ = p;
  return ok_status();
}

Status StateUpload::append(ByteView chunk) {
  if (!open()) return Error(ErrorCode::NotSupported, "no state upload is open");
  Status s = buffer_.append(chunk);
  if (s.code() == ErrorCode::TooBig) abort();
  return s;
}

Status StateUpload::end(IcsState& into) {
  if (!open()) return Error(ErrorCode::NotSupported, "no state upload is open");
  StateProperty p = *property_;
  auto set = decode_replguid_idset(buffer_.view());
  abort();
  if (!set.ok()) return set.error();
  into.get(p) = std::move(set).value();
  return ok_status();
}

void StateUpload::abort() {
  property_.reset();
  buffer_.clear();
}

}  // namespace ics
