"""Where in the repository a finding points: the top frame inside the project (a path under
engine/, fuzz/, stress/ by default), as a repo-relative URI with line and column."""
import os
from typing import Dict, List, Optional

from .frames import is_ignored
from .model import Finding

DEFAULT_PREFIXES = ("engine/", "fuzz/", "stress/")


def repo_relative(path: str, root: str, prefixes: List[str]) -> Optional[str]:
    """path (absolute, relative or from another checkout such as /src/icsfuzz/...) as a path
    relative to root that starts with one of prefixes, or None."""
    if not path:
        return None
    norm = os.path.normpath(path).replace(os.sep, "/")
    root = os.path.normpath(root).replace(os.sep, "/")
    if norm.startswith(root + "/"):
        rel = norm[len(root) + 1:]
        return rel if rel.startswith(tuple(prefixes)) else None
    padded = "/" + norm.lstrip("./") if not norm.startswith("/") else norm
    best = None
    for prefix in prefixes:
        at = padded.rfind("/" + prefix)
        if at < 0:
            continue
        rel = padded[at + 1:]
        if os.path.exists(os.path.join(root, rel)):
            return rel
        best = best or rel
    return best


def _frame_location(finding: Finding, root: str, prefixes: List[str]) -> Optional[Dict]:
    occ = finding.first
    frames = occ.alloc_frames if occ.state_from == "allocation" else occ.frames
    # frames of the crash state first: a runtime callback may live in the project too
    for frame in [f for f in frames if not is_ignored(f)] + frames:
        rel = repo_relative(frame.file, root, prefixes)
        if rel:
            return {"uri": rel, "line": frame.line, "column": frame.column, "fallback": False}
    if occ.location:
        rel = repo_relative(occ.location[0], root, prefixes)
        if rel:
            return {"uri": rel, "line": occ.location[1], "column": occ.location[2],
                    "fallback": False}
    return None


def _fallback(finding: Finding, root: str) -> Dict:
    """Code scanning needs a location for every result: the fuzz target's source when it is
    known, else the README of the part that found it."""
    target = finding.reproducer.get("target")
    candidates = [f"fuzz/fuzz_{target}.cpp"] if target else []
    if finding.first.command:
        candidates.append("stress/README.md")
    candidates.append("README.md")
    for rel in candidates:
        if os.path.exists(os.path.join(root, rel)):
            return {"uri": rel, "line": 1, "column": 0, "fallback": True}
    return {"uri": candidates[-1], "line": 1, "column": 0, "fallback": True}


def locate(finding: Finding, root: str, prefixes: List[str]) -> Dict:
    return _frame_location(finding, root, prefixes) or _fallback(finding, root)
