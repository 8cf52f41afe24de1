"""Documents from the submissions store: example workbooks submitted through
`services.submissions.submit` (SQLite, the local object store under AIP_HOME), reviewed,
then printed with `aip render --plan ID` and compiled with `aip compile` (no --from, no
--examples), as PED and as coordinators whose roles reach some plans only."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import update

from aip_forms.bootstrap import App
from aip_forms.cli import cli as aip
from aip_forms.data.queries import plan_data
from aip_forms.db.models import SubmissionRow
from aip_forms.services.stored_plans import stored_plan
from aip_forms.services.submissions import get_submission, submit
from aip_forms.services.uow import UowFactory, sql_uow
from aip_forms.services.users import add_user
from aip_forms.spec import spec_for
from exports import charts
from tests.integration.test_packet import top_bookmarks
from tests.integration.test_submit import edited
from tests.support.nm import approve as approve_plan
from tests.support.nm import return_plan
from tests.unit.test_errors import _modules_after
from tests.unit.test_generate_queries import seed
from tests.unit.test_render_docx import document_text, squash
from validators.validate import validate_upload
from workbook_templates.example import example_workbook

pytestmark = pytest.mark.xdist_group("render-stored")

FY = 2027
ROUTES_CELL = "3 Root Cause Analysis!B10"
COMMENT = "Say which bus routes run late, and since when."
USERS = (
    ("district@belen.org", "district_coordinator", {"lea_code": "001", "name": "Dana Ortiz"}),
    ("elementary@belen.org", "school_coordinator", {"school_code": "001001"}),
    ("high@belen.org", "school_coordinator", {"school_code": "001002"}),
    ("district@vista.org", "district_coordinator", {"lea_code": "002"}),
    ("ped@ped.nm.gov", "ped_coordinator", {}),
    ("reader@ped.nm.gov", "ped_reviewer", {}),
)


@dataclass
class World:
    """A store with LEA 001's district plan approved by PED and its elementary school's
    plan returned by the district with a comment on a cell; nothing else submitted."""

    app: App
    uow: UowFactory
    district_plan: int
    school_plan: int
    school_submission: int
    school_workbook: bytes

    def submit(self, data: bytes, user: str, *, final: bool) -> int:
        result = submit(
            data,
            user_email=user,
            uow=self.uow,
            store=self.app.store,
            validate=self.app.validator,
            final=final,
            filename="plan.xlsx",
        )
        assert result.submission is not None, result.message
        return result.submission.id


def example(app: App, school_code: str | None) -> bytes:
    data = plan_data(app.engine, app.config, FY, "001", school_code)
    out = io.BytesIO()
    example_workbook(spec_for(data.kind), data, app.config, app.settings).save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def world_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """AIP_HOME for the module: the CLI reads its settings from the environment."""
    home = tmp_path_factory.mktemp("aip-home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIP_HOME", str(home))
        env.setenv("AIP_SECRET_KEY", "render-stored-key")
        for name in ("AIP_DATABASE_URL", "AIP_PROGRAM_CONFIG", "AIP_STORAGE_URL"):
            env.delenv(name, raising=False)
        yield home


def build_world() -> World:
    """The world in AIP_HOME (set by the caller)."""
    app = App.from_env()
    seed(app.engine)
    uow = sql_uow(app.engine)
    for email, role, grant in USERS:
        add_user(email, role, uow=uow, **grant)
    school_workbook = example(app, "001001")
    world = World(app, uow, 0, 0, 0, school_workbook)
    district = world.submit(example(app, None), "district@belen.org", final=True)
    approve_plan(district, reviewer_email="ped@ped.nm.gov", uow=uow)
    school = world.submit(school_workbook, "elementary@belen.org", final=True)
    returned = return_plan(
        school,
        reviewer_email="district@belen.org",
        uow=uow,
        comment=COMMENT,
        cell="'3 Root Cause Analysis'!B10",
    )
    world.school_submission = school
    world.school_plan = returned.plan.id
    world.district_plan = get_submission(district, uow=uow, store=app.store)[0].plan.id
    return world


@pytest.fixture(scope="module")
def world(world_env: Path) -> Iterator[World]:
    built = build_world()
    yield built
    built.app.engine.dispose()


@pytest.fixture
def own_world(world_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A world of its own, for a test that changes it; AIP_HOME points at it meanwhile."""
    monkeypatch.setenv("AIP_HOME", str(tmp_path / "home"))
    built = build_world()
    yield built
    built.app.engine.dispose()


