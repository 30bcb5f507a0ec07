"""The privacy centre's request pages: file a request in Indonesian, receive the code at a
real SMTP server, confirm it, see the 72-hour deadline; wrong codes, unknown keys, bad input
and the same answer whether or not the person is known."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from accounts_helpers import Clock
from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer
from rights_helpers import code_in, csrf_of, text_of
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.db.tenancy import across_organisations
from jagadata.rights.models import RightsRequest

NEW = "/o/la-gelato-academy/requests/new"


def file(web: TestClient, email: str, *, right: str = "access", **extra: str) -> str:
    page = web.get(NEW, params={"lang": "id"})
    assert page.status_code == 200
    response = web.post(
        NEW + "?lang=id",
        data={
            "csrf_token": csrf_of(page.text),
            "right": right,
            "identifier": "email",
            "value": email,
            "on_behalf": "self",
            **extra,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_the_form_is_in_indonesian_with_each_right_and_its_deadline(web: TestClient) -> None:
    page = web.get(NEW, params={"lang": "id"})
    assert page.status_code == 200
    assert '<html lang="id">' in page.text
    assert "Hak atas akses" in page.text or "akses" in page.text.lower()
    assert "3 x 24 jam" in page.text
    assert 'name="csrf_token"' in page.text
    assert page.headers["cache-control"].startswith("private")
    english = web.get(NEW, params={"lang": "en"})
    assert "Make a request about your personal data" in english.text
    # where to complain and how compensation is claimed, from the manifest (Art. 12)
    assert "Komdigi" in page.text and "https://www.komdigi.go.id" in page.text
    assert "Pasal 12 UU PDP" in page.text and "Pengadilan Negeri Sleman" in page.text


def test_file_verify_and_see_the_72_hour_deadline(
    web: TestClient,
    smtp_server: RecordingSmtpServer,
    faker_id: Faker,
    clock: Clock,
    sessions_of: sessionmaker[Session],
) -> None:
    email = faker_id.email()
    location = file(web, email)
    assert "/verify?k=" in location
    [message] = smtp_server.received
    assert message.recipients == [email]
    body = text_of(message)
    assert "R-" in body and "30 menit" in body
    code = code_in(message)
    verify_page = web.get(location)
    assert verify_page.status_code == 200
    clock.advance(minutes=3)
    confirmed = web.post(
        location,
        data={"csrf_token": csrf_of(verify_page.text), "code": code},
        follow_redirects=True,
    )
    assert confirmed.status_code == 200
    assert "Sudah dikonfirmasi" in confirmed.text or "dikonfirmasi" in confirmed.text.lower()
    assert "WIB" in confirmed.text
    assert "71 jam lagi" in confirmed.text
    with sessions_of() as session, across_organisations(session):
        stored = session.scalars(select(RightsRequest)).one()
        assert stored.status == "verified"
        assert stored.due_at is not None
        assert stored.due_at - stored.received_at == timedelta(hours=72)


def test_a_wrong_code_says_how_many_attempts_are_left(
    web: TestClient, smtp_server: RecordingSmtpServer, faker_id: Faker
) -> None:
    location = file(web, faker_id.email())
    code = code_in(smtp_server.received[0])
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    page = web.get(location)
    answer = web.post(location, data={"csrf_token": csrf_of(page.text), "code": wrong})
    assert answer.status_code == 422
    assert "Sisa percobaan: 4" in answer.text


def test_without_the_key_a_reference_shows_nothing(
    web: TestClient, smtp_server: RecordingSmtpServer, faker_id: Faker
) -> None:
    location = file(web, faker_id.email())
    path = urlsplit(location).path.removesuffix("/verify")
    assert web.get(path).status_code == 404
    assert web.get(path, params={"k": "guess"}).status_code == 404
    key = parse_qs(urlsplit(location).query)["k"][0]
    assert web.get(path, params={"k": key}).status_code == 200
    other = "/o/millealab/requests/" + path.rsplit("/", 1)[1]
    assert web.get(other, params={"k": key}).status_code == 404


def test_the_link_confirms_once(
    web: TestClient, smtp_server: RecordingSmtpServer, faker_id: Faker
) -> None:
    file(web, faker_id.email())
    body = text_of(smtp_server.received[0])
    link = next(word for word in body.split() if "/requests/link/" in word)
    path = urlsplit(link).path
    first = web.get(path)
    assert first.status_code == 200 and "dikonfirmasi" in first.text
    assert web.get(path).status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"right": "telepathy"}, "Pilih hak"),
        ({"value": "bukan alamat"}, "Periksa kembali"),
        ({"right": "rectification", "details": ""}, "koreksi"),
        ({"on_behalf": "parent", "relation": ""}, "hubungan"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_recorded(
    web: TestClient,
    faker_id: Faker,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    fields: dict[str, str],
    message: str,
) -> None:
    page = web.get(NEW, params={"lang": "id"})
    data = {
        "csrf_token": csrf_of(page.text),
        "right": "access",
        "identifier": "email",
        "value": faker_id.email(),
        "on_behalf": "self",
        **fields,
    }
    answer = web.post(NEW + "?lang=id", data=data)
    assert answer.status_code == 422
    assert message.lower() in answer.text.lower()
    assert 'role="alert"' in answer.text
    assert smtp_server.received == []
    with sessions_of() as session, across_organisations(session):
        assert session.scalars(select(RightsRequest)).all() == []


def test_known_and_unknown_people_get_the_same_answer(
    web: TestClient, faker_id: Faker, smtp_server: RecordingSmtpServer
) -> None:
    first = file(web, faker_id.email())
    second = file(web, faker_id.email())
    assert urlsplit(first).path.endswith("/verify") and urlsplit(second).path.endswith("/verify")
    assert len(smtp_server.received) == 2
