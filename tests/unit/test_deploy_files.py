"""The deployment examples in deploy/ stay true to the code: every `aip` command the
systemd units run exists and takes the options given, every setting in the example
environment is one aip-forms reads, and the units and nginx agree on the portal's port."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import click
import pytest

from aip_forms.cli import cli
from aip_forms.services.health import KNOWN_SETTINGS

DEPLOY = Path(__file__).parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def aip_invocations(path: Path) -> list[list[str]]:
    service = unit(path)["Service"]
    lines = [service.get(key, "") for key in ("ExecStartPre", "ExecStart")]
    found = []
    for line in lines:
        for match in re.finditer(r"/opt/aip-forms/\.venv/bin/aip ([^&;']+)", line):
            found.append(shlex.split(match.group(1).replace('"$d"', "DIR")))
    return found


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_every_command_a_unit_runs_exists_with_its_options(path: Path) -> None:
    invocations = aip_invocations(path)
    assert invocations, f"{path.name} runs no aip command"
    for argv in invocations:
        ctx = click.Context(cli)
        command: click.Command | None = cli
        args = list(argv)
        while isinstance(command, click.Group):
            name = args.pop(0)
            command = command.get_command(ctx, name)
            assert command is not None, (path.name, argv)
            ctx = click.Context(command, parent=ctx)
        assert command is not None
        command.make_context(command.name, args, parent=ctx)  # raises on an unknown option


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_units_read_the_one_environment_file_as_an_unprivileged_user(path: Path) -> None:
    service = unit(path)["Service"]
    assert service["EnvironmentFile"] == "/etc/aip-forms/aip.env"
    assert service["User"] == "aip" and service["NoNewPrivileges"] == "yes"


def test_the_example_environment_names_only_real_settings() -> None:
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "aip.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert "AIP_SECRET_KEY" in names and "AIP_TRUSTED_PROXIES" in names
    for name in names:
        assert name in KNOWN_SETTINGS or name.startswith("AWS_"), name


def test_nginx_passes_to_the_port_the_portal_listens_on() -> None:
    nginx = (DEPLOY / "nginx" / "aip-forms.conf").read_text()
    portal = unit(DEPLOY / "systemd" / "aip-portal.service")["Service"]["ExecStart"]
    port = re.search(r"--port (\d+)", portal)
    assert port and f"proxy_pass http://127.0.0.1:{port.group(1)};" in nginx
    limit = re.search(r"client_max_body_size (\d+)m;", nginx)
    assert limit and int(limit.group(1)) >= 10  # the portal's own limit is 10 MB
