#include "ics/ids.h"
#include "ics/splitmix.h"

#include <gtest/gtest.h>

namespace ics {
namespace {

// [MS-OXCFXICS] 4.4: MID bytes 01 00 00 00 00 00 00 05 = REPLID 1, GLOBCNT 5.
TEST(Id, SpecExampleLayout) {
  Bytes wire = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05};
  Reader r(wire);
  Id id;
  ASSERT_TRUE(read_id(r, id));
  EXPECT_EQ(id.replid, 1);
  EXPECT_EQ(id.globcnt, 5u);
  Writer w;
  write_id(w, id);
  EXPECT_EQ(w.bytes(), wire);
  EXPECT_EQ(Id::from_u64(id.to_u64()), id);
  EXPECT_EQ(id.to_u64(), 0x0500000000000001ull);
}

// to_u64 is the id's wire bytes (write_id) read as a little-endian u64, and from_u64 its
// inverse, for ids spread over every byte of both fields.
TEST(Id, U64FormIsTheWireBytesReadLittleEndian) {
  std::uint64_t state = 1;
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t x = splitmix64_next(state);
    const Id id{static_cast<Replid>(x >> 48), x & 0xFFFFFFFFFFFFull};
    Writer w;
    write_id(w, id);
    Reader r(w.bytes());
    std::uint64_t wire = 0;
    ASSERT_TRUE(r.read_u64(wire));
    ASSERT_EQ(id.to_u64(), wire) << i;
    ASSERT_EQ(Id::from_u64(wire), id) << i;
  }
}

TEST(Id, TruncatedFails) {
  Bytes wire = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  Reader r(wire);
  Id id;
  EXPECT_FALSE(read_id(r, id));
  EXPECT_EQ(r.offset(), 0u);
}

TEST(Guid, TextRoundTripUsesMixedEndianLayout) {
  auto g = Guid::parse("00112233-4455-6677-8899-aabbccddeeff");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->bytes[0], 0x33);  // Data1 little-endian on the wire
  EXPECT_EQ(g->bytes[4], 0x55);
  EXPECT_EQ(g->bytes[8], 0x88);
  EXPECT_EQ(g->to_string(), "00112233-4455-6677-8899-aabbccddeeff");
  EXPECT_FALSE(Guid::parse("00112233-4455-6677-8899-aabbccddeef").ok());
  EXPECT_FALSE(Guid::parse("0011223344556677-8899-aabbccddeeff-").ok());
  EXPECT_NE(Guid::from_seed(1), Guid::from_seed(2));
  EXPECT_EQ(Guid::from_seed(7), Guid::from_seed(7));
}

TEST(Gid, RoundTripAndSize) {
  Gid g{Guid::from_seed(3), 0x0000ABCDEF012345ull & kGlobcntMax};
  Bytes b = serialize_gid(g);
  ASSERT_EQ(b.size(), kGidSize);
  auto back = parse_gid(b);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, g);
  b.pop_back();
  EXPECT_EQ(parse_gid(b).code(), ErrorCode::FormatError);
}

TEST(Xid, SizesAndValue) {
  Xid x = Xid::from_globcnt(Guid::from_seed(4), 0x1234);
  EXPECT_EQ(x.size(), 22u);
  EXPECT_EQ(x.local_value(), 0x1234u);
  Bytes b = serialize_xid(x);
  auto back = parse_xid(b);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, x);
  for (std::size_t n = 0; n < 30; ++n) {
    Bytes raw(n, 0x11);
    EXPECT_EQ(parse_xid(raw).ok(), n >= kXidMinSize && n <= kXidMaxSize) << n;
  }
}

// A change key made from a CN holds all six bytes of the 48-bit GLOBCNT, big-endian, as the
// GID's does: CNs that differ only in their top byte get different change keys.
TEST(Xid, FromGlobcntKeepsEveryByteOfTheGlobcnt) {
  const Guid g = Guid::from_seed(4);
  const Globcnt cn = 0xA1B2C3D4E5F6ull;
  const Xid x = Xid::from_globcnt(g, cn);
  EXPECT_EQ(x.local_value(), cn);
  const Bytes b = serialize_xid(x);
  const Bytes gid = serialize_gid(Gid{g, cn});
  EXPECT_EQ(b, gid);  // a 6-byte XID is laid out as a GID
  EXPECT_FALSE(Xid::from_globcnt(g, kGlobcntMax) == Xid::from_globcnt(g, kGlobcntMax & 0xFFFFFFFFFFull));
}

}  // namespace
}  // namespace ics
