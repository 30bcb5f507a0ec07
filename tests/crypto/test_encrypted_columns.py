"""Encrypted columns on SQLite and PostgreSQL: plaintext never reaches the database, and
`jagadata keys rotate` re-encrypts everything under a new key, resumably."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, insert, select, text
from typer.testing import CliRunner

from jagadata.config import get_settings
from jagadata.crypto import EncryptedJSON, EncryptedText, forget_keyrings, get_keyring
from jagadata.crypto.rotation import encrypted_columns, reencrypt, stale_count


def people_table() -> tuple[MetaData, Table]:
    metadata = MetaData()
    table = Table(
        "test_person",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("email", EncryptedText("test_person.email")),
        Column("profile", EncryptedJSON("test_person.profile"), nullable=True),
        Column("note", Text),
    )
    return metadata, table


@pytest.fixture
def people(engine: Engine) -> Table:
    metadata, table = people_table()
    metadata.create_all(engine)
    return table


def test_values_are_stored_encrypted_and_read_back(
    engine: Engine, people: Table, faker_id: object
) -> None:
    email = faker_id.email()  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(
            insert(people), [{"id": 1, "email": email, "profile": {"name": faker_id.name()}}]
        )  # type: ignore[attr-defined]
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT email, profile FROM test_person")).one()
        assert raw.email.startswith("jd1:") and email not in raw.email
        assert raw.profile.startswith("jd1:")
        row = connection.execute(select(people)).one()
    assert row.email == email and set(row.profile) == {"name"}


def test_rotation_re_encrypts_every_row_in_batches(engine: Engine, people: Table) -> None:
    rows = [
        {"id": i, "email": f"orang{i}@contoh.id", "profile": {"i": i} if i % 3 else None}
        for i in range(1, 26)
    ]
    with engine.begin() as connection:
        connection.execute(insert(people), rows)
    old = get_keyring()
    new = old.with_new_active_key()
    new.save(get_settings().effective_key_file)
    forget_keyrings()
    (target,) = encrypted_columns(people.metadata)
    assert stale_count(engine, target, new) == 25
    seen: list[int] = []
    done = reencrypt(
        engine, people.metadata, new, batch_size=7, progress=lambda _, n: seen.append(n)
    )
    assert done == {"test_person": 25} and seen == [7, 7, 7, 4]
    assert stale_count(engine, target, new) == 0
    assert reencrypt(engine, people.metadata, new) == {"test_person": 0}
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT email FROM test_person ORDER BY id")).scalars().all()
        assert all(value.startswith(f"jd1:{new.active}:") for value in raw)
        back = connection.execute(select(people).order_by(people.c.id)).all()
    assert [r.email for r in back] == [r["email"] for r in rows]
    assert [r.profile for r in back] == [r["profile"] for r in rows]


def test_keys_rotate_command_on_jagadata_s_own_database(
    cli_environment: str, tmp_path: Path
) -> None:
    from jagadata.cli import app

    runner = CliRunner()
    status = runner.invoke(app, ["keys", "status", "--lang", "en"])
    assert status.exit_code == 0, status.output
    assert "Values under an older key: 0" in status.output
    before = get_keyring().active
    rotated = runner.invoke(app, ["keys", "rotate", "--lang", "en"])
    assert rotated.exit_code == 0, rotated.output
    forget_keyrings()
    after = get_keyring()
    assert after.active != before and before in after.keys
    retired = runner.invoke(app, ["keys", "retire", before, "--lang", "en"])
    assert retired.exit_code == 0, retired.output
    forget_keyrings()
    assert before not in get_keyring().keys


def test_rotation_from_the_environment_is_refused(
    cli_environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jagadata.cli import app

    monkeypatch.setenv("JAGADATA_KEYS", get_keyring().to_json())
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["keys", "rotate", "--lang", "en"])
    assert result.exit_code == 2 and "JAGADATA_KEY_FILE" in result.output
