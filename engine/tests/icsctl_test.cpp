// Runs the real icsctl binary: its output is a contract other tools rely on.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ics/fxstream.h"
#include "ics/globset.h"
#include "ics/idset.h"

namespace ics {
namespace {

struct ToolRun {
  int rc = -1;
  std::string out;
  std::string err;
};

ToolRun icsctl(const std::string& args, const std::string& stdin_text = "") {
  // ctest runs tests in parallel processes: name the files by pid.
  const std::string dir = ::testing::TempDir() + "icsctl_" + std::to_string(getpid());
  const std::string in = dir + "_in.txt", err = dir + "_err.txt";
  std::ofstream(in) << stdin_text;
  std::string cmd = std::string(ICS_ICSCTL_PATH) + " " + args + " <" + in + " 2>" + err;
  ToolRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err);
  r.err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  return r;
}

TEST(Icsctl, GlobsetDecodeSpecBitmaskExample) {
  // Five common bytes, then Bitmask 0x01/0xEB: {1-3, 5, 7-9} ([MS-OXCFXICS] 3.1.5.4.3.1.3).
  ToolRun r = icsctl("globset decode 050000000000" "4201eb" "50" "00");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "[[1,3],[5,5],[7,9]]\n");
}

TEST(Icsctl, GlobsetEncodeRoundTrips) {
  ToolRun enc = icsctl("globset encode", "[[7,9],[1,3],[5,5],[281474976710655,281474976710655]]");
  ASSERT_EQ(enc.rc, 0) << enc.err;
  auto bytes = from_hex(enc.out);
  ASSERT_TRUE(bytes.ok());
  auto set = decode_globset(ByteView(*bytes));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->size(), 8u);
  ToolRun dec = icsctl("globset decode " + enc.out.substr(0, enc.out.size() - 1));
  EXPECT_EQ(dec.out, "[[1,3],[5,5],[7,9],[281474976710655,281474976710655]]\n");
}

TEST(Icsctl, IdsetBothForms) {
  const std::string guid_json =
      R"([{"guid":"00112233-4455-6677-8899-aabbccddeeff","ranges":[[1,10],[12,12]]}])";
  ToolRun enc = icsctl("idset encode --replguid", guid_json);
  ASSERT_EQ(enc.rc, 0) << enc.err;
  EXPECT_EQ(enc.out.substr(0, 32), "33221100554477668899aabbccddeeff");
  ToolRun dec = icsctl("idset decode --replguid " + enc.out.substr(0, enc.out.size() - 1));
  EXPECT_EQ(dec.out, guid_json + "\n");

  const std::string replid_json = R"([{"replid":1,"ranges":[[5,5]]},{"replid":2,"ranges":[[1,2]]}])";
  ToolRun enc2 = icsctl("idset encode", replid_json);
  ASSERT_EQ(enc2.rc, 0) << enc2.err;
  EXPECT_EQ(enc2.out.substr(0, 4), "0100");
  ToolRun dec2 = icsctl("idset decode " + enc2.out.substr(0, enc2.out.size() - 1));
  EXPECT_EQ(dec2.out, replid_json + "\n");
}

TEST(Icsctl, MalformedInputExitsTwoWithNamedError) {
  ToolRun r = icsctl("globset decode 0107");
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("error: FormatError: ", 0), 0u) << r.err;
  ToolRun bad_hex = icsctl("globset decode 0g");
  EXPECT_EQ(bad_hex.rc, 2);
  EXPECT_EQ(bad_hex.err.rfind("error: InvalidParameter: ", 0), 0u) << bad_hex.err;
  ToolRun bad_json = icsctl("globset encode", "[[3,1]]");
  EXPECT_EQ(bad_json.rc, 2);
  EXPECT_EQ(bad_json.err.rfind("error: InvalidParameter: ", 0), 0u) << bad_json.err;
  ToolRun usage = icsctl("frobnicate");
  EXPECT_EQ(usage.rc, 2);
  ToolRun help = icsctl("--help");
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("globset decode"), std::string::npos);
}

