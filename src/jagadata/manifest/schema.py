"""The privacy manifest: one YAML file per organisation, the single source of truth.

Every model forbids unknown keys: a typo must never silently drop a promise.
The field descriptions become the JSON Schema (`jagadata manifest schema`) that editors use.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from jagadata.i18n import N_
from jagadata.law.facts import DpiaTrigger, LegalBasis, Right, SpecificType, TransferBasis
from jagadata.manifest.mapping import Datastore
from jagadata.manifest.types import (
    CookieDuration,
    CountryCode,
    Duration,
    OrgSlug,
    RetentionPeriod,
    Slug,
    Text,
)

FORMAT_VERSION = 1
LanguageCode = Literal["id", "en", "fr"]
_ALL_LANGUAGES: tuple[LanguageCode, ...] = ("id", "en", "fr")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


# --- who ----------------------------------------------------------------------------------


class LegalForm(StrEnum):
    UMKM = "umkm"
    PERORANGAN = "perorangan"
    CV = "cv"
    FIRMA = "firma"
    PT = "pt"
    PT_TBK = "pt_tbk"
    PT_PERORANGAN = "pt_perorangan"
    KOPERASI = "koperasi"
    YAYASAN = "yayasan"
    PERKUMPULAN = "perkumpulan"
    BADAN_PUBLIK = "badan_publik"
    FOREIGN = "foreign"
    OTHER = "other"


class Dpo(Strict):
    """The officer carrying out the personal data protection function (Art. 53-54)."""

    name: str = Field(description="Name or role of the officer, e.g. 'Petugas PDP'.")
    email: EmailStr
    phone: str | None = None
    external: bool = Field(
        default=False, description="Appointed from outside the organisation (Art. 53(3))."
    )


class Organisation(Strict):
    """The controller (Pengendali Data Pribadi)."""

    slug: OrgSlug = Field(description="Short name used in addresses: /o/{slug}/.")
    name: str = Field(description="Legal name of the controller, as registered.")
    trading_name: str | None = Field(default=None, description="Name the public knows.")
    legal_form: LegalForm
    registration: str | None = Field(
        default=None, description="Business registration, e.g. 'NIB 1234567890123'."
    )
    address: str
    email: EmailStr
    whatsapp: str | None = Field(default=None, description="WhatsApp number, e.g. +62 812 ...")
    phone: str | None = None
    website: str | None = None
    public_service: bool = Field(
        default=False,
        description="Processes personal data for public services (Art. 53(1)(a) asks for a DPO).",
    )
    large_scale: bool = Field(
        default=False,
        description="Core activities process personal data on a large scale (Art. 34(2)(c), 53).",
    )
    subjects_estimate: int | None = Field(
        default=None, ge=0, description="Roughly how many people's data is held."
    )
    timezone: TimeZone = Field(
        default="WIB",
        description="Time zone of the organisation's own calendar (WIB, WITA or WIT): deadlines "
        "in working days end at its close of business day.",
    )
    dpo: Dpo | None = None

    @property
    def display_name(self) -> str:
        return self.trading_name or self.name


class Policy(Strict):
    effective: date = Field(description="Date the policy text takes effect.")
    url: str | None = Field(default=None, description="Where the policy is published.")
    services: Text | None = Field(
        default=None,
        description="The websites, apps and services the policy covers, in a sentence.",
    )


class DataSubjectGroup(Strict):
    """A group of people whose data is processed, e.g. customers, pupils, parents."""

    id: Slug
    name: Text
    children: bool = Field(
        default=False, description="The group includes people under 18 (Art. 25)."
    )
    description: Text | None = None


# --- what ---------------------------------------------------------------------------------


class Source(StrEnum):
    DIRECT = "direct"
    AUTOMATIC = "automatic"
    THIRD_PARTY = "third_party"


class Sensitivity(StrEnum):
    GENERAL = "general"
    SPECIFIC = "specific"


class DataCategory(Strict):
    """A kind of personal data, general or specific (Art. 4)."""

    id: Slug
    name: Text
    items: list[Text] = Field(
        default_factory=list, description="What the category holds: 'full name', 'gender'."
    )
    sensitivity: Sensitivity = Sensitivity.GENERAL
    specific_type: SpecificType | None = Field(
        default=None, description="For specific data: which kind of Art. 4(2)."
    )
    source: Source = Field(description="How it is obtained: direct, automatic or third_party.")
    source_party: Text | None = Field(
        default=None, description="Who provides it, when source is third_party."
    )
    optional: bool = Field(default=False, description="People may choose not to give it.")
    subjects: list[Slug] = Field(
        default_factory=list, description="Data subject groups it concerns; empty means all."
    )


class NotCollected(Strict):
    """An explicit promise that something is not collected or not stored."""

    id: Slug
    description: Text
    detectors: list[
        Literal["card_number", "bank_account", "nik", "npwp", "health", "biometric"]
    ] = Field(
        default_factory=list,
        description="Detectors a datastore scan uses to prove the promise holds.",
    )
    exception: Text | None = Field(
        default=None, description="Stated exception, e.g. when a person volunteers it."
    )


class Data(Strict):
    categories: list[DataCategory] = Field(min_length=1)
    not_collected: list[NotCollected] = Field(default_factory=list)


# --- why ----------------------------------------------------------------------------------


class WithdrawalChannel(StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    WEB = "web"
    UNSUBSCRIBE_LINK = "unsubscribe_link"
    COOKIE_SETTINGS = "cookie_settings"
    PHONE = "phone"
    POST = "post"


class ConsentTerms(Strict):
    """How consent for a purpose is asked and withdrawn (Art. 20(2)(a), 21-24, 40)."""

    text: Text = Field(description="The request for consent, as shown to the person.")
    withdrawal: list[WithdrawalChannel] = Field(
        default_factory=list, description="Ways to withdraw consent (Art. 9, 40)."
    )
    renew_after: Duration | None = Field(
        default=None, description="Ask again after this long, e.g. 24m."
    )
    collected_via: list[
        Literal["web_form", "cookie_banner", "whatsapp", "email_double_opt_in", "paper", "api"]
    ] = Field(default_factory=list)


class DpiaStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Dpia(Strict):
    status: DpiaStatus
    completed_on: date | None = None
    reference: str | None = Field(default=None, description="Where the assessment is kept.")


class Purpose(Strict):
    """Why data is processed, with exactly one legal basis from Art. 20(2)."""

    id: Slug
    name: Text
    description: Text | None = None
    legal_basis: LegalBasis | None = Field(
        default=None, description="One of Art. 20(2) a-f; a purpose without one is unlawful."
    )
    categories: list[Slug] = Field(default_factory=list)
    subjects: list[Slug] = Field(default_factory=list)
    recipients: list[Slug] = Field(default_factory=list)
    consent: ConsentTerms | None = None
    legitimate_interest: Text | None = Field(
        default=None, description="The interest and why it does not override people's rights."
    )
    legal_obligation: Text | None = Field(
        default=None, description="The law that creates the obligation."
    )
    automated_decisions: bool = Field(
        default=False,
        description="Decisions made solely by automated processing, including profiling (Art. 10).",
    )
    high_risk: list[DpiaTrigger] = Field(
        default_factory=list,
        description="Art. 34(2) features of this processing beyond those jagadata derives.",
    )
    dpia: Dpia | None = None


# --- to whom ------------------------------------------------------------------------------


class RecipientRole(StrEnum):
    PROCESSOR = "processor"
    CONTROLLER = "controller"
    JOINT_CONTROLLER = "joint_controller"
    AUTHORITY = "authority"


class Safeguard(StrEnum):
    CONTRACT = "contract"
    CONFIDENTIALITY = "confidentiality"
    STANDARD_CLAUSES = "standard_clauses"
    BINDING_CORPORATE_RULES = "binding_corporate_rules"
    CERTIFICATION = "certification"
    ENCRYPTION = "encryption"
    ADEQUATE_LAW = "adequate_law"


class Recipient(Strict):
    """A processor, third party or authority that receives personal data."""

    id: Slug
    name: str | Text = Field(
        description="A proper name as plain text ('Hostinger'), or a generic one in every "
        "language: {id: Penyedia jasa pembayaran, en: Payment service providers}."
    )
    role: RecipientRole
    service: Text = Field(description="What they do with the data.")
    countries: list[CountryCode] = Field(
        default_factory=lambda: ["ID"], description="Where the data is processed or stored."
    )
    categories: list[Slug] = Field(default_factory=list)
    safeguards: list[Safeguard] = Field(default_factory=list)
    written_instructions: bool | None = Field(
        default=None, description="Processor acts on written instructions (Art. 51(1))."
    )
    sub_processors: Literal["none", "written_approval", "unrestricted"] | None = Field(
        default=None,
        description="May the processor engage others; Art. 51(5) asks for written approval.",
    )
    joint_agreement: bool | None = Field(
        default=None, description="Agreement between joint controllers (Art. 18(2))."
    )
    when: Text | None = Field(default=None, description="When data is shared, if not always.")


class Transfer(Strict):
    """Personal data leaving Indonesia, with its Art. 56 basis."""

    recipient: Slug
    countries: list[CountryCode] = Field(min_length=1)
    basis: TransferBasis | None = None
    safeguards: list[Safeguard] = Field(default_factory=list)
    description: Text | None = None


# --- how long, how safe -------------------------------------------------------------------


class RetentionAction(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"


class RetentionRule(Strict):
    """How long categories of data are kept, and what happens then (Art. 21(1)(d), 42-44)."""

    id: Slug
    name: Text = Field(description="What is kept, in words: 'Customer account data'.")
    categories: list[Slug] = Field(min_length=1)
    period: RetentionPeriod
    action: RetentionAction = RetentionAction.DELETE
    legal_source: Text | None = Field(
        default=None, description="Law requiring the period, e.g. a tax rule for invoices."
    )


class SecurityKind(StrEnum):
    ENCRYPTION_IN_TRANSIT = "encryption_in_transit"
    ENCRYPTION_AT_REST = "encryption_at_rest"
    ACCESS_CONTROL = "access_control"
    MULTI_FACTOR = "multi_factor"
    BACKUPS = "backups"
    PATCHING = "patching"
    TRAINING = "training"
    LOGGING = "logging"
    PSEUDONYMISATION = "pseudonymisation"
    OTHER = "other"


class SecurityMeasure(Strict):
    kind: SecurityKind
    description: Text | None = None


class Security(Strict):
    measures: list[SecurityMeasure] = Field(default_factory=list)


# --- cookies, children, breach, changes ---------------------------------------------------


class CookieCategory(StrEnum):
    ESSENTIAL = "essential"
    PREFERENCE = "preference"
    ANALYTICS = "analytics"
    MARKETING = "marketing"


class Cookie(Strict):
    """A cookie or a group of cookies with one category, purpose and duration."""

    category: CookieCategory
    purpose: Text
    duration: Duration | CookieDuration = Field(description="'session' or a duration, e.g. 12m.")
    provider: str = Field(description="Who sets it: the organisation itself or a third party.")
    names: list[str] = Field(
        default_factory=list, description="Cookie names; '*' matches any suffix: '_ga_*'."
    )
    recipient: Slug | None = None
    purpose_ref: Slug | None = Field(default=None, description="The purpose it serves.")


class CookieBanner(Strict):
    """How jagadata's cookie banner (`/o/{org}/banner.js`) talks to the site's own tags."""

    google_consent_mode: bool = Field(
        default=False,
        description="Send Google Consent Mode v2 signals (gtag 'consent' default and update) "
        "from the visitor's choices.",
    )


class ParentalConsent(StrEnum):
    REQUIRED = "required"
    NOT_APPLICABLE = "not_applicable"


class Children(Strict):
    """Children's data (Art. 4(2)(e), 25)."""

    minimum_age: int = Field(
        default=18, ge=0, le=21, description="Age from which a person may use the service alone."
    )
    served: bool = Field(description="The services are meant for, or used by, children.")
    parental_consent: ParentalConsent
    verification: Text | None = Field(
        default=None, description="How age and the parent's or guardian's authority are checked."
    )
    on_discovery: Text | None = Field(
        default=None, description="What happens to a child's data found without a parent's consent."
    )


