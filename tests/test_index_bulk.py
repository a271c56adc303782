"""Full rebuilds with the bulk writer: the same index as Whoosh's writer, in parallel or not."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import index
from whoosh.index import Index
from whoosh.writing import SegmentWriter

from archive.models import Article
from archive.replica.corpus import Corpus
from archive.store import Archive, StoredArticle
from indexer import associated, rebuild, update
from indexer.analysis import frequent_words
from indexer.bulk import BulkSegmentWriter, UnsupportedSchema
from indexer.documents import document_for, earlier_fields
from indexer.matches import MatchEngine, match_with_whoosh
from indexer.query import make_parser, parse_query
from indexer.rebuild import BuildFailed, write_archive
from indexer.schema import build_schema
from indexer.whoosh_format import read_postings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ARTICLES = 160  # common words then fill more than one 128-posting block


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of replica articles, one withdrawn, one without author, one title only."""
    path = tmp_path_factory.mktemp("bulk") / "archive.sqlite3"
    corpus = Corpus(size=ARTICLES)
    with Archive.open(path) as archive:
        for i in range(ARTICLES):
            item = corpus.article(i)
            body = "" if i == 7 else item.body
            archive.articles.save_article(
                Article(url=item.canonical_url, title=item.title, body=body,
                        author=None if i == 3 else item.author, published=item.published,
                        edition=item.edition, categories=item.categories),
                capture_id=None, seen_at=NOW)
        archive.articles.mark_withdrawn(corpus.article(5).canonical_url, when=NOW, reason="410")
    return path


@pytest.fixture(scope="module")
def stored_articles(database: Path) -> list[StoredArticle]:
    with Archive.open(database, readonly=True) as archive:
        return list(archive.reads.iter_articles())


@pytest.fixture(scope="module")
def schema(stored_articles: list[StoredArticle]) -> Any:
    return build_schema(frequent_words((a.body or "" for a in stored_articles), 0.05))


def segment_files(folder: Path, ix: Index) -> dict[str, bytes]:
    """Every file of the index's only segment, by name without the random segment id."""
    [segment] = ix._segments()
    prefix = segment.segment_id()
    return {path.name[len(prefix):]: path.read_bytes() for path in folder.iterdir()
            if path.name.startswith(prefix)}


def build_with(folder: Path, schema: Any, documents: list[dict[str, Any]],
               writer_class: type[SegmentWriter], measure_every: int = 0) -> Index:
    """Write DOCUMENTS as one segment; a bulk writer's memory is measured every
    MEASURE_EVERY documents (its terms are then numbered), as a full rebuild does."""
    ix = index.create_in(str(folder), schema)
    writer = writer_class(ix, codec=update._codec(), compound=False)
    for done, document in enumerate(documents, start=1):
        writer.add_document(**document)
        if measure_every and done % measure_every == 0:
            assert writer.buffered_bytes() > 0
    writer.commit(merge=False)
    return ix


@pytest.mark.parametrize("measure_every", [0, 1, 7])
def test_bulk_segment_is_byte_for_byte_the_one_whoosh_writes(
        tmp_path: Path, schema: Any, stored_articles: list[StoredArticle],
        measure_every: int) -> None:
    documents = [document_for(article) for article in stored_articles]
    # Authors, dates and editions repeat: the bulk writer makes their postings once.
    assert len({d.get("author") for d in documents}) < len(documents)
    for i in (1, 2):  # two edited articles: their superseded text in the earlier fields
        documents[i].update(earlier_fields(stored_articles[i], [
            ("Un ancien titre", "Le porte-parole du gouvernement l'avait dit avant l'édition."),
            (None, stored_articles[i + 10].body)]))
    whoosh_dir, bulk_dir = tmp_path / "whoosh", tmp_path / "bulk"
    whoosh_dir.mkdir()
    bulk_dir.mkdir()
    whoosh_ix = build_with(whoosh_dir, schema, documents, SegmentWriter)
    bulk_ix = build_with(bulk_dir, schema, documents, BulkSegmentWriter, measure_every)

    expected, written = segment_files(whoosh_dir, whoosh_ix), segment_files(bulk_dir, bulk_ix)
    assert {".trm", ".pst", "._stored.col", "._body_len.col", "._body_exact_len.col",
            "._earlier_exact_len.col"} <= set(expected)
    assert written.keys() == expected.keys()
    for name in expected:
        assert written[name] == expected[name], f"{name} differs"
    [whoosh_segment], [bulk_segment] = whoosh_ix._segments(), bulk_ix._segments()
    assert bulk_segment.doc_count_all() == whoosh_segment.doc_count_all() == ARTICLES
    assert bulk_segment._fieldlengths == whoosh_segment._fieldlengths
    with bulk_ix.reader() as reader:  # long posting lists really span several blocks
        assert max(reader.doc_frequency("body", term) for term in reader.lexicon("body")) > 128


