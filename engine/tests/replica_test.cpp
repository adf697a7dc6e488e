// The client replica and the download grammar: convergence against the
// server folder after random server operations, for every flag combination
// and buffer size; idempotence; moves, read state, deletes, FAI, restriction
// scope, partial items; hierarchy; atomic application; malformed streams.
#include "ics/replica.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "ics/fxstream.h"
#include "ics/restriction.h"
#include "ics/syncstream.h"
#include "ics/testkit/oracles.h"
#include "ics/testkit/workload.h"

namespace ics {
namespace {

using testkit::MemoryBaseline;
using testkit::Op;
namespace wt = testkit::workload_tags;

constexpr std::size_t kBufferSizes[] = {1, 2, 3, 7, 64, 4096, 15480};

struct World {
  explicit World(std::uint64_t seed, std::size_t messages = 25, testkit::WorkloadOptions o = {})
      : store(std::make_shared<Store>(StoreOptions{Guid::from_seed(seed), 1})),
        wl(std::move(testkit::Workload::create(*store, seed, o)).value()),
        session(std::move(Session::open(store)).value()) {
    EXPECT_TRUE(wl.populate(messages).ok());
  }
  std::shared_ptr<Store> store;
  testkit::Workload wl;
  std::unique_ptr<Session> session;
};

struct Named {
  std::string name;
  SyncConfig config;
};

std::vector<Named> contents_configs() {
  using namespace sync_flags;
  std::vector<Named> out;
  auto add = [&](std::string name, auto edit) {
    SyncConfig c;
    edit(c);
    out.push_back({std::move(name), c});
  };
  const Bytes important = Restriction::any_of({Restriction::compare(relop::kEqual, tags::kImportance, 2),
                                               Restriction::exist(wt::kBoolean)})
                              .serialize();
  add("normal+fai", [](SyncConfig&) {});
  add("normal", [](SyncConfig& c) { c.flags = kUnicode | kNormal; });
  add("fai", [](SyncConfig& c) { c.flags = kUnicode | kFAI; });
  add("read-state", [](SyncConfig& c) { c.flags |= kReadState; });
  add("no-deletions", [](SyncConfig& c) { c.flags |= kNoDeletions | kReadState; });
  add("progress", [](SyncConfig& c) { c.flags |= kProgress; });
  add("partial", [](SyncConfig& c) {
    c.send_options |= send_options::kPartialItem;
    c.flags |= kReadState;
  });
  add("eid-size-cn", [](SyncConfig& c) {
    c.extra_flags = extra_flags::kEid | extra_flags::kMessageSize | extra_flags::kCn;
  });
  add("delivery-order", [](SyncConfig& c) { c.extra_flags = extra_flags::kOrderByDeliveryTime; });
  add("exclude", [](SyncConfig& c) { c.property_tags = {tags::kBody, wt::kBinary, wt::kNamed}; });
  add("include", [](SyncConfig& c) {
    c.flags |= kOnlySpecifiedProperties;
    c.property_tags = {tags::kSubject, wt::kInteger64, wt::kMultipleString, tags::kMessageDeliveryTime};
  });
  add("include-not-fai", [](SyncConfig& c) {
    c.flags |= kOnlySpecifiedProperties | kIgnoreSpecifiedOnFAI;
    c.property_tags = {tags::kSubject};
  });
  add("restriction", [&](SyncConfig& c) {
    c.flags |= kReadState;
    c.restriction = important;
  });
  add("restriction-ignore", [&](SyncConfig& c) {
    c.flags |= kReadState | kIgnoreNoLongerInScope;
    c.restriction = important;
  });
  add("everything", [](SyncConfig& c) {
    c.send_options |= send_options::kPartialItem;
    c.flags |= kReadState | kProgress | kBestBody | kNoForeignIdentifiers;
    c.extra_flags = extra_flags::kKnown;
    c.property_tags = {wt::kGuid};
    c.restriction = Restriction::negate(Restriction::compare(relop::kEqual, tags::kImportance, 0)).serialize();
  });
  return out;
}

ReplicaOptions options(SyncConfig config, std::size_t buffer_size) {
  ReplicaOptions o;
  o.config = std::move(config);
  o.buffer_size = buffer_size;
  return o;
}

SyncConfig hierarchy_config(std::uint16_t flags = 0, std::uint32_t extra = 0) {
  SyncConfig c;
  c.type = sync_type::kHierarchy;
  c.flags = sync_flags::kUnicode | flags;
  c.extra_flags = extra;
  return c;
}

void expect_quiet(const SyncCounters& c) {
  EXPECT_EQ(c.message_changes, 0u);
  EXPECT_EQ(c.folder_changes, 0u);
  EXPECT_EQ(c.deletions, 0u);
  EXPECT_EQ(c.no_longer_in_scope, 0u);
  EXPECT_EQ(c.read_changes, 0u);
}

// ---------------------------------------------------------------- convergence

// A gtest parameter name from a config name: letters, digits and '_' only.
std::string param_name(std::string name) {
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

// One case per contents configuration, named after it; the index i picks the workload seed,
// the buffer size and the state chunk.
class ReplicaContentsConfig : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ReplicaContentsConfig, ConvergesOverRoundsOfChanges) {
  const std::size_t i = GetParam();
  const Named config = contents_configs()[i];
  World w(100 + i, 18);
  const MemoryBaseline baseline(*w.session);
  ReplicaOptions o;
  o.config = config.config;
  o.buffer_size = kBufferSizes[2 + i % 5];  // 1 and 2: see the buffer-size test
  o.state_chunk = i % 3 == 0 ? 0 : (i % 3 == 1 ? 1 : 5);
  Replica r(w.wl.folder(), o);
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(round);
    ASSERT_TRUE(r.sync(*w.session).ok());
    Status c = testkit::check_converged(*w.store, w.wl.folder(), r, o.config);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    ASSERT_TRUE(baseline.check(*w.session).ok()) << baseline.check(*w.session).error().to_string();
    EXPECT_EQ(w.session->handle_count(), 0u);
    ASSERT_TRUE(w.wl.apply(12).ok());
  }
  ASSERT_TRUE(r.sync(*w.session).ok());
  ASSERT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), r, o.config).ok());
  // Idempotence: nothing changed on the server, nothing is transferred.
  ASSERT_TRUE(r.sync(*w.session).ok());
  expect_quiet(r.last_sync());
  if (o.config.restriction.empty()) {
    EXPECT_EQ(r.last_sync().server.messages_examined, 0u);
  }
  ASSERT_TRUE(w.store->check_invariants().ok());
}

