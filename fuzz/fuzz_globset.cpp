// Oracle: decode_globset agrees with a naive reference decoder on accept/reject
// (and the failing offset) and on the set, checked value by value on a std::set
// for small sets; an accepted set re-encodes, never longer than coding one range
// at a time, to bytes that decode to the same set.
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <set>
#include <vector>

#include "fuzz_check.h"
#include "globset_reference.h"
#include "ics/globset.h"
#include "mutate/hooks.h"
#include "mutate/set_mutator.h"

namespace {

constexpr std::uint64_t kModelMax = 256;  // values checked one by one on a std::set (larger sets: ranges vs the reference)

bool normalized(const std::vector<ics::GlobRange>& rs) {
  for (std::size_t i = 0; i < rs.size(); ++i) {
    if (rs[i].low > rs[i].high || rs[i].high > ics::kGlobcntMax) return false;
    if (i > 0 && rs[i - 1].high + 1 >= rs[i].low) return false;
  }
  return true;
}

// Singleton: Push6 + 6 bytes; run: Range + 12 bytes; then End.
std::size_t one_range_at_a_time(const ics::Globset& s) {
  std::size_t n = 1;
  for (const ics::GlobRange& r : s.ranges()) n += r.low == r.high ? 7 : 13;
  return n;
}

void check_model(const ics::Globset& s, const ics_fuzz::RefGlobset& ref) {
  std::uint64_t total = 0;
  for (const auto& [low, high] : ref.ranges) total += high - low + 1;
  if (total > kModelMax) return;
  std::byte arena[16 << 10];  // most models fit: few heap calls under ASan
  std::pmr::monotonic_buffer_resource pool(arena, sizeof arena);
  std::pmr::set<std::uint64_t> model(&pool);
  for (const auto& [low, high] : ref.ranges) {
    for (std::uint64_t v = low; v <= high; ++v) model.insert(v);
  }
  ICS_FUZZ_CHECK(s.size() == model.size());
  for (std::uint64_t v : model) ICS_FUZZ_CHECK(s.contains(v));  // with equal sizes: equal sets
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ics::ByteView in(data, size);
  ics::Result<ics::Globset> got = ics::decode_globset(in);
  // The reference's ranges on the stack for inputs up to about 2 KB: a heap block
  // costs per byte under ASan (fill, fresh pages while the quarantine holds the old).
  std::byte arena[32 << 10];
  std::pmr::monotonic_buffer_resource pool(arena, sizeof arena);
  ics_fuzz::RefGlobset ref = ics_fuzz::ref_decode_globset(in, &pool);
  ICS_FUZZ_CHECK(got.ok() == ref.ok);
  if (!got.ok()) {
    ICS_FUZZ_CHECK(got.code() == ics::ErrorCode::FormatError);
    ICS_FUZZ_CHECK(got.error().offset() == ref.error_offset);
    return 0;
  }
  const ics::Globset& s = *got;
  ICS_FUZZ_CHECK(normalized(s.ranges()));
  check_model(s, ref);
  ics_fuzz::ref_merge(ref.ranges);
  ICS_FUZZ_CHECK(ref.ranges.size() == s.range_count());
  for (std::size_t i = 0; i < ref.ranges.size(); ++i) {
    ICS_FUZZ_CHECK(ref.ranges[i].first == s.ranges()[i].low && ref.ranges[i].second == s.ranges()[i].high);
  }

  ics::Bytes again = ics::encode_globset(s);
  ICS_FUZZ_CHECK(again.size() <= one_range_at_a_time(s));
  ics::Result<ics::Globset> back = ics::decode_globset(ics::ByteView(again));
  ICS_FUZZ_CHECK(back.ok() && *back == s);
  return 0;
}

// Structure-aware mutation (fuzz/mutate/set_mutator.h); ICS_FUZZ_BYTE_ONLY=1 turns it off.
ICS_FUZZ_CUSTOM_MUTATORS(ics_fuzz::globset_custom_mutate, ics_fuzz::globset_custom_crossover)
