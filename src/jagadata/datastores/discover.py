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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from sqlalchemy import (
    BigInteger,
    Engine,
    Integer,
    Numeric,
    String,
    column,
    create_engine,
    func,
    inspect,
    select,
    table,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.types import TypeEngine

from jagadata.datastores.detect import (
    COLUMN_HINTS,
    DETECTORS,
    Kind,
    Suggestion,
    classify_column,
)
from jagadata.datastores.errors import ConnectionFailed
from jagadata.i18n import N_, gettext
from jagadata.manifest.mapping import Follow, IdentityKind, Mask, Reference, RowRule, Stored

Progress = Callable[[int, int], None]
"""Called with (columns sampled so far, columns to sample) while sampling."""

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
_TOKEN: Final = re.compile(r"[^\s,;()<>\[\]\"']+")
_DIGIT_RUN: Final = re.compile(r"\+?\d[\d .\-]{7,22}\d")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "datastores")


# --- reaching the database ----------------------------------------------------------------


def database_name(url: str) -> str:
    """The URL as it may be shown: the password hidden; nothing at all if it cannot be read."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "?"


def connect(url: str) -> Engine:
    """An engine for `url` whose first connection succeeded; a clear error otherwise."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = parsed.database or ""
            if path and path != ":memory:" and not Path(path).is_file():
                raise ConnectionFailed(
                    N_("There is no SQLite database at {path}."),
                    hint=N_("Check the path in the URL: sqlite:///path/to/file.sqlite3."),
                    path=path,
                )
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise ConnectionFailed(
            N_("The database URL cannot be read."),
            hint=N_(
                "Write it as postgresql+psycopg://user:password@host:5432/name, "
                "mysql+pymysql://user:password@host:3306/name or sqlite:///path/to/file.sqlite3."
            ),
        ) from None
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        engine.dispose()
        raise connection_error(url, error) from None
    return engine


def connection_error(url: str, error: SQLAlchemyError) -> ConnectionFailed:
    reason = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error) else ""
    lowered = reason.lower()
    database = database_name(url)
    refused = ("password", "access denied", "authentication", 'role "')
    if any(word in lowered for word in refused):
        return ConnectionFailed(
            N_("{database} refused the user name or password."),
            hint=N_("Check the user and password in the URL, and that this user may connect."),
            database=database,
        )
    if "does not exist" in lowered or "unknown database" in lowered:
        return ConnectionFailed(
            N_("{database} does not exist on that server."),
            hint=N_("Check the database name at the end of the URL."),
            database=database,
        )
    password = make_url(url).password
    if password:
        reason = reason.replace(str(password), "***")
    return ConnectionFailed(
        N_("Cannot reach {database}: {reason}."),
        hint=N_("Check the host and port in the URL, and that the server is running."),
        database=database,
        reason=reason.rstrip("."),
    )


def reading_error(url: str, error: SQLAlchemyError) -> ConnectionFailed:
    """Connected, but a table or column could not be read: rights, or a file that is not a
    database."""
    reason = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error) else ""
    return ConnectionFailed(
        N_("Reading {database} failed: {reason}."),
        hint=N_("Check that this user may read every table of the schema (SELECT)."),
        database=database_name(url),
        reason=reason.rstrip(".") or type(error).__name__,
    )


# --- the live schema ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveColumn:
    name: str
    type: TypeEngine[Any]


@dataclass(frozen=True, slots=True)
class LiveForeignKey:
    columns: tuple[str, ...]
    table: str
    to: tuple[str, ...]
    on_delete: RowRule


@dataclass(frozen=True, slots=True)
class LiveTable:
    """One table as the database describes it."""

    name: str
    columns: tuple[LiveColumn, ...]
    primary_key: tuple[str, ...]
    uniques: tuple[tuple[str, ...], ...]
    foreign_keys: tuple[LiveForeignKey, ...]

    def key(self) -> tuple[str, ...]:
        """The primary key, else the first unique set of columns, else nothing."""
        return self.primary_key or (self.uniques[0] if self.uniques else ())

    def column(self, name: str) -> LiveColumn | None:
        return next((c for c in self.columns if c.name == name), None)


_ON_DELETE: Final = {"CASCADE": RowRule.CASCADE, "SET NULL": RowRule.SET_NULL}


