"""Benchmark: the deadline rush on the production layout (issue 15, point 5), on loopback.

Run with `python -m bench.bench_deadline_rush [--window 300]`. Starts a throwaway
PostgreSQL, moto's S3 server (its own process), Redis, an SMTP server (aiosmtpd, here: it
keeps the sign-in codes), the portal under gunicorn (`aip serve --workers 2`) and one
Celery worker (`aip worker --concurrency 1`); loads the 835-school sample. Set-up (not
timed): 210 school coordinators with an API token and a filled, signed workbook each; six
small LEAs' district plans submitted and approved; 20 PED reviewers with a password, each
signed in through the portal's own pages (password, then the code mailed to them).

1. Baseline, the same run, nothing else going: one reviewer opens each page 15 times;
   10 coordinators (not among the 200) check and submit; one district packet alone.
2. The rush, `--window` seconds (default 300): 200 coordinators each start at a random
   moment, check their workbook then submit it (API, as the portal's upload does); 20
   reviewers browse all along (home, review queue, a submitted plan's review page, 1-3 s
   apart); 5 district packets are asked for within the first half (as the portal does,
   through the job queue), and the worker makes them.

Then: every submit stored once (one version per plan in the database; `aip storage
verify`), every packet done, its mail sent (nothing left in the mail outbox). Plain threads
and `requests`, not locust: locust runs on gevent, which monkey-patches sockets and
threads in the whole process, and this process also runs the set-up and the checks
(psycopg, boto3, the in-process SMTP server); locust would also add gevent and its pinned
Flask to the shared environment. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import text

from aip_forms.bootstrap import App
from aip_forms.data.queries import all_plan_data
from aip_forms.jobs.service import job_status, request_packet
from aip_forms.mail import OutboxMailer
from aip_forms.services import accounts
from aip_forms.services.review import approve
from aip_forms.services.submissions import submit
from aip_forms.services.tokens import create_token
from aip_forms.services.users import add_user
from bench.bench_upload_load import _aip, _free_port, _load_average, _process, _wait_for
from bench.common import print_report
from tests.support.postgres import postgres_server
from tests.support.redis import redis_server
from tests.support.s3 import make_client, s3_env
from tests.support.smtp import smtp_server
from workbook_templates.example import example_workbook

FISCAL_YEAR = 2027
COORDINATORS, BASELINE_SCHOOLS = 200, 10
REVIEWERS, PACKETS = 20, 5
PASSWORD = "Rush-hour review 2027!"
PED = "ped.coordinator@bench.nm.gov"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = re.compile(r"Your sign-in code is (\d{6})")


@dataclass(frozen=True)
class School:
    code: str
    token: str
    workbook: bytes


@dataclass(frozen=True)
class Call:
    kind: str  # check, submit, or a page: home, queue, plan, sign-in
    seconds: float
    status: int  # 0: no response
    ok: bool


@dataclass(frozen=True)
class Packet:
    lea: str
    seconds: float
    status: str


# ---- set-up ---------------------------------------------------------------------------------


def _workbook(core: App, plan: object) -> bytes:
    buffer = io.BytesIO()
    example_workbook(core.config.spec(plan.kind), plan, core.config, core.settings).save(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


def _prepare(env: dict[str, str], home: Path) -> tuple[list[School], list[str], list[int]]:
    """Schools (coordinator, token, workbook), the packet LEAs, the district plans' ids."""
    sample = home / "sample"
    _aip(env, "data", "sample", "--out", str(sample))
    _aip(env, "data", "load", str(sample))
    setup_env = {k: v for k, v in env.items() if not k.startswith("AIP_SMTP")}
    core = App.from_env(setup_env)  # mail to the outbox folder: the set-password links
    try:
        plans = list(all_plan_data(core.engine, core.config, FISCAL_YEAR))
        by_lea: dict[str, list[object]] = defaultdict(list)
        for p in plans:
            if p.school:
                by_lea[p.lea.code].append(p)
        small = sorted(lea for lea, schools in by_lea.items() if 2 <= len(schools) <= 3)
        packet_leas = small[: PACKETS + 1]  # one more for the baseline
        rush_schools = [p for lea in sorted(by_lea) for p in by_lea[lea]]
        chosen = [p for lea in packet_leas for p in by_lea[lea]]
        chosen += [p for p in rush_schools if p not in chosen]
        chosen = chosen[: COORDINATORS + BASELINE_SCHOOLS]
        schools = []
        for plan in chosen:
            code = plan.school.code  # type: ignore[attr-defined]
            email = f"c{code}@bench.org"
            add_user(email, "school_coordinator", school_code=code, uow=core.uow)
            _, secret = create_token(email, "bench", ["plans:read", "plans:write"], uow=core.uow)
            schools.append(School(code, secret, _workbook(core, plan)))
        add_user(PED, "ped_coordinator", uow=core.uow)
        district_ids = []
        for lea in packet_leas:
            email = f"d{lea}@bench.org"
            add_user(email, "district_coordinator", lea_code=lea, uow=core.uow)
            (district,) = [p for p in plans if p.lea.code == lea and not p.school]
            result = submit(_workbook(core, district), user_email=email, uow=core.uow,
                            store=core.store, validate=core.validator, final=True,
                            filename="district.xlsx")  # fmt: skip
            assert result.submission is not None, result.message
            approve(result.submission.id, reviewer_email=PED, uow=core.uow, config=core.config)
            district_ids.append(result.submission.plan.id)
        mailer = core.mailer
        assert isinstance(mailer, OutboxMailer)
        for n in range(REVIEWERS):
            email = f"reviewer{n:02d}@ped.bench.nm.gov"
            add_user(email, "ped_reviewer", uow=core.uow, mailer=mailer, name=f"Reviewer {n}",
                     site=core.site, policy=core.accounts)  # fmt: skip
            body = mailer.sent()[-1].get_content()
            token = re.search(r"/account/set-password/(\S+)", body)
            assert token, body
            accounts.set_password(
                token.group(1),
                PASSWORD,
                uow=core.uow,
                mailer=mailer,
                policy=core.accounts,
                site=core.site,
            )
        return schools, packet_leas, district_ids
    finally:
        core.close()


