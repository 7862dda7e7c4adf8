"""Server-side SVG charts for the dashboard and the PDF report: no JavaScript, readable in print.

Every chart comes with its numbers as a table (header row first) for screen readers and for
anyone who prefers figures to shapes. Every piece of text in the markup is escaped. A value
may be a suppressed count (a string such as ``"<5"`` or ``"x"``, see ``reports.suppression``):
it is drawn as a hatched outline, up to the bound its mark states (or a short stub if it
states none), and labelled with the mark, so no chart shows a number the table hides.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from math import floor, log10
from xml.sax.saxutils import escape

Value = int | float | str

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP = 56, 16, 40
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
TEXT = "#1a1a1a"
GRID = "#c8c8c8"
# Dark enough for at least 4.5:1 against white (text-level contrast, more than the 3:1 graphics need),
# and told apart by lightness and hue for colour-blind readers and in greyscale print.
PALETTE = ("#1f4e8c", "#a3470a", "#2e6b30", "#7a2868", "#4d4d4d", "#8c1c13")
# Line series are also told apart by marker and dash, for greyscale print.
MARKERS = ("circle", "square", "diamond", "triangle")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
MAX_LABEL = 14  # characters shown under a rotated axis; the full label is in the <title>

_BOUND = re.compile(r"^<\s*(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Chart:
    """The SVG markup and the same numbers as a table (first row is the header)."""

    svg: str
    table: list[list[str]]


def bar_chart(
    title: str,
    data: Sequence[tuple[str, Value]],
    *,
    unit: str = "",
    x_label: str = "",
    y_label: str = "",
) -> Chart:
    """One bar per (label, value)."""
    series = {y_label or unit or "Value": list(data)}
    return _bars(title, series, unit=unit, x_label=x_label, stacked=False)


def stacked_bar_chart(
    title: str,
    series: dict[str, Sequence[tuple[str, Value]]],
    *,
    unit: str = "",
    x_label: str = "",
) -> Chart:
    """One bar per x label (periods, say), split into one segment per series (outcomes, say)."""
    return _bars(title, series, unit=unit, x_label=x_label, stacked=True)


def line_chart(
    title: str,
    series: dict[str, Sequence[tuple[str, Value]]],
    *,
    unit: str = "",
    x_label: str = "",
) -> Chart:
    """One line per series over shared x labels; a suppressed point breaks its line."""
    xs, grid = _align(series)
    table = _table(x_label, series, xs, grid)
    svg = _Svg(title, series, unit)
    numeric = [_upper(v) for row in grid for v in row if v is not None]
    if not xs:
        return Chart(svg.empty(), table)
    top = _nice_max(max(numeric, default=0))
    plot = svg.frame(top, unit)
    step = plot.width / len(xs)
    centres = [plot.left + step * (k + 0.5) for k in range(len(xs))]
    svg.x_labels(xs, centres, step, plot)
    for s, name in enumerate(series):
        colour, dash, marker = PALETTE[s % len(PALETTE)], DASHES[s % len(DASHES)], MARKERS[s % len(MARKERS)]
        segments: list[list[tuple[float, float]]] = [[]]
        for k, x in enumerate(xs):
            value = grid[k][s]
            if value is None or isinstance(value, str):
                segments.append([])
                if isinstance(value, str):
                    y = plot.y(_upper(value))
                    svg.hollow_point(centres[k], y, colour, f"{name}, {x}: {value}", value)
                continue
            y = plot.y(value)
            segments[-1].append((centres[k], y))
            svg.point(marker, centres[k], y, colour, f"{name}, {x}: {_fmt(value)}{_unit(unit)}")
        for segment in segments:
            if len(segment) > 1:
                svg.polyline(segment, colour, dash)
    svg.legend(list(series), lines=True)
    return Chart(svg.finish(), table)


def _bars(
    title: str, series: dict[str, Sequence[tuple[str, Value]]], *, unit: str, x_label: str, stacked: bool
) -> Chart:
    xs, grid = _align(series)
    table = _table(x_label, series, xs, grid)
    svg = _Svg(title, series, unit)
    if not xs:
        return Chart(svg.empty(), table)
    heights = [sum(_upper(v) for v in row if v is not None) for row in grid]
    top = _nice_max(max(heights))
    plot = svg.frame(top, unit)
    step = plot.width / len(xs)
    bar = max(1.0, min(step * 0.7, 80.0))
    centres = [plot.left + step * (k + 0.5) for k in range(len(xs))]
    svg.x_labels(xs, centres, step, plot)
    names = list(series)
    for k, x in enumerate(xs):
        base = 0.0
        for s, name in enumerate(names):
            value = grid[k][s]
            if value is None:
                continue
            colour = PALETTE[s % len(PALETTE)] if stacked else PALETTE[0]
            who = f"{name}, {x}" if stacked else x
            height = _upper(value)
            y0, y1 = plot.y(base), plot.y(base + height)
            if isinstance(value, str):
                svg.hatched_bar(centres[k] - bar / 2, y1, bar, y0 - y1, colour, f"{who}: {value}")
                label_y = min(y1, y0 - 4)
            else:
                svg.bar(centres[k] - bar / 2, y1, bar, y0 - y1, colour, f"{who}: {_fmt(value)}{_unit(unit)}")
                label_y = y1
            base += height
            if not stacked:
                svg.value_label(centres[k], label_y, value if isinstance(value, str) else _fmt(value), bar)
    if stacked:
        svg.legend(names, lines=False)
    return Chart(svg.finish(), table)


def _align(series: dict[str, Sequence[tuple[str, Value]]]) -> tuple[list[str], list[list[Value | None]]]:
    """The x labels in first-seen order, and for each the value of every series (None if it has none)."""
    xs: list[str] = []
    for points in series.values():
        for x, _ in points:
            if str(x) not in xs:
                xs.append(str(x))
    lookup = [{str(x): v for x, v in points} for points in series.values()]
    return xs, [[values.get(x) for values in lookup] for x in xs]


def _table(x_label: str, series: dict, xs: list[str], grid: list[list[Value | None]]) -> list[list[str]]:
    header = [x_label, *(str(name) for name in series)]
    rows = [[x, *("" if v is None else _fmt(v) for v in row)] for x, row in zip(xs, grid, strict=True)]
    return [header, *rows]


def _fmt(value: Value) -> str:
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def _upper(value: Value) -> float:
    """How tall to draw a value: the number, a suppressed count's stated bound, or nothing."""
    if isinstance(value, str):
        match = _BOUND.match(value.strip())
        return float(match.group(1)) if match else 0.0
    return max(0.0, float(value))


