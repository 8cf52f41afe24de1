"""A district packet asked for on the portal's page and made on the real queue: a
`redis-server` on loopback and an `aip worker` process (both started by the test, stopped by
their ids), SQLite, the local store and LibreOffice. The district coordinator follows the
job page from its progress bar to the download, the PDF opens with every plan of the LEA,
and the mailed link is the job page's address."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.integration.test_jobs_worker import worker
from tests.support.redis import redis_server
from tests.support.review_world import DISTRICT, World, make_world
from tests.support.web import open_session, post, text

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow, pytest.mark.xdist_group("jobs-worker")]
BASE_URL = "https://aip.ped.nm.gov"


@pytest.fixture
def on_redis(tmp_path: Path) -> Iterator[tuple[World, dict[str, str]]]:
    home = tmp_path / "home"
    with redis_server() as url:
        made = make_world(home, redis_url=url)
        env = {"AIP_HOME": str(home), "AIP_SECRET_KEY": "review-test-secret",
               "AIP_DATABASE_URL": f"sqlite:///{home / 'aip.db'}", "AIP_REDIS_URL": url,
               "AIP_BASE_URL": BASE_URL}  # fmt: skip
        yield made, env
        made.core.close()


def test_a_packet_asked_for_on_the_page_is_made_by_a_worker(
    on_redis: tuple[World, dict[str, str]],
) -> None:
    world, env = on_redis
    client = world.portal.client()
    open_session(world.portal, client, DISTRICT)
    page = text(client.get("/documents"))
    assert "BELEN CONSOLIDATED SCHOOLS (001)" in page and "VISTA" not in page
    r = post(client, "/documents/packet", {"fiscal_year": "2027", "lea_code": "001"})
    assert r.status_code == 302 and re.fullmatch(r"/jobs/[0-9a-f]{32}", r.location)
    queued = text(client.get(r.location))
    assert "Waiting for a worker" in queued and 'value="0"' in queued  # no worker yet
    with worker(env):
        deadline = time.monotonic() + 240
        while "The document is ready" not in (page := text(client.get(r.location))):
            assert "could not be made" not in page, page[-1500:]
            assert time.monotonic() < deadline, page[-1500:]
            time.sleep(0.5)
        while not world.portal.mails(DISTRICT):  # mailed just after the job ends
            assert time.monotonic() < deadline
            time.sleep(0.2)
    download = client.get(r.location + "/download")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(download.data)).pages)
    assert "BELEN CONSOLIDATED SCHOOLS" in words and "BELEN ELEMENTARY" in words
    mail = world.portal.mails(DISTRICT)[-1]
    assert f"{BASE_URL}{r.location}" in mail.get_content()
