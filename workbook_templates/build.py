"""The reference builder: form spec + PlanData -> an openpyxl Workbook, cell by cell.

Sheets: Instructions, one per spec section, the hidden lookup sheet and the very hidden
metadata sheet. Pre-filled cells are grey and locked, input cells light yellow and
unlocked with an input prompt and a data validation; every field and table column has a
defined name (`FormSpec.field_name`). Used for single workbooks, to compile the templates
of the fast statewide path (`compiled`), and as the baseline both are tested against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.worksheet.worksheet import Worksheet

from aip_forms.config import ProgramConfig, Settings
from aip_forms.issued_data import PlanData
from aip_forms.spec import (
    INSTRUCTIONS_SHEET,
    LOOKUP_SHEET,
    META_SHEET,
    NOT_APPLICABLE,
    FieldSpec,
    FieldType,
    FormSpec,
    SectionSpec,
    TableSpec,
)
from aip_forms.workbook_format.layout import (
    TableRows,
    absolute,
    cell_key,
    column_label,
    error_message,
    input_prompt,
    is_variable,
    legend,
    lookup_lists,
    lookup_ref,
    shows_numbers,
    split_key,
    table_rows,
)
from aip_forms.workbook_format.metadata import issue, issued_at_text, metadata_rows
from aip_forms.workbook_format.prefill import CellValue, not_applicable_cells
from workbook_templates import fit, styles
from workbook_templates.instructions import entity_cells, instruction_lines

LABEL_WIDTH = 34
LONG_TEXT_FIELD_HEIGHT = 110
LONG_TEXT_ROW_HEIGHT = 45
Lists = dict[str, tuple[str, ...]]


def build_workbook(
    spec: FormSpec,
    data: PlanData,
    config: ProgramConfig,
    settings: Settings,
    *,
    issued_at: str | None = None,
) -> Workbook:
    """The plan workbook for `data`, pre-filled, protected and signed."""
    if spec.kind is not data.kind:
        raise ValueError(f"a {spec.kind} spec cannot build a {data.kind} plan")
    metadata = issue(spec, data, settings.secret_key, issued_at or issued_at_text())
    cells = {
        **metadata.prefilled,
        **not_applicable_cells(spec, data, metadata.prefilled),
        **entity_cells(spec, data, config),
    }
    wb = assemble(
        spec,
        data.fiscal_year,
        config,
        settings.workbook_password,
        table_rows(spec, data),
        cells,
        metadata_rows(metadata),
    )
    wb.properties.created = dt.datetime.strptime(metadata.issued_at, "%Y-%m-%dT%H:%M:%SZ")
    return wb


def assemble(
    spec: FormSpec,
    fiscal_year: int,
    config: ProgramConfig,
    password: str,
    tables: Sequence[TableRows],
    cells: Mapping[str, CellValue],
    meta_rows: Sequence[tuple[str, str | None]],
) -> Workbook:
    """Lay out a workbook: `tables` says how many rows each table has and where its ranges
    end; `cells` holds the entity's values ("Sheet!A1" -> value)."""
    wb = Workbook()
    styles.register(wb)
    lists = lookup_lists(spec, config)
    instructions = wb.active
    assert instructions is not None
    instructions.title = INSTRUCTIONS_SHEET
    _instructions_sheet(instructions, spec, config, fiscal_year, cells)
    for section in spec.sections:
        ws = wb.create_sheet(section.sheet)
        mine = [t for t in tables if t.section.key == section.key]
        _section_sheet(ws, spec, section, mine, cells, lists, fiscal_year, config)
        _define_names(wb, spec, section, mine)
    for ws in wb.worksheets:  # after every value and merge: nothing runs over the next row
        fit.fit_rows(ws, skip={split_key(k)[1] for k in cells if split_key(k)[0] == ws.title})
    _lookup_sheet(wb.create_sheet(LOOKUP_SHEET), lists)
    _meta_sheet(wb.create_sheet(META_SHEET), meta_rows)
    for ws in wb.worksheets:
        protect(ws, password)
    wb.security = WorkbookProtection(workbookPassword=password, lockStructure=True)
    wb.properties.creator = "aip-forms"
    wb.properties.title = f"{spec.title} FY{fiscal_year}"
    return wb


