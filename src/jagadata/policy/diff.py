"""What changed between two versions of a manifest, and which changes are material.

A material change alters what people were told under Art. 21(1) UU PDP (purpose, data, legal
basis, retention, rights) or who gets their data; Art. 21(2) requires telling them before it
applies, and consent-based purposes it touches need fresh consent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jagadata.i18n import N_
from jagadata.law.articles import Article, art
from jagadata.law.facts import (
    RIGHTS,
    SPECIFIC_TYPES,
    TRANSFER_BASES,
    LegalBasis,
    Right,
    TransferBasis,
)
from jagadata.manifest.commitments import acknowledgement_deadline, fulfilment_deadline
from jagadata.manifest.schema import (
    Calendar,
    CookieCategory,
    Manifest,
    RecipientRole,
    Safeguard,
    Sensitivity,
)
from jagadata.manifest.types import CookieDuration, Duration, RetentionPeriod, Text
from jagadata.policy import labels
from jagadata.policy.changes import (
    NOTICE,
    Area,
    ChangeKind,
    Countries,
    Label,
    Names,
    PolicyChange,
    PolicyDiff,
)
from jagadata.policy.context import cookie_choice

__all__ = ["NOTICE", "PolicyChange", "PolicyDiff", "diff_manifests", "requires_fresh_consent"]


def requires_fresh_consent(diff: PolicyDiff, purpose_id: str) -> bool:
    """A consent-based purpose touched by a material change (its text, data, recipients,
    transfers or retention) must ask again: people consented to what they were told."""
    if purpose_id not in diff.consent_purposes:
        return False
    return any(change.material and purpose_id in change.purposes for change in diff.changes)


def diff_manifests(old: Manifest, new: Manifest) -> PolicyDiff:
    """Every change from `old` to `new`, in the order of the policy's sections."""
    changes = [
        *_contacts(old, new),
        *_categories(old, new),
        *_purposes(old, new),
        *_recipients(old, new),
        *_transfers(old, new),
        *_retention(old, new),
        *_rights(old, new),
        *_cookies(old, new),
    ]
    consent = frozenset(p.id for p in new.purposes if p.legal_basis is LegalBasis.CONSENT)
    return PolicyDiff(tuple(changes), consent)


# --- the sections ---------------------------------------------------------------------------


def _contacts(old: Manifest, new: Manifest) -> Iterator[PolicyChange]:
    before, after = old.organisation, new.organisation
    if before.name != after.name:
        yield _change(Area.CONTACT, ChangeKind.CHANGED, "name",
                      N_("The controller's legal name changed from {old} to {new}."),
                      material=True, article=art("5"), old=before.name, new=after.name)
    fields = {
        "trading_name": N_("Trading name"),
        "address": N_("Address"),
        "email": N_("Email"),
        "whatsapp": N_("WhatsApp"),
        "phone": N_("Telephone"),
        "website": N_("Website"),
    }
    for name, label in fields.items():
        was, now = getattr(before, name), getattr(after, name)
        if was != now:
            yield _change(Area.CONTACT, ChangeKind.CHANGED, name,
                          N_("{field} changed from {old} to {new}."), material=False,
                          article=art("5"), field=Label(label), old=str(was or "—"),
                          new=str(now or "—"))
    was_dpo = before.dpo.email if before.dpo else None
    now_dpo = after.dpo.email if after.dpo else None
    if was_dpo != now_dpo or (before.dpo and after.dpo and before.dpo.name != after.dpo.name):
        yield _change(Area.CONTACT, ChangeKind.CHANGED, "dpo",
                      N_("The data protection officer's contact changed from {old} to {new}."),
                      material=False, article=art("53(1)"), old=was_dpo or "—", new=now_dpo or "—")


