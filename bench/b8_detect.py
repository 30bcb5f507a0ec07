"""B8: personal-data detection over sampled column values (target >= 20 MB/s, precision and
recall >= 0.95).

    .venv/bin/python bench/b8_detect.py [--values 3000] [--seed 8] [--runs 5]

Generates a labelled sample with Faker's id_ID locale, the same for the same seed: columns of
valid NIKs, phone numbers (+62…, 62…, 08…, landlines, Faker's own formats), emails, Luhn-valid
card numbers of the usual issuers, NPWPs, Indonesian names (with titles, in capitals as on a KTP)
and addresses; and columns that hold none: scores, prices, dates, order numbers, product names,
free text without personal data, company names (which often carry a founder's name: "PT
Widodo Maulana"), and random 16-digit numbers that are not NIKs (nor an issuer's
Luhn-valid card number, which no detector could tell from a real one).

Measures, as discovery uses the detectors:
- throughput: megabytes of sampled values (UTF-8) per second through `classify_column`, one
  call per column of 200 values, neutral column names;
- value precision and recall per kind: each value taken alone (no column name), counted for
  the first detector that recognises it, as `classify_column` counts it;
- column accuracy: the strongest suggestion of each column with a neutral name and with the name
  a real schema gives it (`nama_pelanggan`, `nama_produk`, …);
- the lower bound in the same run: one precompiled regular expression matched against every
  value of the same columns (a bare pass over the same bytes, no structure checked). The
  design's peer, Microsoft Presidio with pattern recognisers, is not installed here; the design
  gives ~58 KB/s on Indonesian text, finding no Indonesian identifiers.

Prints one line per figure and writes bench/results/b8.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from faker import Faker

from jagadata.datastores.detect import DETECTORS, PROVINCES, Kind, classify_column, luhn_valid

RESULTS = Path(__file__).resolve().parent / "results" / "b8.json"
COLUMN = 200
"""Values per sampled column, as discovery samples them."""
NEGATIVE = "none"

Column = tuple[str, str, list[object]]
"""(label: a Kind's value or 'none', the name a real schema would give it, the values)."""


def nik(rng: random.Random) -> str:
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365))
    day = born.day + (40 if rng.random() < 0.5 else 0)
    return (
        f"{rng.choice(sorted(PROVINCES)):02d}{rng.randrange(1, 80):02d}{rng.randrange(1, 50):02d}"
        f"{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randrange(1, 10_000):04d}"
    )


def written_nik(rng: random.Random) -> object:
    value = nik(rng)
    roll = rng.random()
    if roll < 0.05:
        return int(value)  # a bigint column
    if roll < 0.1:
        return f"{value[:6]}.{value[6:12]}.{value[12:]}"
    return value


def phone(rng: random.Random, fake: Faker) -> str:
    roll = rng.random()
    prefix = rng.choice(("811", "812", "813", "821", "822", "852", "856", "857", "878", "896"))
    rest = f"{rng.randrange(10**7, 10**9)}"
    if roll < 0.3:
        return str(fake.phone_number())
    if roll < 0.5:
        return f"+62{prefix}{rest}"
    if roll < 0.65:
        return f"62{prefix}{rest}"
    if roll < 0.8:
        return f"0{prefix}-{rest[:4]}-{rest[4:]}"
    if roll < 0.9:
        return f"+62 {prefix} {rest[:4]} {rest[4:]}"
    area = rng.choice(("21", "22", "24", "31", "61", "274", "361", "411"))
    return f"(0{area}) {rng.randrange(10**6, 10**7 if len(area) == 3 else 10**8)}"


def card(rng: random.Random, fake: Faker) -> str:
    """A Luhn-valid number of a card sold in Indonesia. JCB comes from its real range
    (3528–3589): Faker draws it from all of 35xx."""
    kind = rng.choice(("visa16", "visa16", "mastercard", "mastercard", "jcb16", "amex", "visa13"))
    if kind == "jcb16":
        body = f"{rng.randrange(3528, 3590)}{rng.randrange(10**11, 10**12)}"
        number = next(body + d for d in "0123456789" if luhn_valid(body + d))
    else:
        number = str(fake.credit_card_number(kind))
    if rng.random() < 0.3:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def npwp(rng: random.Random) -> str:
    d = f"{rng.randrange(10**14, 10**15)}"
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}.{d[8]}-{d[9:12]}.{d[12:]}"


def name(rng: random.Random, fake: Faker) -> str:
    written = str(fake.name())
    return written.upper() if rng.random() < 0.15 else written


def address(rng: random.Random, fake: Faker) -> str:
    if rng.random() < 0.2:
        return f"{fake.street_address()}, {fake.city()}"
    return str(fake.address()).replace("\n", ", ")


