"""Small-group suppression for shared and compiled documents, with complementary cells.

What a set of documents publishes is modelled as counts (enrollment of a subgroup or a
grade, students in a tier) of entities (the LEA, its schools), tied by the sums a reader
knows hold: a total equals the sum of each partition of it (sex, race/ethnicity, grades,
tiers), the LEA equals the sum of its schools, group by group. A cell is hidden when it is
under the minimum group size (or PlanData flags it); then more cells are hidden until no
hidden count can be worked out from the published ones:

1. in a sum whose total is published, the hidden parts are at least two and add up to at
   least the minimum size (else the total minus the others reveals them);
2. a hidden total is never the sum of only published parts;
3. an audit solves the whole linear system (per connected part, by SVD) and, for any
   hidden count it still determines, hides one more cell of a sum that reveals it.

Counts of entities that are not published (schools of the LEA without plan data) are free
unknowns: they take part in the sums but are never shown, so need no hiding. Rates are
hidden with their group's count; they carry no sums of their own. The suppression of an
LEA is computed once for all its plans, so that every document shows the same cells.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from aip_forms.config import ProgramConfig
from aip_forms.data.queries import PARTITIONS
from aip_forms.issued_data import PlanData

Entity = tuple[str, str]  # ("lea", code) or ("school", code)
CellKey = tuple[str, str, str, str]  # (*entity, group type, group code)
SUBGROUP, GRADE, TIER = "subgroup", "grade", "tier"
ALL = "all"
TOLERANCE = 1e-9


def entity_of(data: PlanData) -> Entity:
    return ("school", data.school.code) if data.school else ("lea", data.lea.code)


def cell(entity: Entity, group_type: str, code: str) -> CellKey:
    return (entity[0], entity[1], group_type, code)


@dataclass(frozen=True)
class Constraint:
    """total = sum(members)."""

    total: CellKey
    members: tuple[CellKey, ...]

    @property
    def cells(self) -> tuple[CellKey, ...]:
        return (self.total, *self.members)


@dataclass
class Publication:
    """The counts a set of documents shows, and the sums that tie them."""

    values: dict[CellKey, int | None] = field(default_factory=dict)
    flagged: set[CellKey] = field(default_factory=set)
    constraints: list[Constraint] = field(default_factory=list)
    free: set[CellKey] = field(default_factory=set)  # in sums, never shown

    @property
    def published(self) -> set[CellKey]:
        return set(self.values)

    def add(self, key: CellKey, value: int | None, flagged: bool = False) -> None:
        old = self.values.get(key)
        if key not in self.values or (old is None and value is not None):
            self.values[key] = value
        if flagged:
            self.flagged.add(key)


@dataclass(frozen=True)
class Suppression:
    """The hidden cells of a publication."""

    hidden: frozenset[CellKey]
    min_size: int

    def is_hidden(self, entity: Entity, group_type: str, code: str) -> bool:
        return cell(entity, group_type, code) in self.hidden

    def merged(self, other: Suppression) -> Suppression:
        return Suppression(self.hidden | other.hidden, min(self.min_size, other.min_size))


# ---- the publication model ------------------------------------------------------------------


def _partitions(config: ProgramConfig) -> dict[str, tuple[str, ...]]:
    return {
        category: tuple(s.code for s in config.subgroups if s.category == category)
        for category in PARTITIONS
    }


def _entity_sums(
    pub: Publication,
    entity: Entity,
    subgroup_codes: Iterable[str],
    grade_codes: Iterable[str],
    tiers: Iterable[int],
    config: ProgramConfig,
) -> None:
    total = cell(entity, SUBGROUP, ALL)
    present = set(subgroup_codes)
    for codes in _partitions(config).values():
        members = tuple(cell(entity, SUBGROUP, c) for c in codes if c in present)
        if members:
            pub.constraints.append(Constraint(total, members))
    grades = tuple(cell(entity, GRADE, g) for g in grade_codes)
    if grades:
        pub.constraints.append(Constraint(total, grades))
    tier_cells = tuple(cell(entity, TIER, str(t)) for t in tiers)
    if tier_cells:
        pub.constraints.append(Constraint(total, tier_cells))


def publication(plans: Iterable[PlanData], config: ProgramConfig) -> Publication:
    """The counts that the documents of `plans` (usually one LEA's) show, and their sums."""
    pub = Publication()
    plans = list(plans)
    by_entity = {entity_of(d): d for d in plans}
    for data in plans:
        entity = entity_of(data)
        for row in data.subgroups:
            pub.add(cell(entity, SUBGROUP, row.code), row.enrollment, row.suppressed)
        for row in data.grades:
            pub.add(cell(entity, GRADE, row.code), row.enrollment, row.suppressed)
        tiers = sorted(data.tier_counts)
        for tier in tiers:
            pub.add(cell(entity, TIER, str(tier)), data.tier_counts[tier])
        _entity_sums(
            pub,
            entity,
            (r.code for r in data.subgroups),
            (r.code for r in data.grades),
            tiers,
            config,
        )
        if data.school is None and data.schools:
            for row in data.schools:
                pub.add(cell(("school", row.code), SUBGROUP, ALL), row.enrollment, row.suppressed)
            pub.constraints.append(
                Constraint(
                    cell(entity, SUBGROUP, ALL),
                    tuple(cell(("school", r.code), SUBGROUP, ALL) for r in data.schools),
                )
            )
            _lea_sums(pub, data, by_entity, config)
    return pub


def _lea_sums(
    pub: Publication,
    district: PlanData,
    by_entity: Mapping[Entity, PlanData],
    config: ProgramConfig,
) -> None:
    """The LEA's count of a group is the sum of its schools' counts, group by group.

    Only when at least one school plan is published with the district's: otherwise the
    school counts are all unknown and these sums tell nothing.
    """
    schools = [("school", r.code) for r in district.schools]
    if not any(s in by_entity for s in schools):
        return
    lea = entity_of(district)
    grade_cells: dict[str, list[CellKey]] = defaultdict(list)
    subgroup_cells: dict[str, list[CellKey]] = defaultdict(list)
    for school in schools:
        data = by_entity.get(school)
        if data is None:  # a school without a plan here: its counts are free unknowns
            subgroups = [s.code for s in config.subgroups]
            grades = [g.code for g in config.grades]
            pub.free.update(cell(school, SUBGROUP, c) for c in subgroups if c != ALL)
            pub.free.update(cell(school, GRADE, g) for g in grades)
            _entity_sums(pub, school, subgroups, grades, (), config)
        else:
            subgroups = [r.code for r in data.subgroups]
            grades = [r.code for r in data.grades]
        for code in subgroups:
            subgroup_cells[code].append(cell(school, SUBGROUP, code))
        for code in grades:
            grade_cells[code].append(cell(school, GRADE, code))
    for row in district.subgroups:
        if row.code != ALL and subgroup_cells.get(row.code):
            pub.constraints.append(
                Constraint(cell(lea, SUBGROUP, row.code), tuple(subgroup_cells[row.code]))
            )
    for row in district.grades:
        pub.constraints.append(
            Constraint(cell(lea, GRADE, row.code), tuple(grade_cells.get(row.code, ())))
        )


# ---- choosing the hidden cells ----------------------------------------------------------------


class _Suppressor:
    def __init__(self, pub: Publication, min_size: int) -> None:
        self.pub = pub
        self.min_size = min_size
        self.values = pub.values
        # a published cell with no number is not shown as one: it is an unknown too
        self.free = pub.free | {c for c, v in pub.values.items() if v is None}
        self.hidden: set[CellKey] = {
            c for c, v in pub.values.items() if v is not None and (c in pub.flagged or v < min_size)
        }
        self.by_cell: dict[CellKey, list[Constraint]] = defaultdict(list)
        for con in pub.constraints:
            for c in con.cells:
                self.by_cell[c].append(con)
        self.totals = {con.total for con in pub.constraints}

    def n(self, c: CellKey) -> int:
        return self.values.get(c) or 0

    def shown(self, c: CellKey) -> bool:
        return c in self.values and c not in self.hidden and c not in self.free

    def candidate(self, cells: Iterable[CellKey]) -> CellKey | None:
        """The cell to hide next among `cells`: the smallest shown one that has students,
        preferring cells that are not themselves totals (fewer knock-on hides)."""
        options = [c for c in cells if self.shown(c) and self.n(c) > 0]
        if not options:
            return None
        return min(options, key=lambda c: (c in self.totals, self.n(c), c))

    def protect(self, con: Constraint) -> bool:
        """Rules 1 and 2 on one sum; True when a cell was hidden."""
        if any(c in self.free for c in con.cells):
            return False  # an unknown in the sum: only the audit can tell
        hidden = [m for m in con.members if m in self.hidden]
        if con.total not in self.hidden:
            if not hidden:
                return False
            if len(hidden) > 1 and sum(self.n(m) for m in hidden) >= self.min_size:
                return False
            pick = self.candidate(con.members) or self.candidate([con.total])
        else:
            if hidden:
                return False
            pick = self.candidate(con.members)
        if pick is None:
            return False
        self.hidden.add(pick)
        return True

    def determined(self) -> set[CellKey]:
        """Hidden cells whose value the published cells and the sums fix."""
        unknown = self.hidden | self.free
        constraints = [con for con in self.pub.constraints if any(c in unknown for c in con.cells)]
        out: set[CellKey] = set()
        for component in _components(constraints, unknown):
            out |= _solve(component, unknown) & self.hidden
        return out

    def complement(self, target: CellKey) -> bool:
        """Hide one more cell of a sum that reveals `target`."""
        unknown = self.hidden | self.free
        cons = sorted(self.by_cell[target], key=lambda con: sum(c in unknown for c in con.cells))
        for con in cons:
            pick = self.candidate(con.members) or self.candidate([con.total])
            if pick is not None:
                self.hidden.add(pick)
                return True
        for con in self.pub.constraints:  # last resort: anything shown in the same sums
            if any(c in unknown for c in con.cells):
                pick = self.candidate(con.cells)
                if pick is not None:
                    self.hidden.add(pick)
                    return True
        return False

    def run(self) -> frozenset[CellKey]:
        while True:
            if any([self.protect(con) for con in self.pub.constraints]):
                continue
            determined = self.determined()
            if not determined:
                return frozenset(self.hidden)
            if not any([self.complement(c) for c in sorted(determined)]):
                return frozenset(self.hidden)  # nothing left to hide


def _components(constraints: Sequence[Constraint], unknown: set[CellKey]) -> list[list[Constraint]]:
    """Constraints grouped by the unknowns they share."""
    parent: dict[CellKey, CellKey] = {}

    def find(c: CellKey) -> CellKey:
        parent.setdefault(c, c)
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for con in constraints:
        cells = [c for c in con.cells if c in unknown]
        for c in cells[1:]:
            parent[find(c)] = find(cells[0])
    groups: dict[CellKey, list[Constraint]] = defaultdict(list)
    for con in constraints:
        first = next(c for c in con.cells if c in unknown)
        groups[find(first)].append(con)
    return list(groups.values())


def _solve(constraints: Sequence[Constraint], unknown: set[CellKey]) -> set[CellKey]:
    """The unknowns of one connected part that the sums determine (their null-space row
    is zero)."""
    cells = sorted({c for con in constraints for c in con.cells if c in unknown})
    index = {c: i for i, c in enumerate(cells)}
    matrix = np.zeros((len(constraints), len(cells)))
    for row, con in enumerate(constraints):
        if con.total in index:
            matrix[row, index[con.total]] += 1.0
        for m in con.members:
            if m in index:
                matrix[row, index[m]] -= 1.0
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int((singular > TOLERANCE * max(1.0, float(singular.max(initial=0)))).sum())
    null = vt[rank:]
    if null.shape[0] == 0:
        return set(cells)
    norms = np.linalg.norm(null, axis=0)
    return {c for c, norm in zip(cells, norms, strict=True) if norm < 1e-7}


def suppress_publication(pub: Publication, min_size: int) -> Suppression:
    return Suppression(_Suppressor(pub, min_size).run(), min_size)


def suppress(plans: Iterable[PlanData], config: ProgramConfig) -> Suppression:
    """The hidden cells of the documents of `plans`, computed together (one LEA's plans,
    or one plan alone)."""
    plans = list(plans)
    min_size = min((d.min_group_size for d in plans), default=config.min_group_size)
    return suppress_publication(publication(plans, config), min_size)


def suppress_by_lea(plans: Iterable[PlanData], config: ProgramConfig) -> Suppression:
    """Every LEA's suppression, each computed over that LEA's plans (for statewide
    outputs: LEAs share no published sums)."""
    by_lea: dict[str, list[PlanData]] = defaultdict(list)
    for data in plans:
        by_lea[data.lea.code].append(data)
    hidden: set[CellKey] = set()
    min_size = config.min_group_size
    for group in by_lea.values():
        result = suppress(group, config)
        hidden |= result.hidden
        min_size = min(min_size, result.min_size)
    return Suppression(frozenset(hidden), min_size)
