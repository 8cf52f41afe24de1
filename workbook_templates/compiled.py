"""The compiled template path: build a kind's workbook once, then splice each entity's
values into copies of its XML parts.

`compile_template` runs the reference builder (`build.assemble`) with one prototype row for
every variable-length table and a sentinel end row in their ranges, saves it, and cuts each
worksheet part into literal text and holes (the pre-filled cells, kept with their style).
`render` fills the holes with an entity's values (text as inline strings, numbers as
`<v>`), repeats the prototype rows (one per school, grade ...), puts the real end rows in
place of the sentinels (data validations, dimension, defined names in xl/workbook.xml),
writes the metadata sheet's rows and zips the parts. What openpyxl reads back equals what
the reference builder makes; tests compare them cell by cell.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.cell.cell import Cell
from openpyxl.compat import safe_string
from openpyxl.workbook.workbook import Workbook

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import DataRow, PeriodRate, PlanData
from aip_forms.spec import META_SHEET, NOT_APPLICABLE, FormSpec
from aip_forms.workbook_format.layout import (
    MAX_VARIABLE_TABLES,
    SENTINEL_ROW,
    cell_key,
    table_rows,
    template_table_rows,
)
from aip_forms.workbook_format.metadata import Metadata, issue, metadata_rows
from aip_forms.workbook_format.prefill import (
    CellValue,
    not_applicable_cells,
    prefilled_values,
)
from workbook_templates.build import assemble
from workbook_templates.instructions import entity_cells
from workbook_templates.styles import NOT_APPLICABLE_STYLE
from workbook_templates.zipparts import Member, deflate, package

_ROW = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>.*?</c>)', re.S)
_STYLE = re.compile(r' s="\d+"')
_DIMENSION = re.compile(r'<dimension ref="([A-Z]+\d+):([A-Z]+)(\d+)"/>')
_SENTINELS = "|".join(str(SENTINEL_ROW - i) for i in range(MAX_VARIABLE_TABLES))
_SENTINEL = re.compile(rf"(?<=[A-Z$])({_SENTINELS})(?![0-9])")
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CORE_DATES = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


@dataclass(frozen=True)
class Hole:
    """A pre-filled cell: `row` None means the row of the prototype row being written."""

    column: str
    row: int | None
    style: str  # ' s="6"', or "" for an unstyled cell
    na_style: str = ""  # the style when the value is NOT_APPLICABLE (a locked input)


# A piece of a sheet part: literal XML, a hole, a row number (None) or a sentinel (int).
Piece = str | Hole | int | None


@dataclass(frozen=True)
class SheetTemplate:
    title: str
    head: tuple[Piece, ...]  # up to and including <sheetData>
    before: tuple[Piece, ...]  # the rows above the prototype row (or all rows)
    prototype: tuple[Piece, ...]  # one row of the variable-length table; () for none
    table: tuple[str, str] | None  # (section key, table key) of the variable table
    tail: tuple[Piece, ...]  # from </sheetData> on


@dataclass(frozen=True)
class CoreProperties:
    """docProps/core.xml, whose created/modified dates become the issued-at time."""

    xml: str


# A part of the package: unchanged (compressed once), a sheet, xl/workbook.xml (its defined
# names hold sentinels) or the core properties.
Part = Member | SheetTemplate | tuple[Piece, ...] | CoreProperties


@dataclass(frozen=True)
class CompiledTemplate:
    spec: FormSpec
    config: ProgramConfig
    fiscal_year: int
    secret_key: bytes
    parts: tuple[tuple[str, Part], ...]
    sentinels: Mapping[int, tuple[str, str]]  # sentinel end row -> (section key, table key)

    @property
    def kind(self) -> PlanKind:
        return self.spec.kind


def _template_data(spec: FormSpec, config: ProgramConfig, fiscal_year: int) -> PlanData:
    """Stand-in data giving every variable-length table exactly one (prototype) row."""
    row = DataRow(code="0", label="0", enrollment=None, rates=())
    lea = Lea(code="0", name="0")
    school = School(code="0", lea_code="0", name="0") if spec.kind is PlanKind.SCHOOL else None
    return PlanData(
        kind=spec.kind,
        fiscal_year=fiscal_year,
        lea=lea,
        school=school,
        history_years=(),
        subgroups=(row,),
        grades=(row,),
        schools=(row,),
        periods=(PeriodRate(code="0", label="0"),),
        tier_counts={},
        deadline=config.deadline(fiscal_year, spec.kind),
    )


def _split_sentinels(text: str) -> tuple[Piece, ...]:
    pieces: list[Piece] = []
    pos = 0
    for m in _SENTINEL.finditer(text):
        pieces += [text[pos : m.start()], int(m.group(1))]
        pos = m.end()
    pieces.append(text[pos:])
    return tuple(pieces)


def _parametrize_row(xml: str, row: int) -> list[Piece]:
    """Literal text with every r="..{row}" reference replaced by a row-number piece."""
    pieces: list[Piece] = []
    pos = 0
    for m in re.finditer(rf'(?<= )r="([A-Z]*)({row})"', xml):
        pieces += [xml[pos : m.start(2)], None]
        pos = m.end(2)
    pieces.append(xml[pos:])
    return pieces


def _cut_row(
    xml: str, row: int, holes: set[str], prototype: bool, na: tuple[set[str], str]
) -> list[Piece]:
    pieces: list[Piece] = []
    pos = 0
    for m in _CELL.finditer(xml):
        column, ref = m.group(1), m.group(1) + m.group(2)
        if ref not in holes:
            continue
        head = xml[pos : m.start()]
        pieces += _parametrize_row(head, row) if prototype else [head]
        style = _STYLE.search(m.group(3))
        na_style = na[1] if ref in na[0] else ""
        pieces.append(
            Hole(column, None if prototype else row, style.group(0) if style else "", na_style)
        )
        holes.discard(ref)
        pos = m.end()
    rest = xml[pos:]
    pieces += _parametrize_row(rest, row) if prototype else [rest]
    return pieces


def _merge(pieces: Sequence[Piece]) -> tuple[Piece, ...]:
    """Join adjacent literal text, so rendering appends few strings."""
    out: list[Piece] = []
    for p in pieces:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        elif p != "":
            out.append(p)
    return tuple(out)


def _cut_sheet(
    xml: str,
    title: str,
    holes: set[str],
    prototype_row: int | None,
    table: tuple[str, str] | None,
    na: tuple[set[str], str] = (set(), ""),
) -> SheetTemplate:
    start = xml.index("<sheetData>") + len("<sheetData>")
    end = xml.index("</sheetData>")
    head, body, tail = xml[:start], xml[start:end], xml[end:]
    rows = list(_ROW.finditer(body))
    if "".join(m.group(0) for m in rows) != body:
        raise ValueError(f"unexpected XML in the rows of sheet {title!r}")
    before: list[Piece] = []
    prototype: list[Piece] = []
    for m in rows:
        number = int(m.group(1))
        if prototype_row is not None and number > prototype_row:
            raise ValueError(f"sheet {title!r} has content below its variable-length table")
        is_proto = number == prototype_row
        pieces = _cut_row(m.group(0), number, holes, is_proto, na)
        (prototype if is_proto else before).extend(pieces)
    if holes:
        raise ValueError(f"pre-filled cells missing from sheet {title!r}: {sorted(holes)}")
    head_pieces: list[Piece] = [head]
    if prototype_row is not None:
        dim = _DIMENSION.search(head)
        if not dim or int(dim.group(3)) != prototype_row:
            raise ValueError(f"sheet {title!r}: unexpected dimension")
        # the dimension's last row becomes a row-number piece (the table's last row)
        head_pieces = [head[: dim.start(3)], None, head[dim.end(3) :]]
    return SheetTemplate(
        title=title,
        head=_merge(head_pieces),
        before=_merge(before),
        prototype=_merge(prototype),
        table=table,
        tail=_merge(_split_sentinels(tail)),
    )


def _cut_meta_sheet(xml: str) -> SheetTemplate:
    """The metadata sheet keeps its head and tail; its rows are written anew each time."""
    start = xml.index("<sheetData>") + len("<sheetData>")
    dim = _DIMENSION.search(xml)
    if not dim:
        raise ValueError("the metadata sheet has no dimension")
    head = (xml[: dim.start(3)], None, xml[dim.end(3) : start])
    return SheetTemplate(META_SHEET, head, (), (), None, (xml[xml.index("</sheetData>") :],))


def _sheet_parts(files: Mapping[str, bytes]) -> dict[str, str]:
    """Sheet title -> its part name, from xl/workbook.xml and its relationships."""
    rels = ET.fromstring(files["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): (r.get("Target") or "").lstrip("/") for r in rels}
    book = ET.fromstring(files["xl/workbook.xml"])
    sheets = book.find(f"{_MAIN_NS}sheets")
    assert sheets is not None
    return {s.get("name") or "": targets[s.get(_REL_NS)] for s in sheets}


def compile_template(
    spec: FormSpec, config: ProgramConfig, settings: Settings, fiscal_year: int
) -> CompiledTemplate:
    """Build `spec`'s workbook for `fiscal_year` once, ready for `render`."""
    stand_in = _template_data(spec, config, fiscal_year)
    prefilled = prefilled_values(spec, stand_in)
    not_applicable = not_applicable_cells(spec, stand_in, prefilled)
    holes = {**prefilled, **not_applicable, **entity_cells(spec, stand_in, config)}
    layout = template_table_rows(spec)
    placeholder = Metadata(spec.kind, spec.version, fiscal_year, "0", None, "0")
    wb = assemble(
        spec,
        fiscal_year,
        config,
        settings.workbook_password,
        layout,
        dict.fromkeys(holes),
        metadata_rows(placeholder),
    )
    na_style = _style_attribute(wb, NOT_APPLICABLE_STYLE)
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as z:
        files = {name: z.read(name) for name in z.namelist()}

    holes_by_sheet: dict[str, set[str]] = {}
    na_by_sheet: dict[str, set[str]] = {}
    for key in holes:
        sheet, _, ref = key.rpartition("!")
        holes_by_sheet.setdefault(sheet, set()).add(ref)
        if key in not_applicable:
            na_by_sheet.setdefault(sheet, set()).add(ref)
    variable = {t.section.sheet: t for t in layout if t.end_row != t.last_row}
    sentinels = {t.end_row: (t.section.key, t.table.key) for t in variable.values()}
    by_part = {part: title for title, part in _sheet_parts(files).items()}

    parts: list[tuple[str, Part]] = []
    for name, content in files.items():
        title = by_part.get(name)
        if name == "xl/workbook.xml":
            parts.append((name, _merge(_split_sentinels(content.decode()))))
        elif title is not None and (title in holes_by_sheet or title in variable):
            rows = variable.get(title)
            parts.append(
                (
                    name,
                    _cut_sheet(
                        content.decode(),
                        title,
                        holes_by_sheet.get(title, set()),
                        rows.first_row if rows else None,
                        (rows.section.key, rows.table.key) if rows else None,
                        (na_by_sheet.get(title, set()), na_style),
                    ),
                )
            )
        elif title == META_SHEET:
            parts.append((name, _cut_meta_sheet(content.decode())))
        elif name == "docProps/core.xml":
            parts.append((name, CoreProperties(content.decode())))
        else:
            parts.append((name, deflate(name, content)))
    return CompiledTemplate(
        spec=spec,
        config=config,
        fiscal_year=fiscal_year,
        secret_key=settings.secret_key,
        parts=tuple(parts),
        sentinels=sentinels,
    )


