"""Extract translatable text of one catalogue domain and update its id/fr catalogues.

    .venv/bin/python scripts/i18n.py messages|checks|policy

Then translate the new entries in src/jagadata/locale/{id,fr}/LC_MESSAGES/DOMAIN.po
(Indonesian is the authoritative text; write it as Indonesian, not word by word).
tests/test_i18n.py fails while an entry is missing, empty or fuzzy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "jagadata"
LOCALE = PACKAGE / "locale"
KEYWORDS = ["-k", "_t:2", "-k", "_tn:2,3", "-k", "N_"]
OWN_DIRS = {"checks": ["checks"], "policy": ["policy"]}


def sources(domain: str) -> list[str]:
    if domain in OWN_DIRS:
        return [str(PACKAGE / d) for d in OWN_DIRS[domain]]
    taken = {d for dirs in OWN_DIRS.values() for d in dirs}
    paths = [str(p) for p in sorted(PACKAGE.iterdir())
             if p.name not in taken and p.name != "locale" and not p.name.startswith("__pycache__")
             and (p.is_dir() or p.suffix == ".py")]
    return paths


def main(domain: str) -> None:
    pot = LOCALE / f"{domain}.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
         *KEYWORDS, "--no-location", "--sort-output", "--omit-header", "-o", str(pot),
         *sources(domain)],
        check=True,
    )
    for lang in ("id", "fr"):
        po = LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"
        action = "update" if po.exists() else "init"
        args = [sys.executable, "-m", "babel.messages.frontend", action, "-i", str(pot),
                "-d", str(LOCALE), "-D", domain, "-l", lang]
        if action == "update":
            args += ["--no-fuzzy-matching", "--ignore-obsolete"]
        subprocess.run(args, check=True)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("messages", "checks", "policy"):
        sys.exit(__doc__)
    main(sys.argv[1])
