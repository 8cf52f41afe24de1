"""Backup, restore and verify: the whole database and every stored object, in one folder.

    DIR/manifest.json          what the backup holds, signed with AIP_SECRET_KEY (HMAC)
    DIR/tables/<table>.jsonl   every row of every table of `db.models`, one JSON object a line
    DIR/objects/<key>          every stored object, byte for byte

With AIP_BACKUP_KEY set, every table and object file is encrypted (AES-256-GCM,
`services.backup_cipher`) and the manifest says so (`"encryption"`); the manifest itself
stays readable (object keys, sizes, checksums, no personal data) and signed, so the
`"encryption"` it records cannot be changed to "none" without the secret key. Backups
without the field are unencrypted ones made before it, and still restore.

Why rows as JSON lines and not `pg_dump`: one format for SQLite and PostgreSQL (a backup of
one restores into the other, which is also the way from a pilot on SQLite to production),
no server-version match between `pg_dump` and the server, and `verify` can compare the live
system with the backup record by record. The rows are read in one snapshot (PostgreSQL:
REPEATABLE READ; SQLite: one read transaction), so the dump is consistent; objects are
written before the records that name them and never replaced, so every object the
snapshot records is in the store when it is copied, after the snapshot.

The manifest records the schema revision (Alembic) and the SHA-256 of every table file and
object, and is signed with the system's secret key: a restore checks the signature and
every checksum, that nothing points outside DIR, and that the revision is this code's,
before it changes anything. The secret key itself is not in the backup; keep it apart.

The checksums are of the plaintext, encrypted or not: they are the SHA-256 the store and
the submission records hold, so `verify` compares the live system with the backup as it
always has, a restore hands the store the checksum it checks each object against, and one
manifest format serves both kinds. GCM's tag already proves each encrypted file whole and
in its place; what plaintext checksums give away is only that a backup holds a workbook
someone already has a copy of.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    Table,
    func,
    insert,
    select,
    text,
)

from aip_forms.db.models import Base
from aip_forms.db.session import HEAD_REVISION, schema_revision, upgrade
from aip_forms.errors import Conflict, Corrupt, InvalidInput
from aip_forms.services.backup_cipher import ENCRYPTION, FileCipher
from aip_forms.services.integrity import JOB_RESULT_KEY, SUBMISSION_KEY
from aip_forms.storage import ObjectCorrupt, ObjectNotFound, ObjectStore
from aip_forms.storage.base import sha256_hex, validate_key

FORMAT = "aip-forms-backup/1"
MANIFEST = "manifest.json"
Row = dict[str, Any]


def tables() -> list[Table]:
    """Every table of the models, parents before children (the order rows are restored)."""
    return list(Base.metadata.sorted_tables)


# ---- rows as JSON ------------------------------------------------------------------------


def encode_row(table: Table, row: Any) -> Row:
    """A database row as JSON values: times as UTC ISO 8601, dates as ISO dates."""
    out: Row = {}
    for column in table.columns:
        value = row._mapping[column.name]
        if isinstance(value, dt.datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
            value = value.isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[column.name] = value
    return out


def decode_row(table: Table, row: Row) -> Row:
    """A JSON row back into the values the table's columns take."""
    out: Row = {}
    for column in table.columns:
        value = row[column.name]
        if value is not None and isinstance(column.type, DateTime):
            value = dt.datetime.fromisoformat(value)
        elif value is not None and isinstance(column.type, Date):
            value = dt.date.fromisoformat(value)
        out[column.name] = value
    return out


def row_key(table: Table, row: Row) -> str:
    return json.dumps([row[c.name] for c in table.primary_key.columns])


# ---- the manifest --------------------------------------------------------------------------


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign(manifest: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, b"aip-backup-manifest:" + _canonical(manifest), "sha256").hexdigest()


@dataclass(frozen=True)
class ObjectEntry:
    key: str
    sha256: str
    size: int
    metadata: dict[str, str]


@dataclass(frozen=True)
class TableFile:
    path: Path
    sha256: str  # of the plaintext
    rows: int
    name: str  # its path inside the backup, as the manifest names it


@dataclass
class Backup:
    """A backup folder, checked whole: its rows are read from their files table by table
    (a statewide data set does not fit in memory at once), its objects from disk, both
    decrypted as they are read when the backup is encrypted (`cipher`)."""

    root: Path
    created_at: str
    revision: str
    tables: dict[str, TableFile]
    objects: list[ObjectEntry]
    cipher: FileCipher | None = None

    def object_data(self, entry: ObjectEntry) -> bytes:
        """The object's bytes as they were stored (decrypted)."""
        return _read_object(self.root / "objects", entry, self.cipher)

    def rows(self, table: Table) -> Iterator[Row]:
        """The table's rows, re-hashed as they are read: a file changed since it was
        checked raises Corrupt at its end (a restore then rolls back)."""
        yield from _rows_of(table, self.tables[table.name], self.cipher)


