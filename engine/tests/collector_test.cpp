#include "ics/collector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "collector_testing.h"
#include "ics/testkit/oracles.h"

namespace ics {
namespace {

using namespace collector_testing;
using testkit::MemoryBaseline;

const Guid kStoreGuid = Guid::from_seed(1000);
// Two clients, one below and one above the store's GUID in byte order.
Guid guid_with_first_byte(std::uint8_t b) {
  Guid g = Guid::from_seed(b);
  g.bytes[0] = b;
  return g;
}
const Guid kLowClient = guid_with_first_byte(0x01);
const Guid kHighClient = guid_with_first_byte(0xFE);
const Guid kClient = kHighClient;

std::uint64_t status_of(const MessageSnapshot& m) {
  const PropValue* v = m.props.get(tags::kMessageStatus);
  return v && v->as_integer() ? *v->as_integer() : 0;
}

bool has_subject(const PropertyBag& b, std::string_view text) {
  const PropValue* v = b.get(tags::kSubject);
  return v && *v == subject(text);
}

bool clean_outcome(ImportOutcome o) { return o == ImportOutcome::Created || o == ImportOutcome::Updated; }

bool in_conflict(const PropertyBag& b) {
  const PropValue* v = b.get(tags::kInConflict);
  return v && v->as_integer() && *v->as_integer() == 1;
}

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store = std::make_shared<Store>(StoreOptions{kStoreGuid, 1});
    folder = store->create_folder(store->root(), "F").value();
    other = store->create_folder(store->root(), "G").value();
    session = std::move(Session::open(store)).value();
    baseline = session->memory().live_bytes();
    handle = open_collector(*session, folder, true).value();
  }

  // A server message in `folder` and its snapshot.
  MessageSnapshot server_message(std::string_view text, bool associated = false, Fid in = {}) {
    Fid f = in == Fid{} ? folder : in;
    PropertyBag b;
    b.set(subject(text));
    Mid mid = store->create_message(f, b, associated).value();
    return store->get_message(mid).value();
  }
  MessageSnapshot modify(const MessageSnapshot& m, std::string_view text) {
    PropChanges c;
    c.set.set(subject(text));
    return store->modify_message(m.mid, c).value();
  }
  MessageSnapshot now(const MessageSnapshot& m) { return store->get_message(m.mid).value(); }
  IcsState state() { return transfer_state_of(*session, handle).value(); }

  Result<ImportResult> import(const Gid& key, std::uint64_t time, const Xid& ck, const Pcl& pcl,
                              std::string_view text, std::uint8_t flags = 0) {
    return import_message_change(*session, handle, flags, message_values(key, time, ck, pcl, {subject(text)}));
  }

  // Expects call() to fail with code and to change neither the store, the
  // collector's state nor the session's memory (bytes and objects, per kind).
  template <class F>
  void expect_rejected(ErrorCode code, F&& call, const char* what) {
    SCOPED_TRACE(what);
    const Globcnt cn = store->current_cn();
    const std::size_t conflicts = store->conflict_count();
    const IcsState before = state();
    const MemoryBaseline memory(*session);
    auto r = call();
    EXPECT_EQ(r.code(), code) << (r.ok() ? std::string("ok") : r.error().to_string());
    Status same = memory.check(*session);
    EXPECT_TRUE(same.ok()) << same.error().to_string();
    EXPECT_EQ(store->current_cn(), cn);
    EXPECT_EQ(store->conflict_count(), conflicts);
    EXPECT_EQ(state(), before);
  }

  std::shared_ptr<Store> store;
  Fid folder, other;
  std::unique_ptr<Session> session;
  std::size_t baseline = 0;
  std::uint32_t handle = 0;
};

// ---- opening ----

TEST_F(CollectorTest, OpenAndReleaseReturnTheSessionToBaseline) {
  EXPECT_EQ(session->memory().objects(ObjectKind::UploadContext), 1u);
  EXPECT_EQ(open_collector(*session, Fid{1, 9999}, true).code(), ErrorCode::NotFound);
  EXPECT_EQ(session->handle_count(), 1u);
  auto h = open_collector(*session, folder, false);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(session->memory().objects(ObjectKind::UploadContext), 2u);
  // Imports charge the state; releasing returns every byte.
  for (Globcnt i = 1; i <= 50; ++i) {
    ASSERT_TRUE(import(Gid{kClient, i * 3}, 5, Xid::from_globcnt(kClient, i * 3), Pcl{}, "m").ok());
  }
  EXPECT_GT(session->memory().bytes(ObjectKind::StateStream), 0u);
  ASSERT_TRUE(session->release(handle).ok());
  ASSERT_TRUE(session->release(*h).ok());
  EXPECT_EQ(session->memory().live_bytes(), baseline);
  EXPECT_EQ(session->handle_count(), 0u);
  EXPECT_EQ(import(Gid{kClient, 1}, 5, Xid::from_globcnt(kClient, 1), Pcl{}, "m").code(), ErrorCode::NullObject);
}

// ---- message changes: the PCL decides ----

TEST_F(CollectorTest, NewMessageIsCreatedWithTheClientsVersion) {
  const Gid key{kClient, 0x77};
  const Xid ck = Xid::from_globcnt(kClient, 0x78);
  const Pcl pcl = Pcl::of(Xid::from_globcnt(kStoreGuid, 1));
  auto r = import(key, 4242, ck, pcl, "hello");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->outcome, ImportOutcome::Created);
  EXPECT_EQ(r->source_key, key);
  EXPECT_EQ(r->cn, store->current_cn());
  EXPECT_TRUE(r->seen);
  EXPECT_EQ(store->to_id(key).value(), r->id);  // the GUID mapped through the replica map
  auto m = store->get_message(r->id).value();
  EXPECT_EQ(m.folder, folder);
  EXPECT_FALSE(m.associated);
  EXPECT_EQ(m.change_key, ck);
  EXPECT_TRUE(m.pcl.includes(ck));
  EXPECT_TRUE(m.pcl.includes_all(pcl));
  EXPECT_EQ(m.last_modified, 4242u);
  EXPECT_TRUE(has_subject(m.props, "hello"));
  EXPECT_EQ(status_of(m), 0u);
  IcsState st = state();
  EXPECT_TRUE(st.given.contains(kClient, 0x77));
  EXPECT_TRUE(st.seen.contains(kStoreGuid, r->cn));
  EXPECT_TRUE(st.seen_fai.empty());
  // An FAI message's CN goes to CnsetSeenFAI.
  auto fai = import(Gid{kClient, 0x90}, 1, Xid::from_globcnt(kClient, 0x91), Pcl{}, "fai",
                    import_flag::kAssociated);
  ASSERT_TRUE(fai.ok());
  EXPECT_TRUE(store->get_message(fai->id)->associated);
  st = state();
  EXPECT_TRUE(st.seen_fai.contains(kStoreGuid, fai->cn));
  EXPECT_FALSE(st.seen.contains(kStoreGuid, fai->cn));
  EXPECT_TRUE(st.given.contains(kClient, 0x90));
}

TEST_F(CollectorTest, NewerIsAppliedOlderAndEqualAreIgnored) {
  MessageSnapshot m = server_message("server v1");
  const Gid key = m.source_key;
  // The client edits what it downloaded: its PCL includes the store's.
  const Xid c1 = Xid::from_globcnt(kClient, 10);
  Pcl p1 = m.pcl;
  p1.add(c1);
  auto up = import(key, m.last_modified + 1, c1, p1, "client v2");
  ASSERT_TRUE(up.ok()) << up.error().to_string();
  EXPECT_EQ(up->outcome, ImportOutcome::Updated);
  EXPECT_EQ(up->id, m.mid);
  EXPECT_TRUE(up->seen);
  MessageSnapshot after = now(m);
  EXPECT_EQ(after.change_key, c1);
  EXPECT_EQ(after.pcl, p1);
  EXPECT_TRUE(has_subject(after.props, "client v2"));
  EXPECT_EQ(status_of(after), 0u);
  EXPECT_TRUE(state().seen.contains(kStoreGuid, up->cn));
  // The same version again is Equal: ignored.
  expect_rejected(ErrorCode::SyncIgnore, [&] { return import(key, 1, c1, p1, "again"); }, "equal");
  // The server's original version is Older: ignored.
  expect_rejected(ErrorCode::SyncIgnore, [&] { return import(key, 1, m.change_key, m.pcl, "old"); }, "older");
  // After a server change, the client's last version is older too.
  MessageSnapshot s3 = modify(after, "server v3");
  expect_rejected(ErrorCode::SyncIgnore, [&] { return import(key, 1, c1, p1, "stale"); }, "stale");
  EXPECT_EQ(now(m).cn, s3.cn);
  EXPECT_EQ(store->conflict_count(), 0u);
}

