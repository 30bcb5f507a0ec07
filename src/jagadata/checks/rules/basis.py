"""Legal bases and consent: Art. 20-24 and 40 of UU PDP, Art. 6 of Permenkominfo 20/2016."""

from __future__ import annotations

from collections.abc import Iterator

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, permenkominfo, rule
from jagadata.i18n import N_
from jagadata.law.facts import LegalBasis


@rule(
    "PDP001",
    "purpose-without-legal-basis",
    title=N_("Purpose without a legal basis"),
    severity=Severity.ERROR,
    articles=(pasal("20(1)"), pasal("20(2)")),
    description=N_(
        "Every purpose needs one of the six legal bases of Art. 20(2); processing without one "
        "is unlawful and is sanctioned under Art. 57."
    ),
    hint=N_(
        "Add 'legal_basis:' to the purpose: consent, contract, legal_obligation, vital_interest, "
        "public_task or legitimate_interest."
    ),
)
def purpose_without_legal_basis(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        if purpose.legal_basis is None:
            yield Hit(
                ("purposes", index, "legal_basis"),
                N_("Purpose '{purpose}' has no legal basis."),
                {"purpose": purpose.id},
            )


@rule(
    "PDP002",
    "consent-without-text",
    title=N_("Consent-based purpose without a consent request"),
    severity=Severity.ERROR,
    articles=(pasal("20(2)(a)"), pasal("21(1)"), pasal("22(1)")),
    description=N_(
        "Consent must be explicit, written or recorded, and given to a request that tells people "
        "what they agree to (Art. 21(1), 22(1)); a consent-based purpose needs the text of that "
        "request."
    ),
    hint=N_(
        "Add 'consent:' with the 'text:' people agree to, stating the purpose, the data, how long "
        "it is kept and their rights."
    ),
)
def consent_without_text(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        if purpose.legal_basis is not LegalBasis.CONSENT:
            continue
        if purpose.consent is None or not purpose.consent.text.languages():
            yield Hit(
                ("purposes", index, "consent"),
                N_("Purpose '{purpose}' relies on consent but states no consent request."),
                {"purpose": purpose.id},
            )


@rule(
    "PDP003",
    "consent-without-withdrawal",
    title=N_("Consent that cannot be withdrawn"),
    severity=Severity.ERROR,
    articles=(pasal("9"), pasal("40(1)"), pasal("40(2)")),
    description=N_(
        "People may withdraw consent at any time (Art. 9) and processing must stop within "
        "3 × 24 hours (Art. 40); a consent-based purpose needs at least one way to withdraw."
    ),
    hint=N_(
        "List the ways to withdraw under 'consent: withdrawal:', e.g. [web, email, whatsapp, "
        "unsubscribe_link, cookie_settings]."
    ),
)
def consent_without_withdrawal(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        consent = purpose.consent
        if purpose.legal_basis is LegalBasis.CONSENT and consent and not consent.withdrawal:
            yield Hit(
                ("purposes", index, "consent", "withdrawal"),
                N_("Consent for purpose '{purpose}' offers no way to withdraw it."),
                {"purpose": purpose.id},
            )


@rule(
    "PDP004",
    "consent-text-not-in-indonesian",
    title=N_("Consent request without an Indonesian text"),
    severity=Severity.ERROR,
    articles=(pasal("22(4)(c)"), pasal("22(5)"), permenkominfo("6")),
    description=N_(
        "A consent request must use simple, clear language (Art. 22(4)(c)) and the consent form "
        "must be in Bahasa Indonesia (Permenkominfo 20/2016 Art. 6); consent that fails this is "
        "void (Art. 22(5))."
    ),
    hint=N_(
        "Write the consent text in Indonesian first ('id:'); other languages may follow it as "
        "translations."
    ),
)
def consent_text_not_in_indonesian(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        consent = purpose.consent
        if consent and consent.text.languages() and not consent.text.has("id"):
            yield Hit(
                ("purposes", index, "consent", "text"),
                N_("The consent request of purpose '{purpose}' has no Indonesian text."),
                {"purpose": purpose.id},
            )


@rule(
    "PDP005",
    "consent-not-provable",
    title=N_("No record of how consent is collected"),
    severity=Severity.WARNING,
    articles=(pasal("22(1)"), pasal("24")),
    description=N_(
        "The controller must be able to show proof of consent (Art. 24); the manifest should say "
        "how consent is collected so jagadata can record each consent event."
    ),
    hint=N_(
        "Add 'consent: collected_via:', e.g. [web_form, cookie_banner, whatsapp, "
        "email_double_opt_in, paper, api]."
    ),
)
def consent_not_provable(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        consent = purpose.consent
        if purpose.legal_basis is LegalBasis.CONSENT and consent and not consent.collected_via:
            yield Hit(
                ("purposes", index, "consent"),
                N_("Purpose '{purpose}' does not say how consent is collected and recorded."),
                {"purpose": purpose.id},
            )


@rule(
    "PDP006",
    "legitimate-interest-without-balancing",
    title=N_("Legitimate interest without a balancing statement"),
    severity=Severity.ERROR,
    articles=(pasal("20(2)(f)"),),
    description=N_(
        "Legitimate interest is a legal basis only after weighing the purpose, the need and the "
        "balance between the controller's interest and the person's rights (Art. 20(2)(f))."
    ),
    hint=N_(
        "Add 'legitimate_interest:' stating the interest, why the processing is needed and why "
        "it does not override people's rights (e.g. an opt-out, no profiling)."
    ),
)
def legitimate_interest_without_balancing(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        if purpose.legal_basis is LegalBasis.LEGITIMATE_INTEREST and not (
            purpose.legitimate_interest and purpose.legitimate_interest.languages()
        ):
            yield Hit(
                ("purposes", index, "legal_basis"),
                N_("Purpose '{purpose}' relies on legitimate interest without a balancing "
                   "statement."),
                {"purpose": purpose.id},
            )


@rule(
    "PDP007",
    "legal-obligation-without-law",
    title=N_("Legal obligation that names no law"),
    severity=Severity.ERROR,
    articles=(pasal("20(2)(c)"),),
    description=N_(
        "A legal obligation is a basis only when it comes from a statute or regulation "
        "(Art. 20(2)(c)); people must be able to tell which one."
    ),
    hint=N_(
        "Add 'legal_obligation:' naming the law and the duty, e.g. the tax law's 10-year "
        "record keeping."
    ),
)
def legal_obligation_without_law(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        if purpose.legal_basis is LegalBasis.LEGAL_OBLIGATION and not (
            purpose.legal_obligation and purpose.legal_obligation.languages()
        ):
            yield Hit(
                ("purposes", index, "legal_basis"),
                N_("Purpose '{purpose}' relies on a legal obligation but names no law."),
                {"purpose": purpose.id},
            )
