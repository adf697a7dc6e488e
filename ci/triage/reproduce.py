"""Reproducers: the input that triggered a finding, the fuzz target and binary, the exact
command that replays it, and an optional libFuzzer -minimize_crash run."""
import os
import re
import shlex
import subprocess
from typing import Dict, List, Optional

from .model import Finding, Occurrence

ARTIFACT_PREFIXES = ("crash-", "leak-", "timeout-", "oom-", "slow-unit-", "minimized-from-")
DEFAULT_BINARY = "build/fuzz/fuzz/fuzz_{target}"  # the fuzz preset's layout
_TARGET_SOURCE = re.compile(r"(?:^|/)fuzz_(\w+)\.(?:cpp|cc|c)$")
_TARGET_NAME = re.compile(r"(?:^|[/_-])fuzz_(\w+?)(?:\.log|\.txt|$)")


def resolve_input(occ: Occurrence, search_dirs: List[str]) -> Optional[str]:
    """The artifact or 'Running:' input of occ as an existing path, if it can be found."""
    base = os.path.dirname(os.path.abspath(occ.source)) if occ.source else os.getcwd()
    for printed in (occ.artifact, occ.running):
        if not printed:
            continue
        tries = [printed] if os.path.isabs(printed) else [os.path.join(base, printed)]
        tries += [os.path.join(d, os.path.basename(printed)) for d in [base] + search_dirs]
        tries.append(os.path.abspath(printed))  # relative to where ics-triage runs
        for path in tries:
            if os.path.isfile(path):
                return os.path.abspath(path)
    return None


def fuzz_target(occ: Occurrence, override: Optional[str]) -> Optional[str]:
    """The fuzz target: --target, else the source file of LLVMFuzzerTestOneInput or any
    fuzz_<what>.cpp frame, else the log's name (fuzz_<what>.log) or folder (fuzz-work/<what>/)."""
    if override:
        return override
    for frame in occ.frames:
        m = _TARGET_SOURCE.search(frame.file)
        if m:
            return m.group(1)
    for path in (occ.source, occ.artifact or ""):
        m = _TARGET_NAME.search(os.path.basename(path))
        if m:
            return m.group(1)
        parts = os.path.normpath(path).split(os.sep)
        if "fuzz-work" in parts[:-1]:
            i = parts.index("fuzz-work")
            if i + 1 < len(parts) - 1:
                return parts[i + 1]
    return None


def find_binary(target: str, binary_dirs: List[str]) -> Optional[str]:
    for d in binary_dirs:
        for path in (os.path.join(d, f"fuzz_{target}"), os.path.join(d, "fuzz", f"fuzz_{target}")):
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return os.path.abspath(path)
    return None


def is_libfuzzer(binary: str) -> bool:
    """libFuzzer binaries carry their flag table; the replay driver does not."""
    with open(binary, "rb") as f:
        return b"minimize_crash" in f.read()


def replay_flags(finding: Finding) -> List[str]:
    d = finding.first.details
    if finding.type == "Timeout":
        return [f"-timeout={d.get('timeout_s', 25)}"]
    if finding.type == "Out-of-memory" and "rss_limit_mb" in d:
        return [f"-rss_limit_mb={d['rss_limit_mb']}"]
    if finding.type == "Out-of-memory" and "malloc_bytes" in d:
        return [f"-malloc_limit_mb={max(1, d['malloc_bytes'] // (1 << 20) - 1)}"]
    if finding.type.endswith("-leak"):
        return ["-detect_leaks=1"]
    return []


def minimize(binary: str, flags: List[str], data: str, out_path: str, runs: int,
             seconds: int) -> Dict[str, object]:
    """Run libFuzzer's crash minimiser; returns {minimized, minimized_bytes, minimize_status}."""
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    cmd = [binary, "-minimize_crash=1", f"-runs={runs}", f"-max_total_time={seconds}",
           f"-exact_artifact_path={out_path}", *flags, data]
    try:
        run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=seconds + 60, check=False)
    except subprocess.TimeoutExpired:
        return {"minimize_status": f"skipped: no result within {seconds + 60} s"}
    if not os.path.isfile(out_path):
        tail = run.stdout.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return {"minimize_status": f"failed (exit {run.returncode}): {tail[0]}"}
    return {"minimized": out_path, "minimized_bytes": os.path.getsize(out_path),
            "minimize_status": "minimized"}


def _command(finding: Finding, binary: Optional[str], data: Optional[str]) -> Optional[str]:
    occ = finding.first
    if occ.command:
        return occ.command
    target = finding.reproducer.get("target")
    if target and data:
        exe = binary or DEFAULT_BINARY.format(target=target)
        return shlex.join([exe, *replay_flags(finding), data])
    if occ.gtest:
        return f"ctest -R '^{occ.gtest}$' --output-on-failure"
    return None


def describe(finding: Finding, opts) -> None:
    """Fill finding.reproducer: target, input, binary, command, and a minimised input when
    asked (--minimize) for a new or regressed finding with a libFuzzer binary at hand."""
    occ = finding.first
    rep = finding.reproducer
    rep["target"] = fuzz_target(occ, opts.target)
    inputs = {p for p in (resolve_input(o, opts.search_dirs) for o in finding.occurrences) if p}
    data = min(inputs, key=lambda p: (os.path.getsize(p), p)) if inputs else None  # smallest
    rep["input"] = data
    binary = find_binary(rep["target"], opts.binary_dirs) if rep["target"] else None
    rep["binary"] = binary
    printed = next((o.artifact or o.running for o in finding.occurrences
                    if o.artifact or o.running), None)
    rep["command"] = _command(finding, binary, data or printed)
    if not opts.minimize or finding.status == "known":
        return
    if not (data and binary):
        rep["minimize_status"] = "skipped: " + ("no input" if not data else "no binary")
    elif not is_libfuzzer(binary):
        rep["minimize_status"] = "skipped: not a libFuzzer binary"
    else:
        out = os.path.join(opts.out_dir or ".", "repro", f"{finding.id}.min")
        rep.update(minimize(binary, replay_flags(finding), data, out, opts.minimize_runs,
                            opts.minimize_seconds))
        if rep.get("minimized"):
            rep["command"] = shlex.join([binary, *replay_flags(finding), rep["minimized"]])
