"""`jagadata consent verify|verify-receipt|expire|rotate-key`: prove the consent ledger is
intact, check a person's receipt offline, let lapsed consents expire, rotate the signing key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, Problem, VerifyResult, record
from jagadata.cli.common import LangOption, cli_language, console, err_console, fail
from jagadata.cli.db import migrated_session
from jagadata.consent import signing
from jagadata.consent.ledger import ledger_length, verify_ledger
from jagadata.consent.withdrawal import expire_due
from jagadata.db import atomic
from jagadata.db.tenancy import ALL_ORGANISATIONS_KEY
from jagadata.i18n import N_, gettext
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation

app = typer.Typer(
    help="The consent ledger: prove it is intact, verify receipts, expire lapsed consents.",
    no_args_is_help=True,
)

PROGRESS_FROM = 5000
"""Ledgers at least this long show a progress bar while they are verified."""
JWKS_TIMEOUT_S = 10

PROBLEMS = {
    Problem.HASH_MISMATCH: N_("its contents no longer match its hash: it was changed"),
    Problem.PREV_HASH_MISMATCH: N_("it does not carry the hash of the event before it"),
    Problem.GAP: N_("it is missing: the next event found is {found}"),
    Problem.HEAD_MISMATCH: N_(
        "the ledger should end at event {expected} but ends at event {found}: "
        "its newest events were removed or added"
    ),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


@contextmanager
def _system_session(lang: str) -> Iterator[Session]:
    with migrated_session(lang) as session:
        session.info[ALL_ORGANISATIONS_KEY] = True
        yield session


def _organisation_or_exit(session: Session, slug: str, lang: str) -> Organisation:
    organisation = orgs.get_organisation(session=session, slug=slug)
    if organisation is None:
        fail(
            _t(lang, "There is no organisation {slug}.").format(slug=slug),
            hint=_t(lang, "See the registered ones with: jagadata org list"),
        )
    return organisation


def _organisations(session: Session, org: str | None, lang: str) -> list[Organisation]:
    if org is not None:
        return [_organisation_or_exit(session, org, lang)]
    return list(orgs.list_organisations(session=session))


@app.command("verify")
def verify_command(
    org: str | None = typer.Option(
        None, "--org", help="Only this organisation's ledger (default: every ledger)."
    ),
    lang: str | None = LangOption,
) -> None:
    """Recompute every hash of the consent ledger; exit 1 naming the first broken link."""
    lang = cli_language(lang)
    with _system_session(lang) as session:
        chosen = _organisations(session, org, lang)
        results = [(o.slug, _verify_one(session, o)) for o in chosen]
    for slug, result in results:
        _report(slug, result, lang)
    if not all(result.ok for _, result in results):
        raise typer.Exit(1)


def _verify_one(session: Session, organisation: Organisation) -> VerifyResult:
    total = ledger_length(session=session, organisation_id=organisation.id)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
        disable=total < PROGRESS_FROM,
    ) as progress:
        task = progress.add_task(escape(organisation.slug), total=total)
        return verify_ledger(
            session=session,
            organisation_id=organisation.id,
            progress=lambda done: progress.advance(task, done),
        )


def _report(slug: str, result: VerifyResult, lang: str) -> None:
    if result.broken is None:
        message = _t(lang, "{org}: {count} consent events verified; the ledger is intact.")
        console.print(
            "[green]" + message.format(org=escape(slug), count=result.checked) + "[/green]"
        )
        return
    link = result.broken
    problem = _t(lang, PROBLEMS[link.problem]).format(expected=link.expected, found=link.found)
    message = _t(lang, "{org}: the ledger is broken at event {sequence}: {problem}.")
    console.print(
        "[red]"
        + message.format(org=escape(slug), sequence=link.sequence, problem=escape(problem))
        + "[/red]"
    )


@app.command("verify-receipt")
def verify_receipt_command(
    file: Path = typer.Argument(..., help="The receipt: a .jws file (or the API's JSON)."),
    jwks: str | None = typer.Option(
        None,
        "--jwks",
        help="The organisation's public keys: a JWKS file, or its URL "
        "(/o/ORG/.well-known/jwks.json). Default: the key named in the receipt.",
    ),
    lang: str | None = LangOption,
) -> None:
    """Check a consent receipt's signature offline; exit 0 if valid, 1 if not (saying why)."""
    lang = cli_language(lang)
    token = _read_receipt(file, lang)
    try:
        if jwks is not None:
            keys = signing.keys_of_jwks(_load_jwks(jwks, lang))
        else:
            keys = _embedded_key(token)
        verified = signing.verify(token, keys)
    except signing.InvalidReceipt as invalid:
        console.print(
            "[red]"
            + _t(lang, "The receipt is NOT valid: {reason}.").format(reason=escape(str(invalid)))
            + "[/red]"
        )
        raise typer.Exit(1) from None
    payload = verified.payload
    console.print("[green]" + _t(lang, "The receipt is valid: its signature matches.") + "[/green]")
    controllers = payload.get("piiControllers") or [{}]
    services = payload.get("services") or [{}]
    purposes = (services[0].get("purposes") or [{}]) if isinstance(services[0], dict) else [{}]
    for label, value in (
        (N_("Controller"), controllers[0].get("piiController")),
        (N_("Purpose"), purposes[0].get("purpose")),
        (N_("Consent given (Unix time)"), payload.get("consentTimestamp")),
        (N_("Person's reference"), payload.get("piiPrincipalId")),
        (N_("Receipt ID"), payload.get("consentReceiptID")),
        (N_("Signing key"), verified.kid),
    ):
        console.print(f"  {_t(lang, label)}: {escape(str(value))}")
    if jwks is None:
        err_console.print(
            _t(
                lang,
                "Checked against the key the receipt names. To be sure it is the "
                "organisation's, add --jwks with its published keys.",
            )
        )


