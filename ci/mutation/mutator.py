"""Source mutants of the engine: where a small realistic change can go, and the change.

A mutant is one edit at one place of one file: `Mutant.apply(text)` gives the mutated source.
What is never mutated: comments, string and character literals (error-message text among them),
preprocessor lines, and `#if defined(ICS_SEEDED_BUG_...)` ... `#endif` blocks (both branches:
the bug zoo owns them). Operators (OPERATORS lists them) work on a masked copy of the source,
where those parts are blanked, so a `<` in a comment or a string is never seen.

Each mutant has a stable id: a hash of its file, operator, the line before and after and how
many identical edits come before it in the file. Line numbers shift; ids survive unrelated edits.
"""
import dataclasses
import hashlib
import os
import random
import re

# Calls whose statement is removed by `remove-call` (their effect is the point of the call).
SIDE_EFFECT_CALLS = ("insert", "erase", "push_back", "emplace_back", "emplace", "try_emplace",
                     "pop_back", "clear", "charge", "release", "merge", "assign", "resize")


@dataclasses.dataclass(frozen=True)
class Mutant:
    file: str        # repository-relative path
    line: int        # 1-based line of the edit's start
    op: str          # operator name (OPERATORS)
    start: int       # character offset of the replaced span in the file
    end: int
    replacement: str
    before: str      # the original line (stripped), for ids, diffs and reports
    after: str       # the line as mutated (stripped)
    id: str = ""

    def apply(self, text):
        return text[:self.start] + self.replacement + text[self.end:]

    def diff(self):
        return f"--- {self.file}:{self.line}\n-{self.before}\n+{self.after}\n"

    def to_json(self):
        return {"id": self.id, "file": self.file, "line": self.line, "op": self.op,
                "before": self.before, "after": self.after}


# ---------------------------------------------------------------------------------------------
# Masking

def mask(text):
    """(code, frozen): code is text with comments, literals' contents and preprocessor lines
    replaced by spaces (same length, newlines kept); frozen is the set of 1-based line numbers
    inside seeded-bug blocks (their code stays in `code` so braces still match)."""
    out = list(text)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            line_start = True
            i += 1
            continue
        if line_start and c in " \t":
            i += 1
            continue
        if line_start and c == "#":
            i = _blank_directive(text, out, i)
            continue
        line_start = False
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            _blank(out, i, j)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            _blank(out, i, j)
            i = j
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not _word(text[i - 1])):
            j = _raw_string_end(text, i)
            _blank(out, i, j)
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                i += 1
                continue
            j = _literal_end(text, i)
            _blank(out, i + 1, j - 1)
            i = j
        else:
            i += 1
    return "".join(out), _seeded_lines(text)


def _word(c):
    return c.isalnum() or c == "_"


def _blank(out, i, j):
    for k in range(i, j):
        if out[k] != "\n":
            out[k] = " "


def _blank_directive(text, out, i):
    """Blanks a preprocessor line and its continuation lines; returns the offset after it."""
    n = len(text)
    while True:
        j = text.find("\n", i)
        j = n if j < 0 else j
        _blank(out, i, j)
        if j >= n or not text[:j].rstrip(" \t").endswith("\\"):
            return j
        i = j + 1


def _literal_end(text, i):
    q, j, n = text[i], i + 1, len(text)
    while j < n and text[j] != q and text[j] != "\n":
        j += 2 if text[j] == "\\" else 1
    return min(j + 1, n)


def _raw_string_end(text, i):
    open_paren = text.find("(", i)
    delim = text[i + 2:open_paren]
    close = text.find(")" + delim + '"', open_paren)
    return len(text) if close < 0 else close + len(delim) + 2


_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)$")


def _seeded_lines(text):
    """1-based lines inside `#if defined(ICS_SEEDED_BUG_...)` ... `#endif` (nesting-aware)."""
    frozen, depth, seeded_at = set(), 0, None
    for no, line in enumerate(text.split("\n"), 1):
        m = _DIRECTIVE.match(line)
        if m:
            kind = m.group(1)
            if kind.startswith("if"):
                depth += 1
                if seeded_at is None and "ICS_SEEDED_BUG" in m.group(2):
                    seeded_at = depth
            elif kind == "endif":
                if seeded_at == depth:
                    frozen.add(no)
                    seeded_at = None
                depth -= 1
        if seeded_at is not None:
            frozen.add(no)
    return frozen


# ---------------------------------------------------------------------------------------------
# Operators. Each is f(code) -> iterable of (start, end, replacement) over the masked code.

def _swap(pairs):
    pattern = re.compile("|".join(re.escape(a) for a in sorted(pairs, key=len, reverse=True)))

    def op(code):
        for m in pattern.finditer(code):
            yield m.start(), m.end(), pairs[m.group(0)]
    return op


