"""The compact position and character-offset format: values, packed blocks, numpy decoding."""

from __future__ import annotations

import pickle
import pickletools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from whoosh.formats import Characters, Positions
from whoosh.index import create_in
from whoosh.qparser import QueryParser

from indexer.matches import MatchEngine, match_with_whoosh
from indexer.postings_format import (
    CompactCharacters,
    CompactPositions,
    PackedValues,
    characters_values,
    compact_format,
    decode_values,
    decode_varints,
    encode_varints,
    encode_varints_array,
    position_values,
    read_varints,
)
from indexer.schema import build_schema
from indexer.whoosh_format import (
    ArchiveCodec,
    UnexpectedLayout,
    _positions_of_values,
    read_characters,
    read_positions,
)

# Positions as long texts reach them, and beyond 2**21 (four varint bytes) and 2**28 (five).
_POSITION = st.integers(min_value=0, max_value=2**31)
_ASCENDING = st.lists(_POSITION, max_size=100).map(sorted)


def _occurrences(positions: list[int], starts: list[int]) -> list[tuple[int, int, int]]:
    return [(position, start, start + length) for position, (start, length)
            in zip(positions, zip(starts, [1 + s % 23 for s in starts], strict=True),
                   strict=False)]


@given(st.lists(st.integers(min_value=0, max_value=2**63 - 1), max_size=200))
def test_varints_read_back_as_written_in_python_and_numpy(numbers: list[int]) -> None:
    data = encode_varints(numbers)
    assert read_varints(data) == numbers
    small = [n for n in numbers if n < 2**62]
    assert decode_varints(np.frombuffer(encode_varints(small), dtype=np.uint8)).tolist() == small


def test_varints_take_one_byte_below_128_and_four_beyond_two_to_the_21() -> None:
    assert encode_varints([0, 127]) == b"\x00\x7f"
    assert encode_varints([128]) == b"\x80\x01"
    assert len(encode_varints([2**21])) == 4
    assert len(encode_varints([2**28])) == 5


def test_numpy_reads_varints_of_every_length_one_after_another() -> None:
    numbers = [0]
    for length in range(1, 10):  # the largest and smallest number of each length
        numbers += [2**(7 * length) - 1, 2**(7 * (length - 1)), 5]
    numbers = [n for n in numbers if n < 2**63]
    data = np.frombuffer(encode_varints(numbers), dtype=np.uint8)
    assert decode_varints(data).tolist() == numbers
    assert decode_varints(data[:0]).tolist() == []


def test_a_cut_off_or_negative_varint_is_refused() -> None:
    with pytest.raises(ValueError):
        read_varints(b"\x05\x80")
    with pytest.raises(ValueError):
        decode_varints(np.frombuffer(b"\x05\x80", dtype=np.uint8))
    with pytest.raises(ValueError, match="longer than 9 bytes"):
        decode_varints(np.frombuffer(b"\x05" + b"\x81" * 9 + b"\x01", dtype=np.uint8))
    with pytest.raises(ValueError):
        encode_varints([3, -1])


@given(_ASCENDING)
def test_positions_round_trip_with_their_frequency(positions: list[int]) -> None:
    format_ = CompactPositions(field_boost=2.0)
    value = format_.encode(positions)
    assert format_.decode_positions(value) == positions
    assert format_.decode_frequency(value) == len(positions)
    assert format_.decode_weight(value) == 2.0 * len(positions)
    assert format_.decode_position_boosts(value) == [(p, 1) for p in positions]


def test_many_occurrences_of_small_gaps_take_a_byte_each() -> None:
    positions = list(range(0, 30_000, 3))
    value = CompactPositions().encode(positions)
    assert len(value) == len(positions)
    assert CompactPositions().decode_positions(value) == positions


def test_decreasing_positions_are_refused() -> None:
    with pytest.raises(ValueError, match="decrease"):
        CompactPositions().encode([5, 3])
    with pytest.raises(ValueError, match="decrease"):
        CompactCharacters().encode([(5, 10, 12), (3, 14, 15)])


def test_no_position_is_an_empty_value() -> None:
    assert CompactPositions().encode([]) == b""
    assert CompactPositions().decode_positions(b"") == []
    assert CompactCharacters().decode_characters(b"") == []


@given(_ASCENDING, st.lists(st.integers(min_value=0, max_value=2**30), max_size=100))
def test_characters_round_trip_even_when_occurrences_overlap(
        positions: list[int], starts: list[int]) -> None:
    # Starts in any order: an occurrence may start before the previous one ends (zigzag gaps).
    occurrences = _occurrences(positions, starts)
    format_ = CompactCharacters(field_boost=1.5)
    value = format_.encode(occurrences)
    assert format_.decode_characters(value) == occurrences
    assert format_.decode_positions(value) == [p for p, _, _ in occurrences]
    assert format_.decode_frequency(value) == len(occurrences)


