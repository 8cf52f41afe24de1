"""Plan rules, one test per rule code, on workbooks built in code from small tables."""

from __future__ import annotations

import io
import zipfile

import pytest

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.spec import spec_for
from tests.support.planbook import planbook, row_counts, valid_values
from validators.cells import WorkbookCells
from validators.problems import Problem
from validators.read import PlanReader
from validators.rules import RULES, RuleContext, run_rules

CONFIG = ProgramConfig()


def check(kind: str, values: dict[str, object], *, final: bool = False) -> list[Problem]:
    data = planbook(kind, values)
    cells = WorkbookCells(zipfile.ZipFile(io.BytesIO(data)))
    spec = spec_for(kind)
    read = PlanReader(cells, spec, CONFIG, row_counts=row_counts(kind)).read()
    ctx = RuleContext(spec=spec, config=CONFIG, read=read, final=final)
    return [*read.problems, *run_rules(ctx)]


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def at(problems: list[Problem], code: str) -> list[str]:
    return [f"{p.sheet}!{p.cell}" for p in problems if p.code == code]


@pytest.mark.parametrize("kind", ["district", "school"])
def test_valid_plan_has_no_problems(kind):
    assert check(kind, valid_values(kind), final=True) == []


def test_every_registered_rule_has_a_test_named_after_its_code():
    names = set(globals())
    for code, _fn in RULES:
        assert f"test_{code}" in names, code


def test_REQUIRED_MISSING():
    values = valid_values("school")
    del values["contact.email"], values["contact.first_name"]
    problems = check("school", values)
    assert at(problems, "REQUIRED_MISSING") == [
        "1 Contact Information!C10",
        "1 Contact Information!C13",
    ]
    assert "First Name" in problems[0].message


def test_REQUIRED_MISSING_certification_only_when_final():
    values = valid_values("district")
    del values["certification.name"], values["certification.confirm"]
    assert "REQUIRED_MISSING" not in codes(check("district", values))
    final = check("district", values, final=True)
    assert at(final, "REQUIRED_MISSING") == ["5 Final Submission!C5", "5 Final Submission!C6"]


def test_EMAIL_INVALID():
    values = valid_values("school") | {
        "contact.email": "garcia at belen",
        "contact.team.email.0": "lee@@school",
    }
    assert at(check("school", values), "EMAIL_INVALID") == [
        "1 Contact Information!C13",
        "1 Contact Information!D18",
    ]


def test_VALUE_OUT_OF_RANGE():
    values = valid_values("school") | {
        "demographics.subgroups.target.0": 150,
        "grades.grades.target.2": -0.1,
    }
    problems = check("school", values)
    assert at(problems, "VALUE_OUT_OF_RANGE") == [
        "2A Demographic Targets!F6",
        "2B Grade Targets!F8",
    ]


def test_TEXT_TOO_LONG():
    values = valid_values("school") | {"root_cause.research": "x" * 40_000}
    problems = check("school", values)
    assert at(problems, "TEXT_TOO_LONG") == ["3 Root Cause Analysis!B6"]
    (problem,) = [p for p in problems if p.code == "TEXT_TOO_LONG"]
    assert "at most 4000" in problem.message


def test_TARGET_MISSING_only_at_or_above_minimum_group_size():
    values = valid_values("school")
    values |= {"demographics.subgroups.enrollment.4": 9, "demographics.subgroups.enrollment.5": 10}
    for i in (3, 4, 5):
        del values[f"demographics.subgroups.target.{i}"]
    values["demographics.subgroups.enrollment.3"] = "n<10"
    assert at(check("school", values), "TARGET_MISSING") == ["2A Demographic Targets!F11"]


def test_TARGET_MISSING():
    values = valid_values("district")
    del values["grades.grades.target.0"]
    assert at(check("district", values), "TARGET_MISSING") == ["3B Grade Targets!F6"]


def test_SCHOOL_TARGET_MISSING():
    values = valid_values("district")
    del values["school_targets.schools.target.1"]
    problems = check("district", values)
    assert at(problems, "SCHOOL_TARGET_MISSING") == ["2 School Targets!G7"]
    assert "SCHOOL 2" in problems[-1].message or any("SCHOOL 2" in p.message for p in problems)


