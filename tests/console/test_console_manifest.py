"""Publishing from the console follows `jagadata org update`: a valid file becomes the next
version (audited, one transaction); an invalid one changes nothing and its errors are located
as the CLI locates them; errors against UU PDP stop it unless explicitly confirmed."""

from __future__ import annotations

import html
import re

from accounts_helpers import GELATO, MILLEALAB, Clock, audit_actions, organisation_id
from console_helpers import EXAMPLE_TEXT, changed, next_manifest, signed_in, token_of
from faker import Faker
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.checks import Severity, run_checks
from jagadata.db.tenancy import cross_organisation_session
from jagadata.i18n import gettext
from jagadata.manifest.errors import ManifestInvalid
from jagadata.manifest.loader import load_manifest_text
from jagadata.orgs.models import ManifestVersion, PolicyVersion

PAGE = f"/admin/o/{GELATO}/manifest"


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "console")


def _versions(factory: sessionmaker[Session]) -> int:
    with cross_organisation_session(factory) as session:
        org = organisation_id(factory, GELATO)
        return int(
            session.scalar(
                select(func.count())
                .select_from(ManifestVersion)
                .where(ManifestVersion.organisation_id == org)
            )
            or 0
        )


def _upload(
    web: TestClient, text: str | bytes, name: str = "privasi.yaml", **fields: str
) -> Response:
    token = token_of(web.get(PAGE).text)
    content = text.encode("utf-8") if isinstance(text, str) else text
    return web.post(
        PAGE,
        data={"csrf_token": token, **fields},
        files={"manifest": (name, content, "application/yaml")},
        follow_redirects=False,
    )


def test_a_valid_manifest_is_published_and_audited(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    dpo = signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    text = next_manifest().replace("\n", "\r\n")
    response = _upload(web, text)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{PAGE}/2?published=1"
    page = web.get(response.headers["location"], headers={"accept-language": "en"})
    assert 'id="published-notice"' in page.text
    assert _versions(sessions_of) == 2
    published = [e for e in audit_actions(sessions_of, organisation_id(sessions_of, GELATO))
                 if e.action == "org.published"]  # fmt: skip
    assert len(published) == 1
    entry = published[0]
    assert entry.actor_kind == "user" and entry.actor_id == str(dpo.id)
    assert entry.details["version"] == 2
    expected = load_manifest_text(next_manifest(), file="x.yaml").content_hash
    assert entry.details["content_hash"] == expected, "CRLF read as a file read would read it"
    with cross_organisation_session(sessions_of) as session:
        policies = session.scalars(
            select(PolicyVersion.lang).join(ManifestVersion).where(ManifestVersion.number == 2,
            ManifestVersion.organisation_id == organisation_id(sessions_of, GELATO))
        ).all()  # fmt: skip
    assert sorted(set(policies)) == ["en", "fr", "id"]
    listing = web.get(PAGE).text
    assert expected in listing and 'data-version="2"' in listing


def test_an_invalid_manifest_shows_located_errors_and_stores_nothing(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    broken = changed(next_manifest(), "threshold: every_breach", "threshold: sometimes")
    audit_before = len(audit_actions(sessions_of, organisation_id(sessions_of, GELATO)))
    response = _upload(web, broken, name="C:\\Users\\yulia\\privasi.yaml")
    assert response.status_code == 422
    try:
        load_manifest_text(broken, file="privasi.yaml", lang="id")
    except ManifestInvalid as invalid:
        expected = invalid.errors
    assert expected, "the example change must make the manifest invalid"
    shown = re.findall(r'<code class="location">([^<]+)</code>', response.text)
    assert shown == [error.location for error in expected]
    assert shown[0].startswith("privasi.yaml:382:")
    for error in expected:
        assert html.escape(error.message, quote=False) in response.text.replace("&#39;", "'")
    assert _versions(sessions_of) == 1
    audit_after = len(audit_actions(sessions_of, organisation_id(sessions_of, GELATO)))
    assert audit_after == audit_before


def test_errors_against_the_law_stop_publication_unless_confirmed(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    late = changed(next_manifest(), "notify_subjects_within: 72h", "notify_subjects_within: 96h")
    errors = [f for f in run_checks(load_manifest_text(late, file="x.yaml"), lang="id")
              if f.severity is Severity.ERROR]  # fmt: skip
    assert [f.code for f in errors] == ["PDP038"]
    refused = _upload(web, late)
    assert refused.status_code == 422
    assert 'data-code="PDP038"' in refused.text
    assert _versions(sessions_of) == 1
    pending = re.search(r'name="manifest_text" value="([^"]*)"', refused.text)
    assert pending is not None and html.unescape(pending.group(1)) == late

    token = token_of(refused.text)
    unconfirmed = web.post(
        PAGE, data={"csrf_token": token, "manifest_text": late, "file_name": "privasi.yaml"}
    )
    assert unconfirmed.status_code == 422 and _versions(sessions_of) == 1
    confirmed = web.post(
        PAGE,
        data={"csrf_token": token, "manifest_text": late, "file_name": "privasi.yaml",
              "confirm": "publish-with-errors"},
        follow_redirects=False,
    )  # fmt: skip
    assert confirmed.status_code == 303 and _versions(sessions_of) == 2
    actions = [e.action for e in audit_actions(sessions_of, organisation_id(sessions_of, GELATO))]
    assert actions[-2:] == ["manifest.errors_overridden", "org.published"]
    overridden = audit_actions(sessions_of, organisation_id(sessions_of, GELATO))[-2]
    assert overridden.details["codes"] == ["PDP038"] and overridden.details["errors"] == 1


def test_a_manifest_of_another_organisation_or_unchanged_is_not_published(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    other = changed(next_manifest(), f"slug: {GELATO}", f"slug: {MILLEALAB}")
    response = _upload(web, other)
    assert response.status_code == 422 and MILLEALAB in response.text
    same = _upload(web, EXAMPLE_TEXT)
    assert same.status_code == 200 and 'id="upload-notice"' in same.text
    assert _upload(web, "").status_code == 422
    not_utf8 = _upload(web, "organisation: Café".encode("cp1252"))
    assert not_utf8.status_code == 422 and 'id="upload-problem"' in not_utf8.text
    assert _versions(sessions_of) == 1


def test_a_version_page_shows_findings_the_escaped_text_and_what_changed(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    text = changed(next_manifest(), "advance_notice: 14d", "advance_notice: 30d")
    text = changed(text, "  trading_name: La Gelato Academy",
                   '  trading_name: "La Gelato <script>Academy</script>"')  # fmt: skip
    text = changed(text, "notify_subjects_within: 72h", "notify_subjects_within: 96h")
    assert _upload(web, text, confirm="publish-with-errors").status_code == 303
    page = web.get(f"{PAGE}/2", headers={"accept-language": "en"}).text
    assert "<script>Academy" not in page and "&lt;script&gt;Academy" in page
    findings = run_checks(load_manifest_text(text, file="x.yaml"), lang="en")
    assert re.findall(r'data-code="(PDP\d+)"', page) == [f.code for f in findings]
    breach = next(f for f in findings if f.code == "PDP038")
    assert f'href="#L{breach.line}"' in page and f'id="L{breach.line}"' in page
    assert html.escape(breach.citation(), quote=False) in page
    changes = re.search(r'<ul class="changes" id="changes">.*?</ul>', page, re.DOTALL)
    assert changes is not None
    assert "La Gelato &lt;script&gt;Academy&lt;/script&gt;" in changes.group(0)
    first = web.get(f"{PAGE}/1", headers={"accept-language": "en"}).text
    assert "This is the first version." in first or _t("en", "This is the first version.") in first
