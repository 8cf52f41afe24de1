"""Benchmark: uploads under load (issue 11), over real HTTP on loopback.

Run with `python -m bench.bench_upload_load [--duration 30] [--window 120]`. Starts a throwaway
PostgreSQL, a moto S3 server (its own process) and the portal under gunicorn (`aip serve
--workers 2`); loads the 835-school sample; for 600 schools adds a coordinator and an API token
and makes a valid, signed workbook. Then, with plain threads and `requests`:

1. 20 clients for `--duration` seconds each: first `GET /api/v1/plans` (the baseline, a light
   authenticated request), then `POST /api/v1/uploads` (mode=submit), each client through its
   own share of schools (each upload is that school's coordinator submitting that school's
   plan). A school's first submit stores a version (201); when a client has used all its
   schools it starts over and the repeats are `unchanged` (200: validated, not stored).
2. The deadline hour: 200 other coordinators, each starting at a random moment within
   `--window` seconds (default 300), check (mode=check) then submit their plan. Afterwards:
   one version per plan in the database, and `aip storage verify` against the same database
   and bucket.

Prints a table and one JSON line. Goals: upload p95 of 300 ms or less at 20 clients; 0 errors
and every submit recorded and stored exactly once in the deadline hour.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import text

from aip_forms.bootstrap import App
from aip_forms.data.queries import all_plan_data
from aip_forms.services.tokens import create_token
from aip_forms.services.users import add_user
from bench.common import print_report
from tests.support.postgres import postgres_server
from tests.support.s3 import make_client, s3_env
from workbook_templates.example import example_workbook

FISCAL_YEAR = 2027
CLIENTS = 20
COORDINATORS = 200
SCHOOLS = 600  # 200 for the deadline hour, 400 (20 a client) for the 20-client run
GOAL_P95_S = 0.300


@dataclass(frozen=True)
class School:
    code: str
    token: str
    workbook: bytes


@dataclass(frozen=True)
class Call:
    kind: str  # "plans", "submit", "check"
    seconds: float
    status: int  # 0: no response
    outcome: str
    ok: bool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode} before answering")
        with contextlib.suppress(requests.RequestException):
            requests.get(url, timeout=2)
            return
        time.sleep(0.2)
    sys.exit(f"{what} did not answer at {url} within {timeout:.0f} s")


@contextlib.contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A server process for the block; stopped by its PID (SIGTERM, then SIGKILL)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _aip(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "aip_forms", *args], env=env,
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0 and args[0] != "storage":
        sys.exit(f"aip {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


def _prepare(env: dict[str, str], home: Path) -> list[School]:
    """Reference data, one coordinator + token + filled workbook per school."""
    sample = home / "sample"
    _aip(env, "data", "sample", "--out", str(sample))
    _aip(env, "data", "load", str(sample))
    core = App.from_env(env)
    try:
        plans = [p for p in all_plan_data(core.engine, core.config, FISCAL_YEAR) if p.school]
        schools = []
        for plan in sorted(plans, key=lambda p: p.school.code)[:SCHOOLS]:  # type: ignore[union-attr]
            code = plan.school.code  # type: ignore[union-attr]
            email = f"c{code}@bench.org"
            add_user(email, "school_coordinator", school_code=code, uow=core.uow)
            _, secret = create_token(email, "bench", ["plans:read", "plans:write"], uow=core.uow)
            buffer = io.BytesIO()
            example_workbook(core.config.spec(plan.kind), plan, core.config,
                             core.settings).save(buffer)  # fmt: skip
            schools.append(School(code, secret, buffer.getvalue()))
        return schools
    finally:
        core.close()


def _call(session: requests.Session, base: str, kind: str, school: School) -> Call:
    headers = {"Authorization": f"Bearer {school.token}"}
    start = time.perf_counter()
    try:
        if kind == "plans":
            r = session.get(f"{base}/api/v1/plans", headers=headers, timeout=60)
        else:
            r = session.post(
                f"{base}/api/v1/uploads",
                headers=headers,
                data={"mode": kind},
                files={"file": (f"{school.code}.xlsx", school.workbook)},
                timeout=60,
            )
        seconds = time.perf_counter() - start
    except requests.RequestException as e:
        return Call(kind, time.perf_counter() - start, 0, type(e).__name__, False)
    outcome = r.json().get("outcome", "") if kind != "plans" else ""
    ok = {
        "plans": r.status_code == 200,
        "check": r.status_code == 200 and outcome == "valid",
        "submit": (r.status_code, outcome) in ((201, "stored"), (200, "unchanged")),
    }[kind]
    return Call(kind, seconds, r.status_code, outcome, ok)


def _run_clients(duration: float, work: Callable[[int, int, requests.Session], Call]) -> list[Call]:
    """CLIENTS threads, each calling `work(client, i, session)` for its i-th call until
    `duration` seconds are up."""
    calls: list[Call] = []
    lock = threading.Lock()
    end = time.monotonic() + duration

    def client(index: int) -> None:
        with requests.Session() as session:
            i = 0
            while time.monotonic() < end:
                call = work(index, i, session)
                with lock:
                    calls.append(call)
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return calls


def _pcts(calls: list[Call]) -> dict[str, float]:
    times = sorted(c.seconds for c in calls)
    if len(times) < 2:
        return {"n": len(times), "p50": times[0] if times else 0, "p95": 0, "p99": 0}
    q = statistics.quantiles(times, n=100, method="inclusive")
    return {"n": len(times), "p50": q[49], "p95": q[94], "p99": q[98], "max": times[-1]}


def _ms(p: dict[str, float]) -> str:
    return (f"n={p['n']}, p50 {p['p50'] * 1000:.0f} ms, p95 {p['p95'] * 1000:.0f} ms, "
            f"p99 {p['p99'] * 1000:.0f} ms")  # fmt: skip


def _load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30, help="seconds per 20-client run")
    parser.add_argument("--window", type=float, default=300, help="deadline-hour window, s")
    args = parser.parse_known_args()[0]  # `make bench` passes benchmark names

    with tempfile.TemporaryDirectory(prefix="aip-load-") as tmp, postgres_server() as pg:
        home = Path(tmp)
        s3_port = _free_port()
        s3 = f"http://127.0.0.1:{s3_port}"
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AIP_", "AWS_"))}
        moto_cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)]
        with _process(moto_cmd, base_env, home / "moto.log") as moto:
            _wait_for(f"{s3}/", moto, "moto")
            bucket = "aip-load"
            make_client(s3).create_bucket(Bucket=bucket)
            env = {
                **base_env,
                **s3_env(s3, bucket, "plans"),
                "AIP_HOME": str(home / "aip"),
                "AIP_DATABASE_URL": pg.url(pg.create_database("aip")),
                "AIP_SECRET_KEY": "bench-load-secret",
                "AIP_WORKBOOK_PASSWORD": "bench",
            }
            start = time.perf_counter()
            schools = _prepare(env, home)
            prepare_s = time.perf_counter() - start
            deadline_schools, load_schools = schools[:COORDINATORS], schools[COORDINATORS:]
            shares = [load_schools[i::CLIENTS] for i in range(CLIENTS)]

            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            serve_cmd = [sys.executable, "-m", "aip_forms", "serve", "--port", str(port),
                         "--workers", "2"]  # fmt: skip
            with _process(serve_cmd, env, home / "gunicorn.log") as portal:
                _wait_for(f"{base}/api/v1/openapi.json", portal, "the portal")
                # warm both workers (imports, connection pools) before anything is timed
                with requests.Session() as s:
                    for school in schools[-4:]:
                        _call(s, base, "plans", school)

                load_before = _load_average()
                plans_calls = _run_clients(
                    args.duration,
                    lambda client, _, s: _call(s, base, "plans", shares[client][0]),
                )

                def upload(client: int, i: int, s: requests.Session) -> Call:
                    share = shares[client]
                    return _call(s, base, "submit", share[i % len(share)])

                upload_calls = _run_clients(args.duration, upload)
                load_during = _load_average()

                # the deadline hour
                rng = random.Random(2027)
                starts = sorted(rng.uniform(0, args.window) for _ in deadline_schools)
                deadline_calls: list[Call] = []
                lock = threading.Lock()
                t0 = time.monotonic()

                def coordinator(school: School, at: float) -> None:
                    time.sleep(max(0.0, t0 + at - time.monotonic()))
                    with requests.Session() as s:
                        made = [_call(s, base, "check", school), _call(s, base, "submit", school)]
                    with lock:
                        deadline_calls.extend(made)

                threads = [
                    threading.Thread(target=coordinator, args=(school, at))
                    for school, at in zip(deadline_schools, starts, strict=True)
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                deadline_s = time.monotonic() - t0
                load_after = _load_average()

            # verify: one version per deadline plan, and the store against the database
            core = App.from_env(env)
            try:
                with core.engine.connect() as c:
                    versions = dict(
                        c.execute(
                            text(
                                "SELECT p.school_code, count(s.id) FROM plan p "
                                "LEFT JOIN submission s ON s.plan_id = p.id "
                                "GROUP BY p.school_code"
                            )
                        ).all()
                    )
            finally:
                core.close()
            verify_out = _aip(env, "storage", "verify").strip().splitlines()[-1]

    submits = [c for c in upload_calls if c.kind == "submit"]
    stored = [c for c in submits if c.outcome == "stored"]
    unchanged = [c for c in submits if c.outcome == "unchanged"]
    errors = [c for c in submits if not c.ok]
    plans_errors = [c for c in plans_calls if not c.ok]
    up, base_p = _pcts(submits), _pcts(plans_calls)
    st = _pcts(stored)
    d_check = [c for c in deadline_calls if c.kind == "check"]
    d_submit = [c for c in deadline_calls if c.kind == "submit"]
    d_errors = [c for c in deadline_calls if not c.ok]
    d_stored = sum(1 for c in d_submit if c.outcome == "stored")
    once = sum(1 for s in deadline_schools if versions.get(s.code) == 1)
    m = re.search(r"(\d+) recorded, (\d+) ok, (\d+) missing, (\d+) corrupt, (\d+) orphaned",
                  verify_out)  # fmt: skip
    recorded, ok, missing, corrupt, orphaned = (int(x) for x in m.groups()) if m else (0,) * 5
    ratio = up["p95"] / base_p["p95"]

    rows = [
        (f"setup: {len(schools)} users, tokens and workbooks", f"{prepare_s:.0f} s"),
        ("workbook size, median", f"{statistics.median(len(s.workbook) for s in schools):,.0f} B"),
        (
            f"baseline: GET /plans, {CLIENTS} clients {args.duration:.0f} s",
            f"{_ms(base_p)}, {len(plans_errors)} errors",
        ),
        (
            f"upload (submit), {CLIENTS} clients {args.duration:.0f} s",
            f"{_ms(up)}, {len(errors)} errors",
        ),
        ("  of which stored (201)", _ms(st)),
        ("  of which unchanged repeats (200)", _ms(_pcts(unchanged))),
        ("upload throughput", f"{len(submits) / args.duration:.1f}/s"),
        (
            "upload p95 / GET p95 (goal p95 <= 300 ms)",
            f"{ratio:.1f} ({'met' if up['p95'] <= GOAL_P95_S else 'MISSED'})",
        ),
        (
            f"deadline: {COORDINATORS} check+submit in {args.window:.0f} s window",
            f"took {deadline_s:.0f} s, {len(d_errors)} errors",
        ),
        ("  check", _ms(_pcts(d_check))),
        ("  submit", _ms(_pcts(d_submit))),
        ("  plans with exactly one version", f"{once} of {COORDINATORS} ({d_stored} stored)"),
        ("  aip storage verify", verify_out),
        (
            "load average before / after uploads / end",
            f"{load_before} / {load_during} / {load_after}",
        ),
    ]
    figures = {
        "benchmark": "upload_load",
        "clients": CLIENTS,
        "duration_s": args.duration,
        "gunicorn_workers": 2,
        "baseline_plans": {k: round(v, 4) for k, v in base_p.items()},
        "upload_submit": {k: round(v, 4) for k, v in up.items()},
        "upload_stored": {k: round(v, 4) for k, v in st.items()},
        "upload_errors": len(errors),
        "p95_ratio": round(ratio, 2),
        "goal_p95_met": up["p95"] <= GOAL_P95_S,
        "deadline_window_s": args.window,
        "deadline_errors": len(d_errors),
        "deadline_check": {k: round(v, 4) for k, v in _pcts(d_check).items()},
        "deadline_submit": {k: round(v, 4) for k, v in _pcts(d_submit).items()},
        "deadline_one_version": once,
        "verify": {
            "recorded": recorded,
            "ok": ok,
            "missing": missing,
            "corrupt": corrupt,
            "orphaned": orphaned,
        },
        "load_average": [load_before, load_during, load_after],
    }
    print_report(rows, figures)
    if errors or d_errors:
        for c in (errors + d_errors)[:5]:
            print(f"error: {c}", file=sys.stderr)


if __name__ == "__main__":
    main()
