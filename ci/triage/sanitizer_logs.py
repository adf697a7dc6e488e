"""Split a text log into sanitizer / libFuzzer reports and turn each into Occurrence objects.

A log may hold many reports (a ctest log, a fuzzing log with several runs); each report
starts at a header line and runs to the next header. Lines before a header give context:
the libFuzzer 'Running: FILE' input, the GoogleTest test that was running, an
'oracle failed:' line printed by ICS_FUZZ_CHECK just before the trap."""
import os
import re
from typing import Dict, List, Optional, Tuple

from .frames import Frame, parse_stack
from .model import Occurrence

# ---- report headers --------------------------------------------------------------------

_SAN_ERROR = re.compile(
    r"==\d+==\s*ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|MemorySanitizer"
    r"|HWAddressSanitizer|LeakSanitizer|libFuzzer): (.*?)\s*$")
_UBSAN = re.compile(r"(?:^|\s)(?:(\S+?):(\d+):(\d+): )?runtime error: (.*?)\s*$")
_TSAN = re.compile(r"WARNING: ThreadSanitizer: (.*?)(?: \(pid=\d+\))?\s*$")
_ORACLE = re.compile(r"oracle failed: (.*?) at (\S+?):(\d+)\s*$")
# fuzz_heap.h's whole-heap oracle: "oracle failed: fuzz_x: process live heap bytes (...) not
# back at baseline: 77447 -> 78319 (+872), and ..." (no FILE:LINE; it traps after)
_ORACLE_TARGET = re.compile(r"oracle failed: (fuzz_\w+): (.*?)\s*$")

# ---- context and detail lines -----------------------------------------------------------

_ACCESS = re.compile(r"^(READ|WRITE) of size (\d+) at ")
_SECTION = re.compile(r"^\s*(freed by thread|previously allocated by thread|allocated by thread)")
_LEAK = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\) allocated from:")
_SEGV_ACCESS = re.compile(r"The signal is caused by a (READ|WRITE) memory access")
_ZERO_PAGE = re.compile(r"address points to the zero page")
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_RUNNING = re.compile(r"^Running: (\S+)|^replay: (\S+) \(\d+ bytes\)")
_GTEST_RUN = re.compile(r"^\[ RUN      \] (\S+)")
_GTEST_END = re.compile(r"^\[ {7}OK \]|^\[  FAILED  \]")
_TIMEOUT = re.compile(r"timeout after (\d+) seconds")
_TIMEOUT_VALUE = re.compile(r"and the timeout value is (\d+)")  # the -timeout in force
_RSS = re.compile(r"out-of-memory \(used: (\d+)Mb; exceeds: (\d+)Mb\)")
_MALLOC = re.compile(r"out-of-memory \(malloc\((\d+)\)\)")
_UBSAN_SUMMARY = re.compile(r"SUMMARY: UndefinedBehaviorSanitizer: ([\w-]+)")


class _Context:
    """What the lines before a report say about it."""

    def __init__(self) -> None:
        self.running: Optional[str] = None
        self.gtest: Optional[str] = None
        self.timeout: Optional[int] = None
        self.status: Optional[str] = None  # "ErrorCode: what" on the line just before

    def copy(self) -> "_Context":
        out = _Context()
        out.running, out.gtest, out.timeout = self.running, self.gtest, self.timeout
        out.status = self.status
        return out

    def feed(self, line: str) -> None:
        self.status = status_what(line)
        m = _RUNNING.match(line)
        if m:
            self.running = m.group(1) or m.group(2)
        m = _GTEST_RUN.match(line)
        if m:
            self.gtest = m.group(1)
        elif _GTEST_END.match(line):
            self.gtest = None
        m = _TIMEOUT_VALUE.search(line)
        if m:
            self.timeout = int(m.group(1))


_STATUS = re.compile(r"^([A-Z][A-Za-z]+): (.+)$")  # ics::Error::to_string(): "FormatError: ..."
# The ErrorCode names of engine/include/ics/errors.h (a unit test keeps them in step).
ERROR_NAMES = frozenset("""GeneralFailure OutOfMemory InvalidParameter AccessDenied NotSupported
    NotFound ObjectModified ObjectDeleted UnknownFlags TooBig StreamSizeError NullObject RpcFormat
    FormatError BufferTooSmall SyncObjectDeleted SyncIgnore SyncConflict SyncNoParent SyncIncest
    SyncUnsynchronized SyncProgress NewerClientChange""".split())


