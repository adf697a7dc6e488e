// Oracle: a whole conversation over one session — a populated store, 1-3
// Replicas (contents or hierarchy, fuzzer-chosen flags, send options, extra
// flags, buffer sizes and state-upload chunks), server changes, local changes
// (modify / create / delete / read) uploaded through the collector, so that
// replicas conflict — never fails a sync or an upload; a replica with nothing
// pending equals the server right after its sync (testkit::check_converged);
// at the end, after every replica uploads and syncs, all of them have
// converged, a second sync downloads nothing (idempotence), the store's
// invariants hold, and the session's live bytes and objects are at baseline,
// and after the input the process's live heap bytes (fuzz_heap.h).
// The script: script/sync_session_ops.h.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <memory>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_heap.h"
#include "fuzz_store.h"
#include "ics/errors.h"
#include "ics/replica.h"
#include "ics/session.h"
#include "ics/store.h"
#include "ics/sync.h"
#include "ics/testkit/oracles.h"
#include "ics/testkit/workload.h"
#include "mutate/script_mutator.h"
#include "script/reader.h"
#include "script/sync_session_ops.h"

namespace {

namespace script = ics_fuzz::sync_session;
using ics::Replica;
using ics_fuzz::ScriptReader;

struct Ctx {
  ScriptReader& in;
  ics::Session& session;
  ics::Store& store;
  ics::testkit::Workload& wl;
  std::vector<Replica> replicas;
};

std::size_t below(ScriptReader& in, std::size_t n) {
  return n == 0 ? 0 : in.ConsumeIntegralInRange<std::size_t>(0, n - 1);
}

void check(const ics::Status& st) {
  if (st.ok()) return;
  std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
  ICS_FUZZ_CHECK(st.ok());
}

ics::SyncConfig pick_config(ScriptReader& in) {
  namespace f = ics::sync_flags;
  namespace x = ics::extra_flags;
  ics::SyncConfig cfg;
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0) {
    cfg.type = ics::sync_type::kHierarchy;
    cfg.flags = static_cast<std::uint16_t>(f::kUnicode | (in.ConsumeIntegral<std::uint16_t>() &
                                                           (f::kNoDeletions | f::kNoForeignIdentifiers)));
    cfg.extra_flags = in.ConsumeIntegral<std::uint8_t>() & (x::kEid | x::kCn);
    return cfg;
  }
  const std::uint16_t mask = f::kNoDeletions | f::kIgnoreNoLongerInScope | f::kReadState | f::kFAI | f::kNormal |
                             f::kBestBody | f::kProgress | f::kNoForeignIdentifiers;
  cfg.flags = static_cast<std::uint16_t>(f::kUnicode | (in.ConsumeIntegral<std::uint16_t>() & mask));
  if (in.ConsumeIntegralInRange<int>(0, 3) != 0) cfg.flags |= f::kNormal;  // mostly something to sync
  cfg.extra_flags = in.ConsumeIntegral<std::uint8_t>() & x::kKnown;
  cfg.send_options = static_cast<std::uint8_t>(
      ics::send_options::kUnicode | (in.ConsumeBool() ? ics::send_options::kPartialItem : 0));
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0) {  // a property list (exclude, or OnlySpecified)
    constexpr ics::PropTag kTags[] = {ics::tags::kSubject, ics::testkit::workload_tags::kBinary,
                                      ics::testkit::workload_tags::kInteger64,
                                      ics::testkit::workload_tags::kMultipleString};
    for (ics::PropTag t : kTags) {
      if (in.ConsumeBool()) cfg.property_tags.push_back(t);
    }
    if (in.ConsumeBool()) cfg.flags |= f::kOnlySpecifiedProperties;
    if (in.ConsumeBool()) cfg.flags |= f::kIgnoreSpecifiedOnFAI;
  }
  return cfg;
}

