"""Discovery on a school's database, on SQLite, PostgreSQL and MariaDB: the NIK, phone, email and
guardian columns found with their evidence, no false alarm on scores, foreign keys and a
reference by convention drafted, a self-reference that is not followed, and a YAML draft that
loads as a datastore mapping once its connection is filled in and never holds a sampled value."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest
import yaml
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    insert,
)
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from jagadata.cli import app
from jagadata.datastores.detect import PROVINCES, Kind
from jagadata.datastores.discover import discover
from jagadata.datastores.draft_yaml import Discovery, TableDraft, plain
from jagadata.datastores.errors import ConnectionFailed
from jagadata.datastores.live import embedded
from jagadata.manifest.mapping import Datastore, Follow, IdentityKind, Mask, RowRule, Stored

PUPILS = 40


def make_nik(rng: random.Random, fake: Faker) -> str:
    """A NIK that is valid by structure: province, regency, district, birth date, serial."""
    born: date = fake.date_of_birth(minimum_age=6, maximum_age=18)
    day = born.day + (40 if rng.random() < 0.5 else 0)
    province = rng.choice(sorted(PROVINCES))
    return (
        f"{province:02d}{rng.randint(1, 30):02d}{rng.randint(1, 40):02d}"
        f"{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randint(1, 9999):04d}"
    )


def school_schema() -> MetaData:
    """Classes, pupils (NIK, a self-reference), guardians, scores and activity logs whose pupil
    column has no foreign key."""
    metadata = MetaData()
    Table(
        "classes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("label", String(20), nullable=False),
        Column("year", Integer, nullable=False),
    )
    Table(
        "pupils",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("nis", String(12), nullable=False, unique=True),
        Column("nik", String(16), nullable=False),
        Column("full_name", String(120), nullable=False),
        Column("email", String(120)),
        Column("class_id", Integer, ForeignKey("classes.id"), nullable=False),
        Column("referred_by", Integer, ForeignKey("pupils.id", ondelete="SET NULL")),
    )
    Table(
        "guardians",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("pupil_id", Integer, ForeignKey("pupils.id", ondelete="CASCADE"), nullable=False),
        Column("nama", String(120), nullable=False),
        Column("no_hp", String(30), nullable=False),
        Column("relation", String(10), nullable=False),
    )
    Table(
        "scores",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("pupil_id", Integer, ForeignKey("pupils.id"), nullable=False),
        Column("subject", String(40), nullable=False),
        Column("score", Numeric(5, 2), nullable=False),
        Column("grade", String(6), nullable=False),
        Column("points", BigInteger, nullable=False),
        Column("taken_on", Date, nullable=False),
    )
    Table(
        "activity_logs",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("pupil_id", Integer, nullable=False),
        Column("action", String(40), nullable=False),
    )
    return metadata


def build_school(url: str, seed: int = 6) -> MetaData:
    """The school's database at `url`, filled with Faker id_ID people and valid NIKs."""
    fake, rng = Faker("id_ID"), random.Random(seed)
    fake.seed_instance(seed)
    metadata = school_schema()
    t = metadata.tables
    engine = create_engine(url)
    metadata.create_all(engine)
    subjects = ["Matematika", "Bahasa Indonesia", "IPA", "IPS", "Seni Budaya"]
    with engine.begin() as connection:
        connection.execute(
            insert(t["classes"]),
            [{"id": i, "label": f"Kelas {i + 6}A", "year": 2025} for i in range(1, 4)],
        )
        connection.execute(
            insert(t["pupils"]),
            [
                {
                    "id": i,
                    "nis": f"{2025}{i:04d}",
                    "nik": make_nik(rng, fake),
                    "full_name": fake.name(),
                    "email": fake.email() if i % 4 else None,
                    "class_id": 1 + i % 3,
                    "referred_by": i - 1 if i % 5 == 0 else None,
                }
                for i in range(1, PUPILS + 1)
            ],
        )
        connection.execute(
            insert(t["guardians"]),
            [
                {
                    "id": i,
                    "pupil_id": i,
                    "nama": fake.name(),
                    "no_hp": fake.numerify(rng.choice(["0812########", "0857########"])),
                    "relation": rng.choice(["ayah", "ibu", "wali"]),
                }
                for i in range(1, PUPILS + 1)
            ],
        )
        connection.execute(
            insert(t["scores"]),
            [
                {
                    "id": i,
                    "pupil_id": 1 + i % PUPILS,
                    "subject": rng.choice(subjects),
                    "score": round(rng.uniform(40, 100), 2),
                    "grade": rng.choice(["A", "A-", "B+", "B", "C", "87.50", "100"]),
                    "points": rng.randint(10**11, 10**12),
                    "taken_on": fake.date_between(date(2025, 1, 1), date(2025, 6, 30)),
                }
                for i in range(1, 4 * PUPILS + 1)
            ],
        )
        connection.execute(
            insert(t["activity_logs"]),
            [
                {"id": i, "pupil_id": 1 + i % PUPILS, "action": rng.choice(["login", "logout"])}
                for i in range(1, 2 * PUPILS + 1)
            ],
        )
    engine.dispose()
    return metadata


