"""Issue 13 point 2: every plan document opens with a one-page summary, "At a Glance": all
students' rate over the history years and its trend, the target, students in Tiers 3 and
4, the strategies of every tier, and the status; hidden numbers stay hidden."""

from __future__ import annotations

from tests.unit.test_render_docx import REVIEW, district, document_text, lea, render, school, squash

__all__ = ["district", "lea", "school"]


def glance(content: bytes) -> str:
    text = squash(document_text(content))
    return text.split("At a Glance The plan on one page", 1)[1].split("Step 1 -", 1)[0]


def test_the_summary_holds_the_plans_figures_and_strategies(school) -> None:
    data, plan = school
    said = glance(render(school, review=REVIEW))
    everyone = next(r for r in data.subgroups if r.code == "all")
    years = "; ".join(
        f"FY{y}: {r:.1f}%" for y, r in zip(data.history_years, everyone.rates, strict=True)
    )
    assert f"All students, chronically absent {years}" in said
    change = everyone.rates[-1] - everyone.rates[0]
    assert f"points since FY{data.history_years[0]}" in said and f"{change:+.1f}" in said
    target = next(r for r in plan.rows("demographics", "subgroups") if r.code == "all")
    assert f"Target FY2027 {target.get('target') * 100:.1f}%" in said
    tiers = sum(data.tier_counts[t] or 0 for t in (3, 4))
    assert f"Students in Tiers 3 and 4 {tiers:,}" in said
    first = next(r for r in plan.rows("tiers", "tier1") if r.get("strategy"))
    assert str(first.get("strategy")) in said.split("Tier 1 strategies", 1)[1]
    assert "Status Returned" in said


def test_every_plan_has_it_first(district, school) -> None:
    for pair in (district, school):
        text = squash(document_text(render(pair)))
        contents = text.split("Contents", 1)[1]
        assert contents.startswith(" At a Glance Step 1 -")  # listed first
        summary = text.index("At a Glance The plan on one page")  # and printed first
        assert summary < text.index("Identify the primary")  # Step 1's purpose
