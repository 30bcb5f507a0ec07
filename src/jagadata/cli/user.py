"""`jagadata user ...`: people who use the console, their roles, one-time sign-in links and API
keys. There is never a default password: a new person gets a one-time link instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from jagadata.accounts import keys, service
from jagadata.accounts.models import User
from jagadata.accounts.roles import ROLE_LABELS, Role
from jagadata.accounts.templating import local_time
from jagadata.audit.service import Actor
from jagadata.cli.common import LangOption, cli_language, console, fail
from jagadata.cli.db import migrated_session
from jagadata.config import get_settings
from jagadata.db import atomic
from jagadata.i18n import N_, gettext
from jagadata.identities import InvalidIdentity, normalise_email
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation

app = typer.Typer(
    help="People who use the console, their roles, sign-in links and API keys.",
    no_args_is_help=True,
)
key_app = typer.Typer(help="API keys of an organisation.", no_args_is_help=True)
app.add_typer(key_app, name="key")

CLI: Actor = Actor.system("cli")
EmailArgument = typer.Argument(..., help="The person's email address.")
OrgOption = typer.Option(..., "--org", help="The organisation's slug, as in /o/{org}/.")
RoleOption = typer.Option(Role.STAFF, "--role", help="owner, dpo, staff or viewer.")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "accounts")


def sign_in_link(token: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/admin/welcome/{token}"


def _email_or_exit(email: str, lang: str) -> str:
    try:
        return normalise_email(email)
    except InvalidIdentity:
        fail(
            _t(lang, "{email} is not an email address.").format(email=email),
            hint=_t(lang, "Write it as name@example.co.id."),
        )


def _organisation_or_exit(session: Session, slug: str, lang: str) -> Organisation:
    organisation = orgs.get_organisation(session=session, slug=slug)
    if organisation is None:
        fail(
            _t(lang, "There is no organisation {slug}.").format(slug=slug),
            hint=_t(
                lang,
                "Register it first with: jagadata org add MANIFEST.yaml "
                "(jagadata org list shows the organisations).",
            ),
        )
    return organisation


def _user_or_exit(session: Session, email: str, lang: str) -> User:
    user = service.find_user(session=session, email=email)
    if user is None:
        _no_such_user(email, lang)
    return user


def _no_such_user(email: str, lang: str) -> NoReturn:
    fail(
        _t(lang, "There is no user {email}.").format(email=email),
        hint=_t(lang, "Add them with: jagadata user add EMAIL --org ORG --role ROLE"),
    )


def _print_link(token: str, lang: str) -> None:
    console.print(
        _t(
            lang,
            "Send this one-time link to the person (it works once, for 24 hours); there they "
            "choose a password and set up two-step verification:",
        )
    )
    console.print(f"  {escape(sign_in_link(token))}", soft_wrap=True)


@app.command("add")
def add_command(
    email: str = EmailArgument,
    org: str = OrgOption,
    role: Role = RoleOption,
    name: str | None = typer.Option(
        None, "--name", help="The person's name, shown in the console."
    ),
    lang: str | None = LangOption,
) -> None:
    """Add a person to an organisation with a role; a new person gets a one-time sign-in link."""
    lang = cli_language(lang)
    email = _email_or_exit(email, lang)
    with migrated_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        try:
            with atomic(session):
                user, created = service.add_user(
                    session=session,
                    email=email,
                    organisation=organisation,
                    role=role,
                    actor=CLI,
                    display_name=name,
                )
                token = (
                    service.issue_sign_in_link(session=session, user=user, actor=CLI)
                    if not user.can_sign_in and not user.disabled
                    else None
                )
        except service.AlreadyMember as already:
            fail(
                _t(lang, "{email} is already a member of {org} as {role}.").format(
                    email=email, org=org, role=_t(lang, ROLE_LABELS[Role(already.role)])
                ),
                hint=_t(
                    lang, "To change the role, run: jagadata user role EMAIL --org ORG --role ROLE"
                ),
            )
    label = _t(lang, ROLE_LABELS[role])
    message = (
        N_("Added {email} to {org} as {role}.")
        if created
        else N_("{email} already had an account and is now a member of {org} as {role}.")
    )
    console.print(_t(lang, message).format(email=escape(email), org=escape(org), role=label))
    if token is not None:
        _print_link(token, lang)


@app.command("list")
def list_command(org: str = OrgOption, lang: str | None = LangOption) -> None:
    """The members of an organisation, their role and whether they can sign in."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        rows = service.members(session=session, organisation_id=organisation.id)
        table = Table(title=organisation.name)
        table.add_column(_t(lang, "Email"), no_wrap=True)
        for heading in (N_("Name"), N_("Role"), N_("Two-step verification"), N_("Last sign-in")):
            table.add_column(_t(lang, heading), overflow="fold")
        for membership in rows:
            user = membership.user
            if user.disabled:
                status = _t(lang, "disabled")
            elif user.can_sign_in:
                status = _t(lang, "set up")
            else:
                status = _t(lang, "not set up yet")
            table.add_row(
                escape(user.email),
                escape(user.display_name or ""),
                _t(lang, ROLE_LABELS[Role(membership.role)]),
                status,
                local_time(user.last_sign_in_at, lang),
            )
    console.print(table)


