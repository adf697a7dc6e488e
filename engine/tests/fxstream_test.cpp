#include "ics/fxstream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "fx_events.h"

namespace ics {
namespace {

// ---------------------------------------------------------------------------
// Helpers

// Hand-built little-endian bytes, independent of FxWriter.
struct B {
  Bytes b;
  B& u8(std::uint8_t v) { b.push_back(v); return *this; }
  B& u16(std::uint16_t v) { return u8(v & 0xFF).u8(v >> 8); }
  B& u32(std::uint32_t v) { return u16(v & 0xFFFF).u16(v >> 16); }
  B& u64(std::uint64_t v) { return u32(static_cast<std::uint32_t>(v)).u32(v >> 32); }
  B& raw(const Bytes& x) { b.insert(b.end(), x.begin(), x.end()); return *this; }
  B& guid(const Guid& g) { return raw(Bytes(g.bytes.begin(), g.bytes.end())); }
  B& zeros(std::size_t n) { b.insert(b.end(), n, 0); return *this; }
};

// Everything a parse produced: its events and its error (code + offset).
struct Outcome {
  std::vector<FxEvent> events;
  ErrorCode code = ErrorCode::Success;
  std::size_t offset = kNoOffset;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << o.events.size() << " events, " << name(o.code) << " at " << o.offset;
  return os;
}

// Feeds `stream` in chunks of the given sizes (0 allowed; the rest in one last
// chunk), keeps feeding after an error to check it sticks, then finish().
Outcome run(ByteView stream, const std::vector<std::size_t>& sizes,
            FxParser::Options options = FxParser::Options{}) {
  FxParser p(options);
  Outcome out;
  out.events.reserve(256);
  std::optional<Error> first;
  std::size_t pos = 0;
  auto feed = [&](std::size_t n) {
    Status s = p.feed(stream.subspan(pos, n));
    pos += n;
    for (auto& e : p.events()) out.events.push_back(std::move(e));
    p.events().clear();
    if (!s.ok() && !first) first = s.error();
    if (first) {
      EXPECT_FALSE(s.ok());
      EXPECT_EQ(s.error().code(), first->code());
      EXPECT_EQ(s.error().offset(), first->offset());
    }
  };
  for (std::size_t n : sizes) feed(std::min(n, stream.size() - pos));
  feed(stream.size() - pos);
  Status fin = p.finish();
  if (!fin.ok() && !first) first = fin.error();
  if (first) {
    EXPECT_FALSE(fin.ok());
    EXPECT_EQ(fin.error().offset(), first->offset());
    EXPECT_TRUE(p.take_events().empty());
    out.code = first->code();
    out.offset = first->offset();
  }
  return out;
}

Outcome run_whole(ByteView stream, FxParser::Options options = FxParser::Options{}) {
  return run(stream, {}, options);
}

std::vector<std::size_t> ones(std::size_t n) { return std::vector<std::size_t>(n, 1); }

// Random chunk sizes: many tiny and empty chunks, some large.
std::vector<std::size_t> random_sizes(std::size_t total, std::mt19937_64& rng) {
  std::vector<std::size_t> sizes;
  std::size_t sum = 0;
  while (sum < total) {
    std::size_t n = 0;
    switch (rng() % 4) {
      case 0: n = 0; break;
      case 1: n = rng() % 4; break;
      case 2: n = rng() % 40; break;
      default: n = rng() % 400; break;
    }
    sizes.push_back(n);
    sum += n;
  }
  return sizes;
}

using fx_events::marker;
using fx_events::named;
using fx_events::prop;
using fx_events::utf16;
Bytes str8(std::string_view s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  return b;
}
Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

Bytes write_all(const std::vector<FxEvent>& events) {
  auto r = write_fx(events);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : Bytes{};
}

// Offsets where each element starts, plus the stream size.
std::vector<std::size_t> boundaries(const std::vector<FxEvent>& events) {
  std::vector<std::size_t> out{0};
  FxWriter w;
  for (const auto& e : events) {
    EXPECT_TRUE(w.event(e).ok());
    out.push_back(w.size());
  }
  return out;
}

void expect_single(const Bytes& stream, const FxEvent& expected) {
  Outcome o = run_whole(stream);
  ASSERT_EQ(o.code, ErrorCode::Success) << o;
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0], expected) << describe(o.events[0]);
  EXPECT_EQ(run(stream, ones(stream.size())), o);
  // The writer produces exactly the hand-built bytes.
  FxWriter w;
  ASSERT_TRUE(w.event(expected).ok());
  EXPECT_EQ(w.bytes(), stream);
}

void expect_error(const Bytes& stream, ErrorCode code, std::size_t offset,
                  FxParser::Options options = FxParser::Options{}) {
  Outcome o = run_whole(stream, options);
  EXPECT_EQ(o.code, code) << o;
  EXPECT_EQ(o.offset, offset) << o;
  EXPECT_EQ(run(stream, ones(stream.size()), options), o);
}

const Guid kSet = Guid::from_seed(42);
const Guid kReplGuid = Guid::from_seed(1);

// ---------------------------------------------------------------------------
// Markers ([MS-OXCFXICS] 2.2.4.1.4)

TEST(FxMarkers, TableFromTheSpec) {
  const std::pair<std::uint32_t, std::string_view> expected[] = {
      {0x40090003, "StartTopFld"},     {0x400A0003, "StartSubFld"},
      {0x400B0003, "EndFolder"},       {0x400C0003, "StartMessage"},
      {0x40100003, "StartFAIMsg"},     {0x400D0003, "EndMessage"},
      {0x40010003, "StartEmbed"},      {0x40020003, "EndEmbed"},
      {0x40030003, "StartRecip"},      {0x40040003, "EndToRecip"},
      {0x40000003, "NewAttach"},       {0x400E0003, "EndAttach"},
      {0x40120003, "IncrSyncChg"},     {0x407D0003, "IncrSyncChgPartial"},
      {0x40130003, "IncrSyncDel"},     {0x40140003, "IncrSyncEnd"},
      {0x402F0003, "IncrSyncRead"},    {0x403A0003, "IncrSyncStateBegin"},
      {0x403B0003, "IncrSyncStateEnd"}, {0x4074000B, "IncrSyncProgressMode"},
      {0x4075000B, "IncrSyncProgressPerMsg"}, {0x40150003, "IncrSyncMessage"},
      {0x407B0102, "IncrSyncGroupInfo"}, {0x40180003, "FXErrorInfo"},
  };
  std::set<std::uint32_t> all(std::begin(markers::kAll), std::end(markers::kAll));
  EXPECT_EQ(all.size(), std::size(expected));
  for (const auto& [tag, nm] : expected) {
    EXPECT_TRUE(is_marker(tag)) << std::hex << tag;
    EXPECT_EQ(marker_name(tag), nm);
    EXPECT_EQ(all.count(tag), 1u) << std::hex << tag;
  }
  EXPECT_TRUE(std::is_sorted(std::begin(markers::kAll), std::end(markers::kAll)));
}

