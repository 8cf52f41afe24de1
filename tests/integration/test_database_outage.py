"""With the database unreachable, every command that needs it exits 3 (unavailable) with
one line on stderr and no traceback: the same code from every command, because every
failure goes through one boundary (`aip_forms.cli.Boundary`, `aip_forms.errors`)."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from aip_forms.cli import cli
from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, School
from aip_forms.spec import spec_for
from workbook_templates.example import example_workbook
from workbook_templates.synthetic import plan_data

LEA = Lea(code="006", name="BELEN CONSOLIDATED")
SCHOOL = School(code="006001", lea_code="006", name="BELEN HIGH", grade_low="9", grade_high="12")


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["postgresql", "sqlite"])
def unreachable(request: pytest.FixtureRequest, aip_home: Path, monkeypatch: pytest.MonkeyPatch):
    if request.param == "postgresql":
        url = f"postgresql+psycopg://aip:secret@127.0.0.1:{_closed_port()}/aip"
    else:  # a folder where the database file should be: SQLite cannot open it
        (aip_home / "db-is-a-folder").mkdir()
        url = f"sqlite:///{aip_home / 'db-is-a-folder'}"
    monkeypatch.setenv("AIP_DATABASE_URL", url)
    return aip_home


@pytest.fixture
def workbook(aip_home: Path) -> Path:
    """A valid, signed school plan workbook: commands get past validation to the database."""
    settings = Settings.from_env()
    config = ProgramConfig()
    data = plan_data(config, 2027, LEA, SCHOOL)
    path = aip_home / "plan.xlsx"
    buffer = io.BytesIO()
    example_workbook(spec_for(data.kind), data, config, settings).save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


COMMANDS = {
    "data load": ["data", "load", "{home}"],
    "workbook generate": ["workbook", "generate", "--fy", "2027", "--lea", "006", "--out", "{out}"],
    "workbook generate --all": ["workbook", "generate", "--fy", "2027", "--all", "--out", "{dir}"],
    "workbook generate --from-plan": ["workbook", "generate", "--from-plan", "1", "--out", "{out}"],
    "workbook example": ["workbook", "example", "--fy", "2027", "--lea", "006", "--out", "{out}"],
    "users add": ["users", "add", "a@nm.org", "--role", "ped_coordinator"],
    "users list": ["users", "list"],
    "submit": ["submit", "{workbook}", "--user", "school@belen.org"],
    "submissions list": ["submissions", "list"],
    "submissions get": ["submissions", "get", "1", "--out", "{out}"],
    "submissions diff": ["submissions", "diff", "1", "2"],
    "submissions workbook": ["submissions", "workbook", "1", "--out", "{out}"],
    "review approve": ["review", "approve", "1", "--user", "ped@nm.org"],
    "review return": ["review", "return", "1", "--user", "ped@nm.org", "--comment", "Fix C5"],
    "review comment": ["review", "comment", "1", "--user", "ped@nm.org", "--comment", "ok"],
    "review comments": ["review", "comments", "1"],
    "storage verify": ["storage", "verify"],
    "storage reconcile": ["storage", "reconcile"],
    "render --plan": ["render", "--plan", "1", "--format", "docx", "--out", "{docx}"],
    "render FILE": ["render", "{workbook}", "--format", "docx", "--out", "{docx}"],
    "compile --lea": ["compile", "--fy", "2027", "--lea", "006", "--out", "{pdf}"],
    "compile --statewide": ["compile", "--fy", "2027", "--statewide", "--out", "{summary}"],
    "data select": ["data", "select", "--fy", "2027"],
    "users deactivate": ["users", "deactivate", "a@nm.org"],
    "users reactivate": ["users", "reactivate", "a@nm.org"],
    "users revoke": ["users", "revoke", "a@nm.org", "--role", "ped_coordinator"],
    "reminders send": ["reminders", "send", "--today", "2026-10-01"],
    "report eoy --lea": [
        "report",
        "eoy",
        "--fy",
        "2027",
        "--lea",
        "006",
        "--format",
        "xlsx",
        "--out",
        "{summary}",
    ],
    "report eoy --statewide": [
        "report",
        "eoy",
        "--fy",
        "2027",
        "--statewide",
        "--format",
        "pdf",
        "--out",
        "{pdf}",
    ],
    "retention list": ["retention", "list"],
    "retention purge": ["retention", "purge", "--yes"],
    "backup create": ["backup", "create", "--out", "{dir}"],
    "mail queued": ["mail", "queued"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_that_needs_the_database_exits_3_with_one_line(
    name: str, unreachable: Path, workbook: Path
) -> None:
    values = {
        "home": str(unreachable),
        "out": str(unreachable / "out.xlsx"),
        "dir": str(unreachable / "out"),
        "workbook": str(workbook),
        "docx": str(unreachable / "plan.docx"),
        "pdf": str(unreachable / "packet.pdf"),
        "summary": str(unreachable / "summary.xlsx"),
    }
    args = [a.format(**values) for a in COMMANDS[name]]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3, (name, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (name, result.stderr)
    assert lines[0].startswith("Error: the database is unavailable: "), (name, lines)
    assert "Traceback" not in result.output and "secret" not in result.output
    assert not (unreachable / "out.xlsx").exists() and not (unreachable / "plan.docx").exists()
    assert not (unreachable / "summary.xlsx").exists() and not (unreachable / "packet.pdf").exists()
    assert not (unreachable / "out").exists() or not any((unreachable / "out").iterdir())


def test_an_outage_is_the_same_line_from_a_real_process(unreachable: Path) -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "aip_forms", "users", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 3
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("Error: the database is")
