#include "growth.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace ics::stress {

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y,
                 const std::vector<double>& w) {
  LineFit f;
  f.points = x.size();
  if (x.size() < 3 || y.size() != x.size() || w.size() != x.size()) return f;
  double sw = 0, swx = 0, swy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sw += w[i];
    swx += w[i] * x[i];
    swy += w[i] * y[i];
  }
  if (sw <= 0) return f;
  const double mx = swx / sw, my = swy / sw;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += w[i] * (x[i] - mx) * (x[i] - mx);
    sxy += w[i] * (x[i] - mx) * (y[i] - my);
    syy += w[i] * (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0) return f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  double ssr = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = y[i] - (f.intercept + f.slope * x[i]);
    ssr += w[i] * r * r;
  }
  f.r2 = syy > 0 ? std::max(0.0, 1.0 - ssr / syy) : 0.0;
  f.residual_sd = std::sqrt(ssr / sw);
  // Each bin mean has variance sigma^2 / weight: sigma^2 is estimated from the residuals.
  f.sigma2 = ssr / static_cast<double>(x.size() - 2);
  const double se = std::sqrt(f.sigma2 / sxx);
  if (se > 0) {
    f.t = f.slope / se;
  } else if (f.slope != 0) {
    f.t = std::copysign(std::numeric_limits<double>::infinity(), f.slope);
  }
  return f;
}

void GrowthDetector::Bin::merge(const Bin& o) {
  n += o.n;
  sum_x += o.sum_x;
  sum_total += o.sum_total;
  for (std::size_t k = 0; k < sum_kinds.size(); ++k) sum_kinds[k] += o.sum_kinds[k];
}

GrowthDetector::GrowthDetector(GrowthOptions options) : options_(options) {
  options_.max_bins = std::max<std::size_t>(options_.max_bins, 16);
  bins_.resize(options_.max_bins);
}

void GrowthDetector::compress() {
  const std::size_t half = bins_.size() / 2;
  for (std::size_t j = 0; j < half; ++j) {
    Bin merged = bins_[2 * j];
    merged.merge(bins_[2 * j + 1]);
    bins_[j] = merged;
  }
  for (std::size_t j = half; j < bins_.size(); ++j) bins_[j] = Bin{};
  width_ *= 2;
}

void GrowthDetector::add(std::uint64_t loop, double total, const KindBytes& kinds) {
  while (loop / width_ >= bins_.size()) compress();
  Bin& b = bins_[loop / width_];
  b.n += 1;
  b.sum_x += static_cast<double>(loop);
  b.sum_total += total;
  for (std::size_t k = 0; k < kinds.size(); ++k) b.sum_kinds[k] += kinds[k];
  max_loop_ = count_ == 0 ? loop : std::max(max_loop_, loop);
  ++count_;
}

std::uint64_t GrowthDetector::warmup(std::uint64_t loops) const {
  const auto warm =
      static_cast<std::uint64_t>(std::ceil(options_.warmup_fraction * static_cast<double>(loops)));
  return std::max(warm, options_.min_warmup_loops);
}

std::vector<GrowthDetector::Bin> GrowthDetector::post_warmup(std::uint64_t loops) const {
  const std::uint64_t warm = warmup(loops);
  std::vector<Bin> out;
  for (std::size_t j = 0; j < bins_.size(); ++j) {
    if (bins_[j].n > 0 && j * width_ >= warm) out.push_back(bins_[j]);
  }
  return out;
}

std::vector<GrowthDetector::Bin> GrowthDetector::group(const std::vector<Bin>& bins,
                                                       std::size_t groups) {
  std::vector<Bin> out;
  if (bins.empty() || groups == 0) return out;
  const std::size_t per = (bins.size() + groups - 1) / groups;
  for (std::size_t i = 0; i < bins.size(); i += per) {
    Bin merged;
    for (std::size_t j = i; j < std::min(bins.size(), i + per); ++j) merged.merge(bins[j]);
    out.push_back(merged);
  }
  return out;
}

namespace {

struct Series {
  std::vector<double> x, y, w;
};

}  // namespace

