"""Pick the object store from the environment (called by the composition root).

AIP_STORAGE_URL:
- unset or empty: a directory, `$AIP_HOME/objects`
- `file:///srv/aip/objects`: that directory (absolute path)
- `s3://bucket/prefix`: S3 or an S3-compatible server, with
  AIP_S3_ENDPOINT_URL (MinIO etc.; unset for AWS), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
  AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION, and optionally
  AIP_S3_OBJECT_LOCK_MODE (GOVERNANCE|COMPLIANCE) with AIP_S3_RETENTION_DAYS (default 1827).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aip_forms.storage.base import ObjectStore
from aip_forms.storage.local import LocalObjectStore


def store_from_env(env: Mapping[str, str], home: Path) -> ObjectStore:
    """The store AIP_STORAGE_URL names; ValueError for a URL it cannot use."""
    url = env.get("AIP_STORAGE_URL", "").strip()
    if not url:
        return LocalObjectStore(home / "objects")
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        if parts.netloc not in ("", "localhost") or not path.is_absolute():
            raise ValueError(f"AIP_STORAGE_URL {url!r}: use file:///absolute/path")
        return LocalObjectStore(path)
    if parts.scheme == "s3":
        if not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"AIP_STORAGE_URL {url!r}: use s3://bucket or s3://bucket/prefix")
        # boto3 is imported only when S3 is configured.
        from aip_forms.storage.s3 import S3ObjectStore, client_from_env, retention_from_env

        retention = retention_from_env(env)
        return S3ObjectStore(
            parts.netloc, unquote(parts.path), client_from_env(env), retention=retention
        )
    raise ValueError(
        f"AIP_STORAGE_URL {url!r}: unsupported scheme {parts.scheme!r}; "
        "use file:///path or s3://bucket/prefix"
    )
