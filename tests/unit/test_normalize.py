"""Cell values as Excel, LibreOffice and Google Sheets save them."""

import datetime as dt

import pytest

from validators.normalize import (
    clean_text,
    parse_confirm,
    parse_date,
    parse_integer,
    parse_number,
    parse_percent,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0.25, 0.25),
        (25, 0.25),
        ("25%", 0.25),
        ("25", 0.25),
        (" 25 % ", 0.25),
        ("0.25", 0.25),
        ("12.5%", 0.125),
        (0, 0.0),
        (1, 1.0),
        ("100%", 1.0),
        (None, None),
        ("", None),
        ("\u00a0", None),
    ],
)
def test_percent_forms(raw, expected):
    result = parse_percent(raw)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["twelve", "12..5", "1 2 %x", True])
def test_percent_rejects_text(raw):
    with pytest.raises(ValueError):
        parse_percent(raw)


def test_numbers_stored_as_text():
    assert parse_number("1,234") == 1234
    assert parse_number(" 12\u00a0") == 12
    assert parse_integer("42") == 42
    with pytest.raises(ValueError, match="whole number"):
        parse_integer("4.5")


@pytest.mark.parametrize(
    "raw",
    [
        46280,
        46280.0,
        "9/15/2026",
        "2026-09-15",
        "September 15, 2026",
        "15 September 2026",
        dt.datetime(2026, 9, 15, 0, 0),
        dt.date(2026, 9, 15),
    ],
)
def test_dates_as_serials_and_text(raw):
    assert parse_date(raw) == dt.date(2026, 9, 15)


def test_bad_date_says_how_to_write_it():
    with pytest.raises(ValueError, match="9/15/2026"):
        parse_date("next Tuesday")


def test_text_spaces():
    assert clean_text("  Kristin\u00a0 Garcia ") == "Kristin Garcia"
    assert clean_text("line one \r\n  line two") == "line one\nline two"
    assert clean_text("   ") is None
    assert clean_text(12.0) == "12"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Yes", True), ("yes ", True), (True, True), ("No", False), (None, None), ("x", True)],
)
def test_confirm(raw, expected):
    assert parse_confirm(raw) is expected


def test_confirm_rejects_other_text():
    with pytest.raises(ValueError, match="Yes or No"):
        parse_confirm("maybe")
