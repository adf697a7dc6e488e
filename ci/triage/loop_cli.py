"""The subcommands that close the loop (ci/README.md, "The loop"):

  ics-triage verify   replay every known finding; mark fixed / report regressions
  ics-triage adopt    make findings of a report known (open) and keep their reproducers
  ics-triage bisect   the first commit at which a finding's reproducer fails"""
import argparse
import json
import os
import shutil
import sys
from typing import Any, Dict, List

from . import known as known_mod
from .bisect import BisectError, bisect, default_build, report_lines, run_step
from .replay import DEFAULT_RUNS, DEFAULT_TIMEOUT, ReplayOptions
from .verify import run_verify

SUBCOMMANDS = ("verify", "adopt", "bisect", "bisect-step")
FINDINGS_DIR = "corpus/findings"  # corpus/findings/<id>/: a known finding's reproducer
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_FIBER_DIR = "build/deps/boost-fiber-asan"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--known", help="known findings (default ci/known-findings.json)")
    p.add_argument("--repo-root", default=REPO_ROOT, help="the checkout (default: this one)")


def _replay_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                   help=f"replays per finding (default {DEFAULT_RUNS})")
    p.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per replay")


def _known_path(args: argparse.Namespace) -> str:
    return args.known or os.path.join(args.repo_root, "ci", "known-findings.json")


# ---- verify ------------------------------------------------------------------------------

def verify_main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="ics-triage verify", description="Replay each known "
                                "finding with a reproducer on the current build: open ones "
                                "that no longer reproduce in N runs are marked fixed, fixed "
                                "ones that reproduce are regressions. Exit 1 on a regression.")
    _common(p)
    _replay_opts(p)
    p.add_argument("--binary-dir", action="append", dest="binary_dirs", default=[],
                   help="folder with fuzz_<target> binaries (repeatable)")
    p.add_argument("--stress-binary", help="ics-stress to replay stress findings with")
    p.add_argument("--update", action="store_true", help="write the marks into the known file")
    p.add_argument("--json", dest="json_path", help="verify.json (for `ics-triage --verify`)")
    p.add_argument("--md", help="verify.md")
    args = p.parse_args(argv)
    opts = ReplayOptions(repo_root=args.repo_root, binary_dirs=args.binary_dirs,
                         stress_binary=args.stress_binary, timeout=args.timeout)
    return run_verify(_known_path(args), opts, args.runs, args.update, args.json_path or "",
                      args.md or "")


# ---- adopt -------------------------------------------------------------------------------

def keep_reproducer(finding: Dict[str, Any], repo_root: str) -> Dict[str, Any]:
    """Copy a fuzz finding's input to corpus/findings/<id>/ and return the spec that names it
    there (relative to the checkout); other specs are kept as they are."""
    spec = dict(finding["reproducer"].get("replay") or {})
    if spec.get("kind") == "fuzz":
        rel = os.path.join(FINDINGS_DIR, finding["id"], "input")
        os.makedirs(os.path.join(repo_root, os.path.dirname(rel)), exist_ok=True)
        shutil.copyfile(spec["input"], os.path.join(repo_root, rel))
        spec["input"] = rel
    elif spec.get("kind") == "stress":
        spec["argv"] = ["build/asan/stress/ics-stress"] + spec["argv"][1:]
    return spec


def adopt_main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="ics-triage adopt", description="Add findings of a "
                                "report.json to the known findings (open), their reproducers "
                                f"kept under {FINDINGS_DIR}/<id>/.")
    _common(p)
    p.add_argument("report", help="report.json of an ics-triage run")
    p.add_argument("ids", nargs="+", help="finding ids (or unique prefixes)")
    p.add_argument("--note", default="")
    p.add_argument("--issue", default="")
    args = p.parse_args(argv)
    with open(args.report, encoding="utf-8") as f:
        findings = json.load(f)["findings"]
    path = _known_path(args)
    entries = known_mod.load_known(path) if os.path.exists(path) else []
    for which in args.ids:
        hits = [x for x in findings if x["id"].startswith(which)]
        if len(hits) != 1:
            print(f"ics-triage adopt: {which}: {len(hits)} matching finding(s)", file=sys.stderr)
            return 2
        x = hits[0]
        entry = {"key": x["key"], "status": "open", "note": args.note, "issue": args.issue,
                 "severity": x["severity"], "access": x.get("access")}
        if x["reproducer"].get("replay"):
            entry["reproducer"] = keep_reproducer(x, args.repo_root)
        entries = [e for e in entries if known_mod.entry_key(e) != x["key"]] + [entry]
        print(f"adopted {x['id']}  {x['key']}"
              + (f"  -> {entry['reproducer']}" if entry.get("reproducer") else "  (no reproducer)"))
    known_mod.save_known(path, entries)
    return 0


