// Every public member of Store called from four threads at once, each thread on objects of its
// own and on objects all threads share (one counter message, a few replica GUIDs, old
// tombstones). Afterwards: every id and every CN was handed out once, no optimistic update was
// lost, all threads agree on the replica map, the counts add up and the indexes are consistent.
// Under the tsan preset (ci/sanitizers) the same run is a data-race check of the store's lock.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ics/store.h"

namespace ics {
namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 200;  // even: every other round's folders are deleted
constexpr int kSharedGuids = 8;
constexpr int kOldTombstones = 8;
constexpr PropTag kCounter = tags::kImportance;

// What one thread was handed out, checked against the others' afterwards.
struct ThreadLog {
  std::vector<Globcnt> cns;                           // in the order received
  std::vector<std::pair<Globcnt, Globcnt>> local_ids;  // local GLOBCNT ranges (FIDs, MIDs, reserved)
  std::map<int, Replid> replids;                      // shared GUID index -> REPLID seen
  std::vector<std::uint64_t> session_ids;
  std::size_t purged = 0;
  int increments = 0;
};

// The fixture's shared objects: a folder with the counter message, GUIDs, old tombstones.
struct Shared {
  Store store{StoreOptions{Guid::from_seed(0x7EAD), 1}};
  Fid folder;
  Mid counter;
  Globcnt old_tombstones_up_to = 0;
  std::vector<Guid> guids;
  std::atomic<int> ready{0};

  Shared() {
    folder = store.create_folder(store.root(), "shared").value();
    PropertyBag bag;
    bag.set(PropValue::integer(kCounter, 0));
    counter = store.create_message(folder, bag, false).value();
    for (int i = 0; i < kOldTombstones; ++i) {
      Mid m = store.create_message(folder, {}, i % 2 == 1).value();
      old_tombstones_up_to = store.delete_message(m).value();
    }
    for (int i = 0; i < kSharedGuids; ++i) guids.push_back(Guid::from_seed(0x6000 + i));
  }
};

PropertyBag named(std::string_view text) {
  PropertyBag b;
  b.set(PropValue::unicode(tags::kDisplayName, text));
  return b;
}

class Worker {
 public:
  Worker(Shared& shared, int t)
      : sh_(shared), s_(shared.store), t_(t), client_(Guid::from_seed(0xC1000 + t)) {}

  ThreadLog run() {
    top_ = s_.create_folder(s_.root(), "top " + std::to_string(t_)).value();
    local(top_.globcnt, top_.globcnt);
    sh_.ready.fetch_add(1);
    while (sh_.ready.load() < kThreads) std::this_thread::yield();  // all threads start together
    for (int r = 0; r < kRounds && !::testing::Test::HasFatalFailure(); ++r) round(r);
    return std::move(log_);
  }

 private:
  void round(int r) {
    counters_and_ids(r);
    replicas(r);
    const Fid fid = folders(r);
    messages(fid, r);
    client_versions(r);
    increment_counter();
    reads(r);
    if (r % 2 == 0) delete_folders(fid);
    if (r == kRounds / 4) log_.purged = s_.purge_tombstones(sh_.old_tombstones_up_to);
  }

  void cn(Globcnt c) { log_.cns.push_back(c); }
  void local(Globcnt lo, Globcnt hi) { log_.local_ids.emplace_back(lo, hi); }

  void counters_and_ids(int r) {
    const Globcnt cn_before = s_.current_cn(), id_before = s_.current_id();
    auto got = s_.reserve_ids(1 + static_cast<std::uint32_t>(r % 4));
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->first, s_.guid());
    const Globcnt lo = got->second, hi = lo + static_cast<Globcnt>(r % 4);
    ASSERT_GT(lo, id_before);
    local(lo, hi);
    ASSERT_TRUE(s_.is_reserved(lo, hi));
    ASSERT_TRUE(s_.mark_reserved_deleted(lo, lo).ok());
    ASSERT_TRUE(s_.is_reserved_deleted(lo));
    ASSERT_GE(s_.current_cn(), cn_before);
    ASSERT_GE(s_.current_id(), hi);
    log_.session_ids.push_back(s_.next_session_id());
  }

