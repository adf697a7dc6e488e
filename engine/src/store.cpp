#include "ics/store.h"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>
#include <string>

namespace ics {

std::uint64_t filetime_for_cn(Globcnt cn) {
  constexpr std::uint64_t kJan2020 = 132223104000000000ull;  // FILETIME of 2020-01-01
  constexpr std::uint64_t kTicksPerCn = 10000;               // 1 ms: no overflow at 2^48
  return kJan2020 + (cn & kGlobcntMax) * kTicksPerCn;
}

namespace {

struct MessageRec {
  Fid folder;
  bool associated = false;
  PropertyBag props;
  Globcnt cn = 0;
  Globcnt read_cn = 0;
  bool read = false;
  Xid change_key;
  Pcl pcl;
  std::uint64_t last_modified = 0;
};

struct FolderRec {
  Fid parent;
  PropertyBag props;
  Globcnt cn = 0;
  Xid change_key;
  Pcl pcl;
  std::uint64_t last_modified = 0;
  std::set<Fid> children;
  std::array<std::set<Mid>, 2> members;              // by kind index
  std::array<std::map<Globcnt, Mid>, 2> by_cn;       // CN -> MID, by kind index
  std::map<Globcnt, Mid> by_read_cn;                 // read CN -> MID
  std::map<Globcnt, MessageTombstone> tombstones;    // deletion CN -> tombstone
  std::map<Mid, Globcnt> tombstone_cn;               // MID -> deletion CN
};

int kind_index(bool associated) { return associated ? 1 : 0; }
int kind_index(MessageKind k) { return k == MessageKind::Associated ? 1 : 0; }

}  // namespace

struct Store::State {
  Guid guid;
  Globcnt id_counter = 0;  // the last MID/FID GLOBCNT handed out (or reserved)
  Globcnt cn_counter = 0;  // the last change number handed out
  std::map<Guid, Replid> replid_by_guid;
  std::vector<Guid> guid_by_replid;  // [replid - 1]
  std::map<Fid, FolderRec> folders;
  std::map<Mid, MessageRec> messages;
  std::map<Globcnt, Fid> folder_by_cn;
  std::map<Globcnt, FolderTombstone> folder_tombstones;
  std::map<Fid, Globcnt> folder_tombstone_cn;
  Globset reserved;          // GLOBCNTs handed out by reserve_ids()
  Globset reserved_deleted;  // reserved GLOBCNTs a client reported deleted
  std::map<Globcnt, ConflictRecord> conflicts;  // by resolved CN
};

namespace {

using State = Store::State;

Error not_found(std::string_view what, const Id& id) {
  return Error(ErrorCode::NotFound, std::string(what) + " " + std::to_string(id.replid) + "-" +
                                        std::to_string(id.globcnt) + " does not exist");
}

// ---- ranges ----

Result<CnRanges> normalized(const CnRanges& ranges) {
  CnRanges r = ranges;
  for (const auto& [lo, hi] : r) {
    if (lo > hi) return Error(ErrorCode::InvalidParameter, "CN range with low > high");
  }
  std::sort(r.begin(), r.end());
  CnRanges out;
  for (const auto& range : r) {
    if (!out.empty() && range.first <= out.back().second) {
      out.back().second = std::max(out.back().second, range.second);
    } else {
      out.push_back(range);
    }
  }
  return out;
}

// Calls f(key, value) for every index entry whose key is in the (normalized)
// ranges, ascending by key.
template <class V, class F>
void walk(const std::map<Globcnt, V>& index, const CnRanges& ranges, F&& f) {
  for (const auto& [lo, hi] : ranges) {
    for (auto it = index.lower_bound(lo); it != index.end() && it->first <= hi; ++it) {
      f(it->first, it->second);
    }
  }
}

// ---- ids ----

// Whether n more GLOBCNTs fit after counter.
Status room_for(Globcnt counter, Globcnt n) {
  if (n == 0 || counter > kGlobcntMax - n) {
    return Error(ErrorCode::GeneralFailure, "the store's 48-bit GLOBCNT space is exhausted");
  }
  return ok_status();
}

// Takes n GLOBCNTs from counter (the id or the CN namespace); the first.
Result<Globcnt> allocate(Globcnt& counter, Globcnt n) {
  ICS_TRY(room_for(counter, n));
  Globcnt first = counter + 1;
  counter += n;
  return first;
}

Result<Globcnt> allocate_cns(State& s, Globcnt n) { return allocate(s.cn_counter, n); }

// A fresh local id and a fresh CN, both or neither.
Result<std::pair<Globcnt, Globcnt>> allocate_id_and_cn(State& s) {
  ICS_TRY(room_for(s.id_counter, 1));
  ICS_TRY(room_for(s.cn_counter, 1));
  return std::make_pair(++s.id_counter, ++s.cn_counter);
}

Gid gid_of(const State& s, const Id& id) {
  return Gid{s.guid_by_replid[static_cast<std::size_t>(id.replid) - 1], id.globcnt};
}

std::optional<Id> lookup_id(const State& s, const Gid& gid) {
  auto it = s.replid_by_guid.find(gid.guid);
  if (it == s.replid_by_guid.end()) return std::nullopt;
  return Id{it->second, gid.globcnt};
}

// Whether claim_id(gid) can succeed: a GLOBCNT in range, a local GLOBCNT
// already handed out, room in the replica map for a new GUID.
Status check_source_key(const State& s, const Gid& gid) {
  if (gid.globcnt == 0 || gid.globcnt > kGlobcntMax) {
    return Error(ErrorCode::InvalidParameter, "source key GLOBCNT out of range");
  }
  if (gid.guid == s.guid && gid.globcnt > s.id_counter) {
    return Error(ErrorCode::InvalidParameter, "source key uses a local id that was never allocated");
  }
  if (!s.replid_by_guid.count(gid.guid) && s.guid_by_replid.size() >= 0xFFFF) {
    return Error(ErrorCode::GeneralFailure, "replica map is full");
  }
  return ok_status();
}

Replid claim_replid(State& s, const Guid& guid) {
  auto [it, fresh] = s.replid_by_guid.emplace(guid, Replid{0});
  if (fresh) {
    s.guid_by_replid.push_back(guid);
    it->second = static_cast<Replid>(s.guid_by_replid.size());
  }
  return it->second;
}

// Whether every value of [low, high] is in g (its ranges are coalesced).
bool covers(const Globset& g, Globcnt low, Globcnt high) {
  const auto& r = g.ranges();
  auto it = std::upper_bound(r.begin(), r.end(), low,
                             [](Globcnt v, const GlobRange& x) { return v < x.low; });
  if (it == r.begin()) return false;
  --it;
  return it->low <= low && high <= it->high;
}

void record_conflict(State& s, const std::optional<ConflictRecord>& conflict, Globcnt cn) {
  if (!conflict) return;
  ConflictRecord& r = s.conflicts[cn] = *conflict;
  r.resolved_cn = cn;
}

// Precondition: check_source_key(gid) succeeded.
Id claim_id(State& s, const Gid& gid) { return Id{claim_replid(s, gid.guid), gid.globcnt}; }

bool id_in_use(const State& s, const Id& id) {
  return s.folders.count(id) != 0 || s.messages.count(id) != 0;
}

// ---- versions and properties ----

bool is_header_tag(PropTag t) {
  static constexpr PropTag kHeader[] = {
      tags::kSourceKey,  tags::kParentSourceKey, tags::kChangeKey,
      tags::kPredecessorChangeList, tags::kLastModificationTime, tags::kChangeNumber,
      tags::kMid,        tags::kFolderId,        tags::kParentFolderId,
      tags::kAssociated};
  return std::find(std::begin(kHeader), std::end(kHeader), t) != std::end(kHeader);
}

PropertyBag stripped(const PropertyBag& bag) {
  PropertyBag out;
  for (const PropValue& v : bag.values()) {
    if (!is_header_tag(v.tag)) out.set(v);
  }
  return out;
}

void apply(PropertyBag& bag, const PropChanges& changes) {
  for (PropTag t : changes.remove) bag.erase(t);
  for (const PropValue& v : changes.set.values()) {
    if (!is_header_tag(v.tag)) bag.set(v);
  }
}

// A server-side change: ChangeKey = XID(store GUID, CN), merged into the PCL.
template <class Rec>
void stamp_server_change(Rec& r, const Guid& guid, Globcnt cn) {
  r.cn = cn;
  r.change_key = Xid::from_globcnt(guid, cn);
  r.pcl.add(r.change_key);
  r.last_modified = filetime_for_cn(cn);
}

// A client's version, stored under a server CN.
template <class Rec>
void stamp_client_version(Rec& r, Globcnt cn, const Xid& change_key, const Pcl& pcl,
                          std::uint64_t last_modified) {
  r.cn = cn;
  r.change_key = change_key;
  r.pcl = pcl;
  r.pcl.add(change_key);
  r.last_modified = last_modified != 0 ? last_modified : filetime_for_cn(cn);
}

Status check_expected(std::optional<Globcnt> expected, const Globcnt* current) {
  if (!expected) return ok_status();
  Globcnt have = current ? *current : 0;
  if (*expected == have) return ok_status();
  return Error(ErrorCode::ObjectModified, "expected CN " + std::to_string(*expected) +
                                              ", the object is at " + std::to_string(have));
}

// ---- message indexes ----

void drop_tombstone(FolderRec& f, const Mid& mid) {
  auto it = f.tombstone_cn.find(mid);
  if (it == f.tombstone_cn.end()) return;
  f.tombstones.erase(it->second);
  f.tombstone_cn.erase(it);
}

void add_tombstone(FolderRec& f, MessageTombstone t) {
  drop_tombstone(f, t.mid);
  f.tombstone_cn[t.mid] = t.cn;
  f.tombstones.emplace(t.cn, std::move(t));
}

void link(FolderRec& f, const Mid& mid, const MessageRec& m) {
  int k = kind_index(m.associated);
  f.members[k].insert(mid);
  f.by_cn[k][m.cn] = mid;
  if (m.read_cn != 0) f.by_read_cn[m.read_cn] = mid;
  drop_tombstone(f, mid);
}

void unlink(FolderRec& f, const Mid& mid, const MessageRec& m) {
  int k = kind_index(m.associated);
  f.members[k].erase(mid);
  f.by_cn[k].erase(m.cn);
  if (m.read_cn != 0) f.by_read_cn.erase(m.read_cn);
}

// Takes m out of its folder, leaving a Moved tombstone with the move CN, and
// points it at dest; the caller stamps it and links it there.
void relocate(State& s, const Mid& mid, MessageRec& m, const Fid& dest, Globcnt cn) {
  FolderRec& src = s.folders.at(m.folder);
  unlink(src, mid, m);
  add_tombstone(src, MessageTombstone{mid, gid_of(s, mid), cn, DeleteKind::Moved, m.associated, dest});
  m.folder = dest;
}

// ---- snapshots ----

MessageSnapshot snapshot(const State& s, const Mid& mid, const MessageRec& m, bool with_props) {
  MessageSnapshot out;
  out.mid = mid;
  out.folder = m.folder;
  out.source_key = gid_of(s, mid);
  out.associated = m.associated;
  out.cn = m.cn;
  out.read_cn = m.read_cn;
  out.read = m.read;
  out.change_key = m.change_key;
  out.pcl = m.pcl;
  out.last_modified = m.last_modified;
  if (with_props) out.props = m.props;
  return out;
}

FolderSnapshot snapshot(const State& s, const Fid& fid, const FolderRec& f, bool with_props = true) {
  FolderSnapshot out;
  out.fid = fid;
  out.parent = f.parent;
  out.source_key = gid_of(s, fid);
  if (s.folders.count(f.parent)) out.parent_source_key = gid_of(s, f.parent);
  out.cn = f.cn;
  out.change_key = f.change_key;
  out.pcl = f.pcl;
  out.last_modified = f.last_modified;
  if (with_props) out.props = f.props;
  return out;
}

// ---- folder tree ----

// Depth of fid below top (1 for a child), or 0 if fid is not below top.
std::size_t depth_below(const State& s, const Fid& fid, const Fid& top) {
  std::size_t depth = 0;
  Fid at = fid;
  for (;;) {
    auto it = s.folders.find(at);
    if (it == s.folders.end()) return 0;
    ++depth;
    if (it->second.parent == top) return depth;
    at = it->second.parent;
  }
}

// fid and every folder below it, parents before children.
std::vector<Fid> subtree(const State& s, const Fid& fid) {
  std::vector<Fid> out = {fid};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const FolderRec& f = s.folders.at(out[i]);
    out.insert(out.end(), f.children.begin(), f.children.end());
  }
  return out;
}

// Whether a folder tombstone's former parent chain reaches top.
bool tombstone_below(const State& s, const FolderTombstone& t, const Fid& top) {
  Fid at = t.parent;
  for (std::size_t guard = 0; guard <= s.folders.size() + s.folder_tombstones.size(); ++guard) {
    if (at == top) return true;
    if (auto it = s.folders.find(at); it != s.folders.end()) {
      at = it->second.parent;
    } else if (auto c = s.folder_tombstone_cn.find(at); c != s.folder_tombstone_cn.end()) {
      at = s.folder_tombstones.at(c->second).parent;
    } else {
      return false;
    }
  }
  return false;
}

void drop_folder_tombstone(State& s, const Fid& fid) {
  auto it = s.folder_tombstone_cn.find(fid);
  if (it == s.folder_tombstone_cn.end()) return;
  s.folder_tombstones.erase(it->second);
  s.folder_tombstone_cn.erase(it);
}

void bury_folder(State& s, const Fid& fid, Globcnt cn, DeleteKind kind) {
  FolderRec& f = s.folders.at(fid);
  for (const auto& members : f.members) {
    for (const Mid& mid : members) s.messages.erase(mid);
  }
  s.folder_by_cn.erase(f.cn);
  drop_folder_tombstone(s, fid);
  s.folder_tombstones[cn] = FolderTombstone{fid, f.parent, gid_of(s, fid), cn, kind};
  s.folder_tombstone_cn[fid] = cn;
}

// ---- invariants ----

Error broken(const std::string& what) { return Error(ErrorCode::GeneralFailure, what); }

Status check_message(const State& s, const Mid& mid, const MessageRec& m, std::set<Globcnt>& cns) {
  auto fit = s.folders.find(m.folder);
  if (fit == s.folders.end()) return broken("message in a missing folder");
  const FolderRec& f = fit->second;
  int k = kind_index(m.associated);
  if (!f.members[k].count(mid)) return broken("message missing from its folder's member set");
  auto c = f.by_cn[k].find(m.cn);
  if (c == f.by_cn[k].end() || c->second != mid) return broken("CN index does not point back");
  if (m.read_cn != 0) {
    auto r = f.by_read_cn.find(m.read_cn);
    if (r == f.by_read_cn.end() || r->second != mid) return broken("read CN index stale");
  }
  if (f.tombstone_cn.count(mid)) return broken("live message has a tombstone in its folder");
  if (!m.pcl.includes(m.change_key)) return broken("PCL does not include the change key");
  if (m.cn == 0 || m.cn > s.cn_counter || m.read_cn > s.cn_counter) return broken("CN beyond counter");
  if (!cns.insert(m.cn).second) return broken("two objects share a CN");
  if (m.read_cn != 0 && !cns.insert(m.read_cn).second) return broken("read CN reused");
  return ok_status();
}

Status check_folder(const State& s, const Fid& root, const Fid& fid, const FolderRec& f,
                    std::set<Globcnt>& cns) {
  std::size_t members = f.members[0].size() + f.members[1].size();
  if (f.by_cn[0].size() + f.by_cn[1].size() != members) return broken("CN index size mismatch");
  if (f.tombstones.size() != f.tombstone_cn.size()) return broken("tombstone index mismatch");
  for (const auto& [cn, t] : f.tombstones) {
    auto it = f.tombstone_cn.find(t.mid);
    if (it == f.tombstone_cn.end() || it->second != cn) return broken("tombstone MID index stale");
  }
  auto parent = s.folders.find(f.parent);
  if (parent == s.folders.end() ? fid != root : !parent->second.children.count(fid)) {
    return broken("folder missing from its parent's children");
  }
  for (const Fid& child : f.children) {
    auto c = s.folders.find(child);
    if (c == s.folders.end() || c->second.parent != fid) return broken("child link stale");
  }
  auto c = s.folder_by_cn.find(f.cn);
  if (c == s.folder_by_cn.end() || c->second != fid) return broken("folder CN index stale");
  if (!f.pcl.includes(f.change_key)) return broken("folder PCL does not include its change key");
  if (!cns.insert(f.cn).second) return broken("two objects share a CN");
  return ok_status();
}

}  // namespace

