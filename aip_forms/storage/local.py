"""Object storage in a local directory (default `$AIP_HOME/objects`).

Layout: the object for key `a/b/v0001.xlsx` is the file `ROOT/a/b/v0001.xlsx` (mode 0444),
and what was recorded when it was written (sha256, size, created_at, metadata) is the JSON
sidecar `ROOT/a/b/v0001.xlsx.meta.json`. Sidecars and temporary files are hidden from
`iter_keys`; keys may not end in the sidecar suffix nor have components starting with ".".

Writing: both files are written to temporaries in the target folder and fsynced; then the
data file is hard-linked into place. `os.link` fails when the name exists, which makes the
link the commit point: of concurrent writers (threads or processes) exactly one links, and
nothing is ever replaced (`os.replace`/`os.rename` would overwrite silently). The sidecar is
linked right after. A reader that finds the data file before its sidecar (that instant, or
forever if the writer died there) waits briefly, then reports the object corrupt; `delete`
clears such an orphan.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from aip_forms.storage.base import (
    CheckResult,
    ObjectCorrupt,
    ObjectExists,
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

SIDECAR_SUFFIX = ".meta.json"
_SIDECAR_WAIT_S = 1.0  # how long a reader waits for the sidecar of a just-linked object


class LocalObjectStore:
    """An `ObjectStore` in a directory on a local (or NFS-with-hard-links) file system."""

    def __init__(self, root: Path, *, sidecar_wait: float = _SIDECAR_WAIT_S) -> None:
        self.root = Path(root)
        self.sidecar_wait = sidecar_wait

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # -- writing ----------------------------------------------------------------------------

    def put(
        self, key: str, data: bytes, *, sha256: str, metadata: dict[str, str] | None = None
    ) -> StoredObject:
        path = self._path(key)
        digest = verified_sha256(data, sha256)
        meta = validate_metadata(metadata)
        created_at = dt.datetime.now(dt.UTC)
        record = {
            "key": key,
            "sha256": digest,
            "size": len(data),
            "created_at": created_at.isoformat(),
            "metadata": meta,
        }
        with self._os_errors(key):
            _makedirs_durably(path.parent, self.root)
            data_tmp = _write_temp(path.parent, data)
            sidecar_tmp = _write_temp(path.parent, json.dumps(record, indent=1).encode())
            try:
                try:
                    os.link(data_tmp, path)
                except FileExistsError:
                    return self._existing(key, digest, len(data))
                try:
                    os.link(sidecar_tmp, _sidecar(path))
                except FileExistsError:
                    # Only a hand-made file can be there: `delete` removes sidecars first.
                    raise ObjectCorrupt(f"stray sidecar beside new object {key!r}") from None
                _fsync_dir(path.parent)
            finally:
                data_tmp.unlink(missing_ok=True)
                sidecar_tmp.unlink(missing_ok=True)
        return StoredObject(key, len(data), digest, created_at, meta)

    def _existing(self, key: str, digest: str, size: int) -> StoredObject:
        existing = self.head(key)
        if existing is not None and existing.sha256 == digest and existing.size == size:
            return replace(existing, existed=True)
        raise ObjectExists(f"object {key!r} exists already with other content; not replaced")

    def delete(self, key: str) -> None:
        path = self._path(key)
        with self._os_errors(key):
            if not path.is_file():
                raise ObjectNotFound(f"no object at {key!r}")
            # Sidecar first: a crash in between leaves data without a record (reported
            # corrupt, deletable again), never a record that would block a future put.
            _sidecar(path).unlink(missing_ok=True)
            try:
                path.unlink()
            except FileNotFoundError:
                raise ObjectNotFound(f"no object at {key!r}") from None
            _fsync_dir(path.parent)

    # -- reading ----------------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        path = self._path(key)
        with self._os_errors(key):
            try:
                data = path.read_bytes()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise ObjectNotFound(f"no object at {key!r}") from None
            record = self._record(path)
        if record is None:
            raise ObjectCorrupt(f"object {key!r} has no readable checksum record")
        actual = (sha256_hex(data), len(data))
        if actual != (record.sha256, record.size):
            raise ObjectCorrupt(
                f"object {key!r} does not match its recorded sha256: recorded "
                f"{record.sha256} ({record.size} bytes), read {actual[0]} ({actual[1]} bytes)"
            )
        return data

    def head(self, key: str) -> StoredObject | None:
        path = self._path(key)
        with self._os_errors(key):
            try:
                stat = path.stat()
            except (FileNotFoundError, NotADirectoryError):
                return None
            if not path.is_file():
                return None
            try:
                record = self._record(path)
            except ObjectNotFound:  # deleted meanwhile
                return None
        if record is None:
            mtime = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
            return StoredObject(key, stat.st_size, "", mtime)
        return replace(record, size=stat.st_size)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        folder = prefix.rpartition("/")[0]
        base = self.root / folder if folder else self.root
        keys: list[str] = []
        with self._os_errors(prefix):
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                rel = Path(dirpath).relative_to(self.root).as_posix()
                for name in filenames:
                    if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                        continue
                    key = name if rel == "." else f"{rel}/{name}"
                    if key.startswith(prefix):
                        keys.append(key)
        yield from sorted(keys)

    def check(self, key: str) -> CheckResult:
        return check_by_reading(self, key)

    # -- internals --------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.endswith(SIDECAR_SUFFIX):
            raise ValueError(f"object keys may not end in {SIDECAR_SUFFIX!r}: {key!r}")
        return self.root / key

    def _record(self, path: Path) -> StoredObject | None:
        """The sidecar's record; None when it is missing or unreadable after a short wait."""
        deadline = time.monotonic() + self.sidecar_wait
        while True:
            try:
                raw = json.loads(_sidecar(path).read_bytes())
                return StoredObject(
                    key=str(raw["key"]),
                    size=int(raw["size"]),
                    sha256=str(raw["sha256"]),
                    created_at=dt.datetime.fromisoformat(raw["created_at"]),
                    metadata={str(k): str(v) for k, v in raw.get("metadata", {}).items()},
                )
            except FileNotFoundError:
                if not path.exists():
                    raise ObjectNotFound(f"no object at {path}") from None
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.005)
            except (ValueError, KeyError, TypeError, AttributeError):
                return None

    @contextlib.contextmanager
    def _os_errors(self, key: str) -> Iterator[None]:
        try:
            yield
        except StorageError:
            raise
        except OSError as exc:
            raise StorageUnavailable(
                f"local object store {self.root}: cannot use {key!r}: {exc}"
            ) from exc


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _write_temp(folder: Path, content: bytes) -> Path:
    """A fully written, fsynced, read-only temporary file in `folder` (hidden: dot name)."""
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        os.fchmod(fd, 0o444)  # whatever the umask
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def _makedirs_durably(folder: Path, root: Path) -> None:
    """mkdir -p, fsyncing each parent whose listing changed, so a new key survives a crash."""
    if not root.is_dir():
        root.mkdir(parents=True, exist_ok=True)
    missing: list[Path] = []
    probe = folder
    while probe != root and not probe.is_dir():
        missing.append(probe)
        probe = probe.parent
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:
            if not new.is_dir():
                raise
            continue
        _fsync_dir(new.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
