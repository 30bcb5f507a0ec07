"""Which rows of the organisation's databases are past the period the manifest promises.

Each mapped table with a `retention:` block names its rule (`manifest.retention[]`) and the
column holding the rule's start event (`since`). A row is due when `since` + the rule's
duration lies before the sweep's moment — `since < moment - duration`, one set-based
condition with bound values and quoted names. A row whose `since` is empty (an account still
open) is not due. Periods that run `until consent_withdrawn` cannot be read from the table
alone: they are listed as waiting for the consent ledger, never skipped in silence.

Rows are never deleted under a legal hold (Art. 43(2)): the table is anonymised instead,
unless the hold's own rule is the one that expired. Rows of a person with an open request are
left alone until it is closed (the request may need them). Rules that disagree are listed
for a person to decide.

    plan = plan_retention(session, organisation, manifest)
    for count in plan.counts: print(count.sweep.table.name, count.due, count.sql)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.datastores import engine
from jagadata.datastores.automation import person_of
from jagadata.datastores.errors import DatastoreError, MappingError
from jagadata.datastores.masking import ColumnKind, ColumnShape
from jagadata.datastores.plan import Operation, compile_plan
from jagadata.datastores.results import Person
from jagadata.datastores.service import resolve_url
from jagadata.datastores.sql import Key, SqlConnector, connect, render, sa_table
from jagadata.i18n import N_, gettext
from jagadata.manifest.mapping import Datastore, TableMap
from jagadata.manifest.schema import Manifest, RetentionAction, RetentionRule
from jagadata.manifest.types import Duration, RetentionStart
from jagadata.orgs.models import Organisation
from jagadata.retention.models import RetentionProgress, RetentionRun, SweepStatus
from jagadata.rights.models import RightsRequest
from jagadata.rights.states import RequestStatus
from jagadata.rights.workflow import is_open

HELD_ANONYMISED: Final = N_(
    "anonymised instead of deleted: a legal hold keeps these rows ({legal_source})"
)
OPEN_REQUEST_SKIPPED: Final = N_(
    "left alone while the person's request is open; swept once it is closed"
)
NEEDS_LEDGER: Final = N_(
    "the period runs until consent is withdrawn: the consent ledger, not this table, says "
    "when; not swept"
)
NO_RETENTION: Final = N_("holds personal data but names no retention rule: never swept")
UNKNOWN_RULE: Final = N_("names the retention rule '{rule}', which the manifest does not define")
UNKNOWN_RULE_HINT: Final = N_("add the rule under retention:, or correct its id")
NOT_A_MOMENT: Final = N_("the column '{column}' holds no date or time, so no period can end")
NOT_A_MOMENT_HINT: Final = N_("name a DATE, DATETIME or TIMESTAMP column in retention.since")
RULES_DISAGREE: Final = N_(
    "rules '{first}' ({first_period}, {first_action}) and '{second}' ({second_period}, "
    "{second_action}) both cover {categories}"
)
CONSENT_VS_MINIMUM: Final = N_(
    "rule '{first}' ends {categories} when consent is withdrawn, but rule '{second}' keeps "
    "them for {second_period} ({legal_source})"
)
TABLE_UNDER_TWO_RULES: Final = N_(
    "swept under rule '{rule}' ({period}), but its columns {columns} hold {categories}, which "
    "rule '{other}' keeps for {other_period}"
)
HOLD_SHORTER: Final = N_(
    "its legal hold lasts {hold_period} (rule '{hold_rule}'), but the table is swept under "
    "'{rule}' after {period}"
)
DECIDE_HINT: Final = N_(
    "a person decides: change the periods in the manifest, or map the table to the rule "
    "that must win; jagadata does not choose"
)

BUILT_IN: Final = (
    (N_("requests never verified"), "rights.sweep"),
    (N_("copies of access bundles whose download link expired"), "rights.bundles_expire"),
    (N_("opt-in requests 30 days after they lapsed"), "consent.sweep_optins"),
    (N_("sign-in sessions (network and browser) 30 days after they ended"), "retention.sweep"),
    (N_("one-time sign-in links 30 days after they expired"), "retention.sweep"),
    (N_("rate-limit counters a day after their last use"), "retention.sweep"),
)
"""jagadata's own data with a period, and the job that already ends it: listed, not repeated."""


