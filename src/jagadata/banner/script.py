"""banner.js: the script, its stylesheet and the texts of every published language in one file.

The script source (`banner.js`) and stylesheet (`banner.css`) ship with the package; comments
and indentation are removed when they are read (lines are kept, so the script needs no
minifier to stay correct), and the configuration is inserted as JSON.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Final

from jagadata.banner.config import Banner

HERE: Final = Path(__file__).parent / "static"


@cache
def _source() -> str:
    lines = (HERE / "banner.js").read_text(encoding="utf-8").splitlines()
    kept = [line.strip() for line in lines if line.strip() and not line.strip().startswith("//")]
    return "\n".join(kept) + "\n"


@cache
def stylesheet() -> str:
    return re.sub(r"\s*\n\s*", "", (HERE / "banner.css").read_text(encoding="utf-8"))


def _json(value: Any) -> str:
    """JSON safe inside a script and in any encoding: ASCII only (a site may serve the static
    build without a charset), and no `</`."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("</", "<\\/")


def render(banner: Banner, *, api: str, gpc: bool = False) -> str:
    """The whole banner.js for one organisation; `gpc` when the request carried Sec-GPC: 1."""
    config = banner.config(api=api, gpc=gpc) | {"css": stylesheet()}
    return _source().replace("__CONFIG__", _json(config), 1)