def read_tables(engine: Engine, schema: str | None) -> list[LiveTable]:
    """Every table of the schema, with its columns, keys and foreign keys, sorted by name."""
    inspector = inspect(engine)
    tables = []
    for name in sorted(inspector.get_table_names(schema=schema)):
        columns = tuple(
            LiveColumn(c["name"], c["type"]) for c in inspector.get_columns(name, schema=schema)
        )
        primary = tuple(inspector.get_pk_constraint(name, schema=schema)["constrained_columns"])
        uniques = [tuple(u["column_names"]) for u in inspector.get_unique_constraints(name, schema)]
        uniques += [
            tuple(str(c) for c in i["column_names"])
            for i in inspector.get_indexes(name, schema=schema)
            if i.get("unique") and None not in i["column_names"]
        ]
        foreign = tuple(
            LiveForeignKey(
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                tuple(fk["referred_columns"]),
                _ON_DELETE.get(
                    str(fk.get("options", {}).get("ondelete", "")).upper(), RowRule.RESTRICT
                ),
            )
            for fk in inspector.get_foreign_keys(name, schema=schema)
            if fk.get("referred_schema") in (None, schema)
        )
        tables.append(LiveTable(name, columns, primary, tuple(dict.fromkeys(uniques)), foreign))
    return tables


def worth_sampling(live: LiveColumn) -> bool:
    """Text can hold any personal data; a big number only a NIK, phone or card number, so it is
    sampled only when its name says so (scores and amounts never are)."""
    if isinstance(live.type, String):
        return True
    if isinstance(live.type, BigInteger | Numeric):
        name = live.name.lower()
        return any(COLUMN_HINTS[k].search(name) for k in (Kind.NIK, Kind.PHONE, Kind.CARD))
    return False


def raw_values(
    connection: Connection, table_name: str, name: str, schema: str | None, limit: int
) -> list[Any]:
    """Up to `limit` non-null values of one column, as the driver returns them."""
    target: ColumnClause[Any] = column(name)
    query = select(target).select_from(table(table_name, schema=schema)).limit(limit)
    return list(connection.execute(query.where(target.is_not(None))).scalars())


def sample_values(
    connection: Connection, live: LiveTable, name: str, schema: str | None, limit: int
) -> list[str]:
    """Up to `limit` non-empty values of one column, as text; never logged nor written out."""
    values = raw_values(connection, live.name, name, schema, limit)
    return [text for text in (str(v) for v in values if not isinstance(v, bytes)) if text.strip()]


def samples(
    connection: Connection,
    tables: Sequence[LiveTable],
    schema: str | None,
    limit: int,
    progress: Progress | None = None,
) -> Iterator[tuple[LiveTable, LiveColumn, list[str]]]:
    """Each column worth sampling with its sampled values, reporting progress as it goes."""
    todo = [(t, c) for t in tables for c in t.columns if worth_sampling(c)]
    for done, (live, col) in enumerate(todo, start=1):
        yield live, col, sample_values(connection, live, col.name, schema, limit)
        if progress is not None:
            progress(done, len(todo))


def embedded(text: str, kinds: Sequence[Kind]) -> Kind | None:
    """The first of `kinds` found inside a longer text (a message, a note), if any."""
    candidates = [t.rstrip(".") for t in _TOKEN.findall(text)] + _DIGIT_RUN.findall(text)
    for kind in kinds:
        if any(DETECTORS[kind](c) for c in candidates):
            return kind
    return None


def is_free_text(values: Sequence[str]) -> bool:
    """Most sampled values are several words: sentences, not single data items."""
    return bool(values) and sum(len(v.split()) >= 4 for v in values) * 2 >= len(values)


# --- the draft ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonalColumn:
    """A column holding personal data, as the detectors saw it."""

    name: str
    category: str
    mask: Mask
    evidence: Suggestion | None
    """None for free text, whose evidence is `embedded` of `sampled`."""
    free_text: bool = False
    embedded: int = 0
    sampled: int = 0


@dataclass(frozen=True, slots=True)
class IdentityGuess:
    column: str
    kind: IdentityKind
    stored: Stored
    evidence: Suggestion | None
    """None when only the name says it is a person's number (customer, pupil…)."""


@dataclass(frozen=True, slots=True)
class ReferenceGuess:
    reference: Reference
    matched: int = 0
    """Sampled values found in the target's key (a reference by convention)."""
    sampled: int = 0
    confidence: float = 1.0


