"""Object storage for submitted workbooks and rendered documents: write once, verified reads.

`ObjectStore` (in `base`) is the interface; `LocalObjectStore` (a directory) and
`aip_forms.storage.s3.S3ObjectStore` are the backends; `store_from_env` picks one.
"""

from aip_forms.storage.base import (
    CheckResult,
    CheckStatus,
    ObjectCorrupt,
    ObjectExists,
    ObjectLocked,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    StoredObject,
    object_key,
)
from aip_forms.storage.factory import store_from_env
from aip_forms.storage.local import LocalObjectStore

__all__ = [
    "CheckResult",
    "CheckStatus",
    "LocalObjectStore",
    "ObjectCorrupt",
    "ObjectExists",
    "ObjectLocked",
    "ObjectNotFound",
    "ObjectStore",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "object_key",
    "store_from_env",
]
