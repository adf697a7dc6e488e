// Store::clone(): an equal store (every record, index, counter and the replica map, as the
// public API shows them) that shares nothing mutable with the original: changes on either side
// are invisible to the other, and the same steps on both give equal stores again.
// Workload::on(): a copied generator on the clone takes the same steps as the original.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "ics/session.h"
#include "ics/store.h"
#include "ics/testkit/workload.h"

namespace ics {
namespace {

constexpr Globcnt kAll = kGlobcntMax;

struct MessageImage {
  Mid mid;
  Fid folder;
  Gid source_key;
  bool associated;
  Globcnt cn, read_cn;
  bool read;
  Xid change_key;
  Pcl pcl;
  std::uint64_t last_modified;
  PropertyBag props;
  bool operator==(const MessageImage&) const = default;
};

struct FolderImage {
  Fid fid, parent;
  Gid source_key;
  Globcnt cn;
  Xid change_key;
  Pcl pcl;
  std::uint64_t last_modified;
  PropertyBag props;
  std::vector<Globcnt> message_cns, read_cns, tombstone_cns;
  bool operator==(const FolderImage&) const = default;
};

// Everything a store holds, as its public API reports it.
struct StoreImage {
  Globcnt current_cn, current_id;
  std::size_t messages, folders, tombstones;
  std::vector<FolderImage> folders_below_root;
  std::vector<MessageImage> message_list;
  std::vector<std::tuple<Fid, Gid, Globcnt>> folder_tombstones;
  std::vector<ConflictRecord> conflicts;
  std::vector<std::optional<Guid>> replicas;  // REPLID 1..8
  bool operator==(const StoreImage&) const = default;
};

MessageImage image(const MessageSnapshot& m) {
  return {m.mid, m.folder, m.source_key, m.associated, m.cn, m.read_cn, m.read, m.change_key, m.pcl,
          m.last_modified, m.props};
}

FolderImage image(const Store& store, const FolderSnapshot& f, std::vector<MessageImage>& messages) {
  FolderImage out{f.fid, f.parent, f.source_key, f.cn, f.change_key, f.pcl, f.last_modified, f.props, {}, {}, {}};
  for (MessageKind kind : {MessageKind::Normal, MessageKind::Associated}) {
    const std::vector<MessageSnapshot> changes = store.collect_changes(f.fid, kind, {{1, kAll}}).value();
    for (const MessageSnapshot& m : changes) {
      out.message_cns.push_back(m.cn);
      messages.push_back(image(m));
    }
  }
  const std::vector<ReadChange> reads = store.collect_read_changes(f.fid, {{1, kAll}}).value();
  for (const ReadChange& r : reads) out.read_cns.push_back(r.read_cn);
  const std::vector<MessageTombstone> tombstones = store.collect_tombstones(f.fid, {{1, kAll}}).value();
  for (const MessageTombstone& t : tombstones) {
    out.tombstone_cns.push_back(t.cn);
  }
  return out;
}

StoreImage image(const Store& store) {
  StoreImage out{store.current_cn(), store.current_id(), store.message_count(), store.folder_count(),
                 store.tombstone_count(), {}, {}, {}, store.conflicts(), {}};
  std::vector<FolderSnapshot> folders = store.folder_tree(store.root()).value();
  folders.insert(folders.begin(), store.get_folder(store.root()).value());
  for (const FolderSnapshot& f : folders) out.folders_below_root.push_back(image(store, f, out.message_list));
  const std::vector<FolderTombstone> gone = store.collect_folder_tombstones(store.root(), {{1, kAll}}).value();
  for (const FolderTombstone& t : gone) {
    out.folder_tombstones.emplace_back(t.fid, t.source_key, t.cn);
  }
  for (Replid r = 1; r <= 8; ++r) out.replicas.push_back(store.guid_of(r));
  return out;
}

// A store with some of everything: messages of both kinds, read state, folders, deletions of
// every kind, moves, a foreign replica, reserved ids.
std::shared_ptr<Store> populated(testkit::Workload*& out_wl, std::optional<testkit::Workload>& keep) {
  auto store = std::make_shared<Store>(StoreOptions{Guid::from_seed(11), 1});
  auto wl = testkit::Workload::create(*store, 5);
  EXPECT_TRUE(wl.ok());
  keep.emplace(std::move(*wl));
  EXPECT_TRUE(keep->populate(12).ok());
  EXPECT_TRUE(keep->apply(40).ok());
  EXPECT_TRUE(store->replid_for(Guid::from_seed(99)).ok());
  EXPECT_TRUE(store->reserve_ids(16).ok());
  out_wl = &*keep;
  return store;
}

TEST(StoreClone, EqualToTheOriginal) {
  testkit::Workload* wl = nullptr;
  std::optional<testkit::Workload> keep;
  auto store = populated(wl, keep);
  ASSERT_GT(store->tombstone_count(), 0u);
  std::unique_ptr<Store> copy = store->clone();
  EXPECT_EQ(copy->guid(), store->guid());
  EXPECT_EQ(copy->root(), store->root());
  EXPECT_TRUE(image(*copy) == image(*store));
  EXPECT_TRUE(copy->check_invariants().ok());
  const auto reserved = store->current_id();
  EXPECT_EQ(copy->is_reserved(reserved - 15, reserved), store->is_reserved(reserved - 15, reserved));
  EXPECT_TRUE(copy->is_reserved(reserved - 15, reserved));
}

TEST(StoreClone, SharesNothingMutable) {
  testkit::Workload* wl = nullptr;
  std::optional<testkit::Workload> keep;
  auto store = populated(wl, keep);
  const StoreImage before = image(*store);
  std::unique_ptr<Store> copy = store->clone();

  // Changes on the copy leave the original as it was...
  const Mid mid = copy->message_ids(wl->folder(), MessageKind::Normal).value().front();
  PropChanges changes;
  changes.set.set(PropValue::unicode(tags::kSubject, "changed in the copy"));
  ASSERT_TRUE(copy->modify_message(mid, changes).ok());
  ASSERT_TRUE(copy->delete_message(copy->message_ids(wl->folder(), MessageKind::Normal).value().back()).ok());
  ASSERT_TRUE(copy->create_folder(copy->root(), "only in the copy").ok());
  ASSERT_TRUE(copy->replid_for(Guid::from_seed(123)).ok());
  ASSERT_TRUE(copy->reserve_ids(3).ok());
  EXPECT_TRUE(image(*store) == before);
  EXPECT_FALSE(image(*copy) == before);

  // ...and changes on the original leave the copy as it was.
  const StoreImage copy_before = image(*copy);
  ASSERT_TRUE(store->set_read(mid, !store->get_message(mid).value().read).ok());
  ASSERT_TRUE(store->delete_folder(wl->elsewhere()).ok());
  EXPECT_TRUE(image(*copy) == copy_before);
  EXPECT_TRUE(store->check_invariants().ok());
  EXPECT_TRUE(copy->check_invariants().ok());
}

TEST(StoreClone, SameStepsGiveEqualStoresAgain) {
  testkit::Workload* wl = nullptr;
  std::optional<testkit::Workload> keep;
  auto store = populated(wl, keep);
  std::shared_ptr<Store> copy = store->clone();
  testkit::Workload on_copy = wl->on(*copy);
  EXPECT_EQ(&on_copy.store(), copy.get());
  EXPECT_EQ(&wl->store(), store.get());
  ASSERT_TRUE(wl->apply(30).ok());
  ASSERT_TRUE(on_copy.apply(30).ok());
  EXPECT_TRUE(image(*copy) == image(*store));
  EXPECT_EQ(on_copy.log().created, wl->log().created);
  EXPECT_EQ(on_copy.log().deleted, wl->log().deleted);
}

TEST(StoreClone, HasNoSessionsAndContinuesTheirIds) {
  auto store = std::make_shared<Store>();
  auto s1 = Session::open(store);
  ASSERT_TRUE(s1.ok());
  std::shared_ptr<Store> copy = store->clone();
  EXPECT_EQ(copy->memory_stats().live_bytes(), 0u);
  EXPECT_EQ(copy->memory_stats().live_objects(), 0u);
  auto on_copy = Session::open(copy);
  auto on_store = Session::open(store);
  ASSERT_TRUE(on_copy.ok() && on_store.ok());
  EXPECT_EQ((*on_copy)->id(), (*on_store)->id());
  EXPECT_EQ((*on_copy)->id(), (*s1)->id() + 1);
}

}  // namespace
}  // namespace ics