def _sign_in(base: str, email: str, inbox: object) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/sign-in", timeout=30)
    token = CSRF.search(page.text)
    assert token, page.status_code
    before = len(inbox.to(email))  # type: ignore[attr-defined]
    r = s.post(f"{base}/sign-in", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token.group(1)}, timeout=30)  # fmt: skip
    assert r.status_code == 200 and "/sign-in/code" in r.url, (r.status_code, r.url)
    deadline = time.monotonic() + 30
    while len(inbox.to(email)) == before and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    code = CODE.search(inbox.to(email)[-1].get_content())  # type: ignore[attr-defined]
    assert code
    token = CSRF.search(r.text)
    assert token
    r = s.post(f"{base}/sign-in/code", data={"code": code.group(1), "csrf_token": token.group(1)},
               timeout=30)  # fmt: skip
    assert r.status_code == 200 and "/sign-in" not in r.url, (r.status_code, r.url)
    return s


# ---- the calls ------------------------------------------------------------------------------


def _upload(s: requests.Session, base: str, kind: str, school: School) -> Call:
    start = time.perf_counter()
    try:
        r = s.post(f"{base}/api/v1/uploads", headers={"Authorization": f"Bearer {school.token}"},
                   data={"mode": kind}, files={"file": (f"{school.code}.xlsx", school.workbook)},
                   timeout=120)  # fmt: skip
    except requests.RequestException:
        return Call(kind, time.perf_counter() - start, 0, False)
    seconds = time.perf_counter() - start
    outcome = r.json().get("outcome", "") if r.headers.get("Content-Type", "").startswith(
        "application/json") else ""  # fmt: skip
    ok = (r.status_code, outcome) in ((200, "valid"),) if kind == "check" else (
        (r.status_code, outcome) == (201, "stored"))  # fmt: skip
    return Call(kind, seconds, r.status_code, ok)


def _page(s: requests.Session, base: str, kind: str, path: str) -> Call:
    start = time.perf_counter()
    try:
        r = s.get(f"{base}{path}", timeout=60, allow_redirects=False)
    except requests.RequestException:
        return Call(kind, time.perf_counter() - start, 0, False)
    return Call(kind, time.perf_counter() - start, r.status_code, r.status_code == 200)


def _browse(s: requests.Session, base: str, plan_ids: list[int], rng: random.Random) -> Call:
    kind = rng.choice(("home", "queue", "plan"))
    path = {"home": "/", "queue": "/review", "plan": f"/review/plans/{rng.choice(plan_ids)}"}
    return _page(s, base, kind, path[kind])


