// Oracle: Restriction::parse ([MS-OXCDATA] 2.12, the subset in restriction.h)
// gives the same outcome — accepted, or the same error code at the same offset —
// as a reference validator that walks the bytes without building a tree; an
// accepted restriction serializes back to exactly the input and has at most one
// node per input byte; and matches() agrees with a reference evaluator on bags
// built from the restriction's own tags (each present or not, with values at,
// next to and far from the compared value, or a non-integer value), and obeys
// Not / And / Or laws there.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "fuzz_check.h"
#include "ics/bytes.h"
#include "ics/splitmix.h"
#include "ics/props.h"
#include "ics/restriction.h"

namespace {

using ics::ErrorCode;
using ics::Restriction;
namespace rt = ics::restrict_type;

// ---- the reference validator: (code, offset) of the first problem ----

struct Verdict {
  ErrorCode code = ErrorCode::Success;
  std::size_t offset = 0;
  bool operator==(const Verdict&) const = default;
};

class Validator {
 public:
  explicit Validator(ics::ByteView b) : r_(b) {}

  Verdict run() {
    std::optional<Verdict> v = node(0);
    if (!v && !r_.empty()) v = Verdict{ErrorCode::FormatError, r_.offset()};
    return v.value_or(Verdict{});
  }

 private:
  Verdict format() const { return {ErrorCode::FormatError, r_.offset()}; }
  Verdict unsupported() const { return {ErrorCode::NotSupported, r_.offset()}; }

  std::optional<Verdict> node(std::size_t depth) {
    if (depth >= ics::kMaxRestrictionDepth) return Verdict{ErrorCode::TooBig, r_.offset()};
    std::uint8_t type = 0;
    if (!r_.read_u8(type) || type > rt::kCount) return format();
    if (type == rt::kAnd || type == rt::kOr) return children(depth);
    if (type == rt::kNot) return node(depth + 1);
    if (type == rt::kExist) return skip(4);
    if (type == rt::kProperty) return property();
    return unsupported();
  }

  std::optional<Verdict> children(std::size_t depth) {
    std::uint16_t count = 0;
    if (!r_.read_u16(count)) return format();
    for (std::uint16_t i = 0; i < count; ++i) {
      if (std::optional<Verdict> v = node(depth + 1)) return v;
    }
    return std::nullopt;
  }

  std::optional<Verdict> skip(std::size_t n) {
    ics::ByteView ignored;
    if (!r_.read_bytes(n, ignored)) return format();
    return std::nullopt;
  }

  std::optional<Verdict> property() {
    std::uint8_t op = 0;
    if (!r_.read_u8(op)) return format();
    if (op == ics::relop::kRegularExpression || op == ics::relop::kMemberOfDL) return unsupported();
    if (op > ics::relop::kNotEqual) return format();
    std::uint32_t tag = 0, value_tag = 0;
    if (!r_.read_u32(tag) || !r_.read_u32(value_tag)) return format();
    const std::uint16_t type = ics::PropTag(tag).type();
    std::size_t size = 0;
    switch (type) {
      case ics::ptyp::kBoolean: size = 1; break;
      case ics::ptyp::kInteger16: size = 2; break;
      case ics::ptyp::kInteger32: size = 4; break;
      case ics::ptyp::kInteger64:
      case ics::ptyp::kTime: size = 8; break;
      default: return unsupported();
    }
    if (value_tag != tag) return format();
    ics::ByteView value;
    if (!r_.read_bytes(size, value)) return format();
    if (size == 1 && value[0] > 1) return format();
    return std::nullopt;
  }

