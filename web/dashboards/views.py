"""The dashboards (issue 12): `/dashboards` shows the acting role's view (PED statewide,
a district coordinator its district and schools, a school coordinator its school), with
filters as GET parameters; every table downloads as .xlsx; `/dashboards/plans/<key>` is
the words behind a plan's numbers (root causes, latest reflections)."""

from __future__ import annotations

import io
import re

from flask import Blueprint, abort, render_template, request, send_file
from werkzeug.wrappers import Response

from aip_forms.errors import InvalidInput
from aip_forms.programs.rules import Direction
from aip_forms.services.access import Grant
from aip_forms.services.dashboards import (
    STATUS_CHOICES,
    Dashboard,
    Filters,
    dashboard,
    parse_filters,
    plan_words,
)
from aip_forms.services.home import XLSX, fiscal_year_of
from web import sessions
from web.access import requires
from web.dashboards import charts
from web.dashboards.tables import tables
from web.dashboards.xlsx import table_workbook
from web.sessions import core

bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")

Page = str | tuple[str, int] | Response
SHOWN_ROWS = 200  # rows of a long table on the page; the download has them all
CHART_ROWS = 30
_NAME = re.compile(r"^[a-z-]{1,20}$")


def _role() -> Grant:
    person = sessions.principal()
    assert person is not None and person.role is not None  # the policy saw to it
    return person.role


def _board() -> tuple[Dashboard | None, dict[str, str]]:
    app = core()
    today = app.clock().date()
    try:
        filters = parse_filters(request.args, today, app.config)
    except InvalidInput as e:
        return None, {"filters": str(e)}
    board = dashboard(_role(), filters, uow=app.uow, config=app.config, today=today,
                      engine=app.engine)  # fmt: skip
    return board, {}


@bp.route("")
@requires()
def index() -> Page:
    board, errors = _board()
    app = core()
    if board is None:
        fallback = Filters(fiscal_year_of(app.clock().date()))
        return render_template(
            "dashboards/index.html", board=None, errors=errors, filters=fallback,
            periods=app.config.periods, statuses=STATUS_CHOICES,
        ), 400  # fmt: skip
    return render_template(
        "dashboards/index.html", board=board, errors={}, filters=board.filters,
        periods=app.config.periods, statuses=STATUS_CHOICES, tables=tables(board, SHOWN_ROWS),
        charts=_charts(board), shown_rows=SHOWN_ROWS,
    )  # fmt: skip


@bp.route("/download/<name>.xlsx")
@requires()
def download(name: str) -> Page:
    board, errors = _board()
    if board is None:
        raise InvalidInput(errors["filters"])
    found = tables(board).get(name) if _NAME.match(name) else None
    if found is None:
        abort(404)
    f = board.filters
    said = [f"FY{f.fiscal_year}", board.scope]
    said += [f"period {f.period}"] if f.period else []
    said += [f"LEA {f.lea_code}"] if f.lea_code and board.scope == "statewide" else []
    said += [f"status {f.status}"] if f.status else []
    subtitle = ", ".join(said) + "; * = hidden to protect student privacy (groups under "
    subtitle += f"{board.min_group_size} students and their complements)"
    response = send_file(
        io.BytesIO(table_workbook(found, subtitle)), mimetype=XLSX, as_attachment=True,
        download_name=f"dashboard-FY{f.fiscal_year}-{name}.xlsx",
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/plans/<key>")
@requires()
def words(key: str) -> Page:
    app = core()
    found = plan_words(key[:64], _role(), uow=app.uow, config=app.config,
                       today=app.clock().date())  # fmt: skip
    return render_template("dashboards/words.html", words=found)


def _charts(board: Dashboard) -> dict[str, object]:
    period = board.period.label if board.period else ""
    metric = core().config.metric
    lower = metric.direction is Direction.LOWER_IS_BETTER
    meets = "at or under" if lower else "at or over"
    side = "above" if lower else "below"
    out: dict[str, object] = {}
    if board.shares:
        out["on-track"] = charts.lines(
            "chart-on-track", "Share of plans on track per period",
            "Per reporting period, the percentage of approved plans whose all-students "
            f"{metric.name} is {meets} its target: "
            + "; ".join(f"{s.label} {s.share if s.share is not None else 'no data'}"
                        f"{'%' if s.share is not None else ''}" for s in board.shares) + ".",
            [s.label for s in board.shares],
            [("Share on track", [s.share for s in board.shares], charts.ACTUAL)], top=100,
        )  # fmt: skip
    for name, items, what in (
        ("by-place", board.by_place, "LEA" if board.scope == "statewide" else "school"),
        ("by-subgroup", board.by_subgroup, "subgroup"),
        ("by-grade", board.by_grade, "grade"),
    ):
        if not items:
            continue
        sign = 1 if lower else -1
        ranked = sorted(items, key=lambda c: -sign * ((c.actual or 0) - (c.target or 0)))
        ranked = ranked[:CHART_ROWS]
        more = (
            f" The {CHART_ROWS} furthest {side} target are drawn."
            if len(items) > CHART_ROWS
            else ""
        )
        out[name] = charts.bars(
            f"chart-{name}", f"Target against actual by {what}, {period}",
            f"{metric.title.capitalize()} target and actual rate (percent) by {what} for "
            f"{period}; the table beside the chart gives every value.{more}",
            [(c.label, c.target, c.actual) for c in (ranked if more else items)],
        )  # fmt: skip
    if board.trend and board.loaded:
        all_students = next((t for t in board.trend if t.group_code == "all"), None)
        if all_students is not None:
            labels = [p.label for p in board.loaded]
            series = [("All students", list(all_students.rates), charts.ACTUAL)]
            if all_students.target is not None:
                series.append(("Target", [all_students.target] * len(labels), charts.TARGET))
            out["trend"] = charts.lines(
                "chart-trend", f"All students: {metric.title.lower()} per period",
                f"The school's all-students {metric.name} per reporting period against "
                "its target; the table beside the chart gives every group.", labels, series,
            )  # fmt: skip
    return out
