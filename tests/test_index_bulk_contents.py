"""A whole index written by the bulk writer holds what Whoosh's own writer puts in it.

Field by field and term by term: the same documents, weights and decoded values (positions,
character offsets, frequencies) and the same field lengths, whatever the values' encoding.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from whoosh import index
from whoosh.formats import Characters, Frequency, Positions
from whoosh.index import Index
from whoosh.writing import SegmentWriter

from archive.models import Article
from archive.replica.corpus import Corpus
from archive.store import Archive
from indexer import update
from indexer.analysis import frequent_words
from indexer.bulk import BulkSegmentWriter
from indexer.documents import document_for, earlier_fields
from indexer.schema import build_schema

ARTICLES = 300
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOSTILE = ("L’État-major d’aujourd’hui\u200d\u200f a dit : «\u202eNord‑Coréens\u202c» "
           "qu'İstanbul, 2024… \x00\x1f\x7f l'l'armée--x ANTICONSTITUTIONNELLEMENT ﬁn")


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Replica articles as the build makes them: edited ones, empty and hostile texts."""
    path = tmp_path_factory.mktemp("contents") / "archive.sqlite3"
    corpus = Corpus(size=ARTICLES)
    with Archive.open(path) as archive:
        for i in range(ARTICLES):
            item = corpus.article(i)
            body = {7: "", 8: HOSTILE, 9: f"{HOSTILE}\n{item.body}"}.get(i, item.body)
            archive.articles.save_article(
                Article(url=item.canonical_url, title=item.title if i != 10 else HOSTILE,
                        body=body, author=None if i == 3 else item.author,
                        published=item.published, edition=item.edition,
                        categories=item.categories),
                capture_id=None, seen_at=NOW)
        stored = list(archive.reads.iter_articles())
    documents = [document_for(article) for article in stored]
    for i in range(1, ARTICLES, 37):  # edited articles: their old text in the earlier fields
        documents[i].update(earlier_fields(stored[i], [
            ("Un ancien titre", "Le porte-parole du gouvernement l'avait dit avant l'édition."),
            (None, stored[(i + 10) % ARTICLES].body)]))
    return documents


def build(folder: Path, schema: Any, documents: list[dict[str, Any]],
          writer_class: type[SegmentWriter]) -> Index:
    folder.mkdir()
    ix = index.create_in(str(folder), schema)
    writer = writer_class(ix, codec=update._codec())
    for document in documents:
        writer.add_document(**document)
    writer.commit(merge=False)
    return ix


def decoded(format_: Any, value: bytes | None) -> Any:
    """Return what a posting's value means in FORMAT, whatever its encoding."""
    if isinstance(format_, Characters):
        return format_.decode_characters(value)
    if isinstance(format_, Positions):
        return format_.decode_positions(value)
    if isinstance(format_, Frequency):
        return format_.decode_frequency(value)
    return None


def contents(ix: Index) -> dict[str, Any]:
    """Every field's terms with their postings (document, weight, decoded value), and lengths."""
    found: dict[str, Any] = {}
    with ix.reader() as reader:
        for fieldname in ix.schema.names():
            field = ix.schema[fieldname]
            if not field.indexed:
                continue
            terms = {}
            for term in reader.lexicon(fieldname):
                postings = reader.postings(fieldname, term)
                items = []
                while postings.is_active():
                    items.append((postings.id(), postings.weight(),
                                  decoded(field.format, postings.value())))
                    postings.next()
                terms[term] = items
            lengths = [reader.doc_field_length(doc, fieldname, 0)
                       for doc in range(reader.doc_count_all())]
            found[fieldname] = (terms, lengths)
    return found


def test_bulk_index_holds_whoosh_s_terms_postings_and_values_in_every_field(
        tmp_path: Path, documents: list[dict[str, Any]]) -> None:
    bodies = [document.get("body", "") for document in documents]
    schema = build_schema(frequent_words(bodies, update.PAIR_WORD_SHARE),
                          frequent_words(bodies, update.EXACT_PAIR_WORD_SHARE, exact=True))
    whoosh_ix = build(tmp_path / "whoosh", schema, documents, SegmentWriter)
    bulk_ix = build(tmp_path / "bulk", schema, documents, BulkSegmentWriter)
    expected, written = contents(whoosh_ix), contents(bulk_ix)
    assert written.keys() == expected.keys()
    for fieldname, (terms, lengths) in expected.items():
        got_terms, got_lengths = written[fieldname]
        assert got_lengths == lengths, fieldname
        assert got_terms.keys() == terms.keys(), fieldname
        for term, postings in terms.items():
            assert got_terms[term] == postings, (fieldname, term)
    # Every kind of field was filled: a comparison of empty fields would prove nothing.
    for fieldname in ("title", "body", "body_exact", "body_pairs", "body_exact_pairs",
                      "earlier", "earlier_exact", "spell", "author"):
        assert expected[fieldname][0], fieldname
    with bulk_ix.reader() as reader:
        assert reader.doc_count() == ARTICLES
