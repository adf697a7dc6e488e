// Differential test of the upload collector: fixed-seed random sequences of
// server changes and client imports, each checked against a small model of
// what the store must hold afterwards (every message's version, PCL, time,
// properties, read flag), of the collector's state, of the conflict records
// and of the CN each change takes. The model keeps its own PCLs (GUID ->
// counter) and its own decision and last-writer-wins rules.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <set>
#include <string>

#include "collector_testing.h"
#include "ics/collector.h"

namespace ics {
namespace {

using namespace collector_testing;

const Guid kStoreGuid = Guid::from_seed(4242);
Guid client_guid(std::uint8_t first) {
  Guid g = Guid::from_seed(first);
  g.bytes[0] = first;
  return g;
}
const Guid kClients[] = {client_guid(0x02), client_guid(0xFD)};

// ---- the model ----

using MPcl = std::map<Guid, Globcnt>;  // every XID here has a 6-byte LocalId

MPcl mpcl(const Pcl& p) {
  MPcl m;
  for (const Xid& x : p.xids()) m[x.guid] = x.local_value();
  return m;
}
Pcl to_pcl(const MPcl& m) {
  Pcl p;
  for (const auto& [g, v] : m) p.add(Xid::from_globcnt(g, v));
  return p;
}
void add(MPcl& m, const Xid& x) {
  Globcnt& v = m[x.guid];
  v = std::max(v, x.local_value());
}
MPcl merged(MPcl a, const MPcl& b) {
  for (const auto& [g, v] : b) a[g] = std::max(a[g], v);
  return a;
}
bool includes(const MPcl& a, const MPcl& b) {
  for (const auto& [g, v] : b) {
    auto it = a.find(g);
    if (it == a.end() || it->second < v) return false;
  }
  return true;
}

enum class Order { Equal, Newer, Older, Conflict };
Order order(const MPcl& server, const MPcl& client) {
  const bool c_has_s = includes(client, server), s_has_c = includes(server, client);
  if (c_has_s && s_has_c) return Order::Equal;
  if (c_has_s) return Order::Newer;
  if (s_has_c) return Order::Older;
  return Order::Conflict;
}

struct Version {
  Xid ck;
  MPcl pcl;
  std::uint64_t lmt = 0;
  PropertyBag props;
};

bool client_later(const Version& server, const Version& client) {
  if (client.lmt != server.lmt) return client.lmt > server.lmt;
  if (client.ck.guid != server.ck.guid) return server.ck.guid < client.ck.guid;
  return client.ck.local_value() > server.ck.local_value();
}

struct MMsg {
  Gid key;
  Id id;
  Fid folder;
  bool associated = false;
  bool exists = true;
  bool read = false;
  Version cur;
  std::vector<Version> history;  // every version it had, cur last
};

// ---- one run ----

class ModelRun {
 public:
  explicit ModelRun(std::uint64_t seed) : rng_(seed) {
    store_ = std::make_shared<Store>(StoreOptions{kStoreGuid, 1});
    f_ = store_->create_folder(store_->root(), "F").value();
    g_ = store_->create_folder(store_->root(), "G").value();
    for (int i = 0; i < 8; ++i) server_create(f_);
    for (int i = 0; i < 4; ++i) server_create(g_);
    session_ = std::move(Session::open(store_)).value();
    baseline_ = session_->memory().live_bytes();
    h_ = open_collector(*session_, f_, true).value();
    upload_initial_state();
  }

  void step() {
    const int op = pick(100);
    if (op < 8) return server_create(pick(3) ? f_ : g_);
    if (op < 18) return server_modify();
    if (op < 22) return server_delete();
    if (op < 26) return server_move();
    if (op < 30) return reserve_or_report();
    if (op < 70) return client_import();
    if (op < 78) return client_delete();
    if (op < 88) return client_read();
    client_move();
  }

  // Checks the messages the last step touched, and every 25th time all of them.
  void check() {
    if (++checks_ % 25 == 0) {
      check_messages();
    } else {
      for (const Gid& k : touched_) check_message(k, msgs_.at(k));
    }
    touched_.clear();
    EXPECT_EQ(store_->conflict_count(), conflicts_);
  }
  void check_state() {
    auto st = transfer_state_of(*session_, h_, 64 + pick(300));
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_EQ(st->given, state_.given);
    EXPECT_EQ(st->seen, state_.seen);
    EXPECT_EQ(st->seen_fai, state_.seen_fai);
    EXPECT_EQ(st->read, state_.read);
  }
  void finish() {
    check_messages();
    check_state();
    ASSERT_TRUE(session_->release(h_).ok());
    EXPECT_EQ(session_->memory().live_bytes(), baseline_);
    Status inv = store_->check_invariants();
    EXPECT_TRUE(inv.ok()) << inv.error().to_string();
  }
  std::size_t conflicts() const { return conflicts_; }
  const std::map<std::string, int>& outcomes() const { return outcomes_; }

