// The sync scenarios. Every replica fiber logs on once, makes its first full sync with
// Replica::sync (not counted as a loop), then loops. Nobody changes the store before the loops
// begin, so every first sync brings the same: the first kRealFirstSyncs replicas and every
// kRealFirstSyncEvery-th sync for real and must equal the first one's result; the others copy
// it (a thousand full syncs under ASan took most of a short run). At each quiescent point (no writer runs)
// it syncs once more with Replica::sync and must equal the server. The leader checks one
// freshly synced reference replica against the server (testkit::check_converged) per quiescent
// point; each replica's messages must then equal the reference's (no allocation), and only a
// replica that differs is checked against the server itself (which names the difference).
//   download-loop  the Exchange 2003 loop (client.h) on a folder nobody changes: after the
//                  first sync every loop must download nothing.
//   live-loop      the same loop on a folder writer fibers keep changing without changing
//                  its size (a subject rewritten at the same length, read state, a message
//                  deleted and created again): every loop downloads changes, deletions and
//                  read changes, and the replicas' heap must stay flat (client series at the
//                  default threshold). The server's tombstones grow (process series floor).
//   mixed          writer fibers change the store (each its own testkit::Workload: creates,
//                  modifies, deletes, moves, read state, subfolders); replica fibers change their local
//                  copy through the engine's Replica upload side (local_modify / local_create /
//                  local_delete / local_set_read), half the time on a few hot messages every
//                  replica shares, send it with Replica::upload (collector, conflicts with the
//                  writers and with each other happen: counted from last_upload()), then
//                  download ROP by ROP. Changes an upload could not send (fault injection)
//                  stay pending and go with the next upload; verify uploads them first. Now
//                  and then a replica logs off and on again, or reserves ids and reports some
//                  of them deleted.
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
#include <optional>
#include <string>

#include "client.h"
#include "ics/collector.h"
#include "ics/context.h"
#include "ics/idset.h"
#include "ics/sync.h"
#include "ics/testkit/oracles.h"
#include "scenarios.h"

namespace ics::stress {

namespace {

enum class Mode { DownloadLoop, LiveLoop, Mixed, StateChurn };

// Server changes per replica loop period (the time in which every replica loops once), from
// the writers and from the replicas' uploads each. Fixed per period rather than per loop, so
// that a loop downloads about the same number of changes with 100 fibers as with 10,000.
constexpr double kWritesPerPeriod = 2.0;
constexpr double kUploadsPerPeriod = 4.0;
constexpr double kMaxUploadChance = 0.3;
constexpr std::size_t kHotMessages = 8;
constexpr std::size_t kRealFirstSyncs = 16;
constexpr std::size_t kRealFirstSyncEvery = 64;
// mixed, per replica loop: the replica logs off and on again (its local copy and state kept)
// while the others sync; it reserves ids (GetLocalReplicaIds) and reports some of them deleted
// (SetLocalReplicaMidsetDeleted). Each reservation stays in the store as a range or two (tens of
// bytes), a small fraction of mixed's heap floor.
constexpr double kRelogonChance = 1.0 / 128;
constexpr double kReserveChance = 1.0 / 64;
// live-loop: the store keeps a tombstone (and index entries) per replaced message; measured
// about 1.5 B/loop of process growth at 56 replicas, i.e. ~170 B per replace. A replace is
// one write in four, kWritesPerPeriod writes per replica loop period.
constexpr double kLiveReplaceBytes = 512.0;  // three times the measured cost
constexpr double kLiveReplaceShare = 0.25;
constexpr double kLiveClientFloorThreads = 128.0;

struct SyncShared {
  Mode mode = Mode::DownloadLoop;
  Fid folder;
  SyncConfig config;
  std::size_t writers = 0;
  std::size_t replicas = 0;
  std::size_t folder_size = 0;  // messages (normal and FAI) in the folder at the start
  double upload_chance = 0;
  std::atomic<std::uint64_t> writes{0};
  std::shared_ptr<testkit::Workload> workload;  // each writer drives a sibling of it
  // The server's folder at the current quiescent point, as a freshly synced replica that
  // check_converged accepted (written by the leader, read after the barrier).
  std::optional<Replica::MessageMap> reference;
  // The first real first sync's result (guarded by first_mu: fibers of several threads).
  boost::fibers::mutex first_mu;
  std::optional<Replica::MessageMap> first_messages;
  std::optional<IcsState> first_state;
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
  // Each writer has a generator of its own: on several threads two writers' store calls
  // (folder creates, deletes and moves among them) run at the same time.
  WriterWorker(SyncShared& shared, std::uint64_t seed)
      : shared_(shared), workload_(shared.workload->sibling(seed)) {}
  bool counts_loops() const override { return false; }
  Session* anchor() override { return nullptr; }
  // One server change when the writers are behind kWritesPerPeriod; otherwise only the
  // runner's yield.
  void loop(FiberCtx& ctx) override {
    const double due = static_cast<double>(ctx.run().loops_done()) * kWritesPerPeriod /
                           static_cast<double>(shared_.replicas) + 1;
    if (static_cast<double>(shared_.writes.load(std::memory_order_relaxed)) >= due) return;
    shared_.writes.fetch_add(1, std::memory_order_relaxed);
    if (shared_.mode == Mode::Mixed && workload_.rng().below(kFolderMoveEvery) == 0) {
      move_folder(ctx);
      return;
    }
    if (shared_.mode == Mode::LiveLoop) {
      live_step(ctx);
      return;
    }
    const std::size_t vanished = workload_.log().vanished;
    auto op = workload_.step();
    if (ctx.check("Workload::step", op)) ctx.run().count("writer " + std::string(testkit::name(*op)));
    if (workload_.log().vanished != vanished) ctx.run().count("writer vanished");
  }

