"""Extraction accuracy over the hand-written gold set (tests/gold/): fails when a field drops.

Each field's accuracy is the share of gold pages where the parser gets it right; the test
prints every miss, so a regression shows which page and which rule broke.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from archive.errors import NotAnArticle
from archive.models import Article
from archive.parser import parse_page

GOLD = Path(__file__).parent / "gold"
EXPECTED: dict[str, dict[str, Any]] = json.loads((GOLD / "expected.json").read_text("utf-8"))

# Set at what the parser reaches; platform-convention fields must stay perfect.
THRESHOLDS = {
    "kind": 1.0,
    "title": 1.0,
    "author": 1.0,
    "published": 1.0,
    "edition": 1.0,
    "modified": 1.0,
    "categories": 1.0,
    "body_has": 1.0,
    "body_lacks": 1.0,
}


def _checks(expected: dict[str, Any], article: Article) -> dict[str, tuple[bool, str]]:
    """Return, per field, whether ARTICLE matches EXPECTED and what it found instead."""
    found: dict[str, tuple[bool, str]] = {
        "title": (article.title == expected["title"], repr(article.title)),
        "author": (article.author == expected["author"], repr(article.author)),
        "published": (
            article.published is not None
            and article.published.isoformat() == expected["published"],
            repr(article.published),
        ),
        "edition": (article.edition == expected["edition"], repr(article.edition)),
    }
    if "modified" in expected:
        moment = article.modified.isoformat() if article.modified else None
        found["modified"] = (moment == expected["modified"], repr(moment))
    if "categories" in expected:
        found["categories"] = (
            list(article.categories) == expected["categories"], repr(article.categories)
        )
    missing = [phrase for phrase in expected["body_has"] if phrase not in article.body]
    found["body_has"] = (not missing, f"missing {missing}")
    leaked = [phrase for phrase in expected["body_lacks"] if phrase in article.body]
    found["body_lacks"] = (not leaked, f"leaked {leaked}")
    return found


def _score() -> tuple[dict[str, list[bool]], list[str]]:
    results: dict[str, list[bool]] = defaultdict(list)
    misses: list[str] = []
    for name, expected in sorted(EXPECTED.items()):
        body = (GOLD / name).read_bytes()
        try:
            article = parse_page(body, expected["url"], expected.get("content_type"))
        except NotAnArticle as exc:
            results["kind"].append(bool(expected.get("not_article")))
            if not expected.get("not_article"):
                misses.append(f"{name}: kind: rejected ({exc})")
            continue
        results["kind"].append(not expected.get("not_article"))
        if expected.get("not_article"):
            misses.append(f"{name}: kind: parsed as an article titled {article.title!r}")
            continue
        for field, (ok, detail) in _checks(expected, article).items():
            results[field].append(ok)
            if not ok:
                misses.append(f"{name}: {field}: {detail}")
    return results, misses


def test_gold_set_is_large_and_varied_enough() -> None:
    articles = [name for name, spec in EXPECTED.items() if not spec.get("not_article")]
    assert len(articles) >= 20
    assert len(EXPECTED) - len(articles) >= 4
    assert sorted(EXPECTED) == sorted(path.name for path in GOLD.glob("*.html"))


def test_field_accuracy_stays_above_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    results, misses = _score()
    accuracy = {field: sum(oks) / len(oks) for field, oks in results.items()}
    report = "\n".join(
        [f"{field:12} {value:6.1%} ({len(results[field])} pages)"
         for field, value in sorted(accuracy.items())] + misses
    )
    with capsys.disabled():
        print("\n" + report)
    below = {
        field: value for field, value in accuracy.items() if value < THRESHOLDS[field]
    }
    assert not below, f"accuracy below threshold {below}\n{report}"
