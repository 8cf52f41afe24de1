"""Cell styles of a plan workbook, as named styles: grey locked pre-filled cells, light
yellow unlocked input cells with a border, headers and titles."""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.workbook.workbook import Workbook

from aip_forms.spec import FieldSpec, FieldType

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
    return NamedStyle(name=name, **kw)  # type: ignore[arg-type]


def named_styles() -> list[NamedStyle]:
    """Fresh style objects (a named style belongs to one workbook once added)."""
    grey = PatternFill("solid", fgColor=GREY)
    yellow = PatternFill("solid", fgColor=YELLOW)
    locked, unlocked = Protection(locked=True), Protection(locked=False)
    right = Alignment(horizontal="right", vertical="top")
    return [
        _style("aip_title", font=Font(bold=True, size=14, color=NAVY)),
        _style("aip_heading", font=Font(bold=True, size=12, color=NAVY)),
        _style("aip_for", font=Font(bold=True, size=12, color=NAVY), alignment=_wrap_top),
        _style("aip_text", alignment=_wrap_top),
        _style("aip_purpose", font=Font(italic=True), alignment=_wrap_top),
        _style("aip_label", font=Font(bold=True), alignment=_wrap_top),
        _style(
            "aip_header",
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor=HEADER_BLUE),
            border=BOX,
            alignment=Alignment(wrap_text=True, horizontal="center", vertical="center"),
        ),
        _style("aip_prefilled", fill=grey, border=BOX, protection=locked, alignment=_wrap_top),
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
    for style in named_styles():
        workbook.add_named_style(style)


def value_style(field: FieldSpec) -> str:
    """The named style of a field's value cell (pre-filled or input, by type)."""
    suffix = {FieldType.PERCENT: "_pct", FieldType.INTEGER: "_int", FieldType.DATE: "_date"}
    kind = "aip_prefilled" if field.prefilled else "aip_input"
    style = kind + suffix.get(field.type, "")
    return "aip_prefilled" if style == "aip_prefilled_date" else style
