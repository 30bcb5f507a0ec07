"""The requests API's bodies, compatible with OpenDSR (the open data subject request format):
what an organisation's app sends when a person asks to exercise a right, and the status it reads
back. jagadata's own additions travel in `extensions.jagadata`, as OpenDSR allows. `checked` says
what the schema cannot: the regulation, the identifiers and rights of the manifest, the times
and the callback addresses."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Literal
from uuid import UUID

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jagadata.i18n import N_
from jagadata.law.facts import Right
from jagadata.manifest.schema import IdentifierKind, Manifest
from jagadata.rights.plan import identifiers, offered_rights
from jagadata.rights.service import RequestProblem
from jagadata.rights.states import OnBehalf, RequestStatus

REGULATION: Final = "uu-pdp"
"""The only regulation jagadata answers for: Law 27/2022 on Personal Data Protection."""
MAX_CALLBACKS: Final = 3
MAX_DETAILS: Final = 4000
MAX_URL: Final = 400
CALLBACKS_STORED: Final = 500
"""The addresses are kept as a JSON list in `rights_request.callback_url` (500 characters)."""
CLOCK_SKEW: Final = timedelta(minutes=5)
OLDEST: Final = timedelta(days=365)
LOOPBACK_HOSTS: Final = frozenset({"localhost"})
UNDECLARED: Final = N_("This organisation does not identify people by {kind}; use one of: {kinds}.")


class RequestType(StrEnum):
    """OpenDSR's `subject_request_type`, each one a right of UU PDP."""

    ERASURE = "erasure"
    ACCESS = "access"
    PORTABILITY = "portability"
    RECTIFICATION = "rectification"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    WITHDRAW_CONSENT = "withdraw_consent"


RIGHT_OF_TYPE: Final = {
    RequestType.ERASURE: Right.ERASURE,  # Art. 8
    RequestType.ACCESS: Right.ACCESS,  # Art. 7
    RequestType.PORTABILITY: Right.PORTABILITY,  # Art. 13
    RequestType.RECTIFICATION: Right.RECTIFICATION,  # Art. 6
    RequestType.RESTRICTION: Right.RESTRICTION,  # Art. 11
    RequestType.OBJECTION: Right.OBJECT_AUTOMATED,  # Art. 10
    RequestType.WITHDRAW_CONSENT: Right.WITHDRAW_CONSENT,  # Art. 9
}
TYPE_OF_RIGHT: Final = {right: kind for kind, right in RIGHT_OF_TYPE.items()}


class IdentityType(StrEnum):
    EMAIL = "email"
    PHONE_NUMBER = "phone_number"
    CONTROLLER_CUSTOMER_ID = "controller_customer_id"
    NIK = "nik"


KIND_OF_IDENTITY: Final = {
    IdentityType.EMAIL: IdentifierKind.EMAIL,
    IdentityType.PHONE_NUMBER: IdentifierKind.PHONE,
    IdentityType.CONTROLLER_CUSTOMER_ID: IdentifierKind.REFERENCE,
    IdentityType.NIK: IdentifierKind.NIK,
}
IDENTITY_OF_KIND: Final = {kind: identity for identity, kind in KIND_OF_IDENTITY.items()}


class OpenDsrStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPENDSR_STATUS: Final = {
    RequestStatus.RECEIVED: OpenDsrStatus.PENDING,
    RequestStatus.VERIFIED: OpenDsrStatus.PENDING,
    RequestStatus.IN_PROGRESS: OpenDsrStatus.IN_PROGRESS,
    RequestStatus.AWAITING_APPROVAL: OpenDsrStatus.IN_PROGRESS,
    RequestStatus.FULFILLED: OpenDsrStatus.COMPLETED,
    RequestStatus.REFUSED: OpenDsrStatus.COMPLETED,
    RequestStatus.WITHDRAWN: OpenDsrStatus.CANCELLED,
    RequestStatus.CLOSED_UNVERIFIED: OpenDsrStatus.CANCELLED,
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubjectIdentity(Strict):
    identity_type: IdentityType = Field(
        description="email, phone_number (WhatsApp), controller_customer_id (a customer or "
        "student number) or nik; the organisation's manifest must declare the kind."
    )
    identity_value: str = Field(min_length=1, max_length=254, examples=["budi@example.id"])
    identity_format: Literal["raw"] = Field(
        default="raw", description="Only raw values: jagadata hashes them itself."
    )


class AuthorityIn(Strict):
    relation: str = Field(
        min_length=1,
        max_length=200,
        description="Who acts for the person and how (a parent of a child, a lawyer with a "
        "power of attorney).",
    )
    proof: str | None = Field(
        default=None,
        max_length=500,
        description="The proof of authority the organisation checked (which document).",
    )


class JagadataExtension(Strict):
    language: Literal["id", "en", "fr"] = Field(
        default="id", description="The person's language for messages."
    )
    details: str | None = Field(
        default=None,
        max_length=MAX_DETAILS,
        description="What the person asks: for a rectification the correct values, for an "
        "objection its reasons.",
    )
    identity_verified: bool = Field(
        default=False,
        description="The organisation's app already authenticated the person: the request is "
        "verified at once (method `api`, by this API key) and no code is sent.",
    )
    on_behalf: OnBehalf | None = Field(
        default=None, description="parent, guardian or representative; needs `authority`."
    )
    authority: AuthorityIn | None = None


class Extensions(BaseModel):
    """Vendor extensions: `jagadata` is read, others are kept out of the way."""

