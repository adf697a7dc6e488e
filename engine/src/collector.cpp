#include "ics/collector.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "ics/context.h"
#include "ics/pcl.h"
#include "ics/store.h"

namespace ics {

std::string_view name(ImportOutcome outcome) {
  switch (outcome) {
    case ImportOutcome::Created: return "Created";
    case ImportOutcome::Updated: return "Updated";
    case ImportOutcome::ClientWon: return "ClientWon";
    case ImportOutcome::ServerWon: return "ServerWon";
  }
  return "Unknown";
}

namespace {

// ---- memory estimate of a state ----

constexpr std::size_t kReplicaBytes = sizeof(Guid) + sizeof(Globset) + 32;  // + map node
constexpr std::size_t kValueGrowth = kReplicaBytes + sizeof(GlobRange);  // one insert/remove, worst case

std::size_t idset_bytes(const GuidIdSet& s) {
  std::size_t n = 0;
  for (const auto& [guid, set] : s.replicas()) n += kReplicaBytes + set.range_count() * sizeof(GlobRange);
  return n;
}

std::size_t state_bytes(const IcsState& st) {
  return idset_bytes(st.given) + idset_bytes(st.seen) + idset_bytes(st.seen_fai) + idset_bytes(st.read);
}

// ---- the collector object ----

class Collector final : public StatefulContext {
 public:
  Collector(Session& s, Fid folder, Gid folder_key, bool contents)
      : StatefulContext(s, !contents), session_(&s), folder_(folder), folder_key_(folder_key) {}

  ObjectKind kind() const override { return ObjectKind::UploadContext; }
  std::size_t footprint() const override { return sizeof(*this); }
  Status can_upload_state() const override {
    if (imported_) return Error(ErrorCode::NotSupported, "the state is uploaded before the first import");
    return ok_status();
  }
  Result<IcsState> transfer_state() override { return state(); }

  Store& store() const { return session_->store(); }
  Fid folder() const { return folder_; }
  const Gid& folder_key() const { return folder_key_; }
  CollectorHooks& hooks() { return hooks_; }
  void before_write(std::uint32_t attempt) const {
    if (hooks_.before_write) hooks_.before_write(attempt);
  }

  // Starts an import that may add or remove up to `values` state values:
  // charges room for them. Nothing is charged on failure.
  Status begin(std::size_t values);
  // Ends a successful import: the charge becomes the state's estimate.
  void commit();
  // Ends a failed import: the charge goes back to what it was.
  void rollback();

