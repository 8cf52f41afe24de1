"""`aip serve`: the web portal under gunicorn (the factory `web:create_app`)."""

from __future__ import annotations

from typing import Any

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Processes."
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web portal (gunicorn) until stopped with Ctrl-C."""
    from gunicorn.app.base import BaseApplication

    from aip_forms.bootstrap import App
    from web import create_app

    core = App.from_env()  # a broken setting stops here, with one line, before listening

    class Portal(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": workers,
                # No access log: its paths carry set-password tokens; the portal logs each
                # request as a JSON line by endpoint name (aip_forms.observability).
                "accesslog": None,
                "forwarded_allow_ips": "127.0.0.1",
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from aip_forms.observability import configure_logging

            configure_logging()
            return create_app(core)

    click.echo(f"Serving the portal on http://{host}:{port}/ (Ctrl-C stops it)")
    Portal().run()
