"""ics-triage on REAL libFuzzer output (clang builds only; exit 77 with g++): a crash found
while fuzzing, a timeout, a broken oracle; the same bugs replayed by the project's replay
driver must get the same keys; --minimize runs -minimize_crash=1 and the printed command
reproduces the crash."""
import os
import shlex
import subprocess
import unittest

from triage_testlib import (temp_dir, BIN_DIR, TEST_PREFIX, by_type, require, run_program, run_tool,
                            sanitizer_env)

NOISE = b"R" + bytes(range(1, 64))


class LibFuzzerTriageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = temp_dir("triage-lf-")
        cls.fuzzer = os.path.join(BIN_DIR, "fuzz_triage_buggy")
        replay = os.path.join(BIN_DIR, "triage_replay_buggy")
        corpus = cls.write("corpus/seed-read", NOISE)
        timeout_in = cls.write("inputs/slow", b"T")
        oracle_in = cls.write("inputs/oracle", b"O")
        logs = os.path.join(cls.work, "logs")
        art = os.path.join(cls.work, "artifacts") + "/"
        os.makedirs(art)
        cls.exit = {
            "fuzz": run_program([cls.fuzzer, f"-artifact_prefix={art}", "-runs=100",
                                 os.path.dirname(corpus)], f"{logs}/fuzz_triage_buggy.log"),
            "timeout": run_program([cls.fuzzer, "-timeout=1", timeout_in], f"{logs}/timeout.log"),
            "oracle": run_program([cls.fuzzer, oracle_in], f"{logs}/oracle.log"),
            "replay-read": run_program([replay, corpus], f"{logs}/replay-read.log"),
            "replay-oracle": run_program([replay, oracle_in], f"{logs}/replay-oracle.log"),
        }
        cls.artifacts = sorted(os.listdir(art))
        cls.logs, cls.art = logs, art
        cls.rc, cls.out, cls.report = run_tool([logs], "--source-prefix", TEST_PREFIX)

    @classmethod
    def write(cls, rel, data):
        path = os.path.join(cls.work, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_fuzzer_found_the_crash(self):
        self.assertEqual(len(self.artifacts), 1, self.artifacts)
        self.assertTrue(self.artifacts[0].startswith("crash-"))
        self.assertEqual(self.exit["timeout"], 70)  # libFuzzer's -timeout_exitcode

    def test_libfuzzer_and_replay_driver_share_keys(self):
        read = by_type(self.report, "Heap-buffer-overflow READ 1")
        self.assertEqual(len(read), 1, self.out)
        self.assertEqual(read[0]["state"], ["peek_past", "LLVMFuzzerTestOneInput"])
        self.assertEqual(read[0]["count"], 2)
        oracle = by_type(self.report, "Oracle-failure")
        self.assertEqual(len(oracle), 1, self.out)
        self.assertEqual(oracle[0]["count"], 2)
        self.assertTrue(any("check_roundtrip" in line for line in oracle[0]["stack"]))

    def test_timeout(self):
        (f,) = by_type(self.report, "Timeout")
        self.assertEqual(f["state"], ["spin", "LLVMFuzzerTestOneInput"])
        self.assertEqual(f["details"]["timeout_s"], 1)
        self.assertIn("-timeout=1", f["reproducer"]["command"])

    def test_minimize_and_reproduce(self):
        crash_log = os.path.join(self.logs, "fuzz_triage_buggy.log")
        rc, out, report = run_tool([crash_log], "--minimize", "--binary-dir", BIN_DIR,
                                   "--minimize-runs", "2000", "--minimize-seconds", "30")
        (f,) = report["findings"]
        rep = f["reproducer"]
        self.assertEqual(rep["input"], os.path.join(self.art, self.artifacts[0]))
        self.assertEqual(rep["binary"], self.fuzzer)
        self.assertEqual(rep["minimize_status"], "minimized", out)
        self.assertLess(rep["minimized_bytes"], len(NOISE))
        with open(rep["minimized"], "rb") as m:
            self.assertEqual(m.read(1), b"R")
        argv = shlex.split(rep["command"])
        self.assertEqual((argv[0], argv[-1]), (self.fuzzer, rep["minimized"]))
        run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=sanitizer_env(), timeout=60, check=False)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("ERROR: AddressSanitizer: heap-buffer-overflow", run.stdout)
        self.assertIn("READ of size 1", run.stdout)

    def test_reliability_of_the_crash_and_the_timeout(self):
        # the crash and the timeout replay with the libFuzzer binary that found them, from the
        # artifact, the timeout with -timeout=1: both every time
        rc, out, report = run_tool([self.logs], "--binary-dir", BIN_DIR, "--reliability", "3",
                                   "--source-prefix", TEST_PREFIX)
        read = by_type(report, "Heap-buffer-overflow READ 1")[0]
        self.assertEqual(read["reproducer"]["replay"]["kind"], "fuzz")
        self.assertEqual(read["reliability"]["label"], "reproduced 3/3", out)
        timeout = by_type(report, "Timeout")[0]
        self.assertEqual(timeout["reproducer"]["replay"]["flags"], ["-timeout=1"])
        self.assertEqual(timeout["reliability"]["label"], "reproduced 3/3", out)


if __name__ == "__main__":
    require("TRIAGE_HAVE_LIBFUZZER", "libFuzzer needs clang")
    unittest.main()
