"""``python -m archive parse FILE_OR_URL``: parse one article page and print it as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import httpx

from archive.cli import settings_from
from archive.errors import FetchFailed, InvalidInput
from archive.french import os_reason, technical, transport_reason
from archive.parser import parse_page

FETCH_TIMEOUT_SECONDS = 20.0
MAX_REDIRECTS = 5


def _user_agent(contact_url: str) -> str:
    return f"notrecontinent-archive/0.1 (+{contact_url})"


def fetch(url: str, contact_url: str) -> tuple[bytes, str, str | None]:
    """Return the body, final URL and Content-Type of URL, or raise FetchFailed."""
    try:
        with httpx.Client(
            timeout=FETCH_TIMEOUT_SECONDS,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": _user_agent(contact_url)},
        ) as client:
            response = client.get(url)
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"adresse invalide : {url} {technical(exc)}", url=url) from None
    except httpx.TooManyRedirects:
        raise FetchFailed(
            f"impossible de récupérer {url} : plus de {MAX_REDIRECTS} redirections", url=url
        ) from None
    except httpx.TimeoutException:
        raise FetchFailed(
            f"impossible de récupérer {url} : pas de réponse en {FETCH_TIMEOUT_SECONDS:g} s ; "
            "vérifiez l'adresse et votre connexion", url=url) from None
    except (httpx.HTTPError, ValueError) as exc:
        raise FetchFailed(
            f"impossible de récupérer {url} : {transport_reason(exc)} ; vérifiez l'adresse et "
            "votre connexion", url=url) from None
    if response.status_code >= 400:
        raise FetchFailed(
            f"impossible de récupérer {url} : le serveur a répondu HTTP {response.status_code}",
            url=url
        )
    return response.content, str(response.url), response.headers.get("content-type")


def read_file(path: str) -> tuple[bytes, str]:
    """Return the bytes of PATH (``-`` is standard input) and its ``file://`` URL."""
    if path == "-":
        return sys.stdin.buffer.read(), "file:///dev/stdin"
    target = Path(path)
    try:
        return target.read_bytes(), target.resolve().as_uri()
    except OSError as exc:
        raise FetchFailed(
            f"impossible de lire {path} : {os_reason(exc)}", path=path
        ) from None


@click.command(name="parse")
@click.argument("source", metavar="FICHIER_OU_ADRESSE")
@click.option(
    "--url", "page_url", default=None, metavar="ADRESSE",
    help="Adresse où la page était servie (pour un FICHIER : donne l'édition et les "
         "vérifications d'archive).",
)
@click.pass_context
def command(ctx: click.Context, source: str, page_url: str | None) -> None:
    """Lire une page d'article (un fichier, « - » pour l'entrée standard, ou une adresse
    http(s)) et l'afficher en JSON (clés en anglais : des programmes les lisent)."""
    content_type: str | None = None
    if source.startswith(("http://", "https://")):
        body, url, content_type = fetch(source, settings_from(ctx).contact_url)
    else:
        body, url = read_file(source)
    article = parse_page(body, page_url or url, content_type)
    click.echo(json.dumps(article.to_json(), ensure_ascii=False, indent=2))
