"""ci/fuzz-speed's figures (ci/triage/speed.py): reading libFuzzer's final stats, the ratio to
the empty target, and the nightly's comparison of two reports (a drop of 20 % or more in a
target's ratio is flagged, less is not, targets new tonight or without a figure are skipped)."""
import json
import os
import subprocess
import sys
import unittest

from triage_testlib import temp_dir, REPO_ROOT

from triage import speed
from triage.reports import to_markdown


def report_with(ratios):
    return {"run": {"speed": {"seconds": 5, "load": "", "empty": {"exec_per_s": 1000},
                              "targets": [{"target": t, "ratio": r, "exec_per_s": None}
                                          for t, r in ratios.items()]}}}


class Summarize(unittest.TestCase):
    def test_ratio_to_the_mean_of_the_empty_runs(self):
        d = temp_dir("speed")
        def write(name, text):
            path = os.path.join(d, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return path
        first = write("e1.log", "stat::number_of_executed_units: 9000\nstat::average_exec_per_sec: 900\nexit=0\n")
        last = write("e2.log", "stat::average_exec_per_sec: 1100\nexit=0\n")
        t = write("t.log", "INFO: ...\nstat::number_of_executed_units: 250\nstat::average_exec_per_sec: 50\nexit=0\n")
        broken = write("b.log", "==1==ERROR: AddressSanitizer\nexit=1\n")
        s = speed.summarize(5, "1.0 1.0 1.0", [first, last], [f"globset={t}", f"idset={broken}"])
        self.assertEqual(s["empty"], {"first": 900, "last": 1100, "exec_per_s": 1000})
        self.assertEqual(s["targets"][0], {"target": "globset", "exec_per_s": 50, "runs": 250,
                                           "ratio": 0.05, "exit": 0})
        self.assertEqual(s["targets"][1]["exec_per_s"], None)
        self.assertEqual(s["targets"][1]["ratio"], None)
        self.assertEqual(s["targets"][1]["exit"], 1)
        self.assertIn("globset", "\n".join(speed.table(s)))


class Drops(unittest.TestCase):
    def test_two_synthetic_reports(self):
        previous = report_with({"globset": 0.40, "idset": 0.10, "import": 0.010, "gone": 0.5,
                                "nofigure": 0.2})
        current = report_with({"globset": 0.32, "idset": 0.0801, "import": 0.002, "new": 0.1,
                               "nofigure": None})
        d = temp_dir("speed")
        prev_path = os.path.join(d, "report.json")
        run_path = os.path.join(d, "run.json")
        speed_path = os.path.join(d, "speed.json")
        with open(prev_path, "w", encoding="utf-8") as f:
            json.dump(previous, f)
        with open(run_path, "w", encoding="utf-8") as f:
            json.dump({"fuzz": []}, f)
        with open(speed_path, "w", encoding="utf-8") as f:
            json.dump(current["run"]["speed"], f)
        out = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "ci/triage/speed.py"), "merge",
                              run_path, speed_path, prev_path], capture_output=True, text=True)
        with open(run_path, encoding="utf-8") as f:
            run = json.load(f)
        self.assertEqual(out.returncode, 0, out.stderr)
        # globset -20 % exactly: flagged; idset -19.9 %: not; import -80 %: flagged.
        self.assertEqual([d["target"] for d in run["speed"]["drops"]], ["globset", "import"])
        self.assertAlmostEqual(run["speed"]["drops"][1]["change"], -0.8)
        self.assertIn("speed drop: globset", out.stderr)
        self.assertNotIn("idset", out.stderr)
        md = to_markdown([], 0, {}, run=run)
        self.assertIn("globset", md)
        self.assertIn("**-80% since the previous night**", md)

    def test_no_previous_report_flags_nothing(self):
        self.assertEqual(speed.drops(None, report_with({"globset": 0.1})["run"]["speed"]), [])
        self.assertEqual(speed.previous_speed("/nonexistent/report.json"), None)


if __name__ == "__main__":
    unittest.main()
