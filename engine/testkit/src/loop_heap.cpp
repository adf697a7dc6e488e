#include "ics/testkit/loop_heap.h"

#include <algorithm>
#include <cstdio>

namespace ics::testkit {
namespace {

long long diff(std::size_t to, std::size_t from) {
  return to >= from ? static_cast<long long>(to - from) : -static_cast<long long>(from - to);
}

std::string signed_text(long long v) {
  return (v > 0 ? "+" : "") + std::to_string(v);
}

}  // namespace

bool LoopHeapSamples::flat() const {
  for (std::size_t b : after) {
    if ((b > baseline ? b - baseline : baseline - b) > tolerance) return false;
  }
  return true;
}

long long LoopHeapSamples::total_delta() const {
  return after.empty() ? 0 : diff(after.back(), baseline);
}

double LoopHeapSamples::bytes_per_loop() const {
  return after.empty() ? 0.0 : static_cast<double>(total_delta()) / static_cast<double>(after.size());
}

std::optional<std::size_t> LoopHeapSamples::flat_with_warmup() const {
  const std::size_t n = after.size();
  if (n < 2 || after[n - 1] != after[n - 2]) return std::nullopt;
  // Readings i.. (the baseline being reading -1) all equal the last one.
  std::size_t i = n - 2;
  while (i > 0 && after[i - 1] == after[n - 1]) --i;
  if (i == 0 && baseline == after[n - 1]) return warmup;
  return warmup + i + 1;
}

std::string describe_loop_heap(const LoopHeapSamples& s, std::size_t first_deltas) {
  std::string out = "live heap not flat over " + std::to_string(s.after.size()) +
                    " loops after a warm-up of " + std::to_string(s.warmup) + " (heap source " +
                    std::string(heap_source()) +
                    (s.tolerance > 0 ? ", tolerance +-" + std::to_string(s.tolerance) : std::string()) +
                    "): " + signed_text(s.total_delta()) +
                    " bytes in all, ";
  char per[64];
  std::snprintf(per, sizeof per, "%.1f", s.bytes_per_loop());
  out += per;
  out += " bytes per loop; per-loop deltas of the first " +
         std::to_string(std::min(first_deltas, s.after.size())) + ":";
  std::size_t prev = s.baseline;
  std::optional<std::size_t> first_change;
  for (std::size_t i = 0; i < s.after.size(); ++i) {
    if (!first_change && s.after[i] != s.baseline) first_change = i;
    if (i < first_deltas) out += " " + signed_text(diff(s.after[i], prev));
    prev = s.after[i];
  }
  if (first_change) out += "; first change at measured loop " + std::to_string(*first_change);
  if (auto w = s.flat_with_warmup()) {
    out += "; the readings are steady from a warm-up of " + std::to_string(*w) +
           " on (a longer warm-up needed, or growth that stopped)";
  }
  out += "; baseline " + std::to_string(s.baseline) + " bytes";
  return out;
}

namespace detail {

Error loop_body_failed(const Error& e, std::size_t run, std::size_t warmup) {
  std::string where = run < warmup ? "warm-up run " + std::to_string(run)
                                   : "measured loop " + std::to_string(run - warmup);
  return Error(e.code(), "loop body failed at " + where + ": " + e.to_string());
}

Status loop_heap_verdict(const LoopHeapSamples& s) {
  if (s.flat()) return ok_status();
  return Error(ErrorCode::GeneralFailure, describe_loop_heap(s));
}

}  // namespace detail
}  // namespace ics::testkit
