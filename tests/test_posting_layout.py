"""The index's posting layout (``indexer.posting_blocks``): what is written reads back.

Terms of 1, 127, 128, 129 and 256 postings (block edges), gaps up to 2**32 - 1, weights all
ones, all equal, whole and varied, and not whole; values of no byte and of more than 127
bytes; several terms read and decoded together, each laid out as when alone; any run of
blocks decoded alone; damaged postings refused with the layout's error, and through the
index's readers with ``UnexpectedLayout``, never a numpy error or a wrong answer. An index
with Whoosh's own blocks (written before this layout) is read by Whoosh's matcher through
``ArchiveCodec``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import Term

from indexer import posting_blocks as layout
from indexer.posting_blocks import CorruptPostings, TermRun, decode_blocks, encode_terms
from indexer.postings_format import CompactPositions
from indexer.whoosh_format import (
    ArchiveCodec,
    PackedLeafMatcher,
    UnexpectedLayout,
    read_positions,
    read_postings,
)

LIMIT = 128


def _run(terms: list[tuple[list[int], list[float], list[bytes]]]) -> TermRun:
    """A TermRun of TERMS, each (documents, weights, values)."""
    values = [value for _, _, term_values in terms for value in term_values]
    sizes = np.array([len(value) for value in values], dtype=np.int64)
    return TermRun(np.array([len(docs) for docs, _, _ in terms], dtype=np.int64),
                   np.array([doc for docs, _, _ in terms for doc in docs], dtype=np.int64),
                   np.array([w for _, weights, _ in terms for w in weights], dtype=np.float32),
                   np.zeros(len(values), dtype=np.uint8), sizes, np.cumsum(sizes) - sizes,
                   b"".join(values))


def _decoded(postings: bytes) -> tuple[list[int], list[float], list[bytes]]:
    """The documents, weights and values of a term's POSTINGS, every block decoded at once."""
    directory = layout.read_directory(postings, len(postings))
    buffer = np.frombuffer(postings + bytes(layout.padding()), dtype=np.uint8)
    docs, weights, sizes = decode_blocks(buffer, directory, 0, sizes=True)
    assert sizes is not None
    starts = layout.value_starts(directory, sizes, 0)
    return (docs.tolist(), weights.tolist(),
            [postings[start:start + size] for start, size in zip(starts.tolist(),
                                                                  sizes.tolist(), strict=True)])


def _term(count: int, gap: int, weights: str, value_size: int,
          ) -> tuple[list[int], list[float], list[bytes]]:
    docs = [i * (gap + 3) + (i % 3) for i in range(count)]
    chosen = {"ones": [1.0] * count, "equal": [3.0] * count,
              "whole": [float(1 + i % 7) for i in range(count)],
              "fractions": [0.25 + i / 3 for i in range(count)]}[weights]
    values = [bytes([(i + j) % 256 for j in range(value_size + i % 2)]) if value_size else b""
              for i in range(count)]
    return docs, chosen, values


