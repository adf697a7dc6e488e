"""ics-triage command line: read inputs, dedupe, classify against the known findings, write
the reports. Exit 0 when nothing is new, 1 for new findings or regressions, 2 for usage."""
import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Tuple

from . import known as known_mod
from . import loop_cli
from .locate import DEFAULT_PREFIXES, locate
from .model import Finding, Occurrence, series_label
from .reports import sort_findings, to_json, to_markdown, to_sarif
from .grouping import group
from .replay import DEFAULT_RUNS, DEFAULT_TIMEOUT, ReplayOptions, reliability, spec_of
from .reproduce import ARTIFACT_PREFIXES, describe
from .sanitizer_logs import parse_log
from .severity import access_class, ics_impact, severity
from .stress_json import load_json, looks_like_stress, parse_stress
from .svg import plot

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
MAX_INPUT_BYTES = 256 << 20
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UsageError(Exception):
    pass


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="ics-triage", description="Turn sanitizer, libFuzzer and ics-stress output into "
        "deduplicated findings (report.md, report.json, report.sarif). The loop: "
        "`ics-triage verify|adopt|bisect --help`.")
    p.add_argument("inputs", nargs="+", help="log files, ics-stress JSON files, or folders")
    p.add_argument("--out", dest="out_dir", help="write report.md/.json/.sarif, plots/, repro/ here")
    p.add_argument("--md", help="report.md path (default OUT/report.md)")
    p.add_argument("--json", dest="json_path", help="report.json path (default OUT/report.json)")
    p.add_argument("--sarif", help="report.sarif path (default OUT/report.sarif)")
    p.add_argument("--known", help="known findings (default ci/known-findings.json)")
    p.add_argument("--repo-root", default=REPO_ROOT, help="for repo-relative SARIF paths")
    p.add_argument("--source-prefix", action="append", dest="prefixes",
                   help="project folders for SARIF locations (repeatable; default "
                        + " ".join(DEFAULT_PREFIXES) + ")")
    p.add_argument("--target", help="fuzz target of logs whose stacks do not name it")
    p.add_argument("--binary-dir", action="append", dest="binary_dirs", default=[],
                   help="folder with fuzz_<target> binaries (repeatable)")
    p.add_argument("--minimize", action="store_true",
                   help="minimise new crash inputs with libFuzzer -minimize_crash=1")
    p.add_argument("--minimize-runs", type=int, default=10000, help="-runs=N (default 10000)")
    p.add_argument("--minimize-seconds", type=int, default=60, help="per finding (default 60)")
    p.add_argument("--keep-template-args", action="store_true",
                   help="keep template arguments in crash-state function names")
    p.add_argument("--run-info", help="JSON of the run's own figures (fuzz, stress, coverage) "
                   "to include in report.md and report.json under `run`")
    p.add_argument("--reliability", type=int, nargs="?", const=DEFAULT_RUNS, default=0,
                   metavar="N", help="replay each new finding N times (default N: "
                   f"{DEFAULT_RUNS}): 'reproduced k/N', k < N labelled flaky")
    p.add_argument("--stress-binary", help="ics-stress for replays (default: the command's)")
    p.add_argument("--replay-timeout", type=int, default=DEFAULT_TIMEOUT,
                   help=f"seconds per replay (default {DEFAULT_TIMEOUT})")
    p.add_argument("--verify", dest="verify_json", help="verify.json of `ics-triage verify`: "
                   "its fixed / regressed findings go into the reports")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-finding lines on stdout")
    return p.parse_args(argv)


# ---- inputs ------------------------------------------------------------------------------

def _is_artifact(name: str) -> bool:
    return name.startswith(ARTIFACT_PREFIXES)


def list_inputs(paths: List[str], skip_dir: Optional[str]) -> Tuple[List[str], List[str]]:
    """(files to read, folders to search for reproducer inputs). Folders are walked in name
    order; libFuzzer artifacts, corpus folders (inputs, never logs) and the --out folder are
    not read as logs."""
    files, dirs = [], []
    skip = os.path.abspath(skip_dir) if skip_dir else None
    for path in paths:
        if os.path.isfile(path):
            files.append(path)
            continue
        if not os.path.isdir(path):
            raise UsageError(f"no such file or folder: {path}")
        for top, subdirs, names in os.walk(path):
            subdirs[:] = sorted(d for d in subdirs if os.path.abspath(os.path.join(top, d)) != skip)
            dirs.append(top)
            if os.path.basename(top) == "corpus" and top != path:
                continue
            files += [os.path.join(top, n) for n in sorted(names) if not _is_artifact(n)]
    return files, dirs


def read_occurrences(path: str) -> List[Occurrence]:
    if os.path.getsize(path) > MAX_INPUT_BYTES:
        return []
    with open(path, "rb") as f:
        raw = f.read()
    if b"\0" in raw[:8192]:
        return []  # binary: an input, not a log
    text = raw.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        doc = load_json(text)
        if looks_like_stress(doc):
            return parse_stress(doc, path)
    return parse_log(text, path)


# ---- findings ----------------------------------------------------------------------------

def load_known(args: argparse.Namespace) -> List[dict]:
    path = args.known or os.path.join(args.repo_root, "ci", "known-findings.json")
    if not args.known and not os.path.exists(path):
        return []
    try:
        return known_mod.load_known(path)
    except known_mod.KnownError as e:
        raise UsageError(f"known findings: {e}") from e


