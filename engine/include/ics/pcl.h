// Predecessor change list (PidTagPredecessorChangeList, [MS-OXCFXICS] 2.2.1.2.x;
// comparison rules: digest section 5.1, [MS-OXCFXICS] 3.1.5.6.1).
//
// A Pcl is a set of XIDs, at most one per (NamespaceGuid, LocalId size), kept
// sorted by GUID bytes then size. In practice every XID is 22 bytes (GUID +
// 6-byte GLOBCNT), so there is one XID per GUID. XIDs of different sizes for
// the same GUID are never comparable ("same-size rule"), so they are kept side
// by side; this keeps merge() a true least upper bound.
//
// On the wire a PCL is a concatenation of SizedXid = XidSize (1 byte) ‖ XID,
// with no count. parse() accepts the entries in any order and folds duplicates
// (keeping the largest LocalId); serialize() writes the canonical sorted form.
//
// Plain value type: copyable, no shared state, thread-compatible.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "ics/ids.h"

namespace ics {

class Pcl {
 public:
  Pcl() = default;
  // A PCL holding a single XID.
  static Pcl of(const Xid& x);

  // The whole of b is a list of SizedXid; FormatError (with the offset) on an
  // XidSize outside 17..24 or an entry cut short. Empty input is an empty PCL.
  static Result<Pcl> parse(ByteView b);
  Bytes serialize() const;

  // Adds x, or raises the LocalId of the entry with the same GUID and size.
  void add(const Xid& x);
  // Adds every XID of other (the union keeping the largest LocalId).
  void merge(const Pcl& other);
  // Whether an entry has x's GUID and size and a LocalId >= x's.
  bool includes(const Xid& x) const;
  // Whether every XID of other is included in this PCL.
  bool includes_all(const Pcl& other) const;

  const std::vector<Xid>& xids() const { return xids_; }
  std::size_t size() const { return xids_.size(); }
  bool empty() const { return xids_.empty(); }
  bool operator==(const Pcl& o) const { return xids_ == o.xids_; }

 private:
  std::vector<Xid> xids_;  // sorted by (guid, local_size), unique keys
};

// How THEIRS relates to OURS:
//   Equal    both include each other (the same version);
//   Newer    theirs includes ours but not the reverse (apply theirs);
//   Older    ours includes theirs but not the reverse (ignore theirs);
//   Conflict neither includes the other.
enum class PclOrder { Equal, Newer, Older, Conflict };
PclOrder compare(const Pcl& ours, const Pcl& theirs);
std::string_view name(PclOrder order);

}  // namespace ics