// Matching is on the whole tag: the same ids with other type bits are properties.
TEST(FxMarkers, WholeTagOnly) {
  for (std::uint32_t tag : {0x40090102u, 0x40740003u, 0x4075000Bu + 1, 0x407B0003u, 0x40170003u,
                            0x40160003u, 0x00000003u, 0x4014001Fu}) {
    EXPECT_FALSE(is_marker(tag)) << std::hex << tag;
    EXPECT_EQ(marker_name(tag), "");
  }
  std::size_t count = 0;
  for (std::uint32_t id = 0x4000; id < 0x4080; ++id) {
    for (std::uint32_t type : {0x0003u, 0x000Bu, 0x0102u, 0x0014u}) {
      count += is_marker(id << 16 | type);
    }
  }
  EXPECT_EQ(count, std::size(markers::kAll));
}

TEST(FxMarkers, EachParsesAsFourBytesWithNoValue) {
  for (std::uint32_t tag : markers::kAll) {
    expect_single(B().u32(tag).b, marker(tag));
  }
}

// The three markers with non-Int32 type bits are not followed by a value:
// a Boolean-typed or Binary-typed reading would swallow the next tag.
TEST(FxMarkers, OddTypeBitsCarryNoValue) {
  for (std::uint32_t tag : {markers::kIncrSyncProgressMode, markers::kIncrSyncProgressPerMsg,
                            markers::kIncrSyncGroupInfo}) {
    Bytes s = B().u32(tag).u32(markers::kIncrSyncEnd).b;
    Outcome o = run_whole(s);
    ASSERT_EQ(o.code, ErrorCode::Success) << o;
    EXPECT_EQ(o.events, (std::vector<FxEvent>{marker(tag), marker(markers::kIncrSyncEnd)}));
  }
  // The same id with Int32 bits is a property with a 4-byte value.
  Bytes s = B().u32(0x40740003).u32(7).b;
  expect_single(s, prop(0x40740003, std::uint64_t{7}));
}

// ---------------------------------------------------------------------------
// Values of every type ([MS-OXCFXICS] 2.2.4.1.3)

TEST(FxValues, FixedSizeScalars) {
  expect_single(B().u32(0x00010002).u16(0xBEEF).b, prop(0x00010002, std::uint64_t{0xBEEF}));
  expect_single(B().u32(0x0E080003).u32(0x12345678).b, prop(0x0E080003, std::uint64_t{0x12345678}));
  expect_single(B().u32(0x00020004).u32(0x3F800000).b, prop(0x00020004, std::uint64_t{0x3F800000}));
  expect_single(B().u32(0x00030005).u64(0x400921FB54442D18).b,
                prop(0x00030005, std::uint64_t{0x400921FB54442D18}));
  expect_single(B().u32(0x00040006).u64(123456789012).b, prop(0x00040006, std::uint64_t{123456789012}));
  expect_single(B().u32(0x00050007).u64(0x40E5F48000000000).b,
                prop(0x00050007, std::uint64_t{0x40E5F48000000000}));
  expect_single(B().u32(0x0006000A).u32(0x80004005).b, prop(0x0006000A, std::uint64_t{0x80004005}));
  expect_single(B().u32(0x674A0014).u64(0x0500000000000001).b,
                prop(0x674A0014, std::uint64_t{0x0500000000000001}));
  expect_single(B().u32(0x30080040).u64(0x01D8F0E2A0B3C000).b,
                prop(0x30080040, std::uint64_t{0x01D8F0E2A0B3C000}));
  expect_single(B().u32(0x00070048).guid(kSet).b, prop(0x00070048, kSet));
}

// PtypBoolean is 2 bytes in a stream: "01 00" TRUE, "00 00" FALSE.
TEST(FxValues, BooleanIsTwoBytes) {
  expect_single(B().u32(0x67AA000B).u8(1).u8(0).b, prop(0x67AA000B, std::uint64_t{1}));
  expect_single(B().u32(0x67AA000B).u8(0).u8(0).b, prop(0x67AA000B, std::uint64_t{0}));
  // Other values are kept as the 16-bit integer they are (documented).
  expect_single(B().u32(0x67AA000B).u8(0).u8(1).b, prop(0x67AA000B, std::uint64_t{0x0100}));
  expect_single(B().u32(0x67AA000B).u16(0xFFFF).b, prop(0x67AA000B, std::uint64_t{0xFFFF}));
  // A Boolean followed by a marker: exactly two value bytes are consumed.
  Bytes s = B().u32(0x67AA000B).u16(1).u32(markers::kIncrSyncEnd).b;
  Outcome o = run_whole(s);
  EXPECT_EQ(o.events, (std::vector<FxEvent>{prop(0x67AA000B, std::uint64_t{1}),
                                            marker(markers::kIncrSyncEnd)}));
}

TEST(FxValues, VariableSize) {
  Bytes key = pattern(22, 3);
  expect_single(B().u32(0x65E00102).u32(22).raw(key).b, prop(0x65E00102, key));
  expect_single(B().u32(0x0037001F).u32(12).raw(utf16("Hello")).b,
                prop(0x0037001F, utf16("Hello")));
  expect_single(B().u32(0x0037001E).u32(6).raw(str8("Hello")).b, prop(0x0037001E, str8("Hello")));
  expect_single(B().u32(0x001000FB).u32(3).u8(1).u8(2).u8(3).b, prop(0x001000FB, Bytes{1, 2, 3}));
  expect_single(B().u32(0x3701000D).u32(2).u8(9).u8(8).b, prop(0x3701000D, Bytes{9, 8}));
}

// A zero-length binary (as PidTagParentSourceKey of a sync root) is accepted.
TEST(FxValues, ZeroLengthValues) {
  expect_single(B().u32(0x65E10102).u32(0).b, prop(0x65E10102, Bytes{}));
  expect_single(B().u32(0x0037001F).u32(0).b, prop(0x0037001F, Bytes{}));
  expect_single(B().u32(0x00081003).u32(0).b, prop(0x00081003, std::vector<std::uint64_t>{}));
  expect_single(B().u32(0x00081102).u32(0).b, prop(0x00081102, std::vector<Bytes>{}));
  expect_single(B().u32(0x00081048).u32(0).b, prop(0x00081048, std::vector<Guid>{}));
  // Followed by another element, the next tag is not read as value bytes.
  Bytes s = B().u32(0x65E10102).u32(0).u32(markers::kIncrSyncEnd).b;
  EXPECT_EQ(run_whole(s).events.size(), 2u);
}

