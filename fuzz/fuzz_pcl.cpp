// Oracle: a PCL either fails to parse with FormatError inside the input, or is
// canonical (sorted, one XID per GUID and size), serializes to bytes that parse
// back equal, and, cut into its first and second halves of entries a and b,
// obeys the laws: compare is antisymmetric and Equal exactly when a == b;
// merge(a, b) includes both, is commutative, idempotent and equals the whole;
// compare(a, merge(a, b)) is Newer or Equal.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.h"
#include "ics/pcl.h"

namespace {

using ics::Pcl;
using ics::PclOrder;

PclOrder mirror(PclOrder o) {
  return o == PclOrder::Newer ? PclOrder::Older : o == PclOrder::Older ? PclOrder::Newer : o;
}

Pcl merged(Pcl a, const Pcl& b) {
  a.merge(b);
  return a;
}

void check_canonical(const Pcl& p) {
  const std::vector<ics::Xid>& x = p.xids();
  for (std::size_t i = 1; i < x.size(); ++i) {
    bool before = x[i - 1].guid < x[i].guid ||
                  (x[i - 1].guid == x[i].guid && x[i - 1].local_size < x[i].local_size);
    ICS_FUZZ_CHECK(before);
  }
  ics::Bytes bytes = p.serialize();
  ics::Result<Pcl> back = Pcl::parse(ics::ByteView(bytes));
  ICS_FUZZ_CHECK(back.ok() && *back == p && back->serialize() == bytes);
}

void check_laws(const Pcl& a, const Pcl& b, const Pcl& whole) {
  ICS_FUZZ_CHECK(ics::compare(a, a) == PclOrder::Equal);
  ICS_FUZZ_CHECK(ics::compare(b, a) == mirror(ics::compare(a, b)));
  ICS_FUZZ_CHECK((ics::compare(a, b) == PclOrder::Equal) == (a == b));
  Pcl m = merged(a, b);
  ICS_FUZZ_CHECK(m.includes_all(a) && m.includes_all(b));
  ICS_FUZZ_CHECK(m == merged(b, a) && m == merged(m, a) && m == merged(m, b) && m == merged(m, m));
  ICS_FUZZ_CHECK(m == whole);
  PclOrder up = ics::compare(a, m);
  ICS_FUZZ_CHECK(up == PclOrder::Newer || up == PclOrder::Equal);
  ICS_FUZZ_CHECK((up == PclOrder::Equal) == a.includes_all(b) && a.includes_all(b) == (a == m));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ics::ByteView in(data, size);
  ics::Result<Pcl> whole = Pcl::parse(in);
  if (!whole.ok()) {
    ICS_FUZZ_CHECK(whole.code() == ics::ErrorCode::FormatError && whole.error().offset() <= size);
    return 0;
  }
  check_canonical(*whole);
  std::vector<std::size_t> ends;  // entry boundaries: SizedXid = XidSize (1 byte) + XID
  for (std::size_t at = 0; at < size; at += 1 + std::size_t{data[at]}) ends.push_back(at);
  std::size_t cut = ends.empty() ? 0 : ends[ends.size() / 2];
  ics::Result<Pcl> a = Pcl::parse(in.first(cut));
  ics::Result<Pcl> b = Pcl::parse(in.subspan(cut));
  ICS_FUZZ_CHECK(a.ok() && b.ok());
  check_canonical(*a);
  check_canonical(*b);
  check_laws(*a, *b, *whole);
  return 0;
}