def test_values_given_as_lists_are_indexed_as_whoosh_indexes_them(
        tmp_path: Path, schema: Any, stored_articles: list[StoredArticle]) -> None:
    documents = [document_for(article) for article in stored_articles[:12]]
    for i, document in enumerate(documents):  # repeated lists too (the writer's made values)
        document["categories"] = ["Politique", "Économie"] if i % 2 else ["Sport"]
        document["edition"] = ["sn", "ml"] if i % 3 else document["edition"]
    whoosh_dir, bulk_dir = tmp_path / "whoosh", tmp_path / "bulk"
    whoosh_dir.mkdir()
    bulk_dir.mkdir()
    expected = segment_files(whoosh_dir, build_with(whoosh_dir, schema, documents, SegmentWriter))
    written = segment_files(bulk_dir, build_with(bulk_dir, schema, documents, BulkSegmentWriter))
    assert written == expected


def test_terms_are_numbered_in_the_order_they_first_occur_across_memory_checks(
        tmp_path: Path, schema: Any, stored_articles: list[StoredArticle]) -> None:
    # The segment's word file lists the spelling words in that order.
    ix = index.create_in(str(tmp_path), schema)
    writer = BulkSegmentWriter(ix, codec=update._codec())
    for done, article in enumerate(stored_articles[:30], start=1):
        writer.add_document(**document_for(article))
        if done % 4 == 0:
            writer.buffered_bytes()
    for name in ("body", "body_pairs", "spell", "author"):
        log = writer._logs[name]
        numbers = list(dict.fromkeys(log.term_ids))  # each term number once, as first seen
        assert numbers == list(range(len(log.terms))), name
        assert sorted(log.terms.values()) == numbers
    writer.cancel()


def test_a_document_the_bulk_writer_refuses_leaves_nothing_behind(
        tmp_path: Path, schema: Any, stored_articles: list[StoredArticle]) -> None:
    documents = [document_for(article) for article in stored_articles[:20]]
    ix = index.create_in(str(tmp_path), schema)
    writer = BulkSegmentWriter(ix, codec=update._codec())
    for document in documents[:10]:
        writer.add_document(**document)
    with pytest.raises(ValueError):
        writer.add_document(**{**documents[10], "published": "pas une date"})
    for document in documents[10:]:
        writer.add_document(**document)
    writer.commit()

    other = tmp_path / "whoosh"
    other.mkdir()
    expected = build_with(other, schema, documents, SegmentWriter)
    with ix.reader() as got, expected.reader() as want:
        assert list(got.all_stored_fields()) == list(want.all_stored_fields())
        assert ([(f, t, got.doc_frequency(f, t)) for f, t in got.all_terms()]
                == [(f, t, want.doc_frequency(f, t)) for f, t in want.all_terms()])