def status_what(line: str) -> Optional[str]:
    """'FormatError: XidSize must be' from 'FormatError: XidSize must be 17 to 24 (at byte 8)':
    the error name and the words of its message before the first number, ':' or '('."""
    m = _STATUS.match(line.strip())
    if not m or m.group(1) not in ERROR_NAMES:
        return None
    text = re.split(r": | \(", m.group(2), maxsplit=1)[0]
    words = []
    for word in text.split()[:6]:
        if re.search(r"\d", word):
            break
        words.append(word)
    return f"{m.group(1)}: {' '.join(words)}" if words else m.group(1)


def _header(line: str) -> Optional[Tuple[str, re.Match]]:
    for kind, rx in (("san", _SAN_ERROR), ("tsan", _TSAN), ("oracle", _ORACLE),
                     ("oracle-target", _ORACLE_TARGET), ("ubsan", _UBSAN)):
        m = rx.search(line)
        if m:
            return kind, m
    return None


def split_reports(text: str) -> List[Tuple[str, re.Match, List[str], int, _Context]]:
    """(kind, header match, lines after the header, 1-based header line, context) per report."""
    reports = []
    ctx = _Context()
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        found = _header(line)
        if found:
            current = (found[0], found[1], [], number, ctx.copy())
            reports.append(current)
            continue
        if current is not None:
            current[2].append(line)
        ctx.feed(line)
    return reports


# ---- sections inside one report ---------------------------------------------------------

def _sections(lines: List[str]) -> Dict[str, List[Frame]]:
    """'crash', 'freed', 'allocated' stacks of an ASan report (first stack in each part)."""
    parts: Dict[str, List[str]] = {"crash": []}
    label = "crash"
    for line in lines:
        m = _SECTION.match(line)
        if m:
            label = "freed" if m.group(1).startswith("freed") else "allocated"
            parts.setdefault(label, [])
            continue
        parts[label].append(line)
    return {k: parse_stack(v) for k, v in parts.items()}


def _artifact(lines: List[str]) -> Optional[str]:
    for line in lines:
        m = _ARTIFACT.search(line)
        if m:
            return m.group(1)
    return None


def _first(rx: re.Pattern, lines: List[str]) -> Optional[re.Match]:
    for line in lines:
        m = rx.search(line)
        if m:
            return m
    return None


# ---- types -------------------------------------------------------------------------------

_ASAN_SPECIAL = [
    (re.compile(r"^attempting double-free"), "Heap-double-free"),
    (re.compile(r"^attempting free on address which was not malloc"), "Bad-free"),
    (re.compile(r"^SEGV on unknown address"), "SEGV on unknown address"),
    (re.compile(r"^BUS on unknown address"), "Bus-error"),
    (re.compile(r"^FPE on unknown address"), "Floating-point-exception"),
    (re.compile(r"^ILL on unknown address"), "Illegal-instruction"),
    (re.compile(r"^ABRT on unknown address"), "Abort"),
    (re.compile(r"^requested allocation size .* exceeds"), "Allocation-size-too-big"),
    (re.compile(r"^(?:out of memory|allocator is out of memory)"), "Out-of-memory"),
    (re.compile(r"^stack-overflow"), "Stack-overflow"),
]
_WITH_ACCESS = re.compile(r"overflow|underflow|use-after|container|poison")


def _capital(kind: str) -> str:
    kind = kind.strip().replace(" ", "-")
    return kind[:1].upper() + kind[1:]


def asan_type(header: str, access: Optional[re.Match]) -> str:
    """'Heap-buffer-overflow READ 4', 'Heap-double-free', 'SEGV on unknown address', ..."""
    for rx, name in _ASAN_SPECIAL:
        if rx.search(header):
            return name
    kind = re.split(r" on | at |: | \(", header, maxsplit=1)[0]
    name = _capital(kind)
    if access and _WITH_ACCESS.search(kind):
        name += f" {access.group(1)} {access.group(2)}"
    return name


