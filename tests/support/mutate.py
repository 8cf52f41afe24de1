"""Malformed plan workbooks made from real ones, for the validator's tests and benchmark.

Bases are real workbooks signed with `KEY`: `generated(kind)` as issued (inputs empty, from
the compiled template) and `example(kind)` filled validly (`workbook_templates.example`).
Edits of a base:

- `book`/`save`: the openpyxl Workbook of a base, to change as a coordinator would;
- `with_cells`: values, formulas and cell types written straight into a sheet's XML;
- `without_sheet`, `with_shared_strings`, `with_long_sheet`: structural changes;
- `corpus(seed)`: a thousand and more mutations of the bases (byte flips, truncations, zip
  entries deleted or duplicated, XML parts damaged), made lazily and deterministically in
  memory, each with an id that says how it was made.
"""

from __future__ import annotations

import io
import random
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path

import openpyxl
from lxml import etree
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.workbook.workbook import Workbook

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import PlanData
from aip_forms.spec import META_SHEET, FormSpec, spec_for
from aip_forms.workbook_format.metadata import Metadata, metadata_rows, read_metadata, sign
from tests.support import hostile
from workbook_templates import synthetic
from workbook_templates.compiled import CompiledTemplate, compile_template, render
from workbook_templates.example import example_workbook

KEY = b"test-secret-key"  # the key the `aip_home` fixture gives the CLI
ISSUED = "2026-08-03T14:05:00Z"
FISCAL_YEAR = 2027
CONFIG = ProgramConfig()
SETTINGS = Settings(
    home=Path(tempfile.gettempdir()),
    database_url="sqlite://",
    secret_key=KEY,
    workbook_password="pw",
)
LEA = Lea(code="001", name="BELEN CONSOLIDATED SCHOOLS")
SCHOOL = School(code="001-004", lea_code="001", name="BELEN HIGH", grade_low="9")
OTHER_SCHOOL = School(code="001-005", lea_code="001", name="BELEN MIDDLE", grade_low="9")
SCHOOLS = tuple(
    School(code=f"001-{i:03d}", lea_code="001", name=f"BELEN SCHOOL {i}") for i in range(1, 9)
)

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)

Kind = PlanKind | str


# ---- bases -------------------------------------------------------------------------------


def plan_data(kind: Kind = PlanKind.SCHOOL, school: School = SCHOOL) -> PlanData:
    if PlanKind(kind) is PlanKind.SCHOOL:
        return synthetic.plan_data(CONFIG, FISCAL_YEAR, LEA, school)
    return synthetic.plan_data(CONFIG, FISCAL_YEAR, LEA, None, SCHOOLS)


@cache
def _template(kind: PlanKind) -> CompiledTemplate:
    return compile_template(spec_for(kind), CONFIG, SETTINGS, FISCAL_YEAR)


@cache
def _generated(kind: PlanKind, school: School) -> bytes:
    return render(_template(kind), plan_data(kind, school), ISSUED)


def generated(kind: Kind = PlanKind.SCHOOL, school: School = SCHOOL) -> bytes:
    """The workbook as issued: pre-filled, inputs empty."""
    return _generated(PlanKind(kind), school)


def book(kind: Kind = PlanKind.SCHOOL, school: School = SCHOOL) -> Workbook:
    """A new openpyxl Workbook of the example plan, to change and `save`."""
    kind = PlanKind(kind)
    return example_workbook(
        spec_for(kind), plan_data(kind, school), CONFIG, SETTINGS, issued_at=ISSUED
    )


@cache
def _example(kind: PlanKind, school: School) -> bytes:
    return save(book(kind, school))


def example(kind: Kind = PlanKind.SCHOOL, school: School = SCHOOL) -> bytes:
    """The example workbook: every input filled with a valid answer."""
    return _example(PlanKind(kind), school)


def load(data: bytes) -> Workbook:
    """A workbook's bytes as an openpyxl Workbook, to change and `save`."""
    return openpyxl.load_workbook(io.BytesIO(data))


