"""`jagadata init` writes a readable starter manifest that loads, from flags or from answers."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from jagadata.cli import app
from jagadata.manifest import load_manifest

FLAGS = [
    "--name",
    "Toko Kue Sari",
    "--address",
    "Jl. Melati 5, Bantul",
    "--email",
    "sari@example.co.id",
    "--whatsapp",
    "+62 812 1111 2222",
    "--city",
    "Bantul",
    "--hosting",
    "Hostinger:SG",
    "--email-provider",
    "Google:US",
    "--yes",
]


def test_flags_give_a_valid_manifest_in_indonesian(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    result = CliRunner().invoke(app, ["init", "-o", str(target), "--lang", "id", *FLAGS])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "# Manifes privasi Toko Kue Sari" in text
    manifest = load_manifest(target).manifest
    assert manifest.organisation.slug == "toko-kue-sari"
    assert {t.recipient for t in manifest.transfers} == {"hosting", "email_provider", "whatsapp"}
    assert manifest.data.categories[0].name.get("id") == "Identitas"
    assert manifest.governing_law.court is not None
    assert manifest.governing_law.court.get("id") == "Pengadilan Negeri Bantul"


def test_answers_at_the_prompts(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    answers = (
        "\n".join(
            [
                "Gelato Kecil",
                "",
                "Jl. Kaliurang 10, Sleman",
                "halo@gelato.example",
                "",
                "",
                "",
                "identity,contact,technical,usage",
                "",
                "",
                "n",
            ]
        )
        + "\n"
    )
    result = CliRunner().invoke(
        app, ["init", "-o", str(target), "--lang", "en", "--interactive"], input=answers
    )
    assert result.exit_code == 0, result.output
    manifest = load_manifest(target).manifest
    assert manifest.organisation.name == "Gelato Kecil"
    assert manifest.organisation.whatsapp is None
    assert [p.id for p in manifest.purposes] == ["service", "analytics"]
    assert manifest.transfers == []


def test_refuses_to_overwrite_and_explains(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    target.write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(app, ["init", "-o", str(target), "--lang", "en", *FLAGS])
    assert result.exit_code == 2
    assert "--force" in result.output
    assert target.read_text(encoding="utf-8") == "keep me"


def test_missing_answers_without_a_terminal_name_the_flags(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["init", "-o", str(tmp_path / "m.yaml"), "--lang", "en", "--yes"]
    )
    assert result.exit_code == 2
    assert "Business name" in result.output and "--help" in result.output


def test_bad_email_is_refused(tmp_path: Path) -> None:
    flags = [f if f != "sari@example.co.id" else "not-an-email" for f in FLAGS]
    result = CliRunner().invoke(
        app, ["init", "-o", str(tmp_path / "m.yaml"), "--lang", "en", *flags]
    )
    assert result.exit_code == 2 and "not an email address" in result.output
