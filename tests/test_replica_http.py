"""The replica over real HTTP on loopback: every endpoint answers like the platform would."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import httpx
import pytest
from bs4 import BeautifulSoup

from archive.errors import InvalidInput
from archive.replica import Corpus, RunningReplica, serve_replica
from archive.replica.corpus import ReplicaArticle
from archive.replica.theme import BOILERPLATE

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus(60)


@pytest.fixture(scope="module")
def replica(corpus: Corpus) -> Iterator[RunningReplica]:
    with serve_replica(corpus) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def _soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


def _first(corpus: Corpus, edition: str, variant: str) -> ReplicaArticle:
    return next(corpus.article(i) for i in corpus.in_edition(edition)
                if corpus.article(i).variant == variant)


def test_each_edition_has_its_own_loopback_port(replica: RunningReplica) -> None:
    assert set(replica.urls) == {"sn", "ci", "cm"}
    ports = {url.rsplit(":", 1)[1] for url in replica.urls.values()}
    assert len(ports) == 3
    assert all(url.startswith("http://127.0.0.1:") for url in replica.urls.values())


def test_home_lists_the_newest_articles_and_pages_on(replica: RunningReplica, corpus: Corpus,
                                                    client: httpx.Client) -> None:
    base = replica.urls["sn"]
    newest = corpus.in_edition("sn")
    home = _soup(client.get(base + "/"))
    links = [a["href"] for a in home.select("h2.entry-title a")]
    assert links == [base + corpus.article(i).path for i in newest[:10]]
    assert home.select_one("a.next.page-numbers")["href"] == base + "/page/2/"
    second = _soup(client.get(base + "/page/2/"))
    assert [a["href"] for a in second.select("h2.entry-title a")] == [
        base + corpus.article(i).path for i in newest[10:20]]
    assert client.get(base + "/page/99/").status_code == 404


def test_article_page_shows_the_article_inside_the_theme(replica: RunningReplica,
                                                         corpus: Corpus,
                                                         client: httpx.Client) -> None:
    article = _first(corpus, "ci", "paragraphs")
    response = client.get(replica.urls["ci"] + article.path)
    assert response.status_code == 200
    page = _soup(response)
    assert page.html["lang"] == "fr-FR"
    assert page.select_one('link[rel="canonical"]')["href"] == article.canonical_url
    assert page.select_one('meta[property="og:url"]')["content"] == article.canonical_url
    assert page.select_one("h1.entry-title").get_text() == article.title
    texts = [p.get_text() for p in page.select("div.entry-content > p")]
    assert texts[: len(article.paragraphs)] == list(article.paragraphs)
    for selector in ("nav#site-navigation", "aside#secondary", "div.sharedaddy",
                     "div#comments ol.comment-list", "footer#colophon", "div.lire-aussi"):
        assert page.select_one(selector) is not None, selector
    assert "Articles récents" in page.select_one("aside#secondary").get_text()
    assert page.select_one('footer#colophon a[href*="/prive/"]') is not None


def test_other_editions_do_not_serve_an_article(replica: RunningReplica, corpus: Corpus,
                                                client: httpx.Client) -> None:
    article = _first(corpus, "sn", "br")
    assert client.get(replica.urls["cm"] + article.path).status_code == 404
    without_slash = client.get(replica.urls["sn"] + article.path.rstrip("/"))
    assert without_slash.status_code == 301
    assert without_slash.headers["location"].endswith(article.path)


def _content(page: BeautifulSoup) -> str:
    return str(page.select_one("div.entry-content"))


def test_markup_variants_carry_the_same_ground_truth(replica: RunningReplica, corpus: Corpus,
                                                     client: httpx.Client) -> None:
    pages = {}
    for variant in ("paragraphs", "strong", "br", "jsonld", "meta", "entrymeta", "visible",
                    "account", "boilerdiv"):
        article = _first(corpus, "sn", variant)
        pages[variant] = (article, _soup(client.get(replica.urls["sn"] + article.path)))
    article, page = pages["paragraphs"]
    lines = [p.get_text() for p in page.select("div.entry-content > p")]
    assert lines[-4:-1] == [f"Article écrit par : {article.author}",
                            f"Mis en ligne : {article.published:%d/%m/%Y}", "—"]
    assert lines[-1].startswith(BOILERPLATE) and lines[-1].endswith("Cliquez-ici.")
    article, page = pages["strong"]
    assert f"<p><strong>Article écrit par\u00a0:</strong> {article.author}</p>" in _content(page)
    article, page = pages["br"]
    assert f"Article écrit par: {article.author}<br/>" in _content(page)
    article, page = pages["jsonld"]
    data = json.loads(page.select_one('script[type="application/ld+json"]').string)
    assert data["@type"] == "NewsArticle" and data["author"]["name"] == article.author
    assert data["datePublished"] == article.published_at.isoformat()
    assert "Article écrit par" not in page.get_text().replace("Un Lecteur Malin", "")
    article, page = pages["meta"]
    assert page.select_one('meta[name="author"]')["content"] == article.author
    assert page.select_one('meta[property="article:published_time"]')["content"] == (
        article.published_at.isoformat())
    assert page.select_one('script[type="application/ld+json"]') is None
    article, page = pages["entrymeta"]
    assert page.select_one("span.author.vcard a").get_text() == article.author
    assert page.select_one("time.entry-date.published")["datetime"] == (
        article.published_at.isoformat())
    article, page = pages["visible"]
    first = [p.get_text() for p in page.select("div.entry-content > p")][:2]
    assert first[0].startswith("Publié le ") and first[1] == f"Par {article.author}"
    article, page = pages["account"]
    assert f"Article écrit par : {article.author}" in page.get_text()
    assert page.select_one("span.author.vcard a").get_text() == article.wp_author
    assert article.wp_author != article.author
    article, page = pages["boilerdiv"]
    assert page.select_one("div.nc-plateforme").get_text().startswith("—")
    assert BOILERPLATE not in _content(page)


def test_date_author_and_category_archives(replica: RunningReplica, corpus: Corpus,
                                           client: httpx.Client) -> None:
    base = replica.urls["sn"]
    article = corpus.article(corpus.in_edition("sn")[0])
    for archive in (f"/{article.published:%Y}/", f"/{article.published:%Y/%m}/",
                    f"/{article.published:%Y/%m/%d}/", f"/author/{article.author_slug}/"):
        response = client.get(base + archive)
        assert response.status_code == 200, archive
        assert base + article.path in {a["href"] for a in
                                       _soup(response).select("h2.entry-title a")}, archive
    category = _soup(client.get(base + "/category/" + _slug(article.categories[0]) + "/"))
    assert base + article.path in {a["href"] for a in category.select("h2.entry-title a")}
    assert client.get(base + "/author/personne-inconnue/").status_code == 404


def _slug(name: str) -> str:
    from archive.replica.corpus import category_slug

    return category_slug(name)


def test_robots_txt_forbids_private_areas_and_announces_the_sitemap(
        replica: RunningReplica, client: httpx.Client) -> None:
    base = replica.urls["sn"]
    text = client.get(base + "/robots.txt").text
    assert "User-agent: *" in text
    for rule in ("Disallow: /wp-admin/", "Disallow: /prive/", "Disallow: /?s="):
        assert rule in text
    assert f"Sitemap: {base}/wp-sitemap.xml" in text
    assert "Crawl-delay" not in text


def test_sitemaps_list_every_article_with_its_lastmod(replica: RunningReplica, corpus: Corpus,
                                                      client: httpx.Client) -> None:
    base = replica.urls["cm"]
    index = ET.fromstring(client.get(base + "/wp-sitemap.xml").content)
    locations = [loc.text for loc in index.iter(SITEMAP + "loc")]
    assert f"{base}/wp-sitemap-posts-post-1.xml" in locations
    assert f"{base}/wp-sitemap-users-1.xml" in locations
    posts = ET.fromstring(client.get(base + "/wp-sitemap-posts-post-1.xml").content)
    entries = {url.findtext(SITEMAP + "loc"): url.findtext(SITEMAP + "lastmod")
               for url in posts.iter(SITEMAP + "url")}
    expected = [corpus.article(i) for i in corpus.in_edition("cm")]
    assert set(entries) == {base + article.path for article in expected}
    for article in expected:
        assert entries[base + article.path] == article.modified_at.isoformat()
    for sub in locations:
        assert client.get(sub).status_code == 200


def test_feed_holds_the_ten_newest_with_date_and_creator(replica: RunningReplica,
                                                         corpus: Corpus,
                                                         client: httpx.Client) -> None:
    base = replica.urls["sn"]
    response = client.get(base + "/feed/")
    assert response.headers["content-type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    assert channel is not None
    items = channel.findall("item")
    newest = [corpus.article(i) for i in corpus.in_edition("sn")[:10]]
    assert [item.findtext("link") for item in items] == [base + a.path for a in newest]
    creator = items[0].findtext("{http://purl.org/dc/elements/1.1/}creator")
    assert creator == newest[0].wp_author
    assert parsedate_to_datetime(items[0].findtext("pubDate") or "") == newest[0].published_at
    author_feed = client.get(base + f"/author/{newest[0].author_slug}/feed/")
    assert author_feed.status_code == 200 and newest[0].path in author_feed.text


def test_feed_can_be_served_as_html_to_be_recognised_by_content(corpus: Corpus,
                                                                 client: httpx.Client) -> None:
    with serve_replica(corpus, ["ci"], feed_content_type="text/html; charset=UTF-8") as other:
        response = client.get(other.urls["ci"] + "/feed/")
    assert response.headers["content-type"] == "text/html; charset=UTF-8"
    assert response.text.startswith("<?xml") and "<rss" in response.text


def test_rest_api_pages_with_wordpress_headers(replica: RunningReplica, corpus: Corpus,
                                               client: httpx.Client) -> None:
    base = replica.urls["sn"]
    total = len(corpus.in_edition("sn"))
    response = client.get(base + "/wp-json/wp/v2/posts", params={"per_page": 7, "page": 2,
                                                                 "_embed": "1"})
    assert response.status_code == 200
    assert response.headers["x-wp-total"] == str(total)
    assert response.headers["x-wp-totalpages"] == str(-(-total // 7))
    posts = response.json()
    expected = [corpus.article(i) for i in corpus.in_edition("sn")[7:14]]
    assert [post["id"] for post in posts] == [a.post_id for a in expected]
    assert posts[0]["link"] == base + expected[0].path
    assert posts[0]["_embedded"]["author"][0]["name"] == expected[0].wp_author
    terms = posts[0]["_embedded"]["wp:term"][0]
    assert [term["name"] for term in terms] == list(expected[0].categories)
    oldest = client.get(base + "/wp-json/wp/v2/posts",
                        params={"orderby": "date", "order": "asc", "per_page": 100}).json()
    assert [post["id"] for post in oldest] == [corpus.article(i).post_id for i in
                                               reversed(corpus.in_edition("sn"))]
    fields = client.get(base + "/wp-json/wp/v2/posts", params={"_fields": "id,link"}).json()
    assert set(fields[0]) == {"id", "link"}


def test_rest_api_refuses_like_wordpress(replica: RunningReplica, client: httpx.Client) -> None:
    base = replica.urls["sn"]
    beyond = client.get(base + "/wp-json/wp/v2/posts", params={"page": 50})
    assert beyond.status_code == 400
    assert beyond.json()["code"] == "rest_post_invalid_page_number"
    too_many = client.get(base + "/wp-json/wp/v2/posts", params={"per_page": 101})
    assert too_many.status_code == 400 and too_many.json()["code"] == "rest_invalid_param"
    users = client.get(base + "/wp-json/wp/v2/users")
    assert users.status_code == 401 and users.json()["code"] == "rest_not_logged_in"
    assert client.get(base + "/wp-json/").json()["name"] == "Notre Continent"


def test_rest_api_filters_on_dates(replica: RunningReplica, corpus: Corpus,
                                   client: httpx.Client) -> None:
    base = replica.urls["sn"]
    articles = [corpus.article(i) for i in corpus.in_edition("sn")]
    cut = sorted(a.modified_at for a in articles)[len(articles) // 2]
    posts = client.get(base + "/wp-json/wp/v2/posts", params={
        "modified_after": cut.isoformat(), "per_page": 100}).json()
    assert {p["id"] for p in posts} == {a.post_id for a in articles if a.modified_at > cut}
    posts = client.get(base + "/wp-json/wp/v2/posts", params={
        "after": "2020-01-01T00:00:00", "before": "2021-01-01T00:00:00", "per_page": 100}).json()
    assert {p["id"] for p in posts} == {a.post_id for a in articles
                                        if a.published.year == 2020}


def test_rest_api_switched_off_answers_401_everywhere(corpus: Corpus,
                                                      client: httpx.Client) -> None:
    with serve_replica(corpus, ["sn"], rest_api=False) as closed:
        for path in ("/wp-json/", "/wp-json/wp/v2/posts", "/wp-json/wp/v2/posts?page=1"):
            response = client.get(closed.urls["sn"] + path)
            assert response.status_code == 401
            assert response.json()["code"] == "rest_not_logged_in"


def test_articles_answer_conditional_requests(replica: RunningReplica, corpus: Corpus,
                                              client: httpx.Client) -> None:
    url = replica.urls["sn"] + corpus.article(0).path
    first = client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert parsedate_to_datetime(modified) == corpus.article(0).modified_at
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"autre"'}).status_code == 200
    stale = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(url, headers={"If-Modified-Since": stale}).status_code == 200


def test_unknown_paths_answer_an_html_404(replica: RunningReplica, client: httpx.Client) -> None:
    response = client.get(replica.urls["sn"] + "/nulle-part/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in response.text
    assert client.get(replica.urls["sn"] + "/2020/13/").status_code == 404


def test_requests_are_recorded_for_politeness_checks(replica: RunningReplica,
                                                     client: httpx.Client) -> None:
    app = replica.apps["ci"]
    before = len(app.hits("/prive/"))
    client.get(replica.urls["ci"] + "/prive/espace-membres/",
               headers={"User-Agent": "testeur/1.0"})
    hits = app.hits("/prive/")
    assert len(hits) == before + 1
    assert hits[-1].status == 200 and hits[-1].user_agent == "testeur/1.0"
    assert hits[-1].headers["user-agent"] == "testeur/1.0"
    assert abs(hits[-1].at - time.time()) < 60


def test_serving_a_listing_of_a_100k_corpus_builds_only_the_articles_it_shows(
        client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    build = Corpus._build

    def counted(corpus: Corpus, i: int) -> ReplicaArticle:
        built.append(i)
        return build(corpus, i)

    monkeypatch.setattr(Corpus, "_build", counted)
    big = Corpus(100_000)
    with serve_replica(big, ["sn"]) as running:
        # The first listing orders the corpus by date from its cheap entries (seconds on a
        # loaded machine), so the timeout is a bound, not a speed goal (bench/crawl.py has those).
        response = client.get(running.urls["sn"] + "/page/1/", timeout=300)
        assert response.status_code == 200
        shown = _soup(response).select("h2.entry-title a")
        assert 0 < len(built) <= len(shown)
        link = shown[0]["href"]
        assert client.get(link).status_code == 200
        api = client.get(running.urls["sn"] + "/wp-json/wp/v2/posts", params={"per_page": 100})
        assert int(api.headers["x-wp-total"]) > 30_000
    assert len(set(built)) < 1_000
    assert re.match(r"http://127\.0\.0\.1:\d+/\d{4}/\d{2}/\d{2}/", link)


def test_serving_an_unknown_edition_fails_cleanly(corpus: Corpus) -> None:
    with pytest.raises(ValueError, match="edition"):
        serve_replica(corpus, ["sn", "zz"])


def test_editions_take_consecutive_ports_when_a_port_is_given(corpus: Corpus) -> None:
    import socket

    for _attempt in range(5):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            running = serve_replica(corpus, port=port)
        except InvalidInput:
            continue
        with running:
            assert list(running.urls.values()) == [
                f"http://127.0.0.1:{port + k}" for k in range(3)]
        return
    pytest.fail("no three consecutive free ports found in five attempts")


def test_sitemaps_and_listings_page_at_the_sizes_asked(corpus: Corpus,
                                                       client: httpx.Client) -> None:
    expected = {corpus.article(i).path for i in corpus.in_edition("sn")}
    with serve_replica(corpus, ["sn"], sitemap_page_size=7, listing_page_size=4) as small:
        base = small.urls["sn"]
        index = ET.fromstring(client.get(base + "/wp-sitemap.xml").content)
        subs = [loc.text or "" for loc in index.iter(SITEMAP + "loc") if "posts-post" in
                (loc.text or "")]
        assert len(subs) == -(-len(expected) // 7)
        seen: list[str] = []
        for sub in subs:
            seen += [loc.text or "" for loc in
                     ET.fromstring(client.get(sub).content).iter(SITEMAP + "loc")]
        assert sorted(seen) == sorted(base + path for path in expected)
        home = _soup(client.get(base + "/"))
        assert len(home.select("h2.entry-title a")) == 4
        head = client.head(base + corpus.article(corpus.in_edition("sn")[0]).path)
        assert head.status_code == 200 and head.content == b""
