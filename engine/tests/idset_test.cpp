#include "ics/idset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace ics {
namespace {

using Rng = std::mt19937_64;

Bytes hex(std::string_view text) {
  auto b = from_hex(text);
  EXPECT_TRUE(b.ok()) << text;
  return b.ok() ? *b : Bytes{};
}

Globset globset_of(std::vector<GlobRange> ranges) {
  auto s = Globset::from_ranges(std::move(ranges));
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : Globset{};
}

// A GUID whose 16 wire bytes are all `fill` except byte 0 = `first`.
Guid guid_bytes(std::uint8_t first, std::uint8_t fill) {
  Guid g;
  g.bytes.fill(fill);
  g.bytes[0] = first;
  return g;
}

// [MS-OXCFXICS] 4.4: four MIDs, three on REPLID 1 and one on REPLID 2.
const char* const kSpecMids[] = {"0100000000000005", "0100000000000006", "0100000000000010",
                                 "0200000000000009"};

IdSet spec_example_idset() {
  IdSet s;
  for (const char* text : kSpecMids) {
    Bytes raw = hex(text);
    Reader r(raw);
    Id id;
    EXPECT_TRUE(read_id(r, id));
    EXPECT_TRUE(s.insert(id).ok());
  }
  return s;
}

TEST(IdsetSpec, Section44FormatsByReplid) {
  IdSet s = spec_example_idset();
  ASSERT_EQ(s.replicas().size(), 2u);
  EXPECT_EQ(s.globset(1).ranges(), (std::vector<GlobRange>{{5, 6}, {0x10, 0x10}}));
  EXPECT_EQ(s.globset(2).ranges(), (std::vector<GlobRange>{{9, 9}}));
  EXPECT_EQ(s.size(), 4u);
  EXPECT_TRUE(s.contains(Id{1, 6}));
  EXPECT_FALSE(s.contains(Id{2, 6}));
}

// One spec-conformant REPLID-form coding of the 4.4 IDSET (REPLID 1:
// Push 5 common bytes, Range 05-06, Push the sixth byte 10, Pop, End;
// REPLID 2: Push all six bytes, End).
TEST(IdsetSpec, Section44SerializedForm) {
  Bytes coded = hex("0100 05 0000000000 52 05 06 01 10 50 00  0200 06 000000000009 00");
  auto s = decode_replid_idset(coded);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(*s, spec_example_idset());
  Bytes ours = encode_idset(*s);
  EXPECT_LE(ours.size(), coded.size());
  auto back = decode_replid_idset(ours);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *s);
}

TEST(Idset, EmptyIsZeroBytes) {
  EXPECT_TRUE(encode_idset(IdSet{}).empty());
  EXPECT_TRUE(encode_idset(GuidIdSet{}).empty());
  auto a = decode_replid_idset({});
  auto b = decode_replguid_idset({});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->empty());
  EXPECT_TRUE(b->empty());
}

TEST(Idset, EmptiedReplicaIsDroppedAndNotEncoded) {
  IdSet s;
  ASSERT_TRUE(s.insert(1, 5).ok());
  ASSERT_TRUE(s.insert(2, 7, 9).ok());
  ASSERT_TRUE(s.remove(2, 7, 9).ok());
  EXPECT_EQ(s.replicas().size(), 1u);
  EXPECT_EQ(to_hex(encode_idset(s)), "0100" "06000000000005" "00");
  s.insert(3, Globset{});
  EXPECT_EQ(s.replicas().size(), 1u);
}