def _style_attribute(wb: Workbook, name: str) -> str:
    """' s="N"' of a named style in `wb` as it will be saved (registered if no cell uses it
    yet): the style of holes whose value decides their look."""
    probe = Cell(wb.worksheets[0], row=1, column=1)  # not put on the sheet
    probe.style = name
    return f' s="{probe.style_id}"'


def _cell(ref: str, style: str, value: CellValue) -> str:
    if value is None:
        return f'<c r="{ref}"{style}/>'
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"{style} t="n"><v>{safe_string(value)}</v></c>'


def _render_sheet(
    sheet: SheetTemplate,
    cells: Mapping[str, CellValue],
    ends: Mapping[int, int],
    rows: Mapping[tuple[str, str], tuple[int, int]],
) -> str:
    first, count = rows[sheet.table] if sheet.table else (0, 0)
    title = sheet.title
    out: list[str] = []

    def emit(pieces: Sequence[Piece], row: int) -> None:
        for p in pieces:
            if isinstance(p, str):
                out.append(p)
            elif p is None:
                out.append(str(row))
            elif isinstance(p, Hole):
                ref = f"{p.column}{p.row or row}"
                value = cells.get(cell_key(title, ref))
                style = p.na_style if p.na_style and value == NOT_APPLICABLE else p.style
                out.append(_cell(ref, style, value))
            else:
                out.append(str(ends[p]))

    emit(sheet.head, first + count - 1)
    emit(sheet.before, 0)
    for row in range(first, first + count):
        emit(sheet.prototype, row)
    emit(sheet.tail, 0)
    return "".join(out)


