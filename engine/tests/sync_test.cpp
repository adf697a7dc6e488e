// RopSynchronizationConfigure and the download context: validation, the exact
// shape of the contentsSync / hierarchySync streams ([MS-OXCFXICS] 2.2.4.3,
// digest 3.2), deletions / read state / partial items, incremental cost,
// named errors and memory returning to baseline.
#include "ics/sync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ics/context.h"
#include "ics/fxstream.h"
#include "ics/restriction.h"
#include "ics/testkit/oracles.h"
#include "ics/testkit/workload.h"

namespace ics {
namespace {

using testkit::MemoryBaseline;

constexpr PropTag kProgressInfo{0x00000102};
constexpr PropTag kProgressSize{0x00000003};
constexpr PropTag kProgressFai{0x0000000B};

PropertyBag subject(std::string_view s) {
  PropertyBag b;
  b.set(PropValue::unicode(tags::kSubject, s));
  return b;
}

bool is_marker_event(const FxEvent& e, std::uint32_t tag) {
  return e.kind == FxEvent::Kind::Marker && e.tag.value == tag;
}

std::size_t count_markers(const std::vector<FxEvent>& ev, std::uint32_t tag) {
  return static_cast<std::size_t>(
      std::count_if(ev.begin(), ev.end(), [tag](const FxEvent& e) { return is_marker_event(e, tag); }));
}

// The property tags after event i, up to the next marker.
std::vector<PropTag> prop_list(const std::vector<FxEvent>& ev, std::size_t i) {
  std::vector<PropTag> out;
  for (++i; i < ev.size() && ev[i].kind == FxEvent::Kind::Property; ++i) out.push_back(ev[i].tag);
  return out;
}

const FxEvent* find_prop(const std::vector<FxEvent>& ev, std::size_t from, PropTag tag) {
  for (std::size_t i = from + 1; i < ev.size() && ev[i].kind == FxEvent::Kind::Property; ++i) {
    if (ev[i].tag == tag) return &ev[i];
  }
  return nullptr;
}

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session = std::move(Session::open(store)).value();
    folder = *store->create_folder(store->root(), "Inbox");
  }

  Mid add(std::string_view s, bool fai = false) { return *store->create_message(folder, subject(s), fai); }

  Status upload(std::uint32_t h, const IcsState& state, bool hierarchy = false) {
    const StateProperty props[] = {StateProperty::IdsetGiven, StateProperty::CnsetSeen,
                                   StateProperty::CnsetSeenFAI, StateProperty::CnsetRead};
    for (std::size_t i = 0; i < (hierarchy ? 2u : 4u); ++i) {
      Bytes b = encode_idset(state.get(props[i]));
      ICS_TRY(upload_state_begin(*session, h, state_tag(props[i]), static_cast<std::uint32_t>(b.size())));
      ICS_TRY(upload_state_continue(*session, h, b));
      ICS_TRY(upload_state_end(*session, h));
    }
    return ok_status();
  }

  Result<Bytes> read_all(std::uint32_t h, std::size_t n) {
    Bytes out;
    for (int guard = 0; guard < 1000000; ++guard) {
      ICS_TRY_ASSIGN(BufferResult r, get_buffer(*session, h, n));
      if (r.buffer.size() > n) return Error(ErrorCode::GeneralFailure, "buffer over n");
      out.insert(out.end(), r.buffer.begin(), r.buffer.end());
      if (r.status == TransferStatus::Done) return out;
    }
    return Error(ErrorCode::GeneralFailure, "never Done");
  }

  // One whole download: events and the final state, handle released.
  struct Download {
    std::vector<FxEvent> events;
    IcsState state;
    DownloadStats stats;
  };
  Download sync(const SyncConfig& c, const IcsState& state, std::size_t n = 4096, Fid f = {}) {
    Download d;
    auto h = sync_configure(*session, f.globcnt ? f : folder, c);
    EXPECT_TRUE(h.ok()) << h.error().to_string();
    if (!h.ok()) return d;
    EXPECT_TRUE(upload(*h, state, c.hierarchy()).ok());
    auto bytes = read_all(*h, n);
    EXPECT_TRUE(bytes.ok());
    d.stats = *download_stats(*session, *h);
    EXPECT_TRUE(session->release(*h).ok());
    auto ev = parse_fx(*bytes);
    EXPECT_TRUE(ev.ok());
    d.events = std::move(ev).value();
    auto st = read_state(d.events);
    EXPECT_TRUE(st.ok());
    d.state = std::move(st).value();
    return d;
  }

  std::shared_ptr<Store> store = std::make_shared<Store>();
  std::unique_ptr<Session> session;
  Fid folder;
};

SyncConfig contents(std::uint16_t extra_flags_bits = 0) {
  SyncConfig c;
  c.flags |= extra_flags_bits;
  return c;
}

// ---------------------------------------------------------------- validation

