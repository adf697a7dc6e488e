// Oracle: on a download context over a small populated folder, any script of
// upload_state_begin / continue / end (tags from a table, good and bad, fuzzed
// sizes, splits and bytes) mixed with stray calls (bad handles, get_buffer
// mid-upload, transfer-state objects) only fails with a named ErrorCode from
// that call's expected set, a whole valid property always goes in, the
// context stays usable (the full stream then downloads to Done and parses),
// and after release the session's live bytes and objects are at baseline, and
// after the input the process's live heap bytes (fuzz_heap.h).
// The script: script/state_upload_ops.h.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_heap.h"
#include "fuzz_store.h"
#include "ics/context.h"
#include "ics/errors.h"
#include "ics/fxstream.h"
#include "ics/idset.h"
#include "ics/session.h"
#include "ics/state.h"
#include "ics/store.h"
#include "ics/sync.h"
#include "ics/testkit/workload.h"
#include "mutate/script_mutator.h"
#include "script/reader.h"
#include "script/state_upload_ops.h"

namespace {

namespace script = ics_fuzz::state_upload;
using ics_fuzz::ScriptReader;
constexpr std::size_t kMaxGetBufferCalls = 1 << 16;

using ics::ErrorCode;

// Good state tags first, then wrong types, other meta-properties, plain ones.
constexpr ics::PropTag kTags[] = {
    ics::tags::kMetaTagIdsetGiven,       ics::tags::kMetaTagIdsetGivenBinary,
    ics::tags::kMetaTagCnsetSeen,        ics::tags::kMetaTagCnsetSeenFAI,
    ics::tags::kMetaTagCnsetRead,        ics::PropTag{0x4017001F},
    ics::PropTag{0x67960003},            ics::tags::kMetaTagIdsetDeleted,
    ics::tags::kMetaTagIdsetRead,        ics::tags::kSubject,
    ics::PropTag{0x00000000},            ics::PropTag{0xFFFFFFFF},
};
constexpr std::size_t kGoodTags = 5;
static_assert(std::size(kTags) == script::kAllOnes + 1 && kGoodTags == script::kWrongType1);

bool one_of(ErrorCode code, std::initializer_list<ErrorCode> allowed) {
  for (ErrorCode a : allowed) {
    if (a == code) return true;
  }
  return false;
}

// A returned error must be named and expected for that call.
template <class R>
void expect(const R& st, std::initializer_list<ErrorCode> allowed) {
  if (st.ok()) return;
  ICS_FUZZ_CHECK(ics::name(st.code()) != "Unknown");
  ICS_FUZZ_CHECK(one_of(st.code(), allowed));
}

struct Ctx {
  ScriptReader& in;
  ics::Session& session;
  ics::Store& store;
  std::uint32_t handle;
  bool hierarchy;
  ics::Bytes stream{};  // every byte get_buffer returned, in order
  ics::Bytes transfer{};  // get_buffer's transfer buffer, reused from call to call
  bool done = false;

  bool upload_open() {
    auto c = session.lookup<ics::StatefulContext>(handle);
    return c.ok() && (*c)->upload().open();
  }
  bool started() {
    auto c = session.lookup<ics::DownloadContext>(handle);
    return c.ok() && (*c)->started();
  }
  std::vector<std::uint32_t> children{};  // live transfer-state objects

  // kInvalidHandle, a released one, or a forged value naming nothing live.
  std::uint32_t bad_handle() {
    if (in.ConsumeBool()) return released.empty() ? ics::kInvalidHandle : released.back();
    std::uint32_t h = in.ConsumeIntegral<std::uint32_t>();
    bool live = h == handle || std::find(children.begin(), children.end(), h) != children.end();
    return live ? ics::kInvalidHandle : h;
  }
  std::vector<std::uint32_t> released{};
};

std::size_t in_range(ScriptReader& in, std::size_t n) { return in.ConsumeIntegralInRange<std::size_t>(0, n - 1); }

ics::PropTag pick_tag(Ctx& c) { return kTags[in_range(c.in, std::size(kTags))]; }

// A valid IDSET value: a few ranges under the store's REPLGUID or a foreign one.
ics::Bytes valid_idset(Ctx& c) {
  ics::GuidIdSet s;
  int n = c.in.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < n; ++i) {
    ics::Guid g = c.in.ConsumeBool() ? c.store.guid() : ics::Guid::from_seed(c.in.ConsumeIntegral<std::uint8_t>());
    auto low = c.in.ConsumeIntegralInRange<ics::Globcnt>(1, 64);
    auto high = low + c.in.ConsumeIntegralInRange<ics::Globcnt>(0, 64);
    ICS_FUZZ_CHECK(s.insert(g, low, high).ok());
  }
  return ics::encode_idset(s);
}