void GrowthDetector::fill_windows(const std::vector<Bin>& groups, const LineFit& fit,
                                  GrowthReport& r) const {
  const std::size_t m = groups.size();
  const auto k = std::max<std::size_t>(
      2, static_cast<std::size_t>(std::lround(options_.window_fraction * static_cast<double>(m))));
  double w1 = 0, s1 = 0, w2 = 0, s2 = 0;
  for (std::size_t i = 0; i < k && i < m; ++i) {
    w1 += groups[i].n;
    s1 += groups[i].sum_total;
    w2 += groups[m - 1 - i].n;
    s2 += groups[m - 1 - i].sum_total;
  }
  r.window_delta = s2 / w2 - s1 / w1;
  // Standard error of each window's mean, from the residual variance of the whole fit.
  r.window_noise = options_.window_sigmas * std::sqrt(fit.sigma2 / w1 + fit.sigma2 / w2);
}

void GrowthDetector::fill_kinds(const std::vector<Bin>& groups, GrowthReport& r) const {
  std::vector<double> x, y, w;
  for (std::size_t k = 0; k < kObjectKindCount; ++k) {
    x.clear();
    y.clear();
    w.clear();
    for (const Bin& b : groups) {
      x.push_back(b.sum_x / b.n);
      y.push_back(b.sum_kinds[k] / b.n);
      w.push_back(b.n);
    }
    r.kind_slopes[k] = fit_line(x, y, w).slope;
  }
  const auto top = std::max_element(r.kind_slopes.begin(), r.kind_slopes.end());
  r.kind = "total";
  if (*top > 0 && *top >= 0.5 * r.slope) {
    r.kind = std::string(name(static_cast<ObjectKind>(top - r.kind_slopes.begin())));
  }
}

void GrowthDetector::decide(GrowthReport& r) const {
  const double thr = options_.threshold;
  if (!r.enough_data) return;
  if (r.slope < thr) {
    r.reason = "slope below threshold";
  } else if (r.t < options_.min_t) {
    r.reason = "slope not significant (t below bound)";
  } else if (r.second_half_slope < thr / 2) {
    r.reason = "growth stopped in the second half";
  } else if (r.window_delta <= r.window_noise) {
    r.reason = "last window not above first window by more than noise";
  } else {
    r.flagged = true;
    r.reason = "growth: every part of the confidence rule holds";
  }
}

namespace {

Series series_of(const std::vector<GrowthDetector::Bin>& groups, std::size_t from = 0) {
  Series s;
  for (std::size_t i = from; i < groups.size(); ++i) {
    s.x.push_back(groups[i].sum_x / groups[i].n);
    s.y.push_back(groups[i].sum_total / groups[i].n);
    s.w.push_back(groups[i].n);
  }
  return s;
}

}  // namespace

GrowthReport GrowthDetector::analyze(std::size_t max_points) const {
  GrowthReport r;
  r.threshold = options_.threshold;
  r.kind = "total";
  if (count_ == 0) {
    r.reason = "no samples";
    return r;
  }
  r.loops = max_loop_ + 1;
  r.warmup_loops = warmup(r.loops);
  // Batch means: neighbouring loops share in-flight state, so the fit and its t-statistic
  // use a few groups of bins, each long enough to be nearly independent of the next.
  const std::vector<Bin> groups = group(post_warmup(r.loops), options_.groups);
  const Series all = series_of(groups);
  const LineFit fit = fit_line(all.x, all.y, all.w);
  r.slope = fit.slope;
  r.r2 = fit.r2;
  r.t = fit.t;
  r.enough_data = groups.size() >= options_.min_groups;
  if (!groups.empty()) {
    r.first_bytes = fit.intercept + fit.slope * all.x.front();
    r.last_bytes = all.y.back();
  }
  if (!r.enough_data) {
    r.reason = "too few loops after the warm-up for a verdict";
  } else {
    const Series half = series_of(groups, groups.size() / 2);
    r.second_half_slope = fit_line(half.x, half.y, half.w).slope;
    fill_windows(groups, fit, r);
    fill_kinds(groups, r);
    decide(r);
  }
  // Samples for a plot: every bin, warm-up included, merged into <= max_points.
  std::vector<Bin> used;
  for (const Bin& b : bins_) {
    if (b.n > 0) used.push_back(b);
  }
  for (const Bin& b : group(used, max_points)) {
    r.samples.emplace_back(static_cast<std::uint64_t>(std::llround(b.sum_x / b.n)),
                           b.sum_total / b.n);
  }
  return r;
}

}  // namespace ics::stress
