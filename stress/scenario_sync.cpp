// The sync scenarios. Every replica fiber logs on once, makes its first full sync with
// Replica::sync (not counted as a loop), then loops; at each quiescent point (no writer runs)
// it syncs once more with Replica::sync and must equal the server (testkit::check_converged).
//   download-loop  the Exchange 2003 loop (client.h) on a folder nobody changes: after the
//                  first sync every loop must download nothing.
//   mixed          writer fibers change the store (testkit::Workload: creates, modifies,
//                  deletes, moves, read state, subfolders); replica fibers edit messages and
//                  read state locally, upload them through a collector (conflicts with the
//                  writers and with each other happen), adopt the collector's transfer state,
//                  then download.
//   state-churn    per loop one to three abuses of a download context (a state upload cut
//                  short and the context released, a malformed IDSET, a rejected property
//                  tag, a property over the size cap, state ROPs out of order, an upload
//                  after the stream started, a download released half way), each with its
//                  named error, then a good loop that must download nothing.
#include <boost/fiber/mutex.hpp>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <mutex>
#include <string>

#include "client.h"
#include "ics/collector.h"
#include "ics/context.h"
#include "ics/idset.h"
#include "ics/sync.h"
#include "ics/testing/oracles.h"
#include "scenarios.h"

namespace ics::stress {

namespace {

enum class Mode { DownloadLoop, Mixed, StateChurn };

// Server changes per replica loop period (the time in which every replica loops once), from
// the writers and from the replicas' uploads each. Fixed per period rather than per loop, so
// that a loop downloads about the same number of changes with 100 fibers as with 10,000.
constexpr double kWritesPerPeriod = 2.0;
constexpr double kUploadsPerPeriod = 4.0;
constexpr double kMaxUploadChance = 0.3;
constexpr std::size_t kHotMessages = 8;

struct SyncShared {
  Mode mode = Mode::DownloadLoop;
  Fid folder;
  SyncConfig config;
  std::size_t writers = 0;
  std::size_t replicas = 0;
  double upload_chance = 0;
  std::atomic<std::uint64_t> writes{0};
  std::shared_ptr<testkit::Workload> workload;
  boost::fibers::mutex workload_mu;  // one writer at a time drives the generator
};

// A call that must fail with one of `codes`: success is a Divergence ("<what> accepted").
template <class R>
void expect_rejected(FiberCtx& ctx, std::string_view call, const R& r,
                     std::initializer_list<ErrorCode> codes, std::string_view what) {
  if (r.ok()) {
    ctx.diverged(std::string(what) + " accepted", std::string(call) + " succeeded");
    return;
  }
  ctx.check(call, r, codes);
}

// An estimate of the replica's heap: map nodes, property bags, PCLs and state IDSETs.
std::size_t replica_bytes(const Replica& r) {
  constexpr std::size_t kNode = 32;  // red-black tree node header
  std::size_t n = sizeof(Replica);
  for (const auto& [key, m] : r.messages()) {
    n += kNode + sizeof(key) + sizeof(m) + m.props.footprint() + m.pcl.size() * sizeof(Xid);
  }
  for (StateProperty p : {StateProperty::IdsetGiven, StateProperty::CnsetSeen,
                          StateProperty::CnsetSeenFAI, StateProperty::CnsetRead}) {
    for (const auto& [guid, set] : r.state().get(p).replicas()) {
      n += kNode + sizeof(guid) + sizeof(set) + set.ranges().size() * sizeof(GlobRange);
    }
  }
  return n;
}

class WriterWorker final : public Worker {
 public:
  explicit WriterWorker(SyncShared& shared) : shared_(shared) {}
  bool counts_loops() const override { return false; }
  Session* anchor() override { return nullptr; }
  // One server change when the writers are behind kWritesPerPeriod; otherwise only the
  // runner's yield.
  void loop(FiberCtx& ctx) override {
    const double due = static_cast<double>(ctx.run().loops_done()) * kWritesPerPeriod /
                           static_cast<double>(shared_.replicas) + 1;
    if (static_cast<double>(shared_.writes.load(std::memory_order_relaxed)) >= due) return;
    shared_.writes.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(shared_.workload_mu);
    auto op = shared_.workload->step();
    if (ctx.check("Workload::step", op)) ctx.run().count("writer " + std::string(testkit::name(*op)));
  }

 private:
  SyncShared& shared_;
};

class ReplicaWorker final : public Worker {
 public:
  ReplicaWorker(SyncShared& shared, std::size_t fiber, const Options& o)
      : shared_(shared),
        replica_(shared.folder, ReplicaOptions{shared.config, o.buffer_size, 0}),
        client_guid_(Guid::from_seed(o.seed * 1000003 + fiber + 1)) {}

  Session* anchor() override { return session_.get(); }
  std::size_t data_bytes() const override { return replica_bytes(replica_); }

