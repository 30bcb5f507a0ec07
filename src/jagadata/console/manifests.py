"""The manifest and its versions (findings, text, what changed), publishing a new version from
an uploaded file under the same rule as `jagadata org update`, and the published policies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.accounts.deps import Member, now_of, require_role
from jagadata.accounts.roles import Action
from jagadata.audit.service import Actor, record
from jagadata.checks import Finding, Severity, run_checks
from jagadata.console import findings
from jagadata.console.render import DOMAIN, console_language, render
from jagadata.i18n import N_, gettext, ngettext
from jagadata.manifest.errors import ManifestError, ManifestInvalid
from jagadata.manifest.loader import LoadedManifest, load_manifest_text
from jagadata.orgs import service as orgs
from jagadata.orgs.models import POLICY_LANGUAGES, ManifestVersion, PolicyVersion
from jagadata.policy.diff import PolicyDiff, diff_manifests
from jagadata.ropa.service import states as dpia_states
from jagadata.web.deps import MAX_VERSION, SessionDep

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Member, Depends(require_role(Action.VIEW_DASHBOARD))]
Editor = Annotated[Member, Depends(require_role(Action.EDIT_MANIFEST))]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_VERSION)]

MAX_MANIFEST_BYTES: Final = 512 * 1024
DEFAULT_FILE: Final = "manifest.yaml"
CONFIRM: Final = "publish-with-errors"
LANGUAGE_NAMES: Final = {"id": N_("Indonesian"), "en": N_("English"), "fr": N_("French")}
OTHER_ORGANISATION: Final = N_(
    "This manifest is for the organisation “{slug}”, not for “{ours}”. Check organisation.slug "
    "in the file, or switch organisation."
)
UNCHANGED: Final = N_(
    "This manifest is identical to version {number}, the latest one; nothing was published."
)
PUBLISHED_EARLIER: Final = N_(
    "This manifest is identical to version {number}, published earlier. To return to that "
    "text, publish it as a new version with a new effective date (policy.effective)."
)
TOO_LARGE: Final = N_(
    "The file is larger than {size} KiB; a manifest is much smaller. Choose the manifest's "
    "YAML file."
)
NOT_UTF8: Final = N_("The file is not UTF-8 text. Save the manifest as UTF-8 and choose it again.")
NO_FILE: Final = N_("Choose the manifest file (YAML) to publish.")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


def _tn(lang: str, singular: str, plural: str, n: int) -> str:
    return ngettext(lang, singular, plural, n, DOMAIN)


@dataclass(frozen=True)
class VersionRow:
    version: ManifestVersion
    checked: findings.Checked
    in_force: bool


def _versions(session: Session, member: Member, lang: str) -> list[VersionRow]:
    organisation = member.organisation
    current = orgs.current_version(session=session, organisation=organisation)
    current_id = current.id if current is not None else None
    dpia = dpia_states(session=session)
    return [
        VersionRow(version, findings.checked(version, lang, dpia), version.id == current_id)
        for version in orgs.policy_history(session=session, organisation=organisation)
    ]


@dataclass(frozen=True)
class Upload:
    """What an upload attempt produced, for the page that answers it."""

    problem: str | None = None
    errors: tuple[ManifestError, ...] = ()
    findings: tuple[Finding, ...] = ()
    pending_text: str | None = None
    file_name: str = DEFAULT_FILE
    notice: str | None = None


def _manifest_page(
    request: Request,
    session: Session,
    member: Member,
    *,
    upload: Upload | None = None,
    status_code: int = 200,
) -> Response:
    lang = console_language(request)
    return render(
        request,
        "console/manifest.html",
        signed_in=member.signed_in,
        member=member,
        section="manifest",
        status_code=status_code,
        context={
            "versions": _versions(session, member, lang),
            "may_edit": member.may(Action.EDIT_MANIFEST),
            "upload": upload or Upload(),
            "confirm_value": CONFIRM,
            "max_kib": MAX_MANIFEST_BYTES // 1024,
        },
    )


@router.get("/admin/o/{org}/manifest")
def manifest_page(request: Request, session: SessionDep, member: Viewer) -> Response:
    """Every published version, newest first, with its findings counted."""
    return _manifest_page(request, session, member)


@router.post("/admin/o/{org}/manifest")
def upload_manifest(
    request: Request,
    session: SessionDep,
    member: Editor,
    manifest: Annotated[UploadFile | None, File()] = None,
    manifest_text: Annotated[str | None, Form(max_length=MAX_MANIFEST_BYTES)] = None,
    file_name: Annotated[str | None, Form(max_length=200)] = None,
    confirm: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Publish an uploaded manifest as the next version. As with `jagadata org update`: an
    invalid file changes nothing, and errors against UU PDP stop it unless confirmed."""
    lang = console_language(request)
    text, name, problem = _read(manifest, manifest_text, file_name, lang)
    if problem is not None or text is None:
        return _refused(request, session, member, Upload(problem=problem, file_name=name))
    try:
        loaded = load_manifest_text(text, file=name, lang=lang)
    except ManifestInvalid as invalid:
        upload = Upload(errors=tuple(invalid.errors), file_name=name)
        return _refused(request, session, member, upload)
    slug = loaded.manifest.organisation.slug
    if slug != member.organisation.slug:
        problem = _t(lang, OTHER_ORGANISATION).format(slug=slug, ours=member.organisation.slug)
        return _refused(request, session, member, Upload(problem=problem, file_name=name))
    found = tuple(run_checks(loaded, lang=lang, dpia_states=dpia_states(session=session) or None))
    errors = [finding for finding in found if finding.severity is Severity.ERROR]
    latest = orgs.latest_version(session=session, organisation=member.organisation)
    if latest is not None and latest.content_hash == loaded.content_hash:
        notice = _t(lang, UNCHANGED).format(number=latest.number)
        return _manifest_page(request, session, member, upload=Upload(notice=notice))
    if errors and confirm != CONFIRM:
        message = _tn(
            lang,
            "The manifest has {count} error against UU PDP; nothing was published.",
            "The manifest has {count} errors against UU PDP; nothing was published.",
            len(errors),
        ).format(count=len(errors))
        upload = Upload(problem=message, findings=found, pending_text=text, file_name=name)
        return _refused(request, session, member, upload)
    return _publish(request, session, member, loaded, errors, lang)


