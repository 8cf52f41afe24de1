"""Checking what a person typed into a portal form: one plain message per field.

`Fields` collects the problems of a whole form and raises `InvalidFields` (an
`InvalidInput`) once, naming every field that is wrong, so the portal can show each message
beside its field and the command line can print one line. Nothing is changed when a form
is refused.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from aip_forms.errors import InvalidInput


class InvalidFields(InvalidInput):
    """A form with problems: `problems` maps each field's name to its message."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems.items()))


class Fields:
    """Problems found so far in one form, by field (the first problem of a field wins)."""

    def __init__(self) -> None:
        self.problems: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.problems.setdefault(field, message)

    def text(
        self,
        field: str,
        value: str | None,
        *,
        max_length: int,
        required: bool = True,
        multiline: bool = False,
    ) -> str:
        """`value` trimmed, with inner runs of spaces made one (a `multiline` text keeps its
        line breaks); refused (and "" returned) when missing, too long, or holding control
        or invisible characters."""
        raw = (value or "").replace("\r\n", "\n")
        if multiline:
            lines = [" ".join(line.split()) for line in raw.strip().split("\n")]
            text, allowed = "\n".join(lines), "\n"
        else:
            text, allowed = " ".join(raw.split()), ""
        if not text:
            if required:
                self.add(field, "is required")
            return ""
        if any(
            unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") and c not in allowed for c in raw
        ):
            self.add(field, "has control or invisible characters; type it again")
            return ""
        if len(text) > max_length:
            self.add(field, f"is too long (at most {max_length} characters)")
            return ""
        return text

    def email(self, field: str, value: str | None) -> str:
        """A plain ASCII address, lower-cased; look-alike letters from other alphabets are
        refused (a district address never needs them)."""
        raw = (value or "").strip()
        if not raw:
            self.add(field, "is required")
            return ""
        if len(raw) > 254:
            self.add(field, "is too long (at most 254 characters)")
            return ""
        if not raw.isascii():
            self.add(field, "may only use plain letters, digits and . - _ + @ (no accents)")
            return ""
        try:
            found = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as e:
            self.add(field, f"is not an email address ({e})")
            return ""
        return str(found.normalized).lower()

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidFields(self.problems)
