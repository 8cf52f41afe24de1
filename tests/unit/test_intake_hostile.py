"""Intake refuses hostile and wrong-format uploads: fast, in little memory, naming each code
and telling the coordinator what to upload instead. Every file is built in code
(tests.support.hostile); each case names the codes it pins."""

from __future__ import annotations

import http.server
import io
import shutil
import subprocess
import threading
import tracemalloc
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import hostile
from validators.intake import check_upload
from validators.problems import UnreadableWorkbook
from validators.safety import work_clock

SAVE_AS = "Excel Workbook (.xlsx)"


def refusal(data: bytes, filename: str | None = "plan.xlsx") -> UnreadableWorkbook:
    started = work_clock()  # this thread's CPU time: a busy machine must not fail the test
    with pytest.raises(UnreadableWorkbook) as refused:
        check_upload(data, filename)
    assert work_clock() - started < 2  # issue 9: any file refused within 2 s
    assert all(p.severity == "error" for p in refused.value.problems)
    return refused.value


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], bytes]
    codes: list[str]
    advice: str = SAVE_AS  # every message must say this


CASES = [
    Case("empty", lambda: b"", ["INTAKE_EMPTY"], "Upload the plan workbook again"),
    Case("truncated", hostile.truncated, ["INTAKE_TRUNCATED"], "Upload it again"),
    Case("random-bytes", hostile.random_bytes, ["INTAKE_NOT_ZIP"]),
    Case("legacy-xls", hostile.legacy_xls, ["INTAKE_XLS"], "File > Save As > " + SAVE_AS),
    Case("encrypted", hostile.encrypted_xlsx, ["INTAKE_ENCRYPTED"], "delete the password"),
    Case("word-97", hostile.word_97_document, ["INTAKE_NOT_ZIP"]),
    Case("csv", hostile.csv_text, ["INTAKE_CSV"]),
    Case("unicode-text", hostile.utf16_text, ["INTAKE_CSV"]),
    Case("pdf", hostile.pdf, ["INTAKE_PDF"], "Upload the filled-in plan workbook"),
    Case("gif-then-zip", lambda: b"GIF89a\x01\x00" + hostile.workbook(), ["INTAKE_PICTURE"]),
    Case("ods", hostile.ods, ["INTAKE_ODS"], "download it as " + SAVE_AS),
    Case("plain-zip", hostile.plain_zip, ["INTAKE_NOT_XLSX"]),
    Case("docx", hostile.word_document, ["INTAKE_NOT_XLSX"]),
    Case("xlsb", hostile.binary_workbook, ["INTAKE_XLSB"]),
    Case("strict", hostile.strict_workbook, ["INTAKE_STRICT"]),
    Case("macro", hostile.macro_workbook, ["INTAKE_MACRO", "INTAKE_MACRO"], "not Excel Macro"),
    Case("external-link", hostile.external_links, ["INTAKE_EXTERNAL_LINK"], "Break Link"),
    Case(
        "linked-picture", hostile.linked_picture, ["INTAKE_EXTERNAL_TARGET"], "instead of linking"
    ),
    Case("embedded", hostile.embedded_object, ["INTAKE_EMBEDDED_OBJECT"], "Delete the object"),
    Case("billion-laughs", hostile.billion_laughs, ["INTAKE_XML_UNSAFE"]),
    Case("quadratic-blowup", hostile.quadratic_blowup, ["INTAKE_XML_UNSAFE"]),
    Case("xxe-file", hostile.external_entity, ["INTAKE_XML_UNSAFE"]),
    Case(
        "xxe-content-types",
        lambda: hostile.external_entity(part="[Content_Types].xml"),
        ["INTAKE_XML_UNSAFE"],
    ),
    Case("utf16-doctype", hostile.utf16_doctype, ["INTAKE_XML_UNSAFE"]),
    Case("malformed-xml", hostile.malformed_sheet, ["INTAKE_XML_MALFORMED"]),
    Case(
        "zip-bomb",
        hostile.zip_bomb,
        ["INTAKE_COMPRESSION_RATIO", "INTAKE_UNCOMPRESSED_TOO_LARGE"],
    ),
    Case("lying-zip-bomb", hostile.lying_zip_bomb, ["INTAKE_SIZE_MISMATCH"]),
    Case("short-part", hostile.short_part, ["INTAKE_SIZE_MISMATCH"]),
    Case("overlapping-entries", hostile.overlapping_entries, ["INTAKE_CORRUPT"]),
    Case("too-many-entries", hostile.too_many_entries, ["INTAKE_TOO_MANY_ENTRIES"]),
    Case(
        "too-large",
        lambda: hostile.random_bytes(10 * hostile.MiB + 1),
        ["INTAKE_TOO_LARGE"],
        "save as " + SAVE_AS,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_refused_with_its_code_and_what_to_do(case: Case) -> None:
    refused = refusal(case.build())

    assert refused.codes == case.codes
    for found in refused.problems:
        assert case.advice in found.message


def test_the_macro_refusal_names_both_macro_parts() -> None:
    refused = refusal(hostile.macro_workbook())

    assert "xl/vbaProject.bin" in refused.problems[0].message
    assert "xl/workbook.xml" in refused.problems[1].message


def test_a_linked_picture_is_named_but_hyperlinks_beside_it_are_not() -> None:
    target = "\\\\203.0.113.9\\share\\logo.png"
    (found,) = refusal(hostile.linked_picture(target)).problems

    assert found.value == target
    assert "xl/drawings/drawing1.xml" in found.message
    assert "ped.nm.gov" not in found.message


BOMBS = {
    "zip-bomb": hostile.zip_bomb,
    "lying-zip-bomb": hostile.lying_zip_bomb,
    "billion-laughs": hostile.billion_laughs,
    "quadratic-blowup": hostile.quadratic_blowup,
    "overlapping-entries": hostile.overlapping_entries,
}


@pytest.mark.parametrize("build", BOMBS.values(), ids=list(BOMBS))
def test_bombs_are_refused_in_little_memory(build: Callable[[], bytes]) -> None:
    data = build()  # built before measuring: the 1 GiB bombs are about 1 MB
    tracemalloc.start()
    try:
        refusal(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 50 * hostile.MiB


def test_the_lying_bomb_really_inflates_to_a_gigabyte() -> None:
    """Guards the fixture: without this, a lying bomb that lies about nothing passes too."""
    data = hostile.lying_zip_bomb()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("xl/sharedStrings.xml")
    assert info.file_size == 1024
    payload = data[info.header_offset + 30 + len(info.filename) :][: info.compress_size]
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated = len(inflater.decompress(payload, 2 * hostile.MiB))
    assert inflated == 2 * hostile.MiB  # and more to come
    assert info.compress_size < 2 * hostile.MiB


# ---- external references are never fetched ----------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on localhost, and the paths it was asked for."""
    requested: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<!ENTITY leak 'fetched'>")

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    "build",
    [
        lambda url: hostile.external_entity(url + "/sheet-entity"),
        lambda url: hostile.external_entity(url + "/types-entity", part="[Content_Types].xml"),
        lambda url: hostile.external_dtd(url + "/dtd"),
    ],
    ids=["entity-in-sheet", "entity-in-content-types", "external-dtd"],
)
def test_external_references_are_refused_without_fetching(
    listener: tuple[str, list[str]], build: Callable[[str], bytes]
) -> None:
    url, requested = listener

    assert refusal(build(url)).codes == ["INTAKE_XML_UNSAFE"]

    with urllib.request.urlopen(url + "/control") as response:  # the listener does listen
        response.read()
    assert requested == ["/control"]


def test_a_file_entity_is_not_read_into_the_message() -> None:
    refused = refusal(hostile.external_entity("file:///etc/passwd"))

    assert "root:" not in str(refused)
    assert refused.problems[0].value is None


# ---- damaged and doctored zips -----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../etc/cron.d/aip.xml", "/etc/aip.xml", "xl\\..\\evil.xml", "C:/evil.xml", "a\x01"]
)
def test_unsafe_part_names(name: str) -> None:
    refused = refusal(hostile.with_entries(hostile.entry(name, b"<x/>")))

    assert refused.codes == ["INTAKE_UNSAFE_NAME"]


@pytest.mark.parametrize("name", ["xl/worksheets/sheet1.xml", "XL/Worksheets/Sheet1.xml"])
def test_duplicate_part_names(name: str) -> None:
    refused = refusal(hostile.with_entries(hostile.entry(name, b"<worksheet/>")))

    assert refused.codes == ["INTAKE_DUPLICATE_ENTRY"]
    assert name in refused.problems[0].message


def test_a_bad_checksum() -> None:
    refused = refusal(hostile.with_entries(hostile.entry("xl/media/a.xml", b"<a/>", crc=1234)))

    assert refused.codes == ["INTAKE_CORRUPT"]
    assert "checksum" in refused.problems[0].message


def test_data_that_does_not_inflate() -> None:
    garbage = hostile.RawEntry("xl/media/a.xml", b"\xff" * 40, size=10, crc=0)

    refused = refusal(hostile.with_entries(garbage))

    assert refused.codes == ["INTAKE_CORRUPT"]
    assert "bad compressed data" in refused.problems[0].message


def test_compressed_data_that_ends_early() -> None:
    content = b"<a>" + hostile.random_bytes(4000).hex().encode() + b"</a>"
    whole = hostile.entry("xl/media/a.xml", content)
    cut = hostile.RawEntry(whole.name, whole.payload[:100], whole.size, whole.crc)

    refused = refusal(hostile.with_entries(cut))

    assert refused.codes == ["INTAKE_CORRUPT"]
    assert "ends early" in refused.problems[0].message


def test_zip_encryption_is_a_password() -> None:
    refused = refusal(hostile.with_entries(hostile.entry("xl/media/a.xml", b"<a/>", flags=1)))

    assert refused.codes == ["INTAKE_ENCRYPTED"]


def test_compression_excel_never_uses() -> None:
    bzip2 = hostile.entry("xl/media/a.xml", b"<a/>", method=zipfile.ZIP_BZIP2)

    refused = refusal(hostile.with_entries(bzip2))

    assert refused.codes == ["INTAKE_UNSUPPORTED_ZIP"]
    assert "compression 12" in refused.problems[0].message


def test_patched_data_zipfile_cannot_read() -> None:
    refused = refusal(hostile.with_entries(hostile.entry("xl/media/a.xml", b"<a/>", flags=0x20)))

    assert refused.codes == ["INTAKE_UNSUPPORTED_ZIP"]


def test_a_zip_version_zipfile_cannot_read() -> None:
    data = bytearray(hostile.with_entries(hostile.entry("xl/media/a.xml", b"<a/>")))
    directory = data.rfind(b"PK\x01\x02")
    data[directory + 6] = 64  # "version needed to extract": 6.4

    assert refusal(bytes(data)).codes == ["INTAKE_TRUNCATED"]


def test_every_problem_is_reported_not_only_the_first() -> None:
    data = hostile.with_entries(
        hostile.entry("../evil.xml", b"<a/>"),
        hostile.entry("xl/media/b.xml", b"<b/>", flags=1),
    )

    assert refusal(data).codes == ["INTAKE_UNSAFE_NAME", "INTAKE_ENCRYPTED"]


def test_every_unsafe_part_is_reported() -> None:
    laughs = hostile.parts(hostile.billion_laughs())["xl/sharedStrings.xml"]
    data = hostile.edited({"xl/sharedStrings.xml": laughs, "xl/worksheets/sheet1.xml": laughs})

    refused = refusal(data)

    assert refused.codes == ["INTAKE_XML_UNSAFE", "INTAKE_XML_UNSAFE"]


def test_a_few_problems_of_each_code() -> None:
    """A hostile file can repeat one fault a thousand times; ten say enough."""
    laughs = hostile.parts(hostile.billion_laughs())["xl/sharedStrings.xml"]
    data = hostile.edited({f"xl/media/laughs{i}.xml": laughs for i in range(30)})

    assert refusal(data).codes == ["INTAKE_XML_UNSAFE"] * 10


# ---- real files from LibreOffice ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize(("target", "code"), [("xls", "INTAKE_XLS"), ("ods", "INTAKE_ODS")])
def test_real_files_saved_by_libreoffice(tmp_path: Path, target: str, code: str) -> None:
    source = tmp_path / "plan.xlsx"
    source.write_bytes(hostile.workbook())
    soffice = shutil.which("soffice")
    assert soffice is not None
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )

    # named .xlsx, as a coordinator who renamed it would
    assert refusal((tmp_path / "out" / f"plan.{target}").read_bytes()).codes == [code]