def run(*args: str) -> Result:
    result = CliRunner().invoke(aip, list(args), terminal_width=200)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def render_text(plan_id: int, out: Path, *extra: str) -> str:
    result = run("render", "--plan", str(plan_id), "--format", "docx", "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote {out}"
    return squash(document_text(out.read_bytes()))


# ---- aip render --plan --------------------------------------------------------------------


def test_render_plan_prints_the_latest_version_with_its_review_and_cell_comment(
    world: World, tmp_path: Path
) -> None:
    text = render_text(world.school_plan, tmp_path / "plan.docx")
    assert "Status: Returned" in text  # the running header
    assert "BELEN ELEMENTARY" in text
    assert "Reviewed by Dana Ortiz (district@belen.org), " in text  # on the title page
    assert "Submitted by elementary@belen.org" in text
    assert "Version 1" in text
    assert f"{ROUTES_CELL} {COMMENT}" in text  # the comments table: where, then what
    assert " UTC" in text  # stored times say their zone


def test_the_stored_plan_is_the_plan_the_validator_read(world: World) -> None:
    found = stored_plan(
        world.school_plan,
        uow=world.uow,
        store=world.app.store,
        key=world.app.settings.secret_key,
        config=world.app.config,
    )
    report = validate_upload(
        world.school_workbook, key=world.app.settings.secret_key, config=world.app.config
    )
    assert report.plan is not None
    assert found.plan == report.plan  # dates typed again from the stored JSON
    assert found.review.status == "returned"
    assert [(c.author, c.where, c.body) for c in found.review.comments] == [
        ("Dana Ortiz (district@belen.org)", ROUTES_CELL, COMMENT)
    ]
    assert found.submission.id == world.school_submission


def test_render_plan_reads_only_what_the_user_may_read(world: World, tmp_path: Path) -> None:
    out = str(tmp_path / "plan.docx")
    for user in ("reader@ped.nm.gov", "district@belen.org", "elementary@belen.org"):
        result = run("render", "--plan", str(world.school_plan), "--user", user, "--out", out)
        assert result.exit_code == 0, (user, result.output)
    for user in ("high@belen.org", "district@vista.org"):
        result = run("render", "--plan", str(world.school_plan), "--user", user, "--out", out)
        assert result.exit_code == 2, (user, result.output)
        assert f"Error: {user} may not read the FY2027 school plan of school 001001" in (
            result.output
        )
    nobody = run("render", "--plan", str(world.school_plan), "--user", "x@nm.org", "--out", out)
    assert (nobody.exit_code, "no user 'x@nm.org'" in nobody.output) == (2, True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plan", "999"], "no plan 999"),
        (["--plan", "{school}", "--version", "3"], "has no version 3; it has versions 1 to 1"),
        (["x.xlsx", "--version", "1"], "--version and --user go with --plan ID"),
        (["--plan", "two"], "'two' is not a valid integer"),
    ],
)
def test_render_plan_refuses_what_is_not_there(
    world: World, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.format(school=world.school_plan) for a in args]
    result = run("render", *args, "--out", str(tmp_path / "plan.docx"))
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_revised_draft_prints_with_the_comments_on_the_returned_version(
    own_world: World, tmp_path: Path
) -> None:
    revised = edited(own_world.school_workbook, {ROUTES_CELL: "Routes 4 and 9, since August."})
    own_world.submit(revised, "elementary@belen.org", final=False)

    latest = render_text(own_world.school_plan, tmp_path / "v2.docx")
    assert "Status: Returned" in latest and "Version 2" in latest  # a draft of the revision
    assert "Routes 4 and 9, since August." in latest
    assert f"version 1, {ROUTES_CELL} {COMMENT}" in latest

    first = render_text(own_world.school_plan, tmp_path / "v1.docx", "--version", "1")
    assert "Version 1" in first and "Routes 4 and 9" not in first
    assert f"{ROUTES_CELL} {COMMENT}" in first and "version 1," not in first


