"""A throwaway PostgreSQL server for the test session, from the installed server binaries.

`postgres_server()` runs initdb into a temporary directory, starts the server on a free loopback
port (its unix socket in that directory too), and yields a `PostgresServer`; on exit it stops
the server (pg_ctl stop -m fast) and deletes the directory. initdb and postgres refuse to run as
root, so as root they run as the `postgres` system user (the Debian package creates it).

Missing binaries are an error, not a skip: `make setup` installs the `postgresql` package.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

SUPERUSER = "aip"


class PostgresUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its name."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bin_dir() -> Path:
    """The newest installed server's bin directory (Debian layout: /usr/lib/postgresql/N/bin)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(install the `postgresql` package: make setup)"
        )
    return candidates[-1].parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root and there is no `postgres` user to run the server as"
        ) from None
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str]) -> None:
    result = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )


@contextlib.contextmanager
def postgres_server(attempts: int = 3) -> Iterator[PostgresServer]:
    """Start a server for the duration of the block; stop it and delete its files after."""
    binaries = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="aip-pg-"))
    data = root / "data"
    try:
        if os.geteuid() == 0:
            server_user = pwd.getpwnam("postgres")
            os.chown(root, server_user.pw_uid, server_user.pw_gid)
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        port = _start(binaries, root, data, attempts)
        try:
            yield PostgresServer("127.0.0.1", port, SUPERUSER)
        finally:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start(binaries: Path, root: Path, data: Path, attempts: int) -> int:
    """Start on a free port; another process may take the port first, so try a few."""
    options = "-F -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    last_error: PostgresUnavailable | None = None
    for _ in range(attempts):
        port = _free_port()
        try:
            _run(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-h 127.0.0.1 -p {port} -k {root} {options}",
                    "start",
                ]
            )
            return port
        except PostgresUnavailable as e:
            last_error = e
    log = root / "server.log"
    detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise PostgresUnavailable(f"the server did not start: {last_error}\n{detail}")