def _legend(name: str, occ: Occurrence, grown: List[str]) -> str:
    """'process heap (grew)' over '2200.0 B/loop' for one series of a plot's legend."""
    info = occ.series_info.get(name, {})
    slope = info.get("slope_bytes_per_loop")
    first = series_label(name) + (" (grew)" if name in grown else "")
    return first + (f"\n{float(slope):.1f} B/loop" if isinstance(slope, (int, float)) else "")


def write_plots(findings: List[Finding], out_dir: Optional[str]) -> Dict[str, str]:
    """plots/<id>.svg for each Memory-growth finding with samples; {id: relative path}. With
    the run's series, one line per series; emphasised: the series this finding grew in, in
    the run that is plotted (the input of its first occurrence with series, else of its first)."""
    plots: Dict[str, str] = {}
    if not out_dir:
        return plots
    for f in findings:
        occ = next((o for o in f.occurrences if o.series_samples), f.first)
        if f.type != "Memory-growth" or not (occ.samples or occ.series_samples):
            continue
        rel = os.path.join("plots", f"{f.id}.svg")
        os.makedirs(os.path.join(out_dir, "plots"), exist_ok=True)
        slope = occ.details.get("slope_bytes_per_loop")
        title = f"{f.title}: live bytes over loops" + (
            f" (slope {float(slope):.1f} B/loop)" if slope is not None else "")
        grown = [o.series for o in f.occurrences if o.series and o.source == occ.source]
        labels = {n: _legend(n, occ, grown) for n in occ.series_samples}
        with open(os.path.join(out_dir, rel), "w", encoding="utf-8") as out:
            out.write(plot(occ.samples, title, series=occ.series_samples, grown=grown,
                           labels=labels, subtitle=" / ".join(f.state)))
        plots[f.id] = rel
    return plots


def load_run_info(path: Optional[str], flag: str = "--run-info") -> Optional[Dict]:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"{flag} {path}: {e}") from e
    if not isinstance(run, dict):
        raise UsageError(f"{flag} {path}: not a JSON object")
    return run


def _write(path: Optional[str], text: str) -> None:
    if not path:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_reports(args: argparse.Namespace, findings: List[Finding], inputs: int) -> None:
    out = args.out_dir
    if out:
        os.makedirs(out, exist_ok=True)
    plots = write_plots(findings, out)
    run = load_run_info(args.run_info)
    verified = load_run_info(args.verify_json, "--verify")
    _write(args.md or (out and os.path.join(out, "report.md")),
           to_markdown(findings, inputs, plots, run, verified))
    doc = to_json(findings, inputs, plots, run)
    if verified is not None:
        doc["verify"] = verified
    _write(args.json_path or (out and os.path.join(out, "report.json")),
           json.dumps(doc, indent=2, sort_keys=True) + "\n")
    _write(args.sarif or (out and os.path.join(out, "report.sarif")),
           json.dumps(to_sarif(findings), indent=2) + "\n")


def print_summary(findings: List[Finding], files: int, quiet: bool) -> None:
    for f in findings if not quiet else []:
        rel = f"; {f.reliability['label']}" if f.reliability else ""
        print(f"{f.status.upper():10} {f.severity:6} {f.title}  {' / '.join(f.state)}  "
              f"[{len(f.occurrences)}x, {f.id}{rel}]")
    n = {s: sum(1 for f in findings if f.status == s) for s in ("new", "regression", "known")}
    print(f"ics-triage: {files} file(s), {len(findings)} finding(s): {n['new']} new, "
          f"{n['regression']} regression(s), {n['known']} known")


def run(args: argparse.Namespace) -> int:
    args.prefixes = args.prefixes or list(DEFAULT_PREFIXES)
    files, dirs = list_inputs(args.inputs, args.out_dir)
    args.search_dirs = dirs
    entries = load_known(args)
    occurrences = [occ for path in files for occ in read_occurrences(path)]
    findings = group(occurrences, args.keep_template_args, args.target)
    known_mod.classify(findings, entries)
    replay = ReplayOptions(repo_root=args.repo_root, binary_dirs=args.binary_dirs,
                           stress_binary=args.stress_binary, timeout=args.replay_timeout,
                           keep_templates=args.keep_template_args)
    for f in findings:
        f.severity = severity(f.type, f.first.details)
        f.access, f.impact = access_class(f.type, f.first.details), ics_impact(f.type, f.first.details)
        describe(f, args)
        f.reproducer["replay"] = spec_of(f)
        f.location = locate(f, args.repo_root, args.prefixes)
        if args.reliability and f.status != "known":
            f.reliability = reliability(f.reproducer["replay"], f.key, args.reliability, replay)
    findings = sort_findings(findings)
    write_reports(args, findings, len(files))
    print_summary(findings, len(files), args.quiet)
    return EXIT_FINDINGS if any(f.status != "known" for f in findings) else EXIT_CLEAN


def main(argv: List[str]) -> int:
    if argv and argv[0] in loop_cli.SUBCOMMANDS:  # verify, adopt, bisect (a folder: ./verify)
        return loop_cli.main(argv)
    args = parse_args(argv)
    try:
        return run(args)
    except UsageError as e:
        print(f"ics-triage: error: {e}", file=sys.stderr)
        return EXIT_USAGE
