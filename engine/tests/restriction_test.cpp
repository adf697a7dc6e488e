// Restriction (restriction.cpp): the RestrictionData subset of [MS-OXCDATA] 2.12 that
// RopSynchronizationConfigure carries: encoding, every parse error, and evaluation.
#include "ics/restriction.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ics {
namespace {

namespace rt = restrict_type;

constexpr PropTag kInt16{0x66000002};
constexpr PropTag kInt32 = tags::kImportance;  // 0x00170003
constexpr PropTag kInt64{0x66010014};
constexpr PropTag kBool{0x6602000B};
constexpr PropTag kTime = tags::kMessageDeliveryTime;  // 0x0E060040
constexpr PropTag kString = tags::kSubject;

PropertyBag bag(std::vector<PropValue> values) {
  PropertyBag b;
  for (PropValue& v : values) b.set(std::move(v));
  return b;
}

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

// The first bytes of each unsupported or unknown shape, and the code parse() must give.
struct BadInput {
  const char* what;
  const char* hex;
  ErrorCode code;
};

TEST(Restriction, ParseErrorsNameTheProblem) {
  const std::vector<BadInput> cases = {
      {"empty input", "", ErrorCode::FormatError},
      {"Content", "03", ErrorCode::NotSupported},
      {"CompareProperties", "05", ErrorCode::NotSupported},
      {"BitMask", "06", ErrorCode::NotSupported},
      {"Size", "07", ErrorCode::NotSupported},
      {"SubObject", "09", ErrorCode::NotSupported},
      {"Comment", "0a", ErrorCode::NotSupported},
      {"Count", "0b", ErrorCode::NotSupported},
      {"unknown type 0x0C", "0c", ErrorCode::FormatError},
      {"unknown type 0xFF", "ff", ErrorCode::FormatError},
      {"RelOp RE", "0406", ErrorCode::NotSupported},
      {"RelOp MEMBER_OF_DL", "0464", ErrorCode::NotSupported},
      {"unknown RelOp", "0407", ErrorCode::FormatError},
      {"string property", "04041f0037001f00370000000000", ErrorCode::NotSupported},
      {"TaggedValue tag differs", "040403001700030018000200000000", ErrorCode::FormatError},
      {"Boolean 2", "04040b0002660b00026602", ErrorCode::FormatError},
      {"trailing byte", "081f00370000", ErrorCode::FormatError},
      {"And without count", "00", ErrorCode::FormatError},
      {"And, count 1, no child", "000100", ErrorCode::FormatError},
      {"Not without child", "02", ErrorCode::FormatError},
  };
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.what);
    auto bytes = from_hex(c.hex);
    ASSERT_TRUE(bytes.ok());
    auto r = Restriction::parse(*bytes);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), c.code) << r.error().to_string();
  }
}

TEST(Restriction, EveryCutOfAValidEncodingIsAFormatError) {
  const Bytes whole =
      Restriction::all_of({Restriction::compare(relop::kEqual, kInt64, 5),
                           Restriction::negate(Restriction::exist(kInt16))})
          .serialize();
  for (std::size_t n = 0; n < whole.size(); ++n) {
    auto r = Restriction::parse(ByteView(whole.data(), n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.code(), ErrorCode::FormatError) << n;
  }
  EXPECT_TRUE(Restriction::parse(whole).ok());
}

TEST(Restriction, NestingIsBoundedByMaxDepth) {
  auto nested = [](std::size_t depth) {
    Restriction r = Restriction::exist(kInt32);
    for (std::size_t i = 0; i < depth; ++i) r = Restriction::negate(std::move(r));
    return r.serialize();
  };
  EXPECT_TRUE(Restriction::parse(nested(kMaxRestrictionDepth - 1)).ok());
  auto deep = Restriction::parse(nested(kMaxRestrictionDepth));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.code(), ErrorCode::TooBig);
}

TEST(Restriction, MissingPropertySatisfiesNoComparisonNotEvenNotEqual) {
  const PropertyBag empty;
  for (std::uint8_t op = relop::kLessThan; op <= relop::kNotEqual; ++op) {
    EXPECT_FALSE(Restriction::compare(op, kInt32, 1).matches(empty)) << int(op);
  }
  EXPECT_FALSE(Restriction::exist(kInt32).matches(empty));
  EXPECT_TRUE(Restriction::negate(Restriction::exist(kInt32)).matches(empty));
  // A property of the same id but another type is another property.
  const PropertyBag other_type = bag({PropValue::integer(PropTag(0x00170014), 1)});
  EXPECT_FALSE(Restriction::compare(relop::kEqual, kInt32, 1).matches(other_type));
}

TEST(Restriction, AndOfNothingIsTrueOrOfNothingIsFalse) {
  const PropertyBag any = bag({PropValue::integer(kInt32, 1)});
  EXPECT_TRUE(Restriction::all_of({}).matches(any));
  EXPECT_FALSE(Restriction::any_of({}).matches(any));
  const Restriction yes = Restriction::exist(kInt32), no = Restriction::exist(kInt64);
  EXPECT_FALSE(Restriction::all_of({yes, no}).matches(any));
  EXPECT_TRUE(Restriction::any_of({no, yes}).matches(any));
}

TEST(Restriction, IntegersCompareSignedTimesUnsigned) {
  // Int16 0xFFFF is -1, below 1; Int32 0x80000000 is the most negative.
  const PropertyBag b = bag({PropValue::integer(kInt16, 0xFFFF), PropValue::integer(kInt32, 0x80000000),
                             PropValue::integer(kInt64, ~0ull), PropValue::integer(kTime, ~0ull),
                             PropValue::integer(kBool, 1)});
  EXPECT_TRUE(Restriction::compare(relop::kLessThan, kInt16, 1).matches(b));
  EXPECT_TRUE(Restriction::compare(relop::kLessThan, kInt32, 0).matches(b));
  EXPECT_TRUE(Restriction::compare(relop::kLessThan, kInt64, 0).matches(b));
  EXPECT_FALSE(Restriction::compare(relop::kLessThan, kTime, 0).matches(b));
  EXPECT_TRUE(Restriction::compare(relop::kGreaterThan, kTime, 0).matches(b));
  EXPECT_TRUE(Restriction::compare(relop::kEqual, kBool, 1).matches(b));
  EXPECT_TRUE(Restriction::compare(relop::kGreaterThanOrEqual, kInt16, 0xFFFF).matches(b));
  EXPECT_TRUE(Restriction::compare(relop::kLessThanOrEqual, kInt16, 0xFFFF).matches(b));
  EXPECT_FALSE(Restriction::compare(relop::kNotEqual, kInt16, 0xFFFF).matches(b));
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
