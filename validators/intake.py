"""Intake: is an upload a plain Excel workbook that is safe to read?

`check_upload` looks at the bytes only, before any spreadsheet library touches them. It
recognises other formats by their content, whatever the file name says, and says what to upload
instead; checks the zip and every XML part against hard limits (`validators.safety`); and
refuses macros, links to outside files and data, and embedded objects. It returns a
`SafeWorkbook` for the reader or raises UnreadableWorkbook with every problem found.

`assert_openpyxl_safe` is called before anything opens an upload with openpyxl (annotated copies).
"""

from __future__ import annotations

import io
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from validators.problems import Problem, UnreadableWorkbook, problem
from validators.safety import (
    CONTENT_TYPES_PART,
    WORKBOOK_PART,
    Archive,
    IntakeLimits,
    OutsideReference,
    PackageFacts,
    ZipEntry,
    megabytes,
    open_archive,
    read_parts,
    work_clock,
)

__all__ = [
    "DEFAULT_LIMITS",
    "IntakeLimits",
    "SafeWorkbook",
    "ZipEntry",
    "assert_openpyxl_safe",
    "check_upload",
]

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLTX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
TRANSITIONAL_WORKBOOK = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}workbook"
STRICT_NAMESPACE = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True)
class SafeWorkbook:
    """An upload that passed intake: an .xlsx package, ready for openpyxl."""

    data: bytes = field(repr=False)
    filename: str | None
    entries: tuple[ZipEntry, ...]
    warnings: tuple[Problem, ...] = ()
    deadline: float | None = None  # work_clock() by which reading it must be done

    def open(self) -> io.BytesIO:
        """A fresh file object over the bytes, for `openpyxl.load_workbook`."""
        return io.BytesIO(self.data)


DEFAULT_LIMITS = IntakeLimits()


def check_upload(
    data: bytes, filename: str | None = None, limits: IntakeLimits = DEFAULT_LIMITS
) -> SafeWorkbook:
    """The upload as a SafeWorkbook, or UnreadableWorkbook saying every reason it is not one.

    The file name decides nothing (files are judged by content); it only earns a warning when
    it does not end in .xlsx.
    """
    deadline = work_clock() + limits.max_seconds
    _refuse_other_formats(data, limits)
    archive = open_archive(data, limits)
    if CONTENT_TYPES_PART not in archive.names:
        mimetype = read_parts(archive, limits, only={"mimetype"}).heads.get("mimetype", b"")
        code = "INTAKE_ODS" if mimetype.startswith(ODS_MIMETYPE) else "INTAKE_NOT_XLSX"
        raise UnreadableWorkbook([problem(code)])
    facts = read_parts(archive, limits)
    problems = _at_most(10, [*facts.problems, *_package_problems(archive, facts)])
    if problems:
        raise UnreadableWorkbook(problems)
    warnings = tuple(_name_warnings(filename))
    return SafeWorkbook(data, filename, archive.entries, warnings, deadline)


def assert_openpyxl_safe() -> None:
    """Raise RuntimeError unless openpyxl parses workbooks with defusedxml.

    openpyxl decides once, at import: defusedxml must be installed and the environment
    variable OPENPYXL_DEFUSEDXML must not be "False". Intake and validation never open an
    upload with openpyxl; whatever does (annotated copies, revision workbooks) calls this
    first, and so imports openpyxl only then.
    """
    import openpyxl.xml
    from openpyxl.xml import functions as openpyxl_xml_functions

    parser_module = getattr(openpyxl_xml_functions.iterparse, "__module__", "") or ""
    if not openpyxl.xml.DEFUSEDXML or not parser_module.startswith("defusedxml"):
        raise RuntimeError(
            "openpyxl is not using defusedxml, so uploaded workbooks are not safe to read: "
            "install defusedxml and unset OPENPYXL_DEFUSEDXML."
        )


# ---- formats other than a zip ------------------------------------------------------------

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
# Bytes that appear in text; `file(1)` judges text the same way.
_TEXT_BYTES = bytes([7, 8, 9, 10, 11, 12, 13, 27, *range(0x20, 0x7F), *range(0x80, 0x100)])


