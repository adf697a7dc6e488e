#include "ics/globset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <iterator>
#include <random>
#include <set>
#include <string_view>
#include <vector>

namespace ics {
namespace {

using Model = std::set<Globcnt>;
using Rng = std::mt19937_64;

Bytes hex(std::string_view text) {
  auto b = from_hex(text);
  EXPECT_TRUE(b.ok()) << text;
  return b.ok() ? *b : Bytes{};
}

std::vector<GlobRange> model_ranges(const Model& m) {
  std::vector<GlobRange> out;
  for (Globcnt v : m) {
    if (!out.empty() && out.back().high + 1 == v) {
      out.back().high = v;
    } else {
      out.push_back({v, v});
    }
  }
  return out;
}

// Coding every range on its own: 06 + 6 bytes per singleton, 52 + 12 per run.
std::size_t baseline_size(const Globset& s) {
  std::size_t n = 1;
  for (const GlobRange& r : s.ranges()) n += r.low == r.high ? 7 : 13;
  return n;
}

Globset from_list(std::vector<GlobRange> ranges) {
  auto s = Globset::from_ranges(std::move(ranges));
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : Globset{};
}

void expect_format_error(const Bytes& b, std::size_t offset) {
  auto s = decode_globset(ByteView(b));
  ASSERT_FALSE(s.ok()) << to_hex(b);
  EXPECT_EQ(s.code(), ErrorCode::FormatError) << to_hex(b);
  EXPECT_EQ(s.error().offset(), offset) << to_hex(b) << ": " << s.error().what();
}

void expect_every_strict_prefix_fails(const Bytes& b) {
  for (std::size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(decode_globset(ByteView(b.data(), n)).ok()) << to_hex(b) << " cut at " << n;
  }
  EXPECT_TRUE(decode_globset(ByteView(b)).ok()) << to_hex(b);
}

// ---------------------------------------------------------------------------
// Worked examples from the spec digest

// [MS-OXCFXICS] 3.1.5.4.3.1.3: {0x01-0x03, 0x05, 0x07-0x09} under five common
// bytes is StartingValue 0x01, Bitmask 0xEB.
TEST(GlobsetSpec, BitmaskExampleDecodes) {
  auto s = decode_globset(ByteView(hex("05 0000000000 42 01 eb 50 00")));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->ranges(), (std::vector<GlobRange>{{0x01, 0x03}, {0x05, 0x05}, {0x07, 0x09}}));
}

TEST(GlobsetSpec, BitmaskExampleEncodes) {
  Globset s = from_list({{0x01, 0x03}, {0x05, 0x05}, {0x07, 0x09}});
  EXPECT_EQ(to_hex(encode_globset(s)), "0500000000004201eb5000");
}

TEST(GlobsetSpec, BitmaskExampleUnderOtherHighBytes) {
  auto s = decode_globset(ByteView(hex("03 a1b2c3 02 d4e5 42 01 eb 50 50 00")));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  const Globcnt p = 0xA1B2C3D4E500ull;
  EXPECT_EQ(s->ranges(),
            (std::vector<GlobRange>{{p | 0x01, p | 0x03}, {p | 0x05, p | 0x05}, {p | 0x07, p | 0x09}}));
}

// Where pushing a common byte costs exactly what it saves, the encoder still pushes when a
// Bitmask can then follow (five common bytes, several ranges): these encodings are the
// shortest, and the encoder gives them back unchanged.
TEST(GlobsetEncoder, PushesForABitmaskWhenSavingAndCostTie) {
  for (const char* text : {"04 01020304 01 05 42 00 06 50 02 0607 50 00",
                           "03 010203 03 040503 01 05 02 0514 01 07 42 08 41 50 50 50 00"}) {
    Bytes want = hex(text);
    auto s = decode_globset(ByteView(want));
    ASSERT_TRUE(s.ok()) << text;
    EXPECT_EQ(to_hex(encode_globset(*s)), to_hex(want)) << text;
  }
}

// [MS-OXCFXICS] 3.1.5.4.3.1.1: a Push that places the sixth byte is a
// singleton and pops itself.
TEST(GlobsetSpec, PushToSixIsSingletonAndAutoPops) {
  auto s = decode_globset(ByteView(hex("04 00000000 02 0005 02 0007 50 00")));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->ranges(), (std::vector<GlobRange>{{5, 5}, {7, 7}}));
  auto one = decode_globset(ByteView(hex("06 000000000005 00")));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->ranges(), (std::vector<GlobRange>{{5, 5}}));
}

