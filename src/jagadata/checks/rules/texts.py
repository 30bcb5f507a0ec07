"""Texts in every language the policy is published in: transparency (Art. 16(2)(a), 27)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from pydantic import BaseModel

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, rule
from jagadata.i18n import N_
from jagadata.manifest.errors import Path
from jagadata.manifest.types import Text

LANGUAGE_NAMES: Final = {"id": N_("Indonesian"), "en": N_("English"), "fr": N_("French")}
_LEAVES: Final = (str, int, float, bool, type(None))


def texts(node: Any, path: Path = ()) -> Iterator[tuple[Path, Text]]:
    """Every localised text in the manifest, with its path."""
    if isinstance(node, _LEAVES):
        return
    if isinstance(node, Text):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            if not isinstance(value, _LEAVES):
                yield from texts(value, (*path, name))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from texts(item, (*path, index))
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from texts(item, (*path, str(key)))


def _is_consent_text(path: Path) -> bool:
    return path[-2:] == ("consent", "text")


@rule(
    "PDP049",
    "text-missing-language",
    title=N_("Text missing in a language the policy is published in"),
    severity=Severity.WARNING,
    articles=(pasal("16(2)(a)"), pasal("27")),
    description=N_(
        "Processing is transparent (Art. 16(2)(a), 27): a policy published in several languages "
        "should say the same thing in each. Where a translation is missing, readers in that "
        "language see the Indonesian text instead."
    ),
    hint=N_(
        "Write the text as {id: ..., en: ..., fr: ...} with every language listed under "
        "'languages:', or remove the language from that list."
    ),
)
def text_missing_language(ctx: Context) -> Iterator[Hit]:
    published = ctx.manifest.languages
    names = ", ".join(ctx.t(LANGUAGE_NAMES[lang]) for lang in published)
    for path, text in texts(ctx.manifest):
        missing = [lang for lang in published if not text.has(lang)]
        if _is_consent_text(path) and "id" in missing:
            missing.remove("id")  # PDP004 reports a consent text without Indonesian
        if missing:
            yield Hit(
                path,
                N_("Missing translation: {languages} (the policy is published in {published})."),
                {"languages": ", ".join(ctx.t(LANGUAGE_NAMES[lang]) for lang in missing),
                 "published": names},
            )
