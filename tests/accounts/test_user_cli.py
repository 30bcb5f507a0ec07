"""`jagadata user ...`: the first owner gets a one-time link (never a password), an existing
person gains a membership, and every change is refused clearly when it cannot be made."""

from __future__ import annotations

import re

import pytest
from faker import Faker
from typer.testing import CliRunner

from jagadata.accounts import keys, service
from jagadata.cli import app as jagadata
from jagadata.cli.user import app as user_app
from jagadata.config import get_settings
from jagadata.db import make_engine, session_factory
from jagadata.db.tenancy import cross_organisation_session
from jagadata.i18n import gettext

LINK = re.compile(r"http://127\.0\.0\.1:8000/admin/welcome/([A-Za-z0-9_-]{43})")
GELATO_MANIFEST = "examples/la-gelato-academy.yaml"


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "accounts")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def published(runner: CliRunner, cli_environment: str) -> str:
    result = runner.invoke(jagadata, ["org", "add", GELATO_MANIFEST])
    assert result.exit_code == 0, result.output
    return cli_environment


def _user(*args: str, runner: CliRunner) -> tuple[int, str]:
    result = runner.invoke(user_app, list(args))
    return result.exit_code, result.output


def test_the_first_owner_gets_a_one_time_link(
    runner: CliRunner, published: str, faker_id: Faker
) -> None:
    email = faker_id.unique.email()
    code, output = _user(
        "add", email, "--org", "la-gelato-academy", "--role", "owner", runner=runner
    )
    assert code == 0, output
    assert LINK.search(output), output
    assert "password" not in output.lower() or _t("id", "Owner") in output
    engine = make_engine(get_settings().effective_database_url)
    with session_factory(engine)() as session:
        user = service.find_user(session=session, email=email.upper())
        assert user is not None and user.password_hash is None and user.totp_secret is None
    engine.dispose()


def test_adding_an_existing_person_to_another_organisation_gives_no_new_link(
    runner: CliRunner, published: str, faker_id: Faker
) -> None:
    assert runner.invoke(jagadata, ["org", "add", "examples/millealab.yaml"]).exit_code == 0
    email = faker_id.unique.email()
    _user("add", email, "--org", "la-gelato-academy", "--role", "dpo", runner=runner)
    code, output = _user(
        "add", email, "--org", "millealab", "--role", "viewer", "--lang", "en", runner=runner
    )
    assert code == 0, output
    assert "already had an account" in output
    assert LINK.search(output)  # not set up yet: a link is still useful
    code, output = _user("add", email, "--org", "millealab", "--lang", "en", runner=runner)
    assert code == 2 and "already a member of millealab as Viewer" in output
    code, output = _user("list", "--org", "millealab", "--lang", "en", runner=runner)
    assert code == 0 and email in output and "Viewer" in output


def test_an_unknown_organisation_is_named_with_what_to_do(
    runner: CliRunner, cli_environment: str, faker_id: Faker
) -> None:
    code, output = _user(
        "add", faker_id.email(), "--org", "tidak-ada", "--lang", "en", runner=runner
    )
    assert code == 2
    assert "There is no organisation tidak-ada." in output and "jagadata org add" in output
    code, output = _user("add", "bukan-email", "--org", "tidak-ada", "--lang", "en", runner=runner)
    assert code == 2 and "bukan-email is not an email address." in output


def test_a_new_link_replaces_the_old_and_disable_stops_everything(
    runner: CliRunner, published: str, faker_id: Faker
) -> None:
    email = faker_id.unique.email()
    _, output = _user("add", email, "--org", "la-gelato-academy", "--role", "owner", runner=runner)
    first = LINK.search(output)
    code, output = _user("link", email, runner=runner)
    second = LINK.search(output)
    assert code == 0 and first and second and first.group(1) != second.group(1)
    engine = make_engine(get_settings().effective_database_url)
    with session_factory(engine)() as session:
        with pytest.raises(service.LinkInvalid):
            service.open_sign_in_link(session=session, token=first.group(1))
        service.open_sign_in_link(session=session, token=second.group(1))
    code, output = _user("disable", email, "--lang", "en", runner=runner)
    assert code == 0 and "can no longer sign in" in output
    with session_factory(engine)() as session, pytest.raises(service.LinkInvalid):
        service.open_sign_in_link(session=session, token=second.group(1))
    engine.dispose()
    code, output = _user("link", email, "--lang", "en", runner=runner)
    assert code == 2 and "disabled" in output


def test_the_last_owner_stays(runner: CliRunner, published: str, faker_id: Faker) -> None:
    owner, staff = faker_id.unique.email(), faker_id.unique.email()
    _user("add", owner, "--org", "la-gelato-academy", "--role", "owner", runner=runner)
    _user("add", staff, "--org", "la-gelato-academy", "--role", "staff", runner=runner)
    code, output = _user(
        "role", owner, "--org", "la-gelato-academy", "--role", "dpo", "--lang", "en", runner=runner
    )
    assert code == 2 and "last owner" in output
    code, output = _user(
        "remove", owner, "--org", "la-gelato-academy", "--lang", "en", runner=runner
    )
    assert code == 2 and "last owner" in output
    assert (
        _user("role", staff, "--org", "la-gelato-academy", "--role", "owner", runner=runner)[0] == 0
    )
    assert (
        _user("role", owner, "--org", "la-gelato-academy", "--role", "dpo", runner=runner)[0] == 0
    )
    code, output = _user(
        "remove", owner, "--org", "la-gelato-academy", "--lang", "en", runner=runner
    )
    assert code == 0 and "no longer a member" in output
    engine = make_engine(get_settings().effective_database_url)
    with cross_organisation_session(session_factory(engine)) as session:
        from sqlalchemy import select

        from jagadata.audit.models import AuditEntry

        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    engine.dispose()
    assert actions.count("membership.changed") == 2 and actions.count("membership.removed") == 1


def test_api_keys_from_the_command_line(runner: CliRunner, published: str) -> None:
    code, output = _user(
        "key", "create", "--org", "la-gelato-academy", "--name", "toko online",
        "--scope", "consent:write", "--scope", "consent:read", "--lang", "en", runner=runner,
    )  # fmt: skip
    assert code == 0, output
    token = re.search(r"jd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", output)
    assert token and "consent:read, consent:write" in output
    prefix = keys.parse(token.group(0))
    assert prefix is not None
    code, output = _user("key", "list", "--org", "la-gelato-academy", "--lang", "en", runner=runner)
    assert code == 0 and prefix[0] in output and token.group(0) not in output and "active" in output
    code, output = _user(
        "key", "revoke", prefix[0], "--org", "la-gelato-academy", "--lang", "en", runner=runner
    )
    assert code == 0 and "revoked" in output
    code, output = _user(
        "key",
        "create",
        "--org",
        "la-gelato-academy",
        "--name",
        "x",
        "--scope",
        "semua",
        "--lang",
        "en",
        runner=runner,
    )
    assert code == 2 and "Unknown scope" in output
