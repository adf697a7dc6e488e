"""Figures of ci/fuzz-compare: structure-aware against byte-level mutation, per target.

  fuzz_compare.py summarize --minutes M --load L --json OUT WHAT=DIR...
      DIR is one target's work folder as ci/fuzz-compare leaves it:
        DIR/<mode>/fuzz.log        the libFuzzer log (-print_final_stats=1) and a last line
                                   "exit=N" (modes structured and byte; seeds has no run)
        DIR/<mode>/corpus/         the corpus the run ended with
        DIR/<mode>/summary.json    llvm-cov export -summary-only of the replayed corpus
        DIR/<mode>/coverage.lcov   llvm-cov export -format=lcov of the same
        DIR/load                   the load average at the start and the end of the runs
      prints one row per target and mode (executions, exec/s, corpus files and KiB,
      libFuzzer features, engine lines % and branches %), then for each target the engine
      lines and branches one mode covers and the other does not (count and the first
      EXAMPLES as file:line or file:first-last) and the load, and writes OUT:
      {"minutes", "load", "from_empty", "targets": [{"target", "load", "modes": {MODE: {
        "executions", "exec_per_s", "corpus_files", "corpus_bytes", "features", "edges",
        "exit", "lines": {"covered", "count", "percent"}, "branches": {...}}},
        "only": {"structured": {"count", "files", "examples",
                                "branches": {"count", "files", "examples"}},
                 "byte": {...}}}]}
"""
import argparse
import json
import os
import re
import sys
from typing import Any, Dict, List, Optional, Set, Tuple

try:  # imported as triage.<module> by the tests, run as a script by ci/
    from . import libfuzzer_log
except ImportError:
    import libfuzzer_log

MODES = ("seeds", "structured", "byte")
RUN_MODES = ("structured", "byte")
EXAMPLES = 5


def read_log(path: str) -> Dict[str, Any]:
    """Executions, exec/s, the last cov/ft/corp figures and the exit status of one libFuzzer
    log (None where absent: a run that died early has no final stats)."""
    return libfuzzer_log.read(path)


def read_summary(path: str) -> Dict[str, Any]:
    """Line and branch totals from llvm-cov's summary export (or ci/coverage's summary.json)."""
    empty = {"covered": None, "count": None, "percent": None}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {"lines": dict(empty), "branches": dict(empty)}
    totals = data["data"][0]["totals"] if "data" in data else data
    return {k: {f: totals.get(k, {}).get(f) for f in ("covered", "count", "percent")}
            for k in ("lines", "branches")}


Line = Tuple[str, int]
Branch = Tuple[str, int, int, int]


def read_lcov(path: str, root: str = "") -> Tuple[Set[Line], Set[Branch]]:
    """The lines (file, line) and branches (file, line, block, branch) an lcov trace counts
    as executed or taken; files relative to root."""
    lines: Set[Line] = set()
    branches: Set[Branch] = set()
    source = ""
    prefix = root.rstrip("/") + "/" if root else ""
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError:
        return lines, branches
    with f:
        for raw in f:
            tag, _, rest = raw.strip().partition(":")
            fields = rest.split(",")
            if tag == "SF":
                source = rest[len(prefix):] if prefix and rest.startswith(prefix) else rest
            elif tag == "DA" and len(fields) >= 2 and fields[1].isdigit() and int(fields[1]) > 0:
                lines.add((source, int(fields[0])))
            elif tag == "BRDA" and len(fields) == 4 and fields[3].isdigit() and int(fields[3]) > 0:
                branches.add((source, int(fields[0]), int(fields[1]), int(fields[2])))
    return lines, branches


def only_in(a: Set[tuple], b: Set[tuple]) -> Dict[str, Any]:
    """What a has and b has not: the count, the count per file, and the first EXAMPLES as
    file:line, runs of consecutive lines as file:first-last (a branch: file:line branch k)."""
    diff = sorted(a - b)
    per_file: Dict[str, int] = {}
    for item in diff:
        per_file[item[0]] = per_file.get(item[0], 0) + 1
    examples: List[str] = []
    i = 0
    while i < len(diff) and len(examples) < EXAMPLES:
        item = diff[i]
        if len(item) == 4:
            examples.append(f"{item[0]}:{item[1]} branch {item[3]}")
            i += 1
            continue
        j = i
        while j + 1 < len(diff) and diff[j + 1][0] == item[0] and diff[j + 1][1] == diff[j][1] + 1:
            j += 1
        examples.append(f"{item[0]}:{item[1]}" + (f"-{diff[j][1]}" if j > i else ""))
        i = j + 1
    return {"count": len(diff), "files": per_file, "examples": examples}


def corpus_size(folder: str) -> Tuple[Optional[int], Optional[int]]:
    """(files, bytes) of a corpus folder; (None, None) when it is absent."""
    try:
        sizes = [e.stat().st_size for e in os.scandir(folder) if e.is_file()]
    except OSError:
        return None, None
    return len(sizes), sum(sizes)


