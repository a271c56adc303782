"""The crawler against a hostile site on loopback: nothing leaks, nothing is overwritten.

The site (``tests/hostile_site.py``) is crawled twice next to a replica edition, its victim;
these tests check the crawl side: what the archive holds and what the run reports say.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from hostile_site import BOMB_BYTES, UTF8_BAD_TEXT, HostileArchive, huge_paragraph

from archive.store import Archive, StoredArticle


def test_hostile_crawl_never_connects_off_loopback(hostile_archive: HostileArchive) -> None:
    assert hostile_archive.off_loopback == []


def test_hostile_redirects_never_reach_another_site(hostile_archive: HostileArchive) -> None:
    assert hostile_archive.sentinel.requests == []
    if hostile_archive.sentinel_v6 is not None:
        assert hostile_archive.sentinel_v6.requests == []
    kinds = {error["url"].rsplit("/", 2)[-2]: error["kind"]
             for error in hostile_archive.reports[-1]["errors"]}
    for slug in ("redirection-ailleurs", "redirection-fichier", "redirection-identifiants",
                 "redirection-relative-protocole"):
        assert kinds[slug] == "offsite"


def _articles(hostile_archive: HostileArchive) -> list[StoredArticle]:
    with Archive.open(hostile_archive.data_dir / "archive.sqlite3", readonly=True) as archive:
        return list(archive.reads.iter_articles())


def _errors(hostile_archive: HostileArchive) -> dict[str, str]:
    """The kind of every problem the last two runs reported, by URL."""
    return {error["url"]: error["kind"]
            for report in hostile_archive.reports[1:] for error in report["errors"]}


def _hostile(hostile_archive: HostileArchive, kind: str) -> str:
    page = next(page for page in hostile_archive.site.pages() if page.kind == kind)
    return hostile_archive.hostile_url + page.path


def test_no_article_of_another_site_changes(hostile_archive: HostileArchive) -> None:
    with Archive.open(hostile_archive.data_dir / "archive.sqlite3", readonly=True) as archive:
        victim = archive.reads.get_article_by_url(hostile_archive.victim_article_urls[0])
        assert victim is not None
        assert (victim.title, victim.version_count) == (hostile_archive.victim_title, 1)
        assert archive.articles.versions(victim.id)[0].body == hostile_archive.victim_body
    for article in _articles(hostile_archive):
        fetched = article.fetched_url or article.url
        if fetched.startswith(hostile_archive.hostile_url):
            assert article.url.startswith(hostile_archive.hostile_url), article.url


def test_page_claiming_another_sites_article_is_reported(hostile_archive: HostileArchive) -> None:
    assert _errors(hostile_archive)[_hostile(hostile_archive, "impostor")] == "canonical_conflict"


def test_javascript_canonical_is_never_stored(hostile_archive: HostileArchive) -> None:
    for article in _articles(hostile_archive):
        for url in (article.url, article.canonical_url, article.fetched_url):
            assert url is None or url.startswith("http"), url
    urls = {article.url for article in _articles(hostile_archive)}
    assert _hostile(hostile_archive, "js-canonical") in urls


def test_nothing_fails_inside_the_crawler(hostile_archive: HostileArchive) -> None:
    kinds = set(_errors(hostile_archive).values())
    assert "internal" not in kinds


def test_gzip_bombs_are_refused_with_a_reason(hostile_archive: HostileArchive) -> None:
    errors = _errors(hostile_archive)
    assert errors[hostile_archive.hostile_url + "/sitemap-bombe.xml.gz"] == "oversized"
    assert errors[_hostile(hostile_archive, "bomb")] == "oversized"


def test_redirect_to_ipv6_or_javascript_is_refused_cleanly(
    hostile_archive: HostileArchive,
) -> None:
    errors = _errors(hostile_archive)
    assert errors[_hostile(hostile_archive, "redirect-ipv6")] == "offsite"
    assert errors[_hostile(hostile_archive, "redirect-js")] in ("offsite", "bad_redirect")


def test_one_invalid_byte_does_not_change_the_pages_encoding(
    hostile_archive: HostileArchive,
) -> None:
    with Archive.open(hostile_archive.data_dir / "archive.sqlite3", readonly=True) as archive:
        article = archive.reads.get_article_by_url(_hostile(hostile_archive, "bad-utf8"))
        assert article is not None
        assert article.title == UTF8_BAD_TEXT
        assert "Ã" not in archive.articles.versions(article.id)[-1].body


def test_deeply_nested_article_keeps_its_text(hostile_archive: HostileArchive) -> None:
    with Archive.open(hostile_archive.data_dir / "archive.sqlite3", readonly=True) as archive:
        article = archive.reads.get_article_by_url(_hostile(hostile_archive, "deep"))
        assert article is not None
        body = archive.articles.versions(article.id)[-1].body
        assert "Imbrication profonde : les habitants" in body


def test_edit_of_a_huge_paragraph_is_a_second_version(hostile_archive: HostileArchive) -> None:
    with Archive.open(hostile_archive.data_dir / "archive.sqlite3", readonly=True) as archive:
        article = archive.reads.get_article_by_url(_hostile(hostile_archive, "huge"))
        assert article is not None
        versions = archive.articles.versions(article.id)
    assert [version.number for version in versions] == [1, 2]
    assert huge_paragraph(edited=True) in versions[1].body


def test_very_long_body_is_searchable(hostile_archive: HostileArchive) -> None:
    from indexer.search import SearchService

    url = _hostile(hostile_archive, "long")
    with SearchService.over_archive(hostile_archive.data_dir / "index",
                                    hostile_archive.data_dir / "archive.sqlite3") as service:
        hits = service.search("conseil municipal budget").hits
    assert url in {hit.url for hit in hits}


PEAK_MEMORY_MB = 200
"""The crawl of the hostile site with its 256 MB gzip bombs stays under this peak RSS (it is
about 115 MB, as with 1 MB bombs; one bomb inflated whole adds 256 MB)."""


def _crawl_peak_mb(data_dir: Path, bomb_bytes: int) -> int:
    """Crawl the hostile site in a fresh process; return that process's peak RSS in MB."""
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from hostile_site import HostileSite, serve_hostile_site
        from archive.config import load_settings
        from archive.crawler import crawl

        site = HostileSite(bomb_bytes={bomb_bytes})
        served = serve_hostile_site(site)
        try:
            crawl([served.url + "/"], load_settings(
                environ={{}}, data_dir=Path({str(data_dir)!r}), crawl_delay=0.0))
        finally:
            served.stop()
        # The process's own high-water mark: getrusage's ru_maxrss survives exec, so in a
        # child of a large pytest process it reported pytest's peak (412 MB seen in CI).
        peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
        print(int(peak.split()[1]) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_gzip_bombs_leave_the_crawlers_memory_bounded(tmp_path: Path) -> None:
    peak = _crawl_peak_mb(tmp_path / "bombed", BOMB_BYTES)
    assert peak < PEAK_MEMORY_MB, f"peak RSS {peak} MB"


def test_every_hostile_page_is_archived_or_reported(hostile_archive: HostileArchive) -> None:
    errors = _errors(hostile_archive)
    with Archive.open(hostile_archive.data_dir / "archive.sqlite3", readonly=True) as archive:
        for page in hostile_archive.site.pages():
            url = hostile_archive.hostile_url + page.path
            archived = archive.reads.get_article_by_url(url) is not None
            assert archived or url in errors, f"{page.kind} page neither archived nor reported"