def save(workbook: Workbook) -> bytes:
    """The workbook's bytes, the same every time: openpyxl stamps the time of saving into
    docProps/core.xml and every zip entry, which would make each run's corpus differ."""
    out = io.BytesIO()
    workbook.save(out)

    def fixed_time(files: dict[str, bytes]) -> None:
        core = files["docProps/core.xml"].decode()
        files["docProps/core.xml"] = re.sub(
            r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{ISSUED}", core
        ).encode()

    return edit_parts(out.getvalue(), fixed_time)


def cell_of(kind: Kind, key: str) -> tuple[str, str]:
    """Where the spec puts a value: "contact.email" -> ("1 Contact Information", "C13");
    "tiers.tier1.strategy.2" (table, column, 0-based data row) -> ("4 Tiers of Support", "A9")."""
    spec: FormSpec = spec_for(kind)
    section_key, *rest = key.split(".")
    section = spec.section(section_key)
    if len(rest) == 1:
        field = next(f for f in section.fields if f.key == rest[0])
        assert field.cell
        return section.sheet, field.cell
    table_key, column_key, index = rest
    table = next(t for t in section.tables if t.key == table_key)
    return section.sheet, f"{table.column(column_key).column}{table.first_row + int(index)}"


# ---- metadata ----------------------------------------------------------------------------


def write_metadata(workbook: Workbook, metadata: Metadata) -> None:
    """Replace the rows of the metadata sheet with `metadata`'s, as the generator writes them."""
    sheet = workbook[META_SHEET]
    sheet.delete_rows(1, sheet.max_row)
    for row, (key, value) in enumerate(metadata_rows(metadata), start=1):
        sheet.cell(row, 1).value = key
        sheet.cell(row, 2).value = value
        sheet.cell(row, 2).data_type = "s"


def resigned(workbook: Workbook, **changes: object) -> None:
    """Change identity fields of the metadata and sign it again with the real key: a
    workbook this system could have issued (another spec version, another year ...)."""
    metadata = replace(read_metadata(workbook), **changes)  # type: ignore[arg-type]
    write_metadata(workbook, sign(metadata, KEY))


def meta_row(workbook: Workbook, key: str) -> int:
    sheet = workbook[META_SHEET]
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row, 1).value == key:
            return row
    raise KeyError(key)


# ---- parts -------------------------------------------------------------------------------


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: Mapping[str, bytes] | list[tuple[str, bytes]], level: int = 1) -> bytes:
    out = io.BytesIO()
    items = files.items() if isinstance(files, Mapping) else files
    with warnings.catch_warnings():  # a list may name a part twice, on purpose
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
            for name, content in items:
                # a fixed time, so that the same parts always make the same bytes
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                archive.writestr(info, content, zipfile.ZIP_DEFLATED, level)
    return out.getvalue()


def sheet_parts(files: Mapping[str, bytes]) -> dict[str, str]:
    """Sheet title -> its part name."""
    rels = etree.fromstring(files["xl/_rels/workbook.xml.rels"])
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    workbook = etree.fromstring(files["xl/workbook.xml"])
    return {
        sheet.get("name"): targets[sheet.get(f"{{{REL_NS}}}id")]
        for sheet in workbook.iter(f"{{{NS}}}sheet")
    }


def _xml(content: bytes) -> etree._Element:
    return etree.fromstring(content, etree.XMLParser(resolve_entities=False, huge_tree=True))


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def edit_parts(data: bytes, edit: Callable[[dict[str, bytes]], None]) -> bytes:
    files = parts(data)
    edit(files)
    return rezip(files)


# ---- cells -------------------------------------------------------------------------------

CellInput = str | int | float | bool | None


class Formula(str):
    """A formula typed into a cell, without its "="; `cached` is its saved result, if any."""

    cached: CellInput = None


def _cell_element(ref: str, value: CellInput, style: str | None) -> etree._Element:
    cell = etree.Element(f"{{{NS}}}c", r=ref)
    if style is not None:
        cell.set("s", style)
    if isinstance(value, Formula):
        etree.SubElement(cell, f"{{{NS}}}f").text = str(value)
        if isinstance(value.cached, str):
            cell.set("t", "str")
        if value.cached is not None:
            cached = value.cached if isinstance(value.cached, str) else repr(value.cached)
            etree.SubElement(cell, f"{{{NS}}}v").text = cached
    elif isinstance(value, bool):
        cell.set("t", "b")
        etree.SubElement(cell, f"{{{NS}}}v").text = "1" if value else "0"
    elif isinstance(value, int | float):
        etree.SubElement(cell, f"{{{NS}}}v").text = repr(value)
    elif isinstance(value, str):
        cell.set("t", "inlineStr")
        text = etree.SubElement(etree.SubElement(cell, f"{{{NS}}}is"), f"{{{NS}}}t")
        text.text = value
        if value != value.strip():
            text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return cell


