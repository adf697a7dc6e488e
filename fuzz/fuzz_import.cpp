// Oracle: against a populated store, any script of ImportMessageChange
// (Associated / FailOnConflict, PCLs built newer / older / equal / conflicting
// or fuzzed, change keys, source keys, properties, a concurrent server change
// between decision and write), ImportDeletes (hard / soft / hierarchy),
// ImportReadStateChanges, ImportMessageMove and ImportHierarchyChange, mixed
// with server changes, only fails with a named ErrorCode and then leaves the
// store as it was; what succeeds obeys a model: a new object is stored with the
// import's change key and PCL, a newer change replaces the version, an older
// or equal one is SyncIgnore, a conflict keeps both versions in a conflict
// record (the winner by last writer wins, nothing silently lost), deleted or
// moved objects are gone from the folder and tombstoned, read state follows
// the last request; at the end the store's invariants hold and, after the
// collectors are released, the session's live bytes are back at baseline, and
// after the input the process's live heap bytes (fuzz_heap.h).
// The script: script/import_ops.h.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_heap.h"
#include "fuzz_store.h"
#include "ics/collector.h"
#include "ics/errors.h"
#include "ics/ids.h"
#include "ics/pcl.h"
#include "ics/session.h"
#include "ics/store.h"
#include "ics/testkit/oracles.h"
#include "ics/testkit/workload.h"
#include "script/import_ops.h"
#include "mutate/script_mutator.h"
#include "script/reader.h"

namespace {

namespace script = ics_fuzz::import;
using ics::ErrorCode;
using ics_fuzz::ScriptReader;
using script::kMaxKeys;
using ics::Gid;
using ics::Pcl;
using ics::PropValue;
using ics::Xid;

template <class R>
void named(const R& r) {
  if (!r.ok()) ICS_FUZZ_CHECK(ics::name(r.code()) != "Unknown");
}

// Everything an import may change, to check that a failed one changed nothing.
struct Digest {
  std::vector<std::tuple<std::uint64_t, std::uint64_t, ics::Globcnt, ics::Globcnt>> messages;  // mid, fid, cn, read cn
  std::vector<std::pair<std::uint64_t, ics::Globcnt>> folders;
  std::size_t tombstones = 0, conflicts = 0, message_count = 0, folder_count = 0;
  bool operator==(const Digest&) const = default;
};

struct Ctx {
  ScriptReader& in;
  ics::Session& session;
  ics::Store& store;
  ics::testkit::Workload& wl;
  std::uint32_t contents = 0;   // contents collector on wl.folder()
  std::uint32_t hierarchy = 0;  // hierarchy collector on wl.folder()
  ics::Guid client = ics::Guid::from_seed(0xC11E);
  ics::Guid other = ics::Guid::from_seed(0xC22E);  // a second client, for conflicts
  ics::Globcnt client_counter = 0;
  std::vector<Gid> message_keys{};  // known, fresh, reserved, deleted, elsewhere
  std::vector<Gid> folder_keys{};
  // Race seam: the message the hook changes before the first write, and the
  // version it left (what the import is then decided against).
  std::optional<ics::Mid> race_mid{};
  std::optional<ics::MessageSnapshot> raced{};

  Xid next_client_key() { return Xid::from_globcnt(client, ++client_counter); }
  Gid fresh_key() { return Gid{client, 0x100000 + ++client_counter}; }

