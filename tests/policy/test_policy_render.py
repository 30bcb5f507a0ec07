"""The published policy: every section, every manifest entry, three languages, both formats."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from policy_helpers import EXAMPLE_FILES, LANGUAGES, markdown_to_html, reader_text

from jagadata.i18n import LOCALE_DIR
from jagadata.manifest import load_manifest
from jagadata.manifest.schema import Manifest
from jagadata.policy.render import SECTION_IDS, SECTIONS, PolicyFormat, render_policy

CASES = [(path, lang) for path in EXAMPLE_FILES for lang in LANGUAGES]
IDS = [f"{path.stem}-{lang}" for path, lang in CASES]


def _manifest(path: Path) -> Manifest:
    return load_manifest(path).manifest


def test_the_examples_are_found() -> None:
    names = {path.name for path in EXAMPLE_FILES}
    assert {"la-gelato-academy.yaml", "millealab.yaml"} <= names


def test_section_ids_are_stable_and_unique() -> None:
    assert len(set(SECTION_IDS)) == len(SECTION_IDS) == len(SECTIONS)
    assert SECTION_IDS[0] == "controller" and SECTION_IDS[-1] == "language"
    assert all(re.fullmatch(r"[a-z][a-z-]*", section_id) for section_id in SECTION_IDS)


@pytest.mark.parametrize(("path", "lang"), CASES, ids=IDS)
def test_every_section_is_there_in_order(path: Path, lang: str) -> None:
    page = render_policy(_manifest(path), lang=lang)
    found = re.findall(r'<section id="([a-z-]+)"', page)
    assert tuple(found) == SECTION_IDS
    headings = re.findall(r"^## \d+\. ", render_policy(_manifest(path), lang=lang, fmt="md"), re.M)
    assert len(headings) == len(SECTION_IDS)


def _names(manifest: Manifest, lang: str) -> list[str]:
    """Every name a reader must find: purposes, categories, recipients, cookies, retention."""
    names = [p.name.get(lang) for p in manifest.purposes]
    names += [c.name.get(lang) for c in manifest.data.categories]
    names += [r.name if isinstance(r.name, str) else r.name.get(lang) for r in manifest.recipients]
    names += [r.name.get(lang) for r in manifest.retention]
    names += [c.purpose.get(lang) for c in manifest.cookies]
    names += [c.provider for c in manifest.cookies]
    names += [n for c in manifest.cookies for n in c.names]
    names += [manifest.organisation.name, str(manifest.organisation.email)]
    return names


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize(("path", "lang"), CASES, ids=IDS)
def test_every_manifest_entry_is_named(path: Path, lang: str, fmt: PolicyFormat) -> None:
    manifest = _manifest(path)
    text = reader_text(render_policy(manifest, lang=lang, fmt=fmt), fmt)
    missing = [name for name in _names(manifest, lang) if " ".join(name.split()) not in text]
    assert not missing


def _translated_fragments() -> dict[str, list[str]]:
    """Per language, English pieces of policy text that must not survive translation."""
    fragments: dict[str, list[str]] = {}
    for lang in ("id", "fr"):
        with (LOCALE_DIR / lang / "LC_MESSAGES" / "policy.po").open("rb") as handle:
            catalog = read_po(handle, locale=lang, domain="policy")
        pieces = []
        for message in catalog:
            if not message.id or message.string == message.id:
                continue  # the same in both languages by design, e.g. "WhatsApp"
            for piece in re.split(r"%\([a-z_]+\)s|\{[a-z_]+\}", str(message.id)):
                piece = piece.strip(" .,:;()")
                if len(piece) >= 10 and " " in piece:
                    pieces.append(piece)
        fragments[lang] = pieces
    return fragments


FRAGMENTS = _translated_fragments()


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize(
    ("path", "lang"), [(p, lang) for p in EXAMPLE_FILES for lang in ("id", "fr")]
)
def test_no_english_sentence_is_left_untranslated(path: Path, lang: str, fmt: PolicyFormat) -> None:
    text = reader_text(render_policy(_manifest(path), lang=lang, fmt=fmt), fmt)
    assert FRAGMENTS[lang]
    leftovers = [piece for piece in FRAGMENTS[lang] if piece in text]
    assert not leftovers
    english = re.findall(r"\b(?:the|and|with|your|we|of)\b", text)
    assert not english, f"English words in the {lang} policy: {english[:10]}"


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize(("path", "lang"), CASES, ids=IDS)
def test_rendering_is_deterministic(path: Path, lang: str, fmt: PolicyFormat) -> None:
    first = render_policy(_manifest(path), lang=lang, fmt=fmt)
    second = render_policy(_manifest(path), lang=lang, fmt=fmt)
    assert first.encode() == second.encode()


class _Balance(HTMLParser):
    """Records tags left open or closed out of order; void elements need no end tag."""

    VOID = frozenset({"meta", "link", "br", "img", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.style_attributes = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.style_attributes += sum(1 for name, _ in attrs if name == "style")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


@pytest.mark.parametrize(("path", "lang"), CASES, ids=IDS)
def test_html_is_balanced_semantic_and_accessible(path: Path, lang: str) -> None:
    page = render_policy(_manifest(path), lang=lang)
    checker = _Balance()
    checker.feed(page)
    assert not checker.problems and not checker.stack
    assert checker.style_attributes == 0
    assert page.startswith("<!doctype html>\n<html lang=\"" + lang + "\">")
    assert '<meta charset="utf-8">' in page and 'name="viewport"' in page
    assert page.count("<style>") == 1 and page.count("<article") == 1
    tables = len(re.findall(r"<table[ >]", page))
    assert tables >= 4
    assert page.count("<caption") == tables
    assert len(re.findall(r'<th scope="col"', page)) >= tables * 2
    assert page.count("<h1>") == 1 and page.count("<h2 ") == len(SECTION_IDS)
    stacked = re.findall(r'<table class="jd-stack" role="table">(.*?)</table>', page, re.S)
    assert len(stacked) == tables - 1  # all but the two-column controller table
    for table in stacked:
        headers = re.findall(r'<th scope="col" role="columnheader">([^<]*)</th>', table)
        labels = set(re.findall(r'<td role="cell" data-label="([^"]*)"', table))
        assert labels == set(headers[1:])


def test_the_fragment_is_only_the_article(gelato: Manifest) -> None:
    fragment = render_policy(gelato, lang="id", standalone=False)
    assert fragment.startswith('<article class="jd-policy" lang="id">')
    assert fragment.rstrip().endswith("</article>")
    assert "<html" not in fragment and "<style" not in fragment and "<head>" not in fragment


def _table_blocks(markdown: str) -> list[list[str]]:
    blocks, current = [], []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    return blocks + ([current] if current else [])


def _cells(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row)) - 1


@pytest.mark.parametrize(("path", "lang"), CASES, ids=IDS)
def test_markdown_tables_are_well_formed(path: Path, lang: str) -> None:
    manifest = _manifest(path)
    markdown = render_policy(manifest, lang=lang, fmt="md")
    blocks = _table_blocks(markdown)
    assert len(blocks) == len(re.findall(r"<table[ >]", render_policy(manifest, lang=lang)))
    for block in blocks:
        header, separator, *rows = block
        assert re.fullmatch(r"\|( --- \|)+", separator)
        assert rows and all(_cells(row) == _cells(header) for row in [separator, *rows])
    assert markdown_to_html(markdown).count("<table>") == len(blocks)
    assert "\n\n\n" not in markdown and markdown.endswith("\n") and not markdown.endswith("\n\n")


def test_unknown_language_or_format_is_refused(gelato: Manifest) -> None:
    with pytest.raises(ValueError, match="language"):
        render_policy(gelato, lang="de")
    with pytest.raises(ValueError, match="format"):
        render_policy(gelato, lang="id", fmt="pdf")  # type: ignore[arg-type]
