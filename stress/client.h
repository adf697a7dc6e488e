// The client side of one sync loop, driven ROP by ROP with a seeded yield point between calls,
// so that thousands of contexts are open at once and other fibers (writers too) run between
// any two calls. Replica::sync runs the same loop without yielding; the stress harness uses it
// for the first sync and at quiescent points. Parsing and applying are the engine's own
// (FxParser, SyncStreamParser, Replica::apply): this is a driver, not a second replica.
//
// Every engine error goes through FiberCtx::check (the scenario's expected set, plus
// OutOfMemory / GeneralFailure under fault injection). Functions return nullopt / false after
// an error; the caller releases its handle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "harness.h"
#include "ics/replica.h"
#include "ics/session.h"
#include "ics/state.h"
#include "ics/syncstream.h"

namespace ics::stress {

// The configuration every replica of the sync scenarios uses: normal + FAI messages, read
// state, MIDs and CNs in the stream.
SyncConfig stress_sync_config();

// Uploads the state properties (all four, or IdsetGiven + CnsetSeen for hierarchy), each cut
// into random chunks.
bool upload_state(FiberCtx& ctx, Session& s, std::uint32_t handle, const IcsState& state,
                  bool hierarchy = false);
// get_buffer(buffer) until Done, fed to FxParser and SyncStreamParser as it arrives.
std::optional<SyncDownload> read_download(FiberCtx& ctx, Session& s, std::uint32_t handle,
                                          std::size_t buffer, bool hierarchy = false);
// RopSynchronizationGetTransferState, then its stream read and parsed.
std::optional<IcsState> read_transfer_state(FiberCtx& ctx, Session& s, std::uint32_t handle,
                                            std::size_t buffer);

struct LoopOutcome {
  bool completed = false;  // every call succeeded and the download was applied
  std::size_t changes = 0;  // message changes downloaded
  std::uint64_t deletions = 0;
  std::uint64_t read_changes = 0;
};

// The Exchange 2003 loop: configure, upload the replica's state, get_buffer until Done, apply,
// get the transfer state (which must equal the stream's), release. Afterwards the session's
// memory must be exactly where it was (Divergence otherwise).
LoopOutcome download_loop(FiberCtx& ctx, Session& s, Replica& replica);

}  // namespace ics::stress
