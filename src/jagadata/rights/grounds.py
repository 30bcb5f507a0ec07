"""The only grounds on which a request may be refused, each with its article, and what the
person is told. A refusal without one of these is impossible (Art. 15, 33, 41(2), 50).

Art. 15(2) and 50(2) allow their exceptions "only to carry out a law": a refusal on those
grounds must name the law or regulation it relies on (`needs_reference`), and so must
Art. 41(2)(a), which is itself about a regulation that forbids restriction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from jagadata.i18n import N_, gettext
from jagadata.law.articles import Article, art
from jagadata.law.facts import RIGHTS, Right


@dataclass(frozen=True, slots=True)
class Ground:
    article: Article
    label: str
    explanation: str
    needs_reference: bool

    @property
    def key(self) -> str:
        return self.article.short

    def label_in(self, lang: str) -> str:
        return gettext(lang, self.label, domain="rights")

    def explanation_in(self, lang: str) -> str:
        return gettext(lang, self.explanation, domain="rights")


_DEFENCE = (
    N_("National defence and security"),
    N_("The law exempts this request where national defence and security require it."),
)
_ENFORCEMENT = (
    N_("Law enforcement"),
    N_("The law exempts this request where it would hinder a law enforcement process."),
)
_STATE = (
    N_("Public interest in running the state"),
    N_("The law exempts this request in the public interest of running the state."),
)
_FINANCE = (
    N_("Financial sector supervision"),
    N_(
        "The law exempts this request for the state's supervision of financial services, "
        "monetary policy, payment systems and financial stability."
    ),
)

_GROUNDS: Final = (
    Ground(art("15(1)(a)"), *_DEFENCE, True),
    Ground(art("15(1)(b)"), *_ENFORCEMENT, True),
    Ground(art("15(1)(c)"), *_STATE, True),
    Ground(art("15(1)(d)"), *_FINANCE, True),
    Ground(
        art("15(1)(e)"),
        N_("Statistics and scientific research"),
        N_("The law exempts this request where the data is processed for statistics or research."),
        True,
    ),
    Ground(
        art("33(a)"),
        N_("Danger to safety or health"),
        N_(
            "Granting it would endanger the safety or the physical or mental health of you or "
            "of another person."
        ),
        False,
    ),
    Ground(
        art("33(b)"),
        N_("Another person's data"),
        N_("Granting it would reveal another person's personal data."),
        False,
    ),
    Ground(
        art("33(c)"),
        N_("National defence and security"),
        N_("Granting it would conflict with national defence and security."),
        False,
    ),
    Ground(
        art("41(2)(a)"),
        N_("A regulation forbids restriction"),
        N_("A law or regulation does not allow this processing to be suspended or restricted."),
        True,
    ),
    Ground(
        art("41(2)(b)"),
        N_("Danger to others"),
        N_("Suspending or restricting this processing could endanger the safety of others."),
        False,
    ),
    Ground(
        art("41(2)(c)"),
        N_("A written agreement"),
        N_(
            "You are bound by a written agreement with us that does not allow this processing "
            "to be suspended or restricted."
        ),
        False,
    ),
    Ground(art("50(1)(a)"), *_DEFENCE, True),
    Ground(art("50(1)(b)"), *_ENFORCEMENT, True),
    Ground(art("50(1)(c)"), *_STATE, True),
    Ground(art("50(1)(d)"), *_FINANCE, True),
)
GROUNDS: Final = {ground.key: ground for ground in _GROUNDS}


class UnknownGround(ValueError):
    """The ground is not one the law allows for this right."""


def grounds_for(right: Right) -> tuple[Ground, ...]:
    """The grounds on which `right` may be refused, in the order of the law."""
    return tuple(GROUNDS[article.short] for article in RIGHTS[right].refusal_grounds)


def ground_for(right: Right, key: str) -> Ground:
    """The ground `key` (e.g. '33(b)') if the law allows it for `right`; else UnknownGround."""
    allowed = {ground.key: ground for ground in grounds_for(right)}
    if key not in allowed:
        raise UnknownGround(key)
    return allowed[key]
