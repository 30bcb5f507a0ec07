"""`jagadata init`: answer a few questions (or pass flags) and get a commented starter manifest."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from email_validator import EmailNotValidError, validate_email

from jagadata.cli.common import (
    EXIT_INVALID,
    LangOption,
    _t,
    cli_language,
    console,
    err_console,
    fail,
)
from jagadata.i18n import N_
from jagadata.manifest.errors import ManifestInvalid
from jagadata.manifest.loader import load_manifest_text
from jagadata.manifest.starter import (
    CATEGORY_CHOICES,
    DEFAULT_CATEGORIES,
    LEGAL_FORMS,
    Provider,
    StarterAnswers,
    render_starter,
)


def init_command(
    output: Path = typer.Option(
        Path("privacy-manifest.yaml"), "-o", "--output", help="Where to write the manifest."
    ),
    name: str | None = typer.Option(None, help="Business or organisation name."),
    legal_form: str | None = typer.Option(None, help="umkm, perorangan, cv, pt, koperasi..."),
    address: str | None = typer.Option(None, help="Full business address."),
    email: str | None = typer.Option(None, help="Contact email for privacy questions."),
    whatsapp: str | None = typer.Option(None, help="WhatsApp number, e.g. +62 812 3456 7890."),
    website: str | None = typer.Option(None, help="Website address."),
    city: str | None = typer.Option(None, help="City or regency of the district court."),
    collect: str | None = typer.Option(
        None, help="Data you collect, comma-separated: " + ", ".join(CATEGORY_CHOICES)
    ),
    hosting: str | None = typer.Option(
        None, help="Website host and its country, e.g. Hostinger:SG."
    ),
    email_provider: str | None = typer.Option(None, help="Email provider, e.g. Google:US."),
    marketing: bool | None = typer.Option(
        None, "--marketing/--no-marketing", help="You send promotions (with consent)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Ask nothing; use flags and defaults."),
    interactive: bool | None = typer.Option(
        None,
        "--interactive/--no-interactive",
        help="Ask questions even when input is not a terminal (answers piped in).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    lang: str | None = LangOption,
) -> None:
    """Write a commented starter manifest from a few answers (interactive, or flags for scripts)."""
    language = cli_language(lang)
    if output.exists() and not force:
        fail(
            _t(language, "{path} already exists.").format(path=output),
            hint=_t(language, "Choose another file with -o, or overwrite it with --force."),
        )
    if interactive is None:
        interactive = not yes and sys.stdin.isatty()

    def ask(
        value: str | None, question: str, *, default: str | None = None, required: bool = True
    ) -> str | None:
        if value is not None:
            return value
        if interactive:
            answer = typer.prompt(
                _t(language, question), default=default or "", show_default=bool(default)
            )
            return answer.strip() or None
        if required and default is None:
            fail(
                _t(language, "Missing answer: {question}").format(question=_t(language, question)),
                hint=_t(
                    language,
                    "Run in a terminal to be asked, or pass the flags shown by "
                    "`jagadata init --help`.",
                ),
            )
        return default

    if interactive:
        console.print(
            _t(
                language,
                "A few questions to write your privacy manifest. "
                "Press Enter to accept the value in brackets.",
            )
        )
    answers = StarterAnswers(
        name=ask(name, N_("Business name")) or "",
        legal_form=_choice(
            ask(
                legal_form,
                N_("Legal form (umkm, perorangan, cv, pt, koperasi, yayasan)"),
                default="umkm",
            ),
            language,
        ),
        address=ask(address, N_("Business address")) or "",
        email=_email(ask(email, N_("Email for privacy questions")) or "", language),
        whatsapp=ask(whatsapp, N_("WhatsApp number (leave empty if none)"), required=False),
        website=ask(website, N_("Website (leave empty if none)"), required=False),
        city=ask(city, N_("City or regency for the district court (e.g. Sleman)"), required=False),
        categories=_categories(
            ask(
                collect,
                N_(
                    "Data you collect (identity, contact, orders, communications, technical, usage)"
                ),
                default=",".join(DEFAULT_CATEGORIES),
            ),
            language,
        ),
        hosting=_provider(
            ask(
                hosting,
                N_("Who hosts your website, and in which country (e.g. Hostinger:SG)"),
                required=False,
            ),
            language,
        ),
        email_provider=_provider(
            ask(email_provider, N_("Who provides your email (e.g. Google:US)"), required=False),
            language,
        ),
        marketing=_yes_no(marketing, interactive, language),
    )
    text = render_starter(answers, lang=language)
    try:
        load_manifest_text(text, file=str(output), lang=language)
    except ManifestInvalid as invalid:  # an answer the schema refuses, e.g. a malformed email
        for error in invalid.errors:
            err_console.print(f"{error.field_path}: {error.message}")
        raise typer.Exit(EXIT_INVALID) from None
    output.write_text(text, encoding="utf-8")
    console.print(
        _t(
            language,
            "Wrote {path}. Next: review the lines marked REVIEW, then run `jagadata check {path}`.",
        ).format(path=output)
    )


def _choice(value: str | None, lang: str) -> str:
    form = (value or "umkm").strip().lower()
    if form not in LEGAL_FORMS:
        fail(
            _t(lang, "Unknown legal form '{value}'.").format(value=form),
            hint=_t(lang, "Use one of: {forms}").format(forms=", ".join(LEGAL_FORMS)),
        )
    return form


def _email(value: str, lang: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        fail(
            _t(lang, "'{value}' is not an email address.").format(value=value),
            hint=_t(lang, "Write it like privasi@example.co.id."),
        )


def _categories(value: str | None, lang: str) -> list[str]:
    chosen = [part.strip() for part in (value or "").split(",") if part.strip()]
    unknown = [c for c in chosen if c not in CATEGORY_CHOICES]
    if unknown or not chosen:
        fail(
            _t(lang, "Unknown kind of data: {names}").format(names=", ".join(unknown) or "—"),
            hint=_t(lang, "Choose from: {choices}").format(choices=", ".join(CATEGORY_CHOICES)),
        )
    return chosen


def _provider(value: str | None, lang: str) -> Provider | None:
    if not value:
        return None
    try:
        return Provider.parse(value)
    except ValueError:
        fail(
            _t(lang, "'{value}' is not a provider and country.").format(value=value),
            hint=_t(lang, "Write the name and a two-letter country code: Hostinger:SG, Google:US."),
        )


def _yes_no(value: bool | None, interactive: bool, lang: str) -> bool:
    if value is not None:
        return value
    if interactive:
        return typer.confirm(_t(lang, "Do you send promotions by email or WhatsApp?"), default=True)
    return True
