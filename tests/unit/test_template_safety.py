"""Template safety: templates come only from the repository, render in a sandboxed,
immutable Jinja environment with autoescape, and user text is printed as typed (Jinja
syntax, XML markup, docxtpl's own markers, control characters, 40,000 characters) in a
document that stays valid.
"""

from __future__ import annotations

import inspect
import io
import zipfile
from pathlib import Path

import docx
import pytest
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from aip_forms.domain import Lea, PlanKind
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import PlanData
from exports import make_templates
from exports.render import environment, render_docx, xml_text
from exports.review import ReviewComment, ReviewInfo
from tests.unit.test_render_docx import CONFIG, GENERATED, document_text, example_plan, lea_data

LONG = ("Forty thousand characters of one reflection. " * 900)[:40_000]
HOSTILE = {
    "jinja": "{{7*7}} and {{ config }} and {# comment #}",
    "blocks": "{% raw %}{% endraw %}{% for x in range(3) %}x{% endfor %}",
    "markup": "<&> \"quoted\" 'single' </w:t></w:r></w:p><w:p><w:r><w:t>injected",
    "docxtpl": "{_{ 7*7 }_} {_% raw %_} {%p if x %} {%tr for r in rows %} {% cellbg 'FF0000' %}",
    "control": "bell\x07 nul\x00 tab\tvt\x0b ff\x0c esc\x1b del\x7f end",
    "unicode": "Ñandú: 日本語, שלום, 🚍 bus",
    "surrogate": "lone \ud800 surrogate",
}
# What the control characters print as: their Unicode control pictures.
PRINTED_CONTROL = "bell\u2407 nul\u2400 tab\tvt\u240b ff\u240c esc\u241b del\u2421 end"


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> tuple[PlanData, Plan]:
    data = lea_data()[1]
    return data, example_plan(data, tmp_path_factory.mktemp("home"))


def hostile_plan(plan: Plan) -> Plan:
    plan = plan.model_copy(deep=True)
    contact = plan.sections["contact"]
    contact.fields["title"] = HOSTILE["jinja"]
    contact.fields["first_name"] = HOSTILE["markup"]
    contact.tables["team"][0].values["name"] = HOSTILE["docxtpl"]
    contact.tables["team"][1].values["name"] = HOSTILE["surrogate"]
    causes = plan.sections["root_cause"].fields
    causes["research"] = LONG
    causes["supportive_factors"] = HOSTILE["blocks"]
    causes["barriers"] = HOSTILE["control"]
    plan.sections["tiers"].tables["tier1"][0].values["action_steps"] = HOSTILE["unicode"]
    plan.sections["progress"].tables["periods"][0].values["reflection"] = HOSTILE["markup"]
    return plan


REVIEW = ReviewInfo(
    status="returned {{7*7}}",
    reviewer="<script>alert(1)</script>",
    comments=(ReviewComment("R & D", HOSTILE["docxtpl"] + " " + HOSTILE["control"]),),
)


def render_hostile(school) -> bytes:
    data, plan = school
    data = data.model_copy(update={"lea": Lea(code=data.lea.code, name="A&B <SCHOOLS> {{7*7}}")})
    return render_docx(hostile_plan(plan), data, CONFIG, review=REVIEW, generated=GENERATED)


def test_user_text_prints_as_typed_and_the_document_stays_valid(school):
    content = render_hostile(school)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                etree.fromstring(archive.read(name))  # every part is well-formed XML
    text = document_text(content)  # python-docx opens it
    for typed in ("jinja", "blocks", "markup", "docxtpl", "unicode"):
        assert HOSTILE[typed] in text, typed
    assert PRINTED_CONTROL in text
    assert "lone \ufffd surrogate" in text
    assert LONG in text
    assert "A&B <SCHOOLS> {{7*7}}" in text  # the LEA name, in the header and title page
    assert "Returned {{7*7}}" in text and "<script>alert(1)</script>" in text
    assert "SCHOOLS> 49" not in text and "title 49" not in text
    assert "injected" in text and text.count("injected") == text.count("</w:t>")


def test_the_hostile_text_adds_no_paragraph_table_or_colour(school):
    review = ReviewInfo(status="returned", reviewer="R", comments=(ReviewComment("R", "ok"),))
    plain_docx = render_docx(school[1], school[0], CONFIG, review=review, generated=GENERATED)
    plain = docx.Document(io.BytesIO(plain_docx))
    hostile = docx.Document(io.BytesIO(render_hostile(school)))
    assert len(hostile.tables) == len(plain.tables)
    xml = hostile.element.xml
    assert 'w:fill="FF0000"' not in xml
    assert xml.count("<w:p>") + xml.count("<w:p ") == (
        plain.element.xml.count("<w:p>") + plain.element.xml.count("<w:p ")
    )


@pytest.mark.parametrize(
    ("value", "xml"),
    [
        ("{{7*7}}", "&#123;&#123;7*7&#125;&#125;"),
        ("50% <&>", "50&#37; &lt;&amp;&gt;"),
        ("a\x00b\x1fc\x7f", "a\u2400b\u241fc\u2421"),
        ("line\r\nnext\rlast", "line\nnext\nlast"),
        ("\ufffe\uffff", "\ufffd\ufffd"),
        (None, ""),
        (12.5, "12.5"),
    ],
)
def test_every_value_becomes_inert_xml_text(value, xml):
    assert str(xml_text(value)) == xml


def test_the_environment_is_an_immutable_sandbox_with_autoescape():
    env = environment()
    assert isinstance(env, SandboxedEnvironment)
    assert env.autoescape is True
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__[1].__subclasses__() }}").render(x="")
    with pytest.raises(SecurityError):
        env.from_string("{{ rows.append(1) }}").render(rows=[])
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_templates_come_only_from_the_package():
    parameters = inspect.signature(render_docx).parameters
    assert not {"template", "template_path", "path"} & set(parameters)
    package = Path(make_templates.__file__).parent / "templates"
    for kind in PlanKind:
        path = make_templates.template_path(kind)
        assert path.parent == package and path.is_file()


@pytest.mark.parametrize("kind", list(PlanKind))
def test_the_committed_templates_are_the_ones_the_spec_builds(kind):
    """After a spec change: python -m exports.make_templates (the build is reproducible;
    parts are compared, not zip bytes, which depend on the zlib at hand)."""
    committed = list(make_templates.parts(make_templates.template_path(kind).read_bytes()))
    assert committed == list(make_templates.parts(make_templates.template_bytes(kind)))


@pytest.mark.parametrize("kind", list(PlanKind))
def test_the_templates_never_turn_escaping_off(kind):
    with zipfile.ZipFile(make_templates.template_path(kind)) as archive:
        xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".xml"))
    assert "|safe" not in xml.replace(" ", "") and "autoescape" not in xml
    assert "{{" in xml  # they are templates


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"]
)
def test_csv_cells_that_would_be_formulas_get_a_leading_apostrophe(text: str) -> None:
    from aip_forms.spreadsheet_text import csv_text

    assert csv_text(text) == "'" + text
    assert csv_text("BELEN HIGH") == "BELEN HIGH" and csv_text("12.5%") == "12.5%"