TEST_F(CollectorTest, ConflictClientNewerWinsAndBothVersionsAreKept) {
  MessageSnapshot m = server_message("base");
  MessageSnapshot s2 = modify(m, "server edit");
  const Xid c1 = Xid::from_globcnt(kClient, 50);
  Pcl p1 = m.pcl;  // the client never saw the server edit
  p1.add(c1);
  auto r = import(m.source_key, s2.last_modified + 100, c1, p1, "client edit");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->outcome, ImportOutcome::ClientWon);
  EXPECT_FALSE(r->seen);  // the client must download the resolution
  MessageSnapshot res = now(m);
  EXPECT_EQ(res.cn, r->cn);
  EXPECT_EQ(res.change_key, c1);
  EXPECT_TRUE(res.pcl.includes_all(s2.pcl));
  EXPECT_TRUE(res.pcl.includes_all(p1));
  EXPECT_EQ(res.pcl.size(), 2u);  // the merge of both, nothing else
  EXPECT_EQ(res.last_modified, s2.last_modified + 100);
  EXPECT_TRUE(has_subject(res.props, "client edit"));
  EXPECT_EQ(status_of(res) & kMsInConflict, kMsInConflict);
  auto recs = store->conflicts_of(m.source_key);
  ASSERT_EQ(recs.size(), 1u);
  const ConflictRecord& c = recs[0];
  EXPECT_EQ(c.object, ConflictObject::Message);
  EXPECT_TRUE(c.client_won);
  EXPECT_EQ(c.resolved_cn, r->cn);
  EXPECT_EQ(c.server.change_key, s2.change_key);
  EXPECT_EQ(c.server.pcl, s2.pcl);
  EXPECT_TRUE(has_subject(c.server.props, "server edit"));
  EXPECT_TRUE(in_conflict(c.server.props));
  EXPECT_EQ(c.client.change_key, c1);
  EXPECT_TRUE(has_subject(c.client.props, "client edit"));
  EXPECT_TRUE(in_conflict(c.client.props));
  IcsState st = state();
  EXPECT_TRUE(st.given.contains(kStoreGuid, m.mid.globcnt));
  EXPECT_FALSE(st.seen.contains(kStoreGuid, r->cn));
  // Importing the resolved version's PCL later is Equal.
  EXPECT_EQ(import(m.source_key, 1, c1, res.pcl, "x").code(), ErrorCode::SyncIgnore);
}

TEST_F(CollectorTest, ConflictServerNewerWinsAndTheClientVersionIsRecorded) {
  MessageSnapshot m = server_message("base");
  MessageSnapshot s2 = modify(m, "server edit");
  const Xid c1 = Xid::from_globcnt(kClient, 60);
  Pcl p1 = m.pcl;
  p1.add(c1);
  auto r = import(m.source_key, s2.last_modified - 1, c1, p1, "client edit");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, ImportOutcome::ServerWon);
  EXPECT_FALSE(r->seen);
  MessageSnapshot res = now(m);
  EXPECT_GT(res.cn, s2.cn);
  EXPECT_EQ(res.change_key, s2.change_key);
  EXPECT_EQ(res.last_modified, s2.last_modified);
  EXPECT_TRUE(res.pcl.includes(c1));
  EXPECT_TRUE(res.pcl.includes_all(s2.pcl));
  EXPECT_TRUE(has_subject(res.props, "server edit"));
  EXPECT_EQ(status_of(res), kMsInConflict);
  auto recs = store->conflicts();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_FALSE(recs[0].client_won);
  EXPECT_EQ(recs[0].client.change_key, c1);
  EXPECT_EQ(recs[0].client.last_modified, s2.last_modified - 1);
  EXPECT_TRUE(has_subject(recs[0].client.props, "client edit"));
  // The client's version is now included: replaying it is ignored.
  EXPECT_EQ(import(m.source_key, 1, c1, p1, "x").code(), ErrorCode::SyncIgnore);
}

TEST_F(CollectorTest, LastWriterTiesBreakOnTheChangeKeyGuid) {
  for (const Guid& client : {kLowClient, kHighClient}) {
    SCOPED_TRACE(client.to_string());
    MessageSnapshot m = server_message("base");
    MessageSnapshot s2 = modify(m, "server");
    const Xid c1 = Xid::from_globcnt(client, 5);
    Pcl p1 = m.pcl;
    p1.add(c1);
    auto r = import(m.source_key, s2.last_modified, c1, p1, "client");  // same time
    ASSERT_TRUE(r.ok());
    const bool client_higher = client > kStoreGuid;
    EXPECT_EQ(r->outcome, client_higher ? ImportOutcome::ClientWon : ImportOutcome::ServerWon);
    EXPECT_TRUE(has_subject(now(m).props, client_higher ? "client" : "server"));
  }
  ASSERT_TRUE(kLowClient < kStoreGuid && kStoreGuid < kHighClient);
}

TEST_F(CollectorTest, FailOnConflictRefusesAndChangesNothing) {
  MessageSnapshot m = server_message("base");
  MessageSnapshot s2 = modify(m, "server edit");
  const Xid c1 = Xid::from_globcnt(kClient, 70);
  Pcl p1 = m.pcl;
  p1.add(c1);
  expect_rejected(ErrorCode::SyncConflict,
                  [&] { return import(m.source_key, s2.last_modified + 9, c1, p1, "c", import_flag::kFailOnConflict); },
                  "fail on conflict");
  MessageSnapshot still = now(m);
  EXPECT_EQ(still.cn, s2.cn);
  EXPECT_EQ(still.pcl, s2.pcl);
  EXPECT_EQ(status_of(still), 0u);
  // A non-conflicting import with the flag goes through.
  Pcl p2 = s2.pcl;
  p2.add(c1);
  auto ok = import(m.source_key, 1, c1, p2, "c", import_flag::kFailOnConflict);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->outcome, ImportOutcome::Updated);
}

TEST_F(CollectorTest, FaiConflictsAreLastWriterWinsWithoutAFlagButRecorded) {
  for (bool client_later : {true, false}) {
    MessageSnapshot m = server_message("fai", true);
    MessageSnapshot s2 = modify(m, "server fai");
    const Xid c1 = Xid::from_globcnt(kClient, client_later ? 80 : 81);
    Pcl p1 = m.pcl;
    p1.add(c1);
    const std::uint64_t t = client_later ? s2.last_modified + 1 : s2.last_modified - 1;
    auto r = import(m.source_key, t, c1, p1, "client fai", import_flag::kAssociated);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->outcome, client_later ? ImportOutcome::ClientWon : ImportOutcome::ServerWon);
    MessageSnapshot res = now(m);
    EXPECT_EQ(status_of(res), 0u);  // no conflict resolve message for FAI
    EXPECT_TRUE(has_subject(res.props, client_later ? "client fai" : "server fai"));
    EXPECT_TRUE(res.pcl.includes(c1) && res.pcl.includes_all(s2.pcl));
    auto recs = store->conflicts_of(m.source_key);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].object, ConflictObject::Associated);
    EXPECT_EQ(recs[0].client_won, client_later);
    EXPECT_FALSE(state().seen_fai.contains(kStoreGuid, r->cn));
  }
}

