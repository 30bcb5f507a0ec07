"""Personal data recognised by its structure, the Indonesian way: NIKs with their province,
birth date and serial; Indonesian phone numbers however written; card numbers by issuer and
Luhn; NPWP; names and addresses; and no false alarm on scores, prices or dates."""

from __future__ import annotations

import random
from datetime import date

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from jagadata.datastores.detect import (
    PROVINCES,
    Kind,
    classify_column,
    is_address,
    is_card,
    is_email,
    is_nik,
    is_npwp,
    is_person_name,
    is_phone,
    looks_like_name,
    luhn_valid,
)

fake = Faker("id_ID")
fake.seed_instance(2022)


def make_nik(province: int, born: date, woman: bool, serial: int) -> str:
    day = born.day + (40 if woman else 0)
    return f"{province:02d}0101{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def with_luhn(prefix: str, length: int) -> str:
    body = prefix + "".join(random.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@settings(max_examples=300)
@given(
    province=st.sampled_from(sorted(PROVINCES)),
    born=st.dates(min_value=date(1930, 1, 1), max_value=date(2025, 12, 31)),
    woman=st.booleans(),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_every_well_formed_nik_is_recognised_however_it_is_written(
    province: int, born: date, woman: bool, serial: int
) -> None:
    nik = make_nik(province, born, woman, serial)
    assert is_nik(nik)
    assert is_nik(f"{nik[:6]}.{nik[6:12]}.{nik[12:]}")
    assert classify_column("x", [nik])[0].kind is Kind.NIK


def test_a_nik_needs_a_province_a_real_birth_date_and_a_serial() -> None:
    good = make_nik(34, date(1990, 5, 17), False, 12)
    assert is_nik(good)
    assert not is_nik("99" + good[2:])  # no such province
    assert not is_nik(good[:6] + "320590" + good[12:])  # 32 May
    assert not is_nik(good[:6] + "171390" + good[12:])  # month 13
    assert not is_nik(good[:12] + "0000")  # serial 0000
    assert not is_nik(good[:15])  # 15 digits
    woman = make_nik(34, date(1990, 5, 17), True, 12)
    assert woman[6:8] == "57" and is_nik(woman)


@settings(max_examples=300)
@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_random_sixteen_digits_are_rarely_taken_for_a_nik(digits: str) -> None:
    if is_nik(digits):  # only when every part happens to be valid
        assert int(digits[:2]) in PROVINCES and digits[12:] != "0000"


def test_indonesian_phone_numbers_however_written() -> None:
    for written in ("0812-3456-7890", "+62 812 3456 7890", "6281234567890", "(021) 5790 1234"):
        assert is_phone(written), written
    # Faker's id_ID numbers include made-up area codes such as (009): most, not all, are real
    generated = [fake.phone_number() for _ in range(300)]
    assert sum(is_phone(g) for g in generated) / len(generated) > 0.8
    for not_a_phone in ("85", "2026", "1234", "Rp 150.000", "17-08-1945", "+1 202 555 0143"):
        assert not is_phone(not_a_phone), not_a_phone


def test_card_numbers_by_issuer_and_luhn_but_not_phone_numbers() -> None:
    random.seed(7)
    for prefix, length in (("4", 16), ("51", 16), ("2221", 16), ("34", 15), ("3530", 16)):
        card = with_luhn(prefix, length)
        assert is_card(card) and is_card(" ".join(card[i : i + 4] for i in range(0, length, 4)))
        wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
        assert not is_card(wrong)
    assert not is_card("6281234567890")  # a phone number, even if the digits pass Luhn


def test_emails_npwp_names_and_addresses() -> None:
    assert all(is_email(fake.email()) for _ in range(100))
    assert not is_email("nilai@") and not is_email("85")
    assert is_npwp("01.234.567.8-901.000") and not is_npwp("012345678901000x")
    names = [fake.name() for _ in range(300)]
    assert sum(looks_like_name(n) for n in names) / len(names) > 0.9
    assert is_person_name("Siti Rahayu") and is_person_name("Dr. Budi Santoso, S.Kom")
    assert not is_person_name("Matematika") and not is_person_name("7A")
    assert not is_person_name("Es Krim Cokelat")  # capitalised words, but no name in them
    addresses = [fake.address().replace("\n", ", ") for _ in range(200)]
    assert sum(is_address(a) for a in addresses) / len(addresses) > 0.8
    assert not is_address("Kota") and not is_address("Nilai ujian semester ganjil")


def test_a_school_table_nik_phone_and_guardian_found_no_alarm_on_scores() -> None:
    random.seed(11)
    pupils = [
        make_nik(
            random.choice(sorted(PROVINCES)),
            date(2010 + random.randrange(5), random.randrange(1, 13), random.randrange(1, 29)),
            random.random() < 0.5,
            random.randrange(1, 9999),
        )
        for _ in range(60)
    ]
    columns = {
        "nik": pupils,
        "nama_siswa": [fake.name() for _ in range(60)],
        "hp_wali": [fake.phone_number() for _ in range(60)],
        "email_wali": [fake.email() for _ in range(60)],
        "alamat": [fake.address().replace("\n", ", ") for _ in range(60)],
        "nilai_matematika": [random.randrange(0, 101) for _ in range(60)],
        "nilai_rata_rata": [round(random.uniform(50, 100), 2) for _ in range(60)],
        "kelas": [random.choice(["7A", "7B", "8A", "9C"]) for _ in range(60)],
        "tanggal_ujian": [date(2026, 11, random.randrange(1, 29)).isoformat() for _ in range(60)],
        "jumlah_login": [random.randrange(0, 2000) for _ in range(60)],
    }
    found = {name: classify_column(name, values) for name, values in columns.items()}
    kinds = {name: [s.kind for s in suggestions] for name, suggestions in found.items()}
    assert kinds["nik"][0] is Kind.NIK
    assert kinds["hp_wali"][0] is Kind.PHONE
    assert kinds["email_wali"][0] is Kind.EMAIL
    assert kinds["nama_siswa"][0] is Kind.NAME
    assert kinds["alamat"][0] is Kind.ADDRESS
    for quiet in ("nilai_matematika", "nilai_rata_rata", "kelas", "tanggal_ujian", "jumlah_login"):
        assert kinds[quiet] == [], (quiet, found[quiet])
    top = found["nik"][0]
    assert top.matched == 60 and top.sampled == 60 and top.confidence >= 0.9
    assert all(pupil not in " ".join(top.reasons) for pupil in pupils)  # no value in evidence


@pytest.mark.parametrize("name", ["no_hp", "nomor_whatsapp", "telepon"])
def test_a_telling_name_with_no_values_is_still_a_suggestion(name: str) -> None:
    [suggestion] = classify_column(name, [None, "", "  "])
    assert suggestion.kind is Kind.PHONE and suggestion.confidence < 0.5 and suggestion.name_hint
