"""A plan's files for the machine API: its versions, its workbooks (pre-filled, latest, or
the revision workbook), and a workbook checked without storing it. Access is checked on
every call with the user's roles (`services.access`).

- `plan_versions`: the plan and every version (id, number, status, who, when, SHA-256);
- `prefilled_workbook`: a fresh pre-filled workbook of the plan (current PED data, signed);
- `revision_for`: the revision workbook (last answers and open comments), with the plan's
  reference data from the database;
- `check_upload`: what the validator says of an upload, stored nowhere; the workbook's own
  identity must be a plan the user may submit.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import Engine, select

from aip_forms.config import ProgramConfig, Settings
from aip_forms.db.models import SubmissionRow, UserRow
from aip_forms.domain import PlanKind
from aip_forms.errors import Forbidden, NotFound
from aip_forms.issued_data import PlanData
from aip_forms.services.access import Action, PlanRef, may_submit_any, refusal
from aip_forms.services.repository import (
    PlanView,
    authorize,
    grants_of,
    plan_ref,
    plan_view,
    require_plan,
    require_user,
)
from aip_forms.services.revision import RevisionWorkbook, revision_workbook
from aip_forms.services.submissions import Validator
from aip_forms.services.uow import UowFactory, aware
from validators.validate import Expectation, ValidationReport


@dataclass(frozen=True)
class VersionLine:
    submission_id: int
    version: int
    status: str
    final: bool
    uploaded_by: str
    uploaded_at: dt.datetime
    sha256: str
    size: int
    valid: bool


def plan_versions(
    plan_id: int, *, user_email: str, uow: UowFactory
) -> tuple[PlanView, list[VersionLine]]:
    with uow() as u:
        plan = require_plan(u.session, plan_id)
        authorize(u.session, user_email, Action.READ, plan)
        rows = u.session.execute(
            select(SubmissionRow, UserRow.email)
            .join(UserRow, SubmissionRow.uploaded_by == UserRow.id)
            .where(SubmissionRow.plan_id == plan_id)
            .order_by(SubmissionRow.version)
        )
        lines = [
            VersionLine(
                row.id,
                row.version,
                row.status,
                row.final,
                email,
                aware(row.uploaded_at),
                row.sha256,
                row.size,
                bool((row.report or {}).get("valid")),
            )
            for row, email in rows
        ]
        return plan_view(plan), lines


def _plan_data(engine: Engine, config: ProgramConfig, ref: PlanRef) -> PlanData:
    from aip_forms.data import queries

    try:
        return queries.plan_data(engine, config, ref.fiscal_year, ref.lea_code, ref.school_code)
    except queries.UnknownEntity as e:
        raise NotFound(f"{e} Load the reference data with `aip data load`.") from e


def prefilled_workbook(
    plan_id: int,
    *,
    user_email: str,
    uow: UowFactory,
    engine: Engine,
    config: ProgramConfig,
    settings: Settings,
) -> tuple[str, bytes]:
    """The plan's pre-filled workbook, as `aip workbook generate` makes it."""
    from workbook_templates.build import build_workbook
    from workbook_templates.generate import file_name

    with uow() as u:
        plan = require_plan(u.session, plan_id)
        authorize(u.session, user_email, Action.READ, plan)
        ref = plan_ref(plan)
    data = _plan_data(engine, config, ref)
    out = io.BytesIO()
    build_workbook(config.spec(ref.kind), data, config, settings).save(out)
    return file_name(data), out.getvalue()


def revision_for(
    plan_id: int,
    *,
    user_email: str,
    uow: UowFactory,
    engine: Engine,
    config: ProgramConfig,
    settings: Settings,
) -> RevisionWorkbook:
    return revision_workbook(
        plan_id,
        uow=uow,
        plan_data=lambda ref: _plan_data(engine, config, ref),
        config=config,
        settings=settings,
        user_email=user_email,
    )


def check_upload(
    data: bytes,
    *,
    filename: str | None,
    user_email: str,
    uow: UowFactory,
    validate: Validator,
    final: bool = False,
) -> ValidationReport:
    """Validate an upload for a coordinator, storing nothing; Forbidden when its workbook
    is a plan they may not submit (its report would tell them about another's plan)."""
    with uow() as u:
        user = require_user(u.session, user_email)
        email, grants = user.email, grants_of(u.session, user.id)
    if not may_submit_any(grants):
        raise Forbidden(f"{email} holds no coordinator role; coordinators check their plans")
    report = validate(data, filename=filename, expect=Expectation(), final=final)
    identity = report.identity
    if identity is not None:
        ref = PlanRef(
            PlanKind(identity.kind), identity.fiscal_year, identity.lea_code, identity.school_code
        )
        if reason := refusal(email, grants, Action.SUBMIT, ref):
            raise Forbidden(reason)
    return report