@pytest.mark.parametrize("count", [1, 127, 128, 129, 256])
@pytest.mark.parametrize("weights", ["ones", "equal", "whole", "fractions"])
@pytest.mark.parametrize("gap, value_size", [(1, 0), (5, 3), (40_000, 200), (2**22, 1)])
def test_a_term_reads_back_as_written_at_block_edges(count: int, weights: str, gap: int,
                                                     value_size: int) -> None:
    term = _term(count, gap, weights, value_size)
    (postings,) = encode_terms(_run([term]), LIMIT)
    docs, found_weights, values = _decoded(postings)
    assert docs == term[0]
    assert found_weights == np.array(term[1], dtype=np.float32).tolist()
    assert values == term[2]
    assert layout.block_count(postings) == -(-count // LIMIT)


@pytest.mark.parametrize("blocks", [1, 2, 3, 16, 17])
@pytest.mark.parametrize("weights", ["ones", "whole", "fractions"])
@pytest.mark.parametrize("gap, value_size", [(1, 0), (40_000, 200)])
def test_a_directory_read_alone_is_the_one_read_beside_another(blocks: int, weights: str,
                                                               gap: int,
                                                               value_size: int) -> None:
    # A term alone against the same term read beside another: the same directory, value for
    # value (and damaged records refused).
    (postings,) = encode_terms(_run([_term(blocks * LIMIT - 1, gap, weights, value_size)]),
                               LIMIT)
    alone = layout.read_directory(postings, len(postings))
    together, counts = layout.read_directories(postings + postings, [0, len(postings)],
                                               [len(postings)] * 2)
    assert counts.tolist() == [blocks, blocks]
    assert alone.dtype == together.dtype and alone.flags.c_contiguous
    assert alone.tolist() == together[:, :blocks].tolist()
    with pytest.raises(CorruptPostings, match="does not describe"):
        layout.read_directory(postings, len(postings) - 1)
    damaged = bytearray(postings)
    damaged[layout.HEAD_SIZE + layout.BLOCK.itemsize * (blocks - 1) + 4] = 0  # its last: none
    with pytest.raises(CorruptPostings, match="impossible counts"):
        layout.read_directory(bytes(damaged), len(postings))


@pytest.mark.parametrize("bits", [8, 9, 10, 11, 24, 25, 26, 27, 29])
def test_numbers_as_wide_as_each_word_read_holds_read_back(bits: int) -> None:
    # A stream is read in 16-bit words up to 9 bits a number, 32-bit up to 25, else 64: a
    # number that wide may start 7 bits into its first byte. Both blocks of 256 postings
    # hold gaps of BITS bits among small ones, at every bit offset (fewer beyond 25 bits:
    # the documents stay below 2**32; wider ones: the largest gaps' test).
    count = 256
    every = 3 if bits <= 25 else 41
    gaps = [(1 << bits) - 1 if i % every == 0 else i % 5 for i in range(count)]
    docs = (np.cumsum(np.array(gaps, dtype=np.int64) + 1) - 1).tolist()
    assert docs[-1] < 2**32
    term = (docs, [float(i % 7 + 1) for i in range(len(docs))],
            [bytes(i % 300) for i in range(len(docs))])
    (postings,) = encode_terms(_run([term]), LIMIT)
    assert _decoded(postings) == term


@pytest.mark.parametrize("weights", ["ones", "equal", "whole", "fractions"])
def test_chosen_postings_weigh_what_their_blocks_decode_to(weights: str) -> None:
    terms = [_term(300, 2, weights, 1), _term(1, 5, weights, 0), _term(129, 40, weights, 2)]
    joined = b"".join(encode_terms(_run(terms), LIMIT))
    ends = np.cumsum([len(p) for p in encode_terms(_run(terms), LIMIT)]).tolist()
    offsets = [0, *ends[:-1]]
    directory, counts = layout.read_directories(joined, offsets,
                                                [e - o for o, e in zip(offsets, ends,
                                                                        strict=True)])
    buffer = np.frombuffer(joined + bytes(layout.padding()), dtype=np.uint8)
    docs, every, _ = decode_blocks(buffer, directory, 0)
    postings = directory[layout.POSTINGS]
    firsts = np.cumsum(postings) - postings
    chosen = np.array([0, 1, 127, 128, 129, 299, 300, 301, 429, 300 + 1 + 128], dtype=np.int64)
    block = np.searchsorted(firsts, chosen, side="right") - 1
    found = layout.weights_at(buffer, directory, block, chosen - firsts[block], 0)
    assert found.tolist() == every[chosen].tolist()
    assert layout.weights_at(buffer, directory, block[:0], chosen[:0], 0).tolist() == []
    heaviest, shortest = layout.block_limits(joined, offsets, counts.tolist())
    assert heaviest.tolist() == [float(every[f:f + n].max())
                                 for f, n in zip(firsts.tolist(), postings.tolist(),
                                                 strict=True)]
    assert shortest.tolist() == [0] * len(postings)  # no length was written
    docs_alone, no_weights, _ = decode_blocks(buffer, directory, 0, weighed=False)
    assert docs_alone.tolist() == docs.tolist() and not len(no_weights)


def test_the_largest_gaps_and_the_last_document_number_read_back() -> None:
    term = ([0, 2**32 - 2, 2**32 - 1], [1.0, 2.0, 1.0], [b"a", b"", b"b" * 300])
    (postings,) = encode_terms(_run([term]), LIMIT)
    assert _decoded(postings) == (term[0], term[1], term[2])
    with pytest.raises(ValueError, match="increase"):
        encode_terms(_run([([3, 3], [1.0, 1.0], [b"", b""])]), LIMIT)
    with pytest.raises(ValueError, match="2\\*\\*32"):
        encode_terms(_run([([2**32], [1.0], [b""])]), LIMIT)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.lists(st.integers(0, 2**20), min_size=1, max_size=300, unique=True),
    st.sampled_from([1.0, 2.0, 0.5]),
    st.integers(0, 140)), min_size=1, max_size=5))
