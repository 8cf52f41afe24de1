"""The dashboards' SVG bar charts: long group names on two lines, not cut."""

from __future__ import annotations

from web.dashboards.charts import bars


def test_a_long_group_name_takes_two_lines_and_a_short_one_one() -> None:
    svg = str(bars("c", "Targets", "Targets against actual", [
        ("American Indian or Alaska Native", 10.0, 12.0),
        ("Female", 9.0, 8.0),
        ("A group whose name runs well past two lines of the label column", None, None),
    ]))  # fmt: skip
    assert "<tspan" in svg and ">American Indian or</tspan>" in svg
    assert ">Alaska Native</tspan>" in svg and "Alas…" not in svg
    assert ">Female</text>" in svg
    assert "…</tspan>" in svg  # only past two lines is a name cut
