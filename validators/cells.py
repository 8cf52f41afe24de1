"""A small, fast reader of cell values from an .xlsx that intake has already checked.

Validation must be quick (a district plan in about 20 ms), and a full `openpyxl.load_workbook`
spends most of its time on styles and objects the validator never looks at. This reader
parses only the parts it needs (workbook, relationships, shared strings, the sheets asked
for) by expat's events, without building a tree, and keeps for each cell its value and
whether it holds a formula. openpyxl stays the tool for writing and annotating workbooks.

The work per part is bounded while it is parsed: elements (counted by their "<" before
expat sees them), nesting depth, cells per row and the upload's time budget; a document type
or entity is refused. Reading a sheet stops at `max_rows`, noting the first value found below
(`SheetCells.overflow`). A workbook whose parts contradict each other (a sheet whose part is
missing, a cell pointing to text that is not there) or that is ambiguous (two sheets of one
name, one cell twice) raises `DamagedWorkbook`, with the problem to report when there is one.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from posixpath import join, normpath
from xml.parsers import expat

from aip_forms.workbook_format.a1 import column_index_from_string, coordinate_from_string
from validators.problems import Problem, problem
from validators.safety import IntakeLimits, count_elements, work_clock

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
MAX_DEPTH = 64  # Excel's sheets nest 7 deep, its drawings about 20
_CHUNK = 64 * 1024


def _expat_name(ns: str, local: str) -> str:
    """How expat, with "}" as separator, names an element: "uri}local"."""
    return f"{ns[1:]}{local}"


_MAIN = NS_MAIN[1:-1]
ROW, CELL, FORMULA, VALUE = (_expat_name(NS_MAIN, n) for n in ("row", "c", "f", "v"))
INLINE, TEXT, PHONETIC = (_expat_name(NS_MAIN, n) for n in ("is", "t", "rPh"))
STRING_ITEM, SHEET, DEFINED_NAME = (_expat_name(NS_MAIN, n) for n in ("si", "sheet", "definedName"))
RELATIONSHIP = _expat_name(NS_PKG_REL, "Relationship")
REL_ID = _expat_name(NS_REL, "id")


class DamagedWorkbook(ValueError):
    """The workbook's parts do not fit together; the message says where, in plain words, and
    `problem`, when set, is the catalogue's problem to report instead of a generic one."""

    def __init__(self, message: str, found: Problem | None = None) -> None:
        super().__init__(message)
        self.problem = found


class _Refused(DamagedWorkbook):
    def __init__(self, found: Problem) -> None:
        super().__init__(found.message, found)


class _Stop(Exception):
    """Raised by a handler that has read all it needs: the rest of the part is not parsed."""


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
        return self.values.get(point(ref))

    def formula_at(self, row: int, col: int) -> str | None:
        return self.formulas.get((row, col))


def point(ref: str) -> tuple[int, int]:
    """The (row, column) of a cell reference: C12 is (12, 3)."""
    col = _column_of(ref)
    if col is None:
        letter, row = coordinate_from_string(ref)  # raises ValueError, saying why
        return row, column_index_from_string(letter)
    return int(ref.lstrip("$ABCDEFGHIJKLMNOPQRSTUVWXYZ")), col


_COLUMNS: dict[str, int] = {}  # "C" -> 3: at most the 18,278 strings of one to three letters
_DIGITS = "0123456789"


def _column_of(ref: str) -> int | None:
    """The column of a reference such as C12 or $C$12; None if it is not one."""
    col = _COLUMNS.get(ref.rstrip(_DIGITS))
    if col is not None and ref[-1:].isdigit():
        return col
    found = _REF.match(ref)
    if not found:
        return None
    col = column_index_from_string(found.group(1))
    if "$" not in ref:
        _COLUMNS[found.group(1)] = col
    return col


@dataclass(frozen=True)
class NameTarget:
    sheet: str
    first: tuple[int, int]  # (row, col)
    last: tuple[int, int]