# ---- bisect ------------------------------------------------------------------------------

def bisect_main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="ics-triage bisect", description="git bisect run over a "
                                "throwaway worktree: the first commit at which the finding's "
                                "reproducer fails (or --check fails).")
    _common(p)
    p.add_argument("finding", nargs="?", help="id, id prefix or key of a known finding")
    p.add_argument("--good", help="a commit without the bug (default: the root commit)")
    p.add_argument("--bad", default="HEAD", help="a commit with it (default HEAD)")
    p.add_argument("--build", help="shell command building what the replay needs, run in the "
                   "worktree (default: the asan preset into build/bisect, one target)")
    p.add_argument("--check", help="shell command run in the worktree instead of the replay: "
                   "exit 0 = good, other = bad")
    p.add_argument("--fiber-dir", help="prebuilt ASan Boost.Fiber (default: the checkout's "
                   f"{DEFAULT_FIBER_DIR} when present)")
    p.add_argument("--runs", type=int, default=1, help="replays per step (bad at the first)")
    p.add_argument("--timeout", type=int, default=300, help="seconds per replay")
    p.add_argument("--json", dest="json_path", help="write the result here")
    p.add_argument("--md", help="write the report section here")
    p.add_argument("--update", action="store_true",
                   help="record the commit in the known finding (`introduced`)")
    args = p.parse_args(argv)
    if not args.finding and not args.check:
        p.error("a FINDING or --check is needed")
    path = _known_path(args)
    entries, entry, spec, key = [], None, None, args.finding or "(--check)"
    try:
        if args.finding:
            entries = known_mod.load_known(path)
            entry = known_mod.find_entry(entries, args.finding)
            key, spec = known_mod.entry_key(entry), entry.get("reproducer")
            if not spec and not args.check:
                raise BisectError(f"{key}: no reproducer; give --check")
        build = args.build
        if build is None:
            if not spec:
                raise BisectError("--build is needed without a reproducer")
            fiber = args.fiber_dir or os.path.join(args.repo_root, DEFAULT_FIBER_DIR)
            build = default_build(spec, fiber if os.path.isdir(fiber) else None)
        good = args.good or _root_commit(args.repo_root)
        result = bisect(args.repo_root, good, args.bad, key, spec, build, args.check or "",
                        args.timeout, args.runs)
    except (BisectError, known_mod.KnownError) as e:
        print(f"ics-triage bisect: error: {e}", file=sys.stderr)
        return 2
    print(f"first bad commit: {result['commit']} {result['subject']}")
    print(f"ics-triage bisect: {result['steps']} step(s), {result['seconds']} s")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump(dict(result, key=key), f, indent=2)
    if args.md:
        with open(args.md, "w", encoding="utf-8") as f:
            f.write("\n".join(report_lines(result, key)))
    if args.update and entry is not None:
        entry["introduced"] = {"commit": result["commit"], "subject": result["subject"]}
        known_mod.save_known(path, entries)
    return 0


def _root_commit(repo: str) -> str:
    from .bisect import git
    return git(repo, "rev-list", "--max-parents=0", "HEAD").splitlines()[-1]


def main(argv: List[str]) -> int:
    cmd, rest = argv[0], argv[1:]
    if cmd == "bisect-step":
        return run_step(rest[0])
    return {"verify": verify_main, "adopt": adopt_main, "bisect": bisect_main}[cmd](rest)
