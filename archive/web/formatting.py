"""French formatting of dates, numbers and text for the templates (registered as Jinja filters)."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from archive.editions import edition_label, edition_name
from archive.french import MONTHS, agree, day, moment, number, withdrawal_reason

SHORT_MONTHS = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)


def date_fr(value: date | datetime | None) -> str:
    """Return a date as French readers write it: « 3 mars 2024 » (« 1er » for the first)."""
    return "date inconnue" if value is None else day(value)


def datetime_fr(value: datetime | None) -> str:
    """Return a moment in French with its UTC time: « 3 mars 2024 à 14 h 05 UTC »."""
    return "date inconnue" if value is None else moment(value)


def month_fr(year: int, month: int) -> str:
    """Return « mars 2024 »."""
    return f"{MONTHS[month - 1]} {year}"


def number_fr(value: int | float | None) -> str:
    """Return a count with French thousands separators (narrow no-break spaces)."""
    return "0" if value is None else number(int(value))


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return « 1 article » / « 2 articles » (French: 0 and 1 take the singular)."""
    return f"{number_fr(count)} {agree(count, singular, plural_form)}"


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
    app.add_template_filter(withdrawal_reason, "withdrawal_fr")
    app.add_template_global(plural)
    app.add_template_global(month_fr)
