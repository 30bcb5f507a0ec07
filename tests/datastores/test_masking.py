"""Masking a kept row: values that fit the column on every engine, pseudonyms that are
deterministic and keyed, emails that stay addresses, phone numbers nobody can dial, and masks
that cannot fit refused before anything runs."""

from __future__ import annotations

import doctest
import re
from datetime import date, datetime
from decimal import Decimal

import email_validator
import phonenumbers
import pytest
import sqlalchemy as sa
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from jagadata.datastores import masking
from jagadata.datastores.detect import is_phone
from jagadata.datastores.errors import MaskImpossible
from jagadata.datastores.masking import (
    ColumnKind,
    ColumnShape,
    changes_value,
    constant_for,
    is_constant,
    masked_value,
    shape_of,
    validate_mask,
)
from jagadata.identities import normalise_email
from jagadata.manifest.mapping import ColumnMap, Mask

fake = Faker("id_ID")
fake.seed_instance(27)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def column(mask: Mask, value: str | int | None = None) -> ColumnMap:
    return ColumnMap(name="c", category="identity", mask=mask, value=value)


def text(length: int | None, nullable: bool = True) -> ColumnShape:
    return ColumnShape(ColumnKind.TEXT, length, nullable)


INTEGER = ColumnShape(ColumnKind.INTEGER, None, False, low=-(2**31), high=2**31 - 1)
SMALLINT = ColumnShape(ColumnKind.INTEGER, None, False, low=-32768, high=32767)

names = st.builds(lambda seed: Faker("id_ID").name() + str(seed), st.integers(0, 10**6))
texts = st.text(min_size=1, max_size=200) | names
keys = st.binary(min_size=16, max_size=64)


def test_module_example_holds() -> None:
    failures, tried = doctest.testmod(masking)
    assert tried > 0 and failures == 0


# --- shapes from real reflection ---------------------------------------------------------


