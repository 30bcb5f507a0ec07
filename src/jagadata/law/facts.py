"""What UU PDP says, as data: legal bases, rights, deadlines, specific data, DPIA and DPO triggers.

Labels are English msgids translated through the `messages` catalogue; every fact carries the
article it comes from, so a rule, a deadline or a template can cite it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from jagadata.i18n import N_
from jagadata.law.articles import PERMENKOMINFO_20_2016, Article, art

STATUTORY_HOURS: Final = 72  # "3 x 24 (tiga kali dua puluh empat) jam"


class LegalBasis(StrEnum):
    """Art. 20(2) a-f."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTEREST = "vital_interest"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTEREST = "legitimate_interest"


@dataclass(frozen=True, slots=True)
class LegalBasisFact:
    basis: LegalBasis
    article: Article
    label: str
    description: str


LEGAL_BASES: Final = {
    LegalBasis.CONSENT: LegalBasisFact(
        LegalBasis.CONSENT,
        art("20(2)(a)"),
        N_("Explicit consent"),
        N_("Your explicit, valid consent for one or more stated purposes."),
    ),
    LegalBasis.CONTRACT: LegalBasisFact(
        LegalBasis.CONTRACT,
        art("20(2)(b)"),
        N_("Contract"),
        N_("Performing a contract with you, or steps you asked for before entering one."),
    ),
    LegalBasis.LEGAL_OBLIGATION: LegalBasisFact(
        LegalBasis.LEGAL_OBLIGATION,
        art("20(2)(c)"),
        N_("Legal obligation"),
        N_("Meeting a legal obligation of the controller under Indonesian law."),
    ),
    LegalBasis.VITAL_INTEREST: LegalBasisFact(
        LegalBasis.VITAL_INTEREST,
        art("20(2)(d)"),
        N_("Vital interests"),
        N_("Protecting your vital interests."),
    ),
    LegalBasis.PUBLIC_TASK: LegalBasisFact(
        LegalBasis.PUBLIC_TASK,
        art("20(2)(e)"),
        N_("Public interest or official authority"),
        N_("A task in the public interest, a public service, or the controller's legal authority."),
    ),
    LegalBasis.LEGITIMATE_INTEREST: LegalBasisFact(
        LegalBasis.LEGITIMATE_INTEREST,
        art("20(2)(f)"),
        N_("Legitimate interests"),
        N_("A legitimate interest, balanced against your rights."),
    ),
}


class Right(StrEnum):
    """The data subject's rights, Art. 5-13, in the order of the law."""

    INFORMATION = "information"
    RECTIFICATION = "rectification"
    ACCESS = "access"
    ERASURE = "erasure"
    WITHDRAW_CONSENT = "withdraw_consent"
    OBJECT_AUTOMATED = "object_automated"
    RESTRICTION = "restriction"
    COMPENSATION = "compensation"
    PORTABILITY = "portability"


@dataclass(frozen=True, slots=True)
class RightFact:
    right: Right
    articles: tuple[Article, ...]
    label: str
    description: str
    statutory_hours: int | None
    """Hours the law allows, counted from receipt of the request; None where it sets no limit."""
    recorded_request: bool
    """Art. 14: exercised by a recorded request (rights of Art. 6 to 11)."""
    refusal_grounds: tuple[Article, ...]


ART_50_EXEMPTIONS: Final = tuple(art(f"50(1)({letter})") for letter in "abcd")
"""Art. 50(1): the duties of Art. 30 (rectification), 32 (access) and 43-45 (erasure) yield to
defence and security, law enforcement, the public interest in running the state, and financial
sector supervision - only to carry out a law (Art. 50(2))."""