TEST_F(CollectorTest, RepeatedConflictsKeepEveryVersion) {
  MessageSnapshot m = server_message("base");
  Pcl client = m.pcl;
  std::vector<Xid> all_client;
  for (Globcnt i = 1; i <= 5; ++i) {
    modify(now(m), "server " + std::to_string(i));
    const Xid ck = Xid::from_globcnt(kClient, 100 + i);
    Pcl p = client;  // the client never downloads
    p.add(ck);
    all_client.push_back(ck);
    auto r = import(m.source_key, i % 2 ? 1 : ~0ull, ck, p, "client " + std::to_string(i));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->outcome, i % 2 ? ImportOutcome::ServerWon : ImportOutcome::ClientWon);
    client = p;
  }
  auto recs = store->conflicts_of(m.source_key);
  ASSERT_EQ(recs.size(), 5u);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].client.change_key, all_client[i]);
    EXPECT_TRUE(has_subject(recs[i].client.props, "client " + std::to_string(i + 1)));
    EXPECT_TRUE(has_subject(recs[i].server.props, "server " + std::to_string(i + 1)));
  }
  for (const Xid& x : all_client) EXPECT_TRUE(now(m).pcl.includes(x));
}

// ---- every bad argument is named and changes nothing ----

TEST_F(CollectorTest, BadMessageImportsAreNamedErrors) {
  const Gid key{kClient, 5};
  const Xid ck = Xid::from_globcnt(kClient, 6);
  auto good = message_values(key, 1, ck, Pcl{});
  auto call = [&](std::uint8_t flags, std::vector<PropValue> v) {
    return [this, flags, v] { return import_message_change(*session, handle, flags, v); };
  };
  for (std::uint8_t f : {0x01, 0x02, 0x04, 0x08, 0x20, 0x80, 0x50 | 0x80}) {
    expect_rejected(ErrorCode::InvalidParameter, call(f, good), "unknown flag");
  }
  expect_rejected(ErrorCode::InvalidParameter, call(0, {}), "count 0");
  expect_rejected(ErrorCode::InvalidParameter, call(0, {good[0], good[1], good[2]}), "three values");
  expect_rejected(ErrorCode::InvalidParameter, call(0, {good[2], good[1], good[0], good[3]}), "misordered");
  expect_rejected(ErrorCode::InvalidParameter, call(0, {good[1], good[0], good[2], good[3]}), "misordered 2");
  auto v = good;
  v[0] = PropValue::integer(PropTag(tags::kSourceKey.id(), ptyp::kInteger64), 5);
  expect_rejected(ErrorCode::InvalidParameter, call(0, v), "source key mistyped");
  v = good;
  v[0].data = std::uint64_t{5};  // the right tag with a value of the wrong kind
  expect_rejected(ErrorCode::InvalidParameter, call(0, v), "source key value is no binary");
  v = good;
  v[1] = PropValue::binary(PropTag(tags::kLastModificationTime.id(), ptyp::kBinary), Bytes(8));
  expect_rejected(ErrorCode::InvalidParameter, call(0, v), "time mistyped");
  v = good;
  v[3] = PropValue::integer(PropTag(tags::kPredecessorChangeList.id(), ptyp::kInteger32), 0);
  expect_rejected(ErrorCode::InvalidParameter, call(0, v), "PCL mistyped");
  v = good;
  v[0] = PropValue::binary(tags::kSourceKey, Bytes(21));
  expect_rejected(ErrorCode::FormatError, call(0, v), "GID of 21 bytes");
  v[0] = PropValue::binary(tags::kSourceKey, Bytes(23));
  expect_rejected(ErrorCode::FormatError, call(0, v), "GID of 23 bytes");
  v = good;
  v[2] = PropValue::binary(tags::kChangeKey, Bytes(16));
  expect_rejected(ErrorCode::FormatError, call(0, v), "XID of 16 bytes");
  v[2] = PropValue::binary(tags::kChangeKey, Bytes(25));
  expect_rejected(ErrorCode::FormatError, call(0, v), "XID of 25 bytes");
  v = good;
  v[3] = PropValue::binary(tags::kPredecessorChangeList, Bytes{5, 1, 2, 3, 4, 5});
  expect_rejected(ErrorCode::FormatError, call(0, v), "PCL XidSize 5");
  Bytes cut = Pcl::of(ck).serialize();
  cut.pop_back();
  v[3] = PropValue::binary(tags::kPredecessorChangeList, cut);
  expect_rejected(ErrorCode::FormatError, call(0, v), "PCL cut short");
  // Ids.
  expect_rejected(ErrorCode::InvalidParameter, call(0, message_values(Gid{kClient, 0}, 1, ck, Pcl{})), "GLOBCNT 0");
  expect_rejected(ErrorCode::InvalidParameter,
                  call(0, message_values(Gid{kStoreGuid, store->current_cn() + 5}, 1, ck, Pcl{})),
                  "a local id never handed out");
  expect_rejected(ErrorCode::SyncObjectDeleted,
                  call(0, message_values(Gid{kStoreGuid, other.globcnt}, 1, ck, Pcl{})),
                  "a server id that names no message");
  MessageSnapshot elsewhere = server_message("g", false, other);
  expect_rejected(ErrorCode::InvalidParameter, call(0, message_values(elsewhere.source_key, 1, ck, Pcl::of(ck))),
                  "a message in another folder");
  MessageSnapshot fai = server_message("fai", true);
  expect_rejected(ErrorCode::InvalidParameter, call(0, message_values(fai.source_key, 1, ck, fai.pcl)),
                  "FAI message imported as normal");
  MessageSnapshot normal = server_message("n");
  expect_rejected(ErrorCode::InvalidParameter,
                  call(import_flag::kAssociated, message_values(normal.source_key, 1, ck, normal.pcl)),
                  "normal message imported as FAI");
  ASSERT_TRUE(store->delete_message(normal.mid).ok());
  expect_rejected(ErrorCode::SyncObjectDeleted, call(0, message_values(normal.source_key, 1, ck, normal.pcl)),
                  "a deleted message");
  ASSERT_TRUE(store->move_message(fai.mid, other).ok());
  expect_rejected(ErrorCode::SyncObjectDeleted,
                  call(import_flag::kAssociated, message_values(fai.source_key, 1, ck, fai.pcl)),
                  "a message moved away");
  // Handles and collector kinds.
  auto bad = [&](std::uint32_t h) { return [this, h, good] { return import_message_change(*session, h, 0, good); }; };
  expect_rejected(ErrorCode::NullObject, bad(handle ^ 0x10000), "forged handle");
  expect_rejected(ErrorCode::NullObject, bad(kInvalidHandle), "invalid handle");
  auto h = open_collector(*session, folder, false);
  ASSERT_TRUE(h.ok());
  expect_rejected(ErrorCode::NotSupported, bad(*h), "hierarchy collector");
  auto ts = get_transfer_state(*session, handle);
  ASSERT_TRUE(ts.ok());
  expect_rejected(ErrorCode::NullObject, bad(*ts), "a transfer-state handle");
  ASSERT_TRUE(session->release(*ts).ok());
  // A foreign key that names a folder.
  auto hf = import_hierarchy_change(*session, *h, folder_values(std::nullopt, Gid{kClient, 900}, 1,
                                                                 Xid::from_globcnt(kClient, 901), Pcl{}, "cf"),
                                    {});
  ASSERT_TRUE(hf.ok()) << hf.error().to_string();
  expect_rejected(ErrorCode::InvalidParameter, call(0, message_values(Gid{kClient, 900}, 1, ck, Pcl{})),
                  "a key naming a folder");
  EXPECT_TRUE(store->check_invariants().ok());
}

// ---- concurrency: a change between decision and write is re-decided ----