def _shape_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "shapes",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("full_name", sa.String(20), nullable=False),
        sa.Column("email", sa.String(40), nullable=False),
        sa.Column("phone", sa.String(24), nullable=False),
        sa.Column("gender", sa.CHAR(1), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("big", sa.BigInteger, nullable=False),
        sa.Column("small", sa.SmallInteger, nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("ratio", sa.Float, nullable=False),
        sa.Column("born", sa.Date, nullable=False),
        sa.Column("seen", sa.DateTime, nullable=False),
        sa.Column("stamped", sa.TIMESTAMP, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("photo", sa.LargeBinary, nullable=False),
        sa.Column("extra", sa.JSON, nullable=True),
    )


EXPECTED_KINDS = {
    "full_name": (ColumnKind.TEXT, 20),
    "email": (ColumnKind.TEXT, 40),
    "phone": (ColumnKind.TEXT, 24),
    "gender": (ColumnKind.TEXT, 1),
    "notes": (ColumnKind.TEXT, None),
    "points": (ColumnKind.INTEGER, None),
    "big": (ColumnKind.INTEGER, None),
    "small": (ColumnKind.INTEGER, None),
    "amount": (ColumnKind.DECIMAL, 10),
    "ratio": (ColumnKind.FLOAT, None),
    "born": (ColumnKind.DATE, None),
    "seen": (ColumnKind.DATETIME, None),
    "stamped": (ColumnKind.DATETIME, None),
    "active": (ColumnKind.BOOLEAN, None),
    "photo": (ColumnKind.BINARY, None),
}


def _reflected(url: str) -> tuple[sa.Engine, sa.Table, dict[str, ColumnShape]]:
    """The table created from SQLAlchemy types, then as reflection reads it back."""
    engine = sa.create_engine(url)
    declared = _shape_table(sa.MetaData())
    declared.create(engine)
    with engine.begin() as connection:
        connection.execute(declared.insert(), _faker_row())
    reflected = sa.MetaData()
    reflected.reflect(engine)
    table = reflected.tables["shapes"]
    return engine, table, {c.name: shape_of(c.type, bool(c.nullable)) for c in table.columns}


def _faker_row() -> dict[str, object]:
    """One customer row, the same on every call."""
    fake = Faker("id_ID")
    fake.seed_instance(17)
    return {
        "id": 1,
        "full_name": fake.name()[:20],
        "email": fake.email(),
        "phone": fake.phone_number(),
        "gender": "P",
        "notes": fake.address(),
        "points": 1200,
        "big": 3174054505900001,
        "small": 12,
        "amount": Decimal("125000.50"),
        "ratio": 0.5,
        "born": fake.date_of_birth(minimum_age=18, maximum_age=80),
        "seen": datetime(2024, 5, 17, 9, 30),
        "stamped": datetime(2024, 5, 17, 9, 30),
        "active": True,
        "photo": b"\x89PNG",
        "extra": {"kota": fake.city()},
    }


def test_reflected_types_give_their_shapes(target_url: str) -> None:
    engine, _, shapes = _reflected(target_url)
    try:
        for name, (kind, length) in EXPECTED_KINDS.items():
            assert (shapes[name].kind, shapes[name].length) == (kind, length), name
            assert shapes[name].nullable is False, name
        assert shapes["amount"].scale == 2
        assert shapes["small"].high == 32767 and shapes["points"].high == 2**31 - 1
        assert shapes["big"].high == 2**63 - 1
        # MariaDB keeps JSON as LONGTEXT with a json_valid check: text there.
        json_kind = ColumnKind.TEXT if engine.dialect.name == "mysql" else ColumnKind.JSON
        assert shapes["extra"] == ColumnShape(json_kind, None, True)
        if engine.dialect.name == "mysql":
            assert isinstance(shapes["stamped"].low, datetime)
            assert shapes["stamped"].low.year == 1970
    finally:
        engine.dispose()


MASKS = {
    "full_name": column(Mask.PSEUDONYM),
    "email": column(Mask.EMAIL),
    "phone": column(Mask.PHONE),
    "gender": column(Mask.FIXED, "-"),
    "notes": column(Mask.NULL),
    "points": column(Mask.PSEUDONYM),
    "big": column(Mask.KEEP),
    "small": column(Mask.PSEUDONYM),
    "amount": column(Mask.PSEUDONYM),
    "ratio": column(Mask.NULL),
    "born": column(Mask.YEAR),
    "seen": column(Mask.YEAR),
    "stamped": column(Mask.NULL),
    "active": column(Mask.NULL),
    "photo": column(Mask.NULL),
    "extra": column(Mask.NULL),
}


def test_masked_values_are_written_and_read_back_on_every_engine(target_url: str) -> None:
    engine, table, shapes = _reflected(target_url)
    row = _faker_row()
    try:
        masked = {
            name: masked_value(MASKS[name], shapes[name], row[name], key=KEY) for name in MASKS
        }
        with engine.begin() as connection:
            connection.execute(table.update().values(masked))
            stored = connection.execute(sa.select(table)).mappings().one()
        for name, value in masked.items():
            if name == "stamped" and engine.dialect.name == "mysql":
                assert stored[name] == datetime(1970, 1, 2), "earliest a TIMESTAMP holds"
            elif name == "active":
                assert not stored[name]
            else:
                assert stored[name] == value, name
        assert stored["big"] == row["big"]
        assert stored["born"] == date(row["born"].year, 1, 1)  # type: ignore[attr-defined]
        assert stored["notes"] == "" and stored["extra"] is None
    finally:
        engine.dispose()


# --- properties ----------------------------------------------------------------------------


@given(texts, keys, st.sampled_from([Mask.PSEUDONYM, Mask.EMAIL, Mask.PHONE]))
def test_masking_is_deterministic(old: str, key: bytes, mask: Mask) -> None:
    shape = text(None)
    assert masked_value(column(mask), shape, old, key=key) == masked_value(
        column(mask), shape, old, key=key
    )


@given(texts, keys, st.integers(10, 120))
def test_a_pseudonym_fits_the_column(old: str, key: bytes, length: int) -> None:
    value = masked_value(column(Mask.PSEUDONYM), text(length), old, key=key)
    assert isinstance(value, str)
    assert value.startswith("p-") and len(value) == min(length, 66)


@given(st.integers(), keys, st.sampled_from([INTEGER, SMALLINT]))
def test_an_integer_pseudonym_is_positive_and_in_range(
    old: int, key: bytes, shape: ColumnShape
) -> None:
    value = masked_value(column(Mask.PSEUDONYM), shape, old, key=key)
    assert isinstance(value, int) and isinstance(shape.high, int)
    assert 1 <= value <= min(shape.high, 2**31 - 1)


@given(st.lists(texts, min_size=2, max_size=2, unique=True), keys)
def test_different_values_get_different_pseudonyms(olds: list[str], key: bytes) -> None:
    first, second = (masked_value(column(Mask.PSEUDONYM), text(None), o, key=key) for o in olds)
    assert first != second


@given(st.lists(st.integers(0, 10**12), min_size=2, max_size=2, unique=True))
def test_different_numbers_get_different_integer_pseudonyms(olds: list[int]) -> None:
    first, second = (masked_value(column(Mask.PSEUDONYM), INTEGER, o, key=KEY) for o in olds)
    assert first != second


@given(texts, st.lists(keys, min_size=2, max_size=2, unique=True))
def test_another_key_gives_another_pseudonym(old: str, pair: list[bytes]) -> None:
    first, second = (masked_value(column(Mask.PSEUDONYM), text(None), old, key=k) for k in pair)
    assert first != second


def test_the_same_person_gets_the_same_pseudonym_in_every_table() -> None:
    number = 20240117
    as_text = masked_value(column(Mask.PSEUDONYM), text(64), str(number), key=KEY)
    assert masked_value(column(Mask.PSEUDONYM), text(64), number, key=KEY) == as_text


@given(st.sampled_from(list(ColumnKind)).filter(lambda k: k is not ColumnKind.OTHER), texts)
def test_null_never_writes_null_in_a_not_null_column(kind: ColumnKind, old: str) -> None:
    shape = ColumnShape(kind, None, nullable=False)
    assert masked_value(column(Mask.NULL), shape, old, key=KEY) is not None
    assert masked_value(column(Mask.NULL), ColumnShape(kind, None, True), old, key=KEY) is None


NUMBER_MASKS = [Mask.NULL, Mask.FIXED, Mask.PSEUDONYM, Mask.YEAR, Mask.KEEP]


@given(
    st.sampled_from(list(Mask)).map(lambda m: (m, text(None, False), "[dihapus]"))
    | st.sampled_from(NUMBER_MASKS).map(lambda m: (m, INTEGER, 0))
)
def test_a_null_stays_null(case: tuple[Mask, ColumnShape, str | int]) -> None:
    mask, shape, value = case
    assert masked_value(column(mask, value), shape, None, key=KEY) is None


def _is_valid_indonesian(value: str) -> bool:
    readings = [value, "+" + value] if value.startswith("62") else [value]
    for reading in readings:
        try:
            number = phonenumbers.parse(reading, "ID")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return is_phone(value)


separators = st.sampled_from(["", " ", "-", ".", ") ", " ("])
phones = st.builds(
    lambda prefix, groups, seps: (
        prefix + "".join(g + s for g, s in zip(groups, seps, strict=False))
    ),
    st.sampled_from(["+62", "+62 ", "62", "0", "(0", "", "+1 "]),
    st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1, max_size=5),
    st.lists(separators, min_size=5, max_size=5).map(lambda s: [*s[:4], ""]),
)
faker_phones = st.builds(lambda seed: _faker_phone(seed), st.integers(0, 10**6))


def _faker_phone(seed: int) -> str:
    people = Faker("id_ID")
    people.seed_instance(seed)
    return people.phone_number()


@given(phones | faker_phones)
def test_a_masked_phone_keeps_its_layout_and_cannot_be_dialled(old: str) -> None:
    value = masked_value(column(Mask.PHONE), text(len(old)), old, key=KEY)
    assert isinstance(value, str)
    assert len(value) == len(old)
    assert re.sub(r"\d", "0", value) == re.sub(r"\d", "0", old)  # same non-digits, in place
    digits = sum(c.isdigit() for c in old)
    if old.startswith("+62"):
        assert value[:3] == "+62"
    elif old.startswith("62") and digits >= 12:
        assert value[:2] == "62"
    assert not _is_valid_indonesian(value)
    assert masked_value(column(Mask.PHONE), text(len(old)), value, key=KEY) == value


@pytest.mark.parametrize("old", ["+62 812-3456-7890", "6281234567890", "0812 3456 7890"])
def test_a_masked_phone_keeps_its_prefix(old: str) -> None:
    prefix = re.match(r"\+62|62|0", old)
    assert prefix is not None
    value = masked_value(column(Mask.PHONE), text(30), old, key=KEY)
    assert isinstance(value, str) and value.startswith(prefix.group())
    assert set(value[prefix.end() :]) <= {"0", " ", "-"}


def test_a_short_62_number_loses_its_62_since_it_would_read_as_a_local_number() -> None:
    assert masked_value(column(Mask.PHONE), text(30), "62812345678", key=KEY) == "00000000000"


emails = st.builds(lambda seed: _faker_email(seed), st.integers(0, 10**6)) | st.emails()


def _faker_email(seed: int) -> str:
    people = Faker("id_ID")
    people.seed_instance(seed)
    return people.email()


@given(emails, st.integers(20, 120) | st.none())
def test_a_masked_email_is_still_an_address_and_fits(old: str, length: int | None) -> None:
    value = masked_value(column(Mask.EMAIL), text(length), old, key=KEY)
    assert isinstance(value, str) and value.endswith("@erased.invalid")
    assert len(value) <= (length or 81)
    assert normalise_email(value) == value
    # email_validator refuses the reserved .invalid domain by design: check the local part.
    local = value.split("@")[0]
    email_validator.validate_email(f"{local}@example.com", check_deliverability=False)
    assert masked_value(column(Mask.EMAIL), text(length), value, key=KEY) == value


def test_an_email_is_pseudonymised_as_it_is_matched() -> None:
    shape = text(100)
    assert masked_value(column(Mask.EMAIL), shape, " Budi@Example.CO.id", key=KEY) == (
        masked_value(column(Mask.EMAIL), shape, "budi@example.co.id", key=KEY)
    )


@given(st.dates(min_value=date(1000, 1, 1)))
def test_year_keeps_only_the_year(born: date) -> None:
    mask = column(Mask.YEAR)
    assert masked_value(mask, ColumnShape(ColumnKind.DATE, None, False), born, key=KEY) == date(
        born.year, 1, 1
    )
    as_text = masked_value(mask, text(20), born.isoformat() + " 10:00:00", key=KEY)
    assert as_text == f"{born.year:04d}-01-01"
    assert masked_value(mask, INTEGER, born.year, key=KEY) == born.year


def test_year_keeps_the_time_zone_of_a_timestamp() -> None:
    shape = ColumnShape(ColumnKind.DATETIME, None, False)
    seen = datetime.fromisoformat("2023-08-17T10:45:00+07:00")
    value = masked_value(column(Mask.YEAR), shape, seen, key=KEY)
    assert value == datetime.fromisoformat("2023-01-01T00:00:00+07:00")


# --- constants and fixed values --------------------------------------------------------------


def test_constant_masks_can_be_written_in_one_update() -> None:
    assert is_constant(column(Mask.NULL), text(10))
    assert constant_for(column(Mask.NULL), text(10)) is None
    assert constant_for(column(Mask.NULL), text(10, nullable=False)) == ""
    assert constant_for(column(Mask.FIXED, 0), text(10)) == "0"
    assert constant_for(column(Mask.FIXED, "7"), INTEGER) == 7
    assert constant_for(column(Mask.FIXED, "{}"), ColumnShape(ColumnKind.JSON, None, True)) == {}
    date_shape = ColumnShape(ColumnKind.DATE, None, False)
    assert constant_for(column(Mask.NULL), date_shape) == date(1900, 1, 1)
    boolean = ColumnShape(ColumnKind.BOOLEAN, None, False)
    assert constant_for(column(Mask.FIXED, "false"), boolean) is False
    for mask in (Mask.PSEUDONYM, Mask.EMAIL, Mask.PHONE, Mask.YEAR, Mask.KEEP):
        assert not is_constant(column(mask), text(100))
        with pytest.raises(ValueError):
            constant_for(column(mask), text(100))


def test_keep_needs_no_update() -> None:
    assert not changes_value(column(Mask.KEEP))
    assert all(changes_value(column(m, "x")) for m in Mask if m is not Mask.KEEP)
    assert masked_value(column(Mask.KEEP), text(5), "Budi", key=KEY) == "Budi"


# --- masks that cannot fit ---------------------------------------------------------------------

DATE = ColumnShape(ColumnKind.DATE, None, True)
IMPOSSIBLE = [
    pytest.param(column(Mask.FIXED, "[dihapus]"), text(5), "at most 5", id="fixed-too-long"),
    pytest.param(column(Mask.FIXED, "[dihapus]"), INTEGER, "type integer", id="text-on-int"),
    pytest.param(column(Mask.FIXED, 99999), SMALLINT, "outside", id="fixed-out-of-range"),
    pytest.param(column(Mask.FIXED, "kemarin"), DATE, "type date", id="fixed-not-a-date"),
    pytest.param(
        column(Mask.FIXED, "1000000"),
        ColumnShape(ColumnKind.DECIMAL, 6, True, scale=2),
        "outside",
        id="fixed-too-many-digits",
    ),
    pytest.param(column(Mask.EMAIL), text(19), "room for 20", id="email-too-short"),
    pytest.param(column(Mask.EMAIL), INTEGER, "type integer", id="email-on-int"),
    pytest.param(column(Mask.PSEUDONYM), text(9), "room for 10", id="pseudonym-too-short"),
    pytest.param(column(Mask.PSEUDONYM), DATE, "type date", id="pseudonym-on-date"),
    pytest.param(
        column(Mask.PSEUDONYM),
        ColumnShape(ColumnKind.DECIMAL, 2, True, scale=2),
        "room for 1",
        id="pseudonym-no-whole-digits",
    ),
    pytest.param(column(Mask.PHONE), INTEGER, "type integer", id="phone-on-int"),
    pytest.param(column(Mask.YEAR), text(8), "room for 10", id="year-too-short"),
    pytest.param(
        column(Mask.NULL),
        ColumnShape(ColumnKind.OTHER, None, False),
        "does not accept NULL",
        id="null-on-not-null-other",
    ),
]


@pytest.mark.parametrize(("mask", "shape", "says"), IMPOSSIBLE)
def test_a_mask_that_cannot_fit_is_refused_before_anything_runs(
    mask: ColumnMap, shape: ColumnShape, says: str
) -> None:
    with pytest.raises(MaskImpossible) as refused:
        validate_mask(mask, shape)
    error = refused.value
    assert says in str(error) and error.where is None and error.hint
    assert error.in_language("id") != str(error) and error.in_language("fr") != str(error)
    with pytest.raises(MaskImpossible):
        masked_value(mask, shape, "Budi", key=KEY)


def test_year_refuses_text_that_is_no_date_without_echoing_it() -> None:
    old = fake.name()
    with pytest.raises(MaskImpossible) as refused:
        masked_value(column(Mask.YEAR), text(40), old, key=KEY)
    assert old not in refused.value.in_language("id") and "YYYY-MM-DD" in str(refused.value)


def test_a_fitting_mask_passes_validation() -> None:
    validate_mask(column(Mask.EMAIL), text(20))
    validate_mask(column(Mask.PSEUDONYM), text(10))
    validate_mask(column(Mask.FIXED, "[dihapus]"), text(9))
    validate_mask(column(Mask.NULL), ColumnShape(ColumnKind.OTHER, None, True))
    shortest = masked_value(column(Mask.EMAIL), text(20), "budi@example.id", key=KEY)
    assert re.fullmatch(r"[0-9a-f]{5}@erased\.invalid", str(shortest))
