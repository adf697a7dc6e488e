"""Reproducers: the input that triggered a finding, the fuzz target and binary, the exact
command that replays it, and an optional libFuzzer -minimize_crash run."""
import os
import shlex
import signal
import subprocess
from typing import Dict, List, Optional

from .grouping import state_of
from .model import Finding, Occurrence
from .sanitizer_logs import parse_log
from .targets import fuzz_target

ARTIFACT_PREFIXES = ("crash-", "leak-", "timeout-", "oom-", "slow-unit-", "minimized-from-")
DEFAULT_BINARY = "build/fuzz/fuzz/fuzz_{target}"  # the fuzz preset's layout


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


def _run(cmd: List[str], seconds: int, env: Dict[str, str]) -> Optional[str]:
    """Output of cmd, or None when it outlived `seconds`; the whole process group goes then
    (-minimize_crash runs its steps as child processes)."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                          start_new_session=True) as proc:
        try:
            return proc.communicate(timeout=seconds)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None


def _quiet_env() -> Dict[str, str]:
    """Minimisation steps only need 'it crashed': no symbolising, which is most of their time."""
    env = dict(os.environ)
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env[var] = ":".join(filter(None, [env.get(var, ""), "symbolize=0"]))
    return env


def minimize(binary: str, flags: List[str], data: str, out_path: str, runs: int,
             seconds: int) -> Dict[str, object]:
    """Run libFuzzer's crash minimiser; returns {minimized, minimized_bytes, minimize_status}.
    When time runs out, the smallest crashing input found so far is kept."""
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    if os.path.exists(out_path):
        os.remove(out_path)
    cmd = [binary, "-minimize_crash=1", f"-runs={runs}", f"-max_total_time={seconds}",
           f"-exact_artifact_path={out_path}", *flags, data]
    output = _run(cmd, seconds + 30, _quiet_env())
    if not os.path.isfile(out_path):
        why = "no result within {} s".format(seconds + 30) if output is None else \
            (output.strip().splitlines()[-1:] or ["no output"])[0]
        return {"minimize_status": f"failed: {why}"}
    status = "minimized" if output is not None else f"minimized (stopped after {seconds + 30} s)"
    return {"minimized": out_path, "minimized_bytes": os.path.getsize(out_path),
            "minimize_status": status}


def _replay_env() -> Dict[str, str]:
    """Replays need stacks (UBSan prints none by default) to compute the crash state."""
    env = dict(os.environ)
    env["UBSAN_OPTIONS"] = ":".join(filter(None, [env.get("UBSAN_OPTIONS", ""),
                                                  "print_stacktrace=1"]))
    return env


def same_bug(finding: Finding, binary: str, data: str, keep_templates: bool) -> bool:
    """Does `binary data` still give this finding's type and state? -minimize_crash keeps any
    crash, and a smaller input may crash somewhere else."""
    output = _run([binary, *replay_flags(finding), data], 120, _replay_env())
    target = finding.reproducer.get("target")
    for occ in parse_log(output or "", data):
        if occ.type == finding.type and state_of(occ, keep_templates, target) == finding.state:
            return True
    return False


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
        if rep.get("minimized") and not same_bug(finding, binary, rep["minimized"],
                                                 opts.keep_template_args):
            rep["minimize_status"] = "discarded: the minimised input crashes differently"
            rep["minimized"] = rep["minimized_bytes"] = None
        if rep.get("minimized"):
            rep["command"] = shlex.join([binary, *replay_flags(finding), rep["minimized"]])