def _read_receipt(file: Path, lang: str) -> str:
    try:
        text = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        fail(_t(lang, "Cannot read {path}: {reason}.").format(path=file, reason=error))
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = {}
        text = str(document.get("jws", "")) if isinstance(document, dict) else ""
    return text


def _load_jwks(source: str, lang: str) -> Any:
    try:
        if source.startswith(("http://", "https://")):
            response = httpx.get(source, timeout=JWKS_TIMEOUT_S, follow_redirects=True)
            response.raise_for_status()
            return response.json()
        return json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError, httpx.HTTPError) as error:
        fail(
            _t(lang, "Cannot read the public keys from {source}: {reason}.").format(
                source=source, reason=error
            )
        )


def _embedded_key(token: str) -> dict[str, str]:
    """The key the receipt names in its own `publicKey` (checks integrity, not origin)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise signing.InvalidReceipt("a compact JWS has three parts separated by dots")
    try:
        payload = json.loads(signing.unb64url(parts[1]))
        header = json.loads(signing.unb64url(parts[0]))
    except (ValueError, UnicodeDecodeError):
        raise signing.InvalidReceipt("the receipt is not base64url-encoded JSON") from None
    public = payload.get("publicKey") if isinstance(payload, dict) else None
    kid = header.get("kid") if isinstance(header, dict) else None
    if not isinstance(public, str) or not isinstance(kid, str):
        raise signing.InvalidReceipt("the receipt names no public key; give --jwks")
    if signing.thumbprint(public) != kid:
        raise signing.InvalidReceipt("the key id does not match the key the receipt names")
    return {kid: public}


@app.command("expire")
def expire_command(
    org: str | None = typer.Option(None, "--org", help="Only this organisation."),
    lang: str | None = LangOption,
) -> None:
    """Record `expired` for consents given for a limited time that has run out (renew_after)."""
    lang = cli_language(lang)
    with _system_session(lang) as session:
        for organisation in _organisations(session, org, lang):
            with atomic(session):
                count = expire_due(session=session, organisation_id=organisation.id)
            console.print(
                _t(lang, "{org}: {count} consents expired.").format(
                    org=escape(organisation.slug), count=count
                )
            )


@app.command("rotate-key")
def rotate_key_command(
    org: str = typer.Option(..., "--org", help="The organisation whose signing key to rotate."),
    lang: str | None = LangOption,
) -> None:
    """Sign new receipts with a new key; earlier keys stay published so old receipts verify."""
    lang = cli_language(lang)
    with _system_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        with atomic(session):
            key = signing.rotate_key(session=session, organisation_id=organisation.id)
            record(
                session=session,
                organisation_id=organisation.id,
                actor=Actor.system("cli"),
                action="consent.key_rotated",
                target_type="consent_signing_key",
                target_id=key.kid[:64],
            )
    console.print(
        _t(lang, "{org}: receipts are now signed with key {kid}.").format(
            org=escape(organisation.slug), kid=key.kid
        )
    )