def _refused(request: Request, session: Session, member: Member, upload: Upload) -> Response:
    return _manifest_page(request, session, member, upload=upload, status_code=422)


def _publish(
    request: Request,
    session: Session,
    member: Member,
    loaded: LoadedManifest,
    errors: list[Finding],
    lang: str,
) -> Response:
    actor = Actor.user(member.user.id)
    now = now_of(request)
    if errors:  # committed with the publication, or rolled back with it
        record(
            session=session,
            organisation_id=member.organisation.id,
            actor=actor,
            action="manifest.errors_overridden",
            target_type="organisation",
            target_id=member.organisation.id,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            details={
                "content_hash": loaded.content_hash,
                "errors": len(errors),
                "codes": sorted({finding.code for finding in errors}),
            },
            occurred_at=now,
        )
    try:
        publication = orgs.update_organisation(session=session, loaded=loaded, now=now, actor=actor)
    except orgs.ManifestAlreadyPublished as earlier:
        problem = _t(lang, PUBLISHED_EARLIER).format(number=earlier.number)
        upload = Upload(problem=problem)
        return _manifest_page(request, session, member, upload=upload, status_code=409)
    root = request.scope.get("root_path", "")
    return RedirectResponse(
        f"{root}/admin/o/{member.organisation.slug}/manifest/"
        f"{publication.version.number}?published=1",
        status_code=303,
        headers={"cache-control": "no-store"},
    )