def _refuse_other_formats(data: bytes, limits: IntakeLimits) -> None:
    if not data:
        raise UnreadableWorkbook([problem("INTAKE_EMPTY")])
    if len(data) > limits.max_upload_bytes:
        size, limit = megabytes(len(data)), megabytes(limits.max_upload_bytes)
        raise UnreadableWorkbook([problem("INTAKE_TOO_LARGE", size=size, limit=limit)])
    if data.startswith(_ZIP_SIGNATURES):
        return
    if data.startswith(_OLE2_SIGNATURE):
        code = _compound_file_code(_compound_file_names(data))
    elif data.startswith(_BIFF_SIGNATURES):
        code = "INTAKE_XLS_OLD"
    elif picture := _picture_kind(data):
        raise UnreadableWorkbook([problem("INTAKE_PICTURE", kind=picture)])
    elif b"%PDF-" in data[:1024]:
        code = "INTAKE_PDF"
    elif _looks_like_text(data[:4096]):
        code = "INTAKE_CSV"
    else:
        code = "INTAKE_NOT_ZIP"
    raise UnreadableWorkbook([problem(code)])


# The BOF record that opens an Excel 2.x, 3.0 or 4.0 worksheet or workbook (BIFF2-4 are not
# compound files; BIFF5 and later are, with a "Book" or "Workbook" stream).
_BIFF_SIGNATURES = (b"\x09\x00\x04\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08")

_PICTURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"\xd7\xcd\xc6\x9a", "WMF"),
)


def _picture_kind(data: bytes) -> str | None:
    # An EMF starts with record type 1 and holds " EMF" at byte 40; it may embed a PDF's
    # marker in its description, so it is recognised before PDFs.
    if data.startswith(b"\x01\x00\x00\x00") and data[40:44] == b" EMF":
        return "EMF"
    return next((kind for magic, kind in _PICTURES if data.startswith(magic)), None)


def _looks_like_text(sample: bytes) -> bool:
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, as Excel's "Unicode Text"
        return True
    control = len(sample.translate(None, _TEXT_BYTES))
    return control * 100 <= len(sample)


def _compound_file_code(names: frozenset[str]) -> str:
    """Excel 97-2003 workbooks and password-protected .xlsx are both OLE2 compound files."""
    if {"encryptioninfo", "encryptedpackage"} <= names:
        return "INTAKE_ENCRYPTED"
    if "workbook" in names or not names:
        return "INTAKE_XLS"
    if "book" in names:  # Excel 5.0/95 (BIFF5) names its stream "Book"
        return "INTAKE_XLS_OLD"
    return "INTAKE_NOT_ZIP"  # a Word document, an Outlook message ...


_LAST_REGULAR_SECTOR = 0xFFFFFFFA


def _compound_file_names(data: bytes) -> frozenset[str]:
    """The casefolded stream and storage names in a compound file's directory; empty if
    unreadable. Every offset comes from the upload, so every read is bounded."""
    if len(data) < 512:
        return frozenset()
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        return frozenset()
    size = 1 << shift
    fat_sectors = [s for s in struct.unpack_from("<109L", data, 0x4C) if s < _LAST_REGULAR_SECTOR]

    def sector(number: int) -> bytes:
        return data[(number + 1) * size : (number + 2) * size]

    def following(number: int) -> int:
        per_sector = size // 4
        index, slot = divmod(number, per_sector)
        table = sector(fat_sectors[index]) if index < len(fat_sectors) else b""
        return int.from_bytes(table[slot * 4 : slot * 4 + 4], "little") if table else -1

    names: set[str] = set()
    visited: set[int] = set()
    current = struct.unpack_from("<L", data, 0x30)[0]
    most = len(data) // size  # a chain cannot be longer than the file
    while 0 <= current < _LAST_REGULAR_SECTOR and current not in visited and len(visited) < most:
        visited.add(current)
        block = sector(current)
        for at in range(0, len(block) - 127, 128):
            length, kind = struct.unpack_from("<HB", block, at + 0x40)
            if kind in (1, 2) and 2 <= length <= 64:  # a storage or a stream
                names.add(block[at : at + length - 2].decode("utf-16-le", "replace").casefold())
        current = following(current)
    return frozenset(names)


# ---- the package -------------------------------------------------------------------------


