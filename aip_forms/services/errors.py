"""What a service refuses to do, and why: one exception family with a message for people
and the exit status the command line uses (2 refused or not found, 3 storage or database
unavailable)."""

from __future__ import annotations


class ServiceError(Exception):
    """A use case that cannot go ahead; `str(error)` is a one-line message for the user."""

    exit_code = 2


class NotFound(ServiceError):
    """No such user, plan or submission."""


class Forbidden(ServiceError):
    """The user's roles do not reach the plan, or do not allow the action."""


class WorkflowRefused(ServiceError):
    """The plan's status does not allow the action (e.g. replacing a submitted plan)."""


class InvalidInput(ServiceError):
    """A request that makes no sense: a bad role, email, cell or section."""


class Unavailable(ServiceError):
    """The database or object storage could not be used; nothing was changed."""

    exit_code = 3


class Corrupt(ServiceError):
    """A stored object does not match its recorded checksum."""

    exit_code = 3