def threshold_for(duration: Duration, moment: datetime) -> datetime:
    """The start events before this moment are past `duration` at `moment` (calendar months
    and years, as `Duration.after` counts them)."""
    if duration.unit in ("h", "d", "w"):
        hours = {"h": 1, "d": 24, "w": 168}[duration.unit] * duration.amount
        return moment - timedelta(hours=hours)
    months = duration.amount * (12 if duration.unit == "y" else 1)
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    last_day = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


@dataclass(frozen=True)
class Sweep:
    """One table's expired rows under one rule, and what is done with them."""

    system: str
    datastore: Datastore
    table: TableMap
    rule: RetentionRule
    action: RetentionAction
    threshold: datetime
    reason: str | None = None
    """Why the action is not the rule's own (a legal hold), a msgid with `values`."""
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def since(self) -> str:
        assert self.table.retention is not None
        return self.table.retention.since

    @property
    def legal_source(self) -> str | None:
        if self.reason and self.table.hold is not None:
            return self.table.hold.legal_source
        return self.rule.legal_source.get("id") if self.rule.legal_source else None


@dataclass(frozen=True)
class Waiting:
    """A table that is not swept, and why (it needs the consent ledger, it names no rule)."""

    system: str
    table: str
    rule: str | None
    message: str


@dataclass(frozen=True)
class Conflict:
    """Rules that disagree about some data: for a person to decide."""

    where: str
    message: str
    values: Mapping[str, str]


@dataclass(frozen=True)
class Window:
    """Which expired rows a sweep still has to handle: rows already anonymised by an earlier
    finished run (start event before `floor`) are not handled again, except the `carried`
    ones it had to leave for an open request."""

    floor: datetime | None = None
    carried: tuple[Key, ...] = ()


@dataclass
class Count:
    sweep: Sweep
    due: int
    skipped: int
    sql: list[str]


@dataclass
class RetentionPlan:
    cutoff: datetime
    counts: list[Count] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    problems: list[tuple[str, DatastoreError]] = field(default_factory=list)
    built_in: tuple[tuple[str, str], ...] = BUILT_IN


# --- from the manifest ------------------------------------------------------------------


def mapped_systems(manifest: Manifest, system: str | None = None) -> list[tuple[str, Datastore]]:
    return [
        (s.id, s.datastore)
        for s in manifest.systems
        if s.datastore is not None and (system is None or s.id == system)
    ]


def sweeps_of(
    manifest: Manifest, cutoff: datetime, system: str | None = None
) -> tuple[list[Sweep], list[Waiting], list[tuple[str, DatastoreError]]]:
    """Every table's sweep at `cutoff`, the tables not swept and why, and unknown rules."""
    rules = {r.id: r for r in manifest.retention}
    sweeps: list[Sweep] = []
    waiting: list[Waiting] = []
    problems: list[tuple[str, DatastoreError]] = []
    for system_id, datastore in mapped_systems(manifest, system):
        for table in datastore.tables:
            retention = table.retention
            if retention is None:
                if table.columns:
                    waiting.append(Waiting(system_id, table.name, None, NO_RETENTION))
                continue
            rule = rules.get(retention.rule)
            if rule is None:
                where = f"{system_id}.{table.name}"
                problems.append(
                    (
                        where,
                        MappingError(
                            UNKNOWN_RULE, where=where, hint=UNKNOWN_RULE_HINT, rule=retention.rule
                        ),
                    )
                )
                continue
            period = rule.period
            if period.is_until_event and period.start is RetentionStart.CONSENT_WITHDRAWN:
                waiting.append(Waiting(system_id, table.name, rule.id, NEEDS_LEDGER))
                continue
            sweeps.append(_sweep(system_id, datastore, table, rule, cutoff))
    return sweeps, waiting, problems


