"""The campaign's report: mutation score overall and per file, time to kill, the survivors.

Score = (killed + timed out) / (mutants that compiled - equivalent ones). A mutant that makes a
harness run past its time is counted as detected (the nightly would report the hang), but it is
listed apart. Mutants that did not compile, and those whose later build failed (`error`), are
outside the denominator and counted apart.
"""
import json
import os
import statistics

DETECTED = ("killed", "timeout")


def load_equivalent(path):
    """{mutant id: reason} from ci/mutants-equivalent.txt: `<id> <file>:<line> <reason>` lines;
    `#` starts a comment."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            out[parts[0]] = parts[2] if len(parts) > 2 else ""
    return out


def load_results(out_dir):
    results = []
    base = os.path.join(out_dir, "mutants")
    if not os.path.isdir(base):
        return results
    for mid in sorted(os.listdir(base)):
        p = os.path.join(base, mid, "result.json")
        if os.path.exists(p):
            with open(p) as f:
                results.append(json.load(f))
    return results


def _percentile(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))
    return xs[k]


def _family(harness):
    return harness.split(":")[0].replace("-asan", "") if harness else None


def summarise(results, equivalent):
    for r in results:
        if r["status"] == "survived" and r["id"] in equivalent:
            r["status"] = "equivalent"
            r["reason"] = equivalent[r["id"]]
    counts = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    per_file = {}
    for r in results:
        if r["status"] in DETECTED or r["status"] == "survived":
            d = per_file.setdefault(r["file"], {"detected": 0, "survived": 0})
            d["detected" if r["status"] in DETECTED else "survived"] += 1
    for d in per_file.values():
        d["score"] = round(d["detected"] / (d["detected"] + d["survived"]), 3)
    detected = counts.get("killed", 0) + counts.get("timeout", 0)
    denom = detected + counts.get("survived", 0)
    kill_times = [r["seconds"] for r in results if r["status"] == "killed"]
    by = {}
    for r in results:
        if r["status"] == "killed":
            by[r["by"]] = by.get(r["by"], 0) + 1
    by_family = {}
    for h, n in by.items():
        by_family[_family(h)] = by_family.get(_family(h), 0) + n
    return {
        "mutants": len(results),
        "compiled": len(results) - counts.get("no-compile", 0),
        "counts": counts,
        "score": round(detected / denom, 4) if denom else None,
        "median_seconds_to_kill": statistics.median(kill_times) if kill_times else None,
        "p90_seconds_to_kill": _percentile(kill_times, 0.9),
        "killed_by": dict(sorted(by.items(), key=lambda x: -x[1])),
        "killed_by_family": by_family,
        "per_file": dict(sorted(per_file.items(), key=lambda x: (x[1]["score"], x[0]))),
        "build_seconds": round(sum(r.get("build_seconds") or 0 for r in results), 1),
        "harness_seconds": round(sum(sum(x["seconds"] for x in r.get("runs", []))
                                     for r in results), 1),
    }


def markdown(summary, results):
    s = summary
    c = s["counts"]
    lines = ["# Mutation testing of the engine", ""]
    score = "-" if s["score"] is None else f"{100 * s['score']:.1f} %"
    lines += [f"- mutants: {s['mutants']}; compiled: {s['compiled']}; did not compile: "
              f"{c.get('no-compile', 0)}; later build failed: {c.get('error', 0)}",
              f"- killed: {c.get('killed', 0)}; timed out: {c.get('timeout', 0)}; survived: "
              f"{c.get('survived', 0)}; equivalent: {c.get('equivalent', 0)}",
              f"- **mutation score: {score}** (killed + timed out over compiled non-equivalent)",
              f"- time to kill: median {s['median_seconds_to_kill']} s, 90th percentile "
              f"{s['p90_seconds_to_kill']} s (harness time, builds not counted)",
              f"- killed by: " + ", ".join(f"{k} {v}" for k, v in s["killed_by_family"].items()),
              f"- build time {s['build_seconds']} s, harness time {s['harness_seconds']} s", ""]
    lines += ["## Per file (lowest score first)", "", "| file | detected | survived | score |",
              "|---|---|---|---|"]
    for f, d in s["per_file"].items():
        lines.append(f"| {f} | {d['detected']} | {d['survived']} | {100 * d['score']:.0f} % |")
    lines += ["", "## Survivors", ""]
    survivors = [r for r in results if r["status"] == "survived"]
    if not survivors:
        lines.append("None.")
    for r in survivors:
        ran = ", ".join(x["harness"] for x in r.get("runs", []))
        lines += [f"### {r['id']} {r['file']}:{r['line']} ({r['op']})", "", "```diff",
                  r["diff"].rstrip(), "```", f"ran: {ran}", ""]
    equivalent = [r for r in results if r["status"] == "equivalent"]
    if equivalent:
        lines += ["## Equivalent (ci/mutants-equivalent.txt)", ""]
        lines += [f"- {r['id']} {r['file']}:{r['line']}: {r['reason']}" for r in equivalent]
        lines.append("")
    timeouts = [r for r in results if r["status"] == "timeout"]
    if timeouts:
        lines += ["## Timed out (counted as detected)", ""]
        lines += [f"- {r['id']} {r['file']}:{r['line']} ({r['op']}) in {r['by']}"
                  for r in timeouts]
        lines.append("")
    return "\n".join(lines)


def write(out_dir, equivalent_path, current_ids=None):
    """Writes out_dir/report.{md,json}; with current_ids, results of mutants that no longer
    exist in the source (their line changed) are left out."""
    results = [r for r in load_results(out_dir) if current_ids is None or r["id"] in current_ids]
    summary = summarise(results, load_equivalent(equivalent_path))
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump({"tool": "ci/mutants", "version": 1, "summary": summary,
                   "mutants": results}, f, indent=2)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(markdown(summary, results))
    return summary