def _categories(old: Manifest, new: Manifest) -> Iterator[PolicyChange]:
    before = {c.id: c for c in old.data.categories}
    for category in new.data.categories:
        users = _purposes_using(new, {category.id})
        previous = before.get(category.id)
        specific = category.sensitivity is Sensitivity.SPECIFIC
        article = (SPECIFIC_TYPES[category.specific_type][0] if category.specific_type
                   else art("4(2)")) if specific else art("21(1)(c)")
        if previous is None:
            message = (N_("New specific personal data is collected: {name}.") if specific
                       else N_("A new kind of data is collected: {name}."))
            yield _change(Area.CATEGORY, ChangeKind.ADDED, category.id, message, material=True,
                          article=article, purposes=users, name=category.name)
            continue
        if specific and previous.sensitivity is not Sensitivity.SPECIFIC:
            yield _change(Area.CATEGORY, ChangeKind.CHANGED, category.id,
                          N_("{name} is now specific personal data."), material=True,
                          article=article, purposes=users, name=category.name)
        added = _new_texts(previous.items, category.items)
        if added:
            yield _change(Area.CATEGORY, ChangeKind.CHANGED, category.id,
                          N_("{name} now also includes: {items}."), material=True,
                          article=art("21(1)(e)"), purposes=users, name=category.name,
                          items=Names(added))
        removed = _new_texts(category.items, previous.items)
        if removed:
            yield _change(Area.CATEGORY, ChangeKind.CHANGED, category.id,
                          N_("{name} no longer includes: {items}."), material=False,
                          article=art("21(1)(e)"), purposes=users, name=category.name,
                          items=Names(removed))
        if previous.optional and not category.optional:
            yield _change(Area.CATEGORY, ChangeKind.CHANGED, category.id,
                          N_("{name} is no longer optional."), material=True,
                          article=art("21(1)(c)"), purposes=users, name=category.name)
    current = {c.id for c in new.data.categories}
    for category in old.data.categories:
        if category.id not in current:
            yield _change(Area.CATEGORY, ChangeKind.REMOVED, category.id,
                          N_("{name} is no longer collected."), material=False,
                          article=art("21(1)(c)"), name=category.name)


def _purposes(old: Manifest, new: Manifest) -> Iterator[PolicyChange]:
    before = {p.id: p for p in old.purposes}
    for purpose in new.purposes:
        previous = before.get(purpose.id)
        key, name, own = purpose.id, purpose.name, (purpose.id,)
        if previous is None:
            yield _change(Area.PURPOSE, ChangeKind.ADDED, key, N_("New purpose: {name}."),
                          material=True, article=art("21(1)(b)"), purposes=own, name=name)
            continue
        if previous.legal_basis != purpose.legal_basis:
            yield _change(Area.LEGAL_BASIS, ChangeKind.CHANGED, key,
                          N_("The legal basis of {name} changed from {old} to {new}."),
                          material=True, article=art("20(2)"), purposes=own, name=name,
                          old=_basis(previous.legal_basis), new=_basis(purpose.legal_basis))
        if (previous.name, previous.description) != (purpose.name, purpose.description):
            yield _change(Area.PURPOSE, ChangeKind.CHANGED, key,
                          N_("The description of {name} was reworded."), material=False,
                          article=art("21(1)(b)"), purposes=own, name=name)
        yield from _added_removed(
            Area.PURPOSE, key, previous.categories, purpose.categories,
            lambda ids: Names(_category_names(new, old, ids)),
            (N_("{name} now also uses: {items}."), N_("{name} no longer uses: {items}.")),
            art("21(1)(c)"), own, name=name)
        yield from _added_removed(
            Area.RECIPIENT, key, previous.recipients, purpose.recipients,
            lambda ids: Names(_recipient_names(new, old, ids)),
            (N_("Data for {name} is now also shared with: {items}."),
             N_("Data for {name} is no longer shared with: {items}.")),
            NOTICE, own, name=name)
        old_text = _consent_text(previous)
        new_text = _consent_text(purpose)
        if old_text and new_text and old_text != new_text:
            yield _change(Area.PURPOSE, ChangeKind.CHANGED, key,
                          N_("The consent request for {name} was reworded."), material=True,
                          article=art("21(1)"), purposes=own, name=name)
        if purpose.automated_decisions and not previous.automated_decisions:
            yield _change(Area.PURPOSE, ChangeKind.CHANGED, key,
                          N_("{name} now involves decisions based solely on automated "
                             "processing."), material=True, article=art("10(1)"),
                          purposes=own, name=name)
    current = {p.id for p in new.purposes}
    for purpose in old.purposes:
        if purpose.id not in current:
            yield _change(Area.PURPOSE, ChangeKind.REMOVED, purpose.id,
                          N_("Purpose removed: {name}."), material=False,
                          article=art("21(1)(b)"), name=purpose.name)