def _packet(core: App, lea: str) -> Packet:
    start = time.monotonic()
    job = request_packet(FISCAL_YEAR, lea, user_email=PED, uow=core.uow, queue=core.queue)
    while job.status not in ("done", "failed") and time.monotonic() - start < 1200:
        time.sleep(0.5)
        job = job_status(job.id, user_email=PED, uow=core.uow)
    return Packet(lea, time.monotonic() - start, job.status)


# ---- figures --------------------------------------------------------------------------------


def _pcts(calls: list[Call]) -> dict[str, float]:
    times = sorted(c.seconds for c in calls)
    if len(times) < 2:
        return {"n": len(times), "p50": times[0] if times else 0.0, "p95": 0.0, "max": 0.0}
    q = statistics.quantiles(times, n=100, method="inclusive")
    return {"n": len(times), "p50": q[49], "p95": q[94], "max": times[-1]}


def _ms(p: dict[str, float]) -> str:
    return f"n={p['n']:.0f}, p50 {p['p50'] * 1000:.0f} ms, p95 {p['p95'] * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=300, help="the rush, seconds")
    args = parser.parse_known_args()[0]  # `make bench` passes benchmark names
    rng = random.Random(2027)

    with (
        tempfile.TemporaryDirectory(prefix="aip-rush-") as tmp,
        postgres_server() as pg,
        redis_server() as redis,
        smtp_server() as inbox,
    ):
        home = Path(tmp)
        s3_port = _free_port()
        s3 = f"http://127.0.0.1:{s3_port}"
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AIP_", "AWS_"))}
        moto_cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)]
        with _process(moto_cmd, base_env, home / "moto.log") as moto:
            _wait_for(f"{s3}/", moto, "moto")
            make_client(s3).create_bucket(Bucket="aip-rush")
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            env = {
                **base_env,
                **s3_env(s3, "aip-rush", "plans"),
                "AIP_HOME": str(home / "aip"),
                "AIP_DATABASE_URL": pg.url(pg.create_database("aip")),
                "AIP_SECRET_KEY": "bench-rush-secret-" + "r" * 20,
                "AIP_BASE_URL": base,
                "AIP_REDIS_URL": redis,
                "AIP_SMTP_HOST": "127.0.0.1",
                "AIP_SMTP_PORT": str(inbox.port),
                "AIP_MAIL_FROM": "aip-forms@ped.bench.nm.gov",
                "AIP_PDF_CONVERTER": "batch",
            }
            t0 = time.perf_counter()
            schools, packet_leas, plan_ids = _prepare(env, home)
            prepare_s = time.perf_counter() - t0
            baseline_schools = schools[-BASELINE_SCHOOLS:]
            rush_schools = schools[:COORDINATORS]

            serve_cmd = [sys.executable, "-m", "aip_forms", "serve", "--host", "127.0.0.1",
                         "--port", str(port), "--workers", "2"]  # fmt: skip
            worker_cmd = [sys.executable, "-m", "aip_forms", "worker", "--concurrency", "1"]
            with (
                _process(serve_cmd, env, home / "gunicorn.log") as portal,
                _process(worker_cmd, env, home / "worker.log"),
                App.from_env(env) as core,
            ):
                _wait_for(f"{base}/healthz", portal, "the portal")
                reviewers = [
                    _sign_in(base, f"reviewer{n:02d}@ped.bench.nm.gov", inbox)
                    for n in range(REVIEWERS)
                ]
                # warm both gunicorn workers before anything is timed
                for s in reviewers[:4]:
                    _browse(s, base, plan_ids, rng)

                # 1. baseline, nothing else going
                quiet: list[Call] = []
                for kind, path in (("home", "/"), ("queue", "/review"),
                                   ("plan", f"/review/plans/{plan_ids[0]}")):  # fmt: skip
                    quiet += [_page(reviewers[0], base, kind, path) for _ in range(15)]
                with requests.Session() as s:
                    for school in baseline_schools:
                        quiet += [_upload(s, base, "check", school),
                                  _upload(s, base, "submit", school)]  # fmt: skip
                quiet_packet = _packet(core, packet_leas[-1])

                # 2. the rush
                calls: list[Call] = []
                packets: list[Packet] = []
                lock = threading.Lock()
                start = time.monotonic()
                end = start + args.window

                def coordinator(school: School, at: float) -> None:
                    time.sleep(max(0.0, start + at - time.monotonic()))
                    with requests.Session() as s:
                        made = [_upload(s, base, "check", school),
                                _upload(s, base, "submit", school)]  # fmt: skip
                    with lock:
                        calls.extend(made)

                def reviewer(s: requests.Session, seed: int) -> None:
                    own = random.Random(seed)
                    while time.monotonic() < end:
                        call = _browse(s, base, plan_ids, own)
                        with lock:
                            calls.append(call)
                        time.sleep(own.uniform(1, 3))

                def packet(lea: str, at: float) -> None:
                    time.sleep(max(0.0, start + at - time.monotonic()))
                    done = _packet(core, lea)
                    with lock:
                        packets.append(done)

                threads = [
                    threading.Thread(target=coordinator, args=(school, rng.uniform(0, args.window)))
                    for school in rush_schools
                ]
                threads += [threading.Thread(target=reviewer, args=(s, n))
                            for n, s in enumerate(reviewers)]  # fmt: skip
                threads += [
                    threading.Thread(target=packet, args=(lea, rng.uniform(0, args.window / 2)))
                    for lea in packet_leas[:PACKETS]
                ]
                load_before = _load_average()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                rush_s = time.monotonic() - start
                load_after = _load_average()
                time.sleep(2)  # the last packet's mail
                mails_waiting = len(core.mail_outbox.waiting())
                with core.engine.connect() as c:
                    versions = dict(c.execute(text(
                        "SELECT p.school_code, count(s.id) FROM plan p JOIN submission s "
                        "ON s.plan_id = p.id WHERE p.school_code IS NOT NULL "
                        "GROUP BY p.school_code")).all())  # fmt: skip
                    jobs_done = c.execute(text(
                        "SELECT count(*) FROM job WHERE status = 'done'")).scalar_one()  # fmt: skip
                for s in reviewers:
                    s.close()
            verify_out = _aip(env, "storage", "verify").strip().splitlines()[-1]
            packet_mails = sum(1 for m in inbox.to(PED) if "/jobs/" in m.get_content())

    kinds = ("home", "queue", "plan", "check", "submit")
    errors = [c for c in calls if not c.ok]
    once = sum(1 for s in schools if versions.get(s.code) == 1)
    rows: list[tuple[str, str]] = [
        (
            f"setup: {len(schools)} coordinators, {REVIEWERS} reviewers signed in",
            f"{prepare_s:.0f} s",
        ),
    ]
    figures: dict[str, object] = {"benchmark": "deadline_rush", "window_s": args.window}
    for kind in kinds:
        base_p = _pcts([c for c in quiet if c.kind == kind])
        rush_p = _pcts([c for c in calls if c.kind == kind])
        ratio = rush_p["p95"] / base_p["p95"] if base_p["p95"] else float("nan")
        rows.append((f"{kind}: baseline", _ms(base_p)))
        rows.append((f"{kind}: rush", f"{_ms(rush_p)}, p95 x{ratio:.1f} baseline, "
                     f"{sum(1 for c in errors if c.kind == kind)} errors"))  # fmt: skip
        figures[kind] = {"baseline": base_p, "rush": rush_p, "p95_ratio": round(ratio, 2)}
    packet_s = [p.seconds for p in packets]
    rows += [
        ("packet alone (baseline)", f"{quiet_packet.seconds:.1f} s, {quiet_packet.status}"),
        (
            f"packets in the rush ({PACKETS})",
            f"median {statistics.median(packet_s):.1f} s, max {max(packet_s):.1f} s, "
            f"{sum(p.status == 'done' for p in packets)} done",
        ),
        (f"rush: {len(calls)} calls in {rush_s:.0f} s", f"{len(errors)} errors"),
        ("plans with exactly one version", f"{once} of {len(schools)}"),
        ("aip storage verify", verify_out),
        (
            "jobs done / packet mails / mail still queued",
            f"{jobs_done} / {packet_mails} / {mails_waiting}",
        ),
        ("load average before / after the rush", f"{load_before} / {load_after}"),
    ]
    figures.update({
        "errors": len(errors),
        "packet_baseline_s": round(quiet_packet.seconds, 1),
        "packets_s": [round(x, 1) for x in packet_s],
        "packets_done": sum(p.status == "done" for p in packets),
        "one_version": once, "schools": len(schools), "verify": verify_out,
        "jobs_done": jobs_done, "packet_mails": packet_mails, "mail_waiting": mails_waiting,
        "load_average": [load_before, load_after],
    })  # fmt: skip
    print_report(rows, figures)
    for c in errors[:10]:
        print(f"error: {c}", file=sys.stderr)


if __name__ == "__main__":
    main()