def _put_cell(sheet: etree._Element, ref: str, value: CellInput) -> None:
    _, row_no = coordinate_from_string(ref)
    data = sheet.find(f"{{{NS}}}sheetData")
    assert data is not None
    rows = {int(r.get("r")): r for r in data.iter(f"{{{NS}}}row")}
    row = rows.get(row_no)
    if row is None:
        row = etree.Element(f"{{{NS}}}row", r=str(row_no))
        after = [n for n in rows if n < row_no]
        if after:
            rows[max(after)].addnext(row)
        else:
            data.insert(0, row)
    old = next((c for c in row.iter(f"{{{NS}}}c") if c.get("r") == ref), None)
    new = _cell_element(ref, value, old.get("s") if old is not None else None)
    if old is not None:
        old.addprevious(new)
        row.remove(old)
    else:
        row.append(new)  # the order of cells does not matter to the reader under test


def with_cells(data: bytes, values: Mapping[tuple[str, str], CellInput]) -> bytes:
    """The workbook with cells set in its XML, as any client could save them: text as an
    inline string, numbers as numbers, `Formula`s as formulas, None as an empty cell."""

    def edit(files: dict[str, bytes]) -> None:
        where = sheet_parts(files)
        by_part: dict[str, list[tuple[str, CellInput]]] = {}
        for (sheet, ref), value in values.items():
            by_part.setdefault(where[sheet], []).append((ref, value))
        for part, cells in by_part.items():
            root = _xml(files[part])
            for ref, value in cells:
                _put_cell(root, ref, value)
            files[part] = _bytes(root)

    return edit_parts(data, edit)


def with_names(data: bytes, names: Mapping[str, str | None]) -> bytes:
    """The workbook with defined names pointed elsewhere (text) or deleted (None)."""

    def edit(files: dict[str, bytes]) -> None:
        workbook = _xml(files["xl/workbook.xml"])
        for element in list(workbook.iter(f"{{{NS}}}definedName")):
            name = element.get("name")
            if name not in names:
                continue
            if names[name] is None:
                element.getparent().remove(element)
            else:
                element.text = names[name]
        files["xl/workbook.xml"] = _bytes(workbook)

    return edit_parts(data, edit)


def defined_names(data: bytes) -> dict[str, str]:
    workbook = _xml(parts(data)["xl/workbook.xml"])
    return {n.get("name"): n.text or "" for n in workbook.iter(f"{{{NS}}}definedName")}


def without_sheet(data: bytes, title: str) -> bytes:
    """The workbook with a sheet deleted, its part, relationship and names with it."""

    def edit(files: dict[str, bytes]) -> None:
        part = sheet_parts(files)[title]
        workbook = _xml(files["xl/workbook.xml"])
        rel_id = None
        for sheet in list(workbook.iter(f"{{{NS}}}sheet")):
            if sheet.get("name") == title:
                rel_id = sheet.get(f"{{{REL_NS}}}id")
                sheet.getparent().remove(sheet)
        quoted = f"'{title}'!" if not re.fullmatch(r"\w+", title) else f"{title}!"
        for name in list(workbook.iter(f"{{{NS}}}definedName")):
            if (name.text or "").startswith(quoted):
                name.getparent().remove(name)
        files["xl/workbook.xml"] = _bytes(workbook)
        rels = _xml(files["xl/_rels/workbook.xml.rels"])
        for rel in list(rels):
            if rel.get("Id") == rel_id:
                rels.remove(rel)
        files["xl/_rels/workbook.xml.rels"] = _bytes(rels)
        types = files["[Content_Types].xml"].decode()
        types = re.sub(rf'<Override PartName="/{re.escape(part)}"[^>]*/>', "", types)
        files["[Content_Types].xml"] = types.encode()
        del files[part]

    return edit_parts(data, edit)