// ======================= Store =======================

Store::Store(StoreOptions options) : guid_(options.guid), state_(std::make_unique<State>()) {
  State& s = *state_;
  s.guid = guid_;
  s.id_counter = std::clamp<Globcnt>(options.first_globcnt, 1, kGlobcntMax - 2) - 1;
  s.cn_counter = s.id_counter;
  claim_replid(s, guid_);
  auto [id, cn] = allocate_id_and_cn(s).value();
  root_ = Fid{kLocalReplid, id};
  FolderRec& root = s.folders[root_];
  root.props.set(PropValue::unicode(tags::kDisplayName, "Root"));
  stamp_server_change(root, guid_, cn);
  s.folder_by_cn[root.cn] = root_;
}

Store::Store(const Guid& guid, Fid root, std::unique_ptr<State> state, std::uint64_t sessions_opened)
    : guid_(guid), root_(root), state_(std::move(state)), next_session_id_(sessions_opened) {}

Store::~Store() = default;

std::unique_ptr<Store> Store::clone() const {
  std::unique_ptr<State> copy;
  {
    std::lock_guard lock(mu_);
    copy = std::make_unique<State>(*state_);
  }
  return std::unique_ptr<Store>(new Store(guid_, root_, std::move(copy), next_session_id_.load()));
}

