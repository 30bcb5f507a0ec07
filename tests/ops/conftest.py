"""Operations tests reach the notify and accounts helpers (SMTP server, API keys)."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
for folder in ("accounts", "consent", "notify", "rights"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))