 private:
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  PropertyBag bag(const std::string& text) {
    PropertyBag b;
    b.set(subject(text));
    return b;
  }
  Xid client_xid() {
    const Guid& g = kClients[pick(2)];
    return Xid::from_globcnt(g, ++client_counter_[g]);
  }
  MMsg* random_msg() {
    if (msgs_.empty()) return nullptr;
    auto it = msgs_.begin();
    std::advance(it, static_cast<long>(pick(msgs_.size())));
    touched_.insert(it->first);
    return &it->second;
  }
  MMsg* random_live(Fid folder) {
    std::vector<MMsg*> c;
    for (auto& [k, m] : msgs_) {
      if (m.exists && m.folder == folder) c.push_back(&m);
    }
    if (c.empty()) return nullptr;
    MMsg* m = c[pick(c.size())];
    touched_.insert(m->key);
    return m;
  }
  void set_version(MMsg& m, Version v) {
    m.cur = std::move(v);
    m.history.push_back(m.cur);
  }
  Version server_version(Globcnt cn, MPcl pcl, PropertyBag props) {
    Version v{Xid::from_globcnt(kStoreGuid, cn), std::move(pcl), filetime_for_cn(cn), std::move(props)};
    add(v.pcl, v.ck);
    return v;
  }
  void count(std::string_view what) { ++outcomes_[std::string(what)]; }

  // ---- server side ----

  void server_create(Fid folder) {
    const Globcnt before = store_->current_cn();
    const Globcnt id_before = store_->current_id();
    const bool fai = pick(5) == 0;
    const std::string text = "s" + std::to_string(++text_counter_);
    Mid mid = store_->create_message(folder, bag(text), fai).value();
    ASSERT_EQ(mid.globcnt, id_before + 1);
    MMsg m;
    m.key = Gid{kStoreGuid, mid.globcnt};
    m.id = mid;
    m.folder = folder;
    m.associated = fai;
    set_version(m, server_version(before + 1, {}, bag(text)));
    msgs_[m.key] = m;
    touched_.insert(m.key);
  }
  void server_modify() {
    MMsg* m = random_msg();
    if (m == nullptr || !m->exists) return;
    const Globcnt before = store_->current_cn();
    const std::string text = "s" + std::to_string(++text_counter_);
    PropChanges c;
    c.set.set(subject(text));
    ASSERT_TRUE(store_->modify_message(m->id, c).ok());
    PropertyBag props = m->cur.props;
    props.set(subject(text));
    set_version(*m, server_version(before + 1, m->cur.pcl, props));
  }
  void server_delete() {
    MMsg* m = random_msg();
    if (m == nullptr || !m->exists) return;
    ASSERT_TRUE(store_->delete_message(m->id, pick(2) ? DeleteKind::Hard : DeleteKind::Soft).ok());
    m->exists = false;
    if (m->folder == f_) tomb_f_.insert(m->key);
  }
  void server_move() {
    MMsg* m = random_msg();
    if (m == nullptr || !m->exists) return;
    const Fid dest = m->folder == f_ ? g_ : f_;
    const Globcnt before = store_->current_cn();
    ASSERT_TRUE(store_->move_message(m->id, dest).ok());
    enter(*m, dest);
    set_version(*m, server_version(before + 1, m->cur.pcl, m->cur.props));
  }
  void enter(MMsg& m, Fid dest) {
    if (m.folder == f_) tomb_f_.insert(m.key);
    if (dest == f_) tomb_f_.erase(m.key);
    m.folder = dest;
  }
  void reserve_or_report() {
    if (pick(3) != 0 || reserved_.empty()) {
      auto ids = get_local_replica_ids(*session_, 3);
      ASSERT_TRUE(ids.ok());
      for (Globcnt i = 0; i < 3; ++i) reserved_.push_back(ids->first + i);
      return;
    }
    const Globcnt id = reserved_[pick(reserved_.size())];
    const Gid g{kStoreGuid, id};
    const bool used = msgs_.count(g) != 0;
    if (used) return;  // only ids never imported are reported
    ASSERT_TRUE(set_local_replica_midset_deleted(*session_, f_, {{g, g}}).ok());
    reported_.insert(id);
  }

  // ---- client side ----

  void upload_initial_state() {
    for (const auto& [k, m] : msgs_) {
      if (m.folder == f_) {
        ASSERT_TRUE(state_.given.insert(k.guid, k.globcnt).ok());
      }
    }
    ASSERT_TRUE(state_.seen.insert(kStoreGuid, 1, store_->current_cn()).ok());
    ASSERT_TRUE(upload_property(*session_, h_, tags::kMetaTagIdsetGiven, state_.given).ok());
    ASSERT_TRUE(upload_property(*session_, h_, tags::kMetaTagCnsetSeen, state_.seen).ok());
  }

  // Expects an error outcome that changed nothing.
  template <class R>
  void expect_error(const R& r, ErrorCode want, std::size_t bytes, Globcnt cn) {
    ASSERT_EQ(r.code(), want) << (r.ok() ? std::string("ok") : r.error().to_string());
    EXPECT_EQ(session_->memory().live_bytes(), bytes);
    EXPECT_EQ(store_->current_cn(), cn);
    count(name(want));
  }

