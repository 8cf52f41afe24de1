"""Accessible PDFs (issue 13 point 8): both converters (the long-lived UNO one and the batch
`soffice` run) write tagged PDFs (a structure tree, marked content) with the plan's own
title and a language, and every chart is a Figure whose alternative text is written from
the numbers it draws."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from exports.office import UnoConverter
from exports.pdf import LibreOfficeConverter, find_soffice
from exports.render import render_docx
from exports.suppression import suppress
from tests.unit.test_render_docx import CONFIG, example_plan, lea_data

pytestmark = pytest.mark.libreoffice


class NoFallback(LibreOfficeConverter):
    """Fails the test if the UNO converter falls back to a batch run."""

    def convert(self, sources: object, out_dir: Path) -> list[Path]:  # type: ignore[override]
        raise AssertionError("the UNO converter fell back to a batch soffice run")


def figures(node: object, found: list[str]) -> list[str]:
    """The /Alt text of every Figure of the structure tree, in order."""
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, DictionaryObject):
        if node.get("/S") == "/Figure":
            found.append(str(node.get("/Alt", "")))
        kids = node.get("/K")
        if kids is not None:
            figures(kids, found)
    elif isinstance(node, list):
        for kid in node:
            figures(kid, found)
    return found


@pytest.mark.parametrize("converter", ["uno", "batch"])
def test_plans_convert_to_tagged_pdfs_with_title_language_and_chart_alt_text(
    converter: str, tmp_path: Path
) -> None:
    district, school = lea_data()[:2]
    plan = example_plan(school, tmp_path / "home")
    source = tmp_path / "school.docx"
    source.write_bytes(render_docx(plan, school, CONFIG, suppression=suppress([district, school],
                                                                              CONFIG)))  # fmt: skip
    soffice = find_soffice()
    if converter == "uno":
        with UnoConverter(soffice, fallback=NoFallback(soffice)) as uno:
            (pdf,) = uno.convert([source], tmp_path / "out")
    else:
        (pdf,) = LibreOfficeConverter(soffice).convert([source], tmp_path / "out")
    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    assert reader.metadata is not None
    assert school.school is not None
    name = school.school.name
    assert reader.metadata.title == f"School Attendance Improvement Plan: {name}, FY2027"
    assert root["/Lang"] == "en-US"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    alts = figures(root["/StructTreeRoot"], [])
    assert len(alts) >= 3, alts  # subgroups, grades, tiers (and progress when entered)
    assert all(alt.startswith(("Line chart", "Bar chart")) for alt in alts), alts
    subgroups = next(a for a in alts if "Demographic" in a or "Subgroup" in a)
    all_students = next(r for r in school.subgroups if r.code == "all")
    assert f"All Students: FY2024 {all_students.rates[0]:.1f}%" in subgroups
    assert any(a.startswith("Bar chart, students by tier of support: Tier 1") for a in alts)
