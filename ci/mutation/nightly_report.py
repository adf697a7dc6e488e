"""nightly_report.py MUTANTS_DIR NIGHTLY_OUT: puts ci/mutants' accumulated report into the
nightly's: a copy in NIGHTLY_OUT/mutants/, a section at the end of report.md and a `mutants`
key (the summary and the survivors' ids) in report.json."""
import json
import os
import shutil
import sys


def main(src, out):
    with open(os.path.join(src, "report.json")) as f:
        doc = json.load(f)
    dst = os.path.join(out, "mutants")
    os.makedirs(dst, exist_ok=True)
    for name in ("report.md", "report.json"):
        shutil.copy(os.path.join(src, name), dst)
    s = doc["summary"]
    survivors = [m for m in doc["mutants"] if m["status"] == "survived"]
    score = "-" if s["score"] is None else f"{100 * s['score']:.1f} %"
    lines = ["", "## Mutation testing (accumulated over nights)", "",
             f"Score {score} over {s['mutants']} mutants {s['counts']}; "
             f"median time to kill {s['median_seconds_to_kill']} s. "
             f"Survivors: {len(survivors)} (diffs in mutants/report.md).", ""]
    lines += [f"- {m['id']} {m['file']}:{m['line']} ({m['op']}): `{m['after']}`"
              for m in survivors]
    with open(os.path.join(out, "report.md"), "a") as f:
        f.write("\n".join(lines) + "\n")
    report = os.path.join(out, "report.json")
    if os.path.exists(report):
        with open(report) as f:
            nightly = json.load(f)
        nightly["mutants"] = {"summary": s, "survivors": [m["id"] for m in survivors]}
        with open(report, "w") as f:
            json.dump(nightly, f, indent=2)
    print(f"[nightly] mutants: score {score}; {len(survivors)} survivor(s)", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
