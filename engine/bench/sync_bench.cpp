// Synchronization download throughput and incremental cost.
//
// BM_FullDownload_Server/10000   configure + get_buffer(15480) until Done of a
//                                10,000-message folder (fresh state); bytes/s
//                                is stream bytes per second.
// BM_FullDownload_Replica/10000  the same through Replica::sync (parse + apply).
// BM_Memcpy_StreamBytes          memcpy of as many bytes as that stream, so
//                                (download bytes/s) / (memcpy bytes/s) reads off.
// BM_Incremental10/1000, /100000 one Replica::sync after 10 server changes in a
//                                folder of N messages (the changes are made with
//                                the timer paused). Counters: messages the store
//                                returned, stream bytes, state bytes uploaded.
// BM_IncrementalRatio            both sizes timed by hand (201 alternating
//                                rounds each, medians); counters
//                                time_ratio = t(100k) / t(1k) and
//                                examined_ratio (store items, should be 1).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "ics/context.h"
#include "ics/replica.h"
#include "ics/session.h"
#include "ics/sync.h"
#include "ics/testkit/workload.h"

namespace {

using namespace ics;

SessionOptions big_budget() {
  SessionOptions o;
  o.memory_budget = std::size_t{1} << 30;
  o.max_state_size = std::size_t{64} << 20;
  return o;
}

// A folder of n messages made by the workload generator (random properties
// of every kind, some long bodies, a quarter FAI).
struct Corpus {
  std::shared_ptr<Store> store = std::make_shared<Store>();
  Fid folder;
};

const Corpus& corpus_10k() {
  static const Corpus c = [] {
    Corpus out;
    auto wl = testkit::Workload::create(*out.store, 10000);
    (void)wl->populate(10000);
    out.folder = wl->folder();
    return out;
  }();
  return c;
}

std::size_t download_once(Session& session, Fid folder, benchmark::State* state) {
  auto h = sync_configure(session, folder, SyncConfig{});
  if (!h.ok()) {
    if (state) state->SkipWithError(h.error().to_string().c_str());
    return 0;
  }
  std::size_t bytes = 0;
  for (;;) {
    auto r = get_buffer(session, *h, 15480);
    if (!r.ok()) {
      if (state) state->SkipWithError(r.error().to_string().c_str());
      break;
    }
    bytes += r->buffer.size();
    benchmark::DoNotOptimize(r->buffer.data());
    if (r->status == TransferStatus::Done) break;
  }
  (void)session.release(*h);
  return bytes;
}

std::size_t stream_bytes_10k() {
  static const std::size_t n = [] {
    auto session = std::move(Session::open(corpus_10k().store, big_budget())).value();
    return download_once(*session, corpus_10k().folder, nullptr);
  }();
  return n;
}

void BM_FullDownload_Server(benchmark::State& state) {
  const Corpus& c = corpus_10k();
  auto session = std::move(Session::open(c.store, big_budget())).value();
  std::size_t bytes = 0;
  for (auto _ : state) bytes += download_once(*session, c.folder, &state);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["stream_bytes"] = static_cast<double>(stream_bytes_10k());
  state.counters["messages"] = static_cast<double>(c.store->message_ids(c.folder, MessageKind::Normal)->size() +
                                                   c.store->message_ids(c.folder, MessageKind::Associated)->size());
}
BENCHMARK(BM_FullDownload_Server)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_FullDownload_Replica(benchmark::State& state) {
  const Corpus& c = corpus_10k();
  auto session = std::move(Session::open(c.store, big_budget())).value();
  std::size_t bytes = 0;
  for (auto _ : state) {
    ReplicaOptions o;
    o.buffer_size = 15480;
    Replica r(c.folder, o);
    if (!r.sync(*session).ok()) state.SkipWithError("sync failed");
    bytes += r.last_sync().stream_bytes;
    benchmark::DoNotOptimize(r.messages().size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_FullDownload_Replica)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_Memcpy_StreamBytes(benchmark::State& state) {
  const std::size_t n = stream_bytes_10k();
  std::vector<std::uint8_t> from(n, 0x5A), to(n);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), n);
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["stream_bytes"] = static_cast<double>(n);
}
BENCHMARK(BM_Memcpy_StreamBytes);

// ---- incremental ----

// A folder of n small messages and a replica already in step with it.
struct Incremental {
  explicit Incremental(std::size_t n) {
    folder = *store->create_folder(store->root(), "big");
    PropertyBag bag;
    bag.set(PropValue::unicode(tags::kSubject, "a message of modest size"));
    bag.set(PropValue::integer(tags::kImportance, 1));
    for (std::size_t i = 0; i < n; ++i) mids.push_back(*store->create_message(folder, bag, i % 8 == 0));
    session = std::move(Session::open(store, big_budget())).value();
    ReplicaOptions o;
    o.buffer_size = 15480;
    o.config.flags |= sync_flags::kReadState;
    replica = std::make_unique<Replica>(folder, o);
    (void)replica->sync(*session);
  }
  void change10() {
    PropChanges c;
    c.set.set(PropValue::integer(tags::kImportance, next));
    for (int i = 0; i < 10; ++i) (void)store->modify_message(mids[(next++ * 7919) % mids.size()], c);
  }
  std::shared_ptr<Store> store = std::make_shared<Store>();
  Fid folder;
  std::vector<Mid> mids;
  std::unique_ptr<Session> session;
  std::unique_ptr<Replica> replica;
  std::uint64_t next = 0;
};

void BM_Incremental10(benchmark::State& state) {
  Incremental f(static_cast<std::size_t>(state.range(0)));
  double examined = 0, bytes = 0, state_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    f.change10();
    state.ResumeTiming();
    if (!f.replica->sync(*f.session).ok()) state.SkipWithError("sync failed");
    examined += static_cast<double>(f.replica->last_sync().server.messages_examined);
    bytes += static_cast<double>(f.replica->last_sync().stream_bytes);
    state_bytes += static_cast<double>(f.replica->last_sync().state_bytes_uploaded);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["examined"] = examined / n;
  state.counters["stream_bytes"] = bytes / n;
  state.counters["state_bytes"] = state_bytes / n;
}
BENCHMARK(BM_Incremental10)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// One timed sync after 10 changes (made untimed); seconds.
double time_one(Incremental& f, double& examined) {
  f.change10();
  const auto t0 = std::chrono::steady_clock::now();
  (void)f.replica->sync(*f.session);
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  examined += static_cast<double>(f.replica->last_sync().server.messages_examined);
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Rounds alternate between the two folders, so that load on a shared machine
// hits both alike; the ratio is of the medians.
void BM_IncrementalRatio(benchmark::State& state) {
  Incremental small(1000), large(100000);
  constexpr int kRounds = 201;
  for (auto _ : state) {
    double e_small = 0, e_large = 0;
    std::vector<double> t_small, t_large;
    for (int i = 0; i < kRounds; ++i) {
      t_small.push_back(time_one(small, e_small));
      t_large.push_back(time_one(large, e_large));
    }
    const double m_small = median(t_small), m_large = median(t_large);
    state.counters["t_1k_us"] = m_small * 1e6;
    state.counters["t_100k_us"] = m_large * 1e6;
    state.counters["time_ratio"] = m_large / m_small;
    state.counters["examined_ratio"] = e_large / e_small;
  }
}
BENCHMARK(BM_IncrementalRatio)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
