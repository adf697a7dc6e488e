#include "ics/context.h"

#include <gtest/gtest.h>

namespace ics {
namespace {

// A minimal stateful context: its transfer state is the uploaded state.
class EchoContext : public StatefulContext {
 public:
  explicit EchoContext(Session& s) : StatefulContext(s, false) {}
  ObjectKind kind() const override { return ObjectKind::UploadContext; }
  std::size_t footprint() const override { return sizeof(*this); }
  Result<IcsState> transfer_state() override { return state(); }
};

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session = std::move(Session::open(std::make_shared<Store>())).value();
    baseline = session->memory().live_bytes();
    handle = *session->add(std::make_unique<EchoContext>(*session));
  }
  std::unique_ptr<Session> session;
  std::size_t baseline = 0;
  std::uint32_t handle = 0;
};

TEST_F(ContextTest, UploadedStateComesBackThroughGetBufferAtAnySize) {
  GuidIdSet seen;
  ASSERT_TRUE(seen.insert(Guid::from_seed(5), 1, 99).ok());
  Bytes b = encode_idset(seen);
  ASSERT_TRUE(upload_state_begin(*session, handle, tags::kMetaTagCnsetSeen, static_cast<std::uint32_t>(b.size())).ok());
  ASSERT_TRUE(upload_state_continue(*session, handle, ByteView(b).first(3)).ok());
  ASSERT_TRUE(upload_state_continue(*session, handle, ByteView(b).subspan(3)).ok());
  ASSERT_TRUE(upload_state_end(*session, handle).ok());
  for (std::size_t n : {1u, 2u, 7u, 4096u}) {
    auto ts = get_transfer_state(*session, handle);
    ASSERT_TRUE(ts.ok());
    Bytes stream;
    for (;;) {
      auto r = get_buffer(*session, *ts, n);
      ASSERT_TRUE(r.ok());
      ASSERT_LE(r->buffer.size(), n);
      stream.insert(stream.end(), r->buffer.begin(), r->buffer.end());
      if (r->status == TransferStatus::Done) break;
      ASSERT_EQ(r->status, TransferStatus::Partial);
    }
    auto events = parse_fx(stream);
    ASSERT_TRUE(events.ok());
    auto state = read_state(*events);
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->seen, seen);
    ASSERT_TRUE(session->release(*ts).ok());
  }
}

TEST_F(ContextTest, GetBufferIntoACallersBufferGivesTheSameBytesInOneAllocation) {
  GuidIdSet seen;
  ASSERT_TRUE(seen.insert(Guid::from_seed(6), 1, 4000).ok());
  ASSERT_TRUE(seen.insert(Guid::from_seed(7), 9, 9).ok());
  Bytes b = encode_idset(seen);
  ASSERT_TRUE(upload_state_begin(*session, handle, tags::kMetaTagCnsetSeen, static_cast<std::uint32_t>(b.size())).ok());
  ASSERT_TRUE(upload_state_continue(*session, handle, ByteView(b)).ok());
  ASSERT_TRUE(upload_state_end(*session, handle).ok());
  auto fresh = get_transfer_state(*session, handle);
  auto reused = get_transfer_state(*session, handle);
  ASSERT_TRUE(fresh.ok() && reused.ok());
  Bytes transfer_buffer{0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE};  // old contents are replaced
  const std::uint8_t* storage = transfer_buffer.data();
  for (int calls = 0;; ++calls) {
    ASSERT_LT(calls, 1000);
    auto a = get_buffer(*session, *fresh, 5);
    auto r = get_buffer(*session, *reused, 5, transfer_buffer);
    ASSERT_TRUE(a.ok() && r.ok());
    EXPECT_EQ(transfer_buffer, a->buffer);
    EXPECT_TRUE(r->buffer.empty());
    EXPECT_EQ(transfer_buffer.data(), storage);  // at most 5 bytes: the first capacity serves
    EXPECT_EQ(r->status, a->status);
    EXPECT_EQ(r->in_progress_count, a->in_progress_count);
    EXPECT_EQ(r->total_step_count, a->total_step_count);
    if (r->status == TransferStatus::Done) break;
  }
  Bytes unchanged{1, 2, 3};
  EXPECT_EQ(get_buffer(*session, *reused, 0, unchanged).code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(get_buffer(*session, handle, 16, unchanged).code(), ErrorCode::NullObject);
  EXPECT_EQ(unchanged, (Bytes{1, 2, 3}));
}

TEST_F(ContextTest, WrongHandlesAndOrderAreNamedErrors) {
  EXPECT_EQ(upload_state_end(*session, handle).code(), ErrorCode::NotSupported);
  EXPECT_EQ(upload_state_begin(*session, handle ^ 0x10000, tags::kMetaTagCnsetSeen, 0).code(), ErrorCode::NullObject);
  EXPECT_EQ(get_buffer(*session, handle, 16).code(), ErrorCode::NullObject);  // not an FxSource
  ASSERT_TRUE(upload_state_begin(*session, handle, tags::kMetaTagCnsetSeen, 0).ok());
  EXPECT_EQ(get_transfer_state(*session, handle).code(), ErrorCode::NotSupported);
  ASSERT_TRUE(upload_state_end(*session, handle).ok());
  auto ts = get_transfer_state(*session, handle);
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(get_buffer(*session, *ts, 0).code(), ErrorCode::InvalidParameter);
}

TEST_F(ContextTest, ReleasingTheContextReleasesItsTransferStateAndMemory) {
  auto ts = get_transfer_state(*session, handle);
  ASSERT_TRUE(ts.ok());
  EXPECT_GT(session->memory().bytes(ObjectKind::FxBuffer), 0u);
  ASSERT_TRUE(session->release(handle).ok());
  EXPECT_EQ(get_buffer(*session, *ts, 16).code(), ErrorCode::NullObject);
  EXPECT_EQ(session->memory().live_bytes(), baseline);
  EXPECT_EQ(session->handle_count(), 0u);
}

}  // namespace
}  // namespace ics
