// Private to the engine: how a download context turns (store, request, client
// state) into a stream and a final state. See ics/sync.h for the semantics.
#pragma once

#include <optional>
#include <vector>

#include "ics/fxstream.h"
#include "ics/restriction.h"
#include "ics/state.h"
#include "ics/store.h"
#include "ics/sync.h"

namespace ics::detail {

struct SyncRequest {
  Fid folder;
  const SyncConfig& config;
  const std::optional<Restriction>& restriction;
};

struct DownloadPlan {
  Bytes stream;
  std::vector<std::size_t> step_ends;  // stream offset after each change
  IcsState final_state;
  DownloadStats stats;
};

// Contents or hierarchy, as the request says. The store is not const:
// never-mapped REPLGUIDs of IdsetGiven get a REPLID (see sync.h).
Result<DownloadPlan> build_plan(Store& store, const SyncRequest& request, const IcsState& state);
Result<DownloadPlan> build_contents_plan(Store& store, const SyncRequest& request,
                                         const IcsState& state);
Result<DownloadPlan> build_hierarchy_plan(Store& store, const SyncRequest& request,
                                          const IcsState& state);

// ---- shared helpers (sync_common.cpp) ----

// [1, current] minus the values of cnset under guid.
CnRanges unseen_ranges(const GuidCnset& cnset, const Guid& guid, Globcnt current);
// cnset with [1, current] added under guid.
GuidCnset with_seen_through(GuidCnset cnset, const Guid& guid, Globcnt current);
bool contains(const GuidIdSet& set, const Gid& gid);
void insert(GuidIdSet& set, const Gid& gid);
// Whether a property of a message / folder is sent under the configuration's
// property list (markers and meta-properties never are).
bool property_synced(const SyncConfig& config, PropTag tag, bool associated);
// IDs of `given` under REPLGUIDs the store has never mapped: mapped to a
// REPLID (reported) or, when the map is full, only dropped.
struct ForeignIds {
  IdSet reported;
  GuidIdSet dropped;  // everything to take out of IdsetGiven (reported or not)
};
ForeignIds unmapped_given(Store& store, const GuidIdSet& given);
// The final IdsetGiven: (given - removed) + sent.
GuidIdSet final_given(const GuidIdSet& given, const GuidIdSet& removed, const GuidIdSet& sent);

// Stream element writers.
Status write_deletions(FxWriter& w, const IdSet& deleted, const IdSet& no_longer_in_scope);
Status write_read_state(FxWriter& w, const IdSet& read, const IdSet& unread);

}  // namespace ics::detail
