"""ci/fuzz-compare's figures (ci/triage/fuzz_compare.py): a libFuzzer log's final stats and
last status line, llvm-cov's summary and lcov exports, the lines one mode covers and the other
does not, and the table and JSON the script prints, on a canned work folder."""
import json
import os
import subprocess
import sys
import unittest

from triage_testlib import temp_dir, REPO_ROOT

from triage import fuzz_compare

LOG = """INFO: Seed: 1
INFO: Loaded 1 modules   (5120 inline 8-bit counters): 5120 [0x1, 0x2),
#2\tINITED cov: 410 ft: 900 corp: 12/1033b exec/s: 0 rss: 40Mb
#4096\tpulse  cov: 455 ft: 1500 corp: 30/2Kb lim: 4096 exec/s: 2048 rss: 60Mb
#8000\tNEW    cov: 461 ft: 1622 corp: 41/3Kb lim: 4096 exec/s: 2000 rss: 61Mb L: 9/300 MS: 1 Custom-
Done 8123 runs in 4 second(s)
stat::number_of_executed_units: 8123
stat::average_exec_per_sec:     2030
stat::new_units_added:          29
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              61
exit=0
"""

CRASHED_LOG = """#2\tINITED cov: 410 ft: 900 corp: 12/1033b exec/s: 0 rss: 40Mb
==7== ERROR: libFuzzer: deadly signal
exit=1
"""


def summary(lines, count, branches, bcount):
    return {"data": [{"totals": {
        "lines": {"covered": lines, "count": count, "percent": 100.0 * lines / count},
        "branches": {"covered": branches, "count": bcount, "percent": 100.0 * branches / bcount},
        "functions": {"covered": 1, "count": 1, "percent": 100.0}}}], "type": "llvm.coverage.json.export"}


def lcov(root, hits, branches=None):
    """hits: {file: {line: count}}, branches: {file: {line: [taken, ...]}} (taken "-" when
    the line never ran) -> an lcov trace as llvm-cov writes it."""
    out = []
    for source, lines in hits.items():
        out.append(f"SF:{root}/{source}")
        for n, taken in sorted((branches or {}).get(source, {}).items()):
            out += [f"BRDA:{n},0,{k},{t}" for k, t in enumerate(taken)]
        out += [f"DA:{n},{c}" for n, c in sorted(lines.items())]
        out.append(f"LF:{len(lines)}")
        out.append(f"LH:{sum(1 for c in lines.values() if c)}")
        out.append("end_of_record")
    return "\n".join(out) + "\n"


