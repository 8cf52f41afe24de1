"""Benchmark: the statewide dashboard page (issue 12 goal: 300 ms or less with PostgreSQL
for about 1,000 plans and 4 periods).

Run with `python -m bench.bench_dashboard` (needs PostgreSQL's server binaries, as the
tests do). Starts a throwaway PostgreSQL server, loads the full synthetic sample (149 LEAs,
835 schools) with all four reporting periods, stores an approved plan with targets for
every LEA and school and an approved 80-day progress update for every other plan, then
times with the Flask test client, signed in as the PED coordinator (median of 15 after one
warm-up): GET /dashboards (statewide), GET /dashboards?lea=... (one district), and, as the
baseline in the same run, GET / (the home page: one query over every district plan).

The first request's time is given apart, twice: after `precompute_hidden_cells` (what `aip
data load` runs after a load; its own time is given) the first request reads the stored
small-group suppression and computes the rest; without it (a load by other means), the
first request computes the suppression (`exports.suppression`, per LEA) and stores it.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from aip_forms.bootstrap import App
from aip_forms.config import ProgramConfig, Settings
from aip_forms.data.load import load_paths
from aip_forms.data.queries import plan_targets
from aip_forms.data.sample import write_period_sample, write_sample
from aip_forms.db.models import AbsenceRow, HiddenCellsRow, PlanRecordRow, SubmissionRow
from aip_forms.db.session import make_engine, upgrade
from aip_forms.filled_plan import Plan, PlanRow, PlanSection
from aip_forms.services.dashboards import precompute_hidden_cells
from aip_forms.services.repository import grants_of, user_by_email
from aip_forms.services.users import add_user
from bench.common import median_seconds, print_report
from tests.support.postgres import postgres_server
from web import create_app

RUNS = 15
YEAR = 2027
PERIODS = ("40", "80", "120", "EOY")
PED = "ped@ped.nm.gov"


def _answers(lea: str, school: str | None, groups: list[tuple[str, str, float]]) -> dict[str, Any]:
    tables: dict[str, list[PlanRow]] = {"subgroup": [], "grade": []}
    for gtype, code, rate in groups:
        target = round(max(0.0, rate * 0.9) / 100, 4)
        rows = tables[gtype]
        values = {"group": code, "enrollment": 50, "target": target}
        rows.append(PlanRow(row=6 + len(rows), code=code, values=values))
    kind = "school" if school else "district"
    plan = Plan(kind=kind, spec_version=1, fiscal_year=YEAR, lea_code=lea, school_code=school,
                sections={"demographics": PlanSection(tables={"subgroups": tables["subgroup"]}),
                          "grades": PlanSection(tables={"grades": tables["grade"]}),
                          "root_cause": PlanSection(fields={"research": "Buses."})})  # fmt: skip
    return {"plan": plan.to_json_dict()}


def _seed(url: str, home: Path) -> tuple[App, int]:
    config = ProgramConfig()
    engine = make_engine(url)
    upgrade(engine)
    data = home / "data"
    write_sample(data / "year")
    for period in PERIODS:
        write_period_sample(data / f"p{period}", period)
    report = load_paths(engine, config, [data / "year", *(data / f"p{p}" for p in PERIODS)])
    assert report.ok, report
    settings = Settings(home=home, database_url=url, secret_key=b"bench", workbook_password="x")
    app = App(settings, config)
    add_user(PED, "ped_coordinator", uow=app.uow)
    with engine.begin() as c:
        user = user_by_email_id(c)
        eoy_before = {}
        for lea, school, gtype, code, rate in c.execute(
            select(AbsenceRow.lea_code, AbsenceRow.school_code, AbsenceRow.group_type,
                   AbsenceRow.group_code, AbsenceRow.rate_pct)
            .where(AbsenceRow.fiscal_year == YEAR, AbsenceRow.period == "40")
        ):  # fmt: skip
            eoy_before.setdefault((lea, school), []).append((gtype, code, rate))
        rng = random.Random(12)
        plans = plan_targets(engine, YEAR)
        for n, (lea, school) in enumerate(plans):
            kind = "school" if school else "district"
            prefix = f"{YEAR}/{lea}/{school or '-'}"
            plan_id = c.execute(
                insert(PlanRecordRow)
                .values(
                    kind=kind,
                    fiscal_year=YEAR,
                    lea_code=lea,
                    school_code=school,
                    period=None,
                    storage_prefix=prefix,
                    status="approved",
                )
                .returning(PlanRecordRow.id)
            ).scalar_one()
            groups = eoy_before.get((lea, school or ""), [])
            c.execute(insert(SubmissionRow).values(
                plan_id=plan_id, version=1, object_key=f"{prefix}/v1", sha256="0" * 64, size=1,
                uploaded_by=user, final=True, status="approved",
                report=_answers(lea, school, [(t, g, r * rng.uniform(0.8, 1.2))
                                             for t, g, r in groups])))  # fmt: skip
            if n % 2 == 0:
                period = "80" if school else "40"
                update = {"period": period, "storage_prefix": f"{prefix}/p{period}"}
                c.execute(insert(PlanRecordRow).values(
                    kind=kind, fiscal_year=YEAR, lea_code=lea, school_code=school,
                    status="submitted", **update))  # fmt: skip
    engine.dispose()
    return app, len(plans)


def _forget() -> None:
    """A new process's memory: no suppression, targets or figures kept from a request."""
    from aip_forms.services import dashboards

    dashboards._hidden_cache.clear()
    dashboards._targets_cache.clear()
    dashboards._adjusted_cache.clear()
    dashboards._memo.clear()