// Code-page strings: 0x8000 | codepage, u32 length + bytes ([MS-OXCFXICS] 2.2.4.1.1.1).
TEST(FxValues, CodePageStrings) {
  expect_single(B().u32(0x003784B0).u32(6).raw(utf16("ab")).b, prop(0x003784B0, utf16("ab")));
  expect_single(B().u32(0x003784E4).u32(4).raw(str8("abc")).b, prop(0x003784E4, str8("abc")));
  expect_single(B().u32(0x0037803A).u32(1).u8(0).b, prop(0x0037803A, Bytes{0}));
}

TEST(FxValues, MultiValuedFixed) {
  expect_single(B().u32(0x00011002).u32(3).u16(1).u16(0xFFFF).u16(0).b,
                prop(0x00011002, std::vector<std::uint64_t>{1, 0xFFFF, 0}));
  expect_single(B().u32(0x00011003).u32(2).u32(7).u32(0xFFFFFFFF).b,
                prop(0x00011003, std::vector<std::uint64_t>{7, 0xFFFFFFFF}));
  expect_single(B().u32(0x00011004).u32(1).u32(0x3F800000).b,
                prop(0x00011004, std::vector<std::uint64_t>{0x3F800000}));
  expect_single(B().u32(0x00011005).u32(1).u64(5).b, prop(0x00011005, std::vector<std::uint64_t>{5}));
  expect_single(B().u32(0x00011006).u32(1).u64(6).b, prop(0x00011006, std::vector<std::uint64_t>{6}));
  expect_single(B().u32(0x00011007).u32(1).u64(7).b, prop(0x00011007, std::vector<std::uint64_t>{7}));
  expect_single(B().u32(0x00011014).u32(2).u64(1).u64(~0ull).b,
                prop(0x00011014, std::vector<std::uint64_t>{1, ~0ull}));
  expect_single(B().u32(0x00011040).u32(1).u64(0x01D8F0E2A0B3C000).b,
                prop(0x00011040, std::vector<std::uint64_t>{0x01D8F0E2A0B3C000}));
  expect_single(B().u32(0x00011048).u32(2).guid(kSet).guid(kReplGuid).b,
                prop(0x00011048, std::vector<Guid>{kSet, kReplGuid}));
}

TEST(FxValues, MultiValuedVariable) {
  expect_single(B().u32(0x0001101F).u32(2).u32(4).raw(utf16("a")).u32(0).b,
                prop(0x0001101F, std::vector<Bytes>{utf16("a"), Bytes{}}));
  expect_single(B().u32(0x0001101E).u32(1).u32(3).raw(str8("xy")).b,
                prop(0x0001101E, std::vector<Bytes>{str8("xy")}));
  expect_single(B().u32(0x00011102).u32(3).u32(1).u8(0xAA).u32(0).u32(2).u8(1).u8(2).b,
                prop(0x00011102, std::vector<Bytes>{{0xAA}, {}, {1, 2}}));
}

TEST(FxValues, NamedWithLid) {
  NamedProp n{kSet, 0, 0x8501, {}};
  Bytes s = B().u32(0x80010003).guid(kSet).u8(0).u32(0x8501).u32(15).b;
  expect_single(s, named(0x80010003, n, std::uint64_t{15}));
}

TEST(FxValues, NamedWithName) {
  NamedProp n{kSet, 1, 0, u"Keywords"};
  B b;
  b.u32(0x8002101F).guid(kSet).u8(1);
  for (char c : std::string("Keywords")) b.u16(static_cast<std::uint16_t>(c));
  b.u16(0).u32(1).u32(6).raw(utf16("ab"));
  expect_single(b.b, named(0x8002101F, n, std::vector<Bytes>{utf16("ab")}));
  // An empty name is just the terminator; non-ASCII UTF-16 units are kept.
  expect_single(B().u32(0xFFFF000B).guid(kSet).u8(1).u16(0).u16(1).b,
                named(0xFFFF000B, NamedProp{kSet, 1, 0, u""}, std::uint64_t{1}));
  expect_single(B().u32(0x80000048).guid(kSet).u8(1).u16(0x00E9).u16(0xD83D).u16(0).guid(kSet).b,
                named(0x80000048, NamedProp{kSet, 1, 0, u"\u00e9\xd83d"}, kSet));
}

// MetaTagIdsetGiven 0x40170003 carries a binary despite its Int32 type bits;
// 0x40170102 is an ordinary binary.
TEST(FxValues, IdsetGivenQuirk) {
  Bytes idset = B().guid(kReplGuid).u8(0x52).u32(0).u16(1).u32(0).u16(9).u8(0).b;
  expect_single(B().u32(0x40170003).u32(static_cast<std::uint32_t>(idset.size())).raw(idset).b,
                prop(0x40170003, idset));
  expect_single(B().u32(0x40170102).u32(static_cast<std::uint32_t>(idset.size())).raw(idset).b,
                prop(0x40170102, idset));
  expect_single(B().u32(0x40170003).u32(0).b, prop(0x40170003, Bytes{}));
  // Other Int32 meta-properties keep their 4-byte value.
  expect_single(B().u32(0x40160003).u32(0).b, prop(0x40160003, std::uint64_t{0}));
  // The writer refuses an integer for it (the parser could never produce one).
  FxWriter w;
  EXPECT_EQ(w.property(PropValue::integer(PropTag(0x40170003), 5)).code(),
            ErrorCode::InvalidParameter);
}

// Strings are raw bytes: a missing terminator (or an odd PtypString length) is
// accepted and kept, so the codec round-trips exactly (documented choice).
TEST(FxValues, UnterminatedStringsAreKept) {
  expect_single(B().u32(0x0037001F).u32(2).u8('A').u8(0).b, prop(0x0037001F, Bytes{'A', 0}));
  expect_single(B().u32(0x0037001F).u32(3).u8('A').u8(0).u8('B').b,
                prop(0x0037001F, Bytes{'A', 0, 'B'}));
  expect_single(B().u32(0x0037001E).u32(2).u8('A').u8('B').b, prop(0x0037001E, Bytes{'A', 'B'}));
  // Bytes after the terminator are not truncated either.
  expect_single(B().u32(0x0037001E).u32(3).u8('A').u8(0).u8('B').b,
                prop(0x0037001E, Bytes{'A', 0, 'B'}));
}

// ---------------------------------------------------------------------------
// Rejections

