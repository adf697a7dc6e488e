#!/usr/bin/env python3
"""ctest driver for ics-stress (label `stress`): runs the binary, checks its exit code and its
JSON result against the contract (ci/README.md, "ics-stress JSON").

  run_stress.py BIN clean ARGS...        exit 0, verdict clean, no findings, nothing left charged
  run_stress.py BIN growth BYTES ARGS... --inject-growth BYTES: exit 1, one Memory-growth of kind
                                         Other, slope within 10% of BYTES, <= 200 samples
  run_stress.py BIN where WHERE BYTES ARGS...
                                         --inject-growth BYTES --inject-where WHERE: exit 1, one
                                         Memory-growth of the series WHERE grows in (charged: server,
                                         uncharged: process, client: client) at >= 75% of BYTES,
                                         its site's first frame FiberCtx::inject_WHERE
  run_stress.py BIN seeds N ARGS...      seeds 1..N each clean and not flagged; the environment
                                         may widen the sweep (the nightly's): STRESS_SEEDS=N seeds
                                         from STRESS_SEED_BASE+1 (default 0), every seed run even
                                         after a failure, the failing runs' JSON and stderr copied
                                         into STRESS_KEEP (a folder ics-triage reads) if set
  run_stress.py BIN determinism ARGS...  two runs, identical JSON apart from timing fields
  run_stress.py BIN usage ARGS...        exit 2, an error line naming the problem
  run_stress.py BIN budget ARGS...       exit 1 with an Unexpected-error GeneralFailure (the
                                         Exchange 2003 symptom) and a Memory-growth finding
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TIMING_KEYS = {"loops_per_s", "figures"}
REQUIRED = ["verdict", "command", "seed", "scenario", "loops", "loops_per_s", "fibers", "threads",
            "live_bytes_start", "live_bytes_end", "growth_bytes_per_loop", "diverged", "errors",
            "findings"]


def fail(msg, proc=None):
    print("FAIL:", msg)
    if proc is not None:
        print("--- stderr (tail) ---")
        print("\n".join(proc.stderr.splitlines()[-40:]))
    sys.exit(1)


def run(binary, args, json_path):
    cmd = [binary] + args + ["--json", json_path, "--quiet"]
    print("+", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    with open(json_path + ".log", "w") as f:
        f.write(proc.stderr)
    result = None
    if os.path.exists(json_path):
        with open(json_path) as f:
            result = json.load(f)
    return proc, result


def check_schema(proc, result):
    if result is None:
        fail("no JSON written", proc)
    for key in REQUIRED:
        if key not in result:
            fail(f"JSON lacks {key}", proc)
    first = proc.stderr.splitlines()[0] if proc.stderr else ""
    if "seed" not in first or "reproduce:" not in first:
        fail(f"first stderr line does not give the seed and command: {first!r}", proc)
    for f in result["findings"]:
        t = f.get("type")
        if t not in ("Memory-growth", "Divergence", "Unexpected-error"):
            fail(f"finding of unknown type {t}", proc)
        need = {"Memory-growth": ["kind", "slope_bytes_per_loop"], "Divergence": ["what"],
                "Unexpected-error": ["call", "error"]}[t]
        for key in need:
            if key not in f:
                fail(f"{t} finding lacks {key}", proc)
        if "samples" in f and len(f["samples"]) > 200:
            fail("more than 200 samples", proc)
    if (proc.returncode == 0) != (result["verdict"] == "clean"):
        fail(f"exit {proc.returncode} but verdict {result['verdict']}", proc)


def clean(binary, args, tmp, json_path=None):
    proc, result = run(binary, args, json_path or os.path.join(tmp, "r.json"))
    check_schema(proc, result)
    if proc.returncode != 0:
        fail(f"exit {proc.returncode}, findings {json.dumps(result['findings'])[:2000]}", proc)
    if result["findings"] or result["errors"] or result["diverged"]:
        fail("findings in a clean run", proc)
    if result["growth"]["flagged"]:
        fail("growth flagged", proc)
    for name, series in result.get("series", {}).items():
        if series["flagged"]:
            fail(f"{name} series flagged: {series['reason']}, {series['slope_bytes_per_loop']} B/loop", proc)
    if result["live_bytes_after_logoff"] != 0:
        fail("bytes left charged after logoff", proc)
    if result["loops"] <= 0:
        fail("no loops ran", proc)
    return result


def one_growth(binary, args, tmp):
    """Runs; exit 1 with exactly one Memory-growth finding: (proc, result, finding)."""
    proc, result = run(binary, args, os.path.join(tmp, "r.json"))
    check_schema(proc, result)
    if proc.returncode != 1:
        fail(f"exit {proc.returncode}, expected 1", proc)
    found = [f for f in result["findings"] if f["type"] == "Memory-growth"]
    if len(found) != 1:
        fail(f"expected one Memory-growth finding, got {result['findings']}", proc)
    return proc, result, found[0]


def growth(binary, size, args, tmp):
    proc, result, f = one_growth(binary, args + ["--inject-growth", str(size)], tmp)
    if f["kind"] != "Other":
        fail(f"growth attributed to {f['kind']}, expected Other", proc)
    if abs(f["slope_bytes_per_loop"] - size) > 0.1 * size:
        fail(f"slope {f['slope_bytes_per_loop']} far from {size}", proc)
    if not f["samples"] or f.get("projected_loops_to_budget", -1) <= 0 or f.get("budget_bytes", 0) <= 0:
        fail("samples / projection / budget missing", proc)
    others = [x for x in result["findings"] if x["type"] != "Memory-growth"]
    if others:
        fail(f"unexpected other findings {others}", proc)


WHERE_SERIES = {"charged": "server", "uncharged": "process", "client": "client"}


def where(binary, place, size, args, tmp):
    args = args + ["--inject-growth", str(size), "--inject-where", place]
    proc, result, f = one_growth(binary, args, tmp)
    want = WHERE_SERIES[place]
    if f.get("series") != want:
        fail(f"growth in series {f.get('series')}, expected {want}", proc)
    slope = result["series"][want]["slope_bytes_per_loop"]
    if slope < 0.75 * size:
        fail(f"{want} slope {slope} below 75% of {size}", proc)
    state = f.get("state") or []
    if not state or not state[0].endswith("FiberCtx::inject_" + place):
        fail(f"site {state} does not start at FiberCtx::inject_{place}", proc)
    site = f.get("site", {})
    if not site.get("frames") or site["frames"][0].get("file") != "stress/harness.cpp":
        fail(f"site frames {site.get('frames')} do not point into stress/harness.cpp", proc)
    for name in ("server", "client", "process"):
        if name not in f.get("series_samples", {}):
            fail(f"series_samples lacks {name}", proc)
    print(f"{place}: {want} series {slope:.3f} B/loop, flagged {f.get('series_flagged')}, site {' / '.join(state)}")


def arg_after(args, flag, default):
    return args[args.index(flag) + 1] if flag in args[:-1] else default


def keep_failed(keep, args, seed, json_path):
    """Copies a failed seed's JSON and stderr into KEEP as SCENARIO-tTHREADS-seedN.{json,log}."""
    os.makedirs(keep, exist_ok=True)
    name = f"{arg_after(args, '--scenario', 'stress')}-t{arg_after(args, '--threads', '1')}-seed{seed}"
    for src, ext in ((json_path, ".json"), (json_path + ".log", ".log")):
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(keep, name + ext))


