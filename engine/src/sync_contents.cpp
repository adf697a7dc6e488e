// contentsSync: what changed in a folder since the client's state, and the
// stream that tells it ([MS-OXCFXICS] 2.2.4.3.x, digest 3.2 and 6.1-6.2).
#include <algorithm>

#include "sync_plan.h"

namespace ics::detail {
namespace {

constexpr MessageKind kKinds[] = {MessageKind::Normal, MessageKind::Associated};
constexpr PropTag kProgressInformationTag{0x00000102};
constexpr PropTag kProgressSizeTag{0x00000003};
constexpr PropTag kProgressFaiTag{0x0000000B};

struct ContentsWork {
  ContentsWork(Store& s, const SyncRequest& r, const IcsState& i) : store(s), req(r), in(i) {}
  Store& store;
  const SyncRequest& req;
  const IcsState& in;
  Globcnt cur = 0;
  std::vector<MessageSnapshot> changes;
  std::vector<bool> partial;  // per change
  GuidIdSet sent;             // source keys of the changes
  GuidIdSet removed;          // taken out of IdsetGiven
  GuidIdSet out_of_scope;     // in IdsetGiven but failing the restriction
  IdSet deleted;
  IdSet no_longer_in_scope;
  IdSet read;
  IdSet unread;
  DownloadStats stats;

