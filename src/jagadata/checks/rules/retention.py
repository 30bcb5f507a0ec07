"""Retention: disclosed per category (Art. 21(1)(d)), ended on time (Art. 42-44), and the
older Permenkominfo 20/2016 minimum surfaced for a person to weigh (UU PDP Art. 75)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, permenkominfo, rule
from jagadata.i18n import N_
from jagadata.law.facts import PERMENKOMINFO_MIN_RETENTION_YEARS
from jagadata.manifest.describe import describe_retention
from jagadata.manifest.types import Duration

MINIMUM: Final = Duration(PERMENKOMINFO_MIN_RETENTION_YEARS, "y")


@rule(
    "PDP029",
    "category-without-retention",
    title=N_("Personal data without a retention period"),
    severity=Severity.ERROR,
    articles=(pasal("21(1)(d)"), pasal("16(2)(g)"), pasal("42(1)(a)")),
    description=N_(
        "People must be told how long their data is kept (Art. 21(1)(d)), and processing ends "
        "and data is erased when that period ends (Art. 16(2)(g), 42(1)(a)); every category "
        "needs a retention rule."
    ),
    hint=N_(
        "Add the category to a rule under 'retention:' with a 'period:' such as "
        "'account_closed + 5y', '24m' or 'until consent_withdrawn'."
    ),
)
def category_without_retention(ctx: Context) -> Iterator[Hit]:
    retained = ctx.retained_categories
    for index, category in enumerate(ctx.manifest.data.categories):
        if category.id not in retained:
            yield Hit(
                ("data", "categories", index, "id"),
                N_("No retention period covers category '{category}'."),
                {"category": category.id},
            )


@rule(
    "PDP030",
    "retention-below-permenkominfo-minimum",
    title=N_("Retention shorter than Permenkominfo 20/2016's five years: for review"),
    severity=Severity.INFO,
    articles=(
        permenkominfo("15(3)(b)"),
        permenkominfo("16"),
        pasal("43(1)(a)"),
        pasal("43(1)(b)"),
        pasal("75"),
    ),
    description=N_(
        "Permenkominfo 20/2016 asks electronic system operators to keep personal data at least "
        "five years after the user's last day unless a sector rule says otherwise (Art. 15(3), "
        "16). UU PDP requires erasure when data is no longer needed or consent is withdrawn "
        "(Art. 43(1)) and keeps older rules only where they do not conflict with it (Art. 75). "
        "jagadata does not decide this conflict: it shows it for a person to weigh."
    ),
    hint=N_(
        "Decide with your adviser: keep the shorter period under UU PDP Art. 43 and 75, or "
        "lengthen it; if a sector rule sets the period, name it under 'legal_source:'."
    ),
)
def retention_below_permenkominfo_minimum(ctx: Context) -> Iterator[Hit]:
    for index, retention in enumerate(ctx.manifest.retention):
        period = retention.period
        if retention.legal_source is not None:
            continue
        if period.is_until_event or period.duration.approx_hours < MINIMUM.approx_hours:
            yield Hit(
                ("retention", index, "period"),
                N_("Retention '{retention}' keeps data {period}, less than the five years "
                   "Permenkominfo 20/2016 asks for."),
                {"retention": retention.id, "period": describe_retention(period, ctx.lang)},
            )
