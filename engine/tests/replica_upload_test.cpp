// The client replica's upload side: local changes through the upload
// collector, then syncs: propagation to another replica, no echo of the
// uploader's own change, conflicts kept in the store's records and converged
// on every replica, create / delete / read-state round trips, and random
// seeded rounds of server and local changes on three replicas.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ics/replica.h"
#include "ics/testkit/oracles.h"
#include "ics/testkit/workload.h"

namespace ics {
namespace {

using testkit::MemoryBaseline;

SyncConfig read_state_config() {
  SyncConfig c;
  c.flags |= sync_flags::kReadState;
  return c;
}

struct World {
  explicit World(std::uint64_t seed, std::size_t messages = 12)
      : store(std::make_shared<Store>(StoreOptions{Guid::from_seed(seed), 1})),
        wl(std::move(testkit::Workload::create(*store, seed)).value()),
        session(std::move(Session::open(store)).value()) {
    EXPECT_TRUE(wl.populate(messages).ok());
  }
  Replica replica(std::uint64_t client_seed) const {
    ReplicaOptions o;
    o.config = read_state_config();
    o.buffer_size = 257;
    o.state_chunk = 13;
    o.client_guid = Guid::from_seed(client_seed);
    return Replica(wl.folder(), o);
  }
  Status converged(const Replica& r) const {
    return testkit::check_converged(*store, wl.folder(), r, r.options().config);
  }
  // Uploads, checking the session's memory is back to where it was.
  void upload(Replica& r) const {
    const MemoryBaseline baseline(*session);
    Status s = r.upload(*session);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    Status m = baseline.check(*session);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_TRUE(r.pending().empty());
  }
  void sync(Replica& r) const {
    Status s = r.sync(*session);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    Status c = converged(r);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
  }
  std::shared_ptr<Store> store;
  testkit::Workload wl;
  std::unique_ptr<Session> session;
};

std::optional<Gid> first_normal(const Replica& r) {
  for (const auto& [key, m] : r.messages()) {
    if (!m.associated) return key;
  }
  return std::nullopt;
}

bool has_subject(const PropertyBag& props, std::string_view text) {
  const PropValue* v = props.get(tags::kSubject);
  return v != nullptr && *v == PropValue::unicode(tags::kSubject, text);
}

TEST(ReplicaUpload, ModifyReachesTheOtherReplicaAndIsNotEchoedBack) {
  World w(1);
  Replica a = w.replica(101), b = w.replica(102);
  w.sync(a);
  w.sync(b);
  const Gid key = first_normal(a).value();
  const Pcl old_pcl = a.messages().at(key).pcl;
  ASSERT_TRUE(a.local_modify(key, {PropValue::unicode(tags::kSubject, "from A")}).ok());
  const LocalMessage& local = a.messages().at(key);
  EXPECT_EQ(local.change_key.guid, Guid::from_seed(101));
  EXPECT_TRUE(local.pcl.includes_all(old_pcl));
  EXPECT_TRUE(local.pcl.includes(local.change_key));
  EXPECT_EQ(a.pending().size(), 1u);
  w.upload(a);
  EXPECT_EQ(a.last_upload().uploaded, 1u);
  EXPECT_EQ(a.last_upload().conflicts, 0u);
  EXPECT_EQ(a.last_upload().ignored, 0u);
  w.sync(a);
  EXPECT_EQ(a.last_sync().message_changes, 0u);  // its own change is not echoed
  w.sync(b);
  EXPECT_EQ(b.last_sync().message_changes, 1u);
  EXPECT_TRUE(has_subject(b.messages().at(key).props, "from A"));
  EXPECT_EQ(b.messages().at(key).change_key, a.messages().at(key).change_key);
  // Uploading nothing changes nothing.
  w.upload(a);
  EXPECT_EQ(a.last_upload().uploaded, 0u);
  w.sync(a);
  EXPECT_EQ(a.last_sync().message_changes, 0u);
}

TEST(ReplicaUpload, ConcurrentModifiesConflictAndBothVersionsAreKept) {
  World w(2);
  Replica a = w.replica(201), b = w.replica(202);
  w.sync(a);
  w.sync(b);
  const Gid key = first_normal(a).value();
  ASSERT_TRUE(a.local_modify(key, {PropValue::unicode(tags::kSubject, "A's")}).ok());
  ASSERT_TRUE(b.local_modify(key, {PropValue::unicode(tags::kSubject, "B's")}).ok());
  w.upload(a);
  EXPECT_EQ(a.last_upload().conflicts, 0u);
  w.upload(b);
  EXPECT_EQ(b.last_upload().conflicts, 1u);
  w.sync(a);
  w.sync(b);
  EXPECT_EQ(a.messages().at(key), b.messages().at(key));
  const auto records = w.store->conflicts_of(key);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(has_subject(records[0].server.props, "A's"));
  EXPECT_TRUE(has_subject(records[0].client.props, "B's"));
  EXPECT_TRUE(has_subject(a.messages().at(key).props, records[0].client_won ? "B's" : "A's"));
  // The resolution carries both change keys.
  EXPECT_TRUE(a.messages().at(key).pcl.includes(records[0].server.change_key));
  EXPECT_TRUE(a.messages().at(key).pcl.includes(records[0].client.change_key));
}

TEST(ReplicaUpload, CreateReadAndDeleteRoundTrips) {
  World w(3);
  Replica a = w.replica(301), b = w.replica(302);
  w.sync(a);
  w.sync(b);
  PropertyBag normal, fai;
  normal.set(PropValue::unicode(tags::kSubject, "new normal"));
  fai.set(PropValue::unicode(tags::kSubject, "new fai"));
  const Gid n = a.local_create(normal, false);
  const Gid f = a.local_create(fai, true);
  EXPECT_EQ(n.guid, Guid::from_seed(301));
  EXPECT_NE(n, f);
  w.upload(a);
  EXPECT_EQ(a.last_upload().uploaded, 2u);
  w.sync(a);
  EXPECT_EQ(a.last_sync().message_changes, 0u);
  w.sync(b);
  ASSERT_EQ(b.messages().count(n), 1u);
  ASSERT_EQ(b.messages().count(f), 1u);
  EXPECT_TRUE(b.messages().at(f).associated);
  EXPECT_TRUE(has_subject(b.messages().at(n).props, "new normal"));

  for (bool read : {true, false, true}) {
    ASSERT_TRUE(a.local_set_read(n, read).ok());
    w.upload(a);
    EXPECT_EQ(a.last_upload().uploaded, 1u);
    w.sync(a);
    EXPECT_EQ(a.last_sync().read_changes, 0u);
    w.sync(b);
    EXPECT_EQ(b.messages().at(n).read, read);
  }

  Gid other = n;
  for (const auto& [key, m] : b.messages()) {
    if (!m.associated && key != n) other = key;
  }
  ASSERT_NE(other, n);
  ASSERT_TRUE(a.local_delete(n, true).ok());
  ASSERT_TRUE(a.local_delete(f, false).ok());
  ASSERT_TRUE(a.local_delete(other, false).ok());
  EXPECT_EQ(a.local_delete(n, true).error().code(), ErrorCode::NotFound);
  EXPECT_EQ(a.local_set_read(n, true).error().code(), ErrorCode::NotFound);
  EXPECT_EQ(a.local_modify(n, {}).error().code(), ErrorCode::NotFound);
  w.upload(a);
  EXPECT_EQ(a.last_upload().uploaded, 3u);
  EXPECT_FALSE(a.state().given.contains(n.guid, n.globcnt));
  w.sync(a);
  w.sync(b);
  EXPECT_EQ(b.messages().count(n), 0u);
  EXPECT_EQ(b.messages().count(f), 0u);
  EXPECT_EQ(b.messages().count(other), 0u);
}

// The pending list a client can inspect holds each local change exactly as made.
TEST(ReplicaUpload, PendingListsEachLocalChangeAsMade) {
  World w(7);
  Replica a = w.replica(101);
  w.sync(a);
  std::vector<Gid> normal;
  for (const auto& [key, m] : a.messages()) {
    if (!m.associated) normal.push_back(key);
  }
  ASSERT_GE(normal.size(), 2u);
  ASSERT_TRUE(a.local_set_read(normal[0], true).ok());
  ASSERT_TRUE(a.local_delete(normal[1], true).ok());
  using K = PendingChange::Kind;
  const std::vector<PendingChange> want{{K::Read, normal[0], false, true}, {K::Delete, normal[1], true, false}};
  EXPECT_EQ(a.pending(), want);
}

// last_upload() counts the state bytes that upload itself sent: the four state properties
// as they were when it began, each upload on its own.
TEST(ReplicaUpload, CountsTheStateBytesEachUploadSends) {
  World w(8);
  Replica a = w.replica(101);
  w.sync(a);
  auto state_bytes = [&] {
    std::size_t n = 0;
    for (StateProperty p : {StateProperty::IdsetGiven, StateProperty::CnsetSeen, StateProperty::CnsetSeenFAI,
                            StateProperty::CnsetRead}) {
      n += encode_idset(a.state().get(p)).size();
    }
    return n;
  };
  for (int round = 0; round < 2; ++round) {
    const std::size_t want = state_bytes();
    ASSERT_GT(want, 0u);
    ASSERT_TRUE(a.local_modify(first_normal(a).value(), {PropValue::unicode(tags::kSubject, "edit")}).ok());
    w.upload(a);
    EXPECT_EQ(a.last_upload().state_bytes_uploaded, want) << round;
  }
}

TEST(ReplicaUpload, ChangesToMessagesTheServerDeletedAreIgnored) {
  World w(4);
  Replica a = w.replica(401), b = w.replica(402);
  w.sync(a);
  w.sync(b);
  const Gid key = first_normal(a).value();
  ASSERT_TRUE(b.local_delete(key, true).ok());
  w.upload(b);
  ASSERT_TRUE(a.local_modify(key, {PropValue::unicode(tags::kSubject, "late")}).ok());
  ASSERT_TRUE(a.local_set_read(key, true).ok());
  w.upload(a);
  EXPECT_EQ(a.last_upload().uploaded, 0u);
  EXPECT_EQ(a.last_upload().ignored, 2u);
  w.sync(a);
  EXPECT_EQ(a.messages().count(key), 0u);
}

// The bug the random rounds once hit: an FAI message marked read locally,
// the server ignoring the import, the replica read for good.
TEST(ReplicaUpload, FaiReadStateStaysTheServers) {
  World w(6);
  Replica a = w.replica(601);
  w.sync(a);
  const Gid fai = a.local_create(PropertyBag{}, true);
  w.upload(a);
  w.sync(a);
  ASSERT_FALSE(a.messages().at(fai).read);
  EXPECT_EQ(a.local_set_read(fai, true).code(), ErrorCode::NotSupported);
  EXPECT_FALSE(a.messages().at(fai).read);
  EXPECT_TRUE(a.pending().empty());
  w.upload(a);
  w.sync(a);
  // A server-side read change of an FAI message still reaches the replica.
  const Mid mid = w.store->find_message(fai).value();
  ASSERT_NE(w.store->set_read(mid, true).value(), 0u);
  w.sync(a);
  EXPECT_TRUE(a.messages().at(fai).read);
}

TEST(ReplicaUpload, HierarchyReplicaCannotUpload) {
  World w(5);
  ReplicaOptions o;
  o.config.type = sync_type::kHierarchy;
  Replica h(w.wl.folder(), o);
  const MemoryBaseline baseline(*w.session);
  EXPECT_EQ(h.upload(*w.session).error().code(), ErrorCode::NotSupported);
  EXPECT_TRUE(baseline.check(*w.session).ok());
}

void random_local_changes(Replica& r, std::mt19937_64& rng, testkit::Workload& wl) {
  const std::size_t n = rng() % 4;
  for (std::size_t i = 0; i < n; ++i) {
    if (r.messages().empty() || rng() % 5 == 0) {
      PropertyBag props = wl.random_props();
      props.erase(tags::kMessageFlags);  // read state travels by its own import
      r.local_create(props, rng() % 4 == 0);
      continue;
    }
    auto it = r.messages().begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng() % r.messages().size()));
    const Gid key = it->first;
    switch (rng() % 4) {
      case 0: ASSERT_TRUE(r.local_delete(key, rng() % 2 == 0).ok()); break;
      case 1: {
        const bool read = rng() % 2 == 0;
        const Status s = r.local_set_read(key, read);
        // FAI read state is the server's alone (see Replica::local_set_read).
        if (it->second.associated) {
          ASSERT_EQ(s.code(), ErrorCode::NotSupported);
          ASSERT_EQ(it->second.read, r.messages().at(key).read);
        } else {
          ASSERT_TRUE(s.ok());
          ASSERT_EQ(r.messages().at(key).read, read);
        }
        break;
      }
      default:
        ASSERT_TRUE(r.local_modify(key, {PropValue::unicode(tags::kSubject, "s" + std::to_string(rng() % 1000))},
                                   {tags::kBody})
                        .ok());
    }
  }
}

TEST(ReplicaUpload, RandomRoundsOnThreeReplicasConverge) {
  std::size_t conflicts = 0, uploaded = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    World w(100 + seed, 10);
    std::mt19937_64 rng(seed);
    std::vector<Replica> rs;
    for (std::uint64_t i = 0; i < 3; ++i) rs.push_back(w.replica(1000 * seed + i));
    for (Replica& r : rs) w.sync(r);
    for (int round = 0; round < 6; ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      ASSERT_TRUE(w.wl.apply(rng() % 4).ok());
      for (Replica& r : rs) random_local_changes(r, rng, w.wl);
      for (Replica& r : rs) {
        w.upload(r);
        uploaded += r.last_upload().uploaded;
        conflicts += r.last_upload().conflicts;
      }
      for (Replica& r : rs) w.sync(r);
      for (std::size_t i = 1; i < rs.size(); ++i) EXPECT_EQ(rs[i].messages().size(), rs[0].messages().size());
    }
  }
  EXPECT_GT(uploaded, 0u);
  EXPECT_GT(conflicts, 0u);
}

}  // namespace
}  // namespace ics