// ---- ids and replicas ----

Globcnt Store::current_cn() const {
  std::lock_guard lock(mu_);
  return state_->cn_counter;
}

Globcnt Store::current_id() const {
  std::lock_guard lock(mu_);
  return state_->id_counter;
}

Result<std::pair<Guid, Globcnt>> Store::reserve_ids(std::uint32_t count) {
  if (count == 0) return Error(ErrorCode::InvalidParameter, "GetLocalReplicaIds of 0 ids");
  std::lock_guard lock(mu_);
  ICS_TRY_ASSIGN(Globcnt first, allocate(state_->id_counter, count));
  Status kept = state_->reserved.insert(first, first + count - 1);
  (void)kept;  // allocate() keeps the range within 48 bits
  return std::make_pair(guid_, first);
}

bool Store::is_reserved(Globcnt low, Globcnt high) const {
  std::lock_guard lock(mu_);
  return low <= high && covers(state_->reserved, low, high);
}

Status Store::mark_reserved_deleted(Globcnt low, Globcnt high) {
  if (low > high) return Error(ErrorCode::InvalidParameter, "id range with low > high");
  std::lock_guard lock(mu_);
  if (!covers(state_->reserved, low, high)) {
    return Error(ErrorCode::InvalidParameter, "ids that reserve_ids() never handed out");
  }
  return state_->reserved_deleted.insert(low, high);
}

