"""The revisit schedule for sites that give no change signal: thinning with age, a budget."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from archive.config import load_settings
from archive.crawler.revisits import RevisitCandidate, plan_revisits, revisit_interval
from archive.errors import InvalidInput

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TIERS = load_settings(environ={}).revisit_schedule


def test_default_schedule_is_daily_then_weekly_then_monthly() -> None:
    assert TIERS == ((7, 1), (60, 7), (None, 30))
    assert revisit_interval(date(2026, 2, 27), NOW, TIERS) == timedelta(days=1)
    assert revisit_interval(date(2026, 1, 15), NOW, TIERS) == timedelta(days=7)
    assert revisit_interval(date(2019, 1, 1), NOW, TIERS) == timedelta(days=30)
    assert revisit_interval(None, NOW, TIERS) == timedelta(days=30)


@pytest.mark.parametrize("text", ["", "7:0,30", "60:7,7:1,30", "x", "7:1,0"])
def test_unusable_schedule_is_refused_with_the_setting_named(text: str) -> None:
    with pytest.raises(InvalidInput, match="ARCHIVE_REVISIT_SCHEDULE"):
        load_settings(environ={"ARCHIVE_REVISIT_SCHEDULE": text})


def test_only_due_articles_are_chosen_the_most_overdue_first_within_the_budget() -> None:
    old = [RevisitCandidate(f"https://x.org/2019/01/{day:02d}/a/", NOW - timedelta(days=day + 30),
                            date(2019, 1, day)) for day in range(1, 11)]
    fresh = RevisitCandidate("https://x.org/2026/02/28/b/", NOW - timedelta(hours=2),
                             date(2026, 2, 28))
    plan = plan_revisits([*old, fresh], NOW, TIERS, budget=4)
    assert plan.chosen == [c.url for c in reversed(old)][:4]
    assert (plan.candidates, plan.due, plan.waiting) == (11, 10, 6)
    report = plan.to_json()
    assert report["all_due_reached_in_runs"] == 2
    assert report["oldest_waiting_due_since"] == (NOW - timedelta(days=6)).isoformat()
    assert report["next_due_at"] == (NOW + timedelta(hours=22)).isoformat()


def test_revisits_spread_over_runs_as_each_check_moves_the_next_due_date() -> None:
    checked = {f"https://x.org/2019/01/{day:02d}/a/": NOW - timedelta(days=40)
               for day in range(1, 10)}
    seen: list[list[str]] = []
    for run in range(3):
        now = NOW + timedelta(hours=run)
        candidates = [RevisitCandidate(url, at, date(2019, 1, 1)) for url, at in checked.items()]
        plan = plan_revisits(candidates, now, TIERS, budget=3)
        seen.append(plan.chosen)
        checked.update(dict.fromkeys(plan.chosen, now))
    assert sorted(url for chosen in seen for url in chosen) == sorted(checked)
    assert plan_revisits([RevisitCandidate(u, a, date(2019, 1, 1)) for u, a in checked.items()],
                         NOW + timedelta(hours=4), TIERS, budget=3).chosen == []
