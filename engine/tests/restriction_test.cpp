// Restriction (restriction.cpp): the RestrictionData subset of [MS-OXCDATA] 2.12 that
// RopSynchronizationConfigure carries: the wire encoding, round trips of random trees, every
// parse error, and evaluation.
#include "ics/restriction.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ics/testkit/random.h"

namespace ics {
namespace {

constexpr PropTag kInt16{0x66000002};
constexpr PropTag kInt32 = tags::kImportance;  // 0x00170003
constexpr PropTag kInt64{0x66010014};
constexpr PropTag kBool{0x6602000B};
constexpr PropTag kTime = tags::kMessageDeliveryTime;  // 0x0E060040
constexpr PropTag kString = tags::kSubject;

Restriction round_trip(const Restriction& r) {
  auto parsed = Restriction::parse(r.serialize());
  EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
  return parsed.ok() ? *parsed : Restriction{};
}

TEST(Restriction, PropertyRestrictionEncodingIsTheRopOne) {
  // RestrictType, RelOp, PropTag, TaggedValue (PropTag again, then the value in its ROP size).
  EXPECT_EQ(to_hex(Restriction::compare(relop::kEqual, kInt32, 2).serialize()),
            "0404030017000300170002000000");
  EXPECT_EQ(to_hex(Restriction::compare(relop::kLessThan, kBool, 1).serialize()),
            "04000b0002660b00026601");
  EXPECT_EQ(to_hex(Restriction::exist(kString).serialize()), "081f003700");
  EXPECT_EQ(to_hex(Restriction::all_of({}).serialize()), "000000");
}

TEST(Restriction, EveryShapeRoundTrips) {
  const std::vector<Restriction> shapes = {
      Restriction::compare(relop::kNotEqual, kInt16, 0xFFFF),
      Restriction::compare(relop::kGreaterThanOrEqual, kInt32, 0x80000000),
      Restriction::compare(relop::kLessThanOrEqual, kInt64, 0x8000000000000001ull),
      Restriction::compare(relop::kEqual, kBool, 1),
      Restriction::compare(relop::kGreaterThan, kTime, 0x01D9000000000000ull),
      Restriction::exist(kString),
      Restriction::negate(Restriction::exist(kInt16)),
      Restriction::all_of({}),
      Restriction::any_of({}),
      Restriction::all_of({Restriction::any_of({Restriction::exist(kInt32),
                                                Restriction::negate(Restriction::exist(kBool))}),
                           Restriction::compare(relop::kEqual, kInt32, 2)}),
  };
  for (const Restriction& r : shapes) {
    SCOPED_TRACE(to_hex(r.serialize()));
    EXPECT_EQ(round_trip(r), r);
  }
  EXPECT_EQ(shapes.back().node_count(), 6u);
}

Restriction random_restriction(testkit::Rng& rng, int depth) {
  static const PropTag kTags[] = {tags::kImportance, PropTag(0x7F010014), PropTag(0x7F02000B),
                                  tags::kMessageDeliveryTime, PropTag(0x7F080002)};
  const std::uint64_t kind = depth >= 4 ? 3 + rng.below(2) : rng.below(5);
  if (kind <= 1) {
    std::vector<Restriction> children(rng.below(4));
    for (auto& c : children) c = random_restriction(rng, depth + 1);
    return kind == 0 ? Restriction::all_of(std::move(children)) : Restriction::any_of(std::move(children));
  }
  if (kind == 2) return Restriction::negate(random_restriction(rng, depth + 1));
  const PropTag tag = kTags[rng.below(5)];
  if (kind == 3) return Restriction::exist(tag);
  std::uint64_t v = rng.next();
  if (tag.type() == ptyp::kBoolean) v &= 1;
  if (tag.type() == ptyp::kInteger32) v &= 0xFFFFFFFF;
  if (tag.type() == ptyp::kInteger16) v &= 0xFFFF;
  return Restriction::compare(static_cast<std::uint8_t>(rng.below(6)), tag, v);
}

TEST(Restriction, RoundTripsAndEveryProperPrefixIsAFormatError) {
  testkit::Rng rng(42);
  for (int i = 0; i < 200; ++i) {
    Restriction r = random_restriction(rng, 0);
    Bytes b = r.serialize();
    auto back = Restriction::parse(b);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, r);
    for (std::size_t n = 0; n < b.size(); ++n) {
      EXPECT_EQ(Restriction::parse(ByteView(b).first(n)).code(), ErrorCode::FormatError) << n;
    }
    Bytes longer = b;
    longer.push_back(0);
    EXPECT_EQ(Restriction::parse(longer).code(), ErrorCode::FormatError);
  }
}

TEST(Restriction, EvaluatesIntegersWithTheirSignednessAndMissingPropertiesMatchNothing) {
  PropertyBag bag;
  bag.set(PropValue::integer(tags::kImportance, 0xFFFFFFFF));  // Int32 -1
  bag.set(PropValue::integer(tags::kMessageDeliveryTime, 0x8000000000000000ull));  // Time: unsigned
  bag.set(PropValue::integer(PropTag(0x7F02000B), 1));
  using R = Restriction;
  EXPECT_TRUE(R::compare(relop::kLessThan, tags::kImportance, 0).matches(bag));
  EXPECT_FALSE(R::compare(relop::kGreaterThan, tags::kImportance, 0).matches(bag));
  EXPECT_TRUE(R::compare(relop::kEqual, tags::kImportance, 0xFFFFFFFF).matches(bag));
  EXPECT_TRUE(R::compare(relop::kGreaterThan, tags::kMessageDeliveryTime, 1).matches(bag));
  EXPECT_TRUE(R::compare(relop::kGreaterThanOrEqual, tags::kMessageDeliveryTime, 0x8000000000000000ull).matches(bag));
  EXPECT_FALSE(R::compare(relop::kLessThanOrEqual, tags::kMessageDeliveryTime, 5).matches(bag));
  EXPECT_TRUE(R::compare(relop::kEqual, PropTag(0x7F02000B), 1).matches(bag));
  EXPECT_TRUE(R::compare(relop::kNotEqual, PropTag(0x7F02000B), 0).matches(bag));
  // Missing: no RelOp matches, NE included.
  EXPECT_FALSE(R::compare(relop::kNotEqual, PropTag(0x7F010014), 3).matches(bag));
  EXPECT_FALSE(R::compare(relop::kEqual, PropTag(0x7F010014), 3).matches(bag));
  EXPECT_TRUE(R::exist(tags::kImportance).matches(bag));
  EXPECT_FALSE(R::exist(PropTag(0x00170014)).matches(bag));  // same id, other type
  EXPECT_TRUE(R::negate(R::exist(tags::kSubject)).matches(bag));
  EXPECT_TRUE(R::all_of({}).matches(bag));
  EXPECT_FALSE(R::any_of({}).matches(bag));
  EXPECT_TRUE(R::any_of({R::exist(tags::kSubject), R::exist(tags::kImportance)}).matches(bag));
  EXPECT_FALSE(R::all_of({R::exist(tags::kSubject), R::exist(tags::kImportance)}).matches(bag));
}

TEST(Restriction, UnsupportedAndMalformedInputsAreNamed) {
  auto code = [](Bytes b) { return Restriction::parse(b).code(); };
  // Known types outside the subset.
  for (std::uint8_t t : {0x03, 0x05, 0x06, 0x07, 0x09, 0x0A, 0x0B}) {
    EXPECT_EQ(code({t, 0, 0, 0, 0, 0, 0, 0, 0, 0}), ErrorCode::NotSupported) << int(t);
  }
  EXPECT_EQ(code({0x0C}), ErrorCode::FormatError);
  EXPECT_EQ(code({0xFF}), ErrorCode::FormatError);
  EXPECT_EQ(code({}), ErrorCode::FormatError);
  // PropertyRestriction: RelOp RE / MEMBER_OF_DL unsupported, 7 unknown.
  auto prop = [](std::uint8_t op, std::uint32_t tag, std::uint32_t value_tag, Bytes value) {
    Writer w;
    w.put_u8(0x04);
    w.put_u8(op);
    w.put_u32(tag);
    w.put_u32(value_tag);
    w.put_bytes(value);
    return w.take();
  };
  EXPECT_EQ(code(prop(0x06, 0x00170003, 0x00170003, {1, 0, 0, 0})), ErrorCode::NotSupported);
  EXPECT_EQ(code(prop(0x64, 0x00170003, 0x00170003, {1, 0, 0, 0})), ErrorCode::NotSupported);
  EXPECT_EQ(code(prop(0x07, 0x00170003, 0x00170003, {1, 0, 0, 0})), ErrorCode::FormatError);
  EXPECT_EQ(code(prop(0x04, 0x0037001F, 0x0037001F, {0, 0})), ErrorCode::NotSupported);
  EXPECT_EQ(code(prop(0x04, 0x00170003, 0x00180003, {1, 0, 0, 0})), ErrorCode::FormatError);
  EXPECT_EQ(code(prop(0x04, 0x7F02000B, 0x7F02000B, {2})), ErrorCode::FormatError);
  EXPECT_EQ(code(prop(0x04, 0x7F02000B, 0x7F02000B, {1})), ErrorCode::Success);
  EXPECT_EQ(code(prop(0x04, 0x00170003, 0x00170003, {1, 0, 0, 0})), ErrorCode::Success);
  // Nesting: kMaxRestrictionDepth levels are refused, one fewer is fine.
  auto nots = [](std::size_t n) {
    Writer w;
    for (std::size_t i = 0; i < n; ++i) w.put_u8(0x02);
    w.put_u8(0x08);
    w.put_u32(0x00170003);
    return w.take();
  };
  EXPECT_EQ(code(nots(kMaxRestrictionDepth - 1)), ErrorCode::Success);
  EXPECT_EQ(code(nots(kMaxRestrictionDepth)), ErrorCode::TooBig);
}

TEST(Restriction, TruncatedChildrenAreFormatErrors) {
  for (const char* hex : {"00", "000100", "0102000800170003", "02"}) {
    auto b = from_hex(hex);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(Restriction::parse(*b).code(), ErrorCode::FormatError) << hex;
  }
}

TEST(Restriction, NodeCountAndFootprintFollowTheTree) {
  const Restriction leaf = Restriction::exist(kInt32);
  EXPECT_EQ(leaf.node_count(), 1u);
  EXPECT_EQ(leaf.footprint(), 0u);
  const Restriction tree = Restriction::all_of({leaf, Restriction::negate(leaf)});
  EXPECT_EQ(tree.node_count(), 4u);
  EXPECT_GE(tree.footprint(), 3 * sizeof(Restriction));
}

TEST(Restriction, OnlyIntegerTypesMayBeCompared) {
  for (std::uint16_t t : {ptyp::kInteger16, ptyp::kInteger32, ptyp::kInteger64, ptyp::kBoolean,
                          ptyp::kTime}) {
    EXPECT_TRUE(restriction_value_type(t)) << t;
  }
  for (std::uint16_t t : {ptyp::kString, ptyp::kString8, ptyp::kBinary, ptyp::kGuid,
                          ptyp::kFloating64}) {
    EXPECT_FALSE(restriction_value_type(t)) << t;
  }
}

}  // namespace
}  // namespace ics
