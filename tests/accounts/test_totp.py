"""TOTP on a fixed clock: the current code and its neighbours work, older ones do not, a code
is never accepted twice, and the QR code is an inline SVG the CSP allows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pyotp

from jagadata.accounts import totp

MOMENT = datetime(2026, 11, 23, 2, 30, 10, tzinfo=UTC)


def test_the_code_matches_pyotp_at_a_fixed_time() -> None:
    secret = totp.new_secret()
    assert totp.code_at(secret, MOMENT) == pyotp.TOTP(secret).at(MOMENT)
    assert len(secret) == 32 and re.fullmatch(r"[A-Z2-7]+", secret)


def test_one_step_either_side_is_accepted_two_are_not() -> None:
    secret = totp.new_secret()
    step = totp.step_of(MOMENT)
    for offset, accepted in [(-60, False), (-30, True), (0, True), (30, True), (60, False)]:
        code = totp.code_at(secret, MOMENT + timedelta(seconds=offset))
        if not accepted and code in {
            totp.code_at(secret, MOMENT + timedelta(seconds=o)) for o in (-30, 0, 30)
        }:
            continue  # the same six digits in a neighbouring step (one chance in 10^5)
        found = totp.matching_step(secret, code, now=MOMENT, last_step=None)
        assert (found is not None) is accepted, offset
        if accepted:
            assert found == step + offset // 30


def test_a_code_is_never_accepted_twice() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, MOMENT)
    step = totp.matching_step(secret, code, now=MOMENT, last_step=None)
    assert step is not None
    assert totp.matching_step(secret, code, now=MOMENT, last_step=step) is None
    later = MOMENT + timedelta(seconds=20)
    assert totp.matching_step(secret, code, now=later, last_step=step) is None
    following = totp.code_at(secret, MOMENT + timedelta(seconds=30))
    assert totp.matching_step(secret, following, now=later, last_step=step) == step + 1
    earlier = totp.code_at(secret, MOMENT - timedelta(seconds=30))
    assert totp.matching_step(secret, earlier, now=MOMENT, last_step=step) is None


def test_spaces_are_ignored_and_anything_else_refused() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, MOMENT)
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", now=MOMENT, last_step=None)
    for wrong in ["", "12345", "1234567", "abcdef", code + "0"]:
        assert totp.matching_step(secret, wrong, now=MOMENT, last_step=None) is None


def test_the_qr_code_is_inline_svg_without_script_or_style() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, account="pengguna@example.com")
    assert uri.startswith("otpauth://totp/jagadata:pengguna%40example.com?secret=")
    svg = str(totp.qr_svg(uri, label="Kode QR"))
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("aria-label") == "Kode QR"
    assert "style" not in svg and "script" not in svg and "href" not in svg
    assert len(root.findall("{http://www.w3.org/2000/svg}path")[0].get("d", "")) > 1000


def test_the_secret_is_grouped_for_typing() -> None:
    assert totp.grouped("ABCDEFGHIJKL") == "ABCD EFGH IJKL"