TEST(Icsctl, FxAndStateDump) {
  FxWriter w;
  ASSERT_TRUE(w.marker(markers::kIncrSyncStateBegin).ok());
  GuidIdSet seen;
  ASSERT_TRUE(seen.insert(Guid::from_seed(1), 1, 42).ok());
  ASSERT_TRUE(w.property(PropValue::binary(tags::kMetaTagCnsetSeen, encode_idset(seen))).ok());
  ASSERT_TRUE(w.marker(markers::kIncrSyncStateEnd).ok());
  const std::string path = ::testing::TempDir() + "icsctl_state_" + std::to_string(getpid()) + ".fx";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(w.bytes().data()), static_cast<std::streamsize>(w.size()));
  }
  ToolRun fx = icsctl("fx dump " + path);
  EXPECT_EQ(fx.rc, 0) << fx.err;
  EXPECT_NE(fx.out.find("IncrSyncStateBegin"), std::string::npos);
  EXPECT_EQ(std::count(fx.out.begin(), fx.out.end(), '\n'), 3);
  ToolRun st = icsctl("state dump " + path);
  EXPECT_EQ(st.rc, 0) << st.err;
  EXPECT_NE(st.out.find("\"ranges\":[[1,42]]"), std::string::npos) << st.out;
  // A state whose IDSET is malformed is an error.
  std::ofstream(path, std::ios::binary | std::ios::app) << "\x01";
  ToolRun bad = icsctl("fx dump " + path);
  EXPECT_EQ(bad.rc, 2);
  EXPECT_EQ(bad.err.rfind("error: FormatError: ", 0), 0u) << bad.err;
}

// ---- icsctl sync ----

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string sync_dir(const std::string& name) {
  return ::testing::TempDir() + "icsctl_sync_" + std::to_string(getpid()) + "_" + name;
}

const char* const kSyncFiles[] = {"1.fx", "1.state", "2.fx", "2.state", "hierarchy.fx", "summary.json"};

// The integers of summary.json's list `key` (a flat list of integers).
std::vector<std::uint64_t> summary_list(const std::string& json, const std::string& key) {
  std::vector<std::uint64_t> out;
  const std::size_t at = json.find("\"" + key + "\"");
  if (at == std::string::npos) return out;
  const std::size_t open = json.find('[', at), close = json.find(']', at);
  std::istringstream in(json.substr(open + 1, close - open - 1));
  for (std::string item; std::getline(in, item, ',');) {
    if (item.find_first_of("0123456789") != std::string::npos) out.push_back(std::stoull(item));
  }
  return out;
}

// The GLOBCNTs of the decoded IDSET on the dump line naming tag (all REPLIDs).
std::set<std::uint64_t> dumped_ids(const std::string& dump, const std::string& tag) {
  std::set<std::uint64_t> out;
  std::istringstream lines(dump);
  const std::regex range(R"(\[(\d+),(\d+)\])");
  for (std::string line; std::getline(lines, line);) {
    if (line.find(tag + " ") == std::string::npos && line.find(tag + "(") == std::string::npos) continue;
    const std::size_t eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    const std::string decoded = line.substr(eq);
    for (std::sregex_iterator it(decoded.begin(), decoded.end(), range), end; it != end; ++it) {
      for (std::uint64_t v = std::stoull((*it)[1]); v <= std::stoull((*it)[2]); ++v) out.insert(v);
    }
  }
  return out;
}

TEST(IcsctlSync, SameSeedSameBytesWhateverTheBufferSize) {
  std::vector<std::string> dirs;
  for (int b : {1, 7, 4096}) {
    dirs.push_back(sync_dir("b" + std::to_string(b)));
    ToolRun r = icsctl("sync --seed 11 --messages 24 --changes 20 --buffer-size " + std::to_string(b) +
                       " --out " + dirs.back());
    ASSERT_EQ(r.rc, 0) << r.err;
  }
  for (const char* f : kSyncFiles) {
    const std::string first = slurp(dirs[0] + "/" + f);
    EXPECT_FALSE(first.empty()) << f;
    for (std::size_t i = 1; i < dirs.size(); ++i) EXPECT_EQ(slurp(dirs[i] + "/" + f), first) << f;
  }
}