def test_TARGET_NOT_BELOW_LATEST():
    values = valid_values("school") | {
        "demographics.subgroups.target.0": 0.32,
        "demographics.subgroups.target.1": "40%",
    }
    problems = [p for p in check("school", values) if p.code == "TARGET_NOT_BELOW_LATEST"]
    assert [p.cell for p in problems] == ["F6", "F7"]
    assert {p.severity for p in problems} == {"warning"}


def test_TIER_NO_STRATEGY():
    values = {k: v for k, v in valid_values("school").items() if not k.startswith("tiers.tier3")}
    assert at(check("school", values), "TIER_NO_STRATEGY") == ["4 Tiers of Support!A27"]


def test_STRATEGY_MISSING():
    values = valid_values("school") | {"tiers.tier1.action_steps.2": "Phone calls home"}
    assert at(check("school", values), "STRATEGY_MISSING") == ["4 Tiers of Support!A9"]


def test_STRATEGY_NOT_IN_CATALOG():
    # a tier-4 strategy chosen for tier 1 is not in tier 1's list
    values = valid_values("school") | {"tiers.tier1.strategy.0": "Case Management"}
    assert at(check("school", values), "STRATEGY_NOT_IN_CATALOG") == ["4 Tiers of Support!A7"]


def test_OTHER_STRATEGY_TEXT_MISSING():
    values = valid_values("school") | {"tiers.tier2.strategy.0": "Other"}
    problems = check("school", values)
    assert at(problems, "OTHER_STRATEGY_TEXT_MISSING") == ["4 Tiers of Support!B17"]
    values["tiers.tier2.other_strategy.0"] = "Monthly attendance reward assemblies"
    assert "OTHER_STRATEGY_TEXT_MISSING" not in codes(check("school", values))


def test_STRATEGY_PLAN_INCOMPLETE():
    values = valid_values("school")
    del values["tiers.tier4.timeline.0"], values["tiers.tier4.resources.0"]
    assert at(check("school", values), "STRATEGY_PLAN_INCOMPLETE") == [
        "4 Tiers of Support!E37",
        "4 Tiers of Support!F37",
    ]


def test_ROOT_CAUSE_MISSING():
    values = valid_values("school")
    del values["root_cause.barriers"]
    assert at(check("school", values), "ROOT_CAUSE_MISSING") == ["3 Root Cause Analysis!B10"]


def test_CERTIFICATION_NOT_CONFIRMED():
    values = valid_values("district") | {"certification.confirm": "No"}
    assert codes(check("district", values)) == []
    assert at(check("district", values, final=True), "CERTIFICATION_NOT_CONFIRMED") == [
        "5 Final Submission!C5"
    ]


def test_FORMULA_IN_INPUT():
    values = valid_values("school") | {"contact.title": '=HYPERLINK("http://x","y")'}
    problems = check("school", values)
    assert at(problems, "FORMULA_IN_INPUT") == ["1 Contact Information!C12"]
    # the formula is not taken as the answer
    assert at(problems, "REQUIRED_MISSING") == ["1 Contact Information!C12"]


def test_VALUE_INVALID():
    values = valid_values("school") | {
        "demographics.subgroups.target.0": "about a quarter",
        "certification.date": "next Tuesday",
    }
    problems = check("school", values, final=True)
    assert at(problems, "VALUE_INVALID") == ["2A Demographic Targets!F6", "5 Final Submission!C8"]


def test_percent_forms_are_accepted():
    values = valid_values("school") | {
        "demographics.subgroups.target.0": "25%",
        "demographics.subgroups.target.1": 25,
        "demographics.subgroups.target.2": "25",
    }
    assert check("school", values) == []


def test_all_problems_collected_in_one_pass():
    values = valid_values("school")
    del values["contact.email"], values["root_cause.research"], values["tiers.tier1.timeline.0"]
    assert sorted(set(codes(check("school", values)))) == [
        "REQUIRED_MISSING",
        "ROOT_CAUSE_MISSING",
        "STRATEGY_PLAN_INCOMPLETE",
    ]


def test_rule_registry_has_stable_unique_codes():
    registered = [code for code, _ in RULES]
    assert len(registered) == len(set(registered))
    assert PlanKind.SCHOOL  # the registry is shared by both plan kinds
