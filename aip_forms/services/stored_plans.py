"""Plans from the submissions store, for documents: what `aip render --plan ID` prints, and
where `aip compile` finds plans unless it is given a folder or told to use examples.

`stored_plan` reads one version of a plan, its latest unless a version is asked for:
- the plan's record, if the user may read the plan (no user: the operator, who reads all);
- the workbook's bytes through the object store, checked against the SHA-256 recorded
  with the version (`submissions.get_submission`): nothing is printed from a damaged or
  missing object;
- the typed Plan from the validation report stored with the version: the answers as the
  validator read them when the workbook was submitted. JSON keeps no dates, so date
  fields are read back by the form spec. A version whose report holds no plan that reads
  back is validated again from its bytes;
- the review, as the document shows it (`ReviewInfo`): the plan's status (for an earlier
  version, that version's own), who uploaded the version and when, the latest decision on
  it or an earlier version and who took it, and the reviewers' comments on it and on
  earlier versions (`review.comments_of`; an earlier version's say which);
- its progress through the year (`progress_of`, issue 12): for each reporting period of
  the plan's kind, PED's rates for the plan's school or LEA by subgroup and grade (when
  loaded), and the period's progress update: its status and, once approved, its adjusted
  targets and its rating and reflection on every strategy.

`stored_source` is the `PlanSource` of compiled documents: each plan's latest version,
whatever its status (the document and the summary say which); a plan never submitted is
left to the caller as not received.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig
from aip_forms.db.models import AbsenceRow, PlanRecordRow, ReviewEventRow, SubmissionRow, UserRow
from aip_forms.errors import Corrupt, Forbidden, NotFound
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import PlanData
from aip_forms.services.access import Action, PlanRef, refusal
from aip_forms.services.plan_sources import Item, PlanKey, PlanSource, plan_key
from aip_forms.services.repository import (
    SubmissionView,
    authorize,
    find_plan,
    grants_of,
    plan_ref,
    require_plan,
    require_user,
)
from aip_forms.services.review import CommentView, comments_of
from aip_forms.services.submissions import get_submission, list_submissions
from aip_forms.services.uow import UowFactory, aware
from aip_forms.services.workflow import VersionStatus
from aip_forms.spec import FieldType
from aip_forms.storage import ObjectStore
from exports.review import GroupRate, PeriodProgress, Reflection, ReviewComment, ReviewInfo
from validators.validate import Expectation, validate_upload


@dataclass(frozen=True)
class StoredPlan:
    plan: Plan
    review: ReviewInfo
    submission: SubmissionView


@dataclass(frozen=True)
class _Record:
    """What the database says about the version to print."""

    ref: PlanRef
    submission_id: int
    version: int
    status: str
    report: dict[str, Any]
    earlier: tuple[tuple[int, int], ...]  # (submission id, version) of this and earlier ones
    reviewer: str
    reviewed_at: dt.datetime | None


def stored_plan(
    plan_id: int,
    *,
    uow: UowFactory,
    store: ObjectStore,
    key: bytes,
    config: ProgramConfig,
    user_email: str | None = None,
    version: int | None = None,
) -> StoredPlan:
    """The plan's latest version (or `version`) as a typed Plan, with its review.

    Raises the services' errors: NotFound (no such plan, version, or no version at all),
    Forbidden (the user may not read the plan), Corrupt (the object is missing or damaged,
    or its workbook no longer reads), Unavailable (storage failing)."""
    record = _record(plan_id, uow, user_email, version)
    with uow() as u:
        progress = progress_of(u.session, config, record.ref)
    view, data = get_submission(record.submission_id, uow=uow, store=store, user_email=user_email)
    plan = plan_from_report(record.report, config) or _revalidated(data, record, view, key, config)
    found = (plan.kind, plan.fiscal_year, plan.lea_code, plan.school_code)
    ref = record.ref
    if found != (ref.kind, ref.fiscal_year, ref.lea_code, ref.school_code):
        raise Corrupt(f"version {record.version} of plan {plan_id} holds another plan than {ref}")
    comments = [
        (c, _place(c, number, record.version))
        for submission_id, number in record.earlier
        for c in comments_of(submission_id, uow=uow, user_email=user_email)
    ]
    names = _names(uow, {view.uploaded_by, record.reviewer, *(c.author for c, _ in comments)})
    review = ReviewInfo(
        status=record.status,
        reviewer=names.get(record.reviewer, record.reviewer),
        reviewed_at=record.reviewed_at,
        submitted_by=names.get(view.uploaded_by, view.uploaded_by),
        submitted_at=view.uploaded_at,
        version=record.version,
        sha256=view.sha256,
        comments=tuple(
            ReviewComment(names.get(c.author, c.author), c.body, c.created_at, where)
            for c, where in comments
        ),
        progress=progress,
    )
    return StoredPlan(plan, review, view)


def _record(plan_id: int, uow: UowFactory, user_email: str | None, version: int | None) -> _Record:
    with uow() as u:
        s = u.session
        plan = require_plan(s, plan_id)
        authorize(s, user_email, Action.READ, plan)
        versions = list(
            s.scalars(
                select(SubmissionRow)
                .where(SubmissionRow.plan_id == plan_id)
                .order_by(SubmissionRow.version)
            )
        )
        if not versions:
            raise NotFound(f"plan {plan_id} ({plan_ref(plan)}) has no submitted workbook yet")
        chosen = (
            versions[-1]
            if version is None
            else next((v for v in versions if v.version == version), None)
        )
        if chosen is None:
            raise NotFound(
                f"plan {plan_id} has no version {version}; it has versions 1 to "
                f"{versions[-1].version}"
            )
        earlier = [v for v in versions if v.version <= chosen.version]
        decision = s.execute(
            select(UserRow.email, ReviewEventRow.at)
            .join(UserRow, ReviewEventRow.reviewer_id == UserRow.id)
            .where(ReviewEventRow.submission_id.in_([v.id for v in earlier]))
            .order_by(ReviewEventRow.at.desc(), ReviewEventRow.id.desc())
            .limit(1)
        ).first()
        return _Record(
            ref=plan_ref(plan),
            submission_id=chosen.id,
            version=chosen.version,
            # the plan's status is its latest version's; an earlier one has its own
            status=plan.status if chosen is versions[-1] else chosen.status,
            report=dict(chosen.report or {}),
            earlier=tuple((v.id, v.version) for v in earlier),
            reviewer=decision.email if decision else "",
            reviewed_at=aware(decision.at) if decision else None,
        )


def progress_of(
    session: Session, config: ProgramConfig, ref: PlanRef
) -> tuple[PeriodProgress, ...]:
    """Each reporting period of the plan's kind, in order: PED's rates for the plan's
    school or LEA (empty while not loaded), and the period's progress update: its status,
    and, once approved, its adjusted targets and strategy reflections."""
    if ref.period is not None:
        return ()
    periods = config.periods_for(ref.kind)
    rates: dict[str, list[GroupRate]] = {p.code: [] for p in periods}
    query = select(
        AbsenceRow.period, AbsenceRow.group_type, AbsenceRow.group_code, AbsenceRow.rate_pct,
        AbsenceRow.students,
    ).where(
        AbsenceRow.fiscal_year == ref.fiscal_year,
        AbsenceRow.period.in_(list(rates)),
        AbsenceRow.lea_code == ref.lea_code,
        AbsenceRow.school_code == (ref.school_code or ""),
    )  # fmt: skip
    for code_of_period, group_type, code, rate, students in session.execute(query):
        rates[code_of_period].append(GroupRate(group_type, code, rate, students))
    out = []
    for period in periods:
        record = find_plan(
            session,
            PlanRef(ref.kind, ref.fiscal_year, ref.lea_code, ref.school_code, period.code),
        )
        status, adjusted, reflections = _update(session, record)
        out.append(
            PeriodProgress(
                code=period.code,
                label=period.label,
                update_status=status,
                rates=tuple(sorted(rates[period.code], key=lambda r: (r.group_type, r.code))),
                adjusted=adjusted,
                reflections=reflections,
            )
        )
    return tuple(out)


def _update(
    session: Session, record: PlanRecordRow | None
) -> tuple[str, tuple[tuple[str, str, float], ...], tuple[Reflection, ...]]:
    """(status, adjusted targets, reflections) of a progress update: what its latest
    approved version says; nothing of a draft, submitted or returned one but its status."""
    if record is None:
        return "", (), ()
    approved = session.scalar(
        select(SubmissionRow)
        .where(SubmissionRow.plan_id == record.id, SubmissionRow.status == VersionStatus.APPROVED)
        .order_by(SubmissionRow.version.desc())
        .limit(1)
    )
    raw = approved.report.get("plan") if approved is not None and approved.report else None
    if not isinstance(raw, dict):
        return record.status, (), ()
    try:
        filled = Plan.model_validate(raw)
    except ValidationError:
        return record.status, (), ()
    adjusted = []
    for group_type, table in (("subgroup", "subgroups"), ("grade", "grades")):
        for row in filled.rows(table, table):
            value = row.get("adjusted_target")
            if row.code and isinstance(value, int | float) and not isinstance(value, bool):
                adjusted.append((group_type, row.code, float(value)))
    reflections = tuple(
        Reflection(
            ref=row.code,
            strategy=str(row.get("strategy") or ""),
            rating=str(row.get("rating") or ""),
            reflection=str(row.get("reflection") or ""),
        )
        for row in filled.rows("strategies", "strategies")
        if row.code
    )
    return record.status, tuple(adjusted), reflections


def _place(comment: CommentView, version: int, shown: int) -> str:
    """Where a document says the comment points, with its version when not the one shown."""
    where = "" if comment.where == "the plan" else comment.where
    if version != shown:
        where = f"version {version}" + (f", {where}" if where else "")
    return where


def _names(uow: UowFactory, emails: Iterable[str]) -> dict[str, str]:
    """How a document names each user who has a name: "Name (email)"."""
    wanted = [e for e in emails if e]
    with uow() as u:
        rows = u.session.execute(
            select(UserRow.email, UserRow.name).where(UserRow.email.in_(wanted))
        )
        return {email: f"{name} ({email})" for email, name in rows if name}


def plan_from_report(report: Mapping[str, Any], config: ProgramConfig) -> Plan | None:
    """The Plan stored in a validation report (`ValidationReport.to_dict`), typed again by
    its form spec; None when the report holds none, or one that does not read back."""
    raw = report.get("plan")
    if not isinstance(raw, dict):
        return None
    try:
        plan = Plan.model_validate(raw)
        identity = report.get("identity")
        period = identity.get("period") if isinstance(identity, dict) else None
        spec = config.form_spec(plan.kind, period)
    except (ValidationError, ValueError, KeyError):
        return None
    for section in spec.sections:
        stored = plan.sections.get(section.key)
        if stored is None:
            continue
        for f in section.fields:
            if f.type is FieldType.DATE and isinstance(stored.fields.get(f.key), str):
                stored.fields[f.key] = _date(stored.fields[f.key])
        for table in section.tables:
            dates = [c.key for c in table.columns if c.type is FieldType.DATE]
            for row in stored.tables.get(table.key, []) if dates else []:
                for k in dates:
                    if isinstance(row.values.get(k), str):
                        row.values[k] = _date(row.values[k])
    return plan


def _date(value: Any) -> dt.date | str:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)


def _revalidated(
    data: bytes, record: _Record, view: SubmissionView, key: bytes, config: ProgramConfig
) -> Plan:
    ref = record.ref
    expect = Expectation(ref.kind, ref.fiscal_year, ref.lea_code, ref.school_code or "")
    report = validate_upload(data, key=key, config=config, filename=view.filename, expect=expect)
    if report.plan is None or report.outcome == "unreadable":
        reason = report.errors[0].message if report.errors else report.outcome
        raise Corrupt(
            f"version {record.version} of {ref} has no stored answers, and its workbook does "
            f"not read: {reason}"
        )
    return report.plan


# ---- compiled documents -------------------------------------------------------------------


def check_readable(uow: UowFactory, user_email: str, datas: Iterable[PlanData]) -> None:
    """Forbidden unless the user may read every one of these plans (submitted or not)."""
    with uow() as u:
        user = require_user(u.session, user_email)
        email, grants = user.email, grants_of(u.session, user.id)
    for data in datas:
        school = data.school.code if data.school else None
        ref = PlanRef(data.kind, data.fiscal_year, data.lea.code, school)
        if reason := refusal(email, grants, Action.READ, ref):
            raise Forbidden(reason)


def stored_source(
    *,
    uow: UowFactory,
    store: ObjectStore,
    key: bytes,
    config: ProgramConfig,
    fiscal_year: int,
    user_email: str | None = None,
    on_skip: Callable[[str], None] = lambda message: None,
) -> PlanSource:
    """Each plan's latest stored version, with its review; plans never submitted are None.

    With a user, every plan asked for must be theirs to read (a district coordinator
    compiles their own LEA; the statewide summary is for PED)."""

    def source(datas: Sequence[PlanData]) -> Iterator[Item]:
        if user_email is not None:
            check_readable(uow, user_email, datas)
        leas = {d.lea.code for d in datas}
        latest: dict[PlanKey, SubmissionView] = {}
        for view in list_submissions(
            uow=uow,
            user_email=user_email,
            fiscal_year=fiscal_year,
            lea_code=next(iter(leas)) if len(leas) == 1 else None,
        ):
            k = (view.plan.ref.lea_code, view.plan.ref.school_code)
            if k not in latest or view.version > latest[k].version:
                latest[k] = view
        wanted = {plan_key(d) for d in datas}
        for k, view in sorted(latest.items(), key=lambda item: item[1].plan.id):
            if k not in wanted and k[0] in leas:
                on_skip(
                    f"plan {view.plan.id} ({view.plan.ref}) is stored, but the reference "
                    f"data has no FY{fiscal_year} enrollment for it; left out"
                )
        for data in datas:
            newest = latest.get(plan_key(data))
            if newest is None:
                yield data, None, None
                continue
            found = stored_plan(
                newest.plan.id,
                uow=uow,
                store=store,
                key=key,
                config=config,
                user_email=user_email,
                version=newest.version,
            )
            yield data, found.plan, found.review

    return source