TEST_F(SyncTest, EveryInvalidConfigurationIsANamedErrorAndLeavesNothingBehind) {
  struct Case {
    const char* what;
    SyncConfig config;
    ErrorCode code;
  };
  std::vector<Case> cases;
  auto with = [](auto edit) {
    SyncConfig c;
    edit(c);
    return c;
  };
  for (std::uint8_t t : {0x00, 0x03, 0x10, 0xFF}) {
    cases.push_back({"type", with([t](SyncConfig& c) { c.type = t; }), ErrorCode::InvalidParameter});
  }
  for (std::uint8_t o : {0x20, 0x40, 0x80}) {
    cases.push_back({"send options", with([o](SyncConfig& c) { c.send_options |= o; }),
                     ErrorCode::InvalidParameter});
  }
  for (std::uint16_t f : {0x0040, 0x0200, 0x0400, 0x0800}) {
    cases.push_back({"flags", with([f](SyncConfig& c) { c.flags |= f; }), ErrorCode::InvalidParameter});
  }
  for (std::uint32_t x : {0x10u, 0x100u, 0x80000000u}) {
    cases.push_back({"extra flags", with([x](SyncConfig& c) { c.extra_flags |= x; }),
                     ErrorCode::InvalidParameter});
  }
  cases.push_back({"unicode flag without option",
                   with([](SyncConfig& c) { c.send_options = 0; }), ErrorCode::InvalidParameter});
  cases.push_back({"unicode option without flag",
                   with([](SyncConfig& c) { c.flags &= ~sync_flags::kUnicode; }),
                   ErrorCode::InvalidParameter});
  for (std::uint16_t f : {sync_flags::kIgnoreNoLongerInScope, sync_flags::kReadState, sync_flags::kFAI,
                          sync_flags::kNormal, sync_flags::kBestBody, sync_flags::kIgnoreSpecifiedOnFAI,
                          sync_flags::kProgress}) {
    cases.push_back({"hierarchy + contents flag", with([f](SyncConfig& c) {
                       c.type = sync_type::kHierarchy;
                       c.flags = sync_flags::kUnicode | f;
                     }),
                     ErrorCode::InvalidParameter});
  }
  for (std::uint32_t x : {extra_flags::kMessageSize, extra_flags::kOrderByDeliveryTime}) {
    cases.push_back({"hierarchy + contents extra flag", with([x](SyncConfig& c) {
                       c.type = sync_type::kHierarchy;
                       c.flags = sync_flags::kUnicode;
                       c.extra_flags = x;
                     }),
                     ErrorCode::InvalidParameter});
  }
  cases.push_back({"hierarchy + restriction", with([](SyncConfig& c) {
                     c.type = sync_type::kHierarchy;
                     c.flags = sync_flags::kUnicode;
                     c.restriction = Restriction::exist(tags::kSubject).serialize();
                   }),
                   ErrorCode::InvalidParameter});
  for (std::uint32_t tag : {0x00370000u, 0x00370009u, 0x0037000Cu, 0x40120003u, 0x40740003u + 0x8u,
                            0x67960102u, 0x40170003u, 0x407A0003u, 0x4016000Bu}) {
    cases.push_back({"property tag", with([tag](SyncConfig& c) { c.property_tags = {PropTag(tag)}; }),
                     ErrorCode::InvalidParameter});
  }
  cases.push_back({"unsupported restriction", with([](SyncConfig& c) { c.restriction = {0x03, 0, 0}; }),
                   ErrorCode::NotSupported});
  cases.push_back({"truncated restriction", with([](SyncConfig& c) { c.restriction = {0x08, 0x1F, 0x00}; }),
                   ErrorCode::FormatError});
  const MemoryBaseline before(*session);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto h = sync_configure(*session, folder, c.config);
    EXPECT_EQ(h.code(), c.code);
    EXPECT_EQ(validate_sync_config(c.config).code(), c.code);
    EXPECT_TRUE(before.check(*session).ok());
    EXPECT_EQ(session->handle_count(), 0u);
  }
}

TEST_F(SyncTest, ValidConfigurationsAreAcceptedAndAMissingFolderIsNotFound) {
  std::vector<SyncConfig> ok;
  ok.push_back(SyncConfig{});
  SyncConfig c;
  c.send_options = send_options::kForUpload | send_options::kRecoverMode | send_options::kForceUnicode |
                   send_options::kPartialItem;
  c.flags = sync_flags::kKnown;
  c.extra_flags = extra_flags::kKnown;
  c.property_tags = {tags::kBody, PropTag(0x80010003), tags::kMessageFlags};
  c.restriction = Restriction::any_of({Restriction::exist(tags::kBody),
                                       Restriction::compare(relop::kEqual, tags::kImportance, 2)})
                      .serialize();
  ok.push_back(c);
  SyncConfig h;
  h.type = sync_type::kHierarchy;
  h.flags = sync_flags::kUnicode | sync_flags::kNoDeletions | sync_flags::kOnlySpecifiedProperties |
            sync_flags::kNoForeignIdentifiers;
  h.extra_flags = extra_flags::kEid | extra_flags::kCn;
  ok.push_back(h);
  SyncConfig none;  // no Unicode at all is consistent
  none.send_options = 0;
  none.flags = sync_flags::kNormal;
  ok.push_back(none);
  const MemoryBaseline before(*session);
  for (const SyncConfig& cfg : ok) {
    auto handle = sync_configure(*session, folder, cfg);
    ASSERT_TRUE(handle.ok()) << handle.error().to_string();
    EXPECT_GT(session->memory().objects(ObjectKind::DownloadContext), 0u);
    EXPECT_TRUE(session->release(*handle).ok());
  }
  EXPECT_EQ(sync_configure(*session, Fid{kLocalReplid, 999999}, SyncConfig{}).code(), ErrorCode::NotFound);
  EXPECT_TRUE(before.check(*session).ok());
}

// ---------------------------------------------------------------- stream shape