bool Store::is_reserved_deleted(Globcnt id) const {
  std::lock_guard lock(mu_);
  return state_->reserved_deleted.contains(id);
}

Result<Replid> Store::replid_for(const Guid& guid) {
  std::lock_guard lock(mu_);
  if (!state_->replid_by_guid.count(guid) && state_->guid_by_replid.size() >= 0xFFFF) {
    return Error(ErrorCode::GeneralFailure, "replica map is full");
  }
  return claim_replid(*state_, guid);
}

std::optional<Replid> Store::find_replid(const Guid& guid) const {
  std::lock_guard lock(mu_);
  auto it = state_->replid_by_guid.find(guid);
  if (it == state_->replid_by_guid.end()) return std::nullopt;
  return it->second;
}

std::optional<Guid> Store::guid_of(Replid replid) const {
  std::lock_guard lock(mu_);
  if (replid == 0 || replid > state_->guid_by_replid.size()) return std::nullopt;
  return state_->guid_by_replid[replid - 1];
}

Result<Gid> Store::to_gid(const Id& id) const {
  std::lock_guard lock(mu_);
  if (id.replid == 0 || id.replid > state_->guid_by_replid.size()) {
    return Error(ErrorCode::NotFound, "REPLID " + std::to_string(id.replid) + " is not mapped");
  }
  return gid_of(*state_, id);
}

