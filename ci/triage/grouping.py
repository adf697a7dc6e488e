"""Findings: occurrences grouped by (type, crash state). An ics-stress growth with an
allocation site has the site as its state (see stress_json), so growth is grouped by site."""
import os
from typing import Dict, List, Optional, Tuple

from .frames import crash_state, normalize_function
from .model import Finding, Occurrence
from .targets import fuzz_target


def state_of(occ: Occurrence, keep_templates: bool, target: Optional[str]) -> List[str]:
    """The crash state; without program frames, the reported source line or the fuzz target
    (an RSS out-of-memory report has only libFuzzer frames), so that findings of different
    targets do not merge."""
    if occ.state is not None:
        if occ.normalize_state:  # function names of an allocation site (ics-stress growth)
            return [normalize_function(s, keep_templates) for s in occ.state]
        return occ.state
    frames = occ.alloc_frames if occ.state_from == "allocation" else occ.frames
    state = crash_state(frames, keep_templates)
    if not state and occ.location:
        state = [f"{os.path.basename(occ.location[0])}:{occ.location[1]}"]
    if not state:
        target = fuzz_target(occ, target)
        state = [f"fuzz_{target}"] if target else []
    return state


def group(occurrences: List[Occurrence], keep_templates: bool,
          target: Optional[str] = None) -> List[Finding]:
    """One Finding per (type, crash state), occurrences in input order."""
    by_key: Dict[Tuple[str, Tuple[str, ...]], Finding] = {}
    for occ in occurrences:
        state = state_of(occ, keep_templates, target)
        key = (occ.type, tuple(state))
        if key not in by_key:
            by_key[key] = Finding(type=occ.type, state=state)
        by_key[key].occurrences.append(occ)
    return list(by_key.values())