  ics::Reader r_;
};

// ---- the reference evaluator ----

// The compared value as a number on one line: signed types by their width. A 128-bit
// integer holds every one exactly (a long double does not everywhere: under Valgrind it has
// 53 bits, and two 64-bit values one apart compared equal).
__int128 number(std::uint16_t type, std::uint64_t v) {
  switch (type) {
    case ics::ptyp::kInteger16: return static_cast<std::int16_t>(static_cast<std::uint16_t>(v));
    case ics::ptyp::kInteger32: return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    case ics::ptyp::kInteger64: return static_cast<std::int64_t>(v);
    default: return static_cast<__int128>(v);
  }
}

bool reference(const Restriction& r, const ics::PropertyBag& bag) {
  switch (r.type) {
    case rt::kAnd:
      for (const Restriction& c : r.children) {
        if (!reference(c, bag)) return false;
      }
      return true;
    case rt::kOr:
      for (const Restriction& c : r.children) {
        if (reference(c, bag)) return true;
      }
      return false;
    case rt::kNot: return !reference(r.children.at(0), bag);
    case rt::kExist: return bag.get(r.tag) != nullptr;
    default: break;
  }
  const ics::PropValue* have = bag.get(r.tag);
  const std::uint64_t* integer = have == nullptr ? nullptr : have->as_integer();
  if (integer == nullptr) return false;
  const __int128 a = number(r.tag.type(), *integer);
  const __int128 b = number(r.tag.type(), r.value);
  const bool results[] = {a < b, a <= b, a > b, a >= b, a == b, a != b};
  return results[r.op];
}

// ---- bags from the restriction's own tags ----

void leaves(const Restriction& r, std::vector<const Restriction*>& out) {
  if (r.type == rt::kExist || r.type == rt::kProperty) out.push_back(&r);
  for (const Restriction& c : r.children) leaves(c, out);
}

// Bag number `round`: per leaf, absent, or the compared value, one either
// side, a far value, or (an integer tag holding) a binary.
ics::PropertyBag bag_for(const std::vector<const Restriction*>& ls, std::uint64_t seed, unsigned round) {
  ics::PropertyBag bag;
  for (std::size_t i = 0; i < ls.size(); ++i) {
    const Restriction& l = *ls[i];
    const std::uint64_t h = ics::splitmix64_mix(seed ^ (i * ics::kSplitmixGamma) ^ round);
    ics::PropValue v;
    v.tag = l.tag;
    switch (h % 7) {
      case 0: continue;  // absent
      case 1: v.data = l.value; break;
      case 2: v.data = l.value + 1; break;
      case 3: v.data = l.value - 1; break;
      case 4: v.data = h >> 3; break;
      case 5: v.data = ics::Bytes{1, 2}; break;
      default: v.data = std::uint64_t{l.value == 0}; break;  // the other Boolean
    }
    if (bag.get(l.tag) == nullptr) bag.set(std::move(v));
  }
  return bag;
}

void check_evaluation(const Restriction& r, ics::ByteView input) {
  std::vector<const Restriction*> ls;
  leaves(r, ls);
  const std::uint64_t seed = ics_fuzz::fnv1a(input);
  const Restriction no = Restriction::negate(r);
  const Restriction twice = Restriction::all_of({r, r});
  const Restriction either = Restriction::any_of({r, no});
  const Restriction both = Restriction::all_of({r, no});
  for (unsigned round = 0; round < 4; ++round) {
    const ics::PropertyBag bag = bag_for(ls, seed, round);
    const bool m = r.matches(bag);
    ICS_FUZZ_CHECK(m == reference(r, bag));
    ICS_FUZZ_CHECK(no.matches(bag) == !m);
    ICS_FUZZ_CHECK(twice.matches(bag) == m);
    ICS_FUZZ_CHECK(either.matches(bag) && !both.matches(bag));
  }
  ICS_FUZZ_CHECK(r.matches(ics::PropertyBag{}) == reference(r, ics::PropertyBag{}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ics::ByteView input(data, size);
  ics::Result<Restriction> r = Restriction::parse(input);
  const Verdict want = Validator(input).run();
  const Verdict got = r.ok() ? Verdict{} : Verdict{r.code(), r.error().offset()};
  ICS_FUZZ_CHECK(got == want);
  if (!r.ok()) return 0;
  const ics::Bytes back = r->serialize();
  ICS_FUZZ_CHECK(back.size() == size && std::equal(back.begin(), back.end(), data));
  ICS_FUZZ_CHECK(r->node_count() <= size);
  check_evaluation(*r, input);
  return 0;
}
