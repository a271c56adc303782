"""Articles in the archive: versions, withdrawals, authors, and the change cursor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from archive.errors import StoreError
from archive.models import Article
from archive.store import COMPLETE, Archive

DAY1 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)
SITE = "https://sn.notrecontinent.com"


def _article(slug: str = "eau", *, body: str | None = "Premier paragraphe.\n\nSecond.",
             author: str | None = "Aïssatou N'Diaye", published: date = date(2024, 2, 1),
             **changes: object) -> Article:
    url = f"{SITE}/{published:%Y/%m/%d}/{slug}/"
    article = Article(url=url, title=f"Titre {slug}", body=body, author=author,  # type: ignore[arg-type]
                      published=published, categories=("Société",), canonical_url=url)
    return replace(article, **changes)  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive.open(tmp_path / "archive.sqlite3") as opened:
        yield opened


def test_first_save_creates_article_with_one_version(archive: Archive) -> None:
    result = archive.articles.save_article(_article(), capture_id=None, seen_at=DAY1)
    assert (result.outcome, result.version) == ("new", 1)
    stored = archive.reads.get_article(result.article_id)
    assert stored is not None
    assert (stored.title, stored.body, stored.status) == (
        "Titre eau", "Premier paragraphe.\n\nSecond.", "published")
    assert stored.first_seen == stored.last_seen == DAY1
    assert stored.categories == ("Société",)


def test_edit_adds_a_version_and_keeps_the_old_text(archive: Archive) -> None:
    first = archive.articles.save_article(_article(), capture_id=None, seen_at=DAY1)
    edited = archive.articles.save_article(_article(body="Texte corrigé."), capture_id=None,
                                           seen_at=DAY2)
    assert (edited.article_id, edited.outcome, edited.version) == (first.article_id, "changed", 2)
    assert edited.change_seq > first.change_seq
    versions = archive.articles.versions(first.article_id)
    assert [(v.number, v.body, v.first_seen) for v in versions] == [
        (1, "Premier paragraphe.\n\nSecond.", DAY1), (2, "Texte corrigé.", DAY2)]
    assert versions[0].content_hash != versions[1].content_hash
    stored = archive.reads.get_article(first.article_id)
    assert stored is not None and (stored.body, stored.version_count) == ("Texte corrigé.", 2)
    assert archive.reads.version_counts([first.article_id, 999, first.article_id]) == {
        first.article_id: 2}


def test_unchanged_save_adds_no_version_and_moves_last_seen(archive: Archive) -> None:
    first = archive.articles.save_article(_article(), capture_id=None, seen_at=DAY1)
    again = archive.articles.save_article(_article(), capture_id=None, seen_at=DAY3)
    assert (again.outcome, again.change_seq) == ("unchanged", first.change_seq)
    stored = archive.reads.get_article(first.article_id)
    assert stored is not None and (stored.first_seen, stored.last_seen) == (DAY1, DAY3)
    assert [(v.first_seen, v.last_seen) for v in archive.articles.versions(first.article_id)] == [
        (DAY1, DAY3)]


def test_categories_reordered_is_not_an_edit(archive: Archive) -> None:
    archive.articles.save_article(_article(categories=("A", "B")), capture_id=None, seen_at=DAY1)
    again = archive.articles.save_article(_article(categories=("B", "A")), capture_id=None,
                                          seen_at=DAY2)
    assert again.outcome == "unchanged"


def test_article_is_found_by_fetched_url_and_canonical_url(archive: Archive) -> None:
    local = "http://127.0.0.1:8001/2024/02/01/eau/"
    result = archive.articles.save_article(_article(url=local), capture_id=None, seen_at=DAY1)
    by_local = archive.reads.get_article_by_url(local)
    by_canonical = archive.reads.get_article_by_url(f"{SITE}/2024/02/01/eau/")
    assert by_local is not None and by_canonical is not None
    assert by_local.id == by_canonical.id == result.article_id
    assert by_local.url == f"{SITE}/2024/02/01/eau/"
    assert by_local.fetched_url == local


@pytest.mark.parametrize("reason", ["404", "410"])
def test_gone_article_is_withdrawn_with_date_never_deleted(archive: Archive, reason: str) -> None:
    saved = archive.articles.save_article(_article(), capture_id=None, seen_at=DAY1)
    article_id = archive.articles.mark_withdrawn(_article().url, when=DAY2, reason=reason)
    assert article_id == saved.article_id
    stored = archive.reads.get_article(saved.article_id)
    assert stored is not None
    assert (stored.status, stored.withdrawn_at, stored.withdrawn_reason) == (
        "withdrawn", DAY2, reason)
    assert stored.body == "Premier paragraphe.\n\nSecond."
    assert stored.change_seq > saved.change_seq
    assert [a.id for a in archive.reads.changes_since(saved.change_seq)] == [saved.article_id]
    assert archive.articles.mark_withdrawn(f"{SITE}/never/seen/", when=DAY2, reason="404") is None


def test_withdrawn_article_that_comes_back_is_published_again_with_history(
        archive: Archive) -> None:
    saved = archive.articles.save_article(_article(), capture_id=None, seen_at=DAY1)
    archive.articles.mark_withdrawn(_article().url, when=DAY2, reason="410")
    back = archive.articles.save_article(_article(), capture_id=None, seen_at=DAY3)
    assert (back.outcome, back.republished) == ("unchanged", True)
    stored = archive.reads.get_article(saved.article_id)
    assert stored is not None and (stored.status, stored.withdrawn_at) == ("published", None)
    assert [(e.kind, e.at) for e in archive.articles.history(saved.article_id)] == [
        ("archived", DAY1), ("withdrawn", DAY2), ("republished", DAY3)]


def test_capture_older_than_the_withdrawal_does_not_republish(archive: Archive) -> None:
    archive.articles.save_article(_article(), capture_id=None, seen_at=DAY2)
    archive.articles.mark_withdrawn(_article().url, when=DAY3, reason="404")
    result = archive.articles.save_article(_article(), capture_id=None, seen_at=DAY1)
    assert not result.republished
    stored = archive.reads.get_article(result.article_id)
    assert stored is not None and stored.status == "withdrawn"


def _complete_run(archive: Archive, listed: list[str]) -> int:
    run_id = archive.crawl_state.start_run([SITE])
    archive.crawl_state.mark_listed(run_id, listed)
    return run_id


def test_article_missing_from_listings_is_withdrawn_after_n_complete_runs(
        archive: Archive) -> None:
    kept = _article("garde")
    dropped = _article("retire")
    for article in (kept, dropped):
        archive.articles.save_article(article, capture_id=None, seen_at=DAY1)
    when = datetime.now(UTC)
    first = _complete_run(archive, [kept.url, dropped.url])
    assert archive.articles.withdraw_unlisted(first, after_runs=2, when=when) == []
    archive.crawl_state.finish_run(first, status=COMPLETE, counts={}, errors=[])
    second = _complete_run(archive, [kept.url])
    assert archive.articles.withdraw_unlisted(second, after_runs=2, when=when) == []
    archive.crawl_state.finish_run(second, status=COMPLETE, counts={}, errors=[])
    interrupted = _complete_run(archive, [kept.url])
    archive.crawl_state.finish_run(interrupted, status="interrupted", counts={}, errors=[])
    third = _complete_run(archive, [kept.url])
    withdrawn = archive.articles.withdraw_unlisted(third, after_runs=2, when=when)
    dropped_stored = archive.reads.get_article_by_url(dropped.url)
    kept_stored = archive.reads.get_article_by_url(kept.url)
    assert dropped_stored is not None and kept_stored is not None
    assert withdrawn == [dropped_stored.id]
    assert dropped_stored.status == "withdrawn" and dropped_stored.withdrawn_at == when
    assert (dropped_stored.withdrawn_reason or "").startswith("unlisted")
    assert kept_stored.status == "published"
    assert archive.reads.stats().articles == 2


def test_run_that_listed_nothing_withdraws_nothing(archive: Archive) -> None:
    archive.articles.save_article(_article(), capture_id=None, seen_at=DAY1)
    for _ in range(3):
        run_id = archive.crawl_state.start_run([SITE])
        assert archive.articles.withdraw_unlisted(run_id, after_runs=1, when=DAY3) == []
        archive.crawl_state.finish_run(run_id, status=COMPLETE, counts={}, errors=[])


def test_spellings_of_one_name_are_one_author_named_by_its_usual_spelling(
        archive: Archive) -> None:
    archive.articles.save_article(_article("a", author="Aïssatou N'Diaye"), capture_id=None,
                                  seen_at=DAY1)
    archive.articles.save_article(_article("b", author="aissatou  n’diaye"), capture_id=None,
                                  seen_at=DAY1)
    archive.articles.save_article(_article("c", author="Aïssatou N'Diaye"), capture_id=None,
                                  seen_at=DAY1)
    archive.articles.save_article(_article("d", author="Moussa Fall"), capture_id=None,
                                  seen_at=DAY1)
    authors = {a.slug: a for a in archive.reads.authors()}
    assert set(authors) == {"aissatou-n-diaye", "moussa-fall"}
    aissatou = authors["aissatou-n-diaye"]
    assert (aissatou.name, aissatou.count) == ("Aïssatou N'Diaye", 3)
    assert archive.reads.author_by_slug("aissatou-n-diaye") == aissatou
    assert archive.reads.author_by_slug("personne") is None
    by_author = archive.reads.articles_by_author(aissatou.key)
    assert sorted(a.author for a in by_author if a.author) == [
        "Aïssatou N'Diaye", "Aïssatou N'Diaye", "aissatou  n’diaye"]
    assert {a.author_slug for a in by_author} == {"aissatou-n-diaye"}


def test_two_authors_whose_slugs_collide_get_distinct_slugs(archive: Archive) -> None:
    archive.articles.save_article(_article("a", author="Jean-Paul Sarr"), capture_id=None,
                                  seen_at=DAY1)
    archive.articles.save_article(_article("b", author="Jean Paul Sarr"), capture_id=None,
                                  seen_at=DAY1)
    slugs = sorted(a.slug for a in archive.reads.authors())
    assert slugs == ["jean-paul-sarr", "jean-paul-sarr-2"]


def test_changes_since_follows_change_seq_and_respects_limit(archive: Archive) -> None:
    ids = [archive.articles.save_article(_article(f"a{i}"), capture_id=None,
                                         seen_at=DAY1).article_id
           for i in range(5)]
    archive.articles.save_article(_article("a1", body="Modifié."), capture_id=None, seen_at=DAY2)
    changes = archive.reads.changes_since(0)
    assert [a.id for a in changes] == [ids[0], ids[2], ids[3], ids[4], ids[1]]
    assert [a.change_seq for a in changes] == sorted(a.change_seq for a in changes)
    assert archive.reads.max_change_seq() == changes[-1].change_seq
    assert [a.id for a in archive.reads.changes_since(0, limit=2)] == [ids[0], ids[2]]
    assert [a.id for a in archive.reads.changes_since(changes[3].change_seq)] == [ids[1]]
    assert archive.reads.changes_since(archive.reads.max_change_seq()) == []


def test_date_reads_count_and_order_by_publication(archive: Archive) -> None:
    for day in (date(2024, 1, 5), date(2024, 1, 20), date(2024, 2, 1), date(2023, 12, 31)):
        archive.articles.save_article(_article(f"d{day}", published=day), capture_id=None,
                                      seen_at=DAY1)
    between = archive.reads.articles_between(date(2024, 1, 5), date(2024, 2, 1))
    assert [a.published for a in between] == [date(2024, 2, 1), date(2024, 1, 20),
                                             date(2024, 1, 5)]
    assert archive.reads.count_between(date(2024, 1, 1), date(2024, 1, 31)) == 2
    assert [a.published for a in archive.reads.latest(2)] == [date(2024, 2, 1), date(2024, 1, 20)]
    assert archive.reads.month_counts() == [(2023, 12, 1), (2024, 1, 2), (2024, 2, 1)]
    stats = archive.reads.stats()
    assert (stats.articles, stats.first_published, stats.last_published) == (
        4, date(2023, 12, 31), date(2024, 2, 1))
    ids = [a.id for a in archive.reads.iter_articles()]
    assert ids == sorted(ids) and len(ids) == 4
    assert set(archive.reads.articles([ids[0], ids[2], 999])) == {ids[0], ids[2]}


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 50])
def test_id_ranges_split_the_articles_into_even_contiguous_ranges(archive: Archive,
                                                                 parts: int) -> None:
    with archive.transaction():
        for i in range(7):
            archive.articles.save_article(_article(f"r{i}"), capture_id=None, seen_at=DAY1)
    ranges = archive.reads.id_ranges(parts)
    sizes = [len(list(archive.reads.iter_articles(first, last))) for first, last in ranges]
    assert len(ranges) == min(parts, 7)
    assert sum(sizes) == 7 and max(sizes) - min(sizes) <= 1
    assert all(last + 1 == first for (_, last), (first, _) in zip(ranges, ranges[1:],
                                                                   strict=False))


def test_id_ranges_of_an_empty_archive_is_empty(archive: Archive) -> None:
    assert archive.reads.id_ranges(2) == []
    with pytest.raises(ValueError):
        archive.reads.id_ranges(0)


def test_failed_save_inside_a_transaction_leaves_no_half_article(archive: Archive) -> None:
    with archive.transaction():
        archive.articles.save_article(_article("ok"), capture_id=None, seen_at=DAY1)
        with pytest.raises(StoreError, match="aucune capture 42"):
            archive.articles.save_article(_article("bad"), capture_id=42, seen_at=DAY1)
        with pytest.raises(StoreError, match="NOT NULL"):
            archive.articles.save_article(_article("bad", body=None, author="Nouvel Auteur"),
                                 capture_id=None, seen_at=DAY1)
    assert [a.title for a in archive.reads.iter_articles()] == ["Titre ok"]
    assert archive.reads.get_article_by_url(_article("bad").url) is None
    assert (archive.reads.stats().articles, archive.reads.max_change_seq()) == (1, 1)
    assert [a.name for a in archive.reads.authors()] == ["Aïssatou N'Diaye"]


def test_exception_in_a_transaction_rolls_back_every_save(archive: Archive) -> None:
    with pytest.raises(RuntimeError), archive.transaction():
        archive.articles.save_article(_article("x"), capture_id=None, seen_at=DAY1)
        raise RuntimeError("crawler stopped")
    assert archive.reads.stats().articles == 0


def test_second_writer_is_told_the_archive_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    with Archive.open(path) as crawler, Archive.open(path, busy_seconds=0.1) as other:
        with crawler.transaction():
            crawler.articles.save_article(_article("a"), capture_id=None, seen_at=DAY1)
            with pytest.raises(StoreError, match="occupée : une autre collecte ou relecture"):
                other.articles.save_article(_article("b"), capture_id=None, seen_at=DAY1)
            assert other.reads.stats().articles == 0
        other.articles.save_article(_article("b"), capture_id=None, seen_at=DAY1)
        assert other.reads.stats().articles == 2


def test_addresses_list_every_article_without_reading_a_body(archive: Archive) -> None:
    kept = archive.articles.save_article(_article("a"), capture_id=None, seen_at=DAY1)
    gone = archive.articles.save_article(_article("b"), capture_id=None, seen_at=DAY1)
    archive.articles.mark_withdrawn(f"{SITE}/2024/02/01/b/", when=DAY2, reason="HTTP 410")
    statements: list[str] = []
    archive._db.conn.set_trace_callback(statements.append)
    addresses = list(archive.reads.iter_addresses())
    archive._db.conn.set_trace_callback(None)
    assert [(a.id, a.url, a.withdrawn) for a in addresses] == [
        (kept.article_id, f"{SITE}/2024/02/01/a/", False),
        (gone.article_id, f"{SITE}/2024/02/01/b/", True)]
    assert statements and not any("versions" in sql or "body" in sql for sql in statements)


def test_one_transaction_spans_every_part_of_the_archive(archive: Archive) -> None:
    with pytest.raises(RuntimeError), archive.transaction():
        archive.crawl_state.start_run([SITE])
        archive.articles.save_article(_article(), capture_id=None, seen_at=DAY1)
        raise RuntimeError("the crawl stops here")
    assert archive.crawl_state.last_run() is None
    assert archive.reads.stats().articles == 0
