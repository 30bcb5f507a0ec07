"""The DPIA workspace (Art. 34): an assessment is drafted, submitted and signed off by the data
protection officer only, every step audited; a change sends it back to draft; and the linter
reads where it stands, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jagadata.accounts import service as accounts
from jagadata.accounts.models import User
from jagadata.accounts.roles import Role
from jagadata.audit.models import AuditEntry
from jagadata.audit.service import Actor, verify_chain
from jagadata.checks import run_checks
from jagadata.cli import app
from jagadata.db import atomic
from jagadata.db.tenancy import scope
from jagadata.manifest.loader import LoadedManifest, load_manifest_text
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.ropa import service as dpia
from jagadata.ropa.service import DpiaRefused, RiskInput
from jagadata.ropa.states import DpiaState

PURPOSE = "assessment_dashboard"


def _risk(faker: Faker, residual: tuple[int, int] = (1, 2)) -> RiskInput:
    return RiskInput(
        description=faker.sentence(),
        likelihood=faker.random_int(2, 3),
        severity=3,
        measures=faker.sentence(),
        residual_likelihood=residual[0],
        residual_severity=residual[1],
    )


@pytest.fixture
def faker() -> Faker:
    faker = Faker("id_ID")
    faker.seed_instance(34)
    return faker


@pytest.fixture
def millealab(
    session: Session, example_manifests: tuple[LoadedManifest, ...]
) -> Iterator[Organisation]:
    loaded = next(m for m in example_manifests if m.manifest.organisation.slug == "millealab")
    with atomic(session):
        organisation = orgs.add_organisation(session=session, loaded=loaded).organisation
    scope(session, organisation.id)
    yield organisation


def _member(session: Session, organisation: Organisation, faker: Faker, role: Role) -> User:
    with atomic(session):
        user, _ = accounts.add_user(
            session=session,
            email=faker.unique.email(),
            organisation=organisation,
            role=role,
            actor=Actor.system("test"),
        )
    return user


def test_draft_submit_and_sign_off_by_the_officer_each_audited(
    session: Session, millealab: Organisation, faker: Faker
) -> None:
    owner = _member(session, millealab, faker, Role.OWNER)
    officer = _member(session, millealab, faker, Role.DPO)
    with atomic(session):
        assessment = dpia.start(
            session=session,
            organisation_id=millealab.id,
            purpose_id=PURPOSE,
            actor=Actor.user(owner.id),
        )
    with atomic(session):
        dpia.save(
            session=session,
            assessment=assessment,
            context=faker.paragraph(),
            risks=[_risk(faker, (1, 2)), _risk(faker, (2, 2))],
            actor=Actor.user(owner.id),
        )
    assert assessment.residual_level == "medium"
    assert [r.position for r in assessment.risks] == [1, 2]
    with atomic(session):
        dpia.submit(session=session, assessment=assessment, actor=Actor.user(owner.id))
    with pytest.raises(DpiaRefused) as refused:
        dpia.sign_off(
            session=session,
            assessment=assessment,
            role=Role.OWNER,
            user_id=owner.id,
            actor=Actor.user(owner.id),
        )
    assert "data protection officer" in str(refused.value)
    assert refused.value.describe("id") == (
        "Hanya Pejabat Pelindungan Data Pribadi yang dapat menyetujui penilaian dampak."
    )
    with atomic(session):
        dpia.sign_off(
            session=session,
            assessment=assessment,
            role=Role.DPO,
            user_id=officer.id,
            actor=Actor.user(officer.id),
        )
    assert assessment.state == DpiaState.SIGNED_OFF
    assert assessment.signed_off_by == officer.id and assessment.signed_off_at is not None
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.target_type == "dpia")
        .order_by(AuditEntry.sequence)
    ).all()
    assert actions == ["dpia.started", "dpia.updated", "dpia.submitted", "dpia.signed_off"]
    assert verify_chain(session=session, organisation_id=millealab.id).ok


def test_a_change_after_sign_off_returns_the_assessment_to_draft(
    session: Session, millealab: Organisation, faker: Faker
) -> None:
    officer = _member(session, millealab, faker, Role.DPO)
    actor = Actor.user(officer.id)
    with atomic(session):
        assessment = dpia.start(
            session=session, organisation_id=millealab.id, purpose_id=PURPOSE, actor=actor
        )
        dpia.save(
            session=session,
            assessment=assessment,
            context=faker.paragraph(),
            risks=[_risk(faker)],
            actor=actor,
        )
        dpia.submit(session=session, assessment=assessment, actor=actor)
        dpia.sign_off(
            session=session,
            assessment=assessment,
            role=Role.DPO,
            user_id=officer.id,
            actor=actor,
        )
    with atomic(session):
        dpia.save(
            session=session,
            assessment=assessment,
            context=assessment.context,
            risks=[_risk(faker, (3, 3))],
            actor=actor,
        )
    assert assessment.state == DpiaState.DRAFT
    assert assessment.signed_off_at is None and assessment.signed_off_by is None
    assert assessment.residual_level == "high"
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.sequence.desc())).first()
    assert last is not None and last.details["reopened"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"description": " "}, "Risk 1 has no description."),
        ({"measures": ""}, "Risk 1 has no measures"),
        ({"likelihood": 4}, "Risk 1: likelihood and severity are 1"),
        ({"residual_severity": 0}, "Risk 1: likelihood and severity are 1"),
    ],
)
def test_an_incomplete_risk_is_refused_and_nothing_changes(
    session: Session,
    millealab: Organisation,
    faker: Faker,
    change: dict[str, object],
    message: str,
) -> None:
    actor = Actor.system("test")
    with atomic(session):
        assessment = dpia.start(
            session=session, organisation_id=millealab.id, purpose_id=PURPOSE, actor=actor
        )
    risk = _risk(faker)
    values = {name: getattr(risk, name) for name in RiskInput.__dataclass_fields__}
    values.update(change)
    with pytest.raises(DpiaRefused, match=message):
        dpia.save(
            session=session,
            assessment=assessment,
            context=faker.paragraph(),
            risks=[RiskInput(**values)],  # type: ignore[arg-type]
            actor=actor,
        )
    session.rollback()
    kept = dpia.assessment_of(session=session, purpose_id=PURPOSE)
    assert kept is not None and kept.risks == [] and kept.context == ""


def test_a_draft_without_risks_cannot_be_submitted(
    session: Session, millealab: Organisation
) -> None:
    actor = Actor.system("test")
    with atomic(session):
        assessment = dpia.start(
            session=session, organisation_id=millealab.id, purpose_id=PURPOSE, actor=actor
        )
    with pytest.raises(DpiaRefused, match="Describe the processing"):
        dpia.submit(session=session, assessment=assessment, actor=actor)
    with pytest.raises(DpiaRefused, match="already has an assessment"):
        dpia.start(session=session, organisation_id=millealab.id, purpose_id=PURPOSE, actor=actor)


def _dpia_findings(
    loaded: LoadedManifest, states: dict[str, DpiaState] | None
) -> list[tuple[str, str]]:
    findings = run_checks(
        loaded, lang="en", select=("PDP011", "PDP012", "PDP013"), dpia_states=states
    )
    return [(f.code, f.message) for f in findings]


def test_the_linter_reads_the_workspace(example_manifests: tuple[LoadedManifest, ...]) -> None:
    millealab = next(m for m in example_manifests if m.manifest.organisation.slug == "millealab")
    declared = "    dpia:\n      status: completed\n      completed_on: 2026-06-15\n"
    assert declared in millealab.text
    undeclared = load_manifest_text(
        re.sub(r"    dpia:\n(      .*\n)+", "", millealab.text, count=1)
    )
    assert undeclared.manifest.purpose(PURPOSE).dpia is None  # type: ignore[union-attr]

    missing = _dpia_findings(undeclared, None)
    assert [code for code, _ in missing] == ["PDP011"] and PURPOSE in missing[0][1]
    assert _dpia_findings(undeclared, {}) == missing
    assert _dpia_findings(undeclared, {PURPOSE: DpiaState.SIGNED_OFF}) == []
    for state, words in ((DpiaState.DRAFT, "(draft)"), (DpiaState.SUBMITTED, "awaiting")):
        found = _dpia_findings(undeclared, {PURPOSE: state})
        assert [code for code, _ in found] == ["PDP013"]
        assert PURPOSE in found[0][1] and words in found[0][1]

    assert _dpia_findings(millealab, None) == []
    in_draft = _dpia_findings(millealab, {PURPOSE: DpiaState.DRAFT})
    assert [code for code, _ in in_draft] == ["PDP013"], "the workspace prevails over the manifest"


def test_check_on_the_command_line_reads_the_organisations_workspace(
    session: Session, millealab: Organisation, cli_environment: str
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "millealab.yaml"
    runner = CliRunner()
    with atomic(session):
        dpia.start(
            session=session,
            organisation_id=millealab.id,
            purpose_id=PURPOSE,
            actor=Actor.system("test"),
        )
    plain = runner.invoke(app, ["check", str(example), "--lang", "en"])
    assert "PDP013" not in plain.stdout
    read = runner.invoke(app, ["check", str(example), "--lang", "en", "--org", "millealab"])
    assert "PDP013" in read.stdout and "(draft)" in read.stdout
    other = runner.invoke(app, ["check", str(example), "--lang", "en", "--org", "la-gelato"])
    assert other.exit_code == 2 and "millealab" in other.stderr


def test_the_record_of_processing_shows_the_workspace_with_org(
    session: Session, millealab: Organisation, cli_environment: str, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "millealab.yaml"
    with atomic(session):
        dpia.start(
            session=session,
            organisation_id=millealab.id,
            purpose_id=PURPOSE,
            actor=Actor.system("test"),
        )
    target = tmp_path / "ropa.csv"
    args = ["ropa", str(example), "-f", "csv", "--lang", "en", "-o", str(target)]
    assert CliRunner().invoke(app, [*args, "--org", "millealab"]).exit_code == 0
    assert f"{PURPOSE}," in target.read_text(encoding="utf-8-sig")
    assert "Required: Draft" in target.read_text(encoding="utf-8-sig")
    assert CliRunner().invoke(app, args).exit_code == 0
    assert "Required: Draft" not in target.read_text(encoding="utf-8-sig")
