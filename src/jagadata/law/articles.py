"""Citations of UU PDP (Law 27/2022) and related regulations, formatted per language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

UU_PDP: Final = "uu-pdp"
PERMENKOMINFO_20_2016: Final = "permenkominfo-20-2016"

_LAW_NAMES: Final = {
    UU_PDP: {"id": "UU PDP", "en": "UU PDP", "fr": "UU PDP"},
    PERMENKOMINFO_20_2016: {
        "id": "Permenkominfo 20/2016",
        "en": "Permenkominfo 20/2016",
        "fr": "Permenkominfo 20/2016",
    },
}
_CITE = re.compile(r"^(?P<number>\d+)(?:\((?P<paragraph>\d+)\))?(?:\((?P<letter>[a-z])\))?$")


@dataclass(frozen=True, slots=True)
class Article:
    """One provision: `Article.parse("20(2)(a)")` is Art. 20 ayat (2) huruf a of UU PDP."""

    number: int
    paragraph: int | None = None
    letter: str | None = None
    law: str = UU_PDP

    @classmethod
    def parse(cls, text: str, law: str = UU_PDP) -> Article:
        match = _CITE.match(text.strip())
        if not match:
            raise ValueError(f"not an article citation: {text!r} (expected e.g. '20(2)(a)')")
        paragraph = match["paragraph"]
        return cls(
            number=int(match["number"]),
            paragraph=int(paragraph) if paragraph else None,
            letter=match["letter"],
            law=law,
        )

    @property
    def short(self) -> str:
        """Language-neutral key, e.g. '20(2)(a)'."""
        text = str(self.number)
        if self.paragraph is not None:
            text += f"({self.paragraph})"
        if self.letter:
            text += f"({self.letter})"
        return text

    def cite(self, lang: str = "en", *, with_law: bool = True) -> str:
        """'Pasal 20 ayat (2) huruf a UU PDP', 'Art. 20(2)(a) UU PDP', 'art. 20(2)(a) UU PDP'."""
        if lang == "id":
            text = f"Pasal {self.number}"
            if self.paragraph is not None:
                text += f" ayat ({self.paragraph})"
            if self.letter:
                text += f" huruf {self.letter}"
        elif lang == "fr":
            text = f"art. {self.short}"
        else:
            text = f"Art. {self.short}"
        if with_law:
            text += " " + _LAW_NAMES[self.law].get(lang, _LAW_NAMES[self.law]["en"])
        return text

    def __str__(self) -> str:
        return self.cite("en")


def art(text: str) -> Article:
    return Article.parse(text)


def cite_all(articles: tuple[Article, ...], lang: str = "en") -> str:
    """Join several citations: 'Art. 30(1), Art. 32(2) UU PDP' — the law named once at the end."""
    if not articles:
        return ""
    laws = {a.law for a in articles}
    if len(laws) > 1:
        return "; ".join(a.cite(lang) for a in articles)
    parts = [a.cite(lang, with_law=False) for a in articles]
    joiner = {"id": ", ", "fr": ", "}.get(lang, ", ")
    return joiner.join(parts) + " " + _LAW_NAMES[articles[0].law].get(lang, "UU PDP")