// [MS-OXCFXICS] 3.1.5.4.3.2.4: Range values combine with the stacked bytes.
TEST(GlobsetSpec, RangeCombinesWithStack) {
  auto s = decode_globset(ByteView(hex("52 000000000001 000000000003 "
                                       "03 123456 52 000010 0000ff 50 00")));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->ranges(), (std::vector<GlobRange>{{1, 3}, {0x123456000010ull, 0x1234560000FFull}}));
}

// [MS-OXCFXICS] 4.4: MIDs 0001-000000000005, -06, -10 give, for REPLID 1,
// the GLOBSET {[5,6],[0x10,0x10]}. One spec-conformant coding (Push the five
// common bytes, Range 05-06, Push the sixth byte 10, Pop, End):
TEST(GlobsetSpec, Section44ReplicaOneGlobset) {
  Bytes coded = hex("05 0000000000 52 05 06 01 10 50 00");
  auto s = decode_globset(ByteView(coded));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  Globset expected = from_list({{5, 6}, {0x10, 0x10}});
  EXPECT_EQ(*s, expected);
  Bytes ours = encode_globset(expected);
  EXPECT_LE(ours.size(), coded.size());
  auto back = decode_globset(ByteView(ours));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, expected);
}

TEST(GlobsetSpec, EmptyGlobsetIsEnd) {
  EXPECT_EQ(encode_globset(Globset{}), Bytes{kGlobsetEnd});
  auto s = decode_globset(ByteView(hex("00")));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
}

// ---------------------------------------------------------------------------
// Every reject class (FormatError with the failing command's offset)

TEST(GlobsetReject, UnknownCommand) {
  for (std::uint8_t cmd : {0x07, 0x08, 0x40, 0x41, 0x43, 0x4F, 0x51, 0x53, 0x80, 0xFF}) {
    expect_format_error(Bytes{cmd, 0x00}, 0);
  }
  expect_format_error(hex("06 000000000001 07 00"), 7);
}

TEST(GlobsetReject, TruncatedPush) {
  expect_format_error(hex("03 0000"), 0);
  expect_format_error(hex("06 0000000000"), 0);
  expect_format_error(hex("02 0000 01"), 3);
}

TEST(GlobsetReject, TruncatedRange) {
  expect_format_error(hex("52"), 0);
  expect_format_error(hex("52 000000000001 0000000000"), 0);
  expect_format_error(hex("04 00000000 52 00 01"), 5);
}

TEST(GlobsetReject, TruncatedBitmask) {
  expect_format_error(hex("05 0000000000 42"), 6);
  expect_format_error(hex("05 0000000000 42 01"), 6);
}

TEST(GlobsetReject, StackOverSixBytes) {
  expect_format_error(hex("04 00000000 03 000000 50 50 00"), 5);
  expect_format_error(hex("01 00 06 000000000000 50 00"), 2);
  expect_format_error(hex("05 0000000000 02 0000 50 00"), 6);
}

TEST(GlobsetReject, PopOnEmptyStack) {
  expect_format_error(hex("50 00"), 0);
  expect_format_error(hex("02 0000 50 50 00"), 4);
  // A singleton Push pops itself: there is nothing left to Pop.
  expect_format_error(hex("06 000000000001 50 00"), 7);
}

TEST(GlobsetReject, EndWithBytesOnStack) {
  expect_format_error(hex("02 0000 00"), 3);
  expect_format_error(hex("01 00 02 0000 50 00"), 6);
}