TEST(FxRejects, UnsupportedTypes) {
  for (std::uint16_t type : {0x0000, 0x0001, 0x0008, 0x0009, 0x000C, 0x000E, 0x0049, 0x00FC,
                             0x0103, 0x1000, 0x1001, 0x100C, 0x2003, 0x4003, 0x7FFF}) {
    Bytes s = B().u32(markers::kIncrSyncChg).u32(0x12340000u | type).u32(0).u32(0).b;
    expect_error(s, ErrorCode::FormatError, 4);
  }
  // Named ids are rejected on their type before the named info is read.
  expect_error(B().u32(0x80000001).b, ErrorCode::FormatError, 0);
}

TEST(FxRejects, NamedKindOtherThanLidOrName) {
  for (std::uint8_t kind : {2, 3, 0x80, 0xFF}) {
    Bytes s = B().u32(0x80010003).guid(kSet).u8(kind).u32(1).u32(1).b;
    expect_error(s, ErrorCode::FormatError, 20);
  }
}

TEST(FxRejects, TooBigDeclaredLength) {
  FxParser::Options small{64};
  // 4 (tag) + 4 (length) + 56 = 64 bytes fits exactly; 57 does not.
  Bytes fits = B().u32(0x00010102).u32(56).raw(pattern(56, 1)).b;
  EXPECT_EQ(run_whole(fits, small).code, ErrorCode::Success);
  expect_error(B().u32(0x00010102).u32(57).raw(pattern(57, 1)).b, ErrorCode::TooBig, 4, small);
  // Default limit (16 MiB): a declared 4 GiB binary fails at its length field.
  expect_error(B().u32(markers::kIncrSyncChg).u32(0x00010102).u32(0xFFFFFFFF).b,
               ErrorCode::TooBig, 8);
  expect_error(B().u32(0x40170003).u32(16u << 20).b, ErrorCode::TooBig, 4);
}

TEST(FxRejects, TooBigDeclaredCount) {
  FxParser::Options small{64};
  // 8 + 7 * 8 = 64 fits; a count of 8 needs at least 72 bytes.
  Bytes fits = B().u32(0x00011014).u32(7).zeros(56).b;
  EXPECT_EQ(run_whole(fits, small).code, ErrorCode::Success);
  expect_error(B().u32(0x00011014).u32(8).b, ErrorCode::TooBig, 4, small);
  // Variable items need at least their 4-byte length each.
  expect_error(B().u32(0x00011102).u32(15).b, ErrorCode::TooBig, 4, small);
  // A later item's length that overflows the element limit.
  expect_error(B().u32(0x00011102).u32(2).u32(40).zeros(40).u32(20).b, ErrorCode::TooBig, 52,
               small);
  expect_error(B().u32(0x00011048).u32(0xFFFFFFFF).b, ErrorCode::TooBig, 4);
}

TEST(FxRejects, TooBigName) {
  FxParser::Options small{40};
  // tag 4 + guid 16 + kind 1 = 21; 9 units = 39 bytes; the 10th unit makes 41.
  B b;
  b.u32(0x80010003).guid(kSet).u8(1);
  for (int i = 0; i < 12; ++i) b.u16('a');
  expect_error(b.b, ErrorCode::TooBig, 21 + 18, small);
}

TEST(FxRejects, TooBigFixedWithTinyLimit) {
  FxParser::Options tiny{12};
  EXPECT_EQ(run_whole(B().u32(0x00010014).u64(1).b, tiny).code, ErrorCode::Success);
  expect_error(B().u32(0x00010048).guid(kSet).b, ErrorCode::TooBig, 4, tiny);
  // A marker is a 4-byte element too.
  expect_error(B().u32(markers::kIncrSyncEnd).b, ErrorCode::TooBig, 0, FxParser::Options{3});
  EXPECT_EQ(run_whole(B().u32(markers::kIncrSyncEnd).b, FxParser::Options{4}).code,
            ErrorCode::Success);
}

TEST(FxRejects, ErrorSticksAndStopsEvents) {
  FxParser p;
  Bytes bad = B().u32(markers::kIncrSyncChg).u32(0x00010001).b;
  Status s = p.feed(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::FormatError);
  EXPECT_EQ(s.error().offset(), 4u);
  EXPECT_EQ(p.events().size(), 1u);  // the marker before the error
  Bytes good = B().u32(markers::kIncrSyncEnd).b;
  for (int i = 0; i < 3; ++i) {
    Status again = p.feed(good);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().offset(), 4u);
    EXPECT_EQ(again.error().what(), s.error().what());
  }
  EXPECT_FALSE(p.finish().ok());
  EXPECT_EQ(p.events().size(), 1u);
  p.reset();
  EXPECT_TRUE(p.feed(good).ok());
  EXPECT_TRUE(p.finish().ok());
  EXPECT_EQ(p.take_events(), std::vector<FxEvent>{marker(markers::kIncrSyncEnd)});
}

TEST(FxRejects, EmptyStreamIsLexicallyFine) {
  EXPECT_EQ(run_whole(Bytes{}), Outcome{});
  EXPECT_EQ(run(Bytes{}, {0, 0, 0}), Outcome{});
}

// ---------------------------------------------------------------------------
// Realistic streams

Bytes progress_information(std::uint32_t fai_count, std::uint64_t fai_size,
                           std::uint32_t normal_count, std::uint64_t normal_size) {
  return B().u16(0).u16(0).u32(fai_count).u64(fai_size).u32(normal_count).u32(0).u64(normal_size).b;
}

Bytes gid(std::uint64_t globcnt) {
  Bytes b(kReplGuid.bytes.begin(), kReplGuid.bytes.end());
  for (int i = 5; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(globcnt >> (8 * i)));
  return b;
}

Bytes pcl(std::uint64_t cn) {
  Bytes b{22};
  Bytes x = gid(cn);
  b.insert(b.end(), x.begin(), x.end());
  return b;
}