    model_config = ConfigDict(extra="allow")

    jagadata: JagadataExtension | None = None


class RequestIn(Strict):
    """A person's request, as OpenDSR describes it."""

    subject_request_id: UUID = Field(
        description="Your id of the request (a UUID). Sending the same id again returns the same "
        "request; the same id with another body is refused (409)."
    )
    subject_request_type: RequestType
    submitted_time: AwareDatetime = Field(
        description="When the person made the request (RFC 3339 with an offset); the legal "
        "clock counts from receipt (Art. 14)."
    )
    subject_identities: list[SubjectIdentity] = Field(min_length=1, max_length=5)
    regulation: str | None = Field(default=None, max_length=40, examples=[REGULATION])
    regulation_ids: list[str] | None = Field(
        default=None, max_length=5, description="Instead of `regulation`: must be ['uu-pdp']."
    )
    status_callback_urls: list[str] = Field(
        default_factory=list,
        max_length=MAX_CALLBACKS,
        description="HTTPS addresses that receive a signed POST each time the status changes.",
    )
    api_version: str | None = Field(default=None, max_length=10)
    property_id: str | None = Field(default=None, max_length=100)
    extensions: Extensions | None = None

    @property
    def jagadata(self) -> JagadataExtension:
        found = self.extensions.jagadata if self.extensions else None
        return found or JagadataExtension()


EXAMPLE_REQUEST: Final[dict[str, Any]] = {
    "subject_request_id": "a7551968-d5d6-44b2-9831-815ac9017798",
    "subject_request_type": "erasure",
    "submitted_time": "2026-11-26T16:30:00Z",
    "subject_identities": [
        {"identity_type": "email", "identity_value": "budi@example.id", "identity_format": "raw"}
    ],
    "regulation": "uu-pdp",
    "status_callback_urls": ["https://app.example.id/hooks/dsr"],
    "extensions": {"jagadata": {"language": "id"}},
}


class LinksPublic(BaseModel):
    self: str
    status_page: str


class EventSummary(BaseModel):
    sequence: int
    kind: str
    at: datetime
    status_after: str


class ResultsPublic(BaseModel):
    outcome: str = Field(description="fulfilled, refused, withdrawn or closed_unverified")
    reason_code: str | None = Field(
        default=None, description="For a refusal: the ground's article, e.g. 33(b)."
    )
    article: str | None = Field(default=None, description="The ground's article, cited.")
    reason: str | None = Field(default=None, description="The ground, in words.")
    on_time: bool | None = None


class VerificationPublic(BaseModel):
    status: Literal["pending", "verified"]
    method: str | None = Field(description="api, code, link or manual once verified.")
    code_sent: bool = Field(
        description="A one-time code waits at the person's email or WhatsApp; when false "
        "and pending, staff verify the person by hand."
    )


class RequestPublic(BaseModel):
    """A request as OpenDSR reports it, with jagadata's own view of it."""