def user_by_email_id(c: Any) -> int:
    from aip_forms.db.models import UserRow

    return int(c.execute(select(UserRow.id).where(UserRow.email == PED)).scalar_one())


def _signed_in(app: App, flask: Any) -> Any:
    client = flask.test_client()
    with app.uow() as u:
        user = user_by_email(u.session, PED)
        assert user is not None
        user_id = user.id
        grants = grants_of(u.session, user_id)
    moment = dt.datetime.now(dt.UTC).timestamp()
    with client.session_transaction() as s:
        s["user"] = {"id": user_id, "email": PED, "name": "PED"}
        s["grants"] = [[g.role.value, "", ""] for g in grants]
        s["role"] = "ped_coordinator::"
        s["must_change"] = False
        s["signed_in_at"] = s["last_seen"] = moment
    return client


def main() -> None:
    with postgres_server() as server, tempfile.TemporaryDirectory(prefix="aip-bench-") as tmp:
        url = server.url(server.create_database("bench_dashboard"))
        started = time.perf_counter()
        app, plans = _seed(url, Path(tmp))
        seed_s = time.perf_counter() - started
        flask = create_app(app, testing=True)
        client = _signed_in(app, flask)

        def get(path: str) -> None:
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.data[-400:])

        started = time.perf_counter()
        get("/dashboards")
        uncomputed = time.perf_counter() - started
        _forget()
        with app.uow() as u:
            u.session.execute(delete(HiddenCellsRow))
            u.commit()
        started = time.perf_counter()
        precompute_hidden_cells(engine=app.engine, uow=app.uow, config=app.config)
        precompute = time.perf_counter() - started
        _forget()
        started = time.perf_counter()
        get("/dashboards")
        cold = time.perf_counter() - started
        cold_home = median_seconds(lambda: _forget() or get("/"), 3)
        statewide = median_seconds(lambda: get("/dashboards"), RUNS)
        filtered = median_seconds(lambda: get("/dashboards?period=80&status=late"), RUNS)
        district = median_seconds(lambda: get("/dashboards?lea=001"), RUNS)
        baseline = median_seconds(lambda: get("/"), RUNS)
        size = len(client.get("/dashboards").data)
        with app.uow() as u:
            rates = u.session.query(AbsenceRow).filter(AbsenceRow.fiscal_year == YEAR).count()
        app.close()

    figures = {
        "benchmark": "dashboard_statewide",
        "database": "postgresql",
        "plans": plans,
        "absence_rows_fy": rates,
        "runs": RUNS,
        "statewide_median_ms": round(statewide * 1000, 1),
        "statewide_filtered_median_ms": round(filtered * 1000, 1),
        "district_median_ms": round(district * 1000, 1),
        "first_request_ms": round(cold * 1000, 1),
        "first_request_ratio_to_home": round(cold / cold_home, 2),
        "first_request_without_precompute_s": round(uncomputed, 2),
        "precompute_after_load_s": round(precompute, 2),
        "home_baseline_median_ms": round(baseline * 1000, 1),
        "ratio_to_home": round(statewide / baseline, 2),
        "page_kib": round(size / 1024),
        "seed_s": round(seed_s, 1),
    }
    print_report(
        [
            ("plans (approved, with targets)", f"{plans:,}"),
            ("absence rows of FY2027 (4 periods)", f"{rates:,}"),
            (f"GET /dashboards statewide, median of {RUNS}", f"{statewide * 1000:.1f} ms"),
            ("  with period=80&status=late", f"{filtered * 1000:.1f} ms"),
            ("  one LEA (lea=001)", f"{district * 1000:.1f} ms"),
            ("  first request after the load's precompute", f"{cold * 1000:.1f} ms"),
            ("  first request, suppression not precomputed", f"{uncomputed:.2f} s"),
            ("precompute after the load (aip data load)", f"{precompute:.2f} s"),
            ("ratio first request / home", f"{cold / cold_home:.2f}"),
            (f"baseline GET / (home), median of {RUNS}", f"{baseline * 1000:.1f} ms"),
            ("ratio statewide / home", f"{statewide / baseline:.2f}"),
            ("page size", f"{size / 1024:.0f} KiB"),
        ],
        figures,
    )


if __name__ == "__main__":
    main()
