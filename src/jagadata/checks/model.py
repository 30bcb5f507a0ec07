"""What the linter speaks in: severities, rules with their articles, and located findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from jagadata.i18n import gettext, ngettext
from jagadata.law.articles import PERMENKOMINFO_20_2016, Article, cite_all
from jagadata.manifest.errors import Path, format_path

if TYPE_CHECKING:
    from jagadata.checks.context import Context

DOMAIN: Final = "checks"
RULE_DOCS_URL: Final = "https://jagadata.id/docs/checks"


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


def _tn(lang: str, singular: str, plural: str, n: int) -> str:
    return ngettext(lang, singular, plural, n, DOMAIN)


class Severity(StrEnum):
    """How serious a finding is: an error breaks UU PDP, a warning risks it, info asks a human."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


def cite(articles: tuple[Article, ...], lang: str) -> str:
    """Citations grouped by law, each law named once: 'Art. 43(1)(a), Art. 75 UU PDP; Art. 16 …'."""
    by_law: dict[str, list[Article]] = {}
    for article in articles:
        by_law.setdefault(article.law, []).append(article)
    return "; ".join(cite_all(tuple(group), lang) for group in by_law.values())


def pasal(text: str) -> Article:
    """An article of UU PDP: pasal("20(2)(a)")."""
    return Article.parse(text)


def permenkominfo(text: str) -> Article:
    """An article of Permenkominfo 20/2016, the older regulation that yields to UU PDP (Art. 75)."""
    return Article.parse(text, law=PERMENKOMINFO_20_2016)


@dataclass(frozen=True, slots=True)
class Hit:
    """One place a rule fires: where, what (an English msgid with {placeholders}) and with what."""

    path: Path
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    hint: str | None = None
    articles: tuple[Article, ...] | None = None


Check = Callable[["Context"], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A duty of UU PDP checked against the manifest; `code` is stable and never reused."""

    code: str
    name: str
    title: str
    severity: Severity
    articles: tuple[Article, ...]
    description: str
    hint: str
    check: Check

    def title_in(self, lang: str) -> str:
        return _t(lang, self.title)

    def description_in(self, lang: str) -> str:
        return _t(lang, self.description)

    def hint_in(self, lang: str) -> str:
        return _t(lang, self.hint)

    def help_uri(self) -> str:
        return f"{RULE_DOCS_URL}#{self.code.lower()}"

    def cite(self, lang: str) -> str:
        return cite(self.articles, lang)


RULES: dict[str, Rule] = {}
"""Every rule, by code, in code order once `jagadata.checks.rules` is imported."""


def rule(
    code: str,
    name: str,
    *,
    title: str,
    severity: Severity,
    articles: tuple[Article, ...],
    description: str,
    hint: str,
) -> Callable[[Check], Check]:
    """Register a check function as rule `code`; a code may be registered only once."""

    def register(check: Check) -> Check:
        if code in RULES:
            raise ValueError(f"rule code {code} is registered twice")
        RULES[code] = Rule(code, name, title, severity, articles, description, hint, check)
        return check

    return register


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that fired at one place in the manifest, in the reader's language."""

    code: str
    severity: Severity
    message: str
    hint: str
    articles: tuple[Article, ...]
    path: Path
    line: int
    column: int
    file: str
    lang: str = "id"

    @property
    def rule(self) -> Rule:
        return RULES[self.code]

    @property
    def field_path(self) -> str:
        return format_path(self.path)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def citation(self, lang: str | None = None) -> str:
        return cite(self.articles, lang or self.lang)

    def sort_key(self) -> tuple[int, int, str, str]:
        return (self.line, self.column, self.code, self.field_path)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape documented in docs/checks.md."""
        return {
            "code": self.code,
            "name": self.rule.name,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "articles": [
                {"law": a.law, "article": a.short, "citation": a.cite(self.lang)}
                for a in self.articles
            ],
            "citation": self.citation(),
            "path": self.field_path,
            "path_parts": list(self.path),
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }
