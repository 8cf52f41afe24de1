"""The object key scheme and key validation (aip_forms.storage.base)."""

from __future__ import annotations

import pytest

from aip_forms.domain import PlanKind
from aip_forms.storage import object_key
from aip_forms.storage.base import validate_key, validate_metadata, validate_prefix


def test_school_plan_key() -> None:
    key = object_key(2027, "001", "001012", PlanKind.SCHOOL, 3)
    assert key == "fy2027/lea-001/school-001012/school/v0003.xlsx"


def test_district_plan_key() -> None:
    key = object_key(2027, "001", None, PlanKind.DISTRICT, 1)
    assert key == "fy2027/lea-001/district/district/v0001.xlsx"


def test_other_kinds_and_extensions_sit_beside_the_workbooks() -> None:
    key = object_key(2027, "NM-07", "a_1", "rendered", 12, ext="pdf")
    assert key == "fy2027/lea-NM-07/school-a_1/rendered/v0012.pdf"


def test_versions_sort_in_order() -> None:
    keys = [object_key(2027, "001", "001012", "school", v) for v in (10, 9, 100, 1)]
    assert sorted(keys) == [object_key(2027, "001", "001012", "school", v) for v in (1, 9, 10, 100)]


@pytest.mark.parametrize(
    "lea, school",
    [
        ("", "001012"),
        ("001", ""),
        ("0/1", "001012"),
        ("001", "00/12"),
        ("..", "001012"),
        ("001", ".."),
        (".hidden", "001012"),
        ("001", "-12"),
        ("001 ", "001012"),
        ("a" * 17, "001012"),
        ("001", "x\\y"),
    ],
)
def test_bad_codes_are_refused(lea: str, school: str) -> None:
    with pytest.raises(ValueError, match="code"):
        object_key(2027, lea, school, "school", 1)


@pytest.mark.parametrize("kind", ["", "School", "a/b", "..", "x y", "-x"])
def test_bad_kinds_are_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        object_key(2027, "001", "001012", kind, 1)


@pytest.mark.parametrize("version", [0, -1, 10_000, True, 1.0, "1"])
def test_bad_versions_are_refused(version: object) -> None:
    with pytest.raises(ValueError, match="version"):
        object_key(2027, "001", "001012", "school", version)  # type: ignore[arg-type]


@pytest.mark.parametrize("year", [27, 1999, 3000, True, "2027"])
def test_bad_fiscal_years_are_refused(year: object) -> None:
    with pytest.raises(ValueError, match="fiscal year"):
        object_key(year, "001", "001012", "school", 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("ext", ["", ".xlsx", "XLSX", "x/y", "..", "toolongext"])
def test_bad_extensions_are_refused(ext: str) -> None:
    with pytest.raises(ValueError, match="extension"):
        object_key(2027, "001", "001012", "school", 1, ext=ext)


def test_plan_kind_and_school_code_agree() -> None:
    with pytest.raises(ValueError, match="needs a school code"):
        object_key(2027, "001", None, PlanKind.SCHOOL, 1)
    with pytest.raises(ValueError, match="no school code"):
        object_key(2027, "001", "001012", PlanKind.DISTRICT, 1)


@pytest.mark.parametrize(
    "key",
    ["", "/abs", "a//b", "a/", "a/../b", "..", "./a", "a/.hidden", "a\\b", "a/b\x00", "é" * 600],
)
def test_store_keys_must_be_clean_relative_paths(key: str) -> None:
    with pytest.raises(ValueError):
        validate_key(key)


def test_clean_keys_pass() -> None:
    assert validate_key("fy2027/lea-001/district/district/v0001.xlsx")
    assert validate_key("a b/ñ.txt") == "a b/ñ.txt"


@pytest.mark.parametrize("prefix", ["", "fy2027", "fy2027/", "fy2027/lea-0"])
def test_listing_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "../", "a//", "a/../", ".x"])
def test_bad_listing_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError):
        validate_prefix(prefix)


@pytest.mark.parametrize(
    "metadata",
    [
        {"sha256": "x"},
        {"Upper": "x"},
        {"a b": "x"},
        {"ok": "é"},
        {"ok": "a\nb"},
        {"ok": "x" * 1025},
    ],
)
def test_bad_metadata_is_refused(metadata: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        validate_metadata(metadata)
