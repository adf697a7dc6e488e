// Scenario factories and the helpers they share. Each scenario is a Scenario (harness.h) whose
// workers run on fibers against one shared Store.
//   download-loop  the Exchange 2003 loop on a shared folder (scenario_sync.cpp)
//   mixed          writers change the store while replicas download and upload (scenario_sync.cpp)
//   state-churn    cut, malformed and rejected state uploads, then a good sync (scenario_sync.cpp)
//   session-churn  logon / logoff / handle reuse / stale handles (scenario_session.cpp)
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "harness.h"
#include "ics/ids.h"
#include "ics/store.h"
#include "ics/testkit/workload.h"

namespace ics::stress {

// The folder every scenario syncs, made by the shared workload generator (engine/testkit):
// `messages` messages (about a quarter FAI, some read, several property types), a few
// subfolders, and a second folder that moves go to and come from. The workload stays with
// the scenario (mixed: the writers' changes).
struct SharedFolder {
  std::shared_ptr<Store> store;
  std::shared_ptr<testkit::Workload> workload;
  Fid folder;
};
Result<SharedFolder> build_shared_folder(std::size_t messages, std::uint64_t seed,
                                         bool other_writers);

Result<std::unique_ptr<Scenario>> make_session_churn(const Options& o, const SharedFolder& f);
Result<std::unique_ptr<Scenario>> make_sync_scenario(const Options& o, const SharedFolder& f);

// A call that must fail with NullObject (a stale, released or foreign handle): success is a
// Divergence ("<what> resolved"), another error is checked as usual.
template <class R>
void expect_null_object(FiberCtx& ctx, std::string_view call, const R& r, std::string_view what) {
  if (r.ok()) {
    ctx.diverged(std::string(what) + " resolved", std::string(call) + " succeeded");
    return;
  }
  if (r.code() != ErrorCode::NullObject) ctx.check(call, r);
}

}  // namespace ics::stress
