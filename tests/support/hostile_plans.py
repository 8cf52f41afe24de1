"""Hostile variants of the signed example plan workbook, one builder per class of issue 9.

- tampering: a defined name redirected to other values, a formula in a locked cell that
  keeps the issued value as its cached result (`redirected`, `with_cached_formula`);
- a crash: issued values nested thousands deep in the metadata (`with_nested_metadata`);
- work: millions of tiny elements in a sheet or the workbook part, a row wider than Excel,
  elements nested deeper than Excel writes (`with_elements`, `with_wide_row`,
  `with_deep_nesting`);
- ambiguity: two sheets of one name, one cell or row twice, an external link declared only
  by a default content type or only by its relationship (`with_duplicate_sheet`,
  `with_duplicate_cell`, `with_duplicate_row`, `with_hidden_external_link`);
- benign additions a coordinator makes: a pasted photo, a shape, a comment, printer
  settings, a changed theme (`with_pasted_picture`).

Each edits the parts of a real workbook (tests.support.mutate) and is built in well under a
second, except the "tens of millions of elements" files, built only by the benchmark.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable

from lxml import etree
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from PIL import Image as PILImage

from aip_forms.spec import META_SHEET
from tests.support import mutate
from tests.support.mutate import NS, CellInput, Formula, edit_parts, sheet_parts

REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
EXTERNAL_LINK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
PRINTER_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"


def _add_to(files: dict[str, bytes], part: str, before: str, text: str) -> None:
    content = files[part].decode()
    assert before in content, f"{before!r} not in {part}"
    files[part] = content.replace(before, text + before, 1).encode()


def _declare(files: dict[str, bytes], declaration: str) -> None:
    """Add a Default or Override to [Content_Types].xml."""
    _add_to(files, "[Content_Types].xml", "</Types>", declaration)


def _relate(files: dict[str, bytes], rels: str, rid: str, kind: str, target: str) -> None:
    relationship = f'<Relationship Id="{rid}" Type="{REL}/{kind}" Target="{target}"/>'
    _add_to(files, rels, "</Relationships>", relationship)


# ---- class 1: signed values changed --------------------------------------------------------


def redirected(
    data: bytes, name: str, target: str, values: dict[tuple[str, str], CellInput]
) -> bytes:
    """The defined name `name` pointed at `target` (e.g. "'1 Contact Information'!$E$20"),
    where `values` were written: what a reader following names would take for the plan."""
    return mutate.with_cells(mutate.with_names(data, {name: target}), values)


def cached_formula(text: str, cached: CellInput) -> Formula:
    """A formula whose saved result is `cached`: Excel shows the result, not the formula."""
    formula = Formula(text)
    formula.cached = cached
    return formula


def with_cached_formula(data: bytes, sheet: str, ref: str, text: str, cached: CellInput) -> bytes:
    return mutate.with_cells(data, {(sheet, ref): cached_formula(text, cached)})


# ---- class 2: a crash before the signature -------------------------------------------------


def with_nested_metadata(data: bytes, depth: int = 5000) -> bytes:
    """The issued values replaced by a list nested `depth` deep (no key needed)."""
    book = mutate.load(data)
    sheet = book[META_SHEET]
    sheet.cell(mutate.meta_row(book, "prefilled_parts"), 2).value = "1"
    sheet.cell(mutate.meta_row(book, "prefilled_1"), 2).value = "[" * depth + "]" * depth
    return mutate.save(book)


# ---- class 3: work, not bytes --------------------------------------------------------------


def tiny_elements(count: int) -> bytes:
    """`count` small elements that do not compress like a bomb (each differs)."""
    return b"".join(b'<x n="%d"/>' % i for i in range(count))


def with_elements(data: bytes, part: str, count: int) -> bytes:
    """`count` elements added to a sheet (by title) or to any part (by name), inside its root."""

    def edit(files: dict[str, bytes]) -> None:
        name = sheet_parts(files).get(part, part)
        content = files[name]
        end = content.rindex(b"</")
        files[name] = content[:end] + tiny_elements(count) + content[end:]

    return edit_parts(data, edit)


def with_wide_row(data: bytes, sheet: str, row: int, cells: int) -> bytes:
    """Row `row` of `sheet` given `cells` empty cells, numbered by position."""

    def edit(files: dict[str, bytes]) -> None:
        name = sheet_parts(files)[sheet]
        text = files[name].decode()
        found = re.search(rf'<row r="{row}"[^>]*>', text)
        assert found, f"no row {row} in {sheet}"
        files[name] = (text[: found.end()] + "<c/>" * cells + text[found.end() :]).encode()

    return edit_parts(data, edit)


def with_deep_nesting(data: bytes, sheet: str, depth: int) -> bytes:
    def edit(files: dict[str, bytes]) -> None:
        name = sheet_parts(files)[sheet]
        nested = "<x>" * depth + "</x>" * depth
        _add_to(files, name, "</sheetData>", nested)

    return edit_parts(data, edit)


# ---- class 4: ambiguous structure ----------------------------------------------------------


def with_duplicate_sheet(
    data: bytes,
    title: str,
    values: dict[str, CellInput],
    state: str = "hidden",
    named: str | None = None,
) -> bytes:
    """A second sheet named `title` (or `named`: another case of it), after the first: a copy
    of it with `values` changed."""
    changed = mutate.with_cells(data, {(title, ref): v for ref, v in values.items()})
    copy = mutate.parts(changed)[sheet_parts(mutate.parts(changed))[title]]

    def edit(files: dict[str, bytes]) -> None:
        files["xl/worksheets/sheet99.xml"] = copy
        _add_to(
            files,
            "xl/workbook.xml",
            "</sheets>",
            f'<sheet xmlns:r="{REL}" name="{named or title}" sheetId="99" state="{state}" '
            'r:id="rId99"/>',
        )
        _relate(files, "xl/_rels/workbook.xml.rels", "rId99", "worksheet", "worksheets/sheet99.xml")
        _declare(
            files,
            f'<Override PartName="/xl/worksheets/sheet99.xml" ContentType="{WORKSHEET_TYPE}"/>',
        )

    return edit_parts(data, edit)


def _edit_row(
    data: bytes, sheet: str, row: int, edit_row: Callable[[etree._Element], None]
) -> bytes:
    def edit(files: dict[str, bytes]) -> None:
        name = sheet_parts(files)[sheet]
        root = etree.fromstring(files[name])
        element = next(r for r in root.iter(f"{{{NS}}}row") if r.get("r") == str(row))
        edit_row(element)
        files[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return edit_parts(data, edit)


def with_duplicate_cell(data: bytes, sheet: str, ref: str, value: str) -> bytes:
    """Cell `ref` written a second time, after the first, with `value`: the last one wins in
    a reader that keeps the last."""
    row = int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))

    def add(element: etree._Element) -> None:
        cell = etree.SubElement(element, f"{{{NS}}}c", r=ref, t="inlineStr")
        etree.SubElement(etree.SubElement(cell, f"{{{NS}}}is"), f"{{{NS}}}t").text = value

    return _edit_row(data, sheet, row, add)


def with_duplicate_row(data: bytes, sheet: str, row: int) -> bytes:
    def add(element: etree._Element) -> None:
        copy = etree.fromstring(etree.tostring(element))
        element.addnext(copy)

    return _edit_row(data, sheet, row, add)


def with_hidden_external_link(data: bytes, declared: str = "default") -> bytes:
    """A link to another workbook in a part with an unusual name. `declared`: "default" (its
    content type only by a Default for its extension) or "relationship" (a benign content
    type: only the workbook's relationship says it is a link)."""
    content_type = EXTERNAL_LINK_TYPE if declared == "default" else "application/xml"
    link = (
        f'<externalLink xmlns="{NS}" xmlns:r="{REL}"><externalBook r:id="rId1">'
        '<sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>'
    ).encode()

    def edit(files: dict[str, bytes]) -> None:
        files["xl/misc/book.lnk"] = link
        _declare(files, f'<Default Extension="lnk" ContentType="{content_type}"/>')
        _relate(files, "xl/_rels/workbook.xml.rels", "rId98", "externalLink", "misc/book.lnk")

    return edit_parts(data, edit)


# ---- class 5: benign additions -------------------------------------------------------------

CHUNK = 64 * 1024


def photo(size: int = 3 * CHUNK, seed: int = 9) -> bytes:
    """A JPEG of noise at least `size` bytes long, with "<" opening each 64 KiB chunk after
    the first (bytes inside the entropy-coded data: still a JPEG to any viewer's parser)."""
    rng = random.Random(seed)
    side = 64
    while True:
        pixels = bytes(rng.randrange(256) for _ in range(side * side * 3))
        out = io.BytesIO()
        PILImage.frombytes("RGB", (side, side), pixels).save(out, "JPEG", quality=95)
        if len(out.getvalue()) >= size:
            break
        side *= 2
    jpeg = bytearray(out.getvalue())
    for at in range(CHUNK, len(jpeg) - 2, CHUNK):
        jpeg[at] = ord("<")
    return bytes(jpeg)


def printer_settings() -> bytes:
    """A DEVMODE: a UTF-16 device name first, which looks like UTF-16 text to a sniffer."""
    return "<Microsoft Print to PDF>".encode("utf-16-le").ljust(64, b"\0") + bytes(range(256)) * 4


SHAPE = (
    '<xdr:twoCellAnchor xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
    'spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
    "<xdr:from><xdr:col>6</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row>"
    "<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>8</xdr:col><xdr:colOff>0"
    "</xdr:colOff><xdr:row>4</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
    '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="9" name="Rectangle 8"/>'
    '<xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
    "</xdr:spPr><xdr:txBody><a:bodyPr/><a:p><a:r><a:t>Draft</a:t></a:r></a:p></xdr:txBody>"
    "</xdr:sp><xdr:clientData/></xdr:twoCellAnchor>"
)


def with_pasted_picture(data: bytes, sheet: str = "1 Contact Information") -> bytes:
    """What a coordinator may add: a photo (logo), a shape with text, a comment, printer
    settings, another theme colour. None of it is part of the plan."""
    book = mutate.load(data)
    worksheet = book[sheet]
    picture = Image(io.BytesIO(photo()))
    worksheet.add_image(picture, "F2")
    worksheet["E3"].comment = Comment("Logo from the district office", "Coordinator")
    pasted = mutate.save(book)
    jpeg = photo()

    def edit(files: dict[str, bytes]) -> None:
        media = [n for n in files if n.startswith("xl/media/")]
        assert media, "openpyxl wrote no picture"
        files[media[0]] = jpeg  # the bytes as pasted, "<" at each chunk
        drawing = next(n for n in files if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n))
        _add_to(files, drawing, "</wsDr>", SHAPE)
        theme = files["xl/theme/theme1.xml"].decode()
        recoloured = re.sub(
            r'(<a:accent1>\s*<a:srgbClr val=")[0-9A-Fa-f]{6}', r"\g<1>8B0000", theme, count=1
        )
        assert recoloured != theme
        files["xl/theme/theme1.xml"] = recoloured.encode()
        files["xl/printerSettings/printerSettings1.bin"] = printer_settings()
        _declare(files, f'<Default Extension="bin" ContentType="{PRINTER_TYPE}"/>')
        part = sheet_parts(files)[sheet]
        folder, _, base = part.rpartition("/")
        rels = f"{folder}/_rels/{base}.rels"
        target = "../printerSettings/printerSettings1.bin"
        _relate(files, rels, "rIdPrint", "printerSettings", target)

    return edit_parts(pasted, edit)
