"""`ics-triage verify`: replay every known finding that has a reproducer on the current build.

- open, and not reproduced in N runs  -> marked fixed (commit, date): "fixed since last night"
- open, reproduced                    -> still open
- fixed, reproduced                   -> a regression (marked once with commit and date)
- fixed, not reproduced               -> still fixed
Entries without a reproducer, or whose binary is not built, are listed as not checked."""
import datetime
import json
import os
import subprocess
from typing import Any, Dict, List

from . import known as known_mod
from .replay import ReplayOptions, reliability


def head_commit(repo_root: str) -> str:
    run = subprocess.run(["git", "-C", repo_root, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, check=False)
    return run.stdout.strip() if run.returncode == 0 else "unknown"


def today() -> str:
    return datetime.date.today().isoformat()


def verify(entries: List[Dict[str, Any]], opts: ReplayOptions, runs: int, commit: str,
           date: str) -> List[Dict[str, Any]]:
    """Replays and updates `entries` in place; one result per entry:
    {id, key, status (the entry's, after), outcome, replay: {runs, reproduced, label}}.
    outcome: fixed | still-open | regression | still-fixed | not-checked."""
    results = []
    for entry in entries:
        key, spec = known_mod.entry_key(entry), entry.get("reproducer")
        r = reliability(spec, key, runs, opts, stop_on_first=True)
        if r.get("error"):
            outcome = "not-checked"
        elif entry["status"] == "open":
            outcome = "still-open" if r["reproduced"] else "fixed"
            if outcome == "fixed":
                known_mod.mark_fixed(entry, commit, date, r["runs"])
        elif r["reproduced"]:
            outcome = "regression"
            known_mod.mark_regressed(entry, commit, date)
        else:
            outcome = "still-fixed"
            if entry.get("regressed"):  # came back, and is gone again
                known_mod.mark_fixed(entry, commit, date, r["runs"])
        results.append({"id": known_mod.entry_id(entry), "key": key, "status": entry["status"],
                        "outcome": outcome, "issue": entry.get("issue"),
                        "fixed": entry.get("fixed"), "regressed": entry.get("regressed"),
                        "replay": {k: r.get(k) for k in ("runs", "reproduced", "label")}})
    return results


def summary_line(results: List[Dict[str, Any]]) -> str:
    n = {o: sum(1 for r in results if r["outcome"] == o)
         for o in ("fixed", "still-open", "regression", "still-fixed", "not-checked")}
    return (f"ics-triage verify: {len(results)} known finding(s): {n['fixed']} fixed since the "
            f"last run, {n['regression']} regression(s), {n['still-open']} still open, "
            f"{n['still-fixed']} still fixed, {n['not-checked']} not checked")


def to_markdown(results: List[Dict[str, Any]], commit: str, date: str) -> List[str]:
    """The verify section of report.md (also verify.md on its own)."""
    out = ["## Fix verification", "", f"Replayed on commit `{commit[:12]}`, {date}. "
           + summary_line(results).split(": ", 1)[1] + ".", ""]
    for title, outcome in (("Fixed since last night", "fixed"),
                           ("Regressions (fixed before, reproduced again)", "regression")):
        rows = [r for r in results if r["outcome"] == outcome]
        out += [f"### {title}", ""]
        out += [f"- `{r['id']}` {r['key']} ({r['replay']['label']}"
                + (f", issue {r['issue']}" if r.get("issue") else "")
                + (f"; fixed in `{r['fixed']['commit'][:12]}` on {r['fixed']['date']}"
                   if outcome == "regression" and r.get("fixed") else "") + ")"
                for r in rows] or ["none"]
        out.append("")
    other = [r for r in results if r["outcome"] not in ("fixed", "regression")]
    if other:
        out += ["| id | key | outcome | replay |", "|---|---|---|---|"]
        out += [f"| `{r['id']}` | {r['key'].replace('|', '/')} | {r['outcome']} "
                f"| {r['replay']['label']} |" for r in other]
        out.append("")
    return out


def run_verify(known_path: str, opts: ReplayOptions, runs: int, update: bool,
               out_json: str = "", out_md: str = "") -> int:
    entries = known_mod.load_known(known_path)
    commit, date = head_commit(opts.repo_root), today()
    results = verify(entries, opts, runs, commit, date)
    for r in results:
        print(f"{r['outcome'].upper():12} {r['id']}  {r['key']}  [{r['replay']['label']}]")
    print(summary_line(results))
    if update:
        known_mod.save_known(known_path, entries)
    doc = {"commit": commit, "date": date, "runs": runs, "results": results}
    if out_json:
        os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
        with open(out_json, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, sort_keys=True)
    if out_md:
        os.makedirs(os.path.dirname(os.path.abspath(out_md)), exist_ok=True)
        with open(out_md, "w", encoding="utf-8") as f:
            f.write("\n".join(to_markdown(results, commit, date)).rstrip() + "\n")
    return 1 if any(r["outcome"] == "regression" for r in results) else 0
