"""The dashboard's small-group suppression is computed once per data load and stored
(`hidden_cells`), on SQLite and PostgreSQL: after `precompute_hidden_cells` (what `aip data
load` runs) a new process's first dashboard computes nothing; without it, the first
dashboard computes and stores the cells for the processes after it; a new load computes them
again. What is hidden is the same either way."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from aip_forms.db.models import DataLoadRow, HiddenCellsRow
from aip_forms.services import dashboards
from aip_forms.services.dashboards import precompute_hidden_cells
from aip_forms.services.uow import UowFactory
from tests.integration.test_dashboards import CONFIG, board, seed_dashboard


def new_process() -> None:
    """Forget what this process keeps, as a fresh web worker would not have it."""
    dashboards._hidden_cache.clear()
    dashboards._memo.clear()


@pytest.fixture
def uow(engine: Engine) -> UowFactory:
    new_process()
    return seed_dashboard(engine)


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The LEAs whose cells the dashboard computes, call by call."""
    calls: list[list[str]] = []
    compute = dashboards._compute_hidden

    def counted(engine: Any, config: Any, year: int, leas: list[str]) -> Any:
        calls.append(sorted(leas))
        return compute(engine, config, year, leas)

    monkeypatch.setattr(dashboards, "_compute_hidden", counted)
    return calls


def hidden_of(found: Any) -> set[tuple[str, str]]:
    return {(r.entity.code, r.group_code) for r in found.results if r.hidden}


def stored_rows(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(HiddenCellsRow)) or 0)


def test_precomputed_cells_spare_the_first_request(
    engine: Engine, uow: UowFactory, computed: list[list[str]]
) -> None:
    leas = precompute_hidden_cells(engine=engine, uow=uow, config=CONFIG)
    assert leas >= 2 and stored_rows(engine) == leas  # one row per LEA of FY2027
    computed.clear()
    found = board(uow, period="120")
    assert computed == []  # read, not computed
    assert ("006001", "amind") in hidden_of(found) and ("006001", "hispanic") in hidden_of(found)
    assert ("006001", "all") not in hidden_of(found)
    assert precompute_hidden_cells(engine=engine, uow=uow, config=CONFIG) == leas  # no doubles
    assert stored_rows(engine) == leas


def test_the_first_dashboard_stores_what_it_computes_and_a_new_load_recomputes(
    engine: Engine, uow: UowFactory, computed: list[list[str]]
) -> None:
    first = hidden_of(board(uow, period="120"))
    assert len(computed) == 1 and stored_rows(engine) > 0
    new_process()
    assert hidden_of(board(uow, period="120")) == first
    assert len(computed) == 1  # the next process read them
    new_process()
    district = board(uow, period="120", lea_code="006")
    assert len(computed) == 1 and ("006001", "amind") in hidden_of(district)

    with engine.begin() as c:
        c.execute(insert(DataLoadRow).values(source="test", summary="a new load"))
    new_process()
    assert hidden_of(board(uow, period="120")) == first
    assert len(computed) == 2  # the stored cells were of the load before
