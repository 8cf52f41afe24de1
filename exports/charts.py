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

A chart is a pure function of its inputs, so drawn charts are kept: in memory (per
process) and, inside `kept_in(store)`, in the object store under `charts/<sha>.png`, the
SHA-256 of the chart's kind, inputs and `CODE_VERSION` (the hash of this module's source,
so changed drawing code never reuses an old picture). Plans' charts are drawn when a plan
is submitted (`aip_forms.services.documents.draw_charts`) and a download reads them; a
chart missing from the store, or one whose bytes fail the store's SHA-256 or are not a
whole PNG, is drawn again and stored. matplotlib is imported only when a chart is drawn.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import io
import json
import logging
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

    from aip_forms.storage import ObjectStore

log = logging.getLogger(__name__)

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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    return fig, FigureCanvasAgg(fig)


def _png(fig: Figure, canvas: FigureCanvasAgg) -> bytes:
    """One draw, saved as an RGB PNG (no alpha: smaller, and faster to encode)."""
    from PIL import Image

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


def _draw_history(
    title: str,
    groups: tuple[GroupSeries, ...],
    years: tuple[str, ...],
    target_label: str,
    axis: str = "Chronic absence rate (%)",
) -> bytes:
    """Horizontal bars per group, one per year, and the target as a diamond."""
    import matplotlib as mpl
    from matplotlib.artist import Artist
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

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
        ax.set_xlabel(axis, fontsize=FONT_SIZE)
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


def _draw_tiers(title: str, bars: tuple[TierBar, ...]) -> bytes:
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


def _draw_progress(
    title: str,
    points: tuple[ProgressPoint, ...],
    target: float | None,
    target_label: str,
    axis: str = "Chronic absence rate (%)",
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
        ax.set_ylabel(axis, fontsize=FONT_SIZE)
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


# ---- kept charts -----------------------------------------------------------------------------

CHART_PREFIX = "charts/"
_PNG_START = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"
_store: contextvars.ContextVar[ObjectStore | None] = contextvars.ContextVar(
    "chart_store", default=None
)
DRAW: dict[str, Callable[..., bytes]] = {
    "history": _draw_history,
    "tiers": _draw_tiers,
    "progress": _draw_progress,
}


@cache
def code_version() -> str:
    """The drawing code's version: a hash of this module's source (and matplotlib's)."""
    from importlib.metadata import version

    source = Path(__file__).read_bytes()
    return hashlib.sha256(source + version("matplotlib").encode()).hexdigest()[:16]


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "type": type(value).__name__,
            **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def chart_key(kind: str, args: tuple[object, ...]) -> str:
    """The object key of a chart: the SHA-256 of what it is drawn from."""
    inputs = json.dumps([kind, code_version(), _plain(args)], ensure_ascii=False)
    return f"{CHART_PREFIX}{hashlib.sha256(inputs.encode()).hexdigest()}.png"


@contextlib.contextmanager
def kept_in(store: ObjectStore | None) -> Iterator[None]:
    """Within this block, charts are read from and written to `store` (None: memory only)."""
    token = _store.set(store)
    try:
        yield
    finally:
        _store.reset(token)


def _whole_png(data: bytes) -> bool:
    return data.startswith(_PNG_START) and data.endswith(_PNG_END)


def _kept(store: ObjectStore, key: str) -> bytes | None:
    from aip_forms.storage import ObjectCorrupt, ObjectNotFound, StorageError

    try:
        data = store.get(key)
    except ObjectNotFound:
        return None
    except ObjectCorrupt:
        log.warning("chart %s does not match its SHA-256; drawing it again", key)
        _forget(store, key)
        return None
    except StorageError as exc:  # the store is down: a document can still be drawn
        log.warning("chart %s not read (%s); drawing it", key, exc)
        return None
    if not _whole_png(data):
        log.warning("chart %s is not a whole PNG; drawing it again", key)
        _forget(store, key)
        return None
    return data


def _forget(store: ObjectStore, key: str) -> None:
    from aip_forms.storage import StorageError

    with contextlib.suppress(StorageError):
        store.delete(key)


def _keep(store: ObjectStore, key: str, png: bytes) -> None:
    from aip_forms.storage import StorageError

    try:
        store.put(key, png, sha256=hashlib.sha256(png).hexdigest())
    except StorageError as exc:  # kept next time; the document has its chart now
        log.warning("chart %s not stored: %s", key, exc)


@lru_cache(maxsize=CACHE_SIZE)
def _remembered(kind: str, args: tuple[Any, ...]) -> bytes:
    return DRAW[kind](*args)


def chart(kind: str, *args: Any) -> bytes:
    """The PNG of chart `kind` drawn from `args`: from memory, the store, or drawn now."""
    store = _store.get()
    if store is None:
        return _remembered(kind, args)
    key = chart_key(kind, args)
    png = _kept(store, key)
    if png is None:
        png = _remembered(kind, args)
        _keep(store, key, png)
    return png


def history_chart(
    title: str,
    groups: tuple[GroupSeries, ...],
    years: tuple[str, ...],
    target_label: str,
    axis: str = "Chronic absence rate (%)",
) -> bytes:
    """Horizontal bars per group, one per year, and the target as a diamond; `axis` names
    the program's metric."""
    return chart("history", title, groups, years, target_label, axis)


def tier_chart(title: str, bars: tuple[TierBar, ...]) -> bytes:
    """Students per tier; a suppressed tier shows the word, not a bar or a number."""
    return chart("tiers", title, bars)


def progress_chart(
    title: str,
    points: tuple[ProgressPoint, ...],
    target: float | None,
    target_label: str,
    axis: str = "Chronic absence rate (%)",
) -> bytes:
    """The all-students rate over time, with the target and adjusted targets."""
    return chart("progress", title, points, target, target_label, axis)


def clear_cache() -> None:
    """Forget the charts drawn in this process (benchmarks time fresh drawing)."""
    _remembered.cache_clear()


def chunks(groups: Sequence[GroupSeries], size: int = MAX_GROUPS) -> list[tuple[GroupSeries, ...]]:
    """Groups split evenly over as few charts as hold at most `size` each."""
    if not groups:
        return []
    parts = math.ceil(len(groups) / size)
    step = math.ceil(len(groups) / parts)
    return [tuple(groups[i : i + step]) for i in range(0, len(groups), step)]