TEST_F(CollectorTest, AConcurrentChangeIsReDecided) {
  MessageSnapshot m = server_message("base");
  const Xid c1 = Xid::from_globcnt(kClient, 200);
  Pcl p1 = m.pcl;
  p1.add(c1);
  MessageSnapshot sneaky;
  ASSERT_TRUE(set_collector_hooks(*session, handle, CollectorHooks{[&](std::uint32_t attempt) {
                                    if (attempt == 1) sneaky = modify(now(m), "sneaky server edit");
                                  }}).ok());
  // Decided Newer on attempt 1; the sneaky edit makes it a conflict on attempt 2.
  auto r = import(m.source_key, 1, c1, p1, "client");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->attempts, 2u);
  EXPECT_EQ(r->outcome, ImportOutcome::ServerWon);  // the sneaky edit is later
  MessageSnapshot res = now(m);
  EXPECT_TRUE(res.pcl.includes(sneaky.change_key));  // the server's change is not lost
  EXPECT_TRUE(res.pcl.includes(c1));                 // nor the client's
  EXPECT_TRUE(has_subject(res.props, "sneaky server edit"));
  EXPECT_EQ(store->conflicts_of(m.source_key).size(), 1u);
  // With FailOnConflict the second decision refuses.
  MessageSnapshot m2 = server_message("base 2");
  Pcl p2 = m2.pcl;
  p2.add(Xid::from_globcnt(kClient, 201));
  ASSERT_TRUE(set_collector_hooks(*session, handle, CollectorHooks{[&](std::uint32_t attempt) {
                                    if (attempt == 1) modify(now(m2), "sneaky 2");
                                  }}).ok());
  EXPECT_EQ(import(m2.source_key, 1, Xid::from_globcnt(kClient, 201), p2, "c", import_flag::kFailOnConflict).code(),
            ErrorCode::SyncConflict);
  // A create that races another creator of the same key becomes an update.
  const Gid fresh{kClient, 300};
  ASSERT_TRUE(set_collector_hooks(*session, handle, CollectorHooks{[&](std::uint32_t attempt) {
                                    if (attempt != 1) return;
                                    MessageVersion v;
                                    v.folder = folder;
                                    v.source_key = fresh;
                                    v.change_key = Xid::from_globcnt(kLowClient, 1);
                                    ASSERT_TRUE(store->put_message_version(v).ok());
                                  }}).ok());
  auto created = import(fresh, ~0ull, Xid::from_globcnt(kClient, 301), Pcl{}, "mine");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->attempts, 2u);
  EXPECT_EQ(created->outcome, ImportOutcome::ClientWon);
  EXPECT_EQ(store->conflicts_of(fresh).size(), 1u);
}

TEST_F(CollectorTest, AWriterThatAlwaysWinsExhaustsTheAttempts) {
  MessageSnapshot m = server_message("base");
  std::uint32_t calls = 0;
  ASSERT_TRUE(set_collector_hooks(*session, handle, CollectorHooks{[&](std::uint32_t) {
                                    ++calls;
                                    modify(now(m), "again");
                                  }}).ok());
  IcsState before = state();
  const MemoryBaseline memory(*session);
  Pcl p = m.pcl;
  p.add(Xid::from_globcnt(kClient, 400));
  auto r = import(m.source_key, 1, Xid::from_globcnt(kClient, 400), p, "c");
  EXPECT_EQ(r.code(), ErrorCode::ObjectModified);
  EXPECT_EQ(calls, kMaxImportAttempts);
  Status same = memory.check(*session);  // the first import's charge is gone, not resized to 0
  EXPECT_TRUE(same.ok()) << same.error().to_string();
  EXPECT_EQ(state(), before);
  EXPECT_EQ(store->conflict_count(), 0u);
  EXPECT_FALSE(now(m).pcl.includes(Xid::from_globcnt(kClient, 400)));
}

// A server thread edits one message while the client imports edits of it; at
// the end every change key either side ever wrote is in the message's PCL, and
// each conflict outcome has its record.
TEST_F(CollectorTest, ThreadedServerWriterNeverLosesAChange) {
  MessageSnapshot m = server_message("base");
  // Imports until at least kImports went through and some met a server edit
  // (the scheduler decides when the writer runs), at most kMaxImports.
  constexpr int kImports = 200;
  constexpr int kMaxImports = 20000;
  std::vector<Xid> server_keys;
  std::atomic<bool> started{false}, done{false};
  std::atomic<std::size_t> progress{0};  // imports so far; the writer keeps pace
  std::thread writer([&] {
    started = true;
    for (int i = 0; !done.load(); ++i) {
      if (server_keys.size() > 2 * progress.load()) {
        std::this_thread::yield();
        continue;
      }
      PropChanges c;
      c.set.set(subject("s" + std::to_string(i)));
      server_keys.push_back(store->modify_message(m.mid, c).value().change_key);
    }
  });
  while (!started.load()) std::this_thread::yield();
  std::vector<Xid> client_keys;
  std::size_t conflicts = 0;
  std::uint32_t retries = 0;
  Pcl seen = m.pcl;
  for (int i = 0; i < kMaxImports && (i < kImports || conflicts == 0); ++i) {
    progress = static_cast<std::size_t>(i);
    if (i % 3 == 0) seen = now(m).pcl;  // the client downloads now and then
    const Xid ck = Xid::from_globcnt(kClient, 1000 + static_cast<Globcnt>(i));
    Pcl p = seen;
    p.add(ck);
    auto r = import(m.source_key, (i % 2) ? 1 : ~0ull, ck, p, "c" + std::to_string(i));
    ASSERT_TRUE(r.ok() || r.code() == ErrorCode::ObjectModified) << r.error().to_string();
    if (!r.ok()) continue;
    client_keys.push_back(ck);
    retries += r->attempts - 1;
    if (!clean_outcome(r->outcome)) ++conflicts;
    seen = p;
  }
  done = true;
  writer.join();
  MessageSnapshot fin = now(m);
  for (const Xid& x : server_keys) ASSERT_TRUE(fin.pcl.includes(x));
  for (const Xid& x : client_keys) ASSERT_TRUE(fin.pcl.includes(x));
  EXPECT_EQ(store->conflict_count(), conflicts);
  EXPECT_GT(conflicts, 0u);
  EXPECT_TRUE(store->check_invariants().ok());
  RecordProperty("retries", static_cast<int>(retries));
}


// ---- hierarchy ----

class HierarchyCollectorTest : public CollectorTest {
 protected:
  void SetUp() override {
    CollectorTest::SetUp();
    top = folder;
    hier = open_collector(*session, top, false).value();
  }
  Result<ImportResult> put(std::optional<Gid> parent, const Gid& key, std::uint64_t time, const Xid& ck,
                           const Pcl& pcl, std::string_view name, std::vector<PropValue> extra = {}) {
    return import_hierarchy_change(*session, hier, folder_values(parent, key, time, ck, pcl, name), extra);
  }
  FolderSnapshot folder_of(const Gid& key) { return store->get_folder(store->find_folder(key).value()).value(); }
  bool named(const FolderSnapshot& f, std::string_view name) {
    const PropValue* v = f.props.get(tags::kDisplayName);
    return v && *v == PropValue::unicode(tags::kDisplayName, name);
  }
  IcsState hstate() { return transfer_state_of(*session, hier).value(); }
  Fid top;
  std::uint32_t hier = 0;
};

TEST_F(HierarchyCollectorTest, CreateRenameReparentAndIgnore) {
  const Gid a{kClient, 10}, b{kClient, 20};
  const Xid a1 = Xid::from_globcnt(kClient, 11);
  PropValue extra = PropValue::integer(PropTag(0x3613, ptyp::kInteger32), 7);  // another property
  auto ra = put(std::nullopt, a, 100, a1, Pcl{}, "A", {extra});
  ASSERT_TRUE(ra.ok()) << ra.error().to_string();
  EXPECT_EQ(ra->outcome, ImportOutcome::Created);
  FolderSnapshot fa = folder_of(a);
  EXPECT_EQ(fa.parent, top);
  EXPECT_TRUE(named(fa, "A"));
  EXPECT_TRUE(fa.props.get(extra.tag) != nullptr);
  EXPECT_EQ(fa.change_key, a1);
  EXPECT_EQ(fa.last_modified, 100u);
  auto rb = put(a, b, 100, Xid::from_globcnt(kClient, 21), Pcl{}, "B");
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(folder_of(b).parent, fa.fid);
  IcsState st = hstate();
  EXPECT_TRUE(st.given.contains(kClient, 10) && st.given.contains(kClient, 20));
  EXPECT_TRUE(st.seen.contains(kStoreGuid, ra->cn) && st.seen.contains(kStoreGuid, rb->cn));
  // Rename A.
  const Xid a2 = Xid::from_globcnt(kClient, 12);
  Pcl pa = fa.pcl;
  pa.add(a2);
  auto rn = put(std::nullopt, a, 200, a2, pa, "A renamed");
  ASSERT_TRUE(rn.ok());
  EXPECT_EQ(rn->outcome, ImportOutcome::Updated);
  EXPECT_TRUE(named(folder_of(a), "A renamed"));
  // Re-parent B to the top.
  FolderSnapshot fb = folder_of(b);
  Pcl pb = fb.pcl;
  pb.add(Xid::from_globcnt(kClient, 22));
  auto rp = put(std::nullopt, b, 300, Xid::from_globcnt(kClient, 22), pb, "B");
  ASSERT_TRUE(rp.ok());
  EXPECT_EQ(folder_of(b).parent, top);
  EXPECT_EQ(store->child_folders(folder_of(a).fid)->size(), 0u);
  // Replays are ignored.
  expect_rejected(ErrorCode::SyncIgnore, [&] { return put(std::nullopt, b, 300, Xid::from_globcnt(kClient, 22), pb, "B"); },
                  "equal");
  expect_rejected(ErrorCode::SyncIgnore, [&] { return put(a, b, 1, Xid::from_globcnt(kClient, 21), fb.pcl, "B"); },
                  "older");
  EXPECT_EQ(folder_of(b).parent, top);
  // Moving A below B, then B below A, is a cycle.
  FolderSnapshot fa2 = folder_of(a);
  Pcl pa3 = fa2.pcl;
  pa3.add(Xid::from_globcnt(kClient, 13));
  ASSERT_TRUE(put(b, a, 400, Xid::from_globcnt(kClient, 13), pa3, "A").ok());
  FolderSnapshot fb2 = folder_of(b);
  Pcl pb3 = fb2.pcl;
  pb3.add(Xid::from_globcnt(kClient, 23));
  expect_rejected(ErrorCode::SyncIncest, [&] { return put(a, b, 500, Xid::from_globcnt(kClient, 23), pb3, "B"); },
                  "cycle");
  EXPECT_TRUE(store->check_invariants().ok());
}

