"""Configuration: where things live (Settings, from AIP_* variables) and program rules
(ProgramConfig: tiers, thresholds, catalogs, deadlines, form specs), New Mexico defaults.

Nothing here is built at import time; `Settings.from_env()` and `ProgramConfig.load()` are
called by the composition root (`aip_forms.bootstrap`).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import os
import re
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from aip_forms import catalog
from aip_forms.domain import (
    GradeLevel,
    PlanKind,
    ReportingPeriod,
    Strategy,
    Subgroup,
    TierBand,
)
from aip_forms.errors import InvalidInput
from aip_forms.programs.rules import (
    Metric,
    SelectionRule,
    StaffingRule,
    TargetRule,
)
from aip_forms.spec import FormSpec, Wording, progress_spec, spec_for, with_targeted_grades


class Deadlines(BaseModel):
    model_config = ConfigDict(extra="forbid")
    district: dt.date
    school: dt.date


FREEMAIL_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "mail.com",
    "zoho.com",
    "yandex.com",
    "comcast.net",
)


class AccountPolicy(BaseModel):
    """Portal accounts: password rules (user guide §2.1), second factor (§2.2), links and
    throttling. Every value can be changed in the program config file (`accounts`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    password_min_length: int = Field(default=12, ge=8, le=128)
    password_needs_upper: bool = True
    password_needs_digit: bool = True
    password_needs_special: bool = True
    password_max_age_days: int = Field(default=60, ge=0)  # 0: passwords never expire
    refuse_common_passwords: bool = True
    freemail_domains: tuple[str, ...] = FREEMAIL_DOMAINS
    code_minutes: int = Field(default=10, ge=1, le=60)
    code_tries: int = Field(default=5, ge=1, le=20)
    code_resends: int = Field(default=3, ge=0, le=10)
    reset_minutes: int = Field(default=30, ge=5, le=24 * 60)
    invite_hours: int = Field(default=72, ge=1, le=24 * 14)
    # Back-off after failed sign-ins: `free` failures cost nothing, then each one doubles the
    # wait from `base` seconds up to `cap` seconds. An account's cap is short, so that a
    # stranger cannot lock a real user out for long; an address's is long and starts sooner.
    account_free_failures: int = Field(default=5, ge=1)
    account_base_seconds: int = Field(default=30, ge=1)
    account_cap_seconds: int = Field(default=15 * 60, ge=1)
    address_free_failures: int = Field(default=20, ge=1)
    address_base_seconds: int = Field(default=60, ge=1)
    address_cap_seconds: int = Field(default=60 * 60, ge=1)
    # Uploads (checks and submits, portal and API) per user: what a coordinator fixing a
    # workbook needs, and a bound on what one stolen account makes the server parse
    # (docs/threat-model.md, threat 17). Fixed windows of a minute and of an hour.
    uploads_per_minute: int = Field(default=10, ge=1)
    uploads_per_hour: int = Field(default=120, ge=1)


class ProgramConfig(BaseModel):
    """The rules of a state's program. Defaults are New Mexico's (NMSA 22-12A)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str = "nm"  # the built-in profile these values start from (programs.profiles)
    state: str = "New Mexico"
    agency: str = "New Mexico Public Education Department"
    agency_short: str = "PED"  # in sentences: "pre-filled from PED data"
    program_name: str = "Attendance Improvement Plans (NMSA 22-12A)"
    legal_basis: str = "NMSA 22-12A-7"  # what asks for the end-of-year public report
    eoy_report_basis: str = "the Attendance for Success Act asks for (NMSA 22-12A-7)"
    official_site_of: str = "the State of New Mexico"  # the portal's banner
    time_zone: str = "America/Denver"  # times shown in the portal
    owner: str = "New Mexico"  # whose plans these are: "New Mexico's attendance plans"
    portal_name: str = "New Mexico Attendance Improvement Plan portal"  # mail footers
    email_example: str = "name@district.k12.nm.us"  # the register page's hint
    # the (email, phone) the plan's contact fields show as examples
    contact_example: tuple[str, str] = ("garcia@belen.k12.nm.us", "505-555-0142")
    email_domain: str = "{lea}.k12.nm.us"  # example plans' addresses; {lea}: the LEA's first word
    # The label an authenticator app shows; changing it relabels nobody's enrolled app.
    totp_issuer: str = "NM AIP"
    # What is measured, which grades a plan targets, which targets are allowed, which schools
    # must file a plan and what support time they get (aip_forms.programs.rules).
    metric: Metric = Metric()
    targeted_grades: tuple[str, ...] | None = None  # None: every grade
    target_rule: TargetRule = TargetRule()
    selection: SelectionRule = SelectionRule()
    staffing: StaffingRule | None = None
    min_group_size: int = Field(default=10, ge=1)
    min_enrolled_days: int = Field(default=1, ge=1)
    tiers: tuple[TierBand, ...] = catalog.TIERS
    subgroups: tuple[Subgroup, ...] = catalog.SUBGROUPS
    grades: tuple[GradeLevel, ...] = catalog.GRADES
    periods: tuple[ReportingPeriod, ...] = catalog.PERIODS
    district_periods: tuple[str, ...] = catalog.DISTRICT_PERIODS
    school_periods: tuple[str, ...] = catalog.SCHOOL_PERIODS
    strategies: tuple[Strategy, ...] = catalog.STRATEGIES
    history_years: int = Field(default=3, ge=1, le=5)
    # Deadlines by fiscal year; a year not listed uses `default_deadlines`.
    deadlines: dict[int, Deadlines] = Field(default_factory=dict)
    # The form spec of a plan kind; a kind not listed uses New Mexico's (`aip_forms.spec`).
    # Generation, validation and documents all take the spec from here.
    forms: dict[PlanKind, FormSpec] = Field(default_factory=dict)
    accounts: AccountPolicy = AccountPolicy()
    # Deadlines and reminders (issue 12; `services.deadlines`, `services.reminders`). The
    # first instructional day by fiscal year; a year not listed starts on the second Monday
    # of August. District plans are due `district_plan_school_days` school days in (NMSA
    # 22-12A-7: 45) unless `deadlines` or PED (the deadline table) sets another date; a
    # progress update `progress_due_days` calendar days after its period's day (end of
    # year: after the last day, June 15 unless set).
    school_year_start: dict[int, dt.date] = Field(default_factory=dict)
    # Days without school by fiscal year (state holidays, breaks), skipped when school days
    # are counted; a year not listed counts Monday to Friday.
    school_holidays: dict[int, tuple[dt.date, ...]] = Field(default_factory=dict)
    district_plan_school_days: int = Field(default=45, ge=1, le=180)
    progress_due_days: int = Field(default=14, ge=0, le=90)
    reminder_days_before: tuple[int, ...] = (14, 3)
    digest_weekday: int = Field(default=0, ge=0, le=6)  # Monday
    # Plan records are kept this many years after their fiscal year ends (June 30), then
    # listed by `aip retention list` and removed only by `aip retention purge --yes`.
    retention_years: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _earlier_names(cls, data: object) -> object:
        """Config files written before profiles: `chronic_threshold_pct` is the metric's
        threshold and `plan_required_pct` the selection's."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for old, part, key in (
            ("chronic_threshold_pct", "metric", "threshold_pct"),
            ("plan_required_pct", "selection", "threshold_pct"),
        ):
            if old in data:
                given = data.pop(old)
                section = data.get(part) or {}
                section = section.model_dump() if isinstance(section, BaseModel) else section
                data[part] = {**section, key: given}
        return data

    @property
    def chronic_threshold_pct(self) -> float:
        return self.metric.threshold_pct

    @model_validator(mode="after")
    def _targeted_grades_known(self) -> ProgramConfig:
        known = {g.code for g in self.grades}
        for code in self.targeted_grades or ():
            if code not in known:
                raise ValueError(
                    f"targeted grade {code!r} is not a grade of the program "
                    f"({', '.join(sorted(known))})"
                )
        return self

    @model_validator(mode="after")
    def _tiers_cover_0_to_100(self) -> ProgramConfig:
        bands = sorted(self.tiers, key=lambda t: t.lower)
        if not bands or bands[0].lower != 0 or bands[-1].upper is not None:
            raise ValueError("tiers must start at 0% and the last tier must be open-ended")
        for a, b in itertools.pairwise(bands):
            if a.upper != b.lower:
                raise ValueError(
                    f"tier {a.tier} ends at {a.upper} but tier {b.tier} starts at {b.lower}"
                )
        return self

    @model_validator(mode="after")
    def _holidays_in_their_year(self) -> ProgramConfig:
        for year, days in self.school_holidays.items():
            for day in days:
                if not dt.date(year - 1, 7, 1) <= day <= dt.date(year, 6, 30):
                    raise ValueError(
                        f"school_holidays: {day.isoformat()} is not in fiscal year {year}"
                        f" (1 July {year - 1} to 30 June {year})"
                    )
        return self

    @model_validator(mode="after")
    def _forms_match_their_kind(self) -> ProgramConfig:
        for kind, spec in self.forms.items():
            if spec.kind is not kind:
                raise ValueError(f"the form spec given for {kind} plans is a {spec.kind} spec")
        return self

    def spec(self, kind: PlanKind | str) -> FormSpec:
        """The form spec of plans of `kind`."""
        kind = PlanKind(kind)
        spec = self.forms.get(kind) or spec_for(kind, self.wording)
        if self.targeted_grades:
            spec = _targeted_spec(spec, self.targeted_grades)
        return spec

    def progress_spec(self, kind: PlanKind | str) -> FormSpec:
        """The form spec of progress updates of plans of `kind` (issue 12)."""
        spec = progress_spec(PlanKind(kind), self.wording)
        if self.targeted_grades:
            spec = _targeted_spec(spec, self.targeted_grades)
        return spec

    @property
    def wording(self) -> Wording:
        """The program's words in the form specs (what is measured, who supplies data)."""
        return Wording.of(self.metric, self.agency_short, self.target_rule, self.contact_example)

    def form_spec(self, kind: PlanKind | str, period: str | None = None) -> FormSpec:
        """The plan's spec, or with a period the spec of its progress update."""
        return self.progress_spec(kind) if period else self.spec(kind)

    def tier_of(self, rate_pct: float) -> int:
        for band in self.tiers:
            if band.contains(rate_pct):
                return band.tier
        raise ValueError(f"absence rate {rate_pct} is outside every tier")

    def strategies_for(self, tier: int) -> list[Strategy]:
        return [s for s in self.strategies if s.tier == tier]

    def deadline(self, fiscal_year: int, kind: PlanKind) -> dt.date:
        d = self.deadlines.get(fiscal_year) or Deadlines(
            district=dt.date(fiscal_year - 1, 10, 1), school=dt.date(fiscal_year - 1, 10, 15)
        )
        return d.district if kind is PlanKind.DISTRICT else d.school

    def periods_for(self, kind: PlanKind) -> list[ReportingPeriod]:
        codes = self.district_periods if kind is PlanKind.DISTRICT else self.school_periods
        return [p for p in self.periods if p.code in codes]

    @classmethod
    def load(cls, path: str | Path | None = None, profile: str = "") -> ProgramConfig:
        """The built-in profile (AIP_PROGRAM, or the file's own "profile", default New
        Mexico's), overridden by a JSON file (AIP_PROGRAM_CONFIG) when one is given."""
        from aip_forms.programs.profiles import profile_values

        given: dict[str, object] = {}
        if path:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(loaded, dict):
                raise ValueError(f"{path}: the program config must be a JSON object")
            given = loaded
        name = str(given.get("profile") or profile or "nm")
        if profile and given.get("profile") and given["profile"] != profile:
            raise ValueError(
                f"{path} is for the {given['profile']!r} profile but AIP_PROGRAM is {profile!r}"
            )
        return cls.model_validate(_merged(profile_values(name), given))


