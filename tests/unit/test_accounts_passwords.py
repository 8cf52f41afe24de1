"""The password rules one by one (each with its own message), the common-password list,
names and email inside a password, the policy as configuration, argon2id hashing, and the
digests codes and links are stored as."""

from __future__ import annotations

import pytest

from aip_forms.config import AccountPolicy, ProgramConfig
from aip_forms.services import passwords
from aip_forms.services.fields import InvalidFields

POLICY = AccountPolicy()
GOOD = "Mesa-Verde#2026!"


def problems(password: str, **who: str) -> list[str]:
    return passwords.password_problems(password, POLICY, **who)


def test_a_good_password_has_no_problem() -> None:
    assert problems(GOOD, first_name="Ana", last_name="Garcia", email="ag@belen.org") == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Mesa-Verde#1", "must be at least 12 characters long"),  # 12 is fine: see below
        ("Mesa-Ver#26", "must be at least 12 characters long"),
        ("mesa-verde#2026!", "must contain an upper-case letter"),
        ("Mesa-Verde#Pinon!", "must contain a number"),
        ("MesaVerde2026Pinon", "must contain a special character such as ! @ # $ %"),
        ("Mesa Verde 2026 Pinon", "must contain a special character such as ! @ # $ %"),
        ("M#1" + "x" * 126, "must be at most 128 characters long"),
    ],
)
def test_each_rule_has_its_own_message(password: str, message: str) -> None:
    found = problems(password)
    if password == "Mesa-Verde#1":
        assert found == []  # exactly 12 characters meets the minimum
        return
    assert found == [message]


def test_every_broken_rule_is_listed() -> None:
    assert problems("zqvj") == [
        "must be at least 12 characters long",
        "must contain an upper-case letter",
        "must contain a number",
        "must contain a special character such as ! @ # $ %",
    ]


def test_one_of_the_most_common_passwords_is_refused_whatever_its_case() -> None:
    # on the list as "1580@welcamino"; capitalised, it meets every other rule
    assert "1580@welcamino" in passwords.common_passwords()
    assert problems("1580@Welcamino") == ["is one of the most common passwords; choose another"]
    assert len(passwords.common_passwords()) > 95_000
    assert passwords.common_passwords() is passwords.common_passwords()  # loaded once


def test_the_common_list_can_be_turned_off() -> None:
    policy = POLICY.model_copy(update={"refuse_common_passwords": False})
    assert passwords.password_problems("1580@Welcamino", policy) == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ana-Belen#2026!", "must not contain your first name"),
        ("GARCIA-belen#2026", "must not contain your last name"),
        ("x-nm.coord7#2026Z", "must not contain your email address"),
    ],
)
def test_a_password_with_the_users_name_or_email_is_refused(password: str, message: str) -> None:
    found = problems(password, first_name="Ana", last_name="Garcia", email="nm.coord7@belen.org")
    assert found == [message]


def test_names_shorter_than_three_letters_are_not_looked_for() -> None:
    assert problems("Bo-Li-Mesa#2026", first_name="Bo", last_name="Li", email="bl@x.org") == []


def test_the_rules_are_configuration() -> None:
    config = ProgramConfig.model_validate(
        {
            "accounts": {
                "password_min_length": 16,
                "password_needs_special": False,
                "password_max_age_days": 90,
            }
        }
    )
    policy = config.accounts
    assert passwords.password_problems("MesaVerde2026", policy) == [
        "must be at least 16 characters long"
    ]
    assert passwords.password_problems("MesaVerde2026Pinon", policy) == []
    assert policy.password_max_age_days == 90
    assert AccountPolicy().password_max_age_days == 60


def test_check_password_names_the_field() -> None:
    with pytest.raises(InvalidFields) as refused:
        passwords.check_password("abc", POLICY, field="new_password")
    assert list(refused.value.problems) == ["new_password"]
    assert str(refused.value).startswith("new_password: must be at least 12")


def test_hashes_are_argon2id_and_verify_only_the_right_password() -> None:
    stored = passwords.hash_password(GOOD)
    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert passwords.verify_password(stored, GOOD)
    assert not passwords.verify_password(stored, GOOD.lower())
    assert not passwords.verify_password(None, GOOD)
    assert not passwords.verify_password("not a hash", GOOD)
    assert passwords.hash_password(GOOD) != stored  # salted


def test_codes_and_tokens_are_random_and_stored_as_sha256() -> None:
    codes = {passwords.new_code() for _ in range(50)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 40
    token = passwords.new_token()
    assert len(token) >= 43 and token != passwords.new_token()
    stored = passwords.digest(token)
    assert len(stored) == 64 and token not in stored
    assert passwords.same_digest(stored, token)
    assert not passwords.same_digest(stored, token + "x")
    assert not passwords.same_digest(None, token)


def test_an_over_long_password_never_verifies_even_with_the_right_start() -> None:
    stored = passwords.hash_password("M#1" + "x" * 125)  # 128 characters: the most allowed
    assert passwords.verify_password(stored, "M#1" + "x" * 125)
    assert not passwords.verify_password(stored, "M#1" + "x" * 125 + "extra")
