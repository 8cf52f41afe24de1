"""Object storage: the interface every backend meets, its errors, and the key scheme.

Submitted workbooks are records kept five years, so a key is written once and never replaced:
`put` refuses an existing key. Every object carries the SHA-256 its writer computed; `get`
re-hashes what it reads and refuses to hand back bytes that do not match.

Backends: `aip_forms.storage.local` (a directory) and `aip_forms.storage.s3` (S3, MinIO).
Backend errors never leave an adapter: callers see only the `StorageError` family below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from aip_forms.errors import AipError, Conflict, Corrupt, NotFound, Unavailable

# ---------------------------------------------------------------------------------------------
# Errors


class StorageError(AipError):
    """Anything an object store could not do. Backends raise only this family; each kind
    is also one of the project's errors (`aip_forms.errors`), which says what it means."""


class ObjectExists(Conflict, StorageError, FileExistsError):
    """The key holds an object already, with other content; objects are never replaced."""


class ObjectNotFound(NotFound, StorageError, FileNotFoundError):
    """No object at the key."""


class ObjectCorrupt(Corrupt, StorageError):
    """Bytes that do not match the SHA-256 recorded (or given) for them."""


class ObjectLocked(Conflict, StorageError):
    """The server refused to delete an object under retention (S3 Object Lock)."""


class StorageUnavailable(Unavailable, StorageError):
    """The store cannot be reached or used: network, endpoint, credentials, bucket, disk."""


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class StoredObject:
    """What a store knows about one object.

    `sha256` is the hex digest recorded when the object was written ("" when the store holds
    no record, which `check` reports as corrupt). `existed` is True when `put` found this very
    content already stored under the key (an idempotent retry) instead of writing it.
    """

    key: str
    size: int
    sha256: str
    created_at: dt.datetime
    metadata: dict[str, str] = field(default_factory=dict)
    existed: bool = False


class CheckStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class CheckResult:
    key: str
    status: CheckStatus
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is CheckStatus.OK


# ---------------------------------------------------------------------------------------------
# The interface


class ObjectStore(Protocol):
    """Write-once object storage with content verification.

    - `put` writes `data` under a new `key`. `sha256` is the hex digest the caller computed;
      the store checks the data against it before writing (`ObjectCorrupt` if they differ)
      and records it. If the key exists, `put` never replaces it: with identical content
      (same SHA-256 and size) it returns the stored object with `existed=True`, so a retry
      after a lost reply is harmless; with other content it raises `ObjectExists`. When
      several writers race for one key, exactly one writes.
    - `get` returns the bytes after re-hashing them: `ObjectCorrupt` on mismatch,
      `ObjectNotFound` when the key holds nothing.
    - `head` returns what is recorded about an object, or None; it does not read the bytes.
    - `delete` removes an object. Only for cleaning orphans (a write whose database record
      was never committed) and for tests; `ObjectLocked` when retention forbids it.
    - `iter_keys` yields the keys starting with `prefix` (plain string prefix, as in S3),
      in ascending order.
    - `check` re-reads and re-hashes one object: ok, missing or corrupt.

    Every method raises `StorageUnavailable` when the store cannot be used at all, and
    `ValueError` for a key that breaks `validate_key`.
    """

    def put(
        self, key: str, data: bytes, *, sha256: str, metadata: dict[str, str] | None = None
    ) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def head(self, key: str) -> StoredObject | None: ...

    def delete(self, key: str) -> None: ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]: ...

    def check(self, key: str) -> CheckResult: ...


# ---------------------------------------------------------------------------------------------
# Helpers shared by the backends

SHA256_METADATA = "sha256"  # the metadata name under which the digest is recorded
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_METADATA_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_MAX_KEY_LENGTH = 1024  # S3's limit, in UTF-8 bytes


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verified_sha256(data: bytes, sha256: str) -> str:
    """The caller's digest, normalized, after checking `data` against it."""
    digest = sha256.strip().lower()
    if not _HEX64.match(digest):
        raise ValueError(f"sha256 must be 64 hex digits, not {sha256!r}")
    actual = sha256_hex(data)
    if actual != digest:
        raise ObjectCorrupt(f"data does not match the sha256 given: {digest} given, {actual} read")
    return digest