TEST_F(SyncTest, ContentsStreamFollowsTheGrammarWithProgressAndEveryHeaderField) {
  const Mid a = add("a"), b = add("b"), f = add("fai", true), c = add("c");
  ASSERT_TRUE(store->set_read(b, true).ok());
  SyncConfig cfg = contents(sync_flags::kProgress | sync_flags::kReadState);
  cfg.extra_flags = extra_flags::kEid | extra_flags::kMessageSize | extra_flags::kCn;
  Download d = sync(cfg, IcsState{}, 7);
  const auto& ev = d.events;
  ASSERT_GE(ev.size(), 4u);
  // progressTotal first: one 32-byte 0x00000102 binary.
  ASSERT_TRUE(is_marker_event(ev[0], markers::kIncrSyncProgressMode));
  ASSERT_EQ(prop_list(ev, 0), std::vector<PropTag>{kProgressInfo});
  const Bytes& info = *ev[1].value.as_bytes();
  ASSERT_EQ(info.size(), 32u);
  Reader r(info);
  std::uint16_t version = 9, pad16 = 9;
  std::uint32_t fai_count = 0, normal_count = 0, pad32 = 9;
  std::uint64_t fai_size = 0, normal_size = 0;
  r.read_u16(version), r.read_u16(pad16), r.read_u32(fai_count), r.read_u64(fai_size);
  r.read_u32(normal_count), r.read_u32(pad32), r.read_u64(normal_size);
  EXPECT_EQ(version, 0);
  EXPECT_EQ(fai_count, 1u);
  EXPECT_EQ(normal_count, 3u);
  // Each change: progressPerMessage, IncrSyncChg, the header in spec order,
  // IncrSyncMessage, the properties; CNs ascending.
  const std::vector<PropTag> header = {tags::kSourceKey, tags::kLastModificationTime, tags::kChangeKey,
                                       tags::kPredecessorChangeList, tags::kAssociated, tags::kMid,
                                       tags::kMessageSize, tags::kChangeNumber};
  std::vector<Mid> order;
  std::uint64_t sizes[2] = {0, 0};
  for (std::size_t i = 0; i < ev.size(); ++i) {
    if (!is_marker_event(ev[i], markers::kIncrSyncProgressPerMsg)) continue;
    ASSERT_EQ(prop_list(ev, i), (std::vector<PropTag>{kProgressSize, kProgressFai}));
    const std::uint64_t per_msg_size = *ev[i + 1].value.as_integer();
    const bool fai = *ev[i + 2].value.as_integer() == 1;
    ASSERT_TRUE(is_marker_event(ev[i + 3], markers::kIncrSyncChg));
    ASSERT_EQ(prop_list(ev, i + 3), header);
    const Mid mid = Mid::from_u64(*find_prop(ev, i + 3, tags::kMid)->value.as_integer());
    order.push_back(mid);
    auto snap = *store->get_message(mid);
    EXPECT_EQ(*find_prop(ev, i + 3, tags::kSourceKey)->value.as_bytes(), serialize_gid(snap.source_key));
    EXPECT_EQ(*find_prop(ev, i + 3, tags::kChangeKey)->value.as_bytes(), serialize_xid(snap.change_key));
    EXPECT_EQ(*find_prop(ev, i + 3, tags::kChangeNumber)->value.as_integer(),
              (Cn{kLocalReplid, snap.cn}.to_u64()));
    EXPECT_EQ(*find_prop(ev, i + 3, tags::kAssociated)->value.as_integer(), fai ? 1u : 0u);
    EXPECT_EQ(*find_prop(ev, i + 3, tags::kMessageSize)->value.as_integer(), per_msg_size);
    const std::size_t body = i + 3 + header.size() + 1;
    ASSERT_TRUE(is_marker_event(ev[body], markers::kIncrSyncMessage));
    // The size is the stream bytes of the message's propList.
    FxWriter w;
    for (std::size_t j = body + 1; j < ev.size() && ev[j].kind == FxEvent::Kind::Property; ++j) {
      ASSERT_TRUE(w.event(ev[j]).ok());
    }
    EXPECT_EQ(w.size(), per_msg_size);
    const FxEvent* flags = find_prop(ev, body, tags::kMessageFlags);
    ASSERT_NE(flags, nullptr);
    EXPECT_EQ((*flags->value.as_integer() & kMessageFlagRead) != 0, snap.read);
    sizes[fai ? 1 : 0] += per_msg_size;
  }
  EXPECT_EQ(order, (std::vector<Mid>{a, b, f, c}));  // CN order, both kinds merged
  EXPECT_EQ(fai_size, sizes[1]);
  EXPECT_EQ(normal_size, sizes[0]);
  // A first sync: nothing to delete, no read-state element; state; IncrSyncEnd.
  EXPECT_EQ(count_markers(ev, markers::kIncrSyncDel), 0u);
  EXPECT_EQ(count_markers(ev, markers::kIncrSyncRead), 0u);
  EXPECT_TRUE(is_marker_event(ev.back(), markers::kIncrSyncEnd));
  EXPECT_TRUE(is_marker_event(ev[ev.size() - 2], markers::kIncrSyncStateEnd));
  for (const Mid& m : {a, b, f, c}) EXPECT_TRUE(d.state.given.contains(store->guid(), m.globcnt));
  const Globcnt cur = store->current_cn();
  EXPECT_EQ(d.state.seen.globset(store->guid()), *Globset::from_ranges({{1, cur}}));
  EXPECT_EQ(d.state.seen_fai.globset(store->guid()), *Globset::from_ranges({{1, cur}}));
  EXPECT_EQ(d.state.read.globset(store->guid()), *Globset::from_ranges({{1, cur}}));
  EXPECT_EQ(d.stats.changes, 4u);
  EXPECT_EQ(d.stats.current_cn, cur);
}