def test_several_terms_read_back_decoded_together(
        specs: list[tuple[list[int], float, int]]) -> None:
    terms = []
    for docs, weight, size in specs:
        ordered = sorted(docs)
        terms.append((ordered, [weight * (1 + d % 3) for d in ordered],
                      [bytes([d % 251]) * (size + d % 2) for d in ordered]))
    encoded = encode_terms(_run(terms), LIMIT)
    joined = b"".join(encoded)
    offsets = np.cumsum([0, *map(len, encoded)])[:-1].tolist()
    directory, counts = layout.read_directories(joined, offsets, [len(e) for e in encoded])
    assert counts.tolist() == [-(-len(docs) // LIMIT) for docs, _, _ in terms]
    buffer = np.frombuffer(joined + bytes(layout.padding()), dtype=np.uint8)
    docs, weights, _ = decode_blocks(buffer, directory, 0)
    assert docs.tolist() == [doc for term in terms for doc in term[0]]
    assert weights.tolist() == [w for term in terms for w in term[1]]
    alone, _, _ = decode_blocks(buffer, directory, 0, weighed=False)  # a prefix's page
    assert alone.dtype == np.int64 and alone.tolist() == docs.tolist()
    for postings, term in zip(encoded, terms, strict=True):
        assert _decoded(postings) == term
        if len(encoded) > 1:  # a term alone (plain ints when of one block): the same bytes
            assert encode_terms(_run([term]), LIMIT) == [postings]


def test_a_long_run_and_its_first_blocks_decode_as_written() -> None:
    # A large prefix decodes some 100,000 postings a segment at once.
    count = 2**19 + 3 * LIMIT + 5
    docs = np.cumsum(np.arange(count, dtype=np.int64) % 9 + 1)
    weights = (np.arange(count) % 5 + 1).astype(np.float32)
    run = TermRun(np.array([count], dtype=np.int64), docs, weights,
                  np.zeros(count, dtype=np.uint8), np.zeros(count, dtype=np.int64),
                  np.zeros(count, dtype=np.int64), b"")
    (postings,) = encode_terms(run, LIMIT)
    directory = layout.read_directory(postings, len(postings))
    buffer = np.frombuffer(postings + bytes(layout.padding()), dtype=np.uint8)
    for blocks in (directory, directory[:, :8]):
        found, found_weights, _ = decode_blocks(buffer, blocks, 0)
        alone, _, _ = decode_blocks(buffer, blocks, 0, weighed=False)
        end = int(blocks[layout.POSTINGS].sum())
        assert np.array_equal(found, docs[:end]) and np.array_equal(alone, docs[:end])
        assert np.array_equal(found_weights, weights[:end])


def test_any_run_of_blocks_decodes_alone() -> None:
    term = _term(5 * LIMIT + 7, 3, "whole", 2)
    (postings,) = encode_terms(_run([term]), LIMIT)
    directory = layout.read_directory(postings, len(postings))
    for first, last in [(0, 0), (1, 3), (4, 5), (5, 5)]:
        blocks = directory[:, first:last + 1]
        low = int(blocks[layout.PACKED_AT, 0])
        high = int(blocks[layout.PACKED_END, -1])
        buffer = np.frombuffer(postings[low:high] + bytes(layout.padding()), dtype=np.uint8)
        docs, weights, _ = decode_blocks(buffer, blocks, low)
        end = min((last + 1) * LIMIT, len(term[0]))
        assert docs.tolist() == term[0][first * LIMIT:end]
        assert weights.tolist() == term[1][first * LIMIT:end]


def test_damaged_postings_are_refused_with_the_layout_s_error() -> None:
    term = _term(300, 7, "whole", 2)
    (postings,) = encode_terms(_run([term]), LIMIT)
    with pytest.raises(CorruptPostings):
        layout.read_directory(b"W3Bl" + postings[4:], len(postings))
    with pytest.raises(CorruptPostings):
        layout.read_directory(postings[:20], len(postings))
    with pytest.raises(CorruptPostings):
        layout.read_directory(postings, len(postings) + 1)
    directory = layout.read_directory(postings, len(postings))
    damaged = bytearray(postings)
    damaged[int(directory[layout.PACKED_AT, 1])] ^= 0xFF  # the second block's first gap
    buffer = np.frombuffer(bytes(damaged) + bytes(layout.padding()), dtype=np.uint8)
    with pytest.raises(CorruptPostings, match="last document"):
        decode_blocks(buffer, directory, 0)
    layout.check_term(postings, len(postings))
    with pytest.raises(CorruptPostings, match="checksum"):
        layout.check_term(bytes(damaged), len(postings))
    with pytest.raises(CorruptPostings, match="outside"):
        decode_blocks(np.frombuffer(postings[:int(directory[layout.PACKED_END, -1])],
                                    dtype=np.uint8), directory, 0)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=layout.SMALL_TERM_POSTINGS,
                unique=True),
       st.sampled_from(["ones", "equal", "whole", "fractions"]), st.integers(0, 140))
