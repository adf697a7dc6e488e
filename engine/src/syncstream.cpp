#include "ics/syncstream.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "ics/sync.h"

namespace ics {
namespace {

enum Phase : int { kStart = 0, kProgress, kChanges, kDeletions, kRead, kState, kEnd };

constexpr PropTag kProgressInformationTag{0x00000102};
constexpr PropTag kProgressSizeTag{0x00000003};
constexpr PropTag kProgressFaiTag{0x0000000B};
constexpr std::uint32_t kFXDelProp = tags::kMetaTagFXDelProp.value;

std::string label(PropTag tag) {
  std::string_view name = tag_name(tag);
  if (!name.empty()) return std::string(name);
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", tag.value);
  return buf;
}

std::string marker_label(std::uint32_t tag) {
  std::string_view name = marker_name(tag);
  return name.empty() ? label(PropTag(tag)) : std::string(name);
}

Error bad(std::string what) { return Error(ErrorCode::FormatError, std::move(what)); }

Result<std::uint64_t> integer_of(const PropValue& v) {
  if (const std::uint64_t* x = v.as_integer()) return *x;
  return bad(label(v.tag) + " is not an integer");
}

Result<const Bytes*> bytes_of(const PropValue& v) {
  if (const Bytes* b = v.as_bytes()) return b;
  return bad(label(v.tag) + " is not a binary");
}

Result<bool> boolean_of(const PropValue& v) {
  ICS_TRY_ASSIGN(std::uint64_t x, integer_of(v));
  if (x > 1) return bad(label(v.tag) + " is a Boolean other than 0 or 1");
  return x == 1;
}

// Fails when tag is already in `seen`, else records it.
Status once(std::vector<PropTag>& seen, PropTag tag) {
  if (std::find(seen.begin(), seen.end(), tag) != seen.end()) {
    return bad(label(tag) + " appears twice in one propList");
  }
  seen.push_back(tag);
  return ok_status();
}

// ---- element contents ----

Result<ProgressInformation> parse_progress_total(const std::vector<PropValue>& props) {
  if (props.size() != 1 || props[0].tag != kProgressInformationTag) {
    return bad("progressTotal must hold exactly one 0x00000102 property");
  }
  ICS_TRY_ASSIGN(const Bytes* b, bytes_of(props[0]));
  if (b->size() != 32) return bad("ProgressInformation is not 32 bytes");
  Reader r(*b);
  ProgressInformation p;
  std::uint16_t pad16 = 0;
  std::uint32_t pad32 = 0;
  r.read_u16(p.version);
  r.read_u16(pad16);
  r.read_u32(p.fai_message_count);
  r.read_u64(p.fai_message_total_size);
  r.read_u32(p.normal_message_count);
  r.read_u32(pad32);
  r.read_u64(p.normal_message_total_size);
  if (p.version != 0) return bad("unknown ProgressInformation version");
  return p;
}

Result<ProgressPerMessage> parse_progress_per_message(const std::vector<PropValue>& props) {
  if (props.size() != 2 || props[0].tag != kProgressSizeTag || props[1].tag != kProgressFaiTag) {
    return bad("progressPerMessage must hold 0x00000003 then 0x0000000B");
  }
  ProgressPerMessage p;
  ICS_TRY_ASSIGN(std::uint64_t size, integer_of(props[0]));
  ICS_TRY_ASSIGN(p.associated, boolean_of(props[1]));
  p.size = static_cast<std::uint32_t>(size);
  return p;
}

Status check_group_info(const std::vector<PropValue>& props) {
  if (props.size() != 1 || props[0].tag != kProgressInformationTag || !props[0].as_bytes()) {
    return bad("groupInfo must hold exactly one 0x00000102 binary");
  }
  return ok_status();
}

struct HeaderFields {
  ChangeHeader header;
  std::vector<PropTag> seen;
  bool associated = false;
  std::optional<std::uint32_t> size;
  Bytes parent_key;  // presence is checked through `seen`
  std::optional<Fid> parent_fid;
  PropertyBag rest;  // folders: everything else
};

// The fields both a message and a folder header may carry; false if the tag
// is none of them.
Result<bool> common_header_field(const PropValue& v, HeaderFields& h) {
  const PropTag t = v.tag;
  if (t == tags::kSourceKey) {
    ICS_TRY_ASSIGN(const Bytes* b, bytes_of(v));
    ICS_TRY_ASSIGN(h.header.source_key, parse_gid(*b));
  } else if (t == tags::kLastModificationTime) {
    ICS_TRY_ASSIGN(h.header.last_modified, integer_of(v));
  } else if (t == tags::kChangeKey) {
    ICS_TRY_ASSIGN(const Bytes* b, bytes_of(v));
    ICS_TRY_ASSIGN(h.header.change_key, parse_xid(*b));
  } else if (t == tags::kPredecessorChangeList) {
    ICS_TRY_ASSIGN(const Bytes* b, bytes_of(v));
    ICS_TRY_ASSIGN(h.header.pcl, Pcl::parse(*b));
  } else if (t == tags::kChangeNumber) {
    ICS_TRY_ASSIGN(std::uint64_t x, integer_of(v));
    h.header.cn = Cn::from_u64(x);
  } else {
    return false;
  }
  return true;
}

Status message_header_field(const PropValue& v, HeaderFields& h) {
  ICS_TRY_ASSIGN(bool common, common_header_field(v, h));
  if (common) return ok_status();
  if (v.tag == tags::kAssociated) {
    ICS_TRY_ASSIGN(h.associated, boolean_of(v));
  } else if (v.tag == tags::kMid) {
    ICS_TRY_ASSIGN(std::uint64_t x, integer_of(v));
    h.header.id = Mid::from_u64(x);
  } else if (v.tag == tags::kMessageSize) {
    ICS_TRY_ASSIGN(std::uint64_t x, integer_of(v));
    h.size = static_cast<std::uint32_t>(x);
  } else {
    return bad("unexpected " + label(v.tag) + " in a message change header");
  }
  return ok_status();
}

Status folder_header_field(const PropValue& v, HeaderFields& h) {
  ICS_TRY_ASSIGN(bool common, common_header_field(v, h));
  if (common) return ok_status();
  if (v.tag == tags::kParentSourceKey) {
    ICS_TRY_ASSIGN(const Bytes* b, bytes_of(v));
    h.parent_key = *b;
  } else if (v.tag == tags::kFolderId) {
    ICS_TRY_ASSIGN(std::uint64_t x, integer_of(v));
    h.header.id = Fid::from_u64(x);
  } else if (v.tag == tags::kParentFolderId) {
    ICS_TRY_ASSIGN(std::uint64_t x, integer_of(v));
    h.parent_fid = Fid::from_u64(x);
  } else if (is_meta_property(v.tag)) {
    return bad("meta-property " + label(v.tag) + " in a folder change");
  } else {
    h.rest.set(v);
  }
  return ok_status();
}

Status check_required(const std::vector<PropTag>& seen, bool folder) {
  const PropTag required[] = {tags::kSourceKey, tags::kLastModificationTime, tags::kChangeKey,
                              tags::kPredecessorChangeList, tags::kParentSourceKey};
  for (std::size_t i = 0; i < (folder ? 5u : 4u); ++i) {
    if (std::find(seen.begin(), seen.end(), required[i]) == seen.end()) {
      return bad("change header without " + label(required[i]));
    }
  }
  return ok_status();
}

Result<HeaderFields> parse_header(const std::vector<PropValue>& props, bool folder) {
  HeaderFields h;
  for (const PropValue& v : props) {
    ICS_TRY(once(h.seen, v.tag));
    ICS_TRY(folder ? folder_header_field(v, h) : message_header_field(v, h));
  }
  ICS_TRY(check_required(h.seen, folder));
  return h;
}

Result<DownloadedFolder> parse_folder(const std::vector<PropValue>& props) {
  ICS_TRY_ASSIGN(HeaderFields h, parse_header(props, true));
  DownloadedFolder f;
  f.header = std::move(h.header);
  if (!h.parent_key.empty()) {
    ICS_TRY_ASSIGN(Gid parent, parse_gid(h.parent_key));
    f.parent_source_key = parent;
  }
  f.parent_fid = h.parent_fid;
  f.props = std::move(h.rest);
  return f;
}

// An IDSET-valued propList: each allowed tag at most once.
template <class Set, class Decode>
Status parse_idsets(const std::vector<PropValue>& props,
                    std::initializer_list<std::pair<PropTag, Set*>> slots, Decode decode,
                    const char* element) {
  std::vector<PropTag> seen;
  for (const PropValue& v : props) {
    auto slot = std::find_if(slots.begin(), slots.end(), [&](const auto& s) { return s.first == v.tag; });
    if (slot == slots.end()) return bad("unexpected " + label(v.tag) + " in " + element);
    ICS_TRY(once(seen, v.tag));
    ICS_TRY_ASSIGN(const Bytes* b, bytes_of(v));
    auto set = decode(*b);
    if (!set.ok()) return bad(label(v.tag) + ": " + set.error().to_string());
    *slot->second = std::move(set).value();
  }
  return ok_status();
}

Result<IdSet> decode_replid(const Bytes& b) { return decode_replid_idset(b); }

}  // namespace

SyncStreamParser::SyncStreamParser(bool hierarchy) : hierarchy_(hierarchy) {
  out_.hierarchy = hierarchy;
}

bool SyncStreamParser::done() const { return !error_ && phase_ == kEnd; }

Status SyncStreamParser::fail(std::string what) {
  error_ = Error(ErrorCode::FormatError, std::move(what), index_);
  return *error_;
}

Status SyncStreamParser::push(const FxEvent& e) {
  if (error_) return *error_;
  Status s;
  if (phase_ == kEnd) {
    s = fail("data after IncrSyncEnd");
  } else if (!frames_.empty()) {
    s = on_frame_event(e);
  } else if (e.kind == FxEvent::Kind::Property) {
    s = on_property(e.value);
  } else {
    s = on_marker(e.tag.value);
  }
  if (!s.ok() && !error_) {
    const Error& err = s.error();
    error_ = Error(err.code(), err.what(), index_);
    s = *error_;
  }
  ++index_;
  return s;
}

Status SyncStreamParser::push_all(std::vector<FxEvent>& events) {
  for (const FxEvent& e : events) {
    Status s = push(e);
    if (!s.ok()) {
      events.clear();
      return s;
    }
  }
  events.clear();
  return ok_status();
}

Result<SyncDownload> SyncStreamParser::finish() {
  if (error_) return *error_;
  if (phase_ != kEnd) return fail("the stream ended before IncrSyncEnd").error();
  SyncDownload out = std::move(out_);
  error_ = Error(ErrorCode::GeneralFailure, "finish() already returned the download", index_);
  return out;
}

// ---- properties ----

Status SyncStreamParser::on_property(const PropValue& v) {
  if (v.tag == tags::kMetaTagIncrSyncGroupId) return on_group_id();
  switch (elem_) {
    case Elem::None:
      return fail("property " + label(v.tag) + " outside any element");
    case Elem::Body:
      return on_body_property(v);
    case Elem::PartialHeader:
      if (v.tag != tags::kMetaTagIncrementalSyncMessagePartial) break;
      ICS_TRY(close_header());
      elem_ = Elem::Body;
      message_.groups = 1;
      return ok_status();
    default:
      break;
  }
  props_.push_back(v);
  return ok_status();
}

Status SyncStreamParser::on_group_id() {
  const bool here = elem_ == Elem::None || elem_ == Elem::ProgressTotal || elem_ == Elem::PerMsg ||
                    elem_ == Elem::GroupInfo || elem_ == Elem::Body;
  if (hierarchy_ || !here || phase_ > kChanges || group_id_seen_) {
    return fail("MetaTagIncrSyncGroupId out of place");
  }
  ICS_TRY(close_element());
  group_id_seen_ = true;
  want_partial_ = true;
  return ok_status();
}

Status SyncStreamParser::on_body_property(const PropValue& v) {
  if (v.tag.value == kFXDelProp) return child_step(children_, kFXDelProp);
  if (v.tag == tags::kMetaTagIncrementalSyncMessagePartial) {
    if (!message_.partial || children_ != 0) {
      return fail("MetaTagIncrementalSyncMessagePartial outside a partial change's groups");
    }
    ICS_TRY(close_group());
    ++message_.groups;
    return ok_status();
  }
  if (children_ != 0) return fail("property " + label(v.tag) + " after the message's children");
  if (is_meta_property(v.tag)) return fail("meta-property " + label(v.tag) + " in a message");
  props_.push_back(v);
  return ok_status();
}

// ---- markers ----

Status SyncStreamParser::on_marker(std::uint32_t tag) {
  if (elem_ == Elem::Body && (tag == markers::kStartRecip || tag == markers::kNewAttach)) {
    ICS_TRY(child_step(children_, tag));
    ++(tag == markers::kStartRecip ? message_.recipients : message_.attachments);
    return push_frame(tag == markers::kStartRecip ? Frame::Kind::Recipient
                                                  : Frame::Kind::Attachment);
  }
  if (elem_ == Elem::ChgHeader) {
    if (tag != markers::kIncrSyncMessage) {
      return fail("IncrSyncChg header followed by " + marker_label(tag) + ", not IncrSyncMessage");
    }
    ICS_TRY(close_header());
    elem_ = Elem::Body;
    return ok_status();
  }
  if (tag == markers::kIncrSyncStateEnd) {
    if (elem_ != Elem::State) return fail("IncrSyncStateEnd without IncrSyncStateBegin");
    return close_state();
  }
  if (elem_ == Elem::State) return fail(marker_label(tag) + " inside the state element");
  ICS_TRY(close_element());
  return open_top_level(tag);
}

Status SyncStreamParser::open_top_level(std::uint32_t tag) {
  switch (tag) {
    case markers::kIncrSyncProgressMode:
      if (hierarchy_ || phase_ != kStart || pending()) return fail("misplaced progressTotal");
      elem_ = Elem::ProgressTotal;
      phase_ = kProgress;
      return ok_status();
    case markers::kIncrSyncProgressPerMsg:
      if (hierarchy_ || phase_ > kChanges || pending()) return fail("misplaced progressPerMessage");
      elem_ = Elem::PerMsg;
      phase_ = kChanges;
      want_change_ = true;
      return ok_status();
    case markers::kIncrSyncGroupInfo:
      if (hierarchy_ || phase_ > kChanges || want_partial_) return fail("misplaced groupInfo");
      elem_ = Elem::GroupInfo;
      phase_ = kChanges;
      want_partial_ = true;
      return ok_status();
    case markers::kIncrSyncChg:
    case markers::kIncrSyncChgPartial:
      return open_change(tag);
    case markers::kIncrSyncDel:
    case markers::kIncrSyncRead:
    case markers::kIncrSyncStateBegin:
    case markers::kIncrSyncEnd:
      return open_section(tag);
    default:
      return fail("unexpected marker " + marker_label(tag));
  }
}

Status SyncStreamParser::open_change(std::uint32_t tag) {
  if (phase_ > kChanges) return fail("a change after deletions, read state or state");
  if (tag == markers::kIncrSyncChg) {
    if (want_partial_) return fail("groupInfo / group id not followed by IncrSyncChgPartial");
    elem_ = hierarchy_ ? Elem::FolderChange : Elem::ChgHeader;
  } else {
    if (hierarchy_) return fail("IncrSyncChgPartial in a hierarchy sync");
    elem_ = Elem::PartialHeader;
  }
  phase_ = kChanges;
  want_change_ = want_partial_ = group_id_seen_ = false;
  message_ = DownloadedMessage{};
  message_.partial = tag == markers::kIncrSyncChgPartial;
  message_.progress = std::exchange(progress_, std::nullopt);
  children_ = 0;
  return ok_status();
}

Status SyncStreamParser::open_section(std::uint32_t tag) {
  if (pending()) return fail("progressPerMessage / groupInfo not followed by a change");
  switch (tag) {
    case markers::kIncrSyncDel:
      if (phase_ >= kDeletions) return fail("misplaced deletions");
      elem_ = Elem::Deletions;
      phase_ = kDeletions;
      return ok_status();
    case markers::kIncrSyncRead:
      if (hierarchy_ || phase_ >= kRead) return fail("misplaced readStateChanges");
      elem_ = Elem::Read;
      phase_ = kRead;
      return ok_status();
    case markers::kIncrSyncStateBegin:
      if (phase_ >= kState) return fail("a second state element");
      elem_ = Elem::State;
      phase_ = kState;
      return ok_status();
    default:  // IncrSyncEnd
      if (phase_ != kState || !state_closed_) return fail("IncrSyncEnd before the state element");
      phase_ = kEnd;
      return ok_status();
  }
}

// ---- messageChildren ----

Status SyncStreamParser::child_step(int& children, std::uint32_t what) {
  // 0 nothing yet, 1 after the first FXDelProp, 2 recipients,
  // 3 after the second FXDelProp, 4 attachments.
  if (what == kFXDelProp) {
    if (children >= 3) return fail("MetaTagFXDelProp out of place");
    children = children == 0 ? 1 : 3;
  } else if (what == markers::kStartRecip) {
    if (children > 2) return fail("a recipient after the attachments");
    children = 2;
  } else {
    children = 4;
  }
  return ok_status();
}

Status SyncStreamParser::push_frame(Frame::Kind kind) {
  if (frames_.size() >= kMaxSyncNesting) {
    return Error(ErrorCode::TooBig, "recipients / attachments nested too deeply");
  }
  frames_.push_back(Frame{kind});
  return ok_status();
}

Status SyncStreamParser::on_frame_event(const FxEvent& e) {
  Frame& f = frames_.back();
  const bool marker = e.kind == FxEvent::Kind::Marker;
  const std::uint32_t tag = e.tag.value;
  switch (f.kind) {
    case Frame::Kind::Recipient:
      if (!marker) return ok_status();
      if (tag != markers::kEndToRecip) return fail(marker_label(tag) + " inside a recipient");
      frames_.pop_back();
      return ok_status();
    case Frame::Kind::Attachment:
      if (!marker) return f.embedded ? fail("property after an embedded message") : ok_status();
      if (tag == markers::kStartEmbed && !f.embedded) {
        f.embedded = true;
        return push_frame(Frame::Kind::Embedded);
      }
      if (tag != markers::kEndAttach) return fail(marker_label(tag) + " inside an attachment");
      frames_.pop_back();
      return ok_status();
    case Frame::Kind::Embedded:
      if (!marker) {
        if (tag == kFXDelProp) return child_step(f.children, kFXDelProp);
        if (f.children != 0) return fail("property after an embedded message's children");
        return ok_status();
      }
      if (tag == markers::kStartRecip || tag == markers::kNewAttach) {
        ICS_TRY(child_step(f.children, tag));
        return push_frame(tag == markers::kStartRecip ? Frame::Kind::Recipient
                                                      : Frame::Kind::Attachment);
      }
      if (tag != markers::kEndEmbed) return fail(marker_label(tag) + " inside an embedded message");
      frames_.pop_back();
      return ok_status();
  }
  return fail("bad frame");
}

// ---- closing elements ----

Status SyncStreamParser::close_element() {
  const Elem e = elem_;
  elem_ = Elem::None;
  Status s;
  switch (e) {
    case Elem::None:
      return ok_status();
    case Elem::ProgressTotal: {
      auto p = parse_progress_total(props_);
      if (!p.ok()) return fail(p.error().what());
      out_.progress = *p;
      break;
    }
    case Elem::PerMsg: {
      auto p = parse_progress_per_message(props_);
      if (!p.ok()) return fail(p.error().what());
      progress_ = *p;
      break;
    }
    case Elem::GroupInfo:
      s = check_group_info(props_);
      break;
    case Elem::PartialHeader:
      ICS_TRY(close_header());
      return close_body();
    case Elem::Body:
      return close_body();
    case Elem::FolderChange: {
      auto f = parse_folder(props_);
      if (!f.ok()) return fail(f.error().what());
      out_.folders.push_back(std::move(f).value());
      break;
    }
    case Elem::Deletions:
      out_.has_deletions = true;
      s = parse_idsets<IdSet>(props_,
                              {{tags::kMetaTagIdsetDeleted, &out_.deleted},
                               {tags::kMetaTagIdsetNoLongerInScope, &out_.no_longer_in_scope},
                               {tags::kMetaTagIdsetExpired, &out_.expired}},
                              decode_replid, "deletions");
      break;
    case Elem::Read:
      out_.has_read_state = true;
      s = parse_idsets<IdSet>(props_,
                              {{tags::kMetaTagIdsetRead, &out_.read},
                               {tags::kMetaTagIdsetUnread, &out_.unread}},
                              decode_replid, "readStateChanges");
      break;
    default:  // ChgHeader and State never close here
      return fail("internal: element closed out of order");
  }
  props_.clear();
  if (!s.ok()) return fail(s.error().what());
  return ok_status();
}

Status SyncStreamParser::close_header() {
  auto h = parse_header(props_, false);
  props_.clear();
  if (!h.ok()) return fail(h.error().what());
  message_.header = std::move(h->header);
  message_.associated = h->associated;
  message_.message_size = h->size;
  return ok_status();
}

Status SyncStreamParser::close_group() {
  for (PropValue& v : props_) {
    if (message_.props.get(v.tag) != nullptr) return fail(label(v.tag) + " twice in one message");
    message_.props.set(std::move(v));
  }
  props_.clear();
  return ok_status();
}

Status SyncStreamParser::close_body() {
  ICS_TRY(close_group());
  out_.messages.push_back(std::move(message_));
  message_ = DownloadedMessage{};
  children_ = 0;
  return ok_status();
}

Status SyncStreamParser::close_state() {
  std::vector<PropTag> seen;
  for (const PropValue& v : props_) {
    auto p = state_property(v.tag, hierarchy_);
    if (!p.ok()) return fail("unexpected " + label(v.tag) + " in the state element");
    if (!once(seen, state_tag(*p)).ok()) return fail(label(v.tag) + " twice in the state");
    const Bytes* b = v.as_bytes();
    if (b == nullptr) return fail(label(v.tag) + " is not a binary");
    auto set = decode_replguid_idset(*b);
    if (!set.ok()) return fail(label(v.tag) + ": " + set.error().to_string());
    out_.state.get(*p) = std::move(set).value();
  }
  props_.clear();
  elem_ = Elem::None;
  state_closed_ = true;
  return ok_status();
}

Result<SyncDownload> parse_sync_stream(ByteView stream, bool hierarchy) {
  ICS_TRY_ASSIGN(std::vector<FxEvent> events, parse_fx(stream));
  SyncStreamParser parser(hierarchy);
  ICS_TRY(parser.push_all(events));
  return parser.finish();
}

}  // namespace ics
