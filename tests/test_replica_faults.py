"""The replica's fault modes behave as documented, each on its own article."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest

from archive.replica import ALL_FAULT_POST_IDS, Corpus, Faults, RunningReplica, serve_replica
from archive.replica.faults import OVERSIZED_BYTES

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def corpus() -> Corpus:
    return Corpus(60)


@pytest.fixture
def replica(corpus: Corpus) -> Iterator[RunningReplica]:
    with serve_replica(corpus, ["sn"], faults=Faults.all(slow_seconds=0.4)) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def _url(replica: RunningReplica, corpus: Corpus, fault: str) -> str:
    return replica.urls["sn"] + corpus.article(ALL_FAULT_POST_IDS[fault] - 1).path


def test_fault_articles_all_live_in_the_first_edition(corpus: Corpus) -> None:
    assert {corpus.article(post_id - 1).edition for post_id in ALL_FAULT_POST_IDS.values()} == {
        "sn"}
    assert Faults.all().faulty_post_ids() == set(ALL_FAULT_POST_IDS.values())
    assert not Faults.none().faulty_post_ids()


def test_slow_page_answers_late(replica: RunningReplica, corpus: Corpus,
                                client: httpx.Client) -> None:
    started = time.perf_counter()
    assert client.get(_url(replica, corpus, "slow")).status_code == 200
    assert time.perf_counter() - started >= 0.4
    with pytest.raises(httpx.ReadTimeout):
        client.get(_url(replica, corpus, "slow"), timeout=0.1)


def test_transient_500_then_the_page(replica: RunningReplica, corpus: Corpus,
                                     client: httpx.Client) -> None:
    url = _url(replica, corpus, "error500_transient")
    assert [client.get(url).status_code for _ in range(3)] == [500, 500, 200]
    always = _url(replica, corpus, "error500")
    assert {client.get(always).status_code for _ in range(3)} == {500}


def test_rate_limited_page_says_when_to_come_back(replica: RunningReplica, corpus: Corpus,
                                                  client: httpx.Client) -> None:
    url = _url(replica, corpus, "rate_limit")
    first = client.get(url)
    assert first.status_code == 429 and first.headers["retry-after"] == "1"
    assert client.get(url).status_code == 200


def test_truncated_page_breaks_off_before_its_content_length(
        replica: RunningReplica, corpus: Corpus, client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(_url(replica, corpus, "truncated"))


def test_wrong_charset_page_is_windows_1252_and_says_so_only_in_meta(
        replica: RunningReplica, corpus: Corpus, client: httpx.Client) -> None:
    article = corpus.article(ALL_FAULT_POST_IDS["wrong_charset"] - 1)
    response = client.get(_url(replica, corpus, "wrong_charset"))
    assert response.headers["content-type"] == "text/html"
    assert b'<meta charset="windows-1252">' in response.content
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert article.title in response.content.decode("windows-1252")


def test_lying_charset_page_claims_utf8(replica: RunningReplica, corpus: Corpus,
                                        client: httpx.Client) -> None:
    article = corpus.article(ALL_FAULT_POST_IDS["lying_charset"] - 1)
    response = client.get(_url(replica, corpus, "lying_charset"))
    assert response.headers["content-type"] == "text/html; charset=UTF-8"
    assert b'<meta charset="UTF-8">' in response.content
    assert article.paragraphs[0] in response.content.decode("windows-1252")


def test_oversized_page_exceeds_six_megabytes(replica: RunningReplica, corpus: Corpus,
                                              client: httpx.Client) -> None:
    response = client.get(_url(replica, corpus, "oversized"))
    assert int(response.headers["content-length"]) > 6_000_000
    assert len(response.content) > OVERSIZED_BYTES


def test_redirect_loop_is_linked_and_never_ends(replica: RunningReplica,
                                                client: httpx.Client) -> None:
    base = replica.urls["sn"]
    assert f'href="{base}/boucle/a/"' in client.get(base + "/").text
    first = client.get(base + "/boucle/a/")
    assert first.status_code == 301 and first.headers["location"] == base + "/boucle/b/"
    with pytest.raises(httpx.TooManyRedirects):
        client.get(base + "/boucle/a/", follow_redirects=True)


def test_sitemaps_hold_dead_urls_and_a_broken_sub_sitemap(replica: RunningReplica,
                                                          client: httpx.Client) -> None:
    base = replica.urls["sn"]
    index = ET.fromstring(client.get(base + "/wp-sitemap.xml").content)
    subs = [loc.text or "" for loc in index.iter(SITEMAP + "loc")]
    broken = [sub for sub in subs if "posts-page" in sub]
    assert len(broken) == 1
    with pytest.raises(ET.ParseError):
        ET.fromstring(client.get(broken[0]).content)
    posts = ET.fromstring(client.get(base + "/wp-sitemap-posts-post-1.xml").content)
    statuses = [client.get(loc.text or "").status_code for loc in posts.iter(SITEMAP + "loc")
                if "article-disparu" in (loc.text or "")]
    assert statuses == [404, 404, 404]


def test_fault_keys_can_be_paths(corpus: Corpus, client: httpx.Client) -> None:
    faults = Faults(error500={"/feed/": 1}, rate_limit={"/wp-sitemap.xml": 2}, retry_after=7)
    with serve_replica(corpus, ["ci"], faults=faults) as running:
        base = running.urls["ci"]
        assert [client.get(base + "/feed/").status_code for _ in range(2)] == [500, 200]
        answers = [client.get(base + "/wp-sitemap.xml") for _ in range(3)]
        assert [a.status_code for a in answers] == [429, 429, 200]
        assert answers[0].headers["retry-after"] == "7"
        assert client.get(base + "/").status_code == 200
        assert f"{base}/boucle/a/" not in client.get(base + "/").text
