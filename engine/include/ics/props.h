// Property tags, values and bags ([MS-OXCDATA] 2.9, 2.11; [MS-OXCFXICS] 2.2.4.1).
// A PropValue is a plain value: fixed-size scalars as an integer (floating
// values as their IEEE bits, Boolean as 0/1), GUIDs, variable-size values as
// their raw bytes (PtypString is UTF-16LE, with its terminator as sent), and
// multi-valued properties as a vector of those. Named properties (id >= 0x8000)
// carry their (property set, LID or name). PropertyBag is a small sorted map
// from tag to value. All are copyable and thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ics/bytes.h"
#include "ics/ids.h"

namespace ics {

namespace ptyp {
inline constexpr std::uint16_t kInteger16 = 0x0002;
inline constexpr std::uint16_t kInteger32 = 0x0003;
inline constexpr std::uint16_t kFloating32 = 0x0004;
inline constexpr std::uint16_t kFloating64 = 0x0005;
inline constexpr std::uint16_t kCurrency = 0x0006;
inline constexpr std::uint16_t kFloatingTime = 0x0007;
inline constexpr std::uint16_t kErrorCode = 0x000A;
inline constexpr std::uint16_t kBoolean = 0x000B;
inline constexpr std::uint16_t kObject = 0x000D;
inline constexpr std::uint16_t kInteger64 = 0x0014;
inline constexpr std::uint16_t kString8 = 0x001E;
inline constexpr std::uint16_t kString = 0x001F;
inline constexpr std::uint16_t kTime = 0x0040;
inline constexpr std::uint16_t kGuid = 0x0048;
inline constexpr std::uint16_t kServerId = 0x00FB;
inline constexpr std::uint16_t kBinary = 0x0102;
inline constexpr std::uint16_t kMultipleFlag = 0x1000;
// Code-page strings: 0x8000 | codepage ([MS-OXCFXICS] 2.2.4.1.1.1).
inline constexpr std::uint16_t kCodePageFlag = 0x8000;
inline constexpr std::uint16_t kCodePageUnicode = 0x8000 | 1200;
}  // namespace ptyp

// Size in bytes of a fixed-size type's value in a FastTransfer stream, or 0
// when the type is not fixed-size (Boolean is 2 bytes there).
constexpr std::size_t fixed_size(std::uint16_t type) {
  switch (type) {
    case ptyp::kInteger16:
    case ptyp::kBoolean:
      return 2;
    case ptyp::kInteger32:
    case ptyp::kFloating32:
    case ptyp::kErrorCode:
      return 4;
    case ptyp::kFloating64:
    case ptyp::kCurrency:
    case ptyp::kFloatingTime:
    case ptyp::kInteger64:
    case ptyp::kTime:
      return 8;
    case ptyp::kGuid:
      return 16;
    default:
      return 0;
  }
}
// PtypString, PtypString8, PtypBinary, PtypServerId, PtypObject, code-page strings.
constexpr bool is_variable_type(std::uint16_t type) {
  switch (type) {
    case ptyp::kString:
    case ptyp::kString8:
    case ptyp::kBinary:
    case ptyp::kServerId:
    case ptyp::kObject:
      return true;
    default:
      return (type & ptyp::kCodePageFlag) != 0;
  }
}
// 0x1000 | a fixed or variable base type.
constexpr bool is_multi_type(std::uint16_t type) {
  if ((type & ptyp::kCodePageFlag) != 0 || (type & ptyp::kMultipleFlag) == 0) return false;
  auto base = static_cast<std::uint16_t>(type & ~ptyp::kMultipleFlag);
  return fixed_size(base) != 0 || is_variable_type(base);
}
// Whether a FastTransfer stream can carry a value of this type ([MS-OXCFXICS]
// 2.2.4.1.1): a fixed-size, variable-size or multi-valued type.
constexpr bool is_stream_type(std::uint16_t type) {
  return fixed_size(type) != 0 || is_variable_type(type) || is_multi_type(type);
}
// "Integer32", "Binary", "MultipleString", "String8(cp1252)", "String(cp1200)";
// "0x....(unknown)" for other values.
std::string type_name(std::uint16_t type);

struct PropTag {
  std::uint32_t value = 0;

  constexpr PropTag() = default;
  constexpr explicit PropTag(std::uint32_t v) : value(v) {}
  constexpr PropTag(std::uint16_t id, std::uint16_t type)
      : value(std::uint32_t{id} << 16 | type) {}
  constexpr std::uint16_t type() const { return static_cast<std::uint16_t>(value); }
  constexpr std::uint16_t id() const { return static_cast<std::uint16_t>(value >> 16); }
  constexpr bool is_named() const { return id() >= 0x8000; }
  constexpr auto operator<=>(const PropTag&) const = default;
};

// Named property identity: property set GUID and a LID (kind 0) or a name (kind 1).
struct NamedProp {
  Guid set;
  std::uint8_t kind = 0;
  std::uint32_t lid = 0;
  std::u16string name;
  bool operator==(const NamedProp&) const = default;
};

using PropData = std::variant<std::uint64_t, Guid, Bytes, std::vector<std::uint64_t>,
                              std::vector<Guid>, std::vector<Bytes>>;

struct PropValue {
  PropTag tag;
  std::optional<NamedProp> named;
  PropData data;

