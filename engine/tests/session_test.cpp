#include "ics/session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "memory_figures.h"

namespace ics {
namespace {

// A context-like object: a fixed footprint plus a buffer it charges itself.
class Probe : public SessionObject {
 public:
  Probe(Session& s, ObjectKind kind, std::size_t self, int* destroyed = nullptr)
      : kind_(kind), self_(self), buffer_(s.state_buffer()), destroyed_(destroyed) {}
  ~Probe() override {
    if (destroyed_ != nullptr) ++*destroyed_;
  }
  ObjectKind kind() const override { return kind_; }
  std::size_t footprint() const override { return self_; }
  Status fill(std::size_t n) { return buffer_.append(Bytes(n, 0x5A)); }

 private:
  ObjectKind kind_;
  std::size_t self_;
  ChargedBuffer buffer_;
  int* destroyed_;
};

class OtherKind : public SessionObject {
 public:
  ObjectKind kind() const override { return ObjectKind::Other; }
  std::size_t footprint() const override { return 8; }
};

// A final class: lookup matches it by exact type, not through dynamic_cast.
class FinalProbe final : public SessionObject {
 public:
  ObjectKind kind() const override { return ObjectKind::DownloadContext; }
  std::size_t footprint() const override { return 16; }
};

using test::Figures;
using test::figures;

std::shared_ptr<Store> make_store() {
  return std::make_shared<Store>(StoreOptions{Guid::from_seed(42), 1});
}

std::unique_ptr<Session> open(const std::shared_ptr<Store>& store, SessionOptions o = {}) {
  auto s = Session::open(store, o);
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

std::uint32_t add_probe(Session& s, std::size_t self, int* destroyed = nullptr,
                        std::uint32_t parent = kInvalidHandle) {
  auto h = s.add(std::make_unique<Probe>(s, ObjectKind::DownloadContext, self, destroyed), parent);
  EXPECT_TRUE(h.ok()) << h.error().to_string();
  return h.ok() ? *h : kInvalidHandle;
}

TEST(Session, OpenChargesTheSessionItself) {
  auto store = make_store();
  {
    auto s = open(store);
    EXPECT_EQ(s->id(), 1u);
    EXPECT_EQ(s->memory().objects(ObjectKind::Session), 1u);
    EXPECT_EQ(s->memory().live_bytes(), sizeof(Session));
    EXPECT_EQ(store->memory_stats().objects(ObjectKind::Session), 1u);
    EXPECT_EQ(s->max_state_size(), std::size_t{4} << 20);
    EXPECT_EQ(&s->store(), store.get());
    auto t = open(store);
    EXPECT_EQ(t->id(), 2u);
    EXPECT_EQ(store->memory_stats().objects(ObjectKind::Session), 2u);
  }
  EXPECT_EQ(store->memory_stats().live_bytes(), 0u);
  EXPECT_EQ(store->memory_stats().live_objects(), 0u);
  EXPECT_EQ(Session::open(nullptr).code(), ErrorCode::InvalidParameter);
  SessionOptions tiny;
  tiny.memory_budget = 1;
  EXPECT_EQ(Session::open(store, tiny).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(store->memory_stats().live_bytes(), 0u);
}

TEST(Session, LookupGoesByTheDynamicTypeNotTheKind) {
  auto store = make_store();
  auto s = open(store);
  auto probe = s->add(std::make_unique<Probe>(*s, ObjectKind::DownloadContext, 100));
  auto fin = std::make_unique<FinalProbe>();
  FinalProbe* raw = fin.get();
  auto f = s->add(std::move(fin));
  ASSERT_TRUE(probe.ok() && f.ok());
  EXPECT_EQ(s->lookup<FinalProbe>(*f).value(), raw);
  EXPECT_EQ(s->lookup<FinalProbe>(*probe).code(), ErrorCode::NullObject);  // same kind, other type
  EXPECT_EQ(s->lookup<Probe>(*f).code(), ErrorCode::NullObject);
  EXPECT_EQ(s->lookup<SessionObject>(*f).value(), raw);
  EXPECT_EQ(raw->as_stateful(), nullptr);
  EXPECT_EQ(raw->as_fx_source(), nullptr);
}

TEST(Session, AddLookupRelease) {
  auto store = make_store();
  auto s = open(store);
  int destroyed = 0;
  auto obj = std::make_unique<Probe>(*s, ObjectKind::DownloadContext, 100, &destroyed);
  Probe* raw = obj.get();
  auto h = s->add(std::move(obj));
  ASSERT_TRUE(h.ok());
  EXPECT_NE(*h, kInvalidHandle);
  EXPECT_EQ(s->handle_count(), 1u);
  EXPECT_EQ(s->lookup<Probe>(*h).value(), raw);
  EXPECT_EQ(s->lookup<SessionObject>(*h).value(), raw);
  EXPECT_EQ(raw->owner(), s->id());
  EXPECT_EQ(raw->handle(), *h);
  EXPECT_EQ(s->lookup<OtherKind>(*h).code(), ErrorCode::NullObject);
  ASSERT_TRUE(s->release(*h).ok());
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(s->handle_count(), 0u);
  EXPECT_EQ(s->lookup<Probe>(*h).code(), ErrorCode::NullObject);
  EXPECT_EQ(s->release(*h).code(), ErrorCode::NullObject);
  EXPECT_EQ(s->lookup<Probe>(kInvalidHandle).code(), ErrorCode::NullObject);
  EXPECT_EQ(s->add(nullptr).code(), ErrorCode::InvalidParameter);
}

TEST(Session, ReusedSlotGivesADifferentHandleAndTheOldOneStaysStale) {
  auto store = make_store();
  SessionOptions o;
  o.max_handles = 1;
  auto s = open(store, o);
  std::uint32_t first = add_probe(*s, 10);
  ASSERT_TRUE(s->release(first).ok());
  std::uint32_t second = add_probe(*s, 10);
  EXPECT_NE(first, second);
  EXPECT_EQ(s->lookup<Probe>(first).code(), ErrorCode::NullObject);
  EXPECT_EQ(s->release(first).code(), ErrorCode::NullObject);
  EXPECT_TRUE(s->lookup<Probe>(second).ok());
  EXPECT_EQ(s->handle_count(), 1u);
}

TEST(Session, AOneSlotTableNeverRepeatsAHandleAndRetiresTheSlot) {
  auto store = make_store();
  SessionOptions o;
  o.max_handles = 1;
  auto s = open(store, o);
  std::vector<std::uint32_t> seen;
  seen.reserve(70000);
  for (;;) {
    auto h = s->add(std::make_unique<OtherKind>());
    if (!h.ok()) {
      EXPECT_EQ(h.code(), ErrorCode::GeneralFailure);
      break;
    }
    ASSERT_NE(*h, kInvalidHandle);
    seen.push_back(*h);
    ASSERT_TRUE(s->release(*h).ok());
    ASSERT_LT(seen.size(), 70000u);
  }
  EXPECT_GT(seen.size(), 65000u);
  // Every one of them is stale, and no value was handed out twice.
  for (std::uint32_t h : seen) ASSERT_EQ(s->lookup<SessionObject>(h).code(), ErrorCode::NullObject);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(s->memory().live_objects(), 1u);  // the session itself
}

TEST(Session, ForgedHandlesGetNullObject) {
  auto store = make_store();
  auto s = open(store);
  std::set<std::uint32_t> live;
  for (int i = 0; i < 200; ++i) live.insert(add_probe(*s, 1));
  std::mt19937_64 rng(5);
  std::size_t resolved = 0;
  for (int i = 0; i < 200000; ++i) {
    std::uint32_t forged = static_cast<std::uint32_t>(rng());
    if (live.count(forged)) continue;
    resolved += s->lookup<SessionObject>(forged).ok();
  }
  // Neighbours of live handles: every single-bit flip.
  for (std::uint32_t h : live) {
    for (int bit = 0; bit < 32; ++bit) {
      std::uint32_t forged = h ^ (1u << bit);
      if (!live.count(forged)) resolved += s->lookup<SessionObject>(forged).ok();
    }
  }
  EXPECT_EQ(resolved, 0u);
  EXPECT_EQ(s->lookup<SessionObject>(0).code(), ErrorCode::NullObject);
}

TEST(Session, AnotherSessionsHandleGetsNullObject) {
  auto store = make_store();
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<std::vector<std::uint32_t>> handles;
  for (int i = 0; i < 40; ++i) {
    sessions.push_back(open(store));
    handles.emplace_back();
    for (int j = 0; j < 30; ++j) handles.back().push_back(add_probe(*sessions.back(), 1));
  }
  for (std::size_t a = 0; a < sessions.size(); ++a) {
    for (std::size_t b = 0; b < sessions.size(); ++b) {
      if (a == b) continue;
      for (std::uint32_t h : handles[a]) {
        ASSERT_EQ(sessions[b]->lookup<SessionObject>(h).code(), ErrorCode::NullObject)
            << "session " << a << "'s handle resolved in session " << b;
      }
    }
  }
  // And a release through the wrong session frees nothing.
  EXPECT_EQ(sessions[1]->release(handles[0][0]).code(), ErrorCode::NullObject);
  EXPECT_TRUE(sessions[0]->lookup<Probe>(handles[0][0]).ok());
}

TEST(Session, OverBudgetAddFailsWithGeneralFailureAndChargesNothing) {
  auto store = make_store();
  SessionOptions o;
  o.memory_budget = sizeof(Session) + 1000;
  auto s = open(store, o);
  std::uint32_t h = add_probe(*s, 600);
  Figures before = figures(s->memory());
  Figures totals_before = figures(store->memory_stats());
  int destroyed = 0;
  auto r = s->add(std::make_unique<Probe>(*s, ObjectKind::UploadContext, 401, &destroyed));
  EXPECT_EQ(r.code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(static_cast<std::uint32_t>(r.code()), 0x80004005u);
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(figures(s->memory()), before);
  EXPECT_EQ(figures(store->memory_stats()), totals_before);
  EXPECT_EQ(s->handle_count(), 1u);
  // The object's own buffer is held to the budget too.
  Probe* p = s->lookup<Probe>(h).value();
  EXPECT_EQ(p->fill(5000).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(figures(s->memory()), before);
  EXPECT_TRUE(p->fill(100).ok());
}

TEST(Session, InjectedFailuresAreOutOfMemory) {
  auto store = make_store();
  auto s = open(store);
  Figures before = figures(s->memory());
  s->memory().set_fail_rate(1.0, 1);
  EXPECT_EQ(s->add(std::make_unique<OtherKind>()).code(), ErrorCode::OutOfMemory);
  EXPECT_EQ(figures(s->memory()), before);
  s->memory().set_fail_rate(0.0, 1);
  EXPECT_TRUE(s->add(std::make_unique<OtherKind>()).ok());
}

TEST(Session, StateBufferIsCappedAtMaxStateSize) {
  auto store = make_store();
  SessionOptions o;
  o.max_state_size = 1000;
  auto s = open(store, o);
  std::uint32_t h = add_probe(*s, 50);
  Probe* p = s->lookup<Probe>(h).value();
  ASSERT_TRUE(p->fill(999).ok());
  EXPECT_EQ(p->fill(2).code(), ErrorCode::TooBig);
  ASSERT_TRUE(p->fill(1).ok());
  EXPECT_EQ(p->fill(1).code(), ErrorCode::TooBig);
  EXPECT_LE(s->memory().bytes(ObjectKind::StateStream), 1000u);
}

TEST(Session, FiguresReturnExactlyToBaselineAfterRelease) {
  auto store = make_store();
  auto s = open(store);
  Figures base = figures(s->memory());
  Figures totals = figures(store->memory_stats());
  std::mt19937_64 rng(11);
  for (int loop = 0; loop < 200; ++loop) {
    std::uint32_t h = add_probe(*s, 64 + rng() % 512);
    Probe* p = s->lookup<Probe>(h).value();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(p->fill(rng() % 20000).ok());
    if (rng() % 2) add_probe(*s, 32, nullptr, h);  // a child of the context
    ASSERT_GT(s->memory().live_bytes(), base.bytes);
    ASSERT_TRUE(s->release(h).ok());
    ASSERT_EQ(figures(s->memory()), base) << "loop " << loop;
    ASSERT_EQ(figures(store->memory_stats()), totals);
  }
  EXPECT_EQ(s->handle_count(), 0u);
  EXPECT_EQ(s->memory().release_errors(), 0u);
}

TEST(Session, RandomAddReleaseAgainstModel) {
  auto store = make_store();
  SessionOptions o;
  o.max_handles = 64;
  o.memory_budget = sizeof(Session) + 20000;
  auto s = open(store, o);
  std::mt19937_64 rng(2024);
  std::map<std::uint32_t, std::size_t> model;  // handle -> charged bytes
  std::set<std::uint32_t> dead;
  std::size_t base = s->memory().live_bytes();
  for (int step = 0; step < 20000; ++step) {
    if (model.empty() || rng() % 2 == 0) {
      std::size_t self = rng() % 1500;
      std::size_t live = base;
      for (auto& [h, b] : model) live += b;
      auto h = s->add(std::make_unique<Probe>(*s, ObjectKind::DownloadContext, self));
      bool fits = live + self <= s->memory().budget();
      bool room = model.size() < o.max_handles;
      ASSERT_EQ(h.ok(), fits && room) << step;
      if (h.ok()) {
        ASSERT_FALSE(model.count(*h));
        ASSERT_FALSE(dead.count(*h)) << "a released handle value came back";
        model[*h] = self;
      }
    } else if (rng() % 4 == 0 && !dead.empty()) {
      auto it = dead.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng() % dead.size()));
      ASSERT_EQ(s->release(*it).code(), ErrorCode::NullObject);
    } else {
      auto it = model.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng() % model.size()));
      ASSERT_TRUE(s->release(it->first).ok());
      dead.insert(it->first);
      model.erase(it);
    }
    std::size_t live = base;
    for (auto& [h, b] : model) live += b;
    ASSERT_EQ(s->memory().live_bytes(), live);
    ASSERT_EQ(s->handle_count(), model.size());
    ASSERT_EQ(s->memory().objects(ObjectKind::DownloadContext), model.size());
  }
  for (auto& [h, b] : model) ASSERT_TRUE(s->lookup<Probe>(h).ok());
}

TEST(Session, ReleasingAParentReleasesItsChildren) {
  auto store = make_store();
  auto s = open(store);
  Figures base = figures(s->memory());
  int destroyed = 0;
  std::uint32_t parent = add_probe(*s, 100, &destroyed);
  std::uint32_t a = add_probe(*s, 10, &destroyed, parent);
  std::uint32_t b = add_probe(*s, 10, &destroyed, parent);
  std::uint32_t grandchild = add_probe(*s, 10, &destroyed, b);
  // A child released on its own leaves the parent's list.
  ASSERT_TRUE(s->release(a).ok());
  EXPECT_EQ(destroyed, 1);
  ASSERT_TRUE(s->release(parent).ok());
  EXPECT_EQ(destroyed, 4);
  for (std::uint32_t h : {parent, a, b, grandchild}) {
    EXPECT_EQ(s->lookup<SessionObject>(h).code(), ErrorCode::NullObject);
  }
  EXPECT_EQ(figures(s->memory()), base);
  EXPECT_EQ(s->handle_count(), 0u);
  EXPECT_EQ(s->add(std::make_unique<OtherKind>(), parent).code(), ErrorCode::NullObject);
  EXPECT_EQ(s->add(std::make_unique<OtherKind>(), 12345).code(), ErrorCode::NullObject);
  EXPECT_EQ(s->memory().release_errors(), 0u);
}

TEST(Session, LoopedChildrenDoNotPileUpUnderALongLivedParent) {
  auto store = make_store();
  SessionOptions o;
  o.max_handles = 4;
  auto s = open(store, o);
  std::uint32_t folder = add_probe(*s, 10);
  for (int i = 0; i < 10000; ++i) {
    std::uint32_t ctx = add_probe(*s, 10, nullptr, folder);
    ASSERT_NE(ctx, kInvalidHandle);
    ASSERT_EQ(s->child_count(folder).value(), 1u);
    ASSERT_TRUE(s->release(ctx).ok());
    ASSERT_EQ(s->child_count(folder).value(), 0u);
  }
  EXPECT_EQ(s->child_count(12345).code(), ErrorCode::NullObject);
  EXPECT_EQ(s->handle_count(), 1u);
}

TEST(Session, LogoffReleasesEveryHandle) {
  auto store = make_store();
  int destroyed = 0;
  {
    auto s = open(store);
    std::uint32_t p = add_probe(*s, 100, &destroyed);
    add_probe(*s, 100, &destroyed, p);
    for (int i = 0; i < 10; ++i) {
      std::uint32_t h = add_probe(*s, 100, &destroyed);
      ASSERT_TRUE(s->lookup<Probe>(h).value()->fill(1000).ok());
    }
    EXPECT_GT(store->memory_stats().live_bytes(), 0u);
  }
  EXPECT_EQ(destroyed, 12);
  EXPECT_EQ(store->memory_stats().live_bytes(), 0u);
  EXPECT_EQ(store->memory_stats().live_objects(), 0u);
}

TEST(Session, SessionsOnManyThreadsShareOneStore) {
  auto store = make_store();
  std::atomic<std::size_t> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([store, t, &created] {
      std::mt19937_64 rng(t);
      for (int round = 0; round < 50; ++round) {
        auto s = Session::open(store);
        ASSERT_TRUE(s.ok());
        Session& session = **s;
        std::vector<std::uint32_t> live;
        for (int i = 0; i < 40; ++i) {
          if (live.empty() || rng() % 3) {
            live.push_back(add_probe(session, rng() % 300));
            ASSERT_TRUE(session.lookup<Probe>(live.back()).value()->fill(rng() % 3000).ok());
            ASSERT_TRUE(session.store().create_message(session.store().root(), {}, false).ok());
            ++created;
          } else {
            ASSERT_TRUE(session.release(live.back()).ok());
            live.pop_back();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store->memory_stats().live_bytes(), 0u);
  EXPECT_EQ(store->memory_stats().live_objects(), 0u);
  EXPECT_EQ(store->message_count(), created.load());
  EXPECT_TRUE(store->check_invariants().ok());
}

}  // namespace
}  // namespace ics