Result<Id> Store::to_id(const Gid& gid) const {
  std::lock_guard lock(mu_);
  auto id = lookup_id(*state_, gid);
  if (!id) return Error(ErrorCode::NotFound, "REPLGUID " + gid.guid.to_string() + " is not mapped");
  return *id;
}

// ---- folders ----

Result<Fid> Store::create_folder(Fid parent, std::string_view display_name,
                                 std::optional<Gid> source_key) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto pit = s.folders.find(parent);
  if (pit == s.folders.end()) return not_found("parent folder", parent);
  if (source_key) {
    ICS_TRY(check_source_key(s, *source_key));
    auto id = lookup_id(s, *source_key);
    if (id && id_in_use(s, *id)) return Error(ErrorCode::InvalidParameter, "source key in use");
  }
  Fid fid;
  Globcnt cn = 0;
  if (source_key) {
    ICS_TRY_ASSIGN(cn, allocate_cns(s, 1));
    fid = claim_id(s, *source_key);
  } else {
    ICS_TRY_ASSIGN(auto fresh, allocate_id_and_cn(s));
    fid = Fid{kLocalReplid, fresh.first};
    cn = fresh.second;
  }
  FolderRec& f = s.folders[fid];
  f.parent = parent;
  f.props.set(PropValue::unicode(tags::kDisplayName, display_name));
  stamp_server_change(f, s.guid, cn);
  pit->second.children.insert(fid);
  s.folder_by_cn[f.cn] = fid;
  drop_folder_tombstone(s, fid);
  return fid;
}

Result<FolderSnapshot> Store::modify_folder(Fid fid, const PropChanges& changes) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto it = s.folders.find(fid);
  if (it == s.folders.end()) return not_found("folder", fid);
  ICS_TRY_ASSIGN(Globcnt cn, allocate_cns(s, 1));
  FolderRec& f = it->second;
  s.folder_by_cn.erase(f.cn);
  apply(f.props, changes);
  stamp_server_change(f, s.guid, cn);
  s.folder_by_cn[cn] = fid;
  return snapshot(s, fid, f);
}

Status Store::delete_folder(Fid fid, DeleteKind kind) {
  if (kind == DeleteKind::Moved) return Error(ErrorCode::InvalidParameter, "delete of kind Moved");
  if (fid == root_) return Error(ErrorCode::InvalidParameter, "the root folder cannot be deleted");
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto it = s.folders.find(fid);
  if (it == s.folders.end()) return not_found("folder", fid);
  std::vector<Fid> doomed = subtree(s, fid);
  ICS_TRY_ASSIGN(Globcnt first, allocate_cns(s, doomed.size()));
  s.folders.at(it->second.parent).children.erase(fid);
  for (std::size_t i = 0; i < doomed.size(); ++i) bury_folder(s, doomed[i], first + i, kind);
  for (const Fid& f : doomed) s.folders.erase(f);
  return ok_status();
}

Result<FolderSnapshot> Store::put_folder_version(const FolderVersion& v) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto pit = s.folders.find(v.parent);
  if (pit == s.folders.end()) return Error(ErrorCode::SyncNoParent, "parent folder does not exist");
  ICS_TRY(check_source_key(s, v.source_key));
  std::optional<Id> known = lookup_id(s, v.source_key);
  if (known && s.messages.count(*known)) {
    return Error(ErrorCode::InvalidParameter, "source key names a message");
  }
  auto fit = known ? s.folders.find(*known) : s.folders.end();
  bool exists = fit != s.folders.end();
  ICS_TRY(check_expected(v.expected_cn, exists ? &fit->second.cn : nullptr));
  if (exists && fit->first == root_) {
    return Error(ErrorCode::InvalidParameter, "the root folder cannot be imported");
  }
  if (exists && fit->second.parent != v.parent &&
      (v.parent == fit->first || depth_below(s, v.parent, fit->first) != 0)) {
    return Error(ErrorCode::SyncIncest, "a folder cannot move below itself");
  }
  ICS_TRY_ASSIGN(Globcnt cn, allocate_cns(s, 1));
  Fid fid = claim_id(s, v.source_key);
  FolderRec& f = s.folders[fid];
  if (!exists) {
    drop_folder_tombstone(s, fid);
  } else {
    s.folder_by_cn.erase(f.cn);
    s.folders.at(f.parent).children.erase(fid);
  }
  f.parent = v.parent;
  pit->second.children.insert(fid);
  f.props = stripped(v.props);
  stamp_client_version(f, cn, v.change_key, v.pcl, v.last_modified);
  s.folder_by_cn[cn] = fid;
  record_conflict(s, v.conflict, cn);
  return snapshot(s, fid, f);
}

Result<FolderSnapshot> Store::get_folder(Fid fid) const {
  std::lock_guard lock(mu_);
  auto it = state_->folders.find(fid);
  if (it == state_->folders.end()) return not_found("folder", fid);
  return snapshot(*state_, fid, it->second);
}

std::optional<Fid> Store::find_folder(const Gid& source_key) const {
  std::lock_guard lock(mu_);
  auto id = lookup_id(*state_, source_key);
  if (!id || !state_->folders.count(*id)) return std::nullopt;
  return id;
}