    controller_id: str = Field(description="The organisation's slug.")
    subject_request_id: str
    request_status: OpenDsrStatus
    received_time: datetime
    expected_completion_time: datetime | None = Field(
        description="The legal or promised deadline (null while the clock is paused)."
    )
    encoded_request: str | None = Field(
        description="The request as it was received, base64 (not in lists)."
    )
    results_url: str | None = None
    results: ResultsPublic | None = None
    reference: str = Field(description="jagadata's reference, R-XXXXXXXX, for the person.")
    right: str
    status: RequestStatus
    verification: VerificationPublic
    deadline: dict[str, Any] = Field(
        description="How the deadline was reached: duration, calendar, source (law or "
        "organisation), articles, the organisation's time zone."
    )
    paused: bool
    status_callback_urls: list[str]
    timeline: list[EventSummary]
    links: LinksPublic


class RequestListPublic(BaseModel):
    page: int
    per_page: int
    total: int
    requests: list[RequestPublic]


class CallbackSecretPublic(BaseModel):
    secret: str = Field(description="Shared secret that signs status callbacks.")
    signature_header: str
    algorithm: str


class ProblemError(BaseModel):
    field: str
    message: str


class ProblemPublic(BaseModel):
    detail: str
    errors: list[ProblemError] = Field(default_factory=list)


# --- what the schema cannot say -----------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    values: Mapping[str, Any] | None = None


def regulation_errors(body: RequestIn) -> list[FieldError]:
    given = [("regulation", body.regulation)] if body.regulation is not None else []
    given += [(f"regulation_ids[{i}]", value) for i, value in enumerate(body.regulation_ids or [])]
    if not given:
        return [FieldError("regulation", N_("Name the regulation: uu-pdp."))]
    message = N_("Only uu-pdp (Law 27/2022 on Personal Data Protection) is served here.")
    return [
        FieldError(field, message) for field, value in given if value.strip().lower() != REGULATION
    ]


def _url_error(url: str, mode: str) -> str | None:
    """Why a callback address cannot be used, or None. HTTP only to this machine, and only in
    development (tests and a local receiver)."""
    if len(url) > MAX_URL:
        return N_("An address has at most 400 characters.")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return N_("Use an https:// address with a host name.")
    if not parsed.host or parsed.userinfo or parsed.fragment:
        return N_("Use an https:// address with a host name.")
    if parsed.scheme == "https":
        return None
    if parsed.scheme == "http" and mode == "development" and _loopback(parsed.host):
        return None
    return N_("Use an https:// address with a host name.")


def _loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def identifier_for(manifest: Manifest, kind: IdentifierKind) -> str | None:
    return next((ident.id for ident in identifiers(manifest) if ident.kind is kind), None)


def checked(body: RequestIn, manifest: Manifest, moment: datetime, mode: str) -> list[FieldError]:
    """What the schema cannot say: the regulation, the organisation's identifiers and rights,
    the time, the callback addresses."""
    errors = regulation_errors(body)
    right = RIGHT_OF_TYPE[body.subject_request_type]
    offered = offered_rights(manifest)
    if right not in offered:
        errors.append(
            FieldError(
                "subject_request_type",
                N_("This organisation does not take requests of this type here; use one of: "
                   "{types}."),
                {"types": ", ".join(TYPE_OF_RIGHT[r].value for r in offered if r in TYPE_OF_RIGHT)},
            )
        )  # fmt: skip
    declared = ", ".join(
        dict.fromkeys(IDENTITY_OF_KIND[i.kind].value for i in identifiers(manifest))
    )
    for index, identity in enumerate(body.subject_identities):
        if identifier_for(manifest, KIND_OF_IDENTITY[identity.identity_type]) is None:
            errors.append(
                FieldError(
                    f"subject_identities[{index}].identity_type",
                    UNDECLARED,
                    {"kind": identity.identity_type.value, "kinds": declared},
                )
            )
    submitted = body.submitted_time
    if submitted > moment + CLOCK_SKEW:
        errors.append(
            FieldError("submitted_time", N_("A request cannot be submitted in the future."))
        )
    elif submitted < moment - OLDEST:
        errors.append(
            FieldError(
                "submitted_time",
                N_("The request is more than a year old: check the date, or have staff file it "
                   "with its original."),
            )
        )  # fmt: skip
    for index, url in enumerate(body.status_callback_urls):
        reason = _url_error(url, mode)
        if reason is not None:
            errors.append(FieldError(f"status_callback_urls[{index}]", reason))
    if len(json.dumps(body.status_callback_urls, separators=(",", ":"))) > CALLBACKS_STORED:
        errors.append(
            FieldError(
                "status_callback_urls",
                N_("The addresses together are too long: at most {n} characters."),
                {"n": CALLBACKS_STORED - 2 - 3 * len(body.status_callback_urls)},
            )
        )
    ext = body.jagadata
    if ext.on_behalf is not None and ext.authority is None:
        errors.append(
            FieldError(
                "extensions.jagadata.authority",
                N_("Acting for someone else needs the authority: who acts and which proof "
                   "was checked."),
            )
        )  # fmt: skip
    if right is Right.RECTIFICATION and not (ext.details or "").strip():
        errors.append(
            FieldError(
                "extensions.jagadata.details",
                N_("A rectification needs the correct values in details."),
            )
        )
    return errors


def field_of_problem(wrong: RequestProblem, body: RequestIn, manifest: Manifest) -> FieldError:
    """The service's objection, at the field of the body it concerns."""
    if wrong.field == "value":
        return FieldError(
            "subject_identities[0].identity_value",
            N_("This is not a valid {kind}."),
            {"kind": body.subject_identities[0].identity_type.value},
        )
    if wrong.field == "authority":
        return FieldError(
            "extensions.jagadata.authority",
            N_("Acting for someone else needs the authority: who acts and which proof was "
               "checked."),
        )  # fmt: skip
    if wrong.field == "right":
        return FieldError(
            "subject_request_type", N_("This organisation does not take requests of this type.")
        )
    return FieldError("body", N_("The request cannot be filed as it is; check every field."))
