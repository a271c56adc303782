"""``python -m archive parse FILE_OR_URL``: one JSON object, or one stderr line and an exit code."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

GOLD = Path(__file__).parent / "gold"
KEYS = {"url", "title", "author", "published", "modified", "body", "edition", "categories",
        "language", "canonical_url", "sources"}


class _Pages(BaseHTTPRequestHandler):
    """Serves one gold page in windows-1252 (declared in the header only) and a redirect."""

    user_agents: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.user_agents.append(self.headers.get("User-Agent", ""))
        if self.path == "/ancien-lien/":
            self.send_response(301)
            self.send_header("Location", "/2024/08/22/conakry-taxis-motos-greve/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path != "/2024/08/22/conakry-taxis-motos-greve/":
            self.send_error(404)
            return
        body = (GOLD / "http-charset.html").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=windows-1252")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def site() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving a page whose charset only the header gives."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_parse_file_prints_one_json_object_with_every_field(run_cli: Any) -> None:
    code, out, err = run_cli("parse", str(GOLD / "sample-twentytwenty.html"))
    assert code == 0, err
    article = json.loads(out)
    assert set(article) == KEYS
    assert article["author"] == "Sophie Diop"
    assert article["published"] == "2025-04-30"
    assert article["edition"] == "sn"
    assert article["url"].startswith("file:///") and article["url"].endswith(".html")
    assert article["sources"]["author"] == "platform-byline"
    assert "Environ 600 soldats nord-coréens" in out
    assert "NOTRECONTINENT.COM" not in article["body"]


def test_url_option_sets_the_address_used_for_the_edition(run_cli: Any) -> None:
    code, out, err = run_cli(
        "parse", str(GOLD / "entrymeta-only.html"),
        "--url", "https://cm.notrecontinent.com/2021/10/04/yaounde-etudiants-soa-sans-bus/",
    )
    assert code == 0, err
    article = json.loads(out)
    assert (article["edition"], article["sources"]["edition"]) == ("cm", "url-host")


def test_listing_page_exits_3_with_one_stderr_line(run_cli: Any) -> None:
    code, out, err = run_cli("parse", str(GOLD / "listing-home.html"))
    assert code == 3
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "pas un article" in err and "page de liste" in err


@pytest.mark.parametrize(
    ("name", "page_url", "what"),
    [("password-protected.html", "https://sn.notrecontinent.com/2023/05/02/dakar-rapport-mairie/",
      "un article protégé par un mot de passe"),
     ("wordpress-page.html", "https://sn.notrecontinent.com/a-propos/",
      "une page WordPress, pas un article"),
     ("attachment-page.html", "https://sn.notrecontinent.com/2021/02/10/a/marche-tilene/",
      "une page de pièce jointe")],
)
def test_what_is_not_a_public_article_exits_3_saying_what_it_is(
    run_cli: Any, name: str, page_url: str, what: str
) -> None:
    code, out, err = run_cli("parse", str(GOLD / name), "--url", page_url)
    assert code == 3
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"pas un article : {page_url} est {what}" in err


def test_missing_file_exits_4_with_one_stderr_line(run_cli: Any, tmp_path: Path) -> None:
    code, out, err = run_cli("parse", str(tmp_path / "absent.html"))
    assert code == 4
    assert len(err.strip().splitlines()) == 1
    assert "absent.html" in err and "Traceback" not in err


def test_url_is_fetched_with_its_header_charset_and_our_user_agent(
    run_cli: Any, site: str
) -> None:
    code, out, err = run_cli(
        "parse", f"{site}/ancien-lien/",
        env={"ARCHIVE_CONTACT_URL": "https://example.org/contact"},
    )
    assert code == 0, err
    article = json.loads(out)
    assert article["url"] == f"{site}/2024/08/22/conakry-taxis-motos-greve/"
    assert article["author"] == "Fatoumata Binta Diallo"
    assert "Les conducteurs de taxis-motos de Conakry ont observé mardi" in article["body"]
    assert _Pages.user_agents[-1] == "notrecontinent-archive/0.1 (+https://example.org/contact)"


def test_unreachable_url_exits_4_with_one_stderr_line(run_cli: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = run_cli("parse", f"http://127.0.0.1:{port}/2024/01/01/x/")
    assert code == 4
    assert len(err.strip().splitlines()) == 1
    assert "impossible de récupérer" in err


def test_http_error_status_exits_4(run_cli: Any, site: str) -> None:
    code, _out, err = run_cli("parse", f"{site}/2024/01/01/absent/")
    assert code == 4
    assert "HTTP 404" in err
