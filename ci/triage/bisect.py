"""`ics-triage bisect`: the first commit at which a finding's reproducer fails.

`git bisect run` over a throwaway worktree (git worktree add --detach in a temporary folder,
removed afterwards, whatever happens). Each step builds only the binary the reproducer needs
(fuzz_<target> or ics-stress, asan preset, ccache shared with the checkout) and replays it:
the step is bad when the finding's key comes back, good when not, skipped (exit 125) when the
commit does not build. --build and --check replace the build and the replay by shell commands
run in the worktree (--check: exit 0 = good, anything else = bad)."""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

from .replay import ReplayOptions, ReplayError, replay_once

SKIP = 125  # git bisect run: this commit cannot be tested
BUILD_DIR = "build/bisect"


class BisectError(Exception):
    pass


def default_build(spec: Dict[str, Any], fiber_dir: Optional[str]) -> str:
    """Configure the asan preset into build/bisect of the worktree, build one target."""
    target = f"fuzz_{spec['target']}" if spec.get("kind") == "fuzz" else "ics-stress"
    extra = f" -DICS_FIBER_ASAN_DIR={shlex.quote(fiber_dir)}" if fiber_dir else ""
    jobs = os.environ.get("JOBS", "2")
    return (f"( [ -f {BUILD_DIR}/build.ninja ] || cmake --preset asan -B {BUILD_DIR}{extra} )"
            f" >/dev/null && nice -n 15 cmake --build {BUILD_DIR} -j {jobs} --target {target}"
            " >/dev/null")


def git(repo: str, *args: str, check: bool = True) -> str:
    run = subprocess.run(["git", "-C", repo, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, check=False)
    if check and run.returncode:
        raise BisectError(f"git {' '.join(args)}: {run.stderr.strip()}")
    return run.stdout.strip()


def step(worktree: str, key: str, spec: Optional[Dict[str, Any]], build: str, check: str,
         timeout: int, runs: int) -> int:
    """One `git bisect run` step in `worktree`: 0 good, 1 bad, 125 skip."""
    env = dict(os.environ, CCACHE_BASEDIR=worktree, CCACHE_NOHASHDIR="1")
    if build and subprocess.run(["bash", "-c", build], cwd=worktree, env=env).returncode:
        print("ics-triage bisect: build failed; skipping this commit", file=sys.stderr)
        return SKIP
    if check:
        rc = subprocess.run(["bash", "-c", check], cwd=worktree, env=env).returncode
        return 0 if rc == 0 else 1
    build_dir = os.path.join(worktree, BUILD_DIR)
    opts = ReplayOptions(repo_root=worktree, binary_dirs=[build_dir], timeout=timeout,
                         stress_binary=os.path.join(build_dir, "stress", "ics-stress"))
    try:
        for _ in range(runs):  # bad as soon as one replay reproduces
            if replay_once(spec, key, opts)[0]:
                return 1
    except ReplayError as e:
        print(f"ics-triage bisect: {e}; skipping this commit", file=sys.stderr)
        return SKIP
    return 0


def _absolute_spec(spec: Dict[str, Any], repo: str) -> Dict[str, Any]:
    """Inputs are read from the checkout, not from the commit under test (which may not have
    corpus/findings/ yet)."""
    out = dict(spec)
    if out.get("input") and not os.path.isabs(out["input"]):
        out["input"] = os.path.join(repo, out["input"])
    return out


def bisect(repo: str, good: str, bad: str, key: str, spec: Optional[Dict[str, Any]],
           build: str, check: str, timeout: int = 300, runs: int = 1) -> Dict[str, Any]:
    """Runs the bisection; {commit, subject, steps, seconds, good, bad, log}."""
    tool = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ics-triage")
    good, bad = git(repo, "rev-parse", "--verify", good + "^{commit}"), \
        git(repo, "rev-parse", "--verify", bad + "^{commit}")
    parent = tempfile.mkdtemp(prefix="ics-bisect-")
    worktree = os.path.join(parent, "wt")
    start = time.monotonic()
    step_file = os.path.join(parent, "step.json")
    with open(step_file, "w", encoding="utf-8") as f:
        json.dump({"key": key, "spec": _absolute_spec(spec, repo) if spec else None,
                   "build": build, "check": check, "timeout": timeout, "runs": runs}, f)
    print(f"ics-triage bisect: worktree {worktree}, good {good[:12]}, bad {bad[:12]}",
          file=sys.stderr)
    git(repo, "worktree", "add", "--detach", worktree, bad)
    try:
        # git bisect takes BAD as bad without testing it: test it, or an unreproducible
        # finding would "bisect" to BAD
        first = step(worktree, key, _absolute_spec(spec, repo) if spec else None, build, check,
                     timeout, runs)
        if first != 1:
            raise BisectError(f"the reproducer does not fail at {bad[:12]} "
                              + ("(it does not build)" if first == SKIP else "(good there)"))
        git(worktree, "bisect", "start", bad, good)
        run = subprocess.run(["git", "-C", worktree, "bisect", "run", sys.executable, tool,
                              "bisect-step", step_file], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, check=False)
        log = run.stdout
        git(worktree, "bisect", "reset", check=False)
    finally:
        git(repo, "worktree", "remove", "--force", worktree, check=False)
        shutil.rmtree(parent, ignore_errors=True)
        git(repo, "worktree", "prune", check=False)
    seconds = time.monotonic() - start
    m = re.search(r"^([0-9a-f]{40}) is the first bad commit", log, re.M)
    steps = len(re.findall(r"^running ", log, re.M))
    if not m:
        tail = "\n".join(log.strip().splitlines()[-8:])
        raise BisectError(f"git bisect found no first bad commit ({steps} steps):\n{tail}")
    commit = m.group(1)
    return {"commit": commit, "subject": git(repo, "log", "-1", "--format=%s", commit),
            "steps": steps, "seconds": round(seconds, 1), "good": good, "bad": bad}


def run_step(step_file: str) -> int:
    with open(step_file, encoding="utf-8") as f:
        s = json.load(f)
    return step(os.getcwd(), s["key"], s["spec"], s["build"], s["check"], s["timeout"],
                s["runs"])


def report_lines(result: Dict[str, Any], key: str) -> List[str]:
    return ["## Bisection", "",
            f"- finding: `{key}`",
            f"- first bad commit: `{result['commit']}` {result['subject']}",
            f"- between good `{result['good'][:12]}` and bad `{result['bad'][:12]}`: "
            f"{result['steps']} step(s), {result['seconds']} s", ""]