 private:
  static constexpr std::uint64_t kFolderMoveEvery = 16;

  // live-loop: one server change that keeps the folder's content the same size, so that what
  // each replica holds stays flat while every loop downloads something: a message's subject
  // rewritten at the same length, its read state set, or the oldest message replaced
  // (hard-deleted and created again with its properties: a deletion and a new message for
  // every replica; the oldest, so that the folder's MIDs stay one range and so does each
  // replica's IdsetGiven). On several threads another writer may have replaced the message
  // first (NotFound).
  void live_step(FiberCtx& ctx) {
    Store& store = workload_.store();
    Rng& rng = workload_.rng();
    std::vector<Mid> ids;
    for (MessageKind kind : {MessageKind::Normal, MessageKind::Associated}) {
      auto some = store.message_ids(workload_.folder(), kind);
      if (!ctx.check("Store::message_ids", some)) return;
      ids.insert(ids.end(), some->begin(), some->end());
    }
    if (ids.empty()) return;
    const std::uint64_t what = rng.below(8);
    const Mid pick = what < 6 ? ids[rng.below(ids.size())] : *std::min_element(ids.begin(), ids.end());
    auto m = store.get_message(pick);
    if (!ctx.check("Store::get_message", m, vanished_codes(ctx))) return;
    if (what < 4) {
      rewrite_subject(ctx, *m);
    } else if (what < 6) {
      if (m->associated) return;
      if (ctx.check("Store::set_read", store.set_read(m->mid, !m->read), vanished_codes(ctx))) {
        ctx.run().count("writer set-read");
      }
    } else {
      replace(ctx, *m);
    }
  }

  static std::initializer_list<ErrorCode> vanished_codes(const FiberCtx& ctx) {
    static constexpr std::initializer_list<ErrorCode> kShared = {ErrorCode::NotFound};
    return ctx.options().threads > 1 ? kShared : std::initializer_list<ErrorCode>{};
  }

  void rewrite_subject(FiberCtx& ctx, const MessageSnapshot& m) {
    const PropValue* subject = m.props.get(tags::kSubject);
    const Bytes* text = subject != nullptr ? subject->as_bytes() : nullptr;
    if (text == nullptr || text->size() < 4) return;
    Bytes b = *text;
    b[0] = static_cast<std::uint8_t>('A' + workload_.rng().below(26));  // a UTF-16LE unit, same length
    PropChanges c;
    c.set.set(PropValue{tags::kSubject, std::nullopt, std::move(b)});
    if (ctx.check("Store::modify_message", workload_.store().modify_message(m.mid, c), vanished_codes(ctx))) {
      ctx.run().count("writer modify");
    }
  }

  void replace(FiberCtx& ctx, const MessageSnapshot& m) {
    Store& store = workload_.store();
    if (!ctx.check("Store::delete_message", store.delete_message(m.mid, DeleteKind::Hard),
                   vanished_codes(ctx))) {
      return;
    }
    auto mid = store.create_message(m.folder, m.props, m.associated);
    if (!ctx.check("Store::create_message", mid)) return;
    if (m.read) ctx.check("Store::set_read", store.set_read(*mid, true), vanished_codes(ctx));
    ctx.run().count("writer replace");
  }

