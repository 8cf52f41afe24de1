"""Configuration: where things live (Settings, from AIP_* variables) and program rules
(ProgramConfig: tiers, thresholds, catalogs, deadlines), New Mexico defaults.

Nothing here is built at import time; `Settings.from_env()` and `ProgramConfig.load()` are
called by the composition root (`aip_forms.app`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import secrets
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


class Deadlines(BaseModel):
    model_config = ConfigDict(extra="forbid")
    district: dt.date
    school: dt.date


class ProgramConfig(BaseModel):
    """The rules of a state's program. Defaults are New Mexico's (NMSA 22-12A)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: str = "New Mexico"
    agency: str = "New Mexico Public Education Department"
    chronic_threshold_pct: float = Field(default=10.0, gt=0, le=100)
    plan_required_pct: float = Field(default=5.0, gt=0, le=100)
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
    def load(cls, path: str | Path | None = None) -> ProgramConfig:
        """Defaults, overridden by a JSON file (AIP_PROGRAM_CONFIG) when one is given."""
        path = path or os.environ.get("AIP_PROGRAM_CONFIG")
        if not path:
            return cls()
        return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


class Settings(BaseModel):
    """Where things live, from the environment."""

    model_config = ConfigDict(extra="forbid")

    home: Path
    database_url: str
    secret_key: bytes
    workbook_password: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        home = Path(env.get("AIP_HOME", "./var")).resolve()
        db = env.get("AIP_DATABASE_URL") or f"sqlite:///{home / 'aip.db'}"
        key = env.get("AIP_SECRET_KEY")
        secret = key.encode() if key else _generated_key(home)
        password = env.get("AIP_WORKBOOK_PASSWORD") or _generated_password(home, secret)
        return cls(home=home, database_url=db, secret_key=secret, workbook_password=password)


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