@app.command("role")
def role_command(
    email: str = EmailArgument,
    org: str = OrgOption,
    role: Role = typer.Option(..., "--role", help="owner, dpo, staff or viewer."),
    lang: str | None = LangOption,
) -> None:
    """Change a member's role in an organisation."""
    lang = cli_language(lang)
    email = _email_or_exit(email, lang)
    with migrated_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        user = _user_or_exit(session, email, lang)
        _membership_change(
            lambda: service.change_role(
                session=session,
                organisation_id=organisation.id,
                user_id=user.id,
                role=role,
                actor=CLI,
            ),
            session,
            email,
            org,
            lang,
        )
    console.print(
        _t(lang, "{email} is now {role} in {org}.").format(
            email=escape(email), role=_t(lang, ROLE_LABELS[role]), org=escape(org)
        )
    )


@app.command("remove")
def remove_command(
    email: str = EmailArgument, org: str = OrgOption, lang: str | None = LangOption
) -> None:
    """Remove a person from an organisation (their account stays for their other ones)."""
    lang = cli_language(lang)
    email = _email_or_exit(email, lang)
    with migrated_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        user = _user_or_exit(session, email, lang)
        _membership_change(
            lambda: service.remove_membership(
                session=session, organisation_id=organisation.id, user_id=user.id, actor=CLI
            ),
            session,
            email,
            org,
            lang,
        )
    console.print(
        _t(lang, "{email} is no longer a member of {org}.").format(
            email=escape(email), org=escape(org)
        )
    )


def _membership_change(
    change: Callable[[], object], session: Session, email: str, org: str, lang: str
) -> None:
    try:
        with atomic(session):
            change()
    except service.NotMember:
        fail(_t(lang, "{email} is not a member of {org}.").format(email=email, org=org))
    except service.LastOwner:
        fail(
            _t(lang, "{email} is the last owner of {org}.").format(email=email, org=org),
            hint=_t(lang, "Make someone else owner first, so the organisation keeps one."),
        )


@app.command("disable")
def disable_command(email: str = EmailArgument, lang: str | None = LangOption) -> None:
    """Stop a person from signing in, in every organisation; their sessions end at once."""
    lang = cli_language(lang)
    email = _email_or_exit(email, lang)
    with migrated_session(lang) as session:
        user = _user_or_exit(session, email, lang)
        with atomic(session):
            ended = service.disable_user(session=session, user=user, actor=CLI)
    console.print(
        _t(lang, "{email} can no longer sign in; {count} session(s) ended.").format(
            email=escape(email), count=ended
        )
    )


@app.command("link")
def link_command(email: str = EmailArgument, lang: str | None = LangOption) -> None:
    """A new one-time sign-in link (forgotten password, lost phone); older links stop working."""
    lang = cli_language(lang)
    email = _email_or_exit(email, lang)
    with migrated_session(lang) as session:
        user = _user_or_exit(session, email, lang)
        if user.disabled:
            fail(_t(lang, "{email} is disabled and cannot sign in.").format(email=email))
        with atomic(session):
            token = service.issue_sign_in_link(session=session, user=user, actor=CLI)
    _print_link(token, lang)


# --- API keys --------------------------------------------------------------------------------


@key_app.command("create")
def key_create_command(
    org: str = OrgOption,
    name: str = typer.Option(..., "--name", help="Which system uses the key, e.g. 'shop'."),
    scope: list[str] = typer.Option(
        ...,
        "--scope",
        help="A scope (repeat for several): " + ", ".join(s.value for s in keys.Scope),
    ),
    lang: str | None = LangOption,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    lang = cli_language(lang)
    try:
        scopes = keys.parse_scopes(scope)
    except ValueError:
        fail(
            _t(lang, "Unknown scope. Choose from: {scopes}.").format(
                scopes=", ".join(s.value for s in keys.Scope)
            )
        )
    with migrated_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        try:
            with atomic(session):
                key, token = keys.create_key(
                    session=session,
                    organisation_id=organisation.id,
                    name=name,
                    scopes=scopes,
                    actor=CLI,
                )
        except ValueError:
            fail(_t(lang, "Give the key a name and choose at least one scope."))
    console.print(
        _t(lang, "API key {prefix} for {org} ({scopes}):").format(
            prefix=key.prefix, org=escape(org), scopes=", ".join(scopes)
        )
    )
    console.print(f"  {token}", soft_wrap=True)
    console.print(_t(lang, "It is shown only this once: store it in the system that uses it."))


@key_app.command("list")
def key_list_command(org: str = OrgOption, lang: str | None = LangOption) -> None:
    """The organisation's keys (never their secrets), revoked ones included."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        rows = keys.list_keys(session=session, organisation_id=organisation.id)
    table = Table(title=organisation.name)
    for heading in (N_("Key starts with"), N_("Name"), N_("Scopes"), N_("Last used"), N_("Status")):
        table.add_column(_t(lang, heading))
    for key in rows:
        table.add_row(
            f"jd_{key.prefix}_…",
            escape(key.name),
            ", ".join(key.scopes),
            local_time(key.last_used_at, lang),
            _t(lang, "revoked") if key.revoked_at else _t(lang, "active"),
        )
    console.print(table)


@key_app.command("revoke")
def key_revoke_command(
    prefix: str = typer.Argument(..., help="The key's prefix (the part after jd_)."),
    org: str = OrgOption,
    lang: str | None = LangOption,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    lang = cli_language(lang)
    prefix = prefix.removeprefix("jd_").split("_")[0]
    with migrated_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        found = [
            k
            for k in keys.list_keys(session=session, organisation_id=organisation.id)
            if k.prefix == prefix
        ]
        if not found:
            fail(_t(lang, "{org} has no API key {prefix}.").format(org=org, prefix=prefix))
        with atomic(session):
            keys.revoke_key(
                session=session, organisation_id=organisation.id, key_id=found[0].id, actor=CLI
            )
    console.print(_t(lang, "API key {prefix} is revoked.").format(prefix=prefix))
