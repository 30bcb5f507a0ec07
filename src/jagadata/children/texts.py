"""What a guardian receives: the code (and its link) and then the child's receipts, in the
language the flow was in, through the `children` catalogue."""

from __future__ import annotations

from jagadata.i18n import gettext


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "children")


def code_email(lang: str, organisation: str, code: str, link: str, minutes: int) -> tuple[str, str]:
    """The subject and text of the email that carries a guardian's code."""
    subject = _t(lang, "Your verification code for {organisation}: {code}").format(
        organisation=organisation, code=code
    )
    text = "\n\n".join(
        [
            _t(
                lang,
                "A child asked {organisation} to let you decide, as their parent or guardian, "
                "whether their personal data may be processed (Art. 25 UU PDP).",
            ).format(organisation=organisation),
            _t(lang, "Your code: {code}").format(code=code),
            _t(lang, "Enter it on the page the child has open, or open this link:") + f"\n{link}",
            _t(
                lang,
                "The code is valid for {minutes} minutes and can be used once. If you do not "
                "know this child, ignore this message: nothing will be recorded.",
            ).format(minutes=minutes),
        ]
    )
    return subject, text + "\n"


def code_whatsapp(lang: str, organisation: str, code: str, link: str, minutes: int) -> str:
    """The WhatsApp message that carries a guardian's code."""
    return _t(
        lang,
        "{organisation}: your code as parent or guardian is {code} (valid {minutes} minutes, "
        "once). Open {link} to decide for the child (Art. 25 UU PDP). Not your child? Ignore "
        "this message.",
    ).format(organisation=organisation, code=code, minutes=minutes, link=link)


def receipt_message(lang: str, organisation: str, links: list[str]) -> tuple[str, str]:
    """The subject and text that send the child's consent receipts to the guardian."""
    subject = _t(lang, "Receipt of your consent for your child — {organisation}").format(
        organisation=organisation
    )
    text = "\n\n".join(
        [
            _t(
                lang,
                "You gave consent on behalf of your child to {organisation}. Keep this receipt; "
                "you can withdraw your consent at any time.",
            ).format(organisation=organisation),
            "\n".join(links),
        ]
    )
    return subject, text + "\n"
