"""The portal's URL converters."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

RECORD_ID_MAX = 2**31 - 1  # PostgreSQL's integer: the largest id a table holds


class RecordId(IntegerConverter):
    """`<int:...>` in every route names a database id: a longer number is a 404, not an
    integer overflow in the database driver (a 500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", RECORD_ID_MAX)
        super().__init__(url_map, *args, **kwargs)
