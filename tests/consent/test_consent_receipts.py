"""Every consent gives the person a receipt: Kantara Consent Receipt v1.1 fields, signed as a
compact JWS (EdDSA, Ed25519) with the organisation's key, published at its JWKS endpoint,
verifiable offline by `jagadata consent verify-receipt` — and invalid after one byte changes.
It is a page in the person's language, printable, and reachable by a short WhatsApp link."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from consent_helpers import GELATO, MILLEALAB, Keys, bearer, email, event, organisation_id
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jagadata.cli.consent import app as consent_cli
from jagadata.consent import signing
from jagadata.db import atomic

BASE = f"/api/v1/orgs/{GELATO}/consent"
KANTARA_FIELDS = {
    "version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID",
    "publicKey", "language", "piiPrincipalId", "piiControllers", "policyUrl", "services",
    "sensitive", "spiCat",
}  # fmt: skip
PURPOSE_FIELDS = {
    "purpose", "purposeCategory", "consentType", "piiCategory", "primaryPurpose", "termination",
    "thirdPartyDisclosure", "thirdPartyName",
}  # fmt: skip


def _given(client: TestClient, keys: Keys, faker: Faker, **fields: Any) -> dict[str, Any]:
    response = client.post(
        f"{BASE}/events",
        json={"events": [event(email(faker), **fields)]},
        headers=bearer(keys.writer),
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["events"][0])


def _receipt(client: TestClient, keys: Keys, receipt_url: str) -> dict[str, Any]:
    receipt_id = receipt_url.rsplit("/", 1)[1]
    response = client.get(f"{BASE}/receipts/{receipt_id}", headers=bearer(keys.reader))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _published(client: TestClient) -> dict[str, str]:
    response = client.get(f"/o/{GELATO}/.well-known/jwks.json")
    assert response.status_code == 200
    for jwk in response.json()["keys"]:
        assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == (
            "OKP",
            "Ed25519",
            "EdDSA",
            "sig",
        )
    return signing.keys_of_jwks(response.json())


def _flip(text: str, position: int) -> str:
    replacement = "A" if text[position] != "A" else "B"
    return text[:position] + replacement + text[position + 1 :]


def test_a_receipt_has_the_kantara_fields_and_verifies(
    client: TestClient, keys: Keys, faker_id: Faker
) -> None:
    given = _given(client, keys, faker_id)
    found = _receipt(client, keys, given["receipt_url"])
    payload = found["receipt"]
    assert set(payload) >= KANTARA_FIELDS
    assert payload["version"] == "KI-CR-v1.1.0" and payload["jurisdiction"] == "ID"
    assert payload["piiPrincipalId"] == given["subject_ref"]
    assert payload["consentReceiptID"] == found["receipt_id"]
    assert payload["language"] == "id" and payload["collectionMethod"] == "formulir web"
    [purpose] = payload["services"][0]["purposes"]
    assert set(purpose) >= PURPOSE_FIELDS and purpose["consentType"] == "EXPLICIT"
    assert purpose["purpose"] == "Pemasaran" and purpose["thirdPartyDisclosure"] is True
    assert payload["piiControllers"][0]["piiController"] == "SIE YULYANI RN"
    assert payload["jagadata"]["eventHash"] == given["hash"]
    assert payload["jagadata"]["noticeHash"] == given["notice_hash"]

    header = json.loads(signing.unb64url(found["jws"].split(".")[0]))
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    keys_published = _published(client)
    assert header["kid"] in keys_published and keys_published[header["kid"]] == payload["publicKey"]
    assert signing.verify(found["jws"], keys_published).payload == payload
    again = _receipt(client, keys, given["receipt_url"])
    assert again["jws"] == found["jws"]  # Ed25519 is deterministic: the same receipt each time


def test_one_changed_byte_makes_a_receipt_invalid(
    client: TestClient, keys: Keys, faker_id: Faker
) -> None:
    found = _receipt(client, keys, _given(client, keys, faker_id)["receipt_url"])
    published = _published(client)
    header, body, signature = found["jws"].split(".")
    raw = bytearray(signing.unb64url(body))
    raw[raw.index(b'"piiPrincipalId":"') + 18] ^= 0x01
    forged = f"{header}.{signing.b64url(bytes(raw))}.{signature}"
    with pytest.raises(signing.InvalidReceipt, match="altered"):
        signing.verify(forged, published)
    raw_signature = bytearray(signing.unb64url(signature))
    raw_signature[10] ^= 0x01
    with pytest.raises(signing.InvalidReceipt, match="altered"):
        signing.verify(f"{header}.{body}.{signing.b64url(bytes(raw_signature))}", published)
    for position in (len(header) + 5, len(found["jws"]) - 3):
        with pytest.raises(signing.InvalidReceipt):
            signing.verify(_flip(found["jws"], position), published)


def test_the_cli_verifies_a_receipt_offline(
    client: TestClient, keys: Keys, faker_id: Faker, tmp_path: Path
) -> None:
    given = _given(client, keys, faker_id)
    download = client.get(given["receipt_url"].replace("http://testserver", "") + "/receipt.jws")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/jose"
    receipt_file = tmp_path / "receipt.jws"
    receipt_file.write_text(download.text, encoding="utf-8")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(client.get(f"/o/{GELATO}/.well-known/jwks.json").text, encoding="utf-8")
    runner = CliRunner()

    command = ["verify-receipt", str(receipt_file), "--jwks", str(jwks_file), "--lang", "en"]
    valid = runner.invoke(consent_cli, command)
    assert valid.exit_code == 0, valid.output
    assert "The receipt is valid" in valid.output and given["subject_ref"] in valid.output
    embedded = runner.invoke(consent_cli, ["verify-receipt", str(receipt_file), "--lang", "en"])
    assert embedded.exit_code == 0 and "--jwks" in embedded.output

    header, body, signature = download.text.strip().split(".")
    raw = bytearray(signing.unb64url(body))
    raw[raw.index(b'"consentTimestamp":') + 21] ^= 0x01  # a digit, still JSON
    receipt_file.write_text(f"{header}.{signing.b64url(bytes(raw))}.{signature}", encoding="utf-8")
    invalid = runner.invoke(consent_cli, command)
    assert invalid.exit_code == 1 and "NOT valid" in invalid.output and "altered" in invalid.output
    other_jwks = tmp_path / "other.json"
    other_jwks.write_text(
        client.get(f"/o/{MILLEALAB}/.well-known/jwks.json").text, encoding="utf-8"
    )
    receipt_file.write_text(download.text, encoding="utf-8")
    stranger = runner.invoke(consent_cli, ["verify-receipt", str(receipt_file), "--jwks",
                                           str(other_jwks), "--lang", "en"])  # fmt: skip
    assert stranger.exit_code == 1 and "not among the published keys" in stranger.output


def test_rotation_keeps_old_receipts_verifiable(
    client: TestClient, keys: Keys, faker_id: Faker, sessions_of: sessionmaker[Session]
) -> None:
    before = _receipt(client, keys, _given(client, keys, faker_id)["receipt_url"])
    with sessions_of() as session, atomic(session):
        new_key = signing.rotate_key(
            session=session, organisation_id=organisation_id(sessions_of, GELATO)
        )
    after = _receipt(client, keys, _given(client, keys, faker_id)["receipt_url"])
    published = _published(client)
    assert len(published) == 2 and new_key.kid in published
    assert signing.verify(after["jws"], published).kid == new_key.kid
    assert signing.verify(before["jws"], published).kid != new_key.kid
    assert _receipt(client, keys, before["url"])["jws"] == before["jws"]


def test_the_receipt_page_in_the_persons_language(
    client: TestClient, keys: Keys, faker_id: Faker
) -> None:
    given = _given(client, keys, faker_id, language="en")
    path = given["receipt_url"].replace("http://testserver", "")
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"].startswith("private")
    assert "I agree to receive news of products" in page.text and 'lang="en"' in page.text
    assert "@media print" in page.text and "https://wa.me/?text=" in page.text
    assert given["receipt_short_url"].split("/r/")[1] in page.text
    indonesian = client.get(path, params={"lang": "id"})
    assert "Tanda terima persetujuan" in indonesian.text and "Saya setuju" in indonesian.text
    assert "I agree to receive" in indonesian.text  # the text shown, in the language shown
    short = client.get(given["receipt_short_url"].replace("http://testserver", ""),
                       follow_redirects=False)  # fmt: skip
    assert short.status_code == 303 and short.headers["location"] == path
    receipt_id = path.rsplit("/", 1)[1]
    assert client.get(f"/o/{MILLEALAB}/receipts/{receipt_id}").status_code == 404
    assert client.get(f"/o/{GELATO}/receipts/{'x' * 22}").status_code == 404
    assert client.get(f"/r/{'x' * 22}").status_code == 404
