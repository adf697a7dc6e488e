// Runs the real icsctl binary: its output is a contract other tools rely on.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

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

}  // namespace
}  // namespace ics
