"""``python -m archive reparse``: stored captures parsed again, without any crawl."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.config import Settings
from archive.models import Capture
from archive.store import Archive


@pytest.fixture
def parser() -> None:
    """Skip until the real parser (``archive.parser.parse_page``) has landed."""
    if not hasattr(pytest.importorskip("archive.parser"), "parse_page"):
        pytest.skip("archive.parser.parse_page has not landed yet")

FETCHED = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
HTML = "text/html; charset=UTF-8"


def _page(title: str, paragraphs: list[str], author: str, published: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{title} – Notre Continent</title></head><body>"
        f'<article><h1 class="entry-title">{title}</h1><div class="entry-content">{body}'
        f"<p>Article écrit par : {author}</p><p>Mis en ligne : {published}</p>"
        "</div></article></body></html>").encode()


def _listing() -> bytes:
    return ('<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Accueil</title>'
            '</head><body><main><h2><a href="/2024/02/01/eau/">L’eau</a></h2>'
            '<h2><a href="/2024/02/02/riz/">Le riz</a></h2></main></body></html>').encode()


def _capture(path: str, body: bytes, *, status: int = 200, minutes: int = 0) -> Capture:
    return Capture(url=f"http://127.0.0.1:8001{path}", status=status,
                   headers=(("Content-Type", HTML),), body=body,
                   fetched_at=FETCHED + timedelta(minutes=minutes))


EAU = ["L’eau manque à Dakar depuis trois jours.", "Les habitants s’organisent."]
RIZ = ["Le prix du riz a encore augmenté cette semaine sur les marchés de Thiès."]


def _fill(settings: Settings) -> None:
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        archive.captures.store_capture(_capture(
            "/2024/02/01/eau/", _page("L’eau à Dakar", EAU, "Aïssatou N'Diaye", "01/02/2024")))
        archive.captures.store_capture(_capture("/", _listing(), minutes=1))
        archive.captures.store_capture(_capture("/2024/02/03/parti/", b"Not Found", status=404,
                                       minutes=2))
        archive.captures.store_capture(_capture("/2024/02/02/riz/", _page("Le prix du riz", RIZ,
                                                                 "Moussa Fall", "02/02/2024"),
                                       minutes=3))


@pytest.mark.usefixtures("parser")
def test_reparse_builds_articles_from_captures_alone(run_cli, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _fill(settings)
    code, stdout, stderr = run_cli("reparse")
    assert (code, stderr) == (0, "")
    assert stdout.strip() == ("relecture : 3 captures relues, 2 nouveaux, 0 modifié, 0 inchangé, "
                              "1 non-article, 0 erreur")
    with Archive.open(settings.database_path, readonly=True) as archive:
        eau = archive.reads.get_article_by_url("http://127.0.0.1:8001/2024/02/01/eau/")
        assert eau is not None
        assert eau.title == "L’eau à Dakar"
        assert eau.body == "\n\n".join(EAU)
        assert eau.author == "Aïssatou N'Diaye"
        assert eau.captured_at == FETCHED

    code, stdout, _ = run_cli("reparse")
    assert code == 0
    assert "0 nouveau, 0 modifié, 2 inchangés, 1 non-article" in stdout


@pytest.mark.usefixtures("parser")
def test_reparse_makes_a_version_only_when_the_parse_differs(
        run_cli, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _fill(settings)
    assert run_cli("reparse")[0] == 0
    edited = [*EAU, "Mise à jour : l’eau est revenue ce matin."]
    with Archive.open(settings.database_path, warc_dir=settings.warc_dir) as archive:
        archive.captures.store_capture(_capture(
            "/2024/02/01/eau/", _page("L’eau à Dakar", edited, "Aïssatou N'Diaye", "01/02/2024"),
            minutes=60))
    code, stdout, _ = run_cli("reparse")
    assert code == 0
    assert "3 captures relues, 0 nouveau, 1 modifié, 1 inchangé" in stdout
    with Archive.open(settings.database_path, readonly=True) as archive:
        eau = archive.reads.get_article_by_url("http://127.0.0.1:8001/2024/02/01/eau/")
        assert eau is not None
        assert [v.body for v in archive.articles.versions(eau.id)] == ["\n\n".join(EAU),
                                                             "\n\n".join(edited)]


def test_reparse_without_an_archive_says_what_to_do(run_cli, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, stderr = run_cli("reparse")
    assert code == 6
    assert "lancez d'abord `python -m archive crawl`" in stderr
    assert not (data_dir / "archive.sqlite3").exists()
