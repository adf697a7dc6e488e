"""Occurrence (one report in one input) and Finding (occurrences with the same key)."""
import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .frames import Frame


@dataclass
class Occurrence:
    type: str
    frames: List[Frame] = field(default_factory=list)  # the crash (or access) stack
    alloc_frames: List[Frame] = field(default_factory=list)
    free_frames: List[Frame] = field(default_factory=list)
    state_from: str = "crash"  # "allocation" for leaks: the state comes from alloc_frames
    state: Optional[List[str]] = None  # set by the parser when there is no stack (stress)
    details: Dict[str, Any] = field(default_factory=dict)
    location: Optional[Tuple[str, int, int]] = None  # file, line, column named by the report
    artifact: Optional[str] = None  # "Test unit written to X" as printed
    running: Optional[str] = None  # "Running: X" before the report
    gtest: Optional[str] = None  # GoogleTest test running when the report started
    command: Optional[str] = None  # known command (ics-stress JSON)
    samples: List[List[float]] = field(default_factory=list)  # [loop, live bytes] (growth)
    # ics-stress growth: the series that grew, the allocation sites of the bytes that stay
    # (largest first: {"frames": [{"function", "file", "line"}], "bytes", "allocations"}),
    # the samples of every series of the run, and their verdicts {name: {slope, flagged, reason}}
    series: Optional[str] = None
    sites: List[Dict[str, Any]] = field(default_factory=list)
    series_samples: Dict[str, List[List[float]]] = field(default_factory=dict)
    series_info: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    normalize_state: bool = False  # state holds function names (a site): normalise them
    source: str = ""  # input file
    source_line: int = 0  # line of the report's header in it


@dataclass
class Finding:
    type: str
    state: List[str]
    occurrences: List[Occurrence] = field(default_factory=list)
    status: str = "new"  # new | known | regression
    known: Optional[Dict[str, Any]] = None  # the matching known-findings entry
    severity: str = "None"
    location: Optional[Dict[str, Any]] = None  # SARIF-ready {uri, line, column, fallback}
    reproducer: Dict[str, Any] = field(default_factory=dict)
    access: str = ""  # access class (severity.access_class)
    impact: str = ""  # what it does to an ICS deployment (severity.ics_impact)
    reliability: Optional[Dict[str, Any]] = None  # {runs, reproduced, flaky} (replay.reliability)

    @property
    def key(self) -> str:
        return make_key(self.type, self.state)

    @property
    def id(self) -> str:
        return hashlib.sha1(self.key.encode()).hexdigest()[:12]

    @property
    def first(self) -> Occurrence:
        return self.occurrences[0]

    @property
    def series(self) -> List[str]:
        """The growth series its occurrences grew in, first seen first."""
        out: List[str] = []
        for occ in self.occurrences:
            if occ.series and occ.series not in out:
                out.append(occ.series)
        return out

    @property
    def title(self) -> str:
        """The type, with the series that grew: 'Memory-growth (process heap, client replica)'."""
        labels = [series_label(s) for s in self.series]
        return f"{self.type} ({', '.join(labels)})" if labels else self.type


SERIES_LABELS = {"server": "server account", "client": "client replica",
                 "process": "process heap"}


def series_label(name: str) -> str:
    return SERIES_LABELS.get(name, name)


def make_key(type_: str, state: List[str]) -> str:
    """The dedupe key: 'Heap-buffer-overflow READ 4 @ f / g / h'."""
    return f"{type_} @ {' / '.join(state) if state else '(no frames)'}"