def seeds(binary, n, args, tmp):
    n = int(os.environ.get("STRESS_SEEDS", n))
    base = int(os.environ.get("STRESS_SEED_BASE", "0"))
    keep = os.environ.get("STRESS_KEEP")
    slopes, failed = [], []
    for seed in range(base + 1, base + n + 1):
        path = os.path.join(tmp, f"seed{seed}.json")
        try:
            r = clean(binary, args + ["--seed", str(seed)], tmp, path)
            slopes.append(r["growth_bytes_per_loop"])
        except SystemExit:
            failed.append(seed)
            if keep:
                keep_failed(keep, args, seed, path)
    if failed:
        fail(f"{len(failed)} of {n} seeds not clean: {failed}")
    print(f"{n} clean seeds ({base + 1}..{base + n}), none flagged; "
          f"slopes (B/loop): {[round(s, 3) for s in slopes]}")


def determinism(binary, args, tmp):
    path = os.path.join(tmp, "r.json")
    results = []
    for _ in range(2):
        proc, result = run(binary, args, path)
        check_schema(proc, result)
        results.append({k: v for k, v in result.items() if k not in TIMING_KEYS})
        os.remove(path)
    if results[0] != results[1]:
        a, b = results
        diff = [k for k in a if a.get(k) != b.get(k)]
        fail(f"two runs differ in {diff}")
    print(f"identical results over {results[0]['loops']} loops")


def usage(binary, args, tmp):
    proc = subprocess.run([binary] + args, capture_output=True, text=True)
    if proc.returncode != 2 or "error:" not in proc.stderr:
        fail(f"exit {proc.returncode}, stderr {proc.stderr!r}")


def budget(binary, args, tmp):
    proc, result = run(binary, args, os.path.join(tmp, "r.json"))
    check_schema(proc, result)
    if proc.returncode != 1:
        fail(f"exit {proc.returncode}, expected 1", proc)
    types = {(f["type"], f.get("error")) for f in result["findings"]}
    if ("Unexpected-error", "GeneralFailure") not in types or ("Memory-growth", None) not in types:
        fail(f"expected GeneralFailure and Memory-growth, got {result['findings']}", proc)


def main():
    binary, mode, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    with tempfile.TemporaryDirectory() as tmp:
        if mode == "clean":
            clean(binary, rest, tmp)
        elif mode == "growth":
            growth(binary, int(rest[0]), rest[1:], tmp)
        elif mode == "where":
            where(binary, rest[0], int(rest[1]), rest[2:], tmp)
        elif mode == "seeds":
            seeds(binary, int(rest[0]), rest[1:], tmp)
        elif mode == "determinism":
            determinism(binary, rest, tmp)
        elif mode == "usage":
            usage(binary, rest, tmp)
        elif mode == "budget":
            budget(binary, rest, tmp)
        else:
            fail(f"unknown mode {mode}")
    print("OK")


if __name__ == "__main__":
    main()
