"""argon2id: a password verifies, a wrong one does not, a hash made with weaker parameters is
replaced at the next sign-in, and an unknown account costs the same work."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type
from faker import Faker

from jagadata.accounts import passwords


@pytest.fixture
def password(faker_id: Faker) -> str:
    return "-".join(faker_id.words(4)) + "7"


def test_a_stored_hash_is_argon2id_and_verifies(password: str) -> None:
    stored = passwords.hash_password(password)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=1$")
    assert password not in stored
    assert passwords.verify_password(stored, password) == (True, None)


def test_a_wrong_password_does_not_verify(password: str) -> None:
    stored = passwords.hash_password(password)
    assert passwords.verify_password(stored, password + "x") == (False, None)
    assert passwords.verify_password(stored, password.upper()) == (False, None)


def test_a_hash_with_older_parameters_is_replaced_on_success(password: str) -> None:
    older = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    stored = older.hash(password)
    matches, new_hash = passwords.verify_password(stored, password)
    assert matches
    assert new_hash is not None and new_hash.startswith("$argon2id$v=19$m=65536,t=3,p=1$")
    assert passwords.verify_password(new_hash, password) == (True, None)
    assert passwords.verify_password(stored, password + "x") == (False, None)


def test_no_stored_hash_never_verifies(password: str) -> None:
    assert passwords.verify_password(None, password) == (False, None)
    assert passwords.verify_password(None, "") == (False, None)


@pytest.mark.parametrize(
    "candidate",
    ["short-pass1", "aaaaaaaaaaaaaaaa", "ababababababab", "x" * 1025],
)
def test_weak_passwords_are_refused_with_a_reason(candidate: str) -> None:
    with pytest.raises(passwords.WeakPassword) as refused:
        passwords.check_new_password(candidate)
    assert refused.value.reason


def test_the_email_is_not_a_password(faker_id: Faker) -> None:
    email = faker_id.user_name() + "-panjang@example.com"
    with pytest.raises(passwords.WeakPassword):
        passwords.check_new_password(email.upper(), email=email)
    passwords.check_new_password("kopi susu gula aren", email=email)
