"""Render the policy from a manifest. (Placeholder with the final signature.)"""

from __future__ import annotations

from typing import Literal

from jagadata.manifest.schema import Manifest

PolicyFormat = Literal["html", "md"]


def render_policy(
    manifest: Manifest, *, lang: str, fmt: PolicyFormat = "html", standalone: bool = True
) -> str:
    """The complete policy in `lang`; `standalone` html is a whole page, else a fragment."""
    name = manifest.organisation.display_name
    if fmt == "md":
        return f"# {name}\n"
    body = f"<article lang=\"{lang}\"><h1>{name}</h1></article>"
    return f"<!doctype html><html lang=\"{lang}\"><body>{body}</body></html>" if standalone else body
