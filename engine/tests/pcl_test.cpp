#include "ics/pcl.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <utility>

namespace ics {
namespace {

Xid make_xid(const Guid& g, std::uint8_t size, std::uint64_t value) {
  Xid x;
  x.guid = g;
  x.local_size = size;
  for (std::size_t i = 0; i < size; ++i) {
    x.local[i] = static_cast<std::uint8_t>(value >> (8 * (size - 1 - i)));
  }
  return x;
}

const Guid kA = Guid::from_seed(101);
const Guid kB = Guid::from_seed(202);
const Guid kC = Guid::from_seed(303);

Pcl pcl_of(std::initializer_list<Xid> xs) {
  Pcl p;
  for (const Xid& x : xs) p.add(x);
  return p;
}

// The model: (GUID, LocalId size) -> largest LocalId seen.
using Model = std::map<std::pair<Guid, std::uint8_t>, std::uint64_t>;

void model_add(Model& m, const Xid& x) {
  auto& v = m[{x.guid, x.local_size}];
  v = std::max(v, x.local_value());
}

bool model_includes(const Model& m, const Xid& x) {
  auto it = m.find({x.guid, x.local_size});
  return it != m.end() && it->second >= x.local_value();
}

struct RandomPcl {
  Pcl pcl;
  Model model;
};

Xid random_xid(std::mt19937_64& rng) {
  static const Guid kPool[3] = {kA, kB, kC};
  const Guid& g = kPool[rng() % 3];
  std::uint8_t size = (rng() % 10 == 0) ? static_cast<std::uint8_t>(1 + rng() % 8) : 6;
  return make_xid(g, size, rng() % 6);
}

RandomPcl random_pcl(std::mt19937_64& rng) {
  RandomPcl r;
  std::size_t n = rng() % 5;
  for (std::size_t i = 0; i < n; ++i) {
    Xid x = random_xid(rng);
    r.pcl.add(x);
    model_add(r.model, x);
  }
  return r;
}

TEST(Pcl, CompareTable) {
  Xid a5 = Xid::from_globcnt(kA, 5), a7 = Xid::from_globcnt(kA, 7);
  Xid b3 = Xid::from_globcnt(kB, 3), b4 = Xid::from_globcnt(kB, 4);
  struct Case {
    Pcl ours, theirs;
    PclOrder want;
  };
  const Case cases[] = {
      {Pcl{}, Pcl{}, PclOrder::Equal},
      {pcl_of({a5}), pcl_of({a5}), PclOrder::Equal},
      {pcl_of({a5}), pcl_of({a7}), PclOrder::Newer},
      {pcl_of({a7}), pcl_of({a5}), PclOrder::Older},
      {Pcl{}, pcl_of({a5}), PclOrder::Newer},
      {pcl_of({a5}), Pcl{}, PclOrder::Older},
      {pcl_of({a5}), pcl_of({a5, b3}), PclOrder::Newer},
      {pcl_of({a5, b3}), pcl_of({a5}), PclOrder::Older},
      {pcl_of({a7, b3}), pcl_of({a5, b4}), PclOrder::Conflict},
      {pcl_of({a5}), pcl_of({b3}), PclOrder::Conflict},
      {pcl_of({a7, b4}), pcl_of({a7, b4}), PclOrder::Equal},
      // Same GUID, different LocalId size: never comparable.
      {pcl_of({a5}), pcl_of({make_xid(kA, 8, 9)}), PclOrder::Conflict},
  };
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(compare(cases[i].ours, cases[i].theirs), cases[i].want)
        << "case " << i << ": got " << name(compare(cases[i].ours, cases[i].theirs));
  }
}

TEST(Pcl, IncludesUsesSameGuidSameSizeAndLargerLocalId) {
  Pcl p = pcl_of({Xid::from_globcnt(kA, 10)});
  EXPECT_TRUE(p.includes(Xid::from_globcnt(kA, 10)));
  EXPECT_TRUE(p.includes(Xid::from_globcnt(kA, 1)));
  EXPECT_FALSE(p.includes(Xid::from_globcnt(kA, 11)));
  EXPECT_FALSE(p.includes(Xid::from_globcnt(kB, 1)));
  EXPECT_FALSE(p.includes(make_xid(kA, 4, 1)));
  EXPECT_FALSE(p.includes(make_xid(kA, 8, 1)));
}

TEST(Pcl, AddKeepsOneEntryPerGuidWithTheLargestLocalId) {
  Pcl p;
  p.add(Xid::from_globcnt(kB, 4));
  p.add(Xid::from_globcnt(kA, 9));
  p.add(Xid::from_globcnt(kA, 3));
  p.add(Xid::from_globcnt(kB, 8));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p.xids()[0].guid < p.xids()[1].guid, true);
  EXPECT_TRUE(p.includes(Xid::from_globcnt(kA, 9)));
  EXPECT_TRUE(p.includes(Xid::from_globcnt(kB, 8)));
  EXPECT_FALSE(p.includes(Xid::from_globcnt(kA, 10)));
}