_UBSAN_CHECKS = [
    (r"^signed integer overflow|^negation of .* cannot be represented", "signed-integer-overflow"),
    (r"^unsigned integer overflow", "unsigned-integer-overflow"),
    (r"^division by zero", "integer-divide-by-zero"),
    (r"^shift exponent", "shift-exponent"),
    (r"^left shift of", "shift-base"),
    (r"misaligned address", "alignment"),
    (r"with insufficient space for an object of type", "object-size"),
    (r"^load of value .* not a valid value for type '(?:const )?bool'", "bool"),
    (r"^load of value .* not a valid value for type", "enum"),
    (r"^index .* out of bounds for type", "bounds"),
    (r"null pointer passed as argument .* declared to never be null", "nonnull-attribute"),
    (r"null pointer returned from function declared to never return null", "returns-nonnull-attribute"),
    (r"^(?:load of|store to|member access within|member call on|reference binding to) null pointer",
     "null"),
    (r"offset .* to null pointer|pointer index expression with base .* overflowed"
     r"|addition of unsigned offset to .* overflowed|subtraction of unsigned offset", "pointer-overflow"),
    (r"^execution reached an unreachable program point", "unreachable"),
    (r"^execution reached the end of a value-returning function", "return"),
    (r"is outside the range of representable values of type", "float-cast-overflow"),
    (r"^implicit conversion from type .* changed the value", "implicit-conversion"),
    (r"variable length array bound evaluates to non-positive value", "vla-bound"),
    (r"through pointer to incorrect function type", "function"),
    (r"does not point to an object of type|downcast of address|upcast of address|vptr",
     "vptr"),
    (r"^passing zero to (?:ctz|clz)", "builtin"),
    (r"^assumption of .* alignment", "alignment"),
]


def ubsan_check(message: str, summary: Optional[str]) -> str:
    """The -fsanitize= check name for a UBSan 'runtime error:' message."""
    if summary and summary != "undefined-behavior":
        return summary  # UBSAN_OPTIONS=report_error_type=1 names it
    for rx, check in _UBSAN_CHECKS:
        if re.search(rx, message):
            return check
    return "undefined-behavior"


def _deadly_signal_type(frames: List[Frame]) -> str:
    names = {f.function.split("(")[0] for f in frames}
    if names & {"abort", "raise", "__assert_fail", "gsignal", "std::terminate", "__pthread_kill_implementation"}:
        return "Abort"
    return "Fatal-signal"


def libfuzzer_type(header: str, frames: List[Frame]) -> str:
    if header.startswith("deadly signal"):
        return _deadly_signal_type(frames)
    if header.startswith("timeout"):
        return "Timeout"
    if header.startswith("out-of-memory"):
        return "Out-of-memory"
    if header.startswith("fuzz target exited"):
        return "Unexpected-exit"
    return _capital(re.split(r" \(|: ", header, maxsplit=1)[0])


# ---- report -> occurrences ---------------------------------------------------------------

def _base(kind_type: str, frames: List[Frame], lines: List[str], ctx: _Context) -> Occurrence:
    return Occurrence(type=kind_type, frames=frames, artifact=_artifact(lines),
                      running=ctx.running, gtest=ctx.gtest)


def _from_asan(header: str, lines: List[str], ctx: _Context) -> List[Occurrence]:
    access = _first(_ACCESS, lines)
    sections = _sections(lines)
    occ = _base(asan_type(header, access), sections["crash"], lines, ctx)
    occ.alloc_frames = sections.get("allocated", [])
    occ.free_frames = sections.get("freed", [])
    if access:
        occ.details.update(access=access.group(1), size=int(access.group(2)))
    segv = _first(_SEGV_ACCESS, lines)
    if segv:
        occ.details["access"] = segv.group(1)
    if _first(_ZERO_PAGE, lines):
        occ.details["zero_page"] = True
    occ.details["header"] = header
    return [occ]


def _from_leaks(lines: List[str], ctx: _Context) -> List[Occurrence]:
    out: List[Occurrence] = []
    artifact = _artifact(lines)
    for i, line in enumerate(lines):
        m = _LEAK.match(line.strip())
        if not m:
            continue
        stack = parse_stack(lines[i + 1:])
        occ = Occurrence(type=f"{m.group(1)}-leak", frames=stack, alloc_frames=stack,
                         artifact=artifact, running=ctx.running, gtest=ctx.gtest)
        occ.details.update(bytes=int(m.group(2)), objects=int(m.group(3)))
        occ.state_from = "allocation"
        out.append(occ)
    return out


def _from_libfuzzer(header: str, lines: List[str], ctx: _Context) -> List[Occurrence]:
    frames = parse_stack(lines)
    occ = _base(libfuzzer_type(header, frames), frames, lines, ctx)
    occ.details["header"] = header
    for rx, keys in ((_TIMEOUT, ("timeout_s",)), (_RSS, ("rss_used_mb", "rss_limit_mb")),
                     (_MALLOC, ("malloc_bytes",))):
        m = rx.search(header)
        if m:
            occ.details.update({k: int(v) for k, v in zip(keys, m.groups())})
    if occ.type == "Timeout" and ctx.timeout:
        occ.details["timeout_s"] = ctx.timeout  # "timeout after N" can be late under load
    return [occ]


