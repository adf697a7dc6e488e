"""Assembles the nightly's run.json from its run.jsonl (one object per fuzz target or stress
scenario) and the coverage summary: python3 run_info.py RUN.jsonl COVERAGE.json > run.json."""
import json
import sys


def number(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return v


def stress_entry(rec):
    out = {"scenario": rec["scenario"], "exit": number(rec["exit"])}
    try:
        with open(rec["json"], encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return out
    for k in ("loops", "loops_per_s", "growth_bytes_per_loop", "verdict"):
        if k in data:
            out[k] = data[k]
    return out


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
    main(sys.argv[1], sys.argv[2])