  bool operator==(const PropValue&) const = default;

  static PropValue integer(PropTag tag, std::uint64_t v) { return {tag, std::nullopt, v}; }
  static PropValue binary(PropTag tag, Bytes b) { return {tag, std::nullopt, std::move(b)}; }
  // A PtypString value from ASCII/UTF-8 text (stored as UTF-16LE with terminator).
  static PropValue unicode(PropTag tag, std::string_view ascii);

  // Accessors return nullptr when the value holds another alternative.
  const std::uint64_t* as_integer() const { return std::get_if<std::uint64_t>(&data); }
  const Bytes* as_bytes() const { return std::get_if<Bytes>(&data); }
  const Guid* as_guid() const { return std::get_if<Guid>(&data); }
  // Approximate heap + inline footprint, for memory accounting.
  std::size_t footprint() const;
};

// A small map from tag to value, kept sorted by tag; one value per tag.
class PropertyBag {
 public:
  void set(PropValue v);
  const PropValue* get(PropTag tag) const;
  bool erase(PropTag tag);
  std::size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }
  const std::vector<PropValue>& values() const { return values_; }
  std::size_t footprint() const;
  bool operator==(const PropertyBag&) const = default;

 private:
  std::vector<PropValue> values_;
};

// Well-known tags used by ICS ([MS-OXCFXICS] 2.2.1, [MS-OXCPROPS]).
namespace tags {
inline constexpr PropTag kSourceKey{0x65E00102};
inline constexpr PropTag kParentSourceKey{0x65E10102};
inline constexpr PropTag kChangeKey{0x65E20102};
inline constexpr PropTag kPredecessorChangeList{0x65E30102};
inline constexpr PropTag kLastModificationTime{0x30080040};
inline constexpr PropTag kCreationTime{0x30070040};
inline constexpr PropTag kAssociated{0x67AA000B};
inline constexpr PropTag kMid{0x674A0014};
inline constexpr PropTag kFolderId{0x67480014};
inline constexpr PropTag kParentFolderId{0x67490014};
inline constexpr PropTag kMessageSize{0x0E080003};
inline constexpr PropTag kChangeNumber{0x67A40014};
inline constexpr PropTag kDisplayName{0x3001001F};
inline constexpr PropTag kSubject{0x0037001F};
inline constexpr PropTag kBody{0x1000001F};
inline constexpr PropTag kMessageFlags{0x0E070003};
inline constexpr PropTag kMessageStatus{0x0E170003};
inline constexpr PropTag kImportance{0x00170003};
inline constexpr PropTag kMessageDeliveryTime{0x0E060040};
inline constexpr PropTag kInConflict{0x666C000B};
inline constexpr PropTag kResolveMethod{0x3FE70003};
inline constexpr PropTag kRead{0x0E690003};
inline constexpr PropTag kAttachNumber{0x0E210003};
// Meta-properties: ICS state (REPLGUID-based IDSETs).
inline constexpr PropTag kMetaTagIdsetGiven{0x40170003};  // binary value despite Int32 type
inline constexpr PropTag kMetaTagIdsetGivenBinary{0x40170102};
inline constexpr PropTag kMetaTagCnsetSeen{0x67960102};
inline constexpr PropTag kMetaTagCnsetSeenFAI{0x67DA0102};
inline constexpr PropTag kMetaTagCnsetRead{0x67D20102};
// Meta-properties: deletions and read state (REPLID-based IDSETs).
inline constexpr PropTag kMetaTagIdsetDeleted{0x67E50102};
inline constexpr PropTag kMetaTagIdsetNoLongerInScope{0x40210102};
inline constexpr PropTag kMetaTagIdsetExpired{0x67930102};
inline constexpr PropTag kMetaTagIdsetRead{0x402D0102};
inline constexpr PropTag kMetaTagIdsetUnread{0x402E0102};
// Other meta-properties.
inline constexpr PropTag kMetaTagDnPrefix{0x4008001E};
inline constexpr PropTag kMetaTagEcWarning{0x400F0003};
inline constexpr PropTag kMetaTagNewFXFolder{0x40110102};
inline constexpr PropTag kMetaTagFXDelProp{0x40160003};
inline constexpr PropTag kMetaTagIncrementalSyncMessagePartial{0x407A0003};
inline constexpr PropTag kMetaTagIncrSyncGroupId{0x407C0003};
}  // namespace tags

// The [MS-OXCPROPS] / [MS-OXCFXICS] name of a well-known tag ("PidTagSourceKey",
// "MetaTagCnsetSeen"), matched on the whole tag first and then on the property
// id alone (so a PtypString8 PidTagSubject is still named); empty if unknown.
// Named-property ids (>= 0x8000) are never named: they are stream placeholders.
std::string_view tag_name(PropTag tag);

}  // namespace ics
