"""Which fuzz target a report belongs to."""
import os
import re
from typing import Optional

from .model import Occurrence

_TARGET_SOURCE = re.compile(r"(?:^|/)fuzz_(\w+)\.(?:cpp|cc|c)$")
_TARGET_NAME = re.compile(r"(?:^|[/_-])fuzz_(\w+?)(?:\.log|\.txt|$)")


def fuzz_target(occ: Occurrence, override: Optional[str]) -> Optional[str]:
    """The fuzz target: --target, else the source file of LLVMFuzzerTestOneInput or any
    fuzz_<what>.cpp frame, else the log's name (fuzz_<what>.log) or folder (fuzz-work/<what>/)."""
    if override:
        return override
    for frame in occ.frames:
        m = _TARGET_SOURCE.search(frame.file)
        if m:
            return m.group(1)
    for path in (occ.source, occ.artifact or ""):
        m = _TARGET_NAME.search(os.path.basename(path))
        if m:
            return m.group(1)
        parts = os.path.normpath(path).split(os.sep)
        if "fuzz-work" in parts[:-1]:
            i = parts.index("fuzz-work")
            if i + 1 < len(parts) - 1:
                return parts[i + 1]
    return None
