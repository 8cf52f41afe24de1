"""Mail through a real SMTP server (aiosmtpd on loopback) and into the outbox folder; a
server that is down or refuses is `Unavailable`, with one line that names it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aip_forms.bootstrap import App
from aip_forms.config import Settings
from aip_forms.errors import InvalidInput, Unavailable
from aip_forms.mail import Mail, OutboxMailer, SmtpMailer
from tests.support.smtp import Inbox, free_port, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with smtp_server() as inbox:
        yield inbox.port, inbox


def _free_port() -> int:
    return free_port()


def test_the_composition_root_sends_through_the_configured_smtp_server(
    smtp: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp
    app = App.from_env(
        {
            "AIP_HOME": str(tmp_path),
            "AIP_SECRET_KEY": "k",
            "AIP_SMTP_HOST": "127.0.0.1",
            "AIP_SMTP_PORT": str(port),
            "AIP_MAIL_FROM": "noreply@ped.nm.gov",
        }
    )
    app.mailer.send(Mail(["garcia@belen.k12.nm.us"], "Your sign-in code", "Code: 483920"))
    (message,) = inbox.messages
    assert message["From"] == "noreply@ped.nm.gov"
    assert message["To"] == "garcia@belen.k12.nm.us"
    assert message["Subject"] == "Your sign-in code"
    assert message.get_content().strip() == "Code: 483920"


def test_a_server_that_is_down_is_unavailable_with_one_line() -> None:
    mailer = SmtpMailer("127.0.0.1", _free_port(), "noreply@ped.nm.gov", timeout=5)
    with pytest.raises(Unavailable, match=r"mail server 127\.0\.0\.1:\d+ did not take") as caught:
        mailer.send(Mail(["a@nm.org"], "x", "y"))
    assert "\n" not in str(caught.value)


def test_the_default_is_an_outbox_folder_in_order(tmp_path: Path) -> None:
    settings = Settings.from_env({"AIP_HOME": str(tmp_path), "AIP_SECRET_KEY": "k"})
    mailer = App(settings).mailer
    assert isinstance(mailer, OutboxMailer)
    mailer.send(Mail(["a@nm.org"], "Registration received", "We will review it."))
    mailer.send(Mail(["b@nm.org"], "Registration approved", "Sign in at ..."))
    sent = mailer.sent()
    assert [m["Subject"] for m in sent] == ["Registration received", "Registration approved"]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [
        "0001-registration-received.eml",
        "0002-registration-approved.eml",
    ]


def test_an_outbox_that_cannot_be_written_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(Unavailable, match="mail could not be written"):
        OutboxMailer(blocker, "x@nm.org").send(Mail(["a@nm.org"], "s", "b"))


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"AIP_SMTP_HOST": "mail", "AIP_SMTP_TLS": "ssl3"}, "AIP_SMTP_TLS"),
        ({"AIP_SMTP_HOST": "mail", "AIP_SMTP_PORT": "smtp"}, "AIP_SMTP_PORT"),
        ({"AIP_SMTP_HOST": "mail", "AIP_SMTP_PORT": "70000"}, "AIP_SMTP_PORT"),
    ],
)
def test_a_mail_setting_it_cannot_use_is_refused_naming_it(
    env: dict[str, str], names: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match=names):
        assert App.from_env({"AIP_HOME": str(tmp_path), "AIP_SECRET_KEY": "k", **env}).mailer