INSTANTIATE_TEST_SUITE_P(Replica, ReplicaContentsConfig,
                         ::testing::Range<std::size_t>(0, contents_configs().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return param_name(contents_configs()[info.param].name);
                         });

TEST(Replica, EveryBufferSizeAndStateChunkYieldsTheSameReplica) {
  const SyncConfig config = contents_configs().back().config;  // "everything"
  std::optional<Replica::MessageMap> reference;
  std::optional<IcsState> reference_state;
  std::size_t reference_bytes = 0;
  for (std::size_t n : kBufferSizes) {
    SCOPED_TRACE(n);
    testkit::WorkloadOptions few_long_bodies;  // every byte is a buffer at n = 1
    few_long_bodies.long_body_percent = 3;
    World w(7, 10, few_long_bodies);
    ReplicaOptions o;
    o.config = config;
    o.buffer_size = n;
    o.state_chunk = n % 5;
    Replica r(w.wl.folder(), o);
    std::size_t bytes = 0;
    for (int round = 0; round < 3; ++round) {
      ASSERT_TRUE(r.sync(*w.session).ok());
      EXPECT_LE(r.last_sync().stream_bytes, r.last_sync().buffers * n);
      bytes += r.last_sync().stream_bytes;
      ASSERT_TRUE(w.wl.apply(10).ok());
    }
    ASSERT_TRUE(r.sync(*w.session).ok());
    ASSERT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), r, config).ok());
    if (!reference) {
      reference = r.messages();
      reference_state = r.state();
      reference_bytes = bytes;
    } else {
      EXPECT_TRUE(*reference == r.messages());
      EXPECT_TRUE(*reference_state == r.state());
      EXPECT_EQ(reference_bytes, bytes);
    }
  }
}

std::vector<Named> hierarchy_configs() {
  return {
    {"plain", hierarchy_config()},
    {"eid-cn", hierarchy_config(0, extra_flags::kEid | extra_flags::kCn)},
    {"no-deletions", hierarchy_config(sync_flags::kNoDeletions)},
    {"include", [] {
       SyncConfig c = hierarchy_config(sync_flags::kOnlySpecifiedProperties);
       c.property_tags = {wt::kContainerClass};
       return c;
     }()},
    {"exclude", [] {
       SyncConfig c = hierarchy_config();
       c.property_tags = {wt::kContainerClass};
       return c;
     }()},
  };
}

// One case per hierarchy configuration, named after it.
class ReplicaHierarchyConfig : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ReplicaHierarchyConfig, ConvergesOverRoundsOfFolderChanges) {
  const std::size_t i = GetParam();
  testkit::WorkloadOptions folders_heavy;
  folders_heavy.weights = {4, 1, 2, 1, 1, 1, 1, 1, 1, 1, 12, 10, 5};
  World w(300 + i, 10, folders_heavy);
  const MemoryBaseline baseline(*w.session);
  ReplicaOptions o;
  o.config = hierarchy_configs()[i].config;
  o.buffer_size = kBufferSizes[i % 7];
  Replica r(w.wl.folder(), o);
  Replica whole(w.store->root(), o);  // the sync folder is the store's root
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(round);
    ASSERT_TRUE(r.sync(*w.session).ok());
    ASSERT_TRUE(whole.sync(*w.session).ok());
    Status c = testkit::check_hierarchy_converged(*w.store, w.wl.folder(), r, o.config);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    c = testkit::check_hierarchy_converged(*w.store, w.store->root(), whole, o.config);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    ASSERT_TRUE(baseline.check(*w.session).ok());
    ASSERT_TRUE(w.wl.apply(12).ok());
  }
  ASSERT_TRUE(r.sync(*w.session).ok());
  ASSERT_TRUE(r.sync(*w.session).ok());
  expect_quiet(r.last_sync());
}

INSTANTIATE_TEST_SUITE_P(Replica, ReplicaHierarchyConfig,
                         ::testing::Range<std::size_t>(0, hierarchy_configs().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return param_name(hierarchy_configs()[info.param].name);
                         });

