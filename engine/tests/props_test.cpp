#include "ics/props.h"

#include <gtest/gtest.h>

#include <random>
#include <map>

namespace ics {
namespace {

// Sizes from [MS-OXCFXICS] 2.2.4.1.3 / digest 3.1 (Boolean is 2 bytes in a stream).
TEST(Props, FixedSizesFromTheSpec) {
  EXPECT_EQ(fixed_size(0x0002), 2u);
  EXPECT_EQ(fixed_size(0x0003), 4u);
  EXPECT_EQ(fixed_size(0x0004), 4u);
  EXPECT_EQ(fixed_size(0x0005), 8u);
  EXPECT_EQ(fixed_size(0x0006), 8u);
  EXPECT_EQ(fixed_size(0x0007), 8u);
  EXPECT_EQ(fixed_size(0x000A), 4u);
  EXPECT_EQ(fixed_size(0x000B), 2u);
  EXPECT_EQ(fixed_size(0x0014), 8u);
  EXPECT_EQ(fixed_size(0x0040), 8u);
  EXPECT_EQ(fixed_size(0x0048), 16u);
  for (std::uint16_t t : {0x0000, 0x0001, 0x000D, 0x001E, 0x001F, 0x00FB, 0x0102, 0x1003, 0x84B0}) {
    EXPECT_EQ(fixed_size(t), 0u) << t;
  }
}

TEST(Props, TypeClasses) {
  for (std::uint16_t t : {0x001E, 0x001F, 0x0102, 0x00FB, 0x000D, 0x84B0, 0x84E4, 0x8000}) {
    EXPECT_TRUE(is_variable_type(t)) << t;
    EXPECT_FALSE(is_multi_type(t)) << t;
    EXPECT_TRUE(is_stream_type(t)) << t;
  }
  for (std::uint16_t t : {0x1002, 0x1003, 0x1014, 0x1040, 0x1048, 0x101E, 0x101F, 0x1102}) {
    EXPECT_TRUE(is_multi_type(t)) << t;
    EXPECT_FALSE(is_variable_type(t)) << t;
    EXPECT_TRUE(is_stream_type(t)) << t;
  }
  for (std::uint16_t t : {0x0000, 0x0001, 0x0008, 0x0049, 0x1000, 0x1001, 0x2003, 0x3003}) {
    EXPECT_FALSE(is_stream_type(t)) << t;
  }
}

// is_stream_type agrees with the three class predicates over all 65536 types,
// and the classes are disjoint.
TEST(Props, StreamTypeIsTheUnionOfDisjointClasses) {
  for (std::uint32_t t = 0; t <= 0xFFFF; ++t) {
    auto type = static_cast<std::uint16_t>(t);
    int classes = (fixed_size(type) != 0) + is_variable_type(type) + is_multi_type(type);
    EXPECT_LE(classes, 1) << t;
    EXPECT_EQ(is_stream_type(type), classes == 1) << t;
  }
}

TEST(Props, TypeNames) {
  EXPECT_EQ(type_name(0x0003), "Integer32");
  EXPECT_EQ(type_name(0x000B), "Boolean");
  EXPECT_EQ(type_name(0x0102), "Binary");
  EXPECT_EQ(type_name(0x101F), "MultipleString");
  EXPECT_EQ(type_name(0x1048), "MultipleGuid");
  EXPECT_EQ(type_name(0x84B0), "String(cp1200)");
  EXPECT_EQ(type_name(0x84E4), "String8(cp1252)");
  EXPECT_EQ(type_name(0x0001), "0x0001(unknown)");
  EXPECT_EQ(type_name(0x1001), "0x1001(unknown)");
}

TEST(Props, TagNames) {
  EXPECT_EQ(tag_name(tags::kSourceKey), "PidTagSourceKey");
  EXPECT_EQ(tag_name(tags::kMetaTagCnsetSeen), "MetaTagCnsetSeen");
  EXPECT_EQ(tag_name(PropTag(0x40170003)), "MetaTagIdsetGiven");
  EXPECT_EQ(tag_name(PropTag(0x40170102)), "MetaTagIdsetGiven");
  EXPECT_EQ(tag_name(PropTag(0x0037001E)), "PidTagSubject");  // by id, String8 form
  EXPECT_EQ(tag_name(PropTag(0x12340003)), "");
  EXPECT_EQ(tag_name(PropTag(0x8001001F)), "");  // named ids are placeholders
}

TEST(Props, TagParts) {
  PropTag t(0x65E00102);
  EXPECT_EQ(t.id(), 0x65E0);
  EXPECT_EQ(t.type(), 0x0102);
  EXPECT_FALSE(t.is_named());
  EXPECT_TRUE(PropTag(0x8000, 0x0003).is_named());
  EXPECT_EQ(PropTag(0x8000, 0x0003).value, 0x80000003u);
}

TEST(Props, UnicodeValueHasTerminator) {
  PropValue v = PropValue::unicode(tags::kSubject, "Hi");
  EXPECT_EQ(*v.as_bytes(), (Bytes{'H', 0, 'i', 0, 0, 0}));
  EXPECT_EQ(v.as_integer(), nullptr);
  EXPECT_EQ(v.as_guid(), nullptr);
}

// PropertyBag against std::map over random operations.
TEST(PropertyBag, MatchesMapModel) {
  std::mt19937_64 rng(7);
  PropertyBag bag;
  std::map<std::uint32_t, std::uint64_t> model;
  for (int i = 0; i < 5000; ++i) {
    PropTag tag(static_cast<std::uint16_t>(rng() % 16), ptyp::kInteger32);
    switch (rng() % 3) {
      case 0: {
        std::uint64_t v = rng() % 1000;
        bag.set(PropValue::integer(tag, v));
        model[tag.value] = v;
        break;
      }
      case 1:
        EXPECT_EQ(bag.erase(tag), model.erase(tag.value) == 1);
        break;
      default: {
        const PropValue* p = bag.get(tag);
        auto it = model.find(tag.value);
        ASSERT_EQ(p != nullptr, it != model.end());
        if (p != nullptr) { EXPECT_EQ(*p->as_integer(), it->second); }
      }
    }
    ASSERT_EQ(bag.size(), model.size());
  }
  auto it = model.begin();
  for (const auto& v : bag.values()) EXPECT_EQ(v.tag.value, (it++)->first);
  EXPECT_GT(bag.footprint(), sizeof(PropertyBag));
}

TEST(PropValue, FootprintCountsHeapBytes) {
  PropValue small = PropValue::binary(tags::kSourceKey, Bytes(1));
  PropValue big = PropValue::binary(tags::kSourceKey, Bytes(1000));
  EXPECT_GE(big.footprint(), small.footprint() + 999);
}

}  // namespace
}  // namespace ics
