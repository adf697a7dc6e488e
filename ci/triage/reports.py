"""report.json (stable keys), report.md (summary table, then one section per finding) and
report.sarif (SARIF 2.1.0: one rule per type, one result per finding)."""
import re
from typing import Any, Dict, List, Optional

from .frames import Frame, normalize_function
from .model import Finding, series_label
from .severity import SARIF_SCORE
from .svg import byte_label
from .verify import to_markdown as verify_lines

TOOL = "ics-triage"
SCHEMA_VERSION = 1
STATUS_ORDER = {"regression": 0, "new": 1, "known": 2}
SEVERITY_ORDER = {"High": 0, "Medium": 1, "Low": 2, "None": 3}
MAX_STACK = 30


def sort_findings(findings: List[Finding]) -> List[Finding]:
    return sorted(findings, key=lambda f: (STATUS_ORDER[f.status], SEVERITY_ORDER[f.severity],
                                           f.key))


def _stack(frames: List[Frame]) -> List[str]:
    return [f.text for f in frames[:MAX_STACK]]


def _known(f: Finding) -> Optional[Dict[str, Any]]:
    if not f.known:
        return None
    return {k: f.known.get(k) for k in ("status", "note", "issue")}


def site_text(site: Dict[str, Any], sep: str = " <- ", code: bool = False) -> str:
    """'ics::Replica::apply_message (engine/src/replica.cpp:143) <- ics::Replica::apply (...)';
    function names in backticks with code=True (Markdown)."""
    parts = []
    for fr in site["frames"]:
        where = f"{fr['file']}:{fr['line']}" if fr["file"] and fr["line"] else fr["file"]
        name = normalize_function(fr["function"]) if fr["function"] else "?"
        name = f"`{name}`" if code else name
        parts.append(f"{name} ({where})" if where else name)
    return sep.join(parts)


def finding_json(f: Finding, plot: Optional[str]) -> Dict[str, Any]:
    occ = f.first
    details = {k: v for k, v in occ.details.items() if v is not None}
    return {
        "series": f.series, "site": occ.sites[0] if occ.sites else None, "sites": occ.sites,
        "series_samples": occ.series_samples,
        "id": f.id, "key": f.key, "type": f.type, "state": f.state, "status": f.status,
        "severity": f.severity, "access": f.access, "impact": f.impact,
        "reliability": f.reliability, "count": len(f.occurrences), "known": _known(f),
        "location": f.location,
        "reproducer": {k: f.reproducer.get(k) for k in
                       ("target", "input", "binary", "command", "minimized", "minimized_bytes",
                        "minimize_status", "replay")},
        "sources": [{"file": o.source, "line": o.source_line} for o in f.occurrences],
        "stack": _stack(occ.frames), "allocation_stack": _stack(occ.alloc_frames),
        "free_stack": _stack(occ.free_frames), "gtest": occ.gtest, "details": details,
        "samples": occ.samples, "plot": plot,
    }


def summary(findings: List[Finding], inputs: int) -> Dict[str, int]:
    out = {"inputs": inputs, "reports": sum(len(f.occurrences) for f in findings),
           "findings": len(findings)}
    for status in ("new", "regression", "known"):
        out[status] = sum(1 for f in findings if f.status == status)
    return out


