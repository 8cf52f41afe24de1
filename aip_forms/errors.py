"""The project's own errors, and the one table that says what each means to a user.

Adapters (database, object storage, LibreOffice, mail) turn their vendor's errors into
these; services raise them; the two entry points present them through `OUTCOMES`: the
command line as an exit status and one line on stderr, the portal as an HTTP status and a
page. Nothing else decides an exit code or a status for a failure.

| error          | exit | HTTP | meaning                                                  |
| -------------- | ---- | ---- | -------------------------------------------------------- |
| InvalidInput   | 2    | 400  | a request that makes no sense (option, value, file)      |
| NotFound       | 2    | 404  | no such user, plan, version or reference data            |
| Forbidden      | 2    | 403  | the user's roles do not allow it                         |
| Conflict       | 2    | 409  | the plan's state does not allow it (or a race lost)      |
| TooManyRequests| 2    | 429  | too many failed attempts; wait `retry_after` seconds     |
| Unavailable    | 3    | 503  | database, storage, LibreOffice or mail failing; retry    |
| Corrupt        | 4    | 500  | a stored record or object fails its integrity check      |
| (anything else)| 5    | 500  | a bug: still one line, never a traceback                 |

Exit status 1 is not an error here: a command uses it for "done, and what was checked has
problems" (an invalid plan, a storage check that found damage).

Vendor errors that reach the boundary untranslated (a query run straight on the engine) are
translated by the translators adapters register (`register_translator`), so this module
never imports a vendor library and stays cheap to import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


class AipError(Exception):
    """A use case that cannot go ahead; `str(error)` is a one-line message for the user."""

    @property
    def exit_code(self) -> int:
        return outcome_of(self).exit_code


class InvalidInput(AipError):
    """A request that makes no sense: a bad option, role, email, cell, section or file."""


class NotFound(AipError):
    """No such user, plan, submission or reference data."""


class Forbidden(AipError):
    """The user's roles do not reach the plan, or do not allow the action."""


class Conflict(AipError):
    """The plan's status does not allow the action (e.g. replacing a submitted plan)."""


class TooManyRequests(AipError):
    """Refused for a while after repeated failures (sign-in); `retry_after` is how many
    seconds to wait (the portal's Retry-After header)."""

    retry_after: int = 60


class Unavailable(AipError):
    """The database, object storage, LibreOffice or mail could not be used; nothing was
    changed, and trying again later may work."""


class Corrupt(AipError):
    """A stored object or record does not match what was recorded for it."""


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    http_status: int
    title: str  # what a page heading or log line calls it


OUTCOMES: dict[type[AipError], Outcome] = {
    InvalidInput: Outcome(2, 400, "Not accepted"),
    NotFound: Outcome(2, 404, "Not found"),
    Forbidden: Outcome(2, 403, "Not allowed"),
    Conflict: Outcome(2, 409, "Not possible now"),
    TooManyRequests: Outcome(2, 429, "Too many attempts"),
    Unavailable: Outcome(3, 503, "Temporarily unavailable"),
    Corrupt: Outcome(4, 500, "Stored data damaged"),
}
INTERNAL = Outcome(5, 500, "Internal error")


def outcome_of(error: BaseException) -> Outcome:
    for kind in type(error).__mro__:
        if kind in OUTCOMES:
            return OUTCOMES[kind]
    return INTERNAL


Translator = Callable[[BaseException], AipError | None]
_translators: list[Translator] = []


def register_translator(translator: Translator) -> Translator:
    """Called by an adapter module for its vendor's errors (idempotent)."""
    if translator not in _translators:
        _translators.append(translator)
    return translator


def as_aip_error(error: BaseException) -> AipError | None:
    """The project's error for `error`: itself, a registered translation, or None (a bug)."""
    if isinstance(error, AipError):
        return error
    for translate in _translators:
        found = translate(error)
        if found is not None:
            return found
    if isinstance(error, OSError):  # a file the user named: unreadable, unwritable
        where = f"{error.filename}: " if error.filename else ""
        return InvalidInput(f"{where}{error.strerror or error}")
    return None


def one_line(error: BaseException) -> tuple[Outcome, str]:
    """The outcome and the one-line message a user sees for any exception."""
    found = as_aip_error(error)
    if found is None:
        return INTERNAL, f"unexpected {type(error).__name__}: {error} (please report this)"
    message = " ".join(str(found).split()) or outcome_of(found).title
    return outcome_of(found), message
