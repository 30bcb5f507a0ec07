"""Extract translatable text of one catalogue domain and update its id/fr catalogues.

    .venv/bin/python scripts/i18n.py messages|checks|policy|web|accounts|console|consent|banner|children|rights

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
KEYWORDS = ["-k", "_t:2", "-k", "_tn:2,3", "-k", "N_", "-k", "Np_:1,2", "-k", "tx"]
OWN_DIRS = {
    "checks": ["checks", "cli/check.py"],
    "policy": ["policy", "cli/policy.py"],
    "web": ["web", "db", "orgs", "cli/org.py", "cli/serve.py", "cli/db.py"],
    "accounts": ["accounts", "cli/user.py", "web/csrf.py"],
    "console": ["console"],
    "consent": ["consent", "cli/consent.py"],
    "banner": ["banner", "cli/banner.py"],
    "children": ["children"],
    "rights": ["rights", "cli/request.py"],
    "datastores": ["datastores", "cli/datastore.py"],
    "retention": ["retention", "cli/retention.py"],
    "breach": ["breach", "cli/breach.py"],
    "ropa": ["ropa", "cli/ropa.py"],
    "ops": ["ops", "cli/backup.py"],
}


def sources(domain: str) -> list[str]:
    """The files whose text belongs to `domain`; `messages` takes everything no one else owns."""
    if domain in OWN_DIRS:
        return [str(PACKAGE / d) for d in OWN_DIRS[domain] if (PACKAGE / d).exists()]
    taken = {PACKAGE / d for dirs in OWN_DIRS.values() for d in dirs}
    paths: list[str] = []
    for path in sorted(PACKAGE.rglob("*")):
        if any(path == t or t in path.parents for t in taken) or "locale" in path.parts:
            continue
        if path.suffix in (".py", ".j2") or (path.is_file() and "templates" in path.parts):
            paths.append(str(path))
    return paths


def main(domain: str) -> None:
    pot = LOCALE / f"{domain}.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            *KEYWORDS,
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(pot),
            *sources(domain),
        ],
        check=True,
    )
    for lang in ("id", "fr"):
        po = LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"
        action = "update" if po.exists() else "init"
        args = [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            action,
            "-i",
            str(pot),
            "-d",
            str(LOCALE),
            "-D",
            domain,
            "-l",
            lang,
        ]
        if action == "update":
            args += ["--no-fuzzy-matching", "--ignore-obsolete"]
        subprocess.run(args, check=True)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in (*OWN_DIRS, "messages"):
        sys.exit(__doc__)
    main(sys.argv[1])
