"""Words the policy uses for the manifest's fixed choices (legal forms, roles, safeguards...).

Each is an English msgid of the `policy` catalogue, translated where the language is known.
"""

from __future__ import annotations

from typing import Final

from jagadata.i18n import N_, gettext
from jagadata.law.facts import LegalBasis, Right
from jagadata.manifest.schema import (
    ChannelKind,
    CookieCategory,
    IdentifierKind,
    LegalForm,
    RecipientRole,
    RetentionAction,
    Safeguard,
    SecurityKind,
    WithdrawalChannel,
)

DOMAIN: Final = "policy"


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


LEGAL_FORMS: Final = {
    LegalForm.UMKM: N_("Micro, small or medium enterprise (UMKM)"),
    LegalForm.PERORANGAN: N_("Sole proprietorship"),
    LegalForm.CV: N_("Limited partnership (CV)"),
    LegalForm.FIRMA: N_("General partnership (firma)"),
    LegalForm.PT: N_("Limited liability company (PT)"),
    LegalForm.PT_TBK: N_("Public limited liability company (PT Tbk)"),
    LegalForm.PT_PERORANGAN: N_("Individual limited liability company (PT perorangan)"),
    LegalForm.KOPERASI: N_("Cooperative (koperasi)"),
    LegalForm.YAYASAN: N_("Foundation (yayasan)"),
    LegalForm.PERKUMPULAN: N_("Association (perkumpulan)"),
    LegalForm.BADAN_PUBLIK: N_("Public body (badan publik)"),
    LegalForm.FOREIGN: N_("Foreign legal entity"),
    LegalForm.OTHER: N_("Other legal form"),
}

BASES: Final = {
    LegalBasis.CONSENT: N_("Your explicit valid consent"),
    LegalBasis.CONTRACT: N_("Performing a contract with you"),
    LegalBasis.LEGAL_OBLIGATION: N_("A legal obligation we must meet"),
    LegalBasis.VITAL_INTEREST: N_("Protecting your vital interests"),
    LegalBasis.PUBLIC_TASK: N_("A task in the public interest or our lawful authority"),
    LegalBasis.LEGITIMATE_INTEREST: N_("Our legitimate interest"),
}

RIGHT_MEANINGS: Final = {
    Right.INFORMATION: N_(
        "Know who processes your data, on what legal basis and for what purpose, and who is "
        "accountable for it. This policy gives you that information; ask us if anything is unclear."
    ),
    Right.RECTIFICATION: N_(
        "Have incomplete, outdated or inaccurate data about you completed or corrected. We tell "
        "you when it is done."
    ),
    Right.ACCESS: N_(
        "See the personal data we hold about you and get a copy of it, together with the record "
        "of how it has been processed."
    ),
    Right.ERASURE: N_(
        "Have us stop processing your data and erase or destroy it. We tell you when it is done; "
        "data a law obliges us to keep is erased once that obligation ends."
    ),
    Right.WITHDRAW_CONSENT: N_(
        "Withdraw, at any time, consent you have given us; we then stop the processing that "
        "relies on it."
    ),
    Right.OBJECT_AUTOMATED: N_(
        "Object to decisions based solely on automated processing, including profiling, that "
        "have legal effects on you or affect you significantly."
    ),
    Right.RESTRICTION: N_(
        "Have the processing of your data suspended or restricted, in part or in full. We tell "
        "you when it is done."
    ),
    Right.COMPENSATION: N_(
        "Sue for and receive compensation if your data is processed in breach of the law."
    ),
    Right.PORTABILITY: N_(
        "Receive your data in a common, machine-readable format, and use it or send it to "
        "another controller."
    ),
}

ROLE_GROUPS: Final = {
    RecipientRole.PROCESSOR: (
        N_("Service providers working for us"),
        N_(
            "These processors handle data on our behalf. The law allows them to process it only "
            "on our instructions and for our purposes, and they may engage another processor only "
            "with our written approval ({articles})."
        ),
    ),
    RecipientRole.CONTROLLER: (
        N_("Other organisations"),
        N_(
            "These organisations receive data from us and decide for themselves how to use it, as "
            "controllers in their own right; their own privacy policies apply to it ({articles})."
        ),
    ),
    RecipientRole.JOINT_CONTROLLER: (
        N_("Organisations deciding jointly with us"),
        N_(
            "We decide together with these organisations why and how the data is processed, under "
            "an agreement that sets out each party's duties ({articles})."
        ),
    ),
    RecipientRole.AUTHORITY: (
        N_("Public authorities"),
        N_(
            "We disclose data to authorities only when a law or a lawful order requires us to, "
            "and only the data that is requested."
        ),
    ),
}
ROLE_ARTICLES: Final = {
    RecipientRole.PROCESSOR: ("51(1)", "51(5)"),
    RecipientRole.CONTROLLER: ("55(2)",),
    RecipientRole.JOINT_CONTROLLER: ("18(2)",),
    RecipientRole.AUTHORITY: (),
}