  struct Plan {
    Gid key;
    Version v;
    bool associated = false;
    bool fail_on_conflict = false;
    MMsg* target = nullptr;  // nullptr: a new key
  };

  Plan plan_import() {
    Plan p;
    p.fail_on_conflict = pick(3) == 0;
    p.v.props = bag("c" + std::to_string(++text_counter_));
    MMsg* m = pick(4) ? random_msg() : nullptr;
    if (m == nullptr) return plan_new(p);
    p.key = m->key;
    p.target = m;
    p.associated = pick(12) ? m->associated : !m->associated;
    const Version& base = pick(2) ? m->cur : m->history[pick(m->history.size())];
    if (pick(4) == 0) {  // a replay of a version the store had
      p.v.ck = base.ck;
      p.v.pcl = base.pcl;
      p.v.lmt = base.lmt;
      return p;
    }
    p.v.ck = client_xid();
    p.v.pcl = base.pcl;
    add(p.v.pcl, p.v.ck);
    const std::uint64_t t = m->cur.lmt;
    p.v.lmt = std::array<std::uint64_t, 3>{t - 5, t, t + 5}[pick(3)];
    return p;
  }
  Plan plan_new(Plan p) {
    p.associated = pick(5) == 0;
    p.v.ck = client_xid();
    add(p.v.pcl, p.v.ck);
    p.v.lmt = 10 + pick(1000);  // never 0: the store reads 0 as "now"
    if (!reserved_.empty() && pick(3) == 0) {
      const std::size_t i = pick(reserved_.size());
      p.key = Gid{kStoreGuid, reserved_[i]};
      reserved_.erase(reserved_.begin() + static_cast<long>(i));
    } else {
      p.key = Gid{kClients[pick(2)], ++new_key_counter_};
    }
    return p;
  }

  // What must happen to a new key, or a key whose message is not here.
  ErrorCode absent_outcome(const Plan& p) {
    if (tomb_f_.count(p.key)) return ErrorCode::SyncObjectDeleted;
    if (p.target != nullptr && p.target->exists) return ErrorCode::InvalidParameter;
    if (p.key.guid != kStoreGuid) return ErrorCode::Success;
    if (reported_.count(p.key.globcnt)) return ErrorCode::SyncObjectDeleted;
    // A deleted local key with no tombstone in F was made by the server (keys
    // from reserved ids are only ever created in F): gone for good.
    return p.target ? ErrorCode::SyncObjectDeleted : ErrorCode::Success;
  }

  void client_import() {
    Plan p = plan_import();
    const std::size_t bytes = session_->memory().live_bytes();
    const Globcnt before = store_->current_cn();
    std::uint8_t flags = (p.associated ? import_flag::kAssociated : 0) |
                         (p.fail_on_conflict ? import_flag::kFailOnConflict : 0);
    std::vector<PropValue> props(p.v.props.values().begin(), p.v.props.values().end());
    auto r = import_message_change(*session_, h_, flags, message_values(p.key, p.v.lmt, p.v.ck, to_pcl(p.v.pcl), props));
    const bool here = p.target && p.target->exists && p.target->folder == f_;
    if (!here) return import_absent(p, r, bytes, before);
    if (p.target->associated != p.associated) return expect_error(r, ErrorCode::InvalidParameter, bytes, before);
    MMsg& m = *p.target;
    add(p.v.pcl, p.v.ck);
    switch (order(m.cur.pcl, p.v.pcl)) {
      case Order::Equal:
      case Order::Older:
        return expect_error(r, ErrorCode::SyncIgnore, bytes, before);
      case Order::Newer:
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        EXPECT_EQ(r->outcome, ImportOutcome::Updated);
        set_version(m, p.v);
        return accepted(m, *r, before, true);
      case Order::Conflict:
        if (p.fail_on_conflict) return expect_error(r, ErrorCode::SyncConflict, bytes, before);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        return resolved(m, p.v, *r, before);
    }
  }
  void import_absent(const Plan& p, const Result<ImportResult>& r, std::size_t bytes, Globcnt before) {
    const ErrorCode want = absent_outcome(p);
    if (want != ErrorCode::Success) return expect_error(r, want, bytes, before);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->outcome, ImportOutcome::Created);
    MMsg m;
    m.key = p.key;
    m.id = r->id;
    m.folder = f_;
    m.associated = p.associated;
    if (p.target) {
      EXPECT_EQ(r->id, p.target->id);
    }
    Version v = p.v;
    add(v.pcl, v.ck);
    set_version(m, v);
    msgs_[p.key] = m;
    touched_.insert(p.key);
    tomb_f_.erase(p.key);
    accepted(msgs_[p.key], *r, before, true);
  }
  void accepted(const MMsg& m, const ImportResult& r, Globcnt before, bool seen) {
    count(name(r.outcome));
    EXPECT_EQ(r.cn, before + 1);
    EXPECT_EQ(r.source_key, m.key);
    EXPECT_EQ(r.seen, seen);
    EXPECT_EQ(r.attempts, 1u);
    ASSERT_TRUE(state_.given.insert(m.key.guid, m.key.globcnt).ok());
    if (seen) {
      ASSERT_TRUE((m.associated ? state_.seen_fai : state_.seen).insert(kStoreGuid, r.cn).ok());
    }
  }
  void resolved(MMsg& m, const Version& client, const ImportResult& r, Globcnt before) {
    const bool won = client_later(m.cur, client);
    EXPECT_EQ(r.outcome, won ? ImportOutcome::ClientWon : ImportOutcome::ServerWon);
    const Version server = m.cur;
    Version v = won ? client : server;
    v.pcl = merged(server.pcl, client.pcl);
    if (!m.associated) {
      const PropValue* mine = v.props.get(tags::kMessageStatus);
      const std::uint64_t status = mine && mine->as_integer() ? *mine->as_integer() : 0;
      v.props.set(PropValue::integer(tags::kMessageStatus, status | kMsInConflict));
    }
    set_version(m, v);
    ++conflicts_;
    const ConflictRecord rec = store_->conflicts().back();
    EXPECT_EQ(rec.source_key, m.key);
    EXPECT_EQ(rec.client_won, won);
    EXPECT_EQ(rec.resolved_cn, before + 1);
    EXPECT_EQ(rec.server.change_key, server.ck);
    EXPECT_EQ(mpcl(rec.server.pcl), server.pcl);
    EXPECT_EQ(rec.client.change_key, client.ck);
    EXPECT_EQ(mpcl(rec.client.pcl), client.pcl);
    EXPECT_EQ(rec.object, m.associated ? ConflictObject::Associated : ConflictObject::Message);
    PropertyBag sp = server.props, cp = client.props;
    sp.set(PropValue::integer(tags::kInConflict, 1));
    cp.set(PropValue::integer(tags::kInConflict, 1));
    EXPECT_EQ(rec.server.props, sp);
    EXPECT_EQ(rec.client.props, cp);
    accepted(m, r, before, false);
  }