RIGHTS: Final = {
    Right.INFORMATION: RightFact(
        Right.INFORMATION,
        (art("5"),),
        N_("Right to information"),
        N_(
            "Know who is processing your data, on what legal basis, for what purpose, "
            "and who is accountable."
        ),
        None,
        False,
        (),
    ),
    Right.RECTIFICATION: RightFact(
        Right.RECTIFICATION,
        (art("6"), art("30(1)")),
        N_("Right to rectification"),
        N_("Complete, update or correct inaccurate data about you."),
        STATUTORY_HOURS,
        True,
        (art("33(a)"), art("33(b)"), art("33(c)"), *ART_50_EXEMPTIONS),
    ),
    Right.ACCESS: RightFact(
        Right.ACCESS,
        (art("7"), art("32(1)"), art("32(2)")),
        N_("Right of access"),
        N_("Get access to, and a copy of, your data together with its processing trail."),
        STATUTORY_HOURS,
        True,
        (art("33(a)"), art("33(b)"), art("33(c)"), *ART_50_EXEMPTIONS),
    ),
    Right.ERASURE: RightFact(
        Right.ERASURE,
        (art("8"), art("43(1)(c)"), art("44(1)(b)"), art("45")),
        N_("Right to erasure"),
        N_("End the processing of your data and have it erased or destroyed."),
        None,
        True,
        (*(art(f"15(1)({letter})") for letter in "abcde"), *ART_50_EXEMPTIONS),
    ),
    Right.WITHDRAW_CONSENT: RightFact(
        Right.WITHDRAW_CONSENT,
        (art("9"), art("40(1)"), art("40(2)")),
        N_("Right to withdraw consent"),
        N_("Withdraw consent at any time; processing based on it stops."),
        STATUTORY_HOURS,
        True,
        tuple(art(f"15(1)({letter})") for letter in "abcde"),
    ),
    Right.OBJECT_AUTOMATED: RightFact(
        Right.OBJECT_AUTOMATED,
        (art("10(1)"),),
        N_("Right to object to automated decisions"),
        N_(
            "Object to decisions based solely on automated processing, including profiling, "
            "that have legal or significant effects on you."
        ),
        None,
        True,
        tuple(art(f"15(1)({letter})") for letter in "abcde"),
    ),
    Right.RESTRICTION: RightFact(
        Right.RESTRICTION,
        (art("11"), art("41(1)"), art("41(3)")),
        N_("Right to restriction"),
        N_("Suspend or restrict the processing of your data."),
        STATUTORY_HOURS,
        True,
        (
            art("41(2)(a)"),
            art("41(2)(b)"),
            art("41(2)(c)"),
            *(art(f"15(1)({letter})") for letter in "abcde"),
        ),
    ),
    Right.COMPENSATION: RightFact(
        Right.COMPENSATION,
        (art("12(1)"),),
        N_("Right to compensation"),
        N_("Sue for and receive compensation for unlawful processing of your data."),
        None,
        False,
        (),
    ),
    Right.PORTABILITY: RightFact(
        Right.PORTABILITY,
        (art("13(1)"), art("13(2)")),
        N_("Right to data portability"),
        N_(
            "Receive your data in a commonly used, machine-readable format and send it to "
            "another controller."
        ),
        None,
        False,
        tuple(art(f"15(1)({letter})") for letter in "abcde"),
    ),
}


class SpecificType(StrEnum):
    """Art. 4(2): specific (sensitive) personal data."""

    HEALTH = "health"
    BIOMETRIC = "biometric"
    GENETIC = "genetic"
    CRIMINAL_RECORD = "criminal_record"
    CHILD = "child"
    FINANCIAL = "financial"
    OTHER = "other"


SPECIFIC_TYPES: Final = {
    SpecificType.HEALTH: (art("4(2)(a)"), N_("health data and information")),
    SpecificType.BIOMETRIC: (art("4(2)(b)"), N_("biometric data")),
    SpecificType.GENETIC: (art("4(2)(c)"), N_("genetic data")),
    SpecificType.CRIMINAL_RECORD: (art("4(2)(d)"), N_("criminal records")),
    SpecificType.CHILD: (art("4(2)(e)"), N_("children's data")),
    SpecificType.FINANCIAL: (art("4(2)(f)"), N_("personal financial data")),
    SpecificType.OTHER: (art("4(2)(g)"), N_("other data set by law")),
}


