"""The dashboard's tables, as data: the page renders them and the .xlsx download writes
them, so both show the same columns and the same hidden cells ("*")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aip_forms.services.dashboards import STATEWIDE, Comparison, Dashboard, PlanLine

HIDDEN = "*"
Cell = str | float | int | None


@dataclass(frozen=True)
class Table:
    name: str  # the download's name
    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]
    links: tuple[str | None, ...] = ()  # per row, a plan key for "the words behind it"
    total: int | None = None  # rows in all, when `rows` holds only the first of them

    @property
    def count(self) -> int:
        return len(self.rows) if self.total is None else self.total


def _pct(value: float | None, hidden: bool = False) -> Cell:
    return HIDDEN if hidden else value


def _comparison(name: str, title: str, first: str, items: list[Comparison]) -> Table:
    rows = [(c.label, _pct(c.target, c.hidden), _pct(c.actual, c.hidden), c.plans) for c in items]
    headers = (first, "Target (%)", "Actual (%)", "Plans")
    return Table(name, title, headers, rows)


def tables(board: Dashboard, limit: int | None = None) -> dict[str, Table]:
    """Every table of the board, by download name; with `limit`, long tables hold only
    their first `limit` rows (the page), else all of them (the download)."""
    plans, off_track = board.plans[:limit], board.off_track[:limit]
    period = board.period.label if board.period else "no period loaded"
    place = "LEA" if board.scope == STATEWIDE else "School"
    place_word = "LEA" if board.scope == STATEWIDE else "school"
    out = [
        Table(
            "plans",
            "Plans and progress updates",
            ("LEA", "School", "Plan", *(f"{p.label} update" for p in board.periods), "Late"),
            [
                (
                    ln.entity.lea_name,
                    ln.entity.school_name or "",
                    ln.plan.words,
                    *(_step(ln, p.code) for p in board.periods),
                    "Yes" if ln.late else "No",
                )
                for ln in plans
            ],
            tuple(ln.key for ln in plans),
            len(board.plans),
        ),
        Table(
            "on-track",
            "Share of plans on track per period",
            ("Period", "Plans with data", "On track", "Share on track (%)"),
            [(s.label, s.with_data, s.on_track, s.share) for s in board.shares],
        ),
        _comparison(
            "by-place",
            f"All students, target against actual by {place_word} ({period})",
            place,
            board.by_place,
        ),
        _comparison(
            "by-subgroup",
            f"Target against actual by subgroup ({period})",
            "Subgroup",
            board.by_subgroup,
        ),
        _comparison(
            "by-grade", f"Target against actual by grade ({period})", "Grade", board.by_grade
        ),
        Table(
            "off-track",
            f"Groups off track ({period}), furthest above target first",
            (
                "LEA",
                "School",
                "Group",
                "Target (%)",
                "Target from",
                "Actual (%)",
                "Previous period (%)",
                "Why",
            ),
            [
                (
                    r.entity.lea_name,
                    r.entity.school_name or "",
                    r.group_label,
                    r.target,
                    r.target_source,
                    r.current,
                    r.previous,
                    r.why,
                )
                for r in off_track
            ],
            tuple(r.key for r in off_track),
            len(board.off_track),
        ),
    ]
    if board.trend:
        out.append(
            Table(
                "trend",
                "Rates per period against the target",
                ("Group", "Target (%)", *(f"{p.label} (%)" for p in board.loaded)),
                [
                    (
                        t.group_label,
                        _pct(t.target, t.hidden),
                        *(_pct(r, t.hidden) for r in t.rates),
                    )
                    for t in board.trend
                ],
            )
        )
    return {t.name: t for t in out}


def _step(line: PlanLine, period: str) -> str:
    step = line.step(period)
    return "-" if step is None else step.words
