"""Turning the identities a person typed into the values a column was stored with.

A person types `Budi.Santoso@Mail.com ` or `0812-3456-7890`; the shop stored `budi.santoso@mail.com`
and `+6281234567890`. The engine looks up the forms the column can hold, as bound values, so an
index on the column is still used; only emails stored in any case (`any_case`) need an
expression, `lower(trim(column))`, which an expression index serves.

    column = IdentityColumn(column="hp", kind="phone", stored="any_prefix")
    lookup_values(column, ["0812 3456 7890"])
    # ['+6281234567890', '6281234567890', '081234567890']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from jagadata.datastores.results import Person
from jagadata.identities import (
    InvalidIdentity,
    normalise_email,
    normalise_nik,
    normalise_phone,
    normalise_reference,
)
from jagadata.manifest.mapping import IdentityColumn, IdentityKind, Stored


def _phone_forms(value: str, stored: Stored) -> list[str]:
    e164 = normalise_phone(value)
    if not e164.startswith("+62"):
        return [e164, e164.lstrip("+")]  # a foreign number: stored with or without '+'
    digits = e164[1:]
    national = "0" + e164[3:]
    forms = {
        Stored.E164: [e164],
        Stored.DIGITS: [digits],
        Stored.NATIONAL: [national],
    }.get(stored, [e164, digits, national])
    return forms


def _forms(column: IdentityColumn, value: str) -> list[str]:
    """Every form `value` may have been stored in, per the column's `stored` rule."""
    kind, stored = column.kind, column.stored
    if kind is IdentityKind.EMAIL:
        if stored is Stored.EXACT:
            return [value.strip()]
        return [normalise_email(value)]
    if kind is IdentityKind.PHONE:
        if stored is Stored.EXACT:
            return [value.strip()]
        return _phone_forms(value, stored)
    if kind is IdentityKind.NIK:
        return [normalise_nik(value)]
    typed = value.strip()
    if stored is Stored.ANY_CASE:
        return [normalise_reference(typed)]
    return [typed]


def values_given(column: IdentityColumn, person: Person) -> list[str]:
    """What the person typed for this column: under its identifier's id when the mapping names
    one, else under the column's kind."""
    key = column.identifier or column.kind.value
    return list(person.identities.get(key, ()))


def lookup_values(column: IdentityColumn, typed: Iterable[str]) -> list[str]:
    """The distinct stored forms to look up; values that cannot be this kind are left out
    (an email typed where a phone is asked can match nothing)."""
    found: dict[str, None] = {}
    for value in typed:
        try:
            for form in _forms(column, value):
                found.setdefault(form, None)
        except InvalidIdentity:
            continue
    return list(found)


def lookup_for_people(column: IdentityColumn, people: Sequence[Person]) -> list[str]:
    """The stored forms of every person's identities for this column (a bulk plan)."""
    return lookup_values(column, (v for person in people for v in values_given(column, person)))


def uses_expression(column: IdentityColumn) -> bool:
    """True when the match needs lower(trim(column)) rather than the bare column."""
    return column.stored is Stored.ANY_CASE
