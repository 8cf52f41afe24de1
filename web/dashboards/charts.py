"""Charts as accessible inline SVG, drawn on the server: horizontal bars of target against
actual, and a line per series over the reporting periods. Each has a `<title>` and a
`<desc>` (role="img", aria-labelledby) and sits beside its data table. Only presentation
attributes are used (no style attribute), so the portal's CSP holds."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

from markupsafe import Markup, escape

TARGET, ACTUAL = "#c05600", "#1a4480"  # orange and dark blue, told apart by the legend
GRID, TEXT = "#a9aeb1", "#1b1b1b"
WIDTH = 560
LABEL_W = 170
ROW_H = 34
LABEL_CHARS = 24  # of a bar row's label per line
FONT = 'font-family="Source Sans Pro, Helvetica, Arial, sans-serif" font-size="13"'


def _scale_max(values: Sequence[float | None]) -> float:
    top = max((v for v in values if v is not None), default=0.0)
    return max(10.0, math.ceil(top / 10) * 10)


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="portal-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" aria-labelledby="{chart_id}-title '
        f'{chart_id}-desc" {FONT} fill="{TEXT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _legend(y: int, items: Sequence[tuple[str, str]]) -> list[str]:
    out, x = [], LABEL_W
    for name, color in items:
        out.append(f'<rect x="{x}" y="{y - 10}" width="14" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 20}" y="{y}">{escape(name)}</text>')
        x += 30 + 8 * len(name)
    return out


def bars(
    chart_id: str, title: str, desc: str, rows: Sequence[tuple[str, float | None, float | None]]
) -> Markup:
    """Per row (label, target, actual): two bars, with their values written at their ends;
    a row without numbers says "not shown"."""
    top = _scale_max([v for _, t, a in rows for v in (t, a)])
    plot_w = WIDTH - LABEL_W - 60
    height = 40 + ROW_H * max(1, len(rows)) + 30
    body = _legend(16, (("Target", TARGET), ("Actual", ACTUAL)))
    for tick in range(0, int(top) + 1, int(top) // 5 or 1):
        x = LABEL_W + plot_w * tick / top
        body.append(f'<line x1="{x:.1f}" y1="28" x2="{x:.1f}" y2="{height - 24}" '
                    f'stroke="{GRID}" stroke-width="1"/>')  # fmt: skip
        body.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{tick}%</text>')
    for i, (label, target, actual) in enumerate(rows):
        y = 34 + i * ROW_H
        body.append(_row_label(label, LABEL_W - 8, y))
        if target is None and actual is None:
            body.append(f'<text x="{LABEL_W + 4}" y="{y + 19}">not shown</text>')
            continue
        for j, (value, color) in enumerate(((target, TARGET), (actual, ACTUAL))):
            if value is None:
                continue
            w = plot_w * value / top
            yy = y + 4 + j * 13
            body.append(
                f'<rect x="{LABEL_W}" y="{yy}" width="{w:.1f}" height="12" fill="{color}"/>'
            )
            body.append(f'<text x="{LABEL_W + w + 4:.1f}" y="{yy + 10}" font-size="11">'
                        f"{value:.1f}%</text>")  # fmt: skip
    return _frame(chart_id, title, desc, height, body)


def _row_label(label: str, x: int, y: int) -> str:
    """A bar row's label, right-aligned: one line, or two for a long group name ("American
    Indian or Alaska Native"), the second cut with "…" only past two lines."""
    parts = textwrap.wrap(label, LABEL_CHARS) or [""]
    if len(parts) == 1:
        return f'<text x="{x}" y="{y + 19}" text-anchor="end">{escape(parts[0])}</text>'
    second = " ".join(parts[1:])
    if len(second) > LABEL_CHARS:
        second = second[: LABEL_CHARS - 1] + "…"
    return (
        f'<text x="{x}" y="{y + 12}" text-anchor="end">'
        f'<tspan x="{x}">{escape(parts[0])}</tspan>'
        f'<tspan x="{x}" dy="14">{escape(second)}</tspan></text>'
    )


def lines(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    unit: str = "%",
    top: float | None = None,
) -> Markup:
    """One line per series (name, a value per label, color) over the periods; a missing
    value breaks the line."""
    scale = top or _scale_max([v for _, values, _ in series for v in values])
    height, left, right, plot_top, plot_bottom = 260, 60, WIDTH - 30, 36, 220
    body = _legend(16, [(name, color) for name, _, color in series])
    for k in range(6):
        value = scale * k / 5
        y = plot_bottom - (plot_bottom - plot_top) * k / 5
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}{unit}</text>'
        )
    step = (right - left) / max(1, len(labels) - 1) if len(labels) > 1 else 0
    xs = [left + step * i if len(labels) > 1 else (left + right) / 2 for i in range(len(labels))]
    for x, label in zip(xs, labels, strict=True):
        body.append(
            f'<text x="{x:.1f}" y="{height - 16}" text-anchor="middle">{escape(label)}</text>'
        )
    for _, values, color in series:
        points: list[tuple[float, float]] = []
        for x, v in zip(xs, values, strict=True):
            if v is None:
                if len(points) > 1:
                    body.append(_polyline(points, color))
                points = []
                continue
            y = plot_bottom - (plot_bottom - plot_top) * v / scale
            points.append((x, y))
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}"/>')
            anchor = "end" if x > right - 40 else "start"
            dx = -6 if anchor == "end" else 6
            body.append(
                f'<text x="{x + dx:.1f}" y="{y - 8:.1f}" font-size="12" text-anchor="{anchor}">'
                f"{v:g}{unit}</text>"
            )
        if len(points) > 1:
            body.append(_polyline(points, color))
    return _frame(chart_id, title, desc, height, body)


def _polyline(points: Sequence[tuple[float, float]], color: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2.5"/>'