rel_boundary = _swap({" < ": " <= ", " <= ": " < ", " > ": " >= ", " >= ": " > "})
eq_neq = _swap({" == ": " != ", " != ": " == "})
and_or = _swap({" && ": " || ", " || ": " && "})
break_continue = re.compile(r"\b(break|continue)\s*;")

_NUMBER_01 = re.compile(r"(?<![\w.])([01])([uUlL]*)(?![\w.'])")
_BOOL = re.compile(r"\b(true|false)\b")


def const_01(code):
    for m in _NUMBER_01.finditer(code):
        if _template_argument(code, m.start()):
            continue
        yield m.start(1), m.end(1), "1" if m.group(1) == "0" else "0"
    for m in _BOOL.finditer(code):
        yield m.start(), m.end(), "false" if m.group(1) == "true" else "true"


def _template_argument(code, i):
    """Whether the literal at i opens a template argument list (`get<0>`): not a value."""
    return i > 0 and code[i - 1] == "<"


_PLUS_MINUS_ONE = re.compile(r" [+-] 1(?![\w.'])")
# a simple right operand of a relational comparison: a name, member chain or call, or a number
_REL_RHS = re.compile(r" (<|<=|>|>=) ([A-Za-z_][\w.]*(?:->\w+)*(?:\(\))?|\d+)(?=\)| &&| \|\||;| \?)")


def plus_minus_one(code):
    for m in _PLUS_MINUS_ONE.finditer(code):
        yield m.start(), m.end(), ""
    for m in _REL_RHS.finditer(code):
        yield m.end(2), m.end(2), " + 1"


_COND_HEAD = re.compile(r"\b(if|while)\s*\(")


