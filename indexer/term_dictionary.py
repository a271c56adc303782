"""A segment's term dictionary: its terms sorted in small front-coded blocks.

Whoosh's term file (``OrderedHashWriter``) gives each term a record of its key's and value's
lengths (8 bytes), the key with its field's number, the value, a 4-byte position in an
ordered index and two 12-byte slots of a hash table: 36 bytes a term before the key and the
value, for some 4.7 million terms at 100,000 articles (most of them word pairs), and a lookup
costs several file reads. Here a field's terms are cut into blocks of ``TERMS_PER_BLOCK``,
each key stored as the bytes it does not share with the one before; a directory of each
block's first key and place, read once per field, finds the one block a term can be in, so a
lookup is one read of one block, and a prefix's terms are a contiguous run of blocks.

The values are opaque bytes (``indexer.whoosh_format`` stores Whoosh's term entries). The
file is read as untrusted: every block carries a CRC-32 in the directory, and a file that is
cut off or damaged raises ``CorruptDictionary``, never a wrong answer.

Layout (little-endian):

- ``TAG``, then the blocks;
- per field, its section: one ``_BLOCK`` record per block (its offset, size, CRC-32, term
  count, the end of its first key in the keys), then the blocks' first keys joined;
- the directory: JSON, per field in number order its name, number, section offset, size and
  CRC-32, block count and term count;
- the footer: the directory's offset, size and CRC-32, then ``_END``.

A block: its term count (u16), the byte width of its three length lists (u8 each: 1, 2 or 4),
the shared-prefix lengths, the suffix lengths and the value lengths, then the suffixes
joined, then the values joined.
"""

from __future__ import annotations

import bisect
import json
import operator
import struct
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

TAG = b"ArTD"
_END = b"ArTE"
TERMS_PER_BLOCK = 32
"""Terms per block: a lookup reads one block and walks at most this many keys."""

_FOOTER = struct.Struct("<QII4s")
_BLOCK_HEAD = struct.Struct("<HBBB")
_BLOCK = np.dtype([("offset", "<u8"), ("size", "<u4"), ("crc", "<u4"), ("terms", "<u2"),
                   ("key_end", "<u4")])
_WIDTH_CODES = {1: "B", 2: "H", 4: "I"}
_PARSED_BLOCKS = 64  # parsed blocks kept per reader (a prefix's run, terms looked up again)

Read = Callable[[int, int], bytes]


class CorruptDictionary(ValueError):
    """A term dictionary is not laid out as this module writes it (cut off or damaged)."""


def _width(lengths: list[int]) -> int:
    """The smallest of 1, 2, 4 bytes that holds every one of LENGTHS."""
    top = max(lengths)
    return 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4


def _shared(before: bytes, key: bytes) -> int:
    """How many first bytes KEY shares with BEFORE (a few C calls, not a loop per byte)."""
    size = min(len(before), len(key))
    differ = int.from_bytes(before[:size], "big") ^ int.from_bytes(key[:size], "big")
    return size - (differ.bit_length() + 7) // 8


_COMPARED = 24  # first bytes of consecutive keys compared with numpy; longer matches in Python


