"""The one error boundary: each kind of failure has one exit code and one HTTP status,
vendor errors arrive as the project's own, the command line never shows a traceback, and
commands load only what they use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy.exc import IntegrityError, OperationalError

import aip_forms.db.session  # noqa: F401  (registers the database translator)
from aip_forms import errors
from aip_forms.cli import COMMANDS, Boundary, cli
from aip_forms.data.queries import UnknownEntity
from aip_forms.errors import (
    Conflict,
    Corrupt,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
    as_aip_error,
    one_line,
    outcome_of,
)
from aip_forms.storage import ObjectCorrupt, ObjectExists, ObjectNotFound, StorageUnavailable
from exports.pdf import ConversionFailed, ConverterMissing


@pytest.mark.parametrize(
    ("error", "exit_code", "http_status"),
    [
        (InvalidInput("x"), 2, 400),
        (NotFound("x"), 2, 404),
        (Forbidden("x"), 2, 403),
        (Conflict("x"), 2, 409),
        (Unavailable("x"), 3, 503),
        (Corrupt("x"), 4, 500),
        (RuntimeError("x"), 5, 500),
        # adapters' own errors are kinds of the project's
        (ObjectNotFound("x"), 2, 404),
        (ObjectExists("x"), 2, 409),
        (ObjectCorrupt("x"), 4, 500),
        (StorageUnavailable("x"), 3, 503),
        (ConverterMissing("x"), 3, 503),
        (ConversionFailed("x"), 3, 503),
        (UnknownEntity("x"), 2, 404),
    ],
)
def test_one_table_gives_the_exit_code_and_http_status(
    error: BaseException, exit_code: int, http_status: int
) -> None:
    found = as_aip_error(error)
    outcome = outcome_of(found if found is not None else error)
    assert (outcome.exit_code, outcome.http_status) == (exit_code, http_status)


def test_sqlalchemy_errors_become_unavailable_or_conflict_with_the_drivers_first_line() -> None:
    down = OperationalError("SELECT 1", {}, Exception("connection refused\n\tIs it running?"))
    found = as_aip_error(down)
    assert isinstance(found, Unavailable)
    assert str(found) == "the database is unavailable: connection refused"
    race = IntegrityError("INSERT ...", {"password": "x"}, Exception("duplicate key"))
    clash = as_aip_error(race)
    assert isinstance(clash, Conflict) and "duplicate key" in str(clash)
    assert "INSERT" not in str(clash) and "password" not in str(clash)


def test_a_file_error_names_the_file() -> None:
    outcome, message = one_line(FileNotFoundError(2, "No such file or directory", "/x/plan.xlsx"))
    assert (outcome.exit_code, message) == (2, "/x/plan.xlsx: No such file or directory")


def _group_raising(error: BaseException) -> click.Group:
    @click.group(cls=Boundary)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise error

    return group


def test_the_boundary_prints_one_line_and_exits_by_kind() -> None:
    result = CliRunner().invoke(_group_raising(Forbidden("may not\nread plan 3")), ["boom"])
    assert (result.exit_code, result.stderr) == (2, "Error: may not read plan 3\n")
    result = CliRunner().invoke(_group_raising(KeyError("surprise")), ["boom"])
    assert result.exit_code == 5
    assert result.stderr == "Error: unexpected KeyError: 'surprise' (please report this)\n"
    assert "Traceback" not in result.output


def test_the_lazy_help_of_every_command_is_its_own() -> None:
    ctx = click.Context(cli)
    for name, (_, short) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None
        real = command.get_short_help_str(limit=len(short))
        assert short == real, (name, real)


def test_the_error_table_is_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for kind, outcome in errors.OUTCOMES.items():
        row = f"| {outcome.exit_code} | {outcome.http_status} | {kind.__name__} |"
        assert row in readme, row


def test_the_schema_head_constant_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from aip_forms.db.session import HEAD_REVISION, MIGRATIONS

    script = ScriptDirectory(str(MIGRATIONS))
    assert script.get_current_head() == HEAD_REVISION


# openpyxl itself imports numpy when it is installed, so numpy is no mark of a slip here
HEAVY = {"sqlalchemy", "alembic", "pandas", "matplotlib", "docx", "docxtpl", "boto3"}


def _modules_after(args: list[str], cwd: Path) -> set[str]:
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('MODULES=' + ','.join(sys.modules), file=sys.stderr))\n"
        f"sys.argv = ['aip', *{args!r}]\n"
        "from aip_forms.cli import main\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    line = next(x for x in run.stderr.splitlines() if x.startswith("MODULES="))
    return {m.split(".")[0] for m in line.removeprefix("MODULES=").split(",")}


def test_help_imports_no_library_it_does_not_show(tmp_path: Path) -> None:
    loaded = _modules_after(["--help"], tmp_path)
    assert not loaded & (HEAVY | {"numpy", "openpyxl", "pydantic", "rich"}), loaded


def test_validate_imports_no_database_dataframe_or_document_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIP_HOME", str(tmp_path))
    junk = tmp_path / "plan.xlsx"
    junk.write_bytes(b"PK\x03\x04 not a workbook")
    loaded = _modules_after(["workbook", "validate", str(junk)], tmp_path)
    assert "validators" in loaded
    assert not loaded & HEAVY, loaded & HEAVY
