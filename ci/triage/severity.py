"""Security-severity hint per finding type, in the spirit of ClusterFuzz. The table is the
single source: ci/README.md prints the same rows (a unit test keeps them in step)."""
import re
from typing import Any, Dict, List, Optional, Tuple

# (type pattern, severity, why). First match wins; types are matched as the tool prints them.
TABLE: List[Tuple[str, str, str]] = [
    (r"^Heap-use-after-free", "High", "use-after-free: attacker-shaped reuse of freed memory"),
    (r"^Heap-double-free$|^Bad-free$", "High", "heap metadata corruption"),
    (r"^[\w-]*(?:overflow|underflow|use-after-[\w-]+|poison)\b.* WRITE", "High",
     "out-of-bounds or stale write"),
    (r"^[\w-]*(?:overflow|underflow|use-after-[\w-]+|poison)\b.* READ", "Medium",
     "out-of-bounds or stale read: information leak"),
    (r"^SEGV on unknown address$", "Medium", "wild access (Low when the address is in the zero page)"),
    (r"^Data-race$", "Medium", "unsynchronised access; may become a use-after-free"),
    (r"^UBSan: (?:bounds|pointer-overflow|object-size|vptr|function)$", "Medium",
     "undefined behaviour that is a memory-safety bug"),
    (r"^Stack-overflow$|^Bus-error$|^Floating-point-exception$|^Illegal-instruction$"
     r"|^Abort$|^Fatal-signal$", "Low", "crash: denial of service"),
    (r"^Timeout$|^Out-of-memory$|^Allocation-size-too-big$|^Memory-growth$"
     r"|^Direct-leak$|^Indirect-leak$", "Low", "resource exhaustion: denial of service"),
    (r"^UBSan: |^TSan: |^Alloc-dealloc-mismatch$|^New-delete-type-mismatch$"
     r"|^Memcpy-param-overlap$", "Low", "undefined behaviour; exploitable only with more"),
    (r"^Divergence$|^Unexpected-error$|^Oracle-failure$|^Unexpected-exit$", "None",
     "correctness bug, not a memory-safety one"),
    (r".", "Low", "anything else"),
]

SARIF_SCORE = {"High": "8.0", "Medium": "5.5", "Low": "3.0"}


_MEMORY_ORACLE = re.compile(r"memory|live_bytes|live_objects|baseline", re.I)


def memory_oracle(type_: str, details: Dict[str, Any]) -> bool:
    """An oracle that failed because memory stayed behind (MemoryBaseline, "memory not back
    to baseline"): a leak in all but name."""
    text = f"{details.get('message', '')} {details.get('status', '')}"
    return type_ == "Oracle-failure" and bool(_MEMORY_ORACLE.search(text))


def severity(type_: str, details: Dict[str, Any]) -> str:
    if type_ == "SEGV on unknown address" and details.get("zero_page"):
        return "Low"  # a null-pointer dereference
    if memory_oracle(type_, details):
        return "Low"  # resource exhaustion, as a leak
    for pattern, level, _ in TABLE:
        if re.search(pattern, type_):
            return level
    return "Low"


# ---- access class and ICS impact (what a user of the engine loses) ------------------------

GIB = 1 << 30
ICS_FAIL = "0x80004005"  # what a client sees when an ICS call fails on the server (E_FAIL)
_RW = {"READ": "read", "WRITE": "write"}


def _rw(details: Dict[str, Any], type_: str) -> str:
    access = details.get("access") or next((a for a in _RW if f" {a}" in type_), None)
    return f" {_RW[access]}" if access in _RW else ""


def _region(type_: str) -> str:
    if type_.startswith(("Stack-buffer", "Stack-use-after")):
        return "stack"
    if type_.startswith("Global-"):
        return "global"
    return "heap"


