#include "ics/errors.h"

#include <gtest/gtest.h>

namespace ics {
namespace {

TEST(ErrorCode, SpecValuesAndNames) {
  EXPECT_EQ(static_cast<std::uint32_t>(ErrorCode::GeneralFailure), 0x80004005u);
  EXPECT_EQ(static_cast<std::uint32_t>(ErrorCode::RpcFormat), 0x4B6u);
  EXPECT_EQ(static_cast<std::uint32_t>(ErrorCode::FormatError), 0x4EDu);
  EXPECT_EQ(static_cast<std::uint32_t>(ErrorCode::NullObject), 0x4B9u);
  EXPECT_EQ(static_cast<std::uint32_t>(ErrorCode::SyncConflict), 0x80040802u);
  EXPECT_EQ(name(ErrorCode::GeneralFailure), "GeneralFailure");
  EXPECT_EQ(ec_name(ErrorCode::GeneralFailure), "ecError");
  EXPECT_EQ(name(ErrorCode::NullObject), "NullObject");
  EXPECT_EQ(name(static_cast<ErrorCode>(0x1234)), "Unknown");
  EXPECT_TRUE(succeeded(ErrorCode::NewerClientChange));
  EXPECT_FALSE(succeeded(ErrorCode::FormatError));
  EXPECT_FALSE(succeeded(ErrorCode::SyncConflict));
}

Result<int> half(int x) {
  if (x % 2) return Error(ErrorCode::InvalidParameter, "odd", 3);
  return x / 2;
}

Result<int> quarter(int x) {
  ICS_TRY_ASSIGN(int h, half(x));
  ICS_TRY_ASSIGN(int q, half(h));
  return q;
}

TEST(Result, PropagatesFirstError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::InvalidParameter);
  EXPECT_EQ(r.error().offset(), 3u);
  EXPECT_EQ(r.error().to_string(), "InvalidParameter: odd (at byte 3)");
  Status s = ok_status();
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::Success);
}

}  // namespace
}  // namespace ics