def _recipients(old: Manifest, new: Manifest) -> Iterator[PolicyChange]:
    before = {r.id: r for r in old.recipients}
    for recipient in new.recipients:
        users = tuple(p.id for p in new.purposes if recipient.id in p.recipients)
        previous = before.get(recipient.id)
        if previous is None:
            yield _change(Area.RECIPIENT, ChangeKind.ADDED, recipient.id,
                          N_("New recipient: {name} ({role})."), material=True, article=NOTICE,
                          purposes=users, name=recipient.name,
                          role=Label(labels.ROLES[recipient.role]))
            continue
        if previous.role is not recipient.role:
            yield _change(Area.RECIPIENT, ChangeKind.CHANGED, recipient.id,
                          N_("{name} now acts as {new} instead of {old}."),
                          material=recipient.role is not RecipientRole.PROCESSOR,
                          article=NOTICE, purposes=users, name=recipient.name,
                          old=Label(labels.ROLES[previous.role]),
                          new=Label(labels.ROLES[recipient.role]))
        yield from _added_removed(
            Area.RECIPIENT, recipient.id, previous.categories, recipient.categories,
            lambda ids: Names(_category_names(new, old, ids)),
            (N_("{name} now also receives: {items}."), N_("{name} no longer receives: {items}.")),
            art("21(1)(c)"), users, name=recipient.name)
    current = {r.id for r in new.recipients}
    for recipient in old.recipients:
        if recipient.id not in current:
            yield _change(Area.RECIPIENT, ChangeKind.REMOVED, recipient.id,
                          N_("{name} no longer receives personal data."), material=False,
                          article=NOTICE, name=recipient.name)


def _transfers(old: Manifest, new: Manifest) -> Iterator[PolicyChange]:
    """Countries abroad per recipient, from its locations and its declared transfers."""
    for recipient_id in _ordered({*_abroad(old), *_abroad(new)}, new, old):
        was, now = _abroad(old).get(recipient_id, ()), _abroad(new).get(recipient_id, ())
        name = _recipient_names(new, old, [recipient_id])[0]
        users = tuple(p.id for p in new.purposes if recipient_id in p.recipients)
        added = tuple(code for code in now if code not in was)
        removed = tuple(code for code in was if code not in now)
        if added:
            yield _change(Area.TRANSFER, ChangeKind.ADDED, recipient_id,
                          N_("Personal data now goes abroad to {countries} through {name}."),
                          material=True, article=art("56(1)"), purposes=users, name=name,
                          countries=Countries(added))
        if removed:
            yield _change(Area.TRANSFER, ChangeKind.REMOVED, recipient_id,
                          N_("Personal data no longer goes to {countries} through {name}."),
                          material=False, article=art("56(1)"), name=name,
                          countries=Countries(removed))
    before = {t.recipient: t for t in old.transfers}
    for transfer in new.transfers:
        previous = before.get(transfer.recipient)
        if previous is None:
            continue
        name = _recipient_names(new, old, [transfer.recipient])[0]
        users = tuple(p.id for p in new.purposes if transfer.recipient in p.recipients)
        if previous.basis != transfer.basis:
            yield _change(Area.TRANSFER, ChangeKind.CHANGED, transfer.recipient,
                          N_("The basis for transfers to {name} changed from {old} to {new}."),
                          material=True, article=art("56"), purposes=users, name=name,
                          old=_transfer_basis(previous.basis), new=_transfer_basis(transfer.basis))
        dropped = tuple(s for s in previous.safeguards if s not in transfer.safeguards)
        if dropped:
            yield _change(Area.TRANSFER, ChangeKind.CHANGED, transfer.recipient,
                          N_("Safeguards dropped for transfers to {name}: {items}."),
                          material=True, article=art("56(3)"), purposes=users, name=name,
                          items=Names(tuple(_safeguard(s) for s in dropped)))


def _retention(old: Manifest, new: Manifest) -> Iterator[PolicyChange]:
    before = {r.id: r for r in old.retention}
    for rule in new.retention:
        users = _purposes_using(new, set(rule.categories))
        previous = before.get(rule.id)
        if previous is None:
            yield _change(Area.RETENTION, ChangeKind.ADDED, rule.id,
                          N_("New retention period for {name}: {new}."), material=False,
                          article=art("21(1)(d)"), purposes=users, name=rule.name,
                          new=rule.period)
            continue
        if previous.period != rule.period:
            longer = _longer(previous.period, rule.period)
            message = (
                N_("The retention period for {name} is now longer: {new} instead of {old}.")
                if longer
                else N_("The retention period for {name} is now {new} instead of {old}.")
            )
            yield _change(Area.RETENTION, ChangeKind.CHANGED, rule.id, message, material=longer,
                          article=art("21(1)(d)"), purposes=users, name=rule.name,
                          old=previous.period, new=rule.period)
    current = {r.id for r in new.retention}
    for rule in old.retention:
        if rule.id not in current:
            yield _change(Area.RETENTION, ChangeKind.REMOVED, rule.id,
                          N_("The retention period for {name} was removed."), material=False,
                          article=art("21(1)(d)"), name=rule.name)


