"""Stack frames: parse one symbolised frame line, normalise function names, and pick the
crash state (the top frames that belong to the program, not to a runtime or library)."""
import os
import re
from dataclasses import dataclass
from typing import List, Optional

STATE_FRAMES = 3


@dataclass
class Frame:
    index: int
    function: str = ""  # as printed (demangled), "" when unsymbolised
    file: str = ""
    line: int = 0
    column: int = 0
    module: str = ""  # "(module+0xoffset)" part, if printed
    text: str = ""  # the whole line, stripped

    def where(self) -> str:
        if not self.file:
            return self.module
        out = self.file
        if self.line:
            out += f":{self.line}"
            if self.column:
                out += f":{self.column}"
        return out


# "#3 0x7f... in func /path/f.cpp:12:5" (ASan, LSan, UBSan, libFuzzer) or
# "#3 func /path/f.cpp:12:5 (module+0x12)" (TSan); either may end in "(BuildId: ...)".
_FRAME_START = re.compile(r"^\s*#(\d+)\s+(.*)$")
_BUILD_ID = re.compile(r"\s*\(BuildId: [0-9a-fA-F]+\)\s*$")
_MODULE = re.compile(r"\s*\(([^()\s]+)\+(0x[0-9a-fA-F]+)\)\s*$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]+\s*(?:in\s+)?")
_LOCATION = re.compile(r"\s(\S+?):(\d+)(?::(\d+))?$")


def parse_frame(line: str) -> Optional[Frame]:
    """A Frame for one '#N ...' line, or None when the line is not a frame."""
    m = _FRAME_START.match(line)
    if not m:
        return None
    frame = Frame(index=int(m.group(1)), text=line.strip())
    body = _BUILD_ID.sub("", m.group(2))
    mod = _MODULE.search(body)
    if mod:
        frame.module = f"{mod.group(1)}+{mod.group(2)}"
        body = body[: mod.start()]
    body = _ADDRESS.sub("", body.strip()).strip()
    body = body.replace("<null>", "").strip()
    loc = _LOCATION.search(" " + body)
    if loc:
        frame.file, frame.line = loc.group(1), int(loc.group(2))
        frame.column = int(loc.group(3) or 0)
        body = (" " + body)[: loc.start()].strip()
    frame.function = body
    return frame


def parse_stack(lines: List[str]) -> List[Frame]:
    """Frames of the first stack in lines (a run of '#N' lines starting at #0)."""
    frames: List[Frame] = []
    for line in lines:
        f = parse_frame(line)
        if f is None:
            if frames:
                break
            continue
        if f.index == 0 and frames:
            break
        frames.append(f)
    return frames


# ---- function-name normalisation -------------------------------------------------------

_OPERATOR = re.compile(
    r"operator(?:\s*(?:\(\)|\[\]|<=>|<<=|>>=|<<|>>|->\*|->|<=|>=|==|!=|&&|\|\||\+\+|--"
    r"|new\[\]|delete\[\]|[-+*/%^&|~!=<>,](?:=)?)|\s+new\b|\s+delete\b|\s*\"\"\s*\w+"
    r"|\s+[A-Za-z_][\w:]*)")
_TRAILING = re.compile(r"\s*(?:\bconst|\bvolatile|&&|&|\bnoexcept|\[clone [^\]]*\])\s*$")
_ABI_TAG = re.compile(r"\[abi:[\w]+\]")
ANONYMOUS = "(anonymous namespace)"
_CLOSE = {"(": ")", "<": ">", "{": "}", "[": "]"}


def _matching(s: str, i: int) -> int:
    """Index of the bracket closing s[i], or len(s) - 1 when unbalanced."""
    opener, closer, depth = s[i], _CLOSE[s[i]], 0
    for j in range(i, len(s)):
        if s[j] == opener:
            depth += 1
        elif s[j] == closer:
            depth -= 1
            if depth == 0:
                return j
    return len(s) - 1


def _strip_trailing(name: str) -> str:
    prev = None
    while prev != name:
        prev, name = name, _TRAILING.sub("", name)
    return name


def normalize_function(name: str, keep_templates: bool = False) -> str:
    """'ns::Foo<int>::bar(int) const' -> 'ns::Foo::bar': no argument lists, no return type,
    no template arguments (unless keep_templates), no cv/ref qualifiers or clone suffixes."""
    s = _strip_trailing(_ABI_TAG.sub("", name.strip()))
    out: List[str] = []
    i = 0
    while i < len(s):
        at_word = i == 0 or not (s[i - 1].isalnum() or s[i - 1] == "_")
        op = _OPERATOR.match(s, i) if at_word and s.startswith("operator", i) else None
        if op:
            out.append(" ".join(op.group(0).split()) if op.group(0)[8:9].isspace()
                       else op.group(0).replace(" ", ""))
            i = op.end()
            continue
        c = s[i]
        if c in "(<{[":
            j = _matching(s, i)
            group = s[i:j + 1]
            if c == "{" or c == "[" or group == ANONYMOUS or (
                    c == "<" and keep_templates):
                out.append(group)
            i = j + 1
            continue
        if c == " ":
            out = []  # what came before was a return type
        else:
            out.append(c)
        i += 1
    result = "".join(out).strip() or name.strip()
    return _last_component(result) if ANONYMOUS in result else result