def _render_meta_sheet(sheet: SheetTemplate, rows: Sequence[tuple[str, str | None]]) -> str:
    out = [str(sheet.head[0]), str(len(rows)), str(sheet.head[2])]
    for i, (key, value) in enumerate(rows, start=1):
        out.append(f'<row r="{i}">{_cell(f"A{i}", "", key)}')
        if value is not None:
            out.append(_cell(f"B{i}", "", value))
        out.append("</row>")
    out.append(str(sheet.tail[0]))
    return "".join(out)


def render(template: CompiledTemplate, data: PlanData, issued_at: str) -> bytes:
    """The .xlsx bytes of `data`'s workbook."""
    spec = template.spec
    if data.kind is not spec.kind or data.fiscal_year != template.fiscal_year:
        raise ValueError(
            f"a {spec.kind} FY{template.fiscal_year} template cannot render a "
            f"{data.kind} FY{data.fiscal_year} plan"
        )
    metadata = issue(spec, data, template.secret_key, issued_at)
    cells = {
        **metadata.prefilled,
        **not_applicable_cells(spec, data, metadata.prefilled),
        **entity_cells(spec, data, template.config),
    }
    layout = {(t.section.key, t.table.key): t for t in table_rows(spec, data)}
    rows = {key: (t.first_row, t.count) for key, t in layout.items()}
    ends = {sentinel: layout[key].end_row for sentinel, key in template.sentinels.items()}

    members = []
    for name, part in template.parts:
        if isinstance(part, Member):
            members.append(part)
            continue
        if isinstance(part, SheetTemplate):
            if part.title == META_SHEET:
                xml = _render_meta_sheet(part, metadata_rows(metadata))
            else:
                xml = _render_sheet(part, cells, ends, rows)
        elif isinstance(part, CoreProperties):
            xml = _CORE_DATES.sub(rf"\g<1>{issued_at}\g<2>", part.xml)
        else:
            xml = "".join(str(ends[p]) if isinstance(p, int) else str(p) for p in part)
        members.append(deflate(name, xml))
    return package(members)


def write_workbook(template: CompiledTemplate, data: PlanData, path: Path, issued_at: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render(template, data, issued_at))
    return path
