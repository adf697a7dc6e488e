#include "ics/props.h"

#include <algorithm>

namespace ics {

namespace {
std::string_view base_type_name(std::uint16_t type) {
  switch (type) {
    case ptyp::kInteger16: return "Integer16";
    case ptyp::kInteger32: return "Integer32";
    case ptyp::kFloating32: return "Floating32";
    case ptyp::kFloating64: return "Floating64";
    case ptyp::kCurrency: return "Currency";
    case ptyp::kFloatingTime: return "FloatingTime";
    case ptyp::kErrorCode: return "ErrorCode";
    case ptyp::kBoolean: return "Boolean";
    case ptyp::kObject: return "Object";
    case ptyp::kInteger64: return "Integer64";
    case ptyp::kString8: return "String8";
    case ptyp::kString: return "String";
    case ptyp::kTime: return "Time";
    case ptyp::kGuid: return "Guid";
    case ptyp::kServerId: return "ServerId";
    case ptyp::kBinary: return "Binary";
    default: return {};
  }
}
}  // namespace

std::string type_name(std::uint16_t type) {
  if ((type & ptyp::kCodePageFlag) != 0) {
    unsigned cp = type & 0x7FFFu;
    return std::string(cp == 1200 ? "String" : "String8") + "(cp" + std::to_string(cp) + ")";
  }
  std::string_view base = base_type_name(type & ~ptyp::kMultipleFlag);
  if (!base.empty() && (type & ptyp::kMultipleFlag) == 0) return std::string(base);
  if (!base.empty() && is_multi_type(type)) return "Multiple" + std::string(base);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 12; shift >= 0; shift -= 4) s.push_back(kDigits[(type >> shift) & 0xF]);
  return s + "(unknown)";
}

namespace {
struct TagName {
  std::uint32_t tag;
  std::string_view name;
};
constexpr TagName kTagNames[] = {
    {tags::kSourceKey.value, "PidTagSourceKey"},
    {tags::kParentSourceKey.value, "PidTagParentSourceKey"},
    {tags::kChangeKey.value, "PidTagChangeKey"},
    {tags::kPredecessorChangeList.value, "PidTagPredecessorChangeList"},
    {tags::kLastModificationTime.value, "PidTagLastModificationTime"},
    {tags::kCreationTime.value, "PidTagCreationTime"},
    {tags::kAssociated.value, "PidTagAssociated"},
    {tags::kMid.value, "PidTagMid"},
    {tags::kFolderId.value, "PidTagFolderId"},
    {tags::kParentFolderId.value, "PidTagParentFolderId"},
    {tags::kMessageSize.value, "PidTagMessageSize"},
    {tags::kChangeNumber.value, "PidTagChangeNumber"},
    {tags::kDisplayName.value, "PidTagDisplayName"},
    {tags::kSubject.value, "PidTagSubject"},
    {tags::kBody.value, "PidTagBody"},
    {tags::kMessageFlags.value, "PidTagMessageFlags"},
    {tags::kMessageStatus.value, "PidTagMessageStatus"},
    {tags::kImportance.value, "PidTagImportance"},
    {tags::kMessageDeliveryTime.value, "PidTagMessageDeliveryTime"},
    {tags::kInConflict.value, "PidTagInConflict"},
    {tags::kResolveMethod.value, "PidTagResolveMethod"},
    {tags::kRead.value, "PidTagRead"},
    {tags::kAttachNumber.value, "PidTagAttachNumber"},
    {tags::kMetaTagIdsetGiven.value, "MetaTagIdsetGiven"},
    {tags::kMetaTagIdsetGivenBinary.value, "MetaTagIdsetGiven"},
    {tags::kMetaTagCnsetSeen.value, "MetaTagCnsetSeen"},
    {tags::kMetaTagCnsetSeenFAI.value, "MetaTagCnsetSeenFAI"},
    {tags::kMetaTagCnsetRead.value, "MetaTagCnsetRead"},
    {tags::kMetaTagIdsetDeleted.value, "MetaTagIdsetDeleted"},
    {tags::kMetaTagIdsetNoLongerInScope.value, "MetaTagIdsetNoLongerInScope"},
    {tags::kMetaTagIdsetExpired.value, "MetaTagIdsetExpired"},
    {tags::kMetaTagIdsetRead.value, "MetaTagIdsetRead"},
    {tags::kMetaTagIdsetUnread.value, "MetaTagIdsetUnread"},
    {tags::kMetaTagDnPrefix.value, "MetaTagDnPrefix"},
    {tags::kMetaTagEcWarning.value, "MetaTagEcWarning"},
    {tags::kMetaTagNewFXFolder.value, "MetaTagNewFXFolder"},
    {tags::kMetaTagFXDelProp.value, "MetaTagFXDelProp"},
    {tags::kMetaTagIncrementalSyncMessagePartial.value, "MetaTagIncrementalSyncMessagePartial"},
    {tags::kMetaTagIncrSyncGroupId.value, "MetaTagIncrSyncGroupId"},
};
}  // namespace

std::string_view tag_name(PropTag tag) {
  if (tag.is_named()) return {};
  for (const auto& t : kTagNames) {
    if (t.tag == tag.value) return t.name;
  }
  for (const auto& t : kTagNames) {
    if (PropTag(t.tag).id() == tag.id()) return t.name;
  }
  return {};
}

PropValue PropValue::unicode(PropTag tag, std::string_view ascii) {
  Bytes b;
  b.reserve(ascii.size() * 2 + 2);
  for (char c : ascii) {
    b.push_back(static_cast<std::uint8_t>(c));
    b.push_back(0);
  }
  b.push_back(0);
  b.push_back(0);
  return {tag, std::nullopt, std::move(b)};
}

std::size_t PropValue::footprint() const {
  std::size_t n = sizeof(PropValue);
  if (named) n += named->name.size() * 2;
  std::visit(
      [&n](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, Bytes>) {
          n += d.capacity();
        } else if constexpr (std::is_same_v<T, std::vector<Bytes>>) {
          for (const auto& e : d) n += sizeof(Bytes) + e.capacity();
        } else if constexpr (std::is_same_v<T, std::vector<std::uint64_t>> ||
                             std::is_same_v<T, std::vector<Guid>>) {
          n += d.capacity() * sizeof(typename T::value_type);
        }
      },
      data);
  return n;
}

namespace {
auto find_tag(const std::vector<PropValue>& v, PropTag tag) {
  return std::lower_bound(v.begin(), v.end(), tag,
                          [](const PropValue& p, PropTag t) { return p.tag < t; });
}
}  // namespace

void PropertyBag::set(PropValue v) {
  auto it = find_tag(values_, v.tag);
  if (it != values_.end() && it->tag == v.tag) {
    values_[it - values_.begin()] = std::move(v);
  } else {
    values_.insert(values_.begin() + (it - values_.begin()), std::move(v));
  }
}

const PropValue* PropertyBag::get(PropTag tag) const {
  auto it = find_tag(values_, tag);
  return (it != values_.end() && it->tag == tag) ? &*it : nullptr;
}

bool PropertyBag::erase(PropTag tag) {
  auto it = find_tag(values_, tag);
  if (it == values_.end() || it->tag != tag) return false;
  values_.erase(values_.begin() + (it - values_.begin()));
  return true;
}

std::size_t PropertyBag::footprint() const {
  std::size_t n = sizeof(PropertyBag) + (values_.capacity() - values_.size()) * sizeof(PropValue);
  for (const auto& v : values_) n += v.footprint();
  return n;
}

}  // namespace ics
