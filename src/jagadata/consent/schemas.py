"""What the consent API and the service functions take in and give back.

A person is named either by an identity (`{"kind": "email", "value": ...}`, hashed on arrival
and never stored in clear) or by `subject_ref`: the keyed hash jagadata returned earlier, or an
anonymous consent id from the cookie banner (`anon_` followed by 16-64 letters, digits, `-`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from jagadata.consent.models import Channel, EventKind
from jagadata.identities import IdentityKind

SUBJECT_REF_PATTERN = r"^(?:[0-9a-f]{64}|anon_[A-Za-z0-9-]{16,64})$"
PURPOSE_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
MAX_BATCH = 1000
MAX_VERSION = 2**31 - 1

SubjectRef = Annotated[
    str,
    StringConstraints(pattern=SUBJECT_REF_PATTERN),
    Field(
        description="A keyed hash jagadata gave for a person (64 hex digits), or an anonymous "
        "consent id: anon_ and 16-64 letters, digits or '-'.",
        examples=["anon_3f1c9a7e-5b2d-4c1e-9f3a-2b7d8e6f0a1c"],
    ),
]
PurposeId = Annotated[
    str,
    StringConstraints(pattern=PURPOSE_PATTERN),
    Field(description="A purpose id of the manifest.", examples=["marketing"]),
]
Language = Literal["id", "en", "fr"]
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Identity(Strict):
    """A person's identity, hashed with the server's key on arrival; the value is never stored."""

    kind: IdentityKind = Field(examples=["email"])
    value: str = Field(min_length=1, max_length=320, examples=["budi@contoh.example"])


class Evidence(Strict):
    """What shows the event happened as recorded. The IP is cut to its network (IPv4 /24,
    IPv6 /48) and the user agent shortened before anything is stored."""

    ip: str | None = Field(default=None, max_length=64, examples=["203.0.113.57"])
    user_agent: str | None = Field(default=None, max_length=2000)
    scan_reference: str | None = Field(
        default=None,
        max_length=200,
        description="For a paper form: where its scan is kept (required for paper).",
        examples=["arsip/2026/formulir-0042.pdf"],
    )
    reference: str | None = Field(
        default=None,
        max_length=200,
        description="Any other reference: a message id, a form submission id.",
    )


class EventIn(Strict):
    """One consent event to record."""

    kind: EventKind = Field(examples=["given"])
    purpose: PurposeId
    subject: Identity | None = Field(default=None, description="The person, by identity ...")
    subject_ref: SubjectRef | None = Field(default=None, description="... or by reference.")
    language: Language = Field(description="Language the consent text was shown in.")
    channel: Channel = Field(examples=["web_form"])
    occurred_at: AwareDatetime | None = Field(
        default=None,
        description="When it really happened (a paper form signed last week); default: now.",
    )
    manifest_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="Version whose consent text was shown: the one in force (default) or an "
        "announced newer one.",
    )
    notice_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the consent text shown; checked against the manifest's.",
    )
    evidence: Evidence = Field(default_factory=Evidence)
    child: bool = Field(
        default=False, description="The person is a child: a guardian must consent (Art. 25)."
    )
    guardian: Identity | None = None
    guardian_ref: SubjectRef | None = None
    idempotency_key: IdempotencyKey | None = Field(
        default=None, description="Unique per organisation: a retry returns the first event."
    )
    keep_contact: bool = Field(
        default=False,
        description="Keep `subject` (encrypted, erasable) to send the receipt or confirmations.",
    )


class EventBatchIn(Strict):
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "kind": "given",
                            "purpose": "marketing",
                            "subject": {"kind": "email", "value": "budi@contoh.example"},
                            "language": "id",
                            "channel": "web_form",
                            "evidence": {"ip": "203.0.113.57", "user_agent": "Mozilla/5.0"},
                            "idempotency_key": "form-2026-0001",
                        }
                    ]
                }
            ]
        },
    )


class EventRef(BaseModel):
    """The ledger event an answer rests on."""

    sequence: int
    kind: EventKind
    occurred_at: datetime
    manifest_version: int
    hash: str


class EventPublic(BaseModel):
    sequence: int
    kind: EventKind
    subject_ref: str
    purpose: str
    manifest_version: int
    notice_hash: str
    language: str
    channel: Channel
    occurred_at: datetime
    recorded_at: datetime
    expires_at: datetime | None
    child: bool
    guardian_ref: str | None
    evidence: dict[str, Any]
    collector: str = Field(description="Who recorded it: user:ID, api_key:ID or system.")
    idempotency_key: str | None
    receipt_url: str | None = Field(description="The person's signed receipt (given, renewed).")
    receipt_short_url: str | None = Field(description="A short link to send over WhatsApp.")
    hash: str
    prev_hash: str
    replayed: bool = Field(
        default=False, description="Recorded earlier under the same idempotency key."
    )


class BatchPublic(BaseModel):
    replayed: bool = Field(description="The whole batch was recorded earlier under this key.")
    events: list[EventPublic]


class FieldProblem(BaseModel):
    field: str = Field(examples=["events[3].purpose"])
    message: str = Field(examples=["orders is not a consent-based purpose of version 2"])


class ProblemPublic(BaseModel):
    detail: str
    errors: list[FieldProblem] = Field(default_factory=list)


class CheckIn(Strict):
    subject: Identity | None = None
    subject_ref: SubjectRef | None = None
    purpose: PurposeId


class CheckBatchIn(Strict):
    """One person and purpose (`subject` or `subject_ref`, and `purpose`), or many in `checks`."""

    subject: Identity | None = None
    subject_ref: SubjectRef | None = None
    purpose: PurposeId | None = None
    checks: list[CheckIn] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": {"kind": "email", "value": "budi@contoh.example"},
                    "purpose": "marketing",
                },
                {
                    "checks": [
                        {
                            "subject_ref": "anon_3f1c9a7e-5b2d-4c1e-9f3a-2b7d8e6f0a1c",
                            "purpose": "personalisation",
                        }
                    ]
                },
            ]
        },
    )


class CheckPublic(BaseModel):
    subject_ref: str
    purpose: str
    allowed: bool = Field(description="Whether the purpose may be pursued for this person now.")
    reason: Literal["given", "withdrawn", "refused", "expired", "reconsent_required", "never_asked"]
    event: EventRef | None = Field(description="The event the answer rests on, if any.")
    expires_at: datetime | None
    manifest_version: int = Field(description="The manifest version in force.")
    valid_from_version: int = Field(
        description="Consents given under older versions need renewing (a material change)."
    )


class CheckResultsPublic(BaseModel):
    results: list[CheckPublic]


class WithdrawIn(Strict):
    """A person withdraws consent (Art. 9, 40): for the purposes named, or every one given."""

    subject: Identity | None = None
    subject_ref: SubjectRef | None = None
    purposes: list[PurposeId] | None = Field(
        default=None, max_length=200, description="Default: every purpose now consented to."
    )
    language: Language = "id"
    channel: Channel = Channel.API
    occurred_at: AwareDatetime | None = None
    evidence: Evidence = Field(default_factory=Evidence)
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="A retry with the same key records nothing new.",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": {"kind": "phone", "value": "+62 812 0000 1234"},
                    "purposes": ["marketing"],
                    "channel": "whatsapp",
                }
            ]
        },
    )


class SubjectIn(Strict):
    subject: Identity


class SubjectPublic(BaseModel):
    subject_ref: str


class HistoryPublic(BaseModel):
    subject_ref: str
    events: list[EventPublic]


class ConsentPurposePublic(BaseModel):
    purpose: str
    name: str
    manifest_version: int
    texts: dict[str, str] = Field(description="The consent text by language.")
    notice_hashes: dict[str, str] = Field(description="SHA-256 of each text, as recorded.")
    renew_after: str | None
    collected_via: list[str]
    withdrawal: list[str]
    children_only: bool


class ConsentPurposesPublic(BaseModel):
    manifest_version: int
    purposes: list[ConsentPurposePublic]


class ReceiptPublic(BaseModel):
    receipt_id: str
    url: str
    short_url: str
    jws: str = Field(description="The signed receipt: a compact JWS (EdDSA, Ed25519).")
    receipt: dict[str, Any] = Field(description="Its payload: Kantara Consent Receipt v1.1.")