def _last_component(name: str) -> str:
    """g++'s symboliser prints only the bare name of a function with internal linkage, clang's
    prints the qualified one: reduce both to the last component so that keys agree."""
    depth, cut = 0, 0
    for i, c in enumerate(name):
        if c in "(<{[":
            depth += 1
        elif c in ")>}]":
            depth -= 1
        elif depth == 0 and name.startswith("::", i):
            cut = i + 2
    return name[cut:]


# ---- which frames belong to the program ------------------------------------------------

_IGNORED_FUNCTIONS = re.compile(
    r"^(?:__asan|__sanitizer|__ubsan|__lsan|__tsan|__msan|__hwasan|__interceptor_|___interceptor_"
    r"|__interception::|fuzzer::|std::|__gnu_cxx::|__cxxabiv1::|__cxa_|_Unwind_|__libc_|__GI_"
    r"|__pthread|__restore_rt|__sigaction|boost::fibers::|boost::context::|testing::"
    r"|operator new|operator delete"
    r")|^(?:malloc|free|calloc|realloc|reallocarray|aligned_alloc|posix_memalign|memalign|valloc"
    r"|pvalloc|strdup|strndup|memcpy|memmove|memset|memcmp|bcmp|strlen|strnlen|strcmp|strncmp"
    r"|strcpy|strncpy|strcat|abort|raise|gsignal|__assert_fail|__assert_fail_base"
    r"|__assert_perror_fail|_start|start_thread|clone|clone3|make_fcontext|jump_fcontext"
    r"|ontop_fcontext|makecontext|swapcontext|getcontext|setcontext|__start_context"
    r"|pthread_create|pthread_kill|__pthread_kill_implementation|__memset_\w+|__memcpy_\w+"
    r"|__memmove_\w+|__strlen_\w+|LLVMFuzzerRunDriver)$")
_IGNORED_PATHS = re.compile(
    r"compiler-rt/|/libsanitizer/|sanitizer_common/|/asan/|/lsan/|/ubsan/|/tsan/|/libfuzzer/"
    r"|/fuzzer/Fuzzer\w+\.cpp|(?:^|/)Fuzzer\w+\.cpp|libc\.so|libc-|libm\.so|libstdc\+\+|libc\+\+"
    r"|libgcc_s|ld-linux|libpthread|/usr/include/c\+\+/|/include/c\+\+/|/bits/|/sysdeps/"
    r"|(?:^|/)csu/|(?:^|/)nptl/|(?:^|/)stdlib/|(?:^|/)signal/|(?:^|/)string/|(?:^|/)assert/"
    r"|(?:^|/)misc/|boost/fiber/|boost/context/|libboost_fiber|libboost_context|/gtest/"
    r"|/gmock/|libgtest|libgmock",
    re.IGNORECASE)
FUZZ_ENTRY = "LLVMFuzzerTestOneInput"


def is_ignored(frame: Frame) -> bool:
    """True for sanitizer runtime, libFuzzer, libc/libstdc++, Boost.Fiber/Context and test
    framework frames, and for frames that carry no function name at all."""
    if not frame.function:
        return True
    if _IGNORED_FUNCTIONS.search(frame.function.lstrip()):
        return True
    if _IGNORED_FUNCTIONS.search(normalize_function(frame.function)):
        return True
    # Normalised first: a build folder named like a sanitizer (build/asan/../../engine/x.cpp,
    # as clang records relative sources) is not the sanitizer runtime.
    path = os.path.normpath(frame.file) if frame.file else frame.file
    return bool(_IGNORED_PATHS.search(path) or _IGNORED_PATHS.search(frame.module))


def crash_state(frames: List[Frame], keep_templates: bool = False,
                depth: int = STATE_FRAMES) -> List[str]:
    """The top `depth` normalised function names that remain after dropping ignored frames.
    Nothing below the fuzz entry point counts: libFuzzer and the replay driver call it from
    different places, and the same bug must get the same state from both."""
    state: List[str] = []
    for frame in frames:
        if is_ignored(frame):
            continue
        state.append(normalize_function(frame.function, keep_templates))
        if len(state) == depth or state[-1] == FUZZ_ENTRY:
            break
    return state