  std::vector<Gid> random_keys() {
    std::vector<Gid> keys;
    const std::size_t n = 1 + pick(4);
    for (std::size_t i = 0; i < n; ++i) {
      MMsg* m = random_msg();
      keys.push_back(m && pick(6) ? m->key : Gid{kClients[0], 900000 + pick(5)});
    }
    return keys;
  }
  static std::vector<Bytes> wire(const std::vector<Gid>& keys) {
    std::vector<Bytes> out;
    for (const Gid& k : keys) out.push_back(serialize_gid(k));
    return out;
  }
  MMsg* here(const Gid& key) {
    auto it = msgs_.find(key);
    if (it != msgs_.end()) touched_.insert(key);
    return it != msgs_.end() && it->second.exists && it->second.folder == f_ ? &it->second : nullptr;
  }

  void client_delete() {
    const std::vector<Gid> keys = random_keys();
    const bool hard = pick(2) == 0;
    const Globcnt before = store_->current_cn();
    auto r = import_deletes(*session_, h_, hard ? import_delete_flag::kHardDelete : 0, wire(keys));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    DeleteResult want;
    for (const Gid& k : keys) {
      MMsg* m = here(k);
      if (m == nullptr) {
        ++want.skipped;
        continue;
      }
      ++want.deleted;
      m->exists = false;
      tomb_f_.insert(k);
      ASSERT_TRUE(state_.given.remove(k.guid, k.globcnt).ok());
      auto t = store_->find_message_tombstone(f_, k);
      ASSERT_TRUE(t.has_value());
      EXPECT_EQ(t->kind, hard ? DeleteKind::Hard : DeleteKind::Soft);
      EXPECT_EQ(t->cn, before + want.deleted);
    }
    EXPECT_EQ(r->deleted, want.deleted);
    EXPECT_EQ(r->skipped, want.skipped);
    EXPECT_EQ(store_->current_cn(), before + want.deleted);
    count("delete");
  }

  void client_read() {
    const std::vector<Gid> keys = random_keys();
    std::vector<ReadStateChange> changes;
    for (const Gid& k : keys) changes.push_back({serialize_gid(k), pick(2) == 0});
    Globcnt cn = store_->current_cn();
    auto r = import_read_state_changes(*session_, h_, changes);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ReadStateResult want;
    for (const ReadStateChange& ch : changes) {
      MMsg* m = here(parse_gid(ch.source_key).value());
      if (m == nullptr) {
        ++want.skipped;
      } else if (m->associated) {
        ++want.ignored;
      } else if (m->read == ch.mark_as_read) {
        ++want.unchanged;
      } else {
        ++want.changed;
        m->read = ch.mark_as_read;
        ASSERT_TRUE(state_.read.insert(kStoreGuid, ++cn).ok());
      }
    }
    EXPECT_EQ(r->changed, want.changed);
    EXPECT_EQ(r->unchanged, want.unchanged);
    EXPECT_EQ(r->ignored, want.ignored);
    EXPECT_EQ(r->skipped, want.skipped);
    EXPECT_EQ(store_->current_cn(), cn);
    count("read");
  }