Result<std::vector<Fid>> Store::child_folders(Fid fid) const {
  std::lock_guard lock(mu_);
  auto it = state_->folders.find(fid);
  if (it == state_->folders.end()) return not_found("folder", fid);
  return std::vector<Fid>(it->second.children.begin(), it->second.children.end());
}

Result<std::vector<FolderSnapshot>> Store::folder_tree(Fid top, bool with_props) const {
  std::lock_guard lock(mu_);
  const State& s = *state_;
  if (!s.folders.count(top)) return not_found("folder", top);
  std::vector<Fid> fids = subtree(s, top);
  std::vector<FolderSnapshot> out;
  out.reserve(fids.size() - 1);
  for (std::size_t i = 1; i < fids.size(); ++i) {
    out.push_back(snapshot(s, fids[i], s.folders.at(fids[i]), with_props));
  }
  return out;
}

Result<std::vector<FolderSnapshot>> Store::collect_folder_changes(Fid top,
                                                                  const CnRanges& ranges) const {
  ICS_TRY_ASSIGN(CnRanges r, normalized(ranges));
  std::lock_guard lock(mu_);
  const State& s = *state_;
  if (!s.folders.count(top)) return not_found("folder", top);
  std::vector<std::pair<std::size_t, FolderSnapshot>> found;
  walk(s.folder_by_cn, r, [&](Globcnt, const Fid& fid) {
    std::size_t depth = depth_below(s, fid, top);
    if (depth != 0) found.emplace_back(depth, snapshot(s, fid, s.folders.at(fid)));
  });
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<FolderSnapshot> out;
  out.reserve(found.size());
  for (auto& [depth, snap] : found) out.push_back(std::move(snap));
  return out;
}

Result<std::vector<FolderTombstone>> Store::collect_folder_tombstones(
    Fid top, const CnRanges& ranges) const {
  ICS_TRY_ASSIGN(CnRanges r, normalized(ranges));
  std::lock_guard lock(mu_);
  const State& s = *state_;
  if (!s.folders.count(top)) return not_found("folder", top);
  std::vector<FolderTombstone> out;
  walk(s.folder_tombstones, r, [&](Globcnt, const FolderTombstone& t) {
    if (tombstone_below(s, t, top)) out.push_back(t);
  });
  return out;
}

// ---- messages ----

Result<Mid> Store::create_message(Fid fid, PropertyBag props, bool associated) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto fit = s.folders.find(fid);
  if (fit == s.folders.end()) return not_found("folder", fid);
  ICS_TRY_ASSIGN(auto fresh, allocate_id_and_cn(s));
  Mid mid{kLocalReplid, fresh.first};
  MessageRec& m = s.messages[mid];
  m.folder = fid;
  m.associated = associated;
  m.props = stripped(props);
  stamp_server_change(m, s.guid, fresh.second);
  link(fit->second, mid, m);
  return mid;
}

Result<MessageSnapshot> Store::modify_message(Mid mid, const PropChanges& changes) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto it = s.messages.find(mid);
  if (it == s.messages.end()) return not_found("message", mid);
  ICS_TRY_ASSIGN(Globcnt cn, allocate_cns(s, 1));
  MessageRec& m = it->second;
  FolderRec& f = s.folders.at(m.folder);
  f.by_cn[kind_index(m.associated)].erase(m.cn);
  apply(m.props, changes);
  stamp_server_change(m, s.guid, cn);
  f.by_cn[kind_index(m.associated)][cn] = mid;
  return snapshot(s, mid, m, true);
}

Result<MessageSnapshot> Store::put_message_version(const MessageVersion& v) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto fit = s.folders.find(v.folder);
  if (fit == s.folders.end()) return not_found("folder", v.folder);
  ICS_TRY(check_source_key(s, v.source_key));
  std::optional<Id> known = lookup_id(s, v.source_key);
  if (known && s.folders.count(*known)) {
    return Error(ErrorCode::InvalidParameter, "source key names a folder");
  }
  auto mit = known ? s.messages.find(*known) : s.messages.end();
  bool exists = mit != s.messages.end();
  ICS_TRY(check_expected(v.expected_cn, exists ? &mit->second.cn : nullptr));
  if (exists && mit->second.folder != v.folder) {
    return Error(ErrorCode::InvalidParameter, "the message lives in another folder");
  }
  if (exists && mit->second.associated != v.associated) {
    return Error(ErrorCode::InvalidParameter, "a message cannot change between normal and FAI");
  }
  ICS_TRY_ASSIGN(Globcnt cn, allocate_cns(s, 1));
  Mid mid = claim_id(s, v.source_key);
  MessageRec& m = s.messages[mid];
  if (exists) unlink(fit->second, mid, m);
  m.folder = v.folder;
  m.associated = v.associated;
  m.props = stripped(v.props);
  stamp_client_version(m, cn, v.change_key, v.pcl, v.last_modified);
  link(fit->second, mid, m);
  record_conflict(s, v.conflict, cn);
  return snapshot(s, mid, m, true);
}

