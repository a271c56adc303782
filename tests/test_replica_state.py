"""Edits, withdrawals and new articles show the same way in every channel of the replica."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from bs4 import BeautifulSoup

from archive.errors import InvalidInput
from archive.replica import Corpus, ReplicaState, RunningReplica, serve_replica

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def corpus() -> Corpus:
    return Corpus(66)


@pytest.fixture
def state(corpus: Corpus) -> ReplicaState:
    return ReplicaState(corpus, published=60)


@pytest.fixture
def replica(corpus: Corpus, state: ReplicaState) -> Iterator[RunningReplica]:
    with serve_replica(corpus, ["sn", "ci"], state=state) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def _channels(base: str, client: httpx.Client) -> dict[str, set[str]]:
    """Return the article URLs each channel of one edition shows."""
    home = BeautifulSoup(client.get(base + "/").text, "lxml")
    listing: set[str] = set()
    page = 1
    while page < 20:
        response = client.get(base + f"/page/{page}/")
        if response.status_code == 404:
            break
        listing |= {a["href"] for a in BeautifulSoup(response.text, "lxml")
                    .select("h2.entry-title a")}
        page += 1
    sitemap = ET.fromstring(client.get(base + "/wp-sitemap-posts-post-1.xml").content)
    feed = ET.fromstring(client.get(base + "/feed/").content)
    rest = client.get(base + "/wp-json/wp/v2/posts", params={"per_page": 100}).json()
    return {
        "home": {a["href"] for a in home.select("h2.entry-title a")},
        "listing": listing,
        "sitemap": {loc.text or "" for loc in sitemap.iter(SITEMAP + "loc")},
        "feed": {item.findtext("link") or "" for item in feed.iter("item")},
        "rest": {post["link"] for post in rest},
    }


def test_edit_changes_text_and_modified_everywhere(replica: RunningReplica, corpus: Corpus,
                                                   state: ReplicaState,
                                                   client: httpx.Client) -> None:
    index = corpus.in_edition("sn")[3]
    before = corpus.article(index)
    url = replica.urls["sn"] + before.path
    etag = client.get(url).headers["etag"]
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    edited = state.edit(before.post_id, when)
    assert edited == state.article(index)
    assert edited.modified_at == when and edited.published_at == before.published_at
    assert edited.body != before.body and len(edited.paragraphs) == len(before.paragraphs) + 1
    assert edited.paragraphs[-1].startswith("Mise à jour du 01/03/2026\u00a0: ")
    page = client.get(url, headers={"If-None-Match": etag})
    assert page.status_code == 200 and edited.paragraphs[-1] in page.text
    assert edited.paragraphs[0] in page.text
    sitemap = client.get(replica.urls["sn"] + "/wp-sitemap-posts-post-1.xml").text
    assert f"<loc>{url}</loc><lastmod>{when.isoformat()}</lastmod>" in sitemap
    delta = client.get(replica.urls["sn"] + "/wp-json/wp/v2/posts",
                       params={"modified_after": "2026-01-01T00:00:00"}).json()
    assert [post["id"] for post in delta] == [before.post_id]
    assert "Mise à jour du 01/03/2026" in delta[0]["content"]["rendered"]
    again = state.edit(before.post_id, when)
    assert again.modified_at > when and len(again.paragraphs) == len(before.paragraphs) + 2


@pytest.mark.parametrize("mode", ["404", "410", "unlisted"])
def test_withdrawn_article_leaves_every_listing(replica: RunningReplica, corpus: Corpus,
                                                state: ReplicaState, client: httpx.Client,
                                                mode: str) -> None:
    base = replica.urls["sn"]
    article = corpus.article(corpus.in_edition("sn")[0])
    url = base + article.path
    assert all(url in urls for urls in _channels(base, client).values())
    state.withdraw(article.post_id, mode)
    assert all(url not in urls for urls in _channels(base, client).values())
    assert client.get(url).status_code == {"404": 404, "410": 410, "unlisted": 200}[mode]
    api = client.get(base + f"/wp-json/wp/v2/posts/{article.post_id}")
    assert api.status_code == 404
    state.restore(article.post_id)
    assert url in _channels(base, client)["home"]


def test_new_articles_arrive_on_top_of_every_channel(replica: RunningReplica, corpus: Corpus,
                                                     state: ReplicaState,
                                                     client: httpx.Client) -> None:
    base = replica.urls["sn"]
    assert client.get(base + corpus.article(60).path).status_code == 404
    old_url = base + corpus.article(corpus.in_edition("sn")[0]).path
    old_etag = client.get(old_url).headers["etag"]
    added = state.add_articles(6)
    assert client.get(old_url, headers={"If-None-Match": old_etag}).status_code == 304
    assert [a.post_id for a in added] == [61, 62, 63, 64, 65, 66]
    mine = [a for a in added if a.edition == "sn"]
    assert mine
    newest = mine[-1]
    assert newest.published_at > corpus.article(corpus.newest_first()[0]).published_at
    channels = _channels(base, client)
    for article in mine:
        assert all(base + article.path in urls for urls in channels.values())
    home = BeautifulSoup(client.get(base + "/").text, "lxml")
    assert home.select_one("h2.entry-title a")["href"] == base + newest.path
    page = client.get(base + newest.path)
    assert page.status_code == 200 and newest.paragraphs[1] in page.text
    with pytest.raises(InvalidInput):
        state.add_articles(1)


def test_state_refuses_unknown_posts_and_modes(state: ReplicaState) -> None:
    with pytest.raises(InvalidInput):
        state.edit(61)
    with pytest.raises(InvalidInput):
        state.withdraw(3, "disparu")
    assert state.status(60) == "unpublished" and state.status(2) == "published"
