"""Cell styles of a plan workbook, as named styles: grey locked pre-filled cells, light
yellow unlocked input cells with a border, headers and titles."""

from __future__ import annotations

from copy import copy

from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.workbook import Workbook

from aip_forms.spec import FieldSpec, FieldType
from workbook_templates import fit
from workbook_templates.fit import FONT_NAME

NOT_APPLICABLE_STYLE = "aip_na"  # an input a row without data does not ask for
GREY = "D9D9D9"  # pre-filled, read-only
YELLOW = "FFF2CC"  # yours to fill
HEADER_BLUE = "D9E1F2"
NAVY = "1F3864"

PERCENT_FORMAT = "0.0%"
INTEGER_FORMAT = "#,##0"
DATE_FORMAT = "m/d/yyyy"

_thin = Side(style="thin", color="808080")
BOX = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
_wrap_top = Alignment(wrap_text=True, vertical="top")


def _style(name: str, **kw: object) -> NamedStyle:
    """A named style; every one names the one font family (`fit.FONT_NAME`)."""
    kw.setdefault("font", Font(name=FONT_NAME, size=fit.BASE_SIZE))
    return NamedStyle(name=name, **kw)  # type: ignore[arg-type]


def named_styles() -> list[NamedStyle]:
    """Fresh style objects (a named style belongs to one workbook once added)."""
    grey = PatternFill("solid", fgColor=GREY)
    yellow = PatternFill("solid", fgColor=YELLOW)
    locked, unlocked = Protection(locked=True), Protection(locked=False)
    right = Alignment(horizontal="right", vertical="top")
    return [
        _style("aip_title", font=Font(name=FONT_NAME, bold=True, size=14, color=NAVY)),
        _style("aip_heading", font=Font(name=FONT_NAME, bold=True, size=12, color=NAVY)),
        _style(
            "aip_for",
            font=Font(name=FONT_NAME, bold=True, size=12, color=NAVY),
            alignment=_wrap_top,
        ),
        _style("aip_text", alignment=_wrap_top),
        _style(
            "aip_purpose",
            font=Font(name=FONT_NAME, size=fit.BASE_SIZE, italic=True),
            alignment=_wrap_top,
        ),
        _style(
            "aip_label",
            font=Font(name=FONT_NAME, size=fit.BASE_SIZE, bold=True),
            alignment=_wrap_top,
        ),
        _style(
            "aip_header",
            font=Font(name=FONT_NAME, size=fit.BASE_SIZE, bold=True),
            fill=PatternFill("solid", fgColor=HEADER_BLUE),
            border=BOX,
            alignment=Alignment(wrap_text=True, horizontal="center", vertical="center"),
        ),
        _style("aip_prefilled", fill=grey, border=BOX, protection=locked, alignment=_wrap_top),
        _style(  # a pre-filled name: its row is the layout's, so it shrinks, never wraps
            "aip_prefilled_line",
            fill=grey,
            border=BOX,
            protection=locked,
            alignment=Alignment(vertical="top", shrink_to_fit=True),
        ),
        _style(
            "aip_prefilled_int",
            fill=grey,
            border=BOX,
            protection=locked,
            alignment=right,
            number_format=INTEGER_FORMAT,
        ),
        _style(
            "aip_prefilled_pct",
            fill=grey,
            border=BOX,
            protection=locked,
            alignment=right,
            number_format=PERCENT_FORMAT,
        ),
        _style(
            NOT_APPLICABLE_STYLE,
            font=Font(name=FONT_NAME, size=fit.BASE_SIZE, italic=True, color="595959"),
            fill=grey,
            border=BOX,
            protection=locked,
            alignment=Alignment(horizontal="center", vertical="top"),
        ),
        _style("aip_input", fill=yellow, border=BOX, protection=unlocked, alignment=_wrap_top),
        _style(
            "aip_input_int",
            fill=yellow,
            border=BOX,
            protection=unlocked,
            number_format=INTEGER_FORMAT,
        ),
        _style(
            "aip_input_pct",
            fill=yellow,
            border=BOX,
            protection=unlocked,
            number_format=PERCENT_FORMAT,
        ),
        _style(
            "aip_input_date",
            fill=yellow,
            border=BOX,
            protection=unlocked,
            number_format=DATE_FORMAT,
            alignment=Alignment(horizontal="left", vertical="top"),
        ),
    ]


def register(workbook: Workbook) -> None:
    """The named styles, and the one font family as the workbook's default font too: column
    widths are measured in its digits, and cells without a style of their own use it."""
    base = Font(name=FONT_NAME, size=fit.BASE_SIZE, family=2)
    # openpyxl has no setter for the default font: its first font and the Normal style's
    workbook._fonts = IndexedList([base])  # type: ignore[attr-defined]  # no cell uses one yet
    workbook._named_styles["Normal"].font = copy(base)  # type: ignore[attr-defined]
    for style in named_styles():
        workbook.add_named_style(style)


def value_style(field: FieldSpec) -> str:
    """The named style of a field's value cell (pre-filled or input, by type)."""
    if field.prefilled and field.type is FieldType.TEXT and field.column is None:
        return "aip_prefilled_line"  # an LEA or school name on the contact sheet
    suffix = {FieldType.PERCENT: "_pct", FieldType.INTEGER: "_int", FieldType.DATE: "_date"}
    kind = "aip_prefilled" if field.prefilled else "aip_input"
    style = kind + suffix.get(field.type, "")
    return "aip_prefilled" if style == "aip_prefilled_date" else style