Result<MessageSnapshot> Store::put_message_move(const MoveVersion& v) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto it = s.messages.find(v.mid);
  if (it == s.messages.end()) return not_found("message", v.mid);
  MessageRec& m = it->second;
  ICS_TRY(check_expected(v.expected_cn, &m.cn));
  if (m.folder != v.source) return Error(ErrorCode::InvalidParameter, "the message is not in the source folder");
  auto dit = s.folders.find(v.dest);
  if (dit == s.folders.end()) return not_found("destination folder", v.dest);
  if (m.folder == v.dest) return Error(ErrorCode::InvalidParameter, "move into the same folder");
  ICS_TRY_ASSIGN(Globcnt cn, allocate_cns(s, 1));
  relocate(s, v.mid, m, v.dest, cn);
  m.cn = cn;
  if (v.change_key) {
    m.change_key = *v.change_key;
    m.pcl.merge(v.pcl);
    m.pcl.add(*v.change_key);
  }
  link(dit->second, v.mid, m);
  return snapshot(s, v.mid, m, true);
}

Result<Globcnt> Store::set_read(Mid mid, bool read) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto it = s.messages.find(mid);
  if (it == s.messages.end()) return not_found("message", mid);
  MessageRec& m = it->second;
  if (m.read == read) return Globcnt{0};
#if defined(ICS_SEEDED_BUG_READ_STATE_WITHOUT_CN)
  // Seeded bug: the read state changes without a change number; replicas never see it.
  m.read = read;
  return m.read_cn;
#endif
  ICS_TRY_ASSIGN(Globcnt cn, allocate_cns(s, 1));
  FolderRec& f = s.folders.at(m.folder);
  if (m.read_cn != 0) f.by_read_cn.erase(m.read_cn);
  m.read = read;
  m.read_cn = cn;
  f.by_read_cn[cn] = mid;
  return cn;
}

Result<Globcnt> Store::delete_message(Mid mid, DeleteKind kind) {
  if (kind == DeleteKind::Moved) return Error(ErrorCode::InvalidParameter, "delete of kind Moved");
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto it = s.messages.find(mid);
  if (it == s.messages.end()) return not_found("message", mid);
  ICS_TRY_ASSIGN(Globcnt cn, allocate_cns(s, 1));
  const MessageRec& m = it->second;
  FolderRec& f = s.folders.at(m.folder);
  unlink(f, mid, m);
  add_tombstone(f, MessageTombstone{mid, gid_of(s, mid), cn, kind, m.associated, Fid{}});
  s.messages.erase(it);
  return cn;
}

Result<Globcnt> Store::move_message(Mid mid, Fid dest) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  auto it = s.messages.find(mid);
  if (it == s.messages.end()) return not_found("message", mid);
  auto dit = s.folders.find(dest);
  if (dit == s.folders.end()) return not_found("destination folder", dest);
  MessageRec& m = it->second;
  if (m.folder == dest) return Error(ErrorCode::InvalidParameter, "move into the same folder");
  ICS_TRY_ASSIGN(Globcnt cn, allocate_cns(s, 1));
  relocate(s, mid, m, dest, cn);
#if !defined(ICS_SEEDED_BUG_MOVE_WITHOUT_CN)
  stamp_server_change(m, s.guid, cn);
#else
  // Seeded bug: the moved message keeps its old change number; replicas miss the move.
#endif
  link(dit->second, mid, m);
  return cn;
}

Result<MessageSnapshot> Store::get_message(Mid mid, bool with_props) const {
  std::lock_guard lock(mu_);
  auto it = state_->messages.find(mid);
  if (it == state_->messages.end()) return not_found("message", mid);
  return snapshot(*state_, mid, it->second, with_props);
}

std::optional<Mid> Store::find_message(const Gid& source_key) const {
  std::lock_guard lock(mu_);
  auto id = lookup_id(*state_, source_key);
  if (!id || !state_->messages.count(*id)) return std::nullopt;
  return id;
}

Result<std::vector<Mid>> Store::message_ids(Fid fid, MessageKind kind) const {
  std::lock_guard lock(mu_);
  auto it = state_->folders.find(fid);
  if (it == state_->folders.end()) return not_found("folder", fid);
  const auto& members = it->second.members[kind_index(kind)];
  return std::vector<Mid>(members.begin(), members.end());
}

Result<std::vector<MessageSnapshot>> Store::collect_changes(Fid fid, MessageKind kind,
                                                            const CnRanges& ranges,
                                                            bool with_props) const {
  ICS_TRY_ASSIGN(CnRanges r, normalized(ranges));
#if !defined(ICS_SEEDED_BUG_STORE_READ_UNLOCKED)
  std::lock_guard lock(mu_);
#else
  // Seeded bug: a download's read of a folder's changes takes no lock; a writer on another
  // thread may rebalance the index or free the property values it is copying.
#endif
  const State& s = *state_;
  auto it = s.folders.find(fid);
  if (it == s.folders.end()) return not_found("folder", fid);
  std::vector<MessageSnapshot> out;
  walk(it->second.by_cn[kind_index(kind)], r, [&](Globcnt, const Mid& mid) {
    out.push_back(snapshot(s, mid, s.messages.at(mid), with_props));
  });
  return out;
}

