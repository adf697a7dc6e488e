// FastTransfer stream lexer and producer ([MS-OXCFXICS] 2.2.4.1, lexical level).
//
// A FastTransfer stream is a sequence of elements: a marker (a bare 4-byte tag
// from the table of 2.2.4.1.4, no value) or a property value (tag, named-property
// info when the id is >= 0x8000, then the value). FxParser turns bytes into
// FxEvents; FxWriter turns events back into bytes. Syntax (which element may
// follow which) is not checked here.
//
// FxParser is push-based: feed() it the stream in chunks of any size, in order;
// every complete element becomes an FxEvent appended to events(). The events,
// and the error with its absolute stream offset if any, are the same for every
// way of cutting the same bytes into chunks. The parser holds only the element
// in progress (at most Options::max_element_size bytes of it, plus the
// container overhead of the value being built) and the events not yet taken.
// It copies what it keeps; chunks are borrowed only for the duration of feed().
//
// Value representation (see props.h): fixed-size values as an integer (Boolean
// as read: 0, 1 or any other 16-bit value, kept as is so it round-trips),
// PtypGuid as a Guid, variable-size values as their raw bytes. Strings
// (PtypString, PtypString8, code-page strings) are kept exactly as sent,
// terminator included; a string that lacks its terminator (or a PtypString of
// odd length) is ACCEPTED as is and round-trips unchanged: [MS-OXCFXICS]
// 2.2.4.1.3 only asks readers to check the terminator before truncating it, and
// this lexer never truncates. MetaTagIdsetGiven 0x40170003 is read as a binary
// (u32 length + bytes) despite its PtypInteger32 type bits, and keeps its tag.
//
// Neither class is thread-safe; distinct instances share nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "ics/props.h"

namespace ics {

// Markers of [MS-OXCFXICS] 2.2.4.1.4 (digest 2.4).
namespace markers {
inline constexpr std::uint32_t kNewAttach = 0x40000003;
inline constexpr std::uint32_t kStartEmbed = 0x40010003;
inline constexpr std::uint32_t kEndEmbed = 0x40020003;
inline constexpr std::uint32_t kStartRecip = 0x40030003;
inline constexpr std::uint32_t kEndToRecip = 0x40040003;
inline constexpr std::uint32_t kStartTopFld = 0x40090003;
inline constexpr std::uint32_t kStartSubFld = 0x400A0003;
inline constexpr std::uint32_t kEndFolder = 0x400B0003;
inline constexpr std::uint32_t kStartMessage = 0x400C0003;
inline constexpr std::uint32_t kEndMessage = 0x400D0003;
inline constexpr std::uint32_t kEndAttach = 0x400E0003;
inline constexpr std::uint32_t kStartFAIMsg = 0x40100003;
inline constexpr std::uint32_t kIncrSyncChg = 0x40120003;
inline constexpr std::uint32_t kIncrSyncDel = 0x40130003;
inline constexpr std::uint32_t kIncrSyncEnd = 0x40140003;
inline constexpr std::uint32_t kIncrSyncMessage = 0x40150003;
inline constexpr std::uint32_t kFXErrorInfo = 0x40180003;
inline constexpr std::uint32_t kIncrSyncRead = 0x402F0003;
inline constexpr std::uint32_t kIncrSyncStateBegin = 0x403A0003;
inline constexpr std::uint32_t kIncrSyncStateEnd = 0x403B0003;
// These three have non-PtypInteger32 type bits and are still bare markers.
inline constexpr std::uint32_t kIncrSyncProgressMode = 0x4074000B;
inline constexpr std::uint32_t kIncrSyncProgressPerMsg = 0x4075000B;
inline constexpr std::uint32_t kIncrSyncGroupInfo = 0x407B0102;
inline constexpr std::uint32_t kIncrSyncChgPartial = 0x407D0003;

// Every marker above, in ascending tag order.
inline constexpr std::uint32_t kAll[] = {
    kNewAttach,        kStartEmbed,         kEndEmbed,           kStartRecip,
    kEndToRecip,       kStartTopFld,        kStartSubFld,        kEndFolder,
    kStartMessage,     kEndMessage,         kEndAttach,          kStartFAIMsg,
    kIncrSyncChg,      kIncrSyncDel,        kIncrSyncEnd,        kIncrSyncMessage,
    kFXErrorInfo,      kIncrSyncRead,       kIncrSyncStateBegin, kIncrSyncStateEnd,
    kIncrSyncProgressMode, kIncrSyncProgressPerMsg, kIncrSyncGroupInfo, kIncrSyncChgPartial,
};
}  // namespace markers

// Whether the whole 32-bit tag is a marker (type bits are not looked at alone).
bool is_marker(std::uint32_t tag);
// "IncrSyncChg", ...; empty if tag is not a marker.
std::string_view marker_name(std::uint32_t tag);

// One lexical element. For a marker, `value` is a default PropValue.
struct FxEvent {
  enum class Kind { Marker, Property };
  Kind kind = Kind::Marker;
  PropTag tag;
  PropValue value;

