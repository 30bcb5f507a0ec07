"""Recognising personal data in sampled values, the Indonesian way.

Each detector looks at one value and says whether it is that kind of data, checking its
structure rather than its shape alone: a NIK's province, date of birth and serial; a phone
number written the way Indonesian numbers are; a card number's Luhn digit and issuer.
`classify_column` weighs a column's name and its sampled values and returns suggestions with
their confidence and evidence — counts and reasons, never the values themselves — for a person
to review (discovery drafts a mapping; scan reports what the mapping misses).

    classify_column("no_ktp", samples)   # [Suggestion(kind="nik", confidence=0.97, ...)]

Discovery samples thousands of values per column over hundreds of columns, so
`classify_column` counts a column's values in a few passes of precompiled patterns over the
column's text joined line by line, and calls a detector on a single value only where a pattern
cannot decide alone (a card's Luhn digit, a name's parts). It counts exactly what the detectors
would count value by value (tests hold it to that).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from jagadata.identities import InvalidIdentity, normalise_email


class Kind(StrEnum):
    NIK = "nik"
    PHONE = "phone"
    EMAIL = "email"
    CARD = "payment_card"
    NPWP = "npwp"
    NAME = "person_name"
    ADDRESS = "address"


# Kode wilayah of the provinces (Permendagri on administrative area codes): the first two
# digits of every NIK.
PROVINCES: Final = frozenset(
    {
        *range(11, 20),  # Aceh .. Kepulauan Bangka Belitung
        21,  # Kepulauan Riau
        *range(31, 37),  # DKI Jakarta .. Banten
        51,
        52,
        53,  # Bali, NTB, NTT
        *range(61, 66),  # Kalimantan
        *range(71, 77),  # Sulawesi
        81,
        82,  # Maluku, Maluku Utara
        *range(91, 97),  # Papua and the provinces formed from it in 2022
    }
)

# --- Numbers: NIK, NPWP, card, phone --------------------------------------------------------
# They are checked on the value "compacted": spaces, dots, dashes, slashes and closing
# parentheses taken out ("0812-3456-7890" → "081234567890"; "(021) 5790" → "(0215790"). A
# decimal tail ("7119000.00") is kept apart with a comma first, so a price never compacts
# into a phone number.

_SEPARATORS: Final = " \t\r\f\v\x1c\x1d\x1e\x1f.-/)"
_COMPACT_TABLE: Final = str.maketrans("", "", _SEPARATORS)
_SEPARATOR_PATTERN: Final = re.compile(r"[\s.\-/)]")
_DECIMAL_TAIL: Final = re.compile(r"\.(?=\d\d?$)", re.MULTILINE)

_PROVINCE: Final = (
    "(?:"
    + "|".join(
        f"{tens}[{''.join(str(p % 10) for p in sorted(PROVINCES) if p // 10 == tens)}]"
        for tens in sorted({p // 10 for p in PROVINCES})
    )
    + ")"
)
"""The province codes grouped by their first digit: 1[123456789]|2[1]|3[123456]|…"""
_LEAP_YEAR: Final = r"(?:[02468][048]|[13579][26])"
_BIRTH_DATE: Final = (  # ddmmyy, 40 added to the day for women; 29 February in leap years
    r"(?:(?:0[1-9]|1\d|2[0-8]|4[1-9]|5\d|6[0-8])(?:0[1-9]|1[0-2])\d\d"
    rf"|(?:29|69)(?:(?:0[13-9]|1[0-2])\d\d|02{_LEAP_YEAR})"
    r"|(?:30|70)(?:0[13-9]|1[0-2])\d\d"
    r"|(?:31|71)(?:0[13578]|1[02])\d\d)"
)
_NIK: Final = rf"{_PROVINCE}(?!00)\d\d(?!00)\d\d{_BIRTH_DATE}(?!0000)\d{{4}}"
_CARD_SHAPE: Final = (
    r"(?:4\d{12}(?:\d{3}){0,2}"  # Visa
    r"|(?:5[1-5]\d\d|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # American Express
    r"|35(?:2[89]|[3-8]\d)\d{12,15}"  # JCB
    r"|62\d{14,17}"  # UnionPay
    r"|6(?:011|5\d\d)\d{12,15})"  # Discover
)
_PHONE: Final = (
    r"(?:\+62\(?0?\)?[1-9]\d{7,11}"  # +62 written out, (0) or not, then anything but 0
    r"|\+?62[2-9]\d{7,11}"  # 62 812…, area code or mobile prefix 2–9, 8 to 12 digits
    r"|0[2-9]\d{7,11}"  # 0812…, (0)21…
    r"|\(0[1-9]\d{6,10}"  # (021) 5790 1234, (0812) 865 7070: never (000)
    r"|8[1-9]\d{7,10})"  # 812 3456 789: a mobile number stored without its leading 0
)
_NPWP: Final = r"\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}"

_NIK_VALUE: Final = re.compile(_NIK)
_CARD_VALUE: Final = re.compile(_CARD_SHAPE)
_PHONE_VALUE: Final = re.compile(_PHONE)
_NPWP_VALUE: Final = re.compile(_NPWP)


def _compact(value: str) -> str:
    text = unicodedata.normalize("NFKC", value.strip())
    return _SEPARATOR_PATTERN.sub("", _DECIMAL_TAIL.sub(",", text))


def is_nik(value: str) -> bool:
    """16 digits: province, regency and district codes, birth date (day + 40 for women),
    and a serial that is not 0000."""
    return _NIK_VALUE.fullmatch(_compact(value)) is not None


def is_phone(value: str) -> bool:
    """An Indonesian number, however it is written: '0812-3456-7890', '62812…', '+62 812 …',
    '(021) 5790 1234' — 8 to 12 digits after the prefix, an area code or mobile prefix (2–9)
    first unless +62 or a parenthesised area code says it is a phone number. Not a price
    ('7119000.00') nor a date ('22/12/2022')."""
    return _PHONE_VALUE.fullmatch(_compact(value)) is not None


def is_email(value: str) -> bool:
    if "@" not in value or len(value) > 320:
        return False
    try:
        normalise_email(value)
    except InvalidIdentity:
        return False
    return True


_DOUBLED: Final = bytes.maketrans(b"0123456789", b"0246813579")
"""Each digit replaced by the digit sum of its double, as Luhn's check needs."""


