"""The record of processing activities (Art. 31 UU PDP), built from the manifest.

The record is a list of sections, each a table of text cells in one language: the controller
and its officer, one row per purpose (the processing activities), then the data categories,
recipients, transfers abroad, retention rules, security measures, systems and DPIAs. The first
cell of every row is the manifest's own code for the thing described, so a reader can find it
in the manifest. The HTML, CSV and XLSX writers only lay these tables out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from jagadata.checks.context import Context
from jagadata.i18n import N_, gettext
from jagadata.law.articles import art
from jagadata.law.facts import DPIA_TRIGGERS, LEGAL_BASES, SPECIFIC_TYPES, TRANSFER_BASES
from jagadata.manifest.describe import describe_retention
from jagadata.manifest.loader import LoadedManifest
from jagadata.manifest.schema import (
    DataCategory,
    Manifest,
    Purpose,
    Recipient,
    Safeguard,
    Sensitivity,
    Source,
)
from jagadata.policy import labels
from jagadata.policy.words import Words, country_names, date_in_words, text
from jagadata.ropa.states import NOT_STARTED, RISK_LEVELS, STATE_LABELS, DpiaSummary

DOMAIN: Final = "ropa"
ARTICLE: Final = art("31")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


@dataclass(frozen=True, slots=True)
class Section:
    """One table of the record: `key` is a stable name for tools, `title` is in the language."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Record:
    """The whole record of processing of one controller, in one language."""

    lang: str
    title: str
    controller: str
    intro: str
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


TITLE: Final = N_("Record of personal data processing activities")
INTRO: Final = N_(
    "Kept by {controller} as the personal data controller under {article}. Drawn up from the "
    "privacy manifest of {effective}; the Indonesian version is authoritative."
)
YES: Final = N_("Yes")
NO: Final = N_("No")
NONE: Final = N_("None")
ALL_GROUPS: Final = N_("All data subjects")
NOT_STATED: Final = N_("not stated")

SOURCES: Final = {
    Source.DIRECT: N_("From the person"),
    Source.AUTOMATIC: N_("Collected automatically"),
    Source.THIRD_PARTY: N_("From a third party"),
}


def build_record(
    loaded: LoadedManifest,
    lang: str = "id",
    *,
    dpias: Mapping[str, DpiaSummary] | None = None,
) -> Record:
    """The record of `loaded` in `lang`; `dpias` adds each purpose's DPIA in the workspace."""
    manifest = loaded.manifest
    ctx = Context(loaded, lang)
    words = Words(lang)
    builder = _Builder(manifest, ctx, words, lang, dict(dpias or {}), dpias is not None)
    sections = (
        builder.controller(),
        builder.activities(),
        builder.categories(),
        builder.recipients(),
        builder.transfers(),
        builder.retention(),
        builder.security(),
        builder.systems(),
        builder.dpias(),
    )
    return Record(
        lang=lang,
        title=_t(lang, TITLE),
        controller=manifest.organisation.name,
        intro=_t(lang, INTRO).format(
            controller=manifest.organisation.name,
            article=ARTICLE.cite(lang),
            effective=date_in_words(manifest.policy.effective, lang),
        ),
        sections=sections,
    )