def _sweep(
    system: str, datastore: Datastore, table: TableMap, rule: RetentionRule, cutoff: datetime
) -> Sweep:
    threshold = threshold_for(rule.period.duration, cutoff)
    hold = table.hold
    if rule.action is RetentionAction.DELETE and hold is not None and hold.retention != rule.id:
        return Sweep(
            system,
            datastore,
            table,
            rule,
            RetentionAction.ANONYMISE,
            threshold,
            HELD_ANONYMISED,
            {"legal_source": hold.legal_source},
        )
    return Sweep(system, datastore, table, rule, rule.action, threshold)


def conflicts_of(manifest: Manifest, system: str | None = None) -> list[Conflict]:
    """Rules that cover the same data with different periods or actions, tables whose columns
    fall under another rule than the one they are swept by, holds shorter than the sweep."""
    rules = {r.id: r for r in manifest.retention}
    conflicts = _rule_conflicts(manifest.retention)
    for system_id, datastore in mapped_systems(manifest, system):
        for table in datastore.tables:
            rule = rules.get(table.retention.rule) if table.retention else None
            if rule is None:
                continue
            where = f"{system_id}.{table.name}"
            conflicts += _table_conflicts(where, table, rule, manifest.retention)
            hold_rule = rules.get(table.hold.retention or "") if table.hold else None
            if hold_rule is not None and hold_rule.id != rule.id and _shorter(hold_rule, rule):
                conflicts.append(
                    Conflict(
                        where,
                        HOLD_SHORTER,
                        {
                            "hold_period": str(hold_rule.period),
                            "hold_rule": hold_rule.id,
                            "rule": rule.id,
                            "period": str(rule.period),
                        },
                    )
                )
    return conflicts


def _shorter(first: RetentionRule, second: RetentionRule) -> bool:
    return first.period.duration.approx_hours < second.period.duration.approx_hours


def _consent_based(rule: RetentionRule) -> bool:
    return rule.period.start is RetentionStart.CONSENT_WITHDRAWN


def _rule_conflicts(rules: Sequence[RetentionRule]) -> list[Conflict]:
    conflicts = []
    for i, first in enumerate(rules):
        for second in rules[i + 1 :]:
            shared = sorted(set(first.categories) & set(second.categories))
            if not shared or (
                str(first.period) == str(second.period) and first.action is second.action
            ):
                continue
            if _consent_based(second) and not _consent_based(first):
                first, second = second, first
            values = {
                "first": first.id,
                "second": second.id,
                "first_period": str(first.period),
                "second_period": str(second.period),
                "first_action": first.action.value,
                "second_action": second.action.value,
                "categories": ", ".join(shared),
                "legal_source": second.legal_source.get("id") if second.legal_source else "",
            }
            message = (
                CONSENT_VS_MINIMUM
                if _consent_based(first) and second.legal_source and not _consent_based(second)
                else RULES_DISAGREE
            )
            conflicts.append(Conflict(f"retention.{first.id}", message, values))
    return conflicts


def _table_conflicts(
    where: str, table: TableMap, rule: RetentionRule, rules: Sequence[RetentionRule]
) -> Iterator[Conflict]:
    """One conflict per other rule that keeps some of the table's columns for another period."""
    for other in rules:
        if str(other.period) == str(rule.period):
            continue
        columns = [
            c
            for c in table.columns
            if c.category not in rule.categories and c.category in other.categories
        ]
        if columns:
            yield Conflict(
                where,
                TABLE_UNDER_TWO_RULES,
                {
                    "rule": rule.id,
                    "period": str(rule.period),
                    "columns": ", ".join(c.name for c in columns),
                    "categories": ", ".join(dict.fromkeys(c.category for c in columns)),
                    "other": other.id,
                    "other_period": str(other.period),
                },
            )


# --- in the database --------------------------------------------------------------------


