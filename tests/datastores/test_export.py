"""The export of a person's rows: data.json nested by table with the manifest's category labels,
a CSV per table, a summary page in the person's language; streamed, so memory stays bounded."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import sys
import tempfile
import tracemalloc
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    insert,
    select,
)

from jagadata.datastores.export import ExportSummary, iso_duration, json_safe, write_export
from jagadata.datastores.results import Rows
from jagadata.i18n import gettext
from jagadata.manifest.loader import LoadedManifest, load_manifest
from jagadata.manifest.mapping import TableMap
from jagadata.manifest.schema import Manifest, System

MakeManifest = Callable[..., LoadedManifest]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DATASETS = Path(__file__).resolve().parent / "datasets"
PREFIX = "databases/shop_db/"
WIB = timezone(timedelta(hours=7))
MAPPING = {
    "connection": {"env": "SHOP_DB_URL"},
    "tables": [
        {
            "name": "customers",
            "key": ["id"],
            "identities": [{"column": "email", "kind": "email", "stored": "lower"}],
            "columns": [
                {"name": "full_name", "category": "identity", "mask": "pseudonym"},
                {"name": "email", "category": "contact", "mask": "email"},
                {"name": "phone", "category": "contact", "mask": "phone"},
            ],
        },
        {
            "name": "orders",
            "key": ["id"],
            "references": [{"columns": ["customer_id"], "table": "customers"}],
            "columns": [{"name": "note", "category": "orders", "free_text": True}],
        },
        {
            "name": "loyalty_points",
            "key": ["id"],
            "references": [{"columns": ["customer_id"], "table": "customers"}],
        },
    ],
}


@pytest.fixture(scope="module")
def faker() -> Faker:
    faker = Faker("id_ID")
    faker.seed_instance(6)
    return faker


@pytest.fixture
def manifest(make_manifest: MakeManifest) -> Manifest:
    """La Gelato Academy's manifest with a database system `shop_db` mapped as MAPPING."""
    base = make_manifest().manifest
    shop = System.model_validate(
        {"id": "shop_db", "name": "Toko <daring>", "kind": "database", "datastore": MAPPING}
    )
    return base.model_copy(update={"systems": [*base.systems, shop]})


def table_of(manifest: Manifest, name: str) -> TableMap:
    system = next(s for s in manifest.systems if s.id == "shop_db")
    assert system.datastore is not None
    found = system.datastore.table(name)
    assert found is not None
    return found


def customers(faker: Faker, n: int, start: int = 1) -> list[tuple[Any, ...]]:
    return [
        (start + i, faker.name(), faker.email(), faker.phone_number(), faker.date_of_birth())
        for i in range(n)
    ]


CUSTOMER_COLUMNS = ("id", "full_name", "email", "phone", "born")
ORDER_COLUMNS = ("id", "customer_id", "total", "note", "paid_at")


def orders(faker: Faker, n: int, customer: int, start: int = 1) -> list[tuple[Any, ...]]:
    return [
        (
            start + i,
            customer,
            Decimal(faker.random_int(10_000, 5_000_000)) / 100,
            faker.sentence(),
            faker.date_time(tzinfo=WIB),
        )
        for i in range(n)
    ]


def export(
    tmp_path: Path, batches: Sequence[Rows] | Iterator[Rows], manifest: Manifest, lang: str = "id"
) -> tuple[Path, ExportSummary]:
    path = tmp_path / f"export-{uuid.uuid4().hex[:8]}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        summary = write_export(
            batches, archive, prefix=PREFIX, manifest=manifest, system_id="shop_db", lang=lang
        )
    return path, summary


