"""The drafted mapping — what discovery suggests per table, with its evidence — and the draft as
YAML for a person to review: every suggestion's evidence as a comment (counts and reasons, never
a sampled value), in the reader's language."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

import yaml

from jagadata.datastores.detect import Kind, Suggestion
from jagadata.i18n import N_, gettext
from jagadata.manifest.mapping import Follow, IdentityKind, Mask, Reference, RowRule, Stored


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "datastores")


def plain(value: str) -> str:
    """A YAML scalar that reads back as the same string (quoted only when it must be)."""
    try:
        same = yaml.safe_load(value) == value
    except yaml.YAMLError:
        same = False
    return value if same and not any(c in value for c in ",:{}[]#") else f'"{value}"'


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
        return "\n".join(render(self, lang)) + "\n"


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


def render(discovery: Discovery, lang: str) -> Iterator[str]:
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
