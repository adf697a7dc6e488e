// Placeholder until the download context and the replica land.
#include "scenarios.h"

namespace ics::stress {

Result<std::unique_ptr<Scenario>> make_sync_scenario(const Options& o, const SharedFolder&) {
  return Error(ErrorCode::NotSupported, "scenario " + o.scenario + " needs sync.h / replica.h");
}

}  // namespace ics::stress