def _rights(old: Manifest, new: Manifest) -> Iterator[PolicyChange]:
    for right in Right:
        fact = RIGHTS[right]
        if right in old.rights.offered and right not in new.rights.offered:
            yield _change(Area.RIGHTS, ChangeKind.REMOVED, right.value,
                          N_("{right} is no longer offered."), material=True,
                          article=fact.articles[0], right=Label(fact.label, "messages"))
            continue
        was, now = fulfilment_deadline(old, right), fulfilment_deadline(new, right)
        if now is None or (was is not None and _hours(was.duration, was.calendar)
                           >= _hours(now.duration, now.calendar)):
            continue
        yield _change(Area.RIGHTS, ChangeKind.CHANGED, right.value,
                      N_("{right}: requests now take up to {new} instead of {old}."),
                      material=True, article=fact.articles[0],
                      right=Label(fact.label, "messages"), new=(now.duration, now.calendar),
                      old=(was.duration, was.calendar) if was else Label(N_("no stated limit")))
    was_ack, now_ack = acknowledgement_deadline(old), acknowledgement_deadline(new)
    if (now_ack is None and was_ack is not None) or (
        was_ack and now_ack and _hours(now_ack.duration, now_ack.calendar)
        > _hours(was_ack.duration, was_ack.calendar)
    ):
        yield _change(Area.RIGHTS, ChangeKind.CHANGED, "acknowledgement",
                      N_("Requests are now acknowledged within {new} instead of {old}."),
                      material=True, article=art("14"),
                      old=(was_ack.duration, was_ack.calendar) if was_ack else "—",
                      new=(now_ack.duration, now_ack.calendar) if now_ack
                      else Label(N_("no stated limit")))
    if old.rights.objection_to_marketing and not new.rights.objection_to_marketing:
        yield _change(Area.RIGHTS, ChangeKind.CHANGED, "objection_to_marketing",
                      N_("People can no longer object to marketing at any time."),
                      material=True, article=art("21(1)(g)"))
    kinds = {ch.kind for ch in new.rights.channels}
    for channel in old.rights.channels:
        if channel.kind not in kinds:
            yield _change(Area.RIGHTS, ChangeKind.REMOVED, f"channel:{channel.kind.value}",
                          N_("Requests can no longer be sent by {channel}."), material=True,
                          article=art("14"), channel=Label(labels.CHANNELS[channel.kind]))


def _cookies(old: Manifest, new: Manifest) -> Iterator[PolicyChange]:
    old_categories = {c.category for c in old.cookies}
    seen: set[CookieCategory] = set()
    for cookie in new.cookies:
        choice = cookie_choice(new, cookie.category, cookie.purpose_ref)
        users = (cookie.purpose_ref,) if cookie.purpose_ref else ()
        category = Label(labels.COOKIE_CATEGORIES[cookie.category])
        if cookie.category not in old_categories and cookie.category not in seen:
            seen.add(cookie.category)
            yield _change(Area.COOKIE, ChangeKind.ADDED, cookie.category.value,
                          N_("New kind of cookie: {category}."), material=choice != "always",
                          article=art("20(2)(a)") if choice == "consent" else NOTICE,
                          purposes=users, category=category)
            continue
        previous = next((o for o in old.cookies if o.category is cookie.category
                         and o.provider == cookie.provider), None)
        key = f"{cookie.category.value}:{cookie.provider}"
        if previous is None and cookie.category in old_categories:
            yield _change(Area.COOKIE, ChangeKind.ADDED, key,
                          N_("{provider} now sets {category} cookies."),
                          material=choice != "always", article=NOTICE, purposes=users,
                          provider=cookie.provider, category=category)
        elif previous is not None and _cookie_hours(cookie.duration) > _cookie_hours(
            previous.duration
        ):
            yield _change(Area.COOKIE, ChangeKind.CHANGED, key,
                          N_("{category} cookies from {provider} now last {new} instead of "
                             "{old}."), material=True, article=art("21(1)(d)"), purposes=users,
                          provider=cookie.provider, category=category, old=previous.duration,
                          new=cookie.duration)
    current = {(c.category, c.provider) for c in new.cookies}
    for cookie in old.cookies:
        if (cookie.category, cookie.provider) not in current:
            key = f"{cookie.category.value}:{cookie.provider}"
            yield _change(Area.COOKIE, ChangeKind.REMOVED, key,
                          N_("{provider} no longer sets {category} cookies."), material=False,
                          article=NOTICE, provider=cookie.provider,
                          category=Label(labels.COOKIE_CATEGORIES[cookie.category]))


