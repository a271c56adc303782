"""Every fast path over Whoosh's on-disk format is taken on a real index, and agrees with Whoosh.

An upgrade of Whoosh that changes its layout makes a fast reader raise ``UnexpectedLayout``;
the search would then quietly use Whoosh's slower readers. These tests fail instead.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from search_fixtures import SEEN, archive_and_index, article, replica_articles, service_for
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
from whoosh.searching import Searcher

from archive.store import Archive
from indexer import whoosh_format
from indexer.columns import load_columns
from indexer.location import current_build, open_build
from indexer.rebuild import BuildFailed, write_archive
from indexer.update import update_index
from indexer.whoosh_format import (
    UnexpectedLayout,
    bytes_column,
    field_lengths,
    numeric_column,
    read_characters,
    read_positions,
    read_postings,
    report_fallback,
    slow_bytes_column,
    slow_field_lengths,
    slow_numeric_column,
    stored_fields,
    term_entry,
)

ARTICLES = 200  # common words then fill more than one 128-posting block


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("fast-paths")
    items = replica_articles(ARTICLES)
    items.append(article("unique", "Un titre singulier", "Le mot zanzibarite est rare."))
    archive_and_index(data_dir, items)
    return data_dir


@pytest.fixture(scope="module")
def searcher(data: Path) -> Iterator[Searcher]:
    build = current_build(data / "index")
    assert build is not None
    with open_build(build).searcher() as opened:
        yield opened


def _leaf(searcher: Searcher) -> Any:
    [(leaf, base)] = searcher.reader().leaf_readers()
    assert base == 0
    return leaf


def _common_word(searcher: Searcher) -> bytes:
    """Return a body word held by more than one block's worth of documents."""
    leaf = _leaf(searcher)
    for term in leaf.lexicon("body"):
        if leaf.doc_frequency("body", term) > whoosh_format.BLOCK_POSTINGS:
            return bytes(term)
    raise AssertionError("no word fills more than one block: make the corpus larger")


def _whoosh_postings(leaf: Any, field: str, btext: bytes) -> list[tuple[int, float, Any]]:
    matcher = leaf.postings(field, btext)
    found = []
    while matcher.is_active():
        found.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return found


def test_postings_are_read_from_blocks_as_whoosh_reads_them(searcher: Searcher) -> None:
    leaf = _leaf(searcher)
    word = _common_word(searcher)
    found = read_postings(leaf, "body", word)
    assert found is not None
    docs, weights, frequency = found
    expected = _whoosh_postings(leaf, "body", word)
    assert docs.tolist() == [doc for doc, _, _ in expected]
    assert weights.tolist() == pytest.approx([weight for _, weight, _ in expected])
    assert frequency == len(expected)


def test_term_entries_are_read_from_the_term_dictionary_as_whoosh_reads_them(
        searcher: Searcher) -> None:
    leaf = _leaf(searcher)
    terms = leaf._terms
    checked = 0
    for field in ("body", "title", "body_exact", "author"):
        for term in list(leaf.lexicon(field))[::37]:
            btext = bytes(term)
            entry = term_entry(terms, field, btext)
            assert entry is not None
            ours, whoosh_s = W3TermInfo.from_bytes(entry), terms.term_info(field, btext)
            assert (ours.doc_frequency(), ours.weight(), ours.extent(),
                    ours.inlined_postings()) == (
                whoosh_s.doc_frequency(), whoosh_s.weight(), whoosh_s.extent(),
                whoosh_s.inlined_postings())
            checked += 1
        assert term_entry(terms, field, b"zzzz-absent") is None
        assert term_entry(terms, field, b"") is None
    assert checked > 20


def test_short_posting_lists_are_inlined_and_read_back(searcher: Searcher) -> None:
    leaf = _leaf(searcher)
    [word] = [token.text for token in searcher.schema["body"].analyzer("zanzibarite")]
    btext = searcher.schema["body"].to_bytes(word)
    info = leaf.term_info("body", btext)
    assert info.is_inlined()
    found = read_postings(leaf, "body", btext)
    assert found is not None
    assert found[0].tolist() == [doc for doc, _, _ in _whoosh_postings(leaf, "body", btext)]


def test_positions_and_characters_are_whoosh_s(searcher: Searcher) -> None:
    leaf = _leaf(searcher)
    word = _common_word(searcher)
    expected = _whoosh_postings(leaf, "body", word)
    docnums = [doc for doc, _, _ in expected][::7]
    body_format = searcher.schema["body"].format
    characters = read_characters(leaf, "body", word, docnums)
    owners, positions = read_positions(leaf, "body", word, docnums)
    for index, doc in enumerate(docnums):
        value = dict((d, v) for d, _, v in expected)[doc]
        places = body_format.decode_characters(value)
        assert characters[doc] == places
        assert positions[owners == index].tolist() == [pos for pos, _, _ in places]


