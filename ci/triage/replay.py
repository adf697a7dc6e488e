"""Replaying a finding: run its reproducer and say whether the same finding (same key) came
back. Used for reliability (reproduced k/N on the build that found it), fix verification
(`ics-triage verify`) and bisection (`ics-triage bisect`).

A reproducer spec is a small JSON object, kept with a known finding and in report.json:
  {"kind": "fuzz", "target": "globset", "input": "corpus/findings/<id>/input", "flags": [...]}
      the fuzz target's binary (libFuzzer or replay driver) on one input
  {"kind": "stress", "argv": ["ics-stress", "--scenario", "mixed", ..., "--seed", "7"]}
      ics-stress from its seed, always with --threads 1 (one thread replays exactly)
  {"kind": "command", "command": "shell command"}   anything else (tests, hand-made checks)
Relative paths (inputs, commands) are relative to the repository root."""
import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from .grouping import state_of
from .model import make_key
from .reproduce import find_binary, replay_flags
from .sanitizer_logs import parse_log
from .stress_json import load_json, looks_like_stress, parse_stress

DEFAULT_RUNS = 10
DEFAULT_TIMEOUT = 120
ASAN_DEFAULT = "detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=1"
STRESS_DROP = {"--threads": 1, "--json": 1, "--quiet": 0}  # flag -> operands it takes


class ReplayError(Exception):
    """The reproducer cannot run here (no binary, no input)."""


@dataclass
class ReplayOptions:
    repo_root: str
    binary_dirs: List[str] = field(default_factory=list)
    stress_binary: Optional[str] = None  # overrides argv[0] of stress specs
    timeout: int = DEFAULT_TIMEOUT
    keep_templates: bool = False


def spec_of(finding) -> Optional[Dict[str, Any]]:
    """The reproducer spec of a fresh finding: its fuzz target and (minimised) input, or the
    ics-stress command of its run; None when there is neither."""
    rep = finding.reproducer
    data = rep.get("minimized") or rep.get("input")
    if rep.get("target") and data:
        return {"kind": "fuzz", "target": rep["target"], "input": data,
                "flags": replay_flags(finding)}
    command = finding.first.command
    if command and finding.type in ("Memory-growth", "Divergence", "Unexpected-error"):
        return {"kind": "stress", "argv": shlex.split(command)}
    return None


def stress_argv(argv: List[str], binary: Optional[str], json_path: str) -> List[str]:
    """argv with one thread, its own JSON file and no progress line."""
    out = [binary or argv[0]]
    i = 1
    while i < len(argv):
        skip = STRESS_DROP.get(argv[i])
        if skip is None:
            out.append(argv[i])
            i += 1
        else:
            i += 1 + skip
    return out + ["--threads", "1", "--json", json_path, "--quiet"]


def _path(repo_root: str, path: str) -> str:
    return path if os.path.isabs(path) else os.path.join(repo_root, path)


def argv_of(spec: Dict[str, Any], opts: ReplayOptions, work: str) -> List[str]:
    kind = spec.get("kind")
    if kind == "fuzz":
        binary = find_binary(spec["target"], opts.binary_dirs)
        if not binary:
            raise ReplayError(f"no fuzz_{spec['target']} in {opts.binary_dirs or 'no --binary-dir'}")
        data = _path(opts.repo_root, spec["input"])
        if not os.path.isfile(data):
            raise ReplayError(f"no input {data}")
        return [binary, *spec.get("flags", []), data]
    if kind == "stress":
        # absolute: the replay runs in the checkout, wherever ics-triage was started
        binary = os.path.abspath(opts.stress_binary or _path(opts.repo_root, spec["argv"][0]))
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise ReplayError(f"no ics-stress binary {binary}")
        return stress_argv(spec["argv"], binary, os.path.join(work, "replay.json"))
    if kind == "command":
        return ["bash", "-c", spec["command"]]
    raise ReplayError(f"unknown reproducer kind {kind!r}")


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", ASAN_DEFAULT)
    env["UBSAN_OPTIONS"] = ":".join(filter(None, [env.get("UBSAN_OPTIONS", ""),
                                                  "print_stacktrace=1"]))
    return env


def keys_in(output: str, json_path: Optional[str], target: Optional[str],
            keep_templates: bool = False) -> Set[str]:
    """The finding keys in one run's output (and its ics-stress JSON)."""
    occs = parse_log(output, "replay")
    if json_path and os.path.isfile(json_path):
        with open(json_path, encoding="utf-8", errors="replace") as f:
            doc = load_json(f.read())
        if looks_like_stress(doc):
            occs += parse_stress(doc, json_path)
    return {make_key(o.type, state_of(o, keep_templates, target)) for o in occs}


def replay_once(spec: Dict[str, Any], key: str, opts: ReplayOptions) -> Tuple[bool, str]:
    """(did `key` come back, what happened in a few words). Raises ReplayError."""
    with tempfile.TemporaryDirectory(prefix="ics-replay-") as work:
        argv = argv_of(spec, opts, work)
        try:
            run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 cwd=opts.repo_root, env=_env(), timeout=opts.timeout,
                                 check=False)
        except subprocess.TimeoutExpired:
            return False, f"no result within {opts.timeout} s"
        except OSError as e:
            raise ReplayError(f"cannot run {argv[0]}: {e}") from e
        output = run.stdout.decode(errors="replace")
        keys = keys_in(output, os.path.join(work, "replay.json"), spec.get("target"),
                       opts.keep_templates)
    if key in keys:
        return True, "reproduced"
    return False, f"exit {run.returncode}, " + (f"other finding(s): {sorted(keys)[:2]}" if keys
                                                else "no finding")


def reliability(spec: Optional[Dict[str, Any]], key: str, runs: int, opts: ReplayOptions,
                stop_on_first: bool = False) -> Dict[str, Any]:
    """Replay `runs` times: {runs, reproduced, flaky, label, last}; with stop_on_first, stop
    at the first reproduction (verify only needs "still there"). `error` when it cannot run."""
    if not spec:
        return {"runs": 0, "reproduced": 0, "flaky": False, "label": "not replayed: no reproducer",
                "error": "no reproducer"}
    done = hits = 0
    last = ""
    try:
        for _ in range(runs):
            ok, last = replay_once(spec, key, opts)
            done += 1
            hits += ok
            if ok and stop_on_first:
                break
    except ReplayError as e:
        return {"runs": done, "reproduced": hits, "flaky": False,
                "label": f"not replayed: {e}", "error": str(e)}
    flaky = hits < done and not stop_on_first  # below k/N = 1, even 0/N: never dropped
    label = f"reproduced {hits}/{done}" + (" (flaky)" if flaky else "")
    return {"runs": done, "reproduced": hits, "flaky": flaky, "label": label, "last": last}