def luhn_valid(digits: str) -> bool:
    raw = digits.encode("ascii")
    doubled = raw[-2::-2].translate(_DOUBLED)
    return (sum(raw[-1::-2]) + sum(doubled) - 48 * len(raw)) % 10 == 0


def _card_digits(digits: str) -> bool:
    return (
        _CARD_VALUE.fullmatch(digits) is not None
        and luhn_valid(digits)
        and _PHONE_VALUE.fullmatch(digits) is None
    )


def is_card(value: str) -> bool:
    """A payment card number: an issuer's prefix and length, and the Luhn check digit. A
    value that is also an Indonesian phone number is not taken for a card."""
    return _card_digits(_compact(value))


def is_npwp(value: str) -> bool:
    """A taxpayer number in its written form 99.999.999.9-999.999 (15 digits); since 2024 an
    individual's NPWP is their NIK, which `is_nik` finds."""
    return _NPWP_VALUE.fullmatch(value.strip()) is not None


# --- Names ----------------------------------------------------------------------------------

NAME_PARTS: Final = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        # given names, Javanese, Sundanese, Balinese, Arabic and Christian in origin
        "abdul adi ade adit aditya agung agus ahmad akbar aldi alif amalia andi andika angga "
        "anggi anggun anisa annisa anton ari arief arif aris arya asep aulia ayu bagas bagus "
        "bambang bayu benny budi cahya cahyo candra citra dadang dani danu dedi desi dewi dian "
        "dimas dina dodi dwi eka eko elisabeth endah endang erna evi fadli fajar fahmi farhan "
        "febri fikri fitri galih gede gilang gita hadi hana hani hendra hendro heru ika ilham "
        "imam indah indra intan irfan irma iwan joko kadek kartika ketut komang kevin lia lina "
        "lukman lutfi made maria maya mega melati mila mochamad moh muhamad muhammad nabila "
        "nadia nanda nia novi nur nurul nyoman oka putu rahmat rama rani ratna reza rian rina "
        "rini rio riski rizki rizky rudi sinta siti slamet sri susi taufik teguh tika tri tuti "
        "umar wahyu wayan wulan yoga yogi yudi yuli yusuf zainal "
        # family names and marga
        "batubara damanik daulay ginting halim hamzah handayani harahap hartono hasan hasibuan "
        "hermawan hidayah hidayat hutagalung hutapea ibrahim irawan ismail kurniawan kusuma "
        "kusnadi lestari lim lubis lumbantobing maharani mahendra mandala manurung marpaung "
        "matondang maulana mulyadi nababan nainggolan napitupulu nasution nugroho pane "
        "pangaribuan panjaitan pardede permana pohan pradana prasetyo pratama purba purnama "
        "purnomo puspita putra putri rahayu ramadhan ramadhani rangkuti safitri salim santoso "
        "saputra saputri saragih sembiring setiawan sihombing silalahi simanjuntak simatupang "
        "simbolon sinaga siregar sitompul sitorus situmorang sugiarto suharto sulistyo "
        "supriadi suryadi susanto sutanto sutrisno syahputra tambunan tampubolon tanjung "
        "tarigan utami utomo wahyudi wibowo widodo wijaya wulandari marbun manullang "
        "sirait sihotang tamba munthe pasaribu sianipar siahaan gultom butarbutar aritonang "
        "mansur habibi thamrin natsir zulkarnain pangestu prasetya prakasa utama pertiwi "
        # and the parts jagadata knew first
        "aji anggraini astuti cahyono gunawan mulyani permata rahmawati sari susanti susilo "
        "wati yanti yuliana yulianti"
    ).split()
)
_NAME_ENDINGS: Final = (
    "wati", "yati", "yanti", "ianti", "ningsih", "ningrum", "astuti", "anto", "yanto", "iyah",
    "syah", "udin", "uddin", "iawan", "rawan", "sari", "rini", "yani", "wani", "wardani",
    "ardi", "yadi", "iadi", "ningtyas", "ismi", "husna",
    "ono", "owo", "oyo", "uyo", "arno", "atmi", "iah", "imah", "idah", "ifah", "inah", "iani",
    "aini", "ati", "anti", "arti", "tini", "ullah", "dari",
)  # fmt: skip
"""Endings of Indonesian given and family names (Haryanti, Laksmiwati, Firmansyah…), counted
on words of five letters or more."""
_ENDINGS_BY_LAST_LETTER: Final = {
    last: tuple(e for e in _NAME_ENDINGS if e[-1] == last)
    for last in {e[-1] for e in _NAME_ENDINGS}
}

