"""Helpers for the policy's tests: the example files, edited copies, what a reader sees."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from jagadata.manifest.schema import Manifest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = tuple(sorted((ROOT / "examples").glob("*.yaml")))
LANGUAGES = ("id", "en", "fr")


def edited(manifest: Manifest, change: Callable[[dict[str, Any]], None]) -> Manifest:
    """A copy of `manifest` with `change` applied to its plain data, validated again."""
    data = manifest.model_dump(mode="json")
    change(data)
    return Manifest.model_validate(data)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(document: str) -> str:
    """What a reader sees of an HTML document, whitespace collapsed."""
    parser = _Text()
    parser.feed(document)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def markdown_to_html(text: str) -> str:
    rendered: str = MarkdownIt("commonmark").enable("table").render(text)
    return rendered


def reader_text(document: str, fmt: str) -> str:
    """The text a reader sees, for either format (Markdown is rendered first)."""
    return visible_text(markdown_to_html(document) if fmt == "md" else document)


def escaped(text: str) -> str:
    return html.escape(text, quote=True)
