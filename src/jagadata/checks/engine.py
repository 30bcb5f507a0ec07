"""Run the rules over a loaded manifest and turn each hit into a located, translated finding."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from jagadata.checks import rules as _rules  # noqa: F401  (registers every rule)
from jagadata.checks.context import Context
from jagadata.checks.model import RULES, Finding, Hit, Rule, _t
from jagadata.i18n import normalise_language
from jagadata.manifest.loader import LoadedManifest
from jagadata.ropa.states import DpiaState


def run_checks(
    loaded: LoadedManifest,
    *,
    lang: str = "id",
    select: Iterable[str] | None = None,
    dpia_states: Mapping[str, DpiaState] | None = None,
) -> list[Finding]:
    """Every finding of every rule (or of the `select`ed codes), sorted by place then code.

    `dpia_states` are the organisation's assessments in the DPIA workspace, by purpose id; the
    DPIA rules (Art. 34) read them before the manifest's `dpia` entries.
    """
    language = normalise_language(lang)
    context = Context(loaded, language, dpia_states=dpia_states)
    chosen = [RULES[code] for code in select] if select is not None else list(RULES.values())
    findings = [_finding(rule, hit, context) for rule in chosen for hit in rule.check(context)]
    findings.sort(key=Finding.sort_key)
    return findings


def _finding(rule: Rule, hit: Hit, context: Context) -> Finding:
    lang = context.lang
    source = context.loaded.source
    line, column = source.locate(hit.path) or (1, 1)
    message = _t(lang, hit.message)
    if hit.params:
        message = message.format(**hit.params)
    return Finding(
        code=rule.code,
        severity=rule.severity,
        message=message,
        hint=_t(lang, hit.hint or rule.hint),
        articles=hit.articles if hit.articles is not None else rule.articles,
        path=hit.path,
        line=line,
        column=column,
        file=source.file,
        lang=lang,
    )