  // A subfolder moved below the folder or another subfolder, as a client's hierarchy import
  // (put_folder_version with the folder's CN expected and this writer's change key added to
  // its PCL). Another writer may have changed, moved or deleted it first (ObjectModified,
  // SyncNoParent, NotFound), or the new parent may lie below it (SyncIncest).
  void move_folder(FiberCtx& ctx) {
    Store& store = workload_.store();
    auto tree = store.folder_tree(workload_.folder());
    if (!ctx.check("Store::folder_tree", tree) || tree->empty()) return;
    const FolderSnapshot& f = (*tree)[workload_.rng().below(tree->size())];
    const std::size_t pick = workload_.rng().below(tree->size() + 1);
    const Fid parent = pick == tree->size() ? workload_.folder() : (*tree)[pick].fid;
    if (parent == f.parent || parent == f.fid) return;
    FolderVersion v;
    v.parent = parent;
    v.source_key = f.source_key;
    v.change_key = Xid::from_globcnt(guid_, ++changes_);
    v.pcl = f.pcl;
    v.pcl.add(v.change_key);
    v.last_modified = f.last_modified + 1;
    v.props = f.props;
    v.expected_cn = f.cn;
    if (ctx.check("Store::put_folder_version", store.put_folder_version(v),
                  {ErrorCode::ObjectModified, ErrorCode::SyncNoParent, ErrorCode::NotFound,
                   ErrorCode::SyncIncest})) {
      ctx.run().count("writer folder-move");
    }
  }

  SyncShared& shared_;
  testkit::Workload workload_;
  Guid guid_ = Guid::from_seed(workload_.rng().next());
  Globcnt changes_ = 0;
};

class ReplicaWorker final : public Worker {
 public:
  ReplicaWorker(SyncShared& shared, std::size_t fiber, const Options& o)
      : shared_(shared),
        replica_(shared.folder, replica_options(shared, o, fiber)) {}

  Session* anchor() override { return session_.get(); }
  std::size_t data_bytes() const override { return replica_bytes(replica_); }

  void start(FiberCtx& ctx) override {
    if (!logon(ctx)) return;
    const std::size_t replica = ctx.index() - shared_.writers;
    const bool real = replica < kRealFirstSyncs || replica % kRealFirstSyncEvery == 0;
    // The first sync's data is the client's. Replica::sync runs server code too, whose
    // leftovers would count as the client's; once per replica that is no growth. The
    // quiescent syncs, which recur, are not a ClientScope (verify).
    const bool copied = !real && copy_first_sync(ctx);
    if (copied) {
      synced_ = true;
      return;
    }
    ctx.set_faults(false);  // every replica starts from a complete first sync
    {
      const heap::ClientScope client;
      synced_ = ctx.check("Replica::sync (first)", replica_.sync(*session_));
    }
    ctx.set_faults(true);
    if (synced_) keep_first_sync(ctx);
  }

  void loop(FiberCtx& ctx) override {
    if (!session_ && !logon(ctx)) return;
    switch (shared_.mode) {
      case Mode::DownloadLoop:
        nothing_new_loop(ctx);
        break;
      case Mode::LiveLoop:
        live_loop(ctx);
        break;
      case Mode::Mixed:
        mixed_loop(ctx);
        break;
      case Mode::StateChurn:
        state_churn_loop(ctx);
        break;
    }
  }

  void before_verify(FiberCtx& ctx) override {
    if (session_ && !replica_.pending().empty()) upload(ctx, "Replica::upload (pre-verify)");
  }

  void verify(FiberCtx& ctx) override {
    if (!session_ && !logon(ctx)) return;
    if (!replica_.pending().empty() && !upload(ctx, "Replica::upload (quiescent)")) return;
    // Not a ClientScope: what the server keeps inside a sync (a session's records of a
    // release) would count as the client's, at every quiescent point.
    if (!ctx.check("Replica::sync (quiescent)", replica_.sync(*session_))) return;
    synced_ = true;
    if (shared_.reference && replica_.messages() == *shared_.reference) return;
    Status st = testkit::check_converged(ctx.store(), shared_.folder, replica_, shared_.config);
    if (!st.ok()) ctx.diverged("replica differs from the server at a quiescent point", st.error().what());
  }

  void stop(FiberCtx& ctx) override { ctx.logoff(session_); }

 private:
  static ReplicaOptions replica_options(const SyncShared& shared, const Options& o, std::size_t fiber) {
    ReplicaOptions r{shared.config, o.buffer_size, 0};
    r.client_guid = Guid::from_seed(o.seed * 1000003 + fiber + 1);  // distinct per replica
    return r;
  }

