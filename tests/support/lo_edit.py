"""Edit workbooks in LibreOffice Calc, headless, through its Python UNO bridge.

The bridge (python3-uno) belongs to the system Python, not the project's virtualenv, so this
file is two things:

- imported by a test, `edit_in_libreoffice(edits, tmp_path)` runs it as a script with
  /usr/bin/python3, in a process group of its own, with a time limit; afterwards it kills
  whatever is left of the group and checks that nothing of LibreOffice survives;
- run as that script, it starts soffice with a fresh profile, listening on a private pipe,
  opens each workbook, makes the edits as a user would (typing, clearing; a locked cell only
  after unprotecting its sheet with the workbook password, protected again afterwards), saves
  the result as an Excel 2007-365 workbook (.xlsx) and shuts LibreOffice down.

Only the standard library is imported at module level, so both Pythons can load it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
TIME_LIMIT = 240  # seconds for a whole run: LibreOffice's first start is slow
XLSX_FILTER = "Calc MS Excel 2007 XML"
# com.sun.star.sheet.CellFlags: VALUE | DATETIME | STRING | FORMULA
CLEAR_CONTENTS = 1 | 2 | 4 | 16


@dataclass(frozen=True)
class Edit:
    """One change to one cell. `action`: "type" enters `value` as a user types it (so "12%"
    becomes 0.12 and "=1+1" a formula), "text" enters it as text, "clear" empties the cell."""

    sheet: str
    cell: str
    action: str
    value: str = ""


@dataclass(frozen=True)
class Job:
    source: str
    target: str
    edits: list[Edit] = field(default_factory=list)
    password: str = ""  # sheet protection, for edits of locked cells


# ---- the test side (project virtualenv) --------------------------------------------------


def edit_in_libreoffice(jobs: list[Job], work: Path, time_limit: float = TIME_LIMIT) -> str:
    """Run `jobs` in one LibreOffice session; return the script's output. Raises
    AssertionError on failure, timeout, or LibreOffice processes left behind."""
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "jobs.json"
    spec.write_text(
        json.dumps({"profile": str(work / "lo-profile"), "jobs": [asdict(j) for j in jobs]})
    )
    process = subprocess.Popen(
        [SYSTEM_PYTHON, __file__, str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # soffice inherits the group: one kill ends everything
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
    )
    try:
        output, _ = process.communicate(timeout=time_limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(
            f"LibreOffice did not finish in {time_limit} s:\n{output.decode(errors='replace')}"
        ) from None
    finally:
        end_group(process.pid)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    return text


def end_group(group: int) -> None:
    """Kill whatever is left in the process group and wait until it is empty."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"LibreOffice processes of group {group} are still running")


# ---- the script side (system python3 with the UNO bridge) --------------------------------


def _connect(pipe: str, soffice: subprocess.Popen[bytes], deadline: float) -> object:
    import uno  # type: ignore[import-not-found]
    from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if soffice.poll() is not None:
                raise RuntimeError(f"soffice exited with {soffice.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError("soffice did not accept a connection in time") from None
            time.sleep(0.25)


def _prop(name: str, value: object) -> object:
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def _edit(document: object, job: Job) -> None:
    sheets = document.Sheets  # type: ignore[attr-defined]
    for edit in job.edits:
        sheet = sheets.getByName(edit.sheet)
        protected = sheet.isProtected()
        if protected:
            sheet.unprotect(job.password)
        cell = sheet.getCellRangeByName(edit.cell)
        if edit.action == "type":
            cell.setFormula(edit.value)
        elif edit.action == "text":
            cell.setString(edit.value)
        elif edit.action == "clear":
            cell.clearContents(CLEAR_CONTENTS)
        else:
            raise ValueError(f"unknown action {edit.action!r}")
        if protected:
            sheet.protect(job.password)


def _run(spec: Path) -> None:
    import uno  # type: ignore[import-not-found]

    request = json.loads(spec.read_text())
    jobs = [
        Job(j["source"], j["target"], [Edit(**e) for e in j["edits"]], j["password"])
        for j in request["jobs"]
    ]
    profile = Path(request["profile"])
    pipe = f"aip_lo_{uuid.uuid4().hex}"
    soffice = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        context = _connect(pipe, soffice, time.monotonic() + TIME_LIMIT / 2)
        desktop = context.ServiceManager.createInstanceWithContext(  # type: ignore[attr-defined]
            "com.sun.star.frame.Desktop", context
        )
        for job in jobs:
            source = uno.systemPathToFileUrl(str(Path(job.source).resolve()))
            document = desktop.loadComponentFromURL(source, "_blank", 0, (_prop("Hidden", True),))
            if document is None:
                raise RuntimeError(f"LibreOffice could not open {job.source}")
            try:
                _edit(document, job)
                target = uno.systemPathToFileUrl(str(Path(job.target).resolve()))
                document.storeToURL(target, (_prop("FilterName", XLSX_FILTER),))
            finally:
                document.close(True)
            print(f"saved {job.target}", flush=True)
        with contextlib.suppress(Exception):  # the bridge drops as soffice exits
            desktop.terminate()
        soffice.wait(timeout=60)
    finally:
        if soffice.poll() is None:
            soffice.kill()
            soffice.wait()


if __name__ == "__main__":
    _run(Path(sys.argv[1]))
