"""ci/known-findings.json: a list of {key | type + state, status: open | fixed, note, issue}.
A finding that matches an open entry is known, one that matches a fixed entry is a
regression, any other is new."""
import hashlib
import json
import os
from typing import Any, Dict, List

from .model import Finding, make_key

STATUSES = ("open", "fixed")


class KnownError(Exception):
    pass


def _entry_key(entry: Dict[str, Any]) -> str:
    if entry.get("key"):
        return str(entry["key"])
    state = entry.get("state", [])
    if isinstance(state, str):
        state = [s.strip() for s in state.split(" / ") if s.strip()]
    return make_key(str(entry["type"]), [str(s) for s in state])


def _check(entry: Any, index: int) -> None:
    if not isinstance(entry, dict):
        raise KnownError(f"entry {index}: not an object")
    if not entry.get("key") and not (entry.get("type") and "state" in entry):
        raise KnownError(f"entry {index}: needs \"key\", or \"type\" and \"state\"")
    if entry.get("status") not in STATUSES:
        raise KnownError(f"entry {index}: status must be one of {', '.join(STATUSES)}")


def load_known(path: str) -> List[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        raise KnownError(f"{path}: {e}") from e
    if not isinstance(entries, list):
        raise KnownError(f"{path}: the top level must be a list")
    for i, entry in enumerate(entries):
        _check(entry, i)
    return entries


def classify(findings: List[Finding], entries: List[Dict[str, Any]]) -> None:
    """Set status and known on each finding. An open entry wins over a fixed one."""
    by_key: Dict[str, Dict[str, Any]] = {}
    for entry in entries:
        key = _entry_key(entry)
        if key not in by_key or entry["status"] == "open":
            by_key[key] = entry
    for f in findings:
        entry = by_key.get(f.key)
        f.known = entry
        if entry is None:
            f.status = "new"
        else:
            f.status = "known" if entry["status"] == "open" else "regression"


# ---- the loop: ids, reproducers, fixed / regressed marks, writing the file back ----------

def entry_key(entry: Dict[str, Any]) -> str:
    return _entry_key(entry)


def entry_id(entry: Dict[str, Any]) -> str:
    """The finding id of an entry (the same as report.json's `id`)."""
    return hashlib.sha1(_entry_key(entry).encode()).hexdigest()[:12]


def find_entry(entries: List[Dict[str, Any]], which: str) -> Dict[str, Any]:
    """The entry whose id, id prefix (6+ characters) or key is `which`."""
    hits = [e for e in entries if which in (_entry_key(e), entry_id(e))
            or (len(which) >= 6 and entry_id(e).startswith(which))]
    if len(hits) != 1:
        raise KnownError(f"{which}: {'no' if not hits else len(hits)} matching known finding(s)")
    return hits[0]


def save_known(path: str, entries: List[Dict[str, Any]]) -> None:
    """One entry per block, one key a line (nested values on the key's line); replaces the
    file atomically."""
    def block(e: Dict[str, Any]) -> str:
        first = [k for k in ("key", "type", "state", "status") if k in e]
        keys = first + sorted(k for k in e if k not in first)
        return "  {\n" + ",\n".join(f"    {json.dumps(k)}: {json.dumps(e[k])}" for k in keys) + "\n  }"
    text = "[\n" + ",\n".join(block(e) for e in entries) + "\n]\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def mark_fixed(entry: Dict[str, Any], commit: str, date: str, runs: int) -> None:
    entry["status"] = "fixed"
    entry["fixed"] = {"commit": commit, "date": date, "runs": runs}
    entry.pop("regressed", None)
    entry.setdefault("history", []).append({"event": "fixed", "commit": commit, "date": date})


def mark_regressed(entry: Dict[str, Any], commit: str, date: str) -> bool:
    """Record the first time a fixed finding came back; True when this is that first time.
    The entry stays `fixed`, so triage keeps reporting the finding as a regression."""
    if entry.get("regressed"):
        return False
    entry["regressed"] = {"commit": commit, "date": date}
    entry.setdefault("history", []).append({"event": "regressed", "commit": commit, "date": date})
    return True
