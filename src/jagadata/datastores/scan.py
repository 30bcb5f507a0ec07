"""Drift between a live database, its mapping and the policy's promises.

A scan samples every column that can hold personal data and reports, most severe first:
data the policy says is not collected but is there (a broken promise: the seed promises that no
card numbers are stored, and the scan proves it or shows where they are); personal data the
mapping does not declare (a column, or a whole table); and what the mapping names that the
database no longer has. Findings carry counts and reasons, never the values sampled.

    report = scan(url, system.datastore, manifest)
    for finding in report.findings: print(finding.render("id"))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from sqlalchemy.exc import SQLAlchemyError

from jagadata.datastores.detect import DETECTORS, Kind, Suggestion, classify_column
from jagadata.datastores.draft_yaml import evidence
from jagadata.datastores.live import (
    LiveTable,
    Progress,
    connect,
    database_name,
    embedded,
    is_free_text,
    read_tables,
    reading_error,
    samples,
)
from jagadata.i18n import N_, gettext
from jagadata.manifest.mapping import Datastore, TableMap
from jagadata.manifest.schema import Manifest

PROMISE_KINDS: Final[dict[str, Kind]] = {
    "card_number": Kind.CARD,
    "nik": Kind.NIK,
    "npwp": Kind.NPWP,
}
"""The not_collected detectors a scan can run; the others are reported as not checked."""


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "datastores")


class Severity(StrEnum):
    CRITICAL = "critical"
    """A promise of the policy is broken: people were told this is not kept."""
    HIGH = "high"
    """Personal data the mapping does not declare: requests would miss it."""
    MEDIUM = "medium"
    """The mapping names what the database no longer has: requests cannot run."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the detectors saw in one column: counts and confidence, never a value."""

    kind: Kind
    matched: int
    sampled: int
    suggestion: Suggestion | None = None
    column: str | None = None
    """Named when the finding is about a whole table."""

    def render(self, lang: str) -> str:
        if self.suggestion is not None:
            text = evidence(lang, self.suggestion)
        else:
            note = N_("{kind}: {matched}/{sampled} sampled values contain one, in free text")
            text = _t(lang, note).format(
                kind=self.kind.value, matched=self.matched, sampled=self.sampled
            )
        return f"{self.column}: {text}" if self.column else text

    def as_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "detector": self.kind.value,
            "matched": self.matched,
            "sampled": self.sampled,
            "confidence": self.suggestion.confidence if self.suggestion else None,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    where: str
    what: str
    todo: str
    values: Mapping[str, str] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()

    def render(self, lang: str) -> dict[str, Any]:
        """The finding in `lang`, as the text and JSON outputs show it."""
        return {
            "severity": self.severity.value,
            "where": self.where,
            "what": _t(lang, self.what).format(**self.values),
            "evidence": [e.render(lang) for e in self.evidence],
            "counts": [e.as_json() for e in self.evidence],
            "todo": _t(lang, self.todo).format(**self.values),
        }


@dataclass(frozen=True, slots=True)
class ScanReport:
    database: str
    tables: int
    columns: int
    findings: tuple[Finding, ...]
    unchecked: tuple[tuple[str, str], ...] = ()
    """(promise id, detector) of not_collected promises no detector can check yet."""

    def as_json(self, lang: str) -> dict[str, Any]:
        return {
            "database": self.database,
            "tables": self.tables,
            "columns_sampled": self.columns,
            "findings": [f.render(lang) for f in self.findings],
            "unchecked": [{"promise": p, "detector": d} for p, d in self.unchecked],
        }


BROKEN_PROMISE: Final = N_(
    "{detector} found although the policy promises it is not collected (promise {promise})"
)
BROKEN_PROMISE_TODO: Final = N_(
    "Remove these values and stop storing them, or correct the promise {promise} in the "
    "manifest if it no longer holds: people were told this is not kept."
)
UNDECLARED_COLUMN: Final = N_("personal data the mapping does not declare: {kind}")
UNDECLARED_COLUMN_TODO: Final = N_(
    "Add the column to the table's columns in the mapping (and to its identities if it "
    "identifies a person), or remove the data."
)
UNMAPPED_TABLE: Final = N_("a table with personal data that the mapping does not list: {kinds}")
UNMAPPED_TABLE_TODO: Final = N_(
    "Map the table in the datastore (jagadata datastore discover drafts it), or remove the "
    "personal data from it."
)
MISSING_TABLE: Final = N_("the mapping names this table, but the database has no such table")
MISSING_COLUMN: Final = N_("the mapping names this column, but the table has no such column")
MISSING_TODO: Final = N_(
    "Correct the name in the mapping or remove it: requests cannot run while the mapping "
    "names what the database does not have."
)


