"""Assembles the nightly's run.json from its run.jsonl (one object per fuzz target or stress
scenario) and the coverage summary: python3 run_info.py RUN.jsonl COVERAGE.json > run.json.
A stress entry carries the scenario's growth series (slope, flagged, reason per series) and
heap figures when its JSON has them. `run_info.py --series STRESS.json` prints the series
on one line (the nightly's progress log)."""
import json
import sys


def number(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return v


def stress_entry(rec):
    out = {"scenario": rec["scenario"], "exit": number(rec["exit"])}
    if not rec.get("json"):  # a row with no JSON of its own (the clean-seed sweep)
        return out
    try:
        with open(rec["json"], encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return out
    for k in ("loops", "loops_per_s", "growth_bytes_per_loop", "verdict"):
        if k in data:
            out[k] = data[k]
    series = data.get("series")
    if isinstance(series, dict):  # growth per series: server (account), client, process
        out["series"] = {name: {k: s.get(k) for k in ("slope_bytes_per_loop", "flagged", "reason")}
                         for name, s in series.items() if isinstance(s, dict)}
    heap = data.get("heap")
    if isinstance(heap, dict):
        out["heap"] = {k: heap[k] for k in ("source", "live_bytes_start", "live_bytes_end",
                                            "live_allocations_after_run") if k in heap}
    return out


def series_line(path):
    """'server 0.4 B/loop, client 1536.0 B/loop (flagged), ...' for one ics-stress JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            series = json.load(f).get("series")
    except (OSError, ValueError, AttributeError):
        return ""
    if not isinstance(series, dict):
        return ""
    parts = []
    for name, s in series.items():
        slope = s.get("slope_bytes_per_loop") if isinstance(s, dict) else None
        if isinstance(slope, (int, float)):
            parts.append(f"{name} {slope:.1f} B/loop" + (" (flagged)" if s.get("flagged") else ""))
    return ", ".join(parts)


def main(runlog, coverage):
    run = {"fuzz": [], "stress": []}
    with open(runlog, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if "target" in rec:
                run["fuzz"].append({k: number(v) for k, v in rec.items()})
            else:
                run["stress"].append(stress_entry(rec))
    try:
        with open(coverage, encoding="utf-8") as f:
            run["coverage"] = json.load(f)
    except (OSError, ValueError):
        pass
    json.dump(run, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    if sys.argv[1] == "--series":  # run_info.py --series STRESS.json: one line for the log
        print(series_line(sys.argv[2]))
    else:
        main(sys.argv[1], sys.argv[2])
