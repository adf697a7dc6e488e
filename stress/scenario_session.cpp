// session-churn: logon / logoff, handle reuse and stale handles, on many sessions at once.
// Each fiber keeps one long-lived session (the anchor) and per loop: opens collectors on it
// (some with a state upload and a transfer-state child) and download contexts (some read part
// way), logs a second session on and off
// (sometimes with handles still open), tries each session's handles on the other, releases
// the anchor's handles in a random order (children before or with their parents), and
// checks that every released handle is NullObject, that no released handle value is handed
// out again, and that the anchor's live bytes and handle count are back where they started.
#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "client.h"
#include "ics/collector.h"
#include "ics/context.h"
#include "ics/idset.h"
#include "ics/sync.h"
#include "scenarios.h"

namespace ics::stress {

namespace {

constexpr std::size_t kStaleKept = 16;

// Uploads one valid state property to a context, cut into random chunks.
void upload_valid_state(FiberCtx& ctx, Session& s, std::uint32_t handle, bool contents) {
  Rng& rng = ctx.rng();
  static constexpr PropTag kContentsTags[] = {tags::kMetaTagIdsetGiven, tags::kMetaTagCnsetSeen,
                                              tags::kMetaTagCnsetSeenFAI, tags::kMetaTagCnsetRead};
  const PropTag tag = kContentsTags[rng.below(contents ? 4 : 2)];
  GuidIdSet set;
  const Globcnt low = 1 + rng.below(1000);
  if (!ctx.check("GuidIdSet::insert", set.insert(ctx.store().guid(), low, low + rng.below(50)))) {
    return;
  }
  const Bytes b = encode_idset(set);
  if (!ctx.check("upload_state_begin", upload_state_begin(s, handle, tag,
                                                          static_cast<std::uint32_t>(b.size())))) {
    return;
  }
  bool whole = true;
  for (std::size_t at = 0; at < b.size() && whole;) {
    const std::size_t n = std::min(b.size() - at, 1 + rng.below(8));
    whole = ctx.check("upload_state_continue",
                      upload_state_continue(s, handle, ByteView(b).subspan(at, n)));
    at += n;
  }
  if (whole) {
    ctx.check("upload_state_end", upload_state_end(s, handle));
  } else {  // a failed continue leaves the upload open: close it; a cut IDSET may not parse
    ctx.check("upload_state_end (after a failed continue)", upload_state_end(s, handle),
              {ErrorCode::FormatError, ErrorCode::NotSupported});
  }
}

class SessionChurnWorker final : public Worker {
 public:
  explicit SessionChurnWorker(Fid folder) : folder_(folder) {}

  void start(FiberCtx& ctx) override { logon_anchor(ctx); }
  void stop(FiberCtx& ctx) override { ctx.logoff(anchor_); }
  Session* anchor() override { return anchor_.get(); }

  void loop(FiberCtx& ctx) override {
    if (!anchor_ && !logon_anchor(ctx)) return;
    Session& a = *anchor_;
    const std::size_t base_bytes = a.memory().live_bytes();
    const std::size_t base_handles = a.handle_count();
    std::vector<std::uint32_t> parents;
    std::vector<std::uint32_t> children;
    open_handles(ctx, a, parents, children);
    churn_session(ctx, a, parents);
    release_handles(ctx, a, parents, children);
    check_stale(ctx, a);
    if (a.memory().live_bytes() != base_bytes || a.handle_count() != base_handles) {
      ctx.diverged("session figures not back after release",
                   "live bytes " + std::to_string(a.memory().live_bytes()) + " (was " +
                       std::to_string(base_bytes) + "), handles " +
                       std::to_string(a.handle_count()) + " (was " +
                       std::to_string(base_handles) + ")");
    }
  }

 private:
  bool logon_anchor(FiberCtx& ctx) {
    auto s = ctx.logon("Session::open");
    if (!s.ok()) return false;
    anchor_ = std::move(s).value();
    return true;
  }

  void note_new_handle(FiberCtx& ctx, std::uint32_t h) {
    if (std::find(stale_.begin(), stale_.end(), h) != stale_.end()) {
      ctx.diverged("released handle value handed out again", "handle " + std::to_string(h));
    }
  }

  void remember_stale(std::uint32_t h) {
    stale_.push_back(h);
    if (stale_.size() > kStaleKept) stale_.pop_front();
  }

