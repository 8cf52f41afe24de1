"""Reference lists the forms show (districts), from the read-only home service."""

from __future__ import annotations

from aip_forms.services.home import districts
from web.sessions import core


def district_choices() -> list[tuple[str, str]]:
    return [(code, f"{name} ({code})") for code, name in districts(uow=core().uow)]