  void add_digest_messages(Digest& d, ics::Fid fid) const {
    for (auto kind : {ics::MessageKind::Normal, ics::MessageKind::Associated}) {
      auto ids = store.message_ids(fid, kind);
      ICS_FUZZ_CHECK(ids.ok());
      for (const ics::Mid& mid : *ids) {
        auto m = store.get_message(mid, false);
        ICS_FUZZ_CHECK(m.ok());
        d.messages.emplace_back(mid.to_u64(), m->folder.to_u64(), m->cn, m->read_cn);
      }
    }
  }
  Digest digest() const {
    Digest d;
    add_digest_messages(d, wl.folder());
    add_digest_messages(d, wl.elsewhere());
    auto tree = store.folder_tree(store.root(), false);
    ICS_FUZZ_CHECK(tree.ok());
    for (const auto& f : *tree) d.folders.emplace_back(f.fid.to_u64(), f.cn);
    d.tombstones = store.tombstone_count();
    d.conflicts = store.conflict_count();
    d.message_count = store.message_count();
    d.folder_count = store.folder_count();
    return d;
  }
};

std::size_t below(ScriptReader& in, std::size_t n) {
  return n == 0 ? 0 : in.ConsumeIntegralInRange<std::size_t>(0, n - 1);
}

std::optional<ics::MessageSnapshot> message_of(const ics::Store& store, const Gid& key) {
  auto mid = store.find_message(key);
  if (!mid) return std::nullopt;
  auto m = store.get_message(*mid, true);
  if (!m.ok()) return std::nullopt;
  return std::move(m).value();
}

std::optional<ics::FolderSnapshot> folder_of(const ics::Store& store, const Gid& key) {
  auto fid = store.find_folder(key);
  if (!fid) return std::nullopt;
  auto f = store.get_folder(*fid);
  if (!f.ok()) return std::nullopt;
  return std::move(f).value();
}

void collect_keys(Ctx& c) {
  for (ics::Fid fid : {c.wl.folder(), c.wl.elsewhere()}) {
    for (auto kind : {ics::MessageKind::Normal, ics::MessageKind::Associated}) {
      auto ids = c.store.message_ids(fid, kind);
      ICS_FUZZ_CHECK(ids.ok());
      for (const ics::Mid& mid : *ids) {
        auto m = c.store.get_message(mid, false);
        ICS_FUZZ_CHECK(m.ok());
        c.message_keys.push_back(m->source_key);
      }
    }
  }
  auto tree = c.store.folder_tree(c.wl.folder(), false);
  ICS_FUZZ_CHECK(tree.ok());
  for (const auto& f : *tree) c.folder_keys.push_back(f.source_key);
}

// A message key: a known one (possibly gone by now), a fresh client one, a
// store id reserved now, or one the store never handed out.
Gid pick_message_key(Ctx& c) {
  switch (c.in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return c.fresh_key();
    case 1: {
      auto r = ics::get_local_replica_ids(c.session, c.in.ConsumeIntegralInRange<std::uint32_t>(1, 4));
      ICS_FUZZ_CHECK(r.ok());
      Gid k{r->replguid, r->first};
      if (c.in.ConsumeBool()) {  // reported deleted by the client
        ICS_FUZZ_CHECK(ics::set_local_replica_midset_deleted(c.session, c.wl.folder(), {{k, k}}).ok());
      }
      c.message_keys.push_back(k);
      return k;
    }
    case 2: return Gid{c.store.guid(), c.store.current_cn() + 1 + c.in.ConsumeIntegral<std::uint8_t>()};
    default:
      if (c.message_keys.empty()) return c.fresh_key();
      return c.message_keys[below(c.in, c.message_keys.size())];
  }
}

Gid pick_folder_key(Ctx& c) {
  if (c.folder_keys.empty() || c.in.ConsumeBool()) return Gid{c.client, 0x200000 + ++c.client_counter};
  return c.folder_keys[below(c.in, c.folder_keys.size())];
}

using script::Shape;

struct Version {
  Xid change_key;
  Pcl pcl;
  Shape shape = Shape::Newer;
};

Version make_version(Ctx& c, const Pcl* server, const Xid* server_key) {
  Version v;
  v.shape = static_cast<Shape>(below(c.in, static_cast<std::size_t>(Shape::kCount)));
  v.change_key = c.next_client_key();
  switch (v.shape) {
    case Shape::Newer:
      if (server) v.pcl = *server;
      v.pcl.add(v.change_key);
      break;
    case Shape::Same:  // the server's own version again
      if (server) v.pcl = *server;
      if (server_key) v.change_key = *server_key;
      break;
    case Shape::Older:  // a strict part of the server's PCL, its change key
      if (server && server->size() > 1) {
        v.pcl.add(server->xids().front());
        v.change_key = server->xids().front();
      } else {
        v.pcl.add(v.change_key);
      }
      break;
    case Shape::Conflict:  // a change the store lacks (another client's), on an older base
      v.change_key = Xid::from_globcnt(c.other, ++c.client_counter);
      if (server && server->size() > 1) v.pcl.add(server->xids().front());
      v.pcl.add(v.change_key);
      break;
    default:
      break;
  }
  return v;
}

// Header bytes: normally the serialized values; Raw shapes take fuzzed bytes.
ics::Bytes maybe_raw(Ctx& c, const Version& v, ics::Bytes good) {
  if (v.shape != Shape::Raw || !c.in.ConsumeBool()) return good;
  return c.in.ConsumeBytes<std::uint8_t>(c.in.ConsumeIntegralInRange<std::size_t>(0, 40));
}

std::uint64_t pick_time(Ctx& c, std::uint64_t server_time) {
  switch (c.in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return server_time;
    case 1: return server_time + 1 + c.in.ConsumeIntegral<std::uint16_t>();
    case 2: return server_time > 0 ? server_time - 1 : 0;
    default: return c.in.ConsumeIntegral<std::uint64_t>();
  }
}

std::vector<PropValue> message_props(Ctx& c) {
  std::vector<PropValue> props;
  int n = c.in.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < n; ++i) {
    switch (c.in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: props.push_back(PropValue::unicode(ics::tags::kSubject, c.in.ConsumeRandomLengthString(24))); break;
      case 1: props.push_back(PropValue::integer(ics::testkit::workload_tags::kInteger64, c.in.ConsumeIntegral<std::uint64_t>())); break;
      case 2:  // an ICS header tag among the properties: dropped by the store
        props.push_back(PropValue::binary(ics::tags::kChangeKey, c.in.ConsumeBytes<std::uint8_t>(22)));
        break;
      default:
        props.push_back(PropValue::binary(ics::testkit::workload_tags::kBinary,
                                          c.in.ConsumeBytes<std::uint8_t>(c.in.ConsumeIntegralInRange(0, 16))));
    }
  }
  return props;
}

