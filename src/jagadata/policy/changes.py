"""One change between two manifests: what it touches, whether it is material, its article,
and a sentence describing it in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from jagadata.i18n import gettext
from jagadata.law.articles import Article, art
from jagadata.manifest.describe import describe_duration, describe_retention
from jagadata.manifest.types import CookieDuration, Duration, RetentionPeriod, Text
from jagadata.policy.labels import _t
from jagadata.policy.words import Words, country_names

NOTICE: Final = art("21(2)")
"""Material changes are announced before they apply."""


class Area(StrEnum):
    PURPOSE = "purpose"
    LEGAL_BASIS = "legal_basis"
    CATEGORY = "category"
    RECIPIENT = "recipient"
    TRANSFER = "transfer"
    RETENTION = "retention"
    COOKIE = "cookie"
    RIGHTS = "rights"
    CONTACT = "contact"


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class Countries:
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Names:
    """Several manifest names (Text or plain), joined in the reader's language."""

    items: tuple[Text | str | Label, ...]


@dataclass(frozen=True, slots=True)
class Label:
    """A msgid of the `policy` or `messages` catalogue, translated when described."""

    message: str
    domain: str = "policy"


@dataclass(frozen=True, slots=True)
class PolicyChange:
    area: Area
    kind: ChangeKind
    key: str
    message: str
    values: tuple[tuple[str, Any], ...]
    material: bool
    article: Article
    purposes: tuple[str, ...] = ()

    def describe(self, lang: str) -> str:
        """The change in one sentence of `lang`."""
        params = {name: _localise(value, lang) for name, value in self.values}
        return _t(lang, self.message).format(**params)

    def to_dict(self, lang: str) -> dict[str, Any]:
        return {
            "area": self.area.value,
            "kind": self.kind.value,
            "key": self.key,
            "material": self.material,
            "article": self.article.cite(lang),
            "description": self.describe(lang),
            "purposes": list(self.purposes),
        }


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    changes: tuple[PolicyChange, ...]
    consent_purposes: frozenset[str] = field(default_factory=frozenset)

    @property
    def material(self) -> tuple[PolicyChange, ...]:
        return tuple(change for change in self.changes if change.material)

    @property
    def has_material_changes(self) -> bool:
        return any(change.material for change in self.changes)

    def to_dict(self, lang: str) -> dict[str, Any]:
        return {
            "material": self.has_material_changes,
            "notice_article": NOTICE.cite(lang),
            "changes": [change.to_dict(lang) for change in self.changes],
        }


def _localise(value: Any, lang: str) -> str:
    if isinstance(value, Text):
        return value.get(lang)
    if isinstance(value, Label):
        return gettext(lang, value.message, value.domain)
    if isinstance(value, Names):
        return Words(lang).join([_localise(item, lang) for item in value.items])
    if isinstance(value, Countries):
        return Words(lang).join(country_names(value.codes, lang))
    if isinstance(value, RetentionPeriod):
        return describe_retention(value, lang)
    if isinstance(value, Duration | CookieDuration):
        return describe_duration(value, lang)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], Duration):
        return describe_duration(value[0], lang, calendar=value[1])
    return str(value)
