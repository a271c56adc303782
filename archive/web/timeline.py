"""The timeline of matches: counts per year or per month laid out as bars of an inline SVG.

The geometry is computed here so the template only writes attributes (no inline style, which the
Content-Security-Policy forbids); each bar is a link that narrows the search to its period.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from archive.web.formatting import SHORT_MONTHS, month_fr, plural

WIDTH = 720
CHART_HEIGHT = 110
LABEL_SPACE = 22
MONTHS_UP_TO = 36
MAX_BARS = 240
LABEL_CHAR_WIDTH = 6.6   # px per character of an 11 px label, a little generous
LABEL_GAP = 3.0


@dataclass(frozen=True)
class Period:
    """A span of days with the number of matching articles in it."""

    start: date
    end: date
    count: int
    name: str
    label: str


@dataclass(frozen=True)
class Bar:
    """One period drawn: its rectangle, its link and its accessible description."""

    period: Period
    href: str
    x: float
    y: float
    width: float
    height: float
    show_label: bool
    label_anchor: str = "middle"   # "start" for the first bar, so its label stays inside

    @property
    def title(self) -> str:
        """Return the bar's tooltip and accessible name."""
        return f"{self.period.name} : {plural(self.period.count, 'article')}"

    @property
    def label_x(self) -> float:
        """Return the x where the bar's label sits: its centre, or its left edge."""
        return self.x if self.label_anchor == "start" else self.x + self.width / 2


@dataclass(frozen=True)
class Timeline:
    """Bars ready to draw, with the SVG's size and what one bar stands for."""

    bars: list[Bar]
    width: int
    height: int
    chart_height: int
    unit: str
    total: int

    @property
    def label_y(self) -> int:
        """Return the baseline of the labels under the bars."""
        return self.chart_height + 15


def year_periods(years: Sequence[tuple[int, int]]) -> list[Period]:
    """Return one period per year from the first to the last, empty years included."""
    counts = dict(years)
    if not counts:
        return []
    return [
        Period(date(y, 1, 1), date(y, 12, 31), counts.get(y, 0), str(y), str(y))
        for y in range(min(counts), max(counts) + 1)
    ]


def month_periods(months: Sequence[tuple[int, int, int]]) -> list[Period]:
    """Return one period per month from the first to the last, empty months included."""
    counts = {(y, m): c for y, m, c in months}
    if not counts:
        return []
    (year, month), last = min(counts), max(counts)
    periods: list[Period] = []
    while (year, month) <= last and len(periods) < MAX_BARS:
        end = date(year, month, calendar.monthrange(year, month)[1])
        label = SHORT_MONTHS[month - 1] if month != 1 else str(year)
        if not periods and month != 1:
            label = f"{SHORT_MONTHS[month - 1]} {year}"  # the first month says its year
        periods.append(
            Period(date(year, month, 1), end, counts.get((year, month), 0),
                   month_fr(year, month), label)
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def choose_periods(
    years: Sequence[tuple[int, int]], months: Sequence[tuple[int, int, int]]
) -> tuple[list[Period], str]:
    """Return monthly periods when the matches span a few years at most, else yearly ones."""
    if months:
        first, last = min(months)[:2], max(months)[:2]
        span = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
        if span <= MONTHS_UP_TO:
            return month_periods(months), "mois"
    if not years and months:
        totals: dict[int, int] = {}
        for y, _, c in months:
            totals[y] = totals.get(y, 0) + c
        years = sorted(totals.items())
    return year_periods(years)[-MAX_BARS:], "année"


def _labels_shown(periods: Sequence[Period], unit: str, slot: float, every: int) -> set[int]:
    """Return the bars whose label is drawn: years first (each January of a monthly timeline),
    then the first bar, then every EVERY-th; a label that would touch one already placed is
    left out, so « déc. » never runs into « 2020 »."""
    wanted: list[int] = []
    if unit == "mois":
        wanted += [i for i, p in enumerate(periods) if p.start.month == 1]
    wanted.append(0)
    wanted += [i for i in range(0, len(periods), every)]
    placed: list[tuple[float, float]] = []
    shown: set[int] = set()
    for i in wanted:
        if i in shown:
            continue
        width = len(periods[i].label) * LABEL_CHAR_WIDTH
        if i == 0:
            left, right = 0.0, width + LABEL_GAP
        else:
            centre = (i + 0.5) * slot
            left, right = centre - width / 2 - LABEL_GAP, centre + width / 2 + LABEL_GAP
        if any(left < b and a < right for a, b in placed):
            continue
        placed.append((left, right))
        shown.add(i)
    return shown


def build_timeline(
    periods: Sequence[Period], unit: str, link: Callable[[Period], str]
) -> Timeline | None:
    """Lay PERIODS out as bars whose heights are proportional to their counts."""
    if not periods or not any(p.count for p in periods):
        return None
    peak = max(p.count for p in periods)
    slot = WIDTH / len(periods)
    gap = min(4.0, slot * 0.2)
    every = max(1, round(len(periods) / 12 + 0.49))
    shown = _labels_shown(periods, unit, slot, every)
    bars = []
    for i, period in enumerate(periods):
        height = 0.0 if not period.count else max(2.0, CHART_HEIGHT * period.count / peak)
        bars.append(Bar(
            period=period,
            href=link(period),
            x=round(i * slot + gap / 2, 2),
            y=round(CHART_HEIGHT - height, 2),
            width=round(slot - gap, 2),
            height=round(height, 2),
            show_label=i in shown,
            label_anchor="start" if i == 0 else "middle",
        ))
    return Timeline(
        bars=bars,
        width=WIDTH,
        height=CHART_HEIGHT + LABEL_SPACE,
        chart_height=CHART_HEIGHT,
        unit=unit,
        total=sum(p.count for p in periods),
    )
