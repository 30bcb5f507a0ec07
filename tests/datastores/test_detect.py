"""Personal data recognised by its structure, the Indonesian way: NIKs with their province,
birth date and serial; Indonesian phone numbers however written; card numbers by issuer and
Luhn; NPWP; names and addresses; and no false alarm on scores, prices or dates."""

from __future__ import annotations

import random
import string
from datetime import date

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from jagadata.datastores.detect import (
    DETECTORS,
    PROVINCES,
    Kind,
    classify_column,
    count_kinds,
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


def test_prices_and_dates_are_not_phone_numbers() -> None:
    for price in ("7119000.00", "62500000.00", "86911000.50", "0812345678.00"):
        assert not is_phone(price), price
    for day in ("22/12/2022", "08/12/2022", "2022-12-06", "31-01-2025"):
        assert not is_phone(day), day
    found = classify_column("harga", [f"{n * 1000}.00" for n in range(60_000, 60_200)])
    assert found == []


def test_phone_numbers_written_with_their_prefix_whatever_the_area_code() -> None:
    for written in ("+62 (0116) 961 0531", "(011) 972 7817", "+62-100-822-8543", "0812.3456.7890"):
        assert is_phone(written), written
    for not_a_phone in ("+1 202 555 0143", "12345678", "2026112400123", "+62 12"):
        assert not is_phone(not_a_phone), not_a_phone


def test_an_npwp_is_never_taken_for_a_card_though_its_digits_pass_luhn() -> None:
    npwp = "37.363.880.4-522.767"  # 373638804522767: an American Express shape, Luhn-valid
    assert luhn_valid("373638804522767") and is_npwp(npwp)
    [top] = classify_column("x", [npwp] * 10)
    assert top.kind is Kind.NPWP


def test_jcb_cards_from_their_real_range() -> None:
    random.seed(3)
    for prefix in ("3528", "3589"):
        assert is_card(with_luhn(prefix, 16))
    assert not is_card(with_luhn("3500", 16))  # no issuer's range


def test_names_in_capitals_with_noble_titles_but_not_businesses() -> None:
    for name in (
        "BUDI SANTOSO",
        "R.M. Jayeng Astuti",
        "Dt. Rendy Mahendra",
        "Tgk. Ahmad Hasan",
        "T. IMAM WIDIASTUTI",
        "Zaenab Purwanti",
        "drg. Jarwi Yulianti, S.Sos",
    ):
        assert is_person_name(name), name
    for business in ("PT Widodo Maulana", "CV Rajata Kurniawan Tbk", "Toko Budi Jaya"):
        assert looks_like_name(business) and not is_person_name(business), business


def test_a_name_column_of_things_is_not_taken_for_people() -> None:
    products = [
        f"{a} {b}" for a in ("Kaos Polos", "Es Krim", "Teh Hijau") for b in ("Hitam", "Jumbo")
    ]
    for column in ("nama_produk", "product_name", "nama_kelas"):
        assert classify_column(column, products * 10) == [], column
    assert classify_column("nama", products * 10)[0].kind is Kind.NAME  # a bare 'nama' still is


def _column_values() -> st.SearchStrategy[list[object]]:
    """Values a column may hold: every kind, near misses, odd spacing, other scripts, blanks."""
    generated = st.sampled_from(
        [
            make_nik(34, date(1990, 5, 17), True, 12),
            "3174.0101.0190.0001",
            "0812-3456-7890",
            "+62 812 3456 7890",
            "(021) 5790 1234",
            "6281234567890",
            "7119000.00",
            "22/12/2022",
            "4111 1111 1111 1111",
            "4111111111111112",
            "37.363.880.4-522.767",
            "Budi@Mail.co.id",
            "bad@",
            "a b@c.id",
            "Siti Rahayu",
            "KAREN TAMBA",
            "Dr. Budi Santoso, S.Kom",
            "PT Widodo Maulana",
            "Es Krim Cokelat",
            "Jl. Merdeka No. 5, Kota Bandung 40111",
            "jl.kota",
            "Gg. Mawar RT 01 RW 02",
            "85",
            "Rp 150.000",
            "X IPA 1",
            "Nilai ujian",
            "Ｂudi Ｓantoso",
            "0812３４５６７８９０",
            "Dewi Lestari\n",
            "  Sri Wahyuni  ",
            "",
            "   ",
            3174010101900001,
            85,
            2.5,
            None,
        ]
    )
    inside = st.sampled_from(
        [
            "Budi\tSantoso",
            "0812\t3456\t7890",
            "Jl.\tMerdeka No.\x1c5, Kota Bandung",
            "a@b.id\tx",
            "Siti\x0bRahayu",
            "RT\r01 RW 02 Desa Suka",
        ]
    )  # white space inside a value, which the column's lines keep
    ascii_text = st.text(alphabet=string.printable, max_size=30)
    return st.lists(st.one_of(generated, inside, ascii_text, st.text(max_size=30)), max_size=40)


@settings(max_examples=300)
@given(values=_column_values(), hint=st.booleans())
def test_a_column_counts_exactly_what_the_detectors_count_value_by_value(
    values: list[object], hint: bool
) -> None:
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    expected = dict.fromkeys(DETECTORS, 0)
    for text in texts:
        for kind, detector in DETECTORS.items():
            if detector(text) or (kind is Kind.NAME and hint and looks_like_name(text)):
                expected[kind] += 1
                break
    assert count_kinds(texts, hint) == expected
    name = "nama_pelanggan" if hint else "kolom"
    for suggestion in classify_column(name, values):
        if suggestion.matched:
            assert suggestion.matched == expected[suggestion.kind]