TEST(Replica, FolderMovedOutOfTheSyncFolderIsDeletedWithItsSubtree) {
  World w(11, 4);
  const Fid s = *w.store->create_folder(w.wl.folder(), "s");
  const Fid t = *w.store->create_folder(s, "t");
  Replica r(w.wl.folder(), options(hierarchy_config(), 64));
  ASSERT_TRUE(r.sync(*w.session).ok());
  const std::size_t before = r.folders().size();
  const FolderSnapshot snap = *w.store->get_folder(s);
  FolderVersion v;
  v.parent = w.wl.elsewhere();
  v.source_key = snap.source_key;
  v.change_key = Xid::from_globcnt(Guid::from_seed(99), 5);
  v.pcl = snap.pcl;
  v.props = snap.props;
  ASSERT_TRUE(w.store->put_folder_version(v).ok());
  ASSERT_TRUE(r.sync(*w.session).ok());
  EXPECT_EQ(r.last_sync().deletions, 2u);
  EXPECT_EQ(r.folders().size(), before - 2);
  EXPECT_FALSE(r.state().given.contains(w.store->guid(), t.globcnt));
  ASSERT_TRUE(testkit::check_hierarchy_converged(*w.store, w.wl.folder(), r, hierarchy_config()).ok());
}

// ---------------------------------------------------------------- named cases

TEST(Replica, MoveIsADeletionAtTheSourceAndAChangeAtTheDestination) {
  World w(21, 12);
  Replica here(w.wl.folder(), ReplicaOptions{});
  Replica there(w.wl.elsewhere(), ReplicaOptions{});
  ASSERT_TRUE(here.sync(*w.session).ok());
  ASSERT_TRUE(there.sync(*w.session).ok());
  const Mid mid = w.store->message_ids(w.wl.folder(), MessageKind::Normal)->front();
  const Gid key = w.store->get_message(mid)->source_key;
  ASSERT_TRUE(w.store->move_message(mid, w.wl.elsewhere()).ok());
  ASSERT_TRUE(here.sync(*w.session).ok());
  ASSERT_TRUE(there.sync(*w.session).ok());
  EXPECT_EQ(here.last_sync().deletions, 1u);
  EXPECT_EQ(here.last_sync().message_changes, 0u);
  EXPECT_FALSE(here.messages().count(key));
  EXPECT_EQ(there.last_sync().message_changes, 1u);
  EXPECT_EQ(there.last_sync().deletions, 0u);
  EXPECT_TRUE(there.messages().count(key));
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), here, SyncConfig{}).ok());
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.elsewhere(), there, SyncConfig{}).ok());
}

TEST(Replica, ReadStateTravelsOnItsOwnOnlyWithReadState) {
  World w(31, 10);
  ReplicaOptions with;
  with.config.flags |= sync_flags::kReadState;
  Replica r(w.wl.folder(), with);
  Replica plain(w.wl.folder(), ReplicaOptions{});
  const auto mids = *w.store->message_ids(w.wl.folder(), MessageKind::Normal);
  ASSERT_GE(mids.size(), 3u);
  for (const Mid& m : mids) ASSERT_TRUE(w.store->set_read(m, false).ok());
  ASSERT_TRUE(r.sync(*w.session).ok());
  ASSERT_TRUE(plain.sync(*w.session).ok());
  ASSERT_TRUE(w.store->set_read(mids[0], true).ok());
  ASSERT_TRUE(w.store->set_read(mids[1], true).ok());
  ASSERT_TRUE(r.sync(*w.session).ok());
  EXPECT_EQ(r.last_sync().read_changes, 2u);
  EXPECT_EQ(r.last_sync().message_changes, 0u);
  const Gid k0 = w.store->get_message(mids[0])->source_key;
  EXPECT_TRUE(r.messages().at(k0).read);
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), r, with.config).ok());
  ASSERT_TRUE(plain.sync(*w.session).ok());
  expect_quiet(plain.last_sync());
  EXPECT_FALSE(plain.messages().at(k0).read);  // not told
  // A change to the message carries its read state along.
  ASSERT_TRUE(w.store->modify_message(mids[0], PropChanges{}).ok());
  ASSERT_TRUE(plain.sync(*w.session).ok());
  EXPECT_EQ(plain.last_sync().message_changes, 1u);
  EXPECT_TRUE(plain.messages().at(k0).read);
}

TEST(Replica, HardAndSoftDeletesAndFaiOnlySync) {
  World w(41, 16);
  ReplicaOptions fai;
  fai.config.flags = sync_flags::kUnicode | sync_flags::kFAI;
  Replica all(w.wl.folder(), ReplicaOptions{});
  Replica only_fai(w.wl.folder(), fai);
  ASSERT_TRUE(all.sync(*w.session).ok());
  ASSERT_TRUE(only_fai.sync(*w.session).ok());
  for (const auto& [key, m] : only_fai.messages()) EXPECT_TRUE(m.associated);
  EXPECT_EQ(only_fai.messages().size(), w.store->message_ids(w.wl.folder(), MessageKind::Associated)->size());
  const Mid normal = w.store->message_ids(w.wl.folder(), MessageKind::Normal)->front();
  const Mid assoc = w.store->message_ids(w.wl.folder(), MessageKind::Associated)->front();
  ASSERT_TRUE(w.store->delete_message(normal, DeleteKind::Hard).ok());
  ASSERT_TRUE(w.store->delete_message(assoc, DeleteKind::Soft).ok());
  ASSERT_TRUE(all.sync(*w.session).ok());
  ASSERT_TRUE(only_fai.sync(*w.session).ok());
  EXPECT_EQ(all.last_sync().deletions, 2u);
  EXPECT_EQ(only_fai.last_sync().deletions, 1u);
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), all, SyncConfig{}).ok());
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), only_fai, fai.config).ok());
}