// One property of every single and multi-valued type, named ones included.
std::vector<FxEvent> every_type_props(std::uint64_t seed) {
  auto v = [seed](std::uint64_t x) { return x + seed; };
  return {
      prop(0x00170003, v(1)),
      prop(0x00360002, v(2) & 0xFFFF),
      prop(0x10800004, std::uint64_t{0x3FC00000}),
      prop(0x10810005, std::uint64_t{0x3FF8000000000000}),
      prop(0x10820006, v(1234500)),
      prop(0x10830007, std::uint64_t{0x40E5F48000000000}),
      prop(0x10840014, v(0x0100000000000005)),
      prop(0x0E060040, v(0x01D8F0E2A0B3C000)),
      prop(0x1085000A, std::uint64_t{0x8004010F}),
      prop(0x0E1B000B, std::uint64_t{seed % 2}),
      prop(0x10860048, Guid::from_seed(seed)),
      prop(0x0037001F, utf16("Quarterly report " + std::to_string(seed))),
      prop(0x0C1A001E, str8("Alice Example")),
      prop(0x003784E4, str8("caf\xe9")),
      prop(0x003D84B0, utf16("RE: ")),
      prop(0x10870102, pattern(40, static_cast<std::uint8_t>(seed))),
      prop(0x108800FB, Bytes{1, 0, 0, 0, 0, 0, 0, 0, 0}),
      prop(0x3701000D, Bytes{}),
      prop(0x10891002, std::vector<std::uint64_t>{1, 2, 3}),
      prop(0x108A1003, std::vector<std::uint64_t>{v(10), 20}),
      prop(0x108B1004, std::vector<std::uint64_t>{0x3F800000}),
      prop(0x108C1005, std::vector<std::uint64_t>{0x4000000000000000, 0}),
      prop(0x108D1006, std::vector<std::uint64_t>{}),
      prop(0x108E1007, std::vector<std::uint64_t>{1}),
      prop(0x108F1014, std::vector<std::uint64_t>{~0ull, v(0)}),
      prop(0x10901040, std::vector<std::uint64_t>{v(0x01D8000000000000)}),
      prop(0x10911048, std::vector<Guid>{kSet, Guid::from_seed(seed + 9)}),
      prop(0x1092101F, std::vector<Bytes>{utf16("red"), utf16("blue"), Bytes{}}),
      prop(0x1093101E, std::vector<Bytes>{str8("x")}),
      prop(0x10941102, std::vector<Bytes>{pattern(3, 1), Bytes{}, pattern(17, 2)}),
      named(0x80010003, NamedProp{kSet, 0, 0x8501, {}}, v(15)),
      named(0x8002101F, NamedProp{kSet, 1, 0, u"Keywords"}, std::vector<Bytes>{utf16("ics")}),
      named(0x8003000B, NamedProp{Guid::from_seed(seed), 0, 0x8223, {}}, std::uint64_t{1}),
      named(0x80040040, NamedProp{kSet, 1, 0, u"x-reminder"}, v(0x01D9000000000000)),
  };
}

void append(std::vector<FxEvent>& out, const std::vector<FxEvent>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

void append_message_change(std::vector<FxEvent>& s, std::uint64_t n, bool fai) {
  append(s, {marker(markers::kIncrSyncProgressPerMsg), prop(0x00000003, std::uint64_t{900 + n}),
             prop(0x0000000B, std::uint64_t{fai}), marker(markers::kIncrSyncChg),
             prop(tags::kSourceKey.value, gid(0x100 + n)),
             prop(tags::kLastModificationTime.value, std::uint64_t{0x01D8F0E2A0B3C000 + n}),
             prop(tags::kChangeKey.value, gid(0x2000 + n)),
             prop(tags::kPredecessorChangeList.value, pcl(0x2000 + n)),
             prop(tags::kAssociated.value, std::uint64_t{fai}),
             prop(tags::kMid.value, std::uint64_t{0x0001000000000000 | n}),
             prop(tags::kMessageSize.value, std::uint64_t{900 + n}),
             prop(tags::kChangeNumber.value, std::uint64_t{0x0001000000002000 | n}),
             marker(markers::kIncrSyncMessage)});
  append(s, every_type_props(n));
  append(s, {marker(markers::kStartRecip), prop(0x0C150003, std::uint64_t{1}),
             prop(0x3001001F, utf16("Bob")), marker(markers::kEndToRecip),
             marker(markers::kNewAttach), prop(tags::kAttachNumber.value, std::uint64_t{0}),
             prop(0x37010102, pattern(60, 5)), marker(markers::kStartEmbed),
             prop(tags::kSubject.value, utf16("inner")), marker(markers::kEndEmbed),
             marker(markers::kEndAttach)});
}

Bytes idset_bytes(std::uint64_t lo, std::uint64_t hi) {
  B b;
  b.guid(kReplGuid).u8(0x52);
  for (int i = 5; i >= 0; --i) b.u8(static_cast<std::uint8_t>(lo >> (8 * i)));
  for (int i = 5; i >= 0; --i) b.u8(static_cast<std::uint8_t>(hi >> (8 * i)));
  return b.u8(0).b;
}

// contentsSync = [progressTotal] *([progressPerMessage] messageChange)
//                [deletions] [readStateChanges] state IncrSyncEnd
std::vector<FxEvent> contents_sync_events() {
  std::vector<FxEvent> s{marker(markers::kIncrSyncProgressMode),
                         prop(0x00000102, progress_information(1, 1000, 2, 2000))};
  for (std::uint64_t n = 1; n <= 2; ++n) append_message_change(s, n, n == 2);
  append(s, {marker(markers::kIncrSyncDel),
             prop(tags::kMetaTagIdsetDeleted.value, B().u16(1).u8(0x06).u32(0).u16(7).u8(0).b),
             prop(tags::kMetaTagIdsetNoLongerInScope.value, Bytes{}),
             marker(markers::kIncrSyncRead),
             prop(tags::kMetaTagIdsetRead.value, B().u16(1).u8(0x06).u32(0).u16(2).u8(0).b),
             marker(markers::kIncrSyncStateBegin),
             prop(tags::kMetaTagIdsetGiven.value, idset_bytes(1, 0x103)),
             prop(tags::kMetaTagCnsetSeen.value, idset_bytes(1, 0x2003)),
             prop(tags::kMetaTagCnsetSeenFAI.value, idset_bytes(1, 0x2003)),
             prop(tags::kMetaTagCnsetRead.value, idset_bytes(1, 0x10)),
             marker(markers::kIncrSyncStateEnd), marker(markers::kIncrSyncEnd)});
  return s;
}

// hierarchySync = *folderChange [deletions] state IncrSyncEnd
std::vector<FxEvent> hierarchy_sync_events() {
  std::vector<FxEvent> s;
  for (std::uint64_t n = 1; n <= 4; ++n) {
    append(s, {marker(markers::kIncrSyncChg),
               prop(tags::kParentSourceKey.value, n == 1 ? Bytes{} : gid(1)),
               prop(tags::kSourceKey.value, gid(n)),
               prop(tags::kLastModificationTime.value, std::uint64_t{0x01D8F0E2A0B3C000 + n}),
               prop(tags::kChangeKey.value, gid(0x3000 + n)),
               prop(tags::kPredecessorChangeList.value, pcl(0x3000 + n)),
               prop(tags::kDisplayName.value, utf16("Folder " + std::to_string(n))),
               prop(tags::kParentFolderId.value, std::uint64_t{0x0001000000000001}),
               prop(0x10F4000B, std::uint64_t{0})});
  }
  append(s, {marker(markers::kIncrSyncDel),
             prop(tags::kMetaTagIdsetDeleted.value, B().u16(1).u8(0x06).u32(0).u16(9).u8(0).b),
             marker(markers::kIncrSyncStateBegin),
             prop(tags::kMetaTagIdsetGiven.value, idset_bytes(1, 4)),
             prop(tags::kMetaTagCnsetSeen.value, idset_bytes(1, 0x3004)),
             marker(markers::kIncrSyncStateEnd), marker(markers::kIncrSyncEnd)});
  return s;
}

// topFolder with a subfolder, a partial message change group and an error info.
std::vector<FxEvent> folder_copy_events() {
  std::vector<FxEvent> s{prop(tags::kMetaTagDnPrefix.value, str8("/o=Org/ou=Site")),
                         marker(markers::kStartTopFld),
                         prop(tags::kDisplayName.value, utf16("Inbox")),
                         prop(tags::kMetaTagNewFXFolder.value, pattern(24, 9)),
                         marker(markers::kStartSubFld),
                         prop(tags::kDisplayName.value, utf16("Sub")),
                         prop(tags::kMetaTagFXDelProp.value, std::uint64_t{0x0E12000D}),
                         marker(markers::kStartMessage),
                         prop(tags::kSubject.value, utf16("m")),
                         marker(markers::kEndMessage),
                         marker(markers::kStartFAIMsg),
                         prop(tags::kMetaTagEcWarning.value, std::uint64_t{0x00040380}),
                         marker(markers::kEndMessage),
                         marker(markers::kEndFolder),
                         marker(markers::kIncrSyncGroupInfo),
                         prop(0x00000102, pattern(50, 4)),
                         prop(tags::kMetaTagIncrSyncGroupId.value, std::uint64_t{3}),
                         marker(markers::kIncrSyncChgPartial),
                         prop(tags::kSourceKey.value, gid(77)),
                         prop(tags::kMetaTagIncrementalSyncMessagePartial.value, std::uint64_t{1}),
                         prop(tags::kBody.value, utf16(std::string(300, 'b'))),
                         marker(markers::kFXErrorInfo),
                         prop(0x0000000A, std::uint64_t{0x80004005}),
                         marker(markers::kEndFolder)};
  return s;
}

struct NamedStream {
  const char* name;
  std::vector<FxEvent> events;
};

const std::vector<NamedStream>& realistic_streams() {
  static const auto* streams = new std::vector<NamedStream>{
      {"contents", contents_sync_events()},
      {"hierarchy", hierarchy_sync_events()},
      {"folder_copy", folder_copy_events()},
  };
  return *streams;
}

TEST(FxStreams, RoundTripBothWays) {
  for (const auto& [nm, events] : realistic_streams()) {
    Bytes stream = write_all(events);
    Outcome o = run_whole(stream);
    ASSERT_EQ(o.code, ErrorCode::Success) << nm << ": " << o;
    EXPECT_EQ(o.events, events) << nm;
    EXPECT_EQ(write_all(o.events), stream) << nm;
  }
}

// The contents stream really is contents-shaped, and the progressTotal binary is 32 bytes.
TEST(FxStreams, ContentsShape) {
  const auto& events = realistic_streams()[0].events;
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0], marker(markers::kIncrSyncProgressMode));
  EXPECT_EQ(events[1].value.as_bytes()->size(), 32u);
  EXPECT_EQ(events.back(), marker(markers::kIncrSyncEnd));
  std::set<std::uint16_t> types;
  for (const auto& e : events) types.insert(e.tag.type());
  for (std::uint16_t t : {0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, 0x000A, 0x000B, 0x0014,
                          0x0040, 0x0048, 0x001E, 0x001F, 0x0102, 0x00FB, 0x000D, 0x84B0, 0x84E4,
                          0x1002, 0x1003, 0x1004, 0x1005, 0x1006, 0x1007, 0x1014, 0x1040, 0x1048,
                          0x101E, 0x101F, 0x1102}) {
    EXPECT_EQ(types.count(t), 1u) << std::hex << t;
  }
  EXPECT_GT(write_all(events).size(), 1500u);
}

