#include "ics/memory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

#include "memory_figures.h"
#include <vector>

namespace ics {
namespace {

using test::Figures;
using test::figures;

TEST(ObjectKind, Names) {
  EXPECT_EQ(name(ObjectKind::Session), "Session");
  EXPECT_EQ(name(ObjectKind::DownloadContext), "DownloadContext");
  EXPECT_EQ(name(ObjectKind::FxBuffer), "FxBuffer");
  EXPECT_EQ(name(ObjectKind::Other), "Other");
  EXPECT_EQ(name(ObjectKind::kCount), "Unknown");
}

TEST(MemoryAccount, ChargeAndReleasePerKindAndInTotal) {
  MemoryStats stats;
  MemoryAccount a(&stats), b(&stats);
  ASSERT_TRUE(a.charge(ObjectKind::DownloadContext, 100).ok());
  ASSERT_TRUE(a.charge(ObjectKind::FxBuffer, 4000, 0).ok());
  ASSERT_TRUE(b.charge(ObjectKind::DownloadContext, 50).ok());
  EXPECT_EQ(a.live_bytes(), 4100u);
  EXPECT_EQ(a.live_objects(), 1u);
  EXPECT_EQ(a.bytes(ObjectKind::FxBuffer), 4000u);
  EXPECT_EQ(a.objects(ObjectKind::FxBuffer), 0u);
  EXPECT_EQ(stats.live_bytes(), 4150u);
  EXPECT_EQ(stats.live_objects(), 2u);
  EXPECT_EQ(stats.bytes(ObjectKind::DownloadContext), 150u);
  EXPECT_EQ(stats.objects(ObjectKind::DownloadContext), 2u);
  a.release(ObjectKind::FxBuffer, 4000, 0);
  a.release(ObjectKind::DownloadContext, 100);
  b.release(ObjectKind::DownloadContext, 50);
  EXPECT_EQ(figures(a), figures(MemoryAccount{}));
  EXPECT_EQ(figures(stats), figures(MemoryAccount{}));
  EXPECT_EQ(a.peak_bytes(), 4100u);
  EXPECT_EQ(stats.peak_bytes(), 4150u);
  EXPECT_EQ(a.release_errors(), 0u);
}

TEST(MemoryAccount, OverBudgetFailsWithGeneralFailureAndChargesNothing) {
  MemoryStats stats;
  MemoryAccount a(&stats, 1000);
  ASSERT_TRUE(a.charge(ObjectKind::UploadContext, 600).ok());
  Figures before = figures(a), totals_before = figures(stats);
  Status s = a.charge(ObjectKind::StateStream, 401);
  EXPECT_EQ(s.code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(static_cast<std::uint32_t>(s.code()), 0x80004005u);
  EXPECT_EQ(figures(a), before);
  EXPECT_EQ(figures(stats), totals_before);
  EXPECT_EQ(a.failed_charges(), 1u);
  // Exactly up to the budget is fine.
  EXPECT_TRUE(a.charge(ObjectKind::StateStream, 400).ok());
  EXPECT_EQ(a.live_bytes(), 1000u);
  EXPECT_EQ(a.charge(ObjectKind::Other, 1).code(), ErrorCode::GeneralFailure);
  // A huge request does not wrap around.
  EXPECT_EQ(a.charge(ObjectKind::Other, MemoryAccount::kUnlimited).code(),
            ErrorCode::GeneralFailure);
  // Lowering the budget below what is live refuses later charges only.
  a.set_budget(10);
  EXPECT_EQ(a.budget(), 10u);
  EXPECT_EQ(a.charge(ObjectKind::Other, 1).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(a.live_bytes(), 1000u);
}

TEST(MemoryAccount, ZeroByteChargeCountsAnObject) {
  MemoryAccount a(nullptr, 0);
  ASSERT_TRUE(a.charge(ObjectKind::Message, 0).ok());
  EXPECT_EQ(a.live_objects(), 1u);
  EXPECT_EQ(a.charge(ObjectKind::Message, 1).code(), ErrorCode::GeneralFailure);
}

TEST(MemoryAccount, OverReleaseClampsAndIsCounted) {
  MemoryStats stats;
  MemoryAccount a(&stats);
  MemoryAccount other(&stats);
  ASSERT_TRUE(other.charge(ObjectKind::Other, 70).ok());
  ASSERT_TRUE(a.charge(ObjectKind::Other, 10).ok());
  a.release(ObjectKind::Other, 25);
  EXPECT_EQ(a.live_bytes(), 0u);
  EXPECT_EQ(a.live_objects(), 0u);
  EXPECT_EQ(a.release_errors(), 1u);
  a.release(ObjectKind::Other, 0, 1);
  EXPECT_EQ(a.release_errors(), 2u);
  // The other account's share of the totals is untouched.
  EXPECT_EQ(stats.live_bytes(), 70u);
  EXPECT_EQ(stats.live_objects(), 1u);
}

TEST(MemoryAccount, ResetPeak) {
  MemoryAccount a;
  ASSERT_TRUE(a.charge(ObjectKind::Other, 500).ok());
  a.release(ObjectKind::Other, 400, 0);
  EXPECT_EQ(a.peak_bytes(), 500u);
  a.reset_peak();
  EXPECT_EQ(a.peak_bytes(), 100u);
}

TEST(MemoryAccount, FailRateIsDeterministicPerSeed) {
  auto pattern = [](double p, std::uint64_t seed) {
    MemoryAccount a;
    a.set_fail_rate(p, seed);
    std::vector<bool> out;
    for (int i = 0; i < 4000; ++i) {
      Status s = a.charge(ObjectKind::Other, 1);
      if (s.ok()) {
        a.release(ObjectKind::Other, 1);
      } else {
        EXPECT_EQ(s.code(), ErrorCode::OutOfMemory);
      }
      out.push_back(s.ok());
    }
    EXPECT_EQ(a.live_bytes(), 0u);
    return out;
  };
  auto p1 = pattern(0.25, 7), p2 = pattern(0.25, 7), p3 = pattern(0.25, 8);
  EXPECT_EQ(p1, p2);
  EXPECT_NE(p1, p3);
  auto failures = static_cast<double>(std::count(p1.begin(), p1.end(), false));
  EXPECT_NEAR(failures / 4000.0, 0.25, 0.04);
  auto never = pattern(0.0, 7);
  EXPECT_EQ(std::count(never.begin(), never.end(), false), 0);
  auto always = pattern(1.0, 7);
  EXPECT_EQ(std::count(always.begin(), always.end(), true), 0);
}

TEST(Charge, ReleasesOnDestructionAndMoves) {
  MemoryStats stats;
  MemoryAccount a(&stats);
  Figures base = figures(a);
  {
    auto c = Charge::make(a, ObjectKind::TransferState, 300);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(a.live_bytes(), 300u);
    EXPECT_EQ(a.objects(ObjectKind::TransferState), 1u);
    Charge moved = std::move(*c);
    EXPECT_FALSE(c->active());
    EXPECT_TRUE(moved.active());
    EXPECT_EQ(a.live_bytes(), 300u);
    Charge assigned;
    assigned = std::move(moved);
    EXPECT_EQ(a.live_objects(), 1u);
    ASSERT_TRUE(assigned.resize(1000).ok());
    EXPECT_EQ(a.live_bytes(), 1000u);
    ASSERT_TRUE(assigned.resize(10).ok());
    EXPECT_EQ(a.live_bytes(), 10u);
    EXPECT_EQ(a.live_objects(), 1u);
    // Assigning over a live charge releases the old one.
    assigned = Charge::make(a, ObjectKind::Other, 5).value();
    EXPECT_EQ(a.live_bytes(), 5u);
    EXPECT_EQ(a.objects(ObjectKind::TransferState), 0u);
  }
  EXPECT_EQ(figures(a), base);
  EXPECT_EQ(figures(stats), base);
  EXPECT_EQ(a.release_errors(), 0u);
}

TEST(Charge, FailedGrowChangesNothing) {
  MemoryAccount a(nullptr, 100);
  auto c = Charge::make(a, ObjectKind::FxBuffer, 60);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->resize(101).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(c->bytes(), 60u);
  EXPECT_EQ(a.live_bytes(), 60u);
  EXPECT_EQ(Charge::make(a, ObjectKind::FxBuffer, 41).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(a.live_objects(), 1u);
  Charge empty;
  EXPECT_EQ(empty.resize(1).code(), ErrorCode::NullObject);
}

// reset() ends the charge: the account gets its bytes and object back once, and the
// empty charge can no longer be resized or released again.
TEST(Charge, ResetEndsTheChargeOnce) {
  MemoryAccount a;
  {
    auto c = Charge::make(a, ObjectKind::TransferState, 300);
    ASSERT_TRUE(c.ok());
    c->reset();
    EXPECT_FALSE(c->active());
    EXPECT_EQ(c->bytes(), 0u);
    EXPECT_EQ(a.live_bytes(), 0u);
    EXPECT_EQ(a.live_objects(), 0u);
    EXPECT_EQ(c->resize(10).code(), ErrorCode::NullObject);
  }
  EXPECT_EQ(a.live_objects(), 0u);
  EXPECT_EQ(a.release_errors(), 0u);
}

// Growth doubles what is held until more than half the cap is held, then takes the cap:
// an odd cap shows the boundary (500 held of 1001: doubling gives 1000, not 1001).
TEST(ChargedBuffer, GrowthDoublesUntilPastHalfTheCap) {
  MemoryAccount a;
  ChargedBuffer buf(a, ObjectKind::StateStream, 1001);
  ASSERT_TRUE(buf.append(Bytes(500, 1)).ok());
  EXPECT_EQ(buf.charged(), 500u);
  ASSERT_TRUE(buf.append(Bytes(1, 1)).ok());
  EXPECT_EQ(buf.charged(), 1000u);
  ASSERT_TRUE(buf.append(Bytes(500, 1)).ok());
  EXPECT_EQ(buf.charged(), 1001u);
  EXPECT_EQ(a.live_bytes(), 1001u);
}

TEST(ChargedBuffer, CapIsHardAndNothingBeyondItIsBuffered) {
  MemoryAccount a;
  ChargedBuffer buf(a, ObjectKind::StateStream, 1000);
  Bytes chunk(300, 0xAB);
  ASSERT_TRUE(buf.append(chunk).ok());
  ASSERT_TRUE(buf.append(chunk).ok());
  ASSERT_TRUE(buf.append(chunk).ok());
  Status s = buf.append(chunk);
  EXPECT_EQ(s.code(), ErrorCode::TooBig);
  EXPECT_EQ(buf.size(), 900u);
  EXPECT_LE(buf.charged(), 1000u);
  ASSERT_TRUE(buf.append(Bytes(100, 1)).ok());
  EXPECT_EQ(buf.size(), 1000u);
  EXPECT_EQ(buf.append(Bytes(1, 1)).code(), ErrorCode::TooBig);
  EXPECT_EQ(buf.charged(), 1000u);
  EXPECT_EQ(a.live_bytes(), 1000u);
  EXPECT_EQ(a.objects(ObjectKind::StateStream), 1u);
  buf.clear();
  EXPECT_EQ(a.live_bytes(), 0u);
  EXPECT_EQ(a.live_objects(), 0u);
  EXPECT_TRUE(buf.empty());
}

TEST(ChargedBuffer, HugeAppendDoesNotWrap) {
  MemoryAccount a;
  ChargedBuffer buf(a, ObjectKind::StateStream, 10);
  ASSERT_TRUE(buf.append(Bytes(5, 0)).ok());
  EXPECT_EQ(buf.append(Bytes(11, 0)).code(), ErrorCode::TooBig);
  EXPECT_EQ(buf.append(Bytes(6, 0)).code(), ErrorCode::TooBig);
  EXPECT_TRUE(buf.append(Bytes(5, 0)).ok());
  EXPECT_TRUE(buf.append({}).ok());
}

TEST(ChargedBuffer, OverBudgetFailsAndLeavesTheBufferAlone) {
  MemoryAccount a(nullptr, 700);
  ChargedBuffer buf(a, ObjectKind::StateStream, 4096);
  ASSERT_TRUE(buf.append(Bytes(500, 7)).ok());
  std::size_t charged = a.live_bytes();
  EXPECT_EQ(buf.append(Bytes(300, 7)).code(), ErrorCode::GeneralFailure);
  EXPECT_EQ(buf.size(), 500u);
  EXPECT_EQ(a.live_bytes(), charged);
}

TEST(ChargedBuffer, RandomAppendsAgainstModel) {
  std::mt19937_64 rng(31337);
  for (int iter = 0; iter < 300; ++iter) {
    MemoryStats stats;
    MemoryAccount a(&stats, rng() % 2 ? MemoryAccount::kUnlimited : 200 + rng() % 5000);
    if (rng() % 4 == 0) a.set_fail_rate(0.1, rng());
    std::size_t cap = 1 + rng() % 3000;
    Bytes model;
    {
      ChargedBuffer buf(a, ObjectKind::StateStream, cap);
      for (int step = 0; step < 40; ++step) {
        Bytes chunk(rng() % 400, static_cast<std::uint8_t>(step));
        Status s = buf.append(chunk);
        if (s.ok()) model.insert(model.end(), chunk.begin(), chunk.end());
        if (!s.ok() && model.size() + chunk.size() > cap) {
          ASSERT_EQ(s.code(), ErrorCode::TooBig);
        }
        ASSERT_EQ(Bytes(buf.view().begin(), buf.view().end()), model);
        ASSERT_LE(buf.charged(), cap);
        ASSERT_GE(buf.charged(), buf.size());
        ASSERT_EQ(a.live_bytes(), buf.charged());
        ASSERT_LE(a.live_bytes(), a.budget());
        if (rng() % 15 == 0) {
          buf.clear();
          model.clear();
        }
      }
    }
    ASSERT_EQ(a.live_bytes(), 0u);
    ASSERT_EQ(stats.live_bytes(), 0u);
    ASSERT_EQ(stats.live_objects(), 0u);
  }
}

TEST(MemoryStats, ManyThreadsBalanceToZero) {
  MemoryStats stats;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&stats, t] {
      MemoryAccount a(&stats);
      std::mt19937_64 rng(t);
      std::vector<Charge> held;
      for (int i = 0; i < 20000; ++i) {
        if (held.size() < 50 && rng() % 2 == 0) {
          auto kind = static_cast<ObjectKind>(rng() % kObjectKindCount);
          held.push_back(Charge::make(a, kind, rng() % 1000).value());
        } else if (!held.empty()) {
          held.erase(held.begin() + static_cast<std::ptrdiff_t>(rng() % held.size()));
        }
      }
      held.clear();
      EXPECT_EQ(a.live_bytes(), 0u);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stats.live_bytes(), 0u);
  EXPECT_EQ(stats.live_objects(), 0u);
  for (std::size_t k = 0; k < kObjectKindCount; ++k) {
    EXPECT_EQ(stats.bytes(static_cast<ObjectKind>(k)), 0u);
  }
  EXPECT_GT(stats.peak_bytes(), 0u);
}

}  // namespace
}  // namespace ics