PRODUCT_WORDS = (
    "Es Krim",
    "Kaos Polos",
    "Sepatu Lari",
    "Tas Ransel",
    "Kopi Bubuk",
    "Teh Hijau",
    "Madu Hutan",
    "Sambal Bawang",
    "Keripik Singkong",
    "Gamis Katun",
    "Batik Tulis",
    "Rice Cooker",
    "Kipas Angin",
    "Sabun Cuci",
    "Minyak Goreng",
    "Gula Aren",
)
PRODUCT_TAILS = (
    "Cokelat",
    "Vanila",
    "Hitam",
    "Putih",
    "Merah",
    "Premium",
    "Original",
    "Jumbo",
    "Motif Parang",
    "Ukuran XL",
    "500 ml",
    "1 kg",
    "Isi 3",
    "Edisi Lebaran",
)
REVIEW_OPENERS = (
    "Barangnya bagus",
    "Pengiriman cepat",
    "Kemasan rapi",
    "Sesuai pesanan",
    "Kualitas oke",
    "Agak lama sampainya",
    "Rasanya enak",
    "Warnanya pudar",
)
REVIEW_TAILS = (
    "terima kasih",
    "akan beli lagi",
    "recommended seller",
    "harga terjangkau",
    "mantap sekali",
    "semoga awet",
    "bintang lima",
    "kurang puas sedikit",
)


def negatives(rng: random.Random, fake: Faker) -> dict[str, Callable[[], object]]:
    """Columns a shop or a school holds that are not personal data, with their usual names."""

    def sixteen_digits() -> str:
        from jagadata.datastores.detect import is_card, is_nik

        while True:
            value = f"{rng.randrange(10**15, 10**16)}"
            if not is_nik(value) and not (is_card(value) and luhn_valid(value)):
                return value

    start = datetime(2020, 1, 1)
    return {
        "nilai": lambda: rng.randrange(0, 101),
        "nilai_rata_rata": lambda: round(rng.uniform(50, 100), 2),
        "harga": lambda: rng.choice(
            (
                rng.randrange(1, 2_000) * 500,
                f"Rp {rng.randrange(1, 2_000) * 500:,}".replace(",", "."),
                f"{rng.randrange(1, 90_000) * 1000}.00",
            )
        ),
        "tanggal_pesan": lambda: rng.choice(
            (
                (start + timedelta(days=rng.randrange(2_000))).date().isoformat(),
                (start + timedelta(days=rng.randrange(2_000))).strftime("%d/%m/%Y"),
                start + timedelta(seconds=rng.randrange(2_000 * 86_400)),
            )
        ),
        "no_pesanan": lambda: rng.choice(
            (
                f"INV/{rng.randrange(2020, 2027)}/{rng.randrange(1, 13):02d}/"
                f"{rng.randrange(10**6)}",
                f"ORD-{rng.randrange(10**7, 10**8)}",
                f"{rng.randrange(2020, 2027)}{rng.randrange(10**9, 10**10)}",
            )
        ),
        "nama_produk": lambda: f"{rng.choice(PRODUCT_WORDS)} {rng.choice(PRODUCT_TAILS)}",
        "catatan": lambda: rng.choice(
            (
                f"{rng.choice(REVIEW_OPENERS)}, {rng.choice(REVIEW_TAILS)}",
                f"{rng.choice(REVIEW_OPENERS)}. {fake.sentence(nb_words=8)!s}",
                str(fake.sentence(nb_words=12)),
            )
        ),
        "kode_transaksi": sixteen_digits,
        "status": lambda: rng.choice(("dibayar", "dikirim", "selesai", "dibatalkan")),
        "nama_perusahaan": lambda: str(fake.company()),
        "kelas": lambda: rng.choice(("7A", "7B", "8A", "9C", "X IPA 1", "XI IPS 2")),
    }


POSITIVE_NAMES = {
    Kind.NIK: "nik",
    Kind.PHONE: "no_hp",
    Kind.EMAIL: "email",
    Kind.CARD: "nomor_kartu",
    Kind.NPWP: "npwp",
    Kind.NAME: "nama_pelanggan",
    Kind.ADDRESS: "alamat",
}