  void client_move() {
    MMsg* m = pick(5) ? random_live(g_) : random_msg();
    if (m == nullptr) return;
    MPcl pcl = m->cur.pcl;
    const std::size_t variant = pick(4);
    if (variant >= 2) pcl = m->history[pick(m->history.size())].pcl;  // maybe older
    if (variant % 2) add(pcl, client_xid());                           // a client change
    const Xid ck = client_xid();
    const ImportMove mv{serialize_gid(Gid{kStoreGuid, g_.globcnt}), serialize_gid(m->key), to_pcl(pcl).serialize(),
                        serialize_gid(m->key), serialize_xid(ck)};
    const std::size_t bytes = session_->memory().live_bytes();
    const Globcnt before = store_->current_cn();
    auto r = import_message_move(*session_, h_, mv);
    if (!m->exists || (m->folder != g_ && m->folder != f_)) {
      return expect_error(r, ErrorCode::SyncObjectDeleted, bytes, before);
    }
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->mid, m->id);
    ASSERT_TRUE(state_.given.insert(m->key.guid, m->key.globcnt).ok());
    if (m->folder == f_) {  // already here
      EXPECT_EQ(r->code, ErrorCode::Success);
      EXPECT_FALSE(r->seen);
      EXPECT_EQ(store_->current_cn(), before);
      return count("move-already-here");
    }
    EXPECT_EQ(r->cn, before + 1);
    enter(*m, f_);
    const Order o = order(m->cur.pcl, pcl);
    const bool seen = o == Order::Equal || o == Order::Newer;
    EXPECT_EQ(r->code, o == Order::Equal || o == Order::Older ? ErrorCode::Success : ErrorCode::NewerClientChange);
    EXPECT_EQ(r->seen, seen);
    if (o == Order::Equal) {
      Version v = m->cur;
      v.ck = ck;
      v.pcl = merged(v.pcl, pcl);
      add(v.pcl, ck);
      set_version(*m, v);
    }
    if (seen) {
      ASSERT_TRUE((m->associated ? state_.seen_fai : state_.seen).insert(kStoreGuid, r->cn).ok());
    }
    count(o == Order::Equal ? "move-equal" : o == Order::Newer ? "move-newer" : o == Order::Older ? "move-older" : "move-conflict");
  }

  // ---- checks ----

  void check_message(const Gid& key, const MMsg& m) {
    if (!m.exists) {
      EXPECT_FALSE(store_->find_message(key).has_value());
      return;
    }
    auto s = store_->get_message(m.id);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    EXPECT_EQ(s->source_key, key);
    EXPECT_EQ(s->folder, m.folder);
    EXPECT_EQ(s->associated, m.associated);
    EXPECT_EQ(s->change_key, m.cur.ck);
    EXPECT_EQ(mpcl(s->pcl), m.cur.pcl);
    EXPECT_EQ(s->last_modified, m.cur.lmt);
    EXPECT_EQ(s->props, m.cur.props);
    EXPECT_EQ(s->read, m.read);
  }
  void check_messages() {
    std::size_t in_f = 0;
    for (const auto& [key, m] : msgs_) {
      check_message(key, m);
      in_f += m.exists && m.folder == f_;
    }
    const std::size_t store_f =
        store_->message_ids(f_, MessageKind::Normal)->size() + store_->message_ids(f_, MessageKind::Associated)->size();
    EXPECT_EQ(store_f, in_f);
  }

  std::mt19937_64 rng_;
  std::shared_ptr<Store> store_;
  Fid f_, g_;
  std::unique_ptr<Session> session_;
  std::size_t baseline_ = 0;
  std::uint32_t h_ = 0;
  std::map<Gid, MMsg> msgs_;
  std::set<Gid> tomb_f_;         // keys with a tombstone in F
  std::set<Gid> touched_;        // keys the current step looked at
  std::size_t checks_ = 0;
  std::vector<Globcnt> reserved_;  // reserved ids not used yet
  std::set<Globcnt> reported_;     // reported deleted
  IcsState state_;
  std::map<Guid, Globcnt> client_counter_;
  Globcnt new_key_counter_ = 0;
  std::size_t text_counter_ = 0;
  std::size_t conflicts_ = 0;
  std::map<std::string, int> outcomes_;
};

constexpr std::uint64_t kContentsSeeds[] = {1, 2, 3, 4};

// Runs one seed's script against the model; fatal failures end it early.
void run_contents_seed(ModelRun& run) {
  for (int i = 0; i < 600; ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    run.step();
    run.check();
    if (::testing::Test::HasFatalFailure()) return;
    if (i % 40 == 0) run.check_state();
  }
  run.finish();
}

