"""The crawler against a hostile site on loopback: nothing leaks, nothing is overwritten.

The site (``tests/hostile_site.py``) is crawled twice next to a replica edition, its victim;
these tests check the crawl side: what the archive holds and what the run reports say.
"""

from __future__ import annotations

from hostile_site import HostileArchive


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