TEST_F(HierarchyCollectorTest, ConflictsAreLastWriterWinsAndRecorded) {
  Fid f = store->create_folder(top, "server name").value();
  FolderSnapshot base = store->get_folder(f).value();
  PropChanges rename;
  rename.set.set(PropValue::unicode(tags::kDisplayName, "server rename"));
  FolderSnapshot s2 = store->modify_folder(f, rename).value();
  Fid elsewhere = store->create_folder(top, "E").value();
  for (bool client_later : {false, true}) {
    FolderSnapshot cur = store->get_folder(f).value();
    const Xid ck = Xid::from_globcnt(kClient, client_later ? 31 : 30);
    Pcl p = base.pcl;  // the client never saw the server rename
    p.add(ck);
    const std::uint64_t t = client_later ? ~0ull : 1;
    auto r = put(store->to_gid(elsewhere).value(), base.source_key, t, ck, p, "client rename");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->outcome, client_later ? ImportOutcome::ClientWon : ImportOutcome::ServerWon);
    EXPECT_FALSE(r->seen);
    FolderSnapshot res = store->get_folder(f).value();
    EXPECT_TRUE(named(res, client_later ? "client rename" : "server rename"));
    EXPECT_EQ(res.parent, client_later ? elsewhere : top);
    EXPECT_TRUE(res.pcl.includes(ck) && res.pcl.includes_all(cur.pcl));
    EXPECT_EQ(res.props.get(tags::kMessageStatus), nullptr);
    auto recs = store->conflicts_of(base.source_key);
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs.back().object, ConflictObject::Folder);
    EXPECT_EQ(recs.back().client_won, client_later);
    EXPECT_EQ(recs.back().client.parent, elsewhere);
    EXPECT_EQ(recs.back().server.change_key, cur.change_key);
    EXPECT_TRUE(in_conflict(recs.back().client.props));
  }
  EXPECT_EQ(store->conflicts_of(base.source_key).size(), 2u);
  (void)s2;
}

// A server change between the decision and the write makes the folder write fail with
// ObjectModified; the import decides again (attempt 2) instead of giving up.
TEST_F(HierarchyCollectorTest, AConcurrentFolderChangeIsReDecided) {
  Fid f = store->create_folder(top, "server name").value();
  FolderSnapshot base = store->get_folder(f).value();
  const Xid ck = Xid::from_globcnt(kClient, 50);
  Pcl p = base.pcl;
  p.add(ck);
  FolderSnapshot sneaky;
  ASSERT_TRUE(set_collector_hooks(*session, hier, CollectorHooks{[&](std::uint32_t attempt) {
                                    if (attempt != 1) return;
                                    PropChanges rename;
                                    rename.set.set(PropValue::unicode(tags::kDisplayName, "sneaky"));
                                    sneaky = store->modify_folder(f, rename).value();
                                  }}).ok());
  auto r = put(std::nullopt, base.source_key, ~0ull, ck, p, "client rename");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->attempts, 2u);
  EXPECT_EQ(r->outcome, ImportOutcome::ClientWon);  // a conflict now, and the client is later
  FolderSnapshot res = store->get_folder(f).value();
  EXPECT_TRUE(named(res, "client rename"));
  EXPECT_TRUE(res.pcl.includes(ck) && res.pcl.includes(sneaky.change_key));
  EXPECT_EQ(store->conflicts_of(base.source_key).size(), 1u);
}

TEST_F(HierarchyCollectorTest, BadHierarchyImportsAreNamedErrors) {
  const Gid key{kClient, 40};
  const Xid ck = Xid::from_globcnt(kClient, 41);
  auto good = folder_values(std::nullopt, key, 1, ck, Pcl{}, "x");
  auto call = [&](std::vector<PropValue> hv, std::uint32_t h = 0) {
    return [this, hv, h] { return import_hierarchy_change(*session, h ? h : hier, hv, {}); };
  };
  expect_rejected(ErrorCode::InvalidParameter, call({}), "no values");
  expect_rejected(ErrorCode::InvalidParameter, call({good.begin(), good.begin() + 5}), "five values");
  auto seven = good;
  seven.push_back(good[5]);
  expect_rejected(ErrorCode::InvalidParameter, call(seven), "seven values");
  auto v = good;
  std::swap(v[0], v[1]);
  expect_rejected(ErrorCode::InvalidParameter, call(v), "misordered");
  v = good;
  v[5] = PropValue::unicode(tags::kSubject, "x");
  expect_rejected(ErrorCode::InvalidParameter, call(v), "not a display name");
  v[5] = PropValue::integer(PropTag(tags::kDisplayName.id(), ptyp::kInteger32), 1);
  expect_rejected(ErrorCode::InvalidParameter, call(v), "display name mistyped");
  v = good;
  v[0] = PropValue::binary(tags::kParentSourceKey, Bytes(5));
  expect_rejected(ErrorCode::FormatError, call(v), "parent key of 5 bytes");
  v = good;
  v[1] = PropValue::binary(tags::kSourceKey, Bytes(30));
  expect_rejected(ErrorCode::FormatError, call(v), "key of 30 bytes");
  expect_rejected(ErrorCode::SyncNoParent, call(folder_values(Gid{kClient, 999}, key, 1, ck, Pcl{}, "x")),
                  "unknown parent");
  expect_rejected(ErrorCode::SyncNoParent, call(folder_values(store->to_gid(other).value(), key, 1, ck, Pcl{}, "x")),
                  "parent outside the collector");
  expect_rejected(ErrorCode::InvalidParameter,
                  call(folder_values(std::nullopt, store->to_gid(top).value(), 1, ck, Pcl{}, "x")),
                  "the collector's own folder");
  expect_rejected(ErrorCode::InvalidParameter,
                  call(folder_values(std::nullopt, store->to_gid(other).value(), 1, ck, Pcl{}, "x")),
                  "a folder outside the collector");
  Fid doomed = store->create_folder(top, "doomed").value();
  Gid doomed_key = store->to_gid(doomed).value();
  ASSERT_TRUE(store->delete_folder(doomed).ok());
  expect_rejected(ErrorCode::SyncObjectDeleted, call(folder_values(std::nullopt, doomed_key, 1, ck, Pcl{}, "x")),
                  "a deleted folder");
  expect_rejected(ErrorCode::SyncNoParent, call(folder_values(doomed_key, key, 1, ck, Pcl{}, "x")),
                  "a deleted parent");
  expect_rejected(ErrorCode::InvalidParameter,
                  call(folder_values(std::nullopt, Gid{kStoreGuid, store->current_cn() + 3}, 1, ck, Pcl{}, "x")),
                  "a local id never handed out");
  expect_rejected(ErrorCode::NotSupported, call(good, handle), "contents collector");
  expect_rejected(ErrorCode::NullObject, call(good, hier ^ 0x30000), "forged handle");
  EXPECT_EQ(store->find_folder(key), std::nullopt);
}

