"""What the fault tests (tests/integration/test_faults_*.py) break things with, and the
production layout they break: a PostgreSQL server that can be stopped and started again on
its port, a Redis likewise, a TCP relay in front of a server that can be cut (the server
unreachable, its state kept), `aip` processes (portal, worker, commands) stopped by their
own ids, and schools with a coordinator, an API token and a filled workbook each.
Every process started here is stopped when its block ends, whatever the test did."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from aip_forms.bootstrap import App
from tests.support.postgres import SUPERUSER, PostgresServer, _run, bin_dir
from tests.support.redis import REDIS_SERVER, _answers
from tests.support.s3 import closed_port

ROOT = Path(__file__).parents[2]
FISCAL_YEAR = 2027


# ---- PostgreSQL that can be restarted --------------------------------------------------------


@dataclass
class RestartablePostgres:
    server: PostgresServer
    binaries: Path
    data: Path
    root: Path

    def stop(self) -> None:
        _run([str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def start(self) -> None:
        options = "-F -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        _run(
            [
                str(self.binaries / "pg_ctl"),
                "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                "-o", f"-h 127.0.0.1 -p {self.server.port} -k {self.root} {options}", "start",
            ]
        )  # fmt: skip


@contextlib.contextmanager
def restartable_postgres() -> Iterator[RestartablePostgres]:
    """A PostgreSQL of the test's own (the session's is shared, not to be stopped)."""
    binaries = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="aip-pg-fault-"))
    data = root / "data"
    try:
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(root, user.pw_uid, user.pw_gid)
        _run([str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
              "--encoding=UTF8", "--no-locale", "--no-sync"])  # fmt: skip
        pg = RestartablePostgres(PostgresServer("127.0.0.1", closed_port(), SUPERUSER),
                                 binaries, data, root)  # fmt: skip
        pg.start()
        try:
            yield pg
        finally:
            with contextlib.suppress(Exception):
                pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---- Redis that can be restarted --------------------------------------------------------------


class RestartableRedis:
    """`redis-server` on one loopback port, stopped and started again by the test."""

    def __init__(self) -> None:
        self.port = closed_port()
        self.folder = Path(tempfile.mkdtemp(prefix="aip-redis-fault-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or REDIS_SERVER
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)  # fmt: skip
        if not _answers(self.port, self.process):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # as a crash: nothing saved (no persistence anyway)
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def restartable_redis() -> Iterator[RestartableRedis]:
    redis = RestartableRedis()
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()
        shutil.rmtree(redis.folder, ignore_errors=True)


# ---- a relay that can be cut ------------------------------------------------------------------


class Relay:
    """A TCP relay on a loopback port to `target`: `cut()` closes the port and every
    connection through it (clients get 'connection refused'), `mend()` opens it again."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = closed_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def mend(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for s in list(self._open):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with self._lock:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
                self._open.discard(s)


@contextlib.contextmanager
def relay(target_port: int) -> Iterator[Relay]:
    r = Relay(target_port)
    r.mend()
    try:
        yield r
    finally:
        r.cut()


# ---- aip processes ----------------------------------------------------------------------------