class BreachThreshold(StrEnum):
    EVERY_BREACH = "every_breach"
    SIGNIFICANT_IMPACT = "significant_impact"


class Breach(Strict):
    """Commitments for a failure of personal data protection (Art. 46)."""

    notify_subjects_within: Duration | None = None
    notify_authority_within: Duration | None = None
    counted_from: Literal["discovery", "occurrence"] = "discovery"
    threshold: BreachThreshold = BreachThreshold.EVERY_BREACH
    channels: list[Literal["email", "whatsapp", "sms", "website", "letter", "phone"]] = Field(
        default_factory=list
    )
    public_notice: bool = Field(default=True, description="Public notice where Art. 46(3) applies.")


class Changes(Strict):
    """How people learn of policy changes before they apply (Art. 21(2))."""

    channels: list[Literal["website", "email", "whatsapp", "in_app", "sms"]] = Field(
        default_factory=list
    )
    advance_notice: Duration | None = Field(
        default=None, description="How long before a change applies people are told."
    )
    consent_renewed_on_material_change: bool = Field(
        default=True, description="Consent-based purposes ask again after a material change."
    )


# --- rights -------------------------------------------------------------------------------


class ChannelKind(StrEnum):
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    WEB = "web"
    PHONE = "phone"
    POST = "post"
    IN_PERSON = "in_person"


