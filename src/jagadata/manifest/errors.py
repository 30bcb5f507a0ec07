"""Problems found while reading a manifest, each located and explained for a person to act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """('purposes', 2, 'legal_basis') -> 'purposes[2].legal_basis'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text or "(top level)"


@dataclass(frozen=True, slots=True)
class ManifestError:
    path: Path
    message: str
    expected: str | None = None
    hint: str | None = None
    file: str = "<manifest>"
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    @property
    def location(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column or 1}"

    @property
    def field_path(self) -> str:
        return format_path(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.field_path,
            "message": self.message,
            "expected": self.expected,
            "hint": self.hint,
        }


@dataclass
class ManifestInvalid(Exception):
    """The manifest cannot be used; `errors` lists every problem found, in file order."""

    errors: Sequence[ManifestError] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(f"{e.location}: {e.field_path}: {e.message}" for e in self.errors)
