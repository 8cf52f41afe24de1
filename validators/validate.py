"""Validating an uploaded plan workbook: intake -> identity -> read -> tamper -> rules.

`validate_upload` answers three questions about an upload, in order, and returns one
report: is the file safe to open (intake), is it the workbook we issued and untampered
(metadata signature, identity, locked values), and is the plan complete and sound (rules).
It never raises for a bad file: every answer is data.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.etree.ElementTree import ParseError

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.filled_plan import Plan
from aip_forms.spec import META_SHEET, SUPPORTED_SPEC_VERSIONS, FieldType, FormSpec
from aip_forms.workbook_format.layout import split_key
from aip_forms.workbook_format.metadata import (
    Metadata,
    MetadataError,
    issued_row_counts,
    metadata_from_rows,
    verify,
)
from aip_forms.workbook_format.prefill import canonical_value
from validators.cells import DamagedWorkbook, SheetCells, WorkbookCells, point
from validators.intake import DEFAULT_LIMITS, check_upload
from validators.problems import Problem, UnreadableWorkbook, problem
from validators.read import PlanReader
from validators.rules import RuleContext, run_rules
from validators.safety import IntakeLimits

Outcome = Literal["valid", "invalid", "unreadable"]


@dataclass(frozen=True)
class Expectation:
    """What the upload is for; None accepts any."""

    kind: PlanKind | None = None
    fiscal_year: int | None = None
    lea_code: str | None = None
    school_code: str | None = None
    period: str | None = None  # a progress update's period; None accepts a plan or any period


@dataclass(frozen=True)
class Identity:
    kind: PlanKind
    spec_version: int
    fiscal_year: int
    lea_code: str
    school_code: str | None
    issued_at: str
    signature_valid: bool
    period: str | None = None  # a progress update (issue 12); None for a plan

    def to_dict(self) -> dict[str, Any]:
        return {
            **({"period": self.period} if self.period else {}),
            "kind": str(self.kind),
            "spec_version": self.spec_version,
            "fiscal_year": self.fiscal_year,
            "lea_code": self.lea_code,
            "school_code": self.school_code,
            "issued_at": self.issued_at,
            "signature_valid": self.signature_valid,
        }


@dataclass
class ValidationReport:
    filename: str | None
    outcome: Outcome
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    identity: Identity | None = None
    plan: Plan | None = None
    final: bool = False

    @property
    def valid(self) -> bool:
        return self.outcome == "valid"

    @property
    def exit_code(self) -> int:
        return {"valid": 0, "invalid": 1, "unreadable": 2}[self.outcome]

    @property
    def problems(self) -> list[Problem]:
        return [*self.errors, *self.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "valid": self.valid,
            "outcome": self.outcome,
            "final": self.final,
            "errors": [p.to_dict() for p in self.errors],
            "warnings": [p.to_dict() for p in self.warnings],
            "identity": self.identity.to_dict() if self.identity else None,
            "plan": self.plan.to_json_dict() if self.plan else None,
        }


def _split(problems: list[Problem]) -> tuple[list[Problem], list[Problem]]:
    return (
        [p for p in problems if p.severity == "error"],
        [p for p in problems if p.severity != "error"],
    )


def _unreadable(filename: str | None, problems: list[Problem], **kw: Any) -> ValidationReport:
    errors, warnings = _split(problems)
    return ValidationReport(filename, "unreadable", errors, warnings, **kw)


def validate_upload(
    data: bytes,
    *,
    key: bytes,
    config: ProgramConfig,
    filename: str | None = None,
    expect: Expectation = Expectation(),
    final: bool = False,
    limits: IntakeLimits = DEFAULT_LIMITS,
) -> ValidationReport:
    try:
        safe = check_upload(data, filename, limits)
    except UnreadableWorkbook as exc:
        return _unreadable(filename, list(exc.problems))
    notes = list(safe.warnings)
    try:
        archive = zipfile.ZipFile(io.BytesIO(safe.data))
        cells = WorkbookCells(archive, limits=limits, deadline=safe.deadline)
        metadata = _read_metadata(cells, key)
    except MetadataError as exc:
        return _unreadable(filename, [*notes, problem("META_MISSING", reason=str(exc))])
    except _DAMAGE as exc:
        return _unreadable(filename, [*notes, _damaged(exc)])

    identity = Identity(
        kind=metadata.kind,
        spec_version=metadata.spec_version,
        fiscal_year=metadata.fiscal_year,
        lea_code=metadata.lea_code,
        school_code=metadata.school_code,
        issued_at=metadata.issued_at,
        signature_valid=_signed(metadata, key),
        period=metadata.period,
    )
    blocking = list(_identity_problems(identity, expect))
    if blocking:
        return _unreadable(filename, [*notes, *blocking], identity=identity, final=final)

    spec = config.form_spec(metadata.kind, metadata.period)
    reader = PlanReader(cells, spec, config, row_counts=issued_row_counts(spec, metadata))
    try:  # sheets are parsed as the reader and the tamper check first need them
        read = reader.read()
        tampered = _tampered(cells, metadata, spec, config.agency_short)
    except _DAMAGE as exc:
        return _unreadable(filename, [*notes, _damaged(exc)], identity=identity, final=final)
    read.plan.fiscal_year = metadata.fiscal_year
    read.plan.lea_code = metadata.lea_code
    read.plan.school_code = metadata.school_code
    problems = [
        *notes,
        *tampered,
        *read.problems,
        *run_rules(RuleContext(spec=spec, config=config, read=read, final=final)),
    ]
    errors, warnings = _split(problems)
    outcome: Outcome = "invalid" if errors else "valid"
    return ValidationReport(filename, outcome, errors, warnings, identity, read.plan, final)


# What reading a workbook that passed intake raises when its parts do not fit together.
_DAMAGE = (DamagedWorkbook, KeyError, ValueError, ParseError, zipfile.BadZipFile, IndexError)


def _damaged(exc: Exception) -> Problem:
    if isinstance(exc, DamagedWorkbook) and exc.problem is not None:
        return exc.problem
    reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    return problem("WORKBOOK_UNREADABLE", reason=reason)


def _signed(metadata: Metadata, key: bytes) -> bool:
    """`verify`, for metadata read from an upload: issued values that are not cell values
    (a list, NaN ...) were not signed by us."""
    try:
        return verify(metadata, key)
    except (TypeError, ValueError):
        return False


def _read_metadata(cells: WorkbookCells, key: bytes) -> Metadata:
    if not cells.has_sheet(META_SHEET):
        raise MetadataError("its metadata sheet is missing")
    sheet = cells.sheet(META_SHEET)
    rows: dict[str, str | None] = {}
    for row in range(1, sheet.max_row + 1):
        name = sheet.get(row, 1)
        if isinstance(name, str):
            value = sheet.get(row, 2)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            rows[name] = None if value is None else str(value)
    return metadata_from_rows(rows, key)


def _identity_problems(identity: Identity, expect: Expectation) -> list[Problem]:
    if not identity.signature_valid:
        return [problem("META_SIGNATURE_INVALID")]
    if identity.spec_version not in SUPPORTED_SPEC_VERSIONS:
        return [problem("SPEC_VERSION_UNSUPPORTED", version=identity.spec_version)]
    found: list[Problem] = []
    if expect.kind and identity.kind is not expect.kind:
        found.append(problem("WRONG_KIND", found=identity.kind, expected=expect.kind))
    if expect.fiscal_year and identity.fiscal_year != expect.fiscal_year:
        found.append(
            problem("WRONG_FISCAL_YEAR", found=identity.fiscal_year, expected=expect.fiscal_year)
        )
    if expect.period and identity.period != expect.period:
        found.append(
            problem(
                "WRONG_PERIOD",
                found=identity.period or "none (the plan itself)",
                expected=expect.period,
            )
        )
    if expect.lea_code and identity.lea_code != expect.lea_code:
        found.append(problem("WRONG_LEA", found=identity.lea_code, expected=expect.lea_code))
    if expect.school_code is not None and identity.school_code != (expect.school_code or None):
        found.append(
            problem(
                "WRONG_SCHOOL",
                found=identity.school_code or "none (district plan)",
                expected=expect.school_code or "none (district plan)",
            )
        )
    return found


def _tampered(
    cells: WorkbookCells, metadata: Metadata, spec: FormSpec, agency: str
) -> list[Problem]:
    """One problem per locked cell that is not as issued: a formula, or another value."""
    percent = _percent_places(spec)
    found = []
    sheets: dict[str, SheetCells | None] = {}
    for key, issued in metadata.prefilled.items():
        sheet_name, ref = split_key(key)
        if sheet_name not in sheets:
            sheets[sheet_name] = cells.sheet(sheet_name) if cells.has_sheet(sheet_name) else None
        sheet = sheets[sheet_name]
        at = point(ref)
        formula = sheet.formulas.get(at) if sheet else None
        if formula is not None:
            # The cached value may well be the issued one: Excel shows the formula's result.
            shown = f"={formula}"[:100]
            found.append(
                problem("PREFILL_FORMULA", sheet=sheet_name, cell=ref, formula=shown, value=shown)
            )
            continue
        raw = sheet.values.get(at) if sheet else None
        if raw == issued and not isinstance(raw, bool):
            continue  # equal as read: equal once canonical (most cells; canonical is slower)
        try:
            value = canonical_value(raw)
        except (TypeError, ValueError):
            value = str(raw)
        expected = canonical_value(issued)
        if value != expected:
            shown_as_percent = {(sheet_name, ref), (sheet_name, ref.rstrip("0123456789"))} & percent
            found.append(
                problem(
                    "PREFILL_CHANGED",
                    sheet=sheet_name,
                    cell=ref,
                    value=_show(value, bool(shown_as_percent)),
                    issued=_show(expected, bool(shown_as_percent)),
                    agency=agency,
                )
            )
    # In the workbook's order (the issued values are signed, and read, sorted by text).
    order = {name: index for index, name in enumerate(cells.sheet_names)}
    found.sort(key=lambda p: (order.get(p.sheet or "", -1), *point(p.cell or "A1")))
    return found


def _percent_places(spec: FormSpec) -> set[tuple[str, str]]:
    """(sheet, cell) of percent fields and (sheet, column letter) of percent table columns:
    their values are shown as the workbook shows them, 38.34% rather than 0.3834."""
    places = set()
    for section in spec.sections:
        for f in section.fields:
            if f.type is FieldType.PERCENT and f.cell:
                places.add((section.sheet, f.cell))
        for table in section.tables:
            for c in table.columns:
                if c.type is FieldType.PERCENT and c.column:
                    places.add((section.sheet, c.column))
    return places


def _show(value: object, percent: bool = False) -> str:
    if value is None:
        return "(empty)"
    if percent and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{round(float(value) * 100, 4):g}%"
    return str(value)
