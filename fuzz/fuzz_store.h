// The populated store the session-level fuzz targets (state_upload, import, sync_session)
// start from: a store, the shared workload generator's folder, one session on it.
//
// make_fuzz_store() builds one from scratch. A target whose store does not depend on its input
// builds a FuzzStoreTemplate once per process instead (outside the heap oracle's scope) and
// restores it per input: a Store::clone() of the template, the generator continued on the
// clone, a fresh session. The result is what make_fuzz_store() would have built, for the cost
// of one copy of the records.
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

// A store and its generator, without a session.
struct FuzzStoreContents {
  std::shared_ptr<ics::Store> store;
  ics::testkit::Workload workload;
};

// `messages` messages from `seed`, short bodies only (inputs stay cheap); traps when the
// set-up itself fails, which no input decides.
inline FuzzStoreContents make_fuzz_store_contents(std::uint64_t seed, std::size_t messages) {
  auto store = std::make_shared<ics::Store>(ics::StoreOptions{ics::Guid::from_seed(7), 1});
  ics::testkit::WorkloadOptions wo;
  wo.long_body_percent = 0;
  auto wl = ics::testkit::Workload::create(*store, seed, wo);
  ICS_FUZZ_CHECK(wl.ok() && wl->populate(messages).ok());
  return FuzzStoreContents{store, std::move(*wl)};
}

inline FuzzStore open_fuzz_store(FuzzStoreContents contents) {
  auto session = ics::Session::open(contents.store);
  ICS_FUZZ_CHECK(session.ok());
  return FuzzStore{std::move(contents.store), std::move(contents.workload), std::move(*session)};
}

inline FuzzStore make_fuzz_store(std::uint64_t seed, std::size_t messages) {
  return open_fuzz_store(make_fuzz_store_contents(seed, messages));
}

// Built once; restore() is make_fuzz_store(seed, messages) by copy.
class FuzzStoreTemplate {
 public:
  FuzzStoreTemplate(std::uint64_t seed, std::size_t messages)
      : contents_(make_fuzz_store_contents(seed, messages)) {}

  FuzzStore restore() const {
    std::shared_ptr<ics::Store> copy = contents_.store->clone();
    ics::testkit::Workload workload = contents_.workload.on(*copy);
    return open_fuzz_store(FuzzStoreContents{std::move(copy), std::move(workload)});
  }

 private:
  const FuzzStoreContents contents_;
};
