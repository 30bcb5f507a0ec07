"""Tenant isolation in one place: every row of an organisation is reached through a session
that knows its organisation, or not at all.

A model that belongs to an organisation derives from `OrgScoped`. A session carries its
organisation in `session.info["organisation_id"]` (see `scoped_session`, `scope`); every ORM
SELECT, bulk UPDATE and bulk DELETE it runs is then narrowed to that organisation, joins and
relationship loads included. A statement that touches an organisation's rows in a session with
no organisation raises `TenantScopeMissing`, unless the session is marked cross-organisation
(`session.info["all_organisations"] = True`) for system work such as `jagadata audit verify`.
A session never writes a row of another organisation than its own.

Raw SQL (`text()`) is not inspected: it is the explicit way out, and reviewed as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import ColumnElement, ForeignKey, event
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.selectable import TableClause

ORGANISATION_KEY: Final = "organisation_id"
ALL_ORGANISATIONS_KEY: Final = "all_organisations"


class TenantIsolationError(Exception):
    """A statement or a write would cross the boundary between organisations."""


class TenantScopeMissing(TenantIsolationError):
    """An organisation's rows were queried in a session that has no organisation."""


class OrganisationMismatch(TenantIsolationError):
    """A session of one organisation was about to write or read another organisation's rows."""


_SCOPED_CLASSES: list[type[Any]] = []


class OrgScoped:
    """A row that belongs to one organisation; sessions see only their organisation's rows."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _SCOPED_CLASSES.append(cls)

    @declared_attr
    def organisation_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)


def _scoped_table_names() -> frozenset[str]:
    return frozenset(
        table.name
        for cls in _SCOPED_CLASSES
        if isinstance(table := getattr(cls, "__table__", None), TableClause)
    )


def session_organisation(session: Session) -> int | None:
    """The organisation the session is bound to, or None."""
    value = session.info.get(ORGANISATION_KEY)
    return int(value) if value is not None else None


def is_cross_organisation(session: Session) -> bool:
    return bool(session.info.get(ALL_ORGANISATIONS_KEY))


def scope(session: Session, organisation_id: int) -> Session:
    """Bind `session` to one organisation for the rest of its life (it cannot be re-bound)."""
    current = session_organisation(session)
    if current is not None and current != organisation_id:
        raise OrganisationMismatch(
            f"this session belongs to organisation {current}; open a new one for {organisation_id}"
        )
    session.info[ORGANISATION_KEY] = organisation_id
    return session


def scoped_session(factory: sessionmaker[Session], organisation_id: int) -> Session:
    """A new session that sees and writes only `organisation_id`'s rows."""
    return scope(factory(), organisation_id)


def cross_organisation_session(factory: sessionmaker[Session]) -> Session:
    """A new session for system work over every organisation (the CLI's verify, migrations)."""
    session = factory()
    session.info[ALL_ORGANISATIONS_KEY] = True
    return session


@contextmanager
def acting_for(session: Session, organisation_id: int | None) -> Iterator[Session]:
    """Narrow an unbound session to the organisation a service function was given explicitly.

    A session already bound keeps its own organisation, so asking it for another
    organisation's rows finds nothing. `None` (rows of no organisation) needs a
    cross-organisation session.
    """
    if session_organisation(session) is not None or organisation_id is None:
        yield session
        return
    session.info[ORGANISATION_KEY] = organisation_id
    try:
        yield session
    finally:
        del session.info[ORGANISATION_KEY]


@contextmanager
def across_organisations(session: Session) -> Iterator[Session]:
    """Let an unbound session run a statement over every organisation (an operator's summary);
    a bound session keeps seeing only its own organisation."""
    if is_cross_organisation(session):
        yield session
        return
    session.info[ALL_ORGANISATIONS_KEY] = True
    try:
        yield session
    finally:
        del session.info[ALL_ORGANISATIONS_KEY]


def ensure_reachable(session: Session, organisation_id: int | None) -> None:
    """Raise unless `session` may read every row of `organisation_id` (None: of no organisation)."""
    bound = session_organisation(session)
    if bound is not None:
        if bound != organisation_id:
            raise OrganisationMismatch(
                f"this session belongs to organisation {bound}, not {organisation_id}"
            )
        return
    if organisation_id is None and not is_cross_organisation(session):
        raise TenantScopeMissing(
            "rows of no organisation are read in a cross-organisation session only"
        )


def touched_scoped_tables(statement: Any) -> set[str]:
    """Names of organisation-scoped tables a statement reads or writes, joins included."""
    names = _scoped_table_names()
    found: set[str] = set()
    for element in visitors.iterate(statement):
        table = element if isinstance(element, TableClause) else None
        if table is None and isinstance(element, ColumnClause):
            table = element.table if isinstance(element.table, TableClause) else None
        if table is not None and table.name in names:
            found.add(table.name)
    return found


def _organisation_criteria(organisation_id: int) -> Any:
    def criteria(cls: type[Any]) -> ColumnElement[bool]:
        column: ColumnElement[Any] = cls.organisation_id
        return column == organisation_id

    return with_loader_criteria(
        OrgScoped, criteria, include_aliases=True, track_closure_variables=True
    )


@event.listens_for(Session, "do_orm_execute")
def _narrow_to_organisation(state: ORMExecuteState) -> None:
    organisation_id = session_organisation(state.session)
    if not (state.is_select or state.is_update or state.is_delete or state.is_insert):
        return
    if organisation_id is None:
        _refuse_unscoped(state)
        return
    if not state.is_orm_statement:
        touched = touched_scoped_tables(state.statement)
        if touched:
            raise OrganisationMismatch(
                f"a Core statement on {', '.join(sorted(touched))} cannot be narrowed to the "
                "session's organisation; query the ORM entity instead"
            )
        return
    if state.is_insert:
        if touched_scoped_tables(state.statement):
            _check_inserted_rows(state, organisation_id)
        return
    state.statement = state.statement.options(_organisation_criteria(organisation_id))


def _refuse_unscoped(state: ORMExecuteState) -> None:
    if is_cross_organisation(state.session) or state.is_insert:
        return
    if state.is_column_load or state.is_relationship_load:
        return  # loads keyed by an object already held, whose organisation was chosen
    touched = touched_scoped_tables(state.statement)
    if touched:
        raise TenantScopeMissing(
            f"{', '.join(sorted(touched))} queried without an organisation: bind the session "
            "with tenancy.scope(session, organisation_id), or mark it cross-organisation"
        )


def _check_inserted_rows(state: ORMExecuteState, organisation_id: int) -> None:
    rows: Iterable[Mapping[str, Any]]
    parameters = state.parameters
    if parameters is None:
        statement: Any = state.statement
        rows = [statement.compile().params]
    elif isinstance(parameters, Mapping):
        rows = [parameters]
    else:
        rows = parameters
    for row in rows:
        if row.get(ORGANISATION_KEY) != organisation_id:
            raise OrganisationMismatch(
                f"a row for organisation {row.get(ORGANISATION_KEY)} was inserted in a session "
                f"of organisation {organisation_id}"
            )


@event.listens_for(Session, "before_flush")
def _refuse_foreign_rows(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    organisation_id = session_organisation(session)
    if organisation_id is None:
        return  # a new row states its own organisation; reads are what an unbound session lacks
    for instance in (*session.new, *session.dirty):
        if isinstance(instance, OrgScoped) and instance.organisation_id != organisation_id:
            raise OrganisationMismatch(
                f"{type(instance).__name__} of organisation {instance.organisation_id} cannot be "
                f"written in a session of organisation {organisation_id}"
            )
