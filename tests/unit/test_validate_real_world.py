"""Real-world spreadsheet files from other projects' test suites (tests/corpus, sources and
licences in its README and MANIFEST.csv): none is an aip-forms plan, so each must be refused
with exit 2 and a specific message, never a traceback, in bounded memory."""

from __future__ import annotations

import csv
import json
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from aip_forms.cli import cli
from tests.support import guard, mutate
from validators.problems import CATALOGUE
from validators.validate import validate_upload

CORPUS = Path(__file__).parents[1] / "corpus"
FILES = sorted(
    p
    for p in CORPUS.glob("*/**/*")  # each source's folder; not MANIFEST.csv
    if p.suffix in {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv"}
)
with (CORPUS / "MANIFEST.csv").open(newline="") as listing:
    MANIFEST = {row["file"]: row for row in csv.DictReader(listing)}
MiB = 1 << 20
# The first problem each kind of file may get. A format of its own is named as such; an .xlsx
# may be broken in many ways, each with its own code, but never "could not be read" (the
# code for a reader that failed where intake should have refused).
FIRST_CODES = {
    ".ods": {"INTAKE_ODS"},
    ".xlsb": {"INTAKE_XLSB", "INTAKE_ENCRYPTED"},
    ".xls": {"INTAKE_XLS", "INTAKE_XLS_OLD", "INTAKE_CSV"},  # calamine's too_small.xls is text
    ".xlsm": {"INTAKE_MACRO", "INTAKE_EMBEDDED_OBJECT"},
    ".csv": {"INTAKE_CSV", "INTAKE_EMPTY"},
    ".xlsx": set(CATALOGUE) - {"WORKBOOK_UNREADABLE"},
}


def test_the_corpus_is_there_varied_and_sourced() -> None:
    kinds = Counter(p.suffix for p in FILES)
    sources = Counter(row["repository"] for row in MANIFEST.values())

    assert len(FILES) >= 450
    assert kinds[".xlsx"] >= 250 and kinds[".xls"] >= 100 and kinds[".ods"] >= 30
    assert kinds[".xlsb"] >= 30 and kinds[".xlsm"] >= 15
    assert len(sources) == 5 and min(sources.values()) >= 10
    assert sorted(MANIFEST) == [str(p.relative_to(CORPUS)) for p in FILES]
    assert all(row["licence"] and len(row["commit"]) == 40 for row in MANIFEST.values())
    assert sum(p.stat().st_size for p in FILES) < 15 * MiB
    assert max(p.stat().st_size for p in FILES) < 300 * 1024


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_each_file_is_refused_with_a_specific_message(path: Path) -> None:
    data = path.read_bytes()
    tracemalloc.start()
    try:
        with guard.hang_guard(30, path.name):
            report = validate_upload(data, key=mutate.KEY, config=mutate.CONFIG, filename=path.name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert report.outcome == "unreadable"
    assert report.exit_code == 2
    assert report.errors
    first = report.errors[0].code
    assert first == MANIFEST[str(path.relative_to(CORPUS))]["first_code"]
    assert first in FIRST_CODES[path.suffix]
    for found in report.errors:
        assert found.code in CATALOGUE
        assert found.message and "{" not in found.message
    json.dumps(report.to_dict(), allow_nan=False)
    assert peak < 100 * MiB


def test_the_messages_name_the_format() -> None:
    """Old and other formats are told what to do, not called damaged."""

    def code(name: str) -> str:
        data = (CORPUS / name).read_bytes()
        return validate_upload(data, key=mutate.KEY, config=mutate.CONFIG).errors[0].code

    assert code("xlrd/biff4_no_format_no_window2.xls") == "INTAKE_XLS_OLD"
    assert code("calamine/issue_643_biff5_formula.xls") in {"INTAKE_XLS", "INTAKE_XLS_OLD"}
    assert code("calamine/issues.ods") == "INTAKE_ODS"
    assert code("calamine/issues.xlsb") == "INTAKE_XLSB"
    assert code("calamine/vba.xlsm") == "INTAKE_MACRO"
    assert code("calamine/picture.xlsx") == "META_MISSING"  # a sound workbook, but not ours
    assert code("calamine/pass_protected.xlsx") == "INTAKE_ENCRYPTED"
    assert code("poi/protected_passtika.xlsx") == "INTAKE_ENCRYPTED"
    assert code("poi/SimpleStrict.xlsx") == "INTAKE_STRICT"
    assert code("poi/poc-xmlbomb.xlsx") == "INTAKE_XML_UNSAFE"
    assert code("poi/duplicate-filename.xlsx") == "INTAKE_DUPLICATE_ENTRY"
    # Made by the OpenXML SDK, which declares .xml parts the main type by default: a
    # workbook, if not ours (it was once called "not an Excel workbook").
    assert code("poi/59021.xlsx") == "META_MISSING"


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods", ".xlsb", ".xlsm", ".csv"])
def test_the_command_line_refuses_without_a_traceback(
    suffix: str, aip_home: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    for path in [p for p in FILES if p.suffix == suffix]:
        result = runner.invoke(cli, ["workbook", "validate", str(path), "--json"])

        assert isinstance(result.exception, SystemExit), (path.name, result.exception)
        assert result.exit_code == 2, (path.name, result.output)
        assert "Traceback" not in result.output
        assert json.loads(result.stdout)["outcome"] == "unreadable"