bool includes_all(const Pcl& a, const Pcl& b) { return a.includes_all(b); }

// The model of a decided message import against the version it was decided on.
void check_message_result(Ctx& c, const ics::Result<ics::ImportResult>& r, const Gid& key,
                          const std::optional<ics::MessageSnapshot>& before, const Xid& ck,
                          const Pcl& pcl, std::uint64_t time, bool fail_on_conflict, std::size_t conflicts_before) {
  const auto after = message_of(c.store, key);
  ICS_FUZZ_CHECK(after.has_value());
  ICS_FUZZ_CHECK(after->source_key == key && after->folder == c.wl.folder());
  const bool client_has = before && includes_all(pcl, before->pcl);
  const bool server_has = before && includes_all(before->pcl, pcl);
  ICS_FUZZ_CHECK(includes_all(after->pcl, pcl));  // the import's history is never dropped
  switch (r->outcome) {
    case ics::ImportOutcome::Created:
      ICS_FUZZ_CHECK(!before);
      ICS_FUZZ_CHECK(after->change_key == ck && after->pcl.includes(ck));
      break;
    case ics::ImportOutcome::Updated:
      ICS_FUZZ_CHECK(before && client_has && !server_has);
      ICS_FUZZ_CHECK(after->change_key == ck && after->cn > before->cn);
      break;
    case ics::ImportOutcome::ClientWon:
    case ics::ImportOutcome::ServerWon: {
      ICS_FUZZ_CHECK(before && !client_has && !server_has && !fail_on_conflict);
      const bool won = r->outcome == ics::ImportOutcome::ClientWon;
      ICS_FUZZ_CHECK(after->change_key == (won ? ck : before->change_key));
      ICS_FUZZ_CHECK(includes_all(after->pcl, before->pcl));
      if (time != before->last_modified) ICS_FUZZ_CHECK(won == (time > before->last_modified));
      // Both versions kept: the newest record is this conflict.
      auto records = c.store.conflicts_of(key);
      ICS_FUZZ_CHECK(c.store.conflict_count() == conflicts_before + 1 && !records.empty());
      const ics::ConflictRecord& rec = records.back();
      ICS_FUZZ_CHECK(rec.client_won == won && rec.resolved_cn == after->cn);
      ICS_FUZZ_CHECK(rec.server.change_key == before->change_key && rec.server.pcl == before->pcl);
      ICS_FUZZ_CHECK(rec.client.change_key == ck && rec.client.pcl == pcl);
      break;
    }
  }
}