class DpiaTrigger(StrEnum):
    """Art. 34(2) a-g: processing with a potentially high risk, for which a DPIA is mandatory."""

    AUTOMATED_DECISION = "automated_decision"
    SPECIFIC_DATA = "specific_data"
    LARGE_SCALE = "large_scale"
    EVALUATION_SCORING_MONITORING = "evaluation_scoring_monitoring"
    DATASET_MATCHING = "dataset_matching"
    NEW_TECHNOLOGY = "new_technology"
    LIMITS_RIGHTS = "limits_rights"


DPIA_TRIGGERS: Final = {
    DpiaTrigger.AUTOMATED_DECISION: (
        art("34(2)(a)"),
        N_("automated decisions with legal or significant effects"),
    ),
    DpiaTrigger.SPECIFIC_DATA: (art("34(2)(b)"), N_("processing of specific personal data")),
    DpiaTrigger.LARGE_SCALE: (art("34(2)(c)"), N_("large-scale processing")),
    DpiaTrigger.EVALUATION_SCORING_MONITORING: (
        art("34(2)(d)"),
        N_("evaluation, scoring or systematic monitoring"),
    ),
    DpiaTrigger.DATASET_MATCHING: (art("34(2)(e)"), N_("matching or combining datasets")),
    DpiaTrigger.NEW_TECHNOLOGY: (art("34(2)(f)"), N_("use of new technology")),
    DpiaTrigger.LIMITS_RIGHTS: (
        art("34(2)(g)"),
        N_("processing that limits data subjects' rights"),
    ),
}


class TransferBasis(StrEnum):
    """Art. 56(2)-(4), to be tried in this order."""

    ADEQUATE_PROTECTION = "adequate_protection"
    BINDING_SAFEGUARDS = "binding_safeguards"
    CONSENT = "consent"


TRANSFER_BASES: Final = {
    TransferBasis.ADEQUATE_PROTECTION: (
        art("56(2)"),
        N_("the recipient's country protects personal data at least as well as UU PDP"),
    ),
    TransferBasis.BINDING_SAFEGUARDS: (
        art("56(3)"),
        N_("adequate and binding safeguards"),
    ),
    TransferBasis.CONSENT: (art("56(4)"), N_("your consent to the transfer")),
}


class DpoTrigger(StrEnum):
    """Art. 53(1) a-c: when a data protection officer must be appointed."""

    PUBLIC_SERVICE = "public_service"
    LARGE_SCALE_MONITORING = "large_scale_monitoring"
    LARGE_SCALE_SPECIFIC = "large_scale_specific"


DPO_TRIGGERS: Final = {
    DpoTrigger.PUBLIC_SERVICE: (art("53(1)(a)"), N_("processing for public services")),
    DpoTrigger.LARGE_SCALE_MONITORING: (
        art("53(1)(b)"),
        N_("core activities needing regular, systematic, large-scale monitoring"),
    ),
    DpoTrigger.LARGE_SCALE_SPECIFIC: (
        art("53(1)(c)"),
        N_("core activities of large-scale processing of specific or crime-related data"),
    ),
}

BREACH_NOTICE_HOURS: Final = STATUTORY_HOURS
BREACH_NOTICE: Final = art("46(1)")
BREACH_NOTICE_CONTENTS: Final = (art("46(2)(a)"), art("46(2)(b)"), art("46(2)(c)"))
BREACH_PUBLIC_NOTICE: Final = art("46(3)")
CHILD_AGE: Final = 18
"""A child is a person under 18 in Indonesian law (Law 35/2014 on child protection, Art. 1(1))."""

PERMENKOMINFO_MIN_RETENTION_YEARS: Final = 5
PERMENKOMINFO_RETENTION: Final = Article(15, 3, "b", law=PERMENKOMINFO_20_2016)
PERMENKOMINFO_RETENTION_START: Final = Article(16, law=PERMENKOMINFO_20_2016)