TEST(GlobsetReject, NoEndBeforeInputEnds) {
  expect_format_error(Bytes{}, 0);
  expect_format_error(hex("06 000000000001"), 7);
  expect_format_error(hex("02 0000 50"), 4);
}

TEST(GlobsetReject, BitmaskWithoutFiveStackedBytes) {
  expect_format_error(hex("42 01 01 00"), 0);
  expect_format_error(hex("04 00000000 42 01 01 50 00"), 5);
  expect_format_error(hex("03 000000 01 00 42 01 01 50 00"), 6);
}

TEST(GlobsetReject, BitmaskCarryingOutOfLowByte) {
  // StartingValue 0xF8 with bit 7 set would mean 0xF8 + 8 = 0x100.
  expect_format_error(hex("05 0000000000 42 f8 80 50 00"), 6);
  expect_format_error(hex("05 0000000000 42 ff 01 50 00"), 6);
  // The largest values that stay in the byte are fine.
  auto edge = decode_globset(ByteView(hex("05 0000000000 42 f7 80 50 00")));
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge->ranges(), (std::vector<GlobRange>{{0xF7, 0xF7}, {0xFF, 0xFF}}));
  auto top = decode_globset(ByteView(hex("05 ffffffffff 42 ff 00 50 00")));
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->ranges(), (std::vector<GlobRange>{{kGlobcntMax, kGlobcntMax}}));
}

TEST(GlobsetReject, RangeLowAboveHigh) {
  expect_format_error(hex("52 000000000002 000000000001 00"), 0);
  expect_format_error(hex("05 0000000000 52 09 08 50 00"), 6);
  auto equal = decode_globset(ByteView(hex("52 000000000002 000000000002 00")));
  ASSERT_TRUE(equal.ok());
  EXPECT_EQ(equal->ranges(), (std::vector<GlobRange>{{2, 2}}));
}

// Six stacked bytes cannot persist (the sixth byte's Push pops itself), so a
// Range after a singleton sees the five bytes below it: one low byte each.
TEST(GlobsetReject, RangeNeverSeesSixStackedBytes) {
  auto s = decode_globset(ByteView(hex("05 0000000000 01 07 52 09 0a 50 00")));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->ranges(), (std::vector<GlobRange>{{7, 7}, {9, 10}}));
}

TEST(GlobsetReject, TrailingBytesAfterEnd) {
  expect_format_error(hex("06 000000000001 00 00"), 8);
  // The Reader form stops at End and leaves the rest.
  Bytes b = hex("06 000000000001 00 ab");
  Reader r(b);
  auto s = decode_globset(r);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(r.offset(), 8u);
}

TEST(GlobsetReject, EveryStrictPrefixFails) {
  for (const char* text : {"00", "05 0000000000 42 01 eb 50 00", "06 000000000005 00",
                           "05 0000000000 52 05 06 01 10 50 00",
                           "03 a1b2c3 02 d4e5 42 01 eb 50 50 00",
                           "52 000000000001 000000000003 03 123456 52 000010 0000ff 50 00"}) {
    expect_every_strict_prefix_fails(hex(text));
  }
}

// Ranges out of order, overlapping or adjacent are accepted and normalised.
TEST(GlobsetDecode, NormalisesUnsortedAndOverlapping) {
  auto s = decode_globset(ByteView(hex("06 000000000005 06 000000000003 "
                                       "52 000000000001 000000000004 "
                                       "06 000000000009 06 000000000009 00")));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->ranges(), (std::vector<GlobRange>{{1, 5}, {9, 9}}));
  auto adjacent = decode_globset(ByteView(hex("05 0000000000 52 01 03 52 04 06 50 00")));
  ASSERT_TRUE(adjacent.ok());
  EXPECT_EQ(adjacent->ranges(), (std::vector<GlobRange>{{1, 6}}));
}

// ---------------------------------------------------------------------------
// Set operations