def _ubsan_stack(lines: List[str]) -> List[Frame]:
    """The stack printed with print_stacktrace=1: it follows the message at once, after at
    most a few 'note:' / memory-dump lines."""
    for i, line in enumerate(lines[:8]):
        if re.match(r"^\s*#0 ", line):
            return parse_stack(lines[i:])
    return []


def _from_ubsan(m: re.Match, lines: List[str], ctx: _Context) -> List[Occurrence]:
    summary = _first(_UBSAN_SUMMARY, lines[:60])
    check = ubsan_check(m.group(4), summary.group(1) if summary else None)
    occ = _base(f"UBSan: {check}", _ubsan_stack(lines), lines, ctx)
    occ.details["message"] = m.group(4)
    if m.group(1):
        occ.location = (m.group(1), int(m.group(2)), int(m.group(3)))
    return [occ]


def _from_tsan(header: str, lines: List[str], ctx: _Context) -> List[Occurrence]:
    kind = re.split(r" \(", header, maxsplit=1)[0]
    name = "Data-race" if kind == "data race" else f"TSan: {kind}"
    occ = _base(name, parse_stack(lines), lines, ctx)
    occ.details["header"] = header
    return [occ]


def _from_oracle(m: re.Match, ctx: _Context) -> List[Occurrence]:
    """ICS_FUZZ_CHECK's line. Its state is the condition and the file, not the stack: the
    replay driver dies on the trap without one, libFuzzer prints one, and both must agree.
    When the harness printed the failed call's error just before (`check(st)` in
    fuzz_sync_session: "GeneralFailure: replica lacks message ..."), its name and first words
    go in the middle: a generic condition such as `st.ok()` does not merge different bugs."""
    occ = Occurrence(type="Oracle-failure", running=ctx.running, gtest=ctx.gtest)
    occ.details["message"] = f"oracle failed: {m.group(1)}"
    occ.location = (m.group(2), int(m.group(3)), 0)
    occ.state = [m.group(1), os.path.basename(m.group(2))]
    if ctx.status:
        occ.details["status"] = ctx.status
        occ.state.insert(1, ctx.status)
    return [occ]


def _from_target_oracle(m: re.Match, ctx: _Context) -> List[Occurrence]:
    """A harness oracle that names its target instead of a FILE:LINE; the state is what it
    says without numbers or parentheses, and the target."""
    occ = Occurrence(type="Oracle-failure", running=ctx.running, gtest=ctx.gtest)
    occ.details["message"] = f"oracle failed: {m.group(1)}: {m.group(2)}"
    text = re.sub(r"\([^)]*\)", "", m.group(2)).split(": ")[0]
    what = " ".join(w for w in text.split() if not re.search(r"\d", w))
    occ.state = [what or "oracle", m.group(1)]
    return [occ]


def _merge_oracle(out: List[Occurrence], new: List[Occurrence]) -> bool:
    """A deadly signal right after an 'oracle failed:' line is that oracle's trap: give the
    oracle finding the stack and the artifact instead of reporting the signal on its own."""
    if not out or not new or out[-1].type != "Oracle-failure" or out[-1].frames:
        return False
    if new[0].type not in ("Fatal-signal", "Abort", "Illegal-instruction"):
        return False
    out[-1].frames = new[0].frames
    out[-1].artifact = new[0].artifact or out[-1].artifact
    return True


def parse_log(text: str, source: str) -> List[Occurrence]:
    """Every finding occurrence in one text log."""
    out: List[Occurrence] = []
    for kind, m, lines, number, ctx in split_reports(text):
        if kind == "san" and m.group(1) == "LeakSanitizer":
            new = _from_leaks(lines, ctx)
        elif kind == "san" and m.group(1) == "libFuzzer":
            new = _from_libfuzzer(m.group(2), lines, ctx)
        elif kind == "san":
            new = _from_asan(m.group(2), lines, ctx)
        elif kind == "tsan":
            new = _from_tsan(m.group(1), lines, ctx)
        elif kind == "oracle":
            new = _from_oracle(m, ctx)
        elif kind == "oracle-target":
            new = _from_target_oracle(m, ctx)
        else:
            new = _from_ubsan(m, lines, ctx)
        for occ in new:
            occ.source, occ.source_line = source, number
        if not _merge_oracle(out, new):
            out.extend(new)
    return out