def bound_moment(moment: datetime, shape: ColumnShape, name: str) -> Any:
    """The moment as the `since` column holds it: a date, or a UTC time without zone; None
    when the column holds neither."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    if shape.kind is ColumnKind.DATE:
        return sa.bindparam(name, utc.date(), type_=sa.Date())
    if shape.kind is ColumnKind.DATETIME:
        return sa.bindparam(name, utc, type_=sa.DateTime())
    return None


def expired_condition(
    sweep: Sweep, t: sa.TableClause, shape: ColumnShape, window: Window
) -> sa.ColumnElement[bool]:
    """`since < threshold` (a NULL is never less), and within the window still to handle."""
    threshold = bound_moment(sweep.threshold, shape, "threshold")
    if threshold is None:
        raise MappingError(
            NOT_A_MOMENT,
            where=f"{sweep.system}.{sweep.table.name}",
            hint=NOT_A_MOMENT_HINT,
            column=sweep.since,
        )
    column = t.c[sweep.since]
    if window.floor is None:
        expired: sa.ColumnElement[bool] = column < threshold
        return expired
    return sa.and_(column < threshold, column >= bound_moment(window.floor, shape, "floor"))


def table_clause(sweep: Sweep, extra: Iterable[str] = ()) -> sa.TableClause:
    schema = sweep.datastore.connection.schema_name
    return sa_table(sweep.table, [*sweep.table.key, sweep.since, *extra], schema)


def check_live(conn: SqlConnector, sweep: Sweep) -> ColumnShape:
    """The `since` column's shape, or a MappingError when the table or a column is missing."""
    conn.check(sweep.table, [*sweep.table.key, sweep.since], f"{sweep.system}.{sweep.table.name}")
    return conn.shapes(sweep.table)[sweep.since]


def key_in(t: sa.TableClause, table: TableMap, keys: Sequence[Key]) -> sa.ColumnElement[bool]:
    if len(table.key) == 1:
        return t.c[table.key[0]].in_([k[0] for k in keys])
    condition: sa.ColumnElement[bool] = sa.tuple_(*(t.c[k] for k in table.key)).in_(
        [tuple(k) for k in keys]
    )
    return condition


def action_statement(sweep: Sweep, t: sa.TableClause) -> sa.Delete | sa.Update:
    """The statement run per batch of keys, for the plan's SQL (values as placeholders)."""
    placeholder = [(None,) * len(sweep.table.key)]
    where = key_in(t, sweep.table, placeholder)
    if sweep.action is RetentionAction.DELETE:
        return sa.delete(t).where(where)
    masked = [c.name for c in engine.masked_columns(sweep.table)]
    masked_t = table_clause(sweep, masked)
    return (
        sa.update(masked_t)
        .where(key_in(masked_t, sweep.table, placeholder))
        .values({c: sa.bindparam(f"masked_{c}", required=False) for c in masked})
    )


def count_due(
    conn: SqlConnector, sweep: Sweep, window: Window, held: set[Key]
) -> tuple[int, int, list[str]]:
    """How many rows are due, how many of them are left for an open request, and the SQL."""
    shape = check_live(conn, sweep)
    t = table_clause(sweep)
    condition = expired_condition(sweep, t, shape, window)
    if window.carried:
        condition = sa.or_(condition, key_in(t, sweep.table, list(window.carried)))
    statement = sa.select(sa.func.count()).select_from(t).where(condition)
    due = int(conn.connection.execute(statement).scalar_one())
    skipped = 0
    keys = sorted(held, key=repr)
    for i in range(0, len(keys), sweep.datastore.batch_size):
        chunk = keys[i : i + sweep.datastore.batch_size]
        among = (
            sa.select(sa.func.count())
            .select_from(t)
            .where(sa.and_(condition, key_in(t, sweep.table, chunk)))
        )
        skipped += int(conn.connection.execute(among).scalar_one())
    sql = [render(statement, conn.dialect), render(action_statement(sweep, t), conn.dialect)]
    return due, skipped, sql


