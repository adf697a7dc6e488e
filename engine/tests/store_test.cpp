#include "ics/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

namespace ics {
namespace {

const Guid kStoreGuid = Guid::from_seed(1000);
const Guid kClientGuid = Guid::from_seed(2000);

PropertyBag subject(std::string_view text) {
  PropertyBag b;
  b.set(PropValue::unicode(tags::kSubject, text));
  return b;
}

PropChanges set_subject(std::string_view text) { return PropChanges{subject(text), {}}; }

// Ranges [1, current] minus the seen CNs.
CnRanges complement(const std::set<Globcnt>& seen, Globcnt current) {
  CnRanges out;
  Globcnt lo = 1;
  for (Globcnt cn : seen) {
    if (cn > current) break;
    if (cn > lo) out.emplace_back(lo, cn - 1);
    lo = std::max(lo, cn + 1);
  }
  if (lo <= current) out.emplace_back(lo, current);
  return out;
}

bool in_ranges(const CnRanges& r, Globcnt cn) {
  return std::any_of(r.begin(), r.end(), [cn](auto p) { return p.first <= cn && cn <= p.second; });
}

TEST(Store, ConstructionMakesTheRoot) {
  Store store(StoreOptions{kStoreGuid, 1});
  EXPECT_EQ(store.guid(), kStoreGuid);
  EXPECT_EQ(store.folder_count(), 1u);
  EXPECT_EQ(store.message_count(), 0u);
  EXPECT_EQ(store.root(), (Fid{kLocalReplid, 1}));
  EXPECT_EQ(store.guid_of(kLocalReplid), kStoreGuid);
  EXPECT_EQ(store.find_replid(kStoreGuid), kLocalReplid);
  auto root = store.get_folder(store.root());
  ASSERT_TRUE(root.ok());
  // Ids and CNs are separate counters: the root takes the first of each.
  EXPECT_EQ(root->cn, 1u);
  EXPECT_EQ(store.current_cn(), 1u);
  EXPECT_EQ(store.current_id(), 1u);
  EXPECT_EQ(root->change_key, Xid::from_globcnt(kStoreGuid, 1));
  EXPECT_TRUE(root->pcl.includes(root->change_key));
  EXPECT_FALSE(root->parent_source_key.has_value());
  EXPECT_EQ(root->source_key, (Gid{kStoreGuid, 1}));
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, EveryChangeTakesAFreshCnChangeKeyAndPcl) {
  Store store(StoreOptions{kStoreGuid, 100});
  auto fid = store.create_folder(store.root(), "Inbox");
  ASSERT_TRUE(fid.ok());
  auto mid = store.create_message(*fid, subject("one"), false);
  ASSERT_TRUE(mid.ok());
  auto m0 = store.get_message(*mid);
  ASSERT_TRUE(m0.ok());
  EXPECT_EQ(m0->change_key, Xid::from_globcnt(kStoreGuid, m0->cn));
  EXPECT_EQ(m0->last_modified, filetime_for_cn(m0->cn));
  Globcnt last = m0->cn;
  Pcl pcl = m0->pcl;
  for (int i = 0; i < 20; ++i) {
    auto m = store.modify_message(*mid, set_subject("v" + std::to_string(i)));
    ASSERT_TRUE(m.ok());
    EXPECT_GT(m->cn, last);
    EXPECT_EQ(m->cn, store.current_cn());
    EXPECT_EQ(m->change_key, Xid::from_globcnt(kStoreGuid, m->cn));
    EXPECT_TRUE(m->pcl.includes(m->change_key));
    EXPECT_EQ(compare(pcl, m->pcl), PclOrder::Newer);
    EXPECT_EQ(m->last_modified, filetime_for_cn(m->cn));
    EXPECT_EQ(*m->props.get(tags::kSubject), PropValue::unicode(tags::kSubject, "v" + std::to_string(i)));
    last = m->cn;
    pcl = m->pcl;
  }
  // One GUID in play: the PCL stays a single XID.
  EXPECT_EQ(pcl.size(), 1u);
  // Removing a property is a change too.
  auto removed = store.modify_message(*mid, PropChanges{{}, {tags::kSubject}});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->props.get(tags::kSubject), nullptr);
  EXPECT_GT(removed->cn, last);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, HeaderPropertiesAreTheStoresOwn) {
  Store store(StoreOptions{kStoreGuid, 1});
  PropertyBag bag = subject("x");
  bag.set(PropValue::binary(tags::kChangeKey, Bytes(22, 1)));
  bag.set(PropValue::integer(tags::kChangeNumber, 5));
  bag.set(PropValue::integer(tags::kLastModificationTime, 5));
  auto mid = store.create_message(store.root(), bag, false);
  ASSERT_TRUE(mid.ok());
  auto m = store.get_message(*mid);
  EXPECT_EQ(m->props.size(), 1u);
  EXPECT_NE(m->props.get(tags::kSubject), nullptr);
  auto without = store.get_message(*mid, false);
  EXPECT_TRUE(without->props.empty());
  EXPECT_EQ(without->cn, m->cn);
}

TEST(Store, ReadStateHasItsOwnCn) {
  Store store(StoreOptions{kStoreGuid, 1});
  auto mid = store.create_message(store.root(), subject("r"), false);
  ASSERT_TRUE(mid.ok());
  auto before = store.get_message(*mid);
  EXPECT_EQ(before->read_cn, 0u);
  EXPECT_FALSE(before->read);
  auto rcn = store.set_read(*mid, true);
  ASSERT_TRUE(rcn.ok());
  EXPECT_GT(*rcn, before->cn);
  auto after = store.get_message(*mid);
  EXPECT_EQ(after->cn, before->cn);
  EXPECT_EQ(after->change_key, before->change_key);
  EXPECT_EQ(after->pcl, before->pcl);
  EXPECT_EQ(after->read_cn, *rcn);
  EXPECT_TRUE(after->read);
  // Same state again: no change, no CN.
  Globcnt counter = store.current_cn();
  EXPECT_EQ(store.set_read(*mid, true).value(), 0u);
  EXPECT_EQ(store.current_cn(), counter);
  auto unread = store.set_read(*mid, false);
  ASSERT_TRUE(unread.ok());
  EXPECT_GT(*unread, *rcn);
  auto changes = store.collect_read_changes(store.root(), {{1, store.current_cn()}});
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].read_cn, *unread);
  EXPECT_FALSE((*changes)[0].read);
  EXPECT_EQ(store.set_read(Mid{1, 999}, true).code(), ErrorCode::NotFound);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, MoveIsANewChangeWithASourceTombstone) {
  Store store(StoreOptions{kStoreGuid, 1});
  Fid a = store.create_folder(store.root(), "A").value();
  Fid b = store.create_folder(store.root(), "B").value();
  Mid mid = store.create_message(a, subject("m"), false).value();
  ASSERT_TRUE(store.set_read(mid, true).ok());
  auto before = store.get_message(mid).value();
  auto cn = store.move_message(mid, b);
  ASSERT_TRUE(cn.ok());
  EXPECT_GT(*cn, before.read_cn);
  auto after = store.get_message(mid).value();
  EXPECT_EQ(after.mid, mid);  // the MID is kept
  EXPECT_EQ(after.folder, b);
  EXPECT_EQ(after.cn, *cn);
  EXPECT_EQ(after.change_key, Xid::from_globcnt(kStoreGuid, *cn));
  EXPECT_EQ(compare(before.pcl, after.pcl), PclOrder::Newer);
  EXPECT_TRUE(after.read);
  EXPECT_EQ(after.read_cn, before.read_cn);
  EXPECT_TRUE(store.message_ids(a, MessageKind::Normal)->empty());
  EXPECT_EQ(store.message_ids(b, MessageKind::Normal).value(), std::vector<Mid>{mid});
  auto tombs = store.collect_tombstones(a, {{1, store.current_cn()}}).value();
  ASSERT_EQ(tombs.size(), 1u);
  EXPECT_EQ(tombs[0].mid, mid);
  EXPECT_EQ(tombs[0].kind, DeleteKind::Moved);
  EXPECT_EQ(tombs[0].cn, *cn);
  EXPECT_EQ(tombs[0].moved_to, b);
  // The read state travelled with the message.
  EXPECT_EQ(store.collect_read_changes(b, {{1, store.current_cn()}})->size(), 1u);
  EXPECT_TRUE(store.collect_read_changes(a, {{1, store.current_cn()}})->empty());
  // Moving back drops the old tombstone in the folder it returns to.
  ASSERT_TRUE(store.move_message(mid, a).ok());
  EXPECT_TRUE(store.collect_tombstones(a, {{1, store.current_cn()}})->empty());
  EXPECT_EQ(store.collect_tombstones(b, {{1, store.current_cn()}})->size(), 1u);
  EXPECT_EQ(store.move_message(mid, a).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(store.move_message(mid, Fid{1, 9999}).code(), ErrorCode::NotFound);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, HardAndSoftDeletesLeaveTombstones) {
  Store store(StoreOptions{kStoreGuid, 1});
  Mid hard = store.create_message(store.root(), subject("h"), false).value();
  Mid soft = store.create_message(store.root(), subject("s"), true).value();
  auto hcn = store.delete_message(hard, DeleteKind::Hard);
  auto scn = store.delete_message(soft, DeleteKind::Soft);
  ASSERT_TRUE(hcn.ok() && scn.ok());
  EXPECT_LT(*hcn, *scn);
  EXPECT_EQ(store.get_message(hard).code(), ErrorCode::NotFound);
  EXPECT_EQ(store.delete_message(hard).code(), ErrorCode::NotFound);
  EXPECT_EQ(store.message_count(), 0u);
  auto tombs = store.collect_tombstones(store.root(), {{1, store.current_cn()}}).value();
  ASSERT_EQ(tombs.size(), 2u);
  EXPECT_EQ(tombs[0].mid, hard);
  EXPECT_EQ(tombs[0].kind, DeleteKind::Hard);
  EXPECT_FALSE(tombs[0].associated);
  EXPECT_EQ(tombs[1].mid, soft);
  EXPECT_EQ(tombs[1].kind, DeleteKind::Soft);
  EXPECT_TRUE(tombs[1].associated);
  EXPECT_EQ(tombs[1].source_key, (Gid{kStoreGuid, soft.globcnt}));
  // Only the ones in range.
  EXPECT_EQ(store.collect_tombstones(store.root(), {{*scn, *scn}})->size(), 1u);
  EXPECT_EQ(store.tombstone_count(), 2u);
  Mid other = store.create_message(store.root(), subject("o"), false).value();
  EXPECT_EQ(store.delete_message(other, DeleteKind::Moved).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(store.purge_tombstones(*hcn), 1u);
  EXPECT_EQ(store.tombstone_count(), 1u);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, ReserveIdsSkipsTheRange) {
  Store store(StoreOptions{kStoreGuid, 1});
  const Globcnt before = store.current_id(), cn_before = store.current_cn();
  auto r = store.reserve_ids(1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, kStoreGuid);
  EXPECT_EQ(r->second, before + 1);
  EXPECT_EQ(store.current_id(), before + 1000);
  EXPECT_EQ(store.current_cn(), cn_before);  // ids only
  Mid mid = store.create_message(store.root(), {}, false).value();
  EXPECT_GT(mid.globcnt, r->second + 999);
  EXPECT_EQ(store.reserve_ids(0).code(), ErrorCode::InvalidParameter);
  // A client may use a reserved id as a source key.
  MessageVersion v;
  v.folder = store.root();
  v.source_key = Gid{kStoreGuid, r->second + 5};
  v.change_key = Xid::from_globcnt(kClientGuid, 1);
  auto put = store.put_message_version(v);
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(put->mid, (Mid{kLocalReplid, r->second + 5}));
  // ...but not one that was never handed out.
  v.source_key = Gid{kStoreGuid, store.current_id() + 10};
  EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::InvalidParameter);
}

// A foreign source key may use any GLOBCNT from 1 to the 48-bit maximum, ends included.
TEST(Store, ForeignSourceKeyGlobcntRangeIsInclusive) {
  Store store(StoreOptions{kStoreGuid, 1});
  MessageVersion v;
  v.folder = store.root();
  v.change_key = Xid::from_globcnt(kClientGuid, 1);
  for (Globcnt g : {Globcnt{1}, kGlobcntMax}) {
    v.source_key = Gid{kClientGuid, g};
    auto put = store.put_message_version(v);
    EXPECT_TRUE(put.ok()) << g << ": " << (put.ok() ? "" : put.error().to_string());
  }
  for (Globcnt g : {Globcnt{0}, kGlobcntMax + 1}) {
    v.source_key = Gid{kClientGuid, g};
    EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::InvalidParameter) << g;
  }
  EXPECT_TRUE(store.check_invariants().ok());
}