def _nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** floor(log10(value))
    for factor in (1, 2, 5, 10):
        if factor * power >= value:
            return float(factor * power)
    return float(10 * power)


def _esc(text: object) -> str:
    """Escaped for XML text and attribute values alike."""
    return escape(str(text), {'"': "&quot;", "'": "&apos;"})


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "\u2026"


@dataclass(frozen=True)
class _Plot:
    left: float
    right: float
    top: float
    bottom: float
    y_max: float

    @property
    def width(self) -> float:
        return self.right - self.left

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * (value / self.y_max)


class _Svg:
    """Collects the elements of one chart."""

    def __init__(self, title: str, series: dict, unit: str) -> None:
        self.title = title
        self.unit = unit
        self.series = series
        digest = hashlib.sha256(repr((title, series, unit)).encode()).hexdigest()[:10]
        self.id = f"chart-{digest}"
        self.parts: list[str] = []
        self.bottom_margin = 40
        self.has_hatched = False

    def _head(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" role="img" '
            f'aria-labelledby="{self.id}-title {self.id}-desc" {FONT} font-size="12">'
            f'<title id="{self.id}-title">{_esc(self.title)}</title>'
            f'<desc id="{self.id}-desc">{_esc(self._description())}</desc>'
            "<defs>"
            f'<pattern id="{self.id}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
            'patternTransform="rotate(45)">'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{TEXT}" stroke-width="1.5"/></pattern>'
            "</defs>"
            f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
            f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold" fill="{TEXT}">'
            f"{_esc(self.title)}</text>"
        )

    def _description(self) -> str:
        points = sum(len(p) for p in self.series.values())
        if not points:
            return "No data."
        names = ", ".join(str(n) for n in self.series)
        text = f"{points} values in {len(self.series)} series ({names})"
        text += f", in {self.unit}." if self.unit else "."
        hidden = sum(isinstance(v, str) for p in self.series.values() for _, v in p)
        if hidden:
            text += f" {hidden} small counts are suppressed and drawn hatched, up to their stated bound."
        return text + " The numbers are in the table that goes with the chart."

    def empty(self) -> str:
        self.parts.append(
            f'<text x="{WIDTH / 2:.1f}" y="{HEIGHT / 2:.1f}" text-anchor="middle" fill="{TEXT}">'
            "No data</text>"
        )
        return self.finish()

    def finish(self) -> str:
        return self._head() + "".join(self.parts) + "</svg>"

    def frame(self, y_max: float, unit: str) -> _Plot:
        legend = 22 if len(self.series) > 1 else 0
        plot = _Plot(LEFT, WIDTH - RIGHT, TOP + legend, HEIGHT - 90, y_max)
        for k in range(5):
            value = y_max * k / 4
            y = plot.y(value)
            self.parts.append(
                f'<line x1="{plot.left}" y1="{y:.1f}" x2="{plot.right}" y2="{y:.1f}" stroke="{GRID}" '
                'stroke-width="1"/>'
                f'<text x="{plot.left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">'
                f"{_fmt(value)}</text>"
            )
        if unit:
            self.parts.append(
                f'<text x="14" y="{(plot.top + plot.bottom) / 2:.1f}" text-anchor="middle" fill="{TEXT}" '
                f'transform="rotate(-90 14 {(plot.top + plot.bottom) / 2:.1f})">{_esc(unit)}</text>'
            )
        self.parts.append(
            f'<line x1="{plot.left}" y1="{plot.bottom}" x2="{plot.right}" y2="{plot.bottom}" '
            f'stroke="{TEXT}"/>'
        )
        return plot

    def x_labels(self, xs: list[str], centres: list[float], step: float, plot: _Plot) -> None:
        # About 7 px per character at 12 px: rotate when the labels would not fit side by side.
        rotate = step < 7 * max(len(x) for x in xs) + 6
        size = 12 if step >= 14 else max(6, int(step * 0.8))
        for x, cx in zip(xs, centres, strict=True):
            y = plot.bottom + 16
            shown = _short(x) if rotate else x
            transform = f' transform="rotate(-45 {cx:.1f} {y:.1f})"' if rotate else ""
            anchor = "end" if rotate else "middle"
            self.parts.append(
                f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{TEXT}"'
                f"{transform}><title>{_esc(x)}</title>{_esc(shown)}</text>"
            )

    def bar(self, x: float, y: float, w: float, h: float, colour: str, label: str) -> None:
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{max(h, 0):.1f}" fill="{colour}" '
            f'stroke="#ffffff" stroke-width="1"><title>{_esc(label)}</title></rect>'
        )

    def hatched_bar(self, x: float, y: float, w: float, h: float, colour: str, label: str) -> None:
        if h < 4:  # a mark without a bound still shows a stub above the baseline
            y, h = y + h - 4, 4.0
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
            f'height="{h:.1f}" fill="url(#{self.id}-hatch)" stroke="{colour}" stroke-width="1.5" '
            f'stroke-dasharray="4 2"><title>{_esc(label)}</title></rect>'
        )

    def value_label(self, cx: float, y: float, text: str, bar: float) -> None:
        if bar < 18:
            return  # too narrow to label each bar: the <title> and the table carry the number
        self.parts.append(
            f'<text x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle" fill="{TEXT}">{_esc(text)}</text>'
        )

    def point(self, marker: str, cx: float, cy: float, colour: str, label: str) -> None:
        tip = f"<title>{_esc(label)}</title>"
        if marker == "square":
            box = f'x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8"'
            shape = f'<rect {box} fill="{colour}">{tip}</rect>'
        elif marker == "diamond":
            pts = f"{cx:.1f},{cy - 5:.1f} {cx + 5:.1f},{cy:.1f} {cx:.1f},{cy + 5:.1f} {cx - 5:.1f},{cy:.1f}"
            shape = f'<polygon points="{pts}" fill="{colour}">{tip}</polygon>'
        elif marker == "triangle":
            pts = f"{cx:.1f},{cy - 5:.1f} {cx + 5:.1f},{cy + 4:.1f} {cx - 5:.1f},{cy + 4:.1f}"
            shape = f'<polygon points="{pts}" fill="{colour}">{tip}</polygon>'
        else:
            shape = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}">{tip}</circle>'
        self.parts.append(shape)

    def hollow_point(self, cx: float, cy: float, colour: str, label: str, mark: str) -> None:
        self.parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#ffffff" stroke="{colour}" stroke-width="1.5" '
            f'stroke-dasharray="2 1"><title>{_esc(label)}</title></circle>'
            f'<text x="{cx:.1f}" y="{cy - 8:.1f}" text-anchor="middle" fill="{TEXT}">{_esc(mark)}</text>'
        )

    def polyline(self, points: list[tuple[float, float]], colour: str, dash: str) -> None:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"{dashed}/>'
        )

    def legend(self, names: list[str], *, lines: bool) -> None:
        x, y = float(LEFT), TOP + 4.0
        for s, name in enumerate(names):
            colour = PALETTE[s % len(PALETTE)]
            if lines:
                dash = DASHES[s % len(DASHES)]
                dashed = f' stroke-dasharray="{dash}"' if dash else ""
                swatch = (
                    f'<line x1="{x:.1f}" y1="{y + 5:.1f}" x2="{x + 16:.1f}" y2="{y + 5:.1f}" '
                    f'stroke="{colour}" stroke-width="2"{dashed}/>'
                )
            else:
                swatch = f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="10" fill="{colour}"/>'
            shown = _short(str(name))
            self.parts.append(
                f'{swatch}<text x="{x + 20:.1f}" y="{y + 9:.1f}" fill="{TEXT}">'
                f"<title>{_esc(name)}</title>{_esc(shown)}</text>"
            )
            x += 28 + 7 * len(shown)
            if x > WIDTH - 120:
                break  # the rest are in the table; a legend that overflows the chart helps nobody
