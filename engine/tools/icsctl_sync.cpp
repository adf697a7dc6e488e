// `icsctl sync --seed N [--messages M] [--changes K] [--buffer-size B] --out DIR`
//
// A store built from the seed by the shared workload generator, a fresh
// client's contents sync (1.fx, 1.state), K server changes (modify, delete,
// move away, read / unread), the incremental sync from 1.state (2.fx,
// 2.state), a hierarchy sync (hierarchy.fx) and summary.json. Everything is
// a function of the seed: the buffer size only decides where buffers are cut,
// and the files hold the buffers concatenated.
#include "icsctl_sync.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "ics/context.h"
#include "ics/session.h"
#include "ics/state.h"
#include "ics/store.h"
#include "ics/sync.h"
#include "ics/testkit/workload.h"

namespace ics::tool {
namespace {

struct SyncArgs {
  std::uint64_t seed = 0;
  std::size_t messages = 40;
  std::size_t changes = 12;
  std::size_t buffer_size = 4096;
  std::string out;
};

constexpr std::uint64_t kMaxMessages = 100000;
constexpr std::uint64_t kMaxChanges = 100000;
constexpr std::uint64_t kMaxBuffer = std::uint64_t{1} << 24;

Error bad(const std::string& what) { return Error(ErrorCode::InvalidParameter, what); }

// A decimal integer in [low, high], nothing else.
Result<std::uint64_t> number(const std::string& flag, const std::string& text, std::uint64_t low,
                             std::uint64_t high) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [at, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || at != end) return bad(flag + " wants a decimal integer, got '" + text + "'");
  if (v < low || v > high) {
    return bad(flag + " must be in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
  }
  return v;
}

Status take(SyncArgs& a, const std::string& flag, const std::string& value, bool& seeded) {
  if (flag == "--seed") {
    ICS_TRY_ASSIGN(a.seed, number(flag, value, 0, UINT64_MAX));
    seeded = true;
  } else if (flag == "--messages") {
    ICS_TRY_ASSIGN(a.messages, number(flag, value, 1, kMaxMessages));
  } else if (flag == "--changes") {
    ICS_TRY_ASSIGN(a.changes, number(flag, value, 0, kMaxChanges));
  } else if (flag == "--buffer-size") {
    ICS_TRY_ASSIGN(a.buffer_size, number(flag, value, 1, kMaxBuffer));
  } else if (flag == "--out") {
    if (value.empty()) return bad("--out wants a directory");
    a.out = value;
  } else {
    return bad("sync: unknown argument '" + flag + "'");
  }
  return ok_status();
}

Result<SyncArgs> parse_args(const std::vector<std::string>& args) {
  SyncArgs a;
  bool seeded = false;
  for (std::size_t i = 0; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return bad("sync: " + args[i] + " wants a value");
    ICS_TRY(take(a, args[i], args[i + 1], seeded));
  }
  if (!seeded) return bad("sync: --seed is required");
  if (a.out.empty()) return bad("sync: --out is required");
  return a;
}

// The server changes the contract names: modify, delete, move away, read / unread.
testkit::WorkloadOptions change_mix() {
  using testkit::Op;
  testkit::WorkloadOptions o;
  o.weights.fill(0);
  auto w = [&](Op op, unsigned weight) { o.weights[static_cast<std::size_t>(op)] = weight; };
  w(Op::Modify, 16);
  w(Op::ModifyFai, 5);
  w(Op::DeleteHard, 6);
  w(Op::DeleteSoft, 5);
  w(Op::MoveAway, 5);
  w(Op::MarkRead, 8);
  w(Op::MarkUnread, 6);
  return o;
}

Status upload_state(Session& session, std::uint32_t handle, const IcsState& state, bool hierarchy) {
  for (StateProperty p : {StateProperty::IdsetGiven, StateProperty::CnsetSeen, StateProperty::CnsetSeenFAI,
                          StateProperty::CnsetRead}) {
    if (hierarchy && (p == StateProperty::CnsetSeenFAI || p == StateProperty::CnsetRead)) continue;
    const Bytes bytes = encode_idset(state.get(p));
    ICS_TRY(upload_state_begin(session, handle, state_tag(p), static_cast<std::uint32_t>(bytes.size())));
    ICS_TRY(upload_state_continue(session, handle, ByteView(bytes)));
    ICS_TRY(upload_state_end(session, handle));
  }
  return ok_status();
}

struct Download {
  Bytes stream;
  IcsState state;
};

// One download: configure, upload `from`, get_buffer(B) until Done.
Result<Download> download(Session& session, Fid folder, const SyncConfig& config, const IcsState& from,
                          std::size_t buffer_size) {
  ICS_TRY_ASSIGN(std::uint32_t handle, sync_configure(session, folder, config));
  Download d;
  Status s = upload_state(session, handle, from, config.hierarchy());
  while (s.ok()) {
    Result<BufferResult> r = get_buffer(session, handle, buffer_size);
    if (!r.ok()) {
      s = r.error();
      break;
    }
    d.stream.insert(d.stream.end(), r->buffer.begin(), r->buffer.end());
    if (r->status == TransferStatus::Done) break;
    if (r->status != TransferStatus::Partial) s = Error(ErrorCode::GeneralFailure, "get_buffer did not finish");
  }
  (void)session.release(handle);
  ICS_TRY(s);
  ICS_TRY_ASSIGN(std::vector<FxEvent> events, parse_fx(ByteView(d.stream)));
  ICS_TRY_ASSIGN(d.state, read_state(events));
  return d;
}

Status write_file(const std::filesystem::path& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Error(ErrorCode::GeneralFailure, "cannot write " + path.string());
  return ok_status();
}

Status write_text(const std::filesystem::path& path, const std::string& text) {
  const Bytes b(text.begin(), text.end());
  return write_file(path, ByteView(b));
}

Status write_download(const std::filesystem::path& dir, const std::string& name, const Download& d) {
  ICS_TRY(write_file(dir / (name + ".fx"), ByteView(d.stream)));
  ICS_TRY_ASSIGN(Bytes state, serialize_state(d.state, false));
  return write_file(dir / (name + ".state"), ByteView(state));
}

// What the store did, as message GLOBCNTs. A fallback create (nothing left to
// modify or delete) is a message change too, so it is listed under "changed".
std::string summary(const testkit::WorkloadLog& log) {
  nlohmann::ordered_json j;
  std::vector<Globcnt> changed = log.changed;
  changed.insert(changed.end(), log.created.begin(), log.created.end());
  j["changed"] = changed;
  j["deleted"] = log.deleted;
  j["moved"] = log.moved_away;
  j["read"] = log.read;
  j["unread"] = log.unread;
  return j.dump(2) + "\n";
}

Status run(const SyncArgs& a) {
  const std::filesystem::path dir(a.out);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::GeneralFailure, "cannot create " + a.out + ": " + ec.message());
  auto store = std::make_shared<Store>(StoreOptions{Guid::from_seed(a.seed), 1});
  ICS_TRY_ASSIGN(testkit::Workload wl, testkit::Workload::create(*store, a.seed, change_mix()));
  ICS_TRY(wl.populate(a.messages));
  ICS_TRY_ASSIGN(std::unique_ptr<Session> session, Session::open(store));
  SyncConfig contents;
  contents.flags |= sync_flags::kReadState;
  ICS_TRY_ASSIGN(Download first, download(*session, wl.folder(), contents, IcsState{}, a.buffer_size));
  ICS_TRY(write_download(dir, "1", first));
  const testkit::WorkloadLog before = wl.log();
  ICS_TRY(wl.apply(a.changes));
  ICS_TRY_ASSIGN(Download second, download(*session, wl.folder(), contents, first.state, a.buffer_size));
  ICS_TRY(write_download(dir, "2", second));
  SyncConfig hierarchy;
  hierarchy.type = sync_type::kHierarchy;
  hierarchy.flags = sync_flags::kUnicode;
  ICS_TRY_ASSIGN(Download tree, download(*session, wl.folder(), hierarchy, IcsState{}, a.buffer_size));
  ICS_TRY(write_file(dir / "hierarchy.fx", ByteView(tree.stream)));
  testkit::WorkloadLog changes = wl.log();
  auto after = [](std::vector<Globcnt>& v, const std::vector<Globcnt>& was) {
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(was.size()));
  };
  after(changes.created, before.created);
  after(changes.changed, before.changed);
  after(changes.deleted, before.deleted);
  after(changes.moved_away, before.moved_away);
  after(changes.read, before.read);
  after(changes.unread, before.unread);
  return write_text(dir / "summary.json", summary(changes));
}

}  // namespace

Status sync_command(const std::vector<std::string>& args) {
  ICS_TRY_ASSIGN(SyncArgs a, parse_args(args));
  return run(a);
}

}  // namespace ics::tool
