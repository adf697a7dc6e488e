"""The triage loop, without a compiler: reliability (reproduced k/N, flaky) through a stand-in
ics-stress, fix verification (fixed with the commit, regression, not checked) on a REAL ASan
report of a zoo bug (logs/zoo_globset_push_unchecked.log: globset-push-unchecked, replayed by
the variant's fuzz_globset), bisect over a throwaway repository made here, access class and
ICS impact."""
import datetime
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
import unittest

from triage_testlib import LOGS, REPO_ROOT, TOOL, by_type, run_tool, temp_dir

from triage.grouping import group
from triage.sanitizer_logs import ERROR_NAMES, parse_log
from triage.severity import access_class, ics_impact, severity

ZOO_LOG = os.path.join(LOGS, "zoo_globset_push_unchecked.log")
ZOO_KEY = "Heap-buffer-overflow READ 1 @ push / step / run"
ABORT_LOG = os.path.join(LOGS, "deadly_abort.log")
ABORT_KEY = "Abort @ ics::Globset::push / ics::Globset::decode / LLVMFuzzerTestOneInput"


def tool(*args, cwd=None):
    run = subprocess.run([sys.executable, TOOL, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, cwd=cwd, check=False)
    return run.returncode, run.stdout


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], stdout=subprocess.PIPE, text=True,
                          check=True).stdout.strip()


def new_repo(prefix):
    repo = temp_dir(prefix)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "test")
    return repo


def commit(repo, files, subject):
    for name, text in files.items():
        with open(os.path.join(repo, name), "w", encoding="utf-8") as f:
            f.write(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject)
    return git(repo, "rev-parse", "HEAD")


def write_script(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text))
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return path


# A stand-in ics-stress: records its argv, writes a growth finding to --json on the runs that
# the pattern selects (run n reproduces when PATTERN[n % len] == "1"), a clean JSON otherwise.
FAKE_STRESS = """\
    #!/usr/bin/env python3
    import json, os, sys
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "calls"), "a") as f:
        f.write(" ".join(sys.argv[1:]) + "\\n")
    n = sum(1 for _ in open(os.path.join(here, "calls"))) - 1
    pattern = open(os.path.join(here, "pattern")).read().strip()
    hit = pattern[n % len(pattern)] == "1"
    doc = {"verdict": "finding" if hit else "clean", "command": "x", "seed": 7,
           "scenario": "download-loop", "findings": []}
    if hit:
        doc["findings"].append({"type": "Memory-growth", "kind": "DownloadContext",
                                "slope_bytes_per_loop": 512.0, "projected_loops_to_budget": 2048})
    json.dump(doc, open(sys.argv[sys.argv.index("--json") + 1], "w"))
    sys.exit(1 if hit else 0)
"""


