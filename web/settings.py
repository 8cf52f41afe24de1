"""The portal's own settings, taken from the composition root: session time-outs, TLS,
where sessions are kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aip_forms.bootstrap import App

TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class PortalSettings:
    idle_timeout: dt.timedelta = dt.timedelta(minutes=30)
    session_lifetime: dt.timedelta = dt.timedelta(hours=12)
    tls: bool = False  # behind TLS: Secure cookies and HSTS
    redis_url: str = ""
    session_dir: Path = Path("sessions")
    base_url: str = "http://127.0.0.1:8000"

    @classmethod
    def of(cls, app: App) -> PortalSettings:
        s = app.settings
        env = s.environment  # the AIP_* variables the composition root read
        policy = getattr(app, "accounts", None)
        idle = getattr(policy, "idle_timeout", None)
        lifetime = getattr(policy, "session_lifetime", None)
        return cls(
            idle_timeout=_minutes(idle) if idle is not None else cls.idle_timeout,
            session_lifetime=_minutes(lifetime) if lifetime is not None else cls.session_lifetime,
            tls=env.get("AIP_TLS", "").strip().lower() in TRUE or s.base_url.startswith("https://"),
            redis_url=getattr(s, "redis_url", "") or env.get("AIP_REDIS_URL", "").strip(),
            session_dir=s.home / "sessions",
            base_url=s.base_url,
        )


def _minutes(value: object) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int | float):
        return dt.timedelta(minutes=value)
    raise TypeError(f"a time-out is minutes or a timedelta, not {value!r}")