def with_shared_strings(data: bytes) -> bytes:
    """Every inline string moved to a shared strings part, as Excel and LibreOffice save."""

    def edit(files: dict[str, bytes]) -> None:
        strings: dict[str, int] = {}
        for part in sheet_parts(files).values():
            root = _xml(files[part])
            for cell in root.iter(f"{{{NS}}}c"):
                if cell.get("t") != "inlineStr":
                    continue
                text = "".join(cell.itertext())
                for child in list(cell):
                    if child.tag != f"{{{NS}}}f":
                        cell.remove(child)
                cell.set("t", "s")
                etree.SubElement(cell, f"{{{NS}}}v").text = str(
                    strings.setdefault(text, len(strings))
                )
            files[part] = _bytes(root)
        sst = etree.Element(f"{{{NS}}}sst", count=str(len(strings)), uniqueCount=str(len(strings)))
        for text in strings:
            node = etree.SubElement(etree.SubElement(sst, f"{{{NS}}}si"), f"{{{NS}}}t")
            node.text = text
            if text != text.strip():
                node.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        files["xl/sharedStrings.xml"] = _bytes(sst)
        rels = (
            files["xl/_rels/workbook.xml.rels"]
            .decode()
            .replace(
                "</Relationships>",
                f'<Relationship Id="rIdSst" Type="{REL_NS}/sharedStrings" '
                'Target="sharedStrings.xml"/></Relationships>',
            )
        )
        files["xl/_rels/workbook.xml.rels"] = rels.encode()
        types = (
            files["[Content_Types].xml"]
            .decode()
            .replace(
                "</Types>",
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS_TYPE}"/>'
                "</Types>",
            )
        )
        files["[Content_Types].xml"] = types.encode()

    return edit_parts(data, edit)


def with_long_sheet(data: bytes, title: str, rows: int = 100_000, first: int = 200) -> bytes:
    """A sheet with `rows` more rows of text below the plan, from row `first` on."""

    def edit(files: dict[str, bytes]) -> None:
        part = sheet_parts(files)[title]
        text = files[part].decode()
        extra = "".join(
            f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>note {r}</t></is></c>'
            f'<c r="B{r}"><v>{r}</v></c></row>'
            for r in range(first, first + rows)
        )
        text = re.sub(r'<dimension ref="[^"]*"/>', "", text)
        files[part] = text.replace("</sheetData>", extra + "</sheetData>").encode()

    return edit_parts(data, edit)


# ---- hostile versions of a real workbook ------------------------------------------------

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "lol"}">' for i in range(10))


def as_macro_enabled(data: bytes) -> bytes:
    """Saved as an Excel Macro-Enabled Workbook (.xlsm), with a VBA project."""

    def edit(files: dict[str, bytes]) -> None:
        types = files["[Content_Types].xml"].decode().replace(XLSX_MAIN, XLSM_MAIN)
        files["[Content_Types].xml"] = types.replace(
            "</Types>",
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
        ).encode()
        rels = (
            files["xl/_rels/workbook.xml.rels"]
            .decode()
            .replace(
                "</Relationships>",
                '<Relationship Id="rIdVba" Target="vbaProject.bin" Type="http://schemas.microsoft'
                '.com/office/2006/relationships/vbaProject"/></Relationships>',
            )
        )
        files["xl/_rels/workbook.xml.rels"] = rels.encode()
        files["xl/vbaProject.bin"] = hostile.compound_file({"PROJECT": b"Module=Module1\r\n"})

    return edit_parts(data, edit)


def with_doctype(data: bytes, part: str, doctype: str, body_text: str = "") -> bytes:
    """A part with a document type declaration, its entity used in a cell if `body_text`."""

    def edit(files: dict[str, bytes]) -> None:
        name = sheet_parts(files).get(part, part)
        text = files[name].decode()
        head, sep, body = text.partition("?>") if text.startswith("<?xml") else ("", "", text)
        if body_text:
            body = body.replace(
                "</sheetData>",
                f'<row r="900"><c r="A900" t="inlineStr"><is><t>{body_text}</t></is></c></row>'
                "</sheetData>",
            )
        files[name] = (head + sep + doctype + body).encode()

    return edit_parts(data, edit)