def test_a_batch_with_a_refused_document_keeps_the_documents_before_it(
        tmp_path: Path, schema: Any, stored_articles: list[StoredArticle]) -> None:
    documents = [document_for(article) for article in stored_articles[:20]]
    ix = index.create_in(str(tmp_path), schema)
    writer = BulkSegmentWriter(ix, codec=update._codec())
    with pytest.raises(ValueError):
        writer.add_documents([*documents[:10], {**documents[10], "published": "pas une date"},
                              *documents[10:15]])
    assert writer.docnum == 10
    writer.add_documents(documents[10:])
    writer.commit()

    other = tmp_path / "whoosh"
    other.mkdir()
    expected = build_with(other, schema, documents, SegmentWriter)
    assert contents(ix) == contents(expected)


def test_batches_with_boosted_documents_are_byte_for_byte_whoosh_s(
        tmp_path: Path, schema: Any, stored_articles: list[StoredArticle]) -> None:
    documents = [document_for(article) for article in stored_articles[:30]]
    documents[2]["_boost"] = 3.0
    documents[5]["_body_boost"] = 0.5
    documents[6]["_title_pairs_boost"] = 2.5
    whoosh_dir, bulk_dir = tmp_path / "whoosh", tmp_path / "bulk"
    whoosh_dir.mkdir()
    bulk_dir.mkdir()
    expected = segment_files(whoosh_dir, build_with(whoosh_dir, schema, documents, SegmentWriter))
    ix = index.create_in(str(bulk_dir), schema)
    writer = BulkSegmentWriter(ix, codec=update._codec(), compound=False)
    for first in range(0, len(documents), 7):
        writer.add_documents(documents[first:first + 7])
    writer.commit(merge=False)
    assert segment_files(bulk_dir, ix) == expected


def test_schema_with_term_vectors_is_refused(tmp_path: Path) -> None:
    from whoosh.fields import TEXT, Schema

    ix = index.create_in(str(tmp_path), Schema(text=TEXT(vector=True)))
    with pytest.raises(UnsupportedSchema):
        BulkSegmentWriter(ix)
    ix.writer().cancel()  # the index's write lock was released


