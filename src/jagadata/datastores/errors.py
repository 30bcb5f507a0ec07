"""Errors the datastore engine reports to a person: what went wrong, where, and what to do."""

from __future__ import annotations

from jagadata.i18n import gettext
from jagadata.logs import redact


class DatastoreError(Exception):
    """A mapping, a connection or a plan that cannot run. Nothing was changed.

    `message` and `hint` are English msgids of the `datastores` domain with {placeholders};
    `str()` reads them in English, `in_language(lang)` in the reader's language. `where` names
    the place: 'shop_db', 'shop_db.orders', 'shop_db.orders.customer_id'.
    """

    def __init__(
        self, message: str, *, where: str | None = None, hint: str | None = None, **values: object
    ) -> None:
        self.message, self.hint, self.where, self.values = message, hint, where, values
        super().__init__(self.render("en"))

    def render(self, lang: str) -> str:
        text = gettext(lang, self.message, "datastores").format(**self.values)
        if self.where:
            text = f"{self.where}: {text}"
        if self.hint:
            text += " — " + gettext(lang, self.hint, "datastores").format(**self.values)
        return text

    def in_language(self, lang: str) -> str:
        return self.render(lang)


class MappingError(DatastoreError):
    """The manifest's mapping does not fit together or does not fit the live database."""


class ConnectionFailed(DatastoreError):
    """The database cannot be reached or refused jagadata's credentials."""


class MaskImpossible(MappingError):
    """A column's mask cannot be written within the column's type, length or NOT NULL."""


def driver_reason(error: BaseException) -> str:
    """The first line of what the database driver said, cut to 300 characters, with any email,
    phone number or NIK in it redacted: a driver may quote a row's values ("Duplicate entry
    'budi@…' for key 'email'"), and this text reaches the person, the log and the timeline."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return redact((lines[0] if lines else type(original).__name__)[:300])
