"""ics-stress JSON results -> Occurrences (Divergence, Memory-growth, Unexpected-error).

The accepted schema is documented in ci/README.md ("ics-stress JSON"). The "findings" list is
read when present; otherwise findings are derived from the summary keys (diverged, errors,
growth_bytes_per_loop or the flagged growth series, with a verdict other than clean).

A Memory-growth finding with an allocation site (`state`, or the functions of `site`) has the
site as its crash state, whatever series grew: the same site seen as client and as process
growth is one finding. Without a site the state is [kind, scenario], plus the series when it
is not the engine's own account ("server"), so that growth in different series does not merge
and an old JSON (no series: the account) keeps its key."""
import json
from typing import Any, Dict, List, Optional

from .model import Occurrence

CLEAN_VERDICTS = ("clean", "ok", "pass", "passed")
STRESS_TYPES = ("Memory-growth", "Divergence", "Unexpected-error")
ACCOUNT_SERIES = "server"  # the engine's MemoryAccount: the only series of an old JSON
MAX_SITES = 5
SITE_FRAMES = 3
# finding keys that the Occurrence holds elsewhere (not repeated in details)
_NOT_DETAILS = ("samples", "state", "type", "location", "series", "site", "sites",
                "series_samples")


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


def _frame(item: Any) -> Optional[Dict[str, Any]]:
    if isinstance(item, str) and item:
        return {"function": item, "file": "", "line": 0}
    if not isinstance(item, dict) or not (item.get("function") or item.get("file")):
        return None
    try:
        line = int(item.get("line") or 0)
    except (TypeError, ValueError):
        line = 0
    return {"function": str(item.get("function") or ""), "file": str(item.get("file") or ""),
            "line": line}


def _site(item: Any) -> Optional[Dict[str, Any]]:
    """{"frames": [{"function", "file", "line"}], "bytes": float, "allocations": int} or None."""
    if not isinstance(item, dict) or not isinstance(item.get("frames"), list):
        return None
    frames = [fr for fr in (_frame(x) for x in item["frames"]) if fr]
    if not frames:
        return None
    out: Dict[str, Any] = {"frames": frames}
    for k, conv in (("bytes", float), ("allocations", int)):
        try:
            out[k] = conv(item[k]) if item.get(k) is not None else None
        except (TypeError, ValueError):
            out[k] = None
    return out


def _sites(f: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The finding's site first, then the other sites of `sites` (largest growth first)."""
    listed = f.get("sites") if isinstance(f.get("sites"), list) else []
    out = [s for s in (_site(x) for x in listed) if s]
    site = _site(f.get("site"))
    if site:
        out = [site] + [s for s in out if s["frames"] != site["frames"]]
    return out[:MAX_SITES]


def _series_samples(value: Any) -> Dict[str, List[List[float]]]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in ((k, _samples(v)) for k, v in value.items()) if v}


def _series_info(doc: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Top-level `series`: {name: {slope_bytes_per_loop, flagged, reason}}."""
    series = doc.get("series")
    if not isinstance(series, dict):
        return {}
    return {str(k): {x: v.get(x) for x in ("slope_bytes_per_loop", "flagged", "reason")}
            for k, v in series.items() if isinstance(v, dict)}


def _state(type_: str, f: Dict[str, Any], scenario: str,
           sites: Optional[List[Dict[str, Any]]] = None) -> List[str]:
    given = f.get("state")
    if isinstance(given, list) and given:
        return [str(s) for s in given[:3]]
    if type_ == "Memory-growth":
        if sites:
            names = [fr["function"] for fr in sites[0]["frames"] if fr["function"]]
            if names:
                return names[:SITE_FRAMES]
        series = _text(f.get("series"), ACCOUNT_SERIES)
        state = [_text(f.get("kind"), "total"), scenario]
        return state + ([series] if series != ACCOUNT_SERIES else [])
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


def _site_location(sites: List[Dict[str, Any]]) -> Optional[tuple]:
    for fr in sites[0]["frames"] if sites else []:
        if fr["file"]:
            return (fr["file"], fr["line"], 0)
    return None


def _occurrence(f: Dict[str, Any], doc: Dict[str, Any], source: str) -> Occurrence:
    type_ = str(f.get("type", "Unexpected-error"))
    scenario = _text(f.get("scenario", doc.get("scenario")), "default")
    growth = type_ == "Memory-growth"
    sites = _sites(f) if growth else []
    occ = Occurrence(type=type_, state=_state(type_, f, scenario, sites), source=source,
                     command=doc.get("command"), location=_location(f) or _site_location(sites))
    # a growth's given state is its site's function names too
    occ.normalize_state = growth and (bool(sites) or isinstance(f.get("state"), list))
    occ.samples = _samples(f.get("samples")) or (_samples(doc.get("live_bytes")) if growth else [])
    occ.details = {k: v for k, v in f.items() if k not in _NOT_DETAILS}
    occ.details.setdefault("seed", doc.get("seed"))
    occ.details.setdefault("scenario", scenario)
    if growth:
        occ.series = _text(f.get("series"), "") or None
        occ.sites = sites
        occ.series_samples = _series_samples(f.get("series_samples"))
        occ.series_info = _series_info(doc)
        if not occ.samples and occ.series in occ.series_samples:
            occ.samples = occ.series_samples[occ.series]
        heap = doc.get("heap")
        if occ.series == "process" and isinstance(heap, dict) and heap.get("source"):
            occ.details.setdefault("heap_source", heap["source"])
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
    if str(doc.get("verdict", "")).lower() in CLEAN_VERDICTS or out:
        return out
    series = doc.get("series")
    if isinstance(series, dict):  # one finding per flagged series
        for name, s in series.items():
            if isinstance(s, dict) and s.get("flagged"):
                out.append({"type": "Memory-growth", "kind": "total", "series": name,
                            "slope_bytes_per_loop": s.get("slope_bytes_per_loop"),
                            "samples": s.get("samples")})
        return out
    growth = doc.get("growth_bytes_per_loop") or 0
    if growth > 0:
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