class ReliabilityTest(unittest.TestCase):
    def run_with(self, pattern):
        work = temp_dir("triage-rel-")
        fake = write_script(os.path.join(work, "ics-stress"), FAKE_STRESS)
        with open(os.path.join(work, "pattern"), "w") as f:
            f.write(pattern)
        found = os.path.join(work, "found.json")
        with open(found, "w") as f:  # the nightly's run: four threads, its own JSON
            json.dump({"verdict": "finding", "seed": 7, "scenario": "download-loop",
                       "command": "/nightly/ics-stress --scenario download-loop --fibers 8 "
                                  "--threads 4 --loops 50 --seed 7 --json /nightly/r.json",
                       "findings": [{"type": "Memory-growth", "kind": "DownloadContext",
                                     "slope_bytes_per_loop": 512.0}]}, f)
        # started in the stand-in's folder with a relative --stress-binary: the replays run
        # in the checkout (--repo-root), so the path must be made absolute first
        out_dir = temp_dir("triage-rel-out-")
        rc, out = tool(found, "--reliability", "--stress-binary", "./ics-stress", "--out",
                       out_dir, "--repo-root", REPO_ROOT, cwd=work)
        with open(os.path.join(out_dir, "report.json")) as f:
            report = dict(json.load(f), _out=out_dir)
        with open(os.path.join(work, "calls")) as f:
            calls = f.read().splitlines()
        return rc, out, report, calls

    def test_flaky_is_labelled_and_kept(self):
        rc, out, report, calls = self.run_with("10110")  # 6 of 10 runs reproduce
        f = by_type(report, "Memory-growth")[0]
        self.assertEqual(rc, 1)
        self.assertEqual((f["reliability"]["runs"], f["reliability"]["reproduced"]), (10, 6))
        self.assertTrue(f["reliability"]["flaky"])
        self.assertEqual(f["reliability"]["label"], "reproduced 6/10 (flaky)")
        self.assertIn("reproduced 6/10 (flaky)", out)
        with open(os.path.join(report["_out"], "report.md")) as md:
            text = md.read()
        self.assertIn("**6/10 flaky**", text)
        self.assertIn("- reliability: reproduced 6/10 (flaky)", text)
        with open(os.path.join(report["_out"], "report.sarif")) as s:
            result = json.load(s)["runs"][0]["results"][0]
        self.assertEqual(result["properties"]["reliability"],
                         {"runs": 10, "reproduced": 6, "flaky": True})
        self.assertIn("Reproduced 6/10 (flaky)", result["message"]["text"])

    def test_stress_replays_from_seed_on_one_thread(self):
        rc, out, report, calls = self.run_with("1")
        f = by_type(report, "Memory-growth")[0]
        self.assertEqual(f["reliability"]["label"], "reproduced 10/10")
        self.assertFalse(f["reliability"]["flaky"])
        self.assertEqual(len(calls), 10)
        for call in calls:
            args = call.split()
            self.assertEqual(args[args.index("--threads") + 1], "1")
            self.assertEqual(args.count("--threads"), 1)
            self.assertEqual(args[args.index("--seed") + 1], "7")
            self.assertNotIn("/nightly/r.json", args)

    def test_without_flag_nothing_replays(self):
        rc, out, report = run_tool([ZOO_LOG])
        self.assertIsNone(report["findings"][0]["reliability"])


