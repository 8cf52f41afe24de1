"""Rendering a plan document (DOCX) from its Plan, PlanData and the form spec.

Templates come only from this package (`exports/templates`, built by
`exports.make_templates`); nothing a user sends chooses or alters one. They are rendered
in a sandboxed, immutable Jinja environment with autoescape, whose `finalize` makes every
value safe XML text: control characters become their visible Unicode pictures (U+2400..)
and braces and percent signs become character references, so user text such as
`{{7*7}}` or `{% raw %}` is printed as typed and never read as a tag, by Jinja or by
docxtpl's post-processing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from docx.document import Document
from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Template
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.errors import InvalidInput
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import PlanData
from aip_forms.spec import FormSpec, spec_for
from exports import charts, layout
from exports.context import document_context
from exports.make_templates import spec_template_bytes, template_path
from exports.review import ReviewInfo
from exports.suppression import Suppression, suppress

if TYPE_CHECKING:
    from aip_forms.storage import ObjectStore

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_COMPILED_LIMIT = 8


class PlanMismatch(InvalidInput, ValueError):
    """The Plan and the PlanData are not of the same plan."""


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "\u2421" if code == 0x7F else chr(0x2400 + code)


def xml_text(value: object) -> object:
    """`finalize` of the environment: any value as escaped, inert XML text."""
    if hasattr(value, "__html__"):  # template images and already-escaped markup
        return value
    if value is None:
        return Markup("")
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = _NOT_XML.sub("\ufffd", _CONTROL.sub(_picture, text))
    escaped = str(escape(text))
    return Markup(escaped.replace("{", "&#123;").replace("}", "&#125;").replace("%", "&#37;"))


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, remembering the few template sources it compiled: docxtpl hands it
    the same patched document XML on every render of a template."""

    def __init__(self) -> None:
        super().__init__(autoescape=True, finalize=xml_text)
        self._compiled: dict[bytes, Template] = {}

    def from_string(  # type: ignore[override]
        self, source: str, globals: dict[str, Any] | None = None, template_class: Any = None
    ) -> Template:
        if globals or template_class:
            return super().from_string(source, globals, template_class)
        key = hashlib.blake2b(source.encode("utf-8", "surrogatepass")).digest()
        template = self._compiled.get(key)
        if template is None:
            template = super().from_string(source)
            if len(self._compiled) >= _COMPILED_LIMIT:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = template
        return template


_PATCHED: dict[bytes, str] = {}


class PlanTemplate(DocxTemplate):
    """docxtpl's template, remembering its clean-up of a part's XML (`patch_xml`, a pure
    function of the XML: a few dozen regular expressions over the whole body, a third of
    a render), since every render of a template hands it the same XML."""

    def patch_xml(self, src_xml: str) -> str:
        key = hashlib.blake2b(src_xml.encode("utf-8", "surrogatepass")).digest()
        patched = _PATCHED.get(key)
        if patched is None:
            patched = super().patch_xml(src_xml)
            if len(_PATCHED) >= _COMPILED_LIMIT:
                _PATCHED.pop(next(iter(_PATCHED)))
            _PATCHED[key] = patched
        return patched


class DescribedImage(InlineImage):
    """A chart with its alternative text (the drawing's `descr`, which Word and LibreOffice's
    tagged PDF give screen readers), written from the numbers it draws."""

    def __init__(self, tpl: DocxTemplate, image: Any, *, width: Any, alt: str) -> None:
        super().__init__(tpl, image, width=width)
        self.alt = _NOT_XML.sub("\ufffd", _CONTROL.sub(" ", alt))

    def _insert_image(self) -> str:
        inline = self.tpl.current_rendering_part.new_pic_inline(
            self.image_descriptor, self.width, self.height
        )
        for described in inline.xpath(".//wp:docPr") + inline.xpath(".//pic:cNvPr"):
            described.set("descr", self.alt)
        return (
            f"</w:t></w:r><w:r><w:drawing>{inline.xml}</w:drawing></w:r><w:r>"
            '<w:t xml:space="preserve">'
        )


@cache
def environment() -> TemplateEnvironment:
    return TemplateEnvironment()


@lru_cache(maxsize=8)
def _template_bytes(spec: FormSpec) -> bytes:
    """The Word template of `spec`, keyed by the whole spec so that a changed spec never
    gets another's template: the committed one for New Mexico's, else built from it."""
    if spec == spec_for(spec.kind):
        return template_path(spec.kind).read_bytes()
    return spec_template_bytes(spec)


def check_same_plan(plan: Plan, data: PlanData) -> None:
    expected = (
        data.kind,
        data.fiscal_year,
        data.lea.code,
        data.school.code if data.school else None,
    )
    found = (plan.kind, plan.fiscal_year, plan.lea_code, plan.school_code)
    if expected != found:
        raise PlanMismatch(f"the plan is for {found} but its data is for {expected}")


def selection_for(
    spec: FormSpec | PlanKind,
    sections: layout.Selection | str | Iterable[str] | None,
    strict: bool = True,
) -> layout.Selection:
    if isinstance(sections, layout.Selection):
        return sections
    return layout.select(spec, layout.parse_keys(sections), strict=strict)


