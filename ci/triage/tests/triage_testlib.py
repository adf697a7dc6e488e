"""Helpers shared by the ics-triage tests: paths, running the tool, marker lines."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.environ.get("TRIAGE_REPO_ROOT") or os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TOOL = os.path.join(REPO_ROOT, "ci", "ics-triage")
LOGS = os.path.join(HERE, "logs")
BUGGY = os.path.join(HERE, "buggy")
BIN_DIR = os.environ.get("TRIAGE_BIN_DIR", "")
TEST_PREFIX = "ci/triage/tests/"  # --source-prefix for the buggy programs' frames
SKIP = 77  # ctest SKIP_RETURN_CODE

sys.path.insert(0, os.path.join(REPO_ROOT, "ci"))


def temp_dir(prefix: str) -> str:
    """A temporary folder removed when the test process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path


def marker_line(source: str, name: str) -> int:
    """1-based line of the 'TRIAGE-MARK: name' comment in source."""
    with open(source, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.rstrip().endswith(f"TRIAGE-MARK: {name}"):
                return number
    raise AssertionError(f"no TRIAGE-MARK: {name} in {source}")


def run_tool(inputs: List[str], *extra: str, out: Optional[str] = None) -> Tuple[int, str, Dict]:
    """Run ci/ics-triage as a user would; (exit code, stdout+stderr, report.json or {})."""
    out = out or temp_dir("triage-out-")
    cmd = [sys.executable, TOOL, *inputs, "--out", out, "--repo-root", REPO_ROOT, *extra]
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         check=False)
    path = os.path.join(out, "report.json")
    report = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    report["_out"] = out
    return run.returncode, run.stdout, report


def by_type(report: Dict, type_: str) -> List[Dict]:
    return [f for f in report.get("findings", []) if f["type"] == type_]


def sanitizer_env(**extra: str) -> Dict[str, str]:
    """The environment for running a sanitized program: fixed options, whatever ctest set."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:symbolize=1:fast_unwind_on_malloc=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    env["LSAN_OPTIONS"] = ""
    env.update(extra)
    return env


def run_program(argv: List[str], log: str, timeout: int = 60, **env: str) -> int:
    """Run argv with sanitizer options, stdout+stderr into log; returns the exit code."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        run = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                             env=sanitizer_env(**env), check=False)
    return run.returncode


def require(flag: str, what: str) -> None:
    """Exit with ctest's skip code when the build could not make what a test needs."""
    if os.environ.get(flag) != "1" or not BIN_DIR:
        print(f"skipped: {what} ({flag}={os.environ.get(flag)!r})")
        sys.exit(SKIP)
