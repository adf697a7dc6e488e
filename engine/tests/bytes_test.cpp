#include "ics/bytes.h"

#include <gtest/gtest.h>

namespace ics {
namespace {

const Bytes kSample = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

TEST(Reader, LittleEndianIntegers) {
  Reader r(kSample);
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
  ASSERT_TRUE(r.read_u8(a));
  ASSERT_TRUE(r.read_u16(b));
  ASSERT_TRUE(r.read_u32(c));
  EXPECT_EQ(a, 0x01);
  EXPECT_EQ(b, 0x0302);
  EXPECT_EQ(c, 0x07060504u);
  EXPECT_EQ(r.offset(), 7u);
  EXPECT_EQ(r.remaining(), 2u);
}

TEST(Reader, U64AndBigEndian) {
  Reader r(kSample);
  std::uint64_t v = 0;
  ASSERT_TRUE(r.read_u64(v));
  EXPECT_EQ(v, 0x0807060504030201ull);
  Reader be(kSample);
  ASSERT_TRUE(be.read_be(6, v));
  EXPECT_EQ(v, 0x010203040506ull);
  EXPECT_FALSE(be.read_be(9, v));
}

// Every truncation of every primitive fails and leaves the cursor unmoved.
TEST(Reader, TruncationLeavesCursor) {
  for (std::size_t len = 0; len < 8; ++len) {
    Reader r(ByteView(kSample.data(), len));
    std::uint64_t v64 = 0;
    std::uint32_t v32 = 0;
    std::uint16_t v16 = 0;
    ByteView out;
    EXPECT_FALSE(r.read_u64(v64));
    if (len < 4) { EXPECT_FALSE(r.read_u32(v32)); }
    if (len < 2) { EXPECT_FALSE(r.read_u16(v16)); }
    EXPECT_FALSE(r.read_bytes(len + 1, out));
    EXPECT_FALSE(r.read_be(len + 1, v64));
    EXPECT_FALSE(r.skip(len + 1));
    EXPECT_EQ(r.offset(), 0u);
  }
}

TEST(Reader, HugeLengthDoesNotOverflow) {
  Reader r(kSample);
  ByteView out;
  EXPECT_FALSE(r.read_bytes(static_cast<std::size_t>(-1), out));
  EXPECT_FALSE(r.skip(static_cast<std::size_t>(-1)));
  EXPECT_EQ(r.offset(), 0u);
}

TEST(Writer, RoundTripsThroughReader) {
  Writer w;
  w.put_u8(0xAB);
  w.put_u16(0xBEEF);
  w.put_u32(0xDEADBEEF);
  w.put_u64(0x0123456789ABCDEFull);
  w.put_be(0x0000112233445566ull, 6);
  Reader r(w.bytes());
  std::uint8_t a;
  std::uint16_t b;
  std::uint32_t c;
  std::uint64_t d, e;
  ASSERT_TRUE(r.read_u8(a) && r.read_u16(b) && r.read_u32(c) && r.read_u64(d) && r.read_be(6, e));
  EXPECT_EQ(a, 0xAB);
  EXPECT_EQ(b, 0xBEEF);
  EXPECT_EQ(c, 0xDEADBEEFu);
  EXPECT_EQ(d, 0x0123456789ABCDEFull);
  EXPECT_EQ(e, 0x112233445566ull);
  EXPECT_TRUE(r.empty());
}

TEST(Hex, RoundTripAndRejects) {
  EXPECT_EQ(to_hex(kSample), "010203040506070809");
  auto b = from_hex("01 02\nAb");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (Bytes{0x01, 0x02, 0xAB}));
  EXPECT_EQ(from_hex("abc").code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(from_hex("zz").code(), ErrorCode::InvalidParameter);
}

// Every digit in both cases, and the characters just outside each digit range.
TEST(Hex, EveryDigitInBothCasesAndNothingBeside) {
  auto lower = from_hex("0123456789abcdef");
  auto upper = from_hex("0123456789ABCDEF");
  ASSERT_TRUE(lower.ok() && upper.ok());
  const Bytes want{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
  EXPECT_EQ(*lower, want);
  EXPECT_EQ(*upper, want);
  for (const char* bad : {"/0", "0:", "@0", "0G", "`0", "0g"}) {
    auto r = from_hex(bad);
    EXPECT_EQ(r.code(), ErrorCode::InvalidParameter) << bad;
  }
}

}  // namespace
}  // namespace ics