def _read(
    upload: UploadFile | None, pasted: str | None, file_name: str | None, lang: str
) -> tuple[str | None, str, str | None]:
    """(text, file name, problem): the manifest's text with line ends as a file read gives them."""
    name = _safe_name(upload.filename if upload is not None and upload.filename else file_name)
    if upload is not None and upload.filename:
        raw = upload.file.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            return None, name, _t(lang, TOO_LARGE).format(size=MAX_MANIFEST_BYTES // 1024)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None, name, _t(lang, NOT_UTF8)
    elif pasted:
        text = pasted
    else:
        return None, name, _t(lang, NO_FILE)
    return text.replace("\r\n", "\n").replace("\r", "\n"), name, None


def _safe_name(name: str | None) -> str:
    """The file's own name for error locations (privacy.yaml:12:3), without any folder."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = "".join(ch for ch in base if ch.isprintable())[:100]
    return cleaned or DEFAULT_FILE


# --- one version ------------------------------------------------------------------------------


@router.get("/admin/o/{org}/manifest/{number}")
def version_page(
    number: VersionNumber,
    request: Request,
    session: SessionDep,
    member: Viewer,
    published: str | None = None,
) -> Response:
    """A version's findings, its text (read-only) and what changed since the version before."""
    lang = console_language(request)
    organisation = member.organisation
    version = orgs.get_version(session=session, organisation=organisation, number=number)
    if version is None:
        raise HTTPException(status_code=404)
    previous = (
        orgs.get_version(session=session, organisation=organisation, number=number - 1)
        if number > 1
        else None
    )
    diff = _diff(previous, version)
    return render(
        request,
        "console/manifest_version.html",
        signed_in=member.signed_in,
        member=member,
        section="manifest",
        context={
            "version": version,
            "previous": previous,
            "checked": findings.checked(version, lang, dpia_states(session=session)),
            "lines": version.yaml_text.split("\n"),
            "diff": diff,
            "changes": [
                (change, change.describe(lang), change.article.cite(lang))
                for change in (diff.changes if diff else ())
            ],
            "published": published is not None,
        },
    )


def _diff(previous: ManifestVersion | None, version: ManifestVersion) -> PolicyDiff | None:
    if previous is None:
        return None
    old, new = orgs.version_manifest(previous), orgs.version_manifest(version)
    if old is None or new is None:
        return None
    return diff_manifests(old, new)


# --- published policies -----------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedVersion:
    version: ManifestVersion
    in_force: bool
    policies: dict[str, dict[str, PolicyVersion]]
    """lang -> format -> policy, Indonesian first."""


@router.get("/admin/o/{org}/policies")
def policies_page(request: Request, session: SessionDep, member: Viewer) -> Response:
    """Each published version's policy per language, with its public page and downloads."""
    organisation = member.organisation
    current = orgs.current_version(session=session, organisation=organisation)
    upcoming = orgs.upcoming_version(session=session, organisation=organisation)
    rows = session.scalars(
        select(PolicyVersion).where(PolicyVersion.organisation_id == organisation.id)
    ).all()
    by_version: dict[int, dict[str, dict[str, PolicyVersion]]] = {}
    for policy in rows:
        by_version.setdefault(policy.manifest_version_id, {}).setdefault(policy.lang, {})[
            policy.format
        ] = policy
    published = []
    for version in orgs.policy_history(session=session, organisation=organisation):
        languages = by_version.get(version.id, {})
        ordered: dict[str, dict[str, PolicyVersion]] = {
            lang: languages[lang] for lang in POLICY_LANGUAGES if lang in languages
        }
        published.append(
            PublishedVersion(version, current is not None and version.id == current.id, ordered)
        )
    return render(
        request,
        "console/policies.html",
        signed_in=member.signed_in,
        member=member,
        section="policies",
        context={"published": published, "upcoming": upcoming, "language_names": LANGUAGE_NAMES},
    )
