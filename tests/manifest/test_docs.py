"""docs/manifest.md stays true: its example loads, and every field of the format is documented."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from jagadata.manifest import load_manifest_text
from jagadata.manifest.schema import Manifest
from jagadata.manifest.types import Text

DOC = Path(__file__).resolve().parents[2] / "docs" / "manifest.md"


def field_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        for arg in [info.annotation, *typing.get_args(info.annotation)]:
            for inner in [arg, *typing.get_args(arg)]:
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not Text:
                    names |= field_names(inner)
    return names


def test_the_example_in_the_docs_loads() -> None:
    text = DOC.read_text(encoding="utf-8")
    (example,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    loaded = load_manifest_text(example, file="docs/manifest.md")
    assert loaded.manifest.organisation.slug == "toko-kue-sari"


def test_every_field_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    undocumented = sorted(n for n in field_names(Manifest) if f"`{n}`" not in text)
    assert not undocumented, f"add these fields to docs/manifest.md: {undocumented}"