def render_docx(
    plan: Plan,
    data: PlanData,
    config: ProgramConfig,
    *,
    sections: layout.Selection | str | Iterable[str] | None = None,
    review: ReviewInfo | None = None,
    suppression: Suppression | None = None,
    generated: dt.date | None = None,
    chart_store: ObjectStore | None = None,
) -> bytes:
    """The plan document as .docx bytes: a full report (sections None) or the chosen
    sections ("contact,tiers,charts"; see `exports.layout`).

    `suppression` should be the plan's LEA's (`suppress(lea_plans, config)`) so that all
    documents of the LEA hide the same cells; by default the plan's own data is used.
    Charts are read from `chart_store` when it has them, else drawn and kept there.
    """
    check_same_plan(plan, data)
    spec = config.spec(plan.kind)
    selection = selection_for(spec, sections)
    template = PlanTemplate(io.BytesIO(_template_bytes(spec)))

    def image(png: bytes, width_in: float, alt: str) -> InlineImage:
        return DescribedImage(template, io.BytesIO(png), width=Inches(width_in), alt=alt)

    with charts.kept_in(chart_store):
        context = document_context(
            plan,
            data,
            config,
            selection=selection,
            suppression=suppression if suppression is not None else suppress([data], config),
            review=review,
            generated=generated,
            image=image,
            spec=spec,
        )
    template.render(context, jinja_env=environment(), autoescape=True)
    number_contents(template.docx)
    props = template.docx.core_properties  # the PDF's title and language come from these
    props.title = f"{spec.title}: {data.entity_name}, FY{data.fiscal_year}"[:255]
    props.language = "en-US"
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


CONTENTS_STYLE = "AIP Contents"
SECTION_STYLE = "Heading 1"
CONTENTS_BOOKMARK = "_aip_contents_{}"  # "_": hidden from Word's bookmark list
_BOOKMARK_IDS = 9000  # above any id docxtpl or the template uses
# what follows w:updateFields in w:settings (ECMA-376 CT_Settings; Word wants the order)
_AFTER_NAMES = (
    "hdrShapeDefaults",
    "footnotePr",
    "endnotePr",
    "compat",
    "docVars",
    "rsids",
    "attachedSchema",
    "themeFontLang",
    "clrSchemeMapping",
    "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures",
    "forceUpgrade",
    "captions",
    "readModeInkLockDown",
    "smartTagType",
    "schemaLibrary",
    "shapeDefaults",
    "doNotEmbedSmartTags",
    "decimalSymbol",
    "listSeparator",
)
_AFTER_UPDATE_FIELDS = {qn(f"w:{name}") for name in _AFTER_NAMES} | {
    "{http://schemas.openxmlformats.org/officeDocument/2006/math}mathPr"
}


def _style_id(document: Document, name: str) -> str:
    return str(document.styles[name].style_id)


def _text(p: Any) -> str:
    return "".join(p.xpath(".//w:t/text()")).strip()


def _run(*children: Any) -> Any:
    run = OxmlElement("w:r")
    run.extend(children)
    return run


def _element(tag: str, text: str | None = None, **attributes: str) -> Any:
    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(name.replace("_", ":", 1)), value)
    if text is not None:
        element.text = text
    return element


def number_contents(document: Document) -> None:
    """Give each line of the plan's contents the page its section starts on: a bookmark on
    the section's heading and a PAGEREF field to it after a dotted tab. LibreOffice works
    the numbers out when it lays the document out (a PDF has them with no second pass);
    Word updates the fields when it opens the file (`updateFields`). A contents line whose
    heading is not in the document is left without a number."""
    contents_id = _style_id(document, CONTENTS_STYLE)
    section_id = _style_id(document, SECTION_STYLE)
    body = document.element.body
    lines = body.xpath(f'.//w:p[w:pPr/w:pStyle/@w:val="{contents_id}"]')
    headings = body.xpath(f'.//w:p[w:pPr/w:pStyle/@w:val="{section_id}"]')
    if not lines:
        return
    section = document.sections[0]
    width = (section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)
    found = 0
    for i, line in enumerate(lines):
        title = _text(line)
        match = next((j for j in range(found, len(headings)) if _text(headings[j]) == title), None)
        if match is None:
            continue
        found = match + 1
        heading, name, ident = headings[match], CONTENTS_BOOKMARK.format(i), str(_BOOKMARK_IDS + i)
        properties = heading.find(qn("w:pPr"))
        start = _element("w:bookmarkStart", w_id=ident, w_name=name)
        if properties is not None:
            properties.addnext(start)
        else:
            heading.insert(0, start)
        heading.append(_element("w:bookmarkEnd", w_id=ident))
        Paragraph(line, document._body).paragraph_format.tab_stops.add_tab_stop(
            width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
        )
        line.extend(
            [
                _run(_element("w:tab")),
                _run(_element("w:fldChar", w_fldCharType="begin")),
                _run(_element("w:instrText", f" PAGEREF {name} \\h ", xml_space="preserve")),
                _run(_element("w:fldChar", w_fldCharType="separate")),
                _run(_element("w:t", "")),
                _run(_element("w:fldChar", w_fldCharType="end")),
            ]
        )
    settings = document.settings.element
    if settings.find(qn("w:updateFields")) is None:
        later = next((e for e in settings if e.tag in _AFTER_UPDATE_FIELDS), None)
        update = _element("w:updateFields", w_val="true")
        if later is None:
            settings.append(update)
        else:
            later.addprevious(update)


def draw_charts(
    plan: Plan,
    data: PlanData,
    config: ProgramConfig,
    *,
    chart_store: ObjectStore,
    suppression: Suppression | None = None,
) -> int:
    """Draw the charts of the plan's full report into `chart_store` (those kept already are
    only read), so that rendering the plan later reads them; returns how many it has."""
    check_same_plan(plan, data)
    spec = config.spec(plan.kind)
    drawn: list[str] = []
    with charts.kept_in(chart_store):
        document_context(
            plan,
            data,
            config,
            selection=selection_for(spec, None),
            suppression=suppression if suppression is not None else suppress([data], config),
            image=lambda png, width, alt: drawn.append(alt),
            spec=spec,
        )
    return len(drawn)
