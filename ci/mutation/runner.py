"""Runs one mutant through the harnesses, in the nightly's order, in a slot of its own.

A slot is a copy of the repository's tracked files (build/mutants/slot<k>/src) with its own
build trees (the presets' build/<preset> inside it). Between mutants only the mutated file
changes, so a build recompiles that file (ccache answers for the restored original) and
relinks what needs it. The mutated file is written back after the mutant, always with a new
modification time, so ninja never keeps a mutated object.

The harnesses (cheapest first; the first that reports a new finding kills the mutant):
  regression        the g++ `default` build's replay drivers over corpus/<target>/
  unit              the g++ `default` build's unit suite
  regression-asan   the ASan replay drivers
  unit-asan         the ASan unit suite
  fuzz:<target>     libFuzzer from the seed corpus, for the targets that link the file
  stress:<scenario> ics-stress under ASan/LSan
The fuzz and stress harnesses share the budget as in the bug zoo (three quarters to fuzzing).
The budget (--seconds) is the searching harnesses' (fuzz, stress). The cheap ones always run
whole, with a hang limit of their own (CHEAP_LIMIT): on a loaded machine the ASan unit suite
alone can pass a small budget, and a suite that was merely slow must not count as a hang.
A result's `seconds` is all the harness time until the kill, the cheap harnesses' included.
"""
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))


def _load_zoo():
    path = os.path.join(ROOT, "ci", "bugzoo-harness")
    loader = importlib.machinery.SourceFileLoader("bugzoo_harness", path)
    spec = importlib.util.spec_from_loader("bugzoo_harness", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


zoo = _load_zoo()
CHEAP_LIMIT = float(os.environ.get("MUTANTS_CHEAP_LIMIT", "240"))
say = zoo.say


class Slot:
    """One source copy and its build trees. `build(flavour, targets)` and `dir(flavour)` are
    the interface the bug zoo's harness functions expect of a variant."""

    def __init__(self, index, base):
        self.index = index
        self.base = os.path.join(base, f"slot{index}")
        self.src = os.path.join(self.base, "src")
        self.built = set()
        self.build_seconds = 0.0
        self.log = os.path.join(self.base, "build.log")
        self.failed_build = None

    def sync(self):
        """Makes the slot's sources the checkout's tracked (and untracked, not ignored) files.
        Only files whose content differs are written, so nothing else rebuilds."""
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                "--exclude-standard"], cwd=ROOT, check=True,
                               stdout=subprocess.PIPE).stdout.decode().split("\0")
        keep = set(filter(None, files))
        for top, dirs, names in os.walk(self.src):
            if top == self.src:
                dirs[:] = [d for d in dirs if d != "build"]
            for name in names:
                path = os.path.join(top, name)
                if os.path.relpath(path, self.src) not in keep:
                    os.unlink(path)  # deleted or renamed in the checkout since the last sync
        for rel in keep:
            src, dst = os.path.join(ROOT, rel), os.path.join(self.src, rel)
            if not os.path.isfile(src) or os.path.islink(src):
                continue
            with open(src, "rb") as f:
                data = f.read()
            if os.path.exists(dst):
                with open(dst, "rb") as f:
                    if f.read() == data:
                        continue
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as f:
                f.write(data)
            shutil.copymode(src, dst)

    def dir(self, flavour):
        return os.path.join(self.src, "build", flavour)

    def reset(self):
        self.built = set()
        self.build_seconds = 0.0
        self.failed_build = None

    def build(self, flavour, targets):
        want = [t for t in targets if (flavour, t) not in self.built]
        if not want:
            return True
        start = time.monotonic()
        env = dict(os.environ, CCACHE_BASEDIR=self.src, CCACHE_NOHASHDIR="1")
        with open(self.log, "a") as f:
            if not os.path.exists(os.path.join(self.dir(flavour), "build.ninja")):
                cmd = ["cmake", "--preset", flavour,
                       f"-DICS_FIBER_ASAN_DIR={ROOT}/build/deps/boost-fiber-asan"]
                if subprocess.run(cmd, cwd=self.src, stdout=f, stderr=subprocess.STDOUT,
                                  env=env).returncode:
                    self.failed_build = "configure"
                    return False
            cmd = ["cmake", "--build", self.dir(flavour), "-j", os.environ.get("JOBS", "2"),
                   "--target", *want]
            f.write(f"\n+ {' '.join(cmd)}\n")
            f.flush()
            rc = subprocess.run(cmd, cwd=self.src, stdout=f, stderr=subprocess.STDOUT,
                                env=env).returncode
        self.build_seconds += time.monotonic() - start
        if rc:
            self.failed_build = flavour
            return False
        self.built.update((flavour, t) for t in want)
        return True


# ---------------------------------------------------------------------------------------------
# Which binaries link which engine file: a static library only brings in the objects whose
# symbols are used, so a fuzz target links a source file when it defines one of its symbols.

