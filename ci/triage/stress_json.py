"""ics-stress JSON results -> Occurrences (Divergence, Memory-growth, Unexpected-error).

The accepted schema is documented in ci/README.md ("ics-stress JSON"). The "findings" list is
read when present; otherwise findings are derived from the summary keys (diverged, errors,
growth_bytes_per_loop with a verdict other than clean)."""
import json
from typing import Any, Dict, List, Optional

from .model import Occurrence

CLEAN_VERDICTS = ("clean", "ok", "pass", "passed")
STRESS_TYPES = ("Memory-growth", "Divergence", "Unexpected-error")


def looks_like_stress(doc: Any) -> bool:
    return isinstance(doc, dict) and "verdict" in doc


def _samples(series: Any) -> List[List[float]]:
    """[[loop, bytes], ...] from either pairs or a plain list of bytes (index = loop)."""
    if not isinstance(series, list):
        return []
    out = []
    for i, item in enumerate(series):
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            out.append([float(item[0]), float(item[1])])
        elif isinstance(item, (int, float)):
            out.append([float(i), float(item)])
    return out


def _text(value: Any, default: str) -> str:
    return str(value) if value not in (None, "") else default


def _state(type_: str, f: Dict[str, Any], scenario: str) -> List[str]:
    given = f.get("state")
    if isinstance(given, list) and given:
        return [str(s) for s in given[:3]]
    if type_ == "Memory-growth":
        return [_text(f.get("kind"), "total"), scenario]
    if type_ == "Divergence":
        return [scenario, _text(f.get("what"), "diverged")]
    if type_ == "Unexpected-error":
        return [_text(f.get("call"), "call"), _text(f.get("error"), "error")]
    return [scenario]


def _location(f: Dict[str, Any]) -> Optional[tuple]:
    loc = f.get("location")
    if isinstance(loc, dict) and loc.get("file"):
        return (str(loc["file"]), int(loc.get("line", 0) or 0), int(loc.get("column", 0) or 0))
    return None


def _occurrence(f: Dict[str, Any], doc: Dict[str, Any], source: str) -> Occurrence:
    type_ = str(f.get("type", "Unexpected-error"))
    scenario = _text(f.get("scenario", doc.get("scenario")), "default")
    occ = Occurrence(type=type_, state=_state(type_, f, scenario), source=source,
                     command=doc.get("command"), location=_location(f))
    occ.samples = _samples(f.get("samples")) or (
        _samples(doc.get("live_bytes")) if type_ == "Memory-growth" else [])
    occ.details = {k: v for k, v in f.items() if k not in ("samples", "state", "type", "location")}
    occ.details.setdefault("seed", doc.get("seed"))
    occ.details.setdefault("scenario", scenario)
    return occ


def _derived(doc: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Findings implied by the summary keys of a JSON without a "findings" list."""
    out: List[Dict[str, Any]] = []
    if doc.get("diverged"):
        out.append({"type": "Divergence", "what": "diverged", "count": doc.get("diverged")})
    errors = doc.get("errors")
    for e in (errors if isinstance(errors, list) else ([{}] if errors else [])):
        e = e if isinstance(e, dict) else {"what": str(e)}
        out.append(dict(e, type="Unexpected-error"))
    growth = doc.get("growth_bytes_per_loop") or 0
    if str(doc.get("verdict", "")).lower() not in CLEAN_VERDICTS and growth > 0 and not out:
        out.append({"type": "Memory-growth", "kind": "total", "slope_bytes_per_loop": growth})
    return out


def parse_stress(doc: Dict[str, Any], source: str) -> List[Occurrence]:
    findings = doc.get("findings")
    if not isinstance(findings, list):
        findings = _derived(doc)
    return [_occurrence(f, doc, source) for f in findings if isinstance(f, dict)]


def load_json(text: str) -> Optional[Any]:
    try:
        return json.loads(text)
    except ValueError:
        return None