def _package_problems(archive: Archive, facts: PackageFacts) -> Iterator[Problem]:
    types = facts.content_types
    if types is None:
        return  # [Content_Types].xml failed its own checks, already reported
    for repeated in sorted(types.repeated):
        reason = f"declares {repeated} twice"
        yield problem("INTAKE_XML_MALFORMED", part=CONTENT_TYPES_PART, reason=reason)
    # [Content_Types].xml is the package's index, not a part: no declaration applies to it
    # (the OpenXML SDK declares every .xml part the workbook's main type by default).
    kinds = {
        name: types.of(name).casefold() for name in archive.names if name != CONTENT_TYPES_PART
    }
    yield from _format_problems(kinds, facts)
    by_part = list(_part_problems(kinds))
    yield from by_part
    # A relationship brings in code, a file or data whatever its part is called or declares;
    # said once, unless a part already said it.
    said = {found.code for found in by_part}
    for link in facts.linking_relationships:
        found = _linking_problem(link)
        if found.code not in said:
            said.add(found.code)
            yield found
    for reference in facts.outside_references:
        if not reference.rels_part.casefold().startswith("xl/externallinks/"):
            source = _source_part(reference.rels_part)
            target = reference.target
            yield problem("INTAKE_EXTERNAL_TARGET", part=source, target=target, value=target)


def _part_problems(kinds: dict[str, str]) -> Iterator[Problem]:
    for name, kind in sorted(kinds.items()):
        folded = name.casefold()
        if folded.endswith(".rels") or "sheet.binary" in kind:
            continue
        if _is_active(folded, kind):
            yield problem("INTAKE_MACRO", part=name)
        elif folded.startswith("xl/embeddings/") or "oleobject" in kind:
            yield problem("INTAKE_EMBEDDED_OBJECT", part=name)
        elif _is_link(folded, kind):
            yield problem("INTAKE_EXTERNAL_LINK", part=name)


def _format_problems(kinds: dict[str, str], facts: PackageFacts) -> Iterator[Problem]:
    if any("sheet.binary" in kind for kind in kinds.values()) or "xl/workbook.bin" in {
        name.casefold() for name in kinds
    }:
        yield problem("INTAKE_XLSB")
        return
    workbook = kinds.get(WORKBOOK_PART, "")
    other_main = [n for n, kind in kinds.items() if ".main" in kind and n != WORKBOOK_PART]
    if "macroenabled" in workbook:
        return  # reported as INTAKE_MACRO
    if workbook not in (XLSX_MAIN, XLTX_MAIN) or other_main:
        yield problem("INTAKE_NOT_XLSX")
    elif facts.workbook_root is not None and facts.workbook_root.startswith(STRICT_NAMESPACE):
        yield problem("INTAKE_STRICT")
    elif facts.workbook_root not in (None, TRANSITIONAL_WORKBOOK):
        yield problem("INTAKE_NOT_XLSX")


def _is_active(name: str, kind: str) -> bool:
    """Macros (VBA, Excel 4.0 macro sheets, macro-enabled main parts) and ActiveX controls."""
    if "vbaproject" in name or name.startswith(("xl/macrosheets/", "xl/activex/")):
        return True
    return any(mark in kind for mark in ("vbaproject", "macrosheet", "macroenabled", "activex"))


def _is_link(name: str, kind: str) -> bool:
    """Links to other workbooks, and data connections (databases, web queries)."""
    if name.startswith("xl/externallinks/") or name == "xl/connections.xml":
        return True
    return "externallink" in kind or "spreadsheetml.connections" in kind


def _linking_problem(link: OutsideReference) -> Problem:
    """A relationship that brings in code, another file or data, however its part is named."""
    kind = link.kind.casefold()
    part = _source_part(link.rels_part)
    if "vba" in kind or "macro" in kind or "activex" in kind or kind == "control":
        return problem("INTAKE_MACRO", part=part)
    if kind in ("oleobject", "package", "frame"):
        return problem("INTAKE_EMBEDDED_OBJECT", part=part)
    return problem("INTAKE_EXTERNAL_LINK", part=f"{part}, {link.kind}")


def _source_part(rels_part: str) -> str:
    """xl/drawings/_rels/drawing1.xml.rels describes xl/drawings/drawing1.xml."""
    folder, _, name = rels_part.rpartition("_rels/")
    return folder + name.removesuffix(".rels") if name.endswith(".rels") else rels_part


def _at_most(count: int, problems: Iterable[Problem]) -> list[Problem]:
    """Each problem once, and a few of each code: a hostile file can hold hundreds."""
    seen: Counter[str] = Counter()
    kept = []
    for found in dict.fromkeys(problems):
        seen[found.code] += 1
        if seen[found.code] <= count:
            kept.append(found)
    return kept


def _name_warnings(filename: str | None) -> Iterator[Problem]:
    if filename is None:
        return
    base = filename.replace("\\", "/").rpartition("/")[2]
    if not base.casefold().endswith(".xlsx"):
        yield problem("INTAKE_RENAMED", filename=base)