def test_a_small_term_decodes_with_plain_ints_as_with_numpy(docs: list[int], weights: str,
                                                           value_size: int) -> None:
    ordered = sorted(docs)
    count = len(ordered)
    _, chosen, values = _term(count, 1, weights, value_size)
    (postings,) = encode_terms(_run([(ordered, chosen, values)]), LIMIT)
    small = layout.decode_small_term(postings, len(postings), values=True)
    assert small is not None
    expected_docs, expected_weights, expected_values = _decoded(postings)
    assert small.docs == expected_docs
    assert small.weights == expected_weights  # the same floats, bit for bit
    assert small.last == ordered[-1]
    starts = small.value_starts
    assert [postings[a:b] for a, b in zip(starts, starts[1:], strict=False)] == expected_values
    assert layout.decode_small_term(postings, len(postings)) == small._replace(value_starts=[])


@pytest.mark.parametrize("count", [layout.SMALL_TERM_POSTINGS + 1, LIMIT + 1])
def test_a_term_too_long_for_plain_ints_is_left_to_numpy(count: int) -> None:
    (postings,) = encode_terms(_run([_term(count, 2, "whole", 1)]), LIMIT)
    assert layout.decode_small_term(postings, len(postings), values=True) is None


def test_a_damaged_small_term_is_refused_whatever_byte_changed() -> None:
    term = _term(20, 9, "whole", 3)
    (postings,) = encode_terms(_run([term]), LIMIT)
    for at in range(len(postings)):
        damaged = bytearray(postings)
        damaged[at] ^= 0x21
        with pytest.raises(CorruptPostings):
            if layout.decode_small_term(bytes(damaged), len(postings), values=True) is None:
                # A changed block count: no longer a term of one block, left to numpy's
                # reader, which refuses it in turn.
                layout.read_directory(bytes(damaged), len(postings))
                layout.check_term(bytes(damaged), len(postings))
    with pytest.raises(CorruptPostings, match="cut off"):
        layout.decode_small_term(postings[:-1], len(postings))
    with pytest.raises(CorruptPostings):
        layout.decode_small_term(postings, len(postings) + 1)


