// The populated store the session-level fuzz targets (state_upload, import, sync_session)
// start from: a store, the shared workload generator's folder, one session on it.
//
// make_fuzz_store() builds one from scratch. A target builds a FuzzStoreTemplate once per
// process instead (outside the heap oracle's scope) and restores it per input: a Store::clone()
// of the template, the generator continued on the clone, a fresh session. The result is what
// make_fuzz_store() would have built, for the cost of one copy of the records (and without the
// set-up's edges in every input's coverage, which libFuzzer's bookkeeping pays for).
// FuzzStoreTemplates does the same for targets whose script chooses the store (seed, size).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <map>
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

// The templates of a target whose script starts with the store's seed (a byte) and message
// count (in [lo, hi]), built as inputs name them. prepare() reads those two values as the
// target's run_input does and builds the template if it is new; LLVMFuzzerTestOneInput calls
// it before the heap oracle's first reading, so the oracle sees only the input's own bytes.
// At most kMaxTemplates are kept (a few MB); past that, restore() builds from scratch.
class FuzzStoreTemplates {
 public:
  static constexpr std::size_t kMaxTemplates = 1024;

  FuzzStoreTemplates(std::size_t lo, std::size_t hi) : lo_(lo), hi_(hi) {}

  void prepare(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const std::uint8_t seed = in.ConsumeIntegral<std::uint8_t>();
    const std::size_t messages = in.ConsumeIntegralInRange<std::size_t>(lo_, hi_);
    if (built_.size() >= kMaxTemplates || built_.count({seed, messages}) != 0) return;
    built_.emplace(Key{seed, messages}, std::make_unique<const FuzzStoreTemplate>(seed, messages));
  }

  // make_fuzz_store(seed, messages), from the template when there is one.
  FuzzStore restore(std::uint8_t seed, std::size_t messages) const {
    auto it = built_.find({seed, messages});
    return it == built_.end() ? make_fuzz_store(seed, messages) : it->second->restore();
  }

  // A script's setup op: the store's seed and size, read as prepare() reads them.
  template <typename Reader>
  FuzzStore restore(Reader& in) const {
    in.op("setup");
    const auto seed = in.template ConsumeIntegral<std::uint8_t>();
    return restore(seed, in.template ConsumeIntegralInRange<std::size_t>(lo_, hi_));
  }

 private:
  using Key = std::pair<std::uint8_t, std::size_t>;
  const std::size_t lo_, hi_;
  std::map<Key, std::unique_ptr<const FuzzStoreTemplate>> built_;
};