def with_billion_laughs(data: bytes) -> bytes:
    """Shared strings whose one string expands to a billion "lol"s."""

    def edit(files: dict[str, bytes]) -> None:
        files["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0"?><!DOCTYPE sst [{LAUGHS}]><sst xmlns="{NS}" count="1" '
            'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
        ).encode()

    return edit_parts(with_shared_strings(data), edit)


def with_external_entity(data: bytes, url: str = "file:///etc/passwd") -> bytes:
    return with_doctype(
        data,
        "1 Contact Information",
        f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "{url}">]>',
        "&xxe;",
    )


# ---- the corpus --------------------------------------------------------------------------

Mutant = tuple[str, bytes]


BASES: dict[str, Callable[[], bytes]] = {
    "generated-school": lambda: generated(PlanKind.SCHOOL),
    "generated-district": lambda: generated(PlanKind.DISTRICT),
    "example-school": lambda: example(PlanKind.SCHOOL),
    "example-district": lambda: example(PlanKind.DISTRICT),
    "shared-strings-school": lambda: with_shared_strings(example(PlanKind.SCHOOL)),
}


@cache
def base_workbook(name: str) -> bytes:
    return BASES[name]()


@cache
def _base_parts(name: str) -> tuple[tuple[str, bytes], ...]:
    return tuple(parts(base_workbook(name)).items())