  // First contact with shared GUIDs from every thread at once.
  void replicas(int r) {
    const int i = (t_ + r) % kSharedGuids;
    const Guid& g = sh_.guids[static_cast<std::size_t>(i)];
    auto replid = s_.replid_for(g);
    ASSERT_TRUE(replid.ok());
    auto [it, fresh] = log_.replids.emplace(i, *replid);
    ASSERT_TRUE(fresh || it->second == *replid) << "REPLID of a GUID changed";
    ASSERT_EQ(s_.find_replid(g), *replid);
    ASSERT_EQ(s_.guid_of(*replid), g);
    auto gid = s_.to_gid(Id{*replid, 77});
    ASSERT_TRUE(gid.ok());
    ASSERT_EQ(gid->guid, g);
    auto id = s_.to_id(*gid);
    ASSERT_TRUE(id.ok());
    ASSERT_EQ(id->replid, *replid);
  }

  // A server folder, renamed; a client folder made below top and moved into it.
  Fid folders(int r) {
    auto fid = s_.create_folder(top_, "f " + std::to_string(r));
    EXPECT_TRUE(fid.ok());
    if (!fid.ok()) return top_;
    local(fid->globcnt, fid->globcnt);
    auto renamed = s_.modify_folder(*fid, PropChanges{named("renamed"), {}});
    EXPECT_TRUE(renamed.ok());
    if (renamed.ok()) cn(renamed->cn);
    auto gid = s_.to_gid(*fid);
    EXPECT_TRUE(gid.ok() && s_.find_folder(*gid) == *fid);
    auto kids = s_.child_folders(top_);
    EXPECT_TRUE(kids.ok() && std::count(kids->begin(), kids->end(), *fid) == 1);
    FolderVersion v{top_, Gid{client_, static_cast<Globcnt>(r + 1)}, Xid::from_globcnt(client_, 2 * r + 1),
                    {}, 0, named("client folder"), Globcnt{0}, std::nullopt};
    auto made = s_.put_folder_version(v);
    EXPECT_TRUE(made.ok());
    if (!made.ok()) return *fid;
    cn(made->cn);
    v.parent = *fid;  // a move: re-parented below the server folder
    v.change_key = Xid::from_globcnt(client_, 2 * r + 2);
    v.expected_cn = made->cn;
    auto moved = s_.put_folder_version(v);
    EXPECT_TRUE(moved.ok());
    if (moved.ok()) {
      cn(moved->cn);
      EXPECT_EQ(moved->parent, *fid);
    }
    return *fid;
  }

  // A server message: read, modified, moved out and back, soft-deleted.
  void messages(Fid fid, int r) {
    auto mid = s_.create_message(fid, named("m"), r % 3 == 0);
    ASSERT_TRUE(mid.ok());
    local(mid->globcnt, mid->globcnt);
    auto read = s_.set_read(*mid, true);
    ASSERT_TRUE(read.ok());
    cn(*read);
    auto modified = s_.modify_message(*mid, PropChanges{named("m2"), {}});
    ASSERT_TRUE(modified.ok());
    cn(modified->cn);
    auto away = s_.move_message(*mid, top_);
    ASSERT_TRUE(away.ok());
    cn(*away);
    auto back = s_.put_message_move(MoveVersion{*mid, top_, fid, *away, std::nullopt, {}});
    ASSERT_TRUE(back.ok());
    cn(back->cn);
    auto ids = s_.message_ids(fid, r % 3 == 0 ? MessageKind::Associated : MessageKind::Normal);
    ASSERT_TRUE(ids.ok());
    ASSERT_EQ(*ids, std::vector<Mid>{*mid});
    ASSERT_EQ(s_.find_message(back->source_key), *mid);
    auto gone = s_.delete_message(*mid, DeleteKind::Soft);
    ASSERT_TRUE(gone.ok());
    cn(*gone);
    auto stone = s_.find_message_tombstone(fid, back->source_key);
    ASSERT_TRUE(stone.has_value());
    ASSERT_EQ(stone->kind, DeleteKind::Soft);
    auto stones = s_.collect_tombstones(fid, {{*gone, *gone}});
    ASSERT_TRUE(stones.ok());
    ASSERT_EQ(stones->size(), 1u);
    ASSERT_FALSE(s_.get_message(*mid).ok());
  }