def contents(ix: Index) -> tuple[list[Any], list[Any]]:
    """Stored fields in document order, and every term with its postings (global numbers)."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        terms = []
        for fieldname, term in reader.all_terms():
            postings = reader.postings(fieldname, term)
            items = []
            while postings.is_active():
                # A format without values reads as None from a block, b"" when inlined.
                items.append((postings.id(), postings.weight(), postings.value() or b""))
                postings.next()
            terms.append((fieldname, term, items))
        return list(searcher.all_stored_fields()), terms


def write(folder: Path, schema: Any, database: Path, processes: int,
          limit_bytes: int = 1 << 30, **kwargs: Any) -> tuple[Index, rebuild.Written]:
    folder.mkdir()
    ix = index.create_in(str(folder), schema)
    written = write_archive(ix, database, processes=processes, limit_bytes=limit_bytes,
                            make_document=kwargs.pop("make_document", document_for),
                            codec=update._codec, **kwargs)
    return index.open_dir(str(folder)), written


@pytest.fixture(scope="module")
def one_writer(tmp_path_factory: pytest.TempPathFactory, schema: Any,
               database: Path) -> Iterator[tuple[Index, rebuild.Written]]:
    ix, written = write(tmp_path_factory.mktemp("one") / "ix", schema, database, 1)
    yield ix, written
    ix.close()


def test_one_writer_writes_every_article_in_one_segment(
        one_writer: tuple[Index, rebuild.Written]) -> None:
    ix, written = one_writer
    assert (written.documents, written.withdrawn, written.invalid) == (ARTICLES, 1, [])
    assert len(ix._segments()) == 1 and ix.doc_count() == ARTICLES


def test_two_writer_processes_write_the_same_index_in_two_segments(
        tmp_path: Path, schema: Any, database: Path,
        one_writer: tuple[Index, rebuild.Written]) -> None:
    seen: list[tuple[int, int]] = []
    ix, written = write(tmp_path / "ix", schema, database, 2,
                        progress=lambda done, total: seen.append((done, total)))
    try:
        assert len(ix._segments()) == 2
        assert (written.documents, written.withdrawn) == (ARTICLES, 1)
        assert contents(ix) == contents(one_writer[0])
        assert seen[-1] == (ARTICLES, ARTICLES)
        assert not (tmp_path / "ix" / "MAIN.tmp").exists()
    finally:
        ix.close()


def test_writer_past_its_memory_limit_starts_a_new_segment(
        tmp_path: Path, schema: Any, database: Path, monkeypatch: pytest.MonkeyPatch,
        one_writer: tuple[Index, rebuild.Written]) -> None:
    monkeypatch.setattr(rebuild, "PROGRESS_EVERY", 25)
    ix, _ = write(tmp_path / "ix", schema, database, 2, limit_bytes=1)
    try:
        assert len(ix._segments()) == 8  # 80 articles per writer, a new segment every 25
        assert contents(ix) == contents(one_writer[0])
    finally:
        ix.close()


def test_article_that_cannot_be_indexed_is_counted_not_written(
        tmp_path: Path, schema: Any, database: Path) -> None:
    def picky(article: StoredArticle) -> dict[str, Any]:
        if article.id in (10, 120):
            from archive.errors import InvalidInput
            raise InvalidInput(f"article {article.id} is unreadable")
        return document_for(article)

    ix, written = write(tmp_path / "ix", schema, database, 2, make_document=picky)
    try:
        assert written.documents == ix.doc_count() == ARTICLES - 2
        assert sorted(written.invalid) == ["article 10 is unreadable", "article 120 is unreadable"]
    finally:
        ix.close()


@pytest.mark.parametrize("processes", [1, 2])
def test_document_whoosh_refuses_fails_the_build(tmp_path: Path, schema: Any, database: Path,
                                                 processes: int) -> None:
    def spoiled(article: StoredArticle) -> dict[str, Any]:
        document = document_for(article)
        if article.id == 150:
            document["published"] = "pas une date"
        return document

    with pytest.raises(BuildFailed, match="article 150"):
        write(tmp_path / "ix", schema, database, processes, make_document=spoiled)


def test_writer_process_that_dies_fails_the_build_without_hanging(
        tmp_path: Path, schema: Any, database: Path) -> None:
    def fatal(article: StoredArticle) -> dict[str, Any]:
        if article.id == 100:
            os._exit(3)
        return document_for(article)

    with pytest.raises(BuildFailed, match=r"arrêté \(code 3\)"):
        write(tmp_path / "ix", schema, database, 2, make_document=fatal)


# ---- reading a posting list only where it can hold some documents (phrases, rarest first)


def test_postings_read_within_some_documents_hold_all_of_theirs(
        one_writer: tuple[Index, rebuild.Written]) -> None:
    ix, _ = one_writer
    with ix.reader() as reader:
        term = max(reader.lexicon("body"), key=lambda t: reader.doc_frequency("body", t))
        full = read_postings(reader, "body", term)
        assert full is not None and full[2] > 128  # more than one block
        all_ids, all_weights, frequency = full
        weight_of = dict(zip(all_ids.tolist(), all_weights.tolist(), strict=True))
        for within in ([all_ids[-1]], [all_ids[0]], [all_ids[0], all_ids[-1]]):
            part = read_postings(reader, "body", term, np.array(within, dtype=np.int64))
            assert part is not None
            ids, weights, part_frequency = part
            assert part_frequency == frequency
            assert set(within) <= set(ids.tolist())
            assert {d: weight_of[d] for d in ids.tolist()} == dict(
                zip(ids.tolist(), weights.tolist(), strict=True))
        assert len(read_postings(reader, "body", term, np.array([all_ids[-1]]))[0]) < len(all_ids)


@pytest.mark.parametrize("shape", [
    '"{0} {1}"', '"{0} {1} {2}"', "{0} {1}", "{0} {1} {2} {3}", "{0} {1} SAUF {2}",
    "({0} OU {1}) {2}", '{0} "{1} {2}"', "titre:{0} {1}",
])
def test_queries_over_long_posting_lists_agree_with_whoosh(
        one_writer: tuple[Index, rebuild.Written], stored_articles: list[StoredArticle],
        shape: str) -> None:
    """Rarest part first and blocks skipped: still Whoosh's documents and scores."""
    ix, _ = one_writer
    rng = random.Random(shape)
    with ix.searcher() as searcher:
        parser = make_parser(searcher.schema)
        checked = 0
        for article in rng.sample(stored_articles, 25):
            # Quoted words are exact forms: take them as they follow each other.
            pattern = r"[^\W\d_]+" if '"' in shape else r"[^\W\d_]{4,}"
            words = re.findall(pattern, article.body or "")
            if len(words) < 4:
                continue
            start = rng.randrange(len(words) - 3)
            query = parse_query(shape.format(*words[start:start + 4]), parser).query
            if query is None:
                continue
            engine = MatchEngine(searcher, {})
            fast, slow = engine.match(query), match_with_whoosh(query, searcher)
            assert engine.enabled
            assert fast.docs.tolist() == slow.docs.tolist()
            assert fast.scores == pytest.approx(slow.scores, rel=1e-9)
            checked += len(slow.docs)
        assert checked >= 10


