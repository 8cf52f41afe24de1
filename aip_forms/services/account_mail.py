"""The words of every message the portal's account use cases send, in one place.

Each function returns a `Mail`; every message names the portal and its address (`site`:
AIP_BASE_URL and the program profile) so that a reader can go there themselves instead of
trusting a link, and who answers for accounts is the profile's coordinator.
"""

from __future__ import annotations

from aip_forms.mail import Mail
from aip_forms.site import Site


def _mail(to: str, subject: str, site: Site, *paragraphs: str) -> Mail:
    footer = (
        f"{site.portal_name}: {site.base_url}/\n"
        "This message was sent automatically; replies are not read."
    )
    return Mail([to], subject, "\n\n".join([*paragraphs, footer]) + "\n")


def set_password_link(site: Site, token: str) -> str:
    return f"{site.base_url}/account/set-password/{token}"


def registration_received(to: str, site: Site, name: str) -> Mail:
    return _mail(
        to,
        "Your registration request was received",
        site,
        f"Hello {name},",
        f"We received your request for an account. A {site.coordinator} reviews every "
        "request; you will get another email when it is approved or denied.",
        "If you did not ask for an account, you can ignore this message.",
    )


def registration_not_needed(to: str, site: Site) -> Mail:
    """To an address that has an account or a request already: no new request is made."""
    return _mail(
        to,
        "Your registration request was received",
        site,
        "Hello,",
        "Someone asked for an account with this email address. This address already has an "
        "account, or a request that is waiting for review, so nothing new was created.",
        f"To sign in, go to {site.base_url}/account/sign-in. If you forgot your password, use "
        f"{site.base_url}/account/reset. If you did not ask for this, you can ignore this message.",
    )


def registration_waiting(to: str, site: Site, who: str) -> Mail:
    return _mail(
        to,
        "A registration request is waiting for review",
        site,
        f"{who} asked for an account.",
        f"Approve or deny it at {site.base_url}/admin/registrations.",
    )


def registration_approved(to: str, site: Site, name: str, role: str) -> Mail:
    return _mail(
        to,
        "Your account was approved",
        site,
        f"Hello {name},",
        f"Your request was approved: you are a {role}. Sign in at {site.base_url}/account/sign-in "
        "with your email and the password you chose; a code will be emailed to you each time.",
    )


def registration_denied(to: str, site: Site, name: str, reason: str) -> Mail:
    why = f"The reason given: {reason}" if reason else "No reason was given."
    return _mail(
        to,
        "Your registration request was denied",
        site,
        f"Hello {name},",
        f"Your request for an account was denied. {why}",
        f"If you think this is a mistake, contact your {site.coordinator}.",
    )


def sign_in_code(to: str, site: Site, code: str, minutes: int) -> Mail:
    return _mail(
        to,
        "Your sign-in code",
        site,
        f"Your sign-in code is {code}",
        f"It works once, for {minutes} minutes, in the sign-in you just started.",
        "If you did not try to sign in, someone knows your password: change it at "
        f"{site.base_url}/account/reset.",
    )


def password_link(to: str, site: Site, token: str, *, hours: float, new: bool) -> Mail:
    link = set_password_link(site, token)
    lasts = f"{round(hours * 60)} minutes" if hours < 1 else f"{round(hours)} hours"
    if new:
        return _mail(
            to,
            "Set your password",
            site,
            "An account was made for you.",
            f"Choose your password here: {link}",
            f"The link works once, for {lasts}.",
        )
    return _mail(
        to,
        "Reset your password",
        site,
        "Someone asked to reset the password of this account.",
        f"Choose a new password here: {link}",
        f"The link works once, for {lasts}. If you did not ask, ignore this message: "
        "your password stays as it is.",
    )


def no_account(to: str, site: Site) -> Mail:
    return _mail(
        to,
        "Reset your password",
        site,
        "Someone asked to reset the password of an account with this email address, but "
        "there is no active account with it.",
        f"To ask for an account, go to {site.base_url}/account/register. If you did not ask, "
        "ignore this message.",
    )


def password_changed(to: str, site: Site) -> Mail:
    return _mail(
        to,
        "Your password was changed",
        site,
        "The password of your account was just changed.",
        f"If you did not change it, reset it now at {site.base_url}/account/reset and tell your "
        f"{site.coordinator}.",
    )
