"""A small, fast reader of cell values from an .xlsx that intake has already checked.

Validation must be quick (a school plan in about 20 ms), and a full `openpyxl.load_workbook`
spends most of its time on styles and objects the validator never looks at. This reader
parses only the parts it needs (workbook, relationships, shared strings, the sheets asked
for) with defusedxml, and keeps for each cell its value and whether it holds a formula.
openpyxl stays the tool for writing and annotating workbooks.

Parts are parsed as they stream out of the zip and each element is dropped once read, so a
sheet of a hundred thousand rows costs no more than its first `max_rows`: reading stops
there, noting the first value found below (`SheetCells.overflow`). A workbook whose parts
contradict each other (a sheet whose part is missing, a cell pointing to text that is not
there) raises `DamagedWorkbook`.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from posixpath import join, normpath
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import ElementTree as SafeET
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_ROW_NUMBER = re.compile(r"^\d{1,7}$")

CellValue = str | float | bool | None

# Far beyond any plan workbook; they bound what a hostile file makes the reader keep.
MAX_SHARED_STRINGS = 1_000_000
MAX_NAMES = 10_000
MAX_SHEET_ROW = 1_048_576  # Excel's last row and column (XFD)
MAX_SHEET_COLUMN = 16_384


class DamagedWorkbook(ValueError):
    """The workbook's parts do not fit together; the message says where, in plain words."""


@dataclass
class SheetCells:
    """Cells of one sheet: (row, column) -> value; formulas kept apart."""

    name: str
    state: str  # visible, hidden, veryHidden
    values: dict[tuple[int, int], CellValue] = field(default_factory=dict)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    max_row: int = 0
    overflow: tuple[int, int] | None = None  # (row, col) of a value below the rows read

    def get(self, row: int, col: int) -> CellValue:
        return self.values.get((row, col))

    def at(self, ref: str) -> CellValue:
        letter, row = coordinate_from_string(ref)
        return self.values.get((row, column_index_from_string(letter)))

    def formula_at(self, row: int, col: int) -> str | None:
        return self.formulas.get((row, col))


@dataclass(frozen=True)
class NameTarget:
    sheet: str
    first: tuple[int, int]  # (row, col)
    last: tuple[int, int]