void import_change(Ctx& c) {
  Gid key = pick_message_key(c);
  auto before = message_of(c.store, key);
  std::uint8_t flags = 0;
  if (before ? before->associated : c.in.ConsumeBool()) flags |= ics::import_flag::kAssociated;
  if (c.in.ConsumeIntegralInRange<int>(0, 7) == 0) flags ^= ics::import_flag::kAssociated;  // wrong kind
  if (c.in.ConsumeBool()) flags |= ics::import_flag::kFailOnConflict;
  if (c.in.ConsumeIntegralInRange<int>(0, 15) == 0) flags |= c.in.ConsumeIntegral<std::uint8_t>();
  Version v = make_version(c, before ? &before->pcl : nullptr, before ? &before->change_key : nullptr);
  const std::uint64_t time = pick_time(c, before ? before->last_modified : ics::filetime_for_cn(c.store.current_cn()));
  std::vector<PropValue> values = {
      PropValue::binary(ics::tags::kSourceKey, maybe_raw(c, v, ics::serialize_gid(key))),
      PropValue::integer(ics::tags::kLastModificationTime, time),
      PropValue::binary(ics::tags::kChangeKey, maybe_raw(c, v, ics::serialize_xid(v.change_key))),
      PropValue::binary(ics::tags::kPredecessorChangeList, maybe_raw(c, v, v.pcl.serialize()))};
  if (v.shape == Shape::Raw && c.in.ConsumeBool()) values.resize(below(c.in, 4));  // too few values
  for (auto& p : message_props(c)) values.push_back(std::move(p));

  c.race_mid = before && c.in.ConsumeIntegralInRange<int>(0, 5) == 0 ? std::optional(before->mid) : std::nullopt;
  c.raced.reset();
  const Digest d0 = c.digest();
  const std::size_t conflicts_before = c.store.conflict_count();
  auto r = ics::import_message_change(c.session, c.contents, flags, values);
  c.race_mid.reset();
  named(r);
  const auto decided_on = c.raced ? c.raced : before;
  if (!r.ok()) {
    if (!c.raced) ICS_FUZZ_CHECK(c.digest() == d0);
    if (v.shape == Shape::Raw || (flags & ~(ics::import_flag::kAssociated | ics::import_flag::kFailOnConflict)) != 0) return;
    if (r.code() == ErrorCode::SyncIgnore) {
      ICS_FUZZ_CHECK(decided_on && includes_all(decided_on->pcl, v.pcl));
    } else if (r.code() == ErrorCode::SyncConflict) {
      ICS_FUZZ_CHECK(decided_on && (flags & ics::import_flag::kFailOnConflict) != 0);
      ICS_FUZZ_CHECK(!includes_all(decided_on->pcl, v.pcl) && !includes_all(v.pcl, decided_on->pcl));
    } else {  // a fresh key of the client's namespace is always created
      ICS_FUZZ_CHECK(key.guid != c.client || before || c.store.find_message_tombstone(c.wl.folder(), key));
    }
    return;
  }
  if (v.shape == Shape::Raw) return;  // the header is what the store parsed; still checked below
  if (!c.raced) ICS_FUZZ_CHECK(before.has_value() == (r->outcome != ics::ImportOutcome::Created));
  check_message_result(c, r, key, decided_on, v.change_key, v.pcl, time,
                       (flags & ics::import_flag::kFailOnConflict) != 0, conflicts_before);
  if (!before) c.message_keys.push_back(key);
}

std::vector<Gid> pick_keys(Ctx& c, bool folders) {
  std::vector<Gid> keys;
  std::size_t n = c.in.ConsumeIntegralInRange<std::size_t>(0, kMaxKeys);
  for (std::size_t i = 0; i < n; ++i) keys.push_back(folders ? pick_folder_key(c) : pick_message_key(c));
  return keys;
}