_TITLES: Final = frozenset(
    "dr drs dra drg ir h hj prof tgk r rr kh cut teuku dt t r.m r.a r.ay a.md b.sc".split()  # noqa: SIM905
)
_TITLE_ABBREVIATION: Final = re.compile(r"[sm]\.\w+(?:\.\w+)*")
"""Degrees: S.Kom, S.E.I, M.Sc."""
_STRONG_TITLES: Final = frozenset(
    "dr drs dra drg ir h hj prof kh tgk teuku cut dt rr r.m r.a r.ay".split()  # noqa: SIM905
)
"""Titles that mark a person (a doctor, a hajji, an engineer, Raden Mas, Datuk, Teuku…),
unlike 'R.' or 'T.', initials too."""


_NAME_WORD_RUN: Final = re.compile(
    r"[A-ZÀ-Ý](?:[a-zà-ÿ'’-]+|[A-ZÀ-Ý'’-]+)(?: [A-ZÀ-Ý](?:[a-zà-ÿ'’-]+|[A-ZÀ-Ý'’-]+))*"
)
"""Capitalised words (Budi, O'Neil, Siti-Aisyah) or words in capitals (BUDI), one space apart."""


def _name_words(value: str) -> tuple[list[str], list[str], bool]:
    """The words of a name with titles set aside, as written and in lower case, and whether a
    title marking a person was among them."""
    words = value.replace(",", " ").split()
    lowered = value.lower().replace(",", " ").split()
    if "." not in value and _TITLES.isdisjoint(lowered):
        return words, lowered, False
    kept: list[str] = []
    kept_lowered: list[str] = []
    titled = False
    for word, low in zip(words, lowered, strict=True):
        bare = low[:-1] if low.endswith(".") else low
        if bare in _TITLES:
            titled = titled or bare in _STRONG_TITLES
        elif "." in bare and _TITLE_ABBREVIATION.fullmatch(bare):
            titled = True
        else:
            kept.append(word)
            kept_lowered.append(low)
    return kept, kept_lowered, titled