def validate_key(key: str) -> str:
    """A key is a relative path of clean components: no "", ".", "..", leading dot, "\\"."""
    if not key or len(key.encode()) > _MAX_KEY_LENGTH:
        raise ValueError(f"object key must be 1 to {_MAX_KEY_LENGTH} bytes: {key!r}")
    for part in key.split("/"):
        _check_component(part, key)
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: like a key, except that it may be empty or end in "/"."""
    if prefix:
        parts = prefix.split("/")
        for part in parts[:-1]:
            _check_component(part, prefix)
        if parts[-1]:
            _check_component(parts[-1], prefix)
    return prefix


def _check_component(part: str, whole: str) -> None:
    if not part or part.startswith(".") or "\\" in part or not part.isprintable():
        raise ValueError(f"bad path component {part!r} in object key {whole!r}")


def validate_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    """User metadata: short lowercase names, printable ASCII values (S3's common ground)."""
    clean = dict(metadata or {})
    for name, value in clean.items():
        if not _METADATA_NAME.match(name) or name == SHA256_METADATA:
            raise ValueError(f"bad or reserved metadata name {name!r}")
        if not (value.isascii() and value.isprintable() and len(value) <= 1024):
            raise ValueError(f"metadata {name!r} must be printable ASCII up to 1024 characters")
    return clean


def check_by_reading(store: ObjectStore, key: str) -> CheckResult:
    """`check` for any store: read the object through `get`, which re-hashes it."""
    try:
        store.get(key)
    except ObjectNotFound:
        return CheckResult(key, CheckStatus.MISSING)
    except ObjectCorrupt as exc:
        return CheckResult(key, CheckStatus.CORRUPT, str(exc))
    return CheckResult(key, CheckStatus.OK)


# ---------------------------------------------------------------------------------------------
# The key scheme

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")  # as `domain.Code`
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_EXT = re.compile(r"^[a-z0-9]{1,8}$")


def object_key(
    fiscal_year: int,
    lea_code: str,
    school_code: str | None,
    kind: str,
    version: int,
    ext: str = "xlsx",
) -> str:
    """Where a plan's file lives: one folder per plan, one object per version.

    School plan:   fy2027/lea-001/school-001012/school/v0003.xlsx
    District plan: fy2027/lea-001/district/district/v0001.xlsx

    The third component names the plan (a school, or the district itself); `kind` says what
    the object is (PlanKind "district"/"school" for submitted workbooks; other kinds, such as a
    rendered document, sit beside them). Versions are zero-padded so keys sort in order.
    """
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        raise ValueError(f"fiscal year must be an int, not {fiscal_year!r}")
    if not 2000 <= fiscal_year <= 2999:
        raise ValueError(f"fiscal year out of range: {fiscal_year}")
    for name, code in (("LEA code", lea_code), ("school code", school_code)):
        if code is not None and not (isinstance(code, str) and _CODE.match(code)):
            raise ValueError(f"bad {name} {code!r}: letters, digits, '_' and '-' only")
    if not (isinstance(kind, str) and _KIND.match(kind)):
        raise ValueError(f"bad kind {kind!r}")
    if kind == "school" and school_code is None:
        raise ValueError("a school plan needs a school code")
    if kind == "district" and school_code is not None:
        raise ValueError("a district plan has no school code")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 9999:
        raise ValueError(f"version must be an int from 1 to 9999, not {version!r}")
    if not (isinstance(ext, str) and _EXT.match(ext)):
        raise ValueError(f"bad extension {ext!r} (lowercase letters and digits, no dot)")
    plan = f"school-{school_code}" if school_code is not None else "district"
    return f"fy{fiscal_year}/lea-{lea_code}/{plan}/{kind}/v{version:04d}.{ext}"
