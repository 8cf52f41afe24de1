"""Object storage in an S3 bucket (AWS S3, MinIO, or any server speaking the S3 API).

- Write once: `put_object` is conditional (`If-None-Match: *`), so the server refuses to
  replace a key and, of concurrent writers, accepts exactly one.
- Verified: the write carries the body's SHA-256 (`x-amz-checksum-sha256`), which S3 and
  MinIO check before storing (moto, in the tests, stores it unchecked); the hex digest also
  goes into the object's metadata (`x-amz-meta-sha256`). Every `get` re-hashes the body
  against it, and asks for the server's checksum, which botocore checks as well.
- Retained: with `Retention` configured, each write sets Object Lock mode and retain-until
  date (the bucket must have Object Lock enabled).
- botocore's exceptions stop here; callers see the `StorageError` family only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore import exceptions as boto_errors
from botocore.config import Config

from aip_forms.storage.base import (
    SHA256_METADATA,
    CheckResult,
    ObjectCorrupt,
    ObjectExists,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    StoredObject,
    check_by_reading,
    sha256_hex,
    validate_key,
    validate_metadata,
    validate_prefix,
    verified_sha256,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FIVE_YEARS_DAYS = 1827  # 5 * 365 + 2 leap days

# A dead endpoint must fail a request in seconds, not minutes: short timeouts, 3 attempts.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"max_attempts": 3, "mode": "standard"},
)

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_BAD_CHECKSUM = {
    "BadDigest",
    "InvalidDigest",
    "XAmzContentChecksumMismatch",
    "XAmzContentSHA256Mismatch",
}
_UNAVAILABLE = {
    "AccessDenied",
    "AllAccessDisabled",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidToken",
    "NoSuchBucket",
    "SignatureDoesNotMatch",
}
_CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "json": "application/json",
}


@dataclass(frozen=True)
class Retention:
    """S3 Object Lock settings applied to every write."""

    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    days: int = FIVE_YEARS_DAYS


class S3ObjectStore:
    """An `ObjectStore` in `bucket`, keys under `prefix` ("" for the bucket's root)."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: S3Client,
        *,
        retention: Retention | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self.client = client
        self.retention = retention
        self._root = f"{self.prefix}/" if self.prefix else ""

    def __repr__(self) -> str:
        return f"S3ObjectStore('s3://{self.bucket}/{self.prefix}')"

    def close(self) -> None:
        """Release the client's connections."""
        self.client.close()

    # -- writing ----------------------------------------------------------------------------

    def put(
        self, key: str, data: bytes, *, sha256: str, metadata: dict[str, str] | None = None
    ) -> StoredObject:
        validate_key(key)
        digest = verified_sha256(data, sha256)
        meta = validate_metadata(metadata)
        checksum = base64.b64encode(bytes.fromhex(digest)).decode()
        try:
            self._put_object(key, data, checksum, {**meta, SHA256_METADATA: digest})
        except ObjectExists:
            existing = self.head(key)
            if existing is not None and existing.sha256 == digest and existing.size == len(data):
                return replace(existing, existed=True)
            raise
        return StoredObject(key, len(data), digest, dt.datetime.now(dt.UTC), meta)

    def _put_object(
        self, key: str, data: bytes, checksum_sha256: str, metadata: dict[str, str]
    ) -> None:
        """The conditional, checksummed write. `checksum_sha256` is base64, as S3 wants it."""
        lock: dict[str, Any] = {}
        if self.retention is not None:
            lock["ObjectLockMode"] = self.retention.mode
            lock["ObjectLockRetainUntilDate"] = dt.datetime.now(dt.UTC) + dt.timedelta(
                days=self.retention.days
            )
        extension = key.rpartition(".")[2].lower()
        with self._vendor_errors(key):
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._root + key,
                    Body=data,
                    IfNoneMatch="*",
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=checksum_sha256,
                    Metadata=metadata,
                    ContentType=_CONTENT_TYPES.get(extension, "application/octet-stream"),
                    **lock,
                )
            except boto_errors.ClientError as exc:
                code = _code(exc)
                # 409: another conditional write of this key is in flight. Whichever way it
                # ends, this write does not happen; report it as the key being taken.
                if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise ObjectExists(
                        f"object {key!r} exists already in s3://{self.bucket}; not replaced"
                    ) from exc
                raise

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._vendor_errors(key):
            info = self.client.head_object(Bucket=self.bucket, Key=self._root + key)
            version = info.get("VersionId")
            # In a versioned (Object Lock) bucket, deleting without a version id would only
            # add a delete marker; deleting the version removes the object for real, or is
            # refused while it is retained.
            target: dict[str, Any] = {"VersionId": version} if version not in (None, "null") else {}
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self._root + key, **target)
            except boto_errors.ClientError as exc:
                until = info.get("ObjectLockRetainUntilDate")
                held = info.get("ObjectLockLegalHoldStatus") == "ON"
                if _code(exc) == "AccessDenied" and (held or (until and until > _now())):
                    raise ObjectLocked(
                        f"object {key!r} is retained ({info.get('ObjectLockMode')} until "
                        f"{until}{', legal hold' if held else ''}); the server refused to delete it"
                    ) from exc
                raise

    # -- reading ----------------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        validate_key(key)
        with self._vendor_errors(key):
            # ChecksumMode makes botocore check the body against the server's checksum too.
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._root + key, ChecksumMode="ENABLED"
            )
            with contextlib.closing(response["Body"]) as body:
                data = body.read()
        recorded = response.get("Metadata", {}).get(SHA256_METADATA, "")
        if not recorded:
            raise ObjectCorrupt(f"object {key!r} has no recorded sha256")
        actual = sha256_hex(data)
        if actual != recorded:
            raise ObjectCorrupt(
                f"object {key!r} does not match its recorded sha256: "
                f"recorded {recorded}, read {actual}"
            )
        server = _hex_or_none(response.get("ChecksumSHA256"))
        if server is not None and server != recorded:
            raise ObjectCorrupt(
                f"object {key!r}: the server's sha256 differs from the recorded one"
            )
        return data

    def head(self, key: str) -> StoredObject | None:
        validate_key(key)
        try:
            with self._vendor_errors(key):
                info = self.client.head_object(Bucket=self.bucket, Key=self._root + key)
        except ObjectNotFound:
            return None
        metadata = dict(info.get("Metadata", {}))
        digest = metadata.pop(SHA256_METADATA, "")
        return StoredObject(key, info["ContentLength"], digest, info["LastModified"], metadata)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        with self._vendor_errors(prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._root + prefix):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self._root) :]

    def check(self, key: str) -> CheckResult:
        return check_by_reading(self, key)

    # -- errors -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _vendor_errors(self, key: str) -> Iterator[None]:
        """Turn botocore's exceptions into the StorageError family."""
        where = f"s3://{self.bucket}/{self._root}{key} at {self.client.meta.endpoint_url}"
        try:
            yield
        except StorageError:
            raise
        except boto_errors.ClientError as exc:
            code = _code(exc)
            if code in _NOT_FOUND:
                raise ObjectNotFound(f"no object at {key!r}") from exc
            if code in _BAD_CHECKSUM:
                raise ObjectCorrupt(
                    f"the server refused {key!r}: body does not match its checksum ({code})"
                ) from exc
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in _UNAVAILABLE or code == "403" or status >= 500:
                raise StorageUnavailable(f"object storage unavailable ({where}): {exc}") from exc
            raise StorageUnavailable(f"object storage refused a request ({where}): {exc}") from exc
        except boto_errors.FlexibleChecksumError as exc:
            raise ObjectCorrupt(f"object {key!r} does not match the server's checksum") from exc
        except (
            boto_errors.ConnectionError,
            boto_errors.HTTPClientError,
            boto_errors.IncompleteReadError,
            boto_errors.NoCredentialsError,
            boto_errors.PartialCredentialsError,
            boto_errors.CredentialRetrievalError,
            boto_errors.TokenRetrievalError,
        ) as exc:
            raise StorageUnavailable(f"object storage unavailable ({where}): {exc}") from exc
        except boto_errors.BotoCoreError as exc:
            raise StorageUnavailable(f"object storage error ({where}): {exc}") from exc