def _name_verdict(value: str) -> tuple[bool, bool]:
    """Whether the value looks like a name, and whether it is one whatever the column."""
    lowered = value.lower().split()
    if "," in value or "." in value or not _TITLES.isdisjoint(lowered):
        words, lowered, titled = _name_words(value)
    else:  # no comma, no title: every word is a word of the name
        words, titled = value.split(), False
    shaped = _NAME_WORD_RUN.fullmatch(" ".join(words))
    if not 2 <= len(words) <= 5 or not shaped:
        return False, False
    if not _LEGAL_FORMS.isdisjoint(lowered):
        return True, False
    if titled or not NAME_PARTS.isdisjoint(lowered):
        return True, True
    return True, _has_name_ending(lowered)


def _has_name_ending(lowered: list[str]) -> bool:
    for word in lowered:
        if len(word) >= 5 and word.endswith(_ENDINGS_BY_LAST_LETTER.get(word[-1], ())):
            return True
    return False


def looks_like_name(value: str) -> bool:
    """Two to five capitalised words (titles set aside; capitals throughout as on a KTP): a
    name when the column says so."""
    return _name_verdict(value)[0]


_LEGAL_FORMS: Final = frozenset(
    "pt cv ud tbk pd perum persero koperasi yayasan toko firma fa".split()  # noqa: SIM905
)
"""Words of a business's name: 'PT Widodo Maulana' is a company, though named after people."""


def is_person_name(value: str) -> bool:
    """A name whatever the column's name: two to five capitalised words with a common
    Indonesian name part (Budi, Siti, Siregar…), a name's ending (-wati, -yanto, -syah…) or a
    title that marks a person (Dr., H., Hj., S.Kom); not a business (PT, CV, Tbk, Toko…)."""
    return _name_verdict(value)[1]


# --- Addresses ------------------------------------------------------------------------------

_ANY_SPACE: Final = r"[^\S\n]*"
_ADDRESS_MARKER: Final = (
    rf"(?:j(?:l\.?|alan)|g(?:g\.?|ang)|r[tw]\.?{_ANY_SPACE}\d+"
    r"|k(?:el(?:urahan|\.?)|ec(?:amatan|\.?)|ab(?:upaten|\.?)|ota)|desa"
    rf"|no\.?{_ANY_SPACE}\d+|blok|\d{{5}}$)(?!\w)"
)
"""Jl., Jalan, Gg., Gang, RT 01, RW 02, Kel., Kelurahan, Kec., Kecamatan, Kab., Kabupaten, Kota,
Desa, No. 5, Blok, a postcode at the end — each a word of its own (in lower case)."""
_ADDRESS_MARKERS: Final = re.compile(r"(?<!\w)" + _ADDRESS_MARKER, re.MULTILINE)
_ASCII_NON_WORD: Final = r"[\x00-\x09\x0b-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"
_ADDRESS_MARKERS_AFTER: Final = re.compile(_ASCII_NON_WORD + _ADDRESS_MARKER, re.MULTILINE)
"""A marker with the character before it, in ASCII text: the same markers as the look-behind
finds, in half the time (the engine skips to the characters that may precede one)."""


def is_address(value: str) -> bool:
    """Two or more markers of an Indonesian address: Jl./Gg., RT/RW, Kel./Kec./Kab., Kota,
    No., Blok, a postcode at the end."""
    return len(_ADDRESS_MARKERS.findall(value.lower())) >= 2


DETECTORS: Final[dict[Kind, Callable[[str], bool]]] = {
    Kind.NIK: is_nik,
    Kind.NPWP: is_npwp,
    Kind.CARD: is_card,
    Kind.EMAIL: is_email,
    Kind.PHONE: is_phone,
    Kind.ADDRESS: is_address,
    Kind.NAME: is_person_name,
}
"""In order of precedence: a value counts for the first kind that recognises it (a NIK is
never also counted as a phone number; an NPWP, whose 15 digits may pass Luhn's check, is never
taken for a card)."""

