"""Charts kept in the object store by the SHA-256 of their inputs (issue 13, point 9): a kept
chart is read, not drawn; changed inputs draw a new one; damaged bytes are drawn again;
the kept bytes are those a fresh drawing makes; a plan's charts drawn at submit time are
the ones its document then shows."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aip_forms.storage import LocalObjectStore
from exports import charts
from exports.render import draw_charts, render_docx
from tests.unit.test_render_docx import CONFIG, example_plan, lea_data

BARS = (charts.TierBar("Tier 1", 300), charts.TierBar("Tier 2", 40), charts.TierBar("Tier 3", 9))


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every chart actually drawn (not read from memory or the store), by kind and inputs."""
    calls: list[tuple[str, tuple[Any, ...]]] = []
    for kind, draw in list(charts.DRAW.items()):

        def counted(*args: Any, _kind: str = kind, _draw: Callable[..., bytes] = draw) -> bytes:
            calls.append((_kind, args))
            return _draw(*args)

        monkeypatch.setitem(charts.DRAW, kind, counted)
    charts.clear_cache()
    yield calls
    charts.clear_cache()


def tiers(store: LocalObjectStore, bars: tuple[charts.TierBar, ...] = BARS) -> bytes:
    with charts.kept_in(store):
        return charts.tier_chart("Students by tier of support", bars)


def test_a_kept_chart_is_read_and_not_drawn_again(store, drawn):
    first = tiers(store)
    charts.clear_cache()  # another process: nothing in memory
    second = tiers(store)
    assert first == second
    assert [kind for kind, _ in drawn] == ["tiers"]
    assert list(store.iter_keys(charts.CHART_PREFIX)) == [
        charts.chart_key("tiers", ("Students by tier of support", BARS))
    ]


def test_changed_inputs_draw_and_keep_a_new_chart(store, drawn):
    first = tiers(store)
    changed = (*BARS[:2], charts.TierBar("Tier 3", 9, hidden=True))
    second = tiers(store, changed)
    assert first != second
    assert len(drawn) == 2
    assert len(list(store.iter_keys(charts.CHART_PREFIX))) == 2
    assert charts.chart_key("tiers", ("t", BARS)) != charts.chart_key("tiers", ("t", changed))
    assert charts.chart_key("tiers", ("t", BARS)) != charts.chart_key("history", ("t", BARS))


def test_the_key_includes_the_drawing_codes_version(monkeypatch):
    before = charts.chart_key("tiers", ("t", BARS))
    monkeypatch.setattr(charts, "code_version", lambda: "another")
    assert charts.chart_key("tiers", ("t", BARS)) != before


def test_the_kept_chart_is_the_same_bytes_as_a_fresh_drawing(store, drawn):
    kept = tiers(store)
    key = charts.chart_key("tiers", ("Students by tier of support", BARS))
    fresh = charts.DRAW["tiers"]("Students by tier of support", BARS)
    assert store.get(key) == kept == fresh
    assert kept.startswith(b"\x89PNG\r\n\x1a\n")


def _damage(store: LocalObjectStore, key: str, data: bytes) -> None:
    """Overwrite a kept object's bytes behind the store's back (a disk fault)."""
    (path,) = [p for p in store.root.rglob("*.png") if p.as_posix().endswith(key)]
    path.write_bytes(data)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda png: png[:-20] + bytes(20), id="bytes-changed"),
        pytest.param(lambda png: png[: len(png) // 2], id="cut-short"),
    ],
)
def test_a_damaged_kept_chart_is_drawn_again_not_trusted(store, drawn, damage):
    good = tiers(store)
    key = charts.chart_key("tiers", ("Students by tier of support", BARS))
    _damage(store, key, damage(good))
    charts.clear_cache()
    again = tiers(store)
    assert again == good
    assert len(drawn) == 2
    charts.clear_cache()
    assert store.get(key) == good  # and the store holds the good bytes again
    assert tiers(store) == good and len(drawn) == 2


def test_a_kept_chart_that_is_not_a_png_is_drawn_again(store, drawn):
    key = charts.chart_key("tiers", ("Students by tier of support", BARS))
    junk = b"not a picture"
    store.put(key, junk, sha256=hashlib.sha256(junk).hexdigest())
    png = tiers(store)
    assert png.startswith(b"\x89PNG") and len(drawn) == 1
    assert store.get(key) == png


def test_without_a_store_charts_are_remembered_in_memory_only(store, drawn):
    with charts.kept_in(None):
        charts.tier_chart("t", BARS)
        charts.tier_chart("t", BARS)
    assert len(drawn) == 1
    assert list(store.iter_keys()) == []


def _pictures(docx: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        return sorted(z.read(n) for n in z.namelist() if n.startswith("word/media/"))


def test_charts_drawn_at_submit_are_the_ones_the_document_reads(store, drawn, tmp_path):
    datas = lea_data()
    data = datas[2]
    plan = example_plan(data, tmp_path)
    count = draw_charts(plan, data, CONFIG, chart_store=store)
    assert count == 4 and len(drawn) == 4  # subgroups, grades, tiers, progress
    kept = sorted(store.get(k) for k in store.iter_keys(charts.CHART_PREFIX))
    charts.clear_cache()  # the download runs in another process
    docx = render_docx(plan, data, CONFIG, chart_store=store)
    assert len(drawn) == 4  # nothing drawn for the document
    assert _pictures(docx) == kept
    charts.clear_cache()
    assert _pictures(render_docx(plan, data, CONFIG)) == kept  # as drawn fresh
