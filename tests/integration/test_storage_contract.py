"""The ObjectStore contract, run against both backends: a directory and S3 (moto over HTTP).

Each backend comes with a way under the adapter (the file on disk, the raw S3 client) so the
tests can tamper with stored bytes and read what the backend recorded. Tests particular to
one backend (retention, endpoints, file modes) and the factory follow the contract.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from aip_forms.storage import (
    CheckStatus,
    LocalObjectStore,
    ObjectCorrupt,
    ObjectExists,
    ObjectLocked,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    StoredObject,
    object_key,
    store_from_env,
)
from aip_forms.storage.base import sha256_hex
from aip_forms.storage.s3 import FIVE_YEARS_DAYS, Retention, S3ObjectStore
from tests.support.s3 import (
    closed_port,
    make_client,
    moto_server,
    new_bucket,
    s3_client_for,
    s3_env,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KEY = "fy2027/lea-001/school-001012/school/v0001.xlsx"


def workbook_bytes(tag: str, size: int = 20_000) -> bytes:
    """Distinct, workbook-sized contents (a zip signature, then bytes derived from `tag`)."""
    seed = tag.encode()
    return b"PK\x03\x04" + (seed * (size // len(seed) + 1))[:size]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_client(moto_endpoint: str) -> Iterator[S3Client]:
    with s3_client_for(moto_endpoint) as client:
        yield client


@pytest.fixture
def s3_bucket(s3_client: S3Client) -> str:
    return new_bucket(s3_client)


@pytest.fixture
def s3_lock_bucket(s3_client: S3Client) -> str:
    """Object Lock enabled (and so versioning)."""
    return new_bucket(s3_client, object_lock=True)


@dataclass
class Backend:
    name: str
    store: ObjectStore
    tamper: Callable[[str, bytes], None]  # replace stored bytes, bypassing the adapter
    recorded_sha256: Callable[[str], str]  # the digest the backend itself holds, read raw


def local_backend(tmp_path: Path) -> Backend:
    store = store_from_env({}, tmp_path)
    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "objects"

    def tamper(key: str, data: bytes) -> None:
        path = store.root / key
        path.chmod(0o644)
        path.write_bytes(data)

    def recorded(key: str) -> str:
        sidecar = store.root / (key + ".meta.json")
        return str(json.loads(sidecar.read_text())["sha256"])

    return Backend("local", store, tamper, recorded)


def s3_backend(endpoint: str, client: S3Client, bucket: str, tmp_path: Path) -> Backend:
    store = store_from_env(s3_env(endpoint, bucket, "records"), tmp_path)
    assert isinstance(store, S3ObjectStore)
    assert (store.bucket, store.prefix) == (bucket, "records")

    def tamper(key: str, data: bytes) -> None:
        # A careless or hostile writer: same key, same metadata, other bytes.
        metadata = client.head_object(Bucket=bucket, Key=f"records/{key}")["Metadata"]
        client.put_object(Bucket=bucket, Key=f"records/{key}", Body=data, Metadata=metadata)

    def recorded(key: str) -> str:
        info = client.head_object(Bucket=bucket, Key=f"records/{key}", ChecksumMode="ENABLED")
        assert info["Metadata"]["sha256"] == base64.b64decode(info["ChecksumSHA256"]).hex()
        return info["Metadata"]["sha256"]

    return Backend("s3", store, tamper, recorded)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield local_backend(tmp_path)
        return
    endpoint = request.getfixturevalue("moto_endpoint")
    client = request.getfixturevalue("s3_client")
    made = s3_backend(endpoint, client, new_bucket(client), tmp_path)
    yield made
    assert isinstance(made.store, S3ObjectStore)
    made.store.close()


def put(store: ObjectStore, key: str, data: bytes, **metadata: str) -> StoredObject:
    return store.put(key, data, sha256=sha256_hex(data), metadata=metadata or None)


# ---------------------------------------------------------------------------------------------
# The contract


def test_put_then_get_returns_the_same_bytes(backend: Backend) -> None:
    data = workbook_bytes("first")
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    stored = put(backend.store, KEY, data, submitter="jdoe")
    assert (stored.key, stored.size, stored.sha256) == (KEY, len(data), sha256_hex(data))
    assert stored.existed is False
    assert stored.metadata == {"submitter": "jdoe"}
    assert before <= stored.created_at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert backend.store.get(KEY) == data


def test_the_checksum_is_recorded_and_returned(backend: Backend) -> None:
    data = workbook_bytes("checksum")
    put(backend.store, KEY, data, submitter="jdoe")
    head = backend.store.head(KEY)
    assert head is not None
    assert (head.size, head.sha256, head.metadata) == (
        len(data),
        sha256_hex(data),
        {"submitter": "jdoe"},
    )
    assert backend.recorded_sha256(KEY) == sha256_hex(data)
    assert backend.store.check(KEY).status is CheckStatus.OK


def test_a_second_put_to_the_key_is_refused_and_the_original_kept(backend: Backend) -> None:
    original, other = workbook_bytes("original"), workbook_bytes("other")
    put(backend.store, KEY, original)
    with pytest.raises(ObjectExists) as refused:
        put(backend.store, KEY, other)
    assert isinstance(refused.value, FileExistsError)
    assert backend.store.get(KEY) == original
    assert backend.recorded_sha256(KEY) == sha256_hex(original)


def test_putting_identical_content_again_returns_the_stored_object(backend: Backend) -> None:
    data = workbook_bytes("retry")
    first = put(backend.store, KEY, data)
    again = put(backend.store, KEY, data)
    assert again.existed is True
    assert (again.key, again.size, again.sha256) == (first.key, first.size, first.sha256)
    assert list(backend.store.iter_keys()) == [KEY]


def race(store: ObjectStore, contents: list[bytes]) -> tuple[list[StoredObject], list[Exception]]:
    """Put `contents` to KEY from as many threads, released together."""
    start = threading.Barrier(len(contents))

    def attempt(data: bytes) -> StoredObject | Exception:
        start.wait()
        try:
            return put(store, KEY, data)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(contents)) as pool:
        outcomes = list(pool.map(attempt, contents))
    return (
        [o for o in outcomes if isinstance(o, StoredObject)],
        [o for o in outcomes if isinstance(o, Exception)],
    )


def test_concurrent_puts_of_one_key_exactly_one_wins(backend: Backend) -> None:
    contents = [workbook_bytes(f"writer {i}") for i in range(8)]
    written, refused = race(backend.store, contents)
    assert len(written) == 1, written
    assert len(refused) == 7 and all(isinstance(e, ObjectExists) for e in refused), refused
    winner = contents[[sha256_hex(c) for c in contents].index(written[0].sha256)]
    assert backend.store.get(KEY) == winner
    assert backend.store.check(KEY).ok


def test_concurrent_puts_of_identical_content_write_once(backend: Backend) -> None:
    written, refused = race(backend.store, [workbook_bytes("same")] * 6)
    assert refused == []
    assert sorted(w.existed for w in written) == [False] + [True] * 5


def test_a_missing_key_is_not_found(backend: Backend) -> None:
    with pytest.raises(ObjectNotFound) as missing:
        backend.store.get(KEY)
    assert isinstance(missing.value, FileNotFoundError)
    assert backend.store.head(KEY) is None
    assert backend.store.check(KEY).status is CheckStatus.MISSING
    with pytest.raises(ObjectNotFound):
        backend.store.delete(KEY)


def test_data_not_matching_the_given_sha256_is_refused_before_writing(backend: Backend) -> None:
    data = workbook_bytes("sent")
    with pytest.raises(ObjectCorrupt, match="does not match the sha256 given"):
        backend.store.put(KEY, data, sha256=sha256_hex(data + b"!"))
    with pytest.raises(ValueError, match="64 hex digits"):
        backend.store.put(KEY, data, sha256="not-a-digest")
    assert backend.store.head(KEY) is None
    assert list(backend.store.iter_keys()) == []


def test_a_tampered_object_is_corrupt_on_get_and_check(backend: Backend) -> None:
    data = workbook_bytes("genuine")
    put(backend.store, KEY, data)
    flipped = data[:-1] + bytes([data[-1] ^ 1])  # same length: only the hash can tell
    backend.tamper(KEY, flipped)
    with pytest.raises(ObjectCorrupt, match="does not match its recorded sha256"):
        backend.store.get(KEY)
    result = backend.store.check(KEY)
    assert result.status is CheckStatus.CORRUPT and not result.ok
    assert sha256_hex(data) in result.detail


def test_iter_keys_lists_by_prefix_in_order(backend: Backend) -> None:
    keys = [
        object_key(2027, "001", "001012", "school", 2),
        object_key(2027, "001", "001012", "school", 1),
        object_key(2027, "001", None, "district", 1),
        object_key(2027, "002", "002001", "school", 1),
        object_key(2027, "010", None, "district", 1),
        object_key(2028, "001", None, "district", 1),
    ]
    for i, key in enumerate(keys):
        put(backend.store, key, workbook_bytes(f"plan {i}", 100))
    store = backend.store
    assert list(store.iter_keys()) == sorted(keys)
    assert list(store.iter_keys("fy2027/lea-001/")) == sorted(keys[:3])
    assert list(store.iter_keys("fy2027/lea-00")) == sorted(keys[:4])  # a string prefix
    assert list(store.iter_keys("fy2027/lea-001/school-001012/school/v0002")) == [keys[0]]
    assert list(store.iter_keys("fy2029/")) == []


def test_delete_removes_an_orphan_and_frees_its_key(backend: Backend) -> None:
    put(backend.store, KEY, workbook_bytes("orphan"))
    backend.store.delete(KEY)
    assert backend.store.head(KEY) is None
    assert list(backend.store.iter_keys()) == []
    stored = put(backend.store, KEY, workbook_bytes("new"))
    assert stored.existed is False
    assert backend.store.get(KEY) == workbook_bytes("new")


@pytest.mark.parametrize("key", ["", "/etc/passwd", "a/../../b", "fy2027//x", ".hidden/x"])
def test_unclean_keys_are_refused(backend: Backend, key: str) -> None:
    with pytest.raises(ValueError):
        put(backend.store, key, b"x")
    with pytest.raises(ValueError):
        backend.store.get(key)


# ---------------------------------------------------------------------------------------------
# Local directory


def test_local_objects_are_read_only_files_beside_hidden_sidecars(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    data = workbook_bytes("file")
    put(store, KEY, data)
    path = tmp_path / "objects" / KEY
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(p.name for p in path.parent.iterdir()) == ["v0001.xlsx", "v0001.xlsx.meta.json"]
    with pytest.raises(ObjectExists):  # a refused put leaves no temporary file behind
        put(store, KEY, workbook_bytes("second"))
    assert len(list(path.parent.iterdir())) == 2
    with pytest.raises(ValueError, match="may not end in"):
        put(store, KEY + ".meta.json", data)


def test_local_object_without_its_record_is_corrupt_and_deletable(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, sidecar_wait=0.2)
    put(store, KEY, workbook_bytes("interrupted"))
    (tmp_path / (KEY + ".meta.json")).unlink()  # as if the writer died before linking it
    started = time.monotonic()
    assert store.check(KEY).status is CheckStatus.CORRUPT
    assert time.monotonic() - started < 5
    head = store.head(KEY)
    assert head is not None and head.sha256 == ""
    with pytest.raises(ObjectExists):
        put(store, KEY, workbook_bytes("other"))
    store.delete(KEY)
    assert put(store, KEY, workbook_bytes("other")).existed is False


# ---------------------------------------------------------------------------------------------
# S3


def test_s3_unreachable_endpoint_fails_quickly_with_storage_unavailable(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    store = store_from_env(s3_env(endpoint, "aip-nowhere", "records"), tmp_path)
    operations: dict[str, Callable[[], object]] = {
        "put": lambda: put(store, KEY, b"data"),
        "get": lambda: store.get(KEY),
        "head": lambda: store.head(KEY),
        "iter_keys": lambda: list(store.iter_keys()),
        "delete": lambda: store.delete(KEY),
        "check": lambda: store.check(KEY),
    }
    for name, operation in operations.items():
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as failed:
            operation()
        elapsed = time.monotonic() - started
        assert elapsed < 10, f"{name} took {elapsed:.1f} s"
        assert not isinstance(failed.value, BotoCoreError | ClientError)
        assert "unavailable" in str(failed.value) and endpoint in str(failed.value), name
    assert isinstance(store, S3ObjectStore)
    store.close()


def test_s3_write_carries_the_sha256_for_the_server_to_check(
    moto_endpoint: str, s3_client: S3Client, s3_bucket: str, tmp_path: Path
) -> None:
    """A body whose checksum header is wrong must never be served as good.

    AWS S3 and MinIO refuse such a write (BadDigest), which the adapter reports as
    ObjectCorrupt. moto 5.2 records the header without checking the body; there the read
    path must catch it: botocore checks the body against the server's checksum.
    """
    store = store_from_env(s3_env(moto_endpoint, s3_bucket), tmp_path)
    assert isinstance(store, S3ObjectStore)
    data = workbook_bytes("sent")
    wrong = base64.b64encode(bytes.fromhex(sha256_hex(b"something else"))).decode()
    try:
        store._put_object(KEY, data, wrong, {"sha256": sha256_hex(data)})
    except ObjectCorrupt:
        assert store.head(KEY) is None  # refused by the server: nothing stored
    else:
        info = s3_client.head_object(Bucket=s3_bucket, Key=KEY, ChecksumMode="ENABLED")
        assert info["ChecksumSHA256"] == wrong  # the header reached the server
        with pytest.raises(ObjectCorrupt, match="server's checksum"):
            store.get(KEY)
        assert store.check(KEY).status is CheckStatus.CORRUPT
    store.close()


def test_s3_retention_is_set_on_write_and_blocks_delete(
    moto_endpoint: str, s3_client: S3Client, s3_lock_bucket: str, tmp_path: Path
) -> None:
    env = s3_env(
        moto_endpoint,
        s3_lock_bucket,
        "records",
        AIP_S3_OBJECT_LOCK_MODE="governance",
        AIP_S3_RETENTION_DAYS="3",
    )
    store = store_from_env(env, tmp_path)
    assert isinstance(store, S3ObjectStore)
    assert store.retention == Retention("GOVERNANCE", 3)
    data = workbook_bytes("retained")
    put(store, KEY, data)
    info = s3_client.head_object(Bucket=s3_lock_bucket, Key=f"records/{KEY}")
    assert info["ObjectLockMode"] == "GOVERNANCE"
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    assert abs(info["ObjectLockRetainUntilDate"] - expected) < dt.timedelta(minutes=5)
    with pytest.raises(ObjectLocked, match="retained"):
        store.delete(KEY)
    assert store.get(KEY) == data
    store.close()


def test_s3_retention_defaults_to_five_years(
    moto_endpoint: str, s3_client: S3Client, s3_lock_bucket: str, tmp_path: Path
) -> None:
    env = s3_env(moto_endpoint, s3_lock_bucket, AIP_S3_OBJECT_LOCK_MODE="COMPLIANCE")
    store = store_from_env(env, tmp_path)
    assert isinstance(store, S3ObjectStore)
    assert store.retention == Retention("COMPLIANCE", FIVE_YEARS_DAYS)
    put(store, KEY, workbook_bytes("kept"))
    info = s3_client.head_object(Bucket=s3_lock_bucket, Key=KEY)
    assert info["ObjectLockMode"] == "COMPLIANCE"
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(days=1827)
    assert abs(info["ObjectLockRetainUntilDate"] - expected) < dt.timedelta(minutes=5)
    store.close()


def test_s3_retention_on_a_bucket_without_object_lock_is_a_storage_error(
    moto_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    env = s3_env(moto_endpoint, s3_bucket, AIP_S3_OBJECT_LOCK_MODE="GOVERNANCE")
    store = store_from_env(env, tmp_path)
    with pytest.raises(StorageError) as refused:
        put(store, KEY, b"data")
    assert not isinstance(refused.value, ObjectExists | ObjectCorrupt)
    assert store.head(KEY) is None
    assert isinstance(store, S3ObjectStore)
    store.close()


def test_s3_delete_in_a_versioned_bucket_removes_the_version(
    moto_endpoint: str, s3_client: S3Client, s3_lock_bucket: str, tmp_path: Path
) -> None:
    store = store_from_env(s3_env(moto_endpoint, s3_lock_bucket), tmp_path)
    put(store, KEY, workbook_bytes("orphan"))
    store.delete(KEY)
    versions = s3_client.list_object_versions(Bucket=s3_lock_bucket, Prefix=KEY)
    assert versions.get("Versions", []) == [] and versions.get("DeleteMarkers", []) == []
    assert isinstance(store, S3ObjectStore)
    store.close()


def client_error(code: str, status: int = 400) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutObject")


@pytest.mark.parametrize(
    "error, expected",
    [
        (client_error("BadDigest"), ObjectCorrupt),
        (client_error("NoSuchKey", 404), ObjectNotFound),
        (client_error("InvalidAccessKeyId", 403), StorageUnavailable),
        (client_error("NoSuchBucket", 404), StorageUnavailable),
        (client_error("SlowDown", 503), StorageUnavailable),
        (EndpointConnectionError(endpoint_url="http://x"), StorageUnavailable),
        (client_error("Unheard"), StorageUnavailable),
    ],
)
def test_s3_vendor_errors_stop_at_the_adapter(
    error: Exception, expected: type[StorageError]
) -> None:
    store = S3ObjectStore("aip-any", "", make_client(f"http://127.0.0.1:{closed_port()}"))
    with pytest.raises(StorageError) as raised, store._vendor_errors(KEY):
        raise error
    assert type(raised.value) is expected
    assert raised.value.__cause__ is error
    store.close()


# ---------------------------------------------------------------------------------------------
# The factory


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://host/objects", "unsupported scheme"),
        ("objects", "unsupported scheme"),
        ("file://relative/path", "absolute"),
        ("s3://", "s3://bucket"),
        ("s3://bucket/prefix?x=1", "s3://bucket"),
    ],
)
def test_storage_urls_the_factory_refuses(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store_from_env({"AIP_STORAGE_URL": url}, tmp_path)


def test_file_url_names_the_directory(tmp_path: Path) -> None:
    store = store_from_env({"AIP_STORAGE_URL": f"file://{tmp_path}/my%20objects"}, tmp_path)
    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "my objects"


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"AIP_S3_OBJECT_LOCK_MODE": "FOREVER"}, "GOVERNANCE or COMPLIANCE"),
        ({"AIP_S3_RETENTION_DAYS": "30"}, "AIP_S3_OBJECT_LOCK_MODE is not"),
        ({"AIP_S3_OBJECT_LOCK_MODE": "GOVERNANCE", "AIP_S3_RETENTION_DAYS": "5y"}, "whole"),
        ({"AIP_S3_OBJECT_LOCK_MODE": "GOVERNANCE", "AIP_S3_RETENTION_DAYS": "0"}, "whole"),
    ],
)
def test_retention_settings_the_factory_refuses(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        store_from_env(s3_env("http://127.0.0.1:9", "bucket", **extra), tmp_path)


def test_nothing_is_written_until_the_first_put(tmp_path: Path) -> None:
    store = store_from_env({}, tmp_path / "home")
    assert list(store.iter_keys()) == []
    assert not (tmp_path / "home").exists()
    put(store, KEY, b"x")
    assert os.path.isfile(tmp_path / "home" / "objects" / KEY)