@dataclass(slots=True)
class TableDraft:
    name: str
    key: tuple[str, ...]
    key_source: str
    """'primary' or 'unique'; empty when the table has neither."""
    identities: list[IdentityGuess] = field(default_factory=list)
    columns: list[PersonalColumn] = field(default_factory=list)
    references: list[ReferenceGuess] = field(default_factory=list)

    @property
    def personal(self) -> bool:
        return bool(self.identities or self.columns)


@dataclass(frozen=True, slots=True)
class Discovery:
    """A draft mapping of one database: the tables worth mapping and those set aside."""

    database: str
    schema: str | None
    sample: int
    tables: tuple[TableDraft, ...]
    unmapped: tuple[str, ...]
    unlinked: tuple[tuple[str, str], ...] = ()
    """(table.column, table pointed at) for references to tables set aside."""

    def to_yaml(self, lang: str) -> str:
        """A `datastore:` block for the database's `systems:` entry, the evidence as comments."""
        return "\n".join(_render(self, lang)) + "\n"


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


def plain(value: str) -> str:
    """A YAML scalar that reads back as the same string (quoted only when it must be)."""
    try:
        same = yaml.safe_load(value) == value
    except yaml.YAMLError:
        same = False
    return value if same and not any(c in value for c in ",:{}[]#") else f'"{value}"'


# --- the draft as YAML --------------------------------------------------------------------

WHAT: Final[dict[Kind, str]] = {
    Kind.NIK: N_("valid NIKs (province, birth date)"),
    Kind.PHONE: N_("valid Indonesian phone numbers"),
    Kind.EMAIL: N_("email addresses"),
    Kind.CARD: N_("payment card numbers (issuer, Luhn check digit)"),
    Kind.NPWP: N_("NPWP taxpayer numbers"),
    Kind.NAME: N_("Indonesian person names"),
    Kind.ADDRESS: N_("Indonesian addresses"),
}
KEY_SOURCE: Final = {
    "primary": N_("primary key"),
    "unique": N_("no primary key: a unique constraint identifies the rows"),
    "": N_(
        "no primary key nor unique constraint: name the columns that identify a row, or "
        "erasure cannot address them"
    ),
}


def evidence(lang: str, suggestion: Suggestion) -> str:
    """'nik: 47/50 sampled values are valid NIKs (province, birth date) — confidence 0.97'."""
    if not suggestion.sampled:
        return _t(
            lang,
            N_(
                "{kind}: only the column's name suggests it, there were no values to sample "
                "— confidence {confidence}"
            ),
        ).format(kind=suggestion.kind.value, confidence=f"{suggestion.confidence:.2f}")
    text = _t(
        lang, N_("{kind}: {matched}/{sampled} sampled values are {what} — confidence {confidence}")
    ).format(
        kind=suggestion.kind.value,
        matched=suggestion.matched,
        sampled=suggestion.sampled,
        what=_t(lang, WHAT[suggestion.kind]),
        confidence=f"{suggestion.confidence:.2f}",
    )
    if suggestion.name_hint:
        text += "; " + _t(lang, N_("the column's name suggests it"))
    return text


def _flow(items: dict[str, object]) -> str:
    def scalar(value: object) -> str:
        if isinstance(value, list | tuple):
            return "[" + ", ".join(plain(str(v)) for v in value) + "]"
        if isinstance(value, bool):
            return "true" if value else "false"
        return plain(str(value))

    return "{" + ", ".join(f"{k}: {scalar(v)}" for k, v in items.items()) + "}"