def _matching(code, i, open_c, close_c):
    """Offset after the bracket matching the one at code[i], or -1."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == open_c:
            depth += 1
        elif code[j] == close_c:
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def _conditions(code):
    """(keyword, start of '(', end after ')') of every if/while condition."""
    for m in _COND_HEAD.finditer(code):
        if code[m.start():].startswith("if constexpr"):
            continue
        open_paren = m.end() - 1
        close = _matching(code, open_paren, "(", ")")
        if close > 0:
            yield m.group(1), open_paren, close


def negate_cond(code):
    for _, o, c in _conditions(code):
        inner = code[o + 1:c - 1]
        if ";" in inner or inner.lstrip().startswith(("auto ", "const ")):
            continue  # if-with-initialiser or a declaration in the condition
        yield o, c, "(!(" + inner + "))"


def remove_if_body(code):
    for kw, _, c in _conditions(code):
        if kw != "if":
            continue
        j = c
        while j < len(code) and code[j] in " \t\n":
            j += 1
        if j >= len(code):
            continue
        if code[j] == "{":
            end = _matching(code, j, "{", "}")
        else:
            end = _statement_end(code, j)
        if end > 0 and code[j:end].strip() not in ("{}", ";"):
            yield j, end, "{}"


def _statement_end(code, i):
    depth = 0
    for j in range(i, len(code)):
        ch = code[j]
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
            if depth < 0:
                return -1
        elif ch == ";" and depth == 0:
            return j + 1
    return -1


_CALL_STMT = re.compile(r"(?m)(?<=[;{}\n)])[ \t]*((?:[\w\]\[]+(?:\(\))?(?:\.|->))*(?:" +
                        "|".join(SIDE_EFFECT_CALLS) + r")\()")
_MEMBER_ASSIGN = re.compile(r"(?m)(?<=[;{}\n)])[ \t]*((?:\w+_|this->\w+|\w+(?:\.|->)\w+)"
                            r"(?:(?:\.|->)\w+)*\s*(?:[-+|&^]?=)(?!=))")


def remove_call(code):
    for pattern in (_CALL_STMT, _MEMBER_ASSIGN):
        for m in pattern.finditer(code):
            s = m.start(1)
            before = code[:s].rstrip(" \t\n")
            if before and before[-1] not in ";{})":
                continue
            if before.endswith(")") and not _is_control_head(code, before):
                continue
            if _prev_word(before) == "return":
                continue
            end = _statement_end(code, s)
            if end > 0:
                yield s, end, "{}"


def _is_control_head(code, before):
    """Whether `before` (code up to a statement) ends with `if (...)`/`for (...)`/`while (...)`."""
    close = len(before) - 1
    depth = 0
    for j in range(close, -1, -1):
        if code[j] == ")":
            depth += 1
        elif code[j] == "(":
            depth -= 1
            if depth == 0:
                head = code[:j].rstrip()
                return head.endswith(("if", "for", "while"))
    return False


def _prev_word(s):
    m = re.search(r"(\w+)\s*$", s)
    return m.group(1) if m else ""


_STATUS_FN = re.compile(r"(?m)^(?:template <[^>]*>\s*\n)?(?:inline )?Status\s+[\w:<>~]+\([^;{]*?\)"
                        r"\s*(?:const\s*)?\{")


def early_return(code):
    for m in _STATUS_FN.finditer(code):
        body = code[m.end():_matching(code, m.end() - 1, "{", "}") - 1]
        if body.strip().startswith("return ok_status();"):
            continue
        yield m.end(), m.end(), " return ok_status();"


def break_continue_op(code):
    for m in break_continue.finditer(code):
        yield m.start(1), m.end(1), "continue" if m.group(1) == "break" else "break"


OPERATORS = {
    "rel-boundary": rel_boundary,
    "eq-neq": eq_neq,
    "and-or": and_or,
    "plus-minus-one": plus_minus_one,
    "const-01": const_01,
    "negate-cond": negate_cond,
    "remove-if-body": remove_if_body,
    "remove-call": remove_call,
    "early-return": early_return,
    "break-continue": break_continue_op,
}


# ---------------------------------------------------------------------------------------------

def mutants_of(path, text, operators=None):
    """Every mutant of one file (path: repository-relative), in file order."""
    code, frozen = mask(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    seen = {}
    edits = set()
    found = []
    for name, op in OPERATORS.items():
        if operators and name not in operators:
            continue
        for start, end, repl in op(code):
            line = _line_of(line_starts, start)
            if line in frozen or _line_of(line_starts, max(start, end - 1)) in frozen:
                continue
            if (start, end, repl) in edits:
                continue  # two operators making the same edit: one mutant
            edits.add((start, end, repl))
            mutated = text[:start] + repl + text[end:]
            before = _lines(text, line_starts, start, end)
            after = _lines(mutated, line_starts, start, start + len(repl))
            if before == after:
                continue
            key = (path, name, before, after)
            seen[key] = seen.get(key, -1) + 1
            mid = hashlib.sha1("\0".join(map(str, key + (seen[key],))).encode()).hexdigest()[:10]
            found.append(Mutant(path, line, name, start, end, repl, before, after, mid))
    found.sort(key=lambda m: (m.start, m.op))
    return found


def _line_of(line_starts, offset):
    lo, hi = 0, len(line_starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if line_starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1


def _lines(text, line_starts, start, end):
    """The whole lines spanned by [start, end), joined, whitespace collapsed."""
    a = line_starts[_line_of(line_starts, start) - 1]
    b = text.find("\n", max(end, a))
    b = len(text) if b < 0 else b
    return " ".join(text[a:b].split())


def engine_sources(root, files=None):
    """Repository-relative engine sources to mutate: engine/src/*.cpp, *.h and the public
    headers (their inline code), optionally only those matching one of `files` (substrings)."""
    out = []
    for sub in ("engine/src", "engine/include/ics"):
        d = os.path.join(root, sub)
        for name in sorted(os.listdir(d)):
            if name.endswith((".cpp", ".h")):
                rel = f"{sub}/{name}"
                if not files or any(f in rel for f in files):
                    out.append(rel)
    return out


def all_mutants(root, files=None, operators=None):
    out = []
    for rel in engine_sources(root, files):
        with open(os.path.join(root, rel)) as f:
            out += mutants_of(rel, f.read(), operators)
    return out


def sample(mutants, count, seed):
    """`count` mutants spread over files, deterministic from `seed`: every file with mutants
    gets one (while the count lasts), the rest go to files in proportion to how many mutants
    each has; within a file the mutants are a random sample."""
    rng = random.Random(seed)
    by_file = {}
    for m in mutants:
        by_file.setdefault(m.file, []).append(m)
    files = sorted(by_file)
    for f in files:
        rng.shuffle(by_file[f])
    picked = set(rng.sample(files, count)) if count < len(files) else set(files)
    quota = {f: int(f in picked) for f in files}
    left = count - sum(quota.values())
    total = sum(len(by_file[f]) - quota[f] for f in files)
    for f in files:
        if left <= 0 or total <= 0:
            break
        quota[f] += min(len(by_file[f]) - quota[f],
                        round(left * (len(by_file[f]) - quota[f]) / total))
    out = [m for f in files for m in by_file[f][:quota[f]]]
    rest = [m for f in files for m in by_file[f][quota[f]:]]
    rng.shuffle(rest)
    out += rest[:max(0, count - len(out))]
    return sorted(out[:count], key=lambda m: (m.file, m.start))