 private:
  Session* session_;
  Fid folder_;
  Gid folder_key_;
  CollectorHooks hooks_;
  Charge charge_;
  std::size_t before_ = 0;
  bool imported_ = false;
};

Status Collector::begin(std::size_t values) {
  if (upload().open()) return Error(ErrorCode::NotSupported, "a state upload is still open");
  before_ = charge_.bytes();
  const std::size_t target = state_bytes(state()) + values * kValueGrowth;
  if (charge_.active()) return charge_.resize(std::max(target, before_));
  ICS_TRY_ASSIGN(charge_, Charge::make(session_->memory(), ObjectKind::StateStream, target));
  return ok_status();
}

void Collector::commit() {
  imported_ = true;
  // Usually a shrink; a folder delete may split more ranges than were
  // reserved, and a grow refused over budget leaves the estimate short.
  Status settled = charge_.resize(state_bytes(state()));
  (void)settled;
}

void Collector::rollback() {
  if (before_ == 0) {
    charge_.reset();
  } else {
    Status shrunk = charge_.resize(before_);
    (void)shrunk;  // back to a size at or below the current one
  }
}

Result<Collector*> collector_of(Session& s, std::uint32_t handle) {
  return s.lookup<Collector>(handle);
}

Result<Collector*> contents_collector(Session& s, std::uint32_t handle) {
  ICS_TRY_ASSIGN(Collector * c, collector_of(s, handle));
  if (c->hierarchy()) return Error(ErrorCode::NotSupported, "a hierarchy collector imports no messages");
  return c;
}

Result<Collector*> hierarchy_collector(Session& s, std::uint32_t handle) {
  ICS_TRY_ASSIGN(Collector * c, collector_of(s, handle));
  if (!c->hierarchy()) return Error(ErrorCode::NotSupported, "a contents collector imports no folders");
  return c;
}

// Runs an import body between begin() and commit()/rollback().
template <class T, class F>
Result<T> guarded(Collector& c, std::size_t values, F&& body) {
  ICS_TRY(c.begin(values));
  Result<T> r = body();
  if (r.ok()) {
    c.commit();
  } else {
    c.rollback();
  }
  return r;
}

// ---- fixed property values ----

Error bad_value(std::size_t index, PropTag want) {
  return Error(ErrorCode::InvalidParameter, "value " + std::to_string(index) + " must be " +
                                                std::string(tag_name(want)));
}

Result<ByteView> binary_at(const std::vector<PropValue>& v, std::size_t i, PropTag tag) {
  const Bytes* b = v[i].as_bytes();
  if (v[i].tag != tag || b == nullptr) return bad_value(i, tag);
  return ByteView(*b);
}

Result<std::uint64_t> time_at(const std::vector<PropValue>& v, std::size_t i) {
  const std::uint64_t* t = v[i].as_integer();
  if (v[i].tag != tags::kLastModificationTime || t == nullptr) return bad_value(i, tags::kLastModificationTime);
  return *t;
}

Result<Bytes> display_name_at(const std::vector<PropValue>& v, std::size_t i) {
  const PropTag t = v[i].tag;
  const Bytes* b = v[i].as_bytes();
  const bool string_type = t.type() == ptyp::kString || t.type() == ptyp::kString8;
  if (t.id() != tags::kDisplayName.id() || !string_type || b == nullptr) {
    return bad_value(i, tags::kDisplayName);
  }
  return *b;
}

Error with_index(const Error& e, std::string_view what) {
  return Error(e.code(), std::string(what) + ": " + e.what(), e.offset());
}

// The ICS header every import carries: source key, time, change key, PCL.
struct Header {
  Gid source_key;
  std::uint64_t last_modified = 0;
  Xid change_key;
  Pcl pcl;  // includes change_key
};

// Reads header values at first, first+1, ... (source key, time, change key, PCL).
Result<Header> read_header(const std::vector<PropValue>& v, std::size_t first) {
  Header h;
  ICS_TRY_ASSIGN(ByteView sk, binary_at(v, first, tags::kSourceKey));
  ICS_TRY_ASSIGN(h.last_modified, time_at(v, first + 1));
  ICS_TRY_ASSIGN(ByteView ck, binary_at(v, first + 2, tags::kChangeKey));
  ICS_TRY_ASSIGN(ByteView pcl, binary_at(v, first + 3, tags::kPredecessorChangeList));
  auto gid = parse_gid(sk);
  if (!gid) return with_index(gid.error(), "PidTagSourceKey");
  auto xid = parse_xid(ck);
  if (!xid) return with_index(xid.error(), "PidTagChangeKey");
  auto list = Pcl::parse(pcl);
  if (!list) return with_index(list.error(), "PidTagPredecessorChangeList");
  h.source_key = *gid;
  h.change_key = *xid;
  h.pcl = std::move(list).value();
  h.pcl.add(h.change_key);
  return h;
}

PropertyBag bag_of(const std::vector<PropValue>& v, std::size_t from) {
  PropertyBag bag;
  for (std::size_t i = from; i < v.size(); ++i) bag.set(v[i]);
  return bag;
}

Result<Gid> gid_arg(ByteView b, std::string_view what) {
  auto gid = parse_gid(b);
  if (!gid) return with_index(gid.error(), what);
  return *gid;
}

// ---- ids of new objects ----

// Whether a new object may take source_key (see collector.h, "Ids").
Status check_new_key(const Store& store, const Gid& key) {
  if (key.guid != store.guid()) return ok_status();
  if (key.globcnt == 0 || key.globcnt > store.current_id()) {
    return Error(ErrorCode::InvalidParameter, "a local id the store never handed out");
  }
  if (store.is_reserved_deleted(key.globcnt)) {
    return Error(ErrorCode::SyncObjectDeleted, "the client reported this id deleted");
  }
  if (!store.is_reserved(key.globcnt, key.globcnt)) {
    return Error(ErrorCode::SyncObjectDeleted, "a server id whose object no longer exists");
  }
  return ok_status();
}

// ---- decisions and conflict resolution ----

// The winner by last writer wins ([MS-OXCFXICS] 3.1.5.6.2.1; PidTagInConflict).
bool client_wins(std::uint64_t server_time, const Xid& server_key, std::uint64_t client_time,
                 const Xid& client_key) {
  if (client_time != server_time) return client_time > server_time;
  if (client_key.guid != server_key.guid) return client_key.guid > server_key.guid;
  return client_key.local_value() > server_key.local_value();
}

PropertyBag in_conflict(PropertyBag props) {
  props.set(PropValue::integer(tags::kInConflict, 1));
  return props;
}

void flag_in_conflict(PropertyBag& props) {
  const PropValue* old = props.get(tags::kMessageStatus);
  const std::uint64_t* v = old ? old->as_integer() : nullptr;
  const std::uint64_t status = (v ? *v : 0) | kMsInConflict;
  props.set(PropValue::integer(tags::kMessageStatus, status & 0xFFFFFFFFu));
}

ConflictVersion version_of(Fid parent, const Xid& key, const Pcl& pcl, std::uint64_t time,
                           const PropertyBag& props) {
  return ConflictVersion{parent, key, pcl, time, in_conflict(props)};
}

// The client's side of an import, whatever the object.
struct Incoming {
  Header header;
  PropertyBag props;
  Fid parent;  // message: the collector's folder; folder: the new parent
};

// ---- messages ----

struct MessageImport {
  Incoming in;
  bool associated = false;
  bool fail_on_conflict = false;
};

Status check_message_flags(std::uint8_t flags) {
  const std::uint8_t known = import_flag::kAssociated | import_flag::kFailOnConflict;
  if ((flags & ~known) != 0) return Error(ErrorCode::InvalidParameter, "unknown ImportFlag bits");
  return ok_status();
}

Result<MessageImport> parse_message_import(const Collector& c, std::uint8_t flags,
                                           const std::vector<PropValue>& values) {
  ICS_TRY(check_message_flags(flags));
  if (values.empty()) return Error(ErrorCode::InvalidParameter, "PropertyValueCount must not be 0");
  if (values.size() < 4) return Error(ErrorCode::InvalidParameter, "the four ICS header values are required");
  MessageImport m;
  ICS_TRY_ASSIGN(m.in.header, read_header(values, 0));
  m.in.props = bag_of(values, 4);
  m.in.parent = c.folder();
  m.associated = (flags & import_flag::kAssociated) != 0;
  m.fail_on_conflict = (flags & import_flag::kFailOnConflict) != 0;
  return m;
}

// The store's current message for an import: nullopt for a new one.
Result<std::optional<MessageSnapshot>> current_message(const Collector& c, const MessageImport& m) {
  const Store& store = c.store();
  const Gid& key = m.in.header.source_key;
  const bool left_here = store.find_message_tombstone(c.folder(), key).has_value();
  auto mid = store.find_message(key);
  if (!mid) {
    if (left_here) return Error(ErrorCode::SyncObjectDeleted, "the message was deleted or moved away");
    ICS_TRY(check_new_key(store, key));
    return std::optional<MessageSnapshot>();
  }
  auto snap = store.get_message(*mid, true);
  if (!snap) return Error(ErrorCode::ObjectModified, "the message went away while importing");
  if (snap->folder != c.folder()) {
    if (left_here) return Error(ErrorCode::SyncObjectDeleted, "the message was moved away");
    return Error(ErrorCode::InvalidParameter, "the source key names a message in another folder");
  }
  if (snap->associated != m.associated) {
    return Error(ErrorCode::InvalidParameter, "the import and the message differ in the FAI flag");
  }
  return std::optional<MessageSnapshot>(std::move(snap).value());
}

ConflictRecord message_conflict(const MessageSnapshot& server, const MessageImport& m, bool client_won) {
  const Header& h = m.in.header;
  ConflictRecord r;
  r.object = m.associated ? ConflictObject::Associated : ConflictObject::Message;
  r.source_key = h.source_key;
  r.server = version_of(server.folder, server.change_key, server.pcl, server.last_modified, server.props);
  r.client = version_of(m.in.parent, h.change_key, h.pcl, h.last_modified, m.in.props);
  r.client_won = client_won;
  return r;
}

// The version to write, and the outcome it stands for.
struct MessagePlan {
  MessageVersion version;
  ImportOutcome outcome = ImportOutcome::Created;
};

MessageVersion client_message(const Collector& c, const MessageImport& m) {
  MessageVersion v;
  v.folder = c.folder();
  v.source_key = m.in.header.source_key;
  v.associated = m.associated;
  v.change_key = m.in.header.change_key;
  v.pcl = m.in.header.pcl;
  v.last_modified = m.in.header.last_modified;
  v.props = m.in.props;
  return v;
}

MessagePlan resolve_message(const Collector& c, const MessageSnapshot& server, const MessageImport& m) {
  const Header& h = m.in.header;
  const bool won = client_wins(server.last_modified, server.change_key, h.last_modified, h.change_key);
  MessagePlan p{client_message(c, m), won ? ImportOutcome::ClientWon : ImportOutcome::ServerWon};
  if (!won) {
    p.version.change_key = server.change_key;
    p.version.last_modified = server.last_modified;
    p.version.props = server.props;
  }
  p.version.pcl.merge(server.pcl);
  if (!m.associated) flag_in_conflict(p.version.props);
  p.version.conflict = message_conflict(server, m, won);
  return p;
}

Result<MessagePlan> plan_message(const Collector& c, const std::optional<MessageSnapshot>& server,
                                 const MessageImport& m) {
  if (!server) {
    MessagePlan p{client_message(c, m), ImportOutcome::Created};
    p.version.expected_cn = 0;
    return p;
  }
  MessagePlan p;
  PclOrder order = compare(server->pcl, m.in.header.pcl);
#if defined(ICS_SEEDED_BUG_CONFLICT_AS_NEWER)
  // Seeded bug: a conflicting version is taken as newer; the server's change is lost silently.
  if (order == PclOrder::Conflict) order = PclOrder::Newer;
#endif
  switch (order) {
    case PclOrder::Equal:
    case PclOrder::Older:
      return Error(ErrorCode::SyncIgnore, "the store has this version or a newer one");
    case PclOrder::Newer:
      p = MessagePlan{client_message(c, m), ImportOutcome::Updated};
      break;
    case PclOrder::Conflict:
      if (m.fail_on_conflict) return Error(ErrorCode::SyncConflict, "conflicting versions (FailOnConflict)");
      p = resolve_message(c, *server, m);
      break;
  }
  p.version.expected_cn = server->cn;
  return p;
}

bool clean(ImportOutcome o) { return o == ImportOutcome::Created || o == ImportOutcome::Updated; }

// Adds an imported object to the state: its key to given, its CN to a seen set.
void remember(IcsState& st, const Gid& key, const Guid& store_guid, Globcnt cn, GuidCnset* seen) {
  Status a = st.given.insert(key.guid, key.globcnt);
  Status b = seen ? seen->insert(store_guid, cn) : ok_status();
  (void)a;  // GLOBCNTs from GIDs and the store are 48-bit by construction
  (void)b;
}

Result<ImportResult> write_message(Collector& c, const MessageImport& m) {
  for (std::uint32_t attempt = 1; attempt <= kMaxImportAttempts; ++attempt) {
    auto server = current_message(c, m);
    if (server.code() == ErrorCode::ObjectModified) continue;
    if (!server) return server.error();
    ICS_TRY_ASSIGN(MessagePlan plan, plan_message(c, *server, m));
    c.before_write(attempt);
    auto put = c.store().put_message_version(plan.version);
    if (put.code() == ErrorCode::ObjectModified) continue;
    if (!put) return put.error();
    return ImportResult{plan.outcome, put->mid, put->source_key, put->cn, clean(plan.outcome), attempt};
  }
  return Error(ErrorCode::ObjectModified, "the message kept changing under the import");
}

// ---- folders ----

Result<Incoming> parse_folder_import(const Collector& c, const std::vector<PropValue>& hv,
                                     const std::vector<PropValue>& pv, std::optional<Gid>& parent_key) {
  if (hv.size() != 6) return Error(ErrorCode::InvalidParameter, "HierarchyValueCount must be 6");
  ICS_TRY_ASSIGN(ByteView pk, binary_at(hv, 0, tags::kParentSourceKey));
  Incoming in;
  ICS_TRY_ASSIGN(in.header, read_header(hv, 1));
  ICS_TRY_ASSIGN(Bytes display_name, display_name_at(hv, 5));
  parent_key.reset();
  if (!pk.empty()) {
    ICS_TRY_ASSIGN(Gid g, gid_arg(pk, "PidTagParentSourceKey"));
    parent_key = g;
  }
  in.props = bag_of(pv, 0);
  in.props.set(PropValue{hv[5].tag, std::nullopt, std::move(display_name)});
  in.parent = c.folder();
  return in;
}

// Whether fid is top or below it.
bool within(const Store& store, Fid fid, Fid top) {
  const std::size_t bound = store.folder_count() + 1;
  for (std::size_t i = 0; i <= bound; ++i) {
    if (fid == top) return true;
    auto f = store.get_folder(fid);
    if (!f || f->fid == store.root()) return false;
    fid = f->parent;
  }
  return false;
}

Result<Fid> import_parent(const Collector& c, const std::optional<Gid>& key) {
  if (!key) return c.folder();
  auto fid = c.store().find_folder(*key);
  if (!fid || !within(c.store(), *fid, c.folder())) {
    return Error(ErrorCode::SyncNoParent, "the parent folder is missing or outside the collector");
  }
  return *fid;
}

Result<std::optional<FolderSnapshot>> current_folder(const Collector& c, const Gid& key) {
  const Store& store = c.store();
  auto fid = store.find_folder(key);
  if (!fid) {
    if (store.find_folder_tombstone(key)) return Error(ErrorCode::SyncObjectDeleted, "the folder was deleted");
    ICS_TRY(check_new_key(store, key));
    return std::optional<FolderSnapshot>();
  }
  if (*fid == c.folder()) return Error(ErrorCode::InvalidParameter, "the collector's own folder");
  if (!within(store, *fid, c.folder())) {
    return Error(ErrorCode::InvalidParameter, "the folder is outside the collector's folder");
  }
  auto snap = store.get_folder(*fid);
  if (!snap) return Error(ErrorCode::ObjectModified, "the folder went away while importing");
  return std::optional<FolderSnapshot>(std::move(snap).value());
}

struct FolderPlan {
  FolderVersion version;
  ImportOutcome outcome = ImportOutcome::Created;
};

FolderVersion client_folder(const Incoming& in) {
  FolderVersion v;
  v.parent = in.parent;
  v.source_key = in.header.source_key;
  v.change_key = in.header.change_key;
  v.pcl = in.header.pcl;
  v.last_modified = in.header.last_modified;
  v.props = in.props;
  return v;
}

FolderPlan resolve_folder(const FolderSnapshot& server, const Incoming& in) {
  const Header& h = in.header;
  const bool won = client_wins(server.last_modified, server.change_key, h.last_modified, h.change_key);
  FolderPlan p{client_folder(in), won ? ImportOutcome::ClientWon : ImportOutcome::ServerWon};
  if (!won) {
    p.version.parent = server.parent;
    p.version.change_key = server.change_key;
    p.version.last_modified = server.last_modified;
    p.version.props = server.props;
  }
  p.version.pcl.merge(server.pcl);
  ConflictRecord r;
  r.object = ConflictObject::Folder;
  r.source_key = h.source_key;
  r.server = version_of(server.parent, server.change_key, server.pcl, server.last_modified, server.props);
  r.client = version_of(in.parent, h.change_key, h.pcl, h.last_modified, in.props);
  r.client_won = won;
  p.version.conflict = std::move(r);
  return p;
}

Result<FolderPlan> plan_folder(const std::optional<FolderSnapshot>& server, const Incoming& in) {
  if (!server) {
    FolderPlan p{client_folder(in), ImportOutcome::Created};
    p.version.expected_cn = 0;
    return p;
  }
  FolderPlan p;
  switch (compare(server->pcl, in.header.pcl)) {
    case PclOrder::Equal:
    case PclOrder::Older:
      return Error(ErrorCode::SyncIgnore, "the store has this version or a newer one");
    case PclOrder::Newer:
      p = FolderPlan{client_folder(in), ImportOutcome::Updated};
      break;
    case PclOrder::Conflict:
      p = resolve_folder(*server, in);
      break;
  }
  p.version.expected_cn = server->cn;
  return p;
}

Result<ImportResult> write_folder(Collector& c, Incoming in, const std::optional<Gid>& parent_key) {
  for (std::uint32_t attempt = 1; attempt <= kMaxImportAttempts; ++attempt) {
    ICS_TRY_ASSIGN(in.parent, import_parent(c, parent_key));
    auto server = current_folder(c, in.header.source_key);
    if (server.code() == ErrorCode::ObjectModified) continue;
    if (!server) return server.error();
    ICS_TRY_ASSIGN(FolderPlan plan, plan_folder(*server, in));
    c.before_write(attempt);
    auto put = c.store().put_folder_version(plan.version);
    if (put.code() == ErrorCode::ObjectModified) continue;
    if (!put) return put.error();
    return ImportResult{plan.outcome, put->fid, put->source_key, put->cn, clean(plan.outcome), attempt};
  }
  return Error(ErrorCode::ObjectModified, "the folder kept changing under the import");
}

// ---- deletes and read state ----

Result<std::vector<Gid>> parse_keys(const std::vector<Bytes>& keys) {
  std::vector<Gid> out;
  out.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ICS_TRY_ASSIGN(Gid g, gid_arg(keys[i], "source key " + std::to_string(i)));
    out.push_back(g);
  }
  return out;
}

Status check_delete_flags(const Collector& c, std::uint8_t flags) {
  const std::uint8_t known = import_delete_flag::kHierarchy | import_delete_flag::kHardDelete;
  if ((flags & ~known) != 0) return Error(ErrorCode::InvalidParameter, "unknown ImportDeleteFlags bits");
  const bool folders = (flags & import_delete_flag::kHierarchy) != 0;
  if (folders != c.hierarchy()) {
    return Error(ErrorCode::NotSupported, "the Hierarchy flag must match the collector");
  }
  return ok_status();
}

void forget(IcsState& st, const Gid& key) {
  Status s = st.given.remove(key.guid, key.globcnt);
  (void)s;  // 48-bit by construction
}

// Deletes one message; false when it is skipped.
Result<bool> delete_one_message(Collector& c, const Gid& key, DeleteKind kind) {
  Store& store = c.store();
  auto mid = store.find_message(key);
  if (!mid) return false;
  auto snap = store.get_message(*mid, false);
  if (!snap || snap->folder != c.folder()) return false;
  auto cn = store.delete_message(*mid, kind);
  if (cn.code() == ErrorCode::NotFound) return false;
  if (!cn) return cn.error();
  forget(c.state(), key);
  return true;
}

// Deletes one folder and what is below it; false when it is skipped.
Result<bool> delete_one_folder(Collector& c, const Gid& key, DeleteKind kind) {
  Store& store = c.store();
  auto fid = store.find_folder(key);
  if (!fid || !within(store, *fid, c.folder())) return false;
  auto below = store.folder_tree(*fid);
  Status st = store.delete_folder(*fid, kind);
  if (st.code() == ErrorCode::NotFound) return false;
  if (!st) return st.error();
  forget(c.state(), key);
  if (below) {
    for (const FolderSnapshot& f : *below) forget(c.state(), f.source_key);
  }
  return true;
}

Result<DeleteResult> delete_all(Collector& c, const std::vector<Gid>& keys, DeleteKind kind) {
  DeleteResult r;
  for (const Gid& key : keys) {
    auto done = c.hierarchy() ? delete_one_folder(c, key, kind) : delete_one_message(c, key, kind);
    if (!done) return done.error();
    ++(*done ? r.deleted : r.skipped);
  }
  return r;
}

// Applies one read-state change and counts it.
Status read_one(Collector& c, const Gid& key, bool read, ReadStateResult& r) {
  Store& store = c.store();
  auto mid = store.find_message(key);
  auto snap = mid ? store.get_message(*mid, false) : Result<MessageSnapshot>(ErrorCode::NotFound);
  if (!snap || snap->folder != c.folder()) {
    ++r.skipped;
    return ok_status();
  }
  if (snap->associated) {
    ++r.ignored;
    return ok_status();
  }
  auto cn = store.set_read(*mid, read);
  if (cn.code() == ErrorCode::NotFound) {
    ++r.skipped;
    return ok_status();
  }
  if (!cn) return cn.error();
  if (*cn == 0) {
    ++r.unchanged;
    return ok_status();
  }
  Status s = c.state().read.insert(store.guid(), *cn);
  (void)s;  // a store CN is 48-bit
  ++r.changed;
  return ok_status();
}

// ---- moves ----

struct MoveArgs {
  Gid source_folder;
  Gid message;
  Pcl pcl;
  Xid change_key;
};

Result<MoveArgs> parse_move(const ImportMove& m) {
  if (m.source_folder.empty() || m.source_message.empty() || m.pcl.empty() ||
      m.destination_message.empty() || m.change_number.empty()) {
    return Error(ErrorCode::InvalidParameter, "every ImportMessageMove field must be non-empty");
  }
  MoveArgs a;
  ICS_TRY_ASSIGN(a.source_folder, gid_arg(m.source_folder, "SourceFolderId"));
  ICS_TRY_ASSIGN(a.message, gid_arg(m.source_message, "SourceMessageId"));
  ICS_TRY_ASSIGN(Gid dest, gid_arg(m.destination_message, "DestinationMessageId"));
  auto pcl = Pcl::parse(m.pcl);
  if (!pcl) return with_index(pcl.error(), "PredecessorChangeList");
  auto xid = parse_xid(m.change_number);
  if (!xid) return with_index(xid.error(), "ChangeNumber");
  if (dest != a.message) {
    return Error(ErrorCode::InvalidParameter, "the store keeps a moved message's source key");
  }
  a.pcl = std::move(pcl).value();
  a.change_key = *xid;
  return a;
}

Result<Fid> move_source(const Collector& c, const Gid& key) {
  auto fid = c.store().find_folder(key);
  if (!fid) {
    if (c.store().find_folder_tombstone(key)) return Error(ErrorCode::SyncObjectDeleted, "the source folder was deleted");
    return Error(ErrorCode::NotFound, "no such source folder");
  }
  if (*fid == c.folder()) return Error(ErrorCode::InvalidParameter, "a move within the collector's folder");
  return *fid;
}

// How the client's PCL decides the move: its stamp, code and whether seen.
void plan_move(PclOrder order, const MoveArgs& a, MoveVersion& v, MoveResult& r) {
  r.code = ErrorCode::Success;
  r.seen = true;
  switch (order) {
    case PclOrder::Equal:
      v.change_key = a.change_key;
      v.pcl = a.pcl;
      break;
    case PclOrder::Newer:  // the client's version is newer than the store's
      r.code = ErrorCode::NewerClientChange;
      break;
    case PclOrder::Older:  // the store's is newer: the client downloads it
      r.seen = false;
      break;
    case PclOrder::Conflict:
      r.code = ErrorCode::NewerClientChange;
      r.seen = false;
      break;
  }
}

// One decision and write; ObjectModified when the message changed meanwhile.
Result<MoveResult> move_once(Collector& c, Fid source, const MoveArgs& a, std::uint32_t attempt,
                             bool& associated) {
  Store& store = c.store();
  auto mid = store.find_message(a.message);
  if (!mid) return Error(ErrorCode::SyncObjectDeleted, "the message no longer exists");
  auto snap = store.get_message(*mid, false);
  if (!snap) return Error(ErrorCode::ObjectModified, "the message went away while importing");
  associated = snap->associated;
  if (snap->folder == c.folder()) return MoveResult{ErrorCode::Success, *mid, snap->cn, false, attempt};
  if (snap->folder != source) return Error(ErrorCode::SyncObjectDeleted, "the message left the source folder");
  MoveVersion v{*mid, source, c.folder(), snap->cn, std::nullopt, Pcl{}};
  MoveResult r{ErrorCode::Success, *mid, 0, false, attempt};
  plan_move(compare(snap->pcl, a.pcl), a, v, r);
  c.before_write(attempt);
  ICS_TRY_ASSIGN(MessageSnapshot moved, store.put_message_move(v));
  r.cn = moved.cn;
  return r;
}

Result<MoveResult> write_move(Collector& c, const MoveArgs& a) {
  ICS_TRY_ASSIGN(Fid source, move_source(c, a.source_folder));
  for (std::uint32_t attempt = 1; attempt <= kMaxImportAttempts; ++attempt) {
    bool associated = false;
    auto r = move_once(c, source, a, attempt, associated);
    if (r.code() == ErrorCode::ObjectModified) continue;
    if (!r) return r.error();
    GuidCnset* seen = r->seen ? (associated ? &c.state().seen_fai : &c.state().seen) : nullptr;
    remember(c.state(), a.message, c.store().guid(), r->cn, seen);
    return r;
  }
  return Error(ErrorCode::ObjectModified, "the message kept changing under the move");
}

// ---- local replica ids ----

Status check_range(const Store& store, const LongTermIdRange& r) {
  if (r.min.guid != r.max.guid) return Error(ErrorCode::InvalidParameter, "a range mixes REPLGUIDs");
  if (r.min.guid != store.guid()) return Error(ErrorCode::InvalidParameter, "ids of another replica");
  if (r.min.globcnt > r.max.globcnt) return Error(ErrorCode::InvalidParameter, "a range with min > max");
  if (!store.is_reserved(r.min.globcnt, r.max.globcnt)) {
    return Error(ErrorCode::InvalidParameter, "ids the store never reserved");
  }
  return ok_status();
}

}  // namespace

