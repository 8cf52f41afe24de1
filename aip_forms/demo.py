"""`make demo`: the main job end to end on embedded defaults, with synthetic sample data.

Runs the same `aip` commands a PED administrator would, prints each one, and ends with
what to open or run next. Everything lands under $AIP_HOME (default ./var).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

console = Console()
FY = "2027"


def aip(*args: str) -> str:
    cmd = [sys.executable, "-m", "aip_forms", *args]
    console.print(f"[bold cyan]$ aip {shlex.join(args)}[/]")
    started = time.perf_counter()
    proc = subprocess.run(cmd, text=True, capture_output=True, check=False)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        console.print(f"[red]failed with exit code {proc.returncode}[/]")
        raise SystemExit(proc.returncode)
    console.print(f"[dim]  ({time.perf_counter() - started:.1f} s)[/]\n")
    return proc.stdout


def first_school_of(lea_name: str, home: Path) -> tuple[str, str]:
    """(lea_code, school_code) of a district by name, from the sample files."""
    import csv

    with open(home / "sample" / "leas.csv", encoding="utf-8") as f:
        lea = next(r["lea_code"] for r in csv.DictReader(f) if r["lea_name"] == lea_name)
    with open(home / "sample" / "schools.csv", encoding="utf-8") as f:
        schools = [r for r in csv.DictReader(f) if r["lea_code"] == lea]
    high = next((s for s in schools if "HIGH" in s["school_name"].upper()), schools[0])
    return lea, high["school_code"]


def main() -> None:
    home = Path(os.environ.get("AIP_HOME", "var")).resolve()
    os.environ["AIP_HOME"] = str(home)
    console.rule("aip-forms demo (synthetic data)")
    console.print(f"AIP_HOME = {home}\n")
    aip("data", "sample", "--out", str(home / "sample"), "--students")
    aip("data", "load", str(home / "sample"))
    aip("workbook", "generate", "--fy", FY, "--all", "--out", str(home / "workbooks"))
    lea, school = first_school_of("BELEN CONSOLIDATED SCHOOLS", home)
    examples = home / "examples"
    district_example = examples / f"example-district-{lea}.xlsx"
    school_example = examples / f"example-school-{school}.xlsx"
    aip("workbook", "example", "--fy", FY, "--lea", lea, "--out", str(district_example))
    aip(
        "workbook",
        "example",
        "--fy",
        FY,
        "--lea",
        lea,
        "--school",
        school,
        "--out",
        str(school_example),
    )
    console.rule("What to open next")
    console.print(f"- Statewide workbooks: {home / 'workbooks'}")
    console.print(f"- A filled district plan: {district_example}")
    console.print(f"- A filled school plan:   {school_example}")
    console.print(
        "- Open any of them in Excel or LibreOffice: grey cells are pre-filled and "
        "locked, yellow cells are yours to fill."
    )
    console.print(
        f"- Try: .venv/bin/aip workbook generate --fy {FY} --lea {lea} "
        f"--school {school} --out /tmp/plan.xlsx"
    )


if __name__ == "__main__":
    main()