def put(cell: Cell | MergedCell, value: CellValue) -> None:
    """Write a value; text is always text, never a formula (a school named "=HYPERLINK()")."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def _row_height(text: str, width: float) -> float:
    return fit.height_for(text, width)


def _instructions_sheet(
    ws: Worksheet,
    spec: FormSpec,
    config: ProgramConfig,
    fiscal_year: int,
    cells: Mapping[str, CellValue],
) -> None:
    width = 72
    ws.column_dimensions["A"].width = width
    for row, line in enumerate(instruction_lines(spec, config, fiscal_year), start=1):
        key = cell_key(INSTRUCTIONS_SHEET, f"A{row}")
        if key not in cells and not line.text:
            continue
        cell = ws.cell(row=row, column=1)
        cell.style = line.style
        put(cell, cells.get(key, line.text))
        if len(line.text) > width:
            ws.row_dimensions[row].height = _row_height(line.text, width)
        elif line.style == "aip_for":  # names vary: room for three lines (a long school's)
            ws.row_dimensions[row].height = 3 * fit.line_height(12) + 3
        elif line.lines > 1:  # an entity's text, known per workbook: the room it may need
            ws.row_dimensions[row].height = line.lines * fit.LINE_POINTS + 3
    print_setup(ws, landscape=False)


def _column_widths(section: SectionSpec) -> dict[str, float]:
    widths: dict[str, float] = {}
    for table in section.tables:
        for column in table.columns:
            assert column.column
            widths[column.column] = max(widths.get(column.column, 0), column.width)
    for field in section.fields:
        assert field.cell
        letter, _ = coordinate_from_string(field.cell)
        widths[letter] = max(widths.get(letter, 0), field.width)
        label, _ = coordinate_from_string(field.label_cell)
        if label != letter:
            widths[label] = max(widths.get(label, 0), LABEL_WIDTH)
    return widths


def _section_sheet(
    ws: Worksheet,
    spec: FormSpec,
    section: SectionSpec,
    tables: Sequence[TableRows],
    cells: Mapping[str, CellValue],
    lists: Lists,
    fiscal_year: int,
    config: ProgramConfig,
) -> None:
    widths = _column_widths(section)
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    last_index = max(4, *(column_index_from_string(x) for x in widths))
    last = get_column_letter(last_index)
    total_width = sum(widths.get(get_column_letter(i), 8.43) for i in range(1, last_index + 1))

    ws["A1"].style = "aip_title"
    put(ws["A1"], f"{section.title} (FY{fiscal_year})")
    helps = [t.table.help for t in tables if t.table.help]
    if any(shows_numbers(t.table) for t in tables):
        helps.append(legend(config.min_group_size))  # right above the table it explains
    for row, text, style in (
        (2, section.purpose, "aip_purpose"),
        (3, "\n".join(dict.fromkeys([*section.instructions, *helps])), "aip_text"),
    ):
        if text:
            ws.merge_cells(f"A{row}:{last}{row}")
            ws[f"A{row}"].style = style
            put(ws[f"A{row}"], text)
            ws.row_dimensions[row].height = _row_height(text, total_width)

    for field in section.fields:
        assert field.cell
        label = ws[field.label_cell]
        label.style = "aip_label"
        put(label, field.label)
        cell = ws[field.cell]
        cell.style = styles.value_style(field)
        if field.prefilled:
            put(cell, cells.get(cell_key(section.sheet, field.cell)))
        else:
            _validate(ws, field, None, field.cell, lists, fiscal_year)
            if field.type is FieldType.LONG_TEXT:
                ws.row_dimensions[cell.row].height = LONG_TEXT_FIELD_HEIGHT

    for rows in tables:
        _table(ws, section, rows, cells, lists, fiscal_year)

    variable = [t for t in tables if is_variable(t.table)]
    if variable:
        ws.freeze_panes = f"A{variable[0].first_row}"
        header = variable[0].table.header_row
        ws.print_title_rows = f"{header}:{header}"
    print_setup(ws, landscape=True)


def _table(
    ws: Worksheet,
    section: SectionSpec,
    rows: TableRows,
    cells: Mapping[str, CellValue],
    lists: Lists,
    fiscal_year: int,
) -> None:
    table = rows.table
    if table.label_cell:
        label = ws[table.label_cell]
        label.style = "aip_heading"
        put(label, table.label)
    for column in table.columns:
        header = ws[f"{column.column}{table.header_row}"]
        header.style = "aip_header"
        put(header, column_label(column, fiscal_year))
    ws.row_dimensions[table.header_row].height = 45
    tall = any(c.type is FieldType.LONG_TEXT for c in table.columns)
    for row in range(rows.first_row, rows.last_row + 1):
        for column in table.columns:
            cell = ws[f"{column.column}{row}"]
            cell.style = styles.value_style(column)
            if column.prefilled:
                put(cell, cells.get(cell_key(section.sheet, cell.coordinate)))
            elif cells.get(cell_key(section.sheet, cell.coordinate)) == NOT_APPLICABLE:
                cell.style = styles.NOT_APPLICABLE_STYLE  # a row without data: no target
                put(cell, NOT_APPLICABLE)
        if tall:
            ws.row_dimensions[row].height = LONG_TEXT_ROW_HEIGHT
    for column in table.columns:
        if column.is_input:
            _validate(ws, column, table, rows.column_range(column), lists, fiscal_year)


def _validate(
    ws: Worksheet,
    field: FieldSpec,
    table: TableSpec | None,
    sqref: str,
    lists: Lists,
    fiscal_year: int,
) -> None:
    """An input prompt from the help text, and the field's constraint when it has one."""
    title = column_label(field, fiscal_year)[:32]
    dv = DataValidation(
        showInputMessage=True,
        showErrorMessage=True,
        allow_blank=True,
        promptTitle=title,
        prompt=input_prompt(field, table),
        errorTitle=title,
        error=error_message(field),
        errorStyle="stop",
    )
    match field.type:
        case FieldType.CHOICE | FieldType.CONFIRM:
            if not field.choices:
                raise ValueError(f"choice field {field.key!r} names no lookup list")
            dv.type = "list"
            dv.formula1 = lookup_ref(lists, field.choices)
        case FieldType.PERCENT | FieldType.INTEGER:
            dv.type = "decimal" if field.type is FieldType.PERCENT else "whole"
            dv.operator = "between"
            low = field.min_value if field.min_value is not None else 0
            default_high = 1 if field.type is FieldType.PERCENT else 1_000_000_000
            high = field.max_value if field.max_value is not None else default_high
            dv.formula1, dv.formula2 = f"{low:g}", f"{high:g}"
        case FieldType.DATE:
            dv.type = "date"
            dv.operator = "between"
            low_date, high_date = dt.date(fiscal_year - 2, 7, 1), dt.date(fiscal_year, 6, 30)
            dv.formula1 = str(int(to_excel(low_date)))
            dv.formula2 = str(int(to_excel(high_date)))
        case _ if field.max_length:
            dv.type = "textLength"
            dv.operator = "lessThanOrEqual"
            dv.formula1 = str(field.max_length)
        case _:
            dv.showErrorMessage = False
            dv.error = dv.errorTitle = None
    dv.add(sqref)
    ws.add_data_validation(dv)


