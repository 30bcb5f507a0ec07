"""Recipients and transfers abroad: processors (Art. 51), joint controllers (Art. 18), Art. 56."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, rule
from jagadata.i18n import N_
from jagadata.law.facts import TransferBasis
from jagadata.manifest.schema import RecipientRole, Safeguard

HOME: Final = "ID"
BINDING: Final = frozenset(
    {Safeguard.CONTRACT, Safeguard.STANDARD_CLAUSES, Safeguard.BINDING_CORPORATE_RULES,
     Safeguard.CERTIFICATION}
)


@rule(
    "PDP021",
    "transfer-without-basis",
    title=N_("Transfer abroad without an Art. 56 basis"),
    severity=Severity.ERROR,
    articles=(pasal("56(2)"), pasal("56(3)"), pasal("56(4)")),
    description=N_(
        "Personal data may leave Indonesia only if the recipient's country protects it at least "
        "as well, else under adequate and binding safeguards, else with the person's consent "
        "(Art. 56(2)-(4)); every transfer must record which applies."
    ),
    hint=N_(
        "Add 'basis:' to the transfer: adequate_protection, binding_safeguards or consent, "
        "tried in that order."
    ),
)
def transfer_without_basis(ctx: Context) -> Iterator[Hit]:
    for index, transfer in enumerate(ctx.manifest.transfers):
        if transfer.basis is None:
            yield Hit(
                ("transfers", index, "basis"),
                N_("The transfer to '{recipient}' ({countries}) has no Art. 56 basis."),
                {"recipient": transfer.recipient, "countries": ", ".join(transfer.countries)},
            )


@rule(
    "PDP022",
    "recipient-abroad-without-transfer",
    title=N_("Recipient outside Indonesia with no transfer entry"),
    severity=Severity.ERROR,
    articles=(pasal("56(1)"), pasal("56(2)")),
    description=N_(
        "A recipient that processes or stores data outside Indonesia receives a transfer abroad "
        "(Art. 56(1)); each such country needs an entry under 'transfers' with its basis."
    ),
    hint=N_(
        "Add an entry under 'transfers:' for this recipient and these countries, with its "
        "'basis:' and 'safeguards:'."
    ),
)
def recipient_abroad_without_transfer(ctx: Context) -> Iterator[Hit]:
    transfers = ctx.transfers_by_recipient
    for index, recipient in enumerate(ctx.manifest.recipients):
        covered = {c for t in transfers.get(recipient.id, ()) for c in t.countries}
        missing = [c for c in recipient.countries if c != HOME and c not in covered]
        if missing:
            yield Hit(
                ("recipients", index, "countries"),
                N_("Recipient '{recipient}' processes data in {countries} but no transfer "
                   "records it."),
                {"recipient": recipient.id, "countries": ", ".join(missing)},
            )


@rule(
    "PDP023",
    "binding-safeguards-unnamed",
    title=N_("Binding safeguards that name no safeguard"),
    severity=Severity.ERROR,
    articles=(pasal("56(3)"),),
    description=N_(
        "A transfer under Art. 56(3) relies on protection that is adequate and binding; the "
        "manifest must name it (a contract, standard clauses, binding corporate rules or a "
        "certification)."
    ),
    hint=N_(
        "List the safeguards under the transfer's 'safeguards:', e.g. [contract, "
        "standard_clauses]."
    ),
)
def binding_safeguards_unnamed(ctx: Context) -> Iterator[Hit]:
    recipients = {r.id: r for r in ctx.manifest.recipients}
    for index, transfer in enumerate(ctx.manifest.transfers):
        if transfer.basis is not TransferBasis.BINDING_SAFEGUARDS:
            continue
        recipient = recipients.get(transfer.recipient)
        named = set(transfer.safeguards) | set(recipient.safeguards if recipient else ())
        if not named & BINDING:
            yield Hit(
                ("transfers", index, "safeguards"),
                N_("The transfer to '{recipient}' relies on binding safeguards but names none."),
                {"recipient": transfer.recipient},
            )


@rule(
    "PDP024",
    "transfer-consent-before-safeguards",
    title=N_("Consent used for a transfer that binding safeguards cover"),
    severity=Severity.WARNING,
    articles=(pasal("56(3)"), pasal("56(4)")),
    description=N_(
        "Art. 56 sets an order: consent (56(4)) applies only where neither equal protection "
        "(56(2)) nor binding safeguards (56(3)) are in place. A processor bound by contract or "
        "standard clauses falls under 56(3)."
    ),
    hint=N_(
        "Record 'basis: binding_safeguards' for this transfer; keep consent only where no "
        "safeguard binds the recipient."
    ),
)
def transfer_consent_before_safeguards(ctx: Context) -> Iterator[Hit]:
    recipients = {r.id: r for r in ctx.manifest.recipients}
    for index, transfer in enumerate(ctx.manifest.transfers):
        recipient = recipients.get(transfer.recipient)
        if transfer.basis is not TransferBasis.CONSENT or recipient is None:
            continue
        binding = (set(transfer.safeguards) | set(recipient.safeguards)) & BINDING
        if recipient.role is RecipientRole.PROCESSOR and binding:
            yield Hit(
                ("transfers", index, "basis"),
                N_("The transfer to processor '{recipient}' relies on consent although "
                   "binding safeguards apply ({safeguards})."),
                {"recipient": recipient.id,
                 "safeguards": ", ".join(sorted(s.value for s in binding))},
            )


@rule(
    "PDP025",
    "processor-without-instructions",
    title=N_("Processor without written instructions"),
    severity=Severity.ERROR,
    articles=(pasal("51(1)"), pasal("37")),
    description=N_(
        "A processor processes personal data only on the controller's instructions (Art. 51(1)) "
        "and under its supervision (Art. 37); the manifest must confirm that written "
        "instructions exist."
    ),
    hint=N_(
        "Agree written instructions (a data processing agreement) and set "
        "'written_instructions: true'."
    ),
)
def processor_without_instructions(ctx: Context) -> Iterator[Hit]:
    for index, recipient in enumerate(ctx.manifest.recipients):
        if recipient.role is RecipientRole.PROCESSOR and recipient.written_instructions is not True:
            yield Hit(
                ("recipients", index, "written_instructions"),
                N_("Processor '{recipient}' has no written instructions on record."),
                {"recipient": recipient.id},
            )


@rule(
    "PDP026",
    "sub-processors-without-approval",
    title=N_("Sub-processors without written approval"),
    severity=Severity.ERROR,
    articles=(pasal("51(4)"), pasal("51(5)")),
    description=N_(
        "A processor may engage another processor only with the controller's prior written "
        "approval (Art. 51(5)); the manifest must say 'none' or 'written_approval'."
    ),
    hint=N_(
        "Set 'sub_processors: written_approval' (or 'none') and make the contract say so."
    ),
)
def sub_processors_without_approval(ctx: Context) -> Iterator[Hit]:
    for index, recipient in enumerate(ctx.manifest.recipients):
        if recipient.role is RecipientRole.PROCESSOR and recipient.sub_processors not in (
            "none",
            "written_approval",
        ):
            yield Hit(
                ("recipients", index, "sub_processors"),
                N_("Processor '{recipient}' may engage sub-processors without your written "
                   "approval ({value})."),
                {"recipient": recipient.id, "value": recipient.sub_processors or "—"},
            )


@rule(
    "PDP027",
    "joint-controller-without-agreement",
    title=N_("Joint controller without an agreement"),
    severity=Severity.ERROR,
    articles=(pasal("18(2)(a)"), pasal("18(2)(c)")),
    description=N_(
        "Joint controllers need an agreement setting out their roles, responsibilities and "
        "relationship, and a jointly appointed contact point (Art. 18(2))."
    ),
    hint=N_("Sign the joint-controller agreement and set 'joint_agreement: true'."),
)
def joint_controller_without_agreement(ctx: Context) -> Iterator[Hit]:
    for index, recipient in enumerate(ctx.manifest.recipients):
        joint = recipient.role is RecipientRole.JOINT_CONTROLLER
        if joint and recipient.joint_agreement is not True:
            yield Hit(
                ("recipients", index, "joint_agreement"),
                N_("Joint controller '{recipient}' has no agreement on record."),
                {"recipient": recipient.id},
            )


@rule(
    "PDP028",
    "recipient-categories-beyond-purposes",
    title=N_("Recipient receives data no purpose shares with it"),
    severity=Severity.WARNING,
    articles=(pasal("16(2)(b)"), pasal("28")),
    description=N_(
        "Data is processed, and disclosed, only for its purposes (Art. 16(2)(b), 28); a "
        "recipient's categories should be those of the purposes that name it."
    ),
    hint=N_(
        "Add the recipient to the purposes that share these categories with it, or remove the "
        "categories from the recipient."
    ),
)
def recipient_categories_beyond_purposes(ctx: Context) -> Iterator[Hit]:
    shared = ctx.shared_with
    for index, recipient in enumerate(ctx.manifest.recipients):
        allowed = shared.get(recipient.id, set())
        extra = [c for c in recipient.categories if c not in allowed]
        if extra:
            yield Hit(
                ("recipients", index, "categories"),
                N_("Recipient '{recipient}' receives {categories}, which no purpose shares "
                   "with it."),
                {"recipient": recipient.id, "categories": ", ".join(extra)},
            )