  // A client message created in top, then a conflicting version that resolves a conflict.
  void client_versions(int r) {
    const Gid key{client_, static_cast<Globcnt>(1000000 + r)};
    MessageVersion v{top_, key, false, Xid::from_globcnt(client_, 1000000 + 2 * r), {}, 0,
                     named("client"), Globcnt{0}, std::nullopt};
    auto made = s_.put_message_version(v);
    ASSERT_TRUE(made.ok());
    cn(made->cn);
    ConflictRecord c{ConflictObject::Message, key, {}, {}, r % 2 == 0, 0};
    v.change_key = Xid::from_globcnt(client_, 1000001 + 2 * r);
    v.expected_cn = made->cn;
    v.conflict = c;
    auto resolved = s_.put_message_version(v);
    ASSERT_TRUE(resolved.ok());
    cn(resolved->cn);
    auto recs = s_.conflicts_of(key);
    ASSERT_EQ(recs.size(), 1u);
    ASSERT_EQ(recs[0].resolved_cn, resolved->cn);
  }

  // Read, add one, write back with the CN read (ObjectModified: someone else was first).
  void increment_counter() {
    for (int attempt = 0; attempt < 10000; ++attempt) {
      auto now = s_.get_message(sh_.counter);
      ASSERT_TRUE(now.ok());
      const PropValue* v = now->props.get(kCounter);
      ASSERT_TRUE(v && v->as_integer());
      PropertyBag next;
      next.set(PropValue::integer(kCounter, *v->as_integer() + 1));
      MessageVersion mv{sh_.folder, now->source_key, false,
                        Xid::from_globcnt(client_, 2000000 + log_.cns.size()), now->pcl, 0,
                        next, now->cn, std::nullopt};
      auto put = s_.put_message_version(mv);
      if (put.ok()) {
        cn(put->cn);
        ++log_.increments;
        return;
      }
      ASSERT_EQ(put.error().code(), ErrorCode::ObjectModified);
    }
    FAIL() << "the counter never took an increment";
  }

  // The store-wide reads, as downloads and oracles call them.
  void reads(int r) {
    const Globcnt cur = s_.current_cn();
    const CnRanges all{{1, cur}};
    ASSERT_TRUE(s_.get_folder(sh_.folder).ok());
    // Every CN, not [1, cur]: another thread may have moved the counter past cur meanwhile.
    auto changes = s_.collect_changes(sh_.folder, MessageKind::Normal, {{1, kGlobcntMax}});
    ASSERT_TRUE(changes.ok());
    ASSERT_EQ(changes->size(), 1u);  // the counter
    ASSERT_EQ(changes->front().mid, sh_.counter);
    ASSERT_TRUE(s_.collect_read_changes(top_, all).ok());
    auto tree = s_.folder_tree(s_.root());
    ASSERT_TRUE(tree.ok());
    ASSERT_TRUE(s_.collect_folder_changes(s_.root(), all).ok());
    ASSERT_TRUE(s_.collect_folder_tombstones(s_.root(), all).ok());
    auto conflicts = s_.conflicts();
    for (std::size_t i = 1; i < conflicts.size(); ++i) {
      ASSERT_LT(conflicts[i - 1].resolved_cn, conflicts[i].resolved_cn);
    }
    ASSERT_LE(conflicts.size(), s_.conflict_count());
    ASSERT_GE(s_.message_count(), 1u);
    ASSERT_GE(s_.folder_count(), 2u);
    (void)s_.tombstone_count();
    (void)s_.memory_stats().live_bytes();
    if (r % 50 == 0) {
      Status inv = s_.check_invariants();
      ASSERT_TRUE(inv.ok()) << inv.error().to_string();
    }
  }

