"""Durations and retention periods in words, per language: '3 × 24 jam', '5 years', '24 mois'."""

from __future__ import annotations

from typing import Final

from jagadata.i18n import N_, Np_, gettext, ngettext
from jagadata.manifest.schema import Calendar
from jagadata.manifest.types import CookieDuration, Duration, RetentionPeriod, RetentionStart

_UNITS: Final = {
    "h": Np_("{n} hour", "{n} hours"),
    "d": Np_("{n} day", "{n} days"),
    "w": Np_("{n} week", "{n} weeks"),
    "m": Np_("{n} month", "{n} months"),
    "y": Np_("{n} year", "{n} years"),
}
_WORKING_DAYS: Final = Np_("{n} working day", "{n} working days")

_AFTER: Final = {
    RetentionStart.COLLECTED: N_("{duration} from collection"),
    RetentionStart.ACCOUNT_CLOSED: N_(
        "while the account is active, then {duration} after it is closed"
    ),
    RetentionStart.TRANSACTION: N_("{duration} from the date of the transaction"),
    RetentionStart.LAST_ACTIVITY: N_("{duration} after your last activity"),
    RetentionStart.CONSENT_WITHDRAWN: N_("{duration} after you withdraw your consent"),
    RetentionStart.CONTRACT_END: N_("{duration} after the contract ends"),
    RetentionStart.PURPOSE_ACHIEVED: N_("{duration} after the purpose is achieved"),
}
_UNTIL: Final = {
    RetentionStart.COLLECTED: N_("only as long as needed when collected"),
    RetentionStart.ACCOUNT_CLOSED: N_("until the account is closed"),
    RetentionStart.TRANSACTION: N_("until the transaction is completed"),
    RetentionStart.LAST_ACTIVITY: N_("until your last activity"),
    RetentionStart.CONSENT_WITHDRAWN: N_("until you withdraw your consent"),
    RetentionStart.CONTRACT_END: N_("until the contract ends"),
    RetentionStart.PURPOSE_ACHIEVED: N_("until the purpose is achieved"),
}


def describe_duration(
    duration: Duration | CookieDuration, lang: str, *, calendar: Calendar = Calendar.CLOCK
) -> str:
    """'72 hours' is written '3 × 24 jam' in Indonesian, as the law writes it."""
    if isinstance(duration, CookieDuration):
        return gettext(lang, N_("for the browsing session"))
    if calendar is Calendar.WORKING_DAYS and duration.unit in ("d", "w"):
        days = duration.amount * (5 if duration.unit == "w" else 1)
        return ngettext(lang, *_WORKING_DAYS, days).format(n=days)
    if lang == "id" and duration.unit == "h" and duration.amount % 24 == 0 and duration.amount:
        text = f"{duration.amount // 24} × 24 jam"
    else:
        singular, plural = _UNITS[duration.unit]
        text = ngettext(lang, singular, plural, duration.amount).format(n=duration.amount)
    if calendar is Calendar.WORKING_DAYS and duration.unit == "h":
        text += " " + gettext(lang, N_("(working hours)"))
    return text


def describe_retention(period: RetentionPeriod, lang: str) -> str:
    if period.is_until_event:
        return gettext(lang, _UNTIL[period.start])
    return gettext(lang, _AFTER[period.start]).format(
        duration=describe_duration(period.duration, lang)
    )
