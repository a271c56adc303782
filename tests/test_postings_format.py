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

from indexer.matches import MatchEngine, _near_documents, match_with_whoosh
from indexer.postings_format import (
    CompactCharacters,
    CompactPositions,
    PackedValues,
    characters_values,
    compact_format,
    decode_varints,
    encode_varints,
    encode_varints_array,
    near_in_values,
    position_values,
    read_varints,
    values_keys,
)
from indexer.schema import build_schema
from indexer.whoosh_format import (
    ArchiveCodec,
    UnexpectedLayout,
    _pick_positions,
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


def _numpy_keys(wanted: np.ndarray, ids: np.ndarray, data: np.ndarray, starts: np.ndarray,
                sizes: np.ndarray, span: int, every: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``values_keys`` as numpy computed it before its kernel (the reference): the values
    wanted gathered, their varints decoded (``decode_varints``), counted at each value's
    bounds, and their deltas summed with a restart per value by a repeat."""
    chosen = np.flatnonzero(np.isin(wanted, ids))
    at = np.searchsorted(ids, wanted[chosen])
    chosen_sizes = sizes[at]
    ends = np.cumsum(chosen_sizes)
    firsts = ends - chosen_sizes
    picked = data[np.arange(int(ends[-1]) if len(ends) else 0)
                  + np.repeat(starts[at] - firsts, chosen_sizes)]
    if not len(picked):
        return chosen, np.zeros(len(chosen), dtype=np.int64), np.zeros(0, dtype=np.int64)
    if picked[-1] >= 0x80:
        raise ValueError("the last varint is cut off")
    numbers = decode_varints(picked)
    number_ends = np.flatnonzero(picked < 0x80)
    before = np.zeros(len(picked) + 1, dtype=np.int64)
    before[number_ends + 1] = np.arange(1, len(number_ends) + 1)
    for bounds in (firsts, ends):
        if len(bounds) and bool((picked >= 0x80)[np.maximum(bounds - 1, 0)][bounds > 0].any()):
            raise ValueError("a value's last varint is cut off")
    counts = before[ends] - before[firsts]
    if bool((counts % every).any()):
        raise ValueError("a character value is not made of triples")
    counts //= every
    deltas = numbers[0::every]
    totals = np.cumsum(deltas)
    value_firsts = np.cumsum(counts) - counts
    restart = np.where(value_firsts > 0, totals[np.maximum(value_firsts - 1, 0)], 0)
    totals += np.repeat(chosen * span - restart, counts)
    return chosen, counts, totals


@given(st.lists(st.lists(st.integers(min_value=0, max_value=2**21), max_size=12).map(sorted),
                max_size=40),
       st.lists(st.integers(min_value=0, max_value=80), max_size=40), st.booleans())
@example([[1, 300, 302], [], [2**22]], [0, 1, 2], False)
def test_the_compiled_keys_are_numpy_s(values: list[list[int]], wanted_list: list[int],
                                       characters: bool) -> None:
    if characters:
        written = [CompactCharacters().encode(_occurrences(p, list(range(0, 5 * len(p), 5))))
                   for p in values]
    else:
        written = [CompactPositions().encode(p) for p in values]
    # Every other document holds the term, its values stored in reverse order (not joined).
    ids = np.arange(len(values), dtype=np.int64) * 2
    sizes = np.array([len(value) for value in written], dtype=np.int64)
    data = np.frombuffer(b"".join(reversed(written)), dtype=np.uint8)
    starts = len(data) - np.cumsum(sizes)
    wanted = np.array(sorted(set(wanted_list)), dtype=np.int64)
    every = 3 if characters else 1
    for span in (0, 1 << 32):
        chosen, counts, keys, ascending = values_keys(wanted, ids, data, starts, sizes, span,
                                                      every)
        expected = _numpy_keys(wanted, ids, data, starts, sizes, span, every)
        assert [chosen.tolist(), counts.tolist(), keys.tolist()] == \
            [part.tolist() for part in expected]
        if span:
            assert ascending == bool(np.all(keys[1:] > keys[:-1]))


def test_each_value_s_positions_restart_from_zero() -> None:
    data = np.frombuffer(encode_varints([1, 300, 2]) + encode_varints([2**22]), dtype=np.uint8)
    ids = np.array([4, 5, 9], dtype=np.int64)
    chosen, counts, keys, ascending = values_keys(
        np.array([0, 4, 5, 9], dtype=np.int64), ids, data, np.array([0, 4, 4]),
        np.array([4, 0, 4]), 10**7)
    assert chosen.tolist() == [1, 2, 3] and counts.tolist() == [3, 0, 1]
    assert keys.tolist() == [10**7 + 1, 10**7 + 301, 10**7 + 303, 3 * 10**7 + 2**22]
    assert ascending


def test_damaged_values_are_refused_with_a_value_error() -> None:
    data = np.frombuffer(encode_varints([5, 300, 7]), dtype=np.uint8)  # 300: two bytes
    one = np.array([0], dtype=np.int64)

    def keys(data: np.ndarray, start: int, size: int, every: int = 1) -> np.ndarray:
        return values_keys(one, one, data, np.array([start]), np.array([size]), 1 << 32,
                           every)[2]

    with pytest.raises(ValueError, match="cut off"):
        keys(data, 0, 2)  # 300's first byte alone
    with pytest.raises(ValueError, match="past the data"):
        keys(data, 2, 3)
    with pytest.raises(ValueError, match="past the data"):
        keys(data, -1, 2)
    with pytest.raises(ValueError, match="past the data"):
        keys(data, 0, -1)
    with pytest.raises(ValueError, match="longer than 9 bytes"):
        keys(np.frombuffer(b"\x81" * 9 + b"\x01", dtype=np.uint8), 0, 10)
    assert keys(np.frombuffer(b"\x81" * 8 + b"\x01", dtype=np.uint8), 0, 9).tolist() == \
        [decode_varints(np.frombuffer(b"\x81" * 8 + b"\x01", dtype=np.uint8))[0]]
    with pytest.raises(ValueError, match="triples"):
        keys(data, 0, 3, every=3)  # two numbers
    assert keys(data, 0, 4, every=3).tolist() == [5]


def _word_values(postings: dict[int, list[int]]) -> tuple[np.ndarray, ...]:
    """A word's (ids, data, starts, sizes) holding POSTINGS (document: ascending positions),
    its values stored in reverse order (not one after the other)."""
    ids = np.array(sorted(postings), dtype=np.int64)
    written = [CompactPositions().encode(postings[int(doc)]) for doc in ids]
    sizes = np.array([len(value) for value in written], dtype=np.int64)
    data = np.frombuffer(b"".join(reversed(written)), dtype=np.uint8)
    return ids, data, len(data) - np.cumsum(sizes), sizes


_POSTINGS = st.dictionaries(st.integers(0, 40),
                            st.lists(st.integers(0, 3000), min_size=1, max_size=15).map(sorted),
                            max_size=25)


@given(_POSTINGS, _POSTINGS, st.integers(0, 40))
@example({1: [10, 50]}, {1: [56, 90], 2: [3]}, 5)
@example({1: [10, 50]}, {1: [55]}, 5)
def test_two_words_near_in_their_values_are_those_their_keys_find(
        first: dict[int, list[int]], second: dict[int, list[int]], distance: int) -> None:
    a, b = _word_values(first), _word_values(second)
    both = np.array(sorted(set(first) & set(second)), dtype=np.int64)
    expected: list[int] = []
    if len(both):
        keys = [values_keys(both, *word, 1 << 32)[2] for word in (a, b)]
        expected = both[_near_documents([np.sort(k) for k in keys], distance)].tolist()
    assert near_in_values(a, b, distance).tolist() == expected
    assert near_in_values(b, a, distance).tolist() == expected


def test_two_words_near_in_damaged_values_are_refused_with_a_value_error() -> None:
    ids = np.array([0], dtype=np.int64)
    sound = (ids, np.frombuffer(encode_varints([5, 300]), dtype=np.uint8),
             np.array([0]), np.array([3]))
    far = (ids, np.frombuffer(encode_varints([900]), dtype=np.uint8), np.array([0]),
           np.array([2]))
    with pytest.raises(ValueError, match="past the data"):
        near_in_values(sound, (ids, far[1], np.array([1]), np.array([2])), 5)
    with pytest.raises(ValueError, match="cut off"):
        near_in_values((ids, sound[1], np.array([0]), np.array([2])), far, 5)
    with pytest.raises(ValueError, match="longer than 9 bytes"):
        near_in_values((ids, np.frombuffer(b"\x81" * 9 + b"\x01", dtype=np.uint8),
                        np.array([0]), np.array([10])), far, 5)
    assert near_in_values(sound, far, 600).tolist() == [0]


@given(st.lists(st.lists(st.integers(0, 2**31 - 1), max_size=6).map(sorted), max_size=30),
       st.lists(st.integers(0, 70), max_size=40))
def test_positions_kept_are_picked_for_the_documents_wanted_in_any_order(
        postings: list[list[int]], asked: list[int]) -> None:
    ids = np.arange(len(postings), dtype=np.int32) * 2
    counts = np.array([len(p) for p in postings], dtype=np.int64)
    firsts = np.cumsum(counts) - counts
    places = np.array([p for each in postings for p in each], dtype=np.int32)
    for wanted in (sorted(set(asked)), asked):
        owners, positions = _pick_positions(np.array(wanted, dtype=np.int64), ids, firsts,
                                            places)
        expected = [(index, place) for index, doc in enumerate(wanted)
                    if doc % 2 == 0 and doc // 2 < len(postings)
                    for place in postings[doc // 2]]
        assert list(zip(owners.tolist(), positions.tolist(), strict=True)) == expected


def test_kept_positions_out_of_order_are_refused() -> None:
    with pytest.raises(UnexpectedLayout, match="not in order"):
        _pick_positions(np.array([0, 2], dtype=np.int64), np.array([0, 2], dtype=np.int32),
                        np.array([3, 1], dtype=np.int64), np.array([5, 6], dtype=np.int32))


@given(st.binary(max_size=64), st.lists(st.tuples(st.integers(-70, 70), st.integers(-5, 70)),
                                         max_size=8), st.booleans())
def test_any_bytes_are_decoded_or_refused_never_read_past(
        raw: bytes, bounds: list[tuple[int, int]], characters: bool) -> None:
    ids = np.arange(len(bounds), dtype=np.int64)
    starts = np.array([start for start, _ in bounds], dtype=np.int64)
    sizes = np.array([size for _, size in bounds], dtype=np.int64)
    try:
        _, counts, keys, _ = values_keys(ids, ids, np.frombuffer(raw, dtype=np.uint8), starts,
                                         sizes, 1 << 32, 3 if characters else 1)
    except ValueError:
        return
    assert int(counts.sum()) == len(keys) <= len(raw)


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