def assert_word_table_is_whoosh_s(ix: Index, files: bool = True) -> None:
    """The table read from the word files holds, for each word kept, Whoosh's live documents."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        live = set(reader.all_doc_ids())
        truth = {}
        for raw in reader.lexicon("spell"):
            word = raw.decode("utf-8")
            docs = set(reader.postings("spell", raw).all_ids()) & live
            if len(word) >= 3 and word.isalpha() and docs:
                truth[word] = docs
        for leaf, _ in reader.leaf_readers():
            assert (associated.read_segment_words(leaf) is not None) == files
        table = associated.load_word_table(searcher, searcher.doc_count_all(), len(live))
    ceiling = max(associated.MIN_DOCS, int(associated.MAX_SHARE * len(live)))
    expected = {w for w, docs in truth.items() if associated.MIN_DOCS <= len(docs) <= ceiling}
    assert set(table.words) == expected and expected
    rows = words_by_document(table)
    for code, word in enumerate(table.words):
        assert table.frequencies[code] == len(truth[word])
        assert {doc for doc in live if word in rows[doc]} == truth[word]


def test_build_writes_each_segment_s_associated_words_beside_it(
        tmp_path: Path, schema: Any, database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild, "PROGRESS_EVERY", 25)
    ix, _ = write(tmp_path / "ix", schema, database, 2, limit_bytes=1)
    try:
        assert len(ix._segments()) > 2
        assert_word_table_is_whoosh_s(ix)
    finally:
        ix.close()


def test_associated_words_of_a_segment_without_its_file_come_from_its_postings(
        tmp_path: Path, schema: Any, stored_articles: list[StoredArticle]) -> None:
    # Written by Whoosh's own writer, as an index of an older version: no word file.
    ix = build_with(tmp_path, schema, [document_for(a) for a in stored_articles], SegmentWriter)
    try:
        assert_word_table_is_whoosh_s(ix, files=False)
    finally:
        ix.close()


def words_by_document(table: associated.WordTable) -> list[set[str]]:
    return [{table.words[c] for c in table.codes[table.starts[d]:table.starts[d + 1]].tolist()}
            for d in range(len(table.starts) - 1)]


# ---- the writing half at its edges: block and inline limits, weights, long values


def edge_schema() -> Any:
    """A schema of every posting format the bulk writer writes, with the index's analyzers."""
    from whoosh.fields import ID, KEYWORD, TEXT, Schema

    from indexer.analysis import exact_analyzer, french_analyzer, spelling_analyzer
    from indexer.postings_format import compact_format

    schema = Schema(
        id=ID(stored=True, unique=True),
        body=TEXT(analyzer=french_analyzer(), phrase=True, chars=True),
        body_exact=TEXT(analyzer=exact_analyzer(), phrase=True),
        spell=TEXT(analyzer=spelling_analyzer(), phrase=False),
        tags=KEYWORD(scorable=True, commas=True),
        plain=TEXT(phrase=True),  # Whoosh's own Positions: values pickled one by one
        flag=ID(),
    )
    for name in ("body", "body_exact"):
        schema[name].format = compact_format(schema[name].format)
    return schema


