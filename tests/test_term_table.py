"""A segment's term table written by ``TermTableWriter`` is Whoosh's, byte for byte."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter

from indexer.whoosh_format import TermTableWriter


def _entries(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    keys = {rng.randbytes(2) + rng.randbytes(rng.randrange(0, 40)) for _ in range(count)}
    return [(key, rng.randbytes(rng.randrange(0, 90))) for key in sorted(keys)]


def _write(storage: FileStorage, name: str, entries: list[tuple[bytes, bytes]],
           fast: bool, runs: bool = False) -> bytes:
    table = OrderedHashWriter(storage.create_file(name))
    table.extras["fieldmap"] = {"body": 0, "title": 1}
    if fast:
        table = TermTableWriter.taking_over(table)
        assert isinstance(table, TermTableWriter)
    if runs:  # add_many with runs of 0 to 700 keys, add between them
        rng, at = random.Random(len(entries)), 0
        while at < len(entries):
            run = entries[at:at + rng.randrange(0, 700)]
            table.add_many([key for key, _ in run], [value for _, value in run])
            at += len(run)
            if at < len(entries):
                table.add(*entries[at])
                at += 1
    else:
        for key, value in entries:
            table.add(key, value)
    table.close()
    with open(Path(storage.folder) / name, "rb") as written:
        return written.read()


@pytest.mark.parametrize("count", [0, 1, 300, 5000])
def test_term_table_is_whoosh_s_byte_for_byte(tmp_path: Path, count: int) -> None:
    storage = FileStorage(str(tmp_path))
    entries = _entries(count, seed=count)
    ours = _write(storage, "ours", entries, fast=True)
    assert ours == _write(storage, "whoosh", entries, fast=False)


@pytest.mark.parametrize("count", [1, 300, 5000])
def test_term_table_added_in_runs_is_whoosh_s_byte_for_byte(tmp_path: Path, count: int) -> None:
    storage = FileStorage(str(tmp_path))
    entries = _entries(count, seed=count)  # 5000: positions past 65,535 (a wider index)
    ours = _write(storage, "ours", entries, fast=True, runs=True)
    assert ours == _write(storage, "whoosh", entries, fast=False)


def test_a_run_of_keys_out_of_order_is_refused_at_the_first_one(tmp_path: Path) -> None:
    storage = FileStorage(str(tmp_path))
    table = TermTableWriter.taking_over(OrderedHashWriter(storage.create_file("t")))
    assert isinstance(table, TermTableWriter)
    table.add(b"\x00\x01b", b"")
    with pytest.raises(ValueError, match="Keys must increase"):
        table.add_many([b"\x00\x01c", b"\x00\x01e", b"\x00\x01d"], [b"", b"", b""])
    with pytest.raises(ValueError, match="Keys must increase"):
        table.add_many([b"\x00\x01a"], [b""])
    table.close()


def test_every_key_is_found_again_by_whoosh_s_reader(tmp_path: Path) -> None:
    storage = FileStorage(str(tmp_path))
    entries = _entries(2000, seed=7)
    _write(storage, "ours", entries, fast=True)
    reader = OrderedHashReader.open(storage, "ours")
    try:
        assert reader.extras["fieldmap"] == {"body": 0, "title": 1}
        assert all(reader[key] == value for key, value in entries)
        assert list(reader.keys()) == [key for key, _ in entries]
    finally:
        reader.close()


def test_keys_out_of_order_are_refused_as_whoosh_refuses_them(tmp_path: Path) -> None:
    storage = FileStorage(str(tmp_path))
    table = TermTableWriter.taking_over(OrderedHashWriter(storage.create_file("t")))
    table.add(b"\x00\x01b", b"")
    with pytest.raises(ValueError, match="Keys must increase"):
        table.add(b"\x00\x01a", b"")
    table.close()


def test_a_table_of_another_hash_is_left_to_whoosh(tmp_path: Path) -> None:
    storage = FileStorage(str(tmp_path))
    crc = OrderedHashWriter(storage.create_file("crc"))
    crc.hashtype = 1
    assert TermTableWriter.taking_over(crc) is crc
    crc.close()
