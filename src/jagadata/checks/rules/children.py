"""Children's data: specific data (Art. 4(2)(e)), processed with a parent's consent (Art. 25)."""

from __future__ import annotations

from collections.abc import Iterator

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, rule
from jagadata.i18n import N_
from jagadata.law.facts import CHILD_AGE, LegalBasis
from jagadata.manifest.schema import ParentalConsent


@rule(
    "PDP016",
    "children-without-parental-consent",
    title=N_("Children's data without a parent's or guardian's consent"),
    severity=Severity.ERROR,
    articles=(pasal("25(1)"), pasal("25(2)")),
    description=N_(
        "Processing a child's personal data requires the consent of the child's parent or "
        "guardian (Art. 25(2)); a manifest that serves children or holds their data must require "
        "it."
    ),
    hint=N_(
        "Set 'children: parental_consent: required' and describe under 'verification:' how the "
        "parent's or guardian's authority is checked."
    ),
)
def children_without_parental_consent(ctx: Context) -> Iterator[Hit]:
    children = ctx.manifest.children
    if (children.served or ctx.has_children_data) and (
        children.parental_consent is not ParentalConsent.REQUIRED
    ):
        yield Hit(
            ("children", "parental_consent"),
            N_("Children's data is processed but a parent's or guardian's consent is not "
               "required."),
        )


@rule(
    "PDP017",
    "children-data-without-consent-basis",
    title=N_("Children's data on a basis other than consent"),
    severity=Severity.WARNING,
    articles=(pasal("25(2)"), pasal("20(2)(a)")),
    description=N_(
        "Art. 25(2) asks for a parent's or guardian's consent whenever a child's data is "
        "processed; a purpose using children's data on another basis must show how that consent "
        "is still obtained."
    ),
    hint=N_(
        "Base the purpose on consent given by the parent or guardian, or record why another "
        "basis applies and how the parent's consent is obtained."
    ),
)
def children_data_without_consent_basis(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        basis = purpose.legal_basis
        if basis is not None and basis is not LegalBasis.CONSENT and ctx.processes_children(
            purpose
        ):
            yield Hit(
                ("purposes", index, "legal_basis"),
                N_("Purpose '{purpose}' processes children's data on the basis '{basis}', not "
                   "a parent's consent."),
                {"purpose": purpose.id, "basis": basis.value},
            )


@rule(
    "PDP018",
    "children-without-verification",
    title=N_("Children served without age and guardian verification"),
    severity=Severity.ERROR,
    articles=(pasal("25(1)"), pasal("25(2)")),
    description=N_(
        "A parent's consent means little if no one checks the child's age or the parent's "
        "authority; children's data is processed specially (Art. 25(1)) and UU ITE Art. 16A-16B "
        "(Law 1/2024) adds age verification duties."
    ),
    hint=N_(
        "Describe under 'children: verification:' how age is established and how the parent or "
        "guardian is identified before their consent is recorded."
    ),
)
def children_without_verification(ctx: Context) -> Iterator[Hit]:
    children = ctx.manifest.children
    if children.served and not (children.verification and children.verification.languages()):
        yield Hit(
            ("children", "verification"),
            N_("The services are used by children but no age or guardian verification is "
               "described."),
        )


@rule(
    "PDP019",
    "minimum-age-below-majority",
    title=N_("Minimum age below 18"),
    severity=Severity.ERROR,
    articles=(pasal("25(2)"),),
    description=N_(
        "A child is a person under 18 in Indonesian law (Law 35/2014 Art. 1(1)); letting younger "
        "people use the service alone would process their data without a parent's consent "
        "(Art. 25(2))."
    ),
    hint=N_(
        "Set 'children: minimum_age: 18' and ask a parent or guardian to consent for anyone "
        "younger."
    ),
)
def minimum_age_below_majority(ctx: Context) -> Iterator[Hit]:
    minimum = ctx.manifest.children.minimum_age
    if minimum < CHILD_AGE:
        yield Hit(
            ("children", "minimum_age"),
            N_("People from age {age} may use the service alone, but anyone under {adult} is a "
               "child whose parent must consent."),
            {"age": minimum, "adult": CHILD_AGE},
        )


@rule(
    "PDP020",
    "children-data-not-served",
    title=N_("Children's data declared while children are not served"),
    severity=Severity.WARNING,
    articles=(pasal("4(2)(e)"), pasal("25(1)")),
    description=N_(
        "The manifest declares children's data (a subject group of children or a category of "
        "type 'child') yet says the services are not used by children; the special processing of "
        "Art. 25 depends on getting this right."
    ),
    hint=N_(
        "Set 'children: served: true' and describe the verification, or remove the children's "
        "data from the manifest if it is not processed."
    ),
)
def children_data_not_served(ctx: Context) -> Iterator[Hit]:
    if ctx.has_children_data and not ctx.manifest.children.served:
        yield Hit(
            ("children", "served"),
            N_("Children's data is declared ({where}) but 'children: served' is false."),
            {"where": ", ".join(sorted(ctx.child_groups | ctx.child_categories))},
        )