def edge_documents() -> list[dict[str, Any]]:
    """Terms of 1, 2, 3 (the inline limit), 128, 129, 256 and 257 documents; frequencies
    above 1, boosted documents (weights not whole), a word repeated until its positions take
    more than 127 bytes, and positions past 20,000."""
    documents = []
    for i in range(300):
        words = [f"mot{i}", "commun"]
        words += [f"bloc{n}" for n in (128, 129, 256, 257) if i < n]
        words += ["souvent"] * (i % 7 + 1) if i % 2 == 0 else []
        words += ["duo"] if i in (5, 77) else []
        words += ["trio"] if i in (1, 2, 3) else []
        words += ["répété"] * 150 if i == 40 else []
        words += [f"long{j % 40}" for j in range(20_000)] + ["fin"] if i == 299 else []
        text = " ".join(words)
        document: dict[str, Any] = {
            "id": f"d{i}", "body": text, "body_exact": text, "spell": text,
            "tags": ",".join(f"t{n}" for n in (2, 3, 128, 129) if i % n == 0),
            "plain": " ".join(words[:60]), "flag": "oui" if i % 3 else "non"}
        if i % 11 == 0:
            document["_boost"] = 1.5 if i % 2 else 0.1  # weights 32-bit floats keep inexact
        documents.append(document)
    return documents


@pytest.mark.parametrize("chunk", [1 << 16, 5])
def test_bulk_segment_is_whoosh_s_at_block_and_inline_boundaries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    from indexer import bulk

    monkeypatch.setattr(bulk, "_CHUNK_POSTINGS", chunk)  # runs of terms of a few postings
    schema, documents = edge_schema(), edge_documents()
    whoosh_dir, bulk_dir = tmp_path / "whoosh", tmp_path / "bulk"
    whoosh_dir.mkdir()
    bulk_dir.mkdir()
    whoosh_ix = build_with(whoosh_dir, schema, documents, SegmentWriter)
    bulk_ix = build_with(bulk_dir, schema, documents, BulkSegmentWriter)

    expected, written = segment_files(whoosh_dir, whoosh_ix), segment_files(bulk_dir, bulk_ix)
    assert written.keys() == expected.keys()
    for name in expected:
        assert written[name] == expected[name], f"{name} differs"
    with bulk_ix.reader() as reader:
        frequencies = {reader.doc_frequency("body_exact", word.encode()): word for word in
                       ("bloc128", "bloc129", "bloc256", "bloc257", "duo", "trio", "fin")}
        assert sorted(frequencies) == [1, 2, 3, 128, 129, 256, 257]
        assert reader.doc_frequency("tags", b"t2") == 150
        common, weights = reader.postings("body_exact", b"commun"), set()
        while common.is_active():
            weights.add(round(common.weight(), 6))
            common.next()
        assert weights == {0.1, 1.0, 1.5}
        repeated = reader.postings("body_exact", b"repete")  # accents folded
        assert len(repeated.value()) > 127  # a value whose size is more than one varint byte


def test_length_bytes_are_whoosh_s_length_to_byte() -> None:
    from whoosh.util.numeric import length_to_byte

    from indexer.whoosh_format import length_bytes

    lengths = np.array(list(range(0, 3000)) + list(range(3000, 200_000, 7)), dtype=np.int64)
    assert length_bytes(lengths).tolist() == [length_to_byte(n) for n in lengths.tolist()]