TEST(Idset, RejectedInsertLeavesNoEntry) {
  IdSet s;
  EXPECT_EQ(s.insert(4, kGlobcntMax + 1).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(s.insert(4, 9, 3).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(s.remove(4, 9, 3).code(), ErrorCode::InvalidParameter);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s, IdSet{});
}

TEST(Idset, IdHelpers) {
  IdSet s;
  ASSERT_TRUE(s.insert(Id{7, 0x123456789ABCull}).ok());
  EXPECT_TRUE(s.contains(Id{7, 0x123456789ABCull}));
  EXPECT_FALSE(s.contains(Id{7, 0x123456789ABDull}));
  EXPECT_FALSE(s.contains(Id{8, 0x123456789ABCull}));
  ASSERT_TRUE(s.remove(Id{7, 0x123456789ABCull}).ok());
  EXPECT_TRUE(s.empty());
}

// ---------------------------------------------------------------------------
// Wire order and rejects

TEST(IdsetCodec, ReplidsAscendOnTheWire) {
  IdSet s;
  ASSERT_TRUE(s.insert(0x0201, 1).ok());
  ASSERT_TRUE(s.insert(0x0102, 2).ok());
  // Numeric order (0x0102 < 0x0201), each REPLID little-endian.
  EXPECT_EQ(to_hex(encode_idset(s)), "0201" "06000000000002" "00" "0102" "06000000000001" "00");
}

TEST(IdsetCodec, ReplguidsAscendByteWise) {
  // Byte-wise a < b although a's Data1 (little-endian) is the larger number.
  Guid a = guid_bytes(0x01, 0xFF);
  Guid b = guid_bytes(0x02, 0x00);
  GuidIdSet s;
  ASSERT_TRUE(s.insert(b, 2).ok());
  ASSERT_TRUE(s.insert(a, 1).ok());
  Bytes coded = encode_idset(s);
  ASSERT_EQ(coded.size(), 2 * (16 + 8));
  EXPECT_EQ(coded[0], 0x01);
  EXPECT_EQ(coded[24], 0x02);
  auto back = decode_replguid_idset(coded);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

void expect_format_error_at(const Result<IdSet>& r, std::size_t offset) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::FormatError);
  EXPECT_EQ(r.error().offset(), offset) << r.error().what();
}

TEST(IdsetReject, TruncatedReplid) {
  expect_format_error_at(decode_replid_idset(hex("01")), 0);
  expect_format_error_at(decode_replid_idset(hex("0100 06000000000001 00 02")), 10);
}

TEST(IdsetReject, ReplidWithoutGlobset) {
  expect_format_error_at(decode_replid_idset(hex("0100")), 2);
  expect_format_error_at(decode_replid_idset(hex("0100 06000000000001 00 0200")), 12);
}

TEST(IdsetReject, BadGlobsetInsideIdset) {
  // Unknown command 0x07 at offset 2; a GLOBSET cut before its End.
  expect_format_error_at(decode_replid_idset(hex("0100 07 00")), 2);
  expect_format_error_at(decode_replid_idset(hex("0100 06000000000001")), 9);
  expect_format_error_at(decode_replid_idset(hex("0100 50 00")), 2);
}

TEST(IdsetReject, TruncatedReplguid) {
  Bytes b(15, 0xAB);
  auto r = decode_replguid_idset(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::FormatError);
  EXPECT_EQ(r.error().offset(), 0u);
}

TEST(IdsetReject, ReplguidWithoutGlobset) {
  Bytes b(16, 0xAB);
  auto r = decode_replguid_idset(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::FormatError);
  EXPECT_EQ(r.error().offset(), 16u);
}

// A strict prefix either fails or ends exactly after a complete pair, in
// which case it decodes to the replicas coded so far.
TEST(IdsetReject, PrefixesFailOrEndAtAPair) {
  IdSet s = spec_example_idset();
  ASSERT_TRUE(s.insert(9, 0x0000AABBCCDD00ull, 0x0000AABBCCDD07ull).ok());
  Bytes coded = encode_idset(s);
  IdSet partial;
  std::vector<std::size_t> pair_ends;
  for (const auto& [replid, globset] : s.replicas()) {
    partial.insert(replid, globset);
    pair_ends.push_back(encode_idset(partial).size());
  }
  ASSERT_EQ(pair_ends.back(), coded.size());
  for (std::size_t n = 0; n < coded.size(); ++n) {
    auto r = decode_replid_idset(ByteView(coded.data(), n));
    bool at_pair_end = n == 0 || std::count(pair_ends.begin(), pair_ends.end(), n) == 1;
    EXPECT_EQ(r.ok(), at_pair_end) << n;
  }
}