class VerifyTest(unittest.TestCase):
    """Known findings whose reproducers are commands: `cat` of a real report reproduces it,
    `true` stands for a build where the bug is fixed."""

    def setUp(self):
        self.repo = new_repo("triage-verify-")
        self.head = commit(self.repo, {"README": "x\n"}, "the build under test")
        self.known = os.path.join(self.repo, "known.json")
        entries = [
            {"key": ZOO_KEY, "status": "open", "issue": "#1",
             "reproducer": {"kind": "command", "command": f"cat {ZOO_LOG}"}},
            {"key": "Direct-leak @ gone / away", "status": "open",
             "reproducer": {"kind": "command", "command": "true"}},
            {"key": ABORT_KEY, "status": "fixed", "fixed": {"commit": "abc", "date": "2026-01-01"},
             "reproducer": {"kind": "command", "command": f"cat {ABORT_LOG}"}},
            {"key": "Timeout @ nowhere", "status": "open",
             "reproducer": {"kind": "fuzz", "target": "nothing_built", "input": "x"}},
            {"key": "Oracle-failure @ no / reproducer", "status": "fixed"},
        ]
        with open(self.known, "w") as f:
            json.dump(entries, f)

    def verify(self, *extra):
        return tool("verify", "--known", self.known, "--repo-root", self.repo, "--runs", "3",
                    "--update", *extra)

    def entries(self):
        with open(self.known) as f:
            return {e["key"]: e for e in json.load(f)}

    def test_fixed_regression_and_not_checked(self):
        vjson = os.path.join(self.repo, "verify.json")
        rc, out = self.verify("--json", vjson)
        self.assertEqual(rc, 1, out)  # a regression
        e = self.entries()
        gone = e["Direct-leak @ gone / away"]
        self.assertEqual(gone["status"], "fixed")
        self.assertEqual(gone["fixed"], {"commit": self.head, "runs": 3,
                                         "date": datetime.date.today().isoformat()})
        self.assertEqual(e[ZOO_KEY]["status"], "open")
        self.assertEqual(e[ABORT_KEY]["status"], "fixed")
        self.assertEqual(e[ABORT_KEY]["regressed"]["commit"], self.head)
        with open(vjson) as f:
            outcome = {r["key"]: r["outcome"] for r in json.load(f)["results"]}
        self.assertEqual(outcome, {ZOO_KEY: "still-open", "Direct-leak @ gone / away": "fixed",
                                   ABORT_KEY: "regression", "Timeout @ nowhere": "not-checked",
                                   "Oracle-failure @ no / reproducer": "not-checked"})
        self.assertIn("1 fixed since the last run, 1 regression(s), 1 still open", out)

        # the night's report carries it: "fixed since last night" and the regression
        rc, _, report = run_tool([ZOO_LOG], "--verify", vjson, "--known", self.known)
        self.assertEqual(report["findings"][0]["status"], "known")
        with open(os.path.join(report["_out"], "report.md")) as f:
            md = f.read()
        fixed = md.split("### Fixed since last night")[1].split("###")[0]
        self.assertIn("Direct-leak @ gone / away", fixed)
        self.assertNotIn(ZOO_KEY, fixed)
        regressions = md.split("### Regressions")[1].split("|")[0]
        self.assertIn(ABORT_KEY, regressions)
        self.assertEqual(report["verify"]["commit"], self.head)

        # the next night: nothing newly fixed, the regression is not recorded twice
        rc, out = self.verify()
        self.assertEqual(rc, 1)
        self.assertIn("0 fixed since the last run, 1 regression(s), 1 still open, 1 still fixed",
                      out)
        self.assertEqual(len(self.entries()[ABORT_KEY]["history"]), 1)

    def test_without_update_the_file_is_unchanged(self):
        with open(self.known) as f:
            before = f.read()
        tool("verify", "--known", self.known, "--repo-root", self.repo, "--runs", "1")
        with open(self.known) as f:
            self.assertEqual(f.read(), before)

    def test_adopt_keeps_the_reproducer_in_the_repo(self):
        data = os.path.join(self.repo, "crash-input")
        with open(data, "wb") as f:
            f.write(b"\x01\x02")
        report = os.path.join(self.repo, "report.json")
        with open(report, "w") as f:
            json.dump({"findings": [{"id": "0123456789ab", "key": "Abort @ f", "severity": "Low",
                                     "access": "crash", "reproducer": {"replay": {
                                         "kind": "fuzz", "target": "globset", "input": data,
                                         "flags": []}}}]}, f)
        rc, out = tool("adopt", report, "012345", "--known", self.known, "--repo-root",
                       self.repo, "--issue", "#9")
        self.assertEqual(rc, 0, out)
        entry = self.entries()["Abort @ f"]
        self.assertEqual(entry["status"], "open")
        self.assertEqual(entry["reproducer"]["input"], "corpus/findings/0123456789ab/input")
        with open(os.path.join(self.repo, "corpus/findings/0123456789ab/input"), "rb") as f:
            self.assertEqual(f.read(), b"\x01\x02")


ADD_GOOD = 'echo $(( $1 + $2 ))\n'
ADD_BAD = 'if [ "$1" -eq 2 ]; then echo $(( $1 + $2 + 1 )); else echo $(( $1 + $2 )); fi\n'
# prints the zoo report when the bug is in: a "crash" whose key bisect must see
CRASH = 'if [ "$(sh add.sh 2 3)" != 5 ]; then cat "$1"; exit 1; fi\n'


class BisectTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.repo = new_repo("triage-bisect-")
        cls.commits = [commit(cls.repo, {"add.sh": ADD_GOOD, "crash.sh": CRASH}, "add.sh: sums")]
        for i in range(1, 16):
            files = {f"notes{i}.txt": f"{i}\n"}
            if i == 9:  # the bug enters here, among unrelated commits
                files["add.sh"] = ADD_BAD
            cls.commits.append(commit(cls.repo, files, f"change {i}" + (": a shortcut for 2"
                                                                     if i == 9 else "")))
        cls.bad = cls.commits[9]

    def assert_clean(self):
        worktrees = git(self.repo, "worktree", "list", "--porcelain").count("worktree ")
        self.assertEqual(worktrees, 1)  # the throwaway worktree is gone
        self.assertEqual(subprocess.run(["git", "-C", self.repo, "bisect", "log"],
                                        capture_output=True).returncode, 1)
        self.assertEqual(git(self.repo, "rev-parse", "HEAD"), self.commits[-1])

    def test_check_command_names_the_commit(self):
        start = time.monotonic()
        out_json = os.path.join(temp_dir("triage-bisect-out-"), "bisect.json")
        rc, out = tool("bisect", "--repo-root", self.repo, "--good", self.commits[0],
                       "--build", "true", "--check", "test \"$(sh add.sh 2 3)\" = 5",
                       "--json", out_json)
        self.assertEqual(rc, 0, out)
        self.assertIn(f"first bad commit: {self.bad} change 9: a shortcut for 2", out)
        with open(out_json) as f:
            result = json.load(f)
        self.assertEqual(result["commit"], self.bad)
        self.assertLessEqual(result["steps"], 5)  # log2(15) rounded up, plus one
        self.assertLess(time.monotonic() - start, 30)
        self.assert_clean()

    def test_reproducer_key_names_the_commit_and_is_recorded(self):
        known = os.path.join(temp_dir("triage-bisect-known-"), "known.json")
        with open(known, "w") as f:
            json.dump([{"key": ZOO_KEY, "status": "open", "reproducer": {
                "kind": "command", "command": f"sh crash.sh {ZOO_LOG}"}}], f)
        rc, out = tool("bisect", ZOO_KEY, "--known", known, "--repo-root", self.repo,
                       "--build", "true", "--update")  # good: the root commit
        self.assertEqual(rc, 0, out)
        self.assertIn(f"first bad commit: {self.bad}", out)
        with open(known) as f:
            self.assertEqual(json.load(f)[0]["introduced"],
                             {"commit": self.bad, "subject": "change 9: a shortcut for 2"})
        self.assert_clean()

    def test_other_finding_is_not_this_one(self):
        known = os.path.join(temp_dir("triage-bisect-known-"), "known.json")
        with open(known, "w") as f:  # the crash prints the zoo report, not this key
            json.dump([{"key": ABORT_KEY, "status": "open", "reproducer": {
                "kind": "command", "command": f"sh crash.sh {ZOO_LOG}"}}], f)
        rc, out = tool("bisect", ABORT_KEY, "--known", known, "--repo-root", self.repo,
                       "--good", self.commits[0], "--build", "true")
        self.assertEqual(rc, 2, out)  # every commit good: git bisect names no first bad one
        self.assert_clean()


class AccessImpactTest(unittest.TestCase):
    CASES = [
        ("Heap-buffer-overflow READ 1", {"access": "READ"}, "heap read"),
        ("Heap-buffer-overflow WRITE 4", {"access": "WRITE"}, "heap write"),
        ("Stack-buffer-overflow WRITE 8", {}, "stack write"),
        ("Global-buffer-overflow READ 2", {}, "global read"),
        ("Heap-use-after-free READ 8", {"access": "READ"}, "use-after-free read"),
        ("Heap-double-free", {}, "double-free"),
        ("SEGV on unknown address", {"access": "READ", "zero_page": True}, "near-null read"),
        ("SEGV on unknown address", {"access": "WRITE"}, "wild write"),
        ("Direct-leak", {"bytes": 96}, "leak"),
        ("Memory-growth", {"slope_bytes_per_loop": 512.0}, "growth"),
        ("Oracle-failure", {}, "oracle failure"),
        ("Oracle-failure", {"status": "GeneralFailure: memory not back to baseline"},
         "oracle failure: memory retained"),
        ("Divergence", {}, "state divergence"),
        ("Timeout", {}, "hang"),
    ]

    def test_access_classes(self):
        for type_, details, want in self.CASES:
            self.assertEqual(access_class(type_, details), want, type_)

    def test_growth_impact_names_the_failure_and_the_loops(self):
        line = ics_impact("Memory-growth", {"slope_bytes_per_loop": 512.0,
                                            "projected_loops_to_budget": 2048})
        self.assertIn("memory grows 512 B per sync loop", line)
        self.assertIn("fails with 0x80004005 after about 2,048 loops", line)
        # without ics-stress's projection: a 1 GiB budget over the slope
        self.assertIn("about 1,048,576 loops", ics_impact("Memory-growth",
                                                          {"slope_bytes_per_loop": 1024}))

    def test_memory_oracle_is_a_leak_in_all_but_name(self):
        details = {"message": "oracle failed: s.memory().live_bytes() == base_bytes"}
        self.assertEqual(severity("Oracle-failure", details), "Low")
        self.assertIn("0x80004005", ics_impact("Oracle-failure", details))
        self.assertEqual(severity("Oracle-failure", {"message": "oracle failed: a == b"}), "None")

    def test_divergence_and_corruption_impacts(self):
        self.assertIn("a replica silently misses changes", ics_impact("Divergence", {}))
        self.assertIn("memory corruption", ics_impact("Heap-use-after-free WRITE 8", {}))
        self.assertIn("96 B lost", ics_impact("Direct-leak", {"bytes": 96}))

    def test_real_zoo_report(self):
        rc, out, report = run_tool([ZOO_LOG])
        f = report["findings"][0]
        self.assertEqual(f["key"], ZOO_KEY)
        self.assertEqual((f["severity"], f["access"]), ("Medium", "heap read"))
        self.assertIn("out-of-bounds read", f["impact"])
        with open(os.path.join(report["_out"], "report.sarif")) as s:
            props = json.load(s)["runs"][0]["results"][0]["properties"]
        self.assertEqual((props["access"], props["impact"]), (f["access"], f["impact"]))


