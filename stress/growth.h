// The memory-growth detector of ics-stress: does a series of live-byte samples, one per sync
// loop, keep growing after a warm-up? (The Exchange 2003 ICS object leaked a little on every
// download loop until the session failed with 0x80004005.)
//
// Samples go into at most max_bins equal-width bins of loop numbers (the width doubles when
// the loops outgrow them), so memory stays bounded for any run length and samples may arrive
// out of order (several threads). analyze() drops the warm-up, merges the remaining bins into
// `groups` consecutive groups (batch means: loops close together share in-flight state, so
// single loops are not independent observations), fits a weighted least-squares line of live
// bytes over loop number to the group means, and flags growth only when every part of the
// confidence rule holds:
//   - the slope is at least threshold bytes per loop;
//   - its t-statistic (slope / standard error, groups as observations) is at least min_t;
//   - the slope over the second half of the groups is at least half the threshold (growth
//     goes on: a one-time step, such as a cache that fills once, is not a leak);
//   - the mean of the last window of groups exceeds that of the first window by more than
//     window_sigmas standard errors of the residual noise.
// The same fit per ObjectKind names the kind that grows most.
//
// Plain value type; not thread-safe (the harness serialises add() with a mutex).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ics/memory.h"

namespace ics::stress {

using KindBytes = std::array<double, kObjectKindCount>;

struct GrowthOptions {
  double warmup_fraction = 0.2;   // loops ignored at the start
  std::uint64_t min_warmup_loops = 0;  // at least this many (per-fiber state fills per fiber)
  double threshold = 0.5;         // bytes per loop
  double min_t = 8.0;             // slope / standard error
  double window_fraction = 0.1;   // first and last windows, of the post-warm-up bins
  double window_sigmas = 4.0;
  std::size_t groups = 32;        // batch means the fit uses
  std::size_t min_groups = 8;     // groups needed for a verdict
  std::size_t max_bins = 4096;    // a power of two
};

// A weighted least-squares line.
struct LineFit {
  double slope = 0;
  double intercept = 0;
  double r2 = 0;
  double t = 0;            // slope / standard error; +inf for an exact line with a slope
  double residual_sd = 0;  // weighted standard deviation of the residuals
  double sigma2 = 0;       // residual variance per unit weight (a point of weight w: sigma2 / w)
  std::size_t points = 0;
};
// x, y and weights of equal length; fewer than 3 points give a zero fit.
LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y,
                 const std::vector<double>& w);

struct GrowthReport {
  bool flagged = false;
  bool enough_data = false;
  std::string reason;  // which part of the rule decided
  double slope = 0;    // bytes per loop, after the warm-up
  double r2 = 0;
  double t = 0;
  double second_half_slope = 0;
  double window_delta = 0;  // last window mean - first window mean
  double window_noise = 0;  // what window_delta must exceed
  double threshold = 0;
  std::string kind;  // the ObjectKind name that grows most, or "total"
  KindBytes kind_slopes{};
  std::uint64_t loops = 0;         // loops seen (highest loop number + 1)
  std::uint64_t warmup_loops = 0;
  double first_bytes = 0;  // fitted live bytes at the end of the warm-up
  double last_bytes = 0;   // mean of the last bin
  // Live bytes over loops, warm-up included, downsampled to <= max_points.
  std::vector<std::pair<std::uint64_t, double>> samples;
};

class GrowthDetector {
 public:
  explicit GrowthDetector(GrowthOptions options = {});

  void add(std::uint64_t loop, double total, const KindBytes& kinds);
  GrowthReport analyze(std::size_t max_points = 200) const;
  std::uint64_t count() const { return count_; }
  const GrowthOptions& options() const { return options_; }

  // Samples of consecutive loops.
  struct Bin {
    double n = 0;
    double sum_x = 0;
    double sum_total = 0;
    KindBytes sum_kinds{};
    void merge(const Bin& o);
  };

 private:
  void compress();
  std::vector<Bin> post_warmup(std::uint64_t loops) const;
  // Merges consecutive bins into at most `groups` bins of (nearly) equal bin counts.
  static std::vector<Bin> group(const std::vector<Bin>& bins, std::size_t groups);
  void fill_windows(const std::vector<Bin>& groups, const LineFit& fit, GrowthReport& r) const;
  void fill_kinds(const std::vector<Bin>& groups, GrowthReport& r) const;
  std::uint64_t warmup(std::uint64_t loops) const;
  void decide(GrowthReport& r) const;

  GrowthOptions options_;
  std::vector<Bin> bins_;
  std::uint64_t width_ = 1;
  std::uint64_t count_ = 0;
  std::uint64_t max_loop_ = 0;
};

}  // namespace ics::stress
