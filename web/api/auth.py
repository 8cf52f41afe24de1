"""The API's side of the one access policy: a bearer personal access token, never a
cookie. `token_verdict` is what `web.access.requires_token` runs before an endpoint: no
token or a bad one is 401 (with `WWW-Authenticate: Bearer`), a token without the
endpoint's scope 403; the token's user is then `api_user()`, whose roles the services
check against each plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import g, request
from werkzeug.wrappers import Response

from aip_forms.errors import Forbidden
from aip_forms.services.tokens import authenticate_token
from web.sessions import core

if TYPE_CHECKING:
    from web.access import Policy


def error_response(status: int, kind: str, message: str) -> Response:
    from flask import jsonify

    response = jsonify({"error": {"kind": kind, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="aip"'
    return response


def token_verdict(policy: Policy) -> Response | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return error_response(
            401, "Unauthorized", "send a personal access token: Authorization: Bearer aip_..."
        )
    app = core()
    try:
        email, scopes = authenticate_token(secret.strip(), uow=app.uow, clock=app.clock)
    except Forbidden as e:
        return error_response(401, "Unauthorized", str(e))
    if policy.scope not in scopes:
        return error_response(
            403, "Forbidden", f"this token lacks the scope {policy.scope}; make one that has it"
        )
    g.api_user = email
    return None


def api_user() -> str:
    email: str = g.api_user
    return email
