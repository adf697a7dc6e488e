// hierarchySync: the folders below the sync folder that changed since the
// client's state, and the stream that tells it ([MS-OXCFXICS] 2.2.4.3.x,
// digest 3.2 and 6.2).
#include "sync_plan.h"

namespace ics::detail {
namespace {

struct HierarchyWork {
  HierarchyWork(Store& s, const SyncRequest& r, const IcsState& i) : store(s), req(r), in(i) {}
  Store& store;
  const SyncRequest& req;
  const IcsState& in;
  Globcnt cur = 0;
  CnRanges unseen;
  std::vector<FolderSnapshot> changes;  // parents before children
  GuidIdSet sent;
  GuidIdSet removed;
  IdSet deleted;
  DownloadStats stats;

  const SyncConfig& config() const { return req.config; }
};

void report_deleted(HierarchyWork& w, const Fid& fid, const Gid& source_key) {
  if (!contains(w.in.given, source_key)) return;
  (void)w.deleted.insert(fid);
  insert(w.removed, source_key);
}

Status collect_changes(HierarchyWork& w) {
  if (w.unseen.empty()) return ok_status();
  ICS_TRY_ASSIGN(w.changes, w.store.collect_folder_changes(w.req.folder, w.unseen));
  ++w.stats.store_calls;
  w.stats.folders_examined += w.changes.size();
  for (const FolderSnapshot& f : w.changes) insert(w.sent, f.source_key);
  return ok_status();
}

// A folder of the client's IdsetGiven that changed but is no longer below the
// sync folder moved out of it: it and its subtree are reported deleted.
Status collect_moved_out(HierarchyWork& w) {
  if (w.req.folder == w.store.root() || w.unseen.empty()) return ok_status();
  ICS_TRY_ASSIGN(auto everywhere, w.store.collect_folder_changes(w.store.root(), w.unseen));
  ++w.stats.store_calls;
  w.stats.folders_examined += everywhere.size();
  for (const FolderSnapshot& f : everywhere) {
    if (f.fid == w.req.folder || contains(w.sent, f.source_key)) continue;
    if (!contains(w.in.given, f.source_key)) continue;
    report_deleted(w, f.fid, f.source_key);
    ICS_TRY_ASSIGN(auto subtree, w.store.folder_tree(f.fid));
    ++w.stats.store_calls;
    w.stats.folders_examined += subtree.size();
    for (const FolderSnapshot& d : subtree) report_deleted(w, d.fid, d.source_key);
  }
  return ok_status();
}

Status collect_deletions(HierarchyWork& w) {
  if (!w.unseen.empty()) {
    ICS_TRY_ASSIGN(auto tombstones, w.store.collect_folder_tombstones(w.req.folder, w.unseen));
    ++w.stats.store_calls;
    w.stats.tombstones_examined += tombstones.size();
    for (const FolderTombstone& t : tombstones) report_deleted(w, t.fid, t.source_key);
  }
  ICS_TRY(collect_moved_out(w));
  ForeignIds foreign = unmapped_given(w.store, w.in.given);
  w.deleted = unite(w.deleted, foreign.reported);
  w.removed = unite(w.removed, foreign.dropped);
  return ok_status();
}

IcsState final_state(const HierarchyWork& w) {
  IcsState s = w.in;
  s.given = final_given(w.in.given, w.removed, w.sent);
  s.seen = with_seen_through(std::move(s.seen), w.store.guid(), w.cur);
  return s;
}

Status write_folder_header(FxWriter& fx, const FolderSnapshot& f, const HierarchyWork& w) {
  Bytes parent_key;  // zero-length for children of the sync folder
  if (f.parent != w.req.folder && f.parent_source_key) parent_key = serialize_gid(*f.parent_source_key);
  ICS_TRY(fx.property(PropValue::binary(tags::kParentSourceKey, std::move(parent_key))));
  ICS_TRY(fx.property(PropValue::binary(tags::kSourceKey, serialize_gid(f.source_key))));
  ICS_TRY(fx.property(PropValue::integer(tags::kLastModificationTime, f.last_modified)));
  ICS_TRY(fx.property(PropValue::binary(tags::kChangeKey, serialize_xid(f.change_key))));
  ICS_TRY(fx.property(PropValue::binary(tags::kPredecessorChangeList, f.pcl.serialize())));
  if (const PropValue* name = f.props.get(tags::kDisplayName)) ICS_TRY(fx.property(*name));
  if (w.config().has_extra(extra_flags::kEid)) {
    ICS_TRY(fx.property(PropValue::integer(tags::kFolderId, f.fid.to_u64())));
  }
  ICS_TRY(fx.property(PropValue::integer(tags::kParentFolderId, f.parent.to_u64())));
  if (w.config().has_extra(extra_flags::kCn)) {
    ICS_TRY(fx.property(PropValue::integer(tags::kChangeNumber, Cn{kLocalReplid, f.cn}.to_u64())));
  }
  return ok_status();
}

Status write_folder_change(FxWriter& fx, const FolderSnapshot& f, const HierarchyWork& w) {
  ICS_TRY(fx.marker(markers::kIncrSyncChg));
  ICS_TRY(write_folder_header(fx, f, w));
  for (const PropValue& v : f.props.values()) {
    if (v.tag != tags::kDisplayName && property_synced(w.config(), v.tag, false)) {
      ICS_TRY(fx.property(v));
    }
  }
  return ok_status();
}

Status write_stream(const HierarchyWork& w, DownloadPlan& plan) {
  FxWriter fx;
  plan.step_ends.reserve(w.changes.size());
  for (const FolderSnapshot& f : w.changes) {
    ICS_TRY(write_folder_change(fx, f, w));
    plan.step_ends.push_back(fx.size());
  }
  if (!w.config().has(sync_flags::kNoDeletions)) ICS_TRY(write_deletions(fx, w.deleted, IdSet{}));
  ICS_TRY(write_state(fx, plan.final_state, true));
  ICS_TRY(fx.marker(markers::kIncrSyncEnd));
  plan.stream = fx.take();
  return ok_status();
}

}  // namespace

Result<DownloadPlan> build_hierarchy_plan(Store& store, const SyncRequest& request,
                                          const IcsState& state) {
  HierarchyWork w(store, request, state);
  w.cur = store.current_cn();  // the cut: read once, before collecting
  w.unseen = unseen_ranges(state.seen, store.guid(), w.cur);
  ICS_TRY(collect_changes(w));
  if (!request.config.has(sync_flags::kNoDeletions)) ICS_TRY(collect_deletions(w));
  DownloadPlan plan;
  plan.final_state = final_state(w);
  ICS_TRY(write_stream(w, plan));
  w.stats.changes = w.changes.size();
  w.stats.deleted = w.deleted.size();
  w.stats.stream_bytes = plan.stream.size();
  w.stats.current_cn = w.cur;
  plan.stats = w.stats;
  return plan;
}

}  // namespace ics::detail
