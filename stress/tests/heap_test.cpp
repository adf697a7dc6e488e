// The heap tracker (heap.h): every allocation counted, per owner and side; untracked scopes;
// stacks recorded from epoch 1 on, and a per-stack diff that names the function that keeps
// memory. The tracker is process-wide and starts once: the tests share it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "heap.h"
#include "heap_sites.h"

namespace ics::stress::heap {
namespace {

class HeapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    started_ = start(8, 1);
    enter_thread();
    next_epoch();  // stacks from here on
  }
  void SetUp() override {
    if (!started_) GTEST_SKIP() << "no heap hooks in this build (" << source() << ")";
  }
  static bool started_;
};
bool HeapTest::started_ = false;

// Keeps `n` blocks of `size` bytes; noinline, so that it is a frame of its own.
__attribute__((noinline)) void keep_blocks(std::vector<std::unique_ptr<char[]>>& kept, int n,
                                           std::size_t size) {
  for (int i = 0; i < n; ++i) kept.push_back(std::make_unique<char[]>(size));
}

TEST_F(HeapTest, CountsEveryBlockForItsOwnerAndSide) {
  std::vector<std::unique_ptr<char[]>> server, client;
  server.reserve(100);
  client.reserve(100);
  Context c = context();
  c.owner = 3;
  set_context(c);
  std::int64_t owner_before = 0, client_before = 0;
  owner_bytes(3, owner_before, client_before);
  const Totals before = totals();
  keep_blocks(server, 100, 40);
  {
    const ClientScope scope;
    keep_blocks(client, 100, 24);
  }
  const Totals during = totals();
  EXPECT_EQ(during.bytes - before.bytes, 100 * 40 + 100 * 24);
  EXPECT_EQ(during.client - before.client, 100 * 24);
  EXPECT_EQ(during.allocations - before.allocations, 200);
  std::int64_t owner_now = 0, client_now = 0;
  owner_bytes(3, owner_now, client_now);
  EXPECT_EQ(owner_now - owner_before, 100 * 40 + 100 * 24);
  EXPECT_EQ(client_now - client_before, 100 * 24);
  server.clear();
  client.clear();
  const Totals after = totals();
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.client, before.client);
  c.owner = 0;
  set_context(c);
}

TEST_F(HeapTest, ReallocAndCallocAreCounted) {
  const Totals before = totals();
  void* p = std::calloc(10, 8);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(totals().bytes - before.bytes, 80);
  p = std::realloc(p, 1000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(totals().bytes - before.bytes, 1000);
  std::free(p);
  EXPECT_EQ(totals().bytes, before.bytes);
}

TEST_F(HeapTest, UntrackedScopeIsNotCounted) {
  const Totals before = totals();
  std::unique_ptr<char[]> block;
  {
    const Untracked quiet;
    block = std::make_unique<char[]>(4096);
  }
  EXPECT_EQ(totals().bytes, before.bytes);
  block.reset();  // its free is not seen either
  EXPECT_EQ(totals().bytes, before.bytes);
}

TEST_F(HeapTest, PerStackDiffNamesTheFunctionThatKeeps) {
  std::vector<std::unique_ptr<char[]>> kept;
  kept.reserve(600);
  keep_blocks(kept, 100, 16);
  const Snapshot a = snapshot(1, false);
  keep_blocks(kept, 500, 16);
  const Snapshot b = snapshot(1, false);
  const std::vector<Site> sites = growth_sites(a, b);
  ASSERT_FALSE(sites.empty());
  ASSERT_FALSE(sites.front().frames.empty());
  std::string frames;
  for (const Frame& f : sites.front().frames) frames += f.function + " (" + f.file + ":" + std::to_string(f.line) + ")\n";
  EXPECT_NE(sites.front().frames.front().function.find("keep_blocks"), std::string::npos) << frames;
  // The file is ours, or unknown when addr2line gave the line to an inlined std header.
  const std::string& file = sites.front().frames.front().file;
  EXPECT_TRUE(file == "stress/tests/heap_test.cpp" || file.empty()) << file;
  EXPECT_EQ(sites.front().bytes, 500 * 16);
  EXPECT_EQ(sites.front().allocations, 500);
}

TEST_F(HeapTest, ClientSnapshotHoldsOnlyTheClientsBlocks) {
  std::vector<std::unique_ptr<char[]>> kept;
  kept.reserve(100);
  const Snapshot a = snapshot(1, true);
  keep_blocks(kept, 50, 32);
  {
    const ClientScope scope;
    keep_blocks(kept, 30, 32);
  }
  const Snapshot b = snapshot(1, true);
  const std::vector<Site> sites = growth_sites(a, b);
  ASSERT_FALSE(sites.empty());
  EXPECT_EQ(sites.front().bytes, 30 * 32);
}

}  // namespace
}  // namespace ics::stress::heap