NUMBERS = (
    "1e308", "1e309", "-1e400", "9" * 400, "NaN", "nan", "-inf", "Infinity", "0x1A", "1_000",
    " 12 ", "", "1.7976931348623157e308", "-0", "4294967296", "1e-400", "١٢",
)  # fmt: skip
INDICES = ("-1", "99999", "abc", "1.5", "", "4294967296", "9" * 30, " 0")
CELL_TYPES = ("s", "n", "b", "str", "inlineStr", "e", "d", "bogus", None)
REFS = ("A0", "ZZZZ1", "A99999999999", "", "1A", "XFD1048576", "a1", "$A$1", "A-1")
ROW_NUMBERS = ("0", "-5", "abc", "1048577", "99999999999999999999", "", "1.5")
NAME_TEXTS = (
    "#REF!", "'Nope'!$A$1", "'4 Tiers of Support'!$A$1:$XFD$1048576", "garbage", "Sheet!$A$0",
    "", "'1 Contact Information'!$C$10,$C$11", "aip_meta!$A$1", "'2A Demographic Targets'!F6:F",
    "=1/0", "'''!$A$1",
)  # fmt: skip
DOCTYPES = (
    '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
    '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">',
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
)
ENCODINGS = ("STF-8", "utf-32", "utf-16", "rot13", "idna", "shift_jis", "cp037", "latin-1", "")
BAD_UTF8 = (b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x00")


def _xml_parts(files: list[tuple[str, bytes]]) -> list[int]:
    return [i for i, (name, _) in enumerate(files) if name.endswith((".xml", ".rels"))]


def _sheet_indexes(files: list[tuple[str, bytes]]) -> list[int]:
    return [i for i, (name, _) in enumerate(files) if name.startswith("xl/worksheets/")]


def _mutate_tree(
    rng: random.Random, files: list[tuple[str, bytes]], index: int, change: Callable
) -> bool:
    name, content = files[index]
    root = _xml(content)
    if change(rng, root) is False:
        return False
    files[index] = (name, _bytes(root))
    return True


def _delete_element(rng: random.Random, root: etree._Element) -> bool:
    nodes = [n for n in root.iter() if n is not root and isinstance(n.tag, str)]
    if not nodes:
        return False
    node = rng.choice(nodes)
    node.getparent().remove(node)
    return True


def _rename_element(rng: random.Random, root: etree._Element) -> bool:
    nodes = [n for n in root.iter() if isinstance(n.tag, str)]
    node = rng.choice(nodes)
    namespace = etree.QName(node).namespace
    local = rng.choice(["c", "row", "v", "t", "si", "sheet", "definedName", "x", "sheetData"])
    node.tag = f"{{{namespace}}}{local}" if namespace else local
    return True


def _cells(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(f"{{{NS}}}c"))


def _swap_type(rng: random.Random, root: etree._Element) -> bool:
    cells = _cells(root)
    if not cells:
        return False
    for cell in rng.sample(cells, min(len(cells), rng.randint(1, 5))):
        kind = rng.choice(CELL_TYPES)
        if kind is None:
            cell.attrib.pop("t", None)
        else:
            cell.set("t", kind)
    return True


def _odd_number(rng: random.Random, root: etree._Element) -> bool:
    cells = _cells(root)
    if not cells:
        return False
    for cell in rng.sample(cells, min(len(cells), rng.randint(1, 5))):
        for child in list(cell):
            cell.remove(child)
        cell.attrib.pop("t", None)
        etree.SubElement(cell, f"{{{NS}}}v").text = rng.choice(NUMBERS)
    return True


def _odd_index(rng: random.Random, root: etree._Element) -> bool:
    cells = [c for c in _cells(root) if c.get("t") == "s"]
    if not cells:
        return False
    for cell in rng.sample(cells, min(len(cells), rng.randint(1, 3))):
        value = cell.find(f"{{{NS}}}v")
        if value is None:
            value = etree.SubElement(cell, f"{{{NS}}}v")
        value.text = rng.choice(INDICES)
    return True


def _odd_reference(rng: random.Random, root: etree._Element) -> bool:
    if rng.random() < 0.5:
        cells = _cells(root)
        if not cells:
            return False
        rng.choice(cells).set("r", rng.choice(REFS))
    else:
        rows = list(root.iter(f"{{{NS}}}row"))
        if not rows:
            return False
        rng.choice(rows).set("r", rng.choice(ROW_NUMBERS))
    return True


def _odd_name(rng: random.Random, root: etree._Element) -> bool:
    names = list(root.iter(f"{{{NS}}}definedName"))
    if not names:
        return False
    for name in rng.sample(names, min(len(names), rng.randint(1, 4))):
        if rng.random() < 0.2:
            name.set("localSheetId", rng.choice(["0", "x", "-1", "99"]))
        else:
            name.text = rng.choice(NAME_TEXTS)
    return True


def _drop_relationship(rng: random.Random, root: etree._Element) -> bool:
    rels = list(root)
    if not rels:
        return False
    victim = rng.choice(rels)
    if rng.random() < 0.5:
        root.remove(victim)
    else:
        victim.set("Target", rng.choice(["worksheets/nope.xml", "", "/", "../../x.xml", "#"]))
    return True


def _drop_sheet_entry(rng: random.Random, root: etree._Element) -> bool:
    sheets = list(root.iter(f"{{{NS}}}sheet"))
    if not sheets:
        return False
    victim = rng.choice(sheets)
    if rng.random() < 0.5:
        victim.getparent().remove(victim)
    else:
        victim.set("name", rng.choice(["", "aip_meta", "1 Contact Information", "x" * 40]))
    return True


def _part_named(files: list[tuple[str, bytes]], name: str) -> int | None:
    return next((i for i, (n, _) in enumerate(files) if n == name), None)


def _byte_flips(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for at in rng.sample(range(len(out)), rng.randint(1, 8)):
        out[at] ^= 1 << rng.randrange(8)
    return bytes(out)


def _truncation(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(1, len(data))]


def _text_edit(rng: random.Random, files: list[tuple[str, bytes]]) -> str:
    """Damage at the byte level inside an XML part: a document type, bad UTF-8, a cut."""
    index = rng.choice(_xml_parts(files))
    name, content = files[index]
    choice = rng.randrange(4)
    if choice == 3:
        body = content.partition(b"?>")[2] if content.startswith(b"<?xml") else content
        declaration = f'<?xml version="1.0" encoding="{rng.choice(ENCODINGS)}"?>'
        files[index] = (name, declaration.encode() + body)
        return f"encoding:{name}"
    if choice == 0:
        head, sep, body = content.partition(b"?>")
        doctype = rng.choice(DOCTYPES).encode()
        files[index] = (name, head + sep + doctype + body if sep else doctype + content)
        return f"doctype:{name}"
    if choice == 1:
        at = content.rfind(b"</t>") if b"</t>" in content else rng.randrange(len(content))
        files[index] = (name, content[:at] + rng.choice(BAD_UTF8) + content[at:])
        return f"utf8:{name}"
    files[index] = (name, content[: rng.randrange(len(content))])
    return f"cut:{name}"


TREE_CHANGES: dict[str, tuple[Callable, Callable[[list[tuple[str, bytes]]], list[int]]]] = {
    "delete-element": (_delete_element, _xml_parts),
    "rename-element": (_rename_element, _xml_parts),
    "swap-type": (_swap_type, _sheet_indexes),
    "odd-number": (_odd_number, _sheet_indexes),
    "odd-reference": (_odd_reference, _sheet_indexes),
}
NAMED_PART_CHANGES: dict[str, tuple[Callable, str]] = {
    "odd-index": (_odd_index, ""),  # sheets of a base with shared strings
    "odd-name": (_odd_name, "xl/workbook.xml"),
    "drop-relationship": (_drop_relationship, "xl/_rels/workbook.xml.rels"),
    "drop-sheet-entry": (_drop_sheet_entry, "xl/workbook.xml"),
}

# How many mutants of each family every base gets.
PER_BASE = {
    "byte-flip": 30,
    "truncate": 18,
    "delete-entry": 0,  # every entry once
    "duplicate-entry": 4,
    "delete-element": 40,
    "rename-element": 16,
    "swap-type": 24,
    "odd-number": 16,
    "odd-reference": 12,
    "odd-index": 0,  # shared strings base only
    "odd-name": 14,
    "drop-relationship": 8,
    "drop-sheet-entry": 8,
    "text-edit": 18,
}
SHARED_STRINGS_INDEX_MUTANTS = 40


def _from_parts(
    base: str, rng: random.Random, family: str, files: list[tuple[str, bytes]]
) -> tuple[str, bytes] | None:
    if family in TREE_CHANGES:
        change, candidates = TREE_CHANGES[family]
        index = rng.choice(candidates(files))
        if not _mutate_tree(rng, files, index, change):
            return None
        return f"{family}:{files[index][0]}", rezip(files)
    if family in NAMED_PART_CHANGES:
        change, name = NAMED_PART_CHANGES[family]
        index = rng.choice(_sheet_indexes(files)) if not name else _part_named(files, name)
        if index is None or not _mutate_tree(rng, files, index, change):
            return None
        return f"{family}:{files[index][0]}", rezip(files)
    if family == "text-edit":
        what = _text_edit(rng, files)
        return what, rezip(files)
    raise ValueError(family)


def corpus(seed: int = 0, bases: Iterable[str] = BASES) -> Iterator[Mutant]:
    """Malformed workbooks, (id, bytes), made one at a time: at least 1,000 of them from all
    the `bases`, in about equal parts."""
    for base in bases:
        data = base_workbook(base)
        files = list(_base_parts(base))
        rng = random.Random(f"{seed}:{base}")
        for n in range(PER_BASE["byte-flip"]):
            yield f"{base}/byte-flip/{n}", _byte_flips(rng, data)
        for n in range(PER_BASE["truncate"]):
            yield f"{base}/truncate/{n}", _truncation(rng, data)
        for index, (name, _) in enumerate(files):
            yield f"{base}/delete-entry/{name}", rezip(files[:index] + files[index + 1 :])
        for n in range(PER_BASE["duplicate-entry"]):
            copy = rng.choice(files)
            yield f"{base}/duplicate-entry/{n}:{copy[0]}", rezip([*files, copy])
        families = [f for f in (*TREE_CHANGES, *NAMED_PART_CHANGES, "text-edit") if PER_BASE[f]]
        if base.startswith("shared-strings"):
            families.append("odd-index")
        for family in families:
            count = PER_BASE[family] or SHARED_STRINGS_INDEX_MUTANTS
            made = 0
            attempts = 0
            while made < count and attempts < count * 5:
                attempts += 1
                result = _from_parts(base, rng, family, list(files))
                if result is None:
                    continue
                what, mutant = result
                yield f"{base}/{what}/{made}", mutant
                made += 1