@dataclass(frozen=True, slots=True)
class _Builder:
    manifest: Manifest
    ctx: Context
    words: Words
    lang: str
    workspace: dict[str, DpiaSummary]
    read_workspace: bool
    """False when the record is drawn from the manifest alone: the workspace column stays empty."""

    def t(self, message: str) -> str:
        return _t(self.lang, message)

    def yes_no(self, value: bool) -> str:
        return self.t(YES if value else NO)

    def join(self, items: list[str]) -> str:
        return "; ".join(item for item in items if item) or self.t(NONE)

    # --- sections ------------------------------------------------------------------------

    def controller(self) -> Section:
        org = self.manifest.organisation
        dpo = org.dpo
        rows = [
            ("name", self.t(N_("Controller")), org.name),
            ("trading_name", self.t(N_("Name known to the public")), org.trading_name or ""),
            (
                "legal_form",
                self.t(N_("Legal form")),
                gettext(self.lang, labels.LEGAL_FORMS[org.legal_form], labels.DOMAIN),
            ),
            ("registration", self.t(N_("Registration")), org.registration or ""),
            ("address", self.t(N_("Address")), org.address),
            ("email", self.t(N_("Email")), str(org.email)),
            ("phone", self.t(N_("Telephone")), org.phone or org.whatsapp or ""),
            (
                "dpo",
                self.t(N_("Data protection officer (Art. 53)")),
                self._dpo() if dpo else self.t(N_("None appointed")),
            ),
            ("policy", self.t(N_("Privacy policy in effect since")), self._policy()),
        ]
        return Section(
            key="controller",
            title=self.t(N_("Controller")),
            columns=(self.t(N_("Code")), self.t(N_("Item")), self.t(N_("Details"))),
            rows=tuple(rows),
        )

    def activities(self) -> Section:
        columns = (
            N_("Code"),
            N_("Purpose"),
            N_("Description"),
            N_("Legal basis (Art. 20(2))"),
            N_("Grounds of the basis"),
            N_("Data categories"),
            N_("Specific data (Art. 4(2))"),
            N_("Data subjects"),
            N_("Recipients"),
            N_("Transfers abroad (Art. 56)"),
            N_("Retention"),
            N_("Security measures (Art. 35)"),
            N_("Systems holding the data"),
            N_("Automated decisions (Art. 10)"),
            N_("DPIA (Art. 34)"),
        )
        return Section(
            key="activities",
            title=self.t(N_("Processing activities")),
            columns=tuple(self.t(c) for c in columns),
            rows=tuple(self._activity(p) for p in self.manifest.purposes),
        )

    def categories(self) -> Section:
        columns = (
            N_("Code"),
            N_("Data category"),
            N_("What it holds"),
            N_("Specific data (Art. 4(2))"),
            N_("Source"),
            N_("Data subjects"),
            N_("Purposes"),
            N_("Systems holding the data"),
        )
        rows = []
        for category in self.manifest.data.categories:
            purposes = [p for p in self.manifest.purposes if category.id in p.categories]
            rows.append(
                (
                    category.id,
                    text(category.name, self.lang),
                    ", ".join(text(item, self.lang) for item in category.items),
                    self._specific(category) or self.t(NO),
                    self._source(category),
                    self._groups(category.subjects),
                    self.join([text(p.name, self.lang) for p in purposes]),
                    self._systems({category.id}),
                )
            )
        return Section(
            key="categories",
            title=self.t(N_("Data categories")),
            columns=tuple(self.t(c) for c in columns),
            rows=tuple(rows),
        )

    def recipients(self) -> Section:
        columns = (
            N_("Code"),
            N_("Recipient"),
            N_("Role"),
            N_("What they do with the data"),
            N_("Countries"),
            N_("Data categories"),
            N_("Purposes"),
            N_("Safeguards"),
            N_("Written instructions (Art. 51(1))"),
            N_("Sub-processors (Art. 51(5))"),
        )
        rows = []
        for recipient in self.manifest.recipients:
            purposes = [p for p in self.manifest.purposes if recipient.id in p.recipients]
            rows.append(
                (
                    recipient.id,
                    text(recipient.name, self.lang),
                    gettext(self.lang, labels.ROLES[recipient.role], labels.DOMAIN),
                    text(recipient.service, self.lang),
                    self._countries(recipient.countries),
                    self._category_names(recipient.categories),
                    self.join([text(p.name, self.lang) for p in purposes]),
                    self._safeguards(recipient.safeguards),
                    ""
                    if recipient.written_instructions is None
                    else self.yes_no(recipient.written_instructions),
                    self._sub_processors(recipient),
                )
            )
        return Section(
            key="recipients",
            title=self.t(N_("Recipients")),
            columns=tuple(self.t(c) for c in columns),
            rows=tuple(rows),
        )

    def transfers(self) -> Section:
        columns = (
            N_("Code"),
            N_("Recipient"),
            N_("Countries"),
            N_("Basis of the transfer (Art. 56)"),
            N_("Safeguards"),
            N_("Description"),
        )
        return Section(
            key="transfers",
            title=self.t(N_("Transfers outside Indonesia")),
            columns=tuple(self.t(c) for c in columns),
            rows=tuple(
                (
                    recipient_id,
                    self._recipient_name(recipient_id),
                    self._countries(countries),
                    basis,
                    safeguards,
                    description,
                )
                for recipient_id, countries, basis, safeguards, description in self._transfers()
            ),
        )

    def retention(self) -> Section:
        columns = (
            N_("Code"),
            N_("What is kept"),
            N_("Data categories"),
            N_("Period"),
            N_("At the end of the period"),
            N_("Legal source"),
        )
        rows = tuple(
            (
                rule.id,
                text(rule.name, self.lang),
                self._category_names(rule.categories),
                f"{describe_retention(rule.period, self.lang)} ({rule.period})",
                gettext(self.lang, labels.RETENTION_ACTIONS[rule.action], labels.DOMAIN),
                text(rule.legal_source, self.lang),
            )
            for rule in self.manifest.retention
        )
        return Section(
            key="retention",
            title=self.t(N_("Retention (Art. 42-44)")),
            columns=tuple(self.t(c) for c in columns),
            rows=rows,
        )

    def security(self) -> Section:
        columns = (N_("Code"), N_("Measure"), N_("Details"))
        return Section(
            key="security",
            title=self.t(N_("Security measures (Art. 35-39)")),
            columns=tuple(self.t(c) for c in columns),
            rows=tuple(
                (
                    measure.kind.value,
                    gettext(self.lang, labels.SECURITY_KINDS[measure.kind], labels.DOMAIN),
                    text(measure.description, self.lang),
                )
                for measure in self.manifest.security.measures
            ),
        )

    def systems(self) -> Section:
        columns = (
            N_("Code"),
            N_("System"),
            N_("Kind"),
            N_("Data categories"),
            N_("Hosted by"),
            N_("Mapped for jagadata"),
        )
        kinds = {"manual": N_("Kept by hand"), "database": N_("Database")}
        return Section(
            key="systems",
            title=self.t(N_("Systems holding personal data")),
            columns=tuple(self.t(c) for c in columns),
            rows=tuple(
                (
                    system.id,
                    system.name,
                    self.t(kinds[system.kind.value]),
                    self._category_names(system.categories),
                    self._recipient_name(system.recipient) if system.recipient else "",
                    self.yes_no(system.datastore is not None),
                )
                for system in self.manifest.systems
            ),
        )

    def dpias(self) -> Section:
        columns = (
            N_("Code"),
            N_("Purpose"),
            N_("Why a DPIA is needed (Art. 34(2))"),
            N_("DPIA recorded in the manifest"),
            N_("DPIA in the jagadata workspace"),
            N_("Residual risk"),
        )
        rows = []
        for purpose in self.manifest.purposes:
            triggers = self.ctx.dpia_triggers(purpose)
            summary = self.workspace.get(purpose.id)
            if not triggers and purpose.dpia is None and summary is None:
                continue
            rows.append(
                (
                    purpose.id,
                    text(purpose.name, self.lang),
                    self._triggers(purpose),
                    self._manifest_dpia(purpose),
                    self._workspace_state(summary) if self.read_workspace else "",
                    self.t(RISK_LEVELS[summary.residual_level])
                    if summary and summary.residual_level
                    else "",
                )
            )
        return Section(
            key="dpias",
            title=self.t(N_("Data protection impact assessments (Art. 34)")),
            columns=tuple(self.t(c) for c in columns),
            rows=tuple(rows),
        )

    # --- one activity ----------------------------------------------------------------------

    def _activity(self, purpose: Purpose) -> tuple[str, ...]:
        specific = [
            f"{text(c.name, self.lang)}: {self._specific(c)}"
            for cid in purpose.categories
            if (c := self.manifest.category(cid)) and c.sensitivity is Sensitivity.SPECIFIC
        ]
        return (
            purpose.id,
            text(purpose.name, self.lang),
            text(purpose.description, self.lang),
            self._basis(purpose),
            text(purpose.legitimate_interest, self.lang)
            or text(purpose.legal_obligation, self.lang),
            self._category_names(purpose.categories),
            self.join(specific) if specific else self.t(NO),
            self._groups(purpose.subjects),
            self.join(
                [
                    self._recipient_summary(r)
                    for rid in purpose.recipients
                    if (r := self.manifest.recipient(rid))
                ]
            ),
            self.join(
                [
                    self._transfer_summary(recipient_id, countries, basis)
                    for recipient_id, countries, basis, _, _ in self._transfers()
                    if recipient_id in purpose.recipients
                ]
            ),
            self.join(
                [
                    f"{text(rule.name, self.lang)}: {describe_retention(rule.period, self.lang)}, "
                    + gettext(
                        self.lang, labels.RETENTION_ACTIONS[rule.action], labels.DOMAIN
                    ).lower()
                    for rule in self.manifest.retention
                    if set(rule.categories) & set(purpose.categories)
                ]
            ),
            self.join(
                [
                    gettext(self.lang, labels.SECURITY_KINDS[m.kind], labels.DOMAIN)
                    for m in self.manifest.security.measures
                ]
            ),
            self._systems(set(purpose.categories)),
            self.yes_no(purpose.automated_decisions),
            self._dpia_cell(purpose),
        )

    def _dpia_cell(self, purpose: Purpose) -> str:
        triggers = self.ctx.dpia_triggers(purpose)
        summary = self.workspace.get(purpose.id)
        if not triggers and purpose.dpia is None and summary is None:
            return self.t(N_("Not required"))
        parts = [self.t(N_("Required")) if triggers else self.t(N_("Carried out"))]
        parts.append(self._workspace_state(summary) if summary else self._manifest_dpia(purpose))
        return ": ".join(parts)

    # --- cells -----------------------------------------------------------------------------

    def _dpo(self) -> str:
        dpo = self.manifest.organisation.dpo
        assert dpo is not None
        parts = [dpo.name, str(dpo.email), dpo.phone or ""]
        if dpo.external:
            parts.append(self.t(N_("appointed from outside the organisation (Art. 53(3))")))
        return ", ".join(p for p in parts if p)

    def _policy(self) -> str:
        policy = self.manifest.policy
        effective = date_in_words(policy.effective, self.lang)
        return f"{effective}, {policy.url}" if policy.url else effective

    def _basis(self, purpose: Purpose) -> str:
        basis = purpose.legal_basis
        if basis is None:
            return self.t(N_("No legal basis stated"))
        fact = LEGAL_BASES[basis]
        return f"{gettext(self.lang, fact.label)} ({fact.article.cite(self.lang)})"

    def _specific(self, category: DataCategory) -> str:
        if category.sensitivity is not Sensitivity.SPECIFIC:
            return ""
        if category.specific_type is None:
            return art("4(2)").cite(self.lang)
        article, label = SPECIFIC_TYPES[category.specific_type]
        return f"{gettext(self.lang, label)} ({article.cite(self.lang)})"

    def _source(self, category: DataCategory) -> str:
        source = self.t(SOURCES[category.source])
        party = text(category.source_party, self.lang)
        return f"{source}: {party}" if party else source

    def _groups(self, ids: list[str]) -> str:
        if not ids:
            return self.t(ALL_GROUPS)
        return self.join(
            [text(g.name, self.lang) if (g := self.manifest.subject_group(i)) else i for i in ids]
        )

    def _category_names(self, ids: list[str]) -> str:
        return self.join(
            [text(c.name, self.lang) if (c := self.manifest.category(i)) else i for i in ids]
        )

    def _countries(self, codes: list[str] | tuple[str, ...]) -> str:
        names = country_names(list(codes), self.lang)
        return self.words.join(
            [f"{name} ({code})" for name, code in zip(names, codes, strict=True)]
        )

    def _recipient_name(self, recipient_id: str) -> str:
        recipient = self.manifest.recipient(recipient_id)
        return text(recipient.name, self.lang) if recipient else recipient_id

    def _recipient_summary(self, recipient: Recipient) -> str:
        role = gettext(self.lang, labels.ROLES[recipient.role], labels.DOMAIN)
        return f"{text(recipient.name, self.lang)} ({role}; {self._countries(recipient.countries)})"

    def _transfer_summary(self, recipient_id: str, countries: tuple[str, ...], basis: str) -> str:
        return f"{self._recipient_name(recipient_id)}: {self._countries(countries)}, {basis}"

    def _transfers(self) -> list[tuple[str, tuple[str, ...], str, str, str]]:
        """Declared transfers, then every country abroad of a recipient that none covers."""
        found: list[tuple[str, tuple[str, ...], str, str, str]] = []
        covered: set[tuple[str, str]] = set()
        for transfer in self.manifest.transfers:
            basis = self.t(NOT_STATED)
            if transfer.basis is not None:
                article, label = TRANSFER_BASES[transfer.basis]
                basis = f"{gettext(self.lang, label)} ({article.cite(self.lang)})"
            found.append(
                (
                    transfer.recipient,
                    tuple(transfer.countries),
                    basis,
                    self._safeguards(transfer.safeguards),
                    text(transfer.description, self.lang),
                )
            )
            covered |= {(transfer.recipient, code) for code in transfer.countries}
        for recipient in self.manifest.recipients:
            abroad = tuple(
                c for c in recipient.countries if c != "ID" and (recipient.id, c) not in covered
            )
            if abroad:
                found.append(
                    (
                        recipient.id,
                        abroad,
                        self.t(NOT_STATED),
                        self._safeguards(recipient.safeguards),
                        "",
                    )
                )
        return found

    def _safeguards(self, safeguards: list[Safeguard]) -> str:
        return self.join(
            [gettext(self.lang, labels.SAFEGUARDS[s], labels.DOMAIN) for s in safeguards]
        )

    def _sub_processors(self, recipient: Recipient) -> str:
        choices = {
            "none": N_("Not allowed"),
            "written_approval": N_("Only with written approval"),
            "unrestricted": N_("Allowed without approval"),
        }
        return self.t(choices[recipient.sub_processors]) if recipient.sub_processors else ""

    def _systems(self, categories: set[str]) -> str:
        return self.join(
            [s.name for s in self.manifest.systems if categories.intersection(s.categories)]
        )

    def _triggers(self, purpose: Purpose) -> str:
        return self.join(
            [
                f"{gettext(self.lang, DPIA_TRIGGERS[t][1])} ({DPIA_TRIGGERS[t][0].cite(self.lang)})"
                for t in self.ctx.dpia_triggers(purpose)
            ]
        )

    def _manifest_dpia(self, purpose: Purpose) -> str:
        dpia = purpose.dpia
        if dpia is None:
            return self.t(N_("Not recorded"))
        statuses = {
            "not_started": N_("Not started"),
            "in_progress": N_("In progress"),
            "completed": N_("Completed"),
        }
        parts = [self.t(statuses[dpia.status.value])]
        if dpia.completed_on:
            parts.append(date_in_words(dpia.completed_on, self.lang))
        if dpia.reference:
            parts.append(dpia.reference)
        return ", ".join(parts)

    def _workspace_state(self, summary: DpiaSummary | None) -> str:
        if summary is None:
            return self.t(NOT_STARTED)
        state = self.t(STATE_LABELS[summary.state])
        if summary.signed_off_at is not None:
            return f"{state}, {date_in_words(summary.signed_off_at.date(), self.lang)}"
        return state
