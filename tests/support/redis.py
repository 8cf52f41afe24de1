"""A throwaway `redis-server` for a test: on a free loopback port, no persistence, its
files in a temporary directory; stopped (by its own process id) at the end.

Missing binaries are an error, not a skip: `make setup` installs the `redis-server` package.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REDIS_SERVER = "/usr/bin/redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def redis_server(attempts: int = 3) -> Iterator[str]:
    """Yield the URL of a fresh server (redis://127.0.0.1:PORT/0)."""
    binary = shutil.which("redis-server") or REDIS_SERVER
    if not Path(binary).exists():
        raise RuntimeError("redis-server not found (install the `redis-server` package)")
    folder = Path(tempfile.mkdtemp(prefix="aip-redis-"))
    try:
        for _ in range(attempts):
            port = _free_port()
            command = [
                binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(folder), "--protected-mode", "yes",
            ]  # fmt: skip
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                if _answers(port, process):
                    yield f"redis://127.0.0.1:{port}/0"
                    return
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        raise RuntimeError("redis-server did not start")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _answers(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # the port was taken meanwhile
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return True
        time.sleep(0.05)
    return False
