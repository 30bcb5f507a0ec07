"""The catalogues are complete: every text in the code is translated into Indonesian and French,
with the same placeholders, and nothing in a catalogue is fuzzy or forgotten."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from jagadata.i18n import DOMAINS, LOCALE_DIR, gettext, negotiate, normalise_language

ROOT = Path(__file__).resolve().parent.parent
TOOL = runpy.run_path(str(ROOT / "scripts" / "i18n.py"))
KEYWORDS: dict[str, object] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_t": (2,),
    "_tn": (2, 3),
    "N_": None,
    "Np_": (1, 2),
    "tx": None,
}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%\([a-z_]+\)s")


def extracted(domain: str) -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for source in TOOL["sources"](domain):
        paths = [Path(source)] if Path(source).is_file() else sorted(Path(source).rglob("*"))
        for path in paths:
            if path.suffix == ".py":
                method = "python"
            elif path.suffix in {".j2", ".html", ".md", ".js"} and (
                path.suffix == ".j2" or "templates" in path.parts
            ):
                method = "jinja2.ext:babel_extract"
            else:
                continue
            options = {"extensions": "jinja2.ext.i18n"} if method != "python" else {}
            for _, message, _, _ in extract_from_file(
                method, str(path), keywords=KEYWORDS, options=options
            ):
                if isinstance(message, tuple):
                    found.add(
                        (message[0], message[1]) if len(message) > 1 and message[1] else message[0]
                    )
                elif message:
                    found.add(message)
    return found


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", ["id", "fr"])
def test_catalogue_is_complete_and_in_sync(domain: str, lang: str) -> None:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    in_code = extracted(domain)
    if not path.exists():
        assert not in_code, f"{path} is missing: run scripts/i18n.py {domain}"
        return
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=domain)
    in_catalog = {m.id if isinstance(m.id, str) else (m.id[0], m.id[1]) for m in catalog if m.id}
    missing = in_code - in_catalog
    assert not missing, f"not in {path.name} ({lang}); run scripts/i18n.py {domain}: {missing}"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if "fuzzy" in message.flags or not all(strings):
            problems.append(f"untranslated or fuzzy: {message.id!r}")
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != wanted:
                problems.append(f"placeholders differ: {message.id!r} -> {string!r}")
    assert not problems, "\n".join(problems)


def test_indonesian_is_served_from_the_catalogue() -> None:
    assert gettext("id", "Right of access") == "Hak akses"
    assert gettext("fr", "Right of access") == "Droit d'accès"
    assert gettext("en", "Right of access") == "Right of access"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("in-ID", "id"),
        ("de-DE,en;q=0.5", "en"),
        ("de-DE", "id"),
        ("", "id"),
        ("id;q=0.2,en;q=0.8", "en"),
        ("en;q=0,fr", "fr"),
        ("*", "id"),
        ("en;q=abc,fr;q=0.1", "fr"),
    ],
)
def test_negotiate_picks_the_best_offered_language(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_negotiate_only_offers_the_organisations_languages() -> None:
    assert negotiate("fr", offered=["id", "en"]) == "id"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("id-ID", "id"), ("EN_us", "en"), ("in", "id"), ("xx", "id"), (None, "id"), ("fr", "fr")],
)
def test_normalise_language(raw: str | None, expected: str) -> None:
    assert normalise_language(raw) == expected
