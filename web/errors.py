"""Every failure becomes a page: the project's errors through their table
(`aip_forms.errors.one_line`), HTTP errors (404, 405, the 400 of a missing CSRF token) and
anything unexpected, which is logged with its traceback and shown as a plain 500 page."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from aip_forms.errors import AipError, TooManyRequests, as_aip_error, one_line

log = logging.getLogger("aip_forms.web")

HTTP_MESSAGES = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your role does not allow this page.",
    404: "There is no page at this address.",
    405: "This page does not accept that kind of request.",
    413: "What was sent is too large.",
}


def page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _for_api() -> bool:
    """A request for the JSON API, which answers errors as JSON (an address under /api/
    that no endpoint has included)."""
    return request.path.startswith("/api/")


def init_app(flask_app: Flask) -> None:
    @flask_app.errorhandler(CSRFError)
    def csrf_missing(error: CSRFError) -> tuple[str, int]:
        return page(
            400,
            "Form expired",
            "The form was missing its security token or it had expired; nothing was changed. "
            "Go back, reload the page and try again.",
        )

    @flask_app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        if _for_api():
            from web.api.views import http_error_json

            return http_error_json(error)
        status = error.code or 500
        message = HTTP_MESSAGES.get(status, error.description or "")
        if status == 403 and error.description and "role" in error.description:
            message = error.description
        return page(status, error.name, message)

    @flask_app.errorhandler(AipError)
    def project_error(error: AipError) -> tuple[str, int, dict[str, str]]:
        outcome, message = one_line(error)
        log.warning("%s: %s", outcome.title, message)
        wait = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(wait)} if isinstance(error, TooManyRequests) else {}
        return (*page(outcome.http_status, outcome.title, message), headers)

    @flask_app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        outcome, message = one_line(error)
        if as_aip_error(error) is not None:  # a vendor error an adapter translates
            log.warning("%s: %s", outcome.title, message)
            return page(outcome.http_status, outcome.title, message)
        reference = secrets.token_hex(4)
        log.error("error %s: %s", reference, message, exc_info=error)
        # The message of an unexpected error may name internals (queries, paths): it is
        # logged under a reference the user can quote, not shown.
        return page(
            outcome.http_status,
            outcome.title,
            f"Something went wrong on our side. Please try again; if it keeps happening, "
            f"report reference {reference}.",
        )
