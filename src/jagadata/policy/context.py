"""What the policy templates show: the manifest's facts in one language, with durations in words.

The templates hold the prose; this module only resolves the manifest (localised text, deadlines,
countries, citations) so that the same manifest always gives the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jagadata.i18n import gettext
from jagadata.law.articles import art, cite_all
from jagadata.law.facts import (
    LEGAL_BASES,
    RIGHTS,
    SPECIFIC_TYPES,
    STATUTORY_HOURS,
    TRANSFER_BASES,
    LegalBasis,
    Right,
)
from jagadata.manifest.commitments import (
    acknowledgement_deadline,
    fulfilment_deadline,
)
from jagadata.manifest.describe import describe_duration, describe_retention
from jagadata.manifest.schema import (
    ChannelKind,
    CookieCategory,
    Manifest,
    ParentalConsent,
    Purpose,
    RecipientRole,
    Safeguard,
    Sensitivity,
    Source,
    WithdrawalChannel,
)
from jagadata.manifest.types import Duration
from jagadata.policy import labels
from jagadata.policy.labels import _t
from jagadata.policy.words import (
    Link,
    Words,
    country_names,
    deadline_in_words,
    privacy_centre_url,
    text,
    whatsapp_link,
)


def _stricter_than_law(promised: Duration | None) -> Duration:
    """Art. 46(1): a breach notice never waits longer than 3 x 24 hours."""
    law = Duration(STATUTORY_HOURS, "h")
    if promised is None or promised.approx_hours > law.approx_hours:
        return law
    return promised


# --- the sections' facts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryView:
    name: str
    items: str
    optional: bool
    groups: str
    party: str
    specific: str
    specific_article: str


@dataclass(frozen=True, slots=True)
class PurposeView:
    id: str
    name: str
    description: str
    categories: str
    groups: str
    recipients: str
    basis: str
    basis_label: str
    basis_article: str
    legitimate_interest: str
    legal_obligation: str
    consent_text: str
    withdrawal: str
    automated: bool


@dataclass(frozen=True, slots=True)
class RecipientView:
    name: str
    service: str
    categories: str
    countries: str
    abroad: bool
    when: str


@dataclass(frozen=True, slots=True)
class RecipientGroup:
    role: str
    title: str
    intro: str
    recipients: tuple[RecipientView, ...]


@dataclass(frozen=True, slots=True)
class TransferView:
    recipient: str
    countries: str
    basis: str
    basis_article: str
    safeguards: str
    description: str


@dataclass(frozen=True, slots=True)
class RetentionView:
    name: str
    period: str
    action: str
    legal_source: str


@dataclass(frozen=True, slots=True)
class RightView:
    label: str
    meaning: str
    articles: str
    deadline: str
    statutory: bool


@dataclass(frozen=True, slots=True)
class CookieView:
    category: str
    choice: str
    purpose: str
    names: tuple[str, ...]
    duration: str
    provider: str


def purpose_view(manifest: Manifest, purpose: Purpose, lang: str, words: Words) -> PurposeView:
    basis = purpose.legal_basis
    return PurposeView(
        id=purpose.id,
        name=text(purpose.name, lang),
        description=text(purpose.description, lang),
        categories=words.join(_category_names(manifest, purpose.categories, lang)),
        groups=words.join(_group_names(manifest, purpose.subjects, lang)),
        recipients=words.join(
            [text(r.name, lang) for rid in purpose.recipients if (r := manifest.recipient(rid))]
        ),
        basis=basis.value if basis else "",
        basis_label=_t(lang, labels.BASES[basis]) if basis else "",
        basis_article=LEGAL_BASES[basis].article.cite(lang) if basis else "",
        legitimate_interest=text(purpose.legitimate_interest, lang),
        legal_obligation=text(purpose.legal_obligation, lang),
        consent_text=text(purpose.consent.text, lang) if purpose.consent else "",
        withdrawal=words.join_or(_withdrawal_channels(manifest, purpose, lang)),
        automated=purpose.automated_decisions,
    )


def _category_names(manifest: Manifest, ids: list[str], lang: str) -> list[str]:
    return [text(c.name, lang) for cid in ids if (c := manifest.category(cid))]


def _group_names(manifest: Manifest, ids: list[str], lang: str) -> list[str]:
    return [text(g.name, lang) for gid in ids if (g := manifest.subject_group(gid))]


def _channel_address(manifest: Manifest, kind: ChannelKind) -> str | None:
    for channel in manifest.rights.channels:
        if channel.kind is kind and channel.address:
            return channel.address
    return None


def _withdrawal_channels(manifest: Manifest, purpose: Purpose, lang: str) -> list[str]:
    if purpose.consent is None:
        return []
    org = manifest.organisation
    values = {
        "email": _channel_address(manifest, ChannelKind.EMAIL) or str(org.email),
        "whatsapp": _channel_address(manifest, ChannelKind.WHATSAPP) or org.whatsapp or "",
        "phone": _channel_address(manifest, ChannelKind.PHONE) or org.phone or "",
    }
    phrases = []
    for channel in purpose.consent.withdrawal:
        if channel is WithdrawalChannel.WHATSAPP and not values["whatsapp"]:
            continue
        if channel is WithdrawalChannel.PHONE and not values["phone"]:
            continue
        phrases.append(_t(lang, labels.WITHDRAWAL[channel]).format(**values))
    return phrases


def categories_by_source(
    manifest: Manifest, lang: str, words: Words
) -> dict[str, tuple[CategoryView, ...]]:
    several_groups = len(manifest.data_subjects) > 1
    grouped: dict[str, list[CategoryView]] = {source.value: [] for source in Source}
    for category in manifest.data.categories:
        specific_label, specific_article = "", ""
        if category.sensitivity is Sensitivity.SPECIFIC:
            if category.specific_type is not None:
                article, label = SPECIFIC_TYPES[category.specific_type]
                specific_label, specific_article = gettext(lang, label), article.cite(lang)
            else:
                specific_article = art("4(2)").cite(lang)
        grouped[category.source.value].append(
            CategoryView(
                name=text(category.name, lang),
                items=", ".join(text(item, lang) for item in category.items),
                optional=category.optional,
                groups=words.join(_group_names(manifest, category.subjects, lang))
                if several_groups
                else "",
                party=text(category.source_party, lang),
                specific=specific_label,
                specific_article=specific_article,
            )
        )
    return {source: tuple(views) for source, views in grouped.items() if views}


def not_collected(manifest: Manifest, lang: str) -> tuple[str, ...]:
    """Each promise as one sentence; a lower-case exception continues the sentence."""
    sentences = []
    for promise in manifest.data.not_collected:
        sentence = text(promise.description, lang)
        exception = text(promise.exception, lang)
        if exception and exception[0].islower():
            sentence = sentence.rstrip(". ") + ", " + exception.rstrip(". ") + "."
        elif exception:
            sentence = sentence + " " + exception
        sentences.append(sentence)
    return tuple(sentences)


def recipient_groups(manifest: Manifest, lang: str, words: Words) -> tuple[RecipientGroup, ...]:
    groups = []
    for role in RecipientRole:
        members = [r for r in manifest.recipients if r.role is role]
        if not members:
            continue
        title, intro = labels.ROLE_GROUPS[role]
        articles = labels.ROLE_ARTICLES[role]
        groups.append(
            RecipientGroup(
                role=role.value,
                title=_t(lang, title),
                intro=_t(lang, intro).format(articles=words.cite(*articles) if articles else ""),
                recipients=tuple(
                    RecipientView(
                        name=text(r.name, lang),
                        service=text(r.service, lang),
                        categories=words.join(_category_names(manifest, r.categories, lang)),
                        countries=words.join(country_names(r.countries, lang)),
                        abroad=any(code != "ID" for code in r.countries),
                        when=text(r.when, lang),
                    )
                    for r in members
                ),
            )
        )
    return tuple(groups)


def transfers(manifest: Manifest, lang: str, words: Words) -> tuple[TransferView, ...]:
    """Declared transfers, then any recipient abroad that no transfer covers (basis not stated)."""
    views = []
    covered: set[tuple[str, str]] = set()
    for transfer in manifest.transfers:
        recipient = manifest.recipient(transfer.recipient)
        basis_label, basis_article = "", ""
        if transfer.basis is not None:
            article, label = TRANSFER_BASES[transfer.basis]
            basis_label, basis_article = gettext(lang, label), article.cite(lang)
        views.append(
            TransferView(
                recipient=text(recipient.name, lang) if recipient else transfer.recipient,
                countries=words.join(country_names(transfer.countries, lang)),
                basis=basis_label,
                basis_article=basis_article,
                safeguards=_safeguards(transfer.safeguards, lang, words),
                description=text(transfer.description, lang),
            )
        )
        covered |= {(transfer.recipient, code) for code in transfer.countries}
    for recipient in manifest.recipients:
        abroad = [c for c in recipient.countries if c != "ID" and (recipient.id, c) not in covered]
        if abroad:
            views.append(
                TransferView(
                    recipient=text(recipient.name, lang),
                    countries=words.join(country_names(abroad, lang)),
                    basis="",
                    basis_article="",
                    safeguards=_safeguards(recipient.safeguards, lang, words),
                    description="",
                )
            )
    return tuple(views)


def _safeguards(safeguards: list[Safeguard], lang: str, words: Words) -> str:
    return words.join([_t(lang, labels.SAFEGUARDS[s]) for s in safeguards])


def retention(manifest: Manifest, lang: str) -> tuple[tuple[RetentionView, ...], tuple[str, ...]]:
    """The retention rules, and the names of categories no rule covers."""
    rows = tuple(
        RetentionView(
            name=text(rule.name, lang),
            period=describe_retention(rule.period, lang),
            action=_t(lang, labels.RETENTION_ACTIONS[rule.action]),
            legal_source=text(rule.legal_source, lang),
        )
        for rule in manifest.retention
    )
    covered = {cid for rule in manifest.retention for cid in rule.categories}
    uncovered = tuple(
        text(c.name, lang) for c in manifest.data.categories if c.id not in covered
    )
    return rows, uncovered


def rights(manifest: Manifest, lang: str) -> tuple[RightView, ...]:
    views = []
    for right in Right:
        if right not in manifest.rights.offered:
            continue
        fact = RIGHTS[right]
        if right is Right.COMPENSATION:
            deadline = _t(lang, "through a claim in court, under the applicable procedure")
        else:
            deadline = deadline_in_words(fulfilment_deadline(manifest, right), lang)
        views.append(
            RightView(
                label=gettext(lang, fact.label),
                meaning=_t(lang, labels.RIGHT_MEANINGS[right]),
                articles=cite_all(fact.articles, lang),
                deadline=deadline,
                statutory=fact.statutory_hours is not None,
            )
        )
    return tuple(views)


def rights_channels(manifest: Manifest, lang: str) -> tuple[tuple[str, Link], ...]:
    org = manifest.organisation
    channels = []
    for channel in manifest.rights.channels:
        label = _t(lang, labels.CHANNELS[channel.kind])
        address = channel.address
        if channel.kind is ChannelKind.WEB:
            url = address or privacy_centre_url(manifest)
            channels.append((label, Link(url, url)))
        elif channel.kind is ChannelKind.EMAIL:
            email = address or str(org.email)
            channels.append((label, Link(email, "mailto:" + email)))
        elif channel.kind is ChannelKind.WHATSAPP:
            number = address or org.whatsapp or ""
            channels.append((label, Link(number, whatsapp_link(number) if number else None)))
        elif channel.kind is ChannelKind.PHONE:
            number = address or org.phone or org.whatsapp or ""
            href = "tel:" + re.sub(r"[^\d+]", "", number) if number else None
            channels.append((label, Link(number, href)))
        else:
            channels.append((label, Link(address or org.address)))
    return tuple(channels)


def cookies(manifest: Manifest, lang: str) -> tuple[CookieView, ...]:
    views = []
    for cookie in manifest.cookies:
        choice = {
            "always": labels.COOKIE_ALWAYS_ON,
            "consent": labels.COOKIE_WITH_CONSENT,
            "refusable": labels.COOKIE_CAN_REFUSE,
        }[cookie_choice(manifest, cookie.category, cookie.purpose_ref)]
        views.append(
            CookieView(
                category=_t(lang, labels.COOKIE_CATEGORIES[cookie.category]),
                choice=_t(lang, choice),
                purpose=text(cookie.purpose, lang),
                names=tuple(cookie.names),
                duration=describe_duration(cookie.duration, lang),
                provider=cookie.provider,
            )
        )
    return tuple(views)


def cookie_choice(manifest: Manifest, category: CookieCategory, purpose_ref: str | None) -> str:
    """'always' for essential cookies; 'consent' unless the purpose they serve rests on another
    basis, in which case people can still refuse them ('refusable')."""
    if category is CookieCategory.ESSENTIAL:
        return "always"
    purpose = manifest.purpose(purpose_ref) if purpose_ref else None
    if purpose is None or purpose.legal_basis in (None, LegalBasis.CONSENT):
        return "consent"
    return "refusable"


def breach_deadlines(manifest: Manifest, lang: str) -> tuple[str, str]:
    """Words for the notice to people and to the authority: never later than Art. 46(1) allows."""
    breach = manifest.breach
    return (
        describe_duration(_stricter_than_law(breach.notify_subjects_within), lang),
        describe_duration(_stricter_than_law(breach.notify_authority_within), lang),
    )


def acknowledgement(manifest: Manifest, lang: str) -> str:
    deadline = acknowledgement_deadline(manifest)
    if deadline is None:
        return ""
    return describe_duration(deadline.duration, lang, calendar=deadline.calendar)


def children_groups(manifest: Manifest, lang: str, words: Words) -> str:
    return words.join([text(g.name, lang) for g in manifest.data_subjects if g.children])


def parental_consent_required(manifest: Manifest) -> bool:
    return manifest.children.parental_consent is ParentalConsent.REQUIRED


def identifier_names(manifest: Manifest, lang: str) -> list[str]:
    """How people identify themselves, in the words of a sentence ('nomor induk siswa')."""
    names: list[str] = []
    for identifier in manifest.rights.identifiers:
        label = text(identifier.label, lang)
        if label[1:2].islower():
            label = label[0].lower() + label[1:]
        label = label or _t(lang, labels.IDENTIFIERS[identifier.kind])
        if label not in names:
            names.append(label)
    return names


def language_names(manifest: Manifest, lang: str) -> list[str]:
    return [_t(lang, labels.LANGUAGE_NAMES[code]) for code in manifest.languages]
