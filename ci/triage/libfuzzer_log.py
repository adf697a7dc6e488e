"""The figures of one libFuzzer log that ci/fuzz-speed and ci/fuzz-compare read: the final
stats (-print_final_stats=1), the `exit=N` line those scripts append, and the last status line
(`#N ... cov: C ft: F corp: U/S`). A figure the log lacks is None (a run that died early has no
final stats)."""
import re
from typing import Any, Dict

FINAL = (("executions", r"^stat::number_of_executed_units:\s*(\d+)"),
         ("exec_per_s", r"^stat::average_exec_per_sec:\s*(\d+)"),
         ("exit", r"^exit=(\d+)"))
STATUS = (("edges", r"\bcov: (\d+)"), ("features", r"\bft: (\d+)"),
          ("corpus_units", r"\bcorp: (\d+)/"))


def read(path: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {key: None for key, _ in FINAL + STATUS}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return out
    for key, pattern in FINAL:
        m = re.search(pattern, text, re.M)
        if m:
            out[key] = int(m.group(1))
    for key, pattern in STATUS:  # the last status line is where the run ended
        found = re.findall(pattern, text)
        if found:
            out[key] = int(found[-1])
    return out
