// Globset codec throughput against memcpy of the same number of bytes.
// Each BM_Globset* reports bytes of GLOBSET encoding per second; BM_Memcpy_1MiB
// copies 1 MiB, so (codec bytes/s) / (memcpy bytes/s) is the ratio to read off.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "ics/globset.h"

namespace {

constexpr std::size_t kTarget = std::size_t{1} << 20;

// Ranges produced by `next` until their encoding reaches ~1 MiB: a sample
// gives the bytes per range, then the rest is generated in one go.
template <class Next>
ics::Globset build(Next next) {
  std::vector<ics::GlobRange> ranges;
  for (int i = 0; i < 65536; ++i) ranges.push_back(next());
  double per_range = static_cast<double>(ics::encode_globset(*ics::Globset::from_ranges(ranges)).size()) /
                     static_cast<double>(ranges.size());
  auto wanted = static_cast<std::size_t>(static_cast<double>(kTarget) / per_range);
  while (ranges.size() < wanted) ranges.push_back(next());
  return *ics::Globset::from_ranges(std::move(ranges));
}

// Dense: a counter with runs of 1-4 values and gaps of 1-3 values: mostly
// Bitmask and one-byte Range commands under five pushed bytes.
const ics::Globset& dense_set() {
  static const ics::Globset s = [] {
    std::mt19937_64 rng(1);
    ics::Globcnt at = 0x0000123400000000ull;
    return build([&] {
      ics::Globcnt low = at + 1 + rng() % 3;
      ics::Globcnt high = low + rng() % 4;
      at = high + 1;
      return ics::GlobRange{low, high};
    });
  }();
  return s;
}

// Sparse: values 2^12..2^20 apart, a few short runs: mostly singletons under
// three or four pushed bytes.
const ics::Globset& sparse_set() {
  static const ics::Globset s = [] {
    std::mt19937_64 rng(2);
    ics::Globcnt at = 0x0000010000000000ull;
    return build([&] {
      ics::Globcnt low = at + (std::uint64_t{1} << 12) + rng() % (std::uint64_t{1} << 20);
      ics::Globcnt high = low + (rng() % 8 == 0 ? 1 + rng() % 50 : 0);
      at = high + 1;
      return ics::GlobRange{low, high};
    });
  }();
  return s;
}

void decode(benchmark::State& state, const ics::Globset& s) {
  const ics::Bytes coded = ics::encode_globset(s);
  for (auto _ : state) {
    auto out = ics::decode_globset(ics::ByteView(coded));
    if (!out.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * coded.size()));
  state.counters["bytes"] = static_cast<double>(coded.size());
  state.counters["ranges"] = static_cast<double>(s.range_count());
}

void encode(benchmark::State& state, const ics::Globset& s) {
  const std::size_t size = ics::encode_globset(s).size();
  for (auto _ : state) {
    ics::Bytes coded = ics::encode_globset(s);
    benchmark::DoNotOptimize(coded.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.counters["bytes"] = static_cast<double>(size);
  state.counters["ranges"] = static_cast<double>(s.range_count());
}

void BM_GlobsetDecode_Dense(benchmark::State& state) { decode(state, dense_set()); }
void BM_GlobsetDecode_Sparse(benchmark::State& state) { decode(state, sparse_set()); }
void BM_GlobsetEncode_Dense(benchmark::State& state) { encode(state, dense_set()); }
void BM_GlobsetEncode_Sparse(benchmark::State& state) { encode(state, sparse_set()); }

void BM_Memcpy_1MiB(benchmark::State& state) {
  std::vector<unsigned char> from(kTarget, 0x5A), to(kTarget);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), kTarget);
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kTarget));
}

BENCHMARK(BM_GlobsetDecode_Dense);
BENCHMARK(BM_GlobsetDecode_Sparse);
BENCHMARK(BM_GlobsetEncode_Dense);
BENCHMARK(BM_GlobsetEncode_Sparse);
BENCHMARK(BM_Memcpy_1MiB);

}  // namespace
