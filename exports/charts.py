"""Charts of a plan document, drawn with matplotlib's Agg backend as print-resolution PNGs.

- `history_chart`: three years of chronic absence rates and this year's target per group
  (subgroups, grades, the district's schools);
- `tier_chart`: students per tier of support;
- `progress_chart`: the all-students rate over past years and this year's reporting
  periods, against the target.

Callers pass only what may be shown: suppressed groups are left out of `history_chart`
(the document names them in a note) and a suppressed tier is drawn without a number.
Figures are laid out with fixed margins (no tight_layout, which draws twice) so that a
chart costs one draw.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.typing import RcKeyType
from PIL import Image

DPI = 200
WIDTH_IN = 6.5
FONT_SIZE = 8.0
YEAR_COLORS = ("#c9d6ea", "#7d9cc9", "#1f3864")
TARGET_COLOR = "#d9822b"
GRID_COLOR = "#d9d9d9"
TEXT_COLOR = "#262626"
CACHE_SIZE = 128  # charts are pure functions of their data: a re-render reuses them
MAX_GROUPS = 25  # groups per history chart; more are split over several charts
STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": FONT_SIZE,
    "text.parse_math": False,  # labels are data: "$" is a dollar sign, not mathtext
    "axes.edgecolor": "#7f7f7f",
    "axes.labelcolor": TEXT_COLOR,
    "xtick.color": TEXT_COLOR,
    "ytick.color": TEXT_COLOR,
}


@dataclass(frozen=True)
class GroupSeries:
    label: str
    rates: tuple[float | None, ...]  # percents, oldest year first
    target: float | None  # percent


@dataclass(frozen=True)
class TierBar:
    label: str
    count: int | None
    hidden: bool = False


@dataclass(frozen=True)
class ProgressPoint:
    label: str
    rate: float | None  # percent
    adjusted_target: float | None = None  # percent
    current_year: bool = True


def _figure(height_in: float) -> tuple[Figure, FigureCanvasAgg]:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    return fig, FigureCanvasAgg(fig)


def _png(fig: Figure, canvas: FigureCanvasAgg) -> bytes:
    """One draw, saved as an RGB PNG (no alpha: smaller, and faster to encode)."""
    with warnings.catch_warnings():
        # A label in a script DejaVu lacks draws as a box; the document holds the text.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        canvas.draw()
    size = canvas.get_width_height()
    image = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", compress_level=1, dpi=(DPI, DPI))
    return buffer.getvalue()


def _short(label: str, limit: int = 40) -> str:
    label = " ".join(label.split())
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _style_axes(ax: Axes) -> None:
    ax.tick_params(labelsize=FONT_SIZE, length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_axisbelow(True)


def _rate(rates: tuple[float | None, ...], j: int) -> float:
    value = rates[j] if j < len(rates) else None
    return 0.0 if value is None else value


def _xy(points: Sequence[tuple[int, float]]) -> tuple[list[int], list[float]]:
    return [x for x, _ in points], [y for _, y in points]


def _upper(values: Sequence[float | None]) -> float:
    top = max((v for v in values if v is not None), default=0.0)
    return max(10.0, math.ceil(top * 1.12 / 5) * 5)


@lru_cache(maxsize=CACHE_SIZE)
def history_chart(
    title: str, groups: tuple[GroupSeries, ...], years: tuple[str, ...], target_label: str
) -> bytes:
    """Horizontal bars per group, one per year, and the target as a diamond."""
    import matplotlib as mpl

    n = len(groups)
    height = 1.05 + 0.26 * max(n, 1)
    with mpl.rc_context(STYLE):
        fig, canvas = _figure(height)
        longest = max((len(_short(g.label)) for g in groups), default=8)
        left = min(0.45, (0.2 + longest * FONT_SIZE * 0.52 / 72) / WIDTH_IN)
        top_in, bottom_in = 0.62, 0.42
        ax = fig.add_axes(
            (left, bottom_in / height, 0.97 - left, 1 - (top_in + bottom_in) / height)
        )
        _style_axes(ax)
        k = max(len(years), 1)
        bar = 0.8 / k
        positions = range(n)
        # All bars in one collection: one artist draws far faster than a patch per bar.
        boxes, colors, handles = [], [], list[Artist]()
        for j, year in enumerate(years):
            color = YEAR_COLORS[max(0, len(YEAR_COLORS) - k + j)] if k <= 3 else "#7d9cc9"
            handles.append(Patch(facecolor=color, label=year))
            for i, g in enumerate(groups):
                top, width = i - 0.4 + bar * j + bar * 0.04, _rate(g.rates, j)
                bottom = top + bar * 0.92
                boxes.append([(0, top), (width, top), (width, bottom), (0, bottom)])
                colors.append(color)
        ax.add_collection(PolyCollection(boxes, facecolors=colors, linewidths=0))
        targets = [(g.target, i) for i, g in enumerate(groups) if g.target is not None]
        if targets:
            handles.append(
                ax.scatter(
                    [t for t, _ in targets],
                    [i for _, i in targets],
                    marker="D",
                    s=22,
                    color=TARGET_COLOR,
                    edgecolors="white",
                    linewidths=0.6,
                    zorder=3,
                    label=target_label,
                )
            )
        values = [r for g in groups for r in (*g.rates, g.target)]
        ax.set_xlim(0, _upper(values))
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_yticks(list(positions), [_short(g.label) for g in groups])
        ax.xaxis.grid(True, color=GRID_COLOR, linewidth=0.6)
        ax.set_xlabel("Chronic absence rate (%)", fontsize=FONT_SIZE)
        fig.text(0.01, 1 - 0.12 / height, title, fontsize=9.5, weight="bold", va="top")
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=k + 1,
            frameon=False,
            fontsize=FONT_SIZE - 0.5,
            handlelength=1.2,
            borderaxespad=0.2,
        )
        return _png(fig, canvas)


@lru_cache(maxsize=CACHE_SIZE)
def tier_chart(title: str, bars: tuple[TierBar, ...]) -> bytes:
    """Students per tier; a suppressed tier shows the word, not a bar or a number."""
    import matplotlib as mpl

    height = 2.5
    with mpl.rc_context(STYLE):
        fig, canvas = _figure(height)
        ax = fig.add_axes((0.08, 0.22, 0.9, 0.6))
        _style_axes(ax)
        counts = [b.count if b.count is not None and not b.hidden else 0 for b in bars]
        x = list(range(len(bars)))
        colors = ["#9fc5a8", "#f2d388", "#eaa26b", "#c8553d"][: len(bars)]
        ax.bar(x, counts, color=colors or None, width=0.62, linewidth=0)
        top = max(counts, default=0) or 1
        ax.set_ylim(0, top * 1.22)
        for i, b in enumerate(bars):
            if b.hidden:
                text = "suppressed"
            elif b.count is None:
                text = "no data"
            else:
                text = f"{b.count:,}"
            y = counts[i] if not b.hidden and b.count is not None else 0
            ax.text(i, y + top * 0.03, text, ha="center", va="bottom", fontsize=FONT_SIZE)
        ax.set_xticks(x, [b.label for b in bars])
        ax.yaxis.grid(True, color=GRID_COLOR, linewidth=0.6)
        ax.set_ylabel("Students", fontsize=FONT_SIZE)
        fig.text(0.01, 1 - 0.12 / height, title, fontsize=9.5, weight="bold", va="top")
        return _png(fig, canvas)


@lru_cache(maxsize=CACHE_SIZE)
def progress_chart(
    title: str, points: tuple[ProgressPoint, ...], target: float | None, target_label: str
) -> bytes:
    """The all-students rate over time, with the target and adjusted targets."""
    import matplotlib as mpl

    height = 2.8
    with mpl.rc_context(STYLE):
        fig, canvas = _figure(height)
        ax = fig.add_axes((0.08, 0.17, 0.9, 0.62))
        _style_axes(ax)
        x = list(range(len(points)))
        known = [(i, p.rate) for i, p in enumerate(points) if p.rate is not None]
        past = [(i, r) for i, r in known if not points[i].current_year]
        now = [(i, r) for i, r in known if points[i].current_year]
        if known:
            ax.plot(*_xy(known), color="#7d9cc9", linewidth=1.2, zorder=2)
        if past:
            ax.scatter(*_xy(past), color="#7d9cc9", s=20, zorder=3, label="End of year")
        if now:
            ax.scatter(*_xy(now), color="#1f3864", s=26, zorder=3, label="This year")
        for i, r in known:
            ax.annotate(
                f"{r:.1f}%",
                (i, r),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=FONT_SIZE - 0.5,
            )
        adjusted = [
            (i, p.adjusted_target) for i, p in enumerate(points) if p.adjusted_target is not None
        ]
        if adjusted:
            ax.scatter(
                *_xy(adjusted),
                marker="_",
                s=140,
                color=TARGET_COLOR,
                linewidths=2,
                zorder=3,
                label="Adjusted target",
            )
        if target is not None:
            ax.axhline(target, color=TARGET_COLOR, linestyle="--", linewidth=1, label=target_label)
        values = [p.rate for p in points] + [p.adjusted_target for p in points] + [target]
        ax.set_ylim(0, _upper(values))
        ax.set_xlim(-0.5, max(len(points), 1) - 0.5)
        ax.set_xticks(x, [p.label for p in points])
        ax.yaxis.grid(True, color=GRID_COLOR, linewidth=0.6)
        ax.set_ylabel("Chronic absence (%)", fontsize=FONT_SIZE)
        fig.text(0.01, 1 - 0.12 / height, title, fontsize=9.5, weight="bold", va="top")
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=4,
            frameon=False,
            fontsize=FONT_SIZE - 0.5,
            borderaxespad=0.2,
        )
        return _png(fig, canvas)


def clear_cache() -> None:
    """Forget the charts drawn so far (benchmarks time fresh drawing)."""
    for chart in (history_chart, tier_chart, progress_chart):
        chart.cache_clear()


def chunks(groups: Sequence[GroupSeries], size: int = MAX_GROUPS) -> list[tuple[GroupSeries, ...]]:
    """Groups split evenly over as few charts as hold at most `size` each."""
    if not groups:
        return []
    parts = math.ceil(len(groups) / size)
    step = math.ceil(len(groups) / parts)
    return [tuple(groups[i : i + step]) for i in range(0, len(groups), step)]