COLUMN_HINTS: Final[dict[Kind, re.Pattern[str]]] = {
    Kind.NIK: re.compile(r"(?:^|_)(?:nik|ktp|no_?ktp|nomor_induk_kependudukan)(?:_|$)"),
    Kind.PHONE: re.compile(r"(?:^|_)(?:phone|telp|telepon|hp|no_?hp|handphone|wa|whatsapp|mobile)"),
    Kind.EMAIL: re.compile(r"(?:^|_)(?:e_?mail|surel)(?:_|$)"),
    Kind.CARD: re.compile(r"(?:^|_)(?:card|kartu|cc|pan)(?:_|$)"),
    Kind.NPWP: re.compile(r"(?:^|_)npwp(?:_|$)"),
    Kind.NAME: re.compile(r"(?:^|_)(?:name|nama|full_?name|nama_?lengkap)(?:_|$)"),
    Kind.ADDRESS: re.compile(r"(?:^|_)(?:address|alamat)(?:_|$)"),
}
_NOT_A_PERSON: Final = re.compile(
    r"(?:^|_)(?:product|produk|item|barang|menu|toko|store|shop|merchant|company|perusahaan|"
    r"brand|merek|merk|category|kategori|kelas|class|course|kursus|mapel|bank|file|berkas|"
    r"kota|city|provinsi|province|jalan|street|event|acara|promo|voucher|paket|package|"
    r"role|tag|host|domain|table|tabel|column|kolom|field|app|device|perangkat)(?:_|$)"
)
"""Words that make a 'name' column the name of a thing: nama_produk, product_name, nama_kelas."""


def _name_hint(lowered: str) -> bool:
    return bool(COLUMN_HINTS[Kind.NAME].search(lowered)) and not _NOT_A_PERSON.search(lowered)


def _first_kind(text: str, name_hint: bool) -> Kind | None:
    """The kind one value counts for: the first detector that recognises it."""
    for kind, detector in DETECTORS.items():
        if detector(text) or (kind is Kind.NAME and name_hint and looks_like_name(text)):
            return kind
    return None


# Patterns over a column's values joined one per line, "\n" before the first and after the
# last: each pattern starts at a "\n", which the regular expression engine finds quickly.
_AT_LINES: Final = re.compile(r"\n([^\n@]*@[^\n]*)")
_EMAIL_PLAIN: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NPWP_LINES: Final = re.compile(rf"\n{_NPWP}(?=\n)")
_NIK_LINES: Final = re.compile(rf"\n{_NIK}(?=\n)")
_CARD_LINES: Final = re.compile(rf"\n({_CARD_SHAPE})(?=\n)")
_PHONE_LINES: Final = re.compile(rf"\n{_PHONE}(?=\n)")
_NUMBER_LINE: Final = re.compile(r"\n[ .\-/)]*(?:[+(][ .\-/)]*)?\d")
"""A line that, compacted, starts with a digit, + or ( and a digit: the only lines that can be a
NIK, an NPWP, a card or a phone number."""
_LETTER: Final = re.compile(r"[A-Za-z]")
_MARKED: Final = "\x01"
_TWO_MARKS: Final = re.compile(r"\n[^\n\x01]*\x01[^\n\x01]*\x01")
_LINE_WORD: Final = (
    r"(?:[A-Z][\w'.\-]*+"
    r"|(?:dr[sag]?|ir|hj?|prof|tgk|rr?|kh|cut|teuku|dt|t)\.?+(?=[\s,])"
    r"|[a-z]\.[\w.]++)"
)
_NAME_SHAPED_LINES: Final = re.compile(
    rf"\n,*+({_LINE_WORD}(?:(?:[^\S\n]|,)++{_LINE_WORD})++),*+(?=\n)"
)
"""Lines every word of which is capitalised or a title: the only lines that can be names."""


def _address_lines(joined: str) -> int:
    """How many lines of the joined text hold two address markers or more. A space starts
    each line, so that a marker is found with the character before it (no look-behind, which
    the engine would try at every position): lines stay apart."""
    marked = _ADDRESS_MARKERS_AFTER.sub(_MARKED, joined.lower().replace("\n", "\n "))
    return len(_TWO_MARKS.findall(marked))


