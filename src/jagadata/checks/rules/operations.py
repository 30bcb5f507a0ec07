"""Running the promises: notice of changes (Art. 21(2)), security (Art. 35, 39), cookies."""

from __future__ import annotations

from collections.abc import Iterator

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, permenkominfo, rule
from jagadata.i18n import N_
from jagadata.law.facts import LegalBasis
from jagadata.manifest.schema import CookieCategory, SecurityKind


@rule(
    "PDP044",
    "changes-without-notice",
    title=N_("Changes applied without notice in advance"),
    severity=Severity.ERROR,
    articles=(pasal("21(2)"),),
    description=N_(
        "When the information given to people changes, the controller tells them before the "
        "change applies (Art. 21(2)); the manifest needs a notice period and a channel."
    ),
    hint=N_(
        "Set 'changes: advance_notice:' (e.g. 14d) and 'changes: channels:' (e.g. [website, "
        "email])."
    ),
)
def changes_without_notice(ctx: Context) -> Iterator[Hit]:
    changes = ctx.manifest.changes
    if changes.advance_notice is None or changes.advance_notice.amount == 0:
        yield Hit(
            ("changes", "advance_notice"),
            N_("Changes to the policy may apply before people are told of them."),
        )
    if not changes.channels:
        yield Hit(
            ("changes", "channels"),
            N_("No channel is given for telling people of changes before they apply."),
        )


@rule(
    "PDP045",
    "no-security-measures",
    title=N_("No security measures"),
    severity=Severity.ERROR,
    articles=(pasal("35"), pasal("39(1)")),
    description=N_(
        "The controller protects the data it processes with technical and operational measures "
        "proportionate to its nature and risk (Art. 35) and prevents unauthorised access "
        "(Art. 39(1))."
    ),
    hint=N_(
        "List the measures under 'security: measures:', e.g. encryption_in_transit, "
        "encryption_at_rest, access_control, backups."
    ),
)
def no_security_measures(ctx: Context) -> Iterator[Hit]:
    if not ctx.manifest.security.measures:
        yield Hit(("security", "measures"), N_("No security measure is declared."))


@rule(
    "PDP046",
    "no-encryption-at-rest",
    title=N_("Stored data not encrypted"),
    severity=Severity.WARNING,
    articles=(permenkominfo("15(2)"), pasal("35(b)")),
    description=N_(
        "Permenkominfo 20/2016 Art. 15(2) requires personal data stored in an electronic system "
        "to be encrypted, and UU PDP Art. 35(b) sets security by the data's risk."
    ),
    hint=N_(
        "Encrypt databases and backups and add '- kind: encryption_at_rest' under "
        "'security: measures:'."
    ),
)
def no_encryption_at_rest(ctx: Context) -> Iterator[Hit]:
    measures = ctx.manifest.security.measures
    if measures and all(m.kind is not SecurityKind.ENCRYPTION_AT_REST for m in measures):
        yield Hit(
            ("security", "measures"),
            N_("No measure says that stored personal data is encrypted."),
        )


@rule(
    "PDP047",
    "cookie-without-purpose",
    title=N_("Non-essential cookie linked to no purpose"),
    severity=Severity.WARNING,
    articles=(pasal("20(1)"), pasal("21(1)(b)")),
    description=N_(
        "A cookie that is not strictly needed processes personal data for a purpose of its own; "
        "without a link to a purpose in the manifest it has no visible legal basis (Art. 20(1))."
    ),
    hint=N_(
        "Add 'purpose_ref:' naming the purpose the cookie serves, usually a consent-based one "
        "asked for in the cookie banner."
    ),
)
def cookie_without_purpose(ctx: Context) -> Iterator[Hit]:
    for index, cookie in enumerate(ctx.manifest.cookies):
        if cookie.category is not CookieCategory.ESSENTIAL and cookie.purpose_ref is None:
            yield Hit(
                ("cookies", index),
                N_("The {category} cookie of {provider} is linked to no purpose."),
                {"category": cookie.category.value, "provider": cookie.provider},
            )


@rule(
    "PDP048",
    "cookie-without-consent",
    title=N_("Non-essential cookie set without consent"),
    severity=Severity.INFO,
    articles=(pasal("20(2)(a)"), pasal("20(2)(f)")),
    description=N_(
        "Analytics, marketing and preference cookies are usually set only after consent given "
        "in the cookie banner (Art. 20(2)(a)); another basis, such as legitimate interest, needs "
        "its balancing and a way to refuse."
    ),
    hint=N_(
        "Link the cookie to a consent-based purpose so the banner asks first, or keep the "
        "balancing statement and an easy way to refuse the cookie."
    ),
)
def cookie_without_consent(ctx: Context) -> Iterator[Hit]:
    bases = ctx.purpose_bases
    for index, cookie in enumerate(ctx.manifest.cookies):
        if cookie.category is CookieCategory.ESSENTIAL or cookie.purpose_ref is None:
            continue
        basis = bases.get(cookie.purpose_ref)
        if basis is not None and basis is not LegalBasis.CONSENT:
            yield Hit(
                ("cookies", index, "purpose_ref"),
                N_("The {category} cookie of {provider} serves purpose '{purpose}', which is "
                   "based on '{basis}', not consent."),
                {"category": cookie.category.value, "provider": cookie.provider,
                 "purpose": cookie.purpose_ref, "basis": basis.value},
            )