def make_target(root, name, structured_log, byte_log):
    folder = os.path.join(root, name)
    files = {
        "seeds": (None, summary(40, 100, 10, 50), {"engine/src/a.cpp": {1: 1, 2: 0, 3: 0, 4: 0}}, 2),
        "structured": (structured_log, summary(60, 100, 20, 50),
                       {"engine/src/a.cpp": {1: 5, 2: 3, 3: 1, 4: 0},
                        "engine/src/b.cpp": {7: 2, 8: 0}}, 5),
        "byte": (byte_log, summary(50, 100, 15, 50),
                 {"engine/src/a.cpp": {1: 9, 2: 0, 3: 0, 4: 1},
                  "engine/src/b.cpp": {7: 0, 8: 0}}, 3),
    }
    taken = {"seeds": {"engine/src/a.cpp": {1: [1, 0]}},
             "structured": {"engine/src/a.cpp": {1: [5, 0]}, "engine/src/b.cpp": {7: [1, 1]}},
             "byte": {"engine/src/a.cpp": {1: [4, 5]}, "engine/src/b.cpp": {7: ["-", "-"]}}}
    for mode, (log, summ, hits, corpus) in files.items():
        d = os.path.join(folder, mode)
        os.makedirs(os.path.join(d, "corpus"))
        for i in range(corpus):
            with open(os.path.join(d, "corpus", f"u{i}"), "wb") as f:
                f.write(b"x" * 512)
        if log is not None:
            with open(os.path.join(d, "fuzz.log"), "w", encoding="utf-8") as f:
                f.write(log)
        with open(os.path.join(d, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summ, f)
        with open(os.path.join(d, "coverage.lcov"), "w", encoding="utf-8") as f:
            f.write(lcov("/src/icsfuzz", hits, taken[mode]))
    with open(os.path.join(folder, "load"), "w", encoding="utf-8") as f:
        f.write("4.00 3.00 2.00 at the start, 5.00 4.00 3.00 at the end\n")
    return folder


class ReadLog(unittest.TestCase):
    def test_final_stats_and_the_last_status_line(self):
        d = temp_dir("compare")
        path = os.path.join(d, "fuzz.log")
        with open(path, "w", encoding="utf-8") as f:
            f.write(LOG)
        self.assertEqual(fuzz_compare.read_log(path), {
            "executions": 8123, "exec_per_s": 2030, "features": 1622, "edges": 461,
            "corpus_units": 41, "exit": 0})

    def test_a_run_that_died_has_no_final_stats(self):
        d = temp_dir("compare")
        path = os.path.join(d, "fuzz.log")
        with open(path, "w", encoding="utf-8") as f:
            f.write(CRASHED_LOG)
        fig = fuzz_compare.read_log(path)
        self.assertIsNone(fig["executions"])
        self.assertIsNone(fig["exec_per_s"])
        self.assertEqual(fig["features"], 900)
        self.assertEqual(fig["exit"], 1)

    def test_missing_log(self):
        self.assertIsNone(fuzz_compare.read_log("/nonexistent/fuzz.log")["exit"])


class Lines(unittest.TestCase):
    def test_only_executed_lines_and_taken_branches_count_and_paths_are_relative(self):
        d = temp_dir("compare")
        path = os.path.join(d, "c.lcov")
        with open(path, "w", encoding="utf-8") as f:
            f.write(lcov("/src/icsfuzz", {"engine/src/a.cpp": {1: 1, 2: 0, 10: 12}},
                         {"engine/src/a.cpp": {1: [0, 3], 2: ["-", "-"]}}))
        lines, branches = fuzz_compare.read_lcov(path, "/src/icsfuzz/")
        self.assertEqual(lines, {("engine/src/a.cpp", 1), ("engine/src/a.cpp", 10)})
        self.assertEqual(branches, {("engine/src/a.cpp", 1, 0, 1)})

    def test_missing_trace_is_empty(self):
        self.assertEqual(fuzz_compare.read_lcov("/nonexistent.lcov"), (set(), set()))

    def test_only_in_is_a_sorted_difference_with_runs_of_lines_as_ranges(self):
        a = {("b.cpp", 2), ("a.cpp", 9), ("a.cpp", 10), ("a.cpp", 12)} | {("c.cpp", n) for n in range(1, 10)}
        b = {("b.cpp", 2)}
        o = fuzz_compare.only_in(a, b)
        self.assertEqual(o["count"], 12)
        self.assertEqual(o["files"], {"a.cpp": 3, "c.cpp": 9})
        self.assertEqual(o["examples"], ["a.cpp:9-10", "a.cpp:12", "c.cpp:1-9"])
        self.assertEqual(fuzz_compare.only_in(b, a), {"count": 0, "files": {}, "examples": []})
        many = fuzz_compare.only_in({("d.cpp", n) for n in range(0, 40, 2)}, set())
        self.assertEqual(len(many["examples"]), fuzz_compare.EXAMPLES)
        self.assertTrue(fuzz_compare._examples(many).endswith("d.cpp:8, ..."))
        self.assertFalse(fuzz_compare._examples(o).endswith("..."))
        self.assertEqual(fuzz_compare.only_in({("a.cpp", 3, 0, 1)}, set())["examples"],
                         ["a.cpp:3 branch 1"])


class Summarize(unittest.TestCase):
    def test_canned_work_folder(self):
        d = temp_dir("compare")
        folder = make_target(d, "globset", LOG, CRASHED_LOG)
        fig = fuzz_compare.summarize(10, "1.0 2.0 3.0", [f"globset={folder}"], "/src/icsfuzz")
        t = fig["targets"][0]
        self.assertEqual(t["target"], "globset")
        self.assertEqual(set(t["modes"]), {"seeds", "structured", "byte"})
        s = t["modes"]["structured"]
        self.assertEqual((s["executions"], s["exec_per_s"], s["features"], s["corpus_files"],
                          s["corpus_bytes"]), (8123, 2030, 1622, 5, 2560))
        self.assertEqual(t["load"], "4.00 3.00 2.00 at the start, 5.00 4.00 3.00 at the end")
        self.assertEqual(s["lines"], {"covered": 60, "count": 100, "percent": 60.0})
        self.assertEqual(s["branches"]["percent"], 40.0)
        self.assertNotIn("executions", t["modes"]["seeds"])
        self.assertEqual(t["modes"]["byte"]["exit"], 1)
        self.assertEqual(t["only"]["structured"], {
            "count": 3, "files": {"engine/src/a.cpp": 2, "engine/src/b.cpp": 1},
            "examples": ["engine/src/a.cpp:2-3", "engine/src/b.cpp:7"],
            "branches": {"count": 2, "files": {"engine/src/b.cpp": 2},
                         "examples": ["engine/src/b.cpp:7 branch 0", "engine/src/b.cpp:7 branch 1"]}})
        self.assertEqual(t["only"]["byte"], {
            "count": 1, "files": {"engine/src/a.cpp": 1}, "examples": ["engine/src/a.cpp:4"],
            "branches": {"count": 1, "files": {"engine/src/a.cpp": 1},
                         "examples": ["engine/src/a.cpp:1 branch 1"]}})
        text = "\n".join(fuzz_compare.table(fig))
        self.assertIn("60.0 (60/100)", text)
        self.assertIn("8,123", text)
        self.assertIn("globset: 3 engine line(s) covered by structured and not byte "
                      "(a.cpp 2, b.cpp 1): engine/src/a.cpp:2-3, engine/src/b.cpp:7\n", text)
        self.assertIn("globset: 1 engine branch(es) taken by byte and not structured "
                      "(a.cpp 1): engine/src/a.cpp:1 branch 1\n", text)
        self.assertIn("load average 1.0 2.0 3.0", text)
        self.assertIn("globset: load average 4.00 3.00 2.00 at the start", text)

    def test_the_command_prints_the_table_and_writes_the_json(self):
        d = temp_dir("compare")
        folder = make_target(d, "idset", LOG, LOG)
        out = os.path.join(d, "compare.json")
        proc = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "ci/triage/fuzz_compare.py"),
                               "summarize", "--minutes", "0.5", "--load", "0.1 0.2 0.3",
                               "--root", "/src/icsfuzz", "--json", out, f"idset={folder}"],
                              capture_output=True, text=True, check=True)
        rows = [l for l in proc.stdout.splitlines() if l.startswith("idset ")]
        self.assertEqual([r.split()[1] for r in rows], ["seeds", "structured", "byte"])
        with open(out, encoding="utf-8") as f:
            data = json.load(f)
        self.assertEqual(data["minutes"], 0.5)
        self.assertIn("30 s per run, both modes at once from the same seeds", proc.stdout)
        self.assertEqual(data["targets"][0]["modes"]["byte"]["executions"], 8123)

    def test_missing_coverage_prints_question_marks(self):
        d = temp_dir("compare")
        folder = make_target(d, "fxstream", LOG, LOG)
        os.remove(os.path.join(folder, "byte", "summary.json"))
        fig = fuzz_compare.summarize(1, "", [f"fxstream={folder}"])
        self.assertIsNone(fig["targets"][0]["modes"]["byte"]["lines"]["percent"])
        row = [l for l in fuzz_compare.table(fig) if l.startswith("fxstream      byte")][0]
        self.assertIn("?", row)


if __name__ == "__main__":
    unittest.main()