// One case per seed (named seed_<n>), so that a failure names the seed that reproduces it.
class CollectorModelSeed : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(CollectorModelSeed, RandomImportsMatchTheModel) {
  ModelRun run(GetParam());
  run_contents_seed(run);
}

INSTANTIATE_TEST_SUITE_P(CollectorModel, CollectorModelSeed, ::testing::ValuesIn(kContentsSeeds),
                         [](const ::testing::TestParamInfo<std::uint64_t>& info) {
                           return "seed_" + std::to_string(info.param);
                         });

// The seeds together exercise every kind of outcome (no single seed has to).
TEST(CollectorModel, TheSeedsTogetherReachEveryOutcome) {
  std::map<std::string, int> total;
  std::size_t conflicts = 0;
  for (std::uint64_t seed : kContentsSeeds) {
    ModelRun run(seed);
    run_contents_seed(run);
    if (HasFatalFailure()) return;
    conflicts += run.conflicts();
    for (const auto& [k, n] : run.outcomes()) total[k] += n;
  }
  for (const char* k : {"Created", "Updated", "ClientWon", "ServerWon", "SyncIgnore", "SyncConflict",
                        "SyncObjectDeleted", "InvalidParameter", "delete", "read", "move-equal", "move-newer",
                        "move-older", "move-conflict", "move-already-here"}) {
    EXPECT_GT(total[k], 0) << k;
  }
  EXPECT_GT(conflicts, 20u);
}

// ---- hierarchy: random folder imports against a model tree ----

struct MFolder {
  Gid parent;  // the key of its parent
  bool exists = true;
  Version cur;
  std::vector<Version> history;
};

class HierarchyRun {
 public:
  explicit HierarchyRun(std::uint64_t seed) : rng_(seed) {
    store_ = std::make_shared<Store>(StoreOptions{kStoreGuid, 1});
    top_ = store_->create_folder(store_->root(), "T").value();
    top_key_ = store_->to_gid(top_).value();
    outside_ = store_->to_gid(store_->create_folder(store_->root(), "outside").value()).value();
    session_ = std::move(Session::open(store_)).value();
    h_ = open_collector(*session_, top_, false).value();
    for (int i = 0; i < 5; ++i) server_create();
  }

  void step() {
    const int op = static_cast<int>(pick(100));
    if (op < 12) return server_create();
    if (op < 22) return server_rename();
    if (op < 26) return server_delete();
    if (op < 94) return client_import();
    client_delete();
  }