@dataclass
class BackupSummary:
    path: Path
    revision: str
    rows: dict[str, int]
    objects: int
    object_bytes: int
    skipped: list[str] = field(default_factory=list)  # unrecorded submission/job objects
    encryption: str = "none"  # or ENCRYPTION


# ---- create --------------------------------------------------------------------------------


def create_backup(
    out: Path,
    *,
    engine: Engine,
    store: ObjectStore,
    secret_key: bytes,
    now: dt.datetime,
    backup_key: bytes | None = None,
) -> BackupSummary:
    """Write a backup of the database and the store into the new folder `out`, every
    table and object file encrypted when `backup_key` (AIP_BACKUP_KEY) is given.

    Refuses a recorded object that is missing or damaged (Corrupt): a backup that could not
    be restored whole is not written. Nothing is left at `out` unless the backup is whole."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{out}: exists and is not an empty folder; back up into a new one")
    work = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        work.mkdir(parents=True)
        cipher = FileCipher(backup_key) if backup_key else None
        summary = _write_backup(
            work, engine=engine, store=store, key=secret_key, now=now, cipher=cipher
        )
        if out.exists():
            out.rmdir()
        work.rename(out)
    except OSError as e:
        raise InvalidInput(f"{e.filename or out}: cannot write the backup: {e.strerror}") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary.path = out
    return summary


def _write_backup(
    work: Path,
    *,
    engine: Engine,
    store: ObjectStore,
    key: bytes,
    now: dt.datetime,
    cipher: FileCipher | None,
) -> BackupSummary:
    (work / "tables").mkdir()
    table_entries, counts = [], {}
    recorded: dict[str, str] = {}  # object key -> the sha256 its record holds
    with _snapshot(engine) as conn:
        revision = _revision(conn)
        for table in tables():
            name = f"tables/{table.name}.jsonl"
            digest, rows, held = hashlib.sha256(), 0, []
            order = list(table.primary_key.columns)
            with (work / name).open("wb") as f:
                for row in conn.execute(select(table).order_by(*order)):
                    encoded = encode_row(table, row)
                    _note_recorded(table.name, encoded, recorded)
                    line = json.dumps(encoded, sort_keys=True).encode() + b"\n"
                    digest.update(line)
                    rows += 1
                    if cipher:  # encrypted whole, at the end
                        held.append(line)
                    else:
                        f.write(line)
                if cipher:
                    f.write(cipher.encrypt(name, b"".join(held)))
                    held.clear()
            counts[table.name] = rows
            table_entries.append(
                {
                    "name": table.name,
                    "file": name,
                    "rows": rows,
                    "sha256": digest.hexdigest(),
                }
            )
    summary = BackupSummary(work, revision, counts, 0, 0)
    summary.encryption = ENCRYPTION if cipher else "none"
    objects, problems = [], []
    for object_key in store.iter_keys():
        if object_key not in recorded and (
            SUBMISSION_KEY.match(object_key) or JOB_RESULT_KEY.match(object_key)
        ):
            summary.skipped.append(object_key)  # an orphan, or written after the snapshot
            continue
        try:
            data = store.get(object_key)
        except (ObjectNotFound, ObjectCorrupt) as e:
            problems.append(f"{object_key}: {e}")
            continue
        read = sha256_hex(data)
        if object_key in recorded and recorded[object_key] != read:
            problems.append(f"{object_key}: recorded sha256 {recorded[object_key]}, read {read}")
            continue
        head = store.head(object_key)
        target = work / "objects" / object_key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(cipher.encrypt(f"objects/{object_key}", data) if cipher else data)
        objects.append(
            {
                "key": object_key,
                "sha256": read,
                "size": len(data),
                "metadata": dict(head.metadata) if head else {},
            }
        )
        summary.objects += 1
        summary.object_bytes += len(data)
    listed = {o["key"] for o in objects}
    problems += [f"{k}: recorded, not in the store" for k in sorted(recorded) if k not in listed]
    if problems:
        raise Corrupt(
            f"{len(problems)} recorded object(s) missing or damaged, no backup written "
            f"(see `aip storage verify`): {'; '.join(problems[:3])}"
        )
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": now.astimezone(dt.UTC).isoformat(),
        "revision": revision,
        "dialect": engine.dialect.name,
        "encryption": summary.encryption,
        "tables": table_entries,
        "objects": objects,
    }
    if cipher:
        manifest["key_check"] = cipher.key_check
    manifest["signature"] = sign(manifest, key)
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return summary


def _note_recorded(table: str, row: Row, recorded: dict[str, str]) -> None:
    if table == "submission":
        recorded[row["object_key"]] = row["sha256"]
    elif table == "job" and row["result_key"]:
        recorded[row["result_key"]] = row["result_sha256"] or ""


class _snapshot:
    """A connection reading one consistent snapshot of the whole database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Connection:
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:  # pysqlite opens no transaction for reads by itself
            conn.exec_driver_sql("BEGIN")
        self.conn = conn
        return conn

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        self.conn.close()