@given(st.lists(_ASCENDING.filter(bool), max_size=20), st.booleans())
def test_numpy_reads_the_positions_whoosh_s_decoders_read(
        values: list[list[int]], characters: bool) -> None:
    if characters:
        encoded = [CompactCharacters().encode(_occurrences(p, list(range(0, 5 * len(p), 5))))
                   for p in values]
    else:
        encoded = [CompactPositions().encode(p) for p in values]
    ids = np.arange(len(values), dtype=np.int64) * 3
    sizes = np.asarray([len(v) for v in encoded], dtype=np.int64)
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    wanted = np.asarray([i * 3 for i in range(len(values))][::-2] + [1], dtype=np.int64)
    owners, positions = _positions_of_values(wanted, ids, data, np.cumsum(sizes) - sizes,
                                             sizes, characters=characters)
    for index, doc in enumerate(wanted.tolist()):
        expected = values[doc // 3] if doc % 3 == 0 else []
        assert positions[owners == index].tolist() == expected


@given(st.lists(_ASCENDING, max_size=30))
def test_positions_encoded_with_numpy_are_the_bytes_encoded_per_posting(
        postings: list[list[int]]) -> None:
    flat = [position for positions in postings for position in positions]
    data, sizes = position_values(np.asarray(flat, dtype=np.int64),
                                  np.asarray([len(p) for p in postings], dtype=np.int64))
    expected = [CompactPositions().encode(positions) for positions in postings]
    assert data == b"".join(expected)
    assert sizes.tolist() == [len(value) for value in expected]


@given(st.lists(st.tuples(st.lists(_POSITION, max_size=40).map(sorted),
                          st.lists(st.integers(min_value=0, max_value=2**30), max_size=40)),
                max_size=10))
def test_characters_encoded_with_numpy_are_the_bytes_encoded_per_posting(
        postings: list[tuple[list[int], list[int]]]) -> None:
    occurrences = [_occurrences(positions, starts) for positions, starts in postings]
    flat = [occurrence for posting in occurrences for occurrence in posting]
    columns = np.asarray(flat, dtype=np.int64).reshape(-1, 3)
    data, sizes = characters_values(columns[:, 0], columns[:, 1], columns[:, 2],
                                    np.asarray([len(o) for o in occurrences], dtype=np.int64))
    expected = [CompactCharacters().encode(posting) for posting in occurrences]
    assert data == b"".join(expected)
    assert sizes.tolist() == [len(value) for value in expected]


def test_numpy_encoding_refuses_decreasing_positions() -> None:
    with pytest.raises(ValueError, match="decrease"):
        position_values(np.array([5, 3]), np.array([2]))
    assert position_values(np.array([5, 3]), np.array([1, 1]))[0] == b"\x05\x03"
    with pytest.raises(ValueError, match="negative"):
        encode_varints_array(np.array([-1]))


@given(numbers=st.lists(st.integers(min_value=0, max_value=2**62), max_size=30))
def test_numpy_varints_are_the_python_encoder_s_bytes(numbers: list[int]) -> None:
    data, sizes = encode_varints_array(np.array(numbers, dtype=np.int64))
    assert data.tobytes() == encode_varints(numbers)
    assert sizes.tolist() == [len(encode_varints([number])) for number in numbers]


def test_values_are_counted_and_decoded_together() -> None:
    data = np.frombuffer(encode_varints([1, 300, 2]) + encode_varints([2**22]), dtype=np.uint8)
    counts, numbers = decode_values(data, np.array([0, 4, 4]), np.array([4, 4, 8]))
    assert counts.tolist() == [3, 0, 1]
    assert numbers.tolist() == [1, 300, 2, 2**22]
    counts, numbers = decode_values(data[:0], np.array([0]), np.array([0]))
    assert counts.tolist() == [0] and numbers.tolist() == []


@given(st.lists(st.lists(st.integers(min_value=0, max_value=2**40), max_size=12), max_size=40))
def test_each_value_holds_the_numbers_written_into_it(values: list[list[int]]) -> None:
    written = [encode_varints(numbers) for numbers in values]
    sizes = np.array([len(value) for value in written], dtype=np.int64)
    ends = np.cumsum(sizes)
    data = np.frombuffer(b"".join(written), dtype=np.uint8)
    counts, numbers = decode_values(data, ends - sizes, ends)
    assert counts.tolist() == [len(numbers) for numbers in values]
    assert numbers.tolist() == [number for each in values for number in each]


def test_a_value_ending_inside_a_number_is_refused() -> None:
    data = np.frombuffer(encode_varints([5, 300, 7]), dtype=np.uint8)  # 300: two bytes
    with pytest.raises(ValueError, match="cut off"):
        decode_values(data, np.array([0, 2]), np.array([2, 4]))  # 300's first byte alone
    with pytest.raises(ValueError, match="cut off"):
        decode_values(data[:2], np.array([0]), np.array([2]))


@given(st.lists(st.binary(max_size=200), max_size=60))
@example([b"x" * 200, b"", b"y" * 128, b"z"])  # sizes of two varint bytes
def test_packed_values_are_the_values_and_pickle_without_an_object_per_value(
        values: list[bytes]) -> None:
    packed = PackedValues.of(values)
    assert list(packed) == values
    assert len(packed) == len(values)
    assert [packed[i] for i in range(-len(values), len(values))] == values + values
    assert packed[1:3] == values[1:3]
    again = pickle.loads(pickle.dumps(packed, 3))
    assert list(again) == values
    opcodes = [op.name for op, _, _ in pickletools.genops(pickle.dumps(packed, 3))]
    assert sum(name.endswith("BINBYTES") for name in opcodes) <= 2  # data and sizes alone


def test_packed_values_whose_sizes_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError, match="add up"):
        len(PackedValues(b"abc", b"\x01\x01"))
    with pytest.raises(IndexError):
        PackedValues.of([b"a"])[1]


