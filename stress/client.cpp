#include "client.h"

#include <algorithm>
#include <string>
#include <vector>

#include "ics/context.h"
#include "ics/fxstream.h"
#include "ics/idset.h"
#include "ics/sync.h"
#include "ics/testkit/oracles.h"

namespace ics::stress {

namespace {

constexpr StateProperty kStateOrder[] = {StateProperty::IdsetGiven, StateProperty::CnsetSeen,
                                         StateProperty::CnsetSeenFAI, StateProperty::CnsetRead};

bool upload_property(FiberCtx& ctx, Session& s, std::uint32_t handle, StateProperty p,
                     const IcsState& state) {
  const Bytes bytes = encode_idset(state.get(p));
  if (!ctx.check("upload_state_begin", upload_state_begin(s, handle, state_tag(p),
                                                          static_cast<std::uint32_t>(bytes.size())))) {
    return false;
  }
  ctx.point();
  const std::size_t chunk =
      bytes.empty() || ctx.rng().chance(0.5) ? bytes.size() : 1 + ctx.rng().below(bytes.size());
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    const ByteView piece = ByteView(bytes).subspan(at, std::min(chunk, bytes.size() - at));
    if (!ctx.check("upload_state_continue", upload_state_continue(s, handle, piece))) return false;
    ctx.point();
  }
  const bool ok = ctx.check("upload_state_end", upload_state_end(s, handle));
  ctx.point();
  return ok;
}

}  // namespace

SyncConfig stress_sync_config() {
  SyncConfig c;
  c.flags = sync_flags::kUnicode | sync_flags::kNormal | sync_flags::kFAI | sync_flags::kReadState;
  c.extra_flags = extra_flags::kEid | extra_flags::kCn;
  return c;
}

bool upload_state(FiberCtx& ctx, Session& s, std::uint32_t handle, const IcsState& state,
                  bool hierarchy) {
  const std::size_t count = hierarchy ? 2 : 4;
  for (std::size_t i = 0; i < count; ++i) {
    if (!upload_property(ctx, s, handle, kStateOrder[i], state)) return false;
  }
  return true;
}

std::optional<SyncDownload> read_download(FiberCtx& ctx, Session& s, std::uint32_t handle,
                                          std::size_t buffer, bool hierarchy) {
  FxParser lexer;
  SyncStreamParser grammar(hierarchy);
  for (std::size_t calls = 0;; ++calls) {
    auto r = get_buffer(s, handle, buffer);
    ctx.point();
    if (!ctx.check("get_buffer", r)) return std::nullopt;
    const heap::ClientScope client;
    if (!ctx.check("FxParser::feed", lexer.feed(r->buffer))) return std::nullopt;
    if (!ctx.check("SyncStreamParser::push", grammar.push_all(lexer.events()))) return std::nullopt;
    if (r->status == TransferStatus::Done) break;
    if (r->status != TransferStatus::Partial || calls > (std::size_t{1} << 24)) {
      ctx.diverged("get_buffer status neither Partial nor Done",
                   "TransferStatus " + std::to_string(static_cast<int>(r->status)));
      return std::nullopt;
    }
  }
  const heap::ClientScope client;
  if (!ctx.check("FxParser::finish", lexer.finish())) return std::nullopt;
  auto download = grammar.finish();
  if (!ctx.check("SyncStreamParser::finish", download)) return std::nullopt;
  return std::move(download).value();
}

std::optional<IcsState> read_transfer_state(FiberCtx& ctx, Session& s, std::uint32_t handle,
                                            std::size_t buffer) {
  auto ts = get_transfer_state(s, handle);
  ctx.point();
  if (!ctx.check("get_transfer_state", ts)) return std::nullopt;
  Bytes stream;
  for (;;) {
    auto r = get_buffer(s, *ts, buffer);
    ctx.point();
    if (!ctx.check("get_buffer (transfer state)", r)) return std::nullopt;
    stream.insert(stream.end(), r->buffer.begin(), r->buffer.end());
    if (r->status != TransferStatus::Partial) break;
  }
  // Released with its parent otherwise.
  if (ctx.rng().chance(0.5)) ctx.check("Session::release (transfer state)", s.release(*ts));
  const heap::ClientScope client;
  auto events = parse_fx(stream);
  if (!ctx.check("parse_fx (transfer state)", events)) return std::nullopt;
  auto state = read_state(*events);
  if (!ctx.check("read_state (transfer state)", state)) return std::nullopt;
  return std::move(state).value();
}

namespace {

// Steps of download_loop after the handle exists; the caller releases it.
LoopOutcome run_loop(FiberCtx& ctx, Session& s, std::uint32_t handle, Replica& replica) {
  LoopOutcome out;
  if (!upload_state(ctx, s, handle, replica.state())) return out;
  std::optional<SyncDownload> d = read_download(ctx, s, handle, ctx.options().buffer_size);
  if (!d) return out;
  {
    const heap::ClientScope client;
    if (!ctx.check("Replica::apply", replica.apply(*d, s.store()))) return out;
  }
  out.changes = d->messages.size();
  out.deletions = d->deleted.size() + d->expired.size() + d->no_longer_in_scope.size();
  out.read_changes = d->read.size() + d->unread.size();
  std::optional<IcsState> ts = read_transfer_state(ctx, s, handle, ctx.options().buffer_size);
  if (!ts) return out;
  if (!(*ts == d->state)) {
    ctx.diverged("transfer state differs from the stream's state",
                 "RopSynchronizationGetTransferState after Done");
  }
  out.completed = true;
  return out;
}

}  // namespace

LoopOutcome download_loop(FiberCtx& ctx, Session& s, Replica& replica) {
  const testkit::MemoryBaseline baseline(s);
  auto handle = sync_configure(s, replica.folder(), replica.options().config);
  ctx.point();
  if (!ctx.check("sync_configure", handle)) return {};
  LoopOutcome out = run_loop(ctx, s, *handle, replica);
  ctx.check("Session::release", s.release(*handle));
  if (Status st = baseline.check(s); !st.ok()) {
    ctx.diverged("session memory not back after release", st.error().what());
  }
  ctx.point();
  return out;
}

}  // namespace ics::stress
