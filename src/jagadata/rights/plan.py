"""What a request asks of the organisation, read from the manifest in force: its deadlines
(the stricter of the law and the promise), the identifiers a person may use, and the tasks
staff follow in each system that holds the person's data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from jagadata.i18n import N_, gettext
from jagadata.law.facts import RIGHTS, Right
from jagadata.manifest.commitments import Deadline, acknowledgement_deadline, fulfilment_deadline
from jagadata.manifest.schema import Identifier, IdentifierKind, Manifest, System

DEFAULT_IDENTIFIERS: Final = (
    Identifier(id="email", kind=IdentifierKind.EMAIL),
    Identifier(id="whatsapp", kind=IdentifierKind.PHONE),
)
"""When a manifest declares no identifiers, people identify themselves by email or WhatsApp."""

RIGHTS_BY_REQUEST: Final = tuple(right for right in Right if RIGHTS[right].recorded_request)

_GENERIC_STEPS: Final = {
    Right.ACCESS: N_(
        "Find everything held about the person in {system} and attach an export of it."
    ),
    Right.PORTABILITY: N_(
        "Export the person's data from {system} in a machine-readable format (CSV or JSON) "
        "and attach it."
    ),
    Right.RECTIFICATION: N_(
        "Correct the person's data in {system} with the values they gave, and note what changed."
    ),
    Right.ERASURE: N_(
        "Erase the person's data in {system}, or note which data must be kept, for how long "
        "and under which rule."
    ),
    Right.RESTRICTION: N_("Stop or limit processing of the person's data in {system}."),
    Right.WITHDRAW_CONSENT: N_(
        "Stop every processing of the person's data in {system} that relied on the consent "
        "withdrawn."
    ),
    Right.OBJECT_AUTOMATED: N_(
        "Have a person review the automated decision about them made with {system}."
    ),
}


@dataclass(frozen=True, slots=True)
class TaskPlan:
    system: str
    system_name: str
    instructions: dict[str, str]
    """The manifest's own instructions per language, or jagadata's generic step."""


@dataclass(frozen=True, slots=True)
class RequestPlan:
    right: Right
    acknowledgement: Deadline | None
    fulfilment: Deadline | None
    tasks: tuple[TaskPlan, ...]

    def deadline_record(self) -> dict[str, Any]:
        """How the fulfilment deadline was reached, kept on the request for the evidence."""
        deadline = self.fulfilment
        if deadline is None:
            return {"source": None}
        return {
            "duration": str(deadline.duration),
            "calendar": deadline.calendar.value,
            "source": deadline.source,
            "articles": [article.short for article in deadline.articles],
        }


def identifiers(manifest: Manifest) -> tuple[Identifier, ...]:
    return tuple(manifest.rights.identifiers) or DEFAULT_IDENTIFIERS


def offered_rights(manifest: Manifest) -> tuple[Right, ...]:
    """Rights a person can file a request for, in the order of the law."""
    offered = set(manifest.rights.offered)
    return tuple(right for right in RIGHTS_BY_REQUEST if right in offered)


def plan_request(manifest: Manifest, right: Right) -> RequestPlan:
    fulfilment = fulfilment_deadline(manifest, right)
    if fulfilment is None:
        fulfilment = _fallback(manifest)
    return RequestPlan(
        right=right,
        acknowledgement=acknowledgement_deadline(manifest),
        fulfilment=fulfilment,
        tasks=tuple(_task(manifest, system, right) for system in _systems_for(manifest, right)),
    )


def _fallback(manifest: Manifest) -> Deadline | None:
    """A right with no deadline in law or promise still gets the organisation's general time."""
    response = manifest.rights.response
    if response.fulfil_within is None:
        return None
    return Deadline(response.fulfil_within, response.calendar, "organisation", ())


def _systems_for(manifest: Manifest, right: Right) -> list[System]:
    """Systems with instructions for `right`, and every other system that holds personal data."""
    return [s for s in manifest.systems if right in s.instructions or s.categories]


def _task(manifest: Manifest, system: System, right: Right) -> TaskPlan:
    own = system.instructions.get(right)
    if own is not None:
        instructions: dict[str, str] = {lang: own.get(lang) for lang in manifest.languages}
    else:
        step = _GENERIC_STEPS.get(right, N_("Handle the request in {system}."))
        instructions = {
            lang: gettext(lang, step, domain="rights").format(system=system.name)
            for lang in manifest.languages
        }
    return TaskPlan(system.id, system.name, instructions)