# --- helpers --------------------------------------------------------------------------------


def _change(area: Area, kind: ChangeKind, key: str, message: str, *, material: bool,
            article: Article, purposes: tuple[str, ...] = (), **values: Any) -> PolicyChange:
    return PolicyChange(area, kind, key, message, tuple(values.items()), material, article,
                        purposes)


def _added_removed(area: Area, key: str, was: list[str], now: list[str], names: Any,
                   messages: tuple[str, str], article: Article, purposes: tuple[str, ...],
                   **values: Any) -> Iterator[PolicyChange]:
    added = [i for i in now if i not in was]
    removed = [i for i in was if i not in now]
    if added:
        yield _change(area, ChangeKind.CHANGED, key, messages[0], material=True, article=article,
                      purposes=purposes, items=names(added), **values)
    if removed:
        yield _change(area, ChangeKind.CHANGED, key, messages[1], material=False,
                      article=article, purposes=purposes, items=names(removed), **values)


def _purposes_using(manifest: Manifest, categories: set[str]) -> tuple[str, ...]:
    return tuple(p.id for p in manifest.purposes if categories & set(p.categories))


def _category_names(new: Manifest, old: Manifest, ids: list[str]) -> tuple[Text | str, ...]:
    return tuple(c.name if (c := new.category(i) or old.category(i)) else i for i in ids)


def _recipient_names(new: Manifest, old: Manifest, ids: list[str]) -> tuple[Text | str, ...]:
    return tuple(r.name if (r := new.recipient(i) or old.recipient(i)) else i for i in ids)


def _ordered(ids: set[str], new: Manifest, old: Manifest) -> list[str]:
    order = [r.id for r in new.recipients] + [r.id for r in old.recipients]
    return sorted(ids, key=lambda i: (order.index(i) if i in order else len(order), i))


def _abroad(manifest: Manifest) -> dict[str, tuple[str, ...]]:
    countries: dict[str, list[str]] = {}
    for recipient in manifest.recipients:
        countries.setdefault(recipient.id, []).extend(recipient.countries)
    for transfer in manifest.transfers:
        countries.setdefault(transfer.recipient, []).extend(transfer.countries)
    return {
        rid: tuple(dict.fromkeys(c for c in codes if c != "ID"))
        for rid, codes in countries.items()
        if any(c != "ID" for c in codes)
    }


def _new_texts(before: list[Text], after: list[Text]) -> tuple[Text, ...]:
    known = {_normalised(t) for t in before}
    return tuple(t for t in after if _normalised(t) not in known)


def _normalised(text: Text) -> tuple[str, ...]:
    return tuple(" ".join((text.get(lang) or "").split()).casefold() for lang in ("id", "en", "fr"))


def _consent_text(purpose: Any) -> tuple[str, ...] | None:
    if purpose.legal_basis is not LegalBasis.CONSENT or purpose.consent is None:
        return None
    return _normalised(purpose.consent.text)


def _basis(basis: LegalBasis | None) -> Label | str:
    return Label(labels.BASES[basis]) if basis else "—"


def _transfer_basis(basis: TransferBasis | None) -> Label | str:
    return Label(TRANSFER_BASES[basis][1], "messages") if basis else "—"


def _safeguard(safeguard: Safeguard) -> Label:
    return Label(labels.SAFEGUARDS[safeguard])


def _hours(duration: Duration, calendar: Calendar) -> float:
    """Working days stretch over weekends: five of them take a week."""
    return duration.approx_hours * (7 / 5 if calendar is Calendar.WORKING_DAYS else 1)


def _cookie_hours(duration: Duration | CookieDuration) -> float:
    return 0.0 if isinstance(duration, CookieDuration) else duration.approx_hours


def _longer(before: RetentionPeriod, after: RetentionPeriod) -> bool:
    """Longer, or counted from another event (which cannot be shown to be shorter)."""
    if before.start is not after.start:
        return True
    if after.is_until_event != before.is_until_event:
        return not after.is_until_event
    return after.duration.approx_hours > before.duration.approx_hours