SAFEGUARDS: Final = {
    Safeguard.CONTRACT: N_("a written contract with the recipient"),
    Safeguard.CONFIDENTIALITY: N_("a duty of confidentiality"),
    Safeguard.STANDARD_CLAUSES: N_("standard data protection clauses"),
    Safeguard.BINDING_CORPORATE_RULES: N_("binding corporate rules"),
    Safeguard.CERTIFICATION: N_("a data protection certification"),
    Safeguard.ENCRYPTION: N_("encryption"),
    Safeguard.ADEQUATE_LAW: N_("a data protection law in the recipient's country"),
}

SECURITY_KINDS: Final = {
    SecurityKind.ENCRYPTION_IN_TRANSIT: N_("Data is encrypted when it travels over networks"),
    SecurityKind.ENCRYPTION_AT_REST: N_("Stored data is encrypted"),
    SecurityKind.ACCESS_CONTROL: N_("Only authorised staff can access personal data"),
    SecurityKind.MULTI_FACTOR: N_("Staff sign in with multi-factor authentication"),
    SecurityKind.BACKUPS: N_("Regular backups protect data against loss"),
    SecurityKind.PATCHING: N_("Systems receive security updates regularly"),
    SecurityKind.TRAINING: N_("Staff are trained in personal data protection"),
    SecurityKind.LOGGING: N_("Access to personal data is logged"),
    SecurityKind.PSEUDONYMISATION: N_("Data is pseudonymised where possible"),
    SecurityKind.OTHER: N_("Other measures suited to the risk"),
}

COOKIE_CATEGORIES: Final = {
    CookieCategory.ESSENTIAL: N_("Essential"),
    CookieCategory.PREFERENCE: N_("Preferences"),
    CookieCategory.ANALYTICS: N_("Analytics"),
    CookieCategory.MARKETING: N_("Marketing"),
}
COOKIE_ALWAYS_ON: Final = N_("always active")
COOKIE_WITH_CONSENT: Final = N_("only with your consent")
COOKIE_CAN_REFUSE: Final = N_("you can refuse them")

RETENTION_ACTIONS: Final = {
    RetentionAction.DELETE: N_("Erased"),
    RetentionAction.ANONYMISE: N_("Anonymised"),
}

CHANNELS: Final = {
    ChannelKind.EMAIL: N_("Email"),
    ChannelKind.WHATSAPP: N_("WhatsApp"),
    ChannelKind.WEB: N_("Privacy centre"),
    ChannelKind.PHONE: N_("Telephone"),
    ChannelKind.POST: N_("Letter"),
    ChannelKind.IN_PERSON: N_("In person"),
}

WITHDRAWAL: Final = {
    WithdrawalChannel.EMAIL: N_("an email to {email}"),
    WithdrawalChannel.WHATSAPP: N_("a WhatsApp message to {whatsapp}"),
    WithdrawalChannel.WEB: N_("our privacy centre"),
    WithdrawalChannel.UNSUBSCRIBE_LINK: N_("the unsubscribe link in every message"),
    WithdrawalChannel.COOKIE_SETTINGS: N_("the cookie settings"),
    WithdrawalChannel.PHONE: N_("a phone call to {phone}"),
    WithdrawalChannel.POST: N_("a letter to our address"),
}

IDENTIFIERS: Final = {
    IdentifierKind.EMAIL: N_("your email address"),
    IdentifierKind.PHONE: N_("your phone/WhatsApp number"),
    IdentifierKind.REFERENCE: N_("your reference number"),
    IdentifierKind.NIK: N_("your national identity number (NIK)"),
}

NOTICE_CHANNELS: Final = {
    "email": N_("email"),
    "whatsapp": N_("a WhatsApp message"),
    "sms": N_("SMS"),
    "website": N_("a notice on our website"),
    "letter": N_("letter"),
    "phone": N_("telephone"),
    "in_app": N_("a notice in the app"),
}

LANGUAGE_NAMES: Final = {
    "id": N_("Indonesian"),
    "en": N_("English"),
    "fr": N_("French"),
}

ROLES: Final = {
    RecipientRole.PROCESSOR: N_("processor"),
    RecipientRole.CONTROLLER: N_("controller"),
    RecipientRole.JOINT_CONTROLLER: N_("joint controller"),
    RecipientRole.AUTHORITY: N_("authority"),
}