  // Checks the folders the last step touched, and every 25th time all of them.
  void check() {
    const bool all = ++checks_ % 25 == 0;
    for (const auto& [key, f] : folders_) {
      if (all || touched_.count(key)) check_folder(key, f);
    }
    touched_.clear();
    EXPECT_EQ(store_->conflict_count(), conflicts_);
  }
  void check_folder(const Gid& key, const MFolder& f) {
    auto fid = store_->find_folder(key);
    ASSERT_EQ(fid.has_value(), f.exists);
    if (!f.exists) return;
    FolderSnapshot s = store_->get_folder(*fid).value();
    EXPECT_EQ(store_->to_gid(s.parent).value(), f.parent);
    EXPECT_EQ(s.change_key, f.cur.ck);
    EXPECT_EQ(mpcl(s.pcl), f.cur.pcl);
    EXPECT_EQ(s.last_modified, f.cur.lmt);
    EXPECT_EQ(s.props, f.cur.props);
  }
  void finish() {
    for (const auto& [key, f] : folders_) check_folder(key, f);
    auto st = transfer_state_of(*session_, h_);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->given, state_.given);
    EXPECT_EQ(st->seen, state_.seen);
    EXPECT_TRUE(store_->check_invariants().ok());
  }
  const std::map<std::string, int>& outcomes() const { return outcomes_; }

 private:
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  PropertyBag named(const std::string& name) {
    PropertyBag b;
    b.set(PropValue::unicode(tags::kDisplayName, name));
    return b;
  }
  Version server_version(Globcnt cn, MPcl pcl, PropertyBag props) {
    Version v{Xid::from_globcnt(kStoreGuid, cn), std::move(pcl), filetime_for_cn(cn), std::move(props)};
    add(v.pcl, v.ck);
    return v;
  }
  void set_version(MFolder& f, Version v) {
    f.cur = std::move(v);
    f.history.push_back(f.cur);
  }
  // A random folder key: live ones mostly, sometimes deleted ones.
  const Gid* random_key(bool live_only) {
    std::vector<const Gid*> c;
    for (const auto& [k, f] : folders_) {
      if (f.exists || !live_only) c.push_back(&k);
    }
    if (c.empty()) return nullptr;
    const Gid* k = c[pick(c.size())];
    touched_.insert(*k);
    return k;
  }
  // Whether key is `of` or below it.
  bool below(Gid key, const Gid& of) {
    for (std::size_t guard = 0; guard <= folders_.size(); ++guard) {
      if (key == of) return true;
      auto it = folders_.find(key);
      if (it == folders_.end()) return false;
      key = it->second.parent;
    }
    return false;
  }
  Fid fid_of(const Gid& key) { return key == top_key_ ? top_ : store_->find_folder(key).value(); }
  std::vector<Gid> subtree(const Gid& key) {
    std::vector<Gid> out;
    for (const auto& [k, f] : folders_) {
      if (f.exists && below(k, key)) out.push_back(k);
    }
    touched_.insert(out.begin(), out.end());
    return out;
  }
  void count(std::string_view what) { ++outcomes_[std::string(what)]; }

  void server_create() {
    const Gid* p = pick(3) ? random_key(true) : nullptr;
    const Gid parent = p ? *p : top_key_;
    const Globcnt before = store_->current_cn();
    const std::string name = "s" + std::to_string(++names_);
    Fid fid = store_->create_folder(fid_of(parent), name).value();
    MFolder f;
    f.parent = parent;
    set_version(f, server_version(before + 1, {}, named(name)));
    const Gid key = store_->to_gid(fid).value();
    folders_[key] = f;
    touched_.insert(key);
  }
  void server_rename() {
    const Gid* k = random_key(true);
    if (k == nullptr) return;
    MFolder& f = folders_[*k];
    const Globcnt before = store_->current_cn();
    const std::string name = "r" + std::to_string(++names_);
    PropChanges c;
    c.set = named(name);
    ASSERT_TRUE(store_->modify_folder(fid_of(*k), c).ok());
    set_version(f, server_version(before + 1, f.cur.pcl, named(name)));
  }
  void server_delete() {
    const Gid* k = random_key(true);
    if (k == nullptr || pick(3)) return;
    const Gid key = *k;
    ASSERT_TRUE(store_->delete_folder(fid_of(key)).ok());
    for (const Gid& g : subtree(key)) folders_[g].exists = false;
  }

  struct Plan {
    std::optional<Gid> parent;  // nullopt: the top
    Gid key;
    Version v;
    std::string name;
    MFolder* target = nullptr;
  };
  Plan plan() {
    Plan p;
    const std::size_t where = pick(10);
    if (where < 5) {
      const Gid* k = random_key(true);
      if (k) p.parent = *k;
    } else if (where == 5) {
      const Gid* k = random_key(false);
      if (k) p.parent = *k;
    } else if (where == 6) {
      p.parent = Gid{kClients[1], 777777};  // unknown
    } else if (where == 7) {
      p.parent = outside_;
    }
    p.name = "c" + std::to_string(++names_);
    p.v.props = named(p.name);
    const std::size_t which = pick(10);
    const Gid* k = which < 7 ? random_key(true) : which < 8 ? random_key(false) : nullptr;
    if (k == nullptr) {
      p.key = Gid{kClients[pick(2)], ++new_keys_};
      p.v.ck = Xid::from_globcnt(p.key.guid, ++counter_);
      add(p.v.pcl, p.v.ck);
      p.v.lmt = 10 + pick(100);  // never 0: the store reads 0 as "now"
      return p;
    }
    p.key = *k;
    p.target = &folders_[*k];
    const Version& base = pick(2) ? p.target->cur : p.target->history[pick(p.target->history.size())];
    if (pick(5) == 0) {  // replay
      p.v.ck = base.ck;
      p.v.pcl = base.pcl;
      p.v.lmt = base.lmt;
      return p;
    }
    p.v.ck = Xid::from_globcnt(kClients[pick(2)], ++counter_);
    p.v.pcl = base.pcl;
    add(p.v.pcl, p.v.ck);
    const std::uint64_t t = p.target->cur.lmt;
    p.v.lmt = std::array<std::uint64_t, 3>{t - 1, t, t + 1}[pick(3)];
    return p;
  }

  // The model's verdict, in the collector's order of checks.
  ErrorCode verdict(const Plan& p, Order& o) {
    const Gid parent = p.parent.value_or(top_key_);
    auto pit = folders_.find(parent);
    const bool parent_ok = parent == top_key_ || (pit != folders_.end() && pit->second.exists);
    if (!parent_ok) return ErrorCode::SyncNoParent;
    if (p.target == nullptr) return ErrorCode::Success;
    if (!p.target->exists) return ErrorCode::SyncObjectDeleted;
    o = order(p.target->cur.pcl, p.v.pcl);
    if (o == Order::Equal || o == Order::Older) return ErrorCode::SyncIgnore;
    const bool client_parent = o == Order::Newer || client_later(p.target->cur, p.v);
    if (client_parent && parent != p.target->parent && below(parent, p.key)) return ErrorCode::SyncIncest;
    return ErrorCode::Success;
  }

  void client_import() {
    Plan p = plan();
    const Globcnt before = store_->current_cn();
    auto r = import_hierarchy_change(*session_, h_,
                                     folder_values(p.parent, p.key, p.v.lmt, p.v.ck, to_pcl(p.v.pcl), p.name),
                                     {});
    Order o = Order::Newer;
    const ErrorCode want = verdict(p, o);
    ASSERT_EQ(r.code(), want) << (r.ok() ? std::string("ok") : r.error().to_string());
    if (want != ErrorCode::Success) {
      EXPECT_EQ(store_->current_cn(), before);
      return count(name(want));
    }
    EXPECT_EQ(r->cn, before + 1);
    const Gid parent = p.parent.value_or(top_key_);
    ASSERT_TRUE(state_.given.insert(p.key.guid, p.key.globcnt).ok());
    if (p.target == nullptr || o == Order::Newer) {
      MFolder& f = folders_[p.key];
      touched_.insert(p.key);
      f.parent = parent;
      f.exists = true;
      set_version(f, p.v);
      EXPECT_TRUE(r->seen);
      ASSERT_TRUE(state_.seen.insert(kStoreGuid, r->cn).ok());
      return count(name(r->outcome));
    }
    MFolder& f = *p.target;
    const bool won = client_later(f.cur, p.v);
    EXPECT_EQ(r->outcome, won ? ImportOutcome::ClientWon : ImportOutcome::ServerWon);
    EXPECT_FALSE(r->seen);
    const ConflictRecord rec = store_->conflicts().back();
    EXPECT_EQ(rec.object, ConflictObject::Folder);
    EXPECT_EQ(rec.client_won, won);
    EXPECT_EQ(rec.server.change_key, f.cur.ck);
    EXPECT_EQ(rec.client.change_key, p.v.ck);
    EXPECT_EQ(rec.client.parent, fid_of(parent));
    Version v = won ? p.v : f.cur;
    v.pcl = merged(f.cur.pcl, p.v.pcl);
    if (won) f.parent = parent;
    set_version(f, v);
    ++conflicts_;
    count(name(r->outcome));
  }

  void client_delete() {
    std::vector<Gid> keys;
    for (std::size_t n = 1 + pick(2); n > 0; --n) {
      const Gid* k = random_key(false);
      keys.push_back(k && pick(5) ? *k : Gid{kClients[0], 555555});
    }
    std::vector<Bytes> wire;
    for (const Gid& k : keys) wire.push_back(serialize_gid(k));
    auto r = import_deletes(*session_, h_, import_delete_flag::kHierarchy, wire);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    DeleteResult want;
    for (const Gid& k : keys) {
      auto it = folders_.find(k);
      if (it == folders_.end() || !it->second.exists) {
        ++want.skipped;
        continue;
      }
      ++want.deleted;
      for (const Gid& g : subtree(k)) {
        folders_[g].exists = false;
        ASSERT_TRUE(state_.given.remove(g.guid, g.globcnt).ok());
      }
    }
    EXPECT_EQ(r->deleted, want.deleted);
    EXPECT_EQ(r->skipped, want.skipped);
    count("delete");
  }

  std::mt19937_64 rng_;
  std::shared_ptr<Store> store_;
  Fid top_;
  Gid top_key_, outside_;
  std::unique_ptr<Session> session_;
  std::uint32_t h_ = 0;
  std::map<Gid, MFolder> folders_;  // the folders below the top
  std::set<Gid> touched_;           // keys the current step looked at
  std::size_t checks_ = 0;
  IcsState state_;
  Globcnt counter_ = 0, new_keys_ = 0;
  std::size_t names_ = 0, conflicts_ = 0;
  std::map<std::string, int> outcomes_;
};