// REPLIDs are 16 bits: the store hands out 0xFFFF of them (1 is its own), each once, and then
// refuses a new GUID while known ones still resolve.
TEST(Store, ReplicaMapHoldsExactly0xFFFFGuids) {
  Store store(StoreOptions{kStoreGuid, 1});
  std::vector<bool> seen(0x10000, false);
  std::uint32_t given = 0;
  for (std::uint32_t i = 0; i < 0x10000; ++i) {
    auto r = store.replid_for(Guid::from_seed(0x5EED0000ull + i));
    if (!r.ok()) {
      EXPECT_EQ(r.code(), ErrorCode::GeneralFailure);
      break;
    }
    ASSERT_NE(*r, 0u);
    ASSERT_FALSE(seen[*r]) << *r;
    seen[*r] = true;
    ++given;
  }
  EXPECT_EQ(given, 0xFFFEu);  // REPLID 1 is the store's own GUID
  EXPECT_EQ(store.replid_for(Guid::from_seed(0x5EED0000ull)).value(), 2u);
}

TEST(Store, CounterExhaustionFailsCleanly) {
  constexpr Globcnt kMax = kGlobcntMax;
  Store store(StoreOptions{kStoreGuid, kMax - 10});
  EXPECT_EQ(store.current_cn(), kMax - 10);
  EXPECT_EQ(store.current_id(), kMax - 10);
  // The id space: reserve all but two ids, then use them up.
  EXPECT_EQ(store.reserve_ids(100).code(), ErrorCode::GeneralFailure);
  ASSERT_TRUE(store.reserve_ids(8).ok());
  Mid mid = store.create_message(store.root(), {}, false).value();
  EXPECT_EQ(mid.globcnt, kMax - 1);
  EXPECT_EQ(store.reserve_ids(2).code(), ErrorCode::GeneralFailure);
  ASSERT_TRUE(store.create_folder(store.root(), "last id").ok());
  EXPECT_EQ(store.current_id(), kMax);
  EXPECT_EQ(store.current_cn(), kMax - 8);
  // No id left: a create fails and takes no CN either.
  EXPECT_EQ(store.create_message(store.root(), {}, false).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(store.create_folder(store.root(), "x").code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(store.current_cn(), kMax - 8);
  // Changes still take CNs until that counter runs out too.
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(store.modify_message(mid, {}).ok());
  ASSERT_TRUE(store.set_read(mid, true).ok());
  EXPECT_EQ(store.current_cn(), kMax);
  EXPECT_EQ(store.modify_message(mid, {}).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(store.set_read(mid, false).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(store.move_message(mid, store.root()).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(store.delete_message(mid).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(store.message_count(), 1u);
  EXPECT_TRUE(store.check_invariants().ok());
}

// Changes between creates take no ids: the MIDs of a folder stay one range,
// and CNs still strictly increase.
TEST(Store, IdsStayDenseWhateverTheChanges) {
  Store store(StoreOptions{kStoreGuid, 1});
  const Fid folder = store.create_folder(store.root(), "f").value();
  std::vector<Mid> mids;
  Globcnt last_cn = store.current_cn();
  for (int i = 0; i < 200; ++i) {
    mids.push_back(store.create_message(folder, subject("m"), i % 5 == 0).value());
    ASSERT_GT(store.get_message(mids.back(), false)->cn, last_cn);
    ASSERT_TRUE(store.modify_message(mids[static_cast<std::size_t>(i) / 2], {}).ok());
    ASSERT_TRUE(store.set_read(mids.back(), i % 2 == 0).ok());
    last_cn = store.current_cn();
  }
  for (std::size_t i = 1; i < mids.size(); ++i) EXPECT_EQ(mids[i].globcnt, mids[0].globcnt + i);
  EXPECT_EQ(store.current_id(), mids.back().globcnt);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, ReplicaMapAndForeignSourceKeys) {
  Store store(StoreOptions{kStoreGuid, 1});
  EXPECT_FALSE(store.find_replid(kClientGuid).has_value());
  EXPECT_EQ(store.to_id(Gid{kClientGuid, 5}).code(), ErrorCode::NotFound);
  auto fid = store.create_folder(store.root(), "Client folder", Gid{kClientGuid, 77});
  ASSERT_TRUE(fid.ok());
  EXPECT_EQ(fid->replid, 2);
  EXPECT_EQ(fid->globcnt, 77u);
  EXPECT_EQ(store.find_replid(kClientGuid), 2);
  EXPECT_EQ(store.guid_of(2), kClientGuid);
  EXPECT_FALSE(store.guid_of(3).has_value());
  EXPECT_FALSE(store.guid_of(0).has_value());
  EXPECT_EQ(store.to_gid(*fid).value(), (Gid{kClientGuid, 77}));
  EXPECT_EQ(store.to_id(Gid{kClientGuid, 77}).value(), *fid);
  EXPECT_EQ(store.to_gid(Id{9, 1}).code(), ErrorCode::NotFound);
  EXPECT_EQ(store.find_folder(Gid{kClientGuid, 77}), *fid);
  EXPECT_EQ(store.get_folder(*fid)->source_key, (Gid{kClientGuid, 77}));
  EXPECT_EQ(store.get_folder(*fid)->parent_source_key, store.get_folder(store.root())->source_key);
  EXPECT_EQ(store.create_folder(store.root(), "again", Gid{kClientGuid, 77}).code(),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(store.create_folder(store.root(), "zero", Gid{kClientGuid, 0}).code(),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(store.replid_for(Guid::from_seed(3)).value(), 3);
  EXPECT_EQ(store.replid_for(kClientGuid).value(), 2);
  // The local folder's own CN does not move the client's counter.
  EXPECT_LT(store.current_cn(), 77u);
}

TEST(Store, PutMessageVersionStoresTheClientsVersion) {
  Store store(StoreOptions{kStoreGuid, 1});
  Fid f = store.create_folder(store.root(), "F").value();
  Fid g = store.create_folder(store.root(), "G").value();
  MessageVersion v;
  v.folder = f;
  v.source_key = Gid{kClientGuid, 0x42};
  v.change_key = Xid::from_globcnt(kClientGuid, 0x100);
  v.pcl = Pcl::of(Xid::from_globcnt(kStoreGuid, 3));
  v.last_modified = 1234;
  v.props = subject("client");
  v.expected_cn = 0;
  auto put = store.put_message_version(v);
  ASSERT_TRUE(put.ok()) << put.error().to_string();
  EXPECT_EQ(put->mid.replid, 2);
  EXPECT_EQ(put->cn, store.current_cn());
  EXPECT_EQ(put->change_key, v.change_key);
  EXPECT_TRUE(put->pcl.includes(v.change_key));
  EXPECT_TRUE(put->pcl.includes(Xid::from_globcnt(kStoreGuid, 3)));
  EXPECT_EQ(put->last_modified, 1234u);
  EXPECT_EQ(store.find_message(v.source_key), put->mid);
  // Must-not-exist now fails; the right expected CN succeeds.
  EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::ObjectModified);
  v.expected_cn = put->cn + 1;
  EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::ObjectModified);
  v.expected_cn = put->cn;
  v.change_key = Xid::from_globcnt(kClientGuid, 0x101);
  v.last_modified = 0;
  v.props = subject("client 2");
  auto second = store.put_message_version(v);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->mid, put->mid);
  EXPECT_GT(second->cn, put->cn);
  EXPECT_EQ(second->last_modified, filetime_for_cn(second->cn));
  EXPECT_EQ(store.message_count(), 1u);
  // A server change after that merges the store's XID into the client PCL.
  auto server = store.modify_message(put->mid, set_subject("server"));
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->pcl.size(), 2u);
  EXPECT_TRUE(server->pcl.includes(Xid::from_globcnt(kClientGuid, 0x101)));
  // Wrong folder, wrong kind, a folder's key, a missing folder.
  v.expected_cn.reset();
  v.folder = g;
  EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::InvalidParameter);
  v.folder = f;
  v.associated = true;
  EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::InvalidParameter);
  v.associated = false;
  v.source_key = Gid{kStoreGuid, g.globcnt};
  EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::InvalidParameter);
  v.folder = Fid{1, 5000};
  EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::NotFound);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, PutMessageVersionRevivesADeletedMessage) {
  Store store(StoreOptions{kStoreGuid, 1});
  Mid mid = store.create_message(store.root(), subject("x"), false).value();
  ASSERT_TRUE(store.delete_message(mid).ok());
  EXPECT_EQ(store.tombstone_count(), 1u);
  MessageVersion v;
  v.folder = store.root();
  v.source_key = Gid{kStoreGuid, mid.globcnt};
  v.change_key = Xid::from_globcnt(kClientGuid, 9);
  auto back = store.put_message_version(v);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->mid, mid);
  EXPECT_EQ(store.tombstone_count(), 0u);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, FolderModifyAndPutFolderVersion) {
  Store store(StoreOptions{kStoreGuid, 1});
  Fid a = store.create_folder(store.root(), "A").value();
  auto a0 = store.get_folder(a).value();
  PropChanges rename;
  rename.set.set(PropValue::unicode(tags::kDisplayName, "A2"));
  auto a1 = store.modify_folder(a, rename);
  ASSERT_TRUE(a1.ok());
  EXPECT_GT(a1->cn, a0.cn);
  EXPECT_EQ(a1->change_key, Xid::from_globcnt(kStoreGuid, a1->cn));
  EXPECT_EQ(compare(a0.pcl, a1->pcl), PclOrder::Newer);
  EXPECT_EQ(*a1->props.get(tags::kDisplayName), PropValue::unicode(tags::kDisplayName, "A2"));

  FolderVersion v;
  v.parent = a;
  v.source_key = Gid{kClientGuid, 10};
  v.change_key = Xid::from_globcnt(kClientGuid, 11);
  v.props.set(PropValue::unicode(tags::kDisplayName, "Sub"));
  v.expected_cn = 0;
  auto sub = store.put_folder_version(v);
  ASSERT_TRUE(sub.ok()) << sub.error().to_string();
  EXPECT_EQ(sub->parent, a);
  EXPECT_EQ(sub->change_key, v.change_key);
  EXPECT_EQ(store.child_folders(a).value(), std::vector<Fid>{sub->fid});
  // Re-parent under the root.
  v.parent = store.root();
  v.expected_cn = sub->cn;
  v.change_key = Xid::from_globcnt(kClientGuid, 12);
  auto moved = store.put_folder_version(v);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->fid, sub->fid);
  EXPECT_TRUE(store.child_folders(a)->empty());
  // Cycles, missing parents, stale CNs, the root.
  FolderVersion cyc;
  cyc.source_key = Gid{kStoreGuid, a.globcnt};
  cyc.parent = a;
  EXPECT_EQ(store.put_folder_version(cyc).code(), ErrorCode::SyncIncest);
  Fid child = store.create_folder(a, "child").value();
  cyc.parent = child;
  EXPECT_EQ(store.put_folder_version(cyc).code(), ErrorCode::SyncIncest);
  cyc.parent = Fid{1, 7777};
  EXPECT_EQ(store.put_folder_version(cyc).code(), ErrorCode::SyncNoParent);
  v.expected_cn = sub->cn;
  EXPECT_EQ(store.put_folder_version(v).code(), ErrorCode::ObjectModified);
  FolderVersion root_v;
  root_v.parent = a;
  root_v.source_key = Gid{kStoreGuid, store.root().globcnt};
  EXPECT_EQ(store.put_folder_version(root_v).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(store.modify_folder(Fid{1, 7777}, rename).code(), ErrorCode::NotFound);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, DeleteFolderIsRecursiveWithOneTombstoneEach) {
  Store store(StoreOptions{kStoreGuid, 1});
  Fid keep = store.create_folder(store.root(), "keep").value();
  Fid a = store.create_folder(store.root(), "a").value();
  Fid b = store.create_folder(a, "b").value();
  Fid c = store.create_folder(b, "c").value();
  Mid m1 = store.create_message(b, {}, false).value();
  Mid m2 = store.create_message(c, {}, true).value();
  Mid m3 = store.create_message(keep, {}, false).value();
  Globcnt before = store.current_cn();
  ASSERT_TRUE(store.delete_folder(a, DeleteKind::Soft).ok());
  EXPECT_EQ(store.current_cn(), before + 3);
  EXPECT_EQ(store.folder_count(), 2u);
  EXPECT_EQ(store.message_count(), 1u);
  EXPECT_EQ(store.get_message(m1).code(), ErrorCode::NotFound);
  EXPECT_EQ(store.get_message(m2).code(), ErrorCode::NotFound);
  EXPECT_TRUE(store.get_message(m3).ok());
  auto tombs = store.collect_folder_tombstones(store.root(), {{1, store.current_cn()}}).value();
  ASSERT_EQ(tombs.size(), 3u);
  EXPECT_EQ(tombs[0].fid, a);
  EXPECT_EQ(tombs[1].fid, b);
  EXPECT_EQ(tombs[2].fid, c);
  for (const auto& t : tombs) EXPECT_EQ(t.kind, DeleteKind::Soft);
  EXPECT_EQ(tombs[2].parent, b);
  // Scoped: nothing was below "keep".
  EXPECT_TRUE(store.collect_folder_tombstones(keep, {{1, store.current_cn()}})->empty());
  EXPECT_EQ(store.delete_folder(store.root()).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(store.delete_folder(a).code(), ErrorCode::NotFound);
  EXPECT_EQ(store.delete_folder(keep, DeleteKind::Moved).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(store.create_message(a, {}, false).code(), ErrorCode::NotFound);
  // Re-creating a deleted folder from its source key drops its tombstone.
  ASSERT_TRUE(store.create_folder(store.root(), "a again", Gid{kStoreGuid, a.globcnt}).ok());
  EXPECT_EQ(store.collect_folder_tombstones(store.root(), {{1, store.current_cn()}})->size(), 2u);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(Store, HierarchyChangesPutParentsBeforeChildren) {
  Store store(StoreOptions{kStoreGuid, 1});
  Fid a = store.create_folder(store.root(), "a").value();
  Fid b = store.create_folder(a, "b").value();
  Fid c = store.create_folder(b, "c").value();
  Fid other = store.create_folder(store.root(), "other").value();
  // Modify the parents after the children: their CNs are now larger.
  ASSERT_TRUE(store.modify_folder(b, {}).ok());
  ASSERT_TRUE(store.modify_folder(a, {}).ok());
  auto all = store.collect_folder_changes(store.root(), {{1, store.current_cn()}}).value();
  ASSERT_EQ(all.size(), 4u);
  std::map<Fid, std::size_t> pos;
  for (std::size_t i = 0; i < all.size(); ++i) pos[all[i].fid] = i;
  EXPECT_LT(pos[a], pos[b]);
  EXPECT_LT(pos[b], pos[c]);
  auto below_a = store.collect_folder_changes(a, {{1, store.current_cn()}}).value();
  ASSERT_EQ(below_a.size(), 2u);
  EXPECT_EQ(below_a[0].fid, b);
  EXPECT_EQ(below_a[1].fid, c);
  auto tree = store.folder_tree(store.root()).value();
  ASSERT_EQ(tree.size(), 4u);
  EXPECT_TRUE(std::any_of(tree.begin(), tree.end(), [&](auto& f) { return f.fid == other; }));
  EXPECT_TRUE(std::any_of(tree.begin(), tree.end(), [](auto& f) { return !f.props.empty(); }));
  // Without properties: the same folders, versions and keys, and no properties.
  auto bare = store.folder_tree(store.root(), false).value();
  ASSERT_EQ(bare.size(), tree.size());
  for (std::size_t i = 0; i < bare.size(); ++i) {
    EXPECT_EQ(bare[i].fid, tree[i].fid);
    EXPECT_EQ(bare[i].source_key, tree[i].source_key);
    EXPECT_EQ(bare[i].cn, tree[i].cn);
    EXPECT_EQ(bare[i].pcl, tree[i].pcl);
    EXPECT_TRUE(bare[i].props.empty());
  }
  // Only the changed one.
  Globcnt mark = store.current_cn();
  ASSERT_TRUE(store.modify_folder(c, {}).ok());
  auto since = store.collect_folder_changes(store.root(), {{mark + 1, store.current_cn()}}).value();
  ASSERT_EQ(since.size(), 1u);
  EXPECT_EQ(since[0].fid, c);
  EXPECT_EQ(store.folder_tree(Fid{1, 999}).code(), ErrorCode::NotFound);
}

TEST(Store, RangesAreValidated) {
  Store store(StoreOptions{kStoreGuid, 1});
  EXPECT_EQ(store.collect_changes(store.root(), MessageKind::Normal, {{5, 4}}).code(),
            ErrorCode::InvalidParameter);
  EXPECT_EQ(store.collect_changes(Fid{1, 99}, MessageKind::Normal, {}).code(), ErrorCode::NotFound);
  EXPECT_TRUE(store.collect_changes(store.root(), MessageKind::Normal, {})->empty());
  // Overlapping and unsorted ranges do not duplicate anything.
  Mid mid = store.create_message(store.root(), {}, false).value();
  auto got = store.collect_changes(store.root(), MessageKind::Normal,
                                   {{1, 100}, {2, 50}, {1, 1}, {40, 200}});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].mid, mid);
}

// ---- differential: collect_* against a model and a brute-force scan ----

struct ModelMessage {
  Fid folder;
  bool associated = false;
  Globcnt cn = 0;
  Globcnt read_cn = 0;
  bool read = false;
};
struct ModelTombstone {
  Globcnt cn = 0;
  DeleteKind kind = DeleteKind::Hard;
};

struct Harness {
  Store store{StoreOptions{kStoreGuid, 1}};
  std::vector<Fid> folders;
  std::map<Mid, ModelMessage> messages;
  std::map<Fid, std::map<Mid, ModelTombstone>> tombstones;
  std::set<Globcnt> cns;  // every CN handed out, to prove uniqueness
  std::mt19937_64 rng;

  explicit Harness(std::uint64_t seed) : rng(seed) {
    folders.push_back(store.root());
    for (int i = 0; i < 3; ++i) folders.push_back(store.create_folder(store.root(), "f").value());
  }
  Fid any_folder() { return folders[rng() % folders.size()]; }
  std::optional<Mid> any_message() {
    if (messages.empty()) return std::nullopt;
    auto it = messages.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng() % messages.size()));
    return it->first;
  }
  void note_cn(Globcnt cn) {
    ASSERT_TRUE(cns.insert(cn).second) << "CN handed out twice: " << cn;
    ASSERT_EQ(cn, store.current_cn());
  }

  void step() {
    int op = static_cast<int>(rng() % 8);
    auto mid = any_message();
    if (op == 0 || !mid) {
      Fid f = any_folder();
      bool assoc = rng() % 4 == 0;
      Mid m = store.create_message(f, subject("new"), assoc).value();
      messages[m] = ModelMessage{f, assoc, store.current_cn(), 0, false};
      note_cn(store.current_cn());
      return;
    }
    ModelMessage& m = messages[*mid];
    switch (op) {
      case 1: {
        auto r = store.modify_message(*mid, set_subject("mod"));
        ASSERT_TRUE(r.ok());
        ASSERT_GT(r->cn, m.cn);
        m.cn = r->cn;
        note_cn(r->cn);
        break;
      }
      case 2: {
        bool read = rng() % 2;
        Globcnt rcn = store.set_read(*mid, read).value();
        if (read == m.read) {
          ASSERT_EQ(rcn, 0u);
        } else {
          m.read = read;
          m.read_cn = rcn;
          note_cn(rcn);
        }
        break;
      }
      case 3:
      case 4: {
        DeleteKind kind = op == 3 ? DeleteKind::Hard : DeleteKind::Soft;
        Globcnt cn = store.delete_message(*mid, kind).value();
        note_cn(cn);
        tombstones[m.folder][*mid] = ModelTombstone{cn, kind};
        messages.erase(*mid);
        break;
      }
      case 5: {
        Fid dest = any_folder();
        auto r = store.move_message(*mid, dest);
        if (dest == m.folder) {
          ASSERT_EQ(r.code(), ErrorCode::InvalidParameter);
          break;
        }
        ASSERT_TRUE(r.ok());
        note_cn(*r);
        tombstones[m.folder][*mid] = ModelTombstone{*r, DeleteKind::Moved};
        tombstones[dest].erase(*mid);
        m.folder = dest;
        m.cn = *r;
        break;
      }
      case 6: {
        MessageVersion v;
        v.folder = m.folder;
        v.source_key = store.to_gid(*mid).value();
        v.associated = m.associated;
        v.change_key = Xid::from_globcnt(kClientGuid, rng() % 1000 + 1);
        v.expected_cn = m.cn;
        auto r = store.put_message_version(v);
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        m.cn = r->cn;
        note_cn(r->cn);
        break;
      }
      default: {
        // A client-created message with a foreign source key.
        MessageVersion v;
        v.folder = any_folder();
        v.source_key = Gid{kClientGuid, 1 + rng() % 100000};
        v.associated = rng() % 3 == 0;
        v.change_key = Xid::from_globcnt(kClientGuid, 1);
        v.expected_cn = 0;
        auto existing = store.find_message(v.source_key);
        auto r = store.put_message_version(v);
        if (existing) {
          ASSERT_EQ(r.code(), ErrorCode::ObjectModified);
          break;
        }
        ASSERT_TRUE(r.ok()) << r.error().to_string();
        note_cn(r->cn);
        messages[r->mid] = ModelMessage{v.folder, v.associated, r->cn, 0, false};
        tombstones[v.folder].erase(r->mid);
        break;
      }
    }
  }

  CnRanges random_unseen() {
    Globcnt current = store.current_cn();
    std::set<Globcnt> seen;
    switch (rng() % 3) {
      case 0: {  // "everything up to a point"
        Globcnt point = rng() % (current + 1);
        for (Globcnt c = 1; c <= point; ++c) seen.insert(c);
        break;
      }
      case 1: {  // a random sprinkle
        double p = static_cast<double>(rng() % 100) / 100.0;
        for (Globcnt c = 1; c <= current; ++c) {
          if (static_cast<double>(rng() % 1000) / 1000.0 < p) seen.insert(c);
        }
        break;
      }
      default:  // nothing seen
        break;
    }
    return complement(seen, current);
  }

  void verify(const CnRanges& unseen) {
    for (Fid f : folders) {
      for (MessageKind kind : {MessageKind::Normal, MessageKind::Associated}) {
        bool assoc = kind == MessageKind::Associated;
        std::vector<std::pair<Globcnt, Mid>> want;
        for (const auto& [mid, m] : messages) {
          if (m.folder == f && m.associated == assoc && in_ranges(unseen, m.cn)) {
            want.emplace_back(m.cn, mid);
          }
        }
        std::sort(want.begin(), want.end());
        // Brute force over the store itself.
        std::vector<std::pair<Globcnt, Mid>> brute;
        std::vector<Mid> ids = store.message_ids(f, kind).value();
        for (Mid mid : ids) {
          auto snap = store.get_message(mid, false).value();
          ASSERT_EQ(snap.folder, f);
          if (in_ranges(unseen, snap.cn)) brute.emplace_back(snap.cn, mid);
        }
        std::sort(brute.begin(), brute.end());
        auto got = store.collect_changes(f, kind, unseen, false).value();
        std::vector<std::pair<Globcnt, Mid>> seen;
        for (const auto& s : got) {
          seen.emplace_back(s.cn, s.mid);
          ASSERT_EQ(s.associated, assoc);
          ASSERT_TRUE(s.pcl.includes(s.change_key));
        }
        ASSERT_EQ(seen, want);
        ASSERT_EQ(brute, want);
      }
      std::vector<std::pair<Globcnt, Mid>> want_read;
      for (const auto& [mid, m] : messages) {
        if (m.folder == f && m.read_cn != 0 && in_ranges(unseen, m.read_cn)) {
          want_read.emplace_back(m.read_cn, mid);
        }
      }
      std::sort(want_read.begin(), want_read.end());
      std::vector<std::pair<Globcnt, Mid>> got_read;
      std::vector<ReadChange> reads = store.collect_read_changes(f, unseen).value();
      for (const auto& r : reads) {
        got_read.emplace_back(r.read_cn, r.mid);
        ASSERT_EQ(r.read, messages.at(r.mid).read);
      }
      ASSERT_EQ(got_read, want_read);
      std::vector<std::pair<Globcnt, Mid>> want_tomb;
      for (const auto& [mid, t] : tombstones[f]) {
        if (in_ranges(unseen, t.cn)) want_tomb.emplace_back(t.cn, mid);
      }
      std::sort(want_tomb.begin(), want_tomb.end());
      std::vector<std::pair<Globcnt, Mid>> got_tomb;
      std::vector<MessageTombstone> tombs = store.collect_tombstones(f, unseen).value();
      for (const auto& t : tombs) {
        got_tomb.emplace_back(t.cn, t.mid);
        ASSERT_EQ(t.kind, tombstones[f].at(t.mid).kind);
      }
      ASSERT_EQ(got_tomb, want_tomb);
    }
    ASSERT_EQ(store.message_count(), messages.size());
  }
};