def _schema() -> Schema:
    schema = Schema(id=ID(stored=True), body=TEXT(phrase=True))
    schema["body"].format = CompactPositions()
    return schema


def _write(folder: Path, codec: Any) -> Any:
    ix = index.create_in(str(folder), _schema())
    writer = ix.writer(codec=codec, compound=False)
    for number in range(300):
        writer.add_document(id=str(number), body=" ".join(
            ["mot"] * (1 + number % 3) + (["rare"] if number % 50 == 0 else [])))
    writer.commit()
    return ix


def _whoosh_postings(ix: Any, word: str) -> list[tuple[int, float, list[int]]]:
    with ix.searcher() as searcher:
        matcher = Term("body", word).matcher(searcher)
        found = []
        while matcher.is_active():
            found.append((matcher.id(), matcher.weight(), matcher.value_as("positions")))
            matcher.next()
        return found


def test_a_damaged_block_fails_the_index_s_readers_with_unexpected_layout(
        tmp_path: Path) -> None:
    ix = _write(tmp_path, ArchiveCodec())
    expected = _whoosh_postings(ix, "rare")
    with ix.searcher() as searcher:
        leaf = searcher.reader().leaf_readers()[0][0]
        info = leaf._terms.term_info("body", b"rare")
        offset, length = info.extent()
        length = length[0] if isinstance(length, tuple) else length
        assert isinstance(leaf.postings("body", b"rare"), PackedLeafMatcher)
        ids, weights, _ = read_postings(leaf, "body", b"rare")  # type: ignore[misc]
        assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == [
            (doc, weight) for doc, weight, _ in expected]
    ix.close()
    (posting_file,) = [path for path in tmp_path.iterdir() if path.suffix == ".pst"]
    raw = bytearray(posting_file.read_bytes())
    directory = layout.read_directory(bytes(raw[offset:offset + length]), length)
    raw[offset + int(directory[layout.PACKED_AT, 0])] ^= 0x5A  # the first documents' gaps
    posting_file.write_bytes(bytes(raw))
    ix = index.open_dir(str(tmp_path))
    with ix.searcher() as searcher:
        leaf = searcher.reader().leaf_readers()[0][0]
        with pytest.raises(UnexpectedLayout, match="damaged"):
            read_postings(leaf, "body", b"rare")
        with pytest.raises(UnexpectedLayout, match="damaged"):
            read_positions(leaf, "body", b"rare", [50])
        with pytest.raises(UnexpectedLayout, match="damaged"):
            leaf.postings("body", b"rare").id()
    ix.close()


def test_an_index_with_whoosh_s_blocks_is_read_by_whoosh_s_matcher(tmp_path: Path) -> None:
    ix = _write(tmp_path, W3Codec())
    expected = _whoosh_postings(ix, "mot")
    assert len(expected) == 300
    ix.close()
    ix = index.open_dir(str(tmp_path))  # as a plain Whoosh program opens it
    with ix.searcher() as searcher:
        leaf = searcher.reader().leaf_readers()[0][0]
        info = leaf._terms.term_info("body", b"mot")
        matcher = ArchiveCodec().postings_reader(leaf._terms._postfile, info,
                                                 searcher.schema["body"].format)
        assert type(matcher) is W3LeafMatcher  # Whoosh's blocks: Whoosh's own matcher
        with pytest.raises(UnexpectedLayout, match="layout"):
            read_postings(leaf, "body", b"mot")
    assert _whoosh_postings(ix, "mot") == expected
    ix.close()