class Settings(BaseModel):
    """Where things live and which adapters to use, from the AIP_* environment variables.

    `environment` keeps the variables read, for adapters that take more of them (the S3
    client's AWS_* credentials); nothing else reads the process environment.
    """

    model_config = ConfigDict(extra="forbid")

    home: Path
    database_url: str
    secret_key: bytes = Field(repr=False)
    workbook_password: str = Field(repr=False)
    pdf_converter: str = ""
    soffice: str = ""
    smtp_host: str = ""
    smtp_port: int | None = None
    smtp_tls: str = ""
    smtp_user: str = ""
    smtp_password: str = Field(default="", repr=False)
    mail_from: str = "aip-forms@localhost"
    base_url: str = "http://127.0.0.1:8000"
    program: str = ""  # AIP_PROGRAM: a built-in program profile ("nm", "lausd")
    program_config: str = ""
    redis_url: str = Field(default="", repr=False)  # "": throttling state in the database
    backup_key: str = Field(default="", repr=False)  # AIP_BACKUP_KEY as given; "": unencrypted
    environment: dict[str, str] = Field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else dict(env)
        home = Path(env.get("AIP_HOME", "./var")).resolve()
        db = env.get("AIP_DATABASE_URL") or f"sqlite:///{home / 'aip.db'}"
        key = env.get("AIP_SECRET_KEY")
        secret = key.encode() if key else _generated_key(home)
        password = env.get("AIP_WORKBOOK_PASSWORD") or _generated_password(home, secret)
        return cls(
            home=home,
            database_url=db,
            secret_key=secret,
            workbook_password=password,
            pdf_converter=env.get("AIP_PDF_CONVERTER", "").strip().lower(),
            soffice=env.get("AIP_SOFFICE", "").strip(),
            smtp_host=env.get("AIP_SMTP_HOST", "").strip(),
            smtp_port=_port(env.get("AIP_SMTP_PORT", "")),
            smtp_tls=env.get("AIP_SMTP_TLS", "").strip(),
            smtp_user=env.get("AIP_SMTP_USER", "").strip(),
            smtp_password=env.get("AIP_SMTP_PASSWORD", ""),
            mail_from=env.get("AIP_MAIL_FROM", "").strip() or "aip-forms@localhost",
            base_url=(env.get("AIP_BASE_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/"),
            program=env.get("AIP_PROGRAM", "").strip().lower(),
            program_config=env.get("AIP_PROGRAM_CONFIG", "").strip(),
            redis_url=env.get("AIP_REDIS_URL", "").strip(),
            backup_key=env.get("AIP_BACKUP_KEY", "").strip(),
            environment={k: v for k, v in env.items() if k.startswith(("AIP_", "AWS_"))},
        )

    def backup_key_bytes(self) -> bytes | None:
        """The key backups are encrypted with (`backup_key`), None when unset. Checked where
        it is used (`aip backup`, `aip check-config`), not when the settings are read:
        commands that never touch a backup run whatever it holds."""
        return backup_key(self.backup_key)


@lru_cache(maxsize=16)
def _targeted_spec(spec: FormSpec, grades: tuple[str, ...]) -> FormSpec:
    return with_targeted_grades(spec, grades)


def _merged(base: Mapping[str, object], given: Mapping[str, object]) -> dict[str, object]:
    """`base` with `given` laid over it; a part given as an object (the metric, the target
    rule) changes only the keys it names."""
    out = dict(base)
    for key, value in given.items():
        under = out.get(key)
        if isinstance(under, BaseModel):
            under = under.model_dump()
        if isinstance(under, dict) and isinstance(value, dict):
            out[key] = _merged(under, value)
        else:
            out[key] = value
    return out


def _port(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"AIP_SMTP_PORT must be a port number, not {text!r}")
    return int(text)


BACKUP_KEY_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}=")  # 32 bytes in urlsafe base64
MAKE_BACKUP_KEY = (
    'python -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)


def backup_key(text: str) -> bytes | None:
    """AIP_BACKUP_KEY's 32 bytes, None when it is empty; InvalidInput naming the variable,
    and never its value, when it is not 32 bytes in urlsafe base64."""
    text = text.strip()
    if not text:
        return None
    if not BACKUP_KEY_FORMAT.fullmatch(text):
        raise InvalidInput(
            f"AIP_BACKUP_KEY must be 32 random bytes in urlsafe base64, 44 characters ending "
            f"in '=' (it is {len(text)} characters); make one with: {MAKE_BACKUP_KEY}"
        )
    return base64.urlsafe_b64decode(text)


def _generated_key(home: Path) -> bytes:
    """A key generated once into $AIP_HOME/secret.key (mode 600) when AIP_SECRET_KEY is unset."""
    path = home / "secret.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _generated_password(home: Path, secret: bytes) -> str:
    """Sheet protection is a guard against slips, not a secret; derive it from the key."""
    import hashlib

    return hashlib.sha256(b"aip-sheet-protection:" + secret).hexdigest()[:16]