TEST(IcsctlSync, DifferentSeedsDiffer) {
  const std::string a = sync_dir("s1"), b = sync_dir("s2");
  ASSERT_EQ(icsctl("sync --seed 1 --messages 10 --out " + a).rc, 0);
  ASSERT_EQ(icsctl("sync --seed 2 --messages 10 --out " + b).rc, 0);
  for (const char* f : {"1.fx", "2.fx", "hierarchy.fx"}) EXPECT_NE(slurp(a + "/" + f), slurp(b + "/" + f)) << f;
}

// summary.json against what `icsctl fx dump 2.fx` shows, over several seeds.
TEST(IcsctlSync, SummaryMatchesTheIncrementalStream) {
  std::size_t deletions = 0, reads = 0;
  for (int seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string dir = sync_dir("m" + std::to_string(seed));
    ASSERT_EQ(icsctl("sync --seed " + std::to_string(seed) + " --messages 30 --changes 25 --out " + dir).rc, 0);
    const std::string summary = slurp(dir + "/summary.json");
    ToolRun dump = icsctl("fx dump " + dir + "/2.fx");
    ASSERT_EQ(dump.rc, 0) << dump.err;
    std::set<std::uint64_t> gone, changed;
    for (auto v : summary_list(summary, "deleted")) gone.insert(v);
    for (auto v : summary_list(summary, "moved")) gone.insert(v);
    for (auto v : summary_list(summary, "changed")) {
      if (!gone.count(v)) changed.insert(v);
    }
    // Every message that left the folder is a deletion, and nothing else is.
    EXPECT_EQ(dumped_ids(dump.out, "MetaTagIdsetDeleted"), gone);
    deletions += gone.size();
    // One messageChange per message changed and still there.
    std::size_t chg = 0;
    std::istringstream lines(dump.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find("IncrSyncChg") != std::string::npos && line.find("Partial") == std::string::npos) ++chg;
    }
    EXPECT_EQ(chg, changed.size());
    // Read-state changes: only of messages marked so, neither changed nor gone;
    // a message marked only one way and still there is listed.
    const auto read = summary_list(summary, "read"), unread = summary_list(summary, "unread");
    const std::set<std::uint64_t> read_set(read.begin(), read.end()), unread_set(unread.begin(), unread.end());
    const auto sent_read = dumped_ids(dump.out, "MetaTagIdsetRead");
    const auto sent_unread = dumped_ids(dump.out, "MetaTagIdsetUnread");
    for (auto v : sent_read) EXPECT_TRUE(read_set.count(v) && !changed.count(v) && !gone.count(v)) << v;
    for (auto v : sent_unread) EXPECT_TRUE(unread_set.count(v) && !changed.count(v) && !gone.count(v)) << v;
    for (auto v : read_set) {
      if (!unread_set.count(v) && !changed.count(v) && !gone.count(v)) {
        EXPECT_TRUE(sent_read.count(v)) << v;
      }
    }
    for (auto v : unread_set) {
      if (!read_set.count(v) && !changed.count(v) && !gone.count(v)) {
        EXPECT_TRUE(sent_unread.count(v)) << v;
      }
    }
    reads += sent_read.size() + sent_unread.size();
  }
  EXPECT_GT(deletions, 0u);
  EXPECT_GT(reads, 0u);
}

TEST(IcsctlSync, BadArgumentsExitTwo) {
  const std::string dir = sync_dir("bad");
  for (const std::string& args : std::vector<std::string>{
           "sync", "sync --out " + dir, "sync --seed 1", "sync --seed x --out " + dir,
        "sync --seed 1 --messages 0 --out " + dir, "sync --seed 1 --buffer-size 0 --out " + dir,
        "sync --seed 1 --changes -3 --out " + dir, "sync --seed 1 --out " + dir + " --frob 2",
        "sync --seed 1 --out", "sync --seed 18446744073709551616 --out " + dir}) {
    ToolRun r = icsctl(args);
    EXPECT_EQ(r.rc, 2) << args;
    EXPECT_EQ(r.err.rfind("error: InvalidParameter: ", 0), 0u) << args << ": " << r.err;
  }
}

}  // namespace
}  // namespace ics