def test_aip_submit_draws_the_charts_and_aip_render_reads_them(
    own_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = own_world.app.store
    before = set(store.iter_keys(charts.CHART_PREFIX))
    revised = tmp_path / "revised.xlsx"
    revised.write_bytes(
        edited(own_world.school_workbook, {ROUTES_CELL: "Routes 4 and 9, since August."})
    )
    result = run("submit", str(revised), "--user", "elementary@belen.org")
    assert result.exit_code == 0, result.output
    kept = set(store.iter_keys(charts.CHART_PREFIX)) - before
    assert kept, result.output  # the seed's school has tier counts (its rates are few)

    def not_drawn(*args: object) -> bytes:
        raise AssertionError("a kept chart was drawn again")

    for kind in list(charts.DRAW):
        monkeypatch.setitem(charts.DRAW, kind, not_drawn)
    charts.clear_cache()  # as in another process
    out = tmp_path / "plan.docx"
    assert run("render", "--plan", str(own_world.school_plan), "--format", "docx",
               "--out", str(out)).exit_code == 0  # fmt: skip
    with zipfile.ZipFile(out) as z:
        pictures = {z.read(n) for n in z.namelist() if n.startswith("word/media/")}
    assert pictures == {store.get(k) for k in kept}  # every chart, each one kept
    charts.clear_cache()
    # a fresh `aip render` of it loads no charting, PDF or spreadsheet library
    loaded = _modules_after(
        ["render", "--plan", str(own_world.school_plan), "--format", "docx", "--out", str(out)],
        tmp_path,
    )
    assert "docxtpl" in loaded
    assert not loaded & {"matplotlib", "pypdf", "openpyxl", "PIL"}, loaded


def test_a_version_without_stored_answers_is_read_again_from_its_workbook(
    own_world: World, tmp_path: Path
) -> None:
    with own_world.app.engine.begin() as c:
        c.execute(
            update(SubmissionRow)
            .where(SubmissionRow.id == own_world.school_submission)
            .values(report={"outcome": "valid"})
        )
    text = render_text(own_world.school_plan, tmp_path / "plan.docx")
    report = validate_upload(
        own_world.school_workbook,
        key=own_world.app.settings.secret_key,
        config=own_world.app.config,
    )
    assert report.plan is not None
    barriers = report.plan.field("root_cause", "barriers")
    assert isinstance(barriers, str) and squash(barriers) in text


def test_a_damaged_object_is_not_printed(own_world: World, tmp_path: Path) -> None:
    view, _ = get_submission(
        own_world.school_submission, uow=own_world.uow, store=own_world.app.store
    )
    path = own_world.app.settings.home / "objects" / view.object_key
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    out = tmp_path / "plan.docx"
    result = run("render", "--plan", str(own_world.school_plan), "--out", str(out))
    assert result.exit_code == 4, result.output  # corrupt
    assert f"Error: submission {own_world.school_submission} is corrupt in storage" in (
        result.output
    )
    assert not out.exists()


# ---- aip compile from the store ------------------------------------------------------------


@pytest.mark.libreoffice
def test_the_district_packet_has_one_bookmark_per_stored_plan(world: World, tmp_path: Path) -> None:
    out = tmp_path / "packet.pdf"
    result = run("compile", "--fy", "2027", "--lea", "001", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "no valid plan for BELEN HIGH (001002); left out" in result.output
    assert f"Wrote {out}: 2 plans" in result.output
    assert [title for title, _ in top_bookmarks(PdfReader(out))] == [
        "District plan: BELEN CONSOLIDATED SCHOOLS",
        "BELEN ELEMENTARY (001001)",
    ]
    contents = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(out), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Approved" in contents and "Returned" in contents


def test_a_packet_of_stored_plans_keeps_their_charts_and_reads_them_next_time(
    own_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = own_world.app.store
    assert not any(store.iter_keys(charts.CHART_PREFIX))  # submitted through the service
    charts.clear_cache()
    first = run("compile", "--fy", "2027", "--lea", "001", "--out", str(tmp_path / "1.pdf"))
    assert first.exit_code == 0, first.output
    assert any(store.iter_keys(charts.CHART_PREFIX))

    def not_drawn(*args: object) -> bytes:
        raise AssertionError("a kept chart was drawn again")

    for kind in list(charts.DRAW):
        monkeypatch.setitem(charts.DRAW, kind, not_drawn)
    charts.clear_cache()
    again = run("compile", "--fy", "2027", "--lea", "001", "--out", str(tmp_path / "2.pdf"))
    assert again.exit_code == 0, again.output
    charts.clear_cache()


def test_the_statewide_summary_lists_every_plan_with_its_status(
    world: World, tmp_path: Path
) -> None:
    out = tmp_path / "summary.xlsx"
    result = run("compile", "--fy", "2027", "--statewide", "--user", "reader@ped.nm.gov",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote {out}: 5 plans, 2 received"
    sheet = load_workbook(out)["Summary"]
    header = [c.value for c in sheet[1]]
    status, target = header.index("Plan Status"), header.index("Target FY2027")
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    statuses = {(r[1], r[3]): r[status] for r in rows}
    assert statuses == {
        ("001", None): "Approved",
        ("001", "001001"): "Returned",
        ("001", "001002"): "No plan received",
        ("002", None): "No plan received",
        ("002", "002001"): "No plan received",
    }

    def targets(plan: tuple[str, str | None]) -> list[object]:
        return [r[target] for r in rows if (r[1], r[3]) == plan]

    # the stored answers: every target of this small school is hidden ("*"); its groups
    # without data have none (issue 13)
    assert "*" in targets(("001", "001001"))
    assert set(targets(("001", "001002"))) == {None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--statewide", "--user", "district@belen.org", "--out", "x.xlsx"],
            "district@belen.org may not read the FY2027 district plan of LEA 002",
        ),
        (
            ["--lea", "001", "--user", "elementary@belen.org", "--out", "x.pdf"],
            "elementary@belen.org may not read the FY2027 district plan of LEA 001",
        ),
        (
            ["--lea", "001", "--examples", "--user", "ped@ped.nm.gov", "--out", "x.pdf"],
            "--user goes with stored plans",
        ),
    ],
)
def test_compile_refuses_plans_the_user_may_not_read(
    world: World, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    result = run("compile", "--fy", "2027", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not any(tmp_path.iterdir())
