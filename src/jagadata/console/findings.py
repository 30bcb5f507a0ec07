"""`jagadata check` findings of stored manifest versions, kept per content hash: a version never
changes, so its findings are computed once per language (until the rules change with a new
release, which starts a new process)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from jagadata.checks import Finding, Severity, run_checks
from jagadata.manifest.errors import ManifestInvalid
from jagadata.manifest.loader import load_manifest_text
from jagadata.orgs.models import ManifestVersion
from jagadata.ropa.states import DpiaState

CACHE_SIZE: Final = 512
STORED_FILE: Final = "manifest.yaml"


@dataclass(frozen=True)
class Checked:
    """A version's findings; `loads` is False when the stored text no longer loads (a manifest
    written for an older jagadata), and then there are no findings to show."""

    findings: tuple[Finding, ...]
    loads: bool = True

    def count(self, severity: Severity | str) -> int:
        return sum(finding.severity == severity for finding in self.findings)

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR)


_cache: OrderedDict[tuple[Any, ...], Checked] = OrderedDict()
_lock = threading.Lock()


def checked(
    version: ManifestVersion, lang: str, dpia: Mapping[str, DpiaState] | None = None
) -> Checked:
    """The version's findings; with `dpia`, read against the DPIA workspace's states (a
    purpose signed off there counts as assessed, Art. 34)."""
    key = (version.content_hash, lang, tuple(sorted(dpia.items())) if dpia else ())
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    result = check_text(version.yaml_text, lang=lang, dpia=dpia)
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def check_text(text: str, *, lang: str, dpia: Mapping[str, DpiaState] | None = None) -> Checked:
    try:
        loaded = load_manifest_text(text, file=STORED_FILE, lang=lang)
    except ManifestInvalid:
        return Checked((), loads=False)
    return Checked(tuple(run_checks(loaded, lang=lang, dpia_states=dpia or None)))


def by_severity(findings: Iterable[Finding]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for finding in findings:
        counts[finding.severity] += 1
    return counts