TEST_F(SyncTest, IncrementalSyncReportsDeletesMovesAndReadStateAsIdsets) {
  std::vector<Mid> m;
  for (int i = 0; i < 8; ++i) m.push_back(add("m" + std::to_string(i)));
  const Fid other = *store->create_folder(store->root(), "Other");
  ASSERT_TRUE(store->set_read(m[5], true).ok());
  SyncConfig cfg = contents(sync_flags::kReadState);
  Download first = sync(cfg, IcsState{});
  ASSERT_TRUE(store->delete_message(m[0], DeleteKind::Hard).ok());
  ASSERT_TRUE(store->delete_message(m[1], DeleteKind::Soft).ok());
  ASSERT_TRUE(store->move_message(m[2], other).ok());
  ASSERT_TRUE(store->set_read(m[3], true).ok());
  ASSERT_TRUE(store->set_read(m[5], false).ok());
  ASSERT_TRUE(store->modify_message(m[4], PropChanges{subject("changed"), {}}).ok());
  ASSERT_TRUE(store->set_read(m[4], true).ok());  // read change of a changed message: sent with it
  const Mid fresh = add("new");
  Download d = sync(cfg, first.state);
  const auto& ev = d.events;
  EXPECT_EQ(count_markers(ev, markers::kIncrSyncChg), 2u);  // m[4] and the new one
  auto del = std::find_if(ev.begin(), ev.end(), [](const FxEvent& e) { return is_marker_event(e, markers::kIncrSyncDel); });
  ASSERT_NE(del, ev.end());
  const std::size_t di = static_cast<std::size_t>(del - ev.begin());
  ASSERT_EQ(prop_list(ev, di), std::vector<PropTag>{tags::kMetaTagIdsetDeleted});
  IdSet want_deleted;
  for (int i : {0, 1, 2}) ASSERT_TRUE(want_deleted.insert(m[i]).ok());
  EXPECT_EQ(*decode_replid_idset(*ev[di + 1].value.as_bytes()), want_deleted);
  auto rd = std::find_if(ev.begin(), ev.end(), [](const FxEvent& e) { return is_marker_event(e, markers::kIncrSyncRead); });
  ASSERT_NE(rd, ev.end());
  ASSERT_GT(rd, del);  // deletions before readStateChanges
  const std::size_t ri = static_cast<std::size_t>(rd - ev.begin());
  ASSERT_EQ(prop_list(ev, ri), (std::vector<PropTag>{tags::kMetaTagIdsetRead, tags::kMetaTagIdsetUnread}));
  IdSet want_read, want_unread;
  ASSERT_TRUE(want_read.insert(m[3]).ok());
  ASSERT_TRUE(want_unread.insert(m[5]).ok());
  EXPECT_EQ(*decode_replid_idset(*ev[ri + 1].value.as_bytes()), want_read);
  EXPECT_EQ(*decode_replid_idset(*ev[ri + 2].value.as_bytes()), want_unread);
  for (int i : {0, 1, 2}) EXPECT_FALSE(d.state.given.contains(store->guid(), m[i].globcnt));
  EXPECT_TRUE(d.state.given.contains(store->guid(), fresh.globcnt));
  EXPECT_EQ(d.stats.deleted, 3u);
  EXPECT_EQ(d.stats.read, 2u);

  // The same changes seen through NoDeletions and without ReadState.
  SyncConfig quiet = contents(sync_flags::kNoDeletions);
  Download q = sync(quiet, first.state);
  EXPECT_EQ(count_markers(q.events, markers::kIncrSyncDel), 0u);
  EXPECT_EQ(count_markers(q.events, markers::kIncrSyncRead), 0u);
  for (int i : {0, 1, 2}) EXPECT_TRUE(q.state.given.contains(store->guid(), m[i].globcnt));
  EXPECT_EQ(q.state.read, first.state.read);  // read CNSET kept without ReadState
}

TEST_F(SyncTest, DeletionsElementOnlyWhenSomethingIsReportedAndForeignGuidsAreDeleted) {
  const Mid a = add("a");
  Download first = sync(SyncConfig{}, IcsState{});
  ASSERT_TRUE(store->modify_message(a, PropChanges{subject("b"), {}}).ok());
  Download d = sync(SyncConfig{}, first.state);
  EXPECT_EQ(count_markers(d.events, markers::kIncrSyncDel), 0u);
  // IDs under a REPLGUID the store never mapped cannot exist: deleted.
  IcsState state = d.state;
  const Guid stranger = Guid::from_seed(0xBAD);
  ASSERT_TRUE(state.given.insert(stranger, 10, 20).ok());
  Download e = sync(SyncConfig{}, state);
  ASSERT_EQ(count_markers(e.events, markers::kIncrSyncDel), 1u);
  const Replid replid = *store->find_replid(stranger);
  IdSet want;
  ASSERT_TRUE(want.insert(replid, 10, 20).ok());
  auto del = std::find_if(e.events.begin(), e.events.end(),
                          [](const FxEvent& x) { return is_marker_event(x, markers::kIncrSyncDel); });
  EXPECT_EQ(*decode_replid_idset(*(del + 1)->value.as_bytes()), want);
  EXPECT_TRUE(e.state.given.globset(stranger).empty());
  EXPECT_TRUE(e.state.given.contains(store->guid(), a.globcnt));
}

TEST_F(SyncTest, OrderByDeliveryTimeSortsNewestFirst) {
  const std::uint64_t base = 132223104000000000ull;
  std::vector<std::uint64_t> times = {5, 1, 9, 3, 7, 7};
  for (std::uint64_t t : times) {
    PropertyBag b = subject("x");
    b.set(PropValue::integer(tags::kMessageDeliveryTime, base + t));
    ASSERT_TRUE(store->create_message(folder, b, false).ok());
  }
  ASSERT_TRUE(store->create_message(folder, subject("no time"), false).ok());
  SyncConfig cfg;
  cfg.extra_flags = extra_flags::kOrderByDeliveryTime;
  Download d = sync(cfg, IcsState{});
  std::vector<std::uint64_t> seen;
  std::vector<std::uint64_t> modified;
  for (std::size_t i = 0; i < d.events.size(); ++i) {
    if (!is_marker_event(d.events[i], markers::kIncrSyncChg)) continue;
    modified.push_back(*find_prop(d.events, i, tags::kLastModificationTime)->value.as_integer());
    auto body = std::find_if(d.events.begin() + static_cast<std::ptrdiff_t>(i), d.events.end(),
                             [](const FxEvent& e) { return is_marker_event(e, markers::kIncrSyncMessage); });
    const FxEvent* t = find_prop(d.events, static_cast<std::size_t>(body - d.events.begin()),
                                 tags::kMessageDeliveryTime);
    seen.push_back(t ? *t->value.as_integer() - base : 0);
  }
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{9, 7, 7, 5, 3, 1, 0}));
  EXPECT_GT(modified[1], modified[2]);  // tie on delivery time: newer change first
}

