"""A segment's term dictionary: its terms sorted in small front-coded blocks.

Whoosh's term file (``OrderedHashWriter``) gives each term a record of its key's and value's
lengths (8 bytes), the key with its field's number, the value, a 4-byte position in an
ordered index and two 12-byte slots of a hash table: 36 bytes a term before the key and the
value, for some 4.7 million terms at 100,000 articles (most of them word pairs), and a lookup
costs several file reads. Here a field's terms are cut into blocks of ``TERMS_PER_BLOCK``,
each key stored as the bytes it does not share with the block's first; a directory of each
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

A block: its term count (u16), the byte width of its shared lengths and of its ends (u8 each:
1, 2 or 4), how many first bytes each key shares with the block's first key (0 for the
first), where the rest of each key (its suffix) ends and where each value ends (from the
block's first byte), then the suffixes joined, then the values joined. Keys are coded against
the block's first key rather than the one before so that any key of a block is rebuilt alone:
a lookup is a binary search of the block.

A field's directory, once read, never changes: the readers of one file in a process (a web
worker's threads each open their own segment readers) share one copy of each
(``_SharedSections``, found by the file's identity), freed when the last of them goes.
"""

from __future__ import annotations

import bisect
import json
import operator
import struct
import threading
import weakref
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import suppress
from itertools import accumulate
from typing import Any, NamedTuple

import numpy as np

TAG = b"ArTD"
_END = b"ArTE"
TERMS_PER_BLOCK = 32
"""Terms per block: a lookup reads one block and walks at most this many keys."""

_FOOTER = struct.Struct("<QII4s")
_BLOCK_HEAD = struct.Struct("<HBB")
_BLOCK = np.dtype([("offset", "<u8"), ("size", "<u4"), ("crc", "<u4"), ("terms", "<u2"),
                   ("key_end", "<u4")])
_WIDTH_CODES = {1: "B", 2: "H", 4: "I"}
_PARSED_BLOCKS = 64  # parsed blocks kept per reader (a prefix's run, terms looked up again)
_SPARSE = 16  # a field's first keys kept as objects: one block in 16 (bisect, then slices)

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


def _encode_block(keys: list[bytes], values: list[bytes]) -> bytes:
    """One block of KEYS (increasing, without their field's number) and their VALUES, each
    key written as the bytes it does not share with the block's first key."""
    first = keys[0]
    count = len(keys)
    shared = [0, *map(_shared, [first] * (count - 1), keys[1:])]
    suffixes = [key[common:] for key, common in zip(keys, shared, strict=True)]
    shared_width = _width(shared)
    # Where each suffix, then each value, ends in the block: their places follow from the
    # widths, so the ends are computed with the widest width first, then narrowed if they fit.
    for end_width in (1, 2, 4):
        start = _BLOCK_HEAD.size + count * (shared_width + 2 * end_width)
        suffix_ends = list(accumulate(map(len, suffixes), initial=start))[1:]
        value_ends = list(accumulate(map(len, values), initial=suffix_ends[-1]))[1:]
        if value_ends[-1] < 1 << (8 * end_width):
            break
    else:
        raise ValueError("a block of the term dictionary would exceed 4 GB")
    code = _WIDTH_CODES[end_width]
    return b"".join([
        _BLOCK_HEAD.pack(count, shared_width, end_width),
        struct.pack(f"<{count}{_WIDTH_CODES[shared_width]}", *shared),
        struct.pack(f"<{count}{code}", *suffix_ends),
        struct.pack(f"<{count}{code}", *value_ends),
        *suffixes, *values])


# Bytes of each key compared with numpy when a run of blocks is encoded at once (a key
# sharing more with its block's first key has its shared length found by ``_shared``).
_COMPARED = 32


