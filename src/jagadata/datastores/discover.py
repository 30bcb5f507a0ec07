"""Drafting a datastore mapping from a live database, for a person to review.

Discovery reads the schema (tables, columns, keys, foreign keys with their ON DELETE rule,
unique constraints), samples a few values of each column that can hold personal data, runs the
Indonesian-aware detectors on them, and writes a `datastore:` block with every suggestion's
evidence as a comment. The values sampled stay in memory: only counts and reasons are written.

    discovery = discover("postgresql+psycopg://app@db/school", sample=200)
    print(discovery.to_yaml("id"))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import (
    Integer,
    String,
    column,
    func,
    select,
    table,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

from jagadata.datastores.detect import (
    DETECTORS,
    Kind,
    classify_column,
)
from jagadata.datastores.draft_yaml import (
    Discovery,
    IdentityGuess,
    PersonalColumn,
    ReferenceGuess,
    TableDraft,
)
from jagadata.datastores.live import (
    LiveColumn,
    LiveTable,
    Progress,
    connect,
    database_name,
    embedded,
    is_free_text,
    raw_values,
    read_tables,
    reading_error,
    samples,
)
from jagadata.i18n import gettext
from jagadata.manifest.mapping import Follow, IdentityKind, Mask, Reference, Stored

IDENTITY_CONFIDENCE: Final = 0.8
"""An email, phone or NIK column becomes an identity the plan starts from above this."""

CATEGORY: Final[dict[Kind, str]] = {
    Kind.NIK: "nik",
    Kind.PHONE: "contact",
    Kind.EMAIL: "contact",
    Kind.CARD: "payment_card",
    Kind.NPWP: "npwp",
    Kind.NAME: "identity",
    Kind.ADDRESS: "address",
}
"""Generic category slugs; the reviewer renames them to the manifest's data.categories ids."""
FREE_TEXT_CATEGORY: Final = "communications"

MASK: Final[dict[Kind, Mask]] = {
    Kind.NIK: Mask.PSEUDONYM,
    Kind.PHONE: Mask.PHONE,
    Kind.EMAIL: Mask.EMAIL,
    Kind.CARD: Mask.NULL,
    Kind.NPWP: Mask.PSEUDONYM,
    Kind.NAME: Mask.PSEUDONYM,
    Kind.ADDRESS: Mask.NULL,
}
IDENTITY_KIND: Final = {
    Kind.EMAIL: IdentityKind.EMAIL,
    Kind.PHONE: IdentityKind.PHONE,
    Kind.NIK: IdentityKind.NIK,
}
PERSON_NUMBER: Final = re.compile(
    r"^(?:(?:no|nomor)_?)?(?:customer|student|pupil|member|pelanggan|siswa|murid|anggota|"
    r"peserta|pasien|patient)_?(?:no|number|nomor|num|code|kode)$|^(?:nis|nisn|nim|nomor_induk)$"
)
"""Columns named like a customer's or a pupil's number: an identity a request may give."""
MESSAGE_LIKE: Final = re.compile(
    r"(?:^|_)(?:message|pesan|chat|catatan|note|notes|komentar|comment|keterangan|remarks)(?:_|$)"
)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "datastores")


def discover(
    url: str, *, sample: int = 200, schema: str | None = None, progress: Progress | None = None
) -> Discovery:
    """Read the schema at `url`, sample each column and draft its mapping."""
    engine = connect(url)
    try:
        tables = read_tables(engine, schema)
        drafts = {t.name: TableDraft(t.name, t.key(), _key_source(t)) for t in tables}
        with engine.connect() as connection:
            for live, col, values in samples(connection, tables, schema, sample, progress):
                _classify(drafts[live.name], col, values)
            for live in tables:
                drafts[live.name].references = _references(connection, live, tables, schema, sample)
    except SQLAlchemyError as error:
        raise reading_error(url, error) from None
    finally:
        engine.dispose()
    return _select(database_name(url), schema, sample, list(drafts.values()))


def _key_source(live: LiveTable) -> str:
    return "primary" if live.primary_key else ("unique" if live.uniques else "")


def _classify(draft: TableDraft, col: LiveColumn, values: list[str]) -> None:
    suggestions = classify_column(col.name, values)
    best = suggestions[0] if suggestions else None
    if best is not None:
        draft.columns.append(PersonalColumn(col.name, CATEGORY[best.kind], MASK[best.kind], best))
        kind = IDENTITY_KIND.get(best.kind)
        if kind is not None and best.confidence >= IDENTITY_CONFIDENCE:
            draft.identities.append(IdentityGuess(col.name, kind, _stored(best.kind, values), best))
        return
    if PERSON_NUMBER.match(col.name.lower()):
        draft.identities.append(IdentityGuess(col.name, IdentityKind.REFERENCE, Stored.EXACT, None))
        return
    message_like = bool(MESSAGE_LIKE.search(col.name.lower()))
    if isinstance(col.type, String) and (message_like or is_free_text(values)):
        found = sum(embedded(v, (Kind.EMAIL, Kind.PHONE, Kind.NIK)) is not None for v in values)
        if found or message_like:
            draft.columns.append(
                PersonalColumn(
                    col.name, FREE_TEXT_CATEGORY, Mask.NULL, None, True, found, len(values)
                )
            )