def shared_lengths(keys: list[bytes]) -> list[int]:
    """Return how many first bytes each of KEYS shares with the one before (0 for the first),
    for a run of keys at once."""
    if len(keys) < 2:
        return [0] * len(keys)
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    data = np.frombuffer(b"".join(keys) + bytes(_COMPARED), dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    heads = data[starts[:, None] + np.arange(_COMPARED)]
    differ = heads[1:] != heads[:-1]
    first = np.where(differ.any(axis=1), differ.argmax(axis=1), _COMPARED)
    shared = np.minimum(first, np.minimum(lengths[1:], lengths[:-1]))
    found = [0, *shared.tolist()]
    for at in np.flatnonzero(shared == _COMPARED).tolist():
        found[at + 1] = _shared(keys[at], keys[at + 1])
    return found


def _encode_block(keys: list[bytes], shared: list[int], values: list[bytes]) -> bytes:
    """One block of KEYS (increasing, without their field's number), each sharing SHARED
    first bytes with the one before (the first none), and their VALUES."""
    suffixes = [key[common:] for key, common in zip(keys, shared, strict=True)]
    suffix_lengths = [len(suffix) for suffix in suffixes]
    value_lengths = [len(value) for value in values]
    widths = [_width(lengths) for lengths in (shared, suffix_lengths, value_lengths)]
    count = len(keys)
    return b"".join([
        _BLOCK_HEAD.pack(count, *widths),
        *(struct.pack(f"<{count}{_WIDTH_CODES[width]}", *lengths)
          for width, lengths in zip(widths, (shared, suffix_lengths, value_lengths),
                                    strict=True)),
        *suffixes, *values])


class _Field:
    """What the writer gathers of one field: its blocks' records and first keys."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.records: list[tuple[int, int, int, int, int]] = []
        self.first_keys: list[bytes] = []
        self.terms = 0
        self.keys_size = 0


class DictionaryWriter:
    """Writes a segment's terms, field after field, as this module's dictionary.

    Takes Whoosh's keys (a field's number as two big-endian bytes, then the term) in
    increasing order, like Whoosh's ``OrderedHashWriter`` it replaces, and keeps Whoosh's
    field map in ``extras["fieldmap"]`` (the field writer fills it).
    """

    def __init__(self, dbfile: Any) -> None:
        self.dbfile = dbfile
        self.extras: dict[str, Any] = {"fieldmap": {}}
        dbfile.write(TAG)
        self._position = len(TAG)
        self._fields: list[_Field] = []
        self._keys: list[bytes] = []  # the terms of the block being filled
        self._shared: list[int] = []  # how many first bytes each shares with the one before
        self._values: list[bytes] = []
        self.lastkey = b""

    def add(self, key: bytes, value: bytes) -> None:
        """Add KEY (greater than the last one) with VALUE."""
        self._add_one(key, value)

    def add_many(self, keys: list[bytes], values: list[bytes]) -> None:
        """Add KEYS (increasing, after the last one added) with their VALUES."""
        if len(keys) != len(values):
            raise ValueError("as many values as keys are needed")
        if not keys:
            return
        number = keys[0][:2]
        if (keys[0] <= self.lastkey or len(number) < 2 or keys[-1][:2] != number
                or any(map(operator.ge, keys, keys[1:]))):
            for key, value in zip(keys, values, strict=True):
                self._add_one(key, value)  # refuses the first key out of order
            return
        # Increasing keys whose first and last have one field number: all of them have it.
        self._start_field(int.from_bytes(number, "big"))
        texts = [key[2:] for key in keys]
        before = self._keys[-1:]
        shared = shared_lengths(before + texts)[len(before):]
        at = 0
        while at < len(keys):
            room = TERMS_PER_BLOCK - len(self._keys)
            self._keys.extend(texts[at:at + room])
            self._shared.extend(shared[at:at + room])
            self._values.extend(values[at:at + room])
            at += room
            if len(self._keys) == TERMS_PER_BLOCK:
                self._flush()
        self.lastkey = keys[-1]

    def _add_one(self, key: bytes, value: bytes) -> None:
        if key <= self.lastkey or len(key) < 2:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        self._start_field(int.from_bytes(key[:2], "big"))
        text = key[2:]
        self._shared.append(_shared(self._keys[-1], text) if self._keys else 0)
        self._keys.append(text)
        self._values.append(value)
        if len(self._keys) == TERMS_PER_BLOCK:
            self._flush()
        self.lastkey = key

    def _start_field(self, number: int) -> None:
        """Begin field NUMBER's blocks unless its terms are being added already."""
        if not self._fields or self._fields[-1].number != number:
            self._flush()
            self._fields.append(_Field(number))

    def _flush(self) -> None:
        """Write the block of the terms added since the last one."""
        if not self._keys:
            return
        self._shared[0] = 0  # a block's first key is whole
        block = _encode_block(self._keys, self._shared, self._values)
        field = self._fields[-1]
        field.first_keys.append(self._keys[0])
        field.keys_size += len(self._keys[0])
        field.records.append((self._position, len(block), zlib.crc32(block), len(self._keys),
                              field.keys_size))
        field.terms += len(self._keys)
        self.dbfile.write(block)
        self._position += len(block)
        self._keys, self._shared, self._values = [], [], []

    def close(self) -> None:
        """Write the last block, the field sections, the directory and the footer; close."""
        self._flush()
        names = {number: name for name, number in self.extras["fieldmap"].items()}
        listed = []
        for field in self._fields:
            records = np.array(field.records, dtype=_BLOCK).tobytes()
            section = records + b"".join(field.first_keys)
            listed.append([names.get(field.number, ""), field.number, self._position,
                           len(section), zlib.crc32(section), len(field.records),
                           field.terms])
            self.dbfile.write(section)
            self._position += len(section)
        directory = json.dumps({"fields": listed,
                                "fieldmap": self.extras["fieldmap"]}).encode()
        self.dbfile.write(directory)
        self.dbfile.write(_FOOTER.pack(self._position, len(directory), zlib.crc32(directory),
                                       _END))
        self.dbfile.close()


