"""How the form spec is laid out in a plan document: section keys, columns, orientation.

Read by the template builder (`exports.make_templates`) and by the view model
(`exports.context`), so that the template and the values put into it agree. Everything
comes from the spec; the few presentation rules that are not in it are here, by name:

- a report's sections are the spec's section keys plus `review` (review status and
  comments, after the last step) and the flag `charts` (charts inside the chosen sections);
  `targets` is shorthand for every targets section of the plan's kind;
- a column folded into another (the "Other" text of a strategy) is shown in that column's
  cell, and a derived column (a strategy's ESSA evidence level, from the catalog) is added
  after the column it derives from;
- a section whose widest table is wider than `LANDSCAPE_WIDTH` spec width units (Excel
  column widths) is printed on landscape pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from aip_forms.domain import PlanKind
from aip_forms.errors import InvalidInput
from aip_forms.spec import FieldType, FormSpec, SectionSpec, TableSpec, spec_for

REVIEW = "review"
CHARTS = "charts"
EXTRA_SECTIONS = {REVIEW: "Review status and comments"}
FLAGS = {CHARTS: "charts inside the chosen sections"}
# the review section comes after the last spec section (after Step 6, progress updates)
ALIASES = {"targets": ("school_targets", "demographics", "grades")}
# short sections that follow the one before on its page instead of starting a new one
FLOWING = ("root_cause", "certification", "progress")
CHARTED = ("school_targets", "demographics", "grades", "tiers", "progress")

FOLDED = {"other_strategy": "strategy"}  # column -> the column whose cell shows it
DERIVED = {"strategy": (("evidence", "ESSA Evidence Level", 22.0),)}
LANDSCAPE_WIDTH = 150.0
NUMERIC = (FieldType.PERCENT, FieldType.INTEGER)


class UnknownSection(InvalidInput, ValueError):
    """A --sections key that is not a section of the plan."""


@dataclass(frozen=True)
class Column:
    """A column as printed: a spec column (or a derived one) with its share of the width."""

    key: str
    label: str  # may hold {y1}.. placeholders, filled with years by the view model
    width: float
    numeric: bool = False


def columns(table: TableSpec) -> tuple[Column, ...]:
    out: list[Column] = []
    for c in table.columns:
        if c.key in FOLDED:
            continue
        out.append(Column(c.key, c.label, c.width, c.type in NUMERIC))
        out += [Column(k, label, width) for k, label, width in DERIVED.get(c.key, ())]
    return tuple(out)


def table_width(table: TableSpec) -> float:
    return sum(c.width for c in columns(table))


def is_landscape(section: SectionSpec) -> bool:
    return any(table_width(t) > LANDSCAPE_WIDTH for t in section.tables)


def _spec(of: FormSpec | PlanKind) -> FormSpec:
    """A plan's spec; a bare kind means New Mexico's (help texts, older callers)."""
    return of if isinstance(of, FormSpec) else spec_for(of)


def section_keys(spec: FormSpec | PlanKind) -> tuple[str, ...]:
    """The printable sections of a plan of `spec`, in document order."""
    return (*(section.key for section in _spec(spec).sections), REVIEW)


_STEP = re.compile(r"^Step (\d+)\s*-\s*(.*)$")


def titles(spec: FormSpec) -> dict[str, str]:
    """Each spec section's title as documents print it: unique step numbers, where the spec
    gives two sections one step ("Step 3 - Demographics", "Step 3 - Grades" become "Step 3A
    - ...", "Step 3B - ...")."""
    numbers = [m.group(1) if (m := _STEP.match(s.title)) else None for s in spec.sections]
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for section, number in zip(spec.sections, numbers, strict=True):
        match = _STEP.match(section.title)
        if number is None or match is None or numbers.count(number) == 1:
            out[section.key] = section.title
            continue
        letter = "ABCDEFGH"[seen.get(number, 0)]
        seen[number] = seen.get(number, 0) + 1
        out[section.key] = f"Step {number}{letter} - {match.group(2)}"
    return out


def all_section_keys() -> tuple[str, ...]:
    """Every key `--sections` accepts, for help texts."""
    keys: dict[str, None] = {}
    for kind in PlanKind:
        keys.update(dict.fromkeys(section_keys(kind)))
    return (*keys, *ALIASES, *FLAGS)


@dataclass(frozen=True)
class Selection:
    """What a report holds: sections in document order, and whether charts are drawn."""

    sections: tuple[str, ...]
    charts: bool
    full: bool

    def __contains__(self, key: object) -> bool:
        return key in self.sections


def parse_keys(text: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """`"contact, tiers"` -> ("contact", "tiers"); None or empty -> None (full report)."""
    if text is None:
        return None
    parts = text.split(",") if isinstance(text, str) else list(text)
    keys = tuple(p.strip().lower().replace("-", "_") for p in parts if p.strip())
    return keys or None


def select(
    spec: FormSpec | PlanKind, keys: Iterable[str] | None, *, strict: bool = True
) -> Selection:
    """The selection of a full report (keys None) or of a custom one.

    With `strict`, a key that is not a section of this kind of plan is an error; without
    it (a packet mixing district and school plans) it is left out for this kind.
    """
    spec = _spec(spec)
    kind = spec.kind
    available = section_keys(spec)
    if keys is None:
        return Selection(available, charts=True, full=True)
    wanted: set[str] = set()
    charts = False
    known = {*all_section_keys(), *available}
    for key in keys:
        if key == CHARTS:
            charts = True
        elif key in ALIASES:
            wanted.update(k for k in ALIASES[key] if k in available)
        elif key in available:
            wanted.add(key)
        elif strict or key not in known:
            raise UnknownSection(
                f"{key!r} is not a section of a {kind} plan; choose from "
                f"{', '.join((*available, *ALIASES, *FLAGS))}"
            )
    if not wanted and strict:
        raise UnknownSection("choose at least one section (charts only adds charts to them)")
    return Selection(tuple(k for k in available if k in wanted), charts=charts, full=False)


def section_spec(spec: FormSpec, key: str) -> SectionSpec | None:
    return next((s for s in spec.sections if s.key == key), None)