void begin(Ctx& c, ics::PropTag tag, std::uint32_t size) {
  bool was_open = c.upload_open();
  ics::Status st = ics::upload_state_begin(c.session, c.handle, tag, size);
  if (c.started()) {
    ICS_FUZZ_CHECK(!st.ok());
    expect(st, {ErrorCode::NotSupported});
    return;
  }
  if (was_open) ICS_FUZZ_CHECK(!st.ok());
  expect(st, {ErrorCode::NotSupported, ErrorCode::InvalidParameter, ErrorCode::TooBig});
}

// Splits bytes at fuzzer-chosen points into continue calls.
void send_split(Ctx& c, ics::ByteView bytes) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t n = c.in.ConsumeIntegralInRange<std::size_t>(1, bytes.size() - pos);
    ics::Status st = ics::upload_state_continue(c.session, c.handle, bytes.subspan(pos, n));
    expect(st, {ErrorCode::NotSupported, ErrorCode::TooBig});
    if (!st.ok()) return;
    pos += n;
  }
}

void end(Ctx& c) {
  bool was_open = c.upload_open();
  ics::Status st = ics::upload_state_end(c.session, c.handle);
  if (!was_open) ICS_FUZZ_CHECK(st.code() == ErrorCode::NotSupported);
  expect(st, {ErrorCode::NotSupported, ErrorCode::FormatError});
  ICS_FUZZ_CHECK(!c.upload_open());
}

// One get_buffer call; the bytes are kept for the final parse.
void get_buffer(Ctx& c, std::size_t max) {
  bool open = c.upload_open();
  ics::Result<ics::BufferResult> r = ics::get_buffer(c.session, c.handle, max, c.transfer);
  if (!r.ok()) {
    expect(r, {ErrorCode::NotSupported, ErrorCode::InvalidParameter});
    ICS_FUZZ_CHECK(max == 0 || open);
    return;
  }
  ICS_FUZZ_CHECK(!open && max != 0 && c.transfer.size() <= max && r->buffer.empty());
  ICS_FUZZ_CHECK(r->status == ics::TransferStatus::Partial || r->status == ics::TransferStatus::Done);
  c.stream.insert(c.stream.end(), c.transfer.begin(), c.transfer.end());
  c.done = r->status == ics::TransferStatus::Done;
}

std::size_t buffer_size(Ctx& c) {
  auto b = c.in.ConsumeIntegral<std::uint8_t>();
  return b < 8 ? b : std::size_t{b} * 37;
}

// The transfer-state object of the context downloads fully and parses as a state.
void transfer_state(Ctx& c) {
  ics::Result<std::uint32_t> ts = ics::get_transfer_state(c.session, c.handle);
  if (!ts.ok()) {
    expect(ts, {ErrorCode::NotSupported});
    ICS_FUZZ_CHECK(c.upload_open());
    return;
  }
  ics::FxParser p;
  for (std::size_t i = 0; i < kMaxGetBufferCalls; ++i) {
    ics::Result<ics::BufferResult> r = ics::get_buffer(c.session, *ts, 4096);
    ICS_FUZZ_CHECK(r.ok() && p.feed(ics::ByteView(r->buffer)).ok());
    if (r->status == ics::TransferStatus::Done) break;
  }
  ICS_FUZZ_CHECK(p.finish().ok() && ics::read_state(p.events()).ok());
  if (c.in.ConsumeBool()) {
    ICS_FUZZ_CHECK(c.session.release(*ts).ok());
    c.released.push_back(*ts);
  } else {
    c.children.push_back(*ts);  // goes with the parent
  }
}