TEST(Pcl, RandomAgainstModel) {
  std::mt19937_64 rng(0x9C1);
  for (int iter = 0; iter < 3000; ++iter) {
    RandomPcl r = random_pcl(rng);
    ASSERT_EQ(r.pcl.size(), r.model.size());
    for (int probe = 0; probe < 8; ++probe) {
      Xid x = random_xid(rng);
      ASSERT_EQ(r.pcl.includes(x), model_includes(r.model, x));
    }
    // Sorted by GUID bytes, then size; keys unique.
    for (std::size_t i = 1; i < r.pcl.size(); ++i) {
      const Xid& a = r.pcl.xids()[i - 1];
      const Xid& b = r.pcl.xids()[i];
      ASSERT_TRUE(a.guid < b.guid || (a.guid == b.guid && a.local_size < b.local_size));
    }
  }
}

TEST(Pcl, CompareLawsOverRandomPcls) {
  std::mt19937_64 rng(0x5EED);
  for (int iter = 0; iter < 4000; ++iter) {
    RandomPcl a = random_pcl(rng);
    RandomPcl b = random_pcl(rng);
    PclOrder ab = compare(a.pcl, b.pcl);
    PclOrder ba = compare(b.pcl, a.pcl);
    // Antisymmetry.
    ASSERT_EQ(ab == PclOrder::Newer, ba == PclOrder::Older);
    ASSERT_EQ(ab == PclOrder::Equal, ba == PclOrder::Equal);
    ASSERT_EQ(ab == PclOrder::Conflict, ba == PclOrder::Conflict);
    // Equal means the same set.
    ASSERT_EQ(ab == PclOrder::Equal, a.pcl == b.pcl);
    ASSERT_EQ(compare(a.pcl, a.pcl), PclOrder::Equal);
    // Model: theirs includes ours <=> every model entry of ours is covered.
    bool b_has_a = true;
    for (const auto& [key, v] : a.model) {
      b_has_a = b_has_a && model_includes(b.model, make_xid(key.first, key.second, v));
    }
    ASSERT_EQ(b_has_a, ab == PclOrder::Newer || ab == PclOrder::Equal);

    Pcl m = a.pcl;
    m.merge(b.pcl);
    Pcl m2 = b.pcl;
    m2.merge(a.pcl);
    ASSERT_EQ(m, m2);  // commutative
    ASSERT_TRUE(m.includes_all(a.pcl));
    ASSERT_TRUE(m.includes_all(b.pcl));
    PclOrder ma = compare(a.pcl, m);
    ASSERT_TRUE(ma == PclOrder::Newer || ma == PclOrder::Equal);
    Pcl again = m;
    again.merge(b.pcl);
    ASSERT_EQ(again, m);  // idempotent
    Pcl self = a.pcl;
    self.merge(a.pcl);
    ASSERT_EQ(self, a.pcl);
    // The merge is the least upper bound: its model is the pointwise max.
    Model mm = a.model;
    for (const auto& [key, v] : b.model) mm[key] = std::max(mm[key], v);
    ASSERT_EQ(m.size(), mm.size());
  }
}

TEST(Pcl, MergeIsAssociative) {
  std::mt19937_64 rng(77);
  for (int iter = 0; iter < 1000; ++iter) {
    Pcl a = random_pcl(rng).pcl, b = random_pcl(rng).pcl, c = random_pcl(rng).pcl;
    Pcl left = a;
    left.merge(b);
    left.merge(c);
    Pcl bc = b;
    bc.merge(c);
    Pcl right = a;
    right.merge(bc);
    ASSERT_EQ(left, right);
  }
}

