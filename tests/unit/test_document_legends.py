"""Issue 13 point 1: every table of a plan document that shows `*` (hidden for privacy) or
`—` (no data) has its key right under it, saying only the markers it shows."""

from __future__ import annotations

import io

import docx
import pytest
from docx.oxml.ns import qn

from tests.unit.test_render_docx import district, lea, render, school

__all__ = ["district", "lea", "school"]


def tables_and_keys(content: bytes) -> list[tuple[set[str], str]]:
    """(markers a table shows, the text of the paragraphs up to the next table or heading)."""
    body = docx.Document(io.BytesIO(content)).element.body
    out: list[tuple[set[str], str]] = []
    for element in body:
        if element.tag == qn("w:tbl"):
            cells = [
                "".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in element.iter(qn("w:tc"))
            ]
            out.append(({m for m in ("*", "—") if m in cells}, ""))
        elif element.tag == qn("w:p") and out:
            style = element.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
            if style is not None and style.get(qn("w:val")).startswith(("Heading", "Title")):
                out.append((set(), ""))  # a heading ends what belongs to the table
                continue
            markers, said = out[-1]
            out[-1] = (markers, said + "".join(t.text or "" for t in element.iter(qn("w:t"))))
    return out


@pytest.mark.parametrize("which", ["school", "district"])
def test_every_table_with_a_marker_has_its_key_under_it(which: str, request) -> None:
    content = render(request.getfixturevalue(which))
    found = tables_and_keys(content)
    marked = [(m, said) for m, said in found if m]
    assert any("—" in m for m, _ in marked)  # the check below can fail
    if which == "school":  # its small group is hidden
        assert any("*" in m for m, _ in marked)
    for markers, said in marked:
        assert "Key:" in said, (markers, said[:80])
        assert ("hidden to protect student privacy" in said) is ("*" in markers), said
        assert ("no data" in said) is ("—" in markers), said


def test_groups_with_no_students_show_no_target(school) -> None:
    """Issue 13 point 4 (documents): the target a workbook holds for a group with no data
    (its default) is left out of the target column."""
    data, plan = school
    gone = data.subgroups[5]  # a group that, this time, has no students at all
    empty = gone.model_copy(update={"enrollment": None, "rates": (None,) * len(gone.rates)})
    subgroups = tuple(empty if r.code == gone.code else r for r in data.subgroups)
    targets = {r.code: r.get("target") for r in plan.rows("demographics", "subgroups")}
    assert isinstance(targets[gone.code], float)  # the plan holds one: the check can fail
    content = render((data.model_copy(update={"subgroups": subgroups}), plan))
    rows = [
        [c.text for c in row.cells]
        for t in docx.Document(io.BytesIO(content)).tables
        for row in t.rows
    ]
    (row,) = [r for r in rows if r[0] == gone.label]
    assert row[1:] == ["—", "—", "—", "—", ""], row
    (other,) = [r for r in rows if r[0] == data.subgroups[6].label]
    assert other[-1].endswith("%")