def sampled_text(url: str, tables: Iterable[str]) -> list[str]:
    """Every personal value in the school: none of them may appear in what discovery writes."""
    engine = create_engine(url)
    metadata = school_schema()
    values = []
    with engine.connect() as connection:
        for name, columns in (
            ("pupils", ("nik", "full_name", "email")),
            ("guardians", ("nama", "no_hp")),
        ):
            if name not in tables:
                continue
            rows = connection.execute(metadata.tables[name].select()).mappings()
            values += [str(row[c]) for row in rows for c in columns if row[c]]
    engine.dispose()
    return values


def draft(discovery: Discovery, name: str) -> TableDraft:
    return next(t for t in discovery.tables if t.name == name)


def test_discovery_finds_the_school_s_personal_data_and_nothing_on_scores(target_url: str) -> None:
    build_school(target_url)
    seen: list[tuple[int, int]] = []
    discovery = discover(
        target_url, sample=100, progress=lambda done, total: seen.append((done, total))
    )
    assert seen and seen[-1][0] == seen[-1][1]

    pupils = draft(discovery, "pupils")
    assert pupils.key == ("id",) and pupils.key_source == "primary"
    identities = {i.column: i for i in pupils.identities}
    assert identities["nik"].kind is IdentityKind.NIK
    assert identities["email"].kind is IdentityKind.EMAIL
    assert identities["email"].stored is Stored.LOWER
    assert identities["nis"].kind is IdentityKind.REFERENCE
    columns = {c.name: c for c in pupils.columns}
    assert columns["nik"].evidence is not None and columns["nik"].evidence.kind is Kind.NIK
    assert columns["nik"].evidence.matched == columns["nik"].evidence.sampled == PUPILS
    assert (columns["nik"].category, columns["nik"].mask) == ("nik", Mask.PSEUDONYM)
    assert (columns["email"].category, columns["email"].mask) == ("contact", Mask.EMAIL)
    assert (columns["full_name"].category, columns["full_name"].mask) == (
        "identity",
        Mask.PSEUDONYM,
    )

    guardians = draft(discovery, "guardians")
    phone = next(i for i in guardians.identities if i.column == "no_hp")
    assert (phone.kind, phone.stored) == (IdentityKind.PHONE, Stored.NATIONAL)
    assert {c.name: c.mask for c in guardians.columns} == {
        "no_hp": Mask.PHONE,
        "nama": Mask.PSEUDONYM,
    }

    scores = draft(discovery, "scores")
    assert scores.columns == [] and scores.identities == []
    assert draft(discovery, "activity_logs").columns == []
    assert "classes" in discovery.unmapped
    assert ("pupils.class_id", "classes") in discovery.unlinked


def test_foreign_keys_convention_and_self_references_become_references(target_url: str) -> None:
    build_school(target_url)
    discovery = discover(target_url, sample=50)
    guardians = draft(discovery, "guardians").references
    assert [(g.reference.columns, g.reference.table, g.reference.on_delete) for g in guardians] == [
        (["pupil_id"], "pupils", RowRule.CASCADE)
    ]
    assert guardians[0].reference.declared
    scores = draft(discovery, "scores").references
    assert [(g.reference.table, g.reference.on_delete) for g in scores] == [
        ("pupils", RowRule.RESTRICT)
    ]
    own = [g.reference for g in draft(discovery, "pupils").references]
    assert [(r.columns, r.table, r.follow, r.on_delete) for r in own] == [
        (["referred_by"], "pupils", Follow.NONE, RowRule.SET_NULL)
    ]
    logs = draft(discovery, "activity_logs").references
    assert len(logs) == 1
    convention = logs[0]
    assert convention.reference.columns == ["pupil_id"] and convention.reference.table == "pupils"
    assert not convention.reference.declared and convention.reference.follow is Follow.CHILD
    assert convention.matched == convention.sampled == PUPILS
    assert convention.confidence == 0.95