// ---- deletes ----

TEST_F(CollectorTest, DeletesHardAndSoftLeaveTombstonesAndLeaveGiven) {
  MessageSnapshot a = server_message("a"), b = server_message("b"), f = server_message("fai", true);
  MessageSnapshot g = server_message("in G", false, other);
  GuidIdSet given;
  for (const auto* m : {&a, &b, &f}) ASSERT_TRUE(given.insert(kStoreGuid, m->mid.globcnt).ok());
  ASSERT_TRUE(upload_property(*session, handle, tags::kMetaTagIdsetGiven, given).ok());
  auto soft = import_deletes(*session, handle, 0, {serialize_gid(a.source_key), serialize_gid(f.source_key)});
  ASSERT_TRUE(soft.ok()) << soft.error().to_string();
  EXPECT_EQ(soft->deleted, 2u);
  EXPECT_EQ(soft->skipped, 0u);
  EXPECT_EQ(store->find_message_tombstone(folder, a.source_key)->kind, DeleteKind::Soft);
  EXPECT_EQ(store->find_message_tombstone(folder, f.source_key)->kind, DeleteKind::Soft);
  auto hard = import_deletes(*session, handle, import_delete_flag::kHardDelete,
                             {serialize_gid(b.source_key), serialize_gid(a.source_key),
                              serialize_gid(Gid{kClient, 5}), serialize_gid(g.source_key)});
  ASSERT_TRUE(hard.ok());
  EXPECT_EQ(hard->deleted, 1u);
  EXPECT_EQ(hard->skipped, 3u);  // already gone, unknown, in another folder
  EXPECT_EQ(store->find_message_tombstone(folder, b.source_key)->kind, DeleteKind::Hard);
  EXPECT_TRUE(store->get_message(g.mid).ok());
  EXPECT_TRUE(state().given.empty());
  EXPECT_TRUE(store->check_invariants().ok());
}

TEST_F(CollectorTest, BadDeletesAreNamedErrorsAndDeleteNothing) {
  MessageSnapshot a = server_message("a");
  const Bytes ka = serialize_gid(a.source_key);
  auto call = [&](std::uint32_t h, std::uint8_t flags, std::vector<Bytes> keys) {
    return [this, h, flags, keys] { return import_deletes(*session, h, flags, keys); };
  };
  for (std::uint8_t f : {0x04, 0x08, 0x80, 0x03 | 0x10}) {
    expect_rejected(ErrorCode::InvalidParameter, call(handle, f, {ka}), "unknown flag");
  }
  expect_rejected(ErrorCode::NotSupported, call(handle, import_delete_flag::kHierarchy, {ka}), "hierarchy flag on contents");
  expect_rejected(ErrorCode::FormatError, call(handle, 0, {ka, Bytes(21)}), "a malformed key after a good one");
  expect_rejected(ErrorCode::FormatError, call(handle, 0, {Bytes{}}), "an empty key");
  auto h = open_collector(*session, folder, false).value();
  expect_rejected(ErrorCode::NotSupported, call(h, 0, {ka}), "no hierarchy flag on a hierarchy collector");
  expect_rejected(ErrorCode::InvalidParameter,
                  call(h, import_delete_flag::kHierarchy, {serialize_gid(store->to_gid(folder).value())}),
                  "the collector's own folder");
  expect_rejected(ErrorCode::NullObject, call(handle ^ 0x50000, 0, {ka}), "forged handle");
  EXPECT_TRUE(store->get_message(a.mid).ok());
  auto none = import_deletes(*session, handle, 0, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->deleted + none->skipped, 0u);
}

TEST_F(CollectorTest, HierarchyDeletesTakeTheSubtreeOutOfGiven) {
  Fid a = store->create_folder(folder, "A").value();
  Fid a1 = store->create_folder(a, "A1").value();
  Fid b = store->create_folder(folder, "B").value();
  Mid in_a1 = store->create_message(a1, {}, false).value();
  auto h = open_collector(*session, folder, false).value();
  GuidIdSet given;
  for (Fid f : {a, a1, b}) ASSERT_TRUE(given.insert(kStoreGuid, f.globcnt).ok());
  ASSERT_TRUE(upload_property(*session, h, tags::kMetaTagIdsetGiven, given).ok());
  const Gid ka = store->to_gid(a).value();
  auto r = import_deletes(*session, h, import_delete_flag::kHierarchy | import_delete_flag::kHardDelete,
                          {serialize_gid(ka), serialize_gid(Gid{kClient, 77}), serialize_gid(store->to_gid(other).value())});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->deleted, 1u);
  EXPECT_EQ(r->skipped, 2u);  // unknown; outside the collector
  EXPECT_FALSE(store->get_folder(a).ok());
  EXPECT_FALSE(store->get_folder(a1).ok());
  EXPECT_FALSE(store->get_message(in_a1).ok());
  EXPECT_TRUE(store->get_folder(other).ok());
  EXPECT_EQ(store->find_folder_tombstone(ka)->kind, DeleteKind::Hard);
  IcsState st = transfer_state_of(*session, h).value();
  EXPECT_FALSE(st.given.contains(kStoreGuid, a.globcnt));
  EXPECT_FALSE(st.given.contains(kStoreGuid, a1.globcnt));
  EXPECT_TRUE(st.given.contains(kStoreGuid, b.globcnt));
  auto soft = import_deletes(*session, h, import_delete_flag::kHierarchy, {serialize_gid(store->to_gid(b).value())});
  ASSERT_TRUE(soft.ok());
  EXPECT_EQ(store->find_folder_tombstone(store->to_gid(b).value())->kind, DeleteKind::Soft);
}

// ---- read state ----

TEST_F(CollectorTest, ReadStateChangesSetReadAndFillCnsetRead) {
  MessageSnapshot a = server_message("a"), b = server_message("b"), f = server_message("fai", true);
  MessageSnapshot g = server_message("g", false, other);
  auto r = import_read_state_changes(*session, handle,
                                     {{serialize_gid(a.source_key), true},
                                      {serialize_gid(b.source_key), false},  // already unread
                                      {serialize_gid(f.source_key), true},   // FAI: ignored
                                      {serialize_gid(g.source_key), true},   // another folder
                                      {serialize_gid(Gid{kClient, 3}), true}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->changed, 1u);
  EXPECT_EQ(r->unchanged, 1u);
  EXPECT_EQ(r->ignored, 1u);
  EXPECT_EQ(r->skipped, 2u);
  MessageSnapshot ra = now(a);
  EXPECT_TRUE(ra.read);
  EXPECT_EQ(ra.cn, a.cn);  // a read change is not a message change
  EXPECT_FALSE(now(f).read);
  EXPECT_FALSE(now(g).read);
  IcsState st = state();
  EXPECT_TRUE(st.read.contains(kStoreGuid, ra.read_cn));
  EXPECT_EQ(st.read.size(), 1u);
  auto back = import_read_state_changes(*session, handle, {{serialize_gid(a.source_key), false}});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->changed, 1u);
  EXPECT_FALSE(now(a).read);
  EXPECT_TRUE(state().read.contains(kStoreGuid, now(a).read_cn));
  // Bad arguments.
  expect_rejected(ErrorCode::FormatError,
                  [&] {
                    return import_read_state_changes(*session, handle,
                                                     {{serialize_gid(a.source_key), true}, {Bytes(3), true}});
                  },
                  "a malformed key after a good one");
  EXPECT_FALSE(now(a).read);
  auto h = open_collector(*session, folder, false).value();
  expect_rejected(ErrorCode::NotSupported, [&] { return import_read_state_changes(*session, h, {}); },
                  "hierarchy collector");
}

// ---- moves ----

class MoveTest : public CollectorTest {
 protected:
  // The collector is on `folder`; messages come from `other`.
  ImportMove move_of(const MessageSnapshot& m, const Pcl& pcl, const Xid& ck) {
    return ImportMove{serialize_gid(store->to_gid(other).value()), serialize_gid(m.source_key), pcl.serialize(),
                      serialize_gid(m.source_key), serialize_xid(ck)};
  }
};

