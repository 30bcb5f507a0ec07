"""Purpose limitation and data minimisation: Art. 4, 16(2)(a)-(b), 27 and 28 of UU PDP."""

from __future__ import annotations

from collections.abc import Iterator

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, rule
from jagadata.i18n import N_
from jagadata.manifest.schema import Sensitivity


@rule(
    "PDP008",
    "purpose-without-categories",
    title=N_("Purpose that names no personal data"),
    severity=Severity.WARNING,
    articles=(pasal("16(2)(a)"), pasal("21(1)(c)"), pasal("27")),
    description=N_(
        "Processing must be limited, specific and transparent (Art. 16(2)(a), 27); a purpose "
        "should say which categories of data it uses so people can see them."
    ),
    hint=N_("List the data the purpose uses under 'categories:' (ids from data.categories)."),
)
def purpose_without_categories(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        if not purpose.categories:
            yield Hit(
                ("purposes", index),
                N_("Purpose '{purpose}' does not say which personal data it uses."),
                {"purpose": purpose.id},
            )


@rule(
    "PDP009",
    "category-without-purpose",
    title=N_("Personal data no purpose uses"),
    severity=Severity.WARNING,
    articles=(pasal("16(2)(a)"), pasal("27"), pasal("28")),
    description=N_(
        "Data is collected only for stated purposes (Art. 16(2)(a), 27, 28); a declared category "
        "that no purpose uses is either undocumented processing or data that should not be "
        "collected."
    ),
    hint=N_(
        "Add the category to the purposes that use it, or stop collecting it and remove it "
        "from the manifest."
    ),
)
def category_without_purpose(ctx: Context) -> Iterator[Hit]:
    used = ctx.used_categories
    for index, category in enumerate(ctx.manifest.data.categories):
        if category.id not in used:
            yield Hit(
                ("data", "categories", index, "id"),
                N_("Category '{category}' is declared but no purpose uses it."),
                {"category": category.id},
            )


@rule(
    "PDP010",
    "category-sensitivity-mismatch",
    title=N_("Specific data not typed, or typed but marked general"),
    severity=Severity.WARNING,
    articles=(pasal("4(1)"), pasal("4(2)")),
    description=N_(
        "Specific personal data (Art. 4(2)) carries extra duties such as a DPIA; a category's "
        "'sensitivity' and 'specific_type' must agree so those duties are found."
    ),
    hint=N_(
        "For specific data set 'sensitivity: specific' and 'specific_type:' (health, biometric, "
        "genetic, criminal_record, child, financial, other); otherwise remove 'specific_type'."
    ),
)
def category_sensitivity_mismatch(ctx: Context) -> Iterator[Hit]:
    for index, category in enumerate(ctx.manifest.data.categories):
        specific = category.sensitivity is Sensitivity.SPECIFIC
        if specific and category.specific_type is None:
            yield Hit(
                ("data", "categories", index, "sensitivity"),
                N_("Category '{category}' is specific data but does not say which kind of "
                   "Art. 4(2)."),
                {"category": category.id},
            )
        elif not specific and category.specific_type is not None:
            yield Hit(
                ("data", "categories", index, "specific_type"),
                N_("Category '{category}' has a specific type but is marked as general data."),
                {"category": category.id},
            )
