"""Fuzz target speed figures (ci/fuzz-speed) and the nightly's night-to-night comparison.

  speed.py summarize --seconds S --load L --json OUT EMPTY_FIRST.log EMPTY_LAST.log WHAT=LOG...
      reads the libFuzzer logs (-print_final_stats), prints the table, writes OUT:
      {"seconds", "load", "empty": {"first", "last", "exec_per_s"},
       "targets": [{"target", "exec_per_s", "runs", "ratio", "exit"}]}
      where ratio = the target's exec/s / the empty target's mean exec/s.
  speed.py merge RUN.json SPEED.json [PREVIOUS_REPORT.json]
      puts SPEED into RUN.json as "speed", with "drops": every target whose ratio fell by
      DROP_FRACTION (20 %) or more against the "speed" of the previous night's report.json.
"""
import argparse
import json
import sys
from typing import Any, Dict, List, Optional

try:  # imported as triage.<module> by the tests, run as a script by ci/
    from . import libfuzzer_log
except ImportError:
    import libfuzzer_log

DROP_FRACTION = 0.20


def read_log(path: str) -> Dict[str, Any]:
    """exec/s, runs and exit status from one libFuzzer log (None where absent)."""
    fig = libfuzzer_log.read(path)
    return {"exec_per_s": fig["exec_per_s"], "runs": fig["executions"], "exit": fig["exit"]}


def summarize(seconds: int, load: str, empty_logs: List[str], targets: List[str]) -> Dict[str, Any]:
    first, last = (read_log(p)["exec_per_s"] for p in empty_logs)
    known = [v for v in (first, last) if v]
    empty = sum(known) / len(known) if known else None
    rows = []
    for spec in targets:
        what, path = spec.split("=", 1)
        fig = read_log(path)
        eps = fig["exec_per_s"]
        ratio = eps / empty if (eps is not None and empty) else None
        rows.append({"target": what, "exec_per_s": eps, "runs": fig["runs"],
                     "ratio": ratio, "exit": fig["exit"]})
    return {"seconds": seconds, "load": load,
            "empty": {"first": first, "last": last, "exec_per_s": empty}, "targets": rows}


def table(speed: Dict[str, Any]) -> List[str]:
    empty = speed["empty"]["exec_per_s"]
    lines = [f"{'target':<14} {'exec/s':>9} {'empty exec/s':>13} {'ratio':>9}  exit"]
    for t in speed["targets"]:
        eps = "?" if t["exec_per_s"] is None else str(t["exec_per_s"])
        ratio = "?" if t["ratio"] is None else f"{t['ratio']:.5f}"
        lines.append(f"{t['target']:<14} {eps:>9} {'?' if empty is None else round(empty):>13} "
                     f"{ratio:>9}  {t['exit']}")
    e = speed["empty"]
    lines.append(f"empty target: {e['first']} exec/s first, {e['last']} last; "
                 f"{speed['seconds']} s each; load average {speed['load']}")
    return lines


def drops(previous: Optional[Dict[str, Any]], current: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Targets whose ratio to the empty target fell by DROP_FRACTION or more."""
    if not previous:
        return []
    before = {t.get("target"): t.get("ratio") for t in previous.get("targets") or []}
    out = []
    for t in current.get("targets") or []:
        old, new = before.get(t.get("target")), t.get("ratio")
        if not isinstance(old, (int, float)) or old <= 0 or not isinstance(new, (int, float)):
            continue
        change = new / old - 1
        if change <= -DROP_FRACTION + 1e-9:  # exactly 20 % counts, whatever the rounding
            out.append({"target": t["target"], "previous_ratio": old, "ratio": new, "change": change})
    return out


def previous_speed(report_path: Optional[str]) -> Optional[Dict[str, Any]]:
    if not report_path:
        return None
    try:
        with open(report_path, encoding="utf-8") as f:
            return (json.load(f).get("run") or {}).get("speed")
    except (OSError, ValueError, AttributeError):
        return None


def merge(run_path: str, speed_path: str, report_path: Optional[str]) -> List[Dict[str, Any]]:
    with open(run_path, encoding="utf-8") as f:
        run = json.load(f)
    with open(speed_path, encoding="utf-8") as f:
        speed = json.load(f)
    speed["drops"] = drops(previous_speed(report_path), speed)
    run["speed"] = speed
    with open(run_path, "w", encoding="utf-8") as f:
        json.dump(run, f, indent=2)
        f.write("\n")
    return speed["drops"]


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="speed.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("--seconds", type=int, required=True)
    s.add_argument("--load", default="")
    s.add_argument("--json", required=True)
    s.add_argument("empty_first")
    s.add_argument("empty_last")
    s.add_argument("targets", nargs="*")
    m = sub.add_parser("merge")
    m.add_argument("run")
    m.add_argument("speed")
    m.add_argument("previous_report", nargs="?")
    args = p.parse_args(argv)
    if args.cmd == "summarize":
        speed = summarize(args.seconds, args.load, [args.empty_first, args.empty_last], args.targets)
        print("\n".join(table(speed)))
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(speed, f, indent=2)
            f.write("\n")
        return 0
    for d in merge(args.run, args.speed, args.previous_report):
        print(f"speed drop: {d['target']}: ratio to the empty target {d['previous_ratio']:.5f} -> "
              f"{d['ratio']:.5f} ({d['change']:+.0%}) since the previous night", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