TEST(IdsetCodec, DuplicateKeysAreMerged) {
  auto s = decode_replid_idset(hex("0100 06000000000005 00 0100 06000000000007 00"));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->globset(1).ranges(), (std::vector<GlobRange>{{5, 5}, {7, 7}}));
  Guid g = guid_bytes(3, 3);
  Writer w;
  for (Globcnt v : {Globcnt{8}, Globcnt{9}}) {
    write_guid(w, g);
    encode_globset(globset_of({{v, v}}), w);
  }
  auto gs = decode_replguid_idset(w.bytes());
  ASSERT_TRUE(gs.ok());
  EXPECT_EQ(gs->globset(g).ranges(), (std::vector<GlobRange>{{8, 9}}));
}

TEST(IdsetCodec, KeysOutOfOrderAreAccepted) {
  auto s = decode_replid_idset(hex("0200 06000000000002 00 0100 06000000000001 00"));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->contains(Id{1, 1}));
  EXPECT_TRUE(s->contains(Id{2, 2}));
  EXPECT_EQ(to_hex(encode_idset(*s)), "0100" "06000000000001" "00" "0200" "06000000000002" "00");
}

// ---------------------------------------------------------------------------
// Random IdSets against a model of (key, value) pairs

using PairModel = std::set<std::pair<Replid, Globcnt>>;

IdSet random_idset(Rng& rng, PairModel& model) {
  IdSet s;
  int n = static_cast<int>(rng() % 30);
  for (int i = 0; i < n; ++i) {
    Replid replid = static_cast<Replid>(rng() % 4 == 0 ? rng() : rng() % 4);
    Globcnt base = rng() % 3 == 0 ? (rng() & kGlobcntMax) - (rng() % 2) * 40 : rng() % 64;
    Globcnt high = std::min(kGlobcntMax, base + rng() % 5);
    EXPECT_TRUE(s.insert(replid, base, high).ok());
    for (Globcnt v = base; v <= high; ++v) model.insert({replid, v});
  }
  return s;
}

IdSet idset_of(const PairModel& m) {
  IdSet s;
  for (const auto& [replid, v] : m) EXPECT_TRUE(s.insert(replid, v).ok());
  return s;
}

TEST(IdsetProperty, ReplidRoundTripAndModel) {
  Rng rng(0x1D5E7);
  for (int iter = 0; iter < 1000; ++iter) {
    PairModel m;
    IdSet s = random_idset(rng, m);
    EXPECT_EQ(s.size(), m.size());
    for (const auto& [replid, v] : m) EXPECT_TRUE(s.contains(replid, v));
    Bytes coded = encode_idset(s);
    auto back = decode_replid_idset(coded);
    ASSERT_TRUE(back.ok()) << to_hex(coded);
    EXPECT_EQ(*back, s);
    EXPECT_EQ(*back, idset_of(m));
  }
}

TEST(IdsetProperty, AlgebraMatchesModel) {
  Rng rng(0xA17);
  for (int iter = 0; iter < 500; ++iter) {
    PairModel ma, mb, u, i, d;
    IdSet a = random_idset(rng, ma);
    IdSet b = random_idset(rng, mb);
    std::set_union(ma.begin(), ma.end(), mb.begin(), mb.end(), std::inserter(u, u.end()));
    std::set_intersection(ma.begin(), ma.end(), mb.begin(), mb.end(), std::inserter(i, i.end()));
    std::set_difference(ma.begin(), ma.end(), mb.begin(), mb.end(), std::inserter(d, d.end()));
    EXPECT_EQ(unite(a, b), idset_of(u));
    EXPECT_EQ(intersect(a, b), idset_of(i));
    EXPECT_EQ(difference(a, b), idset_of(d));
  }
}

