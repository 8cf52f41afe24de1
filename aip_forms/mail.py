"""Mail: the interface use cases send through, and its two adapters.

- `OutboxMailer` writes each message as an `.eml` file into a folder (the default, under
  `$AIP_HOME/outbox`): a demo or a test reads the codes and links from there;
- `SmtpMailer` hands each message to an SMTP server (`AIP_SMTP_HOST`, `AIP_SMTP_PORT`,
  `AIP_SMTP_TLS=starttls`, `AIP_SMTP_USER`, `AIP_SMTP_PASSWORD`).

SMTP and socket errors stop here: callers see `Unavailable` with a one-line reason.
"""

from __future__ import annotations

import itertools
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from aip_forms.errors import InvalidInput, Unavailable


@dataclass(frozen=True)
class Mail:
    to: Sequence[str]
    subject: str
    body: str
    # set by the outbox, the same on every try: a copy sent again is the same message
    message_id: str = ""


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = mail.message_id or new_message_id(sender)
    message.set_content(mail.body)
    return message


def new_message_id(sender: str) -> str:
    return make_msgid(domain=sender.rpartition("@")[2] or "localhost")


class OutboxMailer:
    """Messages as files: `<folder>/0001-<subject>.eml`, in the order sent."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, mail: Mail) -> None:
        message = _message(mail, self.sender)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            taken = {p.name.split("-", 1)[0] for p in self.folder.glob("*.eml")}
            for n in itertools.count(len(taken) + 1):
                name = f"{n:04d}-{_slug(mail.subject)}.eml"
                try:
                    with (self.folder / name).open("xb") as f:
                        f.write(bytes(message))
                    return
                except FileExistsError:
                    continue
        except OSError as e:
            raise Unavailable(f"mail could not be written to {self.folder}: {e.strerror}") from e

    def sent(self) -> list[EmailMessage]:
        """The messages in the outbox, oldest first (for demos and tests)."""
        from email import message_from_bytes, policy

        return [
            message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(self.folder.glob("*.eml"))
        ]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())[:40].strip("-") or "mail"


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout = timeout

    def send(self, mail: Mail) -> None:
        message = _message(mail, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as e:
            reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
            raise Unavailable(
                f"mail server {self.host}:{self.port} did not take the message: {reason}"
            ) from e


def mailer_for(
    *,
    smtp_host: str,
    smtp_port: int | None,
    smtp_tls: str,
    smtp_user: str,
    smtp_password: str,
    sender: str,
    outbox: Path,
) -> Mailer:
    """SMTP when a host is set (AIP_SMTP_*), else `.eml` files in the outbox folder."""
    if not smtp_host:
        return OutboxMailer(outbox, sender)
    tls = smtp_tls.strip().lower() or "none"
    if tls not in ("none", "starttls"):
        raise InvalidInput(f"AIP_SMTP_TLS must be starttls or none, not {smtp_tls!r}")
    return SmtpMailer(
        smtp_host,
        smtp_port or (587 if tls == "starttls" else 25),
        sender,
        starttls=tls == "starttls",
        username=smtp_user or None,
        password=smtp_password or None,
    )
