"""Where a database system keeps personal data: the datastore mapping of the manifest.

A system of kind `database` may carry a `datastore:` block. It says how jagadata reaches the
database (never the secret itself: a named secret held encrypted by jagadata, or an
environment variable) and, per table, which columns hold which categories, which columns
identify a person and how they were stored, how tables refer to each other (declared foreign
keys and references that exist only by convention), what erasure does to each column, and
which rows a legal duty keeps.

    systems:
      - id: shop_db
        name: Toko online
        kind: database
        datastore:
          connection: {secret: shop_db}     # jagadata datastore connect ORG shop_db URL
          tables:
            - name: customers
              key: [id]
              identities:
                - {column: email, kind: email, stored: lower}
                - {column: phone, kind: phone, stored: e164}
              columns:
                - {name: full_name, category: identity, mask: pseudonym}
                - {name: email, category: contact, mask: email}
            - name: orders
              key: [id]
              references:
                - {columns: [customer_id], table: customers}
              hold: {reason: Faktur disimpan 10 tahun, legal_source: "UU KUP Pasal 28 ayat (11)"}
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from jagadata.i18n import N_
from jagadata.manifest.types import Slug, Text

SqlName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")]
"""A table or column name as the database spells it; quoted wherever jagadata uses it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Connection(_Strict):
    """How jagadata reaches the database. The URL (with its password) is never in the manifest:
    it is held encrypted by jagadata (`secret`) or read from the environment (`env`)."""

    secret: Slug | None = Field(
        default=None,
        description="Name of the encrypted connection secret: `jagadata datastore connect`.",
    )
    env: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,62}$")] | None = Field(
        default=None, description="Environment variable holding the database URL."
    )
    schema_name: SqlName | None = Field(
        default=None,
        alias="schema",
        description="Database schema the tables live in (PostgreSQL); the default one if unset.",
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_source(self) -> Connection:
        if (self.secret is None) == (self.env is None):
            raise ValueError(CONNECTION_NEEDS_ONE_SOURCE)
        return self


CONNECTION_NEEDS_ONE_SOURCE: Final = N_(
    "give exactly one of 'secret' (held encrypted by jagadata) or 'env' (an environment "
    "variable); never write the database URL in the manifest"
)


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    REFERENCE = "reference"
    NIK = "nik"


class Stored(StrEnum):
    """How the application wrote an identity into the column."""

    EXACT = "exact"
    """As the person typed it; matched exactly (customer numbers, NIK)."""
    LOWER = "lower"
    """Emails the application lower-cased and trimmed: matched with `=`, the index is used."""
    ANY_CASE = "any_case"
    """Emails in any case or with spaces: matched on lower(trim(column)); index that expression."""
    E164 = "e164"
    """Phones as +628…: the person's number in any form is turned into this one."""
    NATIONAL = "national"
    """Phones as 08…"""
    DIGITS = "digits"
    """Phones as 628…"""
    ANY_PREFIX = "any_prefix"
    """Phones written with +62, 62 or 0 first: all three are looked up, the index is used."""


class IdentityColumn(_Strict):
    """A column that identifies a person: the plan starts from it."""

    column: SqlName
    kind: IdentityKind
    identifier: Slug | None = Field(
        default=None,
        description="The request identifier (rights.identifiers) it matches; by kind if unset.",
    )
    stored: Stored = Field(
        default=Stored.EXACT, description="How the application wrote the value."
    )


class Mask(StrEnum):
    """What erasure writes in a column of a row that is kept."""

    NULL = "null"
    FIXED = "fixed"
    PSEUDONYM = "pseudonym"
    """A keyed hash of the old value: the same person gets the same pseudonym everywhere."""
    EMAIL = "email"
    """A pseudonymous address that is still an email: `p-3f2a…@erased.invalid`."""
    PHONE = "phone"
    """A number that keeps the format but cannot be dialled: +62 000…"""
    YEAR = "year"
    """A date generalised to the first of January of its year."""
    KEEP = "keep"
    """Kept as it is (not personal once the row is cut from the person)."""


class ColumnMap(_Strict):
    """A column holding personal data."""

    name: SqlName
    category: Slug = Field(description="The data category (data.categories) it holds.")
    mask: Mask = Field(
        default=Mask.NULL, description="What erasure writes here when the row is kept."
    )
    value: str | int | None = Field(
        default=None, description="The value written by mask: fixed ('[dihapus]', 0)."
    )
    free_text: bool = Field(
        default=False,
        description="Free text that may contain personal data of anyone (notes, messages).",
    )
    correctable: bool = Field(
        default=True, description="A person may ask to correct it (rectification, Art. 6)."
    )

    @model_validator(mode="after")
    def _fixed_has_value(self) -> ColumnMap:
        if self.mask is Mask.FIXED and self.value is None:
            raise ValueError(FIXED_MASK_NEEDS_VALUE)
        return self


FIXED_MASK_NEEDS_VALUE: Final = N_("mask 'fixed' needs the 'value' to write")


class Follow(StrEnum):
    """Which way a reference carries a person's data."""

    CHILD = "child"
    """Rows of this table that point at the person's rows in `table` are the person's too."""
    PARENT = "parent"
    """Rows of `table` that the person's rows here point at are the person's too."""
    NONE = "none"
    """Not the person's (a referral, a teacher): erasure only cuts the link (sets it null)."""


class Reference(_Strict):
    """This table's columns point at rows of another table, with or without a foreign key."""

    columns: Annotated[list[SqlName], Field(min_length=1)]
    table: SqlName = Field(description="The table pointed at.")
    to: list[SqlName] = Field(
        default_factory=list, description="Its columns pointed at; its key if unset."
    )
    follow: Follow = Field(default=Follow.CHILD)
    declared: bool = Field(
        default=True,
        description="The database enforces it (a foreign key); false for a convention only.",
    )
    on_delete: RowRule | None = Field(
        default=None,
        description="What the foreign key does when its target row goes: restrict (the "
        "default for a declared key), cascade or set_null.",
    )


class RowRule(StrEnum):
    RESTRICT = "restrict"
    CASCADE = "cascade"
    SET_NULL = "set_null"


class Erase(StrEnum):
    """What erasure does with the person's rows of a table."""

    DELETE = "delete"
    MASK = "mask"
    """Keep the row and mask its personal columns (e.g. rows others' data refers to)."""


class Hold(_Strict):
    """A legal duty to keep the rows (e.g. invoices for tax): erasure masks and restricts,
    never deletes (Art. 8, 43(2))."""

    reason: Text
    legal_source: str = Field(description="The law that requires it: 'UU KUP Pasal 28(11)'.")
    retention: Slug | None = Field(
        default=None, description="The retention rule (retention[].id) giving its period."
    )


class Restriction(_Strict):
    """How the application learns that a row's processing is restricted (Art. 11)."""

    column: SqlName | None = Field(
        default=None, description="A column of this table set to true (or to the date)."
    )
    table: SqlName | None = Field(
        default=None,
        description="A side table the application consults; jagadata writes (table_name, "
        "row_key, restricted_at) rows into it.",
    )

    @model_validator(mode="after")
    def _one_place(self) -> Restriction:
        if (self.column is None) == (self.table is None):
            raise ValueError(RESTRICTION_NEEDS_ONE_PLACE)
        return self


RESTRICTION_NEEDS_ONE_PLACE: Final = N_(
    "give exactly one of 'column' (in the table) or 'table' (a side table)"
)


class TableRetention(_Strict):
    """Which retention rule ends this table's rows, and the column holding the moment its
    period counts from (Art. 42(1)(a), 43(1)(a)): a row whose moment plus the rule's duration
    has passed is deleted or anonymised by the retention sweep; a row whose column is empty
    (an account still open) is not due."""

    rule: Slug = Field(description="The retention rule (retention[].id) for these rows.")
    since: SqlName = Field(
        description="The column holding the rule's start event: created_at, closed_at, "
        "last_activity_at, paid_at."
    )


class TableMap(_Strict):
    name: SqlName
    key: list[SqlName] = Field(
        default_factory=list,
        description="The primary key's columns; a composite key lists several.",
    )
    identities: list[IdentityColumn] = Field(default_factory=list)
    columns: list[ColumnMap] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    erase: Erase = Field(default=Erase.DELETE)
    hold: Hold | None = None
    restriction: Restriction | None = None
    retention: TableRetention | None = Field(
        default=None, description="How the retention sweep finds this table's expired rows."
    )

    @model_validator(mode="after")
    def _has_key(self) -> TableMap:
        if not self.key:
            raise ValueError(TABLE_NEEDS_KEY)
        return self

    def column(self, name: str) -> ColumnMap | None:
        return next((c for c in self.columns if c.name == name), None)


TABLE_NEEDS_KEY: Final = N_(
    "name the table's key columns in 'key' (the primary key, or a unique set of columns)"
)


class Datastore(_Strict):
    """A database a system keeps personal data in, and where the data is in it."""

    connection: Connection
    tables: Annotated[list[TableMap], Field(min_length=1)]
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=1000, description="Keys per statement when a plan reads or changes many rows."
    )

    @model_validator(mode="after")
    def _names_unique(self) -> Datastore:
        names = [t.name for t in self.tables]
        if len(set(names)) != len(names):
            raise ValueError(TABLE_LISTED_TWICE)
        return self

    def table(self, name: str) -> TableMap | None:
        return next((t for t in self.tables if t.name == name), None)


TABLE_LISTED_TWICE: Final = N_("a table is listed twice in this datastore")

Reference.model_rebuild()
