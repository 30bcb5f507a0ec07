"""Logs never hold a person's data: `Pii` prints a token, and the redacting filter replaces any
email, Indonesian phone number or NIK that slips into a message, an argument or a traceback."""

from __future__ import annotations

import io
import logging
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy.orm import Session

from jagadata.audit.export import ExportFormat, export_entries
from jagadata.audit.service import Actor, record, verify_chain
from jagadata.db import atomic
from jagadata.logs import (
    HANDLER_NAME,
    Pii,
    RedactingFilter,
    configure_logging,
    redact,
    redact_links,
)
from jagadata.manifest.loader import load_manifest_text
from jagadata.orgs import service

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "la-gelato-academy.yaml"
TOKEN = re.compile(r"‹(email|phone|nik):[0-9a-f]{6}›")


def _nik(faker: Faker) -> str:
    """A NIK-shaped number: province, regency, district, birth date, serial (16 digits)."""
    born = faker.date_of_birth()
    return (
        f"{faker.random_int(11, 94)}{faker.numerify('####')}{born:%d%m%y}{faker.numerify('####')}"
    )


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes the root logger: put everything back afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    filters = {h: list(h.filters) for h in handlers}
    engine_level = logging.getLogger("sqlalchemy.engine").level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler, kept in filters.items():
        handler.filters[:] = kept
    root.setLevel(level)
    logging.getLogger("sqlalchemy.engine").setLevel(engine_level)


def test_pii_prints_a_token_never_the_value() -> None:
    email = Faker("id_ID").email()
    wrapped = Pii(email, "email")
    for shown in (
        str(wrapped),
        repr(wrapped),
        f"{wrapped}",
        f"{wrapped:>40}",
        format(wrapped, ""),
        "%s" % (wrapped,),  # noqa: UP031  (how logging formats arguments)
    ):
        assert TOKEN.fullmatch(shown)
        assert email not in shown
    assert not hasattr(wrapped, "__dict__")
    assert email not in repr([getattr(wrapped, slot) for slot in Pii.__slots__])


def test_the_same_person_gets_the_same_token_however_written() -> None:
    assert str(Pii("Budi@Mail.co.id ", "email")) == str(Pii("budi@mail.co.id", "email"))
    assert str(Pii("0812-3456-7890", "phone")) == str(Pii("+62 812 3456 7890", "phone"))
    assert str(Pii("budi@mail.co.id", "email")) != str(Pii("sari@mail.co.id", "email"))
    assert str(Pii("budi@mail.co.id", "email")) != str(Pii("budi@mail.co.id", "name"))


def test_a_kind_is_a_short_word() -> None:
    with pytest.raises(ValueError, match="kind"):
        Pii("x", "Email Address")


def test_redaction_finds_generated_people_and_leaves_the_rest_readable() -> None:
    faker = Faker("id_ID")
    for _ in range(300):
        values = [faker.email(), faker.phone_number(), _nik(faker), faker.free_email()]
        line = "kontak: " + " | ".join(values) + " pada 2026-04-28 09:30:00 dari 62.103.245.178"
        redacted = redact(line)
        for value in values:
            assert value not in redacted
        assert len(TOKEN.findall(redacted)) == len(values)
        assert redacted.endswith("pada 2026-04-28 09:30:00 dari 62.103.245.178")
    for readable in ("order 000012345 of 2026-04-28", "versi 12, 3 kebijakan", "id 1234567"):
        assert redact(readable) == readable


def test_the_filter_redacts_messages_arguments_and_tracebacks(restored_logging: None) -> None:
    faker = Faker("id_ID")
    email, phone = faker.email(), "08" + faker.numerify("##########")
    stream = io.StringIO()
    configure_logging(logging.DEBUG, stream=stream)
    log = logging.getLogger("jagadata.test")
    log.info("sent to " + email)
    log.warning("retry %s at %d", phone, 3)
    try:
        raise ValueError(f"bad address {email}")
    except ValueError:
        log.exception("failed")
    output = stream.getvalue()
    assert email not in output and phone not in output
    assert "retry ‹phone:" in output and "at 3" in output
    assert "ValueError: bad address ‹email:" in output


def test_the_secrets_of_links_people_receive_never_reach_a_log(restored_logging: None) -> None:
    key, token = secrets.token_urlsafe(18), secrets.token_urlsafe(24)
    stream = io.StringIO()
    configure_logging(logging.DEBUG, stream=stream)
    access = logging.getLogger("jagadata.test.access")  # a line as uvicorn's access log writes it
    access.info('"GET /o/x/requests/R-7KQ3MX2P?k=%s&lang=id HTTP/1.1" 200', key)
    access.info('"GET /o/x/requests/link/%s HTTP/1.1" 200', token)
    access.info('"POST /o/x/confirm/%s HTTP/1.1" 303', token)
    output = stream.getvalue()
    assert key not in output and token not in output
    assert "R-7KQ3MX2P?k=‹secret›&lang=id" in output  # the reference stays readable
    assert "/requests/link/‹secret›" in output and "/confirm/‹secret›" in output
    assert redact_links("/o/x/requests/new?lang=id") == "/o/x/requests/new?lang=id"


def test_configuring_twice_keeps_one_handler_and_guards_the_others(
    restored_logging: None,
) -> None:
    other = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(other)
    configure_logging(logging.INFO, stream=io.StringIO())
    configure_logging(logging.INFO, stream=io.StringIO())
    names = [h.get_name() for h in logging.getLogger().handlers]
    assert names.count(HANDLER_NAME) == 1
    assert any(isinstance(f, RedactingFilter) for f in other.filters)


def test_publishing_and_auditing_log_no_personal_data(
    session: Session, restored_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Run the organisation and audit code paths with a sole trader's own name, email and
    WhatsApp in the manifest, SQL logging on, and scan everything that was logged."""
    faker = Faker("id_ID")
    person, email = faker.name(), faker.email()
    whatsapp = "+62 81" + faker.numerify("# #### ####")
    text = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace("  name: SIE YULYANI RN", f'  name: "{person}"', 1)
        .replace("  email: privasi@lagelatoacademy.example", f"  email: {email}", 1)
        .replace('  whatsapp: "+62 812 0000 0001"', f'  whatsapp: "{whatsapp}"', 1)
    )
    loaded = load_manifest_text(text, file="toko-pribadi.yaml")
    assert loaded.manifest.organisation.email == email

    stream = io.StringIO()
    configure_logging(logging.DEBUG, stream=stream)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # SQL and its parameters
    caplog.set_level(logging.DEBUG)

    added = service.add_organisation(session=session, loaded=loaded)
    organisation_id = added.organisation.id
    with atomic(session):
        record(
            session=session,
            organisation_id=organisation_id,
            actor=Actor.user(3),
            action="person.viewed",
            ip="203.0.113.9",
            user_agent=f"Mozilla/5.0 ({email}; {whatsapp})",
        )
    session.info["all_organisations"] = True
    assert verify_chain(session=session, organisation_id=organisation_id).ok
    export_entries(
        session=session, organisation_id=organisation_id, out=io.StringIO(), fmt=ExportFormat.JSON
    )
    logging.getLogger("jagadata.test").error("could not reach %s", Pii(email, "email"))

    everything = stream.getvalue()
    assert "INSERT INTO audit_entry" in everything  # SQL logging was on: the net was tested
    digits = re.sub(r"\D", "", whatsapp)
    for raw in (email, whatsapp, digits, "0" + digits[2:]):
        assert raw not in everything
    own = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("jagadata"))
    assert "added organisation" in own
    for raw in (email, whatsapp, person):
        assert raw not in own
