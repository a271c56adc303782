"""French formatting of dates, numbers and text for the templates (registered as Jinja filters)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask

from archive.editions import edition_label, edition_name

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
SHORT_MONTHS = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)


def date_fr(value: date | datetime | None) -> str:
    """Return a date as French readers write it: « 3 mars 2024 » (« 1er » for the first)."""
    if value is None:
        return "date inconnue"
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo else value.date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def datetime_fr(value: datetime | None) -> str:
    """Return a moment in French with its UTC time: « 3 mars 2024 à 14 h 05 UTC »."""
    if value is None:
        return "date inconnue"
    moment = value.astimezone(UTC) if value.tzinfo else value
    return f"{date_fr(moment.date())} à {moment.hour} h {moment.minute:02d} UTC"


def month_fr(year: int, month: int) -> str:
    """Return « mars 2024 »."""
    return f"{MONTHS[month - 1]} {year}"


def number_fr(value: int | float | None) -> str:
    """Return a count with French thousands separators (narrow no-break spaces)."""
    if value is None:
        return "0"
    return f"{int(value):,}".replace(",", "\u202f")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return « 1 article » / « 2 articles » (French: 0 and 1 take the singular)."""
    word = singular if count < 2 else (plural_form or singular + "s")
    return f"{number_fr(count)} {word}"


def iso(value: date | datetime | None) -> str:
    """Return an ISO-8601 string for a machine-readable attribute, or an empty string."""
    return value.isoformat() if value is not None else ""


def paragraphs(text: str | None) -> list[str]:
    """Split an article body into its paragraphs (separated by a blank line)."""
    return [part.strip() for part in (text or "").split("\n\n") if part.strip()]


def init_app(app: Flask) -> None:
    """Register the formatting filters on APP's Jinja environment."""
    app.add_template_filter(date_fr)
    app.add_template_filter(datetime_fr)
    app.add_template_filter(number_fr)
    app.add_template_filter(iso)
    app.add_template_filter(paragraphs)
    app.add_template_filter(edition_name)
    app.add_template_filter(edition_label)
    app.add_template_global(plural)
    app.add_template_global(month_fr)
