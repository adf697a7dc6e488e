// The growth detector against series whose answer is known by construction: lines, flat
// noise, steps, ramps that stop, and the binning that keeps memory bounded.
#include "growth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

namespace ics::stress {
namespace {

KindBytes kinds_with(ObjectKind k, double v) {
  KindBytes out{};
  out[static_cast<std::size_t>(k)] = v;
  return out;
}

TEST(FitLine, ExactLine) {
  std::vector<double> x, y, w;
  for (int i = 0; i < 10; ++i) {
    x.push_back(i);
    y.push_back(3.0 * i + 2);
    w.push_back(1);
  }
  LineFit f = fit_line(x, y, w);
  EXPECT_NEAR(f.slope, 3.0, 1e-12);
  EXPECT_NEAR(f.intercept, 2.0, 1e-12);
  EXPECT_NEAR(f.r2, 1.0, 1e-12);
  EXPECT_TRUE(std::isinf(f.t) || f.t > 1e9);
}

TEST(FitLine, WeightsCountAsRepeatedPoints) {
  // (0,0) weight 2, (1,1), (2,0): the same as the four points (0,0),(0,0),(1,1),(2,0).
  LineFit a = fit_line({0, 1, 2}, {0, 1, 0}, {2, 1, 1});
  // Least squares by hand for the four points: mean x 0.75, mean y 0.25,
  // Sxy = sum (x-0.75)(y-0.25) = 0.1875*2 + 0.1875 - 0.3125 = 0.25, Sxx = 2.75.
  EXPECT_NEAR(a.slope, 0.25 / 2.75, 1e-12);
}

TEST(FitLine, TooFewPointsGiveAZeroFit) {
  LineFit f = fit_line({0, 1}, {0, 5}, {1, 1});
  EXPECT_EQ(f.slope, 0);
  EXPECT_EQ(f.points, 2u);
}

TEST(Growth, FlatSeriesIsNotFlagged) {
  GrowthDetector d;
  for (std::uint64_t i = 0; i < 5000; ++i) d.add(i, 100000, kinds_with(ObjectKind::Session, 100000));
  GrowthReport r = d.analyze();
  EXPECT_TRUE(r.enough_data);
  EXPECT_FALSE(r.flagged) << r.reason;
  EXPECT_NEAR(r.slope, 0, 1e-9);
}

TEST(Growth, OneBytePerLoopIsFlaggedAndAttributed) {
  GrowthDetector d;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    KindBytes k = kinds_with(ObjectKind::Session, 50000);
    k[static_cast<std::size_t>(ObjectKind::DownloadContext)] = static_cast<double>(i);
    d.add(i, 50000 + static_cast<double>(i), k);
  }
  GrowthReport r = d.analyze();
  EXPECT_TRUE(r.flagged) << r.reason;
  EXPECT_NEAR(r.slope, 1.0, 1e-6);
  EXPECT_EQ(r.kind, "DownloadContext");
  EXPECT_EQ(r.warmup_loops, 2000u);
  EXPECT_LE(r.samples.size(), 200u);
  EXPECT_GE(r.samples.size(), 150u);
}

TEST(Growth, GrowthOutsideEveryKindIsTotal) {
  GrowthDetector d;
  for (std::uint64_t i = 0; i < 4000; ++i) d.add(i, 8.0 * static_cast<double>(i), KindBytes{});
  GrowthReport r = d.analyze();
  EXPECT_TRUE(r.flagged);
  EXPECT_EQ(r.kind, "total");
}

TEST(Growth, AStepIsNotALeak) {
  GrowthDetector d;
  for (std::uint64_t i = 0; i < 10000; ++i) d.add(i, i < 5000 ? 1000 : 900000, KindBytes{});
  GrowthReport r = d.analyze();
  EXPECT_GT(r.slope, 1);
  EXPECT_FALSE(r.flagged);
  EXPECT_EQ(r.reason, "growth stopped in the second half");
}

TEST(Growth, GrowthOnlyDuringWarmUpIsIgnored) {
  GrowthDetector d;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    d.add(i, 1000.0 * static_cast<double>(std::min<std::uint64_t>(i, 1500)), KindBytes{});
  }
  GrowthReport r = d.analyze();
  EXPECT_FALSE(r.flagged) << r.reason;
  EXPECT_NEAR(r.slope, 0, 1e-9);
}

TEST(Growth, TooFewLoopsGiveNoVerdict) {
  GrowthDetector d;
  for (std::uint64_t i = 0; i < 6; ++i) d.add(i, 1000.0 * static_cast<double>(i), KindBytes{});
  GrowthReport r = d.analyze();
  EXPECT_FALSE(r.enough_data);
  EXPECT_FALSE(r.flagged);
}

// Noise like the in-flight bytes of many fibers: stationary, standard deviation 20 KB,
// correlated over about 100 loops (AR(1), phi 0.99). Without a trend it is never flagged over
// many seeds; with a trend well above it, always.
double noisy(std::mt19937_64& g, double& level) {
  const double phi = 0.99;
  std::normal_distribution<double> shock(0, 20000 * std::sqrt(1 - phi * phi));
  level = phi * level + shock(g);
  return 1e6 + level;
}

TEST(Growth, BoundedNoiseIsNeverFlagged) {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    std::mt19937_64 g(seed);
    double level = 0;
    GrowthDetector d;
    for (std::uint64_t i = 0; i < 10000; ++i) d.add(i, noisy(g, level), KindBytes{});
    GrowthReport r = d.analyze();
    EXPECT_FALSE(r.flagged) << "seed " << seed << ": slope " << r.slope << " t " << r.t;
  }
}

TEST(Growth, TrendAboveNoiseIsFlagged) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 g(seed);
    double level = 0;
    GrowthDetector d;
    for (std::uint64_t i = 0; i < 10000; ++i) {
      d.add(i, noisy(g, level) + 64.0 * static_cast<double>(i), KindBytes{});
    }
    GrowthReport r = d.analyze();
    EXPECT_TRUE(r.flagged) << "seed " << seed << ": " << r.reason;
    EXPECT_NEAR(r.slope, 64, 16);
  }
}

TEST(Growth, BinsStayBoundedAndOrderDoesNotMatter) {
  GrowthOptions o;
  o.max_bins = 64;
  GrowthDetector forward(o), backward(o);
  const std::uint64_t n = 100000;
  for (std::uint64_t i = 0; i < n; ++i) forward.add(i, 5.0 * static_cast<double>(i), KindBytes{});
  for (std::uint64_t i = n; i-- > 0;) backward.add(i, 5.0 * static_cast<double>(i), KindBytes{});
  GrowthReport a = forward.analyze(), b = backward.analyze();
  EXPECT_NEAR(a.slope, 5.0, 1e-6);
  EXPECT_NEAR(b.slope, a.slope, 1e-9);
  EXPECT_EQ(a.loops, n);
  EXPECT_LE(a.samples.size(), 64u);
}

}  // namespace
}  // namespace ics::stress
