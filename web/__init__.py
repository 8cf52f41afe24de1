"""The web portal (Flask): `create_app` builds it over the composition root's `App`.

One blueprint per area (`auth`, `home`, `account`, `admin`, `review`, `documents`, `tokens`,
`ops` (health and metrics), and `api`, the JSON API under /api/v1), templates foldered by blueprint,
USWDS components as Jinja macros (`templates/macros/`). Every view declares its access with
`web.access.requires`; `create_app` refuses to start when one does not. Nothing is built at
import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from aip_forms.bootstrap import App


def create_app(app: App | None = None, *, testing: bool = False) -> Flask:
    """The portal over `app` (default: `App.from_env()`); `testing` keeps every protection
    (CSRF included) and only lets tests read errors from the log."""
    from aip_forms.bootstrap import App
    from web import access, errors, security, sessions, templating
    from web.account.tokens import bp as tokens_bp
    from web.account.views import bp as account_bp
    from web.admin.views import bp as admin_bp
    from web.api.views import bp as api_bp
    from web.auth.views import bp as auth_bp
    from web.dashboards.eoy import bp as eoy_bp
    from web.dashboards.views import bp as dashboards_bp
    from web.documents.views import bp as documents_bp
    from web.home.views import bp as home_bp
    from web.ops.views import init_app as ops_init_app
    from web.plans.views import allow_uploads
    from web.plans.views import bp as plans_bp
    from web.review.views import bp as review_bp
    from web.routing import RecordId
    from web.settings import PortalSettings

    core = app if app is not None else App.from_env()
    flask_app = Flask(__name__)
    flask_app.url_map.converters["int"] = RecordId  # before any route is added
    flask_app.testing = testing
    flask_app.extensions["aip"] = core
    portal = PortalSettings.of(core)
    flask_app.extensions["aip.portal"] = portal
    flask_app.config.update(
        SECRET_KEY=core.settings.secret_key,
        MAX_CONTENT_LENGTH=64 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    ops_init_app(flask_app)  # first: request id and timing around everything else
    sessions.init_app(flask_app, core, portal)
    flask_app.before_request(allow_uploads)  # before CSRF protection reads the form
    security.init_app(flask_app, portal)
    errors.init_app(flask_app)
    templating.init_app(flask_app)
    for blueprint in (auth_bp, home_bp, account_bp, admin_bp):
        flask_app.register_blueprint(blueprint)
    flask_app.register_blueprint(plans_bp)
    for blueprint in (review_bp, documents_bp, tokens_bp, api_bp):
        flask_app.register_blueprint(blueprint)
    flask_app.extensions["csrf"].exempt(api_bp)  # bearer tokens, no cookies: no CSRF
    flask_app.register_blueprint(dashboards_bp)
    flask_app.register_blueprint(eoy_bp)
    access.check_every_view_declares_access(flask_app)
    return flask_app
