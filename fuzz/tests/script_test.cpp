// The op-script layer of the fuzz targets (fuzz/script/): globset_ops' decoder, encoder,
// printer and op-level mutator; the session scripts' writer and tracing reader.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "script/fdp_writer.h"
#include "script/globset_ops.h"
#include "script/globset_ops_mutator.h"
#include "script/reader.h"
#include "script/sync_session_ops.h"

namespace {

namespace gops = ics_fuzz::globset_ops;
using Bytes = std::vector<std::uint8_t>;

TEST(GlobsetOpsScript, EncodeThenDecodeGivesTheOps) {
  using gops::Kind;
  const std::vector<gops::Op> ops = {gops::value_op(Kind::Insert, 0, gops::at(1, 5)),
                                     gops::range_op(Kind::RemoveRange, 1, gops::at(2, 60), gops::at(2, 3)),
                                     gops::plain_op(Kind::Unite, 1), gops::plain_op(Kind::FromRanges, 0)};
  const Bytes b = gops::encode(ops);
  EXPECT_EQ(b.size(), 2u + 3u + 1u + 1u);
  EXPECT_EQ(gops::decode(b.data(), b.size()), ops);
}

TEST(GlobsetOpsScript, ReadsFromTheEndAndAMissingOperandIsZero) {
  const Bytes b = {0x77, 0x11};  // read backwards: 0x11 = insert_range on set 1, then low 0x77, high missing
  const std::vector<gops::Op> ops = gops::decode(b.data(), b.size());
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, gops::Kind::InsertRange);
  EXPECT_EQ(ops[0].set, 1);
  EXPECT_EQ(ops[0].low, 0x77);
  EXPECT_EQ(ops[0].high, 0);
  EXPECT_EQ(gops::to_string(ops[0]), "insert_range s1 0x100000017..0xffffffe0");
}

TEST(GlobsetOpsScript, KindIsTheLowNibbleModuloTheKindsAndStepsAreCapped) {
  const Bytes b(300, 0x2D);  // 0x2D: low nibble 13 -> 13 % 10 = 3 (remove_range), bit 4 clear
  const std::vector<gops::Op> ops = gops::decode(b.data(), b.size());
  EXPECT_EQ(ops.size(), 100u);  // 300 bytes of 3-byte ops, under the 128-step cap
  EXPECT_EQ(ops[0].kind, gops::Kind::RemoveRange);
  const Bytes many(200, 0x07);  // clear: no operands
  EXPECT_EQ(gops::decode(many.data(), many.size()).size(), static_cast<std::size_t>(gops::kMaxSteps));
}

TEST(GlobsetOpsScript, EveryInputReencodesToTheSameOps) {
  ics::testkit::Rng rng(11);
  for (int i = 0; i < 200; ++i) {
    Bytes b(rng.below(64));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng.next());
    const std::vector<gops::Op> ops = gops::decode(b.data(), b.size());
    const Bytes again = gops::encode(ops);
    EXPECT_EQ(gops::decode(again.data(), again.size()), ops) << "input " << i;
  }
}

std::size_t fake_bytes(std::uint8_t* data, std::size_t size, std::size_t) {
  if (size > 0) data[0] ^= 0xFF;
  return size;
}