  // Waiting for first_mu may resume this fiber on another thread, after other fibers ran
  // there: the heap context (owner, side) is set again once the lock is held, so that the
  // copy is the client's and this fiber's.
  bool copy_first_sync(FiberCtx& ctx) {
    std::lock_guard lock(shared_.first_mu);
    ctx.resume_heap();
    const heap::ClientScope client;
    if (!shared_.first_messages) return false;
    replica_.messages() = *shared_.first_messages;
    replica_.set_state(*shared_.first_state);
    return true;
  }

  void keep_first_sync(FiberCtx& ctx) {
    std::lock_guard lock(shared_.first_mu);
    ctx.resume_heap();
    if (!shared_.first_messages) {
      shared_.first_messages = replica_.messages();
      shared_.folder_size = replica_.messages().size();
      shared_.first_state = replica_.state();
    } else if (replica_.messages() != *shared_.first_messages) {
      ctx.diverged("first syncs of an unchanged folder differ", "Replica::sync (first)");
    }
  }

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

  // live-loop: whatever the writers changed since this replica's last loop comes down.
  void live_loop(FiberCtx& ctx) {
    const LoopOutcome out = download_loop(ctx, *session_, replica_);
    if (!out.completed) return;
    Run& run = ctx.run();
    if (out.changes != 0) run.count("downloaded changes", out.changes);
    if (out.deletions != 0) run.count("downloaded deletions", out.deletions);
    if (out.read_changes != 0) run.count("downloaded read changes", out.read_changes);
  }

  // ---- mixed ----

  void mixed_loop(FiberCtx& ctx) {
    if (ctx.rng().chance(kRelogonChance) && !relogon(ctx)) return;
    if (ctx.rng().chance(kReserveChance)) reserve_ids(ctx);
    if (ctx.rng().chance(shared_.upload_chance)) upload_local_changes(ctx);
    download_loop(ctx, *session_, replica_);
  }

  // A new session for the same client: the next download starts from the replica's state.
  bool relogon(FiberCtx& ctx) {
    ctx.logoff(session_);
    ctx.run().count("relogon");
    ctx.point();
    return logon(ctx);
  }

