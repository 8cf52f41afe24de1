"""Reading posted forms: every field is text, trimmed, at most `limit` characters and free
of control characters; anything else is a field error shown next to the field, never an
exception. The services check the meaning; this only keeps what they receive sane."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from flask import request

from aip_forms.errors import AipError, one_line
from aip_forms.services.fields import InvalidFields

FORM = "form"  # the key of a message about the whole form (shown in the summary only)


class Posted:
    """The posted form's fields, read one by one, with the errors found so far."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.values: dict[str, str] = {}

    def text(self, name: str, *, limit: int = 200, multiline: bool = False) -> str:
        raw = request.form.get(name, "")
        value = raw.replace("\r\n", "\n") if multiline else raw.strip()
        if len(value) > limit:
            self.errors[name] = f"Use at most {limit} characters."
            value = value[:limit]
        allowed = "\n\t" if multiline else ""
        if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
            self.errors[name] = "Remove the control characters."
            value = "".join(c for c in value if unicodedata.category(c) != "Cc" or c in allowed)
        self.values[name] = value.strip() if multiline else value
        return self.values[name]

    def secret(self, name: str, *, limit: int = 256) -> str:
        """A password or code: not trimmed, never echoed back."""
        value = request.form.get(name, "")
        if len(value) > limit:
            self.errors[name] = f"Use at most {limit} characters."
            return ""
        return value

    def refused(
        self, error: AipError, *, field: str = FORM, rename: Mapping[str, str] | None = None
    ) -> int:
        """Record why a service refused the form and return the page's status: each field
        message of `InvalidFields` beside its field (`rename` maps the service's field names
        to the form's), any other refusal as one sentence under `field`."""
        if isinstance(error, InvalidFields):
            for name, message in error.problems.items():
                self.errors.setdefault((rename or {}).get(name, name), message)
            return 400
        outcome, message = one_line(error)
        self.errors.setdefault(field, message[:1].upper() + message[1:])
        return outcome.http_status
