"""Composition root: builds settings, program config and adapters from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from aip_forms.config import ProgramConfig, Settings
from aip_forms.db.session import make_engine, upgrade
from aip_forms.storage import ObjectStore, store_from_env


@dataclass
class App:
    settings: Settings
    config: ProgramConfig = field(default_factory=ProgramConfig)

    @classmethod
    def from_env(cls) -> App:
        return cls(settings=Settings.from_env(), config=ProgramConfig.load())

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.database_url)
        upgrade(engine)
        return engine

    @cached_property
    def storage(self) -> ObjectStore:
        return store_from_env(os.environ, self.settings.home)