  // GetLocalReplicaIds, then a part of the range reported deleted, as a client that reserved
  // ids for offline creates and dropped some of them.
  void reserve_ids(FiberCtx& ctx) {
    const auto count = static_cast<std::uint32_t>(1 + ctx.rng().below(16));
    auto ids = get_local_replica_ids(*session_, count);
    ctx.point();
    if (!ctx.check("get_local_replica_ids", ids)) return;
    ctx.run().count("reserve ids");
    const Gid first{ids->replguid, ids->first};
    const Gid last{ids->replguid, ids->first + ctx.rng().below(count)};
    ctx.check("set_local_replica_midset_deleted",
              set_local_replica_midset_deleted(*session_, shared_.folder, {LongTermIdRange{first, last}}));
    ctx.point();
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

  // One to three local changes, then Replica::upload. A quarter of the changes create or
  // delete, whichever brings the folder back to its first size, so that the folder's size is
  // stationary (a random walk of creates and deletes would make every replica's heap drift,
  // which the process and client growth series would rightly report).
  void upload_local_changes(FiberCtx& ctx) {
    const int changes = 1 + static_cast<int>(ctx.rng().below(3));
    for (int i = 0; i < changes; ++i) local_change(ctx);
    ctx.point();
    upload(ctx, "Replica::upload");
    ctx.point();
  }

  bool upload(FiberCtx& ctx, std::string_view call) {
    // ObjectModified: a writer raced every retry of an import (several threads). On an error
    // the changes not yet imported stay pending.
    if (!ctx.check(call, replica_.upload(*session_), {ErrorCode::ObjectModified})) return false;
    const UploadCounters& u = replica_.last_upload();
    Run& run = ctx.run();
    if (u.uploaded != 0) run.count("upload applied", u.uploaded);
    if (u.ignored != 0) run.count("upload ignored", u.ignored);
    if (u.conflicts != 0) run.count("upload conflict", u.conflicts);
    if (u.client_won != 0) run.count("upload conflict client won", u.client_won);
    return true;
  }

  // Not a ClientScope: what a local change allocates may move into the store on upload.
  void local_change(FiberCtx& ctx) {
    const std::uint64_t what = ctx.rng().below(100);
    const std::size_t size = replica_.messages().size();
    const bool grow = size < shared_.folder_size || (size == shared_.folder_size && ctx.rng().chance(0.5));
    if ((what < 24 && grow) || replica_.messages().empty()) {
      PropertyBag props;
      props.set(PropValue::unicode(tags::kSubject, "created by fiber " + std::to_string(ctx.index()) +
                                                       " change " + std::to_string(++changes_)));
      replica_.local_create(std::move(props), ctx.rng().chance(0.25));
      ctx.run().count("local create");
      return;
    }
    auto it = pick(ctx, what >= 24 && what < 40);  // read state: normal messages only
    if (it == replica_.messages().end()) return;
    const Gid key = it->first;
    Status st = ok_status();
    if (what < 24) {  // and !grow
      st = replica_.local_delete(key, ctx.rng().chance(0.3));
      ctx.run().count("local delete");
    } else if (what < 40) {
      st = replica_.local_set_read(key, !it->second.read);
      ctx.run().count("local set read");
    } else {
      st = replica_.local_modify(
          key, {PropValue::unicode(tags::kSubject, "edited by fiber " + std::to_string(ctx.index()) +
                                                       " change " + std::to_string(++changes_))});
      ctx.run().count("local modify");
    }
    if (!st.ok()) ctx.diverged("local change of a message the replica holds failed", st.error().what());
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
  std::unique_ptr<Session> session_;
  std::uint64_t changes_ = 0;
  bool synced_ = false;
};

class SyncScenario final : public Scenario {
 public:
  SyncScenario(const Options& o, std::unique_ptr<SyncShared> shared)
      : options_(o), shared_(std::move(shared)) {}

  std::unique_ptr<Worker> make_worker(std::size_t fiber) override {
    if (fiber < shared_->writers) {
      return std::make_unique<WriterWorker>(*shared_, options_.seed * 1000003 + 500009 + fiber);
    }
    return std::make_unique<ReplicaWorker>(*shared_, fiber, options_);
  }

  // The reference replica of this quiescent point: a full sync on a session of its own
  // (no fault injection), checked against the server once.
  void quiescent(FiberCtx& leader) override {
    Scenario::quiescent(leader);
    shared_->reference.reset();
    auto session = Session::open(leader.run().store_ptr(), SessionOptions{});
    if (!leader.check("Session::open (reference)", session)) return;
    Replica reference(shared_->folder, ReplicaOptions{shared_->config, options_.buffer_size, 0});
    if (!leader.check("Replica::sync (reference)", reference.sync(**session))) return;
    Status st = testkit::check_converged(leader.store(), shared_->folder, reference, shared_->config);
    if (!st.ok()) {
      leader.diverged("fresh replica differs from the server at a quiescent point", st.error().what());
      return;
    }
    shared_->reference = std::move(reference.messages());
  }

  void verified() override { shared_->reference.reset(); }

  // mixed: every replica that edits a message adds its XID to the message's PCL, in every
  // replica's copy, so the replicas' heap legitimately grows until every replica has edited
  // every hot message; the more replicas, the more copies and the longer the PCLs. Measured
  // (2 threads, 2 % allocation faults, 3,000-12,000 loops): 400-1,900 B/loop at 250 fibers,
  // up to ~110 B/loop at 100. The floor is 1 KiB/loop or 12 B per fiber, whichever is more.
  // live-loop: each replace leaves a tombstone in the store (the process series' floor: its
  // bytes per loop, which fall as replicas share the writes, and at least 2); the replicas
  // hold a folder of a steady size, so the client series keeps the default threshold.
  double heap_growth_floor() const override {
    if (shared_->mode == Mode::LiveLoop) {
      return std::max(2.0, kLiveReplaceBytes * kLiveReplaceShare * kWritesPerPeriod /
                               static_cast<double>(shared_->replicas));
    }
    if (shared_->mode != Mode::Mixed) return 0.0;
    return std::max(1024.0, 12.0 * static_cast<double>(options_.fibers));
  }
  // On several threads a sample catches the other thread's fibers mid-download, and the
  // client series of live-loop, where every loop downloads, swings by tens of bytes a loop
  // (measured at 1,000 fibers, 20,000 loops, 2 threads: -61..+23 B/loop, the process series
  // within +-2): there the client floor is kLiveClientFloorThreads and a small client leak is
  // left to the process series, which sees it too.
  double client_growth_floor() const override {
    if (shared_->mode != Mode::LiveLoop) return heap_growth_floor();
    return options_.threads > 1 ? kLiveClientFloorThreads : 0.0;
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
  } else if (o.scenario == "mixed" || o.scenario == "live-loop") {
    shared->mode = o.scenario == "mixed" ? Mode::Mixed : Mode::LiveLoop;
    shared->writers = o.writers != 0 ? o.writers : std::max<std::size_t>(1, o.fibers / 8);
    shared->replicas = o.fibers - shared->writers;
    if (shared->mode == Mode::Mixed) {
      shared->upload_chance =
          std::min(kMaxUploadChance, kUploadsPerPeriod / static_cast<double>(shared->replicas));
    }
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
