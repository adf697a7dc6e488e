"""Tests of ci/mutants: the mutator on a fixture, the runner on a tiny program, the report.
Run: python3 -m unittest discover -s ci/mutation/tests (ctest: mutants.unit)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
from mutation import mutator, report, runner  # noqa: E402

with open(os.path.join(HERE, "fixture.cpp")) as f:
    FIXTURE = f.read()


def edits(text):
    return sorted((m.op, m.line, m.after) for m in mutator.mutants_of("fixture.cpp", text))


class HarnessOrderTest(unittest.TestCase):
    def test_the_order_is_the_bug_zoo_s_and_names_every_harness(self):
        order = runner.harness_order(["globset"])
        names = [name for name, fn, kind in order]
        self.assertEqual(names[:5], ["regression", "unit", "regression-asan", "unit-asan",
                                     "fuzz:globset"])
        scenarios = runner.zoo.STRESS_SCENARIOS
        self.assertEqual(names[5:], [f"stress:{s}" for s in scenarios] +
                         [f"stress-threads:{s}" for s in scenarios])
        self.assertTrue(all(callable(fn) for name, fn, kind in order))


class MutatorTest(unittest.TestCase):
    def test_every_operator_gives_the_expected_edits(self):
        expected = [
            ("and-or", 12, "if (x < 4 || x != 2) b.items_.push_back(x);"),
            ("break-continue", 16, "if (i == 3) continue;"),
            ("const-01", 8, "int count_ = 1;"),
            ("const-01", 13, "b.count_ = x - 0;"),
            ("const-01", 15, "for (int i = 1; i < x; ++i) {"),
            ("const-01", 27, "return 1;"),
            ("early-return", 11, "Status keep(Box& b, int x) { return ok_status();"),
            ("eq-neq", 12, "if (x < 4 && x == 2) b.items_.push_back(x);"),
            ("eq-neq", 16, "if (i != 3) break;"),
            ("negate-cond", 12, "if (!(x < 4 && x != 2)) b.items_.push_back(x);"),
            ("negate-cond", 16, "if (!(i == 3)) break;"),
            ("plus-minus-one", 12, "if (x < 4 + 1 && x != 2) b.items_.push_back(x);"),
            ("plus-minus-one", 13, "b.count_ = x;"),
            ("plus-minus-one", 15, "for (int i = 0; i < x + 1; ++i) {"),
            ("rel-boundary", 12, "if (x <= 4 && x != 2) b.items_.push_back(x);"),
            ("rel-boundary", 15, "for (int i = 0; i <= x; ++i) {"),
            ("remove-call", 13, "{}"),
            ("remove-if-body", 12, "if (x < 4 && x != 2) {}"),  # remove-call's edit too: one
            ("remove-if-body", 16, "if (i == 3) {}"),
        ]
        self.assertEqual(edits(FIXTURE), sorted(expected))

    def test_comments_strings_directives_and_seeded_blocks_are_never_mutated(self):
        lines = FIXTURE.split("\n")
        for m in mutator.mutants_of("fixture.cpp", FIXTURE):
            self.assertNotIn(m.line, (1, 2, 4, 14, 22, 23, 24, 25, 26), m)
            self.assertFalse(lines[m.line - 1].lstrip().startswith(("//", "#")), m)

    def test_mask_keeps_length_and_blanks_literals(self):
        code, frozen = mutator.mask(FIXTURE)
        self.assertEqual(len(code), len(FIXTURE))
        self.assertEqual(code.count("\n"), FIXTURE.count("\n"))
        self.assertNotIn("x == 2", code.split("\n")[13])
        self.assertEqual(frozen, {22, 23, 24, 25, 26})

    def test_ids_survive_unrelated_edits_and_are_unique(self):
        a = {m.id: (m.op, m.after) for m in mutator.mutants_of("fixture.cpp", FIXTURE)}
        shifted = "// one more line\n\n" + FIXTURE
        b = {m.id: (m.op, m.after) for m in mutator.mutants_of("fixture.cpp", shifted)}
        self.assertEqual(a, b)
        self.assertEqual(len(a), len(mutator.mutants_of("fixture.cpp", FIXTURE)))

    def test_apply_changes_exactly_one_place(self):
        for m in mutator.mutants_of("fixture.cpp", FIXTURE):
            out = m.apply(FIXTURE).split("\n")
            changed = [i for i, (x, y) in enumerate(zip(FIXTURE.split("\n"), out)) if x != y]
            self.assertEqual(changed, [m.line - 1], m)

    def test_sample_is_deterministic_and_spread_over_files(self):
        ms = []
        for name, n in (("a.cpp", 1), ("b.cpp", 1), ("c.cpp", 5)):
            ms += mutator.mutants_of(name, FIXTURE)[:n]
        s1 = mutator.sample(ms, 4, seed=3)
        self.assertEqual([m.id for m in s1], [m.id for m in mutator.sample(ms, 4, seed=3)])
        self.assertEqual({m.file for m in s1}, {"a.cpp", "b.cpp", "c.cpp"})
        self.assertEqual(len(s1), 4)


TINY = """#include <cstdio>
int clamp(int x) {
  if (x < 0) return 0;
  return x;
}
int unused(int x) {
  if (x > 9) return 9;
  return x;
}
int main() {
  if (clamp(-5) != 0 || clamp(3) != 3) { std::puts("clamp is wrong"); return 1; }
  return 0;
}
"""


class TinySlot:
    """A slot whose build is one g++ call: the runner's interface without CMake."""

    def __init__(self, root):
        self.src = root
        self.build_seconds = 0.0
        self.failed_build = None

    def reset(self):
        self.failed_build = None

    def build(self, flavour, targets):
        rc = subprocess.run(["g++", "-O0", "-o", os.path.join(self.src, "tiny"),
                             os.path.join(self.src, "tiny.cpp")],
                            stderr=subprocess.DEVNULL).returncode
        if rc:
            self.failed_build = flavour
        return rc == 0


