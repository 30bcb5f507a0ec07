"""`jagadata breach`: record a breach in MilleaLab's mapped database, list it with its time
left, draft and send the notices, export the evidence (exit 1 once the timeline is altered),
and clear sentences for mistakes."""

from __future__ import annotations

import json
from pathlib import Path

from breach_platform import Mapped
from notify_servers import RecordingSmtpServer
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from jagadata.cli.breach import app
from jagadata.jobs import JobQueue


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--lang", "en"])
    return result.exit_code, result.output


def test_a_breach_is_recorded_notified_and_exported(
    cli_environment: str,
    millealab: Mapped,
    smtp_server: RecordingSmtpServer,
    delivering_queue: JobQueue,
    tmp_path: Path,
) -> None:
    code, out = run(
        "record",
        "millealab",
        "--title",
        "Ekspor nilai siswa terkirim ke alamat yang salah",
        "--what",
        "Berkas ekspor nilai dikirim ke alamat email yang keliru.",
        "--measures",
        "Penerima diminta menghapus berkas; pengiriman ekspor kini diperiksa dua orang.",
        "--system",
        "platform_db",
        "--category",
        "assessment",
        "--category",
        "pupil_profile",
        "--discovered",
        "2026-11-23T10:15",
        "--occurred",
        "2026-11-22T16:00",
    )
    assert code == 0, out
    pupils = len(millealab.platform.pupils)
    assert f"People affected: {pupils} ({pupils} children, {pupils} with specific data" in out
    assert "notify by Thursday, 26 November 2026 10:15 WIB" in out
    reference = out.split("Recorded ", 1)[1].split(":", 1)[0]

    code, out = run("list", "millealab")
    assert code == 0 and reference in out

    code, out = run("draft", "millealab", reference, "authority")
    assert code == 0 and "Pasal 46 ayat (2) huruf b" in out

    code, out = run("notify", "millealab", reference, "people")
    assert code == 0, out
    assert f"{pupils} notice(s) by email" in out
    assert len(smtp_server.received) == pupils

    code, out = run("notify", "millealab", reference, "authority")
    assert code == 2 and "Give --to ADDRESS" in out

    code, out = run("notify", "millealab", reference, "authority", "--note", "diserahkan langsung")
    assert code == 0, out
    code, out = run("show", "millealab", reference)
    assert code == 0 and "clock stopped" in out and "authority_notified" in out

    code, out = run("export", "millealab", reference, "-o", str(tmp_path / "out"))
    assert code == 0, out
    evidence = json.loads((tmp_path / "out" / f"breach-{reference}.json").read_text())
    assert evidence["incident"]["status"] == "notified"
    assert evidence["chain"]["intact"] is True
    assert (tmp_path / "out" / f"breach-{reference}.html").exists()

    engine = create_engine(cli_environment)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE breach_event SET actor_label = 'orang lain' WHERE sequence = 3")
        )
    engine.dispose()
    code, out = run("export", "millealab", reference, "-o", str(tmp_path / "out"))
    assert code == 1 and "broken at entry 3" in out


def test_mistakes_are_told_in_a_sentence(cli_environment: str, millealab: Mapped) -> None:
    base = ["record", "millealab", "--title", "x", "--what", "y", "--measures", "z"]
    code, out = run(*base, "--system", "no_such_system")
    assert code == 2 and "the manifest has no system 'no_such_system'" in out.lower()
    code, out = run(*base, "--system", "platform_db", "--discovered", "kemarin")
    assert code == 2 and "is not a date and time" in out
    code, out = run("show", "millealab", "B-NOTHERE")
    assert code == 2 and "no incident B-NOTHERE" in out
    code, out = run("list", "no-such-org")
    assert code == 2 and "There is no organisation no-such-org" in out
    assert "Traceback" not in out


def test_a_mapping_the_database_no_longer_matches_is_told_and_the_breach_kept(
    cli_environment: str, millealab: Mapped
) -> None:
    engine = create_engine(millealab.url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE teachers RENAME COLUMN phone TO mobile"))
    engine.dispose()
    code, out = run(
        "record",
        "millealab",
        "--title",
        "Akun guru diretas",
        "--what",
        "Kata sandi seorang guru dipakai orang lain.",
        "--measures",
        "Kata sandi diganti dan sesi diakhiri.",
        "--system",
        "platform_db",
        "--category",
        "account",
        "--discovered",
        "2026-11-23T10:15",
    )
    assert code == 2
    assert "could not be counted" in out and "'phone' does not exist" in out
    assert "jagadata breach assess millealab B-" in out
    assert "Traceback" not in out
    reference = out.split("jagadata breach assess millealab ", 1)[1].split()[0]
    code, listed = run("list", "millealab")
    assert code == 0 and reference in listed