  void delete_folders(Fid fid) {
    auto gid = s_.to_gid(fid);
    ASSERT_TRUE(gid.ok());
    ASSERT_TRUE(s_.delete_folder(fid, DeleteKind::Hard).ok());
    auto stone = s_.find_folder_tombstone(*gid);
    ASSERT_TRUE(stone.has_value());
    ASSERT_EQ(stone->parent, top_);
    cn(stone->cn);
    ASSERT_FALSE(s_.get_folder(fid).ok());
  }

  Shared& sh_;
  Store& s_;
  const int t_;
  const Guid client_;
  Fid top_;
  ThreadLog log_;
};

void expect_unique_and_increasing_cns(const std::vector<ThreadLog>& logs) {
  std::set<Globcnt> all;
  for (const ThreadLog& l : logs) {
    for (std::size_t i = 1; i < l.cns.size(); ++i) EXPECT_LT(l.cns[i - 1], l.cns[i]);
    for (Globcnt c : l.cns) EXPECT_TRUE(all.insert(c).second) << "CN " << c << " handed out twice";
  }
}

void expect_disjoint_ids(const std::vector<ThreadLog>& logs) {
  std::vector<std::pair<Globcnt, Globcnt>> ranges;
  for (const ThreadLog& l : logs) ranges.insert(ranges.end(), l.local_ids.begin(), l.local_ids.end());
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    EXPECT_LT(ranges[i - 1].second, ranges[i].first) << "id " << ranges[i].first << " handed out twice";
  }
}

void expect_one_replica_map(const std::vector<ThreadLog>& logs) {
  std::map<int, Replid> first;
  std::set<Replid> distinct;
  for (const ThreadLog& l : logs) {
    for (const auto& [i, replid] : l.replids) {
      auto [it, fresh] = first.emplace(i, replid);
      EXPECT_EQ(it->second, replid) << "two REPLIDs for shared GUID " << i;
      if (fresh) {
        EXPECT_TRUE(distinct.insert(replid).second) << "two GUIDs share REPLID " << replid;
      }
    }
  }
  EXPECT_EQ(first.size(), static_cast<std::size_t>(kSharedGuids));
}

TEST(StoreThreads, EveryPublicMethodFromFourThreads) {
  Shared sh;
  std::vector<ThreadLog> logs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&sh, &logs, t] { logs[static_cast<std::size_t>(t)] = Worker(sh, t).run(); });
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(::testing::Test::HasFailure());

  expect_unique_and_increasing_cns(logs);
  expect_disjoint_ids(logs);
  expect_one_replica_map(logs);
  std::set<std::uint64_t> sessions;
  std::size_t purged = 0;
  int increments = 0;
  for (const ThreadLog& l : logs) {
    sessions.insert(l.session_ids.begin(), l.session_ids.end());
    purged += l.purged;
    increments += l.increments;
  }
  EXPECT_EQ(sessions.size(), static_cast<std::size_t>(kThreads * kRounds));
  EXPECT_EQ(purged, static_cast<std::size_t>(kOldTombstones)) << "each old tombstone purged once";
  // No lost update: the counter holds every increment that was acknowledged.
  auto counter = sh.store.get_message(sh.counter);
  ASSERT_TRUE(counter.ok());
  EXPECT_EQ(*counter->props.get(kCounter)->as_integer(), static_cast<std::uint64_t>(kThreads * kRounds));
  EXPECT_EQ(increments, kThreads * kRounds);
  // The counter and one client message per round; the server messages were deleted.
  EXPECT_EQ(sh.store.message_count(), static_cast<std::size_t>(1 + kThreads * kRounds));
  // Root, shared, a top per thread, two folders from each odd round.
  EXPECT_EQ(sh.store.folder_count(), static_cast<std::size_t>(2 + kThreads * (1 + kRounds)));
  EXPECT_EQ(sh.store.conflict_count(), static_cast<std::size_t>(kThreads * kRounds));
  Status inv = sh.store.check_invariants();
  EXPECT_TRUE(inv.ok()) << inv.error().to_string();
}

}  // namespace
}  // namespace ics