def _defined(path):
    """The strong global symbols a file defines (mangled; weak template and inline copies,
    which every object may hold, are left out)."""
    r = subprocess.run(["nm", "--defined-only", "--extern-only", "--format=posix", path],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = set()
    for line in r.stdout.splitlines():
        parts = line.split(" ")
        if len(parts) > 1 and parts[1] in ("T", "D", "B", "R"):
            out.add(parts[0])
    return out


def link_map(slot, targets):
    """{engine source: [fuzz targets whose binary links it]}; headers map to every target."""
    d = slot.dir("default")
    objs = {}
    obj_dir = os.path.join(d, "engine", "CMakeFiles", "ics_engine.dir", "src")
    for name in sorted(os.listdir(obj_dir)):
        if name.endswith(".cpp.o"):
            objs[f"engine/src/{name[:-2]}"] = _defined(os.path.join(obj_dir, name))
    binaries = {t: _defined(os.path.join(d, "fuzz", f"fuzz_{t}")) for t in targets}
    out = {}
    for src, syms in objs.items():
        out[src] = [t for t, have in binaries.items() if syms & have]
    return out


# ---------------------------------------------------------------------------------------------
# The g++ harnesses; the ASan, fuzz and stress ones are the bug zoo's.

def replay(flavour, targets):
    """The replay drivers of `flavour` over each target's checked-in corpus, one shell line."""
    def h(v, work, seconds):
        if not v.build(flavour, [f"fuzz_{t}" for t in targets]):
            return None
        parts = [f"'{v.dir(flavour)}/fuzz/fuzz_{t}' '{ROOT}/corpus/{t}' || exit $?"
                 for t in targets if os.path.isdir(os.path.join(ROOT, "corpus", t))]
        return ["bash", "-c", "\n".join(parts) or "true"], None
    return h


def quick_unit(v, work, seconds):
    if not v.build("default", ["ics_unit_tests"]):
        return None
    return [os.path.join(v.dir("default"), "engine", "ics_unit_tests"), "--gtest_brief=1",
            "--gtest_fail_fast"], None


def harness_order(linked, families=None):
    """(name, fn, kind) in the nightly's order for a file linked by the fuzz targets `linked`."""
    order = [("regression", replay("default", linked), "cheap"), ("unit", quick_unit, "cheap"),
             ("regression-asan", replay("asan", linked), "cheap"),
             ("unit-asan", zoo.unit_harness, "cheap")]
    order += [(f"fuzz:{t}", zoo.fuzz_harness(t), "fuzz") for t in linked]
    order += [(f"stress:{s}", zoo.stress_harness(s, 1), "stress") for s in zoo.STRESS_SCENARIOS]
    order += [(f"stress-threads:{s}", zoo.stress_harness(s, zoo.STRESS_THREADS), "stress")
              for s in zoo.STRESS_SCENARIOS]
    return [h for h in order if zoo.selected(h[0], families)]


def run_mutant(slot, mutant, out, seconds, order):
    """Applies `mutant` in `slot`, runs the harnesses `order` ((name, fn, kind) as
    harness_order gives) within `seconds`, restores the file. Returns the result (also
    written to out/result.json)."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(slot.src, mutant.file)
    with open(path) as f:
        original = f.read()
    slot.reset()
    result = {**mutant.to_json(), "diff": mutant.diff(), "status": None, "by": None,
              "seconds": None, "runs": []}
    try:
        _write(path, mutant.apply(original))
        result.update(_harnesses(slot, out, seconds, order))
    finally:
        _write(path, original)
    result["build_seconds"] = round(slot.build_seconds, 1)
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
    return result


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    now = time.time()
    os.utime(path, (now, now))


def _harnesses(slot, out, seconds, order):
    used, searched, runs = 0.0, 0.0, []
    n_fuzz = sum(1 for h in order if h[2] == "fuzz")
    n_stress = sum(1 for h in order if h[2] == "stress")
    fuzz_left, stress_left = n_fuzz, n_stress
    for name, fn, kind in order:
        left = seconds - searched
        if kind == "cheap":
            share = max(left, CHEAP_LIMIT)
        elif left < 1:
            break
        elif kind == "fuzz":
            share = max(zoo.MIN_FUZZ_SECONDS, (left * 3 / 4 if n_stress else left) / fuzz_left)
            fuzz_left -= 1
        else:
            share = max(zoo.MIN_STRESS_SECONDS, left / stress_left)
            stress_left -= 1
        r = zoo.run_one(name, fn, slot, out, share if kind == "cheap" else min(share, left))
        runs.append(r)
        used += r["seconds"]
        searched += 0 if kind == "cheap" else r["seconds"]
        if r.get("error") == "build failed":
            if not any(x.get("exit") is not None for x in runs):
                return {"status": "no-compile", "runs": runs, "build_failed": slot.failed_build}
            return {"status": "error", "runs": runs, "build_failed": slot.failed_build}
        if r["exit"] is None:
            return {"status": "timeout", "by": name, "seconds": round(used, 1), "runs": runs}
        if r["findings"]:
            f = r["findings"][0]
            return {"status": "killed", "by": name, "seconds": round(used, 1), "runs": runs,
                    "finding": {"type": f["type"], "state": f["state"]}}
    return {"status": "survived", "seconds": round(used, 1), "runs": runs}