// Chunk invariance: every single split point, 1-byte chunks, random chunkings.
TEST(FxStreams, ChunkInvarianceAtEverySplit) {
  for (const auto& [nm, events] : realistic_streams()) {
    Bytes stream = write_all(events);
    Outcome whole = run_whole(stream);
    ASSERT_EQ(whole.events, events) << nm;
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      ASSERT_EQ(run(stream, {cut}), whole) << nm << " split at " << cut;
    }
    EXPECT_EQ(run(stream, ones(stream.size())), whole) << nm;
    std::mt19937_64 rng(2024);
    for (int i = 0; i < 40; ++i) {
      ASSERT_EQ(run(stream, random_sizes(stream.size(), rng)), whole) << nm << " chunking " << i;
    }
  }
}

// Truncation: ending at an element boundary is a valid shorter stream; ending
// anywhere else fails in finish() with FormatError at the element's start.
TEST(FxStreams, TruncationAtEveryByte) {
  for (const auto& [nm, events] : realistic_streams()) {
    Bytes stream = write_all(events);
    std::vector<std::size_t> starts = boundaries(events);
    std::size_t element = 0;
    for (std::size_t len = 0; len <= stream.size(); ++len) {
      while (starts[element + 1] <= len && element + 1 < starts.size() - 1) ++element;
      ByteView prefix(stream.data(), len);
      Outcome o = run_whole(prefix);
      auto at = std::find(starts.begin(), starts.end(), len);
      if (at != starts.end()) {
        ASSERT_EQ(o.code, ErrorCode::Success) << nm << " len " << len;
        std::vector<FxEvent> want(events.begin(), events.begin() + (at - starts.begin()));
        ASSERT_EQ(o.events, want) << nm << " len " << len;
      } else {
        ASSERT_EQ(o.code, ErrorCode::FormatError) << nm << " len " << len;
        ASSERT_EQ(o.offset, starts[element]) << nm << " len " << len;
        ASSERT_EQ(o.events.size(), element) << nm << " len " << len;
      }
      if (len % 13 == 0) { ASSERT_EQ(run(prefix, ones(len)), o) << nm << " len " << len; }
    }
  }
}