TEST_F(MoveTest, EqualPclMovesAndAppliesTheChangeNumber) {
  MessageSnapshot m = server_message("m", false, other);
  const Xid ck = Xid::from_globcnt(kClient, 500);
  auto r = import_message_move(*session, handle, move_of(m, m.pcl, ck));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->code, ErrorCode::Success);
  EXPECT_TRUE(r->seen);
  MessageSnapshot after = now(m);
  EXPECT_EQ(after.mid, m.mid);
  EXPECT_EQ(after.folder, folder);
  EXPECT_EQ(after.cn, r->cn);
  EXPECT_EQ(after.change_key, ck);
  EXPECT_TRUE(after.pcl.includes(ck) && after.pcl.includes_all(m.pcl));
  EXPECT_EQ(store->find_message_tombstone(other, m.source_key)->kind, DeleteKind::Moved);
  IcsState st = state();
  EXPECT_TRUE(st.seen.contains(kStoreGuid, r->cn));
  EXPECT_TRUE(st.given.contains(kStoreGuid, m.mid.globcnt));
  // Already in the destination: left alone.
  auto again = import_message_move(*session, handle, move_of(m, after.pcl, ck));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->code, ErrorCode::Success);
  EXPECT_EQ(now(m).cn, after.cn);
  // An FAI message's CN goes to CnsetSeenFAI.
  MessageSnapshot fai = server_message("fai", true, other);
  auto rf = import_message_move(*session, handle, move_of(fai, fai.pcl, Xid::from_globcnt(kClient, 501)));
  ASSERT_TRUE(rf.ok());
  EXPECT_TRUE(state().seen_fai.contains(kStoreGuid, rf->cn));
}

TEST_F(MoveTest, ThePclDecidesNewerClientChange) {
  // The client's version is newer than the store's: moved, not applied, seen.
  MessageSnapshot m1 = server_message("m1", false, other);
  Pcl newer = m1.pcl;
  newer.add(Xid::from_globcnt(kClient, 600));
  auto r1 = import_message_move(*session, handle, move_of(m1, newer, Xid::from_globcnt(kClient, 601)));
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->code, ErrorCode::NewerClientChange);
  EXPECT_TRUE(r1->seen);
  MessageSnapshot a1 = now(m1);
  EXPECT_EQ(a1.folder, folder);
  EXPECT_EQ(a1.change_key, m1.change_key);
  EXPECT_EQ(a1.pcl, m1.pcl);
  // The client then imports its newer version: it applies cleanly.
  auto up = import(m1.source_key, 1, Xid::from_globcnt(kClient, 600), newer, "client's");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->outcome, ImportOutcome::Updated);
  // The store's version is newer: moved, Success, not seen.
  MessageSnapshot m2 = server_message("m2", false, other);
  MessageSnapshot m2b = modify(m2, "m2 server edit");
  auto r2 = import_message_move(*session, handle, move_of(m2, m2.pcl, Xid::from_globcnt(kClient, 602)));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->code, ErrorCode::Success);
  EXPECT_FALSE(r2->seen);
  EXPECT_EQ(now(m2).change_key, m2b.change_key);
  EXPECT_FALSE(state().seen.contains(kStoreGuid, r2->cn));
  EXPECT_TRUE(state().given.contains(kStoreGuid, m2.mid.globcnt));
  // Both changed: moved, NewerClientChange, not seen.
  MessageSnapshot m3 = server_message("m3", false, other);
  modify(m3, "m3 server edit");
  Pcl mine = m3.pcl;
  mine.add(Xid::from_globcnt(kClient, 603));
  auto r3 = import_message_move(*session, handle, move_of(m3, mine, Xid::from_globcnt(kClient, 604)));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->code, ErrorCode::NewerClientChange);
  EXPECT_FALSE(r3->seen);
  EXPECT_EQ(now(m3).folder, folder);
  EXPECT_EQ(store->conflict_count(), 0u);
}

TEST_F(MoveTest, BadMovesAreNamedErrors) {
  MessageSnapshot m = server_message("m", false, other);
  const Xid ck = Xid::from_globcnt(kClient, 700);
  ImportMove good = move_of(m, m.pcl, ck);
  auto call = [&](ImportMove mv, std::uint32_t h = 0) {
    return [this, mv, h] { return import_message_move(*session, h ? h : handle, mv); };
  };
  for (Bytes ImportMove::*field : {&ImportMove::source_folder, &ImportMove::source_message, &ImportMove::pcl,
                                   &ImportMove::destination_message, &ImportMove::change_number}) {
    ImportMove mv = good;
    (mv.*field).clear();
    expect_rejected(ErrorCode::InvalidParameter, call(mv), "an empty field");
  }
  for (Bytes ImportMove::*field : {&ImportMove::source_folder, &ImportMove::source_message,
                                   &ImportMove::destination_message}) {
    ImportMove mv = good;
    (mv.*field).resize(21);
    expect_rejected(ErrorCode::FormatError, call(mv), "a GID of 21 bytes");
  }
  ImportMove mv = good;
  mv.pcl = Bytes{30, 0, 0};
  expect_rejected(ErrorCode::FormatError, call(mv), "a bad PCL");
  mv = good;
  mv.change_number = Bytes(10);
  expect_rejected(ErrorCode::FormatError, call(mv), "a bad XID");
  mv = good;
  mv.destination_message = serialize_gid(Gid{kClient, 701});
  expect_rejected(ErrorCode::InvalidParameter, call(mv), "a new destination key");
  mv = good;
  mv.source_folder = serialize_gid(Gid{kClient, 702});
  expect_rejected(ErrorCode::NotFound, call(mv), "an unknown source folder");
  mv.source_folder = serialize_gid(store->to_gid(folder).value());
  expect_rejected(ErrorCode::InvalidParameter, call(mv), "source is the destination");
  Fid third = store->create_folder(store->root(), "third").value();
  MessageSnapshot in_third = server_message("t", false, third);
  expect_rejected(ErrorCode::SyncObjectDeleted, call(move_of(in_third, in_third.pcl, ck)), "not in the source folder");
  MessageSnapshot gone = server_message("gone", false, other);
  ASSERT_TRUE(store->delete_message(gone.mid).ok());
  expect_rejected(ErrorCode::SyncObjectDeleted, call(move_of(gone, gone.pcl, ck)), "a deleted message");
  MessageSnapshot unknown;
  unknown.source_key = Gid{kClient, 9};
  expect_rejected(ErrorCode::SyncObjectDeleted, call(move_of(unknown, Pcl::of(ck), ck)), "an unknown message");
  Fid doomed = store->create_folder(store->root(), "doomed").value();
  mv = good;
  mv.source_folder = serialize_gid(store->to_gid(doomed).value());
  ASSERT_TRUE(store->delete_folder(doomed).ok());
  expect_rejected(ErrorCode::SyncObjectDeleted, call(mv), "a deleted source folder");
  auto h = open_collector(*session, folder, false).value();
  expect_rejected(ErrorCode::NotSupported, call(good, h), "hierarchy collector");
  EXPECT_EQ(now(m).folder, other);
}

// ---- local replica ids ----

