"""Who a breach affects, computed from the manifest's datastore mappings.

For each system involved that has a `datastore:` mapping, every table with identity columns
holds people: one row is one person (the same person in two tables or two systems is counted
once, by the keyed hash of their identity). A person is affected when the exposed categories
are in their row, or in a row one reference away: rows referring to theirs (an order, an
assessment, a guardian) or, with `follow: parent`, the row theirs refers to. Only the keyed
hash, the categories, and the email address or WhatsApp number needed to write to them are
kept; nothing else leaves the organisation's database.

Rules (docs/breach.md):
- **children** (Art. 4(2)(e), 25): people found in a table holding a category of specific type
  `child`, or one that concerns only data subject groups marked `children: true`. A child
  without a contact of their own is written to through the contact in a row that refers to
  theirs (their parent or guardian), when the mapping has one;
- **specific data** (Art. 4(2)): people whose exposed categories include one of sensitivity
  `specific`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from jagadata.crypto import get_keyring
from jagadata.datastores.errors import DatastoreError, driver_reason
from jagadata.datastores.service import resolve_url
from jagadata.datastores.sql import STATEMENT_FAILED, SqlConnector, connect, sa_table
from jagadata.identities import InvalidIdentity, identity_hash, normalise_identity
from jagadata.law.facts import SpecificType
from jagadata.manifest.mapping import Datastore, Follow, TableMap
from jagadata.manifest.schema import Manifest, System

LANGUAGE_COLUMNS: Final = ("language", "locale", "lang", "bahasa")
"""A column of an identity table with one of these names gives the person's language."""
KNOWN_LANGUAGES: Final = ("id", "en", "fr")
READ_BATCH: Final = 2000

Contact = tuple[str | None, str | None]
"""(email, phone in E.164), either may be missing."""


@dataclass
class AffectedPerson:
    ref: str
    categories: set[str] = field(default_factory=set)
    systems: set[str] = field(default_factory=set)
    child: bool = False
    specific: bool = False
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    via_guardian: bool = False
    """The contact is a parent's or guardian's, found in a row referring to the child's."""

    def merge(self, other: AffectedPerson) -> None:
        self.categories |= other.categories
        self.systems |= other.systems
        self.child = self.child or other.child
        self.specific = self.specific or other.specific
        if not (self.email or self.phone):
            self.email, self.phone = other.email, other.phone
            self.via_guardian = other.via_guardian
        self.language = self.language or other.language


@dataclass
class Assessment:
    """The people affected and the systems whose people could not be counted."""

    people: list[AffectedPerson]
    unmapped: list[str]

    def counts(self) -> dict[str, Any]:
        """What the register shows: numbers only, never a person."""
        categories: Counter[str] = Counter()
        systems: Counter[str] = Counter()
        for person in self.people:
            categories.update(person.categories)
            systems.update(person.systems)
        return {
            "total": len(self.people),
            "children": sum(p.child for p in self.people),
            "specific": sum(p.specific for p in self.people),
            "reachable": sum(bool(p.email or p.phone) for p in self.people),
            "by_category": dict(sorted(categories.items())),
            "by_system": dict(sorted(systems.items())),
            "unmapped_systems": list(self.unmapped),
        }


def children_categories(manifest: Manifest) -> set[str]:
    """Categories that mark a person as a child (the rule above)."""
    child_groups = {g.id for g in manifest.data_subjects if g.children}
    return {
        category.id
        for category in manifest.data.categories
        if category.specific_type == SpecificType.CHILD
        or (category.subjects and set(category.subjects) <= child_groups)
    }


def assess(
    session: Session,
    organisation_id: int,
    manifest: Manifest,
    systems: Sequence[str],
    categories: Sequence[str],
) -> Assessment:
    """The people affected by a breach of `categories` (all of a system's if empty) in
    `systems`, read from each mapped database in one consistent snapshot."""
    people: dict[str, AffectedPerson] = {}
    unmapped: list[str] = []
    for system in _systems(manifest, systems):
        if system.datastore is None:
            unmapped.append(system.id)
            continue
        involved = (
            set(categories) & set(system.categories) if categories else set(system.categories)
        )
        url = resolve_url(
            session, organisation_id, system.datastore, org_slug=manifest.organisation.slug
        )
        for person in _people_of(url, system.id, system.datastore, involved, manifest):
            if person.ref in people:
                people[person.ref].merge(person)
            else:
                people[person.ref] = person
    return Assessment(sorted(people.values(), key=lambda p: p.ref), unmapped)


def _systems(manifest: Manifest, ids: Sequence[str]) -> Iterator[System]:
    wanted = set(ids)
    return (s for s in manifest.systems if s.id in wanted)


def _people_of(
    url: str, system_id: str, datastore: Datastore, involved: set[str], manifest: Manifest
) -> Iterator[AffectedPerson]:
    child_categories = children_categories(manifest)
    specific = {c.id for c in manifest.data.categories if manifest.is_specific(c.id)}
    with connect(url, schema=datastore.connection.schema_name) as conn, conn.reading():
        for table in datastore.tables:
            if not table.identities:
                continue
            linked = _linked(conn, datastore, table, involved)
            is_child = any(c.category in child_categories for c in table.columns)
            for person in _rows_of(conn, system_id, table, involved, linked):
                person.child = is_child
                person.specific = bool(person.categories & specific)
                yield person