// The keys serialized, maybe plus fuzzed bytes; `bad` when those are no GID.
std::vector<ics::Bytes> serialize_keys(Ctx& c, std::vector<Gid>& keys, bool& bad) {
  std::vector<ics::Bytes> out;
  for (const Gid& k : keys) out.push_back(ics::serialize_gid(k));
  bad = false;
  if (c.in.ConsumeIntegralInRange<int>(0, 7) == 0) {
    out.push_back(c.in.ConsumeBytes<std::uint8_t>(c.in.ConsumeIntegralInRange(0, 30)));
    auto g = ics::parse_gid(ics::ByteView(out.back()));
    if (g.ok()) keys.push_back(*g);
    bad = !g.ok();
  }
  return out;
}

void import_deletes(Ctx& c, bool hierarchy) {
  std::uint8_t flags = c.in.ConsumeBool() ? ics::import_delete_flag::kHardDelete : 0;
  if (hierarchy) flags |= ics::import_delete_flag::kHierarchy;
  if (c.in.ConsumeIntegralInRange<int>(0, 15) == 0) flags = c.in.ConsumeIntegral<std::uint8_t>();
  const bool hard = (flags & ics::import_delete_flag::kHardDelete) != 0;
  std::vector<Gid> keys = pick_keys(c, hierarchy);
  bool bad = false;
  std::vector<ics::Bytes> bytes = serialize_keys(c, keys, bad);
  std::set<Gid> below_folder;  // folders below the collector's folder
  if (hierarchy) {
    auto tree = c.store.folder_tree(c.wl.folder(), false);
    ICS_FUZZ_CHECK(tree.ok());
    for (const auto& f : *tree) below_folder.insert(f.source_key);
  }
  std::set<Gid> here;  // named and in (or below) the collector's folder before
  for (const Gid& k : keys) {
    if (hierarchy) {
      if (below_folder.count(k) != 0) here.insert(k);
    } else if (auto m = message_of(c.store, k); m && m->folder == c.wl.folder()) {
      here.insert(k);
    }
  }
  const Digest d0 = c.digest();
  auto r = ics::import_deletes(c.session, hierarchy ? c.hierarchy : c.contents, flags, bytes);
  named(r);
  if (!r.ok()) {
    ICS_FUZZ_CHECK(c.digest() == d0);
    return;
  }
  ICS_FUZZ_CHECK(!bad && (flags & ics::import_delete_flag::kHierarchy) == (hierarchy ? 1 : 0));
  for (const Gid& k : here) {
    if (hierarchy) {
      ICS_FUZZ_CHECK(!c.store.find_folder(k) && c.store.find_folder_tombstone(k).has_value());
      continue;
    }
    ICS_FUZZ_CHECK(!c.store.find_message(k));
    auto t = c.store.find_message_tombstone(c.wl.folder(), k);
    ICS_FUZZ_CHECK(t && t->kind == (hard ? ics::DeleteKind::Hard : ics::DeleteKind::Soft));
  }
  if (!hierarchy) ICS_FUZZ_CHECK(r->deleted == here.size() && r->deleted + r->skipped == keys.size());
}

void import_read(Ctx& c) {
  std::vector<Gid> keys = pick_keys(c, false);
  std::vector<ics::ReadStateChange> changes;
  std::map<Gid, bool> last;
  std::map<Gid, ics::MessageSnapshot> before;
  for (const Gid& k : keys) {
    bool read = c.in.ConsumeBool();
    changes.push_back({ics::serialize_gid(k), read});
    last[k] = read;
    if (auto m = message_of(c.store, k)) before.emplace(k, *m);
  }
  bool bad = false;
  if (c.in.ConsumeIntegralInRange<int>(0, 7) == 0) {  // fuzzed bytes: a GID or not
    changes.push_back({c.in.ConsumeBytes<std::uint8_t>(c.in.ConsumeIntegralInRange(0, 30)), true});
    auto g = ics::parse_gid(ics::ByteView(changes.back().source_key));
    bad = !g.ok();
    if (g.ok()) {
      last[*g] = true;
      if (auto m = message_of(c.store, *g)) before.emplace(*g, *m);
    }
  }
  const Digest d0 = c.digest();
  auto r = ics::import_read_state_changes(c.session, c.contents, changes);
  named(r);
  if (!r.ok()) {
    ICS_FUZZ_CHECK(c.digest() == d0);
    return;
  }
  ICS_FUZZ_CHECK(!bad);
  ICS_FUZZ_CHECK(r->changed + r->unchanged + r->ignored + r->skipped == changes.size());
  for (const auto& [k, read] : last) {
    auto it = before.find(k);
    if (it == before.end()) continue;
    auto after = message_of(c.store, k);
    ICS_FUZZ_CHECK(after.has_value());
    if (it->second.folder != c.wl.folder() || it->second.associated) {
      ICS_FUZZ_CHECK(after->read == it->second.read && after->read_cn == it->second.read_cn);
    } else {
      ICS_FUZZ_CHECK(after->read == read && after->cn == it->second.cn);
    }
  }
}