// Corrupted streams: the outcome (events and error offset) is identical for
// every chunking, and an error lies inside the stream.
TEST(FxStreams, CorruptionOutcomeIsChunkInvariant) {
  std::mt19937_64 rng(99);
  int failures = 0;
  for (int round = 0; round < 500; ++round) {
    const auto& events = realistic_streams()[rng() % realistic_streams().size()].events;
    Bytes stream = write_all(events);
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % stream.size();
      switch (rng() % 4) {
        case 0: stream[at] = static_cast<std::uint8_t>(rng()); break;
        case 1: stream[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
        case 2: stream.erase(stream.begin() + static_cast<std::ptrdiff_t>(at)); break;
        default: stream.insert(stream.begin() + static_cast<std::ptrdiff_t>(at), 0xFF); break;
      }
    }
    FxParser::Options options{static_cast<std::size_t>(rng() % 2 ? 1 << 20 : 256)};
    Outcome whole = run_whole(stream, options);
    if (whole.code != ErrorCode::Success) {
      ++failures;
      ASSERT_LE(whole.offset, stream.size());
      ASSERT_TRUE(whole.code == ErrorCode::FormatError || whole.code == ErrorCode::TooBig);
    }
    if (round % 4 == 0) { ASSERT_EQ(run(stream, ones(stream.size()), options), whole) << round; }
    for (int c = 0; c < 3; ++c) {
      ASSERT_EQ(run(stream, random_sizes(stream.size(), rng), options), whole) << "round " << round;
    }
    ASSERT_EQ(run(stream, {rng() % (stream.size() + 1)}, options), whole) << "round " << round;
  }
  EXPECT_GT(failures, 100);  // the corruptions do exercise the error paths
}

// ---------------------------------------------------------------------------
// Memory: nothing is allocated from a declared length or count.

TEST(FxMemory, HugeDeclaredLengthHoldsOnlyWhatArrived) {
  FxParser p(FxParser::Options{std::numeric_limits<std::size_t>::max()});
  ASSERT_TRUE(p.feed(B().u32(0x00010102).u32(0xFFFFFFFF).b).ok());
  EXPECT_LT(p.held_bytes(), 64u);
  Bytes chunk(4096, 0xAB);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(p.feed(chunk).ok());
  EXPECT_GE(p.held_bytes(), 64u * 4096);
  EXPECT_LE(p.held_bytes(), 2u * 64 * 4096);
  EXPECT_TRUE(p.events().empty());
  EXPECT_EQ(p.finish().code(), ErrorCode::FormatError);
}

TEST(FxMemory, HugeDeclaredCountHoldsOnlyWhatArrived) {
  FxParser p(FxParser::Options{std::numeric_limits<std::size_t>::max()});
  ASSERT_TRUE(p.feed(B().u32(0x00011102).u32(0xFFFFFFFF).b).ok());
  EXPECT_LT(p.held_bytes(), 64u);
  ASSERT_TRUE(p.feed(B().u32(2).u16(7).u32(0).u32(0x7FFFFFFF).b).ok());
  EXPECT_LT(p.held_bytes(), 256u);
  FxParser q(FxParser::Options{std::numeric_limits<std::size_t>::max()});
  ASSERT_TRUE(q.feed(B().u32(0x00011048).u32(0xFFFFFFFF).guid(kSet).b).ok());
  EXPECT_LT(q.held_bytes(), 256u);
}

// reset() mid-element lets go of everything, the named-property name included.
TEST(FxMemory, ResetMidElementHoldsNothing) {
  FxParser p;
  B b;
  b.u32(0x8002101F).guid(kSet).u8(1);
  for (int i = 0; i < 300; ++i) b.u16('n');
  b.u16(0).u32(1).u32(6);  // the name is complete; the value's bytes have not arrived
  ASSERT_TRUE(p.feed(b.b).ok());
  ASSERT_GE(p.held_bytes(), 300u);
  p.reset();
  EXPECT_EQ(p.held_bytes(), 0u);
  EXPECT_TRUE(p.at_boundary());
}

TEST(FxMemory, HeldBytesReturnToZeroAfterEachElement) {
  FxParser p;
  Bytes stream = write_all(realistic_streams()[0].events);
  for (std::uint8_t b : stream) {
    ASSERT_TRUE(p.feed(ByteView(&b, 1)).ok());
    if (p.at_boundary()) { ASSERT_EQ(p.held_bytes(), 0u); }
  }
}

// ---------------------------------------------------------------------------
// Writer

TEST(FxWriter, BuffersConcatenateBack) {
  FxWriter w;
  for (const auto& e : realistic_streams()[0].events) ASSERT_TRUE(w.event(e).ok());
  const Bytes& stream = w.bytes();
  for (std::size_t n = 1; n <= 64; ++n) {
    std::vector<Bytes> bufs = w.buffers(n);
    ASSERT_EQ(bufs.size(), (stream.size() + n - 1) / n);
    Bytes joined;
    for (std::size_t i = 0; i < bufs.size(); ++i) {
      if (i + 1 < bufs.size()) { ASSERT_EQ(bufs[i].size(), n); }
      ASSERT_FALSE(bufs[i].empty());
      joined.insert(joined.end(), bufs[i].begin(), bufs[i].end());
    }
    ASSERT_EQ(joined, stream) << n;
    FxParser p;
    std::vector<FxEvent> got;
    for (const auto& b : bufs) {
      ASSERT_TRUE(p.feed(b).ok());
      auto evs = p.take_events();
      got.insert(got.end(), evs.begin(), evs.end());
    }
    ASSERT_TRUE(p.finish().ok());
    ASSERT_EQ(got, realistic_streams()[0].events) << n;
  }
  EXPECT_TRUE(w.buffers(0).empty());
  EXPECT_TRUE(FxWriter().buffers(4).empty());
  Bytes taken = w.take();
  EXPECT_EQ(taken.size(), write_all(realistic_streams()[0].events).size());
}