def _stored(kind: Kind, values: list[str]) -> Stored:
    """How the application wrote the identity, from the sampled values that are one."""
    matching = [v for v in values if DETECTORS[kind](v)]
    if kind is Kind.EMAIL:
        lower = all(v == v.strip().lower() for v in matching)
        return Stored.LOWER if lower else Stored.ANY_CASE
    if kind is Kind.PHONE:
        for stored, form in (
            (Stored.E164, r"\+62\d+"),
            (Stored.NATIONAL, r"0\d+"),
            (Stored.DIGITS, r"62\d+"),
        ):
            if matching and all(re.fullmatch(form, v) for v in matching):
                return stored
        return Stored.ANY_PREFIX
    return Stored.EXACT


def _singular(name: str) -> set[str]:
    lowered = name.lower()
    forms = {lowered}
    if lowered.endswith("ies"):
        forms.add(lowered[:-3] + "y")
    if lowered.endswith("es"):
        forms.add(lowered[:-2])
    if lowered.endswith("s"):
        forms.add(lowered[:-1])
    return forms


def _family(kind: TypeEngine[Any]) -> str:
    if isinstance(kind, Integer):
        return "integer"
    return "text" if isinstance(kind, String) else "other"


def _references(
    connection: Connection,
    live: LiveTable,
    tables: Sequence[LiveTable],
    schema: str | None,
    limit: int,
) -> list[ReferenceGuess]:
    """Foreign keys as declared, then references that exist only by convention."""
    guesses = []
    keyed = {t.name: t for t in tables}
    for fk in live.foreign_keys:
        target = keyed.get(fk.table)
        to = list(fk.to) if target is None or tuple(fk.to) != target.key() else []
        follow = Follow.NONE if fk.table == live.name else Follow.CHILD
        reference = Reference(
            columns=list(fk.columns), table=fk.table, to=to, follow=follow, on_delete=fk.on_delete
        )
        guesses.append(ReferenceGuess(reference))
    declared = {c for fk in live.foreign_keys for c in fk.columns}
    for col in live.columns:
        if col.name in declared or col.name in live.key():
            continue
        for target in tables:
            key = target.key()
            if len(key) != 1 or not _named_after(col.name, target):
                continue
            key_column = target.column(key[0])
            if key_column is None or _family(key_column.type) != _family(col.type):
                continue
            guess = _convention(connection, live, col, target, schema, limit)
            if guess is not None:
                guesses.append(guess)
            break
    return guesses


def _named_after(name: str, target: LiveTable) -> bool:
    lowered = name.lower()
    key = target.key()[0].lower()
    if key not in ("id", "kode", "code") and lowered == key:
        return True
    return any(lowered in (f"{n}_id", f"id_{n}") for n in _singular(target.name))


def _convention(
    connection: Connection,
    live: LiveTable,
    col: LiveColumn,
    target: LiveTable,
    schema: str | None,
    limit: int,
) -> ReferenceGuess | None:
    """A reference with no foreign key, checked by looking the sampled values up in the key."""
    values = list(dict.fromkeys(raw_values(connection, live.name, col.name, schema, limit)))
    key = column(target.key()[0], type_=col.type)
    found = 0
    if values:
        query = select(func.count()).select_from(table(target.name, schema=schema))
        found = connection.execute(query.where(key.in_(values))).scalar_one()
    if values and not found:
        return None
    share = found / len(values) if values else 0.0
    follow = Follow.NONE if target.name == live.name else Follow.CHILD
    reference = Reference(columns=[col.name], table=target.name, follow=follow, declared=False)
    return ReferenceGuess(reference, found, len(values), round(0.5 + 0.45 * share, 2))


def _select(database: str, schema: str | None, sample: int, drafts: list[TableDraft]) -> Discovery:
    """Tables with personal data, and those whose rows point at them (a person's orders,
    scores, logs); the rest is listed as set aside, with the references to it."""
    chosen = {d.name for d in drafts if d.personal}
    grew = True
    while grew:
        linked = {
            d.name
            for d in drafts
            if d.name not in chosen
            and any(
                r.reference.table in chosen and r.reference.table != d.name for r in d.references
            )
        }
        chosen |= linked
        grew = bool(linked)
    unlinked = []
    for draft in drafts:
        if draft.name not in chosen:
            continue
        kept = [r for r in draft.references if r.reference.table in chosen]
        unlinked += [
            (f"{draft.name}.{', '.join(r.reference.columns)}", r.reference.table)
            for r in draft.references
            if r.reference.table not in chosen
        ]
        draft.references = kept
    return Discovery(
        database,
        schema,
        sample,
        tuple(d for d in drafts if d.name in chosen),
        tuple(d.name for d in drafts if d.name not in chosen),
        tuple(unlinked),
    )
