"""ci/known-findings.json: a list of {key | type + state, status: open | fixed, note, issue}.
A finding that matches an open entry is known, one that matches a fixed entry is a
regression, any other is new."""
import json
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
