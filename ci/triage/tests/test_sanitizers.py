"""ics-triage on REAL sanitizer output: runs the deliberately buggy programs built by this
folder's CMakeLists.txt (ASan + UBSan + LSan, with the preset's compiler), then triages the
logs. Exit 77 (skipped) when the build could not make sanitized programs."""
import json
import os
import subprocess
import sys
import unittest

from triage_testlib import (temp_dir, BIN_DIR, BUGGY, TEST_PREFIX, TOOL, by_type, marker_line,
                            require, run_program, run_tool, sanitizer_env)

SOURCE = os.path.join(BUGGY, "triage_buggy.cpp")
FUZZ_SOURCE = os.path.join(BUGGY, "fuzz_triage_buggy.cpp")
SOURCE_URI = TEST_PREFIX + "buggy/triage_buggy.cpp"
FUZZ_URI = TEST_PREFIX + "buggy/fuzz_triage_buggy.cpp"


BISECT_PROGRAM = """// rev REV
#include <cstdlib>
__attribute__((noinline)) int read_at(const int* v, int i) { return v[i]; }
int main(int argc, char** argv) {
  int* v = new int[8]();
  int i = std::atoi(argv[1]);
  int r = i < LIMIT ? read_at(v, i) : 0;
  delete[] v;
  return r;
}
"""


def buggy(*args):
    return [os.path.join(BIN_DIR, "triage_buggy"), *args]


class SanitizerTriageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = temp_dir("triage-san-")
        logs = os.path.join(cls.work, "logs")
        cls.input8 = cls.write_input("inputs/eight", b"8")
        cls.exit = {
            # the same bug from two inputs and two callers, logged in two folders
            "read-file": run_program(buggy("read", cls.input8), f"{logs}/a/read-file.log"),
            "read-arg": run_program(buggy("read-arg", "9"), f"{logs}/b/read-arg.log"),
            "write": run_program(buggy("write", "8"), f"{logs}/write.log"),
            "uaf": run_program(buggy("uaf"), f"{logs}/uaf.log"),
            "leak": run_program(buggy("leak"), f"{logs}/leak.log"),
            "overflow": run_program(buggy("overflow", "5"), f"{logs}/overflow.log"),
            "slow": run_program(buggy("slow", "x"), f"{logs}/slow.log", timeout=60),
        }
        replay = os.path.join(BIN_DIR, "triage_replay_buggy")
        cls.replay_input = cls.write_input("inputs/crash-read", b"Rnoise-noise")
        cls.exit["replay-read"] = run_program([replay, cls.replay_input], f"{logs}/replay-read.log")
        oracle_input = cls.write_input("inputs/crash-oracle", b"O")
        cls.exit["replay-oracle"] = run_program([replay, oracle_input], f"{logs}/replay-oracle.log")
        cls.logs = logs
        cls.rc, cls.out, cls.report = run_tool([logs], "--source-prefix", TEST_PREFIX)
        with open(os.path.join(cls.report["_out"], "report.sarif"), encoding="utf-8") as f:
            cls.sarif = json.load(f)

    @classmethod
    def write_input(cls, rel, data):
        path = os.path.join(cls.work, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def one(self, type_):
        found = by_type(self.report, type_)
        self.assertEqual(len(found), 1, f"{type_}: {self.out}")
        return found[0]

    def sarif_location(self, finding):
        for result in self.sarif["runs"][0]["results"]:
            if result["partialFingerprints"]["icsTriageKey/v1"] == finding["id"]:
                loc = result["locations"][0]["physicalLocation"]
                return loc["artifactLocation"]["uri"], loc["region"]["startLine"]
        self.fail(f"no SARIF result for {finding['key']}")

    def assert_points_at(self, finding, uri, source, marker):
        self.assertEqual(self.sarif_location(finding), (uri, marker_line(source, marker)))

    def test_programs_failed_as_planted(self):
        for name, code in self.exit.items():
            self.assertNotEqual(code, 0, name)

    def test_heap_read_same_bug_two_inputs_two_paths_one_key(self):
        f = self.one("Heap-buffer-overflow READ 4")
        self.assertEqual(f["state"], ["read_field", "parse_record", "dispatch"])
        self.assertEqual(f["count"], 2)
        self.assertEqual({os.path.basename(s["file"]) for s in f["sources"]},
                         {"read-file.log", "read-arg.log"})
        self.assertEqual(f["severity"], "Medium")
        self.assertEqual(f["reproducer"]["input"], self.input8)  # from "Running: FILE"
        self.assert_points_at(f, SOURCE_URI, SOURCE, "heap-read")

    def test_heap_write(self):
        f = self.one("Heap-buffer-overflow WRITE 4")
        self.assertEqual(f["state"], ["write_field", "fill_record", "dispatch"])
        self.assertEqual(f["severity"], "High")
        self.assert_points_at(f, SOURCE_URI, SOURCE, "heap-write")

    def test_use_after_free(self):
        f = self.one("Heap-use-after-free WRITE 8")
        self.assertEqual(f["state"], ["touch_after_release", "release_then_touch", "main"])
        self.assertEqual(f["severity"], "High")
        self.assertTrue(any("release_then_touch" in line for line in f["free_stack"]))
        self.assertTrue(any("release_then_touch" in line for line in f["allocation_stack"]))
        self.assert_points_at(f, SOURCE_URI, SOURCE, "uaf-write")

    def test_direct_and_indirect_leaks(self):
        direct, indirect = self.one("Direct-leak"), self.one("Indirect-leak")
        self.assertEqual(direct["state"], ["make_chain", "lose_chain", "main"])
        self.assertEqual(indirect["state"], ["make_chain", "lose_chain", "main"])
        self.assertNotEqual(direct["key"], indirect["key"])
        self.assertEqual(direct["details"]["bytes"], 32)
        self.assert_points_at(direct, SOURCE_URI, SOURCE, "leak-direct")
        self.assert_points_at(indirect, SOURCE_URI, SOURCE, "leak-indirect")

    def test_ubsan_signed_overflow(self):
        f = self.one("UBSan: signed-integer-overflow")
        self.assertEqual(f["state"], ["add_counts", "main"])
        self.assertIn("2147483647 + 5", f["details"]["message"])
        self.assert_points_at(f, SOURCE_URI, SOURCE, "signed-overflow")

    def test_timeout_drops_fuzzer_and_library_frames(self):
        f = self.one("Timeout")
        self.assertEqual(self.exit["slow"], 70)
        self.assertEqual(f["state"], ["spin_on_input", "dispatch", "from_argument"])
        self.assertTrue(any("fuzzer::StaticAlarmCallback" in line for line in f["stack"]))
        self.assert_points_at(f, SOURCE_URI, SOURCE, "spin")

    def test_replay_driver_crash(self):
        f = self.one("Heap-buffer-overflow READ 1")
        self.assertEqual(f["state"], ["peek_past", "LLVMFuzzerTestOneInput"])  # no driver frames
        self.assertEqual(f["reproducer"]["target"], "triage_buggy")
        self.assertEqual(f["reproducer"]["input"], self.replay_input)  # from "replay: FILE"
        self.assertTrue(f["reproducer"]["command"].endswith(" " + self.replay_input))
        self.assert_points_at(f, FUZZ_URI, FUZZ_SOURCE, "fuzz-read")

    def test_replay_driver_oracle_without_stack(self):
        f = self.one("Oracle-failure")
        self.assertEqual(f["state"], ["size == 0", "fuzz_triage_buggy.cpp"])
        self.assertEqual(f["severity"], "None")
        self.assert_points_at(f, FUZZ_URI, FUZZ_SOURCE, "fuzz-oracle")

    def test_different_bugs_different_keys(self):
        types = sorted(f["type"] for f in self.report["findings"])
        self.assertEqual(types, sorted([
            "Heap-buffer-overflow READ 4", "Heap-buffer-overflow WRITE 4",
            "Heap-use-after-free WRITE 8", "Direct-leak", "Indirect-leak",
            "UBSan: signed-integer-overflow", "Timeout", "Heap-buffer-overflow READ 1",
            "Oracle-failure"]), self.out)
        self.assertEqual(len({f["key"] for f in self.report["findings"]}), len(types))
        self.assertEqual(self.rc, 1)

    def known_file(self, entries):
        path = os.path.join(self.work, f"known-{len(entries)}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(entries, f)
        return path

    def test_known_and_regression(self):
        read = self.one("Heap-buffer-overflow READ 4")
        uaf = self.one("Heap-use-after-free WRITE 8")
        known = self.known_file([
            {"key": read["key"], "status": "open", "note": "tracked", "issue": "#1"},
            {"type": uaf["type"], "state": uaf["state"], "status": "fixed", "note": "was fixed"}])
        rc, out, report = run_tool([self.logs], "--source-prefix", TEST_PREFIX, "--known", known)
        status = {f["type"]: f["status"] for f in report["findings"]}
        self.assertEqual(status.pop("Heap-buffer-overflow READ 4"), "known")
        self.assertEqual(status.pop("Heap-use-after-free WRITE 8"), "regression")
        self.assertEqual(set(status.values()), {"new"})
        self.assertEqual(rc, 1)

    def test_reliability_of_a_real_replay_crash(self):
        # the replay driver, named as the fuzz target's binary: every replay is real ASan output
        bins = temp_dir("triage-san-bins-")
        os.symlink(os.path.join(BIN_DIR, "triage_replay_buggy"),
                   os.path.join(bins, "fuzz_triage_buggy"))
        rc, out, report = run_tool([self.logs], "--source-prefix", TEST_PREFIX, "--binary-dir",
                                   bins, "--reliability", "3")
        read = [f for f in report["findings"] if f["type"] == "Heap-buffer-overflow READ 1"][0]
        self.assertEqual(read["reliability"]["label"], "reproduced 3/3", out)
        self.assertEqual(read["reproducer"]["replay"]["kind"], "fuzz")
        leak = [f for f in report["findings"] if f["type"] == "Direct-leak"][0]
        self.assertEqual(leak["reliability"]["label"], "not replayed: no reproducer")
        self.assertEqual(leak["access"], "leak")

    def test_verify_on_real_output(self):
        # still reproducing (index 9 overflows) stays open; in bounds ("the fix") is marked fixed
        read = self.one("Heap-buffer-overflow READ 4")
        program = os.path.join(BIN_DIR, "triage_buggy")
        known = self.known_file([
            {"key": read["key"], "status": "open",
             "reproducer": {"kind": "command", "command": f"{program} read-arg 9"}},
            {"key": read["key"].replace("READ 4", "READ 8"), "status": "open",
             "reproducer": {"kind": "command", "command": f"{program} read-arg 3"}}])
        run = subprocess.run([sys.executable, TOOL, "verify", "--known", known, "--runs", "2",
                              "--update"], stdout=subprocess.PIPE, text=True, env=sanitizer_env())
        with open(known, encoding="utf-8") as f:
            status = [e["status"] for e in json.load(f)]
        self.assertEqual(status, ["open", "fixed"], run.stdout)
        self.assertEqual(run.returncode, 0)

    def test_bisect_a_real_asan_crash(self):
        # a throwaway repository whose program gets a heap overflow at a known commit; each
        # bisect step compiles it with ASan and replays; the key decides
        repo = temp_dir("triage-san-bisect-")
        git = lambda *a: subprocess.run(["git", "-C", repo, *a], check=True, text=True,
                                        stdout=subprocess.PIPE).stdout.strip()
        git("init", "-q")
        git("config", "user.email", "t@example.com")
        git("config", "user.name", "t")
        commits = []
        for i in range(8):
            limit = "9" if i >= 5 else "8"  # commit 5 lets index 8 through: the bug
            with open(os.path.join(repo, "prog.cpp"), "w") as f:
                f.write(BISECT_PROGRAM.replace("LIMIT", limit).replace("REV", str(i)))
            git("add", "-A")
            git("commit", "-q", "-m", f"rev {i}")
            commits.append(git("rev-parse", "HEAD"))
        known = self.known_file([{"key": "Heap-buffer-overflow READ 4 @ read_at / main",
                                  "status": "open",
                                  "reproducer": {"kind": "command", "command": "./prog 8"}}])
        cxx = os.environ.get("TRIAGE_CXX", "c++")
        build = f"{cxx} -g -O0 -fsanitize=address -fno-inline prog.cpp -o prog"
        run = subprocess.run([sys.executable, TOOL, "bisect", "Heap-buffer-overflow READ 4 @ read_at / main",
                              "--known", known, "--repo-root", repo, "--good", commits[0],
                              "--build", build], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=sanitizer_env())
        self.assertIn(f"first bad commit: {commits[5]} rev 5", run.stdout)

    def test_all_known_exits_zero(self):
        known = self.known_file([{"key": f["key"], "status": "open"} for f in self.report["findings"]])
        rc, out, report = run_tool([self.logs], "--known", known)
        self.assertEqual(rc, 0, out)
        self.assertEqual(report["summary"]["known"], len(self.report["findings"]))


if __name__ == "__main__":
    require("TRIAGE_HAVE_SANITIZERS", "no -fsanitize=address,undefined with this compiler")
    unittest.main()