class RightsChannel(Strict):
    kind: ChannelKind
    address: str | None = Field(
        default=None, description="Email address, number or postal address; web is the centre."
    )


class IdentifierKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    REFERENCE = "reference"
    NIK = "nik"


class Identifier(Strict):
    """How a person identifies themselves when exercising a right."""

    id: Slug
    kind: IdentifierKind
    label: Text | None = None
    verifiable: bool = Field(
        default=True, description="A one-time code can be sent to it (email, WhatsApp)."
    )


TimeZone = Literal["WIB", "WITA", "WIT"]


CLOCK_START_NEEDS_REASON: Final = N_(
    "clock_start: verification needs clock_start_reason, because UU PDP counts from receipt "
    "of the request (Art. 30(1), 32(2), 40(2), 41(1))"
)


class ClockStart(StrEnum):
    """When a request's clock starts. The law counts from receipt (Art. 30(1), 32(2), 40(2),
    41(1)); counting from verification is the organisation's own choice, with its reason."""

    RECEIPT = "receipt"
    VERIFICATION = "verification"


class Calendar(StrEnum):
    CLOCK = "clock"
    WORKING_DAYS = "working_days"


class ResponseCommitments(Strict):
    """What the organisation promises; jagadata applies the stricter of this and the law."""

    acknowledge_within: Duration | None = None
    fulfil_within: Duration | None = None
    calendar: Calendar = Field(
        default=Calendar.CLOCK,
        description="working_days counts only Indonesian working days; the law counts clock hours.",
    )
    per_right: dict[Right, Duration] = Field(default_factory=dict)
    days_off: list[date] = Field(
        default_factory=list,
        description="Extra days off (cuti bersama, regional holidays) when counting working days.",
    )


