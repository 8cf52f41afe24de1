"""The compiled template path makes the same workbooks as the reference builder, fast;
the statewide run writes every plan where documented and collects failures."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import PlanData
from aip_forms.workbook_format.metadata import changed_prefilled, read_metadata, verify
from workbook_templates import synthetic
from workbook_templates.build import build_workbook
from workbook_templates.compiled import compile_template, render
from workbook_templates.generate import generate_all, output_path

ISSUED = "2026-08-03T14:05:00Z"
KEY = b"test-secret"


@pytest.fixture(scope="module")
def config() -> ProgramConfig:
    return ProgramConfig()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        home=tmp_path_factory.mktemp("home"),
        database_url="sqlite://",
        secret_key=KEY,
        workbook_password="pw-for-tests",
    )


@pytest.fixture(scope="module")
def templates(config, settings):
    return {
        kind: compile_template(config.spec(kind), config, settings, 2027)
        for kind in (PlanKind.DISTRICT, PlanKind.SCHOOL)
    }


LEA = Lea(code="001", name="BELEN CONSOLIDATED SCHOOLS")


def _schools(n: int, name: str = "BELEN SCHOOL") -> tuple[School, ...]:
    return tuple(
        School(code=f"001-{i:03d}", lea_code="001", name=f"{name} {i}") for i in range(1, n + 1)
    )


def _cases(config: ProgramConfig) -> dict[str, PlanData]:
    odd = "  =HYPERLINK(\"x\") & <b> 'quoted' "
    school = School(code="001-004", lea_code="001", name="BELEN HIGH", grade_low="9")
    tricky = School(code="001-005", lea_code="001", name=odd, grade_low="K", grade_high="5")
    return {
        "school": synthetic.plan_data(config, 2027, LEA, school),
        "school-odd-names": synthetic.plan_data(
            config, 2027, LEA.model_copy(update={"name": "@LEA"}), tricky
        ),
        "district-0-schools": synthetic.plan_data(config, 2027, LEA, None, ()),
        "district-1-school": synthetic.plan_data(config, 2027, LEA, None, _schools(1)),
        "district-40-schools": synthetic.plan_data(
            config, 2027, LEA, None, _schools(40, "=SUM(1)")
        ),
    }


def _load(content: bytes) -> Workbook:
    return load_workbook(io.BytesIO(content))


def _reference(data: PlanData, config, settings) -> Workbook:
    buffer = io.BytesIO()
    build_workbook(config.spec(data.kind), data, config, settings, issued_at=ISSUED).save(buffer)
    return _load(buffer.getvalue())


def _cell_facts(cell):
    return (
        cell.value,
        cell.data_type,
        cell.style,
        cell.number_format,
        cell.protection.locked,
        cell.fill.fgColor.rgb,
    )


def assert_same_workbook(fast: Workbook, ref: Workbook) -> None:
    assert fast.sheetnames == ref.sheetnames
    names = lambda wb: {n: d.attr_text for n, d in wb.defined_names.items()}  # noqa: E731
    assert names(fast) == names(ref)
    assert repr(fast.security) == repr(ref.security)
    for a, b in zip(fast.worksheets, ref.worksheets, strict=True):
        assert (a.sheet_state, a.dimensions, a.print_title_rows, a.freeze_panes) == (
            b.sheet_state,
            b.dimensions,
            b.print_title_rows,
            b.freeze_panes,
        ), a.title
        assert repr(a.protection) == repr(b.protection)
        assert sorted(map(str, a.merged_cells.ranges)) == sorted(map(str, b.merged_cells.ranges))
        for ra, rb in zip(a.iter_rows(), b.iter_rows(), strict=True):
            for ca, cb in zip(ra, rb, strict=True):
                assert ca.coordinate == cb.coordinate
                assert _cell_facts(ca) == _cell_facts(cb), (a.title, ca.coordinate)
        heights = lambda ws: {r: d.height for r, d in ws.row_dimensions.items() if d.height}  # noqa: E731
        assert heights(a) == heights(b), a.title
        va = sorted(repr(dv) for dv in a.data_validations.dataValidation)
        vb = sorted(repr(dv) for dv in b.data_validations.dataValidation)
        assert va == vb, a.title


@pytest.mark.parametrize(
    "case",
    [
        "school",
        "school-odd-names",
        "district-0-schools",
        "district-1-school",
        "district-40-schools",
    ],
)
def test_the_compiled_path_equals_the_reference_builder_cell_by_cell(
    case, config, settings, templates
):
    data = _cases(config)[case]
    content = render(templates[data.kind], data, ISSUED)
    fast, ref = _load(content), _reference(data, config, settings)
    assert_same_workbook(fast, ref)
    metadata = read_metadata(fast)
    assert verify(metadata, KEY)
    assert metadata == read_metadata(ref)
    assert changed_prefilled(fast, metadata) == []


def test_the_compiled_path_writes_text_as_inline_strings_and_never_formulas(config, templates):
    data = _cases(config)["district-40-schools"]
    with zipfile.ZipFile(io.BytesIO(render(templates[data.kind], data, ISSUED))) as z:
        assert z.testzip() is None
        assert "xl/sharedStrings.xml" not in z.namelist()
        spec = config.spec(data.kind)
        index = [s.key for s in spec.sections].index("school_targets")
        sheet = z.read(f"xl/worksheets/sheet{index + 2}.xml").decode()  # after Instructions
        assert sheet.count("=SUM(1) ") == 40
        assert "<f>" not in sheet and "<f " not in sheet
        (table,) = spec.section("school_targets").tables
        target, first = table.column("target").column, table.first_row
        assert f'sqref="{target}{first}:{target}{first + 39}"' in sheet
        assert "1048575" not in sheet and "1048575" not in z.read("xl/workbook.xml").decode()


def test_a_template_renders_only_its_kind_and_year(config, templates):
    school = _cases(config)["school"]
    with pytest.raises(ValueError, match="cannot render"):
        render(templates[PlanKind.DISTRICT], school, ISSUED)
    with pytest.raises(ValueError, match="cannot render"):
        render(templates[PlanKind.SCHOOL], school.model_copy(update={"fiscal_year": 2028}), ISSUED)


def _statewide(config: ProgramConfig) -> list[PlanData]:
    return list(synthetic.statewide(config, 2027, leas=4, schools=12))


@pytest.mark.parametrize("workers", [1, 2])
def test_the_statewide_run_writes_every_plan_at_its_documented_path(
    config, settings, tmp_path, workers
):
    plans = _statewide(config)
    done = []
    summary = generate_all(
        plans,
        tmp_path,
        config,
        settings,
        workers=workers,
        on_progress=done.append,
        issued_at=ISSUED,
    )
    assert summary.failures == []
    assert dict(summary.counts) == {"district": 4, "school": 12}
    assert sum(done) == len(plans)
    for data in plans:
        path = output_path(tmp_path, data)
        assert path.parent == tmp_path / "FY2027" / data.lea.code
        expected = (
            f"school-{data.school.code}.xlsx" if data.school else f"district-{data.lea.code}.xlsx"
        )
        assert path.name == expected
        metadata = read_metadata(load_workbook(path))
        assert (metadata.lea_code, metadata.school_code) == (
            data.lea.code,
            data.school.code if data.school else None,
        )
    assert sorted(p.name for p in (tmp_path / "FY2027").rglob("*.xlsx")) == sorted(
        output_path(tmp_path, d).name for d in plans
    )


def test_the_statewide_run_collects_failures_and_goes_on(config, settings, tmp_path):
    plans = _statewide(config)
    blocked = plans[0].lea.code
    (tmp_path / "FY2027").mkdir()
    (tmp_path / "FY2027" / blocked).write_text("a file where the LEA's folder should be")
    summary = generate_all(plans, tmp_path, config, settings, workers=2, issued_at=ISSUED)
    failed = {(f.lea_code, f.school_code) for f in summary.failures}
    assert failed == {
        (p.lea.code, p.school.code if p.school else None) for p in plans if p.lea.code == blocked
    }
    assert all(f.error and f.path is None for f in summary.failures)
    assert summary.written == len(plans) - len(failed) > 0


def test_plans_of_several_years_are_refused(config, settings, tmp_path):
    plans = _statewide(config)[:2]
    mixed = [plans[0], plans[1].model_copy(update={"fiscal_year": 2028})]
    with pytest.raises(ValueError, match="several fiscal years"):
        generate_all(mixed, tmp_path, config, settings)


def test_nothing_to_generate_is_an_empty_summary(config, settings, tmp_path: Path):
    summary = generate_all([], tmp_path, config, settings)
    assert summary.written == 0 and summary.failures == []