Replica make_replica(Ctx& c, std::size_t index) {
  c.in.op("replica");
  ics::ReplicaOptions o;
  o.config = pick_config(c.in);
  o.buffer_size = c.in.ConsumeIntegralInRange<int>(0, 7) == 0 ? c.in.ConsumeIntegralInRange<std::size_t>(1, 24)
                                                              : c.in.ConsumeIntegralInRange<std::size_t>(64, 4096);
  o.state_chunk = c.in.ConsumeBool() ? 0 : c.in.ConsumeIntegralInRange<std::size_t>(1, 64);
  o.client_guid = ics::Guid::from_seed(0xC0 + index);
  return Replica(c.wl.folder(), std::move(o));
}

ics::Status converged(const Ctx& c, const Replica& r) {
  const ics::SyncConfig& cfg = r.options().config;
  return cfg.hierarchy() ? ics::testkit::check_hierarchy_converged(c.store, r.folder(), r, cfg)
                         : ics::testkit::check_converged(c.store, r.folder(), r, cfg);
}

Replica& pick(Ctx& c) { return c.replicas[below(c.in, c.replicas.size())]; }

// Whether the replica holds whole messages. One with a property list holds a
// filtered copy: it may delete and mark read, but a local edit there would be
// an upload of the filtered set, which the convergence oracle cannot judge.
bool whole(const Replica& r) {
  const ics::SyncConfig& cfg = r.options().config;
  return !cfg.hierarchy() && cfg.property_tags.empty() && !cfg.has(ics::sync_flags::kOnlySpecifiedProperties);
}

// A message of a contents replica, or nullptr.
const ics::Gid* pick_message(Ctx& c, Replica& r) {
  if (r.options().config.hierarchy() || r.messages().empty()) return nullptr;
  auto it = r.messages().begin();
  std::advance(it, static_cast<std::ptrdiff_t>(below(c.in, r.messages().size())));
  return &it->first;
}

void sync(Ctx& c) {
  Replica& r = pick(c);
  check(r.sync(c.session));
  if (r.pending().empty()) check(converged(c, r));
}

void local_modify(Ctx& c) {
  Replica& r = pick(c);
  const ics::Gid* m = pick_message(c, r);
  if (!m || !whole(r)) return;
  std::vector<ics::PropValue> set = {ics::PropValue::unicode(ics::tags::kSubject, c.in.ConsumeRandomLengthString(16))};
  std::vector<ics::PropTag> remove;
  if (c.in.ConsumeBool()) remove.push_back(ics::testkit::workload_tags::kBinary);
  check(r.local_modify(*m, set, remove));
}

void local_create(Ctx& c) {
  Replica& r = pick(c);
  if (!whole(r)) return;
  ics::PropertyBag props;
  props.set(ics::PropValue::unicode(ics::tags::kSubject, c.in.ConsumeRandomLengthString(16)));
  if (c.in.ConsumeBool()) {
    props.set(ics::PropValue::integer(ics::testkit::workload_tags::kInteger64, c.in.ConsumeIntegral<std::uint32_t>()));
  }
  (void)r.local_create(std::move(props), c.in.ConsumeIntegralInRange<int>(0, 3) == 0);
}

void local_delete(Ctx& c) {
  Replica& r = pick(c);
  const ics::Gid* m = pick_message(c, r);
  if (!m) return;
  const ics::Gid key = *m;
  check(r.local_delete(key, c.in.ConsumeBool()));
}

void local_read(Ctx& c) {
  Replica& r = pick(c);
  const ics::Gid* m = pick_message(c, r);
  if (!m) return;
  const bool fai = r.messages().at(*m).associated;
  const ics::Status st = r.local_set_read(*m, c.in.ConsumeBool());
  if (fai) {  // FAI read state is not synchronized: refused, nothing changes
    ICS_FUZZ_CHECK(st.code() == ics::ErrorCode::NotSupported);
  } else {
    check(st);
  }
}