TEST(GlobsetOpsMutator, MakesOneOpLevelEditWithinMaxSize) {
  using gops::Kind;
  const std::vector<gops::Op> ops = {gops::value_op(Kind::Insert, 0, gops::at(0, 1)),
                                     gops::range_op(Kind::InsertRange, 1, gops::at(1, 2), gops::at(1, 9)),
                                     gops::plain_op(Kind::RoundTrip, 0)};
  const Bytes seed = gops::encode(ops);
  std::set<Bytes> seen;
  for (unsigned s = 0; s < 400; ++s) {
    Bytes buf(64, 0);
    std::copy(seed.begin(), seed.end(), buf.begin());
    const std::size_t n = gops::mutate(buf.data(), seed.size(), buf.size(), s, nullptr);
    ASSERT_LE(n, buf.size());
    const std::vector<gops::Op> out = gops::decode(buf.data(), n);
    // One edit: the op count moves by at most one.
    EXPECT_LE(out.size(), ops.size() + 1);
    EXPECT_GE(out.size() + 1, ops.size());
    seen.insert(Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  EXPECT_GT(seen.size(), 100u);  // many different mutants
  EXPECT_EQ(seen.count(seed), 0u);  // each one an actual change
}

TEST(GlobsetOpsMutator, KeepsToMaxSizeAndFallsBackToBytes) {
  const Bytes seed = gops::encode(std::vector<gops::Op>(20, gops::plain_op(gops::Kind::Clear, 0)));
  for (unsigned s = 0; s < 100; ++s) {
    Bytes buf = seed;
    const std::size_t n = gops::mutate(buf.data(), buf.size(), buf.size(), s, nullptr);
    EXPECT_LE(n, seed.size());
  }
  int fell_back = 0;
  for (unsigned s = 0; s < 200; ++s) {
    Bytes buf = seed;
    buf.resize(seed.size() + 8);  // room to grow: an op edit may add one
    const std::size_t n = gops::mutate(buf.data(), seed.size(), buf.size(), s, fake_bytes);
    fell_back += n == seed.size() && buf[0] == (seed[0] ^ 0xFF) ? 1 : 0;
  }
  // About kBytePercent of the calls go to the byte mutator.
  EXPECT_GT(fell_back, 10);
  EXPECT_LT(fell_back, 100);
}

TEST(GlobsetOpsMutator, DeletingTheOnlyOpLeavesAnEmptyScript) {
  const Bytes seed = gops::encode({gops::plain_op(gops::Kind::Clear, 0)});
  bool emptied = false;
  for (unsigned s = 0; s < 200 && !emptied; ++s) {
    Bytes buf = seed;
    buf.resize(8);
    emptied = gops::mutate(buf.data(), seed.size(), buf.size(), s, nullptr) == 0;
  }
  EXPECT_TRUE(emptied);
}

TEST(SessionScript, WriterValuesReadBackInOrder) {
  ics_fuzz::FdpWriter w;
  w.op(ics_fuzz::sync_session::Op::LocalModify).u16(0x1234).flag(true).text("subject").u32(0xDEADBEEF);
  w.bytes(Bytes{1, 2, 3});
  EXPECT_EQ(w.ops(), std::vector<std::string>{"local_modify"});
  const Bytes b = w.out();
  ics_fuzz::Trace off(nullptr);
  ics_fuzz::ScriptReader in(b.data(), b.size(), off);
  EXPECT_EQ(ics_fuzz::sync_session::op_of(in.op_byte()), ics_fuzz::sync_session::Op::LocalModify);
  EXPECT_EQ(in.ConsumeIntegral<std::uint16_t>(), 0x1234);
  EXPECT_TRUE(in.ConsumeBool());
  EXPECT_EQ(in.ConsumeRandomLengthString(16), "subject");
  EXPECT_EQ(in.ConsumeIntegral<std::uint32_t>(), 0xDEADBEEFu);
  EXPECT_EQ(in.ConsumeBytes<std::uint8_t>(3), (Bytes{1, 2, 3}));
  EXPECT_EQ(in.remaining_bytes(), 0u);
}

TEST(SessionScript, TracePrintsOneOpALineWithItsValues) {
  ics_fuzz::FdpWriter w;
  w.u8(7).op(ics_fuzz::sync_session::Op::Sync).u8(1).text("a\x01\"");
  for (int i = 0; i < 9; ++i) w.u8(0);
  const Bytes b = w.out();
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ics_fuzz::Trace trace(f);
    ics_fuzz::ScriptReader in(b.data(), b.size(), trace);
    in.op("setup");
    in.ConsumeIntegral<std::uint8_t>();
    in.op(ics_fuzz::sync_session::name(ics_fuzz::sync_session::op_of(in.op_byte())));
    in.ConsumeIntegralInRange<std::size_t>(0, 2);
    in.ConsumeRandomLengthString(8);
    in.op("finish");
    for (int i = 0; i < 9; ++i) in.ConsumeIntegral<std::uint8_t>();
  }
  std::rewind(f);
  std::string text;
  for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
  std::fclose(f);
  EXPECT_EQ(text, "0 setup 7\n1 sync 1 \"a\\x01\\\"\"\n2 finish 0 0 0 0 (x9)\n");
}

}  // namespace