TEST(Replica, RestrictionScopeDropsAndBringsBackMessages) {
  World w(51, 0);
  PropertyBag hi;
  hi.set(PropValue::integer(tags::kImportance, 2));
  PropertyBag lo;
  lo.set(PropValue::integer(tags::kImportance, 0));
  const Mid a = *w.store->create_message(w.wl.folder(), hi, false);
  ASSERT_TRUE(w.store->create_message(w.wl.folder(), hi, false).ok());
  ASSERT_TRUE(w.store->create_message(w.wl.folder(), lo, false).ok());
  ReplicaOptions o;
  o.config.restriction = Restriction::compare(relop::kEqual, tags::kImportance, 2).serialize();
  ReplicaOptions ignore = o;
  ignore.config.flags |= sync_flags::kIgnoreNoLongerInScope;
  Replica r(w.wl.folder(), o), kept(w.wl.folder(), ignore);
  ASSERT_TRUE(r.sync(*w.session).ok());
  ASSERT_TRUE(kept.sync(*w.session).ok());
  EXPECT_EQ(r.messages().size(), 2u);
  const Gid key = w.store->get_message(a)->source_key;
  ASSERT_TRUE(w.store->modify_message(a, PropChanges{lo, {}}).ok());
  ASSERT_TRUE(r.sync(*w.session).ok());
  ASSERT_TRUE(kept.sync(*w.session).ok());
  EXPECT_EQ(r.last_sync().no_longer_in_scope, 1u);
  EXPECT_FALSE(r.messages().count(key));
  EXPECT_EQ(kept.last_sync().no_longer_in_scope, 0u);
  EXPECT_TRUE(kept.messages().count(key));
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), r, o.config).ok());
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), kept, ignore.config).ok());
  ASSERT_TRUE(w.store->modify_message(a, PropChanges{hi, {}}).ok());
  ASSERT_TRUE(r.sync(*w.session).ok());
  EXPECT_EQ(r.last_sync().message_changes, 1u);
  EXPECT_TRUE(r.messages().count(key));
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), r, o.config).ok());
}

TEST(Replica, PartialChangeDeletesPropertiesMissingFromTheGroup) {
  World w(61, 0);
  PropertyBag b;
  b.set(PropValue::unicode(tags::kSubject, "s"));
  b.set(PropValue::unicode(tags::kBody, "body"));
  const Mid m = *w.store->create_message(w.wl.folder(), b, false);
  ReplicaOptions o;
  o.config.send_options |= send_options::kPartialItem;
  Replica r(w.wl.folder(), o);
  ASSERT_TRUE(r.sync(*w.session).ok());
  EXPECT_EQ(r.last_sync().partial_changes, 0u);
  ASSERT_TRUE(w.store->modify_message(m, PropChanges{{}, {tags::kBody}}).ok());
  ASSERT_TRUE(r.sync(*w.session).ok());
  EXPECT_EQ(r.last_sync().partial_changes, 1u);
  const Gid key = w.store->get_message(m)->source_key;
  EXPECT_EQ(r.messages().at(key).props.get(tags::kBody), nullptr);
  EXPECT_NE(r.messages().at(key).props.get(tags::kSubject), nullptr);
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), r, o.config).ok());
}

TEST(Replica, IncrementalSyncOfTenChangesExaminesTenMessages) {
  World w(71, 150);
  Replica r(w.wl.folder(), ReplicaOptions{});
  ASSERT_TRUE(r.sync(*w.session).ok());
  const auto mids = *w.store->message_ids(w.wl.folder(), MessageKind::Normal);
  for (std::size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(w.store->modify_message(mids[i * 9], PropChanges{}).ok());
  }
  ASSERT_TRUE(r.sync(*w.session).ok());
  EXPECT_EQ(r.last_sync().message_changes, 10u);
  EXPECT_EQ(r.last_sync().server.messages_examined, 10u);
}

// ---------------------------------------------------------------- failures

