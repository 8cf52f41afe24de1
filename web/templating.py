"""What every template may use: the signed-in person, their role choices, when the session
ends, times shown in the program's time zone, and the program's names (`program`)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from aip_forms.config import ProgramConfig
from web.sessions import core, grant_key, grant_label, principal, session_ends


def program() -> ProgramConfig:
    """The running program's rules and names, for templates: `program().agency`."""
    return core().config


def local_time(moment: dt.datetime) -> str:
    """A moment in the program's time zone (New Mexico's: Mountain time)."""
    local = moment.astimezone(ZoneInfo(core().config.time_zone))
    return local.strftime("%I:%M %p").lstrip("0") + f" {local.tzname()} ({local:%B} {local.day})"


def sentence(message: str, label: str = "") -> str:
    """A field's message as a sentence: the services' fragments ("is required") get the
    field's label in front; the portal's own messages are sentences already."""
    text = " ".join(str(message).split())
    if label and text[:1].islower():
        text = f"{label} {text}"
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def init_app(flask_app: Flask) -> None:
    flask_app.jinja_env.globals.update(
        role_label=grant_label, role_key=grant_key, local_time=local_time, program=program
    )
    flask_app.jinja_env.filters["sentence"] = sentence

    @flask_app.context_processor
    def portal_context() -> dict[str, Any]:
        person = principal()
        choices = [(grant_key(g), grant_label(g)) for g in person.grants] if person else []
        ends = session_ends() if person else None
        return {
            "person": person,
            "role_choices": choices,
            "session_ends": ends,
            # seconds left by the portal's clock: the countdown never trusts the browser's
            "session_left": max(0, int((ends - core().clock()).total_seconds())) if ends else 0,
        }