TEST_F(SyncTest, PropertyListsExcludeIncludeAndIgnoreOnFai) {
  auto bag = [] {
    PropertyBag b = subject("s");
    b.set(PropValue::unicode(tags::kBody, "body"));
    b.set(PropValue::integer(tags::kImportance, 2));
    b.set(PropValue::integer(tags::kMessageFlags, 0x8));
    return b;
  };
  ASSERT_TRUE(store->create_message(folder, bag(), false).ok());
  ASSERT_TRUE(store->create_message(folder, bag(), true).ok());
  auto body_tags = [&](const SyncConfig& cfg) {
    std::vector<std::vector<PropTag>> out;
    Download d = sync(cfg, IcsState{});
    for (std::size_t i = 0; i < d.events.size(); ++i) {
      if (is_marker_event(d.events[i], markers::kIncrSyncMessage)) out.push_back(prop_list(d.events, i));
    }
    return out;
  };
  const PropTag body8{0x1000001E};  // PidTagBody as String8: the list matches by ID
  SyncConfig exclude;
  exclude.property_tags = {body8, tags::kMessageFlags};
  const std::vector<PropTag> no_body = {tags::kImportance, tags::kSubject, tags::kMessageFlags};
  EXPECT_EQ(body_tags(exclude), (std::vector<std::vector<PropTag>>{no_body, no_body}));
  SyncConfig include = exclude;
  include.flags |= sync_flags::kOnlySpecifiedProperties | sync_flags::kIgnoreSpecifiedOnFAI;
  const std::vector<PropTag> all = {tags::kImportance, tags::kMessageFlags, tags::kSubject, tags::kBody};
  auto got = body_tags(include);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (std::vector<PropTag>{tags::kMessageFlags, tags::kBody}));
  std::sort(got[1].begin(), got[1].end());
  std::vector<PropTag> sorted_all = all;
  std::sort(sorted_all.begin(), sorted_all.end());
  EXPECT_EQ(got[1], sorted_all);  // the FAI message ignores the list
}

TEST_F(SyncTest, PartialItemSendsOneCompleteGroupForMessagesTheClientHas) {
  const Mid a = add("a");
  SyncConfig cfg;
  cfg.send_options |= send_options::kPartialItem;
  Download first = sync(cfg, IcsState{});
  EXPECT_EQ(count_markers(first.events, markers::kIncrSyncChgPartial), 0u);  // new to the client
  ASSERT_TRUE(store->modify_message(a, PropChanges{subject("again"), {}}).ok());
  add("b");
  Download d = sync(cfg, first.state);
  EXPECT_EQ(count_markers(d.events, markers::kIncrSyncChgPartial), 1u);
  EXPECT_EQ(count_markers(d.events, markers::kIncrSyncChg), 1u);
  auto p = std::find_if(d.events.begin(), d.events.end(),
                        [](const FxEvent& e) { return is_marker_event(e, markers::kIncrSyncChgPartial); });
  const auto header = prop_list(d.events, static_cast<std::size_t>(p - d.events.begin()));
  ASSERT_EQ(header.size(), 8u);  // 5 header properties, the group marker, 2 properties
  EXPECT_EQ(header[5], tags::kMetaTagIncrementalSyncMessagePartial);
  EXPECT_EQ(*(p + 6)->value.as_integer(), 0u);
  EXPECT_EQ(d.stats.partial_changes, 1u);
}

TEST_F(SyncTest, HierarchyStreamParentsBeforeChildrenWithEmptyParentKeyAtTheTop) {
  const Fid x = *store->create_folder(folder, "x");
  const Fid y = *store->create_folder(x, "y");
  const Fid z = *store->create_folder(folder, "z");
  ASSERT_TRUE(store->modify_folder(x, PropChanges{}).ok());  // x now has a CN above y's
  SyncConfig cfg;
  cfg.type = sync_type::kHierarchy;
  cfg.flags = sync_flags::kUnicode;
  cfg.extra_flags = extra_flags::kEid | extra_flags::kCn;
  Download d = sync(cfg, IcsState{}, 3);
  const std::vector<PropTag> header = {tags::kParentSourceKey, tags::kSourceKey, tags::kLastModificationTime,
                                       tags::kChangeKey, tags::kPredecessorChangeList, tags::kDisplayName,
                                       tags::kFolderId, tags::kParentFolderId, tags::kChangeNumber};
  std::vector<Fid> order;
  for (std::size_t i = 0; i < d.events.size(); ++i) {
    if (!is_marker_event(d.events[i], markers::kIncrSyncChg)) continue;
    ASSERT_EQ(prop_list(d.events, i), header);
    const Fid fid = Fid::from_u64(*find_prop(d.events, i, tags::kFolderId)->value.as_integer());
    const Fid parent = Fid::from_u64(*find_prop(d.events, i, tags::kParentFolderId)->value.as_integer());
    const Bytes& pkey = *find_prop(d.events, i, tags::kParentSourceKey)->value.as_bytes();
    if (parent == folder) {
      EXPECT_TRUE(pkey.empty());
    } else {
      EXPECT_EQ(pkey, serialize_gid(store->get_folder(parent)->source_key));
    }
    order.push_back(fid);
  }
  ASSERT_EQ(order.size(), 3u);
  EXPECT_LT(std::find(order.begin(), order.end(), x), std::find(order.begin(), order.end(), y));
  EXPECT_NE(std::find(order.begin(), order.end(), z), order.end());
  EXPECT_EQ(count_markers(d.events, markers::kIncrSyncDel), 0u);
  EXPECT_EQ(count_markers(d.events, markers::kIncrSyncProgressMode), 0u);
  // Deleting x reports x and y (its subtree) when the client has them.
  ASSERT_TRUE(store->delete_folder(x).ok());
  Download e = sync(cfg, d.state);
  auto del = std::find_if(e.events.begin(), e.events.end(),
                          [](const FxEvent& ev) { return is_marker_event(ev, markers::kIncrSyncDel); });
  ASSERT_NE(del, e.events.end());
  IdSet want;
  ASSERT_TRUE(want.insert(x).ok());
  ASSERT_TRUE(want.insert(y).ok());
  EXPECT_EQ(*decode_replid_idset(*(del + 1)->value.as_bytes()), want);
  EXPECT_FALSE(e.state.given.contains(store->guid(), x.globcnt));
  EXPECT_TRUE(e.state.given.contains(store->guid(), z.globcnt));
  // The state of a hierarchy sync has IdsetGiven and CnsetSeen only.
  auto sb = std::find_if(e.events.begin(), e.events.end(),
                         [](const FxEvent& ev) { return is_marker_event(ev, markers::kIncrSyncStateBegin); });
  EXPECT_EQ(prop_list(e.events, static_cast<std::size_t>(sb - e.events.begin())),
            (std::vector<PropTag>{tags::kMetaTagIdsetGiven, tags::kMetaTagCnsetSeen}));
}

