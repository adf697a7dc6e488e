#include "ics/state.h"

#include <gtest/gtest.h>

#include "ics/session.h"

namespace ics {
namespace {

IcsState sample_state() {
  IcsState s;
  Guid g = Guid::from_seed(11);
  EXPECT_TRUE(s.given.insert(g, 100, 120).ok());
  EXPECT_TRUE(s.seen.insert(g, 1, 500).ok());
  EXPECT_TRUE(s.seen_fai.insert(g, 7).ok());
  EXPECT_TRUE(s.read.insert(Guid::from_seed(12), 3, 9).ok());
  return s;
}

TEST(IcsState, WriteReadRoundTripContentsAndHierarchy) {
  IcsState s = sample_state();
  auto bytes = serialize_state(s, false);
  ASSERT_TRUE(bytes.ok());
  auto events = parse_fx(*bytes);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 6u);
  EXPECT_EQ(events->front().tag.value, markers::kIncrSyncStateBegin);
  auto back = read_state(*events);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);

  auto h = serialize_state(s, true);
  ASSERT_TRUE(h.ok());
  auto hev = parse_fx(*h);
  ASSERT_TRUE(hev.ok());
  EXPECT_EQ(hev->size(), 4u);
  auto hback = read_state(*hev);
  ASSERT_TRUE(hback.ok());
  EXPECT_EQ(hback->given, s.given);
  EXPECT_EQ(hback->seen, s.seen);
  EXPECT_TRUE(hback->seen_fai.empty());
}

TEST(IcsState, ReadRejectsUnterminatedAndMalformed) {
  std::vector<FxEvent> ev = {FxEvent::marker(markers::kIncrSyncStateBegin)};
  EXPECT_EQ(read_state(ev).code(), ErrorCode::FormatError);
  ev.push_back(FxEvent::property(PropValue::binary(tags::kMetaTagCnsetSeen, Bytes{0x01})));
  ev.push_back(FxEvent::marker(markers::kIncrSyncStateEnd));
  EXPECT_EQ(read_state(ev).code(), ErrorCode::FormatError);
}

TEST(StateProperty, TagsAndHierarchyRules) {
  EXPECT_EQ(*state_property(tags::kMetaTagIdsetGiven, true), StateProperty::IdsetGiven);
  EXPECT_EQ(*state_property(tags::kMetaTagIdsetGivenBinary, false), StateProperty::IdsetGiven);
  EXPECT_EQ(state_property(tags::kMetaTagCnsetRead, true).code(), ErrorCode::NotSupported);
  EXPECT_EQ(state_property(tags::kSubject, false).code(), ErrorCode::InvalidParameter);
  for (auto p : {StateProperty::IdsetGiven, StateProperty::CnsetSeen, StateProperty::CnsetSeenFAI,
                 StateProperty::CnsetRead}) {
    EXPECT_EQ(*state_property(state_tag(p), false), p);
  }
}

// The declared size is 32 bits on the wire: every size up to 0xFFFFFFFF is sent as it is, the
// next one is refused rather than truncated.
TEST(StateProperty, StreamSizeFillsThe32BitFieldAndNoMore) {
  EXPECT_EQ(*state_stream_size(0), 0u);
  EXPECT_EQ(*state_stream_size(0xFFFFFFFEu), 0xFFFFFFFEu);
  EXPECT_EQ(*state_stream_size(0xFFFFFFFFu), 0xFFFFFFFFu);
  if constexpr (sizeof(std::size_t) > 4) {
    EXPECT_EQ(state_stream_size(std::size_t{0xFFFFFFFFu} + 1).code(), ErrorCode::TooBig);
    EXPECT_EQ(state_stream_size(std::size_t{1} << 40).code(), ErrorCode::TooBig);
  }
}

class StateUploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Session::open(std::make_shared<Store>());
    ASSERT_TRUE(s.ok());
    session = std::move(s).value();
    baseline = session->memory().live_bytes();
  }
  std::unique_ptr<Session> session;
  std::size_t baseline = 0;
};

TEST_F(StateUploadTest, AnyChunkingGivesTheSameState) {
  IcsState want = sample_state();
  Bytes seen = encode_idset(want.seen);
  for (std::size_t chunk = 1; chunk <= seen.size(); ++chunk) {
    StateUpload up(*session, false);
    IcsState got;
    ASSERT_TRUE(up.begin(tags::kMetaTagCnsetSeen, static_cast<std::uint32_t>(seen.size())).ok());
    for (std::size_t i = 0; i < seen.size(); i += chunk) {
      ASSERT_TRUE(up.append(ByteView(seen).subspan(i, std::min(chunk, seen.size() - i))).ok());
    }
    ASSERT_TRUE(up.end(got).ok());
    EXPECT_EQ(got.seen, want.seen) << chunk;
  }
  EXPECT_EQ(session->memory().live_bytes(), baseline);
}

TEST_F(StateUploadTest, SequenceErrorsAreNamed) {
  StateUpload up(*session, false);
  IcsState st;
  EXPECT_EQ(up.append(Bytes{0}).code(), ErrorCode::NotSupported);
  EXPECT_EQ(up.end(st).code(), ErrorCode::NotSupported);
  ASSERT_TRUE(up.begin(tags::kMetaTagCnsetRead, 0).ok());
  EXPECT_EQ(up.begin(tags::kMetaTagCnsetRead, 0).code(), ErrorCode::NotSupported);
  EXPECT_EQ(up.begin(tags::kSubject, 0).code(), ErrorCode::NotSupported);
}

TEST_F(StateUploadTest, RejectedPropertyLeavesUploadUsable) {
  StateUpload up(*session, false);
  IcsState st = sample_state();
  const IcsState before = st;
  ASSERT_TRUE(up.begin(tags::kMetaTagCnsetSeen, 3).ok());
  ASSERT_TRUE(up.append(Bytes{0x01, 0x02, 0x03}).ok());
  EXPECT_EQ(up.end(st).code(), ErrorCode::FormatError);
  EXPECT_EQ(st, before);
  EXPECT_EQ(session->memory().live_bytes(), baseline);
  // The next property goes through.
  Bytes ok = encode_idset(before.read);
  ASSERT_TRUE(up.begin(tags::kMetaTagCnsetSeen, static_cast<std::uint32_t>(ok.size())).ok());
  ASSERT_TRUE(up.append(ok).ok());
  ASSERT_TRUE(up.end(st).ok());
  EXPECT_EQ(st.seen, before.read);
}

TEST_F(StateUploadTest, CapIsEnforcedWithoutBuffering) {
  session->set_max_state_size(64);
  StateUpload up(*session, false);
  EXPECT_EQ(up.begin(tags::kMetaTagCnsetSeen, 65).code(), ErrorCode::TooBig);
  ASSERT_TRUE(up.begin(tags::kMetaTagCnsetSeen, 10).ok());
  ASSERT_TRUE(up.append(Bytes(60, 0)).ok());
  EXPECT_EQ(up.append(Bytes(5, 0)).code(), ErrorCode::TooBig);
  EXPECT_FALSE(up.open());
  EXPECT_EQ(session->memory().live_bytes(), baseline);
}

}  // namespace
}  // namespace ics