TEST(Globset, AdjacentRangesCoalesce) {
  Globset s;
  ASSERT_TRUE(s.insert(1, 3).ok());
  ASSERT_TRUE(s.insert(4, 6).ok());
  EXPECT_EQ(s.ranges(), (std::vector<GlobRange>{{1, 6}}));
  Globset t;
  ASSERT_TRUE(t.insert(4, 6).ok());
  ASSERT_TRUE(t.insert(1, 3).ok());
  EXPECT_EQ(t, s);
  Globset u;
  ASSERT_TRUE(u.insert(1, 4).ok());
  ASSERT_TRUE(u.insert(6, 9).ok());
  EXPECT_EQ(u.range_count(), 2u);
  ASSERT_TRUE(u.insert(5).ok());
  EXPECT_EQ(u.ranges(), (std::vector<GlobRange>{{1, 9}}));
  EXPECT_EQ(u.size(), 9u);
}

TEST(Globset, RemoveSplitsAndTrims) {
  Globset s = from_list({{1, 9}, {20, 30}});
  ASSERT_TRUE(s.remove(5).ok());
  EXPECT_EQ(s.ranges(), (std::vector<GlobRange>{{1, 4}, {6, 9}, {20, 30}}));
  ASSERT_TRUE(s.remove(8, 25).ok());
  EXPECT_EQ(s.ranges(), (std::vector<GlobRange>{{1, 4}, {6, 7}, {26, 30}}));
  ASSERT_TRUE(s.remove(0, kGlobcntMax).ok());
  EXPECT_TRUE(s.empty());
}

TEST(Globset, BoundsAndAccessors) {
  Globset s;
  EXPECT_FALSE(s.min().has_value());
  EXPECT_FALSE(s.max().has_value());
  ASSERT_TRUE(s.insert(kGlobcntMax).ok());
  ASSERT_TRUE(s.insert(0).ok());
  EXPECT_EQ(s.min(), Globcnt{0});
  EXPECT_EQ(s.max(), kGlobcntMax);
  EXPECT_TRUE(s.contains(0));
  EXPECT_TRUE(s.contains(kGlobcntMax));
  EXPECT_FALSE(s.contains(1));
  EXPECT_FALSE(s.contains(kGlobcntMax + 1));
  ASSERT_TRUE(s.insert(0, kGlobcntMax).ok());
  EXPECT_EQ(s.size(), kGlobcntMax + 1);
  auto back = decode_globset(ByteView(encode_globset(s)));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
  s.clear();
  EXPECT_TRUE(s.empty());
}

