"""Which archived articles to re-check when nothing says what changed.

A site without REST, without sitemap ``<lastmod>`` and without HTTP validators gives no sign
of an edit: the only way to see one is to fetch the page again. Fetching every page on every
run would cost hours per run on a large edition, so each article is re-checked on a schedule
that thins with its age (``ARCHIVE_REVISIT_SCHEDULE``), at most ``ARCHIVE_REVISIT_BUDGET`` per
run, the most overdue first; new articles are not part of the budget and come first. Since
each re-check moves that article's next due date, a backlog spreads itself over runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from archive.config import RevisitTiers


@dataclass(frozen=True)
class RevisitCandidate:
    """An archived article with no change signal: when it was last checked and published."""

    url: str
    checked_at: datetime
    published: date | None


@dataclass
class RevisitPlan:
    """The re-checks of one run, and the backlog the run report describes."""

    chosen: list[str] = field(default_factory=list)
    candidates: int = 0
    due: int = 0
    budget: int = 0
    oldest_waiting_due: datetime | None = None
    next_due: datetime | None = None

    @property
    def waiting(self) -> int:
        """Due articles left for later runs."""
        return self.due - len(self.chosen)

    def to_json(self) -> dict[str, Any]:
        """Return the plan as the run report shows it."""
        runs = math.ceil(self.waiting / self.budget) if self.budget else None
        return {
            "articles_without_change_signal": self.candidates,
            "due": self.due,
            "revisited": len(self.chosen),
            "budget": self.budget,
            "waiting": self.waiting,
            "oldest_waiting_due_since": _iso(self.oldest_waiting_due),
            "all_due_reached_in_runs": runs if self.waiting else 0,
            "next_due_at": _iso(self.next_due),
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def revisit_interval(published: date | None, now: datetime, tiers: RevisitTiers) -> timedelta:
    """Return how often an article published on PUBLISHED is re-checked at NOW."""
    if published is None:
        return timedelta(days=tiers[-1][1])
    age_days = (now.date() - published).days
    for max_age, every in tiers:
        if max_age is None or age_days <= max_age:
            return timedelta(days=every)
    return timedelta(days=tiers[-1][1])


def due_at(candidate: RevisitCandidate, now: datetime, tiers: RevisitTiers) -> datetime:
    """Return when CANDIDATE is next due for a re-check."""
    return candidate.checked_at + revisit_interval(candidate.published, now, tiers)


def plan_revisits(candidates: Iterable[RevisitCandidate], now: datetime, tiers: RevisitTiers,
                  budget: int) -> RevisitPlan:
    """Choose up to BUDGET due candidates, the most overdue first (ties by URL)."""
    plan = RevisitPlan(budget=budget)
    due: list[tuple[datetime, str]] = []
    for candidate in candidates:
        plan.candidates += 1
        when = due_at(candidate, now, tiers)
        if when <= now:
            due.append((when, candidate.url))
        elif plan.next_due is None or when < plan.next_due:
            plan.next_due = when
    due.sort()
    plan.due = len(due)
    plan.chosen = [url for _, url in due[:budget]]
    if len(due) > budget:
        plan.oldest_waiting_due = due[budget][0]
    return plan