def to_json(findings: List[Finding], inputs: int, plots: Dict[str, str],
            run: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    out = {"tool": TOOL, "version": SCHEMA_VERSION, "summary": summary(findings, inputs),
           "findings": [finding_json(f, plots.get(f.id)) for f in findings]}
    if run is not None:
        out["run"] = run
    return out


# ---- Markdown ----------------------------------------------------------------------------

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(findings: List[Finding]) -> List[str]:
    rows = ["| # | status | severity | access | type | crash state | count | reproduced | id |",
            "|---|---|---|---|---|---|---|---|---|"]
    for n, f in enumerate(findings, 1):
        status = f.status if f.status == "known" else f"**{f.status}**"
        state = "<br>".join(_cell(s) for s in f.state) or "(no frames)"
        rel = _reliability_cell(f)
        rows.append(f"| {n} | {status} | {f.severity} | {f.access} | {_cell(f.title)} | {state} | "
                    f"{len(f.occurrences)} | {rel} | `{f.id}` |")
    return rows


def _reliability_cell(f: Finding) -> str:
    r = f.reliability
    if not r or not r.get("runs"):
        return ""
    text = f"{r['reproduced']}/{r['runs']}"
    return f"**{text} flaky**" if r.get("flaky") else text


def _code(title: str, lines: List[str]) -> List[str]:
    return [f"{title}:", "", "```", *lines, "```", ""] if lines else []


def _location_line(f: Finding) -> str:
    loc = f.location or {}
    where = f"{loc.get('uri')}:{loc.get('line')}" if loc else "unknown"
    return where + (" (no frame in the project; placeholder)" if loc.get("fallback") else "")


def _reproducer_lines(f: Finding) -> List[str]:
    rep = f.reproducer
    out = [f"- fuzz target: `{rep['target']}`"] if rep.get("target") else []
    if rep.get("input"):
        out.append(f"- input: `{rep['input']}`")
    if rep.get("minimized"):
        out.append(f"- minimised: `{rep['minimized']}` ({rep.get('minimized_bytes')} bytes)")
    elif rep.get("minimize_status"):
        out.append(f"- minimisation: {rep['minimize_status']}")
    out.append(f"- reproduce: `{rep['command']}`" if rep.get("command")
               else "- reproduce: no command known (no input or binary in the logs)")
    return out


def _growth_lines(f: Finding) -> List[str]:
    """Which series grew (per occurrence) and where the bytes that stay were allocated."""
    out = []
    grew = []
    for o in f.occurrences[:5]:
        if o.series:
            slope = o.details.get("slope_bytes_per_loop")
            grew.append(f"{series_label(o.series)} (`{o.series}`"
                        + (f", {float(slope):.1f} B/loop" if isinstance(slope, (int, float)) else "")
                        + f", `{o.source}`)")
    if grew:
        out.append("- grew in: " + "; ".join(grew) + (" ..." if len(f.occurrences) > 5 else ""))
    sites = f.first.sites
    if sites:
        out.append(f"- allocation site: {site_text(sites[0], code=True)}")
    return out


def _sites_table(f: Finding) -> List[str]:
    sites = f.first.sites
    if not sites:
        return []
    out = ["Allocation sites of the bytes that stay (largest growth first):", "",
           "| # | bytes | allocations | frames |", "|---|---|---|---|"]
    for n, site in enumerate(sites, 1):
        size = byte_label(site["bytes"]) if site.get("bytes") is not None else ""
        count = site.get("allocations") if site.get("allocations") is not None else ""
        out.append(f"| {n} | {size} | {count} | {_cell(site_text(site, '<br>', code=True))} |")
    return out + [""]


def _section(n: int, f: Finding, plot: Optional[str]) -> List[str]:
    occ = f.first
    flaky = ", **flaky**" if f.reliability and f.reliability.get("flaky") else ""
    out = [f"## {n}. {f.title} ({f.status}, severity {f.severity}{flaky})", "",
           f"- key: `{f.key}`", f"- id: `{f.id}`",
           f"- access: {f.access}", f"- ICS impact: {f.impact}",
           f"- crash state: {' / '.join(f'`{s}`' for s in f.state) or '(no frames)'}",
           f"- location: {_location_line(f)}",
           f"- seen {len(f.occurrences)} time(s): "
           + ", ".join(f"`{o.source}:{o.source_line}`" for o in f.occurrences[:5])
           + (" ..." if len(f.occurrences) > 5 else "")]
    if f.known:
        out.append(f"- known-findings entry: status {f.known.get('status')}, "
                   f"issue {f.known.get('issue') or '-'}: {f.known.get('note') or ''}")
    out += _growth_lines(f)
    for k in ("message", "header", "bytes", "objects", "slope_bytes_per_loop",
              "projected_loops_to_budget", "what", "error", "call", "seed", "scenario",
              "heap_source"):
        if occ.details.get(k) is not None:
            out.append(f"- {k.replace('_', ' ')}: {occ.details[k]}")
    if occ.gtest:
        out.append(f"- test: `{occ.gtest}`")
    out += _reproducer_lines(f)
    if f.reliability:
        out.append(f"- reliability: {f.reliability['label']}"
                   + (f" (last replay: {f.reliability['last']})"
                      if f.reliability.get("last") and f.reliability.get("flaky") else ""))
    out.append("")
    if plot:
        out += [f"![live bytes over loops]({plot})", ""]
    out += _sites_table(f)
    out += _code("Stack", _stack(occ.frames) if occ.state_from == "crash" else [])
    out += _code("Allocated at", _stack(occ.alloc_frames))
    out += _code("Freed at", _stack(occ.free_frames))
    return out


def _pct(part: Dict[str, Any]) -> str:
    return f"{part['percent']:.1f}% ({part['covered']}/{part['count']})"


def _series_names(stress: List[Dict[str, Any]]) -> List[str]:
    """The growth series of the stress runs: server, client, process, then any other."""
    seen = [n for t in stress if isinstance(t.get("series"), dict) for n in t["series"]]
    order = ["server", "client", "process"]
    return [n for n in order if n in seen] + sorted(set(n for n in seen if n not in order))


def _series_cell(t: Dict[str, Any], name: str) -> str:
    s = (t.get("series") or {}).get(name)
    if not isinstance(s, dict):
        return ""
    slope = s.get("slope_bytes_per_loop")
    text = f"{float(slope):.1f}" if isinstance(slope, (int, float)) else ""
    return f"**{text} flagged**" if s.get("flagged") else text


def _speed_lines(speed: Optional[Dict[str, Any]]) -> List[str]:
    """ci/fuzz-speed's table: exec/s, the empty target's, the ratio and its drop since last night."""
    if not isinstance(speed, dict) or not speed.get("targets"):
        return []
    empty = (speed.get("empty") or {}).get("exec_per_s")
    dropped = {d.get("target"): d for d in speed.get("drops") or []}
    out = [f"Speed ({speed.get('seconds', '?')} s each beside an empty target with the same flags; "
           f"load average {speed.get('load', '?')}):", "",
           "| target | exec/s | empty exec/s | ratio | since last night |", "|---|---|---|---|---|"]
    for t in speed["targets"]:
        ratio = t.get("ratio")
        ratio_text = f"{ratio:.5f}" if isinstance(ratio, (int, float)) else ""
        d = dropped.get(t.get("target"))
        note = f"**{d['change']:+.0%} since the previous night**" if d else ""
        out.append(f"| {_cell(str(t.get('target')))} | {t.get('exec_per_s', '')} "
                   f"| {'' if empty is None else round(empty)} | {ratio_text} | {note} |")
    out.append("")
    return out


def _run_lines(run: Dict[str, Any]) -> List[str]:
    """The nightly's own figures (--run-info): fuzz targets, stress scenarios, coverage."""
    out = ["## Run", ""]
    fuzz = run.get("fuzz") or []
    if fuzz:
        out += ["| target | seconds | exec/s | cov | corpus | artifacts |", "|---|---|---|---|---|---|"]
        out += [f"| {_cell(str(t.get('target')))} | {t.get('seconds', '')} | {t.get('exec_per_s', '')} "
                f"| {t.get('cov', '')} | {t.get('corpus', '')} | {t.get('artifacts', '')} |" for t in fuzz]
        out.append("")
    stress = run.get("stress") or []
    if stress:
        names = _series_names(stress)
        out += ["| scenario | exit | loops | loops/s | growth B/loop | verdict |"
                + "".join(f" {n} B/loop |" for n in names),
                "|---|---|---|---|---|---|" + "---|" * len(names)]
        out += [f"| {_cell(str(t.get('scenario')))} | {t.get('exit', '')} | {t.get('loops', '')} "
                f"| {t.get('loops_per_s', '')} | {t.get('growth_bytes_per_loop', '')} "
                f"| {t.get('verdict', '')} |" + "".join(f" {_series_cell(t, n)} |" for n in names)
                for t in stress]
        out.append("")
        if names:
            out += ["Growth series: `server` the engine's memory account, `client` the replicas, "
                    "`process` every live heap byte; **flagged** = growth by the confidence rule.",
                    ""]
    out += _speed_lines(run.get("speed"))
    cov = run.get("coverage")
    if cov and "lines" in cov:
        out += [f"Engine coverage of the corpus: lines {_pct(cov['lines'])}, "
                f"branches {_pct(cov['branches'])}, functions {_pct(cov['functions'])}.", ""]
    return out


def to_markdown(findings: List[Finding], inputs: int, plots: Dict[str, str],
                run: Optional[Dict[str, Any]] = None,
                verified: Optional[Dict[str, Any]] = None) -> str:
    s = summary(findings, inputs)
    out = ["# ics-triage report", "",
           f"{s['inputs']} input file(s), {s['reports']} report(s), {s['findings']} finding(s): "
           f"{s['new']} new, {s['regression']} regression(s), {s['known']} known.", ""]
    if findings:
        out += _table(findings) + [""]
    if verified:
        out += verify_lines(verified.get("results", []), str(verified.get("commit", "")),
                            str(verified.get("date", "")))
    if run:
        out += _run_lines(run)
    for n, f in enumerate(findings, 1):
        out += _section(n, f, plots.get(f.id))
    return "\n".join(out).rstrip() + "\n"


# ---- SARIF -------------------------------------------------------------------------------

def rule_id(type_: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", type_.lower()).strip("-")


def _rule(f: Finding) -> Dict[str, Any]:
    props: Dict[str, Any] = {"tags": ["security" if f.severity in SARIF_SCORE else "correctness"],
                             "precision": "high"}
    if f.severity in SARIF_SCORE:
        props["security-severity"] = SARIF_SCORE[f.severity]
    return {"id": rule_id(f.type), "name": f.type,
            "shortDescription": {"text": f.type},
            "fullDescription": {"text": f"{f.type} reported by a sanitizer, libFuzzer or "
                                        f"ics-stress (security severity hint: {f.severity})."},
            "defaultConfiguration": {"level": _level(f)}, "properties": props}


def _level(f: Finding) -> str:
    return {"High": "error", "Medium": "error", "Low": "warning"}.get(f.severity, "note")


def _result(f: Finding, index: int) -> Dict[str, Any]:
    loc = f.location or {"uri": "README.md", "line": 1, "column": 0}
    region: Dict[str, int] = {"startLine": max(1, int(loc["line"] or 1))}
    if loc.get("column"):
        region["startColumn"] = int(loc["column"])
    text = f"{f.title} in {' / '.join(f.state) or '(no frames)'} ({f.status}, seen " \
           f"{len(f.occurrences)} time(s))"
    if f.first.sites:
        text += f". Allocation site: {site_text(f.first.sites[0])}"
    text += f". Access: {f.access}. ICS impact: {f.impact}"
    if f.reliability and f.reliability.get("runs"):
        text += f". {f.reliability['label'][0].upper()}{f.reliability['label'][1:]}"
    if f.reproducer.get("command"):
        text += f". Reproduce: {f.reproducer['command']}"
    return {"ruleId": rule_id(f.type), "ruleIndex": index, "level": _level(f),
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": loc["uri"], "uriBaseId": "%SRCROOT%"},
                "region": region}}],
            "partialFingerprints": {"icsTriageKey/v1": f.id},
            "properties": {"key": f.key, "status": f.status, "severity": f.severity,
                           "state": f.state, "count": len(f.occurrences),
                           "locationIsPlaceholder": bool(loc.get("fallback")),
                           "access": f.access, "impact": f.impact,
                           **({"reliability": {k: f.reliability.get(k) for k in
                                               ("runs", "reproduced", "flaky")}}
                              if f.reliability and f.reliability.get("runs") else {}),
                           **({"series": f.series} if f.series else {}),
                           **({"site": f.first.sites[0]} if f.first.sites else {})}}


def to_sarif(findings: List[Finding]) -> Dict[str, Any]:
    rules: List[Dict[str, Any]] = []
    index: Dict[str, int] = {}
    results = []
    for f in findings:
        rid = rule_id(f.type)
        if rid not in index:
            index[rid] = len(rules)
            rules.append(_rule(f))
        results.append(_result(f, index[rid]))
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": TOOL, "rules": rules}},
                      "results": results}]}