TEST(Globset, RejectsValuesOutside48BitsAndReversedRanges) {
  Globset s = from_list({{5, 9}});
  const Globset before = s;
  EXPECT_EQ(s.insert(kGlobcntMax + 1).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(s.insert(kGlobcntMax, kGlobcntMax + 1).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(s.insert(9, 5).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(s.remove(kGlobcntMax + 1).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(s.remove(9, 5).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(s, before);
  EXPECT_EQ(Globset::from_ranges({{1, 2}, {4, 3}}).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(Globset::from_ranges({{0, kGlobcntMax + 1}}).code(), ErrorCode::InvalidParameter);
}

TEST(Globset, FromRangesNormalises) {
  Globset s = from_list({{10, 12}, {1, 3}, {4, 4}, {11, 20}, {30, 30}, {2, 2}});
  EXPECT_EQ(s.ranges(), (std::vector<GlobRange>{{1, 4}, {10, 20}, {30, 30}}));
  EXPECT_EQ(from_list({}).range_count(), 0u);
}

// ---------------------------------------------------------------------------
// Random sets of mixed shapes

Globcnt pick_base(Rng& rng) {
  switch (rng() % 7) {
    case 0: return 0;
    case 1: return kGlobcntMax - rng() % 600;            // near the top
    case 2: return rng() & kGlobcntMax;                   // anywhere
    case 3: return (rng() & kGlobcntMax) & ~Globcnt{0xFF};  // low byte 00
    case 4: return (rng() & kGlobcntMax) | 0xFFFF;        // below a two-byte carry
    case 5: return (rng() % 4) << 40 | (rng() & 0xFFFF);  // few distinct prefixes
    default: return rng() % 300;                          // near zero
  }
}

// Adds the values [low, low + len) that fit in 48 bits.
void add_run(Model& m, std::vector<GlobRange>& pieces, Globcnt low, Globcnt len) {
  if (low > kGlobcntMax) return;
  Globcnt high = std::min(kGlobcntMax, low + len - 1);
  for (Globcnt v = low; v <= high; ++v) m.insert(v);
  pieces.push_back({low, high});
}

// A shape near base: singleton, run, a Bitmask-friendly cluster, or a value
// that shares fewer high bytes with base.
void add_shape(Rng& rng, Globcnt base, Model& m, std::vector<GlobRange>& pieces) {
  switch (rng() % 5) {
    case 0:
      add_run(m, pieces, base + rng() % 40, 1);
      break;
    case 1:
      add_run(m, pieces, base + rng() % 600, 2 + rng() % 20);
      break;
    case 2: {
      Globcnt at = base + rng() % 300;
      for (int k = 0; k < 4; ++k) add_run(m, pieces, at + rng() % 9, 1 + rng() % 2);
      break;
    }
    case 3: {
      unsigned bytes = 1 + static_cast<unsigned>(rng() % 5);
      add_run(m, pieces, base + (rng() & ((Globcnt{1} << (8 * bytes)) - 1)), 1 + rng() % 3);
      break;
    }
    default:
      add_run(m, pieces, base ^ (rng() & 0xFF), 1);
      break;
  }
}

// A random set: model values and the same values as a shuffled list of runs.
struct Sample {
  Model model;
  std::vector<GlobRange> pieces;
};

Sample random_sample(Rng& rng, const std::vector<Globcnt>& bases, int shapes) {
  Sample s;
  for (int i = 0; i < shapes; ++i) add_shape(rng, bases[rng() % bases.size()], s.model, s.pieces);
  std::shuffle(s.pieces.begin(), s.pieces.end(), rng);
  return s;
}

std::vector<Globcnt> random_bases(Rng& rng) {
  std::vector<Globcnt> bases(1 + rng() % 3);
  for (Globcnt& b : bases) b = pick_base(rng);
  return bases;
}

void expect_round_trip(const Globset& s) {
  Bytes coded = encode_globset(s);
  EXPECT_LE(coded.size(), baseline_size(s));
  auto back = decode_globset(ByteView(coded));
  ASSERT_TRUE(back.ok()) << to_hex(coded) << ": " << back.error().to_string();
  EXPECT_EQ(*back, s) << to_hex(coded);
}

TEST(GlobsetProperty, InsertMatchesModelAndRoundTrips) {
  Rng rng(0x61C0);
  for (int iter = 0; iter < 3000; ++iter) {
    auto bases = random_bases(rng);
    Sample sample = random_sample(rng, bases, 1 + static_cast<int>(rng() % 12));
    Globset s;
    for (const GlobRange& r : sample.pieces) ASSERT_TRUE(s.insert(r.low, r.high).ok());
    ASSERT_EQ(s.ranges(), model_ranges(sample.model)) << "iteration " << iter;
    EXPECT_EQ(s.size(), sample.model.size());
    for (Globcnt v : sample.model) {
      EXPECT_TRUE(s.contains(v));
      if (v > 0) {
        EXPECT_EQ(s.contains(v - 1), sample.model.count(v - 1) == 1);
      }
      EXPECT_EQ(s.contains(v + 1), sample.model.count(v + 1) == 1);
    }
    expect_round_trip(s);
    auto built = Globset::from_ranges(sample.pieces);
    ASSERT_TRUE(built.ok());
    EXPECT_EQ(*built, s);
  }
}

TEST(GlobsetProperty, AlgebraMatchesStdSet) {
  Rng rng(0xA16E);
  for (int iter = 0; iter < 2000; ++iter) {
    auto bases = random_bases(rng);
    Sample a = random_sample(rng, bases, static_cast<int>(rng() % 8));
    Sample b = random_sample(rng, bases, static_cast<int>(rng() % 8));
    Globset sa = from_list(a.pieces), sb = from_list(b.pieces);
    Model u, i, d;
    std::set_union(a.model.begin(), a.model.end(), b.model.begin(), b.model.end(),
                   std::inserter(u, u.end()));
    std::set_intersection(a.model.begin(), a.model.end(), b.model.begin(), b.model.end(),
                          std::inserter(i, i.end()));
    std::set_difference(a.model.begin(), a.model.end(), b.model.begin(), b.model.end(),
                        std::inserter(d, d.end()));
    EXPECT_EQ(unite(sa, sb).ranges(), model_ranges(u)) << iter;
    EXPECT_EQ(intersect(sa, sb).ranges(), model_ranges(i)) << iter;
    EXPECT_EQ(difference(sa, sb).ranges(), model_ranges(d)) << iter;
    EXPECT_EQ(unite(sa, sb), unite(sb, sa));
    EXPECT_EQ(intersect(sa, sb), intersect(sb, sa));
  }
}

TEST(GlobsetProperty, InsertRemoveSequenceMatchesStdSet) {
  Rng rng(0x5E9);
  for (int iter = 0; iter < 400; ++iter) {
    Globcnt base = pick_base(rng);
    if (base > kGlobcntMax - 200) base = kGlobcntMax - 200;
    Globset s;
    Model m;
    for (int op = 0; op < 40; ++op) {
      Globcnt low = base + rng() % 200;
      Globcnt high = std::min(base + 199, low + rng() % (rng() % 4 == 0 ? 60 : 6));
      bool add = rng() % 3 != 0;
      ASSERT_TRUE((add ? s.insert(low, high) : s.remove(low, high)).ok());
      for (Globcnt v = low; v <= high; ++v) {
        if (add) {
          m.insert(v);
        } else {
          m.erase(v);
        }
      }
      ASSERT_EQ(s.ranges(), model_ranges(m)) << "iteration " << iter << " op " << op;
    }
    expect_round_trip(s);
  }
}

// A valid GLOBSET of arbitrary structure (any mix and order of commands)
// built beside the set of values it stands for.
struct Stream {
  Bytes bytes;
  Model values;
};

// An n-byte operand: small values often, so that ranges collide.
std::uint64_t operand(Rng& rng, unsigned n) {
  std::uint64_t limit = n == 8 ? ~0ull : (std::uint64_t{1} << (8 * n)) - 1;
  return rng() % 2 == 0 ? std::min<std::uint64_t>(rng() % 24, limit) : rng() & limit;
}

Stream random_stream(Rng& rng) {
  Stream s;
  Writer w;
  std::vector<unsigned> pushes;
  unsigned depth = 0;
  Globcnt prefix = 0;
  int commands = static_cast<int>(rng() % 14);
  for (int c = 0; c < commands; ++c) {
    unsigned left = 6 - depth;
    switch (rng() % 4) {
      case 0: {  // Push
        unsigned n = 1 + static_cast<unsigned>(rng() % left);
        std::uint64_t v = operand(rng, n);
        w.put_u8(static_cast<std::uint8_t>(n));
        w.put_be(v, n);
        if (n == left) {
          s.values.insert(prefix << (8 * n) | v);
        } else {
          prefix = prefix << (8 * n) | v;
          depth += n;
          pushes.push_back(n);
        }
        break;
      }
      case 1:  // Pop
        if (pushes.empty()) break;
        w.put_u8(kGlobsetPop);
        prefix >>= 8 * pushes.back();
        depth -= pushes.back();
        pushes.pop_back();
        break;
      case 2: {  // Range
        std::uint64_t limit = (std::uint64_t{1} << (8 * left)) - 1;
        std::uint64_t low = operand(rng, left);
        std::uint64_t high = std::min(limit, low + rng() % 10);
        w.put_u8(kGlobsetRange);
        w.put_be(low, left);
        w.put_be(high, left);
        for (std::uint64_t v = low; v <= high; ++v) s.values.insert(prefix << (8 * left) | v);
        break;
      }
      default: {  // Bitmask
        if (depth != 5) break;
        unsigned start = static_cast<unsigned>(rng() % 256);
        unsigned mask = static_cast<unsigned>(rng() % 256);
        while (mask != 0 && start + static_cast<unsigned>(std::bit_width(mask)) > 0xFF) mask >>= 1;
        w.put_u8(kGlobsetBitmask);
        w.put_u8(static_cast<std::uint8_t>(start));
        w.put_u8(static_cast<std::uint8_t>(mask));
        s.values.insert(prefix << 8 | start);
        for (unsigned i = 0; i < 8; ++i) {
          if (mask >> i & 1) s.values.insert(prefix << 8 | (start + i + 1));
        }
        break;
      }
    }
  }
  for (std::size_t i = 0; i < pushes.size(); ++i) w.put_u8(kGlobsetPop);
  w.put_u8(kGlobsetEnd);
  s.bytes = w.take();
  return s;
}

// The decoder against an independent model of arbitrary valid streams.
TEST(GlobsetProperty, DecodesArbitraryValidStreams) {
  Rng rng(0xDEC0);
  for (int iter = 0; iter < 3000; ++iter) {
    Stream st = random_stream(rng);
    auto s = decode_globset(ByteView(st.bytes));
    ASSERT_TRUE(s.ok()) << to_hex(st.bytes) << ": " << s.error().to_string();
    ASSERT_EQ(s->ranges(), model_ranges(st.values)) << to_hex(st.bytes);
    EXPECT_LE(s->range_count(), 5 * st.bytes.size());
    expect_round_trip(*s);
    if (iter < 500) expect_every_strict_prefix_fails(st.bytes);
  }
}

// Damaged streams never crash; whatever decodes re-encodes to the same set.
TEST(GlobsetProperty, MutatedStreamsFailCleanlyOrRoundTrip) {
  Rng rng(0xBAD);
  int failures = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes b = random_stream(rng).bytes;
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
    auto s = decode_globset(ByteView(b));
    if (!s.ok()) {
      ++failures;
      EXPECT_EQ(s.code(), ErrorCode::FormatError);
      EXPECT_LE(s.error().offset(), b.size());
      continue;
    }
    expect_round_trip(*s);
  }
  EXPECT_GT(failures, 100);  // the damage does get noticed
}

// Encodings made by the encoder for Samples: every strict prefix fails.
TEST(GlobsetProperty, EncoderOutputPrefixesFail) {
  Rng rng(0x9F1);
  for (int iter = 0; iter < 300; ++iter) {
    auto bases = random_bases(rng);
    Globset s = from_list(random_sample(rng, bases, 1 + static_cast<int>(rng() % 10)).pieces);
    expect_every_strict_prefix_fails(encode_globset(s));
  }
}

// ---------------------------------------------------------------------------
// Scale

TEST(GlobsetScale, MillionRangesBuildEncodeDecode) {
  constexpr Globcnt kRanges = 1'000'000;
  Globset s;
  for (Globcnt i = 0; i < kRanges; ++i) {
    Globcnt low = i * 5 + (i >> 7) * 1000;
    ASSERT_TRUE(s.insert(low, low + i % 3).ok());
  }
  ASSERT_EQ(s.range_count(), kRanges);
  Bytes coded = encode_globset(s);
  EXPECT_LT(coded.size(), baseline_size(s));
  auto back = decode_globset(ByteView(coded));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, s);
  auto built = Globset::from_ranges(s.ranges());
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(*built, s);
  EXPECT_EQ(unite(s, s), s);
  EXPECT_EQ(intersect(s, s), s);
  EXPECT_TRUE(difference(s, s).empty());
}

}  // namespace
}  // namespace ics
