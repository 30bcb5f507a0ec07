"""Datastore mappings that agree with the rest of the manifest: every mapped column in a
declared category (Art. 21(1)(c), 31), rows kept for a legal duty with a period that ends them
(Art. 42(1)(a), 43(2)), and identities a request can actually search by (Art. 14, 32)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, rule
from jagadata.i18n import N_
from jagadata.manifest.mapping import TableMap
from jagadata.manifest.schema import Identifier, IdentifierKind, Manifest

_DEFAULT_IDENTIFIERS: Final = (
    Identifier(id="email", kind=IdentifierKind.EMAIL),
    Identifier(id="whatsapp", kind=IdentifierKind.PHONE),
)
"""Who a request can name when the manifest declares no identifiers (as rights/plan.py)."""


def _mapped(manifest: Manifest) -> Iterator[tuple[int, str, int, TableMap]]:
    for s_index, system in enumerate(manifest.systems):
        if system.datastore is None:
            continue
        for t_index, table in enumerate(system.datastore.tables):
            yield s_index, system.id, t_index, table


@rule(
    "PDP050",
    "mapped-column-category-unknown",
    title=N_("Mapped column in a category the manifest does not declare"),
    severity=Severity.ERROR,
    articles=(pasal("21(1)(c)"), pasal("31")),
    description=N_(
        "People are told which kinds of data are processed (Art. 21(1)(c)) and the controller "
        "records all processing (Art. 31); a column a datastore mapping lists must hold one of "
        "the categories the manifest declares."
    ),
    hint=N_(
        "Use the id of a category under 'data: categories:', or add the category there with "
        "its retention rule."
    ),
)
def mapped_column_category_unknown(ctx: Context) -> Iterator[Hit]:
    declared = {c.id for c in ctx.manifest.data.categories}
    for s_index, system, t_index, table in _mapped(ctx.manifest):
        for c_index, column in enumerate(table.columns):
            if column.category not in declared:
                yield Hit(
                    (
                        "systems",
                        s_index,
                        "datastore",
                        "tables",
                        t_index,
                        "columns",
                        c_index,
                        "category",
                    ),
                    N_(
                        "Column {table}.{column} of {system} is in category '{category}', which "
                        "is not declared."
                    ),
                    {
                        "system": system,
                        "table": table.name,
                        "column": column.name,
                        "category": column.category,
                    },
                )


@rule(
    "PDP051",
    "hold-without-period",
    title=N_("Rows kept for a legal duty with no period that ends it"),
    severity=Severity.WARNING,
    articles=(pasal("42(1)(a)"), pasal("43(2)")),
    description=N_(
        "Erasure yields to another law's duty to keep data (Art. 43(2)), but only for as long "
        "as that duty lasts: processing ends when the retention period is reached "
        "(Art. 42(1)(a)). A hold names the retention rule that ends it."
    ),
    hint=N_(
        "Add 'retention:' to the hold with the id of the rule under 'retention:' that gives its "
        "period (e.g. transactions kept 10 years)."
    ),
)
def hold_without_period(ctx: Context) -> Iterator[Hit]:
    rules = {r.id for r in ctx.manifest.retention}
    for s_index, system, t_index, table in _mapped(ctx.manifest):
        hold = table.hold
        if hold is None:
            continue
        if hold.retention is None or hold.retention not in rules:
            yield Hit(
                ("systems", s_index, "datastore", "tables", t_index, "hold"),
                N_(
                    "The rows of {table} in {system} are kept for a legal duty with no "
                    "retention rule that ends it."
                ),
                {"system": system, "table": table.name},
            )


@rule(
    "PDP052",
    "identity-no-request-can-give",
    title=N_("Database searched by an identity no request asks for"),
    severity=Severity.WARNING,
    articles=(pasal("14"), pasal("32(1)")),
    description=N_(
        "A recorded request (Art. 14) must reach the person's data in every system within the "
        "deadline (e.g. access, Art. 32(1)); a datastore whose identity columns match none of "
        "the identifiers people give on a request cannot be searched for them."
    ),
    hint=N_(
        "Add the identifier under 'rights: identifiers:' (e.g. kind: reference for a student "
        "number), or map an identity column people do give, such as their email."
    ),
)
def identity_no_request_can_give(ctx: Context) -> Iterator[Hit]:
    offered = tuple(ctx.manifest.rights.identifiers) or _DEFAULT_IDENTIFIERS
    keys = {i.id for i in offered} | {i.kind.value for i in offered}
    for s_index, system in enumerate(ctx.manifest.systems):
        if system.datastore is None:
            continue
        columns = [c for t in system.datastore.tables for c in t.identities]
        if not any((c.identifier or c.kind.value) in keys for c in columns):
            yield Hit(
                ("systems", s_index, "datastore"),
                N_("No identity column of {system} matches an identifier a request can give."),
                {"system": system.id},
            )