def client_from_env(env: Mapping[str, str]) -> S3Client:
    """An S3 client from AIP_S3_ENDPOINT_URL and the usual AWS_* variables in `env`.

    Credentials missing from `env` come from boto3's own chain (instance role, ~/.aws).
    A custom endpoint (MinIO) gets path-style addressing, which such servers expect.
    """
    endpoint = env.get("AIP_S3_ENDPOINT_URL") or None
    session = boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )
    config = CLIENT_CONFIG
    if endpoint:
        config = config.merge(Config(s3={"addressing_style": "path"}))
    return session.client("s3", endpoint_url=endpoint, config=config)


def retention_from_env(env: Mapping[str, str]) -> Retention | None:
    """AIP_S3_OBJECT_LOCK_MODE (GOVERNANCE|COMPLIANCE) and AIP_S3_RETENTION_DAYS (1827)."""
    mode = env.get("AIP_S3_OBJECT_LOCK_MODE", "").strip().upper()
    days = env.get("AIP_S3_RETENTION_DAYS", "").strip()
    if not mode:
        if days:
            raise ValueError("AIP_S3_RETENTION_DAYS is set but AIP_S3_OBJECT_LOCK_MODE is not")
        return None
    if mode == "GOVERNANCE":
        mode_value: Literal["GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    elif mode == "COMPLIANCE":
        mode_value = "COMPLIANCE"
    else:
        raise ValueError(f"AIP_S3_OBJECT_LOCK_MODE must be GOVERNANCE or COMPLIANCE, not {mode!r}")
    if not days:
        return Retention(mode_value)
    if not days.isdigit() or int(days) < 1:
        raise ValueError(f"AIP_S3_RETENTION_DAYS must be a whole number of days, not {days!r}")
    return Retention(mode_value, int(days))


def _code(exc: boto_errors.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _hex_or_none(checksum_b64: str | None) -> str | None:
    """A whole-object base64 SHA-256 as hex; None for none or a multipart ("...-N") one."""
    if not checksum_b64 or "-" in checksum_b64:
        return None
    try:
        return base64.b64decode(checksum_b64, validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
