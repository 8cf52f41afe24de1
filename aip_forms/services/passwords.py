"""Passwords and secrets: the password rules, argon2id hashing, and the random codes and
link tokens the portal mails, kept only as SHA-256 digests.

The rules (user guide §2.1, values in `AccountPolicy`): at least 12 characters, an upper-case
letter, a digit and a special character; not one of the 100,000 most common passwords
(`aip_forms/data/passwords`, loaded once, on first use); and not containing the user's first
or last name (3 letters or more) or the part of their email before the @.

    problems = password_problems(pw, policy, first_name="Ana", last_name="Garcia", email=e)
    check_password(pw, policy, ...)       # InvalidFields({"password": "..."}) if any
    stored = hash_password(pw); verify_password(stored, pw)
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import hmac
import secrets
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from aip_forms.config import AccountPolicy
from aip_forms.services.fields import InvalidFields

MAX_LENGTH = 128  # argon2 takes any length; a cap keeps a hostile request cheap

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified when there is no user, so that an unknown email costs as long as a known one.
_DUMMY_HASH = _hasher.hash("aip-forms: no such user")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased (read on first use: it is 100,000 entries)."""
    data = resources.files("aip_forms.data").joinpath("passwords/common-100k.txt.gz")
    text = gzip.decompress(data.read_bytes()).decode("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problems(
    password: str,
    policy: AccountPolicy,
    *,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> list[str]:
    """Every rule `password` breaks, as plain sentences (empty: acceptable)."""
    problems: list[str] = []
    if len(password) < policy.password_min_length:
        problems.append(f"must be at least {policy.password_min_length} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters long")
    if policy.password_needs_upper and not any(c.isupper() for c in password):
        problems.append("must contain an upper-case letter")
    if policy.password_needs_digit and not any(c.isdigit() for c in password):
        problems.append("must contain a number")
    if policy.password_needs_special and all(c.isalnum() or c.isspace() for c in password):
        problems.append("must contain a special character such as ! @ # $ %")
    lowered = password.lower()
    if policy.refuse_common_passwords and lowered in common_passwords():
        problems.append("is one of the most common passwords; choose another")
    for what, part in (
        ("your first name", first_name),
        ("your last name", last_name),
        ("your email address", email.partition("@")[0]),
    ):
        part = part.strip().lower()
        if len(part) >= 3 and part in lowered:
            problems.append(f"must not contain {what}")
    return problems


def check_password(
    password: str,
    policy: AccountPolicy,
    *,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    field: str = "password",
) -> None:
    """InvalidFields naming `field` with every broken rule; nothing when acceptable."""
    problems = password_problems(
        password, policy, first_name=first_name, last_name=last_name, email=email
    )
    if problems:
        raise InvalidFields({field: "; ".join(problems)})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (an argon2 hash); a missing hash costs a
    verification all the same and is False."""
    too_long = len(password) > MAX_LENGTH  # never a stored password: refuse, at the same cost
    try:
        right = _hasher.verify(stored or _DUMMY_HASH, password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return False
    return right and bool(stored) and not too_long


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


# ---- codes and link tokens ----------------------------------------------------------------


def digest(secret: str) -> str:
    """How a code or token is stored: the SHA-256 of its text, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_digest(stored: str | None, secret: str) -> bool:
    """Constant-time comparison of a stored digest with the digest of `secret`."""
    return hmac.compare_digest(stored or "", digest(secret))


def new_code() -> str:
    """A 6-digit one-time code."""
    return f"{secrets.randbelow(10**6):06d}"


def new_token() -> str:
    """A link token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)