def test_every_positional_field_of_the_schema_is_compact() -> None:
    schema = build_schema()
    positional = {name for name, field in schema.items()
                  if isinstance(field.format, Positions)}
    assert {"title", "body", "title_exact", "body_exact", "earlier", "earlier_exact",
            "title_exact_pairs", "body_exact_pairs"} <= positional
    for name in positional:
        assert isinstance(schema[name].format, (CompactPositions, CompactCharacters)), name
    assert isinstance(schema["body"].format, CompactCharacters)
    assert schema["title"].format.field_boost == 2.0
    assert type(compact_format(Characters())) is CompactCharacters


def _index_with_formats(path: Path, compact: bool) -> Any:
    """A small index of the archive's schema, in the compact formats or in Whoosh's own (as
    an index written before them holds its positions)."""
    schema = build_schema()
    if not compact:
        for _, field in schema.items():
            if isinstance(field.format, CompactCharacters):
                field.format = Characters(field_boost=field.format.field_boost)
            elif isinstance(field.format, CompactPositions):
                field.format = Positions(field_boost=field.format.field_boost)
    index = create_in(str(path), schema)
    writer = index.writer(codec=ArchiveCodec(inlinelimit=2))
    for number in range(300):
        words = " ".join(["crise", "énergie" if number % 3 else "pétrole", "mondiale"] * 3)
        rare = "Zanzibar" if number == 7 else ""  # one posting: inlined in its term's entry
        title, body = f"Titre {number}", f"La {words} touche le Sénégal {rare}"
        writer.add_document(id=str(number), author="Awa Ndiaye", title=title,
                            title_pairs=title, title_exact=title, title_exact_pairs=title,
                            body=body, body_pairs=body, body_exact=body, body_exact_pairs=body)
    writer.commit()
    return index


@pytest.mark.parametrize("compact", [True, False])
def test_an_index_in_whoosh_s_own_position_format_is_read_by_whoosh_s_matchers(
        tmp_path: Path, compact: bool) -> None:
    index = _index_with_formats(tmp_path, compact)
    with index.searcher() as searcher:
        leaf = searcher.reader().leaf_readers()[0][0]
        stem = next(iter(searcher.schema["body"].process_text("crise")))
        btext = searcher.schema["body"].to_bytes(stem)
        rare = searcher.schema["body_exact"].to_bytes("zanzibar")
        if compact:
            owners, places = read_positions(leaf, "body_exact", rare, [3, 7])
            assert owners.tolist() == [1] and places.tolist() == [13]  # stop words count here
            owners, places = read_positions(leaf, "body", btext, [0, 5])
            assert places[owners == 1].tolist() == [0, 3, 6]  # "La", a stop word, has none
            assert read_characters(leaf, "body", btext, [5])[5][0] == (0, 3, 8)
        else:  # the fast readers refuse it, so a search falls back on Whoosh's matchers
            with pytest.raises(UnexpectedLayout):
                read_positions(leaf, "body", btext, [0, 5])
            with pytest.raises(UnexpectedLayout):
                read_characters(leaf, "body", btext, [5])
            with pytest.raises(UnexpectedLayout):
                read_positions(leaf, "body_exact", rare, [3, 7])
        for text in ('"crise énergie"', '"crise énergie"~5', '"énergie crise"~2', "crise"):
            query = QueryParser("body", searcher.schema).parse(text)
            expected = match_with_whoosh(query, searcher)
            found = MatchEngine(searcher, {}).match(query)
            assert found.docs.tolist() == expected.docs.tolist()
            assert found.scores == pytest.approx(expected.scores, rel=1e-9)
            assert len(found.docs) == (300 if text == "crise" else 200)