Result<std::vector<ReadChange>> Store::collect_read_changes(Fid fid, const CnRanges& ranges) const {
  ICS_TRY_ASSIGN(CnRanges r, normalized(ranges));
  std::lock_guard lock(mu_);
  const State& s = *state_;
  auto it = s.folders.find(fid);
  if (it == s.folders.end()) return not_found("folder", fid);
  std::vector<ReadChange> out;
  walk(it->second.by_read_cn, r, [&](Globcnt read_cn, const Mid& mid) {
    const MessageRec& m = s.messages.at(mid);
    out.push_back(ReadChange{mid, gid_of(s, mid), read_cn, m.read, m.associated});
  });
  return out;
}

Result<std::vector<MessageTombstone>> Store::collect_tombstones(Fid fid,
                                                                const CnRanges& ranges) const {
  ICS_TRY_ASSIGN(CnRanges r, normalized(ranges));
  std::lock_guard lock(mu_);
  auto it = state_->folders.find(fid);
  if (it == state_->folders.end()) return not_found("folder", fid);
  std::vector<MessageTombstone> out;
  walk(it->second.tombstones, r, [&](Globcnt, const MessageTombstone& t) { out.push_back(t); });
  return out;
}

std::optional<MessageTombstone> Store::find_message_tombstone(Fid fid, const Gid& source_key) const {
  std::lock_guard lock(mu_);
  const State& s = *state_;
  auto fit = s.folders.find(fid);
  auto id = lookup_id(s, source_key);
  if (fit == s.folders.end() || !id) return std::nullopt;
  auto it = fit->second.tombstone_cn.find(*id);
  if (it == fit->second.tombstone_cn.end()) return std::nullopt;
  return fit->second.tombstones.at(it->second);
}

std::optional<FolderTombstone> Store::find_folder_tombstone(const Gid& source_key) const {
  std::lock_guard lock(mu_);
  const State& s = *state_;
  auto id = lookup_id(s, source_key);
  if (!id) return std::nullopt;
  auto it = s.folder_tombstone_cn.find(*id);
  if (it == s.folder_tombstone_cn.end()) return std::nullopt;
  return s.folder_tombstones.at(it->second);
}

std::size_t Store::purge_tombstones(Globcnt up_to) {
  std::lock_guard lock(mu_);
  State& s = *state_;
  std::size_t removed = 0;
  for (auto& [fid, f] : s.folders) {
    auto end = f.tombstones.upper_bound(up_to);
    for (auto it = f.tombstones.begin(); it != end; ++it) f.tombstone_cn.erase(it->second.mid);
    removed += static_cast<std::size_t>(std::distance(f.tombstones.begin(), end));
    f.tombstones.erase(f.tombstones.begin(), end);
  }
  auto end = s.folder_tombstones.upper_bound(up_to);
  for (auto it = s.folder_tombstones.begin(); it != end; ++it) {
    s.folder_tombstone_cn.erase(it->second.fid);
  }
  removed += static_cast<std::size_t>(std::distance(s.folder_tombstones.begin(), end));
  s.folder_tombstones.erase(s.folder_tombstones.begin(), end);
  return removed;
}

// ---- conflicts ----

std::vector<ConflictRecord> Store::conflicts() const {
  std::lock_guard lock(mu_);
  std::vector<ConflictRecord> out;
  out.reserve(state_->conflicts.size());
  for (const auto& [cn, r] : state_->conflicts) out.push_back(r);
  return out;
}

std::vector<ConflictRecord> Store::conflicts_of(const Gid& source_key) const {
  std::lock_guard lock(mu_);
  std::vector<ConflictRecord> out;
  for (const auto& [cn, r] : state_->conflicts) {
    if (r.source_key == source_key) out.push_back(r);
  }
  return out;
}

std::size_t Store::conflict_count() const {
  std::lock_guard lock(mu_);
  return state_->conflicts.size();
}

// ---- figures ----

std::size_t Store::message_count() const {
  std::lock_guard lock(mu_);
  return state_->messages.size();
}

std::size_t Store::folder_count() const {
  std::lock_guard lock(mu_);
  return state_->folders.size();
}

std::size_t Store::tombstone_count() const {
  std::lock_guard lock(mu_);
  std::size_t n = state_->folder_tombstones.size();
  for (const auto& [fid, f] : state_->folders) n += f.tombstones.size();
  return n;
}

Status Store::check_invariants() const {
  std::lock_guard lock(mu_);
  const State& s = *state_;
  std::set<Globcnt> cns;
  std::size_t members = 0;
  for (const auto& [fid, f] : s.folders) {
    ICS_TRY(check_folder(s, root_, fid, f, cns));
    members += f.members[0].size() + f.members[1].size();
  }
  if (members != s.messages.size()) return broken("member sets and messages disagree");
  for (const auto& [mid, m] : s.messages) ICS_TRY(check_message(s, mid, m, cns));
  if (s.folder_by_cn.size() != s.folders.size()) return broken("folder CN index size mismatch");
  if (s.folder_tombstones.size() != s.folder_tombstone_cn.size()) {
    return broken("folder tombstone index mismatch");
  }
  for (const auto& [fid, cn] : s.folder_tombstone_cn) {
    if (s.folders.count(fid)) return broken("live folder has a tombstone");
  }
  return ok_status();
}

}  // namespace ics