def aip_env(env: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIP_", "AWS_"))}
    return {**clean, **env, "PYTHONPATH": str(ROOT)}


@contextlib.contextmanager
def aip_process(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`aip ARGS` in a process group of its own, logging to $AIP_HOME/<command>.log; on
    leaving, SIGTERM to its main process (a worker's warm shutdown), then SIGKILL to the
    group, and any process of the group left is killed."""
    log = Path(env["AIP_HOME"]) / f"{args[0]}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "aip_forms", *args], env=aip_env(env),
                                cwd=env["AIP_HOME"], start_new_session=True, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def aip(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aip_forms", *args], env=aip_env(env),
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip


def wait_until(what: str, check: object, timeout: float = 120, every: float = 0.3) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def wait_portal(base: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    def answers() -> bool:
        assert proc.poll() is None, "the portal stopped"
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        return False

    wait_until("the portal answering /healthz", answers, timeout)


# ---- schools with a coordinator, a token and a workbook ---------------------------------------


@dataclass(frozen=True)
class School:
    code: str
    email: str
    token: str
    workbook: bytes


def prepare_schools(env: dict[str, str], count: int) -> list[School]:
    """Load the statewide sample; for `count` schools a coordinator, an API token and a
    valid signed workbook of the school's plan."""
    from aip_forms.data.queries import all_plan_data
    from aip_forms.services.tokens import create_token
    from aip_forms.services.users import add_user
    from workbook_templates.example import example_workbook

    sample = Path(env["AIP_HOME"]) / "sample"
    for args in (("data", "sample", "--out", str(sample)), ("data", "load", str(sample))):
        done = aip(env, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    with App.from_env(env) as core:
        plans = [p for p in all_plan_data(core.engine, core.config, FISCAL_YEAR) if p.school]
        schools = []
        for plan in sorted(plans, key=lambda p: p.school.code)[:count]:  # type: ignore[union-attr]
            code = plan.school.code  # type: ignore[union-attr]
            email = f"c{code}@fault.org"
            add_user(email, "school_coordinator", school_code=code, uow=core.uow)
            _, secret = create_token(email, "fault", ["plans:read", "plans:write"], uow=core.uow)
            buffer = io.BytesIO()
            example_workbook(core.config.spec(plan.kind), plan, core.config,
                             core.settings).save(buffer)  # fmt: skip
            schools.append(School(code, email, secret, buffer.getvalue()))
        return schools


def upload(base: str, school: School, mode: str = "submit") -> requests.Response:
    return requests.post(
        f"{base}/api/v1/uploads",
        headers={"Authorization": f"Bearer {school.token}"},
        data={"mode": mode},
        files={"file": (f"{school.code}.xlsx", school.workbook)},
        timeout=120,
    )


def versions_per_school(env: dict[str, str]) -> dict[str, int]:
    from sqlalchemy import text

    with App.from_env(env) as core, core.engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT p.school_code, count(s.id) FROM plan p "
                "JOIN submission s ON s.plan_id = p.id GROUP BY p.school_code"
            )
        ).all()
    return {str(code): int(n) for code, n in rows}


Answer = tuple[str, int, str]  # school code, HTTP status (0: no answer), body


def rush(
    base: str, schools: list[School], clients: int, outage: Callable[[list[Answer]], None]
) -> list[Answer]:
    """`clients` threads submit `schools` through the API, each school's upload sent again
    after a refusal until it is stored; once two are stored, `outage(answers)` runs (it
    breaks something, waits, mends it). Every answer, in the order received."""
    answers: list[Answer] = []
    lock = threading.Lock()

    def client(share: list[School]) -> None:
        for school in share:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                pause = 0.3
                try:
                    r = upload(base, school)
                    status, text = r.status_code, r.text
                    if status == 429:  # the user's upload quota: wait as the answer says
                        pause = min(float(r.headers["Retry-After"]), 60.0)
                except requests.ConnectionError as e:  # the portal itself must not go away
                    status, text = 0, str(e)
                with lock:
                    answers.append((school.code, status, text))
                if status in (200, 201):
                    break
                time.sleep(pause)

    threads = [threading.Thread(target=client, args=(schools[n::clients],)) for n in range(clients)]
    for t in threads:
        t.start()
    try:
        wait_until("two plans stored", lambda: sum(a[1] == 201 for a in answers) >= 2, 120, 0.05)
        outage(answers)
    finally:
        for t in threads:
            t.join()
    return answers


def outage_refusals(answers: list[Answer]) -> list[str]:
    """The texts of the 503 answers, after checking that every answer is a store (201), a
    refusal for the outage (503) or one for the user's upload quota (429: a client sending
    its upload again every 0.3 s through a long outage uses up its 10 a minute)."""
    statuses = {status for _, status, _ in answers}
    assert statuses <= {201, 429, 503}, [a for a in answers if a[1] not in (201, 429, 503)][:3]
    for _, status, text in answers:
        if status == 429:
            assert "workbooks in this minute" in refusal_message(text), text[:300]
    return [text for _, status, text in answers if status == 503]


def refusal_message(text: str) -> str:
    """The one-line message of a refused upload: a submit's, or the API's error."""
    body = json.loads(text)
    assert body.get("submission") is None and "Traceback" not in text, text[:300]
    message = str(body.get("message") or body["error"]["message"])
    assert "\n" not in message
    return message
