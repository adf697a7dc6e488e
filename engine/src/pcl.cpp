#include "ics/pcl.h"

#include <algorithm>

namespace ics {
namespace {

// Entry key order: GUID bytes, then LocalId size.
bool key_less(const Xid& a, const Xid& b) {
  if (a.guid != b.guid) return a.guid < b.guid;
  return a.local_size < b.local_size;
}

bool same_key(const Xid& a, const Xid& b) {
  return a.guid == b.guid && a.local_size == b.local_size;
}

}  // namespace

Pcl Pcl::of(const Xid& x) {
  Pcl p;
  p.add(x);
  return p;
}

Result<Pcl> Pcl::parse(ByteView b) {
  Reader r(b);
  Pcl p;
  while (!r.empty()) {
    std::size_t at = r.offset();
    std::uint8_t size = 0;
    r.read_u8(size);
    if (size < kXidMinSize || size > kXidMaxSize) {
      return Error(ErrorCode::FormatError, "XidSize must be 17 to 24", at);
    }
    ByteView raw;
    if (!r.read_bytes(size, raw)) {
      return Error(ErrorCode::FormatError, "SizedXid cut short", at);
    }
    ICS_TRY_ASSIGN(Xid x, parse_xid(raw));
    p.add(x);
  }
  return p;
}

Bytes Pcl::serialize() const {
  Writer w;
  for (const Xid& x : xids_) {
    w.put_u8(static_cast<std::uint8_t>(x.size()));
    write_xid(w, x);
  }
  return w.take();
}

void Pcl::add(const Xid& x) {
  auto it = std::lower_bound(xids_.begin(), xids_.end(), x, key_less);
  if (it == xids_.end() || !same_key(*it, x)) {
    xids_.insert(it, x);
    return;
  }
  if (x.local_value() > it->local_value()) *it = x;
}

void Pcl::merge(const Pcl& other) {
  for (const Xid& x : other.xids_) add(x);
}

bool Pcl::includes(const Xid& x) const {
  auto it = std::lower_bound(xids_.begin(), xids_.end(), x, key_less);
  return it != xids_.end() && same_key(*it, x) && it->local_value() >= x.local_value();
}

bool Pcl::includes_all(const Pcl& other) const {
  return std::all_of(other.xids_.begin(), other.xids_.end(),
                     [this](const Xid& x) { return includes(x); });
}

PclOrder compare(const Pcl& ours, const Pcl& theirs) {
  bool theirs_has_ours = theirs.includes_all(ours);
  bool ours_has_theirs = ours.includes_all(theirs);
  if (theirs_has_ours && ours_has_theirs) return PclOrder::Equal;
  if (theirs_has_ours) return PclOrder::Newer;
  if (ours_has_theirs) return PclOrder::Older;
  return PclOrder::Conflict;
}

std::string_view name(PclOrder order) {
  switch (order) {
    case PclOrder::Equal:
      return "Equal";
    case PclOrder::Newer:
      return "Newer";
    case PclOrder::Older:
      return "Older";
    case PclOrder::Conflict:
      return "Conflict";
  }
  return "Unknown";
}

}  // namespace ics