  bool operator==(const FxEvent&) const = default;
  static FxEvent marker(std::uint32_t tag);
  static FxEvent property(PropValue v);
};

class FxParser {
 public:
  struct Options {
    // Largest element accepted, in stream bytes (tag, named info, lengths and
    // value); a larger declared length, count or name is TooBig.
    std::size_t max_element_size = std::size_t{16} << 20;
  };

  FxParser() : FxParser(Options{}) {}
  explicit FxParser(Options options);

  // Parses as much of `chunk` as possible; may be called with an empty chunk.
  // On an error (FormatError for malformed input, TooBig over the limit; the
  // offset is absolute in the stream) the parser stays failed: every later
  // feed() and finish() returns the same error, and no event is added.
  Status feed(ByteView chunk);
  // Checks that the stream ended on an element boundary (FormatError at the
  // start of the incomplete element otherwise; the parser then stays failed).
  // An empty stream is accepted: whether a stream may be empty is a syntax
  // question. May be called more than once; feeding may continue after it.
  Status finish();

  // Complete events not yet taken, in stream order. The caller may clear() the
  // vector to consume events while keeping its capacity.
  std::vector<FxEvent>& events() { return events_; }
  std::vector<FxEvent> take_events();

  // Bytes consumed so far (the absolute offset of the next byte to feed).
  std::size_t offset() const { return consumed_; }
  // Whether the stream so far ends on an element boundary.
  bool at_boundary() const;
  // Heap bytes held for the element in progress (not counting events): grows
  // with the bytes received, never with a declared length or count.
  std::size_t held_bytes() const;
  // Forgets the stream, any error and pending events; keeps the options.
  void reset();

 private:
  enum class Step : std::uint8_t {
    Tag, SetGuid, Kind, Lid, NameUnit, Fixed, Length, VarBytes, Count, MvFixed,
    MvLength, MvBytes,
  };

  bool whole_element(Reader& in);
  bool whole_property(Reader& r, PropTag tag);
  FxEvent& new_property(PropTag tag);
  Status step(Reader& in);
  bool take_field(Reader& in, std::size_t n, Reader& field);
  Status on_tag(Reader& f);
  Status on_kind(Reader& f);
  Status on_name_unit(Reader& f);
  Status start_value();
  Status on_fixed(Reader& f);
  Status on_length(Reader& f, Step next);
  Status on_count(Reader& f);
  Status on_var_bytes(Reader& in);
  Status on_mv_fixed(Reader& f);
  Status after_mv_item();
  std::uint64_t element_bytes() const { return consumed_ - elem_start_; }
  Status fail(ErrorCode code, std::string what, std::size_t offset);
  void emit_marker(std::uint32_t tag);
  void emit_property();

  Options options_;
  std::vector<FxEvent> events_;
  std::optional<Error> error_;
  std::size_t consumed_ = 0;    // absolute offset of the next unread byte
  std::size_t elem_start_ = 0;  // absolute offset of the element in progress
  std::size_t field_start_ = 0; // absolute offset of the field in progress
  Step step_ = Step::Tag;
  // A fixed-size field split across chunks (<= 16 bytes).
  std::uint8_t acc_[16] = {};
  std::size_t acc_len_ = 0;
  // The element in progress.
  PropValue value_;
  std::uint16_t base_type_ = 0;     // value type without the multi flag
  std::uint32_t var_left_ = 0;      // bytes still to read of a var value
  std::uint64_t items_left_ = 0;    // items still to read of a multi value (+1)
  Bytes bytes_;                     // var value (or multi item) in progress
  std::vector<std::uint64_t> mv_ints_;
  std::vector<Guid> mv_guids_;
  std::vector<Bytes> mv_bytes_;
};

// FxWriter builds a stream in memory. Every call either appends one whole
// element or, on a value it could not write so that FxParser reads it back
// unchanged, returns InvalidParameter and appends nothing.
class FxWriter {
 public:
  // InvalidParameter if `tag` is not a marker.
  Status marker(std::uint32_t tag);
  // Writes the tag, the named-property info (required exactly when the id is
  // >= 0x8000; a name must not contain U+0000), then the value, whose
  // alternative must match the tag's type (MetaTagIdsetGiven 0x40170003: Bytes,
  // written as a binary). Fixed values must fit their wire size.
  Status property(const PropValue& value);
  Status event(const FxEvent& e);

  const Bytes& bytes() const { return w_.bytes(); }
  Bytes take() { return w_.take(); }
  std::size_t size() const { return w_.size(); }
  // The stream cut into consecutive buffers of n bytes (the last one shorter),
  // anywhere, even inside a value; empty for an empty stream or n == 0.
  std::vector<Bytes> buffers(std::size_t n) const;

 private:
  Status check(const PropValue& value) const;
  void put_value(std::uint16_t type, const PropData& data);
  Writer w_;
};

// Conveniences: a whole stream in one call.
Result<std::vector<FxEvent>> parse_fx(ByteView stream,
                                      FxParser::Options options = FxParser::Options{});
Result<Bytes> write_fx(const std::vector<FxEvent>& events);

// One human-readable line for an event: a marker's name, or the tag in hex,
// its well-known name, its type and a summary of the value (integers in decimal
// and hex, printable strings decoded, binaries as hex with their length; long
// values truncated).
std::string describe(const FxEvent& e);

}  // namespace ics