@pytest.mark.parametrize("lang", ["id", "en", "fr"])
def test_the_draft_loads_as_a_mapping_and_holds_no_sampled_value(lang: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    build_school(url)
    text = discover(url).to_yaml(lang)
    for value in sampled_text(url, ["pupils", "guardians"]):
        assert value not in text
    block = yaml.safe_load(text)["datastore"]
    block["connection"] = {"env": "SCHOOL_DB_URL"}
    datastore = Datastore.model_validate(block)
    assert [t.name for t in datastore.tables] == ["activity_logs", "guardians", "pupils", "scores"]
    pupils = datastore.table("pupils")
    assert pupils is not None and pupils.column("nik") is not None
    logs = datastore.table("activity_logs")
    assert logs is not None and logs.references[0].declared is False
    assert "# nik" in text and "0.99" in text


def test_the_english_draft_explains_its_evidence(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    build_school(url)
    text = discover(url, sample=20).to_yaml("en")
    assert (
        "# nik: 20/20 sampled values are valid NIKs (province, birth date) — confidence 0.99"
        in text
    )
    assert "# foreign key, ON DELETE cascade" in text
    assert "# no foreign key, named after pupils: 20/20 sampled values exist in its key" in text
    assert "# pupils.class_id points at classes, set aside" in text
    assert (
        "  # Tables set aside (no personal data found, no reference to a mapped table): classes"
        in text
    )


def test_an_unreadable_url_or_a_missing_sqlite_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFailed) as error:
        discover("not a url")
    assert error.value.render("en").startswith("The database URL cannot be read.")
    with pytest.raises(ConnectionFailed) as error:
        discover(f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert "There is no SQLite database at" in error.value.render("en")
    assert not (tmp_path / "none.sqlite3").exists()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["datastore", *args, "--lang", "en"])
    return result.exit_code, result.stdout, result.stderr


def test_the_discover_command_writes_the_draft_to_stdout_or_a_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    build_school(url)
    code, out, _ = run("discover", url, "--sample", "30")
    assert code == 0
    assert "# nik: 30/30 sampled values are valid NIKs" in out
    assert yaml.safe_load(out)["datastore"]["tables"][0]["name"] == "activity_logs"
    target = tmp_path / "draft.yaml"
    code, out, err = run("discover", url, "-o", str(target))
    assert code == 0 and out == "" and f"Draft written: {target}" in err
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["datastore"]["tables"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "The database URL cannot be read."),
        (
            "mysql+pymysql://nobody:s3cret-word@127.0.0.1:1/school",
            "Cannot reach mysql+pymysql://nobody:***@127.0.0.1:1/school",
        ),
    ],
)
def test_the_discover_command_explains_a_url_it_cannot_use(url: str, expected: str) -> None:
    code, out, err = run("discover", url)
    assert code == 2 and out == ""
    assert expected in err and "Traceback" not in err and "s3cret-word" not in err


def test_a_wrong_user_or_password_is_named_without_the_password(target_url: str) -> None:
    if target_url.startswith("sqlite"):
        code, _, err = run("discover", target_url)
        assert code == 2 and "There is no SQLite database at" in err
        return
    url = make_url(target_url).set(username="jagadata_nobody", password="s3cret-word")
    code, _, err = run("discover", url.render_as_string(hide_password=False))
    assert code == 2 and "Traceback" not in err
    assert "jagadata_nobody:***@" in err and "s3cret-word" not in err
    assert "refused the user name or password" in err


def test_free_text_with_personal_data_in_it_is_drafted_as_free_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    build_school(url)
    fake = Faker("id_ID")
    fake.seed_instance(11)
    metadata = MetaData()
    chats = Table(
        "chats",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("id_pupil", Integer, nullable=False),
        Column("isi", String(500), nullable=False),
    )
    bodies = [fake.sentence(nb_words=9) for _ in range(30)]
    for index in (3, 17):
        bodies[index] = f"Mohon hubungi saya di {fake.numerify('0813########')} setelah jam sekolah"
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(chats),
            [{"id": i, "id_pupil": i, "isi": b} for i, b in enumerate(bodies, start=1)],
        )
    engine.dispose()
    discovery = discover(url)
    chat = draft(discovery, "chats")
    assert [(c.name, c.category, c.mask, c.free_text) for c in chat.columns] == [
        ("isi", "communications", Mask.NULL, True)
    ]
    assert (chat.columns[0].embedded, chat.columns[0].sampled) == (2, 30)
    assert [(r.reference.columns, r.reference.declared) for r in chat.references] == [
        (["id_pupil"], False)
    ]
    assert "free text: 2/30 sampled values contain an email, phone number or NIK" in (
        discovery.to_yaml("en")
    )


def test_an_empty_database_drafts_nothing_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    create_engine(url).connect().close()
    discovery = discover(url)
    assert discovery.tables == () and discovery.unmapped == ()
    assert "# No table with personal data was found." in discovery.to_yaml("en")


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_$]{0,62}", fullmatch=True))
def test_every_sql_name_reads_back_from_the_draft_as_written(name: str) -> None:
    assert yaml.safe_load(f"{{name: {plain(name)}, key: [{plain(name)}]}}") == {
        "name": name,
        "key": [name],
    }


@given(st.sampled_from(sorted(PROVINCES)), st.text(alphabet="abc .,", max_size=20))
def test_a_nik_inside_a_sentence_is_found(province: int, words: str) -> None:
    nik = f"{province:02d}0101{12:02d}{5:02d}{90:02d}0001"
    assert embedded(f"{words} NIK saya {nik}. {words}", (Kind.NIK,)) is Kind.NIK
    assert embedded(f"{words} nilai 87.5 dan 90 {words}", (Kind.NIK, Kind.PHONE)) is None


def test_a_file_that_is_not_a_database_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"catatan rapat, bukan basis data\n" * 200)
    code, out, err = run("discover", f"sqlite:///{path}")
    assert code == 2 and out == ""
    assert f"Reading sqlite:///{path} failed: file is not a database." in err
    assert "may read every table" in err and "Traceback" not in err