TEST_F(CollectorTest, ReservedIdsCreateMessagesAndDeletedOnesAreRefused) {
  EXPECT_EQ(get_local_replica_ids(*session, 0).code(), ErrorCode::InvalidParameter);
  auto ids = get_local_replica_ids(*session, 10);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->replguid, kStoreGuid);
  const Globcnt first = ids->first;
  Mid after = store->create_message(folder, {}, false).value();
  EXPECT_GT(after.globcnt, first + 9);  // the store skipped the range
  for (Globcnt i = 0; i < 5; ++i) {
    auto r = import(Gid{kStoreGuid, first + i}, 1, Xid::from_globcnt(kClient, 800 + i), Pcl{}, "local");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->id, (Mid{kLocalReplid, first + i}));
    EXPECT_TRUE(state().given.contains(kStoreGuid, first + i));
  }
  // Report 6..8 deleted; 9 stays usable.
  auto del = [&](std::vector<LongTermIdRange> r, Fid f = {}) {
    return [this, r, f] { return set_local_replica_midset_deleted(*session, f == Fid{} ? folder : f, r); };
  };
  const Gid lo{kStoreGuid, first + 6}, hi{kStoreGuid, first + 8};
  expect_rejected(ErrorCode::NotFound, del({{lo, hi}}, Fid{1, 9999}), "missing folder");
  expect_rejected(ErrorCode::InvalidParameter, del({{lo, Gid{kClient, first + 8}}}), "mixed GUIDs");
  expect_rejected(ErrorCode::InvalidParameter, del({{Gid{kClient, 1}, Gid{kClient, 2}}}), "another replica");
  expect_rejected(ErrorCode::InvalidParameter, del({{hi, lo}}), "min > max");
  expect_rejected(ErrorCode::InvalidParameter, del({{lo, Gid{kStoreGuid, first + 10}}}), "beyond the reservation");
  expect_rejected(ErrorCode::InvalidParameter, del({{lo, hi}, {Gid{kStoreGuid, after.globcnt}, Gid{kStoreGuid, after.globcnt}}}),
                  "a good range, then a server id");
  EXPECT_FALSE(store->is_reserved_deleted(first + 6));  // nothing recorded
  ASSERT_TRUE(set_local_replica_midset_deleted(*session, folder, {{lo, hi}}).ok());
  ASSERT_TRUE(set_local_replica_midset_deleted(*session, folder, {}).ok());
  for (Globcnt i = 6; i <= 8; ++i) {
    expect_rejected(ErrorCode::SyncObjectDeleted,
                    [&] { return import(Gid{kStoreGuid, first + i}, 1, Xid::from_globcnt(kClient, 900), Pcl{}, "x"); },
                    "a reported-deleted id");
  }
  EXPECT_TRUE(import(Gid{kStoreGuid, first + 9}, 1, Xid::from_globcnt(kClient, 901), Pcl{}, "x").ok());
  // Folders use reserved ids the same way.
  auto h = open_collector(*session, folder, false).value();
  auto f = import_hierarchy_change(*session, h,
                                   folder_values(std::nullopt, Gid{kStoreGuid, first + 5}, 1,
                                                 Xid::from_globcnt(kClient, 902), Pcl{}, "local folder"),
                                   {});
  EXPECT_TRUE(f.ok()) << f.error().to_string();
}

// ---- the transfer state ----

TEST_F(CollectorTest, TransferStateIsTheUploadedStatePlusTheImports) {
  MessageSnapshot known = server_message("known");
  MessageSnapshot fai = server_message("fai", true);
  IcsState up;
  ASSERT_TRUE(up.given.insert(kStoreGuid, known.mid.globcnt).ok());
  ASSERT_TRUE(up.given.insert(kStoreGuid, fai.mid.globcnt).ok());
  ASSERT_TRUE(up.seen.insert(kStoreGuid, 1, known.cn).ok());
  ASSERT_TRUE(up.seen_fai.insert(kStoreGuid, 1, fai.cn).ok());
  ASSERT_TRUE(up.read.insert(Guid::from_seed(77), 1, 5).ok());
  ASSERT_TRUE(upload_property(*session, handle, tags::kMetaTagIdsetGivenBinary, up.given).ok());
  ASSERT_TRUE(upload_property(*session, handle, tags::kMetaTagCnsetSeen, up.seen).ok());
  ASSERT_TRUE(upload_property(*session, handle, tags::kMetaTagCnsetSeenFAI, up.seen_fai).ok());
  ASSERT_TRUE(upload_property(*session, handle, tags::kMetaTagCnsetRead, up.read).ok());
  EXPECT_EQ(state(), up);
  // An import while a state upload is open is refused (and changes nothing).
  ASSERT_TRUE(upload_state_begin(*session, handle, tags::kMetaTagCnsetSeen, 0).ok());
  const std::size_t bytes = session->memory().live_bytes();
  EXPECT_EQ(import(Gid{kClient, 1}, 1, Xid::from_globcnt(kClient, 1), Pcl{}, "x").code(), ErrorCode::NotSupported);
  EXPECT_EQ(session->memory().live_bytes(), bytes);
  EXPECT_FALSE(store->find_message(Gid{kClient, 1}).has_value());
  ASSERT_TRUE(upload_state_end(*session, handle).ok());  // an empty CnsetSeen
  up.seen.clear();
  IcsState want = up;
  auto n = import(Gid{kClient, 1}, 1, Xid::from_globcnt(kClient, 2), Pcl{}, "new");
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(want.given.insert(kClient, 1).ok());
  ASSERT_TRUE(want.seen.insert(kStoreGuid, n->cn).ok());
  Pcl pf = fai.pcl;
  pf.add(Xid::from_globcnt(kClient, 3));
  auto u = import(fai.source_key, 1, Xid::from_globcnt(kClient, 3), pf, "fai 2", import_flag::kAssociated);
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(want.seen_fai.insert(kStoreGuid, u->cn).ok());
  auto rd = import_read_state_changes(*session, handle, {{serialize_gid(known.source_key), true}});
  ASSERT_TRUE(rd.ok());
  ASSERT_TRUE(want.read.insert(kStoreGuid, now(known).read_cn).ok());
  auto d = import_deletes(*session, handle, 0, {serialize_gid(known.source_key)});
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(want.given.remove(kStoreGuid, known.mid.globcnt).ok());
  for (std::size_t chunk : {1u, 5u, 4096u}) EXPECT_EQ(transfer_state_of(*session, handle, chunk).value(), want);
  // After an import the state can no longer be uploaded.
  EXPECT_EQ(upload_state_begin(*session, handle, tags::kMetaTagCnsetSeen, 0).code(), ErrorCode::NotSupported);
  // A hierarchy collector reports IdsetGiven and CnsetSeen.
  auto h = open_collector(*session, folder, false).value();
  auto hf = import_hierarchy_change(*session, h, folder_values(std::nullopt, Gid{kClient, 50}, 1,
                                                                Xid::from_globcnt(kClient, 51), Pcl{}, "sub"), {});
  ASSERT_TRUE(hf.ok());
  IcsState hs = transfer_state_of(*session, h).value();
  EXPECT_TRUE(hs.given.contains(kClient, 50));
  EXPECT_TRUE(hs.seen.contains(kStoreGuid, hf->cn));
  ASSERT_TRUE(session->release(handle).ok());
  ASSERT_TRUE(session->release(h).ok());
  EXPECT_EQ(session->memory().live_bytes(), baseline);
}

// When the store's change numbers run out, a read-state change is an error, not a count.
TEST(CollectorExhaustion, AReadChangeWithoutACnIsAnError) {
  auto store = std::make_shared<Store>(StoreOptions{kStoreGuid, kGlobcntMax - 3});
  Fid f = store->create_folder(store->root(), "F").value();
  Mid mid = store->create_message(f, PropertyBag{}, false).value();
  bool read = true;
  for (int i = 0; i < 8 && store->set_read(mid, read).ok(); ++i) read = !read;
  ASSERT_FALSE(store->set_read(mid, read).ok());  // the CN space is used up
  auto session = std::move(Session::open(store)).value();
  auto h = open_collector(*session, f, true).value();
  const Gid key = store->get_message(mid).value().source_key;
  auto r = import_read_state_changes(*session, h, {{serialize_gid(key), read}});
  EXPECT_EQ(r.code(), ErrorCode::GeneralFailure);
  EXPECT_TRUE(transfer_state_of(*session, h).value().read.empty());
}

TEST_F(CollectorTest, AFailedChargeChangesNothing) {
  const IcsState before = state();
  const std::size_t bytes = session->memory().live_bytes();
  const Globcnt cn = store->current_cn();
  session->memory().set_budget(bytes);  // no room to grow
  EXPECT_EQ(import(Gid{kClient, 1}, 1, Xid::from_globcnt(kClient, 2), Pcl{}, "x").code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(session->memory().live_bytes(), bytes);
  EXPECT_EQ(store->current_cn(), cn);
  EXPECT_EQ(store->message_count(), 0u);
  session->memory().set_budget(MemoryAccount::kUnlimited);
  EXPECT_EQ(state(), before);
  EXPECT_TRUE(import(Gid{kClient, 1}, 1, Xid::from_globcnt(kClient, 2), Pcl{}, "x").ok());
}

}  // namespace
}  // namespace ics