TEST(FxWriter, RejectsWhatCannotRoundTrip) {
  auto bad = [](const PropValue& v) {
    FxWriter w;
    Status s = w.property(v);
    EXPECT_EQ(s.code(), ErrorCode::InvalidParameter) << describe(FxEvent::property(v));
    EXPECT_EQ(w.size(), 0u);
  };
  bad(PropValue::integer(PropTag(markers::kIncrSyncChg), 0));       // a marker tag
  bad(PropValue::integer(PropTag(0x00010001), 0));                  // unsupported type
  bad(PropValue::integer(PropTag(0x00010002), 0x10000));            // does not fit Int16
  bad(PropValue::integer(PropTag(0x0001000B), 0x10000));            // nor Boolean
  bad(PropValue::integer(PropTag(0x00010003), 1ull << 32));         // nor Int32
  bad(PropValue::binary(PropTag(0x00010003), Bytes{}));             // wrong alternative
  bad(PropValue::integer(PropTag(0x00010102), 1));
  bad(PropValue{PropTag(0x00011003), std::nullopt, std::vector<std::uint64_t>{1ull << 32}});
  bad(PropValue{PropTag(0x00011003), std::nullopt, std::vector<Bytes>{}});
  bad(PropValue{PropTag(0x00010048), std::nullopt, std::uint64_t{0}});
  bad(PropValue::integer(PropTag(0x80010003), 1));                  // named without info
  bad(PropValue{PropTag(0x00010003), NamedProp{kSet, 0, 1, {}}, std::uint64_t{1}});
  bad(PropValue{PropTag(0x80010003), NamedProp{kSet, 2, 1, {}}, std::uint64_t{1}});
  bad(PropValue{PropTag(0x80010003), NamedProp{kSet, 1, 0, std::u16string(u"a\0b", 3)}, std::uint64_t{1}});
  bad(PropValue{PropTag(0x80010003), NamedProp{kSet, 1, 5, u"ab"}, std::uint64_t{1}});
  bad(PropValue{PropTag(0x80010003), NamedProp{kSet, 0, 5, u"ab"}, std::uint64_t{1}});
  FxWriter w;
  EXPECT_EQ(w.marker(0x00010003).code(), ErrorCode::InvalidParameter);
  FxEvent mismatched = prop(0x00010003, std::uint64_t{1});
  mismatched.tag = PropTag(0x00020003);
  EXPECT_EQ(w.event(mismatched).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(w.size(), 0u);
}

// Random events and the size each must take on the wire, computed from the
// lexical rules independently of FxWriter.
struct RandomEvents {
  std::mt19937_64 rng;
  explicit RandomEvents(std::uint64_t seed) : rng(seed) {}

  std::uint64_t below(std::uint64_t n) { return rng() % n; }
  Bytes some_bytes() {
    Bytes b(below(4) == 0 ? 0 : below(70));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  }
  std::uint16_t random_type() {
    static const std::uint16_t kBases[] = {0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007,
                                           0x000A, 0x000B, 0x0014, 0x0040, 0x0048, 0x001E,
                                           0x001F, 0x0102, 0x00FB, 0x000D};
    std::uint16_t base = kBases[below(std::size(kBases))];
    switch (below(6)) {
      case 0: return static_cast<std::uint16_t>(0x8000 | below(0x8000));  // code page
      case 1:
      case 2: return base == 0x00FB || base == 0x000D ? base : base | 0x1000;
      default: return base;
    }
  }
  std::uint64_t scalar(std::size_t size) {
    std::uint64_t v = rng();
    return size >= 8 ? v : v & ((std::uint64_t{1} << (8 * size)) - 1);
  }
  PropData data_for(std::uint16_t type) {
    std::uint16_t base = type & ~ptyp::kMultipleFlag;
    if (!is_multi_type(type)) {
      if (type == ptyp::kGuid) return Guid::from_seed(rng());
      if (fixed_size(type) != 0) return scalar(fixed_size(type));
      return some_bytes();
    }
    std::size_t n = below(5);
    if (base == ptyp::kGuid) {
      std::vector<Guid> v(n);
      for (auto& g : v) g = Guid::from_seed(rng());
      return v;
    }
    if (fixed_size(base) != 0) {
      std::vector<std::uint64_t> v(n);
      for (auto& x : v) x = scalar(fixed_size(base));
      return v;
    }
    std::vector<Bytes> v(n);
    for (auto& b : v) b = some_bytes();
    return v;
  }
  FxEvent next() {
    if (below(4) == 0) return marker(markers::kAll[below(std::size(markers::kAll))]);
    if (below(20) == 0) return prop(0x40170003, some_bytes());
    for (;;) {
      std::uint16_t type = random_type();
      auto id = static_cast<std::uint16_t>(rng());
      PropTag tag(id, type);
      if (is_marker(tag.value) || tag.value == 0x40170003) continue;
      PropValue v{tag, std::nullopt, data_for(type)};
      if (tag.is_named()) {
        NamedProp n{Guid::from_seed(rng()), static_cast<std::uint8_t>(below(2)), 0, {}};
        if (n.kind == 0) n.lid = static_cast<std::uint32_t>(rng());
        for (std::uint64_t i = 0, len = below(12); i < len; ++i) {
          n.name.push_back(static_cast<char16_t>(1 + below(0xFFFF)));
        }
        if (n.kind == 0) n.name.clear();
        v.named = n;
      }
      return FxEvent::property(std::move(v));
    }
  }
};

std::size_t wire_size(const FxEvent& e) {
  if (e.kind == FxEvent::Kind::Marker) return 4;
  const PropValue& v = e.value;
  std::size_t n = 4;
  if (v.named) n += 16 + 1 + (v.named->kind == 0 ? 4 : 2 * (v.named->name.size() + 1));
  std::uint16_t base = v.tag.type() & ~ptyp::kMultipleFlag;
  if (const auto* b = v.as_bytes()) return n + 4 + b->size();
  if (v.as_integer() != nullptr) return n + fixed_size(v.tag.type());
  if (v.as_guid() != nullptr) return n + 16;
  if (const auto* vi = std::get_if<std::vector<std::uint64_t>>(&v.data)) {
    return n + 4 + vi->size() * fixed_size(base);
  }
  if (const auto* vg = std::get_if<std::vector<Guid>>(&v.data)) return n + 4 + 16 * vg->size();
  std::size_t total = n + 4;
  for (const auto& b : std::get<std::vector<Bytes>>(v.data)) total += 4 + b.size();
  return total;
}

TEST(FxWriter, RandomEventSequencesRoundTrip) {
  RandomEvents gen(31337);
  std::mt19937_64 rng(5);
  for (int round = 0; round < 1000; ++round) {
    std::vector<FxEvent> events;
    std::size_t expected_size = 0;
    for (std::uint64_t i = 0, n = 1 + gen.below(20); i < n; ++i) {
      events.push_back(gen.next());
      expected_size += wire_size(events.back());
    }
    Bytes stream = write_all(events);
    ASSERT_EQ(stream.size(), expected_size) << "round " << round;
    Outcome want{events, ErrorCode::Success, kNoOffset};
    ASSERT_EQ(run_whole(stream), want) << "round " << round;
    ASSERT_EQ(run(stream, random_sizes(stream.size(), rng)), want) << "round " << round;
    if (round % 10 == 0) { ASSERT_EQ(run(stream, ones(stream.size())), want) << "round " << round; }
  }
}

TEST(FxParse, OffsetAndBoundary) {
  FxParser p;
  Bytes s = B().u32(0x00010003).u32(5).b;
  ASSERT_TRUE(p.feed(ByteView(s.data(), 6)).ok());
  EXPECT_EQ(p.offset(), 6u);
  EXPECT_FALSE(p.at_boundary());
  ASSERT_TRUE(p.feed(ByteView(s.data() + 6, 2)).ok());
  EXPECT_TRUE(p.at_boundary());
  EXPECT_EQ(p.offset(), 8u);
  auto evs = p.take_events();
  EXPECT_EQ(evs.size(), 1u);
  EXPECT_TRUE(p.events().empty());
}

}  // namespace
}  // namespace ics