  const SyncConfig& config() const { return req.config; }
  bool has(std::uint16_t flag) const { return req.config.has(flag); }
};

bool wanted(const SyncConfig& c, MessageKind k) {
  return c.has(k == MessageKind::Normal ? sync_flags::kNormal : sync_flags::kFAI);
}

MessageKind kind_of(bool associated) {
  return associated ? MessageKind::Associated : MessageKind::Normal;
}

const GuidCnset& seen_for(const IcsState& s, MessageKind k) {
  return k == MessageKind::Normal ? s.seen : s.seen_fai;
}

// PidTagMessageFlags as sent: the bag's value with mfRead from the read state.
PropValue message_flags(const PropertyBag& props, bool read) {
  std::uint64_t flags = 0;
  const PropValue* v = props.get(tags::kMessageFlags);
  if (v != nullptr && v->as_integer() != nullptr) flags = *v->as_integer() & 0xFFFFFFFFu;
  flags = read ? (flags | kMessageFlagRead) : (flags & ~std::uint64_t{kMessageFlagRead});
  return PropValue::integer(tags::kMessageFlags, flags);
}

// What a restriction is evaluated on: the properties and the read flag.
PropertyBag restriction_view(const MessageSnapshot& m) {
  PropertyBag view = m.props;
  view.set(message_flags(m.props, m.read));
  return view;
}

void note_collected(ContentsWork& w, std::size_t messages) {
  ++w.stats.store_calls;
  w.stats.messages_examined += messages;
}

// ---- changes ----

Status collect_unrestricted(ContentsWork& w) {
  for (MessageKind k : kKinds) {
    if (!wanted(w.config(), k)) continue;
    CnRanges unseen = unseen_ranges(seen_for(w.in, k), w.store.guid(), w.cur);
    if (unseen.empty()) continue;
    ICS_TRY_ASSIGN(auto found, w.store.collect_changes(w.req.folder, k, unseen));
    note_collected(w, found.size());
    if (w.changes.empty()) {
      w.changes = std::move(found);
      continue;
    }
    w.changes.reserve(w.changes.size() + found.size());
    for (MessageSnapshot& m : found) w.changes.push_back(std::move(m));
  }
  return ok_status();
}

void classify(ContentsWork& w, MessageSnapshot& m, MessageKind k) {
  const bool in_given = contains(w.in.given, m.source_key);
  if (!w.req.restriction->matches(restriction_view(m))) {
    if (!in_given) return;
    insert(w.out_of_scope, m.source_key);
    if (w.has(sync_flags::kIgnoreNoLongerInScope) || w.has(sync_flags::kNoDeletions)) return;
    (void)w.no_longer_in_scope.insert(m.mid);
    insert(w.removed, m.source_key);
    return;
  }
  if (!in_given || !seen_for(w.in, k).contains(w.store.guid(), m.cn)) {
    w.changes.push_back(std::move(m));
  }
}

// With a restriction: the whole folder, to find what left the scope.
Status collect_restricted(ContentsWork& w) {
  const CnRanges everything = {{1, w.cur}};
  for (MessageKind k : kKinds) {
    if (!wanted(w.config(), k) || w.cur == 0) continue;
    ICS_TRY_ASSIGN(auto found, w.store.collect_changes(w.req.folder, k, everything));
    note_collected(w, found.size());
    for (MessageSnapshot& m : found) classify(w, m, k);
  }
  return ok_status();
}

void order_changes(ContentsWork& w) {
  auto by_cn = [](const MessageSnapshot& a, const MessageSnapshot& b) { return a.cn < b.cn; };
  std::sort(w.changes.begin(), w.changes.end(), by_cn);
  if (!w.config().has_extra(extra_flags::kOrderByDeliveryTime)) return;
  auto delivery = [](const MessageSnapshot& m) -> std::uint64_t {
    const PropValue* v = m.props.get(tags::kMessageDeliveryTime);
    return v != nullptr && v->as_integer() != nullptr ? *v->as_integer() : 0;
  };
  std::stable_sort(w.changes.begin(), w.changes.end(),
                   [&](const MessageSnapshot& a, const MessageSnapshot& b) {
                     if (delivery(a) != delivery(b)) return delivery(a) > delivery(b);
                     return a.last_modified > b.last_modified;
                   });
}

void mark_sent(ContentsWork& w) {
  const bool partial_ok = (w.config().send_options & send_options::kPartialItem) != 0;
  w.partial.reserve(w.changes.size());
  for (const MessageSnapshot& m : w.changes) {
    w.partial.push_back(partial_ok && contains(w.in.given, m.source_key));
    insert(w.sent, m.source_key);
  }
}

// ---- deletions and read state ----

// One walk of the tombstone index over the unseen ranges of the kinds asked
// for; each tombstone is then checked against its own kind's CNSET.
Status collect_deletions(ContentsWork& w) {
  CnRanges ranges;
  for (MessageKind k : kKinds) {
    if (!wanted(w.config(), k)) continue;
    CnRanges unseen = unseen_ranges(seen_for(w.in, k), w.store.guid(), w.cur);
    ranges.insert(ranges.end(), unseen.begin(), unseen.end());
  }
  if (!ranges.empty()) {
    ICS_TRY_ASSIGN(auto tombstones, w.store.collect_tombstones(w.req.folder, ranges));
    ++w.stats.store_calls;
    w.stats.tombstones_examined += tombstones.size();
    for (const MessageTombstone& t : tombstones) {
      const MessageKind k = kind_of(t.associated);
      if (!wanted(w.config(), k) || seen_for(w.in, k).contains(w.store.guid(), t.cn)) continue;
      if (!contains(w.in.given, t.source_key)) continue;
      (void)w.deleted.insert(t.mid);
      insert(w.removed, t.source_key);
    }
  }
  ForeignIds foreign = unmapped_given(w.store, w.in.given);
  w.deleted = unite(w.deleted, foreign.reported);
  w.removed = unite(w.removed, foreign.dropped);
  return ok_status();
}

Status collect_read_state(ContentsWork& w) {
  CnRanges unseen = unseen_ranges(w.in.read, w.store.guid(), w.cur);
  if (unseen.empty()) return ok_status();
  ICS_TRY_ASSIGN(auto changes, w.store.collect_read_changes(w.req.folder, unseen));
  ++w.stats.store_calls;
  w.stats.read_changes_examined += changes.size();
  for (const ReadChange& rc : changes) {
    if (!wanted(w.config(), kind_of(rc.associated))) continue;
    if (!contains(w.in.given, rc.source_key) || contains(w.sent, rc.source_key) ||
        contains(w.out_of_scope, rc.source_key)) {
      continue;
    }
    (void)(rc.read ? w.read : w.unread).insert(rc.mid);
  }
  return ok_status();
}

IcsState final_state(const ContentsWork& w) {
  IcsState s = w.in;
  const Guid& guid = w.store.guid();
  s.given = final_given(w.in.given, w.removed, w.sent);
  if (w.has(sync_flags::kNormal)) s.seen = with_seen_through(std::move(s.seen), guid, w.cur);
  if (w.has(sync_flags::kFAI)) s.seen_fai = with_seen_through(std::move(s.seen_fai), guid, w.cur);
  if (w.has(sync_flags::kReadState)) s.read = with_seen_through(std::move(s.read), guid, w.cur);
  return s;
}

// ---- the stream ----

PropertyBag message_body(const MessageSnapshot& m, const SyncConfig& config) {
  PropertyBag body;
  for (const PropValue& v : m.props.values()) {
    if (v.tag != tags::kMessageFlags && property_synced(config, v.tag, m.associated)) body.set(v);
  }
  body.set(message_flags(m.props, m.read));
  return body;
}

std::uint32_t clamp32(std::size_t v) {
  return static_cast<std::uint32_t>(std::min<std::size_t>(v, 0xFFFFFFFFu));
}

Status write_progress_total(FxWriter& fx, const ContentsWork& w,
                            const std::vector<std::size_t>& sizes) {
  std::uint64_t count[2] = {0, 0}, total[2] = {0, 0};
  for (std::size_t i = 0; i < w.changes.size(); ++i) {
    const int k = w.changes[i].associated ? 1 : 0;
    ++count[k];
    total[k] += sizes[i];
  }
  Writer info;  // ProgressInformation, Version 0x0000
  info.put_u16(0);
  info.put_u16(0);
  info.put_u32(static_cast<std::uint32_t>(count[1]));
  info.put_u64(total[1]);
  info.put_u32(static_cast<std::uint32_t>(count[0]));
  info.put_u32(0);
  info.put_u64(total[0]);
  ICS_TRY(fx.marker(markers::kIncrSyncProgressMode));
  return fx.property(PropValue::binary(kProgressInformationTag, info.take()));
}

Status write_progress_per_message(FxWriter& fx, const MessageSnapshot& m, std::size_t size) {
  ICS_TRY(fx.marker(markers::kIncrSyncProgressPerMsg));
  ICS_TRY(fx.property(PropValue::integer(kProgressSizeTag, clamp32(size))));
  return fx.property(PropValue::integer(kProgressFaiTag, m.associated ? 1 : 0));
}

Status write_header(FxWriter& fx, const MessageSnapshot& m, std::size_t size,
                    const SyncConfig& config) {
  ICS_TRY(fx.property(PropValue::binary(tags::kSourceKey, serialize_gid(m.source_key))));
  ICS_TRY(fx.property(PropValue::integer(tags::kLastModificationTime, m.last_modified)));
  ICS_TRY(fx.property(PropValue::binary(tags::kChangeKey, serialize_xid(m.change_key))));
  ICS_TRY(fx.property(PropValue::binary(tags::kPredecessorChangeList, m.pcl.serialize())));
  ICS_TRY(fx.property(PropValue::integer(tags::kAssociated, m.associated ? 1 : 0)));
  if (config.has_extra(extra_flags::kEid)) {
    ICS_TRY(fx.property(PropValue::integer(tags::kMid, m.mid.to_u64())));
  }
  if (config.has_extra(extra_flags::kMessageSize)) {
    ICS_TRY(fx.property(PropValue::integer(tags::kMessageSize, clamp32(size))));
  }
  if (config.has_extra(extra_flags::kCn)) {
    ICS_TRY(fx.property(PropValue::integer(tags::kChangeNumber, Cn{kLocalReplid, m.cn}.to_u64())));
  }
  return ok_status();
}

Status write_body(FxWriter& fx, const PropertyBag& body) {
  for (const PropValue& v : body.values()) ICS_TRY(fx.property(v));
  return ok_status();
}

Status write_change(FxWriter& fx, const MessageSnapshot& m, bool partial, std::size_t size,
                    const SyncConfig& config) {
  ICS_TRY(fx.marker(partial ? markers::kIncrSyncChgPartial : markers::kIncrSyncChg));
  ICS_TRY(write_header(fx, m, size, config));
  if (partial) {
    // The only property group: group 0, holding every property.
    return fx.property(PropValue::integer(tags::kMetaTagIncrementalSyncMessagePartial, 0));
  }
  return fx.marker(markers::kIncrSyncMessage);
}

Status write_changes(FxWriter& fx, ContentsWork& w, DownloadPlan& plan) {
  const bool progress = w.has(sync_flags::kProgress);
  std::vector<std::size_t> sizes;
  sizes.reserve(w.changes.size());
  for (MessageSnapshot& m : w.changes) {
    m.props = message_body(m, w.config());
    sizes.push_back(message_stream_size(m.props));
  }
  if (progress) ICS_TRY(write_progress_total(fx, w, sizes));
  plan.step_ends.reserve(w.changes.size());
  for (std::size_t i = 0; i < w.changes.size(); ++i) {
    const MessageSnapshot& m = w.changes[i];
    if (progress) ICS_TRY(write_progress_per_message(fx, m, sizes[i]));
    ICS_TRY(write_change(fx, m, w.partial[i], sizes[i], w.config()));
    ICS_TRY(write_body(fx, m.props));
    plan.step_ends.push_back(fx.size());
  }
  return ok_status();
}

Status write_stream(ContentsWork& w, DownloadPlan& plan) {
  FxWriter fx;
  ICS_TRY(write_changes(fx, w, plan));
  if (!w.has(sync_flags::kNoDeletions)) ICS_TRY(write_deletions(fx, w.deleted, w.no_longer_in_scope));
  if (w.has(sync_flags::kReadState)) ICS_TRY(write_read_state(fx, w.read, w.unread));
  ICS_TRY(write_state(fx, plan.final_state, false));
  ICS_TRY(fx.marker(markers::kIncrSyncEnd));
  plan.stream = fx.take();
  return ok_status();
}

void fill_stats(ContentsWork& w, const DownloadPlan& plan) {
  w.stats.changes = w.changes.size();
  w.stats.partial_changes =
      static_cast<std::size_t>(std::count(w.partial.begin(), w.partial.end(), true));
  w.stats.deleted = w.deleted.size();
  w.stats.no_longer_in_scope = w.no_longer_in_scope.size();
  w.stats.read = w.read.size() + w.unread.size();
  w.stats.stream_bytes = plan.stream.size();
  w.stats.current_cn = w.cur;
}

}  // namespace

Result<DownloadPlan> build_contents_plan(Store& store, const SyncRequest& request,
                                         const IcsState& state) {
  ContentsWork w(store, request, state);
  w.cur = store.current_cn();  // the cut: read once, before collecting
  ICS_TRY(request.restriction ? collect_restricted(w) : collect_unrestricted(w));
  order_changes(w);
  mark_sent(w);
  if (!w.has(sync_flags::kNoDeletions)) ICS_TRY(collect_deletions(w));
  if (w.has(sync_flags::kReadState)) ICS_TRY(collect_read_state(w));
  DownloadPlan plan;
  plan.final_state = final_state(w);
  ICS_TRY(write_stream(w, plan));
  fill_stats(w, plan);
  plan.stats = w.stats;
  return plan;
}

}  // namespace ics::detail
