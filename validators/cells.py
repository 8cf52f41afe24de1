"""A small, fast reader of cell values from an .xlsx that intake has already checked.

Validation must be quick (a school plan in about 20 ms), and a full `openpyxl.load_workbook`
spends most of its time on styles and objects the validator never looks at. This reader
parses only the parts it needs (workbook, relationships, shared strings, the sheets asked
for) with defusedxml, and keeps for each cell its value and whether it holds a formula.
openpyxl stays the tool for writing and annotating workbooks.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from posixpath import join, normpath
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")

CellValue = str | float | bool | None


@dataclass
class SheetCells:
    """Cells of one sheet: (row, column) -> value; formulas kept apart."""

    name: str
    state: str  # visible, hidden, veryHidden
    values: dict[tuple[int, int], CellValue] = field(default_factory=dict)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    max_row: int = 0

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
        self._max_rows = max_rows
        self._sheets: dict[str, SheetCells] = {}
        self._paths: dict[str, str] = {}
        self.states: dict[str, str] = {}
        self.names: dict[str, NameTarget | None] = {}
        self._strings: list[str] | None = None
        self._read_workbook()

    # -- workbook part ------------------------------------------------------------------
    def _xml(self, path: str) -> Element:
        return SafeET.fromstring(self._zip.read(path), forbid_dtd=True)

    def _read_workbook(self) -> None:
        rels = self._xml("xl/_rels/workbook.xml.rels")
        targets = {
            r.get("Id"): normpath(join("xl", r.get("Target", "")))
            if not r.get("Target", "").startswith("/")
            else r.get("Target", "").lstrip("/")
            for r in rels.iter(f"{NS_PKG_REL}Relationship")
        }
        book = self._xml("xl/workbook.xml")
        order: list[str] = []
        for sheet in book.iter(f"{NS_MAIN}sheet"):
            name = sheet.get("name", "")
            rid = sheet.get(f"{NS_REL}id")
            order.append(name)
            self.states[name] = sheet.get("state", "visible")
            if rid in targets:
                self._paths[name] = targets[rid]
        self.sheet_names = order
        for dn in book.iter(f"{NS_MAIN}definedName"):
            if dn.get("localSheetId") is not None:
                continue  # print titles and areas are sheet-local
            self.names[dn.get("name", "")] = _parse_name_target(dn.text or "")

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            if "xl/sharedStrings.xml" in self._zip.namelist():
                root = self._xml("xl/sharedStrings.xml")
                for si in root.iter(f"{NS_MAIN}si"):
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
        cells = SheetCells(name=name, state=self.states.get(name, "visible"))
        root = self._xml(self._paths[name])
        data = root.find(f"{NS_MAIN}sheetData")
        if data is None:
            return cells
        row_no = 0
        for row in data.iter(f"{NS_MAIN}row"):
            row_no = int(row.get("r") or row_no + 1)
            if row_no > self._max_rows:
                cells.max_row = row_no
                break
            cells.max_row = row_no
            col_no = 0
            for c in row.iter(f"{NS_MAIN}c"):
                ref = c.get("r")
                if ref and (m := _REF.match(ref)):
                    col_no = column_index_from_string(m.group(1))
                else:
                    col_no += 1
                value, formula = self._cell_value(c)
                key = (row_no, col_no)
                if formula is not None:
                    cells.formulas[key] = formula
                if value is not None:
                    cells.values[key] = value
        return cells

    def _cell_value(self, c: Element) -> tuple[CellValue, str | None]:
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
            index = int(text)
            strings = self.strings
            return (strings[index] if 0 <= index < len(strings) else None), formula
        if kind in ("str", "e", "d"):
            return text, formula
        if kind == "b":
            return text.strip() in ("1", "true"), formula
        try:
            number = float(text)
        except ValueError:
            return text, formula
        return number, formula


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
        points.append((int(m.group(2)), column_index_from_string(m.group(1))))
    return NameTarget(sheet=sheet, first=points[0], last=points[-1])


def iter_range(target: NameTarget) -> Iterator[tuple[int, int]]:
    for row in range(target.first[0], target.last[0] + 1):
        for col in range(target.first[1], target.last[1] + 1):
            yield row, col
