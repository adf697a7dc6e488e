#include "ics/fxstream.h"

#include <algorithm>
#include <array>
#include <limits>

namespace ics {

namespace {

constexpr std::uint32_t kIdsetGivenInt32 = tags::kMetaTagIdsetGiven.value;
constexpr std::uint32_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();

// Reads a fixed-size scalar of 2, 4 or 8 bytes (the caller checked the size).
bool read_scalar(Reader& f, std::size_t size, std::uint64_t& out) {
  if (size == 2) {
    std::uint16_t v = 0;
    if (!f.read_u16(v)) return false;
    out = v;
    return true;
  }
  if (size == 4) {
    std::uint32_t v = 0;
    if (!f.read_u32(v)) return false;
    out = v;
    return true;
  }
  return f.read_u64(out);
}

void write_scalar(Writer& w, std::size_t size, std::uint64_t v) {
  if (size == 2) {
    w.put_u16(static_cast<std::uint16_t>(v));
  } else if (size == 4) {
    w.put_u32(static_cast<std::uint32_t>(v));
  } else {
    w.put_u64(v);
  }
}

bool fits(std::size_t size, std::uint64_t v) { return size >= 8 || (v >> (8 * size)) == 0; }

}  // namespace

namespace {
// Every marker id is 0x4000..0x407F: a table by (id - 0x4000) holds the whole
// marker tag, so a tag is a marker iff it equals its slot.
constexpr std::uint32_t kFirstMarkerId = 0x4000;
constexpr std::size_t kMarkerSlots = 0x80;
constexpr std::array<std::uint32_t, kMarkerSlots> kMarkerBySlot = [] {
  std::array<std::uint32_t, kMarkerSlots> t{};
  for (std::uint32_t m : markers::kAll) t[(m >> 16) - kFirstMarkerId] = m;
  return t;
}();
}  // namespace

bool is_marker(std::uint32_t tag) {
  std::uint32_t slot = (tag >> 16) - kFirstMarkerId;
  return slot < kMarkerSlots && kMarkerBySlot[slot] == tag;
}

std::string_view marker_name(std::uint32_t tag) {
  switch (tag) {
    case markers::kNewAttach: return "NewAttach";
    case markers::kStartEmbed: return "StartEmbed";
    case markers::kEndEmbed: return "EndEmbed";
    case markers::kStartRecip: return "StartRecip";
    case markers::kEndToRecip: return "EndToRecip";
    case markers::kStartTopFld: return "StartTopFld";
    case markers::kStartSubFld: return "StartSubFld";
    case markers::kEndFolder: return "EndFolder";
    case markers::kStartMessage: return "StartMessage";
    case markers::kEndMessage: return "EndMessage";
    case markers::kEndAttach: return "EndAttach";
    case markers::kStartFAIMsg: return "StartFAIMsg";
    case markers::kIncrSyncChg: return "IncrSyncChg";
    case markers::kIncrSyncDel: return "IncrSyncDel";
    case markers::kIncrSyncEnd: return "IncrSyncEnd";
    case markers::kIncrSyncMessage: return "IncrSyncMessage";
    case markers::kFXErrorInfo: return "FXErrorInfo";
    case markers::kIncrSyncRead: return "IncrSyncRead";
    case markers::kIncrSyncStateBegin: return "IncrSyncStateBegin";
    case markers::kIncrSyncStateEnd: return "IncrSyncStateEnd";
    case markers::kIncrSyncProgressMode: return "IncrSyncProgressMode";
    case markers::kIncrSyncProgressPerMsg: return "IncrSyncProgressPerMsg";
    case markers::kIncrSyncGroupInfo: return "IncrSyncGroupInfo";
    case markers::kIncrSyncChgPartial: return "IncrSyncChgPartial";
    default: return {};
  }
}

FxEvent FxEvent::marker(std::uint32_t tag) {
  FxEvent e;
  e.kind = Kind::Marker;
  e.tag = PropTag(tag);
  return e;
}

FxEvent FxEvent::property(PropValue v) {
  FxEvent e;
  e.kind = Kind::Property;
  e.tag = v.tag;
  e.value = std::move(v);
  return e;
}

// ---------------------------------------------------------------------------
// FxParser: a resumable state machine over fields. Each step needs either a
// fixed number of bytes (taken straight from the chunk when all are there,
// gathered in acc_ otherwise) or, for variable-size values, streams the bytes
// into the value as they arrive. Transitions depend only on field contents, so
// the events and errors do not depend on where the chunks are cut.

FxParser::FxParser(Options options) : options_(options) {}

std::vector<FxEvent> FxParser::take_events() {
  std::vector<FxEvent> out;
  out.swap(events_);
  return out;
}

bool FxParser::at_boundary() const { return step_ == Step::Tag && acc_len_ == 0; }

std::size_t FxParser::held_bytes() const {
  std::size_t n = value_.footprint() - sizeof(PropValue) + bytes_.capacity();
  n += mv_ints_.capacity() * sizeof(std::uint64_t) + mv_guids_.capacity() * sizeof(Guid);
  n += mv_bytes_.capacity() * sizeof(Bytes);
  for (const Bytes& b : mv_bytes_) n += b.capacity();
  return n;
}

void FxParser::reset() {
  events_.clear();
  error_.reset();
  consumed_ = elem_start_ = field_start_ = 0;
  step_ = Step::Tag;
  acc_len_ = 0;
  value_ = PropValue{};
  bytes_.clear();
  mv_ints_.clear();
  mv_guids_.clear();
  mv_bytes_.clear();
}

Status FxParser::fail(ErrorCode code, std::string what, std::size_t offset) {
  error_.emplace(code, std::move(what), offset);
  return *error_;
}

Status FxParser::feed(ByteView chunk) {
  if (error_) return *error_;
  Reader in(chunk);
  while (!in.empty()) {
    if (at_boundary() && whole_element(in)) continue;
    ICS_TRY(step(in));
  }
  return ok_status();
}

inline FxEvent& FxParser::new_property(PropTag tag) {
  FxEvent& e = events_.emplace_back();
  e.kind = FxEvent::Kind::Property;
  e.tag = tag;
  e.value.tag = tag;
  return e;
}

inline bool FxParser::whole_property(Reader& r, PropTag tag) {
  std::uint16_t type = tag.value == kIdsetGivenInt32 ? ptyp::kBinary : tag.type();
  std::size_t size = fixed_size(type);
  if (tag.is_named() || (size == 0 && !is_variable_type(type))) return false;
  if (size != 0) {
    if (4 + size > options_.max_element_size || r.remaining() < size) return false;
    FxEvent& e = new_property(tag);
    if (type == ptyp::kGuid) {
      read_guid(r, e.value.data.emplace<Guid>());
    } else {
      read_scalar(r, size, e.value.data.emplace<std::uint64_t>());
    }
    return true;
  }
  std::uint32_t len = 0;
  ByteView v;
  if (!r.read_u32(len) || 8 + std::uint64_t{len} > options_.max_element_size ||
      !r.read_bytes(len, v)) {
    return false;
  }
  new_property(tag).value.data.emplace<Bytes>(v.begin(), v.end());
  return true;
}

// Fast path: a marker or an unnamed single-valued property that lies whole in
// `in` and within the size limit is parsed in one go, with its value built in
// place in the event queue. Anything else (named, multi-valued, split across
// chunks, malformed, too big) leaves `in` untouched and returns false, and the
// state machine, which alone reports errors, takes the element field by field.
bool FxParser::whole_element(Reader& in) {
  Reader r = in;
  std::uint32_t tag = 0;
  if (!r.read_u32(tag) || options_.max_element_size < 4) return false;
  if (is_marker(tag)) {
    emit_marker(tag);
  } else if (!whole_property(r, PropTag(tag))) {
    return false;
  }
  consumed_ += r.offset() - in.offset();
  elem_start_ = consumed_;
  in = r;
  return true;
}


Status FxParser::finish() {
  if (error_) return *error_;
  if (!at_boundary()) {
    return fail(ErrorCode::FormatError, "stream ends inside an element", elem_start_);
  }
  return ok_status();
}

// Takes an n-byte field (n <= 16): true when complete, with `field` over it.
bool FxParser::take_field(Reader& in, std::size_t n, Reader& field) {
  ByteView v;
  if (acc_len_ == 0 && in.read_bytes(n, v)) {
    consumed_ += n;
    field_start_ = consumed_ - n;
    field = Reader(v);
    return true;
  }
  std::size_t want = std::min(n - acc_len_, in.remaining());
  if (!in.read_bytes(want, v)) return false;
  std::copy(v.begin(), v.end(), acc_ + acc_len_);
  acc_len_ += want;
  consumed_ += want;
  if (acc_len_ < n) return false;
  acc_len_ = 0;
  field_start_ = consumed_ - n;
  field = Reader(ByteView(acc_, n));
  return true;
}

Status FxParser::step(Reader& in) {
  if (step_ == Step::VarBytes || step_ == Step::MvBytes) return on_var_bytes(in);
  std::size_t n = 4;
  switch (step_) {
    case Step::SetGuid: n = 16; break;
    case Step::Kind: n = 1; break;
    case Step::NameUnit: n = 2; break;
    case Step::Fixed:
    case Step::MvFixed: n = fixed_size(base_type_); break;
    default: break;
  }
  Reader f;
  if (!take_field(in, n, f)) return ok_status();
  if (element_bytes() > options_.max_element_size) {
    return fail(ErrorCode::TooBig, "element larger than the maximum element size", field_start_);
  }
  switch (step_) {
    case Step::Tag: return on_tag(f);
    case Step::SetGuid:
      read_guid(f, value_.named->set);
      step_ = Step::Kind;
      return ok_status();
    case Step::Kind: return on_kind(f);
    case Step::Lid:
      f.read_u32(value_.named->lid);
      return start_value();
    case Step::NameUnit: return on_name_unit(f);
    case Step::Fixed: return on_fixed(f);
    case Step::Length: return on_length(f, Step::VarBytes);
    case Step::Count: return on_count(f);
    case Step::MvFixed: return on_mv_fixed(f);
    case Step::MvLength: return on_length(f, Step::MvBytes);
    default: return fail(ErrorCode::GeneralFailure, "parser state", field_start_);
  }
}

void FxParser::emit_marker(std::uint32_t tag) {
  FxEvent& e = events_.emplace_back();
  e.kind = FxEvent::Kind::Marker;
  e.tag = PropTag(tag);
  elem_start_ = consumed_;
}

void FxParser::emit_property() {
  FxEvent& e = events_.emplace_back();
  e.kind = FxEvent::Kind::Property;
  e.tag = value_.tag;
  e.value = std::move(value_);
  step_ = Step::Tag;
  elem_start_ = consumed_;
}

Status FxParser::on_tag(Reader& f) {
  std::uint32_t tag = 0;
  f.read_u32(tag);
  if (is_marker(tag)) {
    emit_marker(tag);
    return ok_status();
  }
  PropTag t(tag);
  if (tag != kIdsetGivenInt32 && !is_stream_type(t.type())) {
    return fail(ErrorCode::FormatError, "unsupported property type " + type_name(t.type()),
                field_start_);
  }
  value_.tag = t;
  value_.named.reset();
  if (!t.is_named()) return start_value();
  value_.named.emplace();
  step_ = Step::SetGuid;
  return ok_status();
}

Status FxParser::on_kind(Reader& f) {
  std::uint8_t kind = 0;
  f.read_u8(kind);
  if (kind > 1) {
    return fail(ErrorCode::FormatError, "named property kind must be 0 (LID) or 1 (name)",
                field_start_);
  }
  value_.named->kind = kind;
  step_ = kind == 0 ? Step::Lid : Step::NameUnit;
  return ok_status();
}

Status FxParser::on_name_unit(Reader& f) {
  std::uint16_t unit = 0;
  f.read_u16(unit);
  if (unit == 0) return start_value();
  value_.named->name.push_back(static_cast<char16_t>(unit));
  return ok_status();
}

Status FxParser::start_value() {
  std::uint16_t type = value_.tag.type();
  if (value_.tag.value == kIdsetGivenInt32) {
    base_type_ = ptyp::kBinary;  // [MS-OXCFXICS] 3.2.5.2.1: handled as PtypBinary
    step_ = Step::Length;
  } else if (is_multi_type(type)) {
    base_type_ = type & ~ptyp::kMultipleFlag;
    step_ = Step::Count;
  } else {
    base_type_ = type;
    step_ = fixed_size(type) != 0 ? Step::Fixed : Step::Length;
  }
  return ok_status();
}

Status FxParser::on_fixed(Reader& f) {
  if (base_type_ == ptyp::kGuid) {
    Guid g;
    read_guid(f, g);
    value_.data = g;
  } else {
    std::uint64_t v = 0;
    read_scalar(f, fixed_size(base_type_), v);
    value_.data = v;
  }
  emit_property();
  return ok_status();
}

Status FxParser::on_length(Reader& f, Step next) {
  std::uint32_t len = 0;
  f.read_u32(len);
  if (element_bytes() + len > options_.max_element_size) {
    return fail(ErrorCode::TooBig, "declared length " + std::to_string(len) +
                                       " exceeds the maximum element size",
                field_start_);
  }
  var_left_ = len;
  step_ = next;
  if (len != 0) return ok_status();
  Reader none;
  return on_var_bytes(none);  // a zero-length value is complete now
}

Status FxParser::on_var_bytes(Reader& in) {
  std::size_t n = std::min<std::size_t>(var_left_, in.remaining());
  ByteView v;
  in.read_bytes(n, v);
  consumed_ += n;
#if defined(ICS_SEEDED_BUG_FX_SPLIT_VALUE)
  // Seeded bug: the rest of a value cut across buffers is put in front of its first part.
  bytes_.insert(bytes_.begin(), v.begin(), v.end());
#else
  bytes_.insert(bytes_.end(), v.begin(), v.end());
#endif
  var_left_ -= static_cast<std::uint32_t>(n);
  if (var_left_ != 0) return ok_status();
  if (step_ == Step::VarBytes) {
    value_.data = std::move(bytes_);
    bytes_.clear();
    emit_property();
    return ok_status();
  }
  mv_bytes_.push_back(std::move(bytes_));
  bytes_.clear();
  return after_mv_item();
}

Status FxParser::on_count(Reader& f) {
  std::uint32_t count = 0;
  f.read_u32(count);
  std::size_t item = fixed_size(base_type_);
  std::uint64_t least = std::uint64_t{count} * (item != 0 ? item : 4);
  if (element_bytes() + least > options_.max_element_size) {
    return fail(ErrorCode::TooBig, "declared count " + std::to_string(count) +
                                       " exceeds the maximum element size",
                field_start_);
  }
  items_left_ = std::uint64_t{count} + 1;  // after_mv_item() counts this one down first
  mv_ints_.clear();
  mv_guids_.clear();
  mv_bytes_.clear();
  return after_mv_item();
}

Status FxParser::on_mv_fixed(Reader& f) {
  if (base_type_ == ptyp::kGuid) {
    read_guid(f, mv_guids_.emplace_back());
  } else {
    read_scalar(f, fixed_size(base_type_), mv_ints_.emplace_back());
  }
  return after_mv_item();
}

Status FxParser::after_mv_item() {
  if (--items_left_ != 0) {
    step_ = fixed_size(base_type_) != 0 ? Step::MvFixed : Step::MvLength;
    return ok_status();
  }
  if (base_type_ == ptyp::kGuid) {
    value_.data = std::move(mv_guids_);
  } else if (fixed_size(base_type_) != 0) {
    value_.data = std::move(mv_ints_);
  } else {
    value_.data = std::move(mv_bytes_);
  }
  mv_ints_.clear();
  mv_guids_.clear();
  mv_bytes_.clear();
  emit_property();
  return ok_status();
}

// ---------------------------------------------------------------------------
// FxWriter

Status FxWriter::marker(std::uint32_t tag) {
  if (!is_marker(tag)) return Error(ErrorCode::InvalidParameter, "not a marker tag");
  w_.put_u32(tag);
  return ok_status();
}

Status FxWriter::event(const FxEvent& e) {
  if (e.kind == FxEvent::Kind::Marker) return marker(e.tag.value);
  if (e.tag != e.value.tag) return Error(ErrorCode::InvalidParameter, "event tag != value tag");
  return property(e.value);
}

namespace {

Status check_named(const PropValue& v) {
  if (v.tag.is_named() != v.named.has_value()) {
    return Error(ErrorCode::InvalidParameter, "named info must be present iff the id is >= 0x8000");
  }
  if (!v.named) return ok_status();
  const NamedProp& n = *v.named;
  bool lid_ok = n.kind == 0 && n.name.empty();
  bool name_ok = n.kind == 1 && n.lid == 0 &&
                 std::find(n.name.begin(), n.name.end(), u'\0') == n.name.end();
  if (!lid_ok && !name_ok) return Error(ErrorCode::InvalidParameter, "malformed named property");
  return ok_status();
}

bool bytes_fit(const Bytes& b) { return b.size() <= kMaxU32; }

// Whether `data` holds the alternative a value of `type` is parsed into.
bool data_matches(std::uint16_t type, const PropData& data) {
  std::uint16_t base = type & ~ptyp::kMultipleFlag;
  std::size_t size = fixed_size(base);
  if (!is_multi_type(type)) {
    if (type == ptyp::kGuid) return std::holds_alternative<Guid>(data);
    if (fixed_size(type) != 0) {
      const auto* v = std::get_if<std::uint64_t>(&data);
      return v != nullptr && fits(fixed_size(type), *v);
    }
    const auto* b = std::get_if<Bytes>(&data);
    return b != nullptr && bytes_fit(*b);
  }
  if (base == ptyp::kGuid) {
    const auto* v = std::get_if<std::vector<Guid>>(&data);
    return v != nullptr && v->size() <= kMaxU32;
  }
  if (size != 0) {
    const auto* v = std::get_if<std::vector<std::uint64_t>>(&data);
    return v != nullptr && v->size() <= kMaxU32 &&
           std::all_of(v->begin(), v->end(), [size](std::uint64_t x) { return fits(size, x); });
  }
  const auto* v = std::get_if<std::vector<Bytes>>(&data);
  return v != nullptr && v->size() <= kMaxU32 && std::all_of(v->begin(), v->end(), bytes_fit);
}

}  // namespace

Status FxWriter::check(const PropValue& v) const {
  if (is_marker(v.tag.value)) return Error(ErrorCode::InvalidParameter, "a marker has no value");
  ICS_TRY(check_named(v));
  std::uint16_t type = v.tag.value == kIdsetGivenInt32 ? ptyp::kBinary : v.tag.type();
  if (!is_stream_type(type)) {
    return Error(ErrorCode::InvalidParameter, "unsupported property type " + type_name(type));
  }
  if (!data_matches(type, v.data)) {
    return Error(ErrorCode::InvalidParameter, "value does not match type " + type_name(type));
  }
  return ok_status();
}

Status FxWriter::property(const PropValue& v) {
  ICS_TRY(check(v));
  w_.put_u32(v.tag.value);
  if (v.named) {
    write_guid(w_, v.named->set);
    w_.put_u8(v.named->kind);
    if (v.named->kind == 0) {
      w_.put_u32(v.named->lid);
    } else {
      for (char16_t c : v.named->name) w_.put_u16(static_cast<std::uint16_t>(c));
      w_.put_u16(0);
    }
  }
  put_value(v.tag.value == kIdsetGivenInt32 ? ptyp::kBinary : v.tag.type(), v.data);
  return ok_status();
}

void FxWriter::put_value(std::uint16_t type, const PropData& data) {
  std::uint16_t base = type & ~ptyp::kMultipleFlag;
  auto put_bytes = [this](const Bytes& b) {
    w_.put_u32(static_cast<std::uint32_t>(b.size()));
    w_.put_bytes(b);
  };
  if (const auto* v = std::get_if<std::uint64_t>(&data)) {
    write_scalar(w_, fixed_size(type), *v);
  } else if (const auto* g = std::get_if<Guid>(&data)) {
    write_guid(w_, *g);
  } else if (const auto* b = std::get_if<Bytes>(&data)) {
    put_bytes(*b);
  } else if (const auto* vi = std::get_if<std::vector<std::uint64_t>>(&data)) {
    w_.put_u32(static_cast<std::uint32_t>(vi->size()));
    for (std::uint64_t x : *vi) write_scalar(w_, fixed_size(base), x);
  } else if (const auto* vg = std::get_if<std::vector<Guid>>(&data)) {
    w_.put_u32(static_cast<std::uint32_t>(vg->size()));
    for (const Guid& x : *vg) write_guid(w_, x);
  } else if (const auto* vb = std::get_if<std::vector<Bytes>>(&data)) {
    w_.put_u32(static_cast<std::uint32_t>(vb->size()));
    for (const Bytes& x : *vb) put_bytes(x);
  }
}

std::vector<Bytes> FxWriter::buffers(std::size_t n) const {
  std::vector<Bytes> out;
  if (n == 0) return out;
  Reader r(w_.bytes());
  while (!r.empty()) {
    ByteView piece;
    r.read_bytes(std::min(n, r.remaining()), piece);
    out.emplace_back(piece.begin(), piece.end());
  }
  return out;
}

Result<std::vector<FxEvent>> parse_fx(ByteView stream, FxParser::Options options) {
  FxParser p(options);
  ICS_TRY(p.feed(stream));
  ICS_TRY(p.finish());
  return p.take_events();
}

Result<Bytes> write_fx(const std::vector<FxEvent>& events) {
  FxWriter w;
  for (const FxEvent& e : events) ICS_TRY(w.event(e));
  return w.take();
}

}  // namespace ics