class OracleStatusTest(unittest.TestCase):
    """Three zoo bugs (download-context-retained, fx-split-value, move-without-cn) failed the
    same `ICS_FUZZ_CHECK(st.ok())` of fuzz_sync_session: one key for three bugs, until the
    error printed just before the check went into the state. Lines from their replays."""
    LOG = """replay: corpus/sync_session/{n} (82 bytes)
{status}
oracle failed: st.ok() at ../../../../fuzz/fuzz_sync_session.cpp:52
"""
    STATUSES = [
        ("GeneralFailure: memory not back to baseline: live bytes 13770 (baseline 312) live "
         "objects 25", "GeneralFailure: memory not back to baseline"),
        ("FormatError: XidSize must be 17 to 24 (at byte 8)", "FormatError: XidSize must be"),
        ("GeneralFailure: replica lacks message 59320dd7-e1e4-63cb-1c66-3cf4d73c4c04/8 (MID 8)",
         "GeneralFailure: replica lacks message"),
    ]

    def test_generic_check_split_by_the_error(self):
        text = "".join(self.LOG.format(n=i, status=line) for i, (line, _) in
                       enumerate(self.STATUSES))
        text += "INFO: Seed: 1\noracle failed: decoded == original at fuzz/fuzz_idset.cpp:9\n"
        findings = group(parse_log(text, "zoo.log"), False)
        self.assertEqual([f.state for f in findings],
                         [["st.ok()", want, "fuzz_sync_session.cpp"] for _, want in self.STATUSES]
                         + [["decoded == original", "fuzz_idset.cpp"]])

    def test_whole_heap_oracle_without_a_location(self):
        # fuzz_heap.h's line (zoo: error-path-leak and transfer-state-leak, replayed); it
        # traps after printing, so nothing else reports the bug
        text = ("replay: corpus/state_upload/b1204ada (118 bytes)\n"
                "oracle failed: fuzz_state_upload: process live heap bytes (sanitizer) not back "
                "at baseline: 77447 -> 78319 (+872), and 78319 -> 79191 (+872) running the same "
                "input again\n")
        (f,) = group(parse_log(text, "fuzz_state_upload.log"), False)
        self.assertEqual(f.key, "Oracle-failure @ process live heap bytes not back at baseline"
                                " / fuzz_state_upload")
        self.assertEqual(access_class(f.type, f.first.details), "oracle failure: memory retained")
        self.assertEqual(f.first.running, "corpus/state_upload/b1204ada")

    def test_error_names_match_the_engine(self):
        with open(os.path.join(REPO_ROOT, "engine", "include", "ics", "errors.h")) as f:
            header = f.read()
        enum = header.split("enum class ErrorCode")[1].split("};")[0]
        names = set(re.findall(r"^\s*([A-Z]\w+)\s*=", enum, re.M)) - {"Success"}
        self.assertEqual(names, set(ERROR_NAMES))


if __name__ == "__main__":
    unittest.main()
