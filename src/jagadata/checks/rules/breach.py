"""A failure of personal data protection: written notice within 3 × 24 hours (Art. 46)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, rule
from jagadata.i18n import N_
from jagadata.law.facts import BREACH_NOTICE_HOURS
from jagadata.manifest.describe import describe_duration
from jagadata.manifest.schema import BreachThreshold

WRITTEN_CHANNELS: Final = frozenset({"email", "whatsapp", "sms", "website", "letter"})


def _audiences() -> tuple[tuple[str, str, str], ...]:
    """(field, who in words, letter of Art. 46(1))."""
    return (
        ("notify_subjects_within", N_("the people affected"), "a"),
        ("notify_authority_within", N_("the authority"), "b"),
    )


@rule(
    "PDP038",
    "breach-notice-too-late",
    title=N_("Breach notice later than 3 × 24 hours"),
    severity=Severity.ERROR,
    articles=(pasal("46(1)"),),
    description=N_(
        "After a failure of personal data protection, the controller notifies the people "
        "affected and the authority in writing within 3 × 24 hours at the latest (Art. 46(1))."
    ),
    hint=N_("Set 'breach: notify_subjects_within: 72h' and 'notify_authority_within: 72h' "
            "(or less)."),
)
def breach_notice_too_late(ctx: Context) -> Iterator[Hit]:
    breach = ctx.manifest.breach
    for field, audience, letter in _audiences():
        within = getattr(breach, field)
        if within is not None and within.approx_hours > BREACH_NOTICE_HOURS:
            yield Hit(
                ("breach", field),
                N_("Notice to {audience} within {promise} is later than the law's 3 × 24 "
                   "hours."),
                {"audience": ctx.t(audience),
                 "promise": describe_duration(within, ctx.lang)},
                articles=(pasal(f"46(1)({letter})"),),
            )


@rule(
    "PDP039",
    "breach-notice-not-stated",
    title=N_("Breach notice deadline not stated"),
    severity=Severity.WARNING,
    articles=(pasal("46(1)"),),
    description=N_(
        "The manifest does not say how soon the people affected or the authority are told of a "
        "breach; the law's 3 × 24 hours apply and jagadata's breach clock uses them, but the "
        "policy should say so."
    ),
    hint=N_("Set 'breach: notify_subjects_within: 72h' and 'notify_authority_within: 72h'."),
)
def breach_notice_not_stated(ctx: Context) -> Iterator[Hit]:
    breach = ctx.manifest.breach
    for field, audience, letter in _audiences():
        if getattr(breach, field) is None:
            yield Hit(
                ("breach", field),
                N_("No deadline is stated for notifying {audience} of a breach; jagadata "
                   "applies the law's 3 × 24 hours."),
                {"audience": ctx.t(audience)},
                articles=(pasal(f"46(1)({letter})"),),
            )


@rule(
    "PDP040",
    "breach-notice-threshold",
    title=N_("Breach notice limited to some breaches"),
    severity=Severity.ERROR,
    articles=(pasal("46(1)"),),
    description=N_(
        "Art. 46(1) requires notice of every failure of personal data protection; it sets no "
        "threshold such as a 'significant impact on your rights'."
    ),
    hint=N_("Set 'breach: threshold: every_breach'."),
)
def breach_notice_threshold(ctx: Context) -> Iterator[Hit]:
    if ctx.manifest.breach.threshold is BreachThreshold.SIGNIFICANT_IMPACT:
        yield Hit(
            ("breach", "threshold"),
            N_("Breach notice is promised only for breaches with a significant impact, but "
               "the law has no such threshold."),
        )


@rule(
    "PDP041",
    "breach-counted-from-occurrence",
    title=N_("Breach clock counted from the breach itself"),
    severity=Severity.INFO,
    articles=(pasal("46(1)"),),
    description=N_(
        "Art. 46(1) does not say whether the 3 × 24 hours start when the breach happens or when "
        "it is discovered. Counting from the breach itself promises more than the discovery "
        "reading and may run out before anyone knows of the breach."
    ),
    hint=N_(
        "Keep it if you can meet it; jagadata records both moments for every incident. "
        "Otherwise set 'breach: counted_from: discovery'."
    ),
)
def breach_counted_from_occurrence(ctx: Context) -> Iterator[Hit]:
    if ctx.manifest.breach.counted_from == "occurrence":
        yield Hit(
            ("breach", "counted_from"),
            N_("The breach notice clock starts when the breach happens, not when it is "
               "discovered."),
        )


@rule(
    "PDP042",
    "breach-no-written-channel",
    title=N_("No written channel for breach notices"),
    severity=Severity.WARNING,
    articles=(pasal("46(1)"), pasal("46(2)")),
    description=N_(
        "Breach notices are given in writing (Art. 46(1)) and state what data was exposed, when "
        "and how, and what is being done (Art. 46(2)); the manifest should name a written "
        "channel to reach people."
    ),
    hint=N_("Add 'breach: channels:', e.g. [email, whatsapp, website]."),
)
def breach_no_written_channel(ctx: Context) -> Iterator[Hit]:
    if not WRITTEN_CHANNELS.intersection(ctx.manifest.breach.channels):
        yield Hit(
            ("breach", "channels"),
            N_("No written channel is given for telling people of a breach."),
        )


@rule(
    "PDP043",
    "breach-no-public-notice",
    title=N_("No public notice of breaches"),
    severity=Severity.WARNING,
    articles=(pasal("46(3)"),),
    description=N_(
        "In certain cases the public must be told of a breach (Art. 46(3)), for example when "
        "public services are disrupted or the public interest is seriously affected."
    ),
    hint=N_("Set 'breach: public_notice: true'; jagadata asks for a decision per incident."),
)
def breach_no_public_notice(ctx: Context) -> Iterator[Hit]:
    if not ctx.manifest.breach.public_notice:
        yield Hit(
            ("breach", "public_notice"),
            N_("The manifest rules out public notice of breaches."),
        )