TEST_F(SyncTest, RestrictionReportsMessagesThatLeftTheScope) {
  PropertyBag hi = subject("hi");
  hi.set(PropValue::integer(tags::kImportance, 2));
  const Mid a = *store->create_message(folder, hi, false);
  const Mid b = *store->create_message(folder, hi, false);
  add("plain");
  SyncConfig cfg;
  cfg.restriction = Restriction::compare(relop::kEqual, tags::kImportance, 2).serialize();
  Download first = sync(cfg, IcsState{});
  EXPECT_EQ(first.stats.changes, 2u);
  PropertyBag lo;
  lo.set(PropValue::integer(tags::kImportance, 0));
  ASSERT_TRUE(store->modify_message(a, PropChanges{lo, {}}).ok());
  Download d = sync(cfg, first.state);
  auto del = std::find_if(d.events.begin(), d.events.end(),
                          [](const FxEvent& e) { return is_marker_event(e, markers::kIncrSyncDel); });
  ASSERT_NE(del, d.events.end());
  ASSERT_EQ(prop_list(d.events, static_cast<std::size_t>(del - d.events.begin())),
            std::vector<PropTag>{tags::kMetaTagIdsetNoLongerInScope});
  IdSet want;
  ASSERT_TRUE(want.insert(a).ok());
  EXPECT_EQ(*decode_replid_idset(*(del + 1)->value.as_bytes()), want);
  EXPECT_FALSE(d.state.given.contains(store->guid(), a.globcnt));
  EXPECT_TRUE(d.state.given.contains(store->guid(), b.globcnt));
  SyncConfig ignore = cfg;
  ignore.flags |= sync_flags::kIgnoreNoLongerInScope;
  Download i = sync(ignore, first.state);
  EXPECT_EQ(count_markers(i.events, markers::kIncrSyncDel), 0u);
  EXPECT_TRUE(i.state.given.contains(store->guid(), a.globcnt));
}

// ---------------------------------------------------------------- cost

TEST_F(SyncTest, IncrementalSyncVisitsOnlyWhatChanged) {
  auto measure = [&](std::size_t messages) {
    const Fid f = *store->create_folder(store->root(), "big " + std::to_string(messages));
    std::vector<Mid> mids;
    for (std::size_t i = 0; i < messages; ++i) mids.push_back(*store->create_message(f, subject("m"), i % 5 == 0));
    SyncConfig cfg = contents(sync_flags::kReadState);
    Download full = sync(cfg, IcsState{}, 1 << 16, f);
    EXPECT_EQ(full.stats.messages_examined, messages);
    for (std::size_t i = 0; i < 10; ++i) {
      EXPECT_TRUE(store->modify_message(mids[i * 29], PropChanges{subject("x"), {}}).ok());
    }
    for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(store->delete_message(mids[i * 41 + 1]).ok());
    for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(store->set_read(mids[i * 43 + 2], true).ok());
    return sync(cfg, full.state, 1 << 16, f).stats;
  };
  const DownloadStats small = measure(300);
  const DownloadStats large = measure(1500);
  for (const DownloadStats& s : {small, large}) {
    EXPECT_EQ(s.messages_examined, 10u);
    EXPECT_EQ(s.tombstones_examined, 4u);
    EXPECT_EQ(s.read_changes_examined, 3u);
    EXPECT_LE(s.store_calls, 5u);
    EXPECT_EQ(s.changes, 10u);
    EXPECT_EQ(s.deleted, 4u);
    EXPECT_EQ(s.read, 3u);
  }
}

// A sync of one kind leaves the other kind's CNSET as it came (empty for a client that never
// asked for it), so walking that kind's unseen ranges too would examine every tombstone since
// CN 1 on each incremental sync: only the kinds asked for are walked.
TEST_F(SyncTest, AOneKindSyncWalksOnlyThatKindsUnseenTombstones) {
  for (const bool fai : {false, true}) {
    const Fid f = *store->create_folder(store->root(), fai ? "fai only" : "normal only");
    std::vector<Mid> normal, associated;
    for (int i = 0; i < 6; ++i) {
      normal.push_back(*store->create_message(f, subject("n"), false));
      associated.push_back(*store->create_message(f, subject("a"), true));
    }
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(store->delete_message(normal[i]).ok());
      ASSERT_TRUE(store->delete_message(associated[i]).ok());
    }
    SyncConfig cfg;
    cfg.flags = sync_flags::kUnicode | (fai ? sync_flags::kFAI : sync_flags::kNormal);
    const Download first = sync(cfg, IcsState{}, 4096, f);
    EXPECT_EQ(first.stats.tombstones_examined, 6u) << fai;
    EXPECT_TRUE((fai ? first.state.seen : first.state.seen_fai).replicas().empty()) << fai;
    ASSERT_TRUE(store->delete_message(normal[3]).ok());
    ASSERT_TRUE(store->delete_message(associated[3]).ok());
    const Download second = sync(cfg, first.state, 4096, f);
    EXPECT_EQ(second.stats.tombstones_examined, 2u) << fai;  // the two new ones, one per kind
    EXPECT_EQ(second.stats.deleted, 1u) << fai;
    const Download quiet = sync(cfg, second.state, 4096, f);
    EXPECT_EQ(quiet.stats.tombstones_examined, 0u) << fai;
    EXPECT_EQ(quiet.stats.deleted, 0u) << fai;
  }
}

// ---------------------------------------------------------------- errors

TEST_F(SyncTest, CallsOnBadHandlesOrInTheWrongOrderAreNamedAndAllocateNothing) {
  add("a");
  const MemoryBaseline empty(*session);
  // Before any configure: no such handle.
  for (std::uint32_t h : {0u, 1u, 0x12345678u, kInvalidHandle}) {
    EXPECT_EQ(get_buffer(*session, h, 16).code(), ErrorCode::NullObject);
    EXPECT_EQ(upload_state_begin(*session, h, tags::kMetaTagCnsetSeen, 0).code(), ErrorCode::NullObject);
    EXPECT_EQ(upload_state_end(*session, h).code(), ErrorCode::NullObject);
    EXPECT_EQ(get_transfer_state(*session, h).code(), ErrorCode::NullObject);
    EXPECT_EQ(download_stats(*session, h).code(), ErrorCode::NullObject);
  }
  EXPECT_TRUE(empty.check(*session).ok());
  const std::uint32_t h = *sync_configure(*session, folder, SyncConfig{});
  const MemoryBaseline configured(*session);
  // Forged handles near the real one.
  for (std::uint32_t forged : {h ^ 1u, h ^ 0x10000u, h + 0x10000u, ~h}) {
    EXPECT_EQ(get_buffer(*session, forged, 16).code(), ErrorCode::NullObject);
    EXPECT_EQ(upload_state_continue(*session, forged, Bytes{1}).code(), ErrorCode::NullObject);
  }
  EXPECT_EQ(upload_state_end(*session, h).code(), ErrorCode::NotSupported);           // end without begin
  EXPECT_EQ(upload_state_continue(*session, h, Bytes{1}).code(), ErrorCode::NotSupported);
  EXPECT_EQ(upload_state_begin(*session, h, tags::kSubject, 0).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(upload_state_begin(*session, h, tags::kMetaTagCnsetSeen, 0xFFFFFFFF).code(), ErrorCode::TooBig);
  EXPECT_EQ(get_buffer(*session, h, 0).code(), ErrorCode::InvalidParameter);
  EXPECT_TRUE(configured.check(*session).ok());
  // A state upload open: get_buffer and get_transfer_state refuse.
  ASSERT_TRUE(upload_state_begin(*session, h, tags::kMetaTagCnsetSeen, 4).ok());
  ASSERT_TRUE(upload_state_continue(*session, h, Bytes{0x01, 0x00}).ok());
  EXPECT_EQ(get_buffer(*session, h, 16).code(), ErrorCode::NotSupported);
  EXPECT_EQ(get_transfer_state(*session, h).code(), ErrorCode::NotSupported);
  EXPECT_EQ(upload_state_begin(*session, h, tags::kMetaTagCnsetSeen, 4).code(), ErrorCode::NotSupported);
  // A malformed IDSET is refused, leaves nothing, and the context still works.
  EXPECT_EQ(upload_state_end(*session, h).code(), ErrorCode::FormatError);
  EXPECT_TRUE(configured.check(*session).ok());
  IcsState state;
  ASSERT_TRUE(state.seen.insert(store->guid(), 1, 2).ok());
  ASSERT_TRUE(upload(h, state).ok());
  auto first = get_buffer(*session, h, 8);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, TransferStatus::Partial);
  // The stream has started: the state is frozen.
  EXPECT_EQ(upload_state_begin(*session, h, tags::kMetaTagCnsetSeen, 0).code(), ErrorCode::NotSupported);
  EXPECT_EQ(upload_state_continue(*session, h, Bytes{0}).code(), ErrorCode::NotSupported);
  EXPECT_EQ(upload_state_end(*session, h).code(), ErrorCode::NotSupported);
  EXPECT_TRUE(read_all(h, 5).ok());
  auto done = get_buffer(*session, h, 5);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, TransferStatus::Done);
  EXPECT_TRUE(done->buffer.empty());
  ASSERT_TRUE(session->release(h).ok());
  EXPECT_EQ(get_buffer(*session, h, 16).code(), ErrorCode::NullObject);  // released
  EXPECT_TRUE(empty.check(*session).ok());
}

TEST_F(SyncTest, RejectedStatePropertiesLeaveTheContextUsable) {
  add("a");
  const std::uint32_t h = *sync_configure(*session, folder, SyncConfig{});
  const MemoryBaseline before(*session);
  // Each malformed IDSET: begin / continue / end fails at end with FormatError.
  const std::vector<Bytes> garbage = {{0x00}, {0x01}, {0x52, 0x01}, Bytes(15, 0xAB), Bytes(16, 0x00),
                                     Bytes(18, 0x07)};
  for (const Bytes& g : garbage) {
    ASSERT_TRUE(upload_state_begin(*session, h, tags::kMetaTagIdsetGiven, static_cast<std::uint32_t>(g.size())).ok());
    ASSERT_TRUE(upload_state_continue(*session, h, g).ok());
    EXPECT_EQ(upload_state_end(*session, h).code(), ErrorCode::FormatError);
    EXPECT_TRUE(before.check(*session).ok());
  }
  // Past the cap (fixed when a context is made): TooBig, the upload is
  // abandoned, the context stays usable.
  session->set_max_state_size(8);
  const std::uint32_t small = *sync_configure(*session, folder, SyncConfig{});
  const MemoryBaseline with_small(*session);
  ASSERT_TRUE(upload_state_begin(*session, small, tags::kMetaTagCnsetSeen, 8).ok());
  EXPECT_EQ(upload_state_continue(*session, small, Bytes(9, 0)).code(), ErrorCode::TooBig);
  EXPECT_EQ(upload_state_end(*session, small).code(), ErrorCode::NotSupported);
  EXPECT_EQ(upload_state_begin(*session, small, tags::kMetaTagCnsetSeen, 9).code(), ErrorCode::TooBig);
  EXPECT_TRUE(with_small.check(*session).ok());
  EXPECT_TRUE(read_all(small, 16).ok());
  ASSERT_TRUE(session->release(small).ok());
  EXPECT_TRUE(before.check(*session).ok());
  // Later properties and the download still work; the transfer state before
  // the stream equals the one after it.
  IcsState state;
  ASSERT_TRUE(state.seen.insert(store->guid(), 1, 1).ok());
  ASSERT_TRUE(upload(h, state).ok());
  auto ts = get_transfer_state(*session, h);
  ASSERT_TRUE(ts.ok());
  Result<Bytes> before_stream = read_all(*ts, 64);
  ASSERT_TRUE(before_stream.ok());
  Result<Bytes> stream = read_all(h, 3);
  ASSERT_TRUE(stream.ok());
  auto ts2 = get_transfer_state(*session, h);
  ASSERT_TRUE(ts2.ok());
  EXPECT_EQ(*read_state(*parse_fx(*before_stream)), *read_state(*parse_fx(*read_all(*ts2, 64))));
  EXPECT_EQ(*read_state(*parse_fx(*before_stream)), *read_state(*parse_fx(*stream)));
  ASSERT_TRUE(session->release(h).ok());  // also releases both transfer states
  EXPECT_EQ(session->handle_count(), 0u);
}

