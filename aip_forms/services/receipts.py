"""Submitting from the portal, with a receipt: the version's plan, number, time and SHA-256,
shown on a page and emailed to the coordinator who submitted.

`submit_with_receipt` is `submissions.submit` for a final (certified) upload plus the
receipt email, sent only when a new version was stored or a draft became the submitted one:
a double-clicked or repeated submit of the same file stores nothing new and mails nothing.
A mail that cannot be sent does not undo the submission; the page says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aip_forms.errors import AipError
from aip_forms.mail import Mail, Mailer
from aip_forms.services.access import Action, PlanRef
from aip_forms.services.repository import (
    SubmissionView,
    authorize,
    require_plan,
    require_submission,
    submission_view,
)
from aip_forms.services.submissions import SubmitResult, Validator, submit
from aip_forms.services.uow import Clock, UowFactory, utc_now
from aip_forms.storage import ObjectStore

MOUNTAIN = ZoneInfo("America/Denver")


@dataclass(frozen=True)
class Submitted:
    result: SubmitResult
    mailed: bool  # the receipt email went out (False also when nothing new was stored)


def submit_with_receipt(
    data: bytes,
    *,
    plan: PlanRef,
    plan_name: str,
    user_email: str,
    filename: str | None,
    uow: UowFactory,
    store: ObjectStore,
    validate: Validator,
    mailer: Mailer,
    link: str,
    clock: Clock = utc_now,
) -> Submitted:
    """Submit `data` as the certified plan `plan`; email the receipt when a version was
    stored or finalized (`link` is the page of the plan's history, for the email)."""
    result = submit(
        data,
        user_email=user_email,
        uow=uow,
        store=store,
        validate=validate,
        final=True,
        filename=filename,
        plan=plan,
        clock=clock,
    )
    if result.outcome not in ("stored", "finalized") or result.submission is None:
        return Submitted(result, mailed=False)
    try:
        mailer.send(receipt_mail(result.submission, plan_name=plan_name, to=user_email, link=link))
    except AipError:
        return Submitted(result, mailed=False)
    return Submitted(result, mailed=True)


def receipt_mail(view: SubmissionView, *, plan_name: str, to: str, link: str) -> Mail:
    at = view.uploaded_at.astimezone(MOUNTAIN)
    body = "\n".join(
        [
            f"Your plan was submitted: {plan_name}.",
            "",
            f"Plan: {view.plan.ref}",
            f"Version: {view.version}",
            f"Submitted: {at:%B} {at.day}, {at.year} at {at:%I:%M %p} {at.tzname()}",
            f"File: {view.filename or '(no name)'}",
            f"SHA-256: {view.sha256}",
            "",
            "The SHA-256 fingerprint identifies the exact file stored; keep this email as your",
            "receipt. The plan's history and review are at:",
            link,
        ]
    )
    return Mail([to], f"Receipt: {plan_name}, version {view.version} submitted", body)


def submission_record(
    submission_id: int, *, uow: UowFactory, user_email: str | None
) -> SubmissionView:
    """The record of one version (no bytes read), if the user may read its plan."""
    with uow() as u:
        row = require_submission(u.session, submission_id)
        authorize(u.session, user_email, Action.READ, require_plan(u.session, row.plan_id))
        return submission_view(u.session, row)