def _define_names(
    wb: Workbook, spec: FormSpec, section: SectionSpec, tables: Sequence[TableRows]
) -> None:
    for field in section.fields:
        assert field.cell
        name = spec.field_name(section, field)
        wb.defined_names[name] = DefinedName(name, attr_text=absolute(section.sheet, field.cell))
    for rows in tables:
        for column in rows.table.columns:
            name = spec.field_name(section, column, rows.table)
            ref = absolute(section.sheet, rows.column_range(column))
            wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _lookup_sheet(ws: Worksheet, lists: Lists) -> None:
    ws.sheet_state = "hidden"
    for col, (name, values) in enumerate(lists.items(), start=1):
        ws.column_dimensions[get_column_letter(col)].width = 40
        put(ws.cell(row=1, column=col), name)
        for row, value in enumerate(values, start=2):
            put(ws.cell(row=row, column=col), value)


def _meta_sheet(ws: Worksheet, rows: Sequence[tuple[str, str | None]]) -> None:
    ws.sheet_state = "veryHidden"
    for row, (key, value) in enumerate(rows, start=1):
        put(ws.cell(row=row, column=1), key)
        if value is not None:
            put(ws.cell(row=row, column=2), value)


def protect(ws: Worksheet, password: str) -> None:
    ws.protection = SheetProtection(
        sheet=True,
        formatColumns=False,
        formatRows=False,
        selectLockedCells=True,
        selectUnlockedCells=False,
    )
    ws.protection.password = password


def print_setup(ws: Worksheet, *, landscape: bool) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    footer = ws.oddFooter
    assert footer is not None and footer.left is not None and footer.right is not None
    footer.left.text = "&A"
    footer.right.text = "Page &P of &N"