class _Handler:
    """Receives one part's events; collects text only between `collect` and `done`."""

    def __init__(self) -> None:
        self.depth = 0
        self.part = ""
        self._text: list[str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(problem("INTAKE_TOO_DEEP", part=self.part, limit=MAX_DEPTH))
        self.open(name, attrs)

    def end(self, name: str) -> None:
        self.depth -= 1
        self.close(name)

    def open(self, name: str, attrs: dict[str, str]) -> None:
        raise NotImplementedError

    def close(self, name: str) -> None:
        return None

    def text(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def collect(self) -> None:
        self._text = []

    def done(self) -> str:
        text = "".join(self._text or ())
        self._text = None
        return text


def _refuse_declarations(*args: object) -> int:
    raise DamagedWorkbook("a part declares a document type or entities, which Excel never writes")


class WorkbookCells:
    """The sheets and defined names of one workbook, parsed on demand."""

    def __init__(
        self,
        archive: zipfile.ZipFile,
        *,
        max_rows: int = 5000,
        limits: IntakeLimits | None = None,
        deadline: float | None = None,
    ) -> None:
        self._zip = archive
        self.max_rows = max_rows
        self.limits = limits or IntakeLimits()
        self.deadline = deadline or work_clock() + self.limits.max_seconds
        self._sheets: dict[str, SheetCells] = {}
        self._paths: dict[str, str] = {}
        self.states: dict[str, str] = {}
        self.names: dict[str, NameTarget | None] = {}
        self._strings: list[str] | None = None
        self._read_workbook()

    # -- parts --------------------------------------------------------------------------
    def _parse(self, path: str, handler: _Handler | _Events, owner: str = "") -> None:
        """Feed one part to `handler`, under the element, depth and time bounds."""
        whose = f" of {owner}" if owner else ""
        label = f"{path} ({owner})" if owner else path  # for messages
        try:
            stream = self._zip.open(path)
        except KeyError:
            raise DamagedWorkbook(f"the part{whose}, {path or '(no name)'}, is missing") from None
        if isinstance(handler, _Handler):
            handler.part = path
        parser = expat.ParserCreate(None, "}")
        parser.buffer_text = True
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.text
        parser.StartDoctypeDeclHandler = _refuse_declarations
        parser.EntityDeclHandler = _refuse_declarations
        parser.ExternalEntityRefHandler = _refuse_declarations
        elements = 0
        with stream:
            try:
                while chunk := stream.read(_CHUNK):
                    if work_clock() > self.deadline:
                        limit = f"{self.limits.max_seconds:g}"
                        raise _Refused(problem("INTAKE_TOO_SLOW", part=label, limit=limit))
                    elements += count_elements(chunk)
                    if elements > self.limits.max_part_elements:
                        limit = f"{self.limits.max_part_elements:,}"
                        raise _Refused(problem("INTAKE_TOO_MANY_ELEMENTS", part=label, limit=limit))
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
            except _Stop:
                return
            except DamagedWorkbook:
                raise
            except expat.ExpatError as error:  # not XML to intake
                reason = expat.ErrorString(error.code)
                unreadable = f"the part{whose}, {path}, is not readable ({reason})"
                raise DamagedWorkbook(unreadable) from None
            except (LookupError, ValueError, zipfile.BadZipFile) as error:
                unreadable = f"the part{whose}, {path}, is not readable ({error})"
                raise DamagedWorkbook(unreadable) from None

    def _read_workbook(self) -> None:
        rels = _Relationships()
        self._parse("xl/_rels/workbook.xml.rels", rels)
        book = _WorkbookPart(rels.targets)
        self._parse("xl/workbook.xml", book)
        self.sheet_names = book.order
        self.states = book.states
        self._paths = book.paths
        self.names = book.names

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            if "xl/sharedStrings.xml" in self._zip.NameToInfo:
                self._parse("xl/sharedStrings.xml", _SharedStrings(self._strings))
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
        path = self._paths[name]
        owner = f"sheet {name!r}"
        events = _sheet_events(cells, lambda: self.strings, self.max_rows, f"{path} ({owner})")
        self._parse(path, events, owner=owner)
        return cells


class _Relationships(_Handler):
    def __init__(self) -> None:
        super().__init__()
        self.targets: dict[str | None, str] = {}

    def open(self, name: str, attrs: dict[str, str]) -> None:
        if name == RELATIONSHIP:
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            self.targets[attrs.get("Id")] = path


class _WorkbookPart(_Handler):
    """Sheets in order, their states and parts, and the workbook-wide defined names."""

    def __init__(self, targets: dict[str | None, str]) -> None:
        super().__init__()
        self.targets = targets
        self.order: list[str] = []
        self.states: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.names: dict[str, NameTarget | None] = {}
        self._seen: set[str] = set()
        self._name: str | None = None

    def open(self, name: str, attrs: dict[str, str]) -> None:
        if name == SHEET:
            title = attrs.get("name", "")
            if title.casefold() in self._seen:  # Excel compares sheet names ignoring case
                raise _Refused(problem("INTAKE_DUPLICATE_SHEET", sheet=title))
            self._seen.add(title.casefold())
            self.order.append(title)
            self.states[title] = attrs.get("state", "visible")
            rid = attrs.get(REL_ID)
            if rid in self.targets:
                self.paths[title] = self.targets[rid]
        elif name == DEFINED_NAME and attrs.get("localSheetId") is None:
            # sheet-local names are print titles and areas
            self._name = attrs.get("name", "")
            self.collect()

    def close(self, name: str) -> None:
        if name == DEFINED_NAME and self._name is not None:
            title, self._name = self._name, None
            target = _parse_name_target(self.done())
            if title in self.names:
                raise DamagedWorkbook(f"the name {title[:60]!r} is defined twice")
            if len(self.names) < MAX_NAMES:
                self.names[title] = target


class _SharedStrings(_Handler):
    def __init__(self, strings: list[str]) -> None:
        super().__init__()
        self.strings = strings
        self._parts: list[str] | None = None
        self._phonetic = 0

    def open(self, name: str, attrs: dict[str, str]) -> None:
        if name == STRING_ITEM:
            self._parts = []
        elif name == PHONETIC:
            self._phonetic += 1
        elif name == TEXT and self._parts is not None and not self._phonetic:
            # plain <t>, or rich-text runs <r><t>; phonetic runs (rPh) are not text
            self.collect()

    def close(self, name: str) -> None:
        if name == TEXT and self._parts is not None and not self._phonetic:
            self._parts.append(self.done())
        elif name == PHONETIC:
            self._phonetic -= 1
        elif name == STRING_ITEM and self._parts is not None:
            if len(self.strings) == MAX_SHARED_STRINGS:
                raise DamagedWorkbook(f"it holds more than {MAX_SHARED_STRINGS:,} pieces of text")
            self.strings.append("".join(self._parts))
            self._parts = None


@dataclass(frozen=True)
class _Events:
    """Handlers for one part's parse, as closures: a sheet's hot path (see `_sheet_events`)."""

    start: Callable[[str, dict[str, str]], None]
    end: Callable[[str], None]
    text: Callable[[str], None]


def _sheet_events(
    cells: SheetCells, strings: Callable[[], list[str]], max_rows: int, part: str
) -> _Events:
    """One sheet's rows as they stream by: a value and a formula per cell. Closures over
    local state, not a class: every element of the sheet calls them twice, and attribute
    access and method calls made this the larger part of validating a workbook."""
    sheet = cells.name
    depth = row_no = rows_below = col_no = phonetic = 0
    below: SheetCells | None = None  # the row being read below `max_rows`
    columns: set[int] = set()
    ref: str | None = None
    kind = "n"
    formula: str | None = None
    value: str | None = None
    inline: list[str] | None = None
    collected: list[str] | None = None

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, col_no, ref, kind, formula, value, inline, collected, phonetic
        depth += 1
        if depth > MAX_DEPTH:
            raise _Refused(problem("INTAKE_TOO_DEEP", part=part, limit=MAX_DEPTH))
        if name == CELL:
            ref = attrs.get("r")
            kind = attrs.get("t", "n")
            col = None
            if ref:
                col = _COLUMNS.get(ref.rstrip(_DIGITS))  # _column_of's quick path, inlined
                if col is None or not ref[-1:].isdigit():
                    col = _column_of(ref)
            col_no = col_no + 1 if col is None else col
            if col_no > MAX_SHEET_COLUMN or col_no in columns:
                _refuse_cell(sheet, row_no, col_no)
            columns.add(col_no)
            formula = value = None
            inline = None
        elif name in (VALUE, FORMULA) or (name == TEXT and inline is not None and not phonetic):
            collected = []
        elif name == ROW:
            start_row(attrs.get("r"))
        elif name == INLINE:
            inline = []
        elif name == PHONETIC:
            phonetic += 1

    def start_row(number: str | None) -> None:
        nonlocal row_no, columns, col_no, below
        if number is None:
            now = row_no + 1
        elif _ROW_NUMBER.match(number) and 0 < int(number) <= MAX_SHEET_ROW:
            now = int(number)
        else:
            raise DamagedWorkbook(f"sheet {sheet!r} has a row numbered {number[:20]!r}")
        if now <= row_no:
            raise _Refused(problem("INTAKE_DUPLICATE_ROW", sheet=sheet, row=now))
        row_no = now
        columns = set()
        col_no = 0
        if row_no > max_rows:
            below = SheetCells(name=sheet, state="")
        else:
            cells.max_row = row_no

    def end(name: str) -> None:
        nonlocal depth, value, formula, collected, phonetic, inline
        depth -= 1
        if name == VALUE:
            value = "".join(collected or ())
            collected = None
        elif name == CELL:
            into = below or cells
            if formula is not None:
                into.formulas[row_no, col_no] = formula
            found = _cell_value(kind, value, inline, strings, sheet, ref)
            if found is not None:
                into.values[row_no, col_no] = found
        elif name == FORMULA:
            formula = "".join(collected or ())
            collected = None
        elif name == TEXT and inline is not None and not phonetic:
            inline.append("".join(collected or ()))
            collected = None
        elif name == PHONETIC:
            phonetic -= 1
        elif name == ROW and below is not None:
            end_row_below()

    def end_row_below() -> None:
        nonlocal rows_below, below
        assert below is not None
        rows_below += 1
        found = min(below.values, default=None)
        below = None
        if found is not None or rows_below >= max_rows:
            cells.overflow = found
            raise _Stop

    def text(data: str) -> None:
        if collected is not None:
            collected.append(data)

    return _Events(start, end, text)


def _refuse_cell(sheet: str, row: int, col: int) -> None:
    if col > MAX_SHEET_COLUMN:
        limit = f"{MAX_SHEET_COLUMN:,}"
        raise _Refused(problem("INTAKE_ROW_TOO_WIDE", sheet=sheet, row=row, limit=limit))
    cell = f"{_column_letters(col)}{row}"
    raise _Refused(problem("INTAKE_DUPLICATE_CELL", sheet=sheet, cell=cell))


def _cell_value(
    kind: str,
    text: str | None,
    inline: list[str] | None,
    strings: Callable[[], list[str]],
    sheet: str,
    ref: str | None,
) -> CellValue:
    if kind == "inlineStr":
        return None if inline is None else "".join(inline)
    if text is None:
        return None
    if kind == "s":
        table = strings()
        index = text.strip()
        if not (index.isascii() and index.isdigit()) or int(index) >= len(table):
            raise DamagedWorkbook(
                f"cell {ref or '?'} of sheet {sheet!r} refers to text that is not in it"
            )
        return table[int(index)]
    if kind in ("str", "e", "d"):
        return text
    if kind == "b":
        return text.strip() in ("1", "true")
    try:
        number = float(text)
    except ValueError:
        return text
    # Excel cannot hold NaN or infinity: such a "number" is text that says so.
    return number if math.isfinite(number) else text


def _column_letters(col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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
