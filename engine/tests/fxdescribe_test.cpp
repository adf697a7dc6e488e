// describe() (fxdescribe.cpp): one line per FastTransfer element, as icsctl fx dump prints it.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fx_events.h"
#include "ics/fxstream.h"

namespace ics {
namespace {

using fx_events::marker;
using fx_events::named;
using fx_events::prop;
using fx_events::utf16;
Bytes utf16_units(std::initializer_list<std::uint16_t> units) {
  Bytes b;
  for (std::uint16_t u : units) {
    b.push_back(static_cast<std::uint8_t>(u));
    b.push_back(static_cast<std::uint8_t>(u >> 8));
  }
  return b;
}


TEST(FxDescribe, Markers) {
  for (std::uint32_t tag : markers::kAll) EXPECT_EQ(describe(marker(tag)), marker_name(tag));
}

TEST(FxDescribe, Properties) {
  EXPECT_EQ(describe(prop(0x0E080003, std::uint64_t{1234})),
            "0x0E080003 PidTagMessageSize Integer32 = 1234 (0x4d2)");
  EXPECT_EQ(describe(prop(0x0037001F, utf16("Hi \"you\""))),
            "0x0037001F PidTagSubject String = \"Hi \\\"you\\\"\"");
  EXPECT_EQ(describe(prop(0x0037001E, Bytes{'o', 'k'})),
            "0x0037001E PidTagSubject String8 = \"ok\" (no terminator)");
  EXPECT_EQ(describe(prop(0x67AA000B, std::uint64_t{1})),
            "0x67AA000B PidTagAssociated Boolean = true");
  EXPECT_EQ(describe(prop(0x67AA000B, std::uint64_t{256})),
            "0x67AA000B PidTagAssociated Boolean = 256 (0x100) (Boolean not 0/1)");
  EXPECT_EQ(describe(prop(0x65E10102, Bytes{})), "0x65E10102 PidTagParentSourceKey Binary = [0]");
  EXPECT_EQ(describe(prop(0x65E00102, Bytes{0xAB, 0x01})),
            "0x65E00102 PidTagSourceKey Binary = [2] ab01");
  EXPECT_EQ(describe(prop(0x40170003, Bytes{1})), "0x40170003 MetaTagIdsetGiven Binary = [1] 01");
  // 1970-01-01 and 2000-01-01 as FILETIMEs (100 ns ticks since 1601).
  EXPECT_EQ(describe(prop(0x30080040, std::uint64_t{116444736000000000})),
            "0x30080040 PidTagLastModificationTime Time = 116444736000000000 "
            "(1970-01-01T00:00:00Z)");
  EXPECT_NE(describe(prop(0x30080040, std::uint64_t{125911584000000000 + 36610000000}))
                .find("(2000-01-01T01:01:01Z)"),
            std::string::npos);
  EXPECT_EQ(describe(prop(0x00010005, std::uint64_t{0x3FF8000000000000})),
            "0x00010005 Floating64 = 1.5");
  EXPECT_EQ(describe(prop(0x00011003, std::vector<std::uint64_t>{1, 2})),
            "0x00011003 MultipleInteger32 = [2] 1 (0x1), 2 (0x2)");
  EXPECT_EQ(describe(named(0x80010003, NamedProp{Guid{}, 1, 0, u"Kw"}, std::uint64_t{3})),
            "0x80010003 named(00000000-0000-0000-0000-000000000000 name \"Kw\") Integer32 = "
            "3 (0x3)");
}

TEST(FxDescribe, LongAndUnprintableValuesAreTruncated) {
  std::string line = describe(prop(0x10000102, Bytes(1000, 0xCD)));
  EXPECT_NE(line.find("[1000] cdcd"), std::string::npos);
  EXPECT_NE(line.find("..."), std::string::npos);
  EXPECT_LT(line.size(), 120u);
  line = describe(prop(tags::kBody.value, utf16(std::string(500, 'z'))));
  EXPECT_NE(line.find("(500 chars)"), std::string::npos);
  EXPECT_LT(line.size(), 160u);
  line = describe(prop(tags::kBody.value, Bytes{1, 0, 0, 0}));
  EXPECT_NE(line.find("(not printable)"), std::string::npos);
  line = describe(prop(0x00011102, std::vector<Bytes>(20, Bytes{1})));
  EXPECT_NE(line.find("[20]"), std::string::npos);
  EXPECT_NE(line.find(", ..."), std::string::npos);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(FxDescribe, UnknownMarkerLikeTagsAndUnknownPropertiesKeepTheirHex) {
  EXPECT_EQ(describe(marker(0x12345678)), "0x12345678 (not a marker)");
  // No well-known name: tag, type, value.
  EXPECT_EQ(describe(prop(0x7F7F0003, std::uint64_t{7})), "0x7F7F0003 Integer32 = 7 (0x7)");
}

TEST(FxDescribe, Utf16SurrogatesAndTerminators) {
  // U+1F600 as a surrogate pair, then the terminator: decoded as UTF-8, no note.
  EXPECT_EQ(describe(prop(tags::kSubject.value, utf16_units({'a', 0xD83D, 0xDE00, 0}))),
            "0x0037001F PidTagSubject String = \"a\xF0\x9F\x98\x80\"");
  // A lone low surrogate, a high one without its pair, an odd byte count: shown as hex.
  for (const Bytes& b : {utf16_units({0xDE00, 0}), utf16_units({0xD83D, 'x', 0}), Bytes{'a', 0, 'b'}}) {
    const std::string line = describe(prop(tags::kSubject.value, b));
    EXPECT_NE(line.find("(not printable)"), std::string::npos) << line;
  }
  // Tabs and quotes are escaped so that the line stays one line.
  EXPECT_EQ(describe(prop(tags::kSubject.value, utf16("a\tb\n"))),
            "0x0037001F PidTagSubject String = \"a\\tb\\n\"");
}

TEST(FxDescribe, EightBitStringsArePrintableAsciiOnly) {
  EXPECT_EQ(describe(prop(0x0037001E, Bytes{'o', 'k', 0})), "0x0037001E PidTagSubject String8 = \"ok\"");
  const std::string line = describe(prop(0x0037001E, Bytes{'o', 0xE9, 0}));
  EXPECT_NE(line.find("(not printable)"), std::string::npos) << line;
}

TEST(FxDescribe, TimesBeforeTheEpochAndGuids) {
  // 1601-01-01, the FILETIME epoch, and 1969-12-31T23:59:59Z (a day before 1970 in the
  // era-based date arithmetic).
  EXPECT_NE(describe(prop(0x30080040, std::uint64_t{0})).find("(1601-01-01T00:00:00Z)"),
            std::string::npos);
  EXPECT_NE(describe(prop(0x30080040, std::uint64_t{116444736000000000 - 10000000}))
                .find("(1969-12-31T23:59:59Z)"),
            std::string::npos);
  const Guid g = Guid::from_seed(9);
  EXPECT_EQ(describe(prop(0x7F070048, g)), "0x7F070048 Guid = " + g.to_string());
  EXPECT_EQ(describe(prop(0x7F071048, std::vector<Guid>{g, g})),
            "0x7F071048 MultipleGuid = [2] " + g.to_string() + ", " + g.to_string());
}

TEST(FxDescribe, NamedPropertiesByLid) {
  EXPECT_EQ(describe(named(0x80010003, NamedProp{Guid{}, 0, 0x8233, u""}, std::uint64_t{1})),
            "0x80010003 named(00000000-0000-0000-0000-000000000000 lid 0x00008233) Integer32 = "
            "1 (0x1)");
}

}  // namespace
}  // namespace ics