class _Section(NamedTuple):
    """A field's directory as read: its blocks' records, first keys and where each ends."""

    number: int
    blocks: np.ndarray
    keys: bytes
    key_ends: array[int]


class _FieldPlace(NamedTuple):
    """Where a field's section is, as the directory gives it."""

    name: str
    number: int
    offset: int
    size: int
    crc: int
    blocks: int
    terms: int


def is_dictionary(head: bytes) -> bool:
    """Return True when a file's first bytes HEAD are this module's dictionary's."""
    return head[:len(TAG)] == TAG


class DictionaryReader:
    """Finds terms and their values in a dictionary file read through READ (offset, size).

    Each field's directory is read the first time the field is looked up; the blocks parsed
    last are kept (``_PARSED_BLOCKS``). Raises CorruptDictionary when the file is not laid
    out as ``DictionaryWriter`` writes it.
    """

    def __init__(self, read: Read, length: int) -> None:
        self._read = read
        if length < len(TAG) + _FOOTER.size or not is_dictionary(read(0, len(TAG))):
            raise CorruptDictionary("not a term dictionary of this index (no tag)")
        offset, size, crc, end = _FOOTER.unpack(self._exact(length - _FOOTER.size,
                                                            _FOOTER.size))
        if end != _END or offset + size + _FOOTER.size != length:
            raise CorruptDictionary("the term dictionary is cut off (its footer is not there)")
        raw = self._exact(offset, size)
        if zlib.crc32(raw) != crc:
            raise CorruptDictionary("the term dictionary's directory is damaged")
        try:
            directory = json.loads(raw)
            places = [_FieldPlace(*place) for place in directory["fields"]]
            self.fieldmap: dict[str, int] = {str(name): int(number) for name, number
                                             in directory["fieldmap"].items()}
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CorruptDictionary(f"the term dictionary's directory is unreadable ({exc})"
                                    ) from None
        self._places = {place.name: place for place in places}
        self._order = [place.name for place in sorted(places, key=lambda p: p.number)]
        self._sections: dict[str, _Section] = {}
        self._parsed: OrderedDict[int, tuple[list[bytes], list[bytes]]] = OrderedDict()

    def _exact(self, offset: int, size: int) -> bytes:
        data = self._read(offset, size)
        if len(data) != size:
            raise CorruptDictionary("the term dictionary is cut off")
        return data

    def field_names(self) -> list[str]:
        """Return the names of the fields holding terms, in the order their terms are kept."""
        return list(self._order)

    def term_count(self, field: str) -> int:
        """Return how many terms FIELD holds."""
        place = self._places.get(field)
        return 0 if place is None else place.terms

    def field_sizes(self) -> dict[str, int]:
        """Return the bytes each field takes in the file: its blocks and its section."""
        sizes = {}
        for name, place in self._places.items():
            section = self._section(name)
            blocks = 0 if section is None else int(section.blocks["size"].sum())
            sizes[name] = blocks + place.size
        return sizes

    def _section(self, field: str) -> _Section | None:
        section = self._sections.get(field)
        if section is None:
            place = self._places.get(field)
            if place is None:
                return None
            raw = self._exact(place.offset, place.size)
            if zlib.crc32(raw) != place.crc:
                raise CorruptDictionary(f"the term dictionary of {field!r} is damaged")
            records = place.blocks * _BLOCK.itemsize
            if records > len(raw):
                raise CorruptDictionary(f"the term dictionary of {field!r} is cut off")
            blocks = np.frombuffer(raw, dtype=_BLOCK, count=place.blocks)
            key_ends = array("I", blocks["key_end"].tolist())
            keys = raw[records:]
            if key_ends and (key_ends[-1] != len(keys) or
                             np.any(np.diff(blocks["key_end"].astype(np.int64)) < 0)):
                raise CorruptDictionary(f"the block keys of {field!r} are damaged")
            section = self._sections[field] = _Section(place.number, blocks, keys, key_ends)
        return section

    def _first_key(self, section: _Section, block: int) -> bytes:
        ends = section.key_ends
        return section.keys[ends[block - 1] if block else 0:ends[block]]

    def _block_of(self, section: _Section, key: bytes) -> int:
        """The last block whose first key is not above KEY (-1 when KEY is before all)."""
        low, high = 0, len(section.key_ends)
        while low < high:
            middle = (low + high) // 2
            if key < self._first_key(section, middle):
                high = middle
            else:
                low = middle + 1
        return low - 1

    def _block(self, section: _Section, block: int) -> tuple[list[bytes], list[bytes]]:
        """The keys and values of a field's BLOCK (kept among the last parsed)."""
        record = section.blocks[block]
        offset = int(record["offset"])
        parsed = self._parsed.get(offset)
        if parsed is not None:
            self._parsed.move_to_end(offset)
            return parsed
        data = self._exact(offset, int(record["size"]))
        if zlib.crc32(data) != int(record["crc"]):
            raise CorruptDictionary("a block of the term dictionary is damaged")
        parsed = _parse_block(data, int(record["terms"]))
        if parsed[0][0] != self._first_key(section, block):
            raise CorruptDictionary("a block of the term dictionary is not where it should be")
        self._parsed[offset] = parsed
        if len(self._parsed) > _PARSED_BLOCKS:
            self._parsed.popitem(last=False)
        return parsed

    def get(self, field: str, key: bytes) -> bytes | None:
        """Return the value of FIELD's term KEY, None when the field does not hold it."""
        section = self._section(field)
        if section is None:
            return None
        block = self._block_of(section, key)
        if block < 0:
            return None
        keys, values = self._block(section, block)
        at = bisect.bisect_left(keys, key)
        return values[at] if at < len(keys) and keys[at] == key else None

    def items_from(self, field: str, key: bytes) -> Iterator[tuple[str, bytes, bytes]]:
        """Yield (field, term, value) from FIELD's first term not below KEY to the end of the
        dictionary (the fields after FIELD included), in order."""
        if field not in self._places:
            return
        for name in self._order[self._order.index(field):]:
            section = self._section(name)
            if section is None:
                continue
            block = max(self._block_of(section, key), 0) if name == field else 0
            for number in range(block, len(section.key_ends)):
                keys, values = self._block(section, number)
                start = bisect.bisect_left(keys, key) if name == field else 0
                for at in range(start, len(keys)):
                    yield name, keys[at], values[at]

    def prefix(self, field: str, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """Return FIELD's terms starting with PREFIX and their values, in order."""
        found = []
        for name, key, value in self.items_from(field, prefix):
            if name != field or not key.startswith(prefix):
                break
            found.append((key, value))
        return found

    def items(self) -> Iterator[tuple[str, bytes, bytes]]:
        """Yield every (field, term, value) of the dictionary, in order."""
        if self._order:
            yield from self.items_from(self._order[0], b"")


def _parse_block(data: bytes, terms: int) -> tuple[list[bytes], list[bytes]]:
    """The keys and values of a block of TERMS terms; raises CorruptDictionary."""
    try:
        count, *widths = _BLOCK_HEAD.unpack_from(data)
        if count != terms or count == 0:
            raise CorruptDictionary("a block of the term dictionary has the wrong term count")
        at = _BLOCK_HEAD.size
        lists = []
        for width in widths:
            code = _WIDTH_CODES[width]
            lists.append(struct.unpack_from(f"<{count}{code}", data, at))
            at += count * width
        shared, suffix_lengths, value_lengths = lists
        if at + sum(suffix_lengths) + sum(value_lengths) != len(data):
            raise CorruptDictionary("a block of the term dictionary has impossible lengths")
        keys = []
        key = b""
        for common, size in zip(shared, suffix_lengths, strict=True):
            if common > len(key):
                raise CorruptDictionary("a key of the term dictionary shares too much")
            key = key[:common] + data[at:at + size]
            keys.append(key)
            at += size
        values = []
        for size in value_lengths:
            values.append(data[at:at + size])
            at += size
    except (struct.error, KeyError) as exc:
        raise CorruptDictionary(f"a block of the term dictionary is unreadable ({exc})"
                                ) from None
    return keys, values