  void start(FiberCtx& ctx) override {
    if (!logon(ctx)) return;
    ctx.set_faults(false);  // every replica starts from a complete first sync
    synced_ = ctx.check("Replica::sync (first)", replica_.sync(*session_));
    ctx.set_faults(true);
  }

  void loop(FiberCtx& ctx) override {
    if (!session_ && !logon(ctx)) return;
    switch (shared_.mode) {
      case Mode::DownloadLoop:
        nothing_new_loop(ctx);
        break;
      case Mode::Mixed:
        mixed_loop(ctx);
        break;
      case Mode::StateChurn:
        state_churn_loop(ctx);
        break;
    }
  }

  void verify(FiberCtx& ctx) override {
    if (!session_ && !logon(ctx)) return;
    if (!ctx.check("Replica::sync (quiescent)", replica_.sync(*session_))) return;
    synced_ = true;
    Status st = testkit::check_converged(ctx.store(), shared_.folder, replica_, shared_.config);
    if (!st.ok()) ctx.diverged("replica differs from the server at a quiescent point", st.error().what());
  }

  void stop(FiberCtx& ctx) override { ctx.logoff(session_); }

 private:
  bool logon(FiberCtx& ctx) {
    auto s = ctx.logon();
    if (!s.ok()) return false;
    session_ = std::move(s).value();
    return true;
  }

  // download-loop: nothing changes on the server, so nothing may come down.
  void nothing_new_loop(FiberCtx& ctx) {
    const LoopOutcome out = download_loop(ctx, *session_, replica_);
    if (!out.completed) return;
    if (synced_ && (out.changes != 0 || out.deletions != 0 || out.read_changes != 0)) {
      ctx.diverged("changes downloaded with nothing new on the server",
                   std::to_string(out.changes) + " changes, " + std::to_string(out.deletions) +
                       " deletions, " + std::to_string(out.read_changes) + " read changes");
    }
    synced_ = true;
  }

  // ---- mixed ----

  void mixed_loop(FiberCtx& ctx) {
    if (ctx.rng().chance(shared_.upload_chance)) upload_local_changes(ctx);
    download_loop(ctx, *session_, replica_);
  }

  // A random local message (end() when there is none): half the time one of the first
  // kHotMessages (by source key), which every replica shares, so that edits collide.
  Replica::MessageMap::iterator pick(FiberCtx& ctx, bool normal_only) {
    auto& m = replica_.messages();
    if (m.empty()) return m.end();
    const std::size_t range = ctx.rng().chance(0.5) ? std::min(kHotMessages, m.size()) : m.size();
    auto it = std::next(m.begin(), static_cast<std::ptrdiff_t>(ctx.rng().below(range)));
    if (normal_only && it->second.associated) return m.end();
    return it;
  }

  void upload_local_changes(FiberCtx& ctx) {
    Session& s = *session_;
    auto h = open_collector(s, shared_.folder, true);
    ctx.point();
    if (!ctx.check("open_collector", h)) return;
    if (upload_state(ctx, s, *h, replica_.state())) {
      if (ctx.rng().chance(0.7)) import_edit(ctx, *h);
      if (ctx.rng().chance(0.4)) import_read_state(ctx, *h);
      // The collector's state: what was uploaded plus what the store now holds as we do.
      if (auto st = read_transfer_state(ctx, s, *h, ctx.options().buffer_size)) {
        replica_.set_state(*st);
      }
    }
    ctx.check("Session::release (collector)", s.release(*h));
    ctx.point();
  }

  void import_edit(FiberCtx& ctx, std::uint32_t collector) {
    auto it = pick(ctx, false);
    if (it == replica_.messages().end()) return;
    LocalMessage edited = it->second;
    edited.props.set(PropValue::unicode(tags::kSubject, "edited by fiber " + std::to_string(ctx.index()) +
                                                            " change " + std::to_string(changes_ + 1)));
    edited.change_key = Xid::from_globcnt(client_guid_, ++changes_);
    edited.pcl.add(edited.change_key);
    // Mostly made "now"; sometimes an old offline edit, which loses a conflict.
    edited.last_modified = ctx.rng().chance(0.7) ? filetime_for_cn(ctx.store().current_cn() + 1)
                                                 : edited.last_modified + 1;
    PropertyBag sent = edited.props;
    if (const PropValue* f = sent.get(tags::kMessageFlags); f && f->as_integer()) {
      sent.set(PropValue::integer(tags::kMessageFlags, *f->as_integer() & ~std::uint64_t{kMessageFlagRead}));
    }
    std::vector<PropValue> values = {
        PropValue::binary(tags::kSourceKey, serialize_gid(it->first)),
        PropValue::integer(tags::kLastModificationTime, edited.last_modified),
        PropValue::binary(tags::kChangeKey, serialize_xid(edited.change_key)),
        PropValue::binary(tags::kPredecessorChangeList, edited.pcl.serialize())};
    values.insert(values.end(), sent.values().begin(), sent.values().end());
    const std::uint8_t flags = edited.associated ? import_flag::kAssociated : 0;
    // Deleted or moved away by a writer: SyncObjectDeleted; a writer racing every retry
    // (several threads): ObjectModified.
    auto r = import_message_change(*session_, collector, flags, values);
    ctx.point();
    if (!ctx.check("import_message_change", r,
                   {ErrorCode::SyncObjectDeleted, ErrorCode::ObjectModified})) {
      return;
    }
    ctx.run().count("import_message_change " + std::string(name(r->outcome)));
    if (r->seen) it->second = edited;  // the store holds exactly this version
  }