// ======================= the ROPs =======================

Result<std::uint32_t> open_collector(Session& s, Fid folder, bool contents) {
  ICS_TRY_ASSIGN(FolderSnapshot f, s.store().get_folder(folder));
  return s.add(std::make_unique<Collector>(s, folder, f.source_key, contents));
}

Result<ImportResult> import_message_change(Session& s, std::uint32_t collector,
                                           std::uint8_t import_flags,
                                           const std::vector<PropValue>& values) {
  ICS_TRY_ASSIGN(Collector * c, contents_collector(s, collector));
  ICS_TRY_ASSIGN(MessageImport m, parse_message_import(*c, import_flags, values));
  return guarded<ImportResult>(*c, 2, [&]() -> Result<ImportResult> {
    ICS_TRY_ASSIGN(ImportResult r, write_message(*c, m));
    GuidCnset* seen = r.seen ? (m.associated ? &c->state().seen_fai : &c->state().seen) : nullptr;
    remember(c->state(), r.source_key, c->store().guid(), r.cn, seen);
    return r;
  });
}

Result<ImportResult> import_hierarchy_change(Session& s, std::uint32_t collector,
                                             const std::vector<PropValue>& hierarchy_values,
                                             const std::vector<PropValue>& property_values) {
  ICS_TRY_ASSIGN(Collector * c, hierarchy_collector(s, collector));
  std::optional<Gid> parent_key;
  ICS_TRY_ASSIGN(Incoming in, parse_folder_import(*c, hierarchy_values, property_values, parent_key));
  return guarded<ImportResult>(*c, 2, [&]() -> Result<ImportResult> {
    ICS_TRY_ASSIGN(ImportResult r, write_folder(*c, std::move(in), parent_key));
    remember(c->state(), r.source_key, c->store().guid(), r.cn, r.seen ? &c->state().seen : nullptr);
    return r;
  });
}