void valid_property(Ctx& c) {  // a whole valid property goes in (if the stream has not started)
  if (c.upload_open()) end(c);
  ics::Bytes v = valid_idset(c);
  ics::PropTag tag = kTags[in_range(c.in, c.hierarchy ? 3 : kGoodTags)];
  if (c.started() || v.size() > c.session.max_state_size()) return begin(c, tag, static_cast<std::uint32_t>(v.size()));
  ICS_FUZZ_CHECK(ics::upload_state_begin(c.session, c.handle, tag, static_cast<std::uint32_t>(v.size())).ok());
  send_split(c, ics::ByteView(v));
  ICS_FUZZ_CHECK(ics::upload_state_end(c.session, c.handle).ok());
}

void stray(Ctx& c) {  // stray calls on handles that name nothing here
  std::uint32_t h = c.bad_handle();
  ICS_FUZZ_CHECK(ics::upload_state_begin(c.session, h, pick_tag(c), 8).code() == ErrorCode::NullObject);
  ICS_FUZZ_CHECK(ics::upload_state_continue(c.session, h, {}).code() == ErrorCode::NullObject);
  ICS_FUZZ_CHECK(ics::upload_state_end(c.session, h).code() == ErrorCode::NullObject);
  ICS_FUZZ_CHECK(ics::get_buffer(c.session, h, 64).code() == ErrorCode::NullObject);
}

void run(Ctx& c, script::Op op) {
  switch (op) {
    case script::Op::Begin:
    case script::Op::BeginAnySize: {  // the tag, then the size (in this order in every build)
      const ics::PropTag tag = pick_tag(c);
      return begin(c, tag, op == script::Op::Begin ? c.in.ConsumeIntegralInRange<std::uint32_t>(0, 512)
                                                   : c.in.ConsumeIntegral<std::uint32_t>());
    }
    case script::Op::Continue:
      return send_split(c, ics::ByteView(c.in.ConsumeBytes<std::uint8_t>(c.in.ConsumeIntegralInRange(0, 96))));
    case script::Op::End: return end(c);
    case script::Op::ValidProperty: return valid_property(c);
    case script::Op::Stray: return stray(c);
    case script::Op::GetBuffer: return get_buffer(c, buffer_size(c));
    case script::Op::TransferState: return transfer_state(c);
  }
}

ics::SyncConfig pick_config(ScriptReader& in) {
  ics::SyncConfig cfg;
  if (in.ConsumeBool()) cfg.type = ics::sync_type::kHierarchy;
  if (in.ConsumeBool()) {  // raw fields: maybe invalid
    cfg.send_options = in.ConsumeIntegral<std::uint8_t>();
    cfg.flags = in.ConsumeIntegral<std::uint16_t>();
    cfg.extra_flags = in.ConsumeIntegral<std::uint8_t>();
    // Raw property tags too: a rejected tag must leave nothing behind (the memory check at
    // the end, LeakSanitizer per input).
    const std::size_t tags = in.ConsumeIntegralInRange<std::size_t>(0, 3);
    for (std::size_t i = 0; i < tags; ++i) cfg.property_tags.emplace_back(in.ConsumeIntegral<std::uint32_t>());
    return cfg;
  }
  const std::uint16_t mask = cfg.hierarchy() ? (ics::sync_flags::kKnown & ~ics::sync_flags::kContentsOnly)
                                             : ics::sync_flags::kKnown;
  cfg.flags = static_cast<std::uint16_t>((in.ConsumeIntegral<std::uint16_t>() & mask) | ics::sync_flags::kUnicode);
  cfg.send_options = static_cast<std::uint8_t>(in.ConsumeBool() ? ics::send_options::kUnicode | ics::send_options::kPartialItem
                                                                : ics::send_options::kUnicode);
  cfg.extra_flags = in.ConsumeIntegral<std::uint8_t>() &
                    (cfg.hierarchy() ? ics::extra_flags::kEid | ics::extra_flags::kCn : ics::extra_flags::kKnown);
  return cfg;
}