def _related(
    datastore: Datastore, table: TableMap
) -> Iterator[tuple[TableMap, list[str], list[str], bool]]:
    """Tables whose rows belong to the person of `table`'s row, one step away: (that table,
    its columns matched, the columns of `table` they match, whether its rows refer to
    `table`'s). Rows referring to the person's (`follow: child`, an order, a guardian) and
    rows the person's row refers to (`follow: parent`, an address)."""
    for other in datastore.tables:
        for reference in other.references:
            if reference.table == table.name and reference.follow is Follow.CHILD:
                yield other, list(reference.columns), list(reference.to or table.key), True
    for reference in table.references:
        target = datastore.table(reference.table)
        if target is not None and reference.follow is Follow.PARENT:
            yield target, list(reference.to or target.key), list(reference.columns), False


Pointer = tuple[tuple[str, ...], tuple[str, ...]]
"""Columns of an identity table that related rows match, and the values they match."""


def _linked(
    conn: SqlConnector, datastore: Datastore, table: TableMap, involved: set[str]
) -> tuple[dict[Pointer, set[str]], dict[Pointer, Contact]]:
    """Per row of `table`: the involved categories in the rows related to it, and a contact
    found in the rows referring to it (a guardian's, for a child)."""
    categories: dict[Pointer, set[str]] = {}
    contacts: dict[Pointer, Contact] = {}
    for other, columns, to, referring in _related(datastore, table):
        held = [c for c in other.columns if c.category in involved]
        reachable = [
            i for i in other.identities if referring and i.kind.value in ("email", "phone")
        ]
        if not held and not reachable:
            continue
        names = list(
            dict.fromkeys(columns + [c.name for c in held] + [i.column for i in reachable])
        )
        for row in _read(conn, other, names):
            values = dict(zip(names, row, strict=True))
            if any(values[name] is None for name in columns):
                continue
            pointer = (tuple(to), tuple(str(values[name]) for name in columns))
            found = {c.category for c in held if values[c.name] is not None}
            if found:
                categories.setdefault(pointer, set()).update(found)
            contact = _contact(values, reachable)
            if any(contact) and pointer not in contacts:
                contacts[pointer] = contact
    return categories, contacts


def _rows_of(
    conn: SqlConnector,
    system_id: str,
    table: TableMap,
    involved: set[str],
    linked: tuple[dict[Pointer, set[str]], dict[Pointer, Contact]],
) -> Iterator[AffectedPerson]:
    categories, contacts = linked
    held = [c for c in table.columns if c.category in involved]
    groups = sorted({pointer[0] for pointer in (*categories, *contacts)})
    language = next((n for n in LANGUAGE_COLUMNS if n in conn.shapes(table)), None)
    names = list(
        dict.fromkeys(
            [*table.key, *(n for g in groups for n in g), *(i.column for i in table.identities)]
            + [c.name for c in held]
            + ([language] if language else [])
        )
    )
    for row in _read(conn, table, names):
        values = dict(zip(names, row, strict=True))
        found = {c.category for c in held if values[c.name] is not None}
        guardian: Contact = (None, None)
        for group in groups:
            pointer = (group, tuple(str(values[name]) for name in group))
            found |= categories.get(pointer, set())
            if not any(guardian):
                guardian = contacts.get(pointer, (None, None))
        if not found:
            continue
        email, phone = _contact(values, table.identities)
        via_guardian = not (email or phone) and any(guardian)
        if via_guardian:
            email, phone = guardian
        yield AffectedPerson(
            ref=_ref(values, table, system_id),
            categories=found,
            systems={system_id},
            email=email,
            phone=phone,
            language=_language(values.get(language) if language else None),
            via_guardian=via_guardian,
        )


def _read(conn: SqlConnector, table: TableMap, names: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Every row's `names` columns, streamed; a table or column the database does not have, or
    a refused statement, is one DatastoreError naming the table (nothing is changed)."""
    conn.check(table, names, where=table.name)
    t = sa_table(table, names, conn.schema)
    statement = sa.select(*(t.c[name] for name in names)).execution_options(
        stream_results=True, yield_per=READ_BATCH
    )
    try:
        for row in conn.connection.execute(statement):
            yield tuple(row)
    except SQLAlchemyError as error:
        raise DatastoreError(
            STATEMENT_FAILED, table=table.name, reason=driver_reason(error)
        ) from None


def _contact(values: dict[str, Any], identities: Iterable[Any]) -> Contact:
    email = phone = None
    for identity in identities:
        raw = values.get(identity.column)
        if raw is None or identity.kind.value not in ("email", "phone"):
            continue
        try:
            normalised = normalise_identity(identity.kind.value, str(raw))
        except InvalidIdentity:
            continue
        if identity.kind.value == "email":
            email = email or normalised
        else:
            phone = phone or normalised
    return email, phone


def _ref(values: dict[str, Any], table: TableMap, system_id: str) -> str:
    """The keyed hash of the person's first usable identity; of the row when none is."""
    for identity in table.identities:
        raw = values.get(identity.column)
        if raw is None:
            continue
        try:
            return identity_hash(identity.kind.value, str(raw))
        except InvalidIdentity:
            continue
    key = "/".join(str(values[name]) for name in table.key)
    return get_keyring().lookup_hash("breach-row", f"{system_id}/{table.name}/{key}")


def _language(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    code = raw.strip().lower()[:2]
    return code if code in KNOWN_LANGUAGES else None