class WorkbookCells:
    """The sheets and defined names of one workbook, parsed on demand."""

    def __init__(self, archive: zipfile.ZipFile, *, max_rows: int = 5000) -> None:
        self._zip = archive
        self.max_rows = max_rows
        self._sheets: dict[str, SheetCells] = {}
        self._paths: dict[str, str] = {}
        self.states: dict[str, str] = {}
        self.names: dict[str, NameTarget | None] = {}
        self._strings: list[str] | None = None
        self._read_workbook()

    # -- parts --------------------------------------------------------------------------
    def _elements(
        self, path: str, *tags: str, prune: bool = True, owner: str = ""
    ) -> Iterator[Element]:
        """Every complete element of a part with one of `tags`, as the part streams by.

        With `prune`, each is dropped from its parent once the caller is done with it, so a
        part is never held whole. Without, it is only emptied: a little faster, for callers
        that stop early (sheets). `owner` says whose part it is, for messages."""
        try:
            stream = self._zip.open(path)
        except KeyError:
            whose = f" of {owner}" if owner else ""
            raise DamagedWorkbook(f"the part{whose}, {path or '(no name)'}, is missing") from None
        with stream:
            parser = SafeET.DefusedXMLParser(target=TreeBuilder(), forbid_dtd=True)
            events = SafeET.iterparse(stream, ("start", "end") if prune else ("end",), parser)
            parents: list[Element] = []
            while True:
                try:
                    event, element = next(events)
                except StopIteration:
                    return
                except (ParseError, LookupError, ValueError) as error:  # not XML to intake
                    whose = f" of {owner}" if owner else ""
                    raise DamagedWorkbook(
                        f"the part{whose}, {path}, is not readable ({error})"
                    ) from None
                if event == "start":
                    parents.append(element)
                    continue
                if prune:
                    parents.pop()
                if element.tag in tags:
                    yield element
                    if parents:
                        parents[-1].remove(element)
                    else:
                        element.clear()

    def _read_workbook(self) -> None:
        targets: dict[str | None, str] = {}
        for r in self._elements("xl/_rels/workbook.xml.rels", f"{NS_PKG_REL}Relationship"):
            target = r.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            targets[r.get("Id")] = path
        order: list[str] = []
        sheet_tag, name_tag = f"{NS_MAIN}sheet", f"{NS_MAIN}definedName"
        for element in self._elements("xl/workbook.xml", sheet_tag, name_tag):
            if element.tag == sheet_tag:
                name = element.get("name", "")
                order.append(name)
                self.states[name] = element.get("state", "visible")
                rid = element.get(f"{NS_REL}id")
                if rid in targets:
                    self._paths[name] = targets[rid]
            elif element.get("localSheetId") is None and len(self.names) < MAX_NAMES:
                # sheet-local names are print titles and areas
                self.names[element.get("name", "")] = _parse_name_target(element.text or "")
        self.sheet_names = order

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            if "xl/sharedStrings.xml" in self._zip.NameToInfo:
                for si in self._elements("xl/sharedStrings.xml", f"{NS_MAIN}si"):
                    if len(self._strings) == MAX_SHARED_STRINGS:
                        raise DamagedWorkbook(
                            f"it holds more than {MAX_SHARED_STRINGS:,} pieces of text"
                        )
                    # plain <t>, or rich-text runs <r><t>; phonetic runs (rPh) are not text
                    parts = [t.text or "" for t in si.findall(f"{NS_MAIN}t")]
                    parts += [t.text or "" for t in si.findall(f"{NS_MAIN}r/{NS_MAIN}t")]
                    self._strings.append("".join(parts))
        return self._strings

    # -- sheets -------------------------------------------------------------------------
    def has_sheet(self, name: str) -> bool:
        return name in self._paths

    def sheet(self, name: str) -> SheetCells:
        if name not in self._sheets:
            self._sheets[name] = self._read_sheet(name)
        return self._sheets[name]

    def _read_sheet(self, name: str) -> SheetCells:
        """The sheet's cells down to `max_rows`; below, only whether there is any value
        (in at most as many rows again: far enough to tell notes below a plan from the
        empty formatted rows some programs write)."""
        cells = SheetCells(name=name, state=self.states.get(name, "visible"))
        row_no = 0
        rows_below = 0
        rows = self._elements(
            self._paths[name], f"{NS_MAIN}row", prune=False, owner=f"sheet {name!r}"
        )
        for row in rows:
            number = row.get("r")
            if number is None:
                row_no += 1
            elif _ROW_NUMBER.match(number) and int(number) > 0:
                row_no = int(number)
            else:
                raise DamagedWorkbook(f"sheet {name!r} has a row numbered {number[:20]!r}")
            if row_no > self.max_rows:
                rows_below += 1
                found = self._first_value(name, row_no, row)
                if found is not None or rows_below >= self.max_rows:
                    cells.overflow = found
                    break
                continue
            cells.max_row = row_no
            self._read_row(cells, row_no, row)
        return cells

    def _read_row(self, cells: SheetCells, row_no: int, row: Element) -> None:
        col_no = 0
        for c in row.iter(f"{NS_MAIN}c"):
            ref = c.get("r")
            if ref and (m := _REF.match(ref)):
                col_no = column_index_from_string(m.group(1))
            else:
                col_no += 1
            value, formula = self._cell_value(c, cells.name, ref)
            key = (row_no, col_no)
            if formula is not None:
                cells.formulas[key] = formula
            if value is not None:
                cells.values[key] = value

    def _first_value(self, sheet: str, row_no: int, row: Element) -> tuple[int, int] | None:
        scratch = SheetCells(name=sheet, state="")
        self._read_row(scratch, row_no, row)
        return min(scratch.values, default=None)

    def _cell_value(self, c: Element, sheet: str, ref: str | None) -> tuple[CellValue, str | None]:
        kind = c.get("t", "n")
        f = c.find(f"{NS_MAIN}f")
        formula = None if f is None else (f.text or "")
        v = c.find(f"{NS_MAIN}v")
        text = None if v is None else v.text
        if kind == "inlineStr":
            node = c.find(f"{NS_MAIN}is")
            if node is None:
                return None, formula
            parts = [t.text or "" for t in node.iter(f"{NS_MAIN}t")]
            return "".join(parts), formula
        if text is None:
            return None, formula
        if kind == "s":
            strings = self.strings
            index = text.strip()
            if not (index.isascii() and index.isdigit()) or int(index) >= len(strings):
                raise DamagedWorkbook(
                    f"cell {ref or '?'} of sheet {sheet!r} refers to text that is not in it"
                )
            return strings[int(index)], formula
        if kind in ("str", "e", "d"):
            return text, formula
        if kind == "b":
            return text.strip() in ("1", "true"), formula
        try:
            number = float(text)
        except ValueError:
            return text, formula
        # Excel cannot hold NaN or infinity: such a "number" is text that says so.
        return (number if math.isfinite(number) else text), formula


def _parse_name_target(text: str) -> NameTarget | None:
    """'1 Contact'!$C$5 or Sheet!$A$6:$A$22 -> NameTarget; None for #REF! or others."""
    text = text.strip()
    if "!" not in text or "#REF" in text or "," in text:
        return None
    sheet, _, ref = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    ends = ref.split(":")
    points = []
    for end in ends:
        m = _REF.match(end)
        if not m:
            return None
        row, col = int(m.group(2)), column_index_from_string(m.group(1))
        if not (1 <= row <= MAX_SHEET_ROW and col <= MAX_SHEET_COLUMN):
            return None  # no such cell: read the field at its place in the spec
        points.append((row, col))
    return NameTarget(sheet=sheet, first=points[0], last=points[-1])


def iter_range(target: NameTarget) -> Iterator[tuple[int, int]]:
    for row in range(target.first[0], target.last[0] + 1):
        for col in range(target.first[1], target.last[1] + 1):
            yield row, col
