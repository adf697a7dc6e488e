"""Security-severity hint per finding type, in the spirit of ClusterFuzz. The table is the
single source: ci/README.md prints the same rows (a unit test keeps them in step)."""
import re
from typing import Any, Dict, List, Tuple

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


def severity(type_: str, details: Dict[str, Any]) -> str:
    if type_ == "SEGV on unknown address" and details.get("zero_page"):
        return "Low"  # a null-pointer dereference
    for pattern, level, _ in TABLE:
        if re.search(pattern, type_):
            return level
    return "Low"