def read(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(PREFIX + name).decode("utf-8")


def as_dicts(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [{c: json_safe(v) for c, v in zip(columns, row, strict=True)} for row in rows]


def csv_rows(path: Path, name: str) -> list[list[str]]:
    text = read(path, f"csv/{name}.csv")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def csv_text(value: Any) -> str:
    """The cell a value is expected as, computed without the module's own helper."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- round trip ------------------------------------------------------------------------------


def test_round_trip_json_csv_and_summary(tmp_path: Path, manifest: Manifest, faker: Faker) -> None:
    people = customers(faker, 3)
    people[1] = (*people[1][:1], "<script>alert('x')</script>", *people[1][2:])
    bought = orders(faker, 4, customer=1)
    path, summary = export(
        tmp_path,
        [
            Rows(table_of(manifest, "customers"), CUSTOMER_COLUMNS, people),
            Rows(table_of(manifest, "orders"), ORDER_COLUMNS, bought),
        ],
        manifest,
    )

    data = json.loads(read(path, "data.json"))
    assert data["system"] == {"id": "shop_db", "name": "Toko <daring>"}
    assert data["language"] == "id"
    assert list(data["tables"]) == ["customers", "orders", "loyalty_points"]
    got = data["tables"]["customers"]
    assert got["rows"] == as_dicts(CUSTOMER_COLUMNS, people)
    assert got["row_count"] == 3
    assert got["columns"] == list(CUSTOMER_COLUMNS)
    assert got["category_labels"] == {
        "full_name": "Identitas",
        "email": "Data kontak",
        "phone": "Data kontak",
    }
    assert got["categories"] == {"full_name": "identity", "email": "contact", "phone": "contact"}
    assert data["tables"]["orders"]["rows"] == as_dicts(ORDER_COLUMNS, bought)
    assert data["tables"]["orders"]["rows"][0]["paid_at"].endswith("+07:00")

    assert csv_rows(path, "customers") == [
        list(CUSTOMER_COLUMNS),
        *[[csv_text(v) for v in row] for row in people],
    ]
    assert csv_rows(path, "orders") == [
        list(ORDER_COLUMNS),
        *[[csv_text(v) for v in row] for row in bought],
    ]

    page = read(path, "summary.html")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "Toko &lt;daring&gt;" in page and "<daring>" not in page
    assert re.search(
        r"<td>customers</td><td class=\"n\">3</td><td>Identitas, Data kontak</td>", page
    )
    assert re.search(r"<td>orders</td><td class=\"n\">4</td>", page)
    assert people[0][2] in page

    assert summary.as_dict()["tables"] == [
        {
            "table": "customers",
            "rows": 3,
            "categories": ["identity", "contact"],
            "csv": PREFIX + "csv/customers.csv",
        },
        {"table": "orders", "rows": 4, "categories": ["orders"], "csv": PREFIX + "csv/orders.csv"},
        {"table": "loyalty_points", "rows": 0, "categories": [], "csv": None},
    ]
    assert summary.total_rows == 7


def test_files_are_listed_with_their_hash(tmp_path: Path, manifest: Manifest, faker: Faker) -> None:
    path, summary = export(
        tmp_path,
        [Rows(table_of(manifest, "customers"), CUSTOMER_COLUMNS, customers(faker, 2))],
        manifest,
    )
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(f.name for f in summary.files)
        for file in summary.files:
            content = archive.read(file.name)
            assert (len(content), hashlib.sha256(content).hexdigest()) == (file.size, file.sha256)
    assert [f.name for f in summary.files] == [
        PREFIX + "data.json",
        PREFIX + "csv/customers.csv",
        PREFIX + "summary.html",
    ]


def test_batches_of_one_table_merge_whenever_they_come(
    tmp_path: Path, manifest: Manifest, faker: Faker
) -> None:
    first, second = customers(faker, 2), customers(faker, 3, start=10)
    bought = orders(faker, 2, customer=1)
    path, summary = export(
        tmp_path,
        [
            Rows(table_of(manifest, "customers"), CUSTOMER_COLUMNS, first),
            Rows(table_of(manifest, "orders"), ORDER_COLUMNS, bought),
            Rows(table_of(manifest, "customers"), CUSTOMER_COLUMNS, []),
            Rows(table_of(manifest, "customers"), CUSTOMER_COLUMNS, second),
        ],
        manifest,
    )
    data = json.loads(read(path, "data.json"))
    assert data["tables"]["customers"]["rows"] == as_dicts(CUSTOMER_COLUMNS, first + second)
    assert data["tables"]["orders"]["rows"] == as_dicts(ORDER_COLUMNS, bought)
    assert [r[0] for r in csv_rows(path, "customers")[1:]] == ["1", "2", "10", "11", "12"]
    assert [(t.table, t.rows) for t in summary.tables] == [
        ("customers", 5),
        ("orders", 2),
        ("loyalty_points", 0),
    ]


# --- types -----------------------------------------------------------------------------------


def test_values_are_json_safe_and_lossless(tmp_path: Path, manifest: Manifest) -> None:
    photo = bytes(range(256))
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    row = (
        1,
        date(2009, 3, 17),
        datetime(2026, 11, 24, 8, 30, 15, 250000),
        datetime(2026, 11, 24, 8, 30, tzinfo=WIB),
        Decimal("12345678901234567890.10"),
        Decimal("1E+3"),
        photo,
        memoryview(b"\x00\xff"),
        None,
        True,
        False,
        2.5,
        float("nan"),
        timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=500000),
        key,
        {"kelas": "7A", "nilai": [90, Decimal("88.5")]},
    )
    columns = tuple(f"c{i}" for i in range(len(row)))
    path, _ = export(
        tmp_path, [Rows(table_of(manifest, "loyalty_points"), columns, [row])], manifest
    )
    got = json.loads(read(path, "data.json"))["tables"]["loyalty_points"]
    assert list(got["rows"][0].values()) == [
        1,
        "2009-03-17",
        "2026-11-24T08:30:15.250000",
        "2026-11-24T08:30:00+07:00",
        "12345678901234567890.10",
        "1000",
        base64.b64encode(photo).decode("ascii"),
        "AP8=",
        None,
        True,
        False,
        2.5,
        "nan",
        "P1DT2H3M4.5S",
        "12345678-1234-5678-1234-567812345678",
        {"kelas": "7A", "nilai": [90, "88.5"]},
    ]
    assert base64.b64decode(got["rows"][0]["c6"]) == photo
    assert got["base64_columns"] == ["c6", "c7"]
    assert csv_rows(path, "loyalty_points")[1] == [
        "1",
        "2009-03-17",
        "2026-11-24T08:30:15.250000",
        "2026-11-24T08:30:00+07:00",
        "12345678901234567890.10",
        "1000",
        base64.b64encode(photo).decode("ascii"),
        "AP8=",
        "",
        "true",
        "false",
        "2.5",
        "nan",
        "P1DT2H3M4.5S",
        "12345678-1234-5678-1234-567812345678",
        '{"kelas": "7A", "nilai": [90, "88.5"]}',
    ]


DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


@given(st.timedeltas(min_value=timedelta(days=-(10**6)), max_value=timedelta(days=10**6)))
def test_durations_read_back_to_the_same_interval(value: timedelta) -> None:
    match = DURATION.match(iso_duration(value))
    assert match, iso_duration(value)
    sign, days, hours, minutes, seconds = match.groups()
    back = timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(Decimal(seconds or 0)),
    )
    assert (-back if sign else back) == value


@given(
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
        min_size=1,
        max_size=5,
    )
)
def test_any_text_survives_json_and_csv(values: list[str]) -> None:
    """Commas, quotes, line breaks and NUL characters come back exactly as stored."""
    manifest = message_manifest()
    messages = table_of(manifest, "messages")
    columns = tuple(f"c{i}" for i in range(len(values)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        write_export(
            [Rows(messages, columns, [tuple(values)])],
            archive,
            prefix="db",
            manifest=manifest,
            system_id="shop_db",
            lang="en",
        )
    with zipfile.ZipFile(buffer) as archive:
        data = json.loads(archive.read("db/data.json"))
        text = archive.read("db/csv/messages.csv").decode("utf-8-sig")
    assert list(data["tables"]["messages"]["rows"][0].values()) == values
    assert list(csv.reader(io.StringIO(text, newline="")))[1] == values


@cache
def message_manifest() -> Manifest:
    """MilleaLab's manifest with a database system holding one unmapped table, `messages`."""
    base = load_manifest(EXAMPLES / "millealab.yaml").manifest
    system = System.model_validate(
        {
            "id": "shop_db",
            "name": "Pesan",
            "kind": "database",
            "datastore": {
                "connection": {"env": "DB_URL"},
                "tables": [{"name": "messages", "key": ["id"]}],
            },
        }
    )
    return base.model_copy(update={"systems": [system]})


# --- tables found empty, languages -----------------------------------------------------------


@pytest.mark.parametrize("lang", ["id", "en", "fr"])
def test_nothing_found_is_said_in_the_persons_language(
    tmp_path: Path, manifest: Manifest, lang: str
) -> None:
    path, summary = export(tmp_path, [], manifest, lang=lang)
    data = json.loads(read(path, "data.json"))
    assert {name: t["row_count"] for name, t in data["tables"].items()} == {
        "customers": 0,
        "orders": 0,
        "loyalty_points": 0,
    }
    assert all(t["rows"] == [] for t in data["tables"].values())
    page = read(path, "summary.html")
    said = gettext(lang, "We found no data about you in this database.", "datastores")
    assert said in page
    assert f'<html lang="{lang}">' in page
    if lang != "en":
        assert said != "We found no data about you in this database."
    assert summary.total_rows == 0
    assert [f.name for f in summary.files] == [PREFIX + "data.json", PREFIX + "summary.html"]


def test_summary_shows_the_first_rows_and_says_where_the_rest_are(
    tmp_path: Path, manifest: Manifest, faker: Faker
) -> None:
    people = customers(faker, 25)
    path, _ = export(
        tmp_path, [Rows(table_of(manifest, "customers"), CUSTOMER_COLUMNS, people)], manifest, "en"
    )
    page = read(path, "summary.html")
    assert people[9][2] in page
    assert people[10][2] not in page
    assert "The first 10 of 25 rows are shown here" in page
    assert "csv/customers.csv" in page


def test_faker_indonesian_text_reads_right_in_a_spreadsheet(
    tmp_path: Path, manifest: Manifest
) -> None:
    faker = Faker("id_ID")
    faker.seed_instance(2026)
    rows = [(i, faker.name(), faker.address(), faker.phone_number()) for i in range(50)]
    columns = ("id", "full_name", "address", "phone")
    path, _ = export(tmp_path, [Rows(table_of(manifest, "customers"), columns, rows)], manifest)
    with zipfile.ZipFile(path) as archive:
        raw = archive.read(PREFIX + "csv/customers.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert parsed == [list(columns), *[[str(v) for v in row] for row in rows]]
    assert any("\n" in row[2] for row in rows)


def test_a_prefix_must_stay_inside_the_zip(manifest: Manifest) -> None:
    with zipfile.ZipFile(io.BytesIO(), "w") as archive, pytest.raises(ValueError, match="prefix"):
        write_export(
            [], archive, prefix="../escape/", manifest=manifest, system_id="shop_db", lang="id"
        )


def test_an_unknown_system_is_refused(manifest: Manifest) -> None:
    with zipfile.ZipFile(io.BytesIO(), "w") as archive, pytest.raises(ValueError, match="nope"):
        write_export([], archive, prefix=PREFIX, manifest=manifest, system_id="nope", lang="id")


def test_a_failed_read_leaves_no_half_export_and_no_spool_open(
    tmp_path: Path, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is written before every batch has arrived; the spools (on disk past their
    in-memory size) are closed, and so erased, whatever happens."""
    created: list[tempfile.SpooledTemporaryFile[bytes]] = []

    class Recorded(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Recorded)
    customer_table, order_table = table_of(manifest, "customers"), table_of(manifest, "orders")

    def batches() -> Iterator[Rows]:
        yield Rows(order_table, ORDER_COLUMNS, [(1, 1, Decimal("1.00"), "", None)])
        for start in range(0, 20_000, 1000):
            rows = [
                (n, f"Nama {n}", f"n{n}@contoh.id", f"0812{n:08d}", None)
                for n in range(start, start + 1000)
            ]
            yield Rows(customer_table, CUSTOMER_COLUMNS, rows)
        raise ConnectionError("the database went away")

    with zipfile.ZipFile(tmp_path / "failed.zip", "w") as archive:
        with pytest.raises(ConnectionError):
            write_export(
                batches(), archive, prefix=PREFIX, manifest=manifest, system_id="shop_db", lang="id"
            )
        assert archive.namelist() == []
    assert len(created) == 3
    assert all(spool.closed for spool in created)


# --- memory ----------------------------------------------------------------------------------

MANY = 200_000
MEMORY_BOUND = 8 * 1024 * 1024


def test_a_large_export_streams_in_bounded_memory(tmp_path: Path, manifest: Manifest) -> None:
    """200,000 rows (tens of megabytes once written) pass through with a peak of Python memory
    far below their size: rows are spooled to disk and members streamed into the zip."""
    customer_table, order_table = table_of(manifest, "customers"), table_of(manifest, "orders")

    def batches() -> Iterator[Rows]:
        for start in range(0, MANY, 1000):
            # the two tables interleave, so every batch goes back to an earlier spool
            rows = [
                (
                    n,
                    f"Pelanggan Nomor {n:07d}",
                    f"pelanggan{n:07d}@contoh.co.id",
                    f"+62812{n:08d}",
                    date(1990, 1, 1) + timedelta(days=n % 9000),
                )
                for n in range(start, start + 500)
            ]
            yield Rows(customer_table, CUSTOMER_COLUMNS, rows)
            yield Rows(
                order_table,
                ORDER_COLUMNS,
                [
                    (
                        n,
                        n,
                        Decimal(n) / 100,
                        f"Pesanan nomor {n} dikirim ke Jalan Merdeka {n}",
                        datetime(2026, 1, 1, tzinfo=UTC),
                    )
                    for n in range(start, start + 500)
                ],
            )

    tracemalloc.start()
    try:
        path, summary = export(tmp_path, batches(), manifest)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    with zipfile.ZipFile(path) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    assert [(t.table, t.rows) for t in summary.tables][:2] == [
        ("customers", MANY // 2),
        ("orders", MANY // 2),
    ]
    assert sizes[PREFIX + "data.json"] + sizes[PREFIX + "csv/customers.csv"] > 4 * MEMORY_BOUND
    assert peak < MEMORY_BOUND, f"peak {peak} bytes"
    with zipfile.ZipFile(path) as archive, archive.open(PREFIX + "csv/orders.csv") as member:
        lines = io.TextIOWrapper(member, encoding="utf-8-sig", newline="")
        count = sum(1 for _ in csv.reader(lines)) - 1
    assert count == MANY // 2


# --- values as each database's driver returns them -------------------------------------------


def test_rows_read_from_a_real_database_round_trip(
    tmp_path: Path, manifest: Manifest, faker: Faker, target_url: str
) -> None:
    metadata = MetaData()
    pupils = Table(
        "customers",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("full_name", String(120)),
        Column("born", Date),
        Column("joined", DateTime(timezone=True)),
        Column("balance", Numeric(14, 2)),
        Column("photo", LargeBinary),
        Column("active", Boolean),
        Column("note", String(200), nullable=True),
    )
    given_rows: list[dict[str, Any]] = [
        {
            "id": i,
            "full_name": faker.name(),
            "born": faker.date_of_birth(minimum_age=10, maximum_age=70),
            "joined": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(days=i),
            "balance": Decimal(faker.random_int(0, 10_000_000)) / 100,
            "photo": faker.binary(length=64),
            "active": i % 2 == 0,
            "note": None if i % 3 else faker.sentence(),
        }
        for i in range(1, 8)
    ]
    engine = create_engine(target_url)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(pupils), given_rows)
        with engine.connect() as connection:
            result = connection.execute(select(pupils).order_by(pupils.c.id))
            columns = tuple(result.keys())
            read_rows = [tuple(row) for row in result]
    finally:
        engine.dispose()

    path, summary = export(
        tmp_path, [Rows(table_of(manifest, "customers"), columns, read_rows)], manifest
    )
    got = json.loads(read(path, "data.json"))["tables"]["customers"]
    assert summary.tables[0].rows == len(given_rows)
    for expected, row in zip(given_rows, got["rows"], strict=True):
        assert row["id"] == expected["id"]
        assert row["full_name"] == expected["full_name"]
        assert row["born"] == expected["born"].isoformat()
        joined = datetime.fromisoformat(row["joined"])
        if joined.tzinfo is None:  # SQLite and MariaDB keep the wall time without its zone
            assert joined == expected["joined"].replace(tzinfo=None)
        else:
            assert joined == expected["joined"]
        assert Decimal(row["balance"]) == expected["balance"]
        assert base64.b64decode(row["photo"]) == expected["photo"]
        assert bool(row["active"]) is expected["active"]
        assert row["note"] == expected["note"]
    assert got["base64_columns"] == ["photo"]


# --- the engine's access, exported -----------------------------------------------------------


def test_the_shops_access_export_holds_exactly_the_persons_rows(
    tmp_path: Path, make_manifest: MakeManifest, target_url: str
) -> None:
    """The rich customer of the test shop, found by the engine on each database and exported:
    every table's rows are the ones an oracle written without the engine finds, once each."""
    if str(DATASETS) not in sys.path:
        sys.path.insert(0, str(DATASETS))
    import database_state as state
    import shop

    from jagadata.datastores.engine import Operation, access, compile_plan, connect

    shop.create(target_url)
    mapping = shop.mapping()
    person = shop.generate().people["rich"]
    expected = shop.person_rows(state.snapshot(target_url, shop.metadata), [person])
    base = make_manifest().manifest
    system = System.model_validate(
        {"id": "shop_db", "name": "Toko", "kind": "database", "datastore": mapping.model_dump()}
    )
    manifest = base.model_copy(update={"systems": [system]})

    plan = compile_plan(mapping, Operation.ACCESS, [person], system="shop_db")
    with connect(target_url) as conn:
        path, summary = export(tmp_path, access(conn, plan), manifest)

    data = json.loads(read(path, "data.json"))["tables"]
    assert list(data) == [t.name for t in mapping.tables]
    for table in mapping.tables:
        rows = data[table.name]["rows"]
        keys = [tuple(row[k] for k in table.key) for row in rows]
        assert sorted(keys, key=repr) == sorted(
            (tuple(json_safe(v) for v in key) for key in expected[table.name]), key=repr
        ), table.name
        assert data[table.name]["row_count"] == len(rows)
        assert len(csv_rows(path, table.name)) == len(rows) + 1
    assert {t.table: t.rows for t in summary.tables} == {
        name: len(keys) for name, keys in expected.items()
    }