Result<DeleteResult> import_deletes(Session& s, std::uint32_t collector, std::uint8_t flags,
                                    const std::vector<Bytes>& source_keys) {
  ICS_TRY_ASSIGN(Collector * c, collector_of(s, collector));
  ICS_TRY(check_delete_flags(*c, flags));
  ICS_TRY_ASSIGN(std::vector<Gid> keys, parse_keys(source_keys));
  if (std::find(keys.begin(), keys.end(), c->folder_key()) != keys.end()) {
    return Error(ErrorCode::InvalidParameter, "a collector cannot delete its own folder");
  }
  const DeleteKind kind = (flags & import_delete_flag::kHardDelete) ? DeleteKind::Hard : DeleteKind::Soft;
  return guarded<DeleteResult>(*c, keys.size(), [&] { return delete_all(*c, keys, kind); });
}

Result<ReadStateResult> import_read_state_changes(Session& s, std::uint32_t collector,
                                                  const std::vector<ReadStateChange>& changes) {
  ICS_TRY_ASSIGN(Collector * c, contents_collector(s, collector));
  std::vector<Bytes> raw;
  raw.reserve(changes.size());
  for (const ReadStateChange& ch : changes) raw.push_back(ch.source_key);
  ICS_TRY_ASSIGN(std::vector<Gid> keys, parse_keys(raw));
  return guarded<ReadStateResult>(*c, keys.size(), [&]() -> Result<ReadStateResult> {
    ReadStateResult r;
    for (std::size_t i = 0; i < keys.size(); ++i) ICS_TRY(read_one(*c, keys[i], changes[i].mark_as_read, r));
    return r;
  });
}

