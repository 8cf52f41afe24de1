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
from functools import cache
from typing import Any

from docx.shared import Inches
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Template
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.plan import Plan
from aip_forms.plan_data import PlanData
from aip_forms.spec import spec_for
from exports import layout
from exports.context import document_context
from exports.make_templates import template_path
from exports.review import ReviewInfo
from exports.suppression import Suppression, suppress

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_COMPILED_LIMIT = 8


class PlanMismatch(ValueError):
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


@cache
def environment() -> TemplateEnvironment:
    return TemplateEnvironment()


@cache
def _template_bytes(kind: PlanKind) -> bytes:
    return template_path(kind).read_bytes()


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
    kind: PlanKind, sections: layout.Selection | str | Iterable[str] | None, strict: bool = True
) -> layout.Selection:
    if isinstance(sections, layout.Selection):
        return sections
    return layout.select(kind, layout.parse_keys(sections), strict=strict)


def render_docx(
    plan: Plan,
    data: PlanData,
    config: ProgramConfig,
    *,
    sections: layout.Selection | str | Iterable[str] | None = None,
    review: ReviewInfo | None = None,
    suppression: Suppression | None = None,
    generated: dt.date | None = None,
) -> bytes:
    """The plan document as .docx bytes: a full report (sections None) or the chosen
    sections ("contact,tiers,charts"; see `exports.layout`).

    `suppression` should be the plan's LEA's (`suppress(lea_plans, config)`) so that all
    documents of the LEA hide the same cells; by default the plan's own data is used.
    """
    check_same_plan(plan, data)
    spec = spec_for(plan.kind)
    selection = selection_for(plan.kind, sections)
    template = DocxTemplate(io.BytesIO(_template_bytes(plan.kind)))

    def image(png: bytes, width_in: float) -> InlineImage:
        return InlineImage(template, io.BytesIO(png), width=Inches(width_in))

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
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()
