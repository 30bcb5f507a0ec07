"""However a person writes their email or WhatsApp number, it is the same identity."""

from __future__ import annotations

import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from jagadata.identities import (
    IdentityKind,
    InvalidIdentity,
    identity_hash,
    normalise_email,
    normalise_identity,
    normalise_nik,
    normalise_phone,
    normalise_reference,
)

FIXED_MESSAGES = {"not an email address", "not a phone number", "not a possible phone number",
                  "a NIK has 16 digits", "empty reference"}
local = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}", fullmatch=True)
domain = st.from_regex(r"[a-z0-9-]{1,20}\.(co\.id|id|com|ac\.id)", fullmatch=True)
subscriber = st.from_regex(r"8[1-9][0-9]{7,10}", fullmatch=True)  # Indonesian mobile, no prefix


@given(
    local,
    domain,
    st.sampled_from([str.upper, str.title, str.lower]),
    st.sampled_from(["", " ", "  ", "\t"]),
)
def test_email_case_and_spaces_do_not_matter(user: str, host: str, case: object, pad: str) -> None:
    canonical = normalise_email(f"{user}@{host}")
    assert normalise_email(f"{pad}{case(user)}@{case(host)}{pad}") == canonical  # type: ignore[operator]
    assert normalise_email(canonical) == canonical


@given(subscriber)
def test_phone_prefixes_0_62_and_plus62_are_one_number(number: str) -> None:
    forms = [
        f"0{number}",
        f"62{number}",
        f"+62{number}",
        f"+62 {number[:3]} {number[3:7]} {number[7:]}",
        f"0{number[:3]}-{number[3:7]}-{number[7:]}",
        f"(+62) {number}",
        f"0062{number}",
    ]
    normalised = {normalise_phone(form) for form in forms}
    assert normalised == {f"+62{number}"}
    assert normalise_phone(f"+62{number}") == f"+62{number}"


@given(st.text(max_size=30))
def test_normalisers_reject_garbage_with_invalid_identity_only(text: str) -> None:
    for kind in IdentityKind:
        try:
            value = normalise_identity(kind, text)
        except InvalidIdentity as error:  # a fixed sentence: the value itself is never echoed
            assert str(error) in FIXED_MESSAGES
        else:
            assert normalise_identity(kind, value) == value


def test_foreign_numbers_keep_their_country() -> None:
    assert normalise_phone("+65 9123 4567") == "+6591234567"


@pytest.mark.parametrize("value", ["", "budi", "budi@", "@mail.id", "a@b@c.id", "budi@mail"])
def test_bad_emails(value: str) -> None:
    with pytest.raises(InvalidIdentity):
        normalise_email(value)


def test_nik_and_reference() -> None:
    assert normalise_nik("3404 1234 5678 0001") == "3404123456780001"
    with pytest.raises(InvalidIdentity):
        normalise_nik("34041234")
    assert normalise_reference(" SIS-2026 001 ") == "sis-2026001"


def test_identity_hash_is_keyed_and_matches_every_form() -> None:
    fake = Faker("id_ID")
    fake.seed_instance(7)
    email = fake.email()
    assert identity_hash("email", email.upper()) == identity_hash("email", f" {email} ")
    assert len(identity_hash("phone", "0812 3456 7890")) == 64
    assert identity_hash("phone", "0812 3456 7890") == identity_hash("phone", "+6281234567890")
    assert identity_hash("email", email) != identity_hash("reference", email)