def sample(values_per_kind: int, seed: int) -> list[Column]:
    """Labelled columns: as many values of each kind as asked, and as many negatives in all."""
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    makers: dict[Kind, Callable[[], object]] = {
        Kind.NIK: lambda: written_nik(rng),
        Kind.PHONE: lambda: phone(rng, fake),
        Kind.EMAIL: lambda: str(fake.email()) if rng.random() < 0.8 else str(fake.free_email()),
        Kind.CARD: lambda: card(rng, fake),
        Kind.NPWP: lambda: npwp(rng),
        Kind.NAME: lambda: name(rng, fake),
        Kind.ADDRESS: lambda: address(rng, fake),
    }
    columns: list[Column] = []
    for kind, make in makers.items():
        for _ in range(values_per_kind // COLUMN):
            columns.append((kind.value, POSITIVE_NAMES[kind], [make() for _ in range(COLUMN)]))
    others = negatives(rng, fake)
    per_negative = max(1, values_per_kind * len(makers) // len(others) // COLUMN)
    for column_name, make in others.items():
        for _ in range(per_negative):
            columns.append((NEGATIVE, column_name, [make() for _ in range(COLUMN)]))
    return columns


def first_kind(value: object) -> str:
    text = str(value)
    for kind, detector in DETECTORS.items():
        if detector(text):
            return kind.value
    return NEGATIVE


def scores(pairs: list[tuple[str, str]], labels: list[str]) -> dict[str, dict[str, float]]:
    """Precision and recall per label, and overall over the personal kinds (micro average)."""
    out: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for truth, got in pairs if truth == label and got == label)
        fp = sum(1 for truth, got in pairs if truth != label and got == label)
        fn = sum(1 for truth, got in pairs if truth == label and got != label)
        out[label] = {
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "support": tp + fn,
        }
    tp = sum(1 for truth, got in pairs if truth != NEGATIVE and got == truth)
    predicted = sum(1 for _, got in pairs if got != NEGATIVE)
    actual = sum(1 for truth, _ in pairs if truth != NEGATIVE)
    out["overall"] = {"precision": tp / predicted, "recall": tp / actual, "support": actual}
    return out


BARE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?[\d\s().-]{8,24}|[A-Z][a-z]+(?: [A-Z][a-z]+)+")
"""The lower bound: one regular expression that only looks at a value's shape."""


def bare_pass(columns: list[Column]) -> int:
    match = BARE.fullmatch
    hits = 0
    for _, _, values in columns:
        for value in values:
            if value is not None and match(str(value)):
                hits += 1
    return hits


def classify_all(columns: list[Column], named: bool) -> list[str]:
    found = []
    for index, (_, column_name, values) in enumerate(columns):
        suggestions = classify_column(column_name if named else f"kolom_{index}", values)
        found.append(suggestions[0].kind.value if suggestions else NEGATIVE)
    return found


def best_of(runs: int, action: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def line(name: str, value: float, unit: str, ratio: float, baseline: str) -> str:
    digits = 0 if value >= 100 else 2
    figure = f"{value:.{digits}f} {unit}".strip()
    return f"{name}: {figure} (ratio {ratio:.2f} vs {baseline})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--values", type=int, default=3_000, help="values of each kind")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5, help="timed passes; the best is kept")
    args = parser.parse_args()
    columns = sample(args.values, args.seed)
    megabytes = sum(len(str(v).encode()) for _, _, vs in columns for v in vs) / 1e6
    values = sum(len(vs) for _, _, vs in columns)

    detect_s = best_of(args.runs, lambda: classify_all(columns, named=False))
    bare_s = best_of(args.runs, lambda: bare_pass(columns))
    pairs = [(label, first_kind(v)) for label, _, vs in columns for v in vs]
    labels = [k.value for k in Kind]
    value_scores = scores(pairs, labels)
    truth = [label for label, _, _ in columns]
    accuracy = {
        mode: sum(t == g for t, g in zip(truth, classify_all(columns, named), strict=True))
        / len(columns)
        for mode, named in (("neutral_names", False), ("schema_names", True))
    }
    misses = Counter((t, g) for t, g in pairs if t != g)

    rate, bare_rate = megabytes / detect_s, megabytes / bare_s
    overall = value_scores["overall"]
    print(line("b8_detect", rate, "MB/s", rate / bare_rate, "bare_regex"))
    print(line("b8_bare_regex", bare_rate, "MB/s", 1.0, "bare_regex"))
    print(line("b8_detect_vs_presidio", rate, "MB/s", rate / 0.058, "presidio_58kb_s_design"))
    print(line("b8_precision", overall["precision"], "", overall["precision"] / 0.95, "target"))
    print(line("b8_recall", overall["recall"], "", overall["recall"] / 0.95, "target"))
    for label in labels:
        s = value_scores[label]
        print(
            f"b8_{label}: precision {s['precision']:.3f} recall {s['recall']:.3f} "
            f"({s['support']:.0f} values)"
        )
    for mode, share in accuracy.items():
        print(f"b8_columns_{mode}: {share:.3f} of {len(columns)} columns classified right")
    if misses:
        print(
            "b8_errors (truth -> detected: values): "
            + ", ".join(f"{t}->{g}: {n}" for (t, g), n in misses.most_common(8))
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "b8_detect",
        "seed": args.seed,
        "values": values,
        "columns": len(columns),
        "megabytes": megabytes,
        "detect_s": detect_s,
        "detect_mb_s": rate,
        "bare_regex_s": bare_s,
        "bare_regex_mb_s": bare_rate,
        "presidio_kb_s_from_design": 58,
        "value_scores": value_scores,
        "column_accuracy": accuracy,
        "errors": {f"{t}->{g}": n for (t, g), n in misses.most_common()},
        "median_value_bytes": statistics.median(
            len(str(v).encode()) for _, _, vs in columns for v in vs
        ),
        "python": platform.python_version(),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