Result<MoveResult> import_message_move(Session& s, std::uint32_t collector, const ImportMove& move) {
  ICS_TRY_ASSIGN(Collector * c, contents_collector(s, collector));
  ICS_TRY_ASSIGN(MoveArgs a, parse_move(move));
  return guarded<MoveResult>(*c, 2, [&] { return write_move(*c, a); });
}

Result<LocalReplicaIds> get_local_replica_ids(Session& s, std::uint32_t count) {
  ICS_TRY_ASSIGN(auto ids, s.store().reserve_ids(count));
  return LocalReplicaIds{ids.first, ids.second};
}

Status set_local_replica_midset_deleted(Session& s, Fid folder,
                                        const std::vector<LongTermIdRange>& ranges) {
  Store& store = s.store();
  ICS_TRY(store.get_folder(folder));
  for (const LongTermIdRange& r : ranges) ICS_TRY(check_range(store, r));
  for (const LongTermIdRange& r : ranges) ICS_TRY(store.mark_reserved_deleted(r.min.globcnt, r.max.globcnt));
  return ok_status();
}

Status set_collector_hooks(Session& s, std::uint32_t collector, CollectorHooks hooks) {
  ICS_TRY_ASSIGN(Collector * c, collector_of(s, collector));
  c->hooks() = std::move(hooks);
  return ok_status();
}

}  // namespace ics