void import_move(Ctx& c) {
  Gid key = c.message_keys.empty() ? c.fresh_key() : c.message_keys[below(c.in, c.message_keys.size())];
  auto before = message_of(c.store, key);
  auto src = c.store.get_folder(before && c.in.ConsumeBool() ? before->folder : c.wl.elsewhere());
  ICS_FUZZ_CHECK(src.ok());
  Version v = make_version(c, before ? &before->pcl : nullptr, before ? &before->change_key : nullptr);
  ics::ImportMove m{ics::serialize_gid(src->source_key), ics::serialize_gid(key), v.pcl.serialize(),
                    ics::serialize_gid(key), ics::serialize_xid(v.change_key)};
  if (v.shape == Shape::Raw) {
    switch (c.in.ConsumeIntegralInRange<int>(0, 4)) {
      case 0: m.source_folder = c.in.ConsumeBytes<std::uint8_t>(c.in.ConsumeIntegralInRange(0, 24)); break;
      case 1: m.pcl = c.in.ConsumeBytes<std::uint8_t>(c.in.ConsumeIntegralInRange(0, 40)); break;
      case 2: m.destination_message = ics::serialize_gid(c.fresh_key()); break;
      case 3: m.change_number = c.in.ConsumeBytes<std::uint8_t>(c.in.ConsumeIntegralInRange(0, 24)); break;
      default: m.source_message.clear(); break;
    }
  }
  const Digest d0 = c.digest();
  auto r = ics::import_message_move(c.session, c.contents, m);
  named(r);
  if (!r.ok()) {
    ICS_FUZZ_CHECK(c.digest() == d0);
    return;
  }
  ICS_FUZZ_CHECK(r->code == ErrorCode::Success || r->code == ErrorCode::NewerClientChange);
  ICS_FUZZ_CHECK(before.has_value());
  auto after = message_of(c.store, key);
  ICS_FUZZ_CHECK(after && after->folder == c.wl.folder() && after->mid == before->mid);
  if (before->folder == c.wl.folder() || v.shape == Shape::Raw) return;  // left alone, or a fuzzed field
  ICS_FUZZ_CHECK(before->folder == src->fid);
  auto t = c.store.find_message_tombstone(src->fid, key);
  ICS_FUZZ_CHECK(t && t->kind == ics::DeleteKind::Moved);
  const bool client_has = includes_all(v.pcl, before->pcl), server_has = includes_all(before->pcl, v.pcl);
  if (client_has && server_has) {
    ICS_FUZZ_CHECK(r->code == ErrorCode::Success && after->change_key == v.change_key);
  } else {
    ICS_FUZZ_CHECK(after->change_key == before->change_key);
    ICS_FUZZ_CHECK((r->code == ErrorCode::Success) == (server_has && !client_has));
  }
}