// ---------------------------------------------------------------------------
// ReplicaMap and conversion

TEST(ReplicaMap, AddAndLookups) {
  ReplicaMap map;
  Guid a = Guid::from_seed(1), b = Guid::from_seed(2);
  ASSERT_TRUE(map.add(1, a).ok());
  ASSERT_TRUE(map.add(1, a).ok());  // the same pair again
  EXPECT_EQ(map.add(1, b).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(map.add(2, a).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.guid_of(1), a);
  EXPECT_EQ(map.replid_of(a), Replid{1});
  EXPECT_FALSE(map.guid_of(2).has_value());
  EXPECT_FALSE(map.replid_of(b).has_value());
}

TEST(ReplicaMap, ReplidForAssignsLowestFree) {
  ReplicaMap map;
  ASSERT_TRUE(map.add(1, Guid::from_seed(1)).ok());
  ASSERT_TRUE(map.add(3, Guid::from_seed(3)).ok());
  auto r2 = map.replid_for(Guid::from_seed(20));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, 2);
  auto again = map.replid_for(Guid::from_seed(20));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 2);
  auto r4 = map.replid_for(Guid::from_seed(40));
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(*r4, 4);
  EXPECT_EQ(map.guid_of(4), Guid::from_seed(40));
}

TEST(ReplicaMap, FullMapFailsWithTooBig) {
  ReplicaMap map(3);
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(map.replid_for(Guid::from_seed(i)).ok());
  auto full = map.replid_for(Guid::from_seed(99));
  EXPECT_EQ(full.code(), ErrorCode::TooBig);
  EXPECT_EQ(map.size(), 3u);
  // Known GUIDs still resolve.
  auto known = map.replid_for(Guid::from_seed(1));
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(*known, 2);
}

TEST(ReplicaMap, WholeReplidSpaceIsBounded) {
  ReplicaMap map;
  for (std::uint64_t i = 0; i < 0xFFFF; ++i) ASSERT_TRUE(map.replid_for(Guid::from_seed(i)).ok());
  EXPECT_EQ(map.replid_for(Guid::from_seed(1'000'000)).code(), ErrorCode::TooBig);
}

TEST(IdsetConversion, UnmappedReplidIsNotFound) {
  IdSet s;
  ASSERT_TRUE(s.insert(5, 1).ok());
  ReplicaMap map;
  EXPECT_EQ(to_replguid(s, map).code(), ErrorCode::NotFound);
}

TEST(IdsetConversion, RoundTripsThroughBothForms) {
  Rng rng(0xC0417);
  for (int iter = 0; iter < 300; ++iter) {
    PairModel m;
    IdSet s = random_idset(rng, m);
    ReplicaMap map;
    for (const auto& [replid, globset] : s.replicas()) {
      ASSERT_TRUE(map.add(replid, Guid::from_seed(replid)).ok());
    }
    auto guided = to_replguid(s, map);
    ASSERT_TRUE(guided.ok());
    EXPECT_EQ(guided->size(), s.size());
    auto wire = decode_replguid_idset(encode_idset(*guided));
    ASSERT_TRUE(wire.ok());
    EXPECT_EQ(*wire, *guided);
    auto back = to_replid(*wire, map);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
    // A fresh map assigns new REPLIDs; converting back restores the GUIDs.
    ReplicaMap fresh;
    auto renumbered = to_replid(*guided, fresh);
    ASSERT_TRUE(renumbered.ok());
    auto again = to_replguid(*renumbered, fresh);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *guided);
  }
}

TEST(IdsetConversion, FullMapFailsConversion) {
  GuidIdSet s;
  ASSERT_TRUE(s.insert(Guid::from_seed(1), 1).ok());
  ASSERT_TRUE(s.insert(Guid::from_seed(2), 1).ok());
  ReplicaMap map(1);
  EXPECT_EQ(to_replid(s, map).code(), ErrorCode::TooBig);
}

}  // namespace
}  // namespace ics