// One case per seed (named seed_<n>), so that a failure names the seed that reproduces it.
class StoreDifferentialSeed : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(StoreDifferentialSeed, CollectChangesMatchesModelAndBruteForce) {
  Harness h(GetParam());
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int steps = static_cast<int>(h.rng() % 25);
    for (int i = 0; i < steps; ++i) ASSERT_NO_FATAL_FAILURE(h.step());
    ASSERT_TRUE(h.store.check_invariants().ok()) << h.store.check_invariants().error().to_string();
    for (int q = 0; q < 3; ++q) ASSERT_NO_FATAL_FAILURE(h.verify(h.random_unseen()));
  }
}

INSTANTIATE_TEST_SUITE_P(Store, StoreDifferentialSeed, ::testing::Values(1u, 2u, 3u, 4u),
                         [](const ::testing::TestParamInfo<std::uint64_t>& info) {
                           return "seed_" + std::to_string(info.param);
                         });

TEST(StoreDifferential, ChangesAfterAPointAreExactlyTheLaterOnes) {
  Harness h(77);
  for (int i = 0; i < 300; ++i) ASSERT_NO_FATAL_FAILURE(h.step());
  Globcnt point = h.store.current_cn();
  std::map<Mid, ModelMessage> before = h.messages;
  for (int i = 0; i < 60; ++i) ASSERT_NO_FATAL_FAILURE(h.step());
  CnRanges after = {{point + 1, h.store.current_cn()}};
  std::size_t changed = 0;
  for (Fid f : h.folders) {
    for (MessageKind kind : {MessageKind::Normal, MessageKind::Associated}) {
      std::vector<MessageSnapshot> got = h.store.collect_changes(f, kind, after).value();
      for (const auto& s : got) {
        ++changed;
        auto old = before.find(s.mid);
        // Either new, or its CN moved on since the point.
        ASSERT_TRUE(old == before.end() || old->second.cn != s.cn);
        ASSERT_GT(s.cn, point);
      }
    }
  }
  std::size_t want = 0;
  for (const auto& [mid, m] : h.messages) want += m.cn > point;
  EXPECT_EQ(changed, want);
  EXPECT_GT(want, 0u);
}

