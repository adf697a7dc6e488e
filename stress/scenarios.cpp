#include "scenarios.h"

#include <string>

namespace ics::stress {

Result<SharedFolder> build_shared_folder(std::size_t messages, std::uint64_t seed,
                                         bool other_writers) {
  SharedFolder f;
  f.store = std::make_shared<Store>();
  // Writers step the workload for as long as the run lasts: the store's content must stay in
  // one distribution (no MID log, modifies replace a message's properties), or the heap
  // series would rightly see it grow.
  testkit::WorkloadOptions options;
  options.log_mids = false;
  options.modify_replaces = true;
  options.long_body_percent = 0;
  // On several threads a replica's upload may delete the message a writer has just picked.
  options.shared_store = other_writers;
  ICS_TRY_ASSIGN(testkit::Workload w, testkit::Workload::create(*f.store, seed, options));
  ICS_TRY(w.populate(messages));
  f.folder = w.folder();
  f.workload = std::make_shared<testkit::Workload>(std::move(w));
  return f;
}

Result<ScenarioSetup> make_scenario(const Options& o) {
  ICS_TRY_ASSIGN(SharedFolder folder, build_shared_folder(o.messages, o.seed, o.threads > 1));
  ScenarioSetup setup;
  setup.store = folder.store;
  if (o.scenario == "session-churn") {
    ICS_TRY_ASSIGN(setup.scenario, make_session_churn(o, folder));
  } else {
    ICS_TRY_ASSIGN(setup.scenario, make_sync_scenario(o, folder));
  }
  return setup;
}

}  // namespace ics::stress