  void open_handles(FiberCtx& ctx, Session& a, std::vector<std::uint32_t>& parents,
                    std::vector<std::uint32_t>& children) {
    Rng& rng = ctx.rng();
    const std::size_t n = 1 + rng.below(3);
    for (std::size_t i = 0; i < n; ++i) {
      const bool contents = rng.chance(0.8);
      auto h = open_collector(a, folder_, contents);
      ctx.point();
      if (!ctx.check("open_collector", h)) continue;
      note_new_handle(ctx, *h);
      parents.push_back(*h);
      if (rng.chance(0.5)) upload_valid_state(ctx, a, *h, contents);
      ctx.point();
      if (rng.chance(0.2)) open_download(ctx, a, parents);
      if (rng.chance(0.5)) {
        auto ts = get_transfer_state(a, *h);
        if (ctx.check("get_transfer_state", ts)) {
          note_new_handle(ctx, *ts);
          children.push_back(*ts);
        }
        ctx.point();
      }
    }
  }

  // A download context read part way (its stream charged to the session until released).
  void open_download(FiberCtx& ctx, Session& a, std::vector<std::uint32_t>& parents) {
    auto h = sync_configure(a, folder_, stress_sync_config());
    ctx.point();
    if (!ctx.check("sync_configure", h)) return;
    note_new_handle(ctx, *h);
    parents.push_back(*h);
    if (ctx.rng().chance(0.5)) ctx.check("get_buffer", get_buffer(a, *h, 1 + ctx.rng().below(512)));
    ctx.point();
  }

  // A second session: each side's handles must be NullObject on the other.
  void churn_session(FiberCtx& ctx, Session& a, const std::vector<std::uint32_t>& parents) {
    auto opened = ctx.logon("Session::open (churn)");
    if (!opened.ok()) return;
    std::unique_ptr<Session> s = std::move(opened).value();
    auto hs = open_collector(*s, folder_, true);
    ctx.point();
    if (ctx.check("open_collector (churn)", hs)) {
      expect_null_object(ctx, "get_transfer_state (another session's handle)",
                         get_transfer_state(a, *hs), "another session's handle");
      if (!parents.empty()) {
        expect_null_object(ctx, "upload_state_begin (another session's handle)",
                           upload_state_begin(*s, parents.front(), tags::kMetaTagCnsetSeen, 0),
                           "another session's handle");
      }
      if (ctx.rng().chance(0.5)) ctx.check("Session::release (churn)", s->release(*hs));
    }
    ctx.point();
    ctx.logoff(s);  // with or without live handles
  }

  void release_handles(FiberCtx& ctx, Session& a, std::vector<std::uint32_t>& parents,
                       std::vector<std::uint32_t>& children) {
    Rng& rng = ctx.rng();
    std::vector<std::uint32_t> implicit;
    for (std::uint32_t c : children) {
      if (rng.chance(0.5)) {
        ctx.check("Session::release (child)", a.release(c));
        remember_stale(c);
      } else {
        implicit.push_back(c);
      }
    }
    for (std::size_t i = parents.size(); i > 1; --i) std::swap(parents[i - 1], parents[rng.below(i)]);
    for (std::uint32_t p : parents) {
      ctx.check("Session::release", a.release(p));
      remember_stale(p);
      ctx.point();
    }
    for (std::uint32_t c : implicit) remember_stale(c);  // released with their parent
  }

  void check_stale(FiberCtx& ctx, Session& a) {
    Rng& rng = ctx.rng();
    for (int i = 0; i < 3 && !stale_.empty(); ++i) {
      const std::uint32_t h = stale_[rng.below(stale_.size())];
      switch (rng.below(4)) {
        case 0:
          expect_null_object(ctx, "get_transfer_state (stale)", get_transfer_state(a, h), "stale handle");
          break;
        case 1:
          expect_null_object(ctx, "upload_state_end (stale)", upload_state_end(a, h), "stale handle");
          break;
        case 2:
          expect_null_object(ctx, "get_buffer (stale)", get_buffer(a, h, 64), "stale handle");
          break;
        default:
          expect_null_object(ctx, "Session::release (stale)", a.release(h), "stale handle");
          break;
      }
    }
    ctx.point();
  }

  Fid folder_;
  std::unique_ptr<Session> anchor_;
  std::deque<std::uint32_t> stale_;
};

class SessionChurn final : public Scenario {
 public:
  explicit SessionChurn(Fid folder) : folder_(folder) {}
  std::unique_ptr<Worker> make_worker(std::size_t) override {
    return std::make_unique<SessionChurnWorker>(folder_);
  }

 private:
  Fid folder_;
};

}  // namespace

Result<std::unique_ptr<Scenario>> make_session_churn(const Options&, const SharedFolder& f) {
  return std::unique_ptr<Scenario>(std::make_unique<SessionChurn>(f.folder));
}

}  // namespace ics::stress
