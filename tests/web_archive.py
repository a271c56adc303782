"""A real archive and index of replica articles for the web tests (and the same code for the
benchmark): articles saved into a SQLite ``Archive``, some edited, one withdrawn, one carrying
hostile markup, then a full Whoosh build with ``indexer.update.update_index``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archive.models import Article
from archive.replica.corpus import Corpus
from archive.store import COMPLETE, Archive
from indexer.update import update_index

SEEN = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
HOSTILE_TITLE = '<script>alert("titre")</script> Le marché de Sandaga'
HOSTILE_BODY = (
    'Un paragraphe piégé <img src=x onerror="alert(1)"> sur le marché de Sandaga.\n\n'
    "Les commerçants de Sandaga <b>protestent</b> & demandent une réponse."
)
EDIT_SENTENCE = "Correctif : le maire a finalement annoncé la réouverture du marché central."


@dataclass
class BuiltArchive:
    """What was built, so tests can check pages against the ground truth."""

    data_dir: Path
    corpus: Corpus
    ids: dict[int, int] = field(default_factory=dict)
    edited: list[int] = field(default_factory=list)
    withdrawn: int = 0
    hostile: int = 0


def replica_article(corpus: Corpus, i: int) -> Article:
    """Return replica article I as the parser would have extracted it."""
    ra = corpus.article(i)
    return Article(
        url=ra.canonical_url, title=ra.title, body=ra.body, author=ra.author,
        published=ra.published, modified=ra.modified_at, edition=ra.edition,
        categories=ra.categories, canonical_url=ra.canonical_url,
    )


def build_archive(data_dir: Path, size: int, *, edits: int = 3, seed: int | None = None,
                  index: bool = True) -> BuiltArchive:
    """Save SIZE replica articles (plus edits, a withdrawal and a hostile page) and index them."""
    corpus = Corpus(size=size) if seed is None else Corpus(size=size, seed=seed)
    built = BuiltArchive(data_dir=data_dir, corpus=corpus)
    with Archive.open(data_dir / "archive.sqlite3", warc_dir=data_dir / "warc") as archive:
        run = archive.crawl_state.start_run(["https://sn.notrecontinent.com/"])
        with archive.transaction():
            for i in range(size):
                result = archive.articles.save_article(replica_article(corpus, i), capture_id=None,
                                              seen_at=SEEN)
                built.ids[i] = result.article_id
        for n, i in enumerate(range(1, min(size, 1 + 2 * edits), 2)):
            original = replica_article(corpus, i)
            paragraphs = original.body.split("\n\n")
            paragraphs[0] = paragraphs[0].replace(" ", " très ", 1)
            paragraphs.append(EDIT_SENTENCE)
            changed = Article(**{**original.__dict__, "body": "\n\n".join(paragraphs),
                                 "sources": {}})
            archive.articles.save_article(changed, capture_id=None,
                                          seen_at=SEEN + timedelta(days=n + 1))
            built.edited.append(built.ids[i])
        if size > 4:
            gone = replica_article(corpus, 4)
            withdrawn = archive.articles.mark_withdrawn(gone.url, when=SEEN + timedelta(days=9),
                                               reason="HTTP 410")
            built.withdrawn = withdrawn or 0
        hostile = Article(
            url="https://sn.notrecontinent.com/2024/05/02/piege/", title=HOSTILE_TITLE,
            body=HOSTILE_BODY, author="Awa <b>Ndiaye</b>",
            published=corpus.article(0).published, edition="sn",
            canonical_url="https://sn.notrecontinent.com/2024/05/02/piege/",
        )
        built.hostile = archive.articles.save_article(hostile, capture_id=None,
                                                      seen_at=SEEN).article_id
        archive.crawl_state.finish_run(run, status=COMPLETE, counts={"articles": size + 1},
                                       errors=[])
    if index:
        update_index(data_dir / "archive.sqlite3", data_dir / "index", full=True)
    return built