class Rights(Strict):
    offered: list[Right] = Field(default_factory=lambda: list(Right))
    channels: list[RightsChannel] = Field(default_factory=list)
    identifiers: list[Identifier] = Field(default_factory=list)
    response: ResponseCommitments = Field(default_factory=ResponseCommitments)
    objection_to_marketing: bool = Field(
        default=True, description="People may object to marketing at any time."
    )
    approval_required: list[Right] = Field(
        default_factory=list,
        description="Rights whose fulfilment or refusal a second person must approve.",
    )
    close_unverified_after: Duration = Field(
        default=Duration(14, "d"),
        description="A request never verified is closed after this long, its record kept.",
    )
    clock_start: ClockStart = Field(
        default=ClockStart.RECEIPT,
        description="receipt (as the law counts) or verification (needs clock_start_reason).",
    )
    clock_start_reason: str | None = Field(
        default=None, description="Why the clock starts at verification rather than receipt."
    )

    @model_validator(mode="after")
    def _verification_start_has_a_reason(self) -> Rights:
        if (
            self.clock_start is ClockStart.VERIFICATION
            and not (self.clock_start_reason or "").strip()
        ):
            raise ValueError(CLOCK_START_NEEDS_REASON)
        return self


# --- law and disputes ---------------------------------------------------------------------