def _revision(conn: Connection) -> str:
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(revision)


# ---- read and check a backup folder ------------------------------------------------------


def load_backup(root: Path, *, secret_key: bytes, backup_key: bytes | None = None) -> Backup:
    """The backup at `root`, after checking its signature, revision, paths and every
    checksum (decrypting every file of an encrypted backup with `backup_key`);
    InvalidInput (or Corrupt for a damaged file) naming the first problem."""
    root = Path(root)
    manifest_path = root / MANIFEST
    if not root.is_dir():
        raise InvalidInput(f"{root}: no such backup folder")
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"{manifest_path}: missing; {root} is not a backup") from None
    except (OSError, ValueError) as e:
        raise InvalidInput(f"{manifest_path}: not a readable manifest: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{manifest_path}: not an aip-forms backup manifest ({FORMAT})")
    if not hmac.compare_digest(str(manifest.get("signature", "")), sign(manifest, secret_key)):
        raise InvalidInput(
            f"{manifest_path}: the signature does not match: the manifest was changed, or the "
            "backup was made with another AIP_SECRET_KEY"
        )
    revision = str(manifest.get("revision"))
    if revision != HEAD_REVISION:
        raise InvalidInput(
            f"{manifest_path}: the backup is of database schema revision {revision}; this "
            f"aip-forms restores revision {HEAD_REVISION} only (restore with the version "
            "that made it, then upgrade)"
        )
    cipher = _cipher_for(manifest, backup_key, manifest_path)
    files = _read_tables(root, manifest, manifest_path, cipher)
    objects = _check_objects(root, manifest, manifest_path, cipher)
    listed = {o.key for o in objects}
    submission = next(t for t in tables() if t.name == "submission")
    for row in _rows_of(submission, files["submission"], cipher):
        if row["object_key"] not in listed:
            raise InvalidInput(
                f"{manifest_path}: submission {row['id']}'s object {row['object_key']} "
                "is not in the backup"
            )
    return Backup(root, str(manifest.get("created_at")), revision, files, objects, cipher)


def _cipher_for(manifest: dict[str, Any], key: bytes | None, where: Path) -> FileCipher | None:
    """What decrypts the backup's files (None: they are plaintext). The manifest's word is
    trusted: its signature was checked."""
    encryption = manifest.get("encryption", "none")
    if encryption == "none":
        return None
    if encryption != ENCRYPTION:
        raise InvalidInput(f"{where}: encrypted with {encryption!r}; this aip-forms reads "
                           f"{ENCRYPTION} backups only")  # fmt: skip
    if key is None:
        raise InvalidInput(f"{where}: the backup is encrypted ({ENCRYPTION}); set "
                           "AIP_BACKUP_KEY to the key it was made with")  # fmt: skip
    cipher = FileCipher(key)
    if not hmac.compare_digest(str(manifest.get("key_check", "")), cipher.key_check):
        raise InvalidInput(f"{where}: the backup was encrypted with another AIP_BACKUP_KEY; "
                           "set the key it was made with")  # fmt: skip
    return cipher


def _inside(root: Path, relative: str, where: str) -> Path:
    path = (root / relative).resolve()
    if os.path.isabs(relative) or not path.is_relative_to(root.resolve()):
        raise InvalidInput(f"{where}: {relative!r} points outside the backup folder {root}")
    return path