def _encode_blocks(keys: list[bytes], values_data: bytes,
                   value_sizes: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Blocks of ``TERMS_PER_BLOCK`` of KEYS (as many as fill whole blocks) and their values
    (joined in VALUES_DATA, each of VALUE_SIZES), each block exactly as ``_encode_block``
    encodes it, joined; and each block's size.

    Each key's shared length, the blocks' widths and ends, and every byte's place are found
    for all the blocks at once with numpy, instead of a few Python calls per key.
    """
    count = len(keys)
    blocks = count // TERMS_PER_BLOCK
    key_sizes = np.fromiter(map(len, keys), dtype=np.int64, count=count)
    value_sizes = np.asarray(value_sizes, dtype=np.int64)[:count]
    key_data = np.frombuffer(b"".join(keys), dtype=np.uint8)
    key_starts = np.cumsum(key_sizes) - key_sizes
    place = np.arange(count) % TERMS_PER_BLOCK  # a key's place in its block
    firsts = np.arange(count) - place
    shared = _shared_lengths(keys, key_sizes, firsts)

    def per_block(numbers: np.ndarray) -> np.ndarray:
        return numbers.reshape(blocks, TERMS_PER_BLOCK)

    top = per_block(shared).max(axis=1)
    shared_width = np.where(top < 1 << 8, 1, np.where(top < 1 << 16, 2, 4))
    suffix_sizes = key_sizes - shared
    head = _BLOCK_HEAD.size + TERMS_PER_BLOCK * shared_width
    body = per_block(suffix_sizes).sum(axis=1) + per_block(value_sizes).sum(axis=1)
    end_width = np.full(blocks, 4)
    for width in (2, 1):
        fits = head + TERMS_PER_BLOCK * 2 * width + body < 1 << (8 * width)
        end_width[fits] = width
    sizes = head + TERMS_PER_BLOCK * 2 * end_width + body
    if (sizes >= 1 << 32).any():
        raise ValueError("a block of the term dictionary would exceed 4 GB")
    # The numbers before each block's suffixes: its head, shared lengths and ends.
    number_sizes = head + TERMS_PER_BLOCK * 2 * end_width
    number_offsets = np.cumsum(number_sizes) - number_sizes
    numbers = np.zeros(int(number_sizes.sum()), dtype=np.uint8)
    numbers[number_offsets] = TERMS_PER_BLOCK  # the term count (u16, little-endian)
    numbers[number_offsets + 2] = shared_width
    numbers[number_offsets + 3] = end_width
    block = np.arange(count) // TERMS_PER_BLOCK
    key_shared_width, key_end_width = shared_width[block], end_width[block]
    suffix_ends = number_sizes[block] + per_block(suffix_sizes).cumsum(axis=1).ravel()
    value_ends = (suffix_ends[firsts + TERMS_PER_BLOCK - 1]
                  + per_block(value_sizes).cumsum(axis=1).ravel())
    at = number_offsets[block] + _BLOCK_HEAD.size
    _put(numbers, at + place * key_shared_width, shared, key_shared_width)
    at += TERMS_PER_BLOCK * key_shared_width
    _put(numbers, at + place * key_end_width, suffix_ends, key_end_width)
    at += TERMS_PER_BLOCK * key_end_width
    _put(numbers, at + place * key_end_width, value_ends, key_end_width)
    # The suffixes: the keys' bytes but the first SHARED of each (contiguous, block by block).
    cut = (np.bincount(key_starts, minlength=len(key_data) + 1)
           - np.bincount(key_starts + shared, minlength=len(key_data) + 1))
    suffixes = key_data[np.cumsum(cut[:-1]) == 0]
    number_view, suffix_view = memoryview(numbers.tobytes()), memoryview(suffixes.tobytes())
    suffix_bounds = np.cumsum(per_block(suffix_sizes).sum(axis=1)).tolist()
    value_bounds = np.cumsum(per_block(value_sizes).sum(axis=1)).tolist()
    number_bounds = np.cumsum(number_sizes).tolist()
    pieces: list[memoryview | bytes] = []
    for number_end, suffix_end, value_end, number_size, suffix_size, value_size in zip(
            number_bounds, suffix_bounds, value_bounds, number_sizes.tolist(),
            (np.diff(suffix_bounds, prepend=0)).tolist(),
            (np.diff(value_bounds, prepend=0)).tolist(), strict=True):
        pieces += (number_view[number_end - number_size:number_end],
                   suffix_view[suffix_end - suffix_size:suffix_end],
                   values_data[value_end - value_size:value_end])
    return b"".join(pieces), sizes


def _shared_lengths(keys: list[bytes], sizes: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """Return how many first bytes each of KEYS (of SIZES) shares with the key at FIRSTS (0
    for that key itself), as ``_shared`` counts them."""
    # Each key's first bytes, cut or padded with zeros: a difference in them is found at
    # once; past the shorter key's end, padding may match real zeros, hence the bound.
    heads = np.array(keys, dtype=f"S{_COMPARED}").view(np.uint8).reshape(len(keys), _COMPARED)
    equal = heads == heads[firsts]
    same = equal.all(axis=1)
    shared: np.ndarray = np.minimum(np.where(same, _COMPARED, equal.argmin(axis=1)),
                                    np.minimum(sizes, sizes[firsts]))
    shared[firsts == np.arange(len(keys))] = 0
    for at_key in np.flatnonzero(shared == _COMPARED).tolist():
        shared[at_key] = _shared(keys[int(firsts[at_key])], keys[at_key])
    return shared


def _put(out: np.ndarray, at: np.ndarray, numbers: np.ndarray, widths: np.ndarray) -> None:
    """Write NUMBERS little-endian into OUT at AT, each in its WIDTHS bytes."""
    for byte in range(4):
        wide = widths > byte
        if not wide.any():
            break
        out[at[wide] + byte] = (numbers[wide] >> (8 * byte)) & 0xFF


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
        sizes = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        self._add_run(number, [key[2:] for key in keys], b"".join(values), np.cumsum(sizes))

    def add_field_terms(self, number: bytes, terms: list[bytes], values: bytes,
                        value_ends: np.ndarray) -> None:
        """Add the TERMS (increasing, after the last key added) of the field whose number is
        NUMBER (2 bytes, as in Whoosh's keys), their values joined in VALUES, each ending at
        VALUE_ENDS: ``add_many`` of the keys NUMBER + term, without a key or a value object
        per term."""
        if len(terms) != len(value_ends):
            raise ValueError("as many values as keys are needed")
        if not terms:
            return
        if (len(number) != 2 or number + terms[0] <= self.lastkey
                or any(map(operator.ge, terms, terms[1:]))):
            bounds = [0, *np.asarray(value_ends).tolist()]
            for at, term in enumerate(terms):  # refuses the first key out of order
                self._add_one(number + term, values[bounds[at]:bounds[at + 1]])
            return
        self._add_run(number, terms, values, np.asarray(value_ends, dtype=np.int64))

    def _add_run(self, number: bytes, keys: list[bytes], values: bytes,
                 value_ends: np.ndarray) -> None:
        """Add KEYS (increasing, after the last key added, without their field NUMBER), their
        values joined in VALUES and ending at VALUE_ENDS."""
        self._start_field(int.from_bytes(number, "big"))
        bounds = [0, *value_ends.tolist()]

        def listed(low: int, high: int) -> list[bytes]:
            return [values[bounds[at]:bounds[at + 1]] for at in range(low, high)]

        # The block being filled first, then whole blocks at once, the rest left to fill.
        at = min(len(keys), (TERMS_PER_BLOCK - len(self._keys)) % TERMS_PER_BLOCK)
        self._keys.extend(keys[:at])
        self._values.extend(listed(0, at))
        if len(self._keys) == TERMS_PER_BLOCK:
            self._flush()
        whole = at + (len(keys) - at) // TERMS_PER_BLOCK * TERMS_PER_BLOCK
        if whole > at:
            low, high = bounds[at], bounds[whole]
            self._flush_blocks(keys[at:whole], values[low:high],
                               np.diff(value_ends[at - 1:whole] if at else
                                       np.concatenate([[0], value_ends[:whole]])))
        self._keys.extend(keys[whole:])
        self._values.extend(listed(whole, len(keys)))
        self.lastkey = number + keys[-1]

    def _add_one(self, key: bytes, value: bytes) -> None:
        if key <= self.lastkey or len(key) < 2:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        self._start_field(int.from_bytes(key[:2], "big"))
        self._keys.append(key[2:])
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
        block = _encode_block(self._keys, self._values)
        field = self._fields[-1]
        field.first_keys.append(self._keys[0])
        field.keys_size += len(self._keys[0])
        field.records.append((self._position, len(block), zlib.crc32(block), len(self._keys),
                              field.keys_size))
        field.terms += len(self._keys)
        self.dbfile.write(block)
        self._position += len(block)
        self._keys, self._values = [], []

    def _flush_blocks(self, keys: list[bytes], values: bytes, value_sizes: np.ndarray) -> None:
        """Write whole blocks of KEYS and their values (joined in VALUES, each of
        VALUE_SIZES), no block being filled."""
        data, sizes = _encode_blocks(keys, values, value_sizes)
        field = self._fields[-1]
        view = memoryview(data)
        at = 0
        for first, size in zip(keys[::TERMS_PER_BLOCK], sizes.tolist(), strict=True):
            field.first_keys.append(first)
            field.keys_size += len(first)
            field.records.append((self._position + at, size, zlib.crc32(view[at:at + size]),
                                  TERMS_PER_BLOCK, field.keys_size))
            at += size
        field.terms += len(keys)
        self.dbfile.write(data)
        self._position += len(data)

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
    """A field's directory as read: per block its offset, size, CRC-32 and term count, and the
    blocks' first keys joined with where each ends (plain arrays: read one item at a time)."""

    offsets: array[int]
    sizes: array[int]
    crcs: array[int]
    terms: array[int]
    keys: bytes
    key_ends: array[int]
    every: list[bytes]  # the first key of every ``_SPARSE``-th block, searched with bisect


def _plain(code: str, values: np.ndarray) -> array[int]:
    """VALUES as a plain array of type CODE, copied as bytes: a field's section holds a record
    per block (590,000 of the word pairs' at a million articles), and going through Python
    ints (``tolist``) took half of the 108 ms its first lookup cost in 15 segments."""
    plain = array(code)
    plain.frombytes(values.astype(np.dtype(f"=u{plain.itemsize}")).tobytes())
    return plain


class _FieldPlace(NamedTuple):
    """Where a field's section is, as the directory gives it."""

    name: str
    number: int
    offset: int
    size: int
    crc: int
    blocks: int
    terms: int


class _SharedSections:
    """The field directories read so far from one dictionary file, shared by its readers."""

    __slots__ = ("sections", "__weakref__")

    def __init__(self) -> None:
        self.sections: dict[str, _Section] = {}


# Held weakly: a file's directories go with the last reader of the file (a generation's
# segments, once no thread searches them), not with the process.
_sharing: weakref.WeakValueDictionary[Hashable, _SharedSections] = \
    weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def _shared_sections(identity: Hashable) -> _SharedSections:
    """Return the directories shared by the readers of the file IDENTITY names."""
    with _shared_lock:
        shared = _sharing.get(identity)
        if shared is None:
            shared = _sharing[identity] = _SharedSections()
        return shared


def is_dictionary(head: bytes) -> bool:
    """Return True when a file's first bytes HEAD are this module's dictionary's."""
    return head[:len(TAG)] == TAG


class DictionaryReader:
    """Finds terms and their values in a dictionary file read through READ (offset, size).

    Each field's directory is read the first time the field is looked up; the blocks parsed
    last are kept (``_PARSED_BLOCKS``). IDENTITY, when given, names the file for the process
    (its device, inode and place): the readers given the same identity and finding the same
    footer share the directories read (an inode reused once a file is deleted and its readers
    closed would need the same directory's offset, size and CRC-32 too). Raises
    CorruptDictionary when the file is not laid out as ``DictionaryWriter`` writes it.
    """

    def __init__(self, read: Read, length: int, identity: Hashable | None = None) -> None:
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
        self._shared = None if identity is None else _shared_sections(
            (identity, length, offset, size, crc))
        self._sections: dict[str, _Section] = {} if self._shared is None \
            else self._shared.sections
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
            blocks = 0 if section is None else sum(section.sizes)
            sizes[name] = blocks + place.size
        return sizes

    def read_directories(self) -> None:
        """Read every field's directory now rather than at its first lookup."""
        for name in self._order:
            self._section(name)

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
            keys = raw[records:]
            ends = blocks["key_end"].astype(np.int64)
            if len(ends) and (ends[-1] != len(keys) or np.any(np.diff(ends) < 0)):
                raise CorruptDictionary(f"the block keys of {field!r} are damaged")
            key_ends = _plain("I", blocks["key_end"])
            every = [keys[key_ends[block - 1] if block else 0:key_ends[block]]
                     for block in range(0, len(key_ends), _SPARSE)]
            if any(map(operator.ge, every, every[1:])):
                raise CorruptDictionary(f"the block keys of {field!r} are out of order")
            # Another reader of the file may have read it meanwhile: one copy is kept, and
            # only a whole one (setdefault is atomic for a dict of strings).
            section = self._sections.setdefault(field, _Section(
                _plain("Q", blocks["offset"]), _plain("I", blocks["size"]),
                _plain("I", blocks["crc"]), _plain("H", blocks["terms"]), keys, key_ends, every))
        return section

    def _first_key(self, section: _Section, block: int) -> bytes:
        ends = section.key_ends
        return section.keys[ends[block - 1] if block else 0:ends[block]]

    def _block_of(self, section: _Section, key: bytes) -> int:
        """The last block whose first key is not above KEY (-1 when KEY is before all)."""
        keys, ends = section.keys, section.key_ends
        low = (bisect.bisect_right(section.every, key) - 1) * _SPARSE
        if low < 0:
            return -1
        high = min(low + _SPARSE, len(ends))
        low += 1  # the first key of block LOW is not above KEY
        while low < high:
            middle = (low + high) // 2
            if key < keys[ends[middle - 1] if middle else 0:ends[middle]]:
                high = middle
            else:
                low = middle + 1
        return low - 1

    def _data(self, section: _Section, block: int) -> bytes:
        """The bytes of a field's BLOCK, checked against its CRC-32."""
        data = self._exact(section.offsets[block], section.sizes[block])
        if zlib.crc32(data) != section.crcs[block]:
            raise CorruptDictionary("a block of the term dictionary is damaged")
        return data

    def _block(self, section: _Section, block: int) -> tuple[list[bytes], list[bytes]]:
        """The keys and values of a field's BLOCK (kept among the last parsed)."""
        offset = section.offsets[block]
        parsed = self._parsed.get(offset)
        if parsed is not None:
            with suppress(KeyError):  # another thread's reader dropped it meanwhile
                self._parsed.move_to_end(offset)
            return parsed
        parsed = _parse_block(self._data(section, block), section.terms[block])
        if parsed[0][0] != self._first_key(section, block):
            raise CorruptDictionary("a block of the term dictionary is not where it should be")
        self._parsed[offset] = parsed
        if len(self._parsed) > _PARSED_BLOCKS:
            with suppress(KeyError):
                self._parsed.popitem(last=False)
        return parsed

    def get(self, field: str, key: bytes) -> bytes | None:
        """Return the value of FIELD's term KEY, None when the field does not hold it."""
        section = self._sections.get(field) or self._section(field)
        if section is None:
            return None
        block = self._block_of(section, key)
        if block < 0:
            return None
        parsed = self._parsed.get(section.offsets[block])
        if parsed is not None:
            keys, values = parsed
            at = bisect.bisect_left(keys, key)
            return values[at] if at < len(keys) and keys[at] == key else None
        return _find_in_block(self._data(section, block), section.terms[block],
                              self._first_key(section, block), key)

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
        """Return FIELD's terms starting with PREFIX and their values, in order (their blocks
        read one after the other, not kept: a prefix's words are kept by the caller)."""
        section = self._sections.get(field) or self._section(field)
        if section is None:
            return []
        found: list[tuple[bytes, bytes]] = []
        first = max(self._block_of(section, prefix), 0)
        for block in range(first, len(section.key_ends)):
            keys, values = _parse_block(self._data(section, block), section.terms[block])
            start = bisect.bisect_left(keys, prefix) if block == first else 0
            end = bisect.bisect_left(keys, prefix + b"\xff" * 4, start) \
                if prefix else len(keys)
            while end < len(keys) and keys[end].startswith(prefix):  # bytes past 0xff...
                end += 1
            found.extend(zip(keys[start:end], values[start:end], strict=True))
            if end < len(keys):
                break
        return found

    def items(self) -> Iterator[tuple[str, bytes, bytes]]:
        """Yield every (field, term, value) of the dictionary, in order."""
        if self._order:
            yield from self.items_from(self._order[0], b"")


def _ends(data: bytes, terms: int) -> tuple[tuple[int, ...], tuple[int, ...],
                                             tuple[int, ...], int]:
    """A block's shared lengths, where its suffixes end, where its values end, and where its
    first suffix starts; raises CorruptDictionary (the block's CRC-32 was checked: these
    checks are cheap ones, against a writer's mistake)."""
    count, shared_width, end_width = _BLOCK_HEAD.unpack_from(data)
    if count != terms or count == 0:
        raise CorruptDictionary("a block of the term dictionary has the wrong term count")
    at = _BLOCK_HEAD.size
    shared = _unpack(count, shared_width, data, at)
    at += count * shared_width
    suffix_ends = _unpack(count, end_width, data, at)
    value_ends = _unpack(count, end_width, data, at + count * end_width)
    start = at + 2 * count * end_width
    if value_ends[-1] != len(data) or suffix_ends[0] < start:
        raise CorruptDictionary("a block of the term dictionary has impossible lengths")
    return shared, suffix_ends, value_ends, start


_STRUCTS: dict[tuple[int, int], struct.Struct] = {}


def _unpack(count: int, width: int, data: bytes, at: int) -> tuple[int, ...]:
    """COUNT unsigned little-endian numbers of WIDTH bytes at AT in DATA."""
    compiled = _STRUCTS.get((count, width))
    if compiled is None:
        compiled = _STRUCTS[(count, width)] = struct.Struct(f"<{count}{_WIDTH_CODES[width]}")
    numbers: tuple[int, ...] = compiled.unpack_from(data, at)
    return numbers


_LAYOUTS: dict[tuple[int, int, int], struct.Struct] = {}


def _numbers(count: int, shared_width: int, end_width: int) -> struct.Struct:
    """The struct reading a block's shared lengths, suffix ends and value ends at once."""
    layout = _LAYOUTS.get((count, shared_width, end_width))
    if layout is None:
        layout = _LAYOUTS[(count, shared_width, end_width)] = struct.Struct(
            f"<{count}{_WIDTH_CODES[shared_width]}{2 * count}{_WIDTH_CODES[end_width]}")
    return layout


def _find_in_block(data: bytes, terms: int, first: bytes, wanted: bytes) -> bytes | None:
    """The value of key WANTED in a block of TERMS terms whose first key is FIRST, None when
    absent: a binary search, each key probed rebuilt alone from the first and its suffix.

    A block's numbers are read with one struct (``_numbers``): a lookup is most of a rare
    word's cost in each segment, and reading them as ``_ends`` does costs three."""
    try:
        count, shared_width, end_width = _BLOCK_HEAD.unpack_from(data)
        if count != terms or count == 0:
            raise CorruptDictionary("a block of the term dictionary has the wrong term count")
        # The shared lengths (COUNT), where each suffix ends (COUNT), where each value ends.
        numbers = _numbers(count, shared_width, end_width).unpack_from(data, _BLOCK_HEAD.size)
    except (struct.error, KeyError) as exc:
        raise CorruptDictionary(f"a block of the term dictionary is unreadable ({exc})"
                                ) from None
    start = _BLOCK_HEAD.size + count * (shared_width + 2 * end_width)
    if numbers[-1] != len(data) or numbers[count] < start:
        raise CorruptDictionary("a block of the term dictionary has impossible lengths")
    if data[start:numbers[count]] != first:
        raise CorruptDictionary("a block of the term dictionary is not where it should be")
    low, high = 0, count
    while low < high:
        middle = (low + high) // 2
        begin = numbers[count + middle - 1] if middle else start
        if first[:numbers[middle]] + data[begin:numbers[count + middle]] < wanted:
            low = middle + 1
        else:
            high = middle
    if low == count:
        return None
    begin = numbers[count + low - 1] if low else start
    if first[:numbers[low]] + data[begin:numbers[count + low]] != wanted:
        return None
    return data[numbers[2 * count + low - 1] if low else numbers[2 * count - 1]:
                numbers[2 * count + low]]


def _parse_block(data: bytes, terms: int) -> tuple[list[bytes], list[bytes]]:
    """The keys and values of a block of TERMS terms; raises CorruptDictionary."""
    try:
        shared, suffix_ends, value_ends, start = _ends(data, terms)
    except (struct.error, KeyError) as exc:
        raise CorruptDictionary(f"a block of the term dictionary is unreadable ({exc})"
                                ) from None
    first = data[start:suffix_ends[0]]
    suffix_starts = (start, *suffix_ends[:-1])
    if any(map(operator.gt, shared, map(len, [first] * terms))) or any(
            map(operator.gt, suffix_starts, suffix_ends)):
        raise CorruptDictionary("a block of the term dictionary has impossible lengths")
    keys = [first[:common] + data[begin:end]
            for common, begin, end in zip(shared, suffix_starts, suffix_ends, strict=True)]
    return keys, [data[begin:end] for begin, end in zip(
        (suffix_ends[-1], *value_ends[:-1]), value_ends, strict=True)]
