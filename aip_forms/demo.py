"""`make demo`: the main job end to end on embedded defaults, with synthetic sample data.

Runs the same `aip` commands a PED administrator would, prints each one, and ends with
what to open or run next. Everything lands under $AIP_HOME (default ./var).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from aip_forms.bootstrap import App

console = Console()
FY = "2027"


MARKER = ".aip-demo"


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


def fresh_home(home: Path) -> None:
    """The demo starts from nothing; it only ever clears a folder it made itself."""
    if home.exists() and any(home.iterdir()):
        if not (home / MARKER).exists():
            console.print(
                f"[red]{home} holds data the demo did not make; set AIP_HOME to an "
                "empty folder (e.g. AIP_HOME=/tmp/aip-demo make demo).[/]"
            )
            raise SystemExit(2)
        for child in home.iterdir():
            if child.name in (MARKER, "secret.key"):
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by make demo; cleared at the next run\n")


def revise(path: Path, out: Path) -> None:
    """What a coordinator does in Excel: answer the comment, certify again, save."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb["3 Root Cause Analysis"]["B10"] = (
        "Transportation gaps on the east-side routes; language barriers for newcomer "
        "families; chronic illness (asthma) among younger students, per nurse records."
    )
    cert = wb["5 Final Submission"]
    cert["C5"], cert["C6"], cert["C7"] = "Yes", "Kristin Garcia", "School Attendance Coordinator"
    cert["C8"] = dt.date.today()
    wb.save(out)


def review_cycle(home: Path, lea: str, school: str, workbook: Path) -> None:
    console.rule("Submit, return, revise, approve")
    school_user, district_user = "kgarcia@belen.example.org", "lchen@belen.example.org"
    aip(
        "users",
        "add",
        school_user,
        "--role",
        "school_coordinator",
        "--lea",
        lea,
        "--school",
        school,
        "--name",
        "Kristin Garcia",
    )
    aip(
        "users",
        "add",
        district_user,
        "--role",
        "district_coordinator",
        "--lea",
        lea,
        "--name",
        "Lee Chen",
    )
    aip("submit", str(workbook), "--user", school_user, "--final")
    aip(
        "review",
        "return",
        "1",
        "--user",
        district_user,
        "--cell",
        "'3 Root Cause Analysis'!B10",
        "--comment",
        "Please name the barriers you found in your own data, not only in general.",
    )
    revision = home / "examples" / f"revision-school-{school}.xlsx"
    aip("workbook", "generate", "--from-plan", "1", "--user", school_user, "--out", str(revision))
    revised = home / "examples" / f"revised-school-{school}.xlsx"
    revise(revision, revised)
    console.print(f"[dim](the coordinator edits {revision.name} and saves {revised.name})[/]")
    aip("submit", str(revised), "--user", school_user, "--final")
    aip("submissions", "diff", "1", "2")
    aip("review", "approve", "2", "--user", district_user, "--comment", "Approved. Thank you.")
    aip("submissions", "list", "--lea", lea)
    aip("storage", "verify")


def main() -> None:
    home = Path(os.environ.get("AIP_HOME", "var")).resolve()
    os.environ["AIP_HOME"] = str(home)
    console.rule("aip-forms demo (synthetic data)")
    console.print(f"AIP_HOME = {home}\n")
    fresh_home(home)
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
    plan_pdf = examples / f"plan-school-{school}.pdf"
    aip("render", str(school_example), "--format", "pdf", "--out", str(plan_pdf))
    review_cycle(home, lea, school, school_example)
    console.rule("What to open next")
    console.print(f"- Statewide workbooks: {home / 'workbooks'}")
    console.print(f"- A filled district plan: {district_example}")
    console.print(f"- A filled school plan:   {school_example}")
    console.print(f"- The school plan as a PDF (full report with charts): {plan_pdf}")
    console.print(
        "- Open any of them in Excel or LibreOffice: grey cells are pre-filled and "
        "locked, yellow cells are yours to fill."
    )
    console.print(
        "- The returned plan's revision workbook (the reviewer's comment is a cell note): "
        f"{examples / f'revision-school-{school}.xlsx'}"
    )
    console.print(
        "- Validate any workbook: .venv/bin/aip workbook validate FILE --annotate OUT.xlsx"
    )
    console.print("- The audit trail and versions: .venv/bin/aip submissions list")
    console.print(
        f"- Try: .venv/bin/aip workbook generate --fy {FY} --lea {lea} "
        f"--school {school} --out /tmp/plan.xlsx"
    )
    show_portal_accounts(home, lea, school)
    if os.environ.get("AIP_DEMO_NO_SERVE") != "1":
        serve_portal()


