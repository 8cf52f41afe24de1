"""Benchmark: how long a coordinator waits for the portal's answer to Submit, now that the
new version's charts are drawn after the answer (`App.afterwards`, session 4).

Run with `python -m bench.bench_portal_submit` from the repository root. In a temporary
AIP_HOME (SQLite, local object store): the statewide sample loaded with the `aip` commands;
the portal's Flask app on that App, driven in-process by Flask's test client (no HTTP
server: the request's own work is what is timed); for each of RUNS schools of the sample, a
coordinator signed in who submits the school's filled example plan through the upload form
(action Submit, certified). Per submit it records:

- the answer: the POST until its redirect to the receipt (validation, storage, records,
  receipt mail);
- the answer plus the charts: the same, then until the background thread has drawn and kept
  the version's charts. This is what the answer took before session 4, when the charts
  were drawn inside the request: the baseline, in the same run on the same plans.

One school is submitted first, untimed (matplotlib's import and fonts, first templates).
Prints a table and one JSON line.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import print_report

RUNS = 9


def aip(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aip_forms", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"aip {' '.join(args)} failed: {done.stdout}{done.stderr}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aip-bench-portal-submit-") as tmp:
        home = Path(tmp)
        env = {**os.environ, "AIP_HOME": str(home), "AIP_SECRET_KEY": "bench-portal-submit"}
        for name in ("AIP_DATABASE_URL", "AIP_PROGRAM_CONFIG", "AIP_STORAGE_URL", "AIP_PROGRAM"):
            env.pop(name, None)
        aip(env, "data", "sample", "--out", str(home / "sample"))
        aip(env, "data", "load", str(home / "sample"))

        from werkzeug.datastructures import FileStorage, MultiDict
        from werkzeug.test import encode_multipart

        from aip_forms.bootstrap import App
        from aip_forms.config import ProgramConfig, Settings
        from aip_forms.data.queries import plan_targets
        from aip_forms.domain import PlanKind
        from aip_forms.services.access import PlanRef
        from aip_forms.services.users import add_user
        from tests.support.plans import XLSX, complete
        from tests.support.web import Clock, Portal, open_session, token
        from web import create_app

        clock = Clock()  # mid-September of FY2027: before the deadline
        core = App(Settings.from_env(env), ProgramConfig(), clock=clock)
        portal = Portal(core, create_app(core, testing=True), clock, home)
        schools = [s for lea, s in plan_targets(core.engine, 2027, core.config) if s][: RUNS + 1]

        def submit(school: str) -> tuple[float, float]:
            lea = next(lea for lea, s in plan_targets(core.engine, 2027) if s == school)
            email = f"c{school}@bench.example.org"
            add_user(email, "school_coordinator", school_code=school, uow=core.uow)
            client = portal.client()
            open_session(portal, client, email)
            workbook = complete(core, PlanRef(PlanKind.SCHOOL, 2027, lea, school))
            path = f"/plans/FY2027-school-{school}/upload"
            form = MultiDict({"csrf_token": token(client, path), "action": "submit",
                              "certify": "yes"})  # fmt: skip
            form["workbook"] = FileStorage(io.BytesIO(workbook), "plan.xlsx", content_type=XLSX)
            boundary, body = encode_multipart(form)
            kind = f"multipart/form-data; boundary={boundary}"
            start = time.perf_counter()
            answer = client.post(path, data=body, content_type=kind)
            answered = time.perf_counter() - start
            if answer.status_code != 302 or "/versions/" not in answer.headers["Location"]:
                raise SystemExit(f"{school}: not stored ({answer.status_code})")
            core.afterwards.wait()
            return answered, time.perf_counter() - start

        submit(schools[0])  # warm-up, untimed
        timed = [submit(school) for school in schools[1:]]
        kept = len(list(core.store.iter_keys("charts/")))
        core.close()

    answer = statistics.median(a for a, _ in timed)
    total = statistics.median(t for _, t in timed)
    print_report(
        [
            ("submits timed", f"{len(timed)} school plans, one each (after one untimed)"),
            ("answer to Submit, median", f"{answer * 1000:.0f} ms"),
            ("answer plus the charts (before)", f"{total * 1000:.0f} ms"),
            ("ratio answer / before", f"{answer / total:.2f}"),
            ("charts kept in the store", str(kept)),
        ],
        {
            "bench": "portal_submit",
            "answer_ms": round(answer * 1000, 1),
            "answer_plus_charts_ms": round(total * 1000, 1),
            "ratio": round(answer / total, 3),
            "runs": len(timed),
            "charts_kept": kept,
        },
    )


if __name__ == "__main__":
    main()
