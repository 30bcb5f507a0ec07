"""The data subject's rights (Art. 5-14) and the controller's deadlines to honour them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, rule
from jagadata.i18n import N_, gettext
from jagadata.law.articles import Article
from jagadata.law.facts import RIGHTS, Right
from jagadata.manifest.commitments import promised, weaker_than_law
from jagadata.manifest.describe import describe_duration
from jagadata.manifest.errors import Path
from jagadata.manifest.schema import SystemKind

DEADLINE_ARTICLES: Final = {
    Right.RECTIFICATION: pasal("30(1)"),
    Right.ACCESS: pasal("32(2)"),
    Right.WITHDRAW_CONSENT: pasal("40(2)"),
    Right.RESTRICTION: pasal("41(1)"),
}
STAFF_STEPS: Final = {
    Right.ACCESS: (pasal("7"), pasal("32(1)")),
    Right.ERASURE: (pasal("8"), pasal("43(1)(c)")),
}


def _label(right: Right, lang: str) -> str:
    return gettext(lang, RIGHTS[right].label)


@rule(
    "PDP031",
    "right-not-offered",
    title=N_("A right of Art. 6-11 is not offered"),
    severity=Severity.ERROR,
    articles=(pasal("6"), pasal("7"), pasal("8"), pasal("9"), pasal("10(1)"), pasal("11"),
              pasal("14")),
    description=N_(
        "Rectification, access, erasure, withdrawal of consent, objection to automated decisions "
        "and restriction are rights the law gives everyone (Art. 6-11), exercised by a recorded "
        "request (Art. 14); a manifest may not leave one out."
    ),
    hint=N_(
        "Remove 'rights: offered:' to offer every right, or add the missing ones; refusals are "
        "decided per request on the grounds of Art. 15, 33 and 41(2)."
    ),
)
def right_not_offered(ctx: Context) -> Iterator[Hit]:
    offered = set(ctx.manifest.rights.offered)
    for right, fact in RIGHTS.items():
        if fact.recorded_request and right not in offered:
            yield Hit(
                ("rights", "offered"),
                N_("{right} ('{name}') is missing from rights.offered, but the law grants it to "
                   "everyone."),
                {"right": _label(right, ctx.lang), "name": right.value},
                articles=(*fact.articles, pasal("14")),
            )


@rule(
    "PDP032",
    "other-right-not-offered",
    title=N_("The right to information, compensation or portability is not offered"),
    severity=Severity.WARNING,
    articles=(pasal("5"), pasal("12(1)"), pasal("13(1)")),
    description=N_(
        "The rights to information (Art. 5), compensation (Art. 12) and portability (Art. 13) "
        "exist whatever the policy says; leaving them out misinforms people."
    ),
    hint=N_("Add the missing rights to 'rights: offered:', or remove the list to offer all."),
)
def other_right_not_offered(ctx: Context) -> Iterator[Hit]:
    offered = set(ctx.manifest.rights.offered)
    for right, fact in RIGHTS.items():
        if not fact.recorded_request and right not in offered:
            yield Hit(
                ("rights", "offered"),
                N_("{right} ('{name}') is missing from rights.offered, but the law grants it to "
                   "everyone."),
                {"right": _label(right, ctx.lang), "name": right.value},
                articles=fact.articles,
            )


@rule(
    "PDP033",
    "no-rights-channel",
    title=N_("No way to exercise rights"),
    severity=Severity.ERROR,
    articles=(pasal("14"),),
    description=N_(
        "Rights are exercised by a recorded request sent electronically or otherwise (Art. 14); "
        "people need at least one channel to send it."
    ),
    hint=N_(
        "Add 'rights: channels:', e.g. '- kind: email' with an address, '- kind: whatsapp', or "
        "'- kind: web' for jagadata's request page."
    ),
)
def no_rights_channel(ctx: Context) -> Iterator[Hit]:
    if not ctx.manifest.rights.channels:
        yield Hit(("rights", "channels"), N_("No channel is given for exercising rights."))


@rule(
    "PDP034",
    "automated-decisions-without-objection",
    title=N_("Automated decisions without the right to object"),
    severity=Severity.ERROR,
    articles=(pasal("10(1)"),),
    description=N_(
        "People may object to decisions based solely on automated processing, including "
        "profiling, that have legal or significant effects on them (Art. 10(1))."
    ),
    hint=N_("Add 'object_automated' to 'rights: offered:' and explain how a person reviews "
            "an objection."),
)
def automated_decisions_without_objection(ctx: Context) -> Iterator[Hit]:
    if Right.OBJECT_AUTOMATED in ctx.manifest.rights.offered:
        return
    for index, purpose in enumerate(ctx.manifest.purposes):
        if purpose.automated_decisions:
            yield Hit(
                ("purposes", index, "automated_decisions"),
                N_("Purpose '{purpose}' makes automated decisions but people cannot object "
                   "to them."),
                {"purpose": purpose.id},
            )


@rule(
    "PDP035",
    "response-weaker-than-law",
    title=N_("Response time longer than the law's 3 × 24 hours"),
    severity=Severity.WARNING,
    articles=tuple(DEADLINE_ARTICLES.values()),
    description=N_(
        "Rectification, access, stopping after consent is withdrawn and restriction must be done "
        "within 3 × 24 clock hours of the request (Art. 30(1), 32(2), 40(2), 41(1)). A longer "
        "promise, or one in working days, is weaker than the law: jagadata applies the law's "
        "deadline to those requests."
    ),
    hint=N_(
        "Promise 72h or less for these rights under 'rights: response: per_right:' so the "
        "published policy matches the deadline jagadata enforces."
    ),
)
def response_weaker_than_law(ctx: Context) -> Iterator[Hit]:
    manifest = ctx.manifest
    by_place: dict[Path, list[Right]] = {}
    for right in DEADLINE_ARTICLES:
        if not weaker_than_law(manifest, right):
            continue
        if right in manifest.rights.response.per_right:
            place: Path = ("rights", "response", "per_right", right.value)
        else:
            place = ("rights", "response", "fulfil_within")
        by_place.setdefault(place, []).append(right)
    for place, rights in by_place.items():
        promise = promised(manifest, rights[0])
        if promise is None:
            continue
        duration, calendar = promise
        articles: tuple[Article, ...] = tuple(DEADLINE_ARTICLES[r] for r in rights)
        yield Hit(
            place,
            N_("You promise {promise} for: {rights}. The law allows at most 3 × 24 hours, so "
               "jagadata applies the law's deadline to these requests."),
            {"promise": describe_duration(duration, ctx.lang, calendar=calendar),
             "rights": "; ".join(_label(r, ctx.lang) for r in rights)},
            articles=articles,
        )


@rule(
    "PDP036",
    "complaint-authority-missing",
    title=N_("No authority named for complaints"),
    severity=Severity.WARNING,
    articles=(pasal("60(i)"), pasal("64(1)")),
    description=N_(
        "The personal data protection authority receives complaints (Art. 60(i)) and disputes "
        "may go to arbitration, the courts or other dispute resolution (Art. 64(1)); people "
        "should be told where to turn."
    ),
    hint=N_(
        "Add 'governing_law: complaint_authority:' with the authority's name and address "
        "(until the lembaga of Art. 58 is set up, the ministry in charge, Komdigi)."
    ),
)
def complaint_authority_missing(ctx: Context) -> Iterator[Hit]:
    if ctx.manifest.governing_law.complaint_authority is None:
        yield Hit(
            ("governing_law", "complaint_authority"),
            N_("The manifest does not say where people can complain."),
        )


@rule(
    "PDP037",
    "system-without-staff-steps",
    title=N_("Manual system without steps for access or erasure"),
    severity=Severity.WARNING,
    articles=(pasal("7"), pasal("8"), pasal("32(1)"), pasal("43(1)(c)")),
    description=N_(
        "Access must be given within 3 × 24 hours (Art. 32) and erasure done on request "
        "(Art. 43(1)(c)); for a manual system such as WhatsApp Business or a mailbox, staff need "
        "written steps jagadata can show them."
    ),
    hint=N_(
        "Add 'instructions:' to the system with the steps for 'access:' and 'erasure:'."
    ),
)
def system_without_staff_steps(ctx: Context) -> Iterator[Hit]:
    for index, system in enumerate(ctx.manifest.systems):
        if system.kind is not SystemKind.MANUAL or not system.categories:
            continue
        missing = [r for r in STAFF_STEPS if r not in system.instructions]
        if missing:
            yield Hit(
                ("systems", index, "instructions"),
                N_("Staff have no written steps in system '{system}' for: {rights}."),
                {"system": system.id, "rights": "; ".join(_label(r, ctx.lang) for r in missing)},
                articles=tuple(a for r in missing for a in STAFF_STEPS[r]),
            )
