"""What every rule reads: the manifest and indexes built once, so each rule stays linear."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from functools import cached_property

from jagadata.i18n import gettext
from jagadata.law.facts import DpiaTrigger, LegalBasis, SpecificType
from jagadata.manifest.loader import LoadedManifest
from jagadata.manifest.schema import DpiaStatus, Manifest, Purpose, Sensitivity, Transfer
from jagadata.ropa.states import DpiaState


class Context:
    """The manifest being checked, the reader's language, and lookups shared by the rules.

    `dpia_states` are the organisation's assessments in jagadata's DPIA workspace, by purpose id
    (Art. 34); None when the check runs on the manifest alone.
    """

    def __init__(
        self,
        loaded: LoadedManifest,
        lang: str,
        *,
        dpia_states: Mapping[str, DpiaState] | None = None,
    ) -> None:
        self.loaded = loaded
        self.manifest: Manifest = loaded.manifest
        self.lang = lang
        self.dpia_states: Mapping[str, DpiaState] = dpia_states or {}

    def t(self, message: str) -> str:
        """`message` (marked with N_ in the `checks` domain) in the reader's language."""
        return gettext(self.lang, message, "checks")

    @cached_property
    def used_categories(self) -> frozenset[str]:
        """Categories at least one purpose processes."""
        return frozenset(c for p in self.manifest.purposes for c in p.categories)

    @cached_property
    def retained_categories(self) -> frozenset[str]:
        return frozenset(c for r in self.manifest.retention for c in r.categories)

    @cached_property
    def specific_categories(self) -> frozenset[str]:
        return frozenset(
            c.id for c in self.manifest.data.categories if c.sensitivity is Sensitivity.SPECIFIC
        )

    @cached_property
    def child_groups(self) -> frozenset[str]:
        return frozenset(g.id for g in self.manifest.data_subjects if g.children)

    @cached_property
    def child_categories(self) -> frozenset[str]:
        """Children's data: typed as such (Art. 4(2)(e)) or about a group that includes children."""
        groups = self.child_groups
        return frozenset(
            c.id
            for c in self.manifest.data.categories
            if c.specific_type is SpecificType.CHILD or groups.intersection(c.subjects)
        )

    @cached_property
    def shared_with(self) -> dict[str, set[str]]:
        """Recipient id -> the categories of the purposes that name it as a recipient."""
        shared: dict[str, set[str]] = defaultdict(set)
        for purpose in self.manifest.purposes:
            for recipient in purpose.recipients:
                shared[recipient].update(purpose.categories)
        return shared

    @cached_property
    def transfers_by_recipient(self) -> dict[str, list[Transfer]]:
        transfers: dict[str, list[Transfer]] = defaultdict(list)
        for transfer in self.manifest.transfers:
            transfers[transfer.recipient].append(transfer)
        return transfers

    @cached_property
    def purpose_bases(self) -> dict[str, LegalBasis | None]:
        return {p.id: p.legal_basis for p in self.manifest.purposes}

    @cached_property
    def has_children_data(self) -> bool:
        return bool(self.child_groups or self.child_categories)

    def processes_children(self, purpose: Purpose) -> bool:
        return bool(
            self.child_categories.intersection(purpose.categories)
            or self.child_groups.intersection(purpose.subjects)
        )

    def processes_specific(self, purpose: Purpose) -> bool:
        return bool(self.specific_categories.intersection(purpose.categories))

    def dpia_triggers(self, purpose: Purpose) -> list[DpiaTrigger]:
        """The Art. 34(2) features of a purpose: derived from the manifest, then declared."""
        found: list[DpiaTrigger] = []
        if purpose.automated_decisions:
            found.append(DpiaTrigger.AUTOMATED_DECISION)
        if self.processes_specific(purpose):
            found.append(DpiaTrigger.SPECIFIC_DATA)
        found.extend(t for t in purpose.high_risk if t not in found)
        return found

    def has_dpia(self, purpose: Purpose) -> bool:
        """A DPIA is recorded for the purpose: in the manifest or in the workspace."""
        return purpose.dpia is not None or purpose.id in self.dpia_states

    def dpia_done(self, purpose: Purpose) -> bool:
        """The purpose's DPIA is finished: signed off in the workspace, which prevails over the
        manifest, or else marked completed in the manifest."""
        state = self.dpia_states.get(purpose.id)
        if state is not None:
            return state is DpiaState.SIGNED_OFF
        return purpose.dpia is not None and purpose.dpia.status is DpiaStatus.COMPLETED
