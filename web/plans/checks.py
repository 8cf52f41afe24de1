"""Checked uploads, kept on the server so that "Submit" after "Check" sends nothing again.

The uploaded file is streamed (werkzeug spools a large one to disk) into
`$AIP_HOME/checks/<id>.xlsx`, then read once for the validator; `<id>.json` beside it keeps
the plan, the owner, the file's name and SHA-256, the validation report, and the version a
submit stored (so a second click of Submit shows the same receipt). The id is random (128
bits) and only works for the person who uploaded, in the session that uploaded it. Checks
older than a day are swept at the next upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage

from web.sessions import core, recall, remember

KEEP_SECONDS = 24 * 3600
SESSION_KEY = "checks"
REMEMBERED = 20
_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass
class Check:
    id: str
    plan_key: str
    user_id: int
    filename: str
    sha256: str
    size: int
    created: float
    report: dict[str, Any] = field(default_factory=dict)
    refusal: str = ""  # why a submit of this file was refused, when it was
    submission_id: int | None = None  # the version a submit stored or found


def _folder() -> Path:
    folder = core().settings.home / "checks"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def safe_filename(name: str | None) -> str:
    """The file's own name: no folders, no control characters, at most 200 characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return base[-200:] or "workbook.xlsx"


def save_upload(upload: FileStorage, *, plan_key: str, user_id: int) -> tuple[Check, bytes]:
    """Stream the upload to disk, read it back once; the new check (not yet recorded) and
    its bytes."""
    folder = _folder()
    _sweep(folder)
    check_id = secrets.token_urlsafe(16)
    path = folder / f"{check_id}.xlsx"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        upload.save(out)
    data = path.read_bytes()
    check = Check(
        id=check_id,
        plan_key=plan_key,
        user_id=user_id,
        filename=safe_filename(upload.filename),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        created=time.time(),
    )
    ids = [i for i in (recall(SESSION_KEY) or []) if isinstance(i, str)]
    remember(SESSION_KEY, [*ids, check_id][-REMEMBERED:])
    return check, data


def record(check: Check) -> None:
    path = _folder() / f"{check.id}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(check)), encoding="utf-8")
    temporary.chmod(0o600)
    os.replace(temporary, path)


def find(check_id: str, *, plan_key: str, user_id: int) -> Check | None:
    """The check, when it is this person's, of this plan, and uploaded in this session."""
    if not _ID.match(check_id) or check_id not in (recall(SESSION_KEY) or []):
        return None
    try:
        raw = json.loads((_folder() / f"{check_id}.json").read_text(encoding="utf-8"))
        check = Check(**raw)
    except (OSError, ValueError, TypeError):
        return None
    if check.user_id != user_id or check.plan_key != plan_key:
        return None
    return check


def data_of(check: Check) -> bytes | None:
    try:
        return (_folder() / f"{check.id}.xlsx").read_bytes()
    except OSError:
        return None


def _sweep(folder: Path) -> None:
    old = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < old:
                path.unlink()
