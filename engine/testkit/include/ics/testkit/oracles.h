// Oracles shared by unit tests, fuzz targets and the stress harness.
//
// check_converged / check_hierarchy_converged: after a sync, the replica
// equals the server folder for what the configuration synchronizes. They are
// written from the documented semantics of ics/sync.h, independently of the
// engine's code (they only share Restriction::parse/matches and the tag
// tables). Contents:
//   * the kinds compared are those the flags ask for (Normal, FAI); replica
//     messages of other kinds are ignored;
//   * every server message of such a kind in scope (matching the
//     restriction, evaluated on the properties with PidTagMessageFlags' mfRead
//     from the read state) is in the replica with the same associated flag,
//     change key, PCL, LastModificationTime, MID (when the replica has one),
//     and properties: the server's, minus markers and meta-properties,
//     filtered by the property list (by ID; exclude or OnlySpecifiedProperties
//     include; not for FAI with IgnoreSpecifiedOnFAI), PidTagMessageFlags
//     always; PidTagMessageFlags is compared without mfRead and a flags value
//     of 0 counts as absent;
//   * read state is compared only with ReadState (without it, read changes
//     are not synchronized on their own);
//   * the replica holds no other message of those kinds, except (NoDeletions)
//     any, or (IgnoreNoLongerInScope) messages still in the server folder but
//     out of scope.
// Hierarchy: the replica's folders are exactly the folders below the sync
// folder (NoDeletions: extras allowed), each with the parent (none for
// children of the sync folder), change key, PCL, LastModificationTime, FID
// (when the replica has one) and properties (PidTagDisplayName always, the
// rest filtered as above).
// On a difference: GeneralFailure whose text names the first difference.
//
// MemoryBaseline records a session's (or account's) live bytes and objects,
// per kind too, and later checks they are exactly back.
//
// Plain functions and values; no global state; thread-compatible.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "ics/errors.h"
#include "ics/memory.h"
#include "ics/replica.h"
#include "ics/session.h"
#include "ics/store.h"
#include "ics/sync.h"

namespace ics::testkit {

Status check_converged(const Store& store, Fid folder, const Replica& replica,
                       const SyncConfig& config);
Status check_hierarchy_converged(const Store& store, Fid folder, const Replica& replica,
                                 const SyncConfig& config);

// The properties a replica should hold for a server message (before
// normalization), and the normalization both sides go through.
PropertyBag expected_message_props(const PropertyBag& server, bool associated,
                                   const SyncConfig& config);
PropertyBag normalized_message_props(PropertyBag props);

// "guid/globcnt" for messages.
std::string describe(const Gid& gid);

class MemoryBaseline {
 public:
  explicit MemoryBaseline(const Session& session) : MemoryBaseline(session.memory()) {}
  explicit MemoryBaseline(const MemoryAccount& account);

  // GeneralFailure naming every figure that moved (total and per kind).
  Status check(const Session& session) const { return check(session.memory()); }
  Status check(const MemoryAccount& account) const;

  std::size_t bytes() const { return bytes_; }
  std::size_t objects() const { return objects_; }

 private:
  std::size_t bytes_ = 0;
  std::size_t objects_ = 0;
  std::array<std::size_t, kObjectKindCount> kind_bytes_{};
  std::array<std::size_t, kObjectKindCount> kind_objects_{};
};

}  // namespace ics::testkit
