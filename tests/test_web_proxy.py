"""Behind the documented nginx, a client's forwarded headers cannot change the archive's links
(issue 10, finding 4): a private nginx runs the block of docs/operations.md in front of gunicorn
with ``ARCHIVE_TRUSTED_PROXIES=1``. Skips without nginx, fails so with ARCHIVE_REQUIRE_NGINX=1."""

from __future__ import annotations

import http.client
import os
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