  void import_read_state(FiberCtx& ctx, std::uint32_t collector) {
    auto it = pick(ctx, true);
    if (it == replica_.messages().end()) return;
    const bool read = !it->second.read;
    auto r = import_read_state_changes(*session_, collector,
                                       {ReadStateChange{serialize_gid(it->first), read}});
    ctx.point();
    if (!ctx.check("import_read_state_changes", r)) return;
    ctx.run().count(r->changed == 1 ? "import_read_state changed" : "import_read_state other");
    if (r->changed + r->unchanged != 1) return;  // gone from the folder meanwhile
    LocalMessage& m = it->second;
    m.read = read;
    std::uint64_t f = 0;
    if (const PropValue* v = m.props.get(tags::kMessageFlags); v && v->as_integer()) f = *v->as_integer();
    f = read ? (f | kMessageFlagRead) : (f & ~std::uint64_t{kMessageFlagRead});
    m.props.set(PropValue::integer(tags::kMessageFlags, f));
  }

  // ---- state-churn ----

  void state_churn_loop(FiberCtx& ctx) {
    const testkit::MemoryBaseline baseline(*session_);
    const int abuses = 1 + static_cast<int>(ctx.rng().below(3));
    for (int i = 0; i < abuses; ++i) abuse_context(ctx);
    if (Status st = baseline.check(*session_); !st.ok()) {
      ctx.diverged("session memory not back after release", st.error().what());
    }
    nothing_new_loop(ctx);
  }

  void abuse_context(FiberCtx& ctx) {
    Session& s = *session_;
    auto h = sync_configure(s, shared_.folder, shared_.config);
    ctx.point();
    if (!ctx.check("sync_configure", h)) return;
    switch (ctx.rng().below(7)) {
      case 0: cut_upload(ctx, *h); break;
      case 1: malformed_upload(ctx, *h); break;
      case 2: rejected_tag(ctx, *h); break;
      case 3: over_cap(ctx, *h); break;
      case 4: out_of_order(ctx, *h); break;
      case 5: upload_after_start(ctx, *h); break;
      default: download_half_way(ctx, *h); break;
    }
    ctx.point();
    ctx.check("Session::release", s.release(*h));
  }

  // A state property cut at a random place; the context is released with the upload open.
  void cut_upload(FiberCtx& ctx, std::uint32_t h) {
    const Bytes b = encode_idset(replica_.state().seen);
    if (!ctx.check("upload_state_begin", upload_state_begin(*session_, h, tags::kMetaTagCnsetSeen,
                                                            static_cast<std::uint32_t>(b.size())))) {
      return;
    }
    ctx.point();
    const std::size_t cut = ctx.rng().below(b.size() + 1);
    if (cut > 0) ctx.check("upload_state_continue", upload_state_continue(*session_, h, ByteView(b).first(cut)));
  }

  // Random bytes as an IDSET: FormatError at end (or, rarely, a valid IDSET).
  void malformed_upload(FiberCtx& ctx, std::uint32_t h) {
    Bytes junk(1 + ctx.rng().below(64));
    for (auto& byte : junk) byte = static_cast<std::uint8_t>(ctx.rng().next());
    if (ctx.rng().chance(0.5)) junk[0] = 0x02;  // looks like a REPLGUID-keyed start
    const PropTag tag = ctx.rng().chance(0.5) ? tags::kMetaTagIdsetGiven : tags::kMetaTagCnsetRead;
    if (!ctx.check("upload_state_begin", upload_state_begin(*session_, h, tag,
                                                            static_cast<std::uint32_t>(junk.size())))) {
      return;
    }
    if (!ctx.check("upload_state_continue", upload_state_continue(*session_, h, junk))) return;
    ctx.point();
    ctx.check("upload_state_end (malformed IDSET)", upload_state_end(*session_, h), {ErrorCode::FormatError});
  }