void import_folder(Ctx& c) {
  Gid key = pick_folder_key(c);
  auto before = folder_of(c.store, key);
  Version v = make_version(c, before ? &before->pcl : nullptr, before ? &before->change_key : nullptr);
  std::optional<Gid> parent;
  if (!c.folder_keys.empty() && c.in.ConsumeBool()) parent = c.folder_keys[below(c.in, c.folder_keys.size())];
  const std::uint64_t time = pick_time(c, before ? before->last_modified : ics::filetime_for_cn(c.store.current_cn()));
  const std::string name = c.in.ConsumeRandomLengthString(20);
  std::vector<PropValue> hv = {
      PropValue::binary(ics::tags::kParentSourceKey, parent ? ics::serialize_gid(*parent) : ics::Bytes{}),
      PropValue::binary(ics::tags::kSourceKey, maybe_raw(c, v, ics::serialize_gid(key))),
      PropValue::integer(ics::tags::kLastModificationTime, time),
      PropValue::binary(ics::tags::kChangeKey, maybe_raw(c, v, ics::serialize_xid(v.change_key))),
      PropValue::binary(ics::tags::kPredecessorChangeList, maybe_raw(c, v, v.pcl.serialize())),
      PropValue::unicode(ics::tags::kDisplayName, name)};
  if (v.shape == Shape::Raw && c.in.ConsumeBool()) hv.resize(below(c.in, 6));
  std::vector<PropValue> props;
  if (c.in.ConsumeBool()) props.push_back(PropValue::unicode(ics::testkit::workload_tags::kContainerClass, "IPF.Note"));
  const Digest d0 = c.digest();
  const std::size_t conflicts_before = c.store.conflict_count();
  auto r = ics::import_hierarchy_change(c.session, c.hierarchy, hv, props);
  named(r);
  if (!r.ok()) {
    ICS_FUZZ_CHECK(c.digest() == d0);
    if (v.shape != Shape::Raw && r.code() == ErrorCode::SyncIgnore) {
      ICS_FUZZ_CHECK(before && includes_all(before->pcl, v.pcl));
    }
    return;
  }
  // A Raw version's source key may be another well-formed GID: the folder is under the key sent.
  auto sent = ics::parse_gid(ics::ByteView(*hv[1].as_bytes()));
  ICS_FUZZ_CHECK(sent.ok());
  auto after = folder_of(c.store, *sent);
  ICS_FUZZ_CHECK(after.has_value());
  if (std::find(c.folder_keys.begin(), c.folder_keys.end(), *sent) == c.folder_keys.end()) {
    c.folder_keys.push_back(*sent);
  }
  if (v.shape == Shape::Raw) return;
  const auto parent_fid = parent ? c.store.find_folder(*parent) : std::optional(c.wl.folder());
  const bool client_has = before && includes_all(v.pcl, before->pcl);
  const bool server_has = before && includes_all(before->pcl, v.pcl);
  const PropValue want_name = PropValue::unicode(ics::tags::kDisplayName, name);
  switch (r->outcome) {
    case ics::ImportOutcome::Created:
    case ics::ImportOutcome::Updated:
      ICS_FUZZ_CHECK((r->outcome == ics::ImportOutcome::Created) == !before);
      if (before) ICS_FUZZ_CHECK(client_has && !server_has);
      ICS_FUZZ_CHECK(parent_fid && after->change_key == v.change_key && after->parent == *parent_fid);
      ICS_FUZZ_CHECK(after->props.get(ics::tags::kDisplayName) &&
                     *after->props.get(ics::tags::kDisplayName) == want_name);
      break;
    case ics::ImportOutcome::ClientWon:
    case ics::ImportOutcome::ServerWon: {
      ICS_FUZZ_CHECK(before && !client_has && !server_has);
      const bool won = r->outcome == ics::ImportOutcome::ClientWon;
      ICS_FUZZ_CHECK(after->change_key == (won ? v.change_key : before->change_key));
      ICS_FUZZ_CHECK(c.store.conflict_count() == conflicts_before + 1);
      auto records = c.store.conflicts_of(key);
      ICS_FUZZ_CHECK(!records.empty() && records.back().client_won == won);
      ICS_FUZZ_CHECK(records.back().server.change_key == before->change_key && records.back().client.change_key == v.change_key);
      break;
    }
  }
  ICS_FUZZ_CHECK(includes_all(after->pcl, v.pcl));
}

void server_change(Ctx& c) {
  auto op = c.wl.step();
  ICS_FUZZ_CHECK(op.ok());
  // New messages and folders join the pools.
  c.message_keys.clear();
  c.folder_keys.clear();
  collect_keys(c);
}