constexpr std::uint64_t kHierarchySeeds[] = {11, 12, 13};

void run_hierarchy_seed(HierarchyRun& run) {
  for (int i = 0; i < 400; ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    run.step();
    run.check();
    if (::testing::Test::HasFatalFailure()) return;
  }
  run.finish();
}

// One case per seed (named seed_<n>).
class CollectorHierarchySeed : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(CollectorHierarchySeed, RandomHierarchyImportsMatchTheModel) {
  HierarchyRun run(GetParam());
  run_hierarchy_seed(run);
}

INSTANTIATE_TEST_SUITE_P(CollectorModel, CollectorHierarchySeed, ::testing::ValuesIn(kHierarchySeeds),
                         [](const ::testing::TestParamInfo<std::uint64_t>& info) {
                           return "seed_" + std::to_string(info.param);
                         });

// The seeds together exercise every kind of hierarchy outcome.
TEST(CollectorModel, TheHierarchySeedsTogetherReachEveryOutcome) {
  std::map<std::string, int> total;
  for (std::uint64_t seed : kHierarchySeeds) {
    HierarchyRun run(seed);
    run_hierarchy_seed(run);
    if (HasFatalFailure()) return;
    for (const auto& [k, n] : run.outcomes()) total[k] += n;
  }
  for (const char* k : {"Created", "Updated", "ClientWon", "ServerWon", "SyncIgnore", "SyncNoParent",
                        "SyncObjectDeleted", "SyncIncest", "delete"}) {
    EXPECT_GT(total[k], 0) << k;
  }
}

}  // namespace
}  // namespace ics