def access_class(type_: str, details: Dict[str, Any]) -> str:
    """The kind of bad access, in the spirit of CASR: 'heap write', 'use-after-free read',
    'near-null read', 'wild write', 'double-free', 'leak', 'growth', 'oracle failure', ..."""
    rw = _rw(details, type_)
    if re.search(r"use-after-free", type_, re.I):
        return "use-after-free" + rw
    if type_ == "Heap-double-free":
        return "double-free"
    if type_ in ("Bad-free", "Alloc-dealloc-mismatch", "New-delete-type-mismatch"):
        return "invalid free"
    if re.search(r"overflow|underflow|use-after|poison", type_) and rw:
        return _region(type_) + rw
    if type_ in ("SEGV on unknown address", "Bus-error"):
        return ("near-null" if details.get("zero_page") else "wild") + rw
    if type_ == "UBSan: null":
        return "near-null"
    if type_ in ("Direct-leak", "Indirect-leak"):
        return "leak"
    if type_ == "Memory-growth":
        return "growth"
    if memory_oracle(type_, details):
        return "oracle failure: memory retained"
    if type_ == "Oracle-failure":
        return "oracle failure"
    if type_ == "Divergence":
        return "state divergence"
    if type_ == "Unexpected-error":
        return "unexpected error"
    if type_ == "Stack-overflow":
        return "stack exhaustion"
    if type_ in ("Timeout",):
        return "hang"
    if type_ in ("Out-of-memory", "Allocation-size-too-big"):
        return "memory exhaustion"
    if type_ == "Data-race":
        return "data race"
    if type_.startswith("UBSan: "):
        return "undefined behaviour"
    return "crash"


def _loops_to_fail(details: Dict[str, Any]) -> Optional[int]:
    """Loops until the budget is spent: ics-stress's projection, else budget / slope."""
    if isinstance(details.get("projected_loops_to_budget"), (int, float)):
        return int(details["projected_loops_to_budget"])
    slope = details.get("slope_bytes_per_loop")
    if isinstance(slope, (int, float)) and slope > 0:
        budget = details.get("budget_bytes") or GIB
        return int(budget / slope)
    return None


def ics_impact(type_: str, details: Dict[str, Any]) -> str:
    """One line on what the bug does to an ICS deployment."""
    cls = access_class(type_, details)
    if cls == "growth":
        slope = details.get("slope_bytes_per_loop")
        loops = _loops_to_fail(details)
        grows = (f"memory grows {float(slope):.0f} B per sync loop" if isinstance(slope, (int, float))
                 else "memory grows with every sync loop")
        budget = details.get("budget_bytes") or GIB
        after = f" after about {loops:,} loops ({budget / GIB:g} GiB budget)" if loops else ""
        return f"{grows} -> the session fails with {ICS_FAIL}{after} (the Exchange 2003 ICS leak)"
    if cls == "oracle failure: memory retained":
        return ("memory stays behind after the call is released -> it grows with every sync "
                f"loop until the session fails with {ICS_FAIL} (the Exchange 2003 ICS leak)")
    if cls == "leak":
        size = details.get("bytes")
        lost = f"{size} B lost" if size else "memory lost"
        return (f"{lost} each time this path runs -> a server that repeats it per sync runs out "
                f"of memory and sessions fail with {ICS_FAIL}")
    if cls == "state divergence":
        return ("state divergence -> a replica silently misses changes (or holds wrong ones); "
                "no error reaches the client")
    if cls == "oracle failure":
        what = str(details.get("message") or "an engine check").replace("oracle failed: ", "")
        return (f"the engine breaks its own contract ({what}) -> a replica may silently miss "
                "changes or receive state it cannot use; no error reaches the client")
    if cls == "unexpected error":
        error = details.get("error")
        return (f"a valid call fails{' with ' + str(error) if error else ''} -> the client's "
                "sync loop stops or restarts from scratch")
    if cls.startswith(("use-after-free", "double-free", "invalid free")) or cls.endswith(" write"):
        return ("memory corruption from client-supplied bytes -> the server process (every "
                "session on it) crashes; may be exploitable")
    if cls.endswith(" read"):
        return ("out-of-bounds read from client-supplied bytes -> the server crashes, or other "
                "memory leaks into a sync stream")
    if cls == "hang":
        return "a sync call never returns -> the session hangs and keeps its handles"
    if cls in ("memory exhaustion", "stack exhaustion"):
        return f"one request exhausts {cls.split()[0]} -> the server process fails"
    if cls == "undefined behaviour":
        return ("undefined behaviour on this input -> in a release build, wrong state or a "
                "crash of the server process, depending on the compiler")
    if cls == "data race":
        return "concurrent sessions race on shared state -> corruption or a crash under load"
    return "the server process crashes on this input -> every session on it fails"