void upload(Ctx& c) {
  Replica& r = pick(c);
  if (r.options().config.hierarchy()) {
    ICS_FUZZ_CHECK(r.upload(c.session).code() == ics::ErrorCode::NotSupported);
    return;
  }
  check(r.upload(c.session));
  ICS_FUZZ_CHECK(r.pending().empty());
}

void server_changes(Ctx& c) { check(c.wl.apply(c.in.ConsumeIntegralInRange<std::size_t>(1, 3))); }

void run(Ctx& c, script::Op op) {
  switch (op) {
    case script::Op::ServerChanges: return server_changes(c);
    case script::Op::Sync: return sync(c);
    case script::Op::LocalModify: return local_modify(c);
    case script::Op::LocalCreate: return local_create(c);
    case script::Op::LocalDelete: return local_delete(c);
    case script::Op::LocalRead: return local_read(c);
    case script::Op::Upload: return upload(c);
  }
}

bool quiet(const ics::SyncCounters& s) {
  return s.message_changes == 0 && s.folder_changes == 0 && s.deletions == 0 && s.no_longer_in_scope == 0 &&
         s.read_changes == 0;
}

// The populated stores, one per seed and size (1 to 4 messages; a script's setup op
// names them), built once per process (LLVMFuzzerTestOneInput prepares each before the heap
// oracle's first reading).
FuzzStoreTemplates& stores() {
  static FuzzStoreTemplates kStores(1, 4);
  return kStores;
}

// One input; everything it builds lives in this scope.
void run_input(const std::uint8_t* data, std::size_t size, ics_fuzz::Trace& trace) {
  ScriptReader in(data, size, trace);
  FuzzStore fs = stores().restore(in);
  ics::Store& store = *fs.store;
  ics::testkit::Workload& wl = fs.workload;
  ics::Session& s = *fs.session;
  const ics::testkit::MemoryBaseline baseline(s);

  Ctx c{in, s, store, wl, {}};
  const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(1, script::kMaxReplicas);
  for (std::size_t i = 0; i < n; ++i) c.replicas.push_back(make_replica(c, i));
  for (int step = 0; step < script::kMaxSteps && in.remaining_bytes() > 0; ++step) {
    const script::Op op = script::op_of(in.op_byte());
    in.op(script::name(op));
    run(c, op);
  }
  in.op("finish");

  // Everyone uploads, then everyone syncs: all converge on the same store.
  for (Replica& r : c.replicas) {
    if (!r.options().config.hierarchy()) check(r.upload(c.session));
  }
  for (Replica& r : c.replicas) check(r.sync(c.session));
  for (Replica& r : c.replicas) check(converged(c, r));
  // Nothing changed since: a second sync downloads nothing and changes nothing.
  for (Replica& r : c.replicas) {
    const Replica::MessageMap messages = r.messages();
    const Replica::FolderMap folders = r.folders();
    check(r.sync(c.session));
    ICS_FUZZ_CHECK(quiet(r.last_sync()));
    ICS_FUZZ_CHECK(r.messages() == messages && r.folders() == folders);
  }
  check(store.check_invariants());
  ICS_FUZZ_CHECK(s.handle_count() == 0);
  check(baseline.check(s));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  stores().prepare(data, size);  // before the heap oracle's first reading
  // The mutator's next call decodes this input from the log (its storage reserved here).
  ics_fuzz::Trace off(nullptr, nullptr, ics_fuzz::run_log());
  ics_fuzz::check_heap_balance("fuzz_sync_session", [&] { run_input(data, size, off); });
  return 0;
}

// The structure-aware mutator (mutate/script_mutator.h): decodes an input by running it.
ICS_FUZZ_SCRIPT_MUTATORS(sync_session, run_input,
                         (ics_fuzz::ScriptTraits{std::size(script::kSlots), script::kMaxSteps, false, true}))

// fuzz/describe: runs the input, printing each op and the values it takes.
extern "C" int IcsFuzzDescribe(const std::uint8_t* data, std::size_t size) {
  ics_fuzz::Trace trace(stdout);
  run_input(data, size, trace);
  return 0;
}
