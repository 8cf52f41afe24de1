"""The report of a checked upload as the portal shows it.

A validation report (`ValidationReport.to_dict()`, as kept with the check) becomes: the
refusals of the file itself first (wrong file type, another plan's workbook, an old template,
a tampered cell, a moved name), then every other problem grouped by the spec's steps, errors
apart from warnings, each with its place written as Excel writes it
(`'2A Demographic Targets'!F7`), the field's label, the value found, the catalogue's message,
and a small window of the sheet around the cell (read from the upload with
`validators.cells.WorkbookCells`, which never evaluates anything).

`annotated_workbook` is the upload with every problem cell marked (`validators.annotate`).
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from aip_forms.errors import InvalidInput
from aip_forms.services.diff import place_of
from aip_forms.spec import FormSpec, SectionSpec
from aip_forms.workbook_format.a1 import get_column_letter
from validators.cells import CellValue, DamagedWorkbook, WorkbookCells, point
from validators.problems import Problem

# Codes about the file as a whole: shown first, whatever their step.
FILE_LEVEL = (
    "INTAKE_",
    "META_",
    "WRONG_",
    "SPEC_VERSION_",
    "PREFILL_",
    "NAME_MOVED",
    "SHEET_MISSING",
    "WORKBOOK_UNREADABLE",
)
AROUND = 2  # rows above and below, columns either side
MAX_WINDOWS = 200  # a workbook with more problems gets windows for the first ones
_TEXT = 40
_PLAIN_SHEET = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_DAMAGE = (DamagedWorkbook, KeyError, ValueError, ParseError, zipfile.BadZipFile, IndexError)


@dataclass(frozen=True)
class WindowCell:
    ref: str
    text: str
    marked: bool


@dataclass(frozen=True)
class WindowRow:
    number: int
    cells: tuple[WindowCell, ...]


@dataclass(frozen=True)
class SheetWindow:
    """The cells around a problem: row numbers and column letters as Excel shows them."""

    sheet: str
    cell: str
    columns: tuple[str, ...]
    rows: tuple[WindowRow, ...]


@dataclass(frozen=True)
class ShownProblem:
    code: str
    severity: str
    message: str  # what to do, in the catalogue's words
    sheet: str | None
    cell: str | None
    label: str | None  # the field's label in the spec
    value: str | None  # what was found
    window: SheetWindow | None

    @property
    def where(self) -> str | None:
        return excel_ref(self.sheet, self.cell) if self.sheet and self.cell else self.sheet


@dataclass(frozen=True)
class StepProblems:
    step: str | None  # None: a place outside the plan's steps
    title: str
    errors: tuple[ShownProblem, ...]
    warnings: tuple[ShownProblem, ...]


@dataclass(frozen=True)
class UploadReport:
    outcome: str  # valid, invalid, unreadable
    filename: str | None
    file_problems: tuple[ShownProblem, ...]
    steps: tuple[StepProblems, ...]
    errors: int
    warnings: int
    readable: bool  # the file passed intake and names its plan: it can be annotated

    @property
    def submittable(self) -> bool:
        return self.outcome == "valid"


def excel_ref(sheet: str, cell: str) -> str:
    """A cell as Excel writes a reference to it: 'Sheet name'!F7 (quoted when needed)."""
    if _PLAIN_SHEET.match(sheet) and not re.match(r"^[A-Za-z]{1,3}[0-9]+$", sheet):
        return f"{sheet}!{cell}"
    return "'" + sheet.replace("'", "''") + f"'!{cell}"


def problems_of(report: Mapping[str, Any]) -> list[Problem]:
    """The problems of a stored report, errors first."""
    fields = Problem.__dataclass_fields__
    return [
        Problem(**{k: v for k, v in p.items() if k in fields})
        for p in [*(report.get("errors") or ()), *(report.get("warnings") or ())]
    ]


def build_report(report: Mapping[str, Any], data: bytes | None, spec: FormSpec) -> UploadReport:
    """The portal's report of a check: `report` as `ValidationReport.to_dict()` gives it,
    `data` the uploaded bytes (for the windows; None to leave them out)."""
    outcome = str(report.get("outcome") or "unreadable")
    readable = report.get("identity") is not None
    cells = _cells(data) if data is not None and readable else None
    problems = problems_of(report)
    shown = [_shown(p, spec, cells if i < MAX_WINDOWS else None) for i, p in enumerate(problems)]
    at_top = [s for s in shown if outcome == "unreadable" or s.code.startswith(FILE_LEVEL)]
    rest = [s for s in shown if s not in at_top]
    return UploadReport(
        outcome=outcome,
        filename=report.get("file"),
        file_problems=tuple(at_top),
        steps=tuple(_by_step(rest, spec)),
        errors=sum(p.severity == "error" for p in problems),
        warnings=sum(p.severity != "error" for p in problems),
        readable=readable,
    )


def _cells(data: bytes) -> WorkbookCells | None:
    try:
        return WorkbookCells(zipfile.ZipFile(io.BytesIO(data)))
    except _DAMAGE:
        return None


def _shown(p: Problem, spec: FormSpec, cells: WorkbookCells | None) -> ShownProblem:
    return ShownProblem(
        code=p.code,
        severity=p.severity,
        message=p.message,
        sheet=p.sheet,
        cell=p.cell,
        label=_label(p, spec),
        value=p.value,
        window=_window(cells, p.sheet, p.cell) if cells and p.sheet and p.cell else None,
    )


def _label(p: Problem, spec: FormSpec) -> str | None:
    if p.sheet and p.cell:
        try:
            found = place_of(spec, p.sheet, p.cell).label
        except InvalidInput:
            found = None
        if found:
            return found
    if p.field and "." in p.field:
        section_key, _, field_key = p.field.partition(".")
        for section in spec.sections:
            if section.key == section_key:
                return next((f.label for f in section.fields if f.key == field_key), None)
    return None


def _section_of(p: ShownProblem, spec: FormSpec) -> SectionSpec | None:
    return next((s for s in spec.sections if p.sheet and s.sheet == p.sheet), None)


def _by_step(problems: Iterable[ShownProblem], spec: FormSpec) -> list[StepProblems]:
    grouped: dict[str | None, list[ShownProblem]] = {}
    for p in problems:
        section = _section_of(p, spec)
        grouped.setdefault(section.key if section else None, []).append(p)
    steps = []
    for section in (*spec.sections, None):
        found = grouped.get(section.key if section else None)
        if not found:
            continue
        steps.append(
            StepProblems(
                step=section.step if section else None,
                title=section.title if section else "Elsewhere in the workbook",
                errors=tuple(p for p in found if p.severity == "error"),
                warnings=tuple(p for p in found if p.severity != "error"),
            )
        )
    return steps


def _window(cells: WorkbookCells, sheet: str, cell: str) -> SheetWindow | None:
    try:
        row, col = point(cell)
        if not cells.has_sheet(sheet):
            return None
        values = cells.sheet(sheet)
    except _DAMAGE:
        return None
    first_row, first_col = max(1, row - AROUND), max(1, col - AROUND)
    columns = range(first_col, col + AROUND + 1)
    letters = tuple(get_column_letter(c) for c in columns)
    rows = tuple(
        WindowRow(
            r,
            tuple(
                WindowCell(f"{letter}{r}", _text(values.get(r, c)), marked=(r, c) == (row, col))
                for c, letter in zip(columns, letters, strict=True)
            ),
        )
        for r in range(first_row, row + AROUND + 1)
    )
    return SheetWindow(sheet, cell, letters, rows)


def _text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    text = " ".join(value.split())
    return text if len(text) <= _TEXT else text[: _TEXT - 1] + "…"


def annotated_workbook(data: bytes, report: Mapping[str, Any]) -> bytes:
    """The upload with each problem cell coloured and noted, and a first sheet listing every
    problem. Only for an upload that passed intake (`UploadReport.readable`)."""
    from validators.annotate import annotate
    from validators.intake import assert_openpyxl_safe

    if report.get("identity") is None:
        raise InvalidInput("the file itself could not be accepted, so it has no annotated copy")
    assert_openpyxl_safe()
    with tempfile.TemporaryDirectory(prefix="aip-annotate-") as folder:
        out = annotate(data, problems_of(report), Path(folder) / "annotated.xlsx")
        return out.read_bytes()


def certification_statement(spec: FormSpec) -> str:
    """The guide's certification for the plan's kind, as the spec's final step words it."""
    for section in spec.sections:
        if section.final_only:
            return next(f.label for f in section.fields if f.key == "confirm")
    return "I certify this plan is complete."
