"""A segment's term dictionary (``indexer.term_dictionary``) finds what was written, and only it.

Keys of every length (past 255 and 65,535 bytes of value), added one by one and in runs, read
back in order, each found and every near miss absent; the terms from any key and of any
prefix are those of a sorted list; keys out of order refused; a dictionary cut off or
damaged raises its error, through the index's readers ``UnexpectedLayout``. And an index
written with Whoosh's own codec (its hash-table term file) and with ``ArchiveCodec`` holds
the same terms with the same statistics, expands the same prefixes, suggests the same
corrections and finds the same documents.
"""

from __future__ import annotations

import bisect
import random
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.qparser import QueryParser

from indexer.term_dictionary import (
    TERMS_PER_BLOCK,
    CorruptDictionary,
    DictionaryReader,
    DictionaryWriter,
)
from indexer.whoosh_format import ArchiveCodec, ArchiveTermsReader, UnexpectedLayout, term_entry

FIELDS = {"body": 0, "title": 1, "url": 3}


def _entries(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """COUNT keys (a field's number, then a term) with values, in key order."""
    rng = random.Random(seed)
    words = [rng.randbytes(rng.randrange(1, 6)) for _ in range(max(count // 8, 1))]
    keys: set[bytes] = set()
    while len(keys) < count:
        number = rng.choice(list(FIELDS.values()))
        kind = rng.random()
        if kind < 0.6:  # shared beginnings, as word pairs have
            term = rng.choice(words) + b" " + rng.randbytes(rng.randrange(0, 8))
        elif kind < 0.8:
            term = rng.randbytes(rng.randrange(0, 40))
        elif kind < 0.98:  # beginnings shared past the bytes compared at once
            term = b"https://www.agoravox.fr/actualites/" + rng.randbytes(rng.randrange(0, 9))
        else:  # a key longer than 255 bytes
            term = rng.randbytes(rng.randrange(256, 700))
        keys.add(number.to_bytes(2, "big") + term)
    entries = []
    for key in sorted(keys):
        size = 70_000 if rng.random() < 0.002 else rng.randrange(0, 90)
        entries.append((key, rng.randbytes(size)))
    return entries


def _write(path: Path, entries: list[tuple[bytes, bytes]], runs: bool = False) -> None:
    with open(path, "wb") as file:
        writer = DictionaryWriter(file)
        writer.extras["fieldmap"].update(FIELDS)
        if runs:  # add_many with runs of 0 to 300 keys, add between them
            rng, at = random.Random(len(entries)), 0
            while at < len(entries):
                run = entries[at:at + rng.randrange(0, 300)]
                writer.add_many([key for key, _ in run], [value for _, value in run])
                at += len(run)
                if at < len(entries):
                    writer.add(*entries[at])
                    at += 1
        else:
            for key, value in entries:
                writer.add(key, value)
        writer.close()


def _reader(path: Path) -> DictionaryReader:
    data = path.read_bytes()
    return DictionaryReader(lambda offset, size: data[offset:offset + size], len(data))


def _name(key: bytes) -> str:
    number = int.from_bytes(key[:2], "big")
    return next(name for name, n in FIELDS.items() if n == number)


@pytest.mark.parametrize("count", [0, 1, TERMS_PER_BLOCK, TERMS_PER_BLOCK + 1, 3000])
@pytest.mark.parametrize("runs", [False, True])
def test_every_term_is_found_in_order_with_its_value(tmp_path: Path, count: int,
                                                     runs: bool) -> None:
    entries = _entries(count, seed=count)
    _write(tmp_path / "terms", entries, runs=runs)
    reader = _reader(tmp_path / "terms")
    assert reader.fieldmap == FIELDS
    expected = [(_name(key), key[2:], value) for key, value in entries]
    assert list(reader.items()) == expected
    for name, term, value in expected:
        assert reader.get(name, term) == value
    for name in FIELDS:
        assert reader.term_count(name) == sum(1 for found, _, _ in expected if found == name)


@pytest.mark.parametrize("count", [0, TERMS_PER_BLOCK + 1, 3000])
def test_directories_read_at_once_serve_every_lookup_without_another_read(
        tmp_path: Path, count: int) -> None:
    """``read_directories`` (a worker's warm-up) reads each field's directory once, as the
    first lookups would, and the lookups then read none again."""
    entries = _entries(count, seed=count + 7)
    _write(tmp_path / "terms", entries)
    data = (tmp_path / "terms").read_bytes()
    reads: list[tuple[int, int]] = []

    def read(offset: int, size: int) -> bytes:
        reads.append((offset, size))
        return data[offset:offset + size]

    prepared = DictionaryReader(read, len(data))
    prepared.read_directories()
    lazy = _reader(tmp_path / "terms")
    for name in FIELDS:
        assert prepared._section(name) == lazy._section(name)
    directories = {(place.offset, place.size) for place in prepared._places.values()}
    assert directories <= set(reads)
    reads.clear()
    for key, value in entries:
        assert prepared.get(_name(key), key[2:]) == value
    assert not directories & set(reads)


@pytest.mark.parametrize("count", [TERMS_PER_BLOCK * 3, 3000])
def test_keys_added_in_runs_are_written_as_added_one_by_one(tmp_path: Path, count: int) -> None:
    """Whole blocks of a run are encoded together (numpy): the same bytes as one by one."""
    entries = _entries(count, seed=count + 1)
    _write(tmp_path / "ones", entries)
    _write(tmp_path / "runs", entries, runs=True)
    assert (tmp_path / "runs").read_bytes() == (tmp_path / "ones").read_bytes()


def test_long_shared_beginnings_and_values_in_a_run_are_written_as_one_by_one(
        tmp_path: Path) -> None:
    """Shared lengths past the bytes compared at once and past 255 and 65,535 (wider
    numbers), trailing zero bytes, empty and 70 kB values."""
    keys = sorted(b"\x00\x00" + b"a" * size + tail for size in (0, 1, 31, 32, 33, 300, 70_000)
                  for tail in (b"", b"\x00", b"\x00\x00", b"\x01", b"b", b"\xc3\xa9"))
    values = [b"" if at % 5 == 0 else bytes([at % 256]) * (70_000 if at == 7 else at)
              for at in range(len(keys))]
    entries = list(zip(keys, values, strict=True))
    _write(tmp_path / "ones", entries)
    with open(tmp_path / "run", "wb") as file:
        writer = DictionaryWriter(file)
        writer.extras["fieldmap"].update(FIELDS)
        writer.add_many(keys, values)
        writer.close()
    assert (tmp_path / "run").read_bytes() == (tmp_path / "ones").read_bytes()
    assert list(_reader(tmp_path / "run").items()) == [("body", key[2:], value)
                                                       for key, value in entries]


def test_a_field_s_terms_with_their_values_joined_are_written_as_one_by_one(
        tmp_path: Path) -> None:
    """``add_field_terms`` (a field's terms without its number, the values joined), in runs
    of 0 to 300 terms that start and end inside blocks, writes what ``add`` writes."""
    entries = _entries(2500, seed=13)
    _write(tmp_path / "ones", entries)
    rng = random.Random(17)
    with open(tmp_path / "joined", "wb") as file:
        writer = DictionaryWriter(file)
        writer.extras["fieldmap"].update(FIELDS)
        at = 0
        while at < len(entries):
            number = entries[at][0][:2]
            run = [(key, value) for key, value in entries[at:at + rng.randrange(0, 300)]
                   if key[:2] == number]
            ends = list(accumulate(len(value) for _, value in run))
            writer.add_field_terms(number, [key[2:] for key, _ in run],
                                   b"".join(value for _, value in run),
                                   np.array(ends, dtype=np.int64))
            at += len(run)
            if at < len(entries) and entries[at][0][:2] == number and not run:
                writer.add(*entries[at])
                at += 1
        writer.close()
    assert (tmp_path / "joined").read_bytes() == (tmp_path / "ones").read_bytes()


def test_a_field_s_terms_out_of_order_are_refused(tmp_path: Path) -> None:
    with open(tmp_path / "terms", "wb") as file:
        writer = DictionaryWriter(file)
        writer.add(b"\x00\x01b", b"")
        with pytest.raises(ValueError, match="Keys must increase"):
            writer.add_field_terms(b"\x00\x01", [b"a"], b"", np.array([0]))
        with pytest.raises(ValueError, match="Keys must increase"):
            writer.add_field_terms(b"\x00\x01", [b"c", b"e", b"d"], b"xyz",
                                   np.array([1, 2, 3]))
        writer.close()


def test_near_misses_are_absent(tmp_path: Path) -> None:
    entries = _entries(2000, seed=7)
    _write(tmp_path / "terms", entries)
    reader = _reader(tmp_path / "terms")
    known = {(_name(key), key[2:]) for key, _ in entries}
    for key, _ in entries[::7]:
        name, term = _name(key), key[2:]
        for miss in (term + b"\x00", term[:-1], term + b"\xff", b"\xff" * 3, b""):
            if (name, miss) not in known:
                assert reader.get(name, miss) is None, (name, miss)
        assert reader.get("absent field", term) is None


def test_terms_from_any_key_and_prefixes_are_those_of_a_sorted_list(tmp_path: Path) -> None:
    entries = _entries(3000, seed=11)
    _write(tmp_path / "terms", entries)
    reader = _reader(tmp_path / "terms")
    ordered = [(key[:2], key[2:]) for key, _ in entries]
    rng = random.Random(3)
    probes = [key for key, _ in rng.sample(entries, 200)]
    for key in probes + [b"\x00\x00", b"\x00\x01\xff\xff", b"\x00\x03"]:
        name = _name(key)
        for term in (key[2:], key[2:-1], key[2:] + b"\x00", key[2:3]):
            at = bisect.bisect_left(ordered, (key[:2], term))
            expected = [(_name(number + b""), found) for number, found in ordered[at:at + 40]]
            got = [(found_name, found) for found_name, found, _ in reader.items_from(name, term)]
            assert got[:40] == expected, term
            prefix = [found for number, found in ordered
                      if number == key[:2] and found.startswith(term)]
            assert [found for found, _ in reader.prefix(name, term)] == prefix


def test_keys_out_of_order_are_refused(tmp_path: Path) -> None:
    with open(tmp_path / "terms", "wb") as file:
        writer = DictionaryWriter(file)
        writer.add(b"\x00\x01b", b"")
        with pytest.raises(ValueError, match="Keys must increase"):
            writer.add(b"\x00\x01a", b"")
        with pytest.raises(ValueError, match="Keys must increase"):
            writer.add_many([b"\x00\x01c", b"\x00\x01e", b"\x00\x01d"], [b"", b"", b""])
        writer.close()


def test_a_cut_or_damaged_dictionary_raises_its_error(tmp_path: Path) -> None:
    entries = _entries(500, seed=5)
    _write(tmp_path / "terms", entries)
    data = (tmp_path / "terms").read_bytes()
    for cut in (0, 3, 10, len(data) // 2, len(data) - 1):
        with pytest.raises(CorruptDictionary):
            DictionaryReader(lambda offset, size, raw=data[:cut]: raw[offset:offset + size], cut)
    checked = 0
    for place in range(4, len(data), 97):  # one byte changed anywhere
        damaged = bytearray(data)
        damaged[place] ^= 0x41
        raw = bytes(damaged)
        try:
            reader = DictionaryReader(lambda offset, size, raw=raw: raw[offset:offset + size],
                                      len(raw))
            found = list(reader.items())
        except CorruptDictionary:
            checked += 1
            continue
        pytest.fail(f"a changed byte at {place} went unnoticed ({len(found)} terms read)")
    assert checked > 10


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(spelling=True),
                  title=TEXT, tags=KEYWORD)


def _index(folder: Path, codec: Any) -> Any:
    rng = random.Random(9)
    words = ["mot", "maison", "maisonnette", "mare", "marée", "rare", "vent", "ventre",
             "vendredi", "zèbre"] + [f"terme{n}" for n in range(400)]
    folder.mkdir()
    ix = index.create_in(str(folder), _schema())
    writer = ix.writer(codec=codec, compound=False)
    for number in range(400):
        writer.add_document(id=str(number), body=" ".join(rng.choices(words, k=30)),
                            title=" ".join(rng.choices(words[:10], k=3)),
                            tags=" ".join(rng.choices(["a", "b", "c"], k=2)))
    writer.commit()
    return ix


def test_an_index_holds_the_same_terms_as_with_whoosh_s_term_file(tmp_path: Path) -> None:
    whoosh_s = _index(tmp_path / "whoosh", W3Codec())
    ours = _index(tmp_path / "ours", ArchiveCodec())
    with whoosh_s.searcher() as theirs, ours.searcher() as mine:
        their_leaf = theirs.reader().leaf_readers()[0][0]
        my_leaf = mine.reader().leaf_readers()[0][0]
        assert isinstance(my_leaf._terms, ArchiveTermsReader)
        assert sorted(my_leaf.indexed_field_names()) == sorted(their_leaf.indexed_field_names())
        assert list(my_leaf.all_terms()) == list(their_leaf.all_terms())
        for field, term in list(their_leaf.all_terms())[::3]:
            for name in ("doc_frequency", "frequency"):
                assert getattr(my_leaf, name)(field, term) == getattr(their_leaf, name)(
                    field, term)
            mine_info = my_leaf.term_info(field, term)
            their_info = their_leaf.term_info(field, term)
            assert (mine_info.doc_frequency(), mine_info.weight(), mine_info.max_weight(),
                    mine_info.min_id(), mine_info.max_id()) == (
                their_info.doc_frequency(), their_info.weight(), their_info.max_weight(),
                their_info.min_id(), their_info.max_id())
            assert (field, term) in my_leaf
        assert ("body", b"absent") not in my_leaf
        assert my_leaf.doc_frequency("body", b"absent") == 0
        for prefix in ("ma", "ven", "t", "z", "q"):
            assert list(my_leaf.expand_prefix("body", prefix)) == list(
                their_leaf.expand_prefix("body", prefix))
        assert [term for term, _ in my_leaf.iter_from("body", "mar")][:20] == [
            term for term, _ in their_leaf.iter_from("body", "mar")][:20]
        for misspelt in ("maisn", "vendrdi", "zebre", "terme1O"):
            assert mine.suggest("body", misspelt, limit=5) == theirs.suggest(
                "body", misspelt, limit=5)
        for text in ("maison", "ma*", "vent OR zèbre", "title:mare", "tags:b", '"mot rare"'):
            query = QueryParser("body", whoosh_s.schema).parse(text)
            assert [hit["id"] for hit in mine.search(query, limit=None)] == [
                hit["id"] for hit in theirs.search(query, limit=None)], text
    whoosh_s.close()
    ours.close()


def test_a_damaged_dictionary_fails_the_index_s_readers_with_unexpected_layout(
        tmp_path: Path) -> None:
    ix = _index(tmp_path / "ours", ArchiveCodec())
    ix.close()
    (terms_file,) = [path for path in (tmp_path / "ours").iterdir() if path.suffix == ".trm"]
    raw = bytearray(terms_file.read_bytes())
    raw[200] ^= 0x5A  # inside the first blocks of terms
    terms_file.write_bytes(bytes(raw))
    ix = index.open_dir(str(tmp_path / "ours"))
    with ix.searcher() as searcher:
        terms = searcher.reader().leaf_readers()[0][0]._terms
        with pytest.raises(UnexpectedLayout, match="damaged"):
            for field in ("body", "id", "tags", "title"):
                for word in (b"a", b"b", b"maison", b"mot", b"1", b"0"):
                    term_entry(terms, field, word)
        with pytest.raises(CorruptDictionary):
            list(terms.terms())
    ix.close()


def test_whoosh_s_term_file_is_still_read_through_the_codec(tmp_path: Path) -> None:
    ix = _index(tmp_path / "whoosh", W3Codec())
    with ix.searcher() as searcher:
        leaf = searcher.reader().leaf_readers()[0][0]
        reader = ArchiveCodec().terms_reader(leaf._storage, leaf._segment)
        assert not isinstance(reader, ArchiveTermsReader)  # Whoosh's own reader
        assert ("body", b"mot") in reader
        with pytest.raises(UnexpectedLayout):
            term_entry(reader, "body", b"mot")
        reader.close()
    ix.close()
