"""Public consent pages of the privacy centre, with the age question first (Art. 25 UU PDP).

GET/POST /o/{org}/consent                  the age (or birth date), where children may use
                                           the service; adults go on to the consent form
GET/POST /o/{org}/consent/form             a person at or over the minimum age consents
GET/POST /o/{org}/guardian?purpose=<id>    a child names a parent's or guardian's contact
GET/POST /o/{org}/guardian/{id}            the guardian enters the code they received
POST     /o/{org}/guardian/{id}/consent    the verified guardian consents or refuses
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path as Path_
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from jagadata.accounts.deps import now_of
from jagadata.audit.service import Actor
from jagadata.children import service
from jagadata.children.models import GuardianVerification, Origin
from jagadata.children.service import GuardianProblem, Offer, Outcome
from jagadata.children.templating import PRIVATE, render
from jagadata.consent.models import EventKind
from jagadata.consent.schemas import SUBJECT_REF_PATTERN, Identity
from jagadata.consent.service import ConsentInvalid, LedgerEvent
from jagadata.db import atomic
from jagadata.i18n import gettext
from jagadata.identities import IdentityKind
from jagadata.orgs.models import Organisation
from jagadata.web.deps import SessionDep, organisation_or_404
from jagadata.web.templating import choose_language

router = APIRouter(include_in_schema=False)

VerificationId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
MAX_FORM_VALUE: Final = 320


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "children")


def _message(lang: str, problem: GuardianProblem) -> str:
    text = _t(lang, problem.message)
    return text.format(**problem.values) if problem.values else text


def _client(request: Request) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None, request.headers.get("user-agent"))


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url)


class _Page:
    """What every page of the flow needs: the organisation, its manifest in force, the language."""

    def __init__(self, request: Request, session: Session, org: str) -> None:
        self.request = request
        self.session = session
        self.organisation: Organisation = organisation_or_404(session, org)
        self.now: datetime = now_of(request)
        try:
            self.number, self.manifest, self.terms = service.manifest_in_force(
                session=session, organisation=self.organisation, now=self.now
            )
        except LookupError:
            raise HTTPException(status_code=404) from None
        self.languages: list[str] = list(self.manifest.languages)
        self.lang = choose_language(request, self.languages)
        root = request.scope.get("root_path", "")
        self.base = f"{root}/o/{self.organisation.slug}"

    def render(self, template: str, status_code: int = 200, **context: Any) -> Response:
        """A page; one answering a form (a decision, a result) offers no language switch,
        whose link would lose what the form carried (`one_language=True`)."""
        languages = [self.lang] if context.pop("one_language", False) else self.languages
        return render(
            self.request,
            template,
            lang=self.lang,
            status_code=status_code,
            context={
                "organisation": self.organisation,
                "centre_url": f"{self.base}/",
                "base": self.base,
                "languages": languages,
                "minimum_age": service.minimum_age(self.manifest),
                **context,
            },
        )

    def redirect(self, path: str, **query: str) -> Response:
        query = {**query, "lang": self.lang}
        return RedirectResponse(
            f"{self.base}{path}?{urlencode(query)}", status_code=303, headers=PRIVATE
        )

    def offers(self, wanted: list[str] | None = None, *, for_children: bool = True) -> list[Offer]:
        return service.offers(
            manifest=self.manifest,
            terms=self.terms,
            lang=self.lang,
            wanted=wanted,
            for_children=for_children,
        )


async def _form(request: Request) -> Mapping[str, str]:
    form = await request.form()
    return {key: value[:MAX_FORM_VALUE] for key, value in form.items() if isinstance(value, str)}


def _purpose_param(value: str | None) -> list[str] | None:
    """`?purpose=a` or `?purpose=a,b` (the subscribe page sends a list); ignored if malformed."""
    wanted = [part.strip() for part in (value or "").split(",") if part.strip()]
    if (
        wanted
        and len(wanted) <= 50
        and all(re.fullmatch(r"[a-z][a-z0-9_]{0,62}", p) for p in wanted)
    ):
        return list(dict.fromkeys(wanted))
    return None


def _child_param(value: str | None) -> str | None:
    return value if value and re.fullmatch(SUBJECT_REF_PATTERN, value) else None


# --- the age question ----------------------------------------------------------------------------


@router.get("/o/{org}/consent")
def consent_start(org: str, request: Request, session: SessionDep) -> Response:
    """Ask the age first where children may use the service; otherwise the consent form."""
    page = _Page(request, session, org)
    purpose = request.query_params.get("purpose") or ""
    if not service.asks_age(page.manifest):
        return page.redirect("/consent/form")
    return page.render("children/age.html", purpose=purpose, error=None, today=page.now.date())


@router.post("/o/{org}/consent")
async def consent_age(org: str, request: Request, session: SessionDep) -> Response:
    page = _Page(request, session, org)
    form = await _form(request)
    purpose = form.get("purpose", "")
    age = _age(form, service.today(page.now))
    if age is None:
        return page.render(
            "children/age.html",
            status_code=422,
            purpose=purpose,
            error=_t(page.lang, "Give your date of birth, or your age in years (0 to 120)."),
            today=page.now.date(),
        )
    if age < service.minimum_age(page.manifest):
        query = {"purpose": purpose} if _purpose_param(purpose) else {}
        return page.redirect("/guardian", **query)
    return page.redirect("/consent/form", age=str(age))


def _age(form: Mapping[str, str], today: date) -> int | None:
    birth = form.get("birth_date", "").strip()
    if birth:
        try:
            born = date.fromisoformat(birth)
        except ValueError:
            return None
        age = service.age_on(born, today)
        return age if 0 <= age <= 120 and born <= today else None
    given = form.get("age", "").strip()
    if given.isdigit() and 0 <= int(given) <= 120:
        return int(given)
    return None


# --- a person at or over the minimum age ---------------------------------------------------------


@router.get("/o/{org}/consent/form")
def adult_form(org: str, request: Request, session: SessionDep) -> Response:
    page = _Page(request, session, org)
    age = request.query_params.get("age", "")
    if service.asks_age(page.manifest) and not (age.isdigit() and int(age) <= 120):
        return page.redirect("/consent")
    if age.isdigit() and int(age) < service.minimum_age(page.manifest):
        return page.redirect("/guardian")
    try:
        shown = page.offers(for_children=False)
    except GuardianProblem as problem:
        return page.render(
            "children/notice.html", status_code=404, notice=_message(page.lang, problem)
        )
    return page.render("children/adult.html", offers=shown, age=age, error=None, values={})


@router.post("/o/{org}/consent/form")
async def adult_consent(org: str, request: Request, session: SessionDep) -> Response:
    page = _Page(request, session, org)
    form = await _form(request)
    age_text = form.get("age", "")
    asks = service.asks_age(page.manifest)
    if asks and not age_text.isdigit():
        return page.redirect("/consent")
    age = int(age_text) if age_text.isdigit() else 200
    if asks and age < service.minimum_age(page.manifest):
        return page.render(
            "children/notice.html", status_code=403, notice=_t(page.lang, service.ART_25)
        )
    try:
        shown = page.offers(for_children=False)
    except GuardianProblem as problem:
        return page.render(
            "children/notice.html", status_code=404, notice=_message(page.lang, problem)
        )
    decisions = {o.purpose: form.get(f"consent:{o.purpose}") == "yes" for o in shown}
    answered = all(form.get(f"consent:{o.purpose}") in ("yes", "no") for o in shown)
    kind = form.get("kind", "email")
    ip, user_agent = _client(request)
    error = None
    if kind not in ("email", "phone"):
        kind = "email"
    if not answered:
        error = _t(page.lang, "Answer yes or no for every purpose.")
    elif not form.get("contact", "").strip():
        error = _t(page.lang, "Give your email address or WhatsApp number.")
    if error is None:
        try:
            with atomic(session):
                recorded = service.record_adult_consent(
                    session=session,
                    organisation=page.organisation,
                    subject=Identity(kind=IdentityKind(kind), value=form["contact"]),
                    age=age,
                    decisions=decisions,
                    lang=page.lang,
                    now=page.now,
                    ip=ip,
                    user_agent=user_agent,
                )
        except GuardianProblem as problem:
            if problem.message == service.ART_25:
                return page.render(
                    "children/notice.html", status_code=403, notice=_message(page.lang, problem)
                )
            error = _message(page.lang, problem)
        except ConsentInvalid:
            error = _t(page.lang, "Nothing was recorded: check your answers and try again.")
        else:
            return _done(page, recorded.events, shown, for_child=False)
    return page.render(
        "children/adult.html",
        status_code=422,
        offers=shown,
        age=age_text,
        error=error,
        values=form,
    )


# --- a child: a parent or guardian decides -------------------------------------------------------


@router.get("/o/{org}/guardian")
def guardian_start(org: str, request: Request, session: SessionDep) -> Response:
    """Where a child is sent (also by other pages: `?purpose=<id>`): name the guardian."""
    page = _Page(request, session, org)
    purpose = request.query_params.get("purpose")
    wanted = _purpose_param(purpose)
    try:
        shown = page.offers(wanted)
    except GuardianProblem as problem:
        return page.render(
            "children/notice.html", status_code=404, notice=_message(page.lang, problem)
        )
    return page.render(
        "children/guardian.html",
        offers=shown,
        purpose=purpose if wanted else "",
        child=_child_param(request.query_params.get("child")) or "",
        error=None,
        values={},
    )


@router.post("/o/{org}/guardian")
async def guardian_send(org: str, request: Request, session: SessionDep) -> Response:
    page = _Page(request, session, org)
    form = await _form(request)
    purpose = form.get("purpose", "")
    wanted = _purpose_param(purpose)
    child = _child_param(form.get("child")) or service.new_child_ref()
    kind = form.get("kind", "")
    contact = form.get("contact", "").strip()
    ip, user_agent = _client(request)
    error = None
    if kind not in ("email", "phone"):
        error = _t(page.lang, "Choose how your parent or guardian receives the code.")
    elif not contact:
        error = _t(page.lang, "Give your parent's or guardian's email address or WhatsApp number.")
    else:
        try:
            with atomic(session):
                started = service.start_verification(
                    session=session,
                    organisation=page.organisation,
                    child_ref=child,
                    purposes=wanted,
                    contact_kind=kind,
                    contact=contact,
                    lang=page.lang,
                    base_url=_base_url(request),
                    origin=Origin.WEB,
                    actor=Actor.system("privacy-centre"),
                    now=page.now,
                    ip=ip,
                    user_agent=user_agent,
                )
        except GuardianProblem as problem:
            error = _message(page.lang, problem)
        else:
            return page.redirect(f"/guardian/{started.verification.public_id}")
    shown = page.offers(wanted) if wanted else page.offers()
    return page.render(
        "children/guardian.html",
        status_code=422,
        offers=shown,
        purpose=purpose if wanted else "",
        child=_child_param(form.get("child")) or "",
        error=error,
        values=form,
    )


def _verification(page: _Page, public_id: str) -> GuardianVerification:
    found = service.find_verification(
        session=page.session, organisation_id=page.organisation.id, public_id=public_id
    )
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _masked(kind: str, contact: str) -> str:
    """Enough of the contact for the guardian to recognise it, not enough to learn it."""
    if kind == IdentityKind.EMAIL.value:
        name, _, domain = contact.partition("@")
        return f"{name[:1]}•••@{domain}"
    return f"{contact[:3]} ••• {contact[-3:]}"


@router.get("/o/{org}/guardian/{public_id}")
def code_page(
    org: str, public_id: VerificationId, request: Request, session: SessionDep
) -> Response:
    page = _Page(request, session, org)
    verification = _verification(page, public_id)
    return _code_page(page, verification, None)


def _code_page(
    page: _Page, verification: GuardianVerification, error: str | None, status: int = 200
) -> Response:
    closed = None
    if verification.locked_at is not None:
        closed = _t(
            page.lang, "Too many wrong codes: this request is locked. Ask again for a new code."
        )
    elif verification.decided_at is not None or verification.verified_at is not None:
        closed = _t(page.lang, "This code was already used. Ask again for a new code if needed.")
    elif page.now >= verification.expires_at:
        closed = _t(page.lang, "This code has expired. Ask again for a new code.")
    return page.render(
        "children/code.html",
        status_code=status,
        verification=verification,
        masked=_masked(verification.contact_kind, verification.contact),
        closed=closed,
        error=error,
        restart=f"{page.base}/guardian?"
        + urlencode({"purpose": verification.purposes[0], "lang": page.lang})
        if len(verification.purposes) == 1
        else f"{page.base}/guardian?lang={page.lang}",
    )


@router.post("/o/{org}/guardian/{public_id}")
async def code_check(
    org: str, public_id: VerificationId, request: Request, session: SessionDep
) -> Response:
    page = _Page(request, session, org)
    form = await _form(request)
    verification = _verification(page, public_id)
    ip, user_agent = _client(request)
    with atomic(session):
        checked = service.check_code(
            session=session,
            verification=verification,
            code=form.get("code", "")[:20],
            now=page.now,
            ip=ip,
            user_agent=user_agent,
        )
    if checked.outcome is Outcome.VERIFIED:
        return page.render(
            "children/decide.html",
            one_language=True,
            verification=verification,
            offers=page.offers(list(verification.purposes)),
            grant=checked.grant,
            error=None,
        )
    if checked.outcome is Outcome.WRONG:
        error = _t(page.lang, "This code is not right. Attempts left: {left}.").format(
            left=checked.attempts_left
        )
        return _code_page(page, verification, error, 422)
    return _code_page(page, verification, None, 422)


@router.post("/o/{org}/guardian/{public_id}/consent")
async def guardian_decides(
    org: str, public_id: VerificationId, request: Request, session: SessionDep
) -> Response:
    """Only the verified guardian's decision is recorded; anything else is refused (Art. 25)."""
    page = _Page(request, session, org)
    form = await _form(request)
    verification = _verification(page, public_id)
    if not service.grant_valid(verification, form.get("grant"), page.now):
        return page.render(
            "children/notice.html", status_code=403, notice=_t(page.lang, service.ART_25)
        )
    shown = page.offers(list(verification.purposes))
    answers = {o.purpose: form.get(f"consent:{o.purpose}") for o in shown}
    if any(value not in ("yes", "no") for value in answers.values()):
        return page.render(
            "children/decide.html",
            one_language=True,
            status_code=422,
            verification=verification,
            offers=shown,
            grant=form.get("grant"),
            error=_t(page.lang, "Answer yes or no for every purpose."),
        )
    ip, user_agent = _client(request)
    try:
        with atomic(session):
            recorded = service.record_decisions(
                session=session,
                organisation=page.organisation,
                verification=verification,
                decisions={p: value == "yes" for p, value in answers.items()},
                lang=page.lang,
                base_url=_base_url(request),
                now=page.now,
                ip=ip,
                user_agent=user_agent,
            )
    except (GuardianProblem, ConsentInvalid):
        return page.render(
            "children/notice.html",
            status_code=422,
            notice=_t(page.lang, "Nothing was recorded: check your answers and try again."),
        )
    child_events = [e for e in recorded.events if e.subject_ref == verification.child_ref]
    return _done(page, child_events, shown, for_child=True)


def _done(
    page: _Page, events: list[LedgerEvent], shown: list[Offer], *, for_child: bool
) -> Response:
    names = {o.purpose: o.name for o in shown}
    rows = [
        {
            "name": names.get(e.purpose, e.purpose),
            "given": e.kind == EventKind.GIVEN.value,
            "receipt": f"{page.base}/receipts/{e.receipt_id}?lang={page.lang}"
            if e.receipt_id
            else None,
        }
        for e in events
    ]
    return page.render("children/done.html", one_language=True, rows=rows, for_child=for_child)


STYLESHEET: Final = Path_(__file__).parent / "static" / "consent.css"


@router.get("/static/children/consent.css")
def stylesheet() -> Response:
    """The form styles of these pages, on top of the centre's stylesheet."""
    return Response(
        STYLESHEET.read_text(encoding="utf-8"),
        media_type="text/css; charset=utf-8",
        headers={"cache-control": "public, max-age=3600"},
    )
