"""The daily job sweeps every organisation with a mapped database; an account still open
(its closing date empty) is never due, whatever its age; a rule whose period runs until
consent is withdrawn is left for the consent ledger; rules that disagree are listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml
from faker import Faker
from sqlalchemy import Engine, select

from jagadata.accounts.models import SignInLink, UserSession
from jagadata.accounts.roles import Role
from jagadata.accounts.service import add_user, issue_sign_in_link
from jagadata.accounts.sessions import Timeouts
from jagadata.accounts.sessions import start as start_session
from jagadata.audit.service import SYSTEM
from jagadata.config import Settings
from jagadata.datastores.service import store_secret
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.jobs.registry import load_all_jobs
from jagadata.manifest import load_manifest_text
from jagadata.manifest.types import Duration
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.retention.builtin import sweep_own
from jagadata.retention.jobs import SWEEP_JOB, sweep_all
from jagadata.retention.models import RetentionRun
from jagadata.retention.plan import (
    CONSENT_VS_MINIMUM,
    HOLD_SHORTER,
    RULES_DISAGREE,
    conflicts_of,
    threshold_for,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "millealab.yaml"


def _accounts(url: str, faker: Faker) -> dict[int, tuple[str, datetime | None]]:
    """Accounts closed long ago, recently, and never (NULL), whatever their age."""
    engine = sa.create_engine(url)
    rows: dict[int, tuple[str, datetime | None]] = {}
    closings = [datetime(2015, 3, 1), datetime(2019, 8, 9), None, datetime(2026, 1, 5), None]
    with engine.begin() as c:
        c.exec_driver_sql(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL, "
            "closed_at TIMESTAMP)"
        )
        for n, closed in enumerate(closings * 3, start=1):
            rows[n] = (faker.unique.email(), closed)
            c.execute(sa.text("INSERT INTO accounts VALUES (:i, :e, :c)"),
                      {"i": n, "e": rows[n][0], "c": closed})  # fmt: skip
    engine.dispose()
    return rows


def _manifest(tmp_path: Path) -> str:
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["retention"] = [
        {"id": "accounts", "name": "Akun", "categories": ["account"],
         "period": "account_closed + 5y", "action": "delete",
         "legal_source": "UU 8/1997 tentang Dokumen Perusahaan"},
        {"id": "newsletter", "name": "Buletin", "categories": ["account"],
         "period": "until consent_withdrawn", "action": "delete"},
        {"id": "invoices", "name": "Faktur", "categories": ["transactions"],
         "period": "transaction + 10y", "action": "anonymise", "legal_source": "UU KUP"},
        {"id": "short_hold", "name": "Singkat", "categories": ["transactions"],
         "period": "transaction + 1y", "action": "anonymise"},
    ]  # fmt: skip
    for system in document["systems"]:
        if system["id"] == "platform_db":
            system["datastore"] = {
                "connection": {"secret": "accounts"},
                "tables": [
                    {
                        "name": "accounts",
                        "key": ["id"],
                        "columns": [{"name": "email", "category": "account", "mask": "email"}],
                        "retention": {"rule": "accounts", "since": "closed_at"},
                    },
                    {
                        "name": "invoices",
                        "key": ["id"],
                        "columns": [{"name": "payer", "category": "transactions"}],
                        "hold": {
                            "reason": "Pajak",
                            "legal_source": "UU KUP",
                            "retention": "short_hold",
                        },
                        "retention": {"rule": "invoices", "since": "paid_at"},
                    },
                ],
            }
    return yaml.safe_dump(document, allow_unicode=True)


def test_the_daily_job_deletes_closed_accounts_past_their_period_and_never_open_ones(
    migrated_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    faker = Faker("id_ID")
    faker.seed_instance(77)
    url = f"sqlite:///{tmp_path / 'accounts.sqlite3'}"
    rows = _accounts(url, faker)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY, payer VARCHAR(80), "
                          "paid_at TIMESTAMP)")  # fmt: skip
    loaded = load_manifest_text(_manifest(tmp_path), file="accounts.yaml")
    sessions = session_factory(migrated_engine)
    with sessions() as session:
        orgs.update_organisation(session=session, loaded=loaded)
        organisation = session.scalars(
            select(Organisation).where(Organisation.slug == loaded.manifest.organisation.slug)
        ).one()
        scope(session, organisation.id)
        store_secret(session, organisation.id, "accounts", url)
        session.commit()
        organisation_id = organisation.id

    swept = sweep_all(sessions)

    assert SWEEP_JOB in load_all_jobs()[1]
    with engine.connect() as c:
        left = {row[0] for row in c.exec_driver_sql("SELECT id FROM accounts")}
    engine.dispose()
    cutoff = datetime.now(UTC).replace(tzinfo=None)
    due = {n for n, (_, closed) in rows.items() if closed is not None
           and Duration.parse("5y").after(closed) < cutoff}  # fmt: skip
    assert due and left == set(rows) - due
    assert {n for n, (_, closed) in rows.items() if closed is None} <= left  # still open
    with sessions() as session:
        scope(session, organisation_id)
        (run,) = session.scalars(select(RetentionRun)).all()
        assert run.id in swept.runs and run.trigger == "job"
        report = run.report or {}
    assert report["tables"][0]["done"] == len(due)
    messages = {c["message"] for c in report["conflicts"]}
    assert {CONSENT_VS_MINIMUM, RULES_DISAGREE, HOLD_SHORTER} <= messages
    assert conflicts_of(loaded.manifest) != []


def test_the_threshold_counts_calendar_months_and_years_back() -> None:
    moment = datetime(2026, 3, 31, 2, tzinfo=UTC)
    assert threshold_for(Duration.parse("1m"), moment) == datetime(2026, 2, 28, 2, tzinfo=UTC)
    assert threshold_for(Duration.parse("5y"), moment) == datetime(2021, 3, 31, 2, tzinfo=UTC)
    assert threshold_for(Duration.parse("24m"), moment) == datetime(2024, 3, 31, 2, tzinfo=UTC)
    assert threshold_for(Duration.parse("72h"), moment) == datetime(2026, 3, 28, 2, tzinfo=UTC)
    leap = datetime(2024, 2, 29, tzinfo=UTC)
    assert threshold_for(Duration.parse("1y"), leap) == datetime(2023, 2, 28, tzinfo=UTC)


def test_jagadata_s_own_ended_sessions_and_expired_links_go_after_thirty_days(
    migrated_engine: Engine, settings: Settings
) -> None:
    faker = Faker("id_ID")
    faker.seed_instance(78)
    now = datetime.now(UTC)
    sessions = session_factory(migrated_engine)
    with sessions() as session:
        organisation = session.scalars(select(Organisation)).first()
        assert organisation is not None
        user, _ = add_user(session=session, email=faker.unique.email(),
                           organisation=organisation, role=Role.STAFF, actor=SYSTEM)  # fmt: skip
        timeouts = Timeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
        old, _ = start_session(session=session, user=user, stage="active", timeouts=timeouts,
                               now=now - timedelta(days=45), ip=faker.ipv4(),
                               user_agent=faker.user_agent())  # fmt: skip
        recent, _ = start_session(session=session, user=user, stage="active",
                                  timeouts=timeouts, now=now - timedelta(days=3),
                                  ip=faker.ipv4())  # fmt: skip
        issue_sign_in_link(session=session, user=user, actor=SYSTEM, now=now - timedelta(days=40))
        session.commit()
        kept, gone = recent.id, old.id

        swept = sweep_own(session, now)

        left = set(session.scalars(select(UserSession.id)))
        assert gone not in left and kept in left
        assert swept.sessions >= 1 and swept.links >= 1
        assert session.scalars(select(SignInLink).where(SignInLink.user_id == user.id)).all() == []
