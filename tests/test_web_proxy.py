"""Behind the documented nginx, a client's forwarded headers cannot change the archive's links
(issue 10, finding 4): a private nginx runs the block of docs/operations.md in front of gunicorn
with ``ARCHIVE_TRUSTED_PROXIES=1``. Skips without nginx, fails so with ARCHIVE_REQUIRE_NGINX=1."""

from __future__ import annotations

import http.client
import json
import os
import re
import zlib
from collections.abc import Iterator

import pytest
from web_archive import BuiltArchive, build_archive
from web_servers import (
    NGINX,
    documented_nginx_block,
    fetch,
    free_port,
    gunicorn,
    local_nginx_block,
    nginx,
)

from archive.config import load_settings

PUBLIC_HOST = "archive.example.org"
FORGED = {
    "Host": PUBLIC_HOST,
    "X-Forwarded-Host": "attacker.invalid",
    "X-Forwarded-Prefix": "//attacker.invalid/x",
    "X-Forwarded-Port": "6666",
    "Forwarded": "host=attacker.invalid;proto=https",
    "X-Forwarded-For": "203.0.113.9",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("proxy-data"), 12, edits=1)


@pytest.fixture(scope="module")
def proxied(built: BuiltArchive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of the documented nginx, in front of gunicorn trusting one proxy."""
    if NGINX is None:
        message = "nginx is not installed (Debian package nginx)"
        if os.environ.get("ARCHIVE_REQUIRE_NGINX") == "1":
            pytest.fail(message + "; ARCHIVE_REQUIRE_NGINX=1 forbids skipping")
        pytest.skip(message)
    home = tmp_path_factory.mktemp("proxy-home")
    with gunicorn(built.data_dir, home, {"ARCHIVE_TRUSTED_PROXIES": "1"}) as upstream:
        port = free_port()
        block = local_nginx_block(documented_nginx_block(), port, upstream)
        with nginx(block, tmp_path_factory.mktemp("nginx")):
            yield port


def test_documented_nginx_clears_every_forwarded_header_it_does_not_set() -> None:
    block = documented_nginx_block()
    for header in ("X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "Forwarded"):
        assert f'proxy_set_header {header} "";' in block


@pytest.mark.parametrize("path", ["/", "/article/1", "/recherche?q=Sandaga",
                                  "/recherche.atom?q=Sandaga", "/recherche.csv?q=Sandaga",
                                  "/recherche.json?q=Sandaga", "/api/search?q=Sandaga",
                                  "/api/articles/1", "/api/openapi.json"])
def test_client_forwarded_headers_cannot_poison_links_behind_nginx(
        proxied: int, path: str) -> None:
    status, body = fetch(proxied, path, headers=FORGED)
    text = body.decode("utf-8")
    assert status == 200, text[:500]
    assert "attacker.invalid" not in text and "6666" not in text
    assert "203.0.113.9" not in text


def test_absolute_links_behind_nginx_name_the_public_host(proxied: int) -> None:
    _, body = fetch(proxied, "/api/search?q=Sandaga", headers=FORGED)
    hit = __import__("json").loads(body)["hits"][0]
    assert hit["archived_url"].startswith(f"http://{PUBLIC_HOST}/article/")
    _, feed = fetch(proxied, "/recherche.atom?q=Sandaga", headers=FORGED)
    assert f"http://{PUBLIC_HOST}/article/".encode() in feed
    _, page = fetch(proxied, "/article/1", headers=FORGED)
    assert f"http://{PUBLIC_HOST}/article/1".encode() in page
    assert b'href="/static/style.css"' in page


def test_other_host_names_are_refused_by_the_documented_nginx(proxied: int) -> None:
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        fetch(proxied, "/", headers={**FORGED, "Host": "attacker.invalid"})


def _get(port: int, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """GET PATH through nginx; return the response, its body already read (``.body``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        return response
    finally:
        conn.close()


PUBLIC = {"Host": PUBLIC_HOST, "Accept-Encoding": "gzip"}
# nginx's cache statuses of an answer it served from what it kept (REVALIDATED: the
# application answered 304 to its If-None-Match).
FROM_NGINX = ("HIT", "REVALIDATED")


def test_documented_nginx_keeps_a_search_answer_and_serves_it_again_unchanged(
        proxied: int) -> None:
    path = "/recherche?q=Sandaga&tri=anciens"
    first = _get(proxied, path, PUBLIC)
    again = _get(proxied, path, PUBLIC)
    assert first.status == again.status == 200
    assert first.headers["X-Proxy-Cache"] == "MISS"
    assert again.headers["X-Proxy-Cache"] in FROM_NGINX
    assert again.body == first.body  # type: ignore[attr-defined]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Content-Encoding"] == "gzip"
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    other = _get(proxied, "/recherche?q=Sandaga&tri=date", PUBLIC)
    assert other.headers["X-Proxy-Cache"] == "MISS"
    assert other.body != first.body  # type: ignore[attr-defined]


def test_documented_nginx_inflates_its_kept_answer_for_a_client_without_gzip(
        proxied: int) -> None:
    path = "/api/search?q=Sandaga&taille=3"
    compressed = _get(proxied, path, PUBLIC)
    plain = _get(proxied, path, {"Host": PUBLIC_HOST})
    assert plain.headers["X-Proxy-Cache"] in FROM_NGINX
    assert "Content-Encoding" not in plain.headers
    assert zlib.decompress(compressed.body, wbits=31) == plain.body  # type: ignore[attr-defined]
    assert json.loads(plain.body)["hits"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["/recherche?q=Sandaga&page=0", "/healthz", "/article/1"])
def test_documented_nginx_keeps_neither_errors_nor_pages_other_than_searches(
        proxied: int, path: str) -> None:
    for _ in range(2):
        answer = _get(proxied, path, PUBLIC)
        assert answer.headers.get("X-Proxy-Cache") in (None, "MISS"), path
    if path.startswith("/recherche"):
        assert answer.status == 400


def test_documented_nginx_keeps_a_search_no_longer_than_a_worker_takes_to_see_a_new_index(
        ) -> None:
    block = documented_nginx_block()
    kept = re.search(r"proxy_cache_valid 200 (\d+)s;", block)
    assert kept is not None and re.findall(r"proxy_cache_valid", block) == ["proxy_cache_valid"]
    assert int(kept.group(1)) <= load_settings().searcher_check_seconds
    # The application's one-minute Cache-Control is for browsers, not this cache; past its two
    # seconds nginx asks again with the ETag, which names the index generation.
    assert "proxy_ignore_headers Cache-Control Expires Vary;" in block
    assert "proxy_cache_revalidate on;" in block
    # One kept copy per public address: the scheme and host name the absolute links, and
    # every answer is asked for in gzip (the only header the answers vary on).
    assert "proxy_cache_key $scheme://$host$request_uri;" in block
    assert "proxy_set_header Accept-Encoding gzip;" in block
