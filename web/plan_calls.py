"""The plan use cases the review, documents and API views share, bound to the composition
root's collaborators: each takes the user the request acts for (the signed-in person or
the API token's user), whom the services check against the plan."""

from __future__ import annotations

from collections.abc import Iterable

from aip_forms.services import documents
from aip_forms.services.plan_tables import PlanPage, plan_page
from web.sessions import core


def page_of(plan_id: int, user_email: str) -> PlanPage:
    app = core()
    return plan_page(
        plan_id,
        user_email=user_email,
        uow=app.uow,
        store=app.store,
        key=app.settings.secret_key,
        config=app.config,
    )


def rendered(
    plan_id: int, user_email: str, fmt: str, sections: Iterable[str] | None
) -> documents.Rendered:
    """The plan as a PDF or Word document (a custom report with `sections`)."""
    app = core()
    return documents.render_stored(
        plan_id,
        uow=app.uow,
        store=app.store,
        engine=app.engine,
        config=app.config,
        key=app.settings.secret_key,
        fmt=fmt,
        sections=sections,
        user_email=user_email,
        converter=app.converter if fmt == "pdf" else None,
        generated=app.clock().date(),
    )
