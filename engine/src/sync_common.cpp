#include <algorithm>
#include <variant>

#include "sync_plan.h"

namespace ics {

bool is_meta_property(PropTag tag) {
  static constexpr std::uint16_t kMetaIds[] = {
      0x4008,  // MetaTagDnPrefix
      0x400F,  // MetaTagEcWarning
      0x4011,  // MetaTagNewFXFolder
      0x4016,  // MetaTagFXDelProp
      0x4017,  // MetaTagIdsetGiven
      0x4021,  // MetaTagIdsetNoLongerInScope
      0x402D,  // MetaTagIdsetRead
      0x402E,  // MetaTagIdsetUnread
      0x407A,  // MetaTagIncrementalSyncMessagePartial
      0x407C,  // MetaTagIncrSyncGroupId
      0x6793,  // MetaTagIdsetExpired
      0x6796,  // MetaTagCnsetSeen
      0x67D2,  // MetaTagCnsetRead
      0x67DA,  // MetaTagCnsetSeenFAI
      0x67E5,  // MetaTagIdsetDeleted
  };
  return std::find(std::begin(kMetaIds), std::end(kMetaIds), tag.id()) != std::end(kMetaIds);
}

namespace {

std::size_t data_stream_size(std::uint16_t type, const PropData& data) {
  const std::uint16_t base = type & ~ptyp::kMultipleFlag;
  if (std::holds_alternative<std::uint64_t>(data)) return fixed_size(type);
  if (std::holds_alternative<Guid>(data)) return 16;
  if (const auto* b = std::get_if<Bytes>(&data)) return 4 + b->size();
  if (const auto* v = std::get_if<std::vector<std::uint64_t>>(&data)) {
    return 4 + v->size() * fixed_size(base);
  }
  if (const auto* g = std::get_if<std::vector<Guid>>(&data)) return 4 + g->size() * 16;
  std::size_t n = 4;
  for (const Bytes& b : std::get<std::vector<Bytes>>(data)) n += 4 + b.size();
  return n;
}

std::size_t value_stream_size(const PropValue& v) {
  std::size_t n = 4;  // the tag
  if (v.named) n += 16 + 1 + (v.named->kind == 0 ? 4 : 2 * v.named->name.size() + 2);
  return n + data_stream_size(v.tag.type(), v.data);
}

}  // namespace

std::size_t message_stream_size(const PropertyBag& bag) {
  std::size_t n = 0;
  for (const PropValue& v : bag.values()) n += value_stream_size(v);
  return n;
}

namespace detail {

CnRanges unseen_ranges(const GuidCnset& cnset, const Guid& guid, Globcnt current) {
  CnRanges out;
  if (current == 0) return out;
  Globcnt low = 1;
  auto it = cnset.replicas().find(guid);
  if (it == cnset.replicas().end()) {
    out.emplace_back(low, current);
    return out;
  }
  for (const GlobRange& r : it->second.ranges()) {
    if (r.low > current) break;
    if (r.low > low) out.emplace_back(low, r.low - 1);
    low = std::max(low, r.high + 1);
  }
  if (low <= current) out.emplace_back(low, current);
  return out;
}

GuidCnset with_seen_through(GuidCnset cnset, const Guid& guid, Globcnt current) {
  if (current != 0) (void)cnset.insert(guid, 1, current);
  return cnset;
}

bool contains(const GuidIdSet& set, const Gid& gid) { return set.contains(gid.guid, gid.globcnt); }

void insert(GuidIdSet& set, const Gid& gid) { (void)set.insert(gid.guid, gid.globcnt); }

bool property_synced(const SyncConfig& config, PropTag tag, bool associated) {
  if (is_marker(tag.value) || is_meta_property(tag)) return false;
  if (associated && config.has(sync_flags::kIgnoreSpecifiedOnFAI)) return true;
  const bool listed = std::any_of(config.property_tags.begin(), config.property_tags.end(),
                                  [tag](PropTag t) { return t.id() == tag.id(); });
  return config.has(sync_flags::kOnlySpecifiedProperties) ? listed : !listed;
}

ForeignIds unmapped_given(Store& store, const GuidIdSet& given) {
  ForeignIds out;
  for (const auto& [guid, set] : given.replicas()) {
    if (guid == store.guid() || store.find_replid(guid)) continue;
    out.dropped.insert(guid, set);
    auto replid = store.replid_for(guid);
    if (replid.ok()) out.reported.insert(*replid, set);
  }
  return out;
}

GuidIdSet final_given(const GuidIdSet& given, const GuidIdSet& removed, const GuidIdSet& sent) {
  return unite(difference(given, removed), sent);
}

Status write_deletions(FxWriter& w, const IdSet& deleted, const IdSet& no_longer_in_scope) {
  if (deleted.empty() && no_longer_in_scope.empty()) return ok_status();
  ICS_TRY(w.marker(markers::kIncrSyncDel));
  if (!deleted.empty()) {
    ICS_TRY(w.property(PropValue::binary(tags::kMetaTagIdsetDeleted, encode_idset(deleted))));
  }
  if (!no_longer_in_scope.empty()) {
    ICS_TRY(w.property(
        PropValue::binary(tags::kMetaTagIdsetNoLongerInScope, encode_idset(no_longer_in_scope))));
  }
  return ok_status();
}

Status write_read_state(FxWriter& w, const IdSet& read, const IdSet& unread) {
  if (read.empty() && unread.empty()) return ok_status();
  ICS_TRY(w.marker(markers::kIncrSyncRead));
  if (!read.empty()) {
    ICS_TRY(w.property(PropValue::binary(tags::kMetaTagIdsetRead, encode_idset(read))));
  }
  if (!unread.empty()) {
    ICS_TRY(w.property(PropValue::binary(tags::kMetaTagIdsetUnread, encode_idset(unread))));
  }
  return ok_status();
}

Result<DownloadPlan> build_plan(Store& store, const SyncRequest& request, const IcsState& state) {
  if (request.config.hierarchy()) return build_hierarchy_plan(store, request, state);
  return build_contents_plan(store, request, state);
}

}  // namespace detail
}  // namespace ics