def _read_tables(
    root: Path, manifest: dict[str, Any], where: Path, cipher: FileCipher | None
) -> dict[str, TableFile]:
    entries = {str(e.get("name")): e for e in manifest.get("tables", []) if isinstance(e, dict)}
    expected = {t.name for t in tables()}
    if set(entries) != expected:
        missing, extra = sorted(expected - set(entries)), sorted(set(entries) - expected)
        raise InvalidInput(f"{where}: tables do not match the schema: missing {missing}, "
                           f"unknown {extra}")  # fmt: skip
    found: dict[str, TableFile] = {}
    for table in tables():
        entry = entries[table.name]
        name = str(entry.get("file", ""))
        path = _inside(root, name, f"{where}: table {table.name}")
        try:
            rows = int(entry.get("rows", -1))
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: table {table.name}: rows is not a number") from None
        found[table.name] = TableFile(path, str(entry.get("sha256", "")), rows, name)
        for _ in _rows_of(table, found[table.name], cipher):
            pass  # read through: every line a row, the count and the checksum right
    return found


def _rows_of(table: Table, file: TableFile, cipher: FileCipher | None) -> Iterator[Row]:
    columns = {c.name for c in table.columns}
    digest, count = hashlib.sha256(), 0
    try:
        for number, line in enumerate(_lines(file, cipher), start=1):
            digest.update(line)
            try:
                row = json.loads(line)
            except ValueError as e:
                raise InvalidInput(f"{file.path}, line {number}: not JSON: {e}") from None
            if not isinstance(row, dict) or set(row) != columns:
                raise InvalidInput(f"{file.path}, line {number}: not a row of {table.name}")
            count += 1
            yield row
    except OSError as e:
        raise InvalidInput(f"{file.path}: cannot read table {table.name}: {e.strerror}") from None
    if digest.hexdigest() != file.sha256:
        raise Corrupt(f"{file.path}: does not match the sha256 in the manifest")
    if count != file.rows:
        raise InvalidInput(f"{file.path}: {count} rows, the manifest says {file.rows}")


def _lines(file: TableFile, cipher: FileCipher | None) -> Iterator[bytes]:
    if cipher is None:
        with file.path.open("rb") as f:
            yield from f
    else:
        yield from io.BytesIO(cipher.decrypt(file.name, file.path.read_bytes(), file.path))


def _read_object(folder: Path, entry: ObjectEntry, cipher: FileCipher | None) -> bytes:
    data = (folder / entry.key).read_bytes()
    return cipher.decrypt(f"objects/{entry.key}", data, folder / entry.key) if cipher else data


def _check_objects(
    root: Path, manifest: dict[str, Any], where: Path, cipher: FileCipher | None
) -> list[ObjectEntry]:
    objects, seen = [], set()
    for number, raw in enumerate(manifest.get("objects", []), start=1):
        try:
            entry = ObjectEntry(
                key=validate_key(str(raw["key"])),
                sha256=str(raw["sha256"]),
                size=int(raw["size"]),
                metadata={str(k): str(v) for k, v in dict(raw.get("metadata", {})).items()},
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInput(f"{where}: object {number}: {e}") from None
        if entry.key in seen:
            raise InvalidInput(f"{where}: object {entry.key} is listed twice")
        seen.add(entry.key)
        path = _inside(root / "objects", entry.key, f"{where}: object {number}")
        try:
            data = _read_object(root / "objects", entry, cipher)
        except OSError as e:
            raise InvalidInput(f"{path}: object {entry.key} cannot be read: {e.strerror}") from None
        if (sha256_hex(data), len(data)) != (entry.sha256, entry.size):
            raise Corrupt(f"{path}: object {entry.key} does not match its sha256 in the manifest")
        objects.append(entry)
    return objects


# ---- restore -------------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    rows: dict[str, int]
    objects_written: int
    objects_present: int  # already in the store with the same content
    replaced_rows: int = 0  # rows of a non-empty database replaced (--force)


def restore_backup(
    root: Path,
    *,
    engine: Engine,
    store: ObjectStore,
    secret_key: bytes,
    force: bool = False,
    backup_key: bytes | None = None,
) -> RestoreSummary:
    """Rebuild the database and the store from the backup at `root`, all or nothing.

    The backup is read and checked whole first. A database that holds rows, or a store that
    holds objects, is refused unless `force`: then the database's rows are replaced and the
    store's other objects are left where they are. An object under one of the backup's keys
    with other content is always refused: stored objects are records, never replaced. If
    writing the database fails, the objects this restore wrote are deleted again. An
    encrypted backup needs its key (`backup_key`); an unencrypted one restores with or
    without one."""
    backup = load_backup(root, secret_key=secret_key, backup_key=backup_key)
    if schema_revision(engine) != HEAD_REVISION:
        upgrade(engine)
    existing = _row_counts(engine)
    if any(existing.values()) and not force:
        busy = ", ".join(f"{n} {t}" for t, n in existing.items() if n)
        raise Conflict(f"the database is not empty ({busy}); restore refuses to overwrite it "
                       "(--force replaces its contents)")  # fmt: skip
    wanted = {o.key for o in backup.objects}
    extra = [k for k in store.iter_keys() if k not in wanted]
    if extra and not force:
        raise Conflict(
            f"the store holds {len(extra)} object(s) the backup does not, e.g. {extra[0]}; "
            "restore refuses a store in use (--force keeps them)"
        )
    present = []
    for entry in backup.objects:
        head = store.head(entry.key)
        if head is not None and head.sha256 != entry.sha256:
            raise Conflict(f"the store holds {entry.key} with other content; stored objects "
                           "are never replaced: restore into an empty store")  # fmt: skip
        if head is not None:
            present.append(entry.key)
    written: list[str] = []
    try:
        for entry in backup.objects:
            if entry.key in present:
                continue
            data = backup.object_data(entry)
            store.put(entry.key, data, sha256=entry.sha256, metadata=entry.metadata)
            written.append(entry.key)
        _write_database(engine, backup, clear=any(existing.values()))
    except BaseException:
        for key in reversed(written):
            with contextlib.suppress(Exception):  # the first failure is the one to report
                store.delete(key)
        raise
    counts = {name: file.rows for name, file in backup.tables.items()}
    return RestoreSummary(counts, len(written), len(present), sum(existing.values()))


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables()
        }