class Authority(Strict):
    name: Text
    url: str | None = None


class GoverningLaw(Strict):
    laws: list[Text] = Field(default_factory=list)
    amicable_first: bool = Field(
        default=True, description="Disputes are first settled by deliberation (musyawarah)."
    )
    court: Text | None = None
    complaint_authority: Authority | None = None


# --- systems (where data lives) -----------------------------------------------------------


class SystemKind(StrEnum):
    MANUAL = "manual"
    DATABASE = "database"


class System(Strict):
    """A place personal data lives: a manual one (WhatsApp Business, Gmail) or a database."""

    id: Slug
    name: str
    kind: SystemKind = SystemKind.MANUAL
    categories: list[Slug] = Field(default_factory=list)
    recipient: Slug | None = Field(default=None, description="The processor that hosts it.")
    instructions: dict[Right, Text] = Field(
        default_factory=dict, description="Steps staff follow for a right in this system."
    )
    datastore: Datastore | None = Field(
        default=None,
        description="For a database: how jagadata reaches it and where personal data is in it "
        "(see docs/datastores.md).",
    )

    @model_validator(mode="after")
    def _datastore_is_a_database(self) -> System:
        if self.datastore is not None and self.kind is not SystemKind.DATABASE:
            raise ValueError(DATASTORE_NEEDS_DATABASE)
        return self


DATASTORE_NEEDS_DATABASE: Final = N_("a 'datastore' mapping belongs to a system of kind 'database'")


# --- the manifest -------------------------------------------------------------------------


class Manifest(Strict):
    jagadata: Literal[1] = Field(description="Manifest format version.")
    organisation: Organisation
    languages: Annotated[list[LanguageCode], Field(min_length=1)] = Field(
        default_factory=lambda: list(_ALL_LANGUAGES),
        description="Languages the policy is published in; Indonesian comes first and prevails.",
    )
    policy: Policy
    data_subjects: list[DataSubjectGroup] = Field(default_factory=list)
    data: Data
    purposes: list[Purpose] = Field(min_length=1)
    recipients: list[Recipient] = Field(default_factory=list)
    transfers: list[Transfer] = Field(default_factory=list)
    retention: list[RetentionRule] = Field(default_factory=list)
    security: Security = Field(default_factory=Security)
    cookies: list[Cookie] = Field(default_factory=list)
    cookie_banner: CookieBanner = Field(default_factory=CookieBanner)
    children: Children
    breach: Breach = Field(default_factory=Breach)
    changes: Changes = Field(default_factory=Changes)
    rights: Rights = Field(default_factory=Rights)
    governing_law: GoverningLaw = Field(default_factory=GoverningLaw)
    systems: list[System] = Field(default_factory=list)

    @field_validator("languages")
    @classmethod
    def _indonesian_first(cls, value: list[str]) -> list[str]:
        if not value or value[0] != "id":
            raise ValueError(
                "Indonesian ('id') must come first: it is the authoritative language of the policy"
            )
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    # Lookups used throughout jagadata.
    def category(self, category_id: str) -> DataCategory | None:
        return next((c for c in self.data.categories if c.id == category_id), None)

    def recipient(self, recipient_id: str) -> Recipient | None:
        return next((r for r in self.recipients if r.id == recipient_id), None)

    def purpose(self, purpose_id: str) -> Purpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)

    def is_specific(self, category_id: str) -> bool:
        category = self.category(category_id)
        return category is not None and category.sensitivity is Sensitivity.SPECIFIC

    def subject_group(self, group_id: str) -> DataSubjectGroup | None:
        return next((g for g in self.data_subjects if g.id == group_id), None)
