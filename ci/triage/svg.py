"""A plain SVG line plot of live bytes over loops (Memory-growth findings): one polyline, or
one per growth series (server / client / process) with a legend and the grown ones emphasised."""
from typing import Dict, Iterable, List, Optional
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 90, 20, 40, 50
LEGEND_WIDTH = 180  # right margin that holds the legend of a multi-series plot
ONE_COLOUR = "#c0392b"
# colour per known series; other names take the spare colours in order
SERIES_COLOURS = {"server": "#1f77b4", "client": "#2ca02c", "process": "#d62728"}
SPARE_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
SERIES_ORDER = ("server", "client", "process")


def _ticks(lo: float, hi: float, n: int = 4) -> List[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / n for i in range(n + 1)]


def byte_label(v: float) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(v) >= size:
            return f"{v / size:.1f} {unit}"
    return f"{v:.0f}"


def _ordered(names: Iterable[str]) -> List[str]:
    names = list(names)
    return [n for n in SERIES_ORDER if n in names] + sorted(n for n in names if n not in SERIES_ORDER)


def plot(samples: List[List[float]], title: str, x_label: str = "loop",
         y_label: str = "live bytes", series: Optional[Dict[str, List[List[float]]]] = None,
         grown: Iterable[str] = (), labels: Optional[Dict[str, str]] = None,
         subtitle: str = "") -> str:
    """SVG text with axes, tick labels and a title. Without `series`: `samples` as one
    polyline, the y axis from its least to its largest value. With it: one polyline per series,
    each drawn as its change since its own first sample (series of megabytes and a growth of
    kilobytes share one axis, and the growth shows), thick and solid
    for the names in `grown`, thin and dashed for the others, and a legend on the right giving
    `labels[name]` (default: the name) for each."""
    lines = {n: [[x, y - s[0][1]] for x, y in s] for n, s in (series or {}).items() if s}
    if not lines:
        lines, legend = {"": samples}, False
    else:
        legend = True
        if y_label == "live bytes":
            y_label = "live bytes - first sample"
    grown = set(grown)
    right = RIGHT + (LEGEND_WIDTH if legend else 0)
    points = [p for s in lines.values() for p in s]
    xs = [p[0] for p in points] or [0.0]
    ys = [p[1] for p in points] or [0.0]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0 = min(ys) if not legend or min(ys) < 0 else 0.0  # several series: changes from zero
    y1 = max(ys) if max(ys) > y0 else y0 + 1
    top = TOP + (14 if subtitle else 0)
    w, h = WIDTH - LEFT - right, HEIGHT - top - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * w

    def py(y: float) -> float:
        return top + h - (y - y0) / (y1 - y0) * h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="13">{escape(title)}</text>']
    if subtitle:
        out.append(f'<text x="{WIDTH / 2}" y="36" text-anchor="middle" fill="#444">'
                   f'{escape(subtitle)}</text>')
    out += [f'<line x1="{LEFT}" y1="{top + h}" x2="{LEFT + w}" y2="{top + h}" stroke="black"/>',
            f'<line x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{top + h}" stroke="black"/>']
    for x in _ticks(x0, x1):
        out.append(f'<text x="{px(x):.1f}" y="{top + h + 16}" text-anchor="middle">{x:.0f}</text>')
    for y in _ticks(y0, y1):
        out.append(f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + w}" y2="{py(y):.1f}" '
                   f'stroke="#e6e6e6"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{byte_label(y)}</text>')
    out.append(f'<text x="{LEFT + w / 2}" y="{HEIGHT - 12}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<text x="16" y="{top + h / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + h / 2})">{escape(y_label)}</text>')
    if not legend:
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in samples)
        out.append(f'<polyline fill="none" stroke="{ONE_COLOUR}" stroke-width="1.5" points="{pts}"/>')
        out.append("</svg>")
        return "\n".join(out) + "\n"

    names = _ordered(lines)
    spare = iter(SPARE_COLOURS * len(names))
    colours = {n: SERIES_COLOURS.get(n) or next(spare) for n in names}
    # the grown series last, so that they are drawn over the others
    for name in sorted(names, key=lambda n: n in grown):
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in lines[name])
        style = ('stroke-width="2.5"' if name in grown
                 else 'stroke-width="1.2" stroke-dasharray="5 3" stroke-opacity="0.8"')
        out.append(f'<polyline data-series="{escape(name)}" fill="none" stroke="{colours[name]}" '
                   f'{style} points="{pts}"/>')
    lx, ly = WIDTH - right + 16, top + 6
    out.append(f'<g class="legend">')
    for i, name in enumerate(names):
        y = ly + i * 34
        text = (labels or {}).get(name, name)
        dash = "" if name in grown else ' stroke-dasharray="5 3"'
        width = "2.5" if name in grown else "1.2"
        out.append(f'<line x1="{lx}" y1="{y + 5}" x2="{lx + 24}" y2="{y + 5}" '
                   f'stroke="{colours[name]}" stroke-width="{width}"{dash}/>')
        weight = ' font-weight="bold"' if name in grown else ""
        first, _, second = text.partition("\n")
        out.append(f'<text x="{lx + 30}" y="{y + 9}"{weight}>{escape(first)}</text>')
        if second:
            out.append(f'<text x="{lx + 30}" y="{y + 23}" fill="#444">{escape(second)}</text>')
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
