"""The metadata sheet: identity, issued values and their HMAC; reading and checking it."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.spec import META_SHEET, spec_for
from aip_forms.workbook_format.metadata import (
    CHUNK_CHARS,
    Metadata,
    MetadataError,
    PrefilledChange,
    canonical_value,
    changed_prefilled,
    issue,
    issued_row_counts,
    metadata_from_rows,
    metadata_rows,
    prefilled_values,
    read_metadata,
    sign,
    verify,
)
from workbook_templates import synthetic
from workbook_templates.build import build_workbook

KEY = b"test-secret"
ISSUED = "2026-08-03T14:05:00Z"
LEA = Lea(code="001", name="BELEN CONSOLIDATED SCHOOLS")
SCHOOL = School(code="001-004", lea_code="001", name="BELEN HIGH", grade_low="9")


@pytest.fixture(scope="module")
def config() -> ProgramConfig:
    return ProgramConfig()


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(
        home=tmp_path_factory.mktemp("home"),
        database_url="sqlite://",
        secret_key=KEY,
        workbook_password="pw",
    )


@pytest.fixture(scope="module")
def data(config):
    return synthetic.plan_data(config, 2027, LEA, SCHOOL)


@pytest.fixture(scope="module")
def metadata(data) -> Metadata:
    return issue(spec_for(data.kind), data, KEY, ISSUED)


def saved(wb: Workbook) -> Workbook:
    buffer = io.BytesIO()
    wb.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


def test_the_issued_metadata_names_the_workbook_and_verifies(metadata):
    assert (metadata.kind, metadata.spec_version, metadata.fiscal_year) == (
        PlanKind.SCHOOL,
        1,
        2027,
    )
    assert (metadata.lea_code, metadata.school_code, metadata.issued_at) == (
        "001",
        "001-004",
        ISSUED,
    )
    assert len(metadata.signature) == 64
    assert verify(metadata, KEY)
    assert not verify(metadata, b"another deployment's key")


def test_prefilled_values_cover_names_codes_rows_and_their_labels(data, metadata):
    values = metadata.prefilled
    assert values == prefilled_values(spec_for(data.kind), data)
    assert values["1 Contact Information!C5"] == "BELEN CONSOLIDATED SCHOOLS"
    assert values["1 Contact Information!C8"] == "001-004"
    assert values["2A Demographic Targets!A6"] == "All Students"
    assert values["2A Demographic Targets!B6"] == data.subgroups[0].enrollment
    assert values["2A Demographic Targets!E6"] == round(data.subgroups[0].rates[-1] / 100, 6)
    assert values["2B Grade Targets!A6"] == "Grade 9"
    assert values["6 Progress Updates!A6"] == "80-day"
    assert values["4 Tiers of Support!F5"] == data.tier_counts[1]
    # input cells are not pre-filled values
    assert "2A Demographic Targets!F6" not in values


@pytest.mark.parametrize(
    "change",
    [
        {"lea_code": "002"},
        {"school_code": "001-005"},
        {"school_code": None},
        {"fiscal_year": 2028},
        {"kind": PlanKind.DISTRICT},
        {"spec_version": 2},
        {"issued_at": "2026-08-03T14:05:01Z"},
    ],
)
def test_any_altered_identity_fails_verification(metadata, change):
    assert not verify(dataclasses.replace(metadata, **change), KEY)


def test_one_altered_prefilled_value_fails_verification(metadata):
    for key in ("2A Demographic Targets!B6", "2A Demographic Targets!A6", "4 Tiers of Support!F5"):
        altered = {**metadata.prefilled, key: 1}
        assert not verify(dataclasses.replace(metadata, prefilled=altered), KEY), key
    dropped = dict(list(metadata.prefilled.items())[1:])
    assert not verify(dataclasses.replace(metadata, prefilled=dropped), KEY)


def test_the_signature_does_not_depend_on_key_order_or_float_noise(metadata):
    reordered = dict(reversed(list(metadata.prefilled.items())))
    noisy = {k: v + 1e-9 if isinstance(v, float) else v for k, v in reordered.items()}
    assert verify(dataclasses.replace(metadata, prefilled=noisy), KEY)


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        (0.1234567, 0.123457),
        (0.12345699999999999, 0.123457),
        (1.0, 1),
        (0.0, 0),
        (-0.0, 0),
        (250, 250),
        ("", None),
        (None, None),
        ("BELEN\x07 HIGH", "BELEN HIGH"),
        ("a\r\nb", "a\nb"),
        ("=1+1", "=1+1"),
    ],
)
def test_canonical_values(value, canonical):
    result = canonical_value(value)
    assert result == canonical and type(result) is type(canonical)


def test_canonical_values_refuse_what_a_cell_cannot_hold():
    with pytest.raises(ValueError):
        canonical_value(float("nan"))
    with pytest.raises(TypeError):
        canonical_value(True)


def test_the_metadata_sheet_reads_back_as_issued(data, config, settings):
    wb = saved(build_workbook(spec_for(data.kind), data, config, settings, issued_at=ISSUED))
    assert wb[META_SHEET].sheet_state == "veryHidden"
    metadata = read_metadata(wb)
    assert metadata == issue(spec_for(data.kind), data, KEY, ISSUED)
    assert verify(metadata, KEY)
    assert changed_prefilled(wb, metadata) == []


def test_a_changed_locked_cell_is_reported_with_its_issued_value(data, config, settings):
    wb = saved(build_workbook(spec_for(data.kind), data, config, settings, issued_at=ISSUED))
    metadata = read_metadata(wb)
    wb["2A Demographic Targets"]["B6"] = 9999
    wb["1 Contact Information"]["C7"] = "SOMEWHERE ELSE HIGH"
    wb["2A Demographic Targets"]["E6"] = None
    changes = changed_prefilled(saved(wb), metadata)
    assert changes == [
        PrefilledChange(
            "1 Contact Information!C7",
            "1 Contact Information",
            "C7",
            "BELEN HIGH",
            "SOMEWHERE ELSE HIGH",
        ),
        PrefilledChange(
            "2A Demographic Targets!B6",
            "2A Demographic Targets",
            "B6",
            data.subgroups[0].enrollment,
            9999,
        ),
        PrefilledChange(
            "2A Demographic Targets!E6",
            "2A Demographic Targets",
            "E6",
            round(data.subgroups[0].rates[-1] / 100, 6),
            None,
        ),
    ]


def test_altered_metadata_on_the_sheet_fails_verification(data, config, settings):
    wb = saved(build_workbook(spec_for(data.kind), data, config, settings, issued_at=ISSUED))
    ws = wb[META_SHEET]
    row = next(
        r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "school_code"
    )
    ws.cell(row=row, column=2).value = "001-005"
    assert not verify(read_metadata(saved(wb)), KEY)

    wb = saved(build_workbook(spec_for(data.kind), data, config, settings, issued_at=ISSUED))
    ws = wb[META_SHEET]
    row = next(
        r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "prefilled_1"
    )
    ws.cell(row=row, column=2).value = ws.cell(row=row, column=2).value.replace(
        "All Students", "Everyone"
    )
    assert not verify(read_metadata(saved(wb)), KEY)


def test_long_issued_values_are_split_over_cells_that_excel_can_hold(config, settings):
    schools = tuple(
        School(code=f"001-{i:03d}", lea_code="001", name=f"A RATHER LONG SCHOOL NAME NUMBER {i}")
        for i in range(400)
    )
    data = synthetic.plan_data(config, 2027, LEA, None, schools)
    metadata = issue(spec_for(data.kind), data, KEY, ISSUED)
    rows = dict(metadata_rows(metadata))
    parts = int(rows["prefilled_parts"])
    assert parts >= 2
    assert all(len(rows[f"prefilled_{i}"]) <= CHUNK_CHARS for i in range(1, parts + 1))
    assert (
        json.loads("".join(rows[f"prefilled_{i}"] for i in range(1, parts + 1)))
        == metadata.prefilled
    )
    wb = saved(build_workbook(spec_for(data.kind), data, config, settings, issued_at=ISSUED))
    assert read_metadata(wb) == metadata


def test_a_workbook_without_metadata_or_with_damaged_metadata_is_refused(metadata):
    with pytest.raises(MetadataError, match="missing"):
        read_metadata(Workbook())
    rows = dict(metadata_rows(metadata))
    assert metadata_from_rows(rows) == metadata
    for damage in (
        {"format": "something else"},
        {"fiscal_year": "next year"},
        {"prefilled_1": '{"broken'},
        {"prefilled_1": "[1, 2]", "prefilled_parts": "1"},
        {"kind": "county"},
    ):
        with pytest.raises(MetadataError):
            metadata_from_rows({**rows, **damage})
    without = {k: v for k, v in rows.items() if k != "signature"}
    with pytest.raises(MetadataError):
        metadata_from_rows(without)


def test_numbers_that_a_spreadsheet_program_turned_into_numbers_still_read(metadata):
    wb = Workbook()
    ws = wb.active
    ws.title = META_SHEET
    numeric = {"format_version", "spec_version", "fiscal_year", "prefilled_parts"}
    for key, value in metadata_rows(metadata):
        ws.append([key, float(value) if key in numeric and value else value])
    assert read_metadata(wb) == metadata


def test_issued_row_counts_give_the_length_of_every_data_driven_table(data, metadata, config):
    district = synthetic.plan_data(
        config,
        2027,
        LEA,
        None,
        tuple(School(code=f"S{i}", lea_code="001", name=f"S{i}") for i in range(3)),
    )
    assert issued_row_counts(spec_for(data.kind), metadata) == {
        "subgroups": len(config.subgroups),
        "grades": 4,
        "periods": 3,
    }
    issued = issue(spec_for(district.kind), district, KEY, ISSUED)
    assert issued_row_counts(spec_for(district.kind), issued)["schools"] == 3


def test_signing_twice_gives_the_same_signature(metadata):
    assert sign(dataclasses.replace(metadata, signature=""), KEY) == metadata


def test_chunks_count_characters_as_excel_does(metadata):
    wide = {f"Sheet!A{i}": "\U0001f3eb" * 100 for i in range(1, 400)}  # a school emoji
    rows = dict(metadata_rows(dataclasses.replace(metadata, prefilled=wide)))
    parts = [rows[f"prefilled_{i}"] for i in range(1, int(rows["prefilled_parts"]) + 1)]
    assert len(parts) >= 3
    assert all(len(p.encode("utf-16-le")) // 2 <= CHUNK_CHARS for p in parts)
    assert json.loads("".join(parts)) == wide