// ---- threads ----

TEST(StoreThreads, FourThreadsHammeringOneStore) {
  Store store(StoreOptions{kStoreGuid, 1});
  std::vector<Fid> folders = {store.root()};
  for (int i = 0; i < 4; ++i) folders.push_back(store.create_folder(store.root(), "t").value());
  constexpr int kThreads = 4;
  constexpr int kOps = 3000;
  std::vector<std::vector<Globcnt>> handed(kThreads);
  std::vector<long> created(kThreads), deleted(kThreads);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    std::mt19937_64 rng(99);
    while (!stop.load()) {
      Fid f = folders[rng() % folders.size()];
      Globcnt cur = store.current_cn();
      auto got = store.collect_changes(f, MessageKind::Normal, {{cur / 2, cur}});
      ASSERT_TRUE(got.ok());
      for (std::size_t i = 1; i < got->size(); ++i) ASSERT_LT((*got)[i - 1].cn, (*got)[i].cn);
      ASSERT_TRUE(store.collect_tombstones(f, {{1, cur}}).ok());
      ASSERT_TRUE(store.collect_read_changes(f, {{1, cur}}).ok());
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937_64 rng(t + 1);
      std::vector<Mid> mine;
      for (int i = 0; i < kOps; ++i) {
        Fid f = folders[rng() % folders.size()];
        int op = static_cast<int>(rng() % 6);
        if (op == 0 || mine.empty()) {
          Mid m = store.create_message(f, subject("t"), rng() % 5 == 0).value();
          mine.push_back(m);
          ++created[t];
          continue;
        }
        Mid m = mine[rng() % mine.size()];
        switch (op) {
          case 1: {
            auto r = store.modify_message(m, set_subject("x"));
            ASSERT_TRUE(r.ok());
            handed[t].push_back(r->cn);
            break;
          }
          case 2: {
            auto r = store.set_read(m, rng() % 2);
            ASSERT_TRUE(r.ok());
            if (*r != 0) handed[t].push_back(*r);
            break;
          }
          case 3: {
            auto r = store.move_message(m, f);
            if (r.ok()) handed[t].push_back(*r);
            break;
          }
          case 4: {
            handed[t].push_back(store.delete_message(m).value());
            mine.erase(std::find(mine.begin(), mine.end(), m));
            ++deleted[t];
            break;
          }
          default:
            ASSERT_TRUE(store.get_message(m).ok());
            break;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  reader.join();
  std::set<Globcnt> all;
  for (const auto& v : handed) {
    for (std::size_t i = 1; i < v.size(); ++i) ASSERT_LT(v[i - 1], v[i]);  // per thread: increasing
    for (Globcnt cn : v) ASSERT_TRUE(all.insert(cn).second) << "CN " << cn << " handed out twice";
  }
  long live = 0;
  for (int t = 0; t < kThreads; ++t) live += created[t] - deleted[t];
  EXPECT_EQ(store.message_count(), static_cast<std::size_t>(live));
  Status inv = store.check_invariants();
  EXPECT_TRUE(inv.ok()) << inv.error().to_string();
}

TEST(StoreAdditions, ReservedIdsAndClientDeletedIds) {
  Store store(StoreOptions{kStoreGuid, 1});
  Globcnt server_id = store.create_message(store.root(), {}, false)->globcnt;
  auto r = store.reserve_ids(10);
  ASSERT_TRUE(r.ok());
  const Globcnt lo = r->second, hi = r->second + 9;
  EXPECT_TRUE(store.is_reserved(lo, hi));
  EXPECT_TRUE(store.is_reserved(lo + 3, lo + 3));
  EXPECT_FALSE(store.is_reserved(lo - 1, lo));
  EXPECT_FALSE(store.is_reserved(hi, hi + 1));
  EXPECT_FALSE(store.is_reserved(server_id, server_id));
  EXPECT_FALSE(store.is_reserved(hi, lo));
  // A second reservation right after is one range with the first.
  auto r2 = store.reserve_ids(5);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(store.is_reserved(lo, r2->second + 4));
  EXPECT_EQ(store.mark_reserved_deleted(lo + 2, lo + 1).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(store.mark_reserved_deleted(server_id, server_id).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(store.mark_reserved_deleted(lo - 1, lo + 1).code(), ErrorCode::InvalidParameter);
  EXPECT_FALSE(store.is_reserved_deleted(lo));
  ASSERT_TRUE(store.mark_reserved_deleted(lo + 2, lo + 4).ok());
  ASSERT_TRUE(store.mark_reserved_deleted(lo + 3, lo + 5).ok());
  for (Globcnt g = lo; g <= hi; ++g) {
    EXPECT_EQ(store.is_reserved_deleted(g), g >= lo + 2 && g <= lo + 5) << g;
  }
}

MessageVersion client_version(Fid folder, Gid key, Globcnt client_cn, std::string_view text) {
  MessageVersion v;
  v.folder = folder;
  v.source_key = key;
  v.change_key = Xid::from_globcnt(kClientGuid, client_cn);
  v.pcl = Pcl::of(v.change_key);
  v.props = subject(text);
  return v;
}

TEST(StoreAdditions, ConflictRecordsAreKeptWithTheirResolution) {
  Store store(StoreOptions{kStoreGuid, 1});
  Mid mid = store.create_message(store.root(), subject("server"), false).value();
  auto server = store.get_message(mid).value();
  const Gid key{kStoreGuid, mid.globcnt};
  MessageVersion v = client_version(store.root(), key, 7, "client");
  ConflictRecord rec;
  rec.source_key = key;
  rec.server = ConflictVersion{store.root(), server.change_key, server.pcl, server.last_modified, server.props};
  rec.client = ConflictVersion{store.root(), v.change_key, v.pcl, 5, v.props};
  rec.client_won = true;
  rec.resolved_cn = 12345;  // the store sets it
  v.conflict = rec;
  // A write that fails records nothing.
  v.expected_cn = server.cn + 1;
  EXPECT_EQ(store.put_message_version(v).code(), ErrorCode::ObjectModified);
  EXPECT_EQ(store.conflict_count(), 0u);
  v.expected_cn = server.cn;
  auto put = store.put_message_version(v);
  ASSERT_TRUE(put.ok());
  ASSERT_EQ(store.conflict_count(), 1u);
  ConflictRecord got = store.conflicts()[0];
  EXPECT_EQ(got.resolved_cn, put->cn);
  rec.resolved_cn = put->cn;
  EXPECT_EQ(got, rec);
  EXPECT_EQ(store.conflicts_of(key).size(), 1u);
  EXPECT_TRUE(store.conflicts_of(Gid{kClientGuid, 1}).empty());
  // A plain version records nothing more; a folder version can carry one too.
  v.conflict.reset();
  v.expected_cn.reset();
  ASSERT_TRUE(store.put_message_version(v).ok());
  EXPECT_EQ(store.conflict_count(), 1u);
  FolderVersion fv;
  fv.parent = store.root();
  fv.source_key = Gid{kClientGuid, 900};
  fv.change_key = Xid::from_globcnt(kClientGuid, 901);
  fv.conflict = ConflictRecord{ConflictObject::Folder, fv.source_key, {}, {}, false, 0};
  auto f = store.put_folder_version(fv);
  ASSERT_TRUE(f.ok());
  auto all = store.conflicts();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_LT(all[0].resolved_cn, all[1].resolved_cn);
  EXPECT_EQ(all[1].object, ConflictObject::Folder);
  EXPECT_EQ(all[1].resolved_cn, f->cn);
  // Records outlive the object.
  ASSERT_TRUE(store.delete_message(mid).ok());
  EXPECT_EQ(store.conflicts_of(key).size(), 1u);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(StoreAdditions, PutMessageMoveChecksAndStamps) {
  Store store(StoreOptions{kStoreGuid, 1});
  Fid a = store.create_folder(store.root(), "A").value();
  Fid b = store.create_folder(store.root(), "B").value();
  Mid mid = store.create_message(a, subject("m"), true).value();
  auto before = store.get_message(mid).value();
  MoveVersion mv{mid, a, b, before.cn + 1, std::nullopt, Pcl{}};
  EXPECT_EQ(store.put_message_move(mv).code(), ErrorCode::ObjectModified);
  mv.expected_cn = before.cn;
  mv.source = b;
  EXPECT_EQ(store.put_message_move(mv).code(), ErrorCode::InvalidParameter);
  mv.source = a;
  mv.dest = a;
  EXPECT_EQ(store.put_message_move(mv).code(), ErrorCode::InvalidParameter);
  mv.dest = Fid{1, 9999};
  EXPECT_EQ(store.put_message_move(mv).code(), ErrorCode::NotFound);
  EXPECT_EQ(store.get_message(mid)->cn, before.cn);  // nothing happened
  // Without a change key: a new CN only.
  mv.dest = b;
  auto moved = store.put_message_move(mv);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->folder, b);
  EXPECT_GT(moved->cn, before.cn);
  EXPECT_EQ(moved->change_key, before.change_key);
  EXPECT_EQ(moved->pcl, before.pcl);
  EXPECT_EQ(moved->last_modified, before.last_modified);
  EXPECT_EQ(moved->props, before.props);
  auto tomb = store.find_message_tombstone(a, Gid{kStoreGuid, mid.globcnt});
  ASSERT_TRUE(tomb.has_value());
  EXPECT_EQ(tomb->kind, DeleteKind::Moved);
  EXPECT_EQ(tomb->moved_to, b);
  EXPECT_TRUE(tomb->associated);
  EXPECT_EQ(store.message_ids(b, MessageKind::Associated).value(), std::vector<Mid>{mid});
  // With a change key: it and the PCLs are merged in.
  const Xid ck = Xid::from_globcnt(kClientGuid, 40);
  MoveVersion back{mid, b, a, moved->cn, ck, Pcl::of(Xid::from_globcnt(kClientGuid, 39))};
  auto again = store.put_message_move(back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->change_key, ck);
  EXPECT_TRUE(again->pcl.includes(ck));
  EXPECT_TRUE(again->pcl.includes_all(before.pcl));
  EXPECT_FALSE(store.find_message_tombstone(a, Gid{kStoreGuid, mid.globcnt}).has_value());
  EXPECT_TRUE(store.find_message_tombstone(b, Gid{kStoreGuid, mid.globcnt}).has_value());
  EXPECT_EQ(store.put_message_move(MoveVersion{Mid{1, 8888}, a, b, {}, {}, {}}).code(), ErrorCode::NotFound);
  EXPECT_TRUE(store.check_invariants().ok());
}

TEST(StoreAdditions, FindTombstonesBySourceKey) {
  Store store(StoreOptions{kStoreGuid, 1});
  Fid f = store.create_folder(store.root(), "F").value();
  Fid sub = store.create_folder(f, "Sub").value();
  Mid m = store.create_message(f, {}, false).value();
  const Gid mkey{kStoreGuid, m.globcnt};
  EXPECT_FALSE(store.find_message_tombstone(f, mkey).has_value());
  EXPECT_FALSE(store.find_message_tombstone(f, Gid{kClientGuid, 3}).has_value());
  EXPECT_FALSE(store.find_message_tombstone(Fid{1, 7777}, mkey).has_value());
  auto cn = store.delete_message(m, DeleteKind::Soft);
  ASSERT_TRUE(cn.ok());
  auto t = store.find_message_tombstone(f, mkey);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->kind, DeleteKind::Soft);
  EXPECT_EQ(t->cn, *cn);
  EXPECT_FALSE(store.find_message_tombstone(store.root(), mkey).has_value());
  EXPECT_FALSE(store.find_folder_tombstone(Gid{kStoreGuid, sub.globcnt}).has_value());
  ASSERT_TRUE(store.delete_folder(f, DeleteKind::Hard).ok());
  auto ft = store.find_folder_tombstone(Gid{kStoreGuid, sub.globcnt});
  ASSERT_TRUE(ft.has_value());
  EXPECT_EQ(ft->fid, sub);
  EXPECT_EQ(ft->parent, f);
  EXPECT_FALSE(store.find_folder_tombstone(Gid{kClientGuid, 1}).has_value());
  store.purge_tombstones(store.current_cn());
  EXPECT_FALSE(store.find_folder_tombstone(Gid{kStoreGuid, sub.globcnt}).has_value());
}

}  // namespace
}  // namespace ics