def tiny_test(v, work, seconds):
    if not v.build("default", ["tiny"]):
        return None
    return [os.path.join(v.src, "tiny")], None


@unittest.skipUnless(shutil.which("g++"), "needs g++")
class RunnerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        with open(os.path.join(self.dir, "tiny.cpp"), "w") as f:
            f.write(TINY)
        self.slot = TinySlot(self.dir)
        self.order = [("unit", tiny_test, "cheap")]
        self.mutants = mutator.mutants_of("tiny.cpp", TINY)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def one(self, line, op):
        ms = [m for m in self.mutants if m.line == line and m.op == op]
        self.assertTrue(ms, (line, op))
        return runner.run_mutant(self.slot, ms[0], os.path.join(self.dir, "out", ms[0].id),
                                 30, self.order)

    def test_a_mutant_the_test_sees_is_killed_and_the_file_restored(self):
        r = self.one(3, "negate-cond")
        self.assertEqual(r["status"], "killed")
        self.assertEqual(r["by"], "unit")
        with open(os.path.join(self.dir, "tiny.cpp")) as f:
            self.assertEqual(f.read(), TINY)
        with open(os.path.join(self.dir, "out", r["id"], "result.json")) as f:
            self.assertEqual(json.load(f)["status"], "killed")

    def test_a_mutant_no_test_reaches_survives(self):
        self.assertEqual(self.one(7, "rel-boundary")["status"], "survived")

    def test_a_mutant_that_does_not_compile_is_counted_apart(self):
        m = mutator.Mutant("tiny.cpp", 3, "custom", 0, 0, "this does not compile;", "", "")
        r = runner.run_mutant(self.slot, m, os.path.join(self.dir, "out", "x"), 30, self.order)
        self.assertEqual(r["status"], "no-compile")


class ReportTest(unittest.TestCase):
    def test_score_leaves_out_equivalent_and_uncompiled_mutants(self):
        def r(mid, status, by=None, seconds=None):
            return {"id": mid, "file": "f.cpp", "line": 1, "op": "eq-neq", "status": status,
                    "by": by, "seconds": seconds, "diff": "-a\n+b\n", "runs": []}
        results = [r("a", "killed", "unit", 2.0), r("b", "killed", "fuzz:idset", 10.0),
                   r("c", "timeout", "unit"), r("d", "survived"), r("e", "survived"),
                   r("f", "no-compile")]
        s = report.summarise(results, {"e": "a copy that is never read"})
        self.assertEqual(s["counts"], {"killed": 2, "timeout": 1, "survived": 1,
                                       "equivalent": 1, "no-compile": 1})
        self.assertEqual(s["score"], 0.75)
        self.assertEqual(s["median_seconds_to_kill"], 6.0)
        self.assertEqual(s["killed_by_family"], {"unit": 1, "fuzz": 1})
        md = report.markdown(s, results)
        self.assertIn("75.0 %", md)
        self.assertIn("### d f.cpp:1", md)
        self.assertNotIn("### e f.cpp:1", md)

    def test_equivalent_file_format(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("# comment\n\nabc123 engine/src/x.cpp:4 the value is never read\n")
        try:
            self.assertEqual(report.load_equivalent(f.name),
                             {"abc123": "the value is never read"})
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
