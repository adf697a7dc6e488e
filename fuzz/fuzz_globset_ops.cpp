// Oracle: a script of Globset calls on two sets (insert / remove of values and
// ranges, unite, intersect, difference, clear, encode-decode, from_ranges; values
// from windows around 0x100, 2^32 and 2^48-1, and over 48 bits) keeps each set
// equal to a std::set<uint64_t> model: size, min/max, range invariants and
// probes after every step, every range at the end; a bad argument is rejected
// with InvalidParameter and changes nothing. The script: script/globset_ops.h; its
// op-level mutator: script/globset_ops_mutator.h.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory_resource>
#include <set>
#include <utility>
#include <vector>

#include "fuzz_check.h"
#include "ics/globset.h"
#include "script/globset_ops.h"
#include "script/globset_ops_mutator.h"

namespace {

namespace script = ics_fuzz::globset_ops;
using script::Kind;

// std::set over a per-input pool: few heap calls under ASan, nothing kept between inputs.
using Model = std::pmr::set<std::uint64_t>;

struct Slot {
  explicit Slot(std::pmr::memory_resource* pool) : model(pool) {}
  ics::Globset set;
  Model model;
};

struct Step {
  const script::Op& op;
  Slot& t;        // the set the call is made on
  const Slot& o;  // the other one, for set algebra
  std::uint64_t probes[4] = {};
  std::size_t probe_count = 0;

  void probe(std::uint64_t low, std::uint64_t high) {
    for (std::uint64_t p : {low - 1, low, high, high + 1}) probes[probe_count++] = p;
  }
};

bool valid(std::uint64_t low, std::uint64_t high) { return low <= high && high <= ics::kGlobcntMax; }

// The op's value or range (low > high and over 48 bits included).
void mutate(Step& s, bool add) {
  const std::uint64_t low = script::value_of(s.op.low), high = script::high_of(s.op);
  s.probe(low, high);
  if (!valid(low, high)) {
    ics::Globset before = s.t.set;
    ics::Status st = add ? s.t.set.insert(low, high) : s.t.set.remove(low, high);
    ICS_FUZZ_CHECK(st.code() == ics::ErrorCode::InvalidParameter && s.t.set == before);
    return;
  }
  ICS_FUZZ_CHECK((add ? s.t.set.insert(low, high) : s.t.set.remove(low, high)).ok());
  for (std::uint64_t v = low; v <= high; ++v) {
    if (add) {
      s.t.model.insert(v);
    } else {
      s.t.model.erase(v);
    }
  }
}

enum class Algebra { Unite, Intersect, Difference };

void algebra(Step& s, Algebra which) {
  Model out(s.t.model.get_allocator());
  for (std::uint64_t v : s.t.model) {
    bool in_other = s.o.model.count(v) != 0;
    if (which == Algebra::Unite || (which == Algebra::Intersect) == in_other) out.insert(v);
  }
  if (which == Algebra::Unite) out.insert(s.o.model.begin(), s.o.model.end());
  s.t.set = which == Algebra::Unite       ? ics::unite(s.t.set, s.o.set)
            : which == Algebra::Intersect ? ics::intersect(s.t.set, s.o.set)
                                          : ics::difference(s.t.set, s.o.set);
  s.t.model = std::move(out);
  if (!s.o.model.empty()) s.probe(*s.o.model.begin(), *s.o.model.rbegin());
}

void run(Step& s) {
  switch (s.op.kind) {
    case Kind::Insert:
    case Kind::InsertRange: return mutate(s, true);
    case Kind::Remove:
    case Kind::RemoveRange: return mutate(s, false);
    case Kind::Unite: return algebra(s, Algebra::Unite);
    case Kind::Intersect: return algebra(s, Algebra::Intersect);
    case Kind::Difference: return algebra(s, Algebra::Difference);
    case Kind::Clear:
      s.t.set.clear();
      s.t.model.clear();
      return;
    case Kind::RoundTrip: {
      ics::Result<ics::Globset> back = ics::decode_globset(ics::ByteView(ics::encode_globset(s.t.set)));
      ICS_FUZZ_CHECK(back.ok() && *back == s.t.set);
      s.t.set = std::move(*back);
      return;
    }
    case Kind::FromRanges: {  // the ranges reversed, each given twice
      std::vector<ics::GlobRange> rs(s.t.set.ranges().rbegin(), s.t.set.ranges().rend());
      rs.insert(rs.end(), s.t.set.ranges().begin(), s.t.set.ranges().end());
      ics::Result<ics::Globset> again = ics::Globset::from_ranges(std::move(rs));
      ICS_FUZZ_CHECK(again.ok() && *again == s.t.set);
      return;
    }
  }
}

void check(const Slot& s, const Step& step) {
  const auto& rs = s.set.ranges();
  for (std::size_t i = 0; i < rs.size(); ++i) {
    ICS_FUZZ_CHECK(rs[i].low <= rs[i].high && rs[i].high <= ics::kGlobcntMax);
    ICS_FUZZ_CHECK(i == 0 || rs[i - 1].high + 1 < rs[i].low);  // sorted, disjoint, not touching
  }
  ICS_FUZZ_CHECK(s.set.size() == s.model.size() && s.set.empty() == s.model.empty());
  ICS_FUZZ_CHECK(s.model.empty() || (*s.set.min() == *s.model.begin() && *s.set.max() == *s.model.rbegin()));
  for (std::size_t i = 0; i < step.probe_count; ++i) {
    ICS_FUZZ_CHECK(s.set.contains(step.probes[i]) == (s.model.count(step.probes[i]) != 0));
  }
}

void check_all(const Slot& s) {
  std::vector<ics::GlobRange> expect;
  for (std::uint64_t v : s.model) {
    if (!expect.empty() && expect.back().high + 1 == v) {
      expect.back().high = v;
    } else {
      expect.push_back({v, v});
    }
  }
  ICS_FUZZ_CHECK(s.set.ranges() == expect);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::byte arena[64 << 10];
  std::pmr::monotonic_buffer_resource upstream(arena, sizeof arena);
  std::pmr::unsynchronized_pool_resource pool(&upstream);
  Slot slots[2] = {Slot(&pool), Slot(&pool)};
  script::Reader reader(data, size);
  for (script::Op op; reader.next(op);) {
    Step s{op, slots[op.set], slots[op.set ^ 1]};
    run(s);
    check(s.t, s);
  }
  check_all(slots[0]);
  check_all(slots[1]);
  return 0;
}

// libFuzzer's byte mutation; absent in the replay build.
extern "C" __attribute__((weak)) std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

// Op-level edits of the script, with libFuzzer's byte mutation as the fallback
// (script/globset_ops_mutator.h).
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                              unsigned int seed) {
  return script::mutate(data, size, max_size, seed, LLVMFuzzerMutate);
}

// fuzz/describe: the script one op a line.
extern "C" int IcsFuzzDescribe(const std::uint8_t* data, std::size_t size) {
  for (const script::Op& op : script::decode(data, size)) std::printf("%s\n", script::to_string(op).c_str());
  return 0;
}
