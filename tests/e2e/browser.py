"""The portal in a real browser: the app served by werkzeug on a free loopback port (SQLite
and AIP_HOME in a temporary folder, mail through a real SMTP server on loopback, from which
the tests read codes and links), Debian's chromium driven by Playwright, every page checked
with axe-core and photographed into `screenshots/`."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from aip_forms.bootstrap import App
from aip_forms.config import ProgramConfig, Settings
from aip_forms.mail import SmtpMailer
from aip_forms.services.users import add_user
from tests.support.smtp import Inbox, smtp_server
from tests.unit.test_workflow import seed_reference
from web import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / "screenshots"
PED = "maria.lopez@ped.nm.gov"


@dataclass
class Served:
    core: App
    url: str
    inbox: Inbox

    def mails(self, to: str) -> list[str]:
        return [m.get_content() for m in self.inbox.to(to)]

    def last_code(self, to: str) -> str:
        found = re.search(r"Your sign-in code is (\d{6})", self.mails(to)[-1])
        assert found, self.mails(to)[-1]
        return found.group(1)

    def last_link(self, to: str) -> str:
        found = re.search(r"(/account/set-password/[\w-]+)", self.mails(to)[-1])
        assert found
        return self.url + found.group(1)

    def add_ped(self) -> str:
        """The first PED coordinator, as `aip users add` makes one; returns the link."""
        c = self.core
        add_user(PED, "ped_coordinator", uow=c.uow, name="Maria Lopez", mailer=c.mailer,
                 site=c.site, policy=c.accounts)  # fmt: skip
        return self.last_link(PED)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with smtp_server() as inbox:
        settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'aip.db'}",
                            secret_key=b"e2e-secret", workbook_password="protect",
                            base_url=url, smtp_host="127.0.0.1", smtp_port=inbox.port,
                            environment={})  # fmt: skip
        core = App(settings, ProgramConfig())
        assert isinstance(core.mailer, SmtpMailer)
        seed_reference(core.engine)
        server = make_server("127.0.0.1", port, create_app(core), threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield Served(core, url, inbox)
        server.shutdown()
        thread.join(timeout=10)
        core.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # bypass_csp lets the test inject axe-core; the portal's own pages never need it
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def check(page: Page, name: str) -> None:
    """Photograph the page and fail on any serious or critical axe-core violation."""
    page.wait_for_load_state("load")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target).join(', '))"
    )
    assert found == [], f"{name}: {found}"
    assert "Traceback" not in page.content()
    shown = page.locator("body").inner_text()
    left = re.findall(r"\{y\d\}|\{\{|\{%", shown)  # a placeholder nobody filled in
    assert not left, f"{name}: {left}"


def error_summary(page: Page) -> str:
    return page.locator("#error-summary").inner_text()


def field_error(page: Page, name: str) -> str:
    return page.locator(f"#{name}-error").inner_text()