TEST_F(SyncTest, ManyContextsReleaseToTheExactBaseline) {
  testkit::Workload wl = std::move(testkit::Workload::create(*store, 9)).value();
  ASSERT_TRUE(wl.populate(20).ok());
  const MemoryBaseline before(*session);
  std::vector<std::uint32_t> handles;
  SyncConfig h;
  h.type = sync_type::kHierarchy;
  h.flags = sync_flags::kUnicode;
  for (int i = 0; i < 12; ++i) {
    SyncConfig cfg = i % 3 == 2 ? h : contents(i % 2 ? sync_flags::kProgress : sync_flags::kReadState);
    auto handle = sync_configure(*session, wl.folder(), cfg);
    ASSERT_TRUE(handle.ok());
    handles.push_back(*handle);
    if (i % 4 != 3) {
      ASSERT_TRUE(get_buffer(*session, *handle, 100).ok());  // some started, some not
    }
    if (i % 5 == 0) {
      ASSERT_TRUE(get_transfer_state(*session, *handle).ok());
    }
  }
  EXPECT_GT(session->memory().bytes(ObjectKind::FxBuffer), 0u);
  for (std::uint32_t handle : handles) ASSERT_TRUE(session->release(handle).ok());
  EXPECT_TRUE(before.check(*session).ok()) << before.check(*session).error().to_string();
}

TEST_F(SyncTest, OverBudgetFirstGetBufferFailsCleanlyAndCanBeRetried) {
  for (int i = 0; i < 50; ++i) add(std::string(200, 'x'));
  const std::uint32_t h = *sync_configure(*session, folder, SyncConfig{});
  const MemoryBaseline before(*session);
  const std::size_t budget = session->memory().budget();
  session->memory().set_budget(session->memory().live_bytes() + 100);
  EXPECT_EQ(get_buffer(*session, h, 64).code(), ErrorCode::GeneralFailure);
  EXPECT_TRUE(before.check(*session).ok());
  session->memory().set_budget(budget);
  EXPECT_TRUE(read_all(h, 64).ok());
  ASSERT_TRUE(session->release(h).ok());
}

TEST_F(SyncTest, AFolderDeletedBeforeTheStreamStartsIsNotFound) {
  const MemoryBaseline before(*session);
  SyncConfig hierarchy;
  hierarchy.type = sync_type::kHierarchy;
  hierarchy.flags = sync_flags::kUnicode;
  for (const SyncConfig& cfg : {SyncConfig{}, hierarchy}) {
    const Fid doomed = *store->create_folder(store->root(), "doomed");
    ASSERT_TRUE(store->create_message(doomed, subject("x"), false).ok());
    ASSERT_TRUE(store->create_folder(doomed, "child").ok());
    const std::uint32_t h = *sync_configure(*session, doomed, cfg);
    ASSERT_TRUE(store->delete_folder(doomed).ok());
    EXPECT_EQ(get_buffer(*session, h, 64).code(), ErrorCode::NotFound);
    EXPECT_EQ(get_transfer_state(*session, h).code(), ErrorCode::NotFound);
    EXPECT_EQ(get_buffer(*session, h, 64).code(), ErrorCode::NotFound);  // still not started
    ASSERT_TRUE(session->release(h).ok());
    EXPECT_TRUE(before.check(*session).ok());
  }
}

TEST_F(SyncTest, TheFinalStateIsChargedWhileTheContextLives) {
  for (int i = 0; i < 40; ++i) add("m");
  const std::uint32_t h = *sync_configure(*session, folder, SyncConfig{});
  const std::size_t configured = session->memory().bytes(ObjectKind::DownloadContext);
  ASSERT_TRUE(get_buffer(*session, h, 16).ok());
  auto stats = download_stats(*session, h);
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(session->memory().bytes(ObjectKind::DownloadContext), configured);
  ASSERT_TRUE(session->release(h).ok());
  EXPECT_EQ(session->memory().bytes(ObjectKind::DownloadContext), 0u);
}

TEST(MessageStreamSize, EqualsWhatFxWriterWrites) {
  Store store;
  testkit::Workload wl = std::move(testkit::Workload::create(store, 5)).value();
  for (int i = 0; i < 300; ++i) {
    PropertyBag bag = wl.random_props();
    FxWriter w;
    for (const PropValue& v : bag.values()) ASSERT_TRUE(w.property(v).ok());
    EXPECT_EQ(message_stream_size(bag), w.size());
  }
}

}  // namespace
}  // namespace ics