void stray(Ctx& c) {  // calls on the wrong collector kind or a dead handle
  std::vector<PropValue> none;
  ICS_FUZZ_CHECK(ics::import_message_change(c.session, c.hierarchy, 0, none).code() == ErrorCode::NotSupported);
  ICS_FUZZ_CHECK(ics::import_hierarchy_change(c.session, c.contents, none, none).code() == ErrorCode::NotSupported);
  ICS_FUZZ_CHECK(ics::import_deletes(c.session, c.contents, ics::import_delete_flag::kHierarchy, {}).code() ==
                 ErrorCode::NotSupported);
  std::uint32_t h = c.in.ConsumeIntegral<std::uint32_t>();
  if (h == c.contents || h == c.hierarchy) return;
  ICS_FUZZ_CHECK(ics::import_read_state_changes(c.session, h, {}).code() == ErrorCode::NullObject);
}

void run(Ctx& c, script::Op op) {
  switch (op) {
    case script::Op::Change: return import_change(c);
    case script::Op::Deletes: return import_deletes(c, false);
    case script::Op::HierarchyDeletes: return import_deletes(c, true);
    case script::Op::Read: return import_read(c);
    case script::Op::Move: return import_move(c);
    case script::Op::Folder: return import_folder(c);
    case script::Op::ServerChange: return server_change(c);
    case script::Op::Stray: return stray(c);
  }
}

// The populated stores, one per seed and size (2 to 10 messages; a script's setup op
// names them), built once per process (LLVMFuzzerTestOneInput prepares each before the heap
// oracle's first reading).
FuzzStoreTemplates& stores() {
  static FuzzStoreTemplates kStores(2, 10);
  return kStores;
}

// One input; everything it builds lives in this scope.
void run_input(const std::uint8_t* data, std::size_t size, ics_fuzz::Trace& trace) {
  ScriptReader in(data, size, trace);
  FuzzStore fs = stores().restore(in);
  ics::Store& store = *fs.store;
  ics::testkit::Workload& wl = fs.workload;
  ics::Session& s = *fs.session;
  const ics::testkit::MemoryBaseline baseline(s);

  Ctx c{in, s, store, wl};
  auto contents = ics::open_collector(s, wl.folder(), true);
  auto hierarchy = ics::open_collector(s, wl.folder(), false);
  ICS_FUZZ_CHECK(contents.ok() && hierarchy.ok());
  c.contents = *contents;
  c.hierarchy = *hierarchy;
  Ctx* cp = &c;
  ics::CollectorHooks hooks;
  hooks.before_write = [cp](std::uint32_t attempt) {
    if (attempt != 1 || !cp->race_mid) return;
    ics::PropChanges ch;
    ch.set.set(PropValue::unicode(ics::tags::kSubject, "raced"));
    auto m = cp->store.modify_message(*cp->race_mid, ch);
    ICS_FUZZ_CHECK(m.ok());
    cp->raced = std::move(m).value();
  };
  ICS_FUZZ_CHECK(ics::set_collector_hooks(s, c.contents, std::move(hooks)).ok());
  collect_keys(c);

  for (int n = 0; n < script::kMaxSteps && in.remaining_bytes() > 0; ++n) {
    const script::Op op = script::op_of(in.op_byte());
    in.op(script::name(op));
    run(c, op);
  }
  in.op("finish");
  ICS_FUZZ_CHECK(store.check_invariants().ok());
  ICS_FUZZ_CHECK(s.release(c.contents).ok() && s.release(c.hierarchy).ok());
  ICS_FUZZ_CHECK(s.handle_count() == 0);
  ICS_FUZZ_CHECK(baseline.check(s).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  stores().prepare(data, size);  // before the heap oracle's first reading
  // The mutator's next call decodes this input from the log (its storage reserved here).
  ics_fuzz::Trace off(nullptr, nullptr, ics_fuzz::run_log());
  ics_fuzz::check_heap_balance("fuzz_import", [&] { run_input(data, size, off); });
  return 0;
}

// The structure-aware mutator (mutate/script_mutator.h): decodes an input by running it.
ICS_FUZZ_SCRIPT_MUTATORS(import, run_input,
                         (ics_fuzz::ScriptTraits{std::size(script::kSlots), script::kMaxSteps, false, false}))

// fuzz/describe: runs the input, printing each op and the values it takes.
extern "C" int IcsFuzzDescribe(const std::uint8_t* data, std::size_t size) {
  ics_fuzz::Trace trace(stdout);
  run_input(data, size, trace);
  return 0;
}