def _render(discovery: Discovery, lang: str) -> Iterator[str]:
    for line in (
        _t(
            lang,
            N_(
                "Draft datastore mapping of {database}, from up to {sample} sampled values per "
                "column (jagadata datastore discover)."
            ),
        ).format(database=discovery.database, sample=discovery.sample),
        _t(
            lang,
            N_(
                "Review every line before you use it: these are suggestions, each with its "
                "evidence and confidence."
            ),
        ),
        _t(
            lang,
            N_(
                "Categories are generic slugs (identity, contact, nik…): rename them to the ids "
                "of data.categories in your manifest."
            ),
        ),
        _t(lang, N_("No sampled value is written here: only counts and reasons.")),
    ):
        yield f"# {line}"
    yield "datastore:"
    connection = _flow({"schema": discovery.schema}) if discovery.schema else "{}"
    hint = _t(
        lang,
        N_(
            "fill in secret: NAME (jagadata datastore connect) or env: VARIABLE; never the URL "
            "itself"
        ),
    )
    yield f"  connection: {connection}  # {hint}"
    yield "  tables:"
    if not discovery.tables:
        yield "  # " + _t(lang, N_("No table with personal data was found."))
    for draft in discovery.tables:
        yield from _render_table(draft, lang)
    for where, target in discovery.unlinked:
        note = N_("{where} points at {table}, set aside: no personal data was found there")
        yield "  # " + _t(lang, note).format(where=where, table=target)
    if discovery.unmapped:
        note = N_(
            "Tables set aside (no personal data found, no reference to a mapped table): {tables}"
        )
        yield "  # " + _t(lang, note).format(tables=", ".join(discovery.unmapped))


def _render_table(draft: TableDraft, lang: str) -> Iterator[str]:
    yield f"    - name: {plain(draft.name)}"
    key = "[" + ", ".join(plain(k) for k in draft.key) + "]"
    yield f"      key: {key}  # {_t(lang, KEY_SOURCE[draft.key_source])}"
    if draft.identities:
        yield "      identities:"
        for identity in draft.identities:
            if identity.evidence is None:
                note = N_("named like a person's number (customer, pupil…): a request may give it")
                yield "        # " + _t(lang, note)
            else:
                yield "        # " + evidence(lang, identity.evidence)
            if identity.kind in (IdentityKind.EMAIL, IdentityKind.PHONE):
                note = N_("stored: {stored}, as the sampled values are written — check it")
                yield "        # " + _t(lang, note).format(stored=identity.stored.value)
            fields: dict[str, object] = {"column": identity.column, "kind": identity.kind.value}
            fields["stored"] = identity.stored.value
            yield f"        - {_flow(fields)}"
    if draft.columns:
        yield "      columns:"
        for personal in draft.columns:
            yield "        # " + _column_evidence(personal, lang)
            fields = {"name": personal.name, "category": personal.category}
            fields["mask"] = personal.mask.value
            if personal.free_text:
                fields["free_text"] = True
            yield f"        - {_flow(fields)}"
    if draft.references:
        yield "      references:"
        for guess in draft.references:
            yield from _render_reference(guess, lang)


def _column_evidence(personal: PersonalColumn, lang: str) -> str:
    if personal.evidence is not None:
        return evidence(lang, personal.evidence)
    if personal.embedded:
        note = N_(
            "free text: {matched}/{sampled} sampled values contain an email, phone number or "
            "NIK; anyone's data may be in it"
        )
        return _t(lang, note).format(matched=personal.embedded, sampled=personal.sampled)
    return _t(lang, N_("free text by its name: messages or notes may hold anyone's personal data"))


def _render_reference(guess: ReferenceGuess, lang: str) -> Iterator[str]:
    reference = guess.reference
    if reference.follow is Follow.NONE:
        note = N_(
            "refers to its own table (a referral, a manager): follow none only cuts the link "
            "on erasure"
        )
        yield "        # " + _t(lang, note)
    if reference.declared:
        rule = reference.on_delete.value if reference.on_delete else RowRule.RESTRICT.value
        yield "        # " + _t(lang, N_("foreign key, ON DELETE {rule}")).format(rule=rule)
    elif guess.sampled:
        note = N_(
            "no foreign key, named after {table}: {matched}/{sampled} sampled values exist in "
            "its key — confidence {confidence}"
        )
        yield "        # " + _t(lang, note).format(
            table=reference.table,
            matched=guess.matched,
            sampled=guess.sampled,
            confidence=f"{guess.confidence:.2f}",
        )
    else:
        note = N_(
            "no foreign key, named after {table}; no values to check — confidence {confidence}"
        )
        yield "        # " + _t(lang, note).format(
            table=reference.table, confidence=f"{guess.confidence:.2f}"
        )
    fields: dict[str, object] = {"columns": reference.columns, "table": reference.table}
    if reference.to:
        fields["to"] = reference.to
    if reference.follow is not Follow.CHILD:
        fields["follow"] = reference.follow.value
    if reference.declared and reference.on_delete:
        fields["on_delete"] = reference.on_delete.value
    if not reference.declared:
        fields["declared"] = False
    yield f"        - {_flow(fields)}"