def open_requests(session: Session, organisation_id: int) -> list[RightsRequest]:
    """The organisation's requests not yet closed: their people's rows wait."""
    statuses = [status.value for status in RequestStatus if is_open(status)]
    return list(
        session.scalars(
            select(RightsRequest).where(
                RightsRequest.organisation_id == organisation_id,
                RightsRequest.status.in_(statuses),
            )
        )
    )


def held_for_requests(
    conn: SqlConnector, system: str, datastore: Datastore, people: Sequence[Person]
) -> dict[str, set[Key]]:
    """Per table, the keys of rows belonging to a person with an open request, found with the
    engine's access plan (the same search a request runs)."""
    held: dict[str, set[Key]] = {}
    if not people:
        return held
    plan = compile_plan(datastore, Operation.ACCESS, list(people), system=system)
    for rows in engine.access(conn, plan):  # in its own consistent snapshot
        at = [rows.columns.index(k) for k in rows.table.key]
        held.setdefault(rows.table.name, set()).update(
            tuple(row[i] for i in at) for row in rows.rows
        )
    return held


def window_for(
    session: Session, organisation_id: int, sweep: Sweep, *, before_run: int | None = None
) -> Window:
    """What an earlier finished run already anonymised in this table under this rule."""
    if sweep.action is not RetentionAction.ANONYMISE:
        return Window()
    query = (
        select(RetentionProgress)
        .join(RetentionRun, RetentionRun.id == RetentionProgress.run_id)
        .where(
            RetentionRun.organisation_id == organisation_id,
            RetentionRun.status == SweepStatus.DONE.value,
            RetentionProgress.system_id == sweep.system,
            RetentionProgress.table_name == sweep.table.name,
            RetentionProgress.rule_id == sweep.rule.id,
            RetentionProgress.action == sweep.action.value,
            RetentionProgress.finished.is_(True),
        )
        .order_by(RetentionRun.id.desc())
    )
    if before_run is not None:
        query = query.where(RetentionRun.id < before_run)
    last = session.scalars(query).first()
    if last is None:
        return Window()
    floor = min(last.threshold, sweep.threshold)
    return Window(floor, tuple(tuple(k) for k in last.carried or ()))


def plan_retention(
    session: Session,
    organisation: Organisation,
    manifest: Manifest,
    *,
    system: str | None = None,
    cutoff: datetime | None = None,
) -> RetentionPlan:
    """Counts and SQL per table, changing nothing."""
    moment = cutoff or datetime.now(UTC)
    sweeps, waiting, problems = sweeps_of(manifest, moment, system)
    plan = RetentionPlan(moment, waiting=waiting, problems=problems)
    plan.conflicts = conflicts_of(manifest, system)
    people = [person_of(r) for r in open_requests(session, organisation.id)]
    by_system: dict[str, list[Sweep]] = {}
    for sweep in sweeps:
        by_system.setdefault(sweep.system, []).append(sweep)
    for system_id, group in by_system.items():
        datastore = group[0].datastore
        try:
            url = resolve_url(session, organisation.id, datastore, org_slug=organisation.slug)
            with connect_to(url, datastore) as conn:
                held = held_for_requests(conn, system_id, datastore, people)
                with conn.reading():
                    for sweep in group:
                        window = window_for(session, organisation.id, sweep)
                        due, skipped, sql = count_due(
                            conn, sweep, window, held.get(sweep.table.name, set())
                        )
                        plan.counts.append(Count(sweep, due, skipped, sql))
        except DatastoreError as error:
            plan.problems.append((system_id, error))
    return plan


def connect_to(url: str, datastore: Datastore) -> Any:
    """A connector to the datastore, in its schema."""
    return connect(url, schema=datastore.connection.schema_name)


def render_error(error: DatastoreError, lang: str) -> str:
    """A refusal in the reader's language: the sweep's own words, else the engine's."""
    domain = "retention" if gettext(lang, error.message, "retention") != error.message else None
    if domain is None:
        return error.render(lang)
    text = gettext(lang, error.message, domain).format(**error.values)
    if error.where:
        text = f"{error.where}: {text}"
    if error.hint:
        text += " — " + gettext(lang, error.hint, domain).format(**error.values)
    return text
