"""The DPIA workspace in the console: the purposes needing an assessment with the linter's
findings read against the workspace, a draft saved with its risks, submitted, refused to anyone
but the data protection officer, then signed off by them."""

from __future__ import annotations

import re

from accounts_helpers import MILLEALAB, Clock, form_token, set_up_person, sign_in
from console_helpers import csp_problems
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.audit.models import AuditEntry
from jagadata.ropa.models import DpiaAssessment

PURPOSE = "assessment_dashboard"
LIST = f"/admin/o/{MILLEALAB}/dpia"
PAGE = f"{LIST}/{PURPOSE}"


def _state(html: str) -> str:
    found = re.search(rf'data-purpose="{PURPOSE}" data-state="([a-z_]+)"', html)
    assert found, "the purpose is listed"
    return found.group(1)


def _draft(faker: Faker, *, measures: str | None = None) -> dict[str, object]:
    return {
        "context": faker.paragraph(),
        "description": [faker.sentence(), "", ""],
        "likelihood": ["3", "2", "2"],
        "severity": ["3", "2", "2"],
        "measures": [faker.sentence() if measures is None else measures, "", ""],
        "residual_likelihood": ["1", "1", "1"],
        "residual_severity": ["2", "1", "1"],
    }


def test_an_assessment_goes_from_draft_to_the_officers_sign_off(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    owner = set_up_person(sessions_of, faker_id, org=MILLEALAB, role=Role.OWNER)
    officer = set_up_person(sessions_of, faker_id, org=MILLEALAB, role=Role.DPO)
    sign_in(web, owner, clock)

    listing = web.get(LIST)
    assert listing.status_code == 200 and csp_problems(listing.text) == []
    assert _state(listing.text) == "none"
    assert 'id="dpia-clean"' in listing.text, "the manifest's completed DPIA counts"

    saved = web.post(
        PAGE, data={**_draft(faker_id), "csrf_token": form_token(web, PAGE)}, follow_redirects=False
    )
    assert saved.status_code == 303
    page = web.get(PAGE)
    assert csp_problems(page.text) == []
    assert 'id="dpia-residual">' in page.text and 'id="dpia-submit"' in page.text
    listing = web.get(LIST).text
    assert _state(listing) == "draft"
    assert 'data-code="PDP013"' in listing, "a draft in the workspace is reported"
    version = web.get(f"/admin/o/{MILLEALAB}/manifest/1").text
    assert 'data-code="PDP013"' in version, "the manifest's findings read the workspace too"

    submitted = web.post(f"{PAGE}/submit", data={"csrf_token": form_token(web, PAGE)})
    assert submitted.status_code == 200 and 'id="dpia-awaiting"' in submitted.text
    refused = web.post(f"{PAGE}/sign-off", data={"csrf_token": form_token(web, PAGE)})
    assert refused.status_code == 403

    sign_in(web, officer, clock)
    page = web.get(PAGE).text
    assert 'id="dpia-sign-off"' in page
    signed = web.post(f"{PAGE}/sign-off", data={"csrf_token": form_token(web, PAGE)})
    assert signed.status_code == 200 and 'id="dpia-signed-off"' in signed.text
    listing = web.get(LIST).text
    assert _state(listing) == "signed_off" and 'data-code="PDP013"' not in listing
    assert 'data-code="PDP013"' not in web.get(f"/admin/o/{MILLEALAB}/manifest/1").text

    with sessions_of() as session:
        session.info["all_organisations"] = True
        assessment = session.scalars(select(DpiaAssessment)).one()
        assert assessment.signed_off_by == officer.id
        assert assessment.residual_level == "low"
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "dpia")
            .order_by(AuditEntry.sequence)
        ).all()
    assert actions == ["dpia.started", "dpia.updated", "dpia.submitted", "dpia.signed_off"]


def test_a_risk_without_measures_is_refused_and_kept_on_the_page(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    owner = set_up_person(sessions_of, faker_id, org=MILLEALAB, role=Role.DPO)
    sign_in(web, owner, clock)
    draft = _draft(faker_id, measures="")
    response = web.post(PAGE, data={**draft, "csrf_token": form_token(web, PAGE)})
    assert response.status_code == 422
    assert 'id="dpia-problem"' in response.text and "Risiko 1" in response.text
    description = draft["description"]
    assert isinstance(description, list) and description[0] in response.text
    with sessions_of() as session:
        session.info["all_organisations"] = True
        assert session.scalars(select(DpiaAssessment)).all() == []


def test_a_viewer_reads_but_does_not_edit_and_an_unknown_purpose_is_404(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    viewer = set_up_person(sessions_of, faker_id, org=MILLEALAB, role=Role.VIEWER)
    sign_in(web, viewer, clock)
    page = web.get(PAGE)
    assert page.status_code == 200 and 'id="dpia-form"' not in page.text
    assert web.post(PAGE, data={"csrf_token": form_token(web, LIST)}).status_code == 403
    assert web.get(f"{LIST}/no_such_purpose").status_code == 404