  void rejected_tag(FiberCtx& ctx, std::uint32_t h) {
    static constexpr PropTag kBad[] = {tags::kSubject, tags::kMetaTagIdsetDeleted,
                                       tags::kMetaTagIdsetRead, PropTag(0x67960003)};
    const PropTag tag = kBad[ctx.rng().below(std::size(kBad))];
    expect_rejected(ctx, "upload_state_begin (bad tag)", upload_state_begin(*session_, h, tag, 8),
                    {ErrorCode::InvalidParameter, ErrorCode::NotSupported}, "state property with a bad tag");
  }

  void over_cap(FiberCtx& ctx, std::uint32_t h) {
    const auto size = static_cast<std::uint32_t>(session_->max_state_size() + 1 + ctx.rng().below(1000));
    expect_rejected(ctx, "upload_state_begin (over the cap)",
                    upload_state_begin(*session_, h, tags::kMetaTagCnsetSeen, size), {ErrorCode::TooBig},
                    "state property over the size cap");
  }

  void out_of_order(FiberCtx& ctx, std::uint32_t h) {
    Session& s = *session_;
    switch (ctx.rng().below(3)) {
      case 0:
        expect_rejected(ctx, "upload_state_end (none open)", upload_state_end(s, h),
                        {ErrorCode::NotSupported}, "state end without begin");
        break;
      case 1:
        expect_rejected(ctx, "upload_state_continue (none open)",
                        upload_state_continue(s, h, ByteView()), {ErrorCode::NotSupported},
                        "state continue without begin");
        break;
      default:
        if (!ctx.check("upload_state_begin", upload_state_begin(s, h, tags::kMetaTagCnsetSeen, 0))) return;
        expect_rejected(ctx, "upload_state_begin (one open)",
                        upload_state_begin(s, h, tags::kMetaTagCnsetRead, 0), {ErrorCode::NotSupported},
                        "second state begin");
        expect_rejected(ctx, "get_buffer (upload open)", get_buffer(s, h, 64), {ErrorCode::NotSupported},
                        "get_buffer while a state upload is open");
        break;
    }
  }

  void upload_after_start(FiberCtx& ctx, std::uint32_t h) {
    if (!upload_state(ctx, *session_, h, replica_.state())) return;
    if (!ctx.check("get_buffer", get_buffer(*session_, h, 1 + ctx.rng().below(64)))) return;
    ctx.point();
    expect_rejected(ctx, "upload_state_begin (stream started)",
                    upload_state_begin(*session_, h, tags::kMetaTagCnsetSeen, 0), {ErrorCode::NotSupported},
                    "state upload after the stream started");
  }

  // Part of the stream, then the context goes.
  void download_half_way(FiberCtx& ctx, std::uint32_t h) {
    if (ctx.rng().chance(0.5) && !upload_state(ctx, *session_, h, replica_.state())) return;
    const int buffers = 1 + static_cast<int>(ctx.rng().below(3));
    for (int i = 0; i < buffers; ++i) {
      auto r = get_buffer(*session_, h, 1 + ctx.rng().below(256));
      ctx.point();
      if (!ctx.check("get_buffer", r) || r->status == TransferStatus::Done) return;
    }
  }

  SyncShared& shared_;
  Replica replica_;
  Guid client_guid_;
  std::unique_ptr<Session> session_;
  std::uint64_t changes_ = 0;
  bool synced_ = false;
};

class SyncScenario final : public Scenario {
 public:
  SyncScenario(const Options& o, std::unique_ptr<SyncShared> shared)
      : options_(o), shared_(std::move(shared)) {}

  std::unique_ptr<Worker> make_worker(std::size_t fiber) override {
    if (fiber < shared_->writers) return std::make_unique<WriterWorker>(*shared_);
    return std::make_unique<ReplicaWorker>(*shared_, fiber, options_);
  }

 private:
  Options options_;
  std::unique_ptr<SyncShared> shared_;
};

}  // namespace

Result<std::unique_ptr<Scenario>> make_sync_scenario(const Options& o, const SharedFolder& f) {
  auto shared = std::make_unique<SyncShared>();
  if (o.scenario == "download-loop") {
    shared->mode = Mode::DownloadLoop;
  } else if (o.scenario == "mixed") {
    shared->mode = Mode::Mixed;
    shared->writers = o.writers != 0 ? o.writers : std::max<std::size_t>(1, o.fibers / 8);
    shared->replicas = o.fibers - shared->writers;
    shared->upload_chance =
        std::min(kMaxUploadChance, kUploadsPerPeriod / static_cast<double>(shared->replicas));
  } else if (o.scenario == "state-churn") {
    shared->mode = Mode::StateChurn;
  } else {
    return Error(ErrorCode::InvalidParameter, "unknown scenario " + o.scenario);
  }
  shared->folder = f.folder;
  shared->config = stress_sync_config();
  shared->workload = f.workload;
  return std::unique_ptr<Scenario>(std::make_unique<SyncScenario>(o, std::move(shared)));
}

}  // namespace ics::stress