def read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def target_figures(what: str, folder: str, root: str = "") -> Dict[str, Any]:
    modes: Dict[str, Any] = {}
    traces: Dict[str, Tuple[Set[Line], Set[Branch]]] = {}
    for mode in MODES:
        d = os.path.join(folder, mode)
        if not os.path.isdir(d):
            continue
        fig = read_log(os.path.join(d, "fuzz.log")) if mode in RUN_MODES else {}
        fig["corpus_files"], fig["corpus_bytes"] = corpus_size(os.path.join(d, "corpus"))
        fig.update(read_summary(os.path.join(d, "summary.json")))
        modes[mode] = fig
        traces[mode] = read_lcov(os.path.join(d, "coverage.lcov"), root)
    only = {}
    if all(m in traces for m in RUN_MODES):
        for mode, other in (("structured", "byte"), ("byte", "structured")):
            only[mode] = only_in(traces[mode][0], traces[other][0])
            only[mode]["branches"] = only_in(traces[mode][1], traces[other][1])
    return {"target": what, "load": read_text(os.path.join(folder, "load")), "modes": modes,
            "only": only}


def summarize(minutes: float, load: str, targets: List[str], root: str = "",
              from_empty: bool = False) -> Dict[str, Any]:
    rows = []
    for spec in targets:
        what, folder = spec.split("=", 1)
        rows.append(target_figures(what, folder, root))
    return {"minutes": minutes, "load": load, "from_empty": from_empty, "targets": rows}


def _num(v: Any) -> str:
    return "?" if v is None else f"{v:,}"


def _kib(v: Optional[int]) -> str:
    return "?" if v is None else f"{v / 1024:.0f}"


def _pct(cov: Dict[str, Any]) -> str:
    if cov.get("percent") is None:
        return "?"
    return f"{cov['percent']:.1f} ({cov['covered']}/{cov['count']})"


def _examples(o: Dict[str, Any]) -> str:
    if not o["examples"]:
        return ""
    files = ", ".join(f"{os.path.basename(f)} {n}" for f, n in sorted(o["files"].items()))
    more = ", ..." if o["count"] > _shown(o) else ""
    return f" ({files}): " + ", ".join(o["examples"]) + more


def _shown(o: Dict[str, Any]) -> int:
    """How many lines (or branches) the examples name."""
    n = 0
    for e in o["examples"]:
        where = e.rsplit(":", 1)[1].split(" ")[0]
        first, _, last = where.partition("-")
        n += int(last) - int(first) + 1 if last else 1
    return n


def table(figures: Dict[str, Any]) -> List[str]:
    head = (f"{'target':<13} {'mode':<10} {'executions':>11} {'exec/s':>7} {'corpus':>6} "
            f"{'KiB':>6} {'ft':>6} {'lines %':>17} {'branches %':>17}  exit")
    out = [head]
    for t in figures["targets"]:
        for mode in MODES:
            m = t["modes"].get(mode)
            if m is None:
                continue
            run = mode in RUN_MODES
            out.append(f"{t['target']:<13} {mode:<10} "
                       f"{_num(m.get('executions')) if run else '-':>11} "
                       f"{_num(m.get('exec_per_s')) if run else '-':>7} "
                       f"{_num(m.get('corpus_files')):>6} {_kib(m.get('corpus_bytes')):>6} "
                       f"{_num(m.get('features')) if run else '-':>6} "
                       f"{_pct(m['lines']):>17} {_pct(m['branches']):>17}  "
                       f"{m.get('exit') if run else '-'}")
    for t in figures["targets"]:
        for mode, other in (("structured", "byte"), ("byte", "structured")):
            o = t["only"].get(mode)
            if o is None:
                continue
            out.append(f"{t['target']}: {o['count']} engine line(s) covered by {mode} and not "
                       f"{other}{_examples(o)}")
            b = o["branches"]
            out.append(f"{t['target']}: {b['count']} engine branch(es) taken by {mode} and not "
                       f"{other}{_examples(b)}")
    for t in figures["targets"]:
        if t.get("load"):
            out.append(f"{t['target']}: load average {t['load']}")
    start = "an empty corpus" if figures.get("from_empty") else "the same seeds"
    m = figures["minutes"]
    length = f"{m:g} min" if m >= 1 else f"{m * 60:.0f} s"
    out.append(f"{length} per run, both modes at once from {start}; "
               f"load average {figures['load']}")
    return out


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="fuzz_compare.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("--minutes", type=float, required=True)
    s.add_argument("--load", default="")
    s.add_argument("--root", default="", help="strip this prefix from source paths")
    s.add_argument("--from-empty", type=int, default=0, help="1: the runs started from an empty corpus")
    s.add_argument("--json", required=True)
    s.add_argument("targets", nargs="+", metavar="WHAT=DIR")
    args = p.parse_args(argv)
    figures = summarize(args.minutes, args.load, args.targets, args.root, bool(args.from_empty))
    print("\n".join(table(figures)))
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(figures, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