def test_exact_positions_read_with_numpy_are_whoosh_s(searcher: Searcher) -> None:
    leaf = _leaf(searcher)
    exact = searcher.schema["body_exact"].format
    frequent = sorted(leaf.lexicon("body_exact"),
                      key=lambda term: -leaf.doc_frequency("body_exact", term))[:40]
    checked = set()
    for word in frequent:
        expected = _whoosh_postings(leaf, "body_exact", bytes(word))
        # Every other document, and one without the word, in a shuffled order.
        docnums = [doc for doc, _, _ in expected][::2] + [leaf.doc_count_all() - 1]
        random.Random(len(docnums)).shuffle(docnums)
        owners, positions = read_positions(leaf, "body_exact", bytes(word), docnums)
        places = {doc: exact.decode_positions(value) for doc, _, value in expected}
        for index, doc in enumerate(docnums):
            assert positions[owners == index].tolist() == places.get(doc, [])
        checked |= {any(b - a > 255 for a, b in zip([0, *p], p, strict=False))
                    for p in places.values()}
    assert checked == {True, False}, "some deltas need more than one byte, others not"


def test_columns_are_read_in_one_piece_with_whoosh_s_values(searcher: Searcher) -> None:
    leaf = _leaf(searcher)
    count = leaf.doc_count_all()
    published = leaf.column_reader("published", translate=False)
    assert numeric_column(published, count).tolist() == \
        slow_numeric_column(published, count).tolist()
    authors = leaf.column_reader("author_key", translate=False)
    assert bytes_column(authors, count) == slow_bytes_column(authors, count)
    assert np.array_equal(field_lengths(leaf, "body"), slow_field_lengths(leaf, "body"))


def test_stored_fields_are_read_as_whoosh_reads_them(searcher: Searcher) -> None:
    leaf = _leaf(searcher)
    for docnum in range(leaf.doc_count_all()):
        assert stored_fields(leaf, docnum) == leaf.stored_fields(docnum)
    assert leaf._archive_stored.known  # the fast path was taken, not a fallback
    with pytest.raises(UnexpectedLayout):
        stored_fields(object(), 0)


def test_stored_fields_leave_out_a_field_the_schema_lost(searcher: Searcher,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = _leaf(searcher)
    monkeypatch.setattr(leaf, "_archive_stored", None)  # the schema is asked again
    schema = leaf.schema
    monkeypatch.setattr(leaf, "schema", schema.copy())
    leaf.schema.remove("url")
    assert "url" not in stored_fields(leaf, 0)
    assert stored_fields(leaf, 0) == leaf.stored_fields(0)


def test_a_search_takes_every_fast_path(data: Path, caplog: pytest.LogCaptureFixture,
                                        searcher: Searcher) -> None:
    word = _common_word(searcher).decode()
    caplog.set_level(logging.WARNING, logger="indexer.whoosh_format")
    with service_for(data) as service:
        for query in (word, f"{word} OU zanzibarite", f'"{word} {word}"', f"-{word} titre"):
            service.search(query, sort="date")
            service.search(query, author="Moussa Diop")
    assert [r.getMessage() for r in caplog.records] == []


def test_a_reader_that_is_not_whoosh_s_raises_unexpected_layout() -> None:
    with pytest.raises(UnexpectedLayout):
        numeric_column(object(), 3)
    with pytest.raises(UnexpectedLayout):
        bytes_column(object(), 3)


def test_a_fallback_is_logged_once_per_index_generation(
        searcher: Searcher, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="indexer.whoosh_format")
    what = f"test path {id(caplog)}"
    assert report_fallback(searcher, what, UnexpectedLayout("changed"))
    assert not report_fallback(searcher, what, UnexpectedLayout("changed again"))
    assert len([r for r in caplog.records if what in r.getMessage()]) == 1


@pytest.mark.parametrize("processes", [1, 2])
def test_a_failure_inside_whoosh_fails_inline_and_forked_builds_alike(
        data: Path, tmp_path: Path, processes: int) -> None:
    from whoosh import index

    from indexer.documents import document_for

    build = current_build(data / "index")
    assert build is not None
    schema = open_build(build).schema
    ix = index.create_in(str(tmp_path), schema)
    # Whoosh's own codec lacks the block input the bulk writer needs: a failure inside the
    # writer's flush, not a refused document.
    with pytest.raises(BuildFailed, match="writer for ids"):
        write_archive(ix, data / "archive.sqlite3", processes=processes, limit_bytes=1 << 30,
                      make_document=document_for, codec=W3Codec)


def test_category_rows_are_whoosh_s_postings_of_the_live_documents(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    items = [replace(article(f"rubrique-{i}", f"Titre {i}", f"Le texte numéro {i}."),
                     categories=("Politique",) if i % 3 else ("Sport", "Politique"))
             for i in range(300)]  # more than one 128-posting block per category
    ids = archive_and_index(tmp_path, items)
    with Archive.open(tmp_path / "archive.sqlite3") as archive:
        for item in items[:30:7]:
            archive.takedowns.hide(ids[item.url], reason="demande de l'auteur", when=SEEN)
    update_index(tmp_path / "archive.sqlite3", tmp_path / "index")
    build = current_build(tmp_path / "index")
    assert build is not None
    caplog.set_level(logging.WARNING, logger="indexer.whoosh_format")
    with open_build(build).searcher() as searcher:
        assert searcher.reader().has_deletions()
        columns = load_columns(searcher)
        assert [r.getMessage() for r in caplog.records] == []  # the fast reader, no fallback
        for code, name in enumerate(columns.category_names):
            term = name.lower().encode()
            whoosh_s = sorted(searcher.reader().postings("categories", term).all_ids())
            assert np.flatnonzero(columns.in_category[code]).tolist() == whoosh_s
    assert sorted(columns.category_names) == ["Politique", "Sport"]
