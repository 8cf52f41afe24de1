"""The A1 helpers that stand in for openpyxl's on the validation path give openpyxl's
answers: every column, coordinates good and bad, ranges, quoting, serial dates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as OPENPYXL_ILLEGAL
from openpyxl.utils import cell as ox
from openpyxl.utils.datetime import from_excel as ox_from_excel

from aip_forms.workbook_format import a1


def test_every_column_letter_and_back() -> None:
    for index in range(1, a1.MAX_COLUMN + 1):
        letters = ox.get_column_letter(index)
        assert a1.get_column_letter(index) == letters
        assert a1.column_index_from_string(letters) == index
        assert a1.column_index_from_string(letters.lower()) == ox.column_index_from_string(
            letters.lower()
        )


@pytest.mark.parametrize("bad", [0, -1, 18_279])
def test_a_column_index_out_of_range_is_refused_by_both(bad: int) -> None:
    with pytest.raises(ValueError):
        ox.get_column_letter(bad)
    with pytest.raises(ValueError):
        a1.get_column_letter(bad)


def test_columns_stop_at_excels_last_where_openpyxl_goes_on_to_zzz() -> None:
    assert ox.column_index_from_string("XFE") == a1.MAX_COLUMN + 1
    with pytest.raises(ValueError):
        a1.column_index_from_string("XFE")
    with pytest.raises(ValueError):
        a1.get_column_letter(a1.MAX_COLUMN + 1)


@pytest.mark.parametrize("bad", ["", "AAAA", "A1", "Ä", " A"])
def test_a_column_name_that_is_not_one_is_refused_by_both(bad: str) -> None:
    with pytest.raises(ValueError):
        ox.column_index_from_string(bad)
    with pytest.raises(ValueError):
        a1.column_index_from_string(bad)


@pytest.mark.parametrize(
    "coordinate", ["A1", "b12", "$C$7", "XFD1048576", "A0", "1A", "A", "", "A1:B2", "AAAA1", " A1"]
)
def test_coordinates_read_alike(coordinate: str) -> None:
    try:
        expected: object = ox.coordinate_from_string(coordinate)
    except Exception as e:  # openpyxl raises its own CellCoordinatesException
        expected = type(e)
    try:
        found: object = a1.coordinate_from_string(coordinate)
    except ValueError as e:
        found = type(e)
    if isinstance(expected, tuple):
        assert found == expected
    else:
        assert found is ValueError


@pytest.mark.parametrize("reference", ["B12", "F6:F22", "A1:XFD1048576"])
def test_absolute_references_alike(reference: str) -> None:
    assert a1.absolute_coordinate(reference) == ox.absolute_coordinate(reference)


@pytest.mark.parametrize("name", ["Lists", "1 Contact Information", "O'Brien's", "a''b"])
def test_sheet_names_quoted_alike(name: str) -> None:
    assert a1.quote_sheetname(name) == ox.quote_sheetname(name)


@given(st.floats(min_value=0, max_value=2_958_465.999, allow_nan=False))
def test_serial_dates_alike(value: float) -> None:
    assert a1.from_excel(value) == ox_from_excel(value)


def test_the_illegal_characters_are_openpyxls() -> None:
    assert a1.ILLEGAL_CHARACTERS_RE.pattern == OPENPYXL_ILLEGAL.pattern
