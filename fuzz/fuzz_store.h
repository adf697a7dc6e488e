// The populated store the session-level fuzz targets (state_upload, import, sync_session)
// start from: a store, the shared workload generator's folder, one session on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "fuzz_check.h"
#include "ics/session.h"
#include "ics/store.h"
#include "ics/testkit/workload.h"

struct FuzzStore {
  std::shared_ptr<ics::Store> store;
  ics::testkit::Workload workload;
  std::unique_ptr<ics::Session> session;
};

// `messages` messages from `seed`, short bodies only (inputs stay cheap); traps when the
// set-up itself fails, which no input decides.
inline FuzzStore make_fuzz_store(std::uint64_t seed, std::size_t messages) {
  auto store = std::make_shared<ics::Store>(ics::StoreOptions{ics::Guid::from_seed(7), 1});
  ics::testkit::WorkloadOptions wo;
  wo.long_body_percent = 0;
  auto wl = ics::testkit::Workload::create(*store, seed, wo);
  ICS_FUZZ_CHECK(wl.ok() && wl->populate(messages).ok());
  auto session = ics::Session::open(store);
  ICS_FUZZ_CHECK(session.ok());
  return FuzzStore{store, std::move(*wl), std::move(*session)};
}