// Configures a context; a rejected config must be a validation error, and then
// a default contents context is used.
std::uint32_t configure(ics::Session& s, ics::Fid folder, ics::SyncConfig& cfg) {
  ics::Result<std::uint32_t> h = ics::sync_configure(s, folder, cfg);
  if (h.ok()) return *h;
  expect(h, {ErrorCode::InvalidParameter, ErrorCode::NotSupported, ErrorCode::FormatError, ErrorCode::TooBig});
  cfg = ics::SyncConfig{};
  h = ics::sync_configure(s, folder, cfg);
  ICS_FUZZ_CHECK(h.ok());
  return *h;
}

// The rest of the stream in buffers the script chooses; once the script is used up, in the
// largest buffer it can ask for (a used-up script would otherwise read 0 = one byte a call,
// thousands of calls per input; one-byte buffers stay reachable by asking for them).
void finish_download(Ctx& c) {
  if (c.upload_open()) end(c);
  constexpr std::size_t kLargest = std::size_t{255} * 37;  // buffer_size()'s largest
  for (std::size_t i = 0; i < kMaxGetBufferCalls && !c.done; ++i) {
    std::size_t max = c.in.remaining_bytes() > 0 ? buffer_size(c) : kLargest;
    get_buffer(c, max == 0 ? 1 : max);
  }
  ICS_FUZZ_CHECK(c.done);
  ics::FxParser p;
  ICS_FUZZ_CHECK(p.feed(ics::ByteView(c.stream)).ok() && p.finish().ok());
  ICS_FUZZ_CHECK(ics::read_state(p.events()).ok());
}

// The populated store, built once per process (LLVMFuzzerTestOneInput asks for it before the
// heap oracle's first reading) and restored for each input.
const FuzzStoreTemplate& populated() {
  static const FuzzStoreTemplate kPopulated(1, 6);
  return kPopulated;
}

// One input; everything it builds lives in this scope.
void run_input(const std::uint8_t* data, std::size_t size, ics_fuzz::Trace& trace) {
  ScriptReader in(data, size, trace);
  in.op("setup");
  FuzzStore fs = populated().restore();
  ics::Store& store = *fs.store;
  ics::testkit::Workload& wl = fs.workload;
  ics::Session& s = *fs.session;
  if (in.ConsumeBool()) s.set_max_state_size(in.ConsumeIntegralInRange<std::size_t>(0, 256));
  const std::size_t base_bytes = s.memory().live_bytes();
  const std::size_t base_objects = s.memory().live_objects();

  ics::SyncConfig cfg = pick_config(in);
  std::uint32_t h = configure(s, wl.folder(), cfg);
  Ctx c{in, s, store, h, cfg.hierarchy()};
  for (int n = 0; n < script::kMaxSteps && in.remaining_bytes() > 0; ++n) {
    const script::Op op = script::op_of(in.op_byte());
    in.op(script::name(op));
    run(c, op);
  }
  in.op("finish");
  finish_download(c);
  ICS_FUZZ_CHECK(s.release(h).ok());
  ICS_FUZZ_CHECK(s.handle_count() == 0);
  ICS_FUZZ_CHECK(s.memory().live_bytes() == base_bytes && s.memory().live_objects() == base_objects);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  populated();  // built before the heap oracle's first reading
  // The mutator's next call decodes this input from the log (its storage reserved here).
  ics_fuzz::Trace off(nullptr, nullptr, ics_fuzz::run_log());
  ics_fuzz::check_heap_balance("fuzz_state_upload", [&] { run_input(data, size, off); });
  return 0;
}

// The structure-aware mutator (mutate/script_mutator.h): decodes an input by running it.
ICS_FUZZ_SCRIPT_MUTATORS(state_upload, run_input,
                         (ics_fuzz::ScriptTraits{std::size(script::kSlots), script::kMaxSteps, true, false}))

// fuzz/describe: runs the input, printing each op and the values it takes.
extern "C" int IcsFuzzDescribe(const std::uint8_t* data, std::size_t size) {
  ics_fuzz::Trace trace(stdout);
  run_input(data, size, trace);
  return 0;
}