TEST(Pcl, RoundTrip) {
  std::mt19937_64 rng(4242);
  for (int iter = 0; iter < 2000; ++iter) {
    Pcl p = random_pcl(rng).pcl;
    Bytes wire = p.serialize();
    std::size_t want = 0;
    for (const Xid& x : p.xids()) want += 1 + x.size();
    ASSERT_EQ(wire.size(), want);
    auto back = Pcl::parse(wire);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    ASSERT_EQ(*back, p);
  }
}

TEST(Pcl, ParseWireLayout) {
  // One SizedXid: 0x16 (22), GUID, then GLOBCNT 0x000000000005 big-endian.
  Bytes wire = {22};
  wire.insert(wire.end(), kA.bytes.begin(), kA.bytes.end());
  Bytes local = {0, 0, 0, 0, 0, 5};
  wire.insert(wire.end(), local.begin(), local.end());
  auto p = Pcl::parse(wire);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ(p->xids()[0], Xid::from_globcnt(kA, 5));
  EXPECT_EQ(p->serialize(), wire);
}

TEST(Pcl, ParseEmptyIsEmpty) {
  auto p = Pcl::parse({});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->empty());
  EXPECT_TRUE(Pcl{}.serialize().empty());
}

TEST(Pcl, ParseFoldsDuplicatesAndUnsortedEntries) {
  Writer w;
  for (Xid x : {Xid::from_globcnt(kB, 2), Xid::from_globcnt(kA, 9), Xid::from_globcnt(kB, 7),
                Xid::from_globcnt(kA, 1)}) {
    w.put_u8(22);
    write_xid(w, x);
  }
  auto p = Pcl::parse(w.bytes());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, pcl_of({Xid::from_globcnt(kA, 9), Xid::from_globcnt(kB, 7)}));
}

TEST(Pcl, RejectsBadXidSize) {
  for (int size : {0, 1, 16, 25, 0x80, 0xFF}) {
    Bytes wire(1 + 40, 0x33);
    wire[0] = static_cast<std::uint8_t>(size);
    auto p = Pcl::parse(wire);
    ASSERT_EQ(p.code(), ErrorCode::FormatError) << size;
    EXPECT_EQ(p.error().offset(), 0u);
  }
  // A bad size after a good entry reports the entry's offset.
  Pcl good = pcl_of({Xid::from_globcnt(kA, 1)});
  Bytes wire = good.serialize();
  wire.push_back(16);
  wire.insert(wire.end(), 16, 0);
  auto p = Pcl::parse(wire);
  ASSERT_EQ(p.code(), ErrorCode::FormatError);
  EXPECT_EQ(p.error().offset(), 23u);
}

TEST(Pcl, EveryCutInsideAnEntryFails) {
  Pcl p = pcl_of({Xid::from_globcnt(kA, 1), make_xid(kB, 8, 0x0102030405060708ull),
                  make_xid(kC, 1, 0x42)});
  Bytes wire = p.serialize();
  std::vector<std::size_t> boundaries = {0};
  for (const Xid& x : p.xids()) boundaries.push_back(boundaries.back() + 1 + x.size());
  ASSERT_EQ(boundaries.back(), wire.size());
  for (std::size_t n = 0; n <= wire.size(); ++n) {
    auto r = Pcl::parse(ByteView(wire.data(), n));
    bool at_boundary = std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
    ASSERT_EQ(r.ok(), at_boundary) << n;
    if (!at_boundary) {
      ASSERT_EQ(r.code(), ErrorCode::FormatError) << n;
    }
  }
}

TEST(Pcl, RandomBytesNeverCrashAndParsedImpliesSerialisable) {
  std::mt19937_64 rng(99);
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes wire(rng() % 60);
    for (auto& b : wire) b = static_cast<std::uint8_t>(rng() % 4 == 0 ? 17 + rng() % 8 : rng());
    auto p = Pcl::parse(wire);
    if (!p.ok()) {
      ASSERT_EQ(p.code(), ErrorCode::FormatError);
      continue;
    }
    auto again = Pcl::parse(p->serialize());
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(*again, *p);
  }
}

}  // namespace
}  // namespace ics
