"""Problems found in an uploaded workbook, as data, and the one catalogue of their messages.

Every step (intake, reading, validation rules) reports `Problem`s made with
`problem(code, ...)`. The wording of every message lives in `CATALOGUE`, keyed by a stable
code, so it is reviewed in one place and a code never changes meaning. A step adds its codes as
one more family merged into `CATALOGUE` below.

`UnreadableWorkbook` is raised only for files that cannot be read at all; it carries every
problem found. Everything else is returned as data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None  # "D14"
    field: str | None = None  # the spec's field key
    value: str | None = None  # what was found, shortened

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class Message:
    """A catalogue entry: `template` is formatted with the keyword arguments of `problem`."""

    severity: Severity
    template: str


SAVE_AS_XLSX = "In Excel, choose File > Save As > Excel Workbook (.xlsx) and upload that file."
RESAVE = (
    "Open the plan workbook in Excel, choose File > Save As > Excel Workbook (.xlsx) and "
    "upload the new copy."
)


def _error(template: str) -> Message:
    return Message("error", template)


INTAKE_MESSAGES: Mapping[str, Message] = {
    "INTAKE_EMPTY": _error(
        "The file is empty (0 bytes). Upload the plan workbook again; if it is still empty, "
        + RESAVE
    ),
    "INTAKE_TOO_LARGE": _error(
        "The file is {size}, more than the {limit} allowed. Delete pictures or sheets you "
        "added, then save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_NOT_ZIP": _error(
        "This file is not an Excel workbook. Open the plan workbook you downloaded in Excel, "
        "choose File > Save As > Excel Workbook (.xlsx) and upload that file."
    ),
    "INTAKE_NOT_XLSX": _error(
        "This file is a compressed package but not an Excel workbook (it may be a Word or "
        "PowerPoint file or a .zip archive). Upload the plan workbook itself. " + SAVE_AS_XLSX
    ),
    "INTAKE_XLS": _error(
        "This is an Excel 97-2003 workbook (.xls), an old format that cannot be accepted. "
        + SAVE_AS_XLSX
    ),
    "INTAKE_XLS_OLD": _error(
        "This is a workbook from Excel 2.x to 5.0 (BIFF, .xls), a format decades old that "
        "cannot be accepted. " + SAVE_AS_XLSX
    ),
    "INTAKE_PICTURE": _error(
        "This file is a picture ({kind}), not an Excel workbook. To show a logo, insert the "
        "picture into the plan workbook in Excel, then save it as Excel Workbook (.xlsx) and "
        "upload that workbook."
    ),
    "INTAKE_XLSB": _error(
        "This is an Excel Binary Workbook (.xlsb), which cannot be accepted. " + SAVE_AS_XLSX
    ),
    "INTAKE_ODS": _error(
        "This is an OpenDocument spreadsheet (.ods), which cannot be accepted. In LibreOffice "
        "or Google Sheets, save or download it as Excel Workbook (.xlsx) and upload that file."
    ),
    "INTAKE_CSV": _error(
        "This is a text file (such as CSV), not an Excel workbook; text keeps only one sheet and "
        "none of the plan's structure. Upload the plan workbook itself. " + SAVE_AS_XLSX
    ),
    "INTAKE_PDF": _error(
        "This is a PDF, which cannot be read back into a plan. Upload the filled-in plan "
        "workbook instead. " + SAVE_AS_XLSX
    ),
    "INTAKE_ENCRYPTED": _error(
        "The workbook is protected with a password to open, so it cannot be read. In Excel, "
        "open it and choose File > Info > Protect Workbook > Encrypt with Password, delete the "
        "password, save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_MACRO": _error(
        "The workbook contains macros or ActiveX controls ({part}), which are not accepted. "
        "In Excel, delete any buttons or controls you added, choose File > Save As > Excel "
        "Workbook (.xlsx) (not Excel Macro-Enabled Workbook) and upload that file."
    ),
    "INTAKE_EXTERNAL_LINK": _error(
        "The workbook links to another file or data source ({part}). In Excel, choose Data > "
        "Edit Links > Break Link and remove any connections under Data > Queries & "
        "Connections, then save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_EXTERNAL_TARGET": _error(
        "The workbook loads {target} from outside the file (referenced by {part}), for example "
        "a linked picture or object. Insert the picture or object into the workbook instead of "
        "linking to it, or delete it, then save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_EMBEDDED_OBJECT": _error(
        "The workbook contains an embedded object or file ({part}); documents and other files "
        "cannot be attached to a plan. Delete the object in Excel, save as Excel Workbook "
        "(.xlsx) and upload it again."
    ),
    "INTAKE_STRICT": _error(
        "The workbook is saved as Strict Open XML Spreadsheet, which cannot be read. "
        + SAVE_AS_XLSX
    ),
    "INTAKE_TOO_MANY_ENTRIES": _error(
        "The file holds more than {limit} parts, the most a plan workbook may have. Delete "
        "sheets or pictures you added, then save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_UNCOMPRESSED_TOO_LARGE": _error(
        "The file expands to {size} when opened, more than the {limit} allowed. Delete sheets, "
        "rows or pictures you added, then save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_COMPRESSION_RATIO": _error(
        "Part {part} expands {ratio} times when opened, more than Excel's compression ever "
        "gives to real content, so the file was refused. " + RESAVE
    ),
    "INTAKE_SIZE_MISMATCH": _error(
        "Part {part} holds {detail} than the file's index declares, so the file is damaged or "
        "was altered. " + RESAVE
    ),
    "INTAKE_TRUNCATED": _error(
        "The file is incomplete or damaged; it may have been cut off while uploading or "
        "copying. Upload it again; if that fails, open the plan workbook in Excel, choose "
        "File > Save As > Excel Workbook (.xlsx) and upload the new copy."
    ),
    "INTAKE_CORRUPT": _error(
        "Part {part} of the file is damaged ({reason}). Open the workbook in Excel (let Excel "
        "repair it if asked), save as Excel Workbook (.xlsx) and upload the new copy."
    ),
    "INTAKE_DUPLICATE_ENTRY": _error(
        "The file holds the part {part} more than once, which Excel never does, so it was "
        "altered or damaged. " + RESAVE
    ),
    "INTAKE_UNSAFE_NAME": _error(
        "The file holds a part with an unsafe name ({part}), which Excel never writes. " + RESAVE
    ),
    "INTAKE_UNSUPPORTED_ZIP": _error(
        "Part {part} is stored in a way Excel never uses ({feature}). " + RESAVE
    ),
    "INTAKE_XML_UNSAFE": _error(
        "Part {part} declares a document type or entities, which Excel never writes and which "
        "are used in attacks, so the file was refused. " + RESAVE
    ),
    "INTAKE_XML_MALFORMED": _error(
        "Part {part} is not well-formed XML ({reason}), so the file is damaged or was not made "
        "by Excel. " + RESAVE
    ),
    "INTAKE_TOO_MANY_ELEMENTS": _error(
        "Part {part} holds more than {limit} XML elements, far more than a plan workbook "
        "(about 20,000 in all), so it was not read. Delete sheets, rows or drawings you added, "
        "then save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_TOO_MANY_ELEMENTS_IN_ALL": _error(
        "The workbook holds more than {limit} XML elements in all (counting stopped at part "
        "{part}), far more than a plan workbook (about 20,000), so it was not read. Delete "
        "sheets, rows or drawings you added, then save as Excel Workbook (.xlsx) and upload it "
        "again."
    ),
    "INTAKE_TOO_DEEP": _error(
        "Part {part} nests XML elements more than {limit} levels deep, which Excel never "
        "writes, so the file was refused. " + RESAVE
    ),
    "INTAKE_TOO_SLOW": _error(
        "Reading the workbook took more than {limit} seconds (stopped at part {part}); a plan "
        "workbook reads in a fraction of that, so this one holds far more than a plan. Delete "
        "sheets, rows or drawings you added, then save as Excel Workbook (.xlsx) and upload it "
        "again."
    ),
    "INTAKE_DUPLICATE_SHEET": _error(
        "The workbook has two sheets named {sheet}, which Excel does not allow, so we cannot "
        "tell which one you filled in. Start from the workbook you downloaded, or in Excel "
        "delete the extra copy, save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_DUPLICATE_CELL": _error(
        "Sheet {sheet} holds cell {cell} twice, which Excel does not allow, so we cannot tell "
        "which value you entered. Open the workbook in Excel (let it repair the file), check "
        "the cell, save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_DUPLICATE_ROW": _error(
        "Sheet {sheet} holds row {row} twice or out of order, which Excel does not allow, so "
        "we cannot tell which values you entered. Open the workbook in Excel (let it repair "
        "the file), check the row, save as Excel Workbook (.xlsx) and upload it again."
    ),
    "INTAKE_ROW_TOO_WIDE": _error(
        "Row {row} of sheet {sheet} holds more cells than Excel's {limit} columns, so the "
        "file was not made by Excel. " + RESAVE
    ),
    "INTAKE_RENAMED": Message(
        "warning",
        "The file is named {filename} but holds an Excel Workbook (.xlsx), and was read as "
        "one. Keep the .xlsx ending when you save it next time.",
    ),
}

FRESH = "Download a fresh workbook for this plan from the portal and enter your answers in it."

IDENTITY_MESSAGES: Mapping[str, Message] = {
    "WORKBOOK_UNREADABLE": _error("The workbook could not be read ({reason}). " + RESAVE),
    "META_MISSING": _error(
        "This is not a plan workbook issued by aip-forms: {reason}. Upload the workbook you "
        "downloaded for this plan. " + FRESH
    ),
    "META_SIGNATURE_INVALID": _error(
        "This workbook's identity data does not match its signature: it was altered or was not "
        "issued by this system. " + FRESH
    ),
    "SPEC_VERSION_UNSUPPORTED": _error(
        "This workbook was issued for an older version of the plan form (version {version}), "
        "which is no longer accepted. " + FRESH
    ),
    "WRONG_KIND": _error(
        "This is a {found} plan workbook, but a {expected} plan was expected. Upload the "
        "{expected} plan workbook."
    ),
    "WRONG_FISCAL_YEAR": _error(
        "This workbook is for FY{found}, but this upload is for FY{expected}. Upload the "
        "FY{expected} workbook."
    ),
    "WRONG_LEA": _error(
        "This workbook is for LEA {found}, but this upload is for LEA {expected}. Check that you "
        "picked your own workbook."
    ),
    "WRONG_SCHOOL": _error(
        "This workbook is for school {found}, but this upload is for school {expected}. Check "
        "that you picked the right school's workbook."
    ),
    "PREFILL_CHANGED": _error(
        "This grey cell holds {agency} data and must not change: it was issued as {issued}. "
        "Undo the change (or copy your answers into a fresh workbook)."
    ),
    "PREFILL_FORMULA": _error(
        "Cell {cell} on sheet {sheet} was filled in for you and is locked, but now holds a "
        "formula ({formula}). Type the issued value back in, or: " + FRESH
    ),
    "NAME_MOVED": _error(
        "The named range {name} was issued as {issued} but now points to {found}, so rows, "
        "columns or cells of the plan were moved. Undo the change (delete inserted rows or "
        "columns), or: " + FRESH
    ),
    "SHEET_MISSING": _error("The sheet {sheet} ({section}) is missing from the workbook. " + FRESH),
    "SHEET_TOO_LONG": _error(
        "This sheet has entries far below the plan (the first at {cell}); only its first "
        "{limit} rows are read. Delete the rows below the plan and upload the workbook again."
    ),
}

PLAN_MESSAGES: Mapping[str, Message] = {
    "VALUE_INVALID": _error("{label}: {reason}."),
    "FORMULA_IN_INPUT": _error(
        "{label}: formulas are not accepted in answer cells. Type the value itself."
    ),
    "REQUIRED_MISSING": _error("{label} is required."),
    "EMAIL_INVALID": _error("Not a valid email address: {reason}"),
    "VALUE_OUT_OF_RANGE": _error("{label} must be between {low} and {high}; it is {found}."),
    "TEXT_TOO_LONG": _error(
        "{label} is {length} characters long; at most {limit} are allowed. Shorten it."
    ),
    "TARGET_MISSING": _error(
        "Enter a target for {group}: it has {enrollment} students, at or above the minimum "
        "group size of {minimum}."
    ),
    "SCHOOL_TARGET_MISSING": _error(
        "Enter a target for {school}: every school with data needs one."
    ),
    "NOT_APPLICABLE_FILLED": _error(
        "{sheet}!{cell}: {group} {why}, so it needs no "
        "{label_lower} and the cell must stay n/a; {found} was entered. Delete it."
    ),
    "TARGET_NOT_BELOW_LATEST": Message(
        "warning",
        "The target for {group} ({target}) is not below its latest {metric} "
        "({latest}). A target should aim lower than the latest rate.",
    ),
    "TARGET_BELOW_MINIMUM": _error(
        "The target for {group} ({target}) is below the minimum of {minimum}: the previous "
        "year's {latest} plus {points} points. Enter {minimum} or more."
    ),
    "TIER_NO_STRATEGY": _error("{label}: add at least one strategy for Tier {tier}."),
    "STRATEGY_MISSING": _error(
        "This Tier {tier} row has an implementation plan but no strategy. Pick a strategy "
        "from the list (or Other)."
    ),
    "STRATEGY_NOT_IN_CATALOG": _error(
        '"{found}" is not a Tier {tier} strategy. Pick one from the list, or choose Other and '
        "describe it in the next column."
    ),
    "OTHER_STRATEGY_TEXT_MISSING": _error(
        "You chose Other: describe the strategy in Other Strategy."
    ),
    "STRATEGY_PLAN_INCOMPLETE": _error('{label} is required for the strategy "{strategy}".'),
    "ROWS_TOO_FEW": _error(
        "{section}: {label} needs at least {minimum} filled row(s); {found} filled. Add one "
        "from this row."
    ),
    "ROW_INCOMPLETE": _error("{label} is required in every row of {table} that you fill."),
    "ROOT_CAUSE_MISSING": _error("{label} is required in the root cause analysis."),
    "CERTIFICATION_NOT_CONFIRMED": _error(
        'A final submission must be certified: choose Yes for "{label}".'
    ),
}


def merge_catalogues(*families: Mapping[str, Message]) -> Mapping[str, Message]:
    merged: dict[str, Message] = {}
    for family in families:
        clash = merged.keys() & family.keys()
        if clash:
            raise ValueError(f"problem codes defined twice: {sorted(clash)}")
        merged.update(family)
    return MappingProxyType(merged)


# Progress updates (issue 12): identity and rules of a progress workbook.
PROGRESS_MESSAGES: Mapping[str, Message] = {
    "WRONG_PERIOD": _error(
        "This workbook is the progress update for period {found}, but this upload is for "
        "period {expected}. Upload the period {expected} progress workbook."
    ),
    "ADJUSTED_TARGET_MISSING": _error(
        "Enter an adjusted target for the next period for {group}: its target in force is "
        "{current}."
    ),
    "ADJUSTED_TARGET_OUT_OF_RANGE": _error(
        "The adjusted target for {group} must be between 0% and 100%; it is {found}."
    ),
    "RAISED_TARGET_NO_REASON": _error(
        "The adjusted target for {group} ({adjusted}) is {side} the target in force "
        "({current}): {less_ambitious}. Say why in the next column."
    ),
    "STRATEGY_RATING_MISSING": _error(
        'Rate the strategy "{strategy}" (Tier {tier}): Effective, Partly effective, Not '
        "effective or Not started."
    ),
    "STRATEGY_RATING_UNKNOWN": _error(
        'The rating of "{strategy}" is "{found}": pick Effective, Partly effective, Not '
        "effective or Not started from the list."
    ),
    "STRATEGY_REFLECTION_MISSING": _error(
        'Say what happened with the strategy "{strategy}" (Tier {tier}) this period.'
    ),
}

# One family of codes per pipeline step; add a step's family here.
CATALOGUE: Mapping[str, Message] = merge_catalogues(
    INTAKE_MESSAGES, IDENTITY_MESSAGES, PLAN_MESSAGES, PROGRESS_MESSAGES
)

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
PARAM_LIMIT = 80
VALUE_LIMIT = 200


def shorten(text: str, limit: int) -> str:
    """Make untrusted text safe to show: no control characters, at most `limit` characters."""
    text = _UNPRINTABLE.sub("?", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem(
    code: str,
    *,
    sheet: str | None = None,
    cell: str | None = None,
    field: str | None = None,
    value: object = None,
    **params: object,
) -> Problem:
    """The Problem for `code`, its message formatted with `params`.

    Parameters often come from the uploaded file (part names, link targets), so each is
    shortened and stripped of control characters before it reaches a message.
    """
    entry = CATALOGUE[code]
    shown = {key: shorten(str(param), PARAM_LIMIT) for key, param in params.items()}
    # A message may name the problem's place ({sheet}, {cell}) like any other parameter.
    place = {key: shorten(at, PARAM_LIMIT) for key, at in (("sheet", sheet), ("cell", cell)) if at}
    return Problem(
        code=code,
        severity=entry.severity,
        message=entry.template.format(**place, **shown),
        sheet=sheet,
        cell=cell,
        field=field,
        value=None if value is None else shorten(str(value), VALUE_LIMIT),
    )


class UnreadableWorkbook(Exception):
    """The upload cannot be read at all; `problems` says every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("UnreadableWorkbook needs at least one problem")
        super().__init__("; ".join(p.message for p in self.problems))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]
