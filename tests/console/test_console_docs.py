"""docs/console.md stays true: every page of the navigation, every action the console names in
its audit log, and the vendored htmx (version and checksum) are as documented."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from jagadata.console.audit_views import ACTION_DESCRIPTIONS
from jagadata.console.nav import SEARCH_FROM, SECTIONS
from jagadata.console.render import STATIC_DIR

DOC = (Path(__file__).resolve().parents[2] / "docs" / "console.md").read_text(encoding="utf-8")


def test_every_page_of_the_navigation_is_documented() -> None:
    for section in SECTIONS:
        assert f"`/admin/o/{{org}}/{section.path}`" in DOC, section.key
        assert f"`{section.action.value}`" in DOC, section.action


def test_every_action_of_the_audit_log_is_documented() -> None:
    table = DOC.split("## What the console writes to the audit log", 1)[1].split("\n## ", 1)[0]
    for action in ACTION_DESCRIPTIONS:
        assert f"`{action}`" in table, action


def test_the_switcher_threshold_and_the_vendored_htmx_are_as_documented() -> None:
    assert f"From {SEARCH_FROM} organisations on" in DOC
    script = (STATIC_DIR / "htmx.min.js").read_bytes()
    version = re.search(rb'version:"([0-9.]+)"', script)
    assert version is not None and f"htmx {version.group(1).decode()}" in DOC
    assert hashlib.sha256(script).hexdigest() in DOC
