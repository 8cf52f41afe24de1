"""`make demo` end to end: sample data, load, every workbook, examples, the review cycle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest


@pytest.mark.slow
@pytest.mark.libreoffice
def test_demo_runs_the_whole_cycle(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "AIP_HOME": str(home),
        "AIP_SECRET_KEY": "demo-test-key",
        "AIP_DEMO_NO_SERVE": "1",
    }
    env.pop("AIP_DATABASE_URL", None)
    env.pop("AIP_STORAGE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "aip_forms.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    out = proc.stdout
    assert "984 workbooks" in out or "workbooks in" in out
    assert "(resubmitted)" in out and "is approved" in out
    assert "0 missing, 0 corrupt, 0 orphaned" in out
    workbooks = list((home / "workbooks" / "FY2027").rglob("*.xlsx"))
    assert len(workbooks) > 900
    revision = next((home / "examples").glob("revision-school-*.xlsx"))
    wb = openpyxl.load_workbook(revision)
    note = wb["3 Root Cause Analysis"]["B10"].comment
    assert note is not None and "own data" in note.text

    # a second run clears only what the demo made, and works again
    again = subprocess.run(
        [sys.executable, "-m", "aip_forms.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]


def test_demo_refuses_a_home_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    env = {**os.environ, "AIP_HOME": str(tmp_path), "AIP_DEMO_NO_SERVE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "aip_forms.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    assert "empty folder" in proc.stdout