def scan(
    url: str,
    datastore: Datastore,
    manifest: Manifest,
    *,
    sample: int = 200,
    progress: Progress | None = None,
) -> ScanReport:
    """Compare the database at `url` with its mapping and with the policy's promises."""
    promises: dict[Kind, list[str]] = {}
    unchecked = []
    for promise in manifest.data.not_collected:
        for detector in promise.detectors:
            if detector in PROMISE_KINDS:
                promises.setdefault(PROMISE_KINDS[detector], []).append(promise.id)
            else:
                unchecked.append((promise.id, detector))
    schema = datastore.connection.schema_name
    engine = connect(url)
    findings: list[Finding] = []
    undeclared: dict[str, list[Evidence]] = {}
    sampled = 0
    try:
        tables = read_tables(engine, schema)
        with engine.connect() as connection:
            for live, col, values in samples(connection, tables, schema, sample, progress):
                sampled += 1
                suggestions = classify_column(col.name, values)
                broken = _broken_promises(f"{live.name}.{col.name}", values, suggestions, promises)
                findings += broken
                best = next((s for s in suggestions if s.sampled), None)
                if not broken and best is not None:
                    found = Evidence(best.kind, best.matched, best.sampled, best, col.name)
                    undeclared.setdefault(live.name, []).append(found)
    except SQLAlchemyError as error:
        raise reading_error(url, error) from None
    finally:
        engine.dispose()
    findings += _undeclared(datastore, undeclared)
    findings += _missing(datastore, {t.name: t for t in tables})
    order = list(Severity)
    findings.sort(key=lambda f: (order.index(f.severity), f.where))
    return ScanReport(database_name(url), len(tables), sampled, tuple(findings), tuple(unchecked))


def _broken_promises(
    where: str,
    values: list[str],
    suggestions: list[Suggestion],
    promises: Mapping[Kind, list[str]],
) -> list[Finding]:
    """A promised-absent kind that most values are, or that any value of free text holds."""
    findings = []
    free_text = is_free_text(values)
    for kind, ids in promises.items():
        suggestion = next((s for s in suggestions if s.kind is kind and s.sampled), None)
        matched = sum(
            DETECTORS[kind](v) or (free_text and embedded(v, (kind,)) is not None) for v in values
        )
        if suggestion is None and not (free_text and matched):
            continue
        found = Evidence(kind, matched, len(values), suggestion)
        for promise in ids:
            findings.append(
                Finding(
                    Severity.CRITICAL,
                    where,
                    BROKEN_PROMISE,
                    BROKEN_PROMISE_TODO,
                    {"detector": kind.value, "promise": promise},
                    (found,),
                )
            )
    return findings


def _declared(mapped: TableMap) -> set[str]:
    return {c.name for c in mapped.columns} | {i.column for i in mapped.identities}


def _undeclared(datastore: Datastore, found: Mapping[str, list[Evidence]]) -> Iterable[Finding]:
    for name, evidences in found.items():
        mapped = datastore.table(name)
        if mapped is None:
            kinds = ", ".join(dict.fromkeys(e.kind.value for e in evidences))
            yield Finding(
                Severity.HIGH,
                name,
                UNMAPPED_TABLE,
                UNMAPPED_TABLE_TODO,
                {"kinds": kinds},
                tuple(evidences),
            )
            continue
        for item in evidences:
            if item.column not in _declared(mapped):
                yield Finding(
                    Severity.HIGH,
                    f"{name}.{item.column}",
                    UNDECLARED_COLUMN,
                    UNDECLARED_COLUMN_TODO,
                    {"kind": item.kind.value},
                    (Evidence(item.kind, item.matched, item.sampled, item.suggestion),),
                )


def _mapped_columns(mapped: TableMap) -> list[str]:
    names = [*mapped.key, *(i.column for i in mapped.identities)]
    names += [c.name for c in mapped.columns]
    names += [c for r in mapped.references for c in r.columns]
    if mapped.restriction is not None and mapped.restriction.column is not None:
        names.append(mapped.restriction.column)
    return list(dict.fromkeys(names))


def _missing(datastore: Datastore, live: Mapping[str, LiveTable]) -> Iterable[Finding]:
    for mapped in datastore.tables:
        table = live.get(mapped.name)
        if table is None:
            yield Finding(Severity.MEDIUM, mapped.name, MISSING_TABLE, MISSING_TODO)
            continue
        for name in _mapped_columns(mapped):
            if table.column(name) is None:
                yield Finding(
                    Severity.MEDIUM, f"{mapped.name}.{name}", MISSING_COLUMN, MISSING_TODO
                )