PORT = 8000
DEMO_PASSWORD = "Turquoise-Mesa#2027"  # a demo's, printed on purpose; never a real account's
DEMO_ACCOUNTS = [
    # (email, role, with the LEA, with the school, name)
    ("maria.lopez@ped.nm.gov", "ped_coordinator", False, False, "Maria Lopez"),
    ("sam.ortiz@ped.nm.gov", "ped_reviewer", False, False, "Sam Ortiz"),
    ("lchen@belen.example.org", "district_coordinator", True, False, "Lee Chen"),
    ("kgarcia@belen.example.org", "school_coordinator", True, True, "Kristin Garcia"),
    ("dana.baca@belen.example.org", "district_coordinator", True, False, "Dana Baca"),
    ("dana.baca@belen.example.org", "school_coordinator", True, True, "Dana Baca"),
]


def portal_accounts(app: App, lea: str, school: str) -> dict[str, list[str]]:
    """One account per role (and Dana Baca with two), added as `aip users add` adds them;
    each new one gets DEMO_PASSWORD through the set-password link mailed to the outbox,
    as a person would set it. Returns each email with its roles."""
    from aip_forms.mail import OutboxMailer
    from aip_forms.services.access import Role
    from aip_forms.services.accounts import set_password
    from aip_forms.services.users import add_user

    if not isinstance(app.mailer, OutboxMailer):
        raise SystemExit(
            "the demo reads its set-password links from the outbox: unset AIP_SMTP_HOST"
        )
    outbox, site, policy = app.mailer, app.site, app.accounts
    roles: dict[str, list[str]] = {}
    for email, role, with_lea, with_school, name in DEMO_ACCOUNTS:
        added = add_user(
            email,
            role,
            uow=app.uow,
            lea_code=lea if with_lea else None,
            school_code=school if with_school else None,
            name=name,
            mailer=outbox,
            site=site,
            policy=policy,
        )
        if added.link_sent:
            mail = [m for m in outbox.sent() if m["To"] == email][-1].get_content()
            token = mail.split("/account/set-password/", 1)[1].split()[0]
            set_password(token, DEMO_PASSWORD, uow=app.uow, mailer=outbox, policy=policy, site=site)
        roles.setdefault(email, []).append(site.role_name(Role(role)))
    return roles


def show_portal_accounts(home: Path, lea: str, school: str) -> None:
    from aip_forms.bootstrap import App

    console.rule("The web portal's demo accounts")
    with App.from_env() as app:
        roles = portal_accounts(app, lea, school)
    console.print(f"Portal: http://127.0.0.1:{PORT}/  (Ctrl-C stops it)")
    console.print(f"Every demo account's password: {DEMO_PASSWORD}")
    for email, held in roles.items():
        console.print(f"  {email:30} {' and '.join(held)}")
    console.print(
        f"Sign-in codes, links and other mail arrive as .eml files in {home / 'outbox'} "
        "(the newest file holds the newest code)."
    )


def serve_portal() -> None:
    """The last step: the portal on 127.0.0.1, until Ctrl-C."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aip_forms",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--workers",
            "1",
        ]
    )
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=10)
        console.print("Portal stopped.")


if __name__ == "__main__":
    main()
