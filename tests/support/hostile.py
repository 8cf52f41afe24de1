"""Builders of hostile uploads for the intake tests, each made in code, small and fast.

`raw_zip` writes zips with whatever sizes, checksums, names and flags it is given (zipfile
refuses to write lying directories); `compound_file` writes a minimal OLE2 compound file, the
container of Excel 97-2003 workbooks and of password-protected .xlsx files. The bombs inflate
to a gigabyte but are built in about a megabyte, without a gigabyte ever in memory.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from openpyxl import Workbook

GiB = 1 << 30
MiB = 1 << 20

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSB_MAIN = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# ---- a real workbook and edits to it -----------------------------------------------------


@cache
def workbook() -> bytes:
    """A small valid workbook, as openpyxl writes it (with shared strings)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "1. Contact"
    sheet["B2"] = "LEA Name"
    sheet["C2"] = "Belen Consolidated Schools"
    sheet["C3"] = 42
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: Mapping[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def edited(changes: Mapping[str, bytes | None], base: bytes | None = None) -> bytes:
    """The workbook with parts replaced or added (bytes) or removed (None)."""
    files = parts(base if base is not None else workbook())
    for name, content in changes.items():
        if content is None:
            files.pop(name, None)
        else:
            files[name] = content
    return rezip(files)


def _add(part: str, old: str, new: str, files: Mapping[str, bytes] | None = None) -> bytes:
    """A part of the workbook with `old` text replaced by `new` (which may append to it)."""
    text = (files or parts(workbook()))[part].decode()
    assert old in text, f"{old!r} not in {part}"
    return text.replace(old, new, 1).encode()


def _override(part: str, content_type: str) -> str:
    return f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'


# ---- raw zips ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RawEntry:
    name: str
    payload: bytes  # the data as stored: already deflated when method is 8
    size: int  # the uncompressed size the directory declares
    crc: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0


def deflate(content: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(content) + packer.flush()


def entry(name: str, content: bytes, **overrides: int) -> RawEntry:
    """An honest deflated entry; keyword arguments make it lie (size, crc, method, flags)."""
    fields = {"size": len(content), "crc": zlib.crc32(content), **overrides}
    return RawEntry(name, deflate(content), **fields)


def workbook_entries(base: bytes | None = None) -> list[RawEntry]:
    return [entry(name, content) for name, content in parts(base or workbook()).items()]


def _local_record(item: RawEntry) -> bytes:
    name = item.name.encode()
    header = struct.pack(
        "<4s5H3L2H",
        b"PK\x03\x04",
        20,
        item.flags,
        item.method,
        0,
        0x21,
        item.crc,
        len(item.payload),
        item.size,
        len(name),
        0,
    )
    return header + name + item.payload


def _central_record(item: RawEntry, offset: int) -> bytes:
    name = item.name.encode()
    header = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        20,
        20,
        item.flags,
        item.method,
        0,
        0x21,
        item.crc,
        len(item.payload),
        item.size,
        len(name),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    return header + name


def _end_record(count: int, directory_size: int, directory_offset: int) -> bytes:
    return struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, 0
    )


def raw_zip(entries: Sequence[RawEntry]) -> bytes:
    body = bytearray()
    offsets = []
    for item in entries:
        offsets.append(len(body))
        body += _local_record(item)
    directory = b"".join(_central_record(i, o) for i, o in zip(entries, offsets, strict=True))
    return bytes(body) + directory + _end_record(len(entries), len(directory), len(body))


# ---- compound files (OLE2) ---------------------------------------------------------------

_FREE, _END, _FAT, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _directory_entry(
    name: str,
    kind: int,
    *,
    right: int = _NONE,
    child: int = _NONE,
    start: int = _END,
    size: int = 0,
) -> bytes:
    encoded = name.encode("utf-16-le")
    return struct.pack(
        "<64sHBBLLL16sLQQLQ",
        encoded,
        len(encoded) + 2,
        kind,
        1,  # black
        _NONE,
        right,
        child,
        b"",
        0,
        0,
        0,
        start,
        size,
    )


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """A version 3 compound file whose root storage holds `streams`. Each stream is padded to
    4,096 bytes so it sits in regular sectors and no mini stream is needed."""
    sector = 512
    bodies = {name: content.ljust(4096, b"\0") for name, content in streams.items()}
    names = sorted(bodies, key=lambda n: (len(n), n.upper()))  # the directory's sort order
    fat = [_FAT]

    def chain(count: int) -> int:
        start = len(fat)
        fat.extend(range(start + 1, start + count))
        fat.append(_END)
        return start

    directory_sectors = -(-(1 + len(names)) * 128 // sector)
    directory_start = chain(directory_sectors)
    starts = {name: chain(-(-len(bodies[name]) // sector)) for name in names}
    assert len(fat) <= sector // 4, "one FAT sector only"
    fat += [_FREE] * (sector // 4 - len(fat))

    entries = [_directory_entry("Root Entry", 5, child=1 if names else _NONE)]
    for index, name in enumerate(names):
        right = index + 2 if index + 1 < len(names) else _NONE
        entries.append(
            _directory_entry(name, 2, right=right, start=starts[name], size=len(bodies[name]))
        )
    header = struct.pack(
        "<8s16s5H6s9L",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"",
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"",
        0,
        1,
        directory_start,
        0,
        4096,
        _END,
        0,
        _END,
        0,
    ) + struct.pack("<109L", 0, *[_FREE] * 108)
    directory = b"".join(entries).ljust(directory_sectors * sector, b"\0")
    streams_data = b"".join(
        bodies[name].ljust(-(-len(bodies[name]) // 512) * 512, b"\0") for name in names
    )
    return header + struct.pack(f"<{sector // 4}L", *fat) + directory + streams_data


def legacy_xls() -> bytes:
    """An Excel 97-2003 workbook's container: a Workbook stream of BIFF8 records."""
    bof = struct.pack("<HH8H", 0x0809, 16, 0x0600, 0x0005, 0, 0, 0, 0, 0, 0)
    return compound_file({"Workbook": bof, "\x05SummaryInformation": b"\xfe\xff"})


def old_xls(version: int) -> bytes:
    """A workbook of Excel 2.x (2), 3.0 (3), 4.0 (4): BIFF records, no container; or of
    Excel 5.0/95 (5): BIFF5 in a compound file's "Book" stream."""
    if version == 5:
        bof = struct.pack("<HH4H", 0x0809, 8, 0x0500, 0x0005, 0, 0)
        return compound_file({"Book": bof})
    record = {2: 0x0009, 3: 0x0209, 4: 0x0409}[version]
    bof = struct.pack("<HH", record, 6 if version > 2 else 4) + b"\x00\x00\x10\x00\x00\x00"
    return bof[: 4 + (6 if version > 2 else 4)] + b"\x0a\x00\x00\x00"  # BOF then EOF


def emf(pdf_marker: bool = True) -> bytes:
    """An enhanced metafile (a picture); programs write their name into its description,
    which may well contain "%PDF-"."""
    description = "Acrobat %PDF-1.7 export\0\0".encode("utf-16-le") if pdf_marker else b""
    header = struct.pack("<LL4l4l", 1, 108 + len(description), 0, 0, 100, 100, 0, 0, 2540, 2540)
    header += b" EMF" + struct.pack("<LLLHHLLL", 0x10000, 1000, 3, 0, 0, 0, 0, 0)
    return header.ljust(108, b"\0") + description + b"\x0e\x00\x00\x00" + bytes(16)


def encrypted_xlsx() -> bytes:
    """A password-protected .xlsx: Excel wraps the encrypted package in a compound file."""
    info = struct.pack("<HHL", 4, 4, 0x40) + b"<encryption/>"  # agile encryption, version 4.4
    package = struct.pack("<Q", 9000) + random.Random(7).randbytes(2048)
    return compound_file({"EncryptionInfo": info, "EncryptedPackage": package})


def word_97_document() -> bytes:
    return compound_file({"WordDocument": b"\xec\xa5", "1Table": b""})


# ---- other formats -----------------------------------------------------------------------


def random_bytes(size: int = 4096, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def truncated() -> bytes:
    data = workbook()
    return data[: len(data) // 2]


def csv_text() -> bytes:
    return b"first_name,last_name,email\r\nKristin,Garcia,garcia@belen.k12.nm.us\r\n"


def utf16_text() -> bytes:
    """Excel's "Unicode Text" export: tab-separated UTF-16 with a byte order mark."""
    return "\ufefffirst_name\tlast_name\r\nKristin\tGarcia\r\n".encode("utf-16-le")


def pdf() -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def ods() -> bytes:
    """An OpenDocument spreadsheet: its first entry is an uncompressed `mimetype`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(
            "content.xml",
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            'office:1.0" office:version="1.3"/>',
            zipfile.ZIP_DEFLATED,
        )
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0"/>',
            zipfile.ZIP_DEFLATED,
        )
    return out.getvalue()


def plain_zip() -> bytes:
    return rezip({"plan/notes.txt": b"see attached", "plan/plan.csv": csv_text()})


def word_document() -> bytes:
    """A .docx: an OOXML package whose main part is a Word document."""
    doc_main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return rezip(
        {
            "[Content_Types].xml": (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="xml" ContentType="application/xml"/>'
                + _override("word/document.xml", doc_main)
            ).encode(),
            "word/document.xml": b'<w:document xmlns:w="urn:w"/>',
        }
    )


# ---- workbooks with forbidden content ----------------------------------------------------


def macro_workbook() -> bytes:
    """An .xlsm: macro-enabled main part, a vbaProject.bin and the relationship to it."""
    files = parts(workbook())
    types = _add("[Content_Types].xml", XLSX_MAIN, XLSM_MAIN, files).decode()
    types = types.replace(
        "</Types>",
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    rels = _add(
        "xl/_rels/workbook.xml.rels",
        "</Relationships>",
        '<Relationship Id="rIdVba" Target="vbaProject.bin" '
        'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"/>'
        "</Relationships>",
        files,
    )
    vba = compound_file({"PROJECT": b'ID="{00000000}"\r\nModule=Module1\r\n', "dir": b"\x01"})
    return edited(
        {
            "[Content_Types].xml": types.encode(),
            "xl/_rels/workbook.xml.rels": rels,
            "xl/vbaProject.bin": vba,
        }
    )


def binary_workbook() -> bytes:
    """An .xlsb: the main part is xl/workbook.bin, a binary record stream."""
    return rezip(
        {
            "[Content_Types].xml": (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                'relationships+xml"/>' + _override("xl/workbook.bin", XLSB_MAIN)
            ).encode(),
            "_rels/.rels": (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                'Target="xl/workbook.bin"/></Relationships>'
            ).encode(),
            "xl/workbook.bin": b"\x83\x01\x00\x80\x01\x00",
        }
    )


def external_links() -> bytes:
    """A workbook whose formulas refer to another workbook on a file share."""
    files = parts(workbook())
    link_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"
    return edited(
        {
            "[Content_Types].xml": _add(
                "[Content_Types].xml",
                "</Types>",
                _override("xl/externalLinks/externalLink1.xml", link_type),
                files,
            ),
            "xl/_rels/workbook.xml.rels": _add(
                "xl/_rels/workbook.xml.rels",
                "</Relationships>",
                f'<Relationship Id="rIdLink" Type="{REL}/externalLink" '
                'Target="externalLinks/externalLink1.xml"/></Relationships>',
                files,
            ),
            "xl/externalLinks/externalLink1.xml": (
                f'<externalLink xmlns="{SPREADSHEET_NS}" xmlns:r="{REL}">'
                '<externalBook r:id="rId1"/></externalLink>'
            ).encode(),
            "xl/externalLinks/_rels/externalLink1.xml.rels": (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'relationships"><Relationship Id="rId1" Type="{REL}/externalLinkPath" '
                'Target="file:///\\\\fileserver\\aip\\budget.xlsx" TargetMode="External"/>'
                "</Relationships>"
            ).encode(),
        }
    )


def linked_picture(target: str = "\\\\203.0.113.9\\share\\logo.png") -> bytes:
    """A drawing whose picture Excel would fetch from outside the file when opened."""
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/hyperlink" Target="https://www.ped.nm.gov/" '
        'TargetMode="External"/>'
        f'<Relationship Id="rId2" Type="{REL}/image" Target="{target}" TargetMode="External"/>'
        "</Relationships>"
    )
    return edited({"xl/drawings/_rels/drawing1.xml.rels": rels.encode()})


def hyperlinked_workbook() -> bytes:
    """A sheet with an ordinary web hyperlink: allowed."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "NM PED"
    sheet["A1"].hyperlink = "https://www.ped.nm.gov/"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def embedded_object() -> bytes:
    package = compound_file({"\x01Ole10Native": b"MZ\x90\x00 payload.exe"})
    return edited({"xl/embeddings/oleObject1.bin": package})


def strict_workbook() -> bytes:
    """Saved as Strict Open XML: the same parts in other namespaces."""
    files = parts(workbook())
    text = files["xl/workbook.xml"].decode()
    return edited(
        {
            "xl/workbook.xml": text.replace(
                SPREADSHEET_NS, "http://purl.oclc.org/ooxml/spreadsheetml/main"
            ).encode()
        }
    )


# ---- hostile XML -------------------------------------------------------------------------


def billion_laughs() -> bytes:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    strings = (
        f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]>'
        f'<sst xmlns="{SPREADSHEET_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
    )
    return edited({"xl/sharedStrings.xml": strings.encode()})


def quadratic_blowup() -> bytes:
    """One 50 KB entity used 5,000 times: 250 MB if expanded, no nesting needed."""
    strings = (
        f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "{"A" * 50_000}">]>'
        f'<sst xmlns="{SPREADSHEET_NS}"><si><t>{"&a;" * 5000}</t></si></sst>'
    )
    return edited({"xl/sharedStrings.xml": strings.encode()})


def external_entity(
    url: str = "file:///etc/passwd", part: str = "xl/worksheets/sheet1.xml"
) -> bytes:
    """XXE: an entity whose value the parser would fetch from `url`."""
    text = parts(workbook())[part].decode()
    head, _, body = text.partition("?>")
    root = "Types" if part == "[Content_Types].xml" else "worksheet"
    doctype = f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{url}">]>'
    body = body.replace(
        "</sheetData>",
        "<row r='9'><c r='A9' t='inlineStr'><is><t>&xxe;</t></is></c></row></sheetData>",
    )
    return edited({part: (head + "?>" + doctype + body).encode()})


def external_dtd(url: str) -> bytes:
    """A document type fetched from outside, with no entities at all."""
    text = parts(workbook())["xl/workbook.xml"].decode()
    head, _, body = text.partition("?>")
    return edited({"xl/workbook.xml": f'{head}?><!DOCTYPE workbook SYSTEM "{url}">{body}'.encode()})


def utf16_doctype() -> bytes:
    """A billion-laughs part in UTF-16: the document type's bytes are not ASCII."""
    strings = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE sst [<!ENTITY a "aaaa">'
        '<!ENTITY b "&a;&a;&a;&a;">]><sst><si><t>&b;</t></si></sst>'
    )
    return edited(
        {"xl/sharedStrings.xml": "\ufeff".encode("utf-16-le") + strings.encode("utf-16-le")}
    )


def malformed_sheet() -> bytes:
    return edited({"xl/worksheets/sheet1.xml": b'<worksheet xmlns="x"><sheetData><row>'})


# ---- zip bombs and damaged zips ----------------------------------------------------------


@cache
def _zeros_deflated(size: int) -> tuple[bytes, int]:
    """`size` zero bytes (a multiple of 1 MiB) deflated, and their CRC-32.

    A 1 MiB block ended by a full flush stands alone, so the stream is that block repeated,
    then an empty final block: a gigabyte compresses to about a megabyte without ever
    existing."""
    block = bytes(MiB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    checksum = 0
    for _ in range(size // MiB):
        checksum = zlib.crc32(block, checksum)
    return piece * (size // MiB) + final, checksum


def zip_bomb(size: int = GiB) -> bytes:
    """A workbook with one more sheet: `size` zero bytes, honestly declared."""
    payload, checksum = _zeros_deflated(size)
    bomb = RawEntry("xl/worksheets/sheet2.xml", payload, size=size, crc=checksum)
    return raw_zip([*workbook_entries(), bomb])


def lying_zip_bomb(size: int = GiB) -> bytes:
    """The same, but its directory declares 1 KiB: only reading reveals the gigabyte."""
    payload, _ = _zeros_deflated(size)
    declared = bytes(1024)
    bomb = RawEntry("xl/sharedStrings.xml", payload, size=len(declared), crc=zlib.crc32(declared))
    return raw_zip([e for e in workbook_entries() if e.name != "xl/sharedStrings.xml"] + [bomb])


def short_part() -> bytes:
    """A part that holds less than its directory declares (with the checksum of what it holds)."""
    items = workbook_entries()
    content = parts(workbook())["xl/styles.xml"]
    items = [
        entry(i.name, content, size=len(content) + 100) if i.name == "xl/styles.xml" else i
        for i in items
    ]
    return raw_zip(items)


def overlapping_entries() -> bytes:
    """Two directory entries sharing data: the second's local record sits inside the first's."""
    inner = entry("xl/media/inner.xml", b"<inner/>")
    inner_record = _local_record(inner)
    outer = RawEntry(
        "xl/media/outer.bin",
        inner_record,
        len(inner_record),
        zlib.crc32(inner_record),
        method=zipfile.ZIP_STORED,
    )
    base = workbook_entries()
    body = bytearray()
    offsets = []
    for item in base:
        offsets.append(len(body))
        body += _local_record(item)
    outer_offset = len(body)
    body += _local_record(outer)
    inner_offset = outer_offset + 30 + len(outer.name)
    listed = [*zip(base, offsets, strict=True), (outer, outer_offset), (inner, inner_offset)]
    directory = b"".join(_central_record(i, o) for i, o in listed)
    return bytes(body) + directory + _end_record(len(listed), len(directory), len(body))


def too_many_entries(count: int = 1001) -> bytes:
    files = parts(workbook())
    files.update({f"xl/media/image{i}.png": b"\x89PNG" for i in range(count)})
    return rezip(files)


def with_entries(*extra: RawEntry) -> bytes:
    return raw_zip([*workbook_entries(), *extra])