def _write_database(engine: Engine, backup: Backup, *, clear: bool) -> None:
    """Every row in one transaction (PostgreSQL and SQLite both roll DDL back with it)."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if not postgres:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            if clear:
                _clear(conn, postgres=postgres)
            for table in tables():
                batch: list[Row] = []
                for row in backup.rows(table):
                    batch.append(decode_row(table, row))
                    if len(batch) == 2000:
                        conn.execute(insert(table), batch)
                        batch = []
                if batch:
                    conn.execute(insert(table), batch)
            if postgres:
                _reset_sequences(conn)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


def _clear(conn: Connection, *, postgres: bool) -> None:
    """Empty every table, the append-only audit log too (its triggers are lifted inside
    this transaction only: a failed restore puts them back with everything else)."""
    if postgres:
        conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        for table in reversed(tables()):
            conn.execute(table.delete())
        conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")
        return
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
    ).all()
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for table in reversed(tables()):
        conn.execute(table.delete())
    for _name, sql in triggers:
        conn.exec_driver_sql(sql)


def _reset_sequences(conn: Connection) -> None:
    """Rows came with their ids; the next id each sequence hands out must follow them."""
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column, name = keys[0].name, table.name
        conn.execute(
            text(
                f'SELECT setval(seq, COALESCE((SELECT MAX("{column}") FROM "{name}"), 0) + 1, '
                "false) FROM (SELECT pg_get_serial_sequence(:t, :c) AS seq) s "
                "WHERE seq IS NOT NULL"
            ).bindparams(t=name, c=column)
        )


# ---- verify --------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    rows_checked: int = 0
    objects_checked: int = 0
    rows_added: int = 0  # rows in the live database the backup does not have
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def verify_backup(
    root: Path,
    *,
    engine: Engine,
    store: ObjectStore,
    secret_key: bytes,
    backup_key: bytes | None = None,
) -> VerifyReport:
    """The live system against the backup: every row of the backup present with the same
    values, every object present with the backup's SHA-256 (re-read and re-hashed)."""
    backup = load_backup(root, secret_key=secret_key, backup_key=backup_key)
    report = VerifyReport()
    with _snapshot(engine) as conn:
        for table in tables():
            live = {
                row_key(table, r): r
                for r in (encode_row(table, row) for row in conn.execute(select(table)))
            }
            for row in backup.rows(table):
                report.rows_checked += 1
                found = live.pop(row_key(table, row), None)
                where = f"{table.name} {row_key(table, row)}"
                if found is None:
                    report.problems.append(f"missing  row {where}")
                    continue
                changed = sorted(c for c in row if row[c] != found[c])
                if changed:
                    report.problems.append(f"changed  row {where}: {', '.join(changed)}")
            report.rows_added += len(live)
    for entry in backup.objects:
        report.objects_checked += 1
        try:
            data = store.get(entry.key)
        except ObjectNotFound:
            report.problems.append(f"missing  object {entry.key}")
            continue
        except ObjectCorrupt as e:
            report.problems.append(f"corrupt  object {entry.key}: {e}")
            continue
        if sha256_hex(data) != entry.sha256:
            report.problems.append(f"corrupt  object {entry.key}: not the backup's sha256")
    return report
