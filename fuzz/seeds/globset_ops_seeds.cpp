// Seeds of fuzz_globset_ops: scripts built from typed ops (script/globset_ops.h) through
// the script's encoder; each is checked to decode back to the ops it was written from.
#include <string>
#include <vector>

#include "script/globset_ops.h"
#include "seeds/seeds.h"

namespace ics_seeds {
namespace {

using namespace ics_fuzz::globset_ops;

void scripted(Seeds& seeds, const char* label, const std::vector<Op>& ops) {
  const Bytes b = encode(ops);
  if (decode(b.data(), b.size()) != ops) seeds.mismatch("globset_ops", label, "does not decode to its ops");
  seeds.write("globset_ops", label, b);
}

}  // namespace

void globset_ops_seeds(Seeds& seeds, Rng& rng) {
  std::vector<Op> fill;  // alternating values in each window of both sets, then algebra
  for (int w = 0; w < 3; ++w) {
    for (int v = 0; v < 64; v += 3) fill.push_back(value_op(Kind::Insert, 0, at(w, v)));
    fill.push_back(range_op(Kind::InsertRange, 1, at(w, 10), at(0, 40)));
  }
  for (Kind k : {Kind::RoundTrip, Kind::Unite}) fill.push_back(plain_op(k, 0));
  fill.push_back(plain_op(Kind::Intersect, 1));
  for (Kind k : {Kind::Difference, Kind::FromRanges}) fill.push_back(plain_op(k, 0));
  scripted(seeds, "fill-and-algebra", fill);

  // Ranges across 0xFF/0x100, 2^32 and up to 2^48 - 1, removals that split.
  scripted(seeds, "edges",
           {range_op(Kind::InsertRange, 0, at(0, 0), at(0, 63)), value_op(Kind::Remove, 0, at(0, 32)),
            range_op(Kind::InsertRange, 0, at(1, 20), at(1, 44)), range_op(Kind::RemoveRange, 0, at(1, 30), at(1, 33)),
            range_op(Kind::InsertRange, 0, at(2, 50), at(2, 63)), value_op(Kind::Insert, 0, at(2, 48)),
            plain_op(Kind::RoundTrip, 0), plain_op(Kind::FromRanges, 0), plain_op(Kind::Clear, 0),
            plain_op(Kind::RoundTrip, 0)});

  // Over 48 bits, reversed ranges: rejected, nothing changes.
  scripted(seeds, "invalid-arguments",
           {value_op(Kind::Insert, 0, at(0, 5)), value_op(Kind::Insert, 0, at(3, 0)),
            range_op(Kind::InsertRange, 0, at(0, 9), at(0, 3)), value_op(Kind::Remove, 0, at(3, 63)),
            range_op(Kind::RemoveRange, 1, at(2, 60), at(2, 10)), plain_op(Kind::RoundTrip, 0)});

  std::vector<Op> bitmask;  // shapes the encoder codes with Bitmask, round-tripped
  for (int v : {1, 2, 3, 5, 7, 8, 9, 20, 22, 24, 26, 28}) bitmask.push_back(value_op(Kind::Insert, 0, at(0, v)));
  bitmask.insert(bitmask.end(), {plain_op(Kind::RoundTrip, 0), plain_op(Kind::Unite, 1),
                                 value_op(Kind::Remove, 1, at(0, 8)), plain_op(Kind::RoundTrip, 1)});
  scripted(seeds, "bitmask-shapes", bitmask);

  for (int i = 0; i < 20; ++i) {  // random scripts of growing length
    seeds.write("globset_ops", "random-" + std::to_string(i), random_bytes(rng, 8 + static_cast<std::size_t>(i) * 12));
  }
}

}  // namespace ics_seeds
