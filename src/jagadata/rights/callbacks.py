"""Status callbacks of requests filed through the API: each time a timeline entry changes a
request's status, a signed webhook (OpenDSR's callback body) goes to each of the request's
callback addresses through the outbox, in the transaction of the step — a step rolled back
sends nothing; a committed one is delivered at least once, retried until it is.

Deliveries are signed with the organisation's callback secret (`callback_secret`, shown to the
organisation by `GET /api/v1/requests/callback-secret`), as every jagadata webhook is
(`X-Jagadata-Signature`, docs/jobs.md). This module registers its hook on import: the web app
and the worker import it where they start.
"""

from __future__ import annotations

import json
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.config import get_settings
from jagadata.crypto import get_keyring
from jagadata.notify.service import enqueue_webhook
from jagadata.orgs.models import Organisation
from jagadata.rights.models import RequestBundle, RequestEvent, RightsRequest
from jagadata.rights.opendsr import OPENDSR_STATUS
from jagadata.rights.service import on_event
from jagadata.rights.states import RequestStatus

EVENT: Final = "request.status"
"""The X-Jagadata-Event of a status callback."""
SECRET_PREFIX: Final = "whsec_"


def callback_secret(organisation_id: int) -> str:
    """The organisation's secret that signs its status callbacks: derived with the keyring's
    lookup key, so it is the same in every process and stored nowhere."""
    digest = get_keyring().lookup_hash("rights_callback_secret", str(organisation_id))
    return SECRET_PREFIX + digest


def encode_callbacks(urls: list[str]) -> str:
    """The request's callback addresses as kept in `rights_request.callback_url` (JSON)."""
    return json.dumps(urls, separators=(",", ":"))


def callback_urls(request: RightsRequest) -> list[str]:
    """The addresses of a request: a JSON list, or (written by something else) one address."""
    stored = request.callback_url
    if not stored:
        return []
    if stored.startswith("["):
        try:
            found = json.loads(stored)
        except ValueError:
            return []
        return [url for url in found if isinstance(url, str)]
    return [stored]


def status_page_url(base_url: str, slug: str, reference: str) -> str:
    return f"{base_url.rstrip('/')}/o/{slug}/requests/{reference}"


def results_url(session: Session, request: RightsRequest, base_url: str, slug: str) -> str | None:
    """Where the person downloads the results (with the link sent to them) once a bundle was
    prepared for them; None before."""
    bundle = session.scalar(
        select(RequestBundle.id).where(RequestBundle.request_id == request.id).limit(1)
    )
    if bundle is None:
        return None
    return status_page_url(base_url, slug, request.reference) + "/download"


def callback_body(
    request: RightsRequest, *, slug: str, url: str, results: str | None, event: RequestEvent
) -> dict[str, Any]:
    """OpenDSR's status callback, with jagadata's own status in `extensions.jagadata`."""
    status = RequestStatus(request.status)
    return {
        "controller_id": slug,
        "subject_request_id": request.external_id,
        "request_status": OPENDSR_STATUS[status].value,
        "expected_completion_time": request.due_at.isoformat() if request.due_at else None,
        "status_callback_url": url,
        "results_url": results,
        "extensions": {
            "jagadata": {
                "reference": request.reference,
                "status": status.value,
                "event": event.kind,
                "sequence": event.sequence,
                "at": event.at.isoformat(),
            }
        },
    }


def _status_before(session: Session, event: RequestEvent) -> str | None:
    if event.sequence <= 1:
        return None
    return session.scalar(
        select(RequestEvent.status_after).where(
            RequestEvent.request_id == event.request_id,
            RequestEvent.sequence == event.sequence - 1,
        )
    )


def send_status_callbacks(session: Session, request: RightsRequest, event: RequestEvent) -> None:
    """The hook: a signed callback to each address when this entry changed the status."""
    urls = callback_urls(request)
    if not urls or request.external_id is None or event.sequence <= 1:
        return
    if _status_before(session, event) == event.status_after:
        return
    organisation = session.get(Organisation, request.organisation_id)
    if organisation is None:
        return
    base_url = get_settings().base_url
    results = results_url(session, request, base_url, organisation.slug)
    secret = callback_secret(request.organisation_id)
    for url in urls:
        enqueue_webhook(
            session=session,
            organisation_id=request.organisation_id,
            url=url,
            event=EVENT,
            payload=callback_body(
                request, slug=organisation.slug, url=url, results=results, event=event
            ),
            secret=secret,
        )


on_event(send_status_callbacks)