TEST(Replica, FailedSyncsReleaseTheirHandleAndLeaveTheReplicaAsItWas) {
  World w(81, 10);
  const MemoryBaseline baseline(*w.session);
  ReplicaOptions o;
  Replica r(w.wl.folder(), o);
  ASSERT_TRUE(r.sync(*w.session).ok());
  ASSERT_TRUE(w.wl.apply(10).ok());
  PropertyBag big;
  big.set(PropValue::unicode(tags::kBody, std::string(6000, 'b')));
  const Mid first = w.store->message_ids(w.wl.folder(), MessageKind::Normal)->front();
  ASSERT_TRUE(w.store->modify_message(first, PropChanges{big, {}}).ok());
  const auto messages = r.messages();
  const IcsState state = r.state();
  // The stream (over 12 KB) cannot be charged: get_buffer fails, the handle goes.
  const std::size_t budget = w.session->memory().budget();
  w.session->memory().set_budget(w.session->memory().live_bytes() + sizeof(DownloadContext) + 4000);
  EXPECT_EQ(r.sync(*w.session).code(), ErrorCode::GeneralFailure);
  w.session->memory().set_budget(budget);
  // A stream that never reaches Done within max_buffers.
  r.options().max_buffers = 3;
  r.options().buffer_size = 1;
  EXPECT_EQ(r.sync(*w.session).code(), ErrorCode::GeneralFailure);
  // An invalid configuration.
  r.options().config.type = 9;
  EXPECT_EQ(r.sync(*w.session).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(w.session->handle_count(), 0u);
  EXPECT_TRUE(baseline.check(*w.session).ok());
  EXPECT_TRUE(messages == r.messages());
  EXPECT_TRUE(state == r.state());
  r.options() = o;
  ASSERT_TRUE(r.sync(*w.session).ok());
  EXPECT_TRUE(testkit::check_converged(*w.store, w.wl.folder(), r, o.config).ok());
}

TEST(Replica, ApplyIsAllOrNothing) {
  World w(91, 6);
  Replica r(w.wl.folder(), ReplicaOptions{});
  ASSERT_TRUE(r.sync(*w.session).ok());
  const auto messages = r.messages();
  SyncDownload d;
  DownloadedMessage m;
  m.header.source_key = Gid{Guid::from_seed(3), 77};
  d.messages.push_back(m);
  ASSERT_TRUE(d.deleted.insert(Replid{999}, 1).ok());  // not in the replica map
  EXPECT_EQ(r.apply(d, *w.store).code(), ErrorCode::FormatError);
  EXPECT_TRUE(messages == r.messages());
  d.deleted.clear();
  d.hierarchy = true;
  EXPECT_EQ(r.apply(d, *w.store).code(), ErrorCode::FormatError);
  EXPECT_TRUE(messages == r.messages());
  d.hierarchy = false;
  EXPECT_TRUE(r.apply(d, *w.store).ok());
  EXPECT_EQ(r.messages().size(), messages.size() + 1);
}

// ---------------------------------------------------------------- grammar

// A small event builder for hand-made streams.
struct Events {
  std::vector<FxEvent> ev;
  Events& m(std::uint32_t tag) {
    ev.push_back(FxEvent::marker(tag));
    return *this;
  }
  Events& p(PropValue v) {
    ev.push_back(FxEvent::property(std::move(v)));
    return *this;
  }
  Events& header(Globcnt n) {
    p(PropValue::binary(tags::kSourceKey, serialize_gid(Gid{Guid::from_seed(1), n})));
    p(PropValue::integer(tags::kLastModificationTime, 1000 + n));
    p(PropValue::binary(tags::kChangeKey, serialize_xid(Xid::from_globcnt(Guid::from_seed(1), n))));
    return p(PropValue::binary(tags::kPredecessorChangeList,
                               Pcl::of(Xid::from_globcnt(Guid::from_seed(1), n)).serialize()));
  }
  Events& change(Globcnt n) {
    m(markers::kIncrSyncChg).header(n).m(markers::kIncrSyncMessage);
    return p(PropValue::unicode(tags::kSubject, "s"));
  }
  Events& state() {
    m(markers::kIncrSyncStateBegin);
    p(PropValue::binary(tags::kMetaTagIdsetGiven, {}));
    p(PropValue::binary(tags::kMetaTagCnsetSeen, {}));
    return m(markers::kIncrSyncStateEnd);
  }
  Events& end() { return state().m(markers::kIncrSyncEnd); }
};

Result<SyncDownload> parse_events(const std::vector<FxEvent>& ev, bool hierarchy = false) {
  SyncStreamParser parser(hierarchy);
  for (const FxEvent& e : ev) ICS_TRY(parser.push(e));
  return parser.finish();
}

// push_all stops at the first bad event and returns its error (the events are cleared either
// way); later events do not turn the failure into success.
TEST(SyncStream, PushAllReturnsTheFirstError) {
  std::vector<FxEvent> ev{FxEvent::marker(markers::kIncrSyncEnd), FxEvent::marker(markers::kIncrSyncEnd),
                          FxEvent::marker(markers::kIncrSyncEnd)};
  SyncStreamParser parser(false);
  Status s = parser.push_all(ev);
  EXPECT_EQ(s.code(), ErrorCode::FormatError);
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(parser.finish().code(), ErrorCode::FormatError);
}

TEST(SyncStream, EveryProperPrefixOfARealStreamIsAFormatError) {
  World w(101, 8);
  ReplicaOptions o = options(contents_configs().back().config, 4096);
  Replica r(w.wl.folder(), o);
  ASSERT_TRUE(r.sync(*w.session).ok());
  ASSERT_TRUE(w.wl.apply(12).ok());
  const std::uint32_t h = *sync_configure(*w.session, w.wl.folder(), o.config);
  for (StateProperty p : {StateProperty::IdsetGiven, StateProperty::CnsetSeen, StateProperty::CnsetSeenFAI,
                          StateProperty::CnsetRead}) {
    Bytes b = encode_idset(r.state().get(p));
    ASSERT_TRUE(upload_state_begin(*w.session, h, state_tag(p), static_cast<std::uint32_t>(b.size())).ok());
    ASSERT_TRUE(upload_state_continue(*w.session, h, b).ok());
    ASSERT_TRUE(upload_state_end(*w.session, h).ok());
  }
  Bytes stream;
  for (;;) {
    auto buf = get_buffer(*w.session, h, 1 << 20);
    ASSERT_TRUE(buf.ok());
    stream.insert(stream.end(), buf->buffer.begin(), buf->buffer.end());
    if (buf->status == TransferStatus::Done) break;
  }
  ASSERT_TRUE(w.session->release(h).ok());
  const auto events = *parse_fx(stream);
  auto whole = parse_events(events);
  ASSERT_TRUE(whole.ok()) << whole.error().to_string();
  EXPECT_TRUE(whole->has_deletions);
  for (std::size_t n = 0; n < events.size(); ++n) {
    const std::vector<FxEvent> prefix(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(parse_events(prefix).code(), ErrorCode::FormatError) << n;
  }
  // Dropping any structural marker breaks the stream; nothing crashes.
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::vector<FxEvent> cut = events;
    cut.erase(cut.begin() + static_cast<std::ptrdiff_t>(i));
    auto got = parse_events(cut);
    const std::uint32_t tag = events[i].tag.value;
    const bool structural = events[i].kind == FxEvent::Kind::Marker &&
                            (tag == markers::kIncrSyncEnd || tag == markers::kIncrSyncStateBegin ||
                             tag == markers::kIncrSyncStateEnd || tag == markers::kIncrSyncMessage ||
                             tag == markers::kIncrSyncChg || tag == markers::kIncrSyncChgPartial);
    if (structural) {
      EXPECT_EQ(got.code(), ErrorCode::FormatError) << i;
    }
  }
  // The same bytes through the convenience function, and as a hierarchy: no.
  EXPECT_TRUE(parse_sync_stream(stream, false).ok());
  EXPECT_EQ(parse_sync_stream(stream, true).code(), ErrorCode::FormatError);
}

TEST(SyncStream, IllFormedStreamsAreFormatErrors) {
  const PropValue deleted = PropValue::binary(tags::kMetaTagIdsetDeleted, {});
  std::vector<std::pair<std::string, Events>> bad;
  auto add = [&](std::string what, Events e) { bad.emplace_back(std::move(what), std::move(e)); };
  add("empty", Events{});
  add("no IncrSyncEnd", Events{}.change(1).state());
  add("data after the end", Events{}.end().change(1));
  add("change after deletions", Events{}.m(markers::kIncrSyncDel).p(deleted).change(1).end());
  add("deletions twice", Events{}.m(markers::kIncrSyncDel).m(markers::kIncrSyncDel).end());
  add("read before deletions", Events{}.m(markers::kIncrSyncRead).m(markers::kIncrSyncDel).end());
  add("progress after a change", Events{}.change(1).m(markers::kIncrSyncProgressMode)
                                     .p(PropValue::binary(PropTag(0x00000102), Bytes(32, 0))).end());
  add("progress of 31 bytes", Events{}.m(markers::kIncrSyncProgressMode)
                                  .p(PropValue::binary(PropTag(0x00000102), Bytes(31, 0))).end());
  add("two states", Events{}.state().end());
  add("IncrSyncChg without IncrSyncMessage", Events{}.m(markers::kIncrSyncChg).header(1).end());
  add("per-message progress without a change",
      Events{}.m(markers::kIncrSyncProgressPerMsg).p(PropValue::integer(PropTag(0x00000003), 1))
          .p(PropValue::integer(PropTag(0x0000000B), 0)).end());
  add("per-message progress with a bad Boolean",
      Events{}.m(markers::kIncrSyncProgressPerMsg).p(PropValue::integer(PropTag(0x00000003), 1))
          .p(PropValue::integer(PropTag(0x0000000B), 2)).change(1).end());
  add("groupInfo before a full change", Events{}.m(markers::kIncrSyncGroupInfo)
                                            .p(PropValue::binary(PropTag(0x00000102), {})).change(1).end());
  add("partial marker in a full change",
      Events{}.change(1).p(PropValue::integer(tags::kMetaTagIncrementalSyncMessagePartial, 0)).end());
  add("meta-property in a message", Events{}.change(1).p(PropValue::binary(tags::kMetaTagIdsetGiven, {})).end());
  add("unexpected property in deletions",
      Events{}.m(markers::kIncrSyncDel).p(PropValue::binary(tags::kMetaTagCnsetSeen, {})).end());
  add("IDSET twice in deletions", Events{}.m(markers::kIncrSyncDel).p(deleted).p(deleted).end());
  add("malformed IDSET", Events{}.m(markers::kIncrSyncDel)
                             .p(PropValue::binary(tags::kMetaTagIdsetDeleted, {0x01, 0x00, 0x77})).end());
  add("header property twice", Events{}.m(markers::kIncrSyncChg).header(1)
                                   .p(PropValue::integer(tags::kLastModificationTime, 5))
                                   .m(markers::kIncrSyncMessage).end());
  add("header without a source key", Events{}.m(markers::kIncrSyncChg)
                                         .p(PropValue::integer(tags::kLastModificationTime, 5))
                                         .m(markers::kIncrSyncMessage).end());
  add("21-byte source key", Events{}.m(markers::kIncrSyncChg)
                                .p(PropValue::binary(tags::kSourceKey, Bytes(21, 1))).header(2)
                                .m(markers::kIncrSyncMessage).end());
  add("unknown property in a header", Events{}.m(markers::kIncrSyncChg).header(1)
                                          .p(PropValue::unicode(tags::kSubject, "x"))
                                          .m(markers::kIncrSyncMessage).end());
  add("IncrSyncStateEnd alone", Events{}.m(markers::kIncrSyncStateEnd).end());
  add("a marker inside the state", Events{}.m(markers::kIncrSyncStateBegin).m(markers::kIncrSyncDel).end());
  add("a folder marker", Events{}.m(markers::kStartTopFld).end());
  add("property before any element", Events{}.p(PropValue::unicode(tags::kSubject, "x")).end());
  add("FAI CNSET in a hierarchy state", Events{}.m(markers::kIncrSyncStateBegin)
                                            .p(PropValue::binary(tags::kMetaTagCnsetSeenFAI, {}))
                                            .m(markers::kIncrSyncStateEnd).m(markers::kIncrSyncEnd));
  add("recipient after attachments", Events{}.change(1).m(markers::kNewAttach).m(markers::kEndAttach)
                                         .m(markers::kStartRecip).m(markers::kEndToRecip).end());
  add("property after the children", Events{}.change(1).m(markers::kStartRecip).m(markers::kEndToRecip)
                                         .p(PropValue::unicode(tags::kBody, "x")).end());
  add("unclosed attachment", Events{}.change(1).m(markers::kNewAttach).end());
  add("property twice in a message", Events{}.change(1).p(PropValue::unicode(tags::kSubject, "t")).end());
  add("property in two groups of a partial change",
      Events{}.m(markers::kIncrSyncChgPartial).header(1)
          .p(PropValue::integer(tags::kMetaTagIncrementalSyncMessagePartial, 0))
          .p(PropValue::unicode(tags::kSubject, "a"))
          .p(PropValue::integer(tags::kMetaTagIncrementalSyncMessagePartial, 1))
          .p(PropValue::unicode(tags::kSubject, "b")).end());
  add("property after an embedded message's children",
      Events{}.change(1).m(markers::kNewAttach).m(markers::kStartEmbed)
          .m(markers::kStartRecip).m(markers::kEndToRecip).p(PropValue::unicode(tags::kBody, "x"))
          .m(markers::kEndEmbed).m(markers::kEndAttach).end());
  add("FXDelProp three times in an embedded message",
      Events{}.change(1).m(markers::kNewAttach).m(markers::kStartEmbed)
          .p(PropValue::integer(tags::kMetaTagFXDelProp, 0)).p(PropValue::integer(tags::kMetaTagFXDelProp, 0))
          .p(PropValue::integer(tags::kMetaTagFXDelProp, 0)).m(markers::kEndEmbed).m(markers::kEndAttach).end());
  for (auto& [what, e] : bad) {
    const bool hierarchy = what == "FAI CNSET in a hierarchy state";
    auto got = parse_events(e.ev, hierarchy);
    EXPECT_EQ(got.code(), ErrorCode::FormatError) << what;
    // And through the bytes, whatever the chunking.
    auto bytes = write_fx(e.ev);
    ASSERT_TRUE(bytes.ok()) << what;
    EXPECT_EQ(parse_sync_stream(*bytes, hierarchy).code(), ErrorCode::FormatError) << what;
  }
}

TEST(SyncStream, AcceptsChildrenGroupsAndTheHierarchyGrammar) {
  Events e;
  e.m(markers::kIncrSyncGroupInfo).p(PropValue::binary(PropTag(0x00000102), {1, 2, 3}));
  e.p(PropValue::integer(tags::kMetaTagIncrSyncGroupId, 4));
  e.m(markers::kIncrSyncChgPartial).header(1);
  e.p(PropValue::integer(tags::kMetaTagIncrementalSyncMessagePartial, 0)).p(PropValue::unicode(tags::kSubject, "a"));
  e.p(PropValue::integer(tags::kMetaTagIncrementalSyncMessagePartial, 1)).p(PropValue::unicode(tags::kBody, "b"));
  e.p(PropValue::integer(tags::kMetaTagFXDelProp, 0));
  e.m(markers::kStartRecip).p(PropValue::unicode(tags::kDisplayName, "r")).m(markers::kEndToRecip);
  e.p(PropValue::integer(tags::kMetaTagFXDelProp, 0));
  e.m(markers::kNewAttach).p(PropValue::integer(tags::kAttachNumber, 0)).m(markers::kStartEmbed);
  e.p(PropValue::unicode(tags::kSubject, "inner")).m(markers::kNewAttach).m(markers::kEndAttach);
  e.m(markers::kEndEmbed).m(markers::kEndAttach);
  e.change(2).end();
  auto d = parse_events(e.ev);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  ASSERT_EQ(d->messages.size(), 2u);
  EXPECT_TRUE(d->messages[0].partial);
  EXPECT_EQ(d->messages[0].groups, 2u);
  EXPECT_EQ(d->messages[0].props.size(), 2u);
  EXPECT_EQ(d->messages[0].recipients, 1u);
  EXPECT_EQ(d->messages[0].attachments, 1u);
  EXPECT_FALSE(d->messages[1].partial);
  // Attachments nested past the limit.
  Events deep;
  deep.change(1);
  for (std::size_t i = 0; i < kMaxSyncNesting; ++i) deep.m(markers::kNewAttach).m(markers::kStartEmbed);
  EXPECT_EQ(parse_events(deep.ev).code(), ErrorCode::TooBig);
  // Hierarchy: a folder change with an empty parent key, deletions, state.
  Events h;
  h.m(markers::kIncrSyncChg).p(PropValue::binary(tags::kParentSourceKey, {})).header(5);
  h.p(PropValue::unicode(tags::kDisplayName, "f"));
  h.m(markers::kIncrSyncDel).p(PropValue::binary(tags::kMetaTagIdsetDeleted, {})).end();
  auto hd = parse_events(h.ev, true);
  ASSERT_TRUE(hd.ok()) << hd.error().to_string();
  ASSERT_EQ(hd->folders.size(), 1u);
  EXPECT_FALSE(hd->folders[0].parent_source_key.has_value());
  EXPECT_NE(hd->folders[0].props.get(tags::kDisplayName), nullptr);
  EXPECT_EQ(parse_events(Events{}.m(markers::kIncrSyncRead).end().ev, true).code(), ErrorCode::FormatError);
}

// An embedded message is a whole messageContent: any number of properties, then its own
// messageChildren with both MetaTagFXDelProps.
TEST(SyncStream, AcceptsAnEmbeddedMessageWithPropertiesAndChildren) {
  Events e;
  e.change(1).m(markers::kNewAttach).p(PropValue::integer(tags::kAttachNumber, 0)).m(markers::kStartEmbed);
  e.p(PropValue::unicode(tags::kSubject, "inner")).p(PropValue::unicode(tags::kBody, "text"));
  e.p(PropValue::integer(tags::kImportance, 2)).p(PropValue::integer(tags::kMessageFlags, 1));
  e.p(PropValue::integer(tags::kMetaTagFXDelProp, 0));
  e.m(markers::kStartRecip).p(PropValue::unicode(tags::kDisplayName, "r")).m(markers::kEndToRecip);
  e.p(PropValue::integer(tags::kMetaTagFXDelProp, 0));
  e.m(markers::kNewAttach).p(PropValue::integer(tags::kAttachNumber, 0)).m(markers::kEndAttach);
  e.m(markers::kEndEmbed).m(markers::kEndAttach).end();
  auto d = parse_events(e.ev);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  ASSERT_EQ(d->messages.size(), 1u);
  EXPECT_EQ(d->messages[0].attachments, 1u);
  EXPECT_EQ(d->messages[0].props.size(), 1u);  // the embedded message's properties are not the message's
}

// MetaTagIncrSyncGroupId may open a partial change without a groupInfo before it (the last
// group id in the stream stays in force), right after progressTotal or progressPerMessage.
TEST(SyncStream, AcceptsAGroupIdAfterEitherProgressElement) {
  const PropValue total = PropValue::binary(PropTag(0x00000102), Bytes(32, 0));
  Events e;
  e.m(markers::kIncrSyncProgressMode).p(total);
  e.p(PropValue::integer(tags::kMetaTagIncrSyncGroupId, 1));
  e.m(markers::kIncrSyncChgPartial).header(1);
  e.p(PropValue::integer(tags::kMetaTagIncrementalSyncMessagePartial, 0)).p(PropValue::unicode(tags::kSubject, "a"));
  e.m(markers::kIncrSyncProgressPerMsg).p(PropValue::integer(PropTag(0x00000003), 40))
      .p(PropValue::integer(PropTag(0x0000000B), 0));
  e.p(PropValue::integer(tags::kMetaTagIncrSyncGroupId, 1));
  e.m(markers::kIncrSyncChgPartial).header(2);
  e.p(PropValue::integer(tags::kMetaTagIncrementalSyncMessagePartial, 0)).p(PropValue::unicode(tags::kSubject, "b"));
  e.end();
  auto d = parse_events(e.ev);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  ASSERT_TRUE(d->progress.has_value());
  ASSERT_EQ(d->messages.size(), 2u);
  EXPECT_TRUE(d->messages[0].partial && d->messages[1].partial);
  EXPECT_FALSE(d->messages[0].progress.has_value());
  ASSERT_TRUE(d->messages[1].progress.has_value());
  EXPECT_EQ(d->messages[1].progress->size, 40u);
}

// Every header field the server may send arrives in the download: the message's
// PidTagAssociated, PidTagMid, PidTagMessageSize and PidTagChangeNumber, the folder's
// PidTagFolderId, PidTagParentFolderId and PidTagChangeNumber.
TEST(SyncStream, KeepsEveryHeaderField) {
  const Mid mid{1, 0x123456};
  const Cn cn{1, 0x654321};
  Events e;
  e.m(markers::kIncrSyncChg).header(7);
  e.p(PropValue::integer(tags::kAssociated, 1)).p(PropValue::integer(tags::kMid, mid.to_u64()));
  e.p(PropValue::integer(tags::kMessageSize, 0xABCDE)).p(PropValue::integer(tags::kChangeNumber, cn.to_u64()));
  e.m(markers::kIncrSyncMessage).p(PropValue::unicode(tags::kSubject, "s")).end();
  auto d = parse_events(e.ev);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  ASSERT_EQ(d->messages.size(), 1u);
  const DownloadedMessage& m = d->messages[0];
  EXPECT_EQ(m.header.source_key, (Gid{Guid::from_seed(1), 7}));
  EXPECT_EQ(m.header.last_modified, 1007u);
  EXPECT_TRUE(m.associated);
  EXPECT_EQ(m.header.id, mid);
  EXPECT_EQ(m.message_size, 0xABCDEu);
  EXPECT_EQ(m.header.cn, cn);

  const Fid fid{1, 0x2222}, parent{1, 0x1111};
  const Gid parent_key{Guid::from_seed(1), 3};
  Events h;
  h.m(markers::kIncrSyncChg).p(PropValue::binary(tags::kParentSourceKey, serialize_gid(parent_key))).header(9);
  h.p(PropValue::unicode(tags::kDisplayName, "f")).p(PropValue::integer(tags::kFolderId, fid.to_u64()));
  h.p(PropValue::integer(tags::kParentFolderId, parent.to_u64()));
  h.p(PropValue::integer(tags::kChangeNumber, cn.to_u64())).end();
  auto hd = parse_events(h.ev, true);
  ASSERT_TRUE(hd.ok()) << hd.error().to_string();
  ASSERT_EQ(hd->folders.size(), 1u);
  const DownloadedFolder& f = hd->folders[0];
  EXPECT_EQ(f.header.source_key, (Gid{Guid::from_seed(1), 9}));
  EXPECT_EQ(f.header.id, fid);
  EXPECT_EQ(f.parent_fid, parent);
  EXPECT_EQ(f.parent_source_key, parent_key);
  EXPECT_EQ(f.header.cn, cn);
  EXPECT_EQ(f.props.size(), 1u);
}

}  // namespace
}  // namespace ics
