"""What every response carries: the content security policy (no inline scripts or
styles), HSTS behind TLS, nosniff, a referrer policy; and CSRF protection on every form
(Flask-WTF: a form posted without its token gets the 400 page and changes nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect

if TYPE_CHECKING:
    from web.settings import PortalSettings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def init_app(flask_app: Flask, portal: PortalSettings) -> None:
    CSRFProtect(flask_app)
    flask_app.config["WTF_CSRF_SSL_STRICT"] = portal.tls

    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if portal.tls:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response

    flask_app.after_request(headers)


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site (no scheme, no host, no `//` or `\\`
    tricks, no control characters); else None."""
    if not target or len(target) > 512 or not target.startswith("/"):
        return None
    if target.startswith(("//", "/\\")) or any(c in target for c in "\\\r\n\t\0"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def this_request_path() -> str:
    """The path (and query) of this request, to come back to after signing in."""
    full = request.full_path
    return full[:-1] if full.endswith("?") else full