def _count_lines(joined: str, name_hint: bool) -> dict[Kind, int]:
    """What the detectors count value by value, for values in ASCII, stripped, one per line
    with a "\n" before the first and after the last."""
    counts = dict.fromkeys(DETECTORS, 0)
    if "@" in joined:
        for line in _AT_LINES.findall(joined):
            if len(line) <= 320 and _EMAIL_PLAIN.fullmatch(line):
                counts[Kind.EMAIL] += 1
            elif (kind := _first_kind(line, name_hint)) is not None:
                counts[kind] += 1
        joined = _AT_LINES.sub("", joined)
    if _NUMBER_LINE.search(joined):
        numeric = joined
        if "-" in joined:
            counts[Kind.NPWP] = len(_NPWP_LINES.findall(joined))
            if counts[Kind.NPWP]:
                numeric = _NPWP_LINES.sub("", joined)
        compacted = _DECIMAL_TAIL.sub(",", numeric).translate(_COMPACT_TABLE)
        compacted, counts[Kind.NIK] = _NIK_LINES.subn("", compacted)
        counts[Kind.CARD] = sum(
            1 for digits in _CARD_LINES.findall(compacted) if luhn_valid(digits)
        )
        counts[Kind.PHONE] = len(_PHONE_LINES.findall(compacted))
    if _LETTER.search(joined):
        counts[Kind.ADDRESS] = _address_lines(joined)
        names = []
        for line in _NAME_SHAPED_LINES.findall(joined):
            looks, person = _name_verdict(line)
            if person or (name_hint and looks):
                names.append(line)
        if names:
            counts[Kind.NAME] = len(names) - _address_lines("\n" + "\n".join(names) + "\n")
    return counts


_EDGE_SPACE: Final = re.compile(r"\n(?:\s|(?<=\s\n))")
"""A blank value, or white space at either end of one: values to strip before their lines
are matched (white space inside a value is matched as the detectors match it)."""


def _plain_lines(texts: Sequence[str]) -> str | None:
    """The values joined one per line when all are ASCII, stripped, non-blank and on one line."""
    joined = "\n" + "\n".join(texts) + "\n"
    if joined.isascii() and joined.count("\n") == len(texts) + 1 and not _EDGE_SPACE.search(joined):
        return joined
    return None


def count_kinds(texts: Sequence[str], name_hint: bool = False) -> dict[Kind, int]:
    """How many of the values each kind recognises, each value counted once, for the first
    kind in `DETECTORS` order (with a name hint, any name-like value counts as a name).
    Values are taken as given: strip them and leave out blanks first."""
    joined = _plain_lines(texts)
    if joined is not None:
        return _count_lines(joined, name_hint)
    plain = [t for t in texts if _plain_lines([t]) is not None]
    counts = dict.fromkeys(DETECTORS, 0)
    if plain:
        counts = _count_lines("\n" + "\n".join(plain) + "\n", name_hint)
    for text in texts:
        if _plain_lines([text]) is None:
            kind = _first_kind(text, name_hint)
            if kind is not None:
                counts[kind] += 1
    return counts


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A kind of personal data a column probably holds, how sure, and why."""

    kind: Kind
    confidence: float
    matched: int
    sampled: int
    name_hint: bool
    reasons: tuple[str, ...] = field(default=())


MIN_SHARE: Final = 0.6
"""Without a telling column name, most sampled values must match."""
MIN_SHARE_WITH_HINT: Final = 0.3


def classify_column(name: str, values: Iterable[object]) -> list[Suggestion]:
    """Suggestions for one column from its name and sampled values (None and blanks ignored),
    most confident first; empty when nothing personal is recognised."""
    texts = [v if isinstance(v, str) else str(v) for v in values if v is not None]
    lowered = name.lower()
    joined = _plain_lines(texts)
    if joined is not None:
        counts = _count_lines(joined, _name_hint(lowered))
    else:
        texts = [t for t in (text.strip() for text in texts) if t]
        counts = count_kinds(texts, _name_hint(lowered))
    suggestions = []
    for kind, matched in counts.items():
        hint = bool(COLUMN_HINTS[kind].search(lowered))
        if kind is Kind.NAME:
            hint = _name_hint(lowered)
        share = matched / len(texts) if texts else 0.0
        needed = MIN_SHARE_WITH_HINT if hint else MIN_SHARE
        if texts and share >= needed and matched:
            confidence = min(0.99, 0.5 + share / 2 + (0.1 if hint else 0.0))
            reasons = (f"{matched} of {len(texts)} sampled values match",) + (
                ("the column's name suggests it",) if hint else ()
            )
            suggestions.append(
                Suggestion(kind, round(confidence, 2), matched, len(texts), hint, reasons)
            )
        elif hint and not texts:
            suggestions.append(
                Suggestion(
                    kind, 0.4, 0, 0, True, ("the column's name suggests it; no values to sample",)
                )
            )
    return sorted(suggestions, key=lambda s: -s.confidence)


def strongest(suggestions: Sequence[Suggestion]) -> Suggestion | None:
    return suggestions[0] if suggestions else None
