"""Whoosh's on-disk format, in one place: every private name of whoosh-reloaded 2.7.5 we use.

The search and the full rebuild go faster than Whoosh's own objects by reading and writing its
W3 codec's files directly. Everything that knows that layout lives here:

- readers: a term's postings (document numbers and weights) and document frequency, the
  positions and character offsets of a term in chosen documents, the numeric and bytes
  columns, and the field lengths Whoosh scores with;
- writers: ``ArchiveCodec``, a ``W3Codec`` whose ``ArchivePostingsWriter`` (a
  ``W3PostingsWriter``) inlines short posting lists correctly; ``FieldTermsWriter``, which
  writes the bulk writer's terms, a run of them at a time, as the same bytes; the term
  table's ``TermTableWriter``; and ``commit_segments``, which commits segments written by
  several writers in one TOC as Whoosh's own multi-segment writer does;
- the scoring constants read from Whoosh (``BLOCK_POSTINGS``, ``field_b``).

The one other module that knows Whoosh's writer internals is ``indexer.bulk``: its
``BulkSegmentWriter`` subclasses Whoosh's ``SegmentWriter`` and works with that class's own
state (its ``add_document`` follows Whoosh's), writing postings through ``ArchiveCodec``.

Every fast reader raises ``UnexpectedLayout`` when the index is not laid out as it expects; its
caller then uses Whoosh's own (slower) reader and calls ``report_fallback``, which logs once per
index generation. ``tests/test_whoosh_fast_paths.py`` asserts that every fast path is taken on
a real index, so an upgrade of Whoosh that changes the layout fails there, loudly. Why each
path exists and what it saves is in ``docs/whoosh.md``.

Postings: Whoosh's matchers step through postings one Python call per document, which costs
~20 us a match (half a second for a common word at 100,000 articles). Its W3 codec stores a
term's postings as blocks of up to 128: a small pickled info tuple, then a zlib-compressed
protocol-2 pickle of ``(delta ids, weights, values)``. Searching needs only ids and weights,
and the values (positions and character offsets, most of each block) come last, so each block
is inflated only as far as the values and unpickled without them (about 5x faster than Whoosh's
own ``all_ids()``, ``docs/whoosh.md``). Any block without the expected layout is unpickled
whole; a term Whoosh does not store in blocks is read from its inlined postings.
"""

from __future__ import annotations

import hashlib
import io
import logging
import operator
import os
import pickle
import struct
import threading
import zlib
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterator
from functools import partial
from itertools import accumulate
from operator import methodcaller
from typing import Any, Final, NamedTuple

import numpy as np
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3PostingsWriter,
    W3TermInfo,
)
from whoosh.filedb.compound import SubFile
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.filedb.filetables import _lengths as _HASH_LENGTHS
from whoosh.filedb.filetables import _pointer as _HASH_POINTER
from whoosh.reading import TermNotFound
from whoosh.system import pack_ushort
from whoosh.util.numeric import _length_byte_cache, byte_to_length, length_to_byte

from indexer.postings_format import (
    COMPACT_FORMATS,
    CompactCharacters,
    PackedValues,
    decode_varints,
    encode_varints,
    value_counts,
)

log = logging.getLogger(__name__)

_MAGIC = b"W3Bl"
_UNKNOWN = object()
_INT = struct.Struct(">i")
# Protocol 3 pickles a block's PackedValues as this global, after the ids and weights.
_VALUES_MARK = b"c" + PackedValues.__module__.encode() + b"\nPackedValues\n"
_NO_VALUES = b"N\x87."  # None, TUPLE3, STOP: the tuple rebuilt without its values
_INFLATE_PER_POSTING = 12
_INFLATE_MORE = 64
LENGTH_OF_BYTE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float64)
# The length Whoosh scores a field with, by the byte it keeps: byte 0 (no length) scores as 1.
LENGTH_SCORED = LENGTH_OF_BYTE.copy()
LENGTH_SCORED[0] = 1.0


BLOCK_POSTINGS: int = W3Codec()._blocklimit
"""Postings per block of Whoosh's W3 codec (its default block limit)."""


class UnexpectedLayout(Exception):
    """The index is not laid out the way a fast reader expects: use Whoosh's own reader."""


_reported: set[tuple[object, str]] = set()
_reported_lock = threading.Lock()


def generation_key(searcher: Any) -> tuple[str, int | None]:
    """Return what identifies SEARCHER's index generation: its folder and generation number."""
    storage = getattr(getattr(searcher, "_ix", None), "storage", None)
    folder = str(getattr(storage, "folder", ""))
    try:
        number = searcher.reader().generation()
    except AttributeError:
        number = None
    return folder, number


def report_fallback(searcher: Any, what: str, error: UnexpectedLayout) -> bool:
    """Log, once per index generation and fast path, that WHAT fell back to Whoosh's reader.

    Return True when this call logged (the first time for this generation and path).
    """
    key = (generation_key(searcher), what)
    with _reported_lock:
        if key in _reported:
            return False
        _reported.add(key)
    log.warning("%s : l'index n'est pas disposé comme prévu (%s) ; lecteur de Whoosh, plus "
                "lent, pour cette génération de l'index (voir docs/whoosh.md)", what, error)
    return True


def field_b(weighting: Any, field: str) -> float:
    """Return the BM25F ``B`` Whoosh scores FIELD with (per-field, else the model's)."""
    per_field: dict[str, float] = getattr(weighting, "_field_B", {})
    return float(per_field.get(field, weighting.B))


# Term entries looked up per segment reader: a search asks for the same few terms several
# times (to order the parts of an AND, to read them, to mark them in snippets), and each
# lookup in Whoosh's term table costs file reads. Bounded; emptied when full.
_TERM_INFOS = 50_000

# A term's entry as kept: (document frequency, offset of its postings in the posting file,
# their length, its inlined postings or None). A plain tuple of plain values, which Python's
# garbage collector stops tracking, where a ``W3TermInfo`` per entry is an object it walks at
# every full collection: tens of thousands of them made each one a pause of 50-85 ms at a
# million articles. An entry read with a prefix is kept as its bytes until looked up.
TermEntry = tuple[int, int, int, Any]
_FREQUENCY: Final = 0
_INLINED: Final = 3


def _kept_entry(info: Any) -> TermEntry:
    """The entry kept for Whoosh's term info INFO (a ``W3TermInfo``)."""
    if info.is_inlined():
        return int(info.doc_frequency()), 0, 0, tuple(info.inlined_postings())
    offset, length = info.extent()
    if isinstance(length, tuple):  # whoosh-reloaded 2.7.5 returns (offset, (length,))
        length = length[0]
    return int(info.doc_frequency()), int(offset), int(length), None


def _term_info(leaf: Any, field: str, btext: bytes) -> tuple[Any, TermEntry] | None:
    """Return (the segment's posting file, the term's entry), None if the term is absent.

    Raises UnexpectedLayout when the segment's files are not the W3 codec's.
    """
    try:
        terms = leaf._terms
        postfile = terms._postfile
    except AttributeError:
        raise UnexpectedLayout("not a W3 segment reader") from None
    known = _term_infos(terms)
    key = (field, btext)
    info = known.get(key, _UNKNOWN)
    if info is _UNKNOWN:
        try:
            entry = term_entry(terms, field, btext)
            info = None if entry is None else _kept_entry(W3TermInfo.from_bytes(entry))
        except UnexpectedLayout:
            try:
                info = _kept_entry(terms.term_info(field, btext))
            except (TermNotFound, LookupError):
                info = None
        if len(known) >= _TERM_INFOS:
            known.clear()
        known[key] = info
    elif type(info) is bytes:  # read with a prefix, not looked up before
        info = known[key] = _kept_entry(W3TermInfo.from_bytes(info))
    return None if info is None else (postfile, info)


def _term_infos(terms: Any) -> dict[tuple[str, bytes], Any]:
    """The term entries a segment's term reader has given so far, kept on the reader."""
    known: dict[tuple[str, bytes], Any] | None = getattr(terms, "_archive_term_infos", None)
    if known is None:
        known = terms._archive_term_infos = {}
    return known


def _table_place(source: Any) -> tuple[int, int]:
    """Return the file descriptor a term table is read from and the table's offset in it (a
    compound segment holds the table as a part of its file). Raises UnexpectedLayout when the
    table is not read from a file."""
    if isinstance(source, SubFile):
        return source._file.fileno(), source._offset
    if isinstance(source, io.BufferedReader):
        return source.fileno(), 0
    raise UnexpectedLayout("the term table is not read from a file")


def term_entry(terms: Any, field: str, btext: bytes) -> bytes | None:
    """Return the bytes of a term's entry in a segment's term table (Whoosh's ``HashReader``),
    None when the segment does not hold the term.

    Whoosh reads each probe of its hash table through three file objects (its ``StructFile``,
    the compound file's ``SubFile`` and Python's buffered file), a seek and a buffer refill
    each: a few microseconds per read, and a search looks up tens of terms in every segment.
    Here each read is one ``os.pread`` at the table's place in the segment file. Raises
    UnexpectedLayout when the table is not a hash file read from a file.
    """
    try:
        table = terms._tindex
        source = table.dbfile.file
        fd, base = _table_place(source)
        key = terms._keycoder(field, btext)
        keyhash = table.hashfn(key)
        start, slots = table.tables[keyhash & 255]
    except (AttributeError, TypeError, ValueError, OSError) as exc:
        raise UnexpectedLayout(f"not Whoosh's hash file of terms ({exc})") from None
    if not slots:
        return None
    slot_size, unpack_slot = _HASH_POINTER.size, _HASH_POINTER.unpack
    end = start + slots * slot_size
    place = start + ((keyhash >> 8) % slots) * slot_size
    try:
        # Whoosh's probing (``HashReader.ranges_for_key``): linear, wrapping round, ending at
        # an empty slot; an item is its key's and value's lengths, the key, then the value.
        for _ in range(slots):
            slot_hash, item = unpack_slot(os.pread(fd, slot_size, base + place))
            if not item:
                return None
            if slot_hash == keyhash:
                head = os.pread(fd, _HASH_LENGTHS.size + len(key), base + item)
                key_length, value_length = _HASH_LENGTHS.unpack_from(head)
                if key_length == len(key) and head[_HASH_LENGTHS.size:] == key:
                    return os.pread(fd, value_length,
                                    base + item + _HASH_LENGTHS.size + key_length)
            place += slot_size
            if place == end:
                place = start
    except (OSError, struct.error) as exc:
        raise UnexpectedLayout(f"the term table could not be read ({exc})") from None
    return None


def doc_frequency(leaf: Any, field: str, btext: bytes) -> int:
    """Return how many documents of the segment hold the term, from its entry alone."""
    term = _term_info(leaf, field, btext)
    return 0 if term is None else int(term[1][_FREQUENCY])


def read_postings(leaf: Any, field: str, btext: bytes, within: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Return (document numbers in the segment, weights, document frequency), None if absent.

    With WITHIN (ascending document numbers of the segment), only the blocks whose range of
    documents holds one of them are decoded: the postings returned then include every posting
    of those documents, and possibly others. Raises UnexpectedLayout when the segment's files
    are not the W3 codec's.
    """
    term = _term_info(leaf, field, btext)
    if term is None:
        return None
    postfile, info = term
    if info[_INLINED] is not None:
        ids, weights, _ = info[_INLINED]
        return (np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64),
                info[_FREQUENCY])
    deltas: list[int] = []
    tf: list[float] = []
    _decode_blocks(_term_blocks(leaf, field, btext, postfile, info, within), deltas, tf, 0)
    return (np.cumsum(_int_array(deltas)), _float_array(tf),
            info[_FREQUENCY])


def _read_extent(postfile: Any, info: TermEntry) -> bytes:
    """Return the bytes of a term's posting blocks."""
    offset, length = _extent(info)
    postfile.seek(offset)
    raw: bytes = postfile.read(length)
    return raw


# Reading the posting blocks of several terms in one piece when they lie this close at most.
_EXTENTS_SPAN = 64 * 2**20


def _read_extents(terms: list[tuple[Any, TermEntry]]) -> dict[int, Any]:
    """Return the bytes of the posting blocks of TERMS ((posting file, info) of one segment),
    by ``id`` of their info, in one read of the file when they lie close together (the terms
    of a prefix follow each other in the file, as in the term table)."""
    blocks = [(info, *_extent(info)) for _, info in terms if info[_INLINED] is None]
    if not blocks:
        return {}
    postfile = terms[0][0]
    first = min(offset for _, offset, _ in blocks)
    last = max(offset + length for _, offset, length in blocks)
    if last - first > _EXTENTS_SPAN:
        return {id(info): _read_extent(postfile, info) for info, _, _ in blocks}
    postfile.seek(first)
    view = memoryview(postfile.read(last - first))
    if len(view) != last - first:
        raise UnexpectedLayout("the posting file ends before a term's postings")
    return {id(info): view[offset - first:offset - first + length]
            for info, offset, length in blocks}


def _extent(info: TermEntry) -> tuple[int, int]:
    """The offset and length of a term's postings in the posting file."""
    return info[1], info[2]


def _blocks(raw: bytes | memoryview) -> Iterator[tuple[int, int, int, memoryview]]:
    """Yield (posting count, max id, compression, payload) of each W3 posting block in RAW."""
    return _payloads(_directory_of(raw), memoryview(raw), 0)


def _directory_of(raw: bytes | memoryview) -> np.ndarray:
    """Return the directory of the W3 posting blocks in RAW, from their headers: a row per
    block of (payload start, payload end, posting count, max id, compression), the offsets
    within RAW."""
    if raw[:4] != _MAGIC:
        raise UnexpectedLayout("postings do not start with the W3 block tag")
    stream = io.BytesIO(raw)  # one copy of the postings, each header unpickled from it
    load = pickle.load
    rows = array("q")  # no Python object kept per block
    add = rows.append
    position = 4
    try:
        while True:
            size = _INT.unpack_from(raw, position)[0]
            position += 4
            end = position + abs(size)
            stream.seek(position)
            count, max_id, _, compression, _, _ = load(stream)
            add(stream.tell())
            add(end)
            add(count)
            add(max_id)
            add(compression)
            if size < 0:  # a negative size marks the last block
                # A copy: a view would keep the array, its buffer and a memoryview alive,
                # three objects for the garbage collector to walk per directory kept.
                return np.array(rows, dtype=np.int64).reshape(-1, 5)
            position = end
    except (struct.error, pickle.UnpicklingError, EOFError, ValueError, TypeError,
            OverflowError) as exc:
        raise UnexpectedLayout(f"a posting block's header is not W3's ({exc})") from None


def _payloads(rows: np.ndarray, view: memoryview, shift: int,
              ) -> Iterator[tuple[int, int, int, memoryview]]:
    """Yield (posting count, max id, compression, payload) of the blocks of ROWS (directory
    rows) from VIEW, which starts at offset SHIFT of the term's postings."""
    starts, ends, counts, max_ids, compressions = rows.T.tolist()
    for start, end, count, max_id, compression in zip(starts, ends, counts, max_ids,
                                                      compressions, strict=True):
        yield count, max_id, compression, view[start - shift:end - shift]


# The block directories of the terms read lately (where each block's payload lies in the
# term's postings, its posting count, last document and compression), by segment: reading a
# term again then unpickles no block header, and a few candidate documents find their blocks
# with one ``searchsorted`` and read only the stretch of the file that holds them. 40 bytes a
# block; least recently used first out.
BLOCK_DIRECTORY_BYTES = 4 * 2**20
_directories_lock = threading.Lock()
_directories: OrderedDict[tuple[str, str, bytes], np.ndarray] = OrderedDict()
_directories_size = 0


def _term_blocks(leaf: Any, field: str, btext: bytes, postfile: Any, info: TermEntry,
                 wanted: np.ndarray | None) -> Iterator[tuple[int, int, int, memoryview]]:
    """Yield (posting count, max id, compression, payload) of the term's blocks whose range
    of documents holds one of WANTED (ascending segment numbers; None: every block).

    The block directory is kept (``BLOCK_DIRECTORY_BYTES``); once it is, only the bytes
    from the first block wanted to the last are read from the posting file.
    """
    key = _directory_key(leaf, field, btext)
    directory = None
    if key is not None:
        with _directories_lock:
            directory = _directories.get(key)
            if directory is not None:
                _directories.move_to_end(key)
    if directory is None:
        raw = _read_extent(postfile, info)
        directory = _directory_of(raw)
        if key is not None:
            _keep_directory(key, directory)
        chosen = _chosen_blocks(directory, wanted)
        yield from _payloads(directory if chosen is None else directory[chosen],
                             memoryview(raw), 0)
        return
    chosen = _chosen_blocks(directory, wanted)
    picked = directory if chosen is None else directory[chosen]
    if not len(picked):
        return
    offset, length = _extent(info)
    first, last = int(picked[0, 0]), int(picked[-1, 1])
    if last > length:
        raise UnexpectedLayout("a posting block ends past its term's postings")
    postfile.seek(offset + first)
    view = memoryview(postfile.read(last - first))
    if len(view) != last - first:
        raise UnexpectedLayout("the posting file ends before a term's postings")
    yield from _payloads(picked, view, first)


def _chosen_blocks(directory: np.ndarray, wanted: np.ndarray | None) -> np.ndarray | None:
    """The indexes of DIRECTORY's blocks whose range of documents holds one of WANTED
    (ascending; None: every block). A block holds the documents after the previous block's
    last one up to its own last one."""
    if wanted is None:
        return None
    at = np.searchsorted(directory[:, 3], wanted)
    at = at[at < len(directory)]
    if len(at) > 1:
        at = at[np.concatenate(([True], at[1:] != at[:-1]))]
    return at


def _directory_key(leaf: Any, field: str, btext: bytes) -> tuple[str, str, bytes] | None:
    """What identifies a term's postings in a segment for the process (None: unknown)."""
    try:
        return str(leaf.segment().segment_id()), field, btext
    except AttributeError:
        return None


def _keep_directory(key: tuple[str, str, bytes], directory: np.ndarray) -> None:
    global _directories_size
    if directory.nbytes > BLOCK_DIRECTORY_BYTES // 8:
        return
    with _directories_lock:
        if key in _directories:
            return
        _directories[key] = directory
        _directories_size += directory.nbytes
        while _directories_size > BLOCK_DIRECTORY_BYTES and _directories:
            _, dropped = _directories.popitem(last=False)
            _directories_size -= dropped.nbytes


def _wanted_blocks(raw: bytes | memoryview, wanted: list[int] | None,
                   ) -> Iterator[tuple[int, int, int, memoryview]]:
    """Yield the blocks of RAW (as ``_blocks``) whose documents may include one of WANTED
    (ascending; None: every block), stopping after the block of the last one wanted."""
    if wanted is None:
        yield from _blocks(raw)
        return
    block_floor = -1  # the last document of the block before this one
    next_wanted = 0
    for block in _blocks(raw):
        max_id = block[1]
        # The block holds documents block_floor + 1 .. max_id: skip it if none is wanted.
        next_wanted = bisect_right(wanted, block_floor, next_wanted)
        block_floor = max_id
        if next_wanted == len(wanted):
            return
        if wanted[next_wanted] <= max_id:
            yield block


def _decode_into(raw: bytes | memoryview, within: list[int] | None, deltas: list[int],
                 weights: list[float], previous_max: int) -> int:
    """Append the id deltas and weights of RAW's (wanted) blocks to DELTAS and WEIGHTS.

    The first delta is counted from PREVIOUS_MAX (the last document before these postings),
    so that several terms' deltas add up in one cumulative sum; returns the last document
    decoded (PREVIOUS_MAX when no block was).
    """
    return _decode_blocks(_wanted_blocks(raw, within), deltas, weights, previous_max)


def _decode_blocks(blocks: Iterator[tuple[int, int, int, memoryview]], deltas: list[int],
                   weights: list[float], previous_max: int) -> int:
    """Append the id deltas and weights of BLOCKS to DELTAS and WEIGHTS (as ``_decode_into``)."""
    for count, max_id, compression, payload in blocks:
        ids, block_weights = _block(payload, compression, count)
        if len(ids) != count:
            raise UnexpectedLayout("block length does not match its info")
        # The first id of a block is absolute: make it a delta from the last one decoded.
        deltas.append(ids[0] - previous_max)
        deltas.extend(ids[1:])
        previous_max = max_id
        _add_weights(weights, block_weights, count)
    return previous_max


def _int_array(values: list[int]) -> np.ndarray:
    """VALUES (a list of the ints decoded from posting blocks) as int64: through an
    ``array`` of machine integers, twice as fast as ``np.asarray`` on the list."""
    return np.frombuffer(array("q", values), dtype=np.int64)


def _float_array(values: list[float]) -> np.ndarray:
    """VALUES (a list of weights decoded from posting blocks) as float64, the same numbers:
    ``np.fromiter`` with its size known, twice as fast as ``np.asarray`` on the list."""
    return np.fromiter(values, dtype=np.float64, count=len(values))


def _add_weights(weights: list[float], block_weights: Any, count: int) -> None:
    """Append the weights of a block of COUNT postings (as W3 stores them: None when all are
    1, one number when all are equal) to WEIGHTS."""
    if block_weights is None:
        weights.extend([1.0] * count)
    elif isinstance(block_weights, float | int):
        weights.extend([float(block_weights)] * count)
    else:
        weights.extend(block_weights)


def read_terms_postings(leaf: Any, field: str, btexts: list[bytes],
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the postings of several terms of a segment, term after term, in one piece.

    (document numbers, weights, how many postings each term of BTEXTS has): the documents of
    each term ascending, the terms in the order given, an absent term with no posting. The
    same postings as ``read_postings`` term by term, with one conversion to numpy for all
    (a prefix stands for hundreds of words). Raises UnexpectedLayout as ``read_postings``.
    """
    deltas: list[int] = []
    weights: list[float] = []
    counts: list[int] = []
    previous = 0  # the last document of the postings so far: the next delta starts there
    found = [_term_info(leaf, field, btext) for btext in btexts]
    extents = _read_extents([term for term in found if term is not None])
    for term in found:
        before = len(deltas)
        if term is None:
            counts.append(0)
            continue
        postfile, info = term
        if info[_INLINED] is not None:
            ids, inlined_weights, _ = info[_INLINED]
            if ids:
                deltas.append(ids[0] - previous)
                deltas.extend([b - a for a, b in zip(ids, ids[1:], strict=False)])
                weights.extend(inlined_weights)
                previous = ids[-1]
        else:
            previous = _decode_into(extents[id(info)], None, deltas, weights, previous)
        counts.append(len(deltas) - before)
    if len(weights) != len(deltas):
        raise UnexpectedLayout("a term has not one weight per posting")
    return (np.cumsum(_int_array(deltas)), _float_array(weights),
            np.asarray(counts, dtype=np.int64))


_TERMS_CHUNK = 1 << 16


def prefix_terms(leaf: Any, field: str, prefix: bytes) -> list[bytes]:
    """Return the terms of FIELD in a segment that start with PREFIX, in byte order.

    Whoosh's ``expand_prefix`` reads each key of its term table with its own file reads
    (thousands for a short prefix); the entries of the terms wanted follow each other in
    the table, so they are read here in a few pieces, and each term's entry is kept for the
    reads of its postings that follow. Raises UnexpectedLayout when the segment's term
    table is not the W3 codec's.
    """
    try:
        terms = leaf._terms
        table = terms._tindex
        number = terms._fieldmap.get(field)
        dbfile = table.dbfile
        end = int(table.endofdata)
    except (AttributeError, TypeError, struct.error) as exc:
        raise UnexpectedLayout(f"not a W3 term table ({exc})") from None
    if number is None:
        return []
    expanded: dict[tuple[str, bytes], list[bytes]] | None = getattr(
        terms, "_archive_prefixes", None)
    if expanded is None:
        expanded = {}
        terms._archive_prefixes = expanded
    found = expanded.get((field, prefix))
    if found is None:
        key = pack_ushort(number) + prefix
        start = closest_key_position(table, key)
        found = [] if start is None else _read_prefix_terms(
            terms, dbfile, field, key, start, end)
        if len(expanded) >= _PREFIXES:
            expanded.clear()
        expanded[(field, prefix)] = found
    return list(found)


def closest_key_position(table: Any, key: bytes) -> int | None:
    """Return where the first key of the ordered term TABLE not below KEY is, None if none.

    What Whoosh's ``OrderedHashReader.closest_key_pos`` returns, by the same binary search
    over its array of key positions, each probe one ``os.pread`` of the position and one of
    the key (Whoosh reads both through three file objects: eight times slower, and a prefix
    is looked up in every segment). Raises UnexpectedLayout when TABLE is not such a file.
    """
    try:
        source = table.dbfile.file
        fd, base = _table_place(source)
        entry = struct.Struct("!" + table.extras["indextype"])
        first, count = base + int(table.indexbase), int(table.indexlen)
    except (AttributeError, TypeError, KeyError, ValueError, OSError, struct.error) as exc:
        raise UnexpectedLayout(f"not Whoosh's ordered term table ({exc})") from None
    size, head = entry.size, _HASH_LENGTHS.size
    low, high = 0, count
    try:
        while low < high:
            middle = (low + high) // 2
            position = entry.unpack(os.pread(fd, size, first + middle * size))[0]
            read = os.pread(fd, head + len(key), base + position)
            (length,) = _INT.unpack_from(read)
            # The key's first len(KEY) bytes decide, the whole key if shorter.
            if read[head:head + min(length, len(key))] < key:
                low = middle + 1
            else:
                high = middle
        if low == count:
            return None
        found: int = entry.unpack(os.pread(fd, size, first + low * size))[0]
    except (OSError, struct.error) as exc:
        raise UnexpectedLayout(f"the term table could not be read ({exc})") from None
    return found


# The words of the prefixes expanded lately, kept per segment reader (a search expands its
# prefixes twice: to match, and to mark the words in the snippets).
_PREFIXES = 64


def _read_prefix_terms(terms: Any, dbfile: Any, field: str, key: bytes, position: int,
                       end: int) -> list[bytes]:
    """The terms from POSITION in the term table whose keys start with KEY (their entries
    kept for ``_term_info``, as their bytes until looked up)."""
    known = _term_infos(terms)
    found: list[bytes] = []
    chunk = _TERMS_CHUNK
    while position < end:
        data = dbfile.get(position, min(chunk, end - position))
        at = 0
        while at + _HASH_LENGTHS.size <= len(data):
            key_length, value_length = _HASH_LENGTHS.unpack_from(data, at)
            key_start = at + _HASH_LENGTHS.size
            stop = key_start + key_length + value_length
            if key_length < 2 or value_length < 0:
                raise UnexpectedLayout("a term entry has impossible lengths")
            if stop > len(data):
                break
            term_key = data[key_start:key_start + key_length]
            if not term_key.startswith(key):
                return found
            btext = term_key[2:]
            found.append(btext)
            if len(known) >= _TERM_INFOS:
                known.clear()
            if (field, btext) not in known:
                known[(field, btext)] = bytes(data[key_start + key_length:stop])
            at = stop
        if at == 0:
            if len(data) >= end - position:
                raise UnexpectedLayout("a term entry runs past the end of its table")
            chunk *= 2  # one entry larger than the piece read
        position += at
    return found


def _block(data: memoryview, compression: int, count: int = BLOCK_POSTINGS,
           ) -> tuple[Any, Any]:
    """Return (delta ids, weights) of one block of COUNT postings, unpickling its values only
    when unavoidable."""
    inflater = zlib.decompressobj() if compression else None
    # Ids and weights take at most 12 bytes a posting (``M`` and two bytes, ``G`` and eight)
    # but for very sparse terms: inflate about that much first, then more if needed.
    text = inflater.decompress(data, _INFLATE_PER_POSTING * count + _INFLATE_MORE) \
        if inflater else bytes(data)
    cut = text.find(_VALUES_MARK)
    while cut < 0 and inflater is not None and inflater.unconsumed_tail:
        text += inflater.decompress(inflater.unconsumed_tail, 8192)
        cut = text.find(_VALUES_MARK)
    if cut > 0:
        ids, weights, _ = pickle.loads(text[:cut] + _NO_VALUES)
        return ids, weights
    if inflater is not None:
        text += inflater.decompress(inflater.unconsumed_tail) + inflater.flush()
    ids, weights, _ = pickle.loads(text)
    return ids, weights


def field_lengths(leaf: Any, field: str) -> np.ndarray:
    """Return the length Whoosh scores with for FIELD of every document of a segment.

    Read from the segment's length column in one piece; raises UnexpectedLayout when the
    segment has no such column reader (``slow_field_lengths`` then gives the same values).
    """
    lengths: np.ndarray = LENGTH_SCORED[field_length_bytes(leaf, field)]
    return lengths


def field_length_bytes(leaf: Any, field: str) -> np.ndarray:
    """Return the byte Whoosh keeps for FIELD's length in every document of a segment (uint8,
    one per document): ``LENGTH_SCORED[byte]`` is the length it scores with (``field_lengths``).

    A byte a document instead of a float: an eighth of the memory (8 MB a field at a million
    documents). Raises UnexpectedLayout as ``field_lengths`` does.
    """
    return written_length_bytes(getattr(leaf, "_perdoc", None), field, leaf.doc_count_all())


def written_length_bytes(perdoc: Any, field: str, count: int) -> np.ndarray:
    """Return the length byte of FIELD in each of the COUNT documents of a segment (being
    written, or read), from its per-document reader, as uint8 (0: no length), read in one piece.

    Raises UnexpectedLayout when the reader is not Whoosh's W3 one (ask it document by
    document instead: ``doc_field_length``).
    """
    try:
        column = perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
    except (AttributeError, TypeError) as exc:
        raise UnexpectedLayout(f"no length column reader ({exc})") from None
    if column is None:
        return np.zeros(count, dtype=np.uint8)
    found: np.ndarray = numeric_column(column, count).astype(np.uint8)
    return found


def slow_field_lengths(leaf: Any, field: str) -> np.ndarray:
    """Return what ``field_lengths`` returns, asking Whoosh document by document."""
    count = leaf.doc_count_all()
    return np.array([leaf.doc_field_length(d, field, 1) for d in range(count)],
                    dtype=np.float64)


def numeric_column(reader: Any, count: int) -> np.ndarray:
    """Return a numeric column of one segment as int64, read in one piece.

    Reading value by value costs a file read each (the index is read through files, not
    mmap): seconds per generation at 100,000 articles. Whoosh's numeric column is a packed
    big-endian array, so it is read at once. Raises UnexpectedLayout for any other reader
    (``slow_numeric_column`` iterates it).
    """
    try:
        typecode, fixedlen, stored = reader._typecode, reader._fixedlen, reader._count
        dtype = np.dtype(typecode).newbyteorder(">")
        raw = reader._dbfile.get(reader._basepos, fixedlen * min(stored, count))
        values = np.frombuffer(raw, dtype=dtype)
        if len(values) < count:
            padding = np.full(count - len(values), reader._default, dtype=dtype)
            values = np.concatenate([values, padding])
    except (AttributeError, TypeError, ValueError, OverflowError) as exc:
        raise UnexpectedLayout(f"not a packed numeric column ({exc})") from None
    # Whoosh's "no value" for an unsigned column is its largest value: -1 once signed.
    return values.astype(np.int64)


def slow_numeric_column(reader: Any, count: int) -> np.ndarray:
    """Return what ``numeric_column`` returns, iterating Whoosh's column reader."""
    return np.array([v or 0 for v in reader][:count], dtype=np.uint64).astype(np.int64)


def bytes_column(reader: Any, count: int) -> list[bytes]:
    """Return a variable-length bytes column of one segment, read in one piece.

    Raises UnexpectedLayout for a reader that is not Whoosh's variable-length column.
    """
    try:
        lengths = list(reader._lengths)[:count]
        data = reader._dbfile.get(reader._basepos, sum(lengths))
    except (AttributeError, TypeError) as exc:
        raise UnexpectedLayout(f"not a variable-length bytes column ({exc})") from None
    values: list[bytes] = []
    position = 0
    for length in lengths:
        values.append(data[position:position + length])
        position += length
    values.extend(b"" for _ in range(count - len(values)))
    return values


def slow_bytes_column(reader: Any, count: int) -> list[bytes]:
    """Return what ``bytes_column`` returns, iterating Whoosh's column reader."""
    return list(reader)[:count]


def read_characters(leaf: Any, field: str, btext: bytes,
                    docnums: list[int]) -> dict[int, list[tuple[int, int, int]]]:
    """Return the (position, start, end) of a term in each of DOCNUMS (segment numbers).

    Raises UnexpectedLayout when the segment is not laid out as expected.
    """
    format_ = _compact_format_of(leaf, field)
    if not isinstance(format_, CompactCharacters):
        raise UnexpectedLayout(f"field {field!r} stores no character offsets")
    ids, data, starts, sizes = _term_packed(leaf, field, btext,
                                            np.unique(np.asarray(docnums, dtype=np.int64)))
    found: dict[int, list[tuple[int, int, int]]] = {}
    if not len(ids):
        return found
    wanted = sorted(set(docnums))
    at = np.minimum(np.searchsorted(ids, np.asarray(wanted, dtype=np.int64)), len(ids) - 1)
    raw = data.tobytes() if len(data) else b""
    decode = format_.decode_characters
    for doc, i in zip(wanted, at.tolist(), strict=True):
        if int(ids[i]) == doc:
            start = int(starts[i])
            try:
                found[doc] = decode(raw[start:start + int(sizes[i])])
            except ValueError as exc:
                raise UnexpectedLayout(f"a character value is not ours ({exc})") from None
    return found


def read_positions(leaf: Any, field: str, btext: bytes,
                   docnums: list[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (index into DOCNUMS, position) of every occurrence of a term in DOCNUMS.

    The values of the documents wanted (``indexer.postings_format``'s varints) are gathered
    from the blocks that hold them and decoded together with numpy. Raises UnexpectedLayout
    when the segment is not laid out as expected (another format, an older index).
    """
    characters = isinstance(_compact_format_of(leaf, field), CompactCharacters)
    wanted = np.asarray(docnums, dtype=np.int64)
    ascending = len(wanted) < 2 or bool((wanted[1:] > wanted[:-1]).all())
    in_order = wanted if ascending else np.unique(wanted)
    whole = _whole_positions(leaf, field, btext, in_order, characters)
    if whole is not None:
        return _pick_positions(wanted, *whole)
    return _positions_of_values(wanted, *_term_packed(leaf, field, btext, in_order),
                                characters=characters)


# The process keeps the whole positions of the terms read lately for a good share of their
# documents (the small words of proximities and quotations come back query after query), by
# segment: a segment's postings never change, so every thread and generation shares them.
POSITIONS_CACHE_BYTES = 32 * 2**20
# A term is read whole (and kept) when the documents wanted are at least this share of its
# own (1/4): decoding every value costs little more then, and less again the next time.
_WHOLE_SHARE = 4
_positions_lock = threading.Lock()
_positions: OrderedDict[tuple[str, int, str, bytes],
                        tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
_positions_size = 0


def _whole_positions(leaf: Any, field: str, btext: bytes, wanted: np.ndarray,
                     characters: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Return the term's (documents, first position of each, positions) in the segment when
    kept or when WANTED (ascending) are a good share of its documents; else None.

    Kept for the process, by segment (``POSITIONS_CACHE_BYTES`` in all, least recently used
    first out).
    """
    term = _term_info(leaf, field, btext)
    if term is None or term[1][_INLINED] is not None:
        return None
    try:
        key = (str(leaf.segment().segment_id()), int(leaf.doc_count_all()), field, btext)
    except AttributeError:
        return None
    with _positions_lock:
        found = _positions.get(key)
        if found is not None:
            _positions.move_to_end(key)
            return found
    if len(wanted) * _WHOLE_SHARE < term[1][_FREQUENCY]:
        return None  # not enough of its documents: only the values wanted are decoded
    return _keep_whole(key, _term_packed(leaf, field, btext, None), characters)


def _keep_whole(key: tuple[str, int, str, bytes],
                packed: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                characters: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the whole positions (as ``_whole_positions``) of a term's values PACKED (every
    posting's, from ``_term_packed``), kept under KEY when they fit."""
    global _positions_size
    ids = packed[0]
    owners, places = _positions_of_values(ids, *packed, characters=characters)
    counts = np.bincount(owners, minlength=len(ids))
    found = (ids.astype(np.int32), (np.cumsum(counts) - counts).astype(np.int64),
             places.astype(np.int32))
    size = sum(part.nbytes for part in found)
    if size <= POSITIONS_CACHE_BYTES // 8:
        with _positions_lock:
            if key not in _positions:
                _positions[key] = found
                _positions_size += size
            while _positions_size > POSITIONS_CACHE_BYTES and _positions:
                _, dropped = _positions.popitem(last=False)
                _positions_size -= sum(part.nbytes for part in dropped)
    return found


def read_whole_term(leaf: Any, field: str, btext: bytes,
                    ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Return what ``read_postings`` returns for the whole term, decoding each block once
    for its postings and its positions: the positions are kept as ``read_positions`` keeps
    a term read whole, so that reading them next costs nothing (a proximity of common words
    reads both whole). None if the segment does not hold the term.

    Raises UnexpectedLayout when the segment is not laid out as expected.
    """
    characters = isinstance(_compact_format_of(leaf, field), CompactCharacters)
    term = _term_info(leaf, field, btext)
    if term is None:
        return None
    try:
        key = (str(leaf.segment().segment_id()), int(leaf.doc_count_all()), field, btext)
    except AttributeError:
        key = None
    if term[1][_INLINED] is not None or key is None:
        return read_postings(leaf, field, btext)
    weights: list[float] = []
    packed = _term_packed(leaf, field, btext, None, weights)
    if len(weights) != len(packed[0]):
        raise UnexpectedLayout("a term has not one weight per posting")
    with _positions_lock:
        kept = key in _positions
    if not kept:
        _keep_whole(key, packed, characters)
    return packed[0], _float_array(weights), term[1][_FREQUENCY]


def _pick_positions(wanted: np.ndarray, ids: np.ndarray, firsts: np.ndarray,
                    places: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``read_positions`` from a term's whole positions (``_whole_positions``)."""
    at = np.searchsorted(ids, wanted)
    inside = at < len(ids)
    found = np.zeros(len(wanted), dtype=bool)
    found[inside] = ids[at[inside]] == wanted[inside]
    chosen = np.flatnonzero(found)
    at = at[chosen]
    ends = np.append(firsts[1:], len(places))
    counts = ends[at] - firsts[at]
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    picked = places[np.arange(total) + np.repeat(firsts[at] - starts, counts)]
    return np.repeat(chosen, counts), picked.astype(np.int64)


def _positions_of_values(wanted: np.ndarray, ids: np.ndarray, data: np.ndarray,
                         starts: np.ndarray, sizes: np.ndarray, *, characters: bool,
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``read_positions`` from a term's values (``_term_packed``): the values of WANTED
    gathered with one fancy index and their varints decoded at once."""
    empty = np.zeros(0, dtype=np.int64)
    if not len(wanted) or not len(ids):
        return empty, empty.copy()
    at = np.searchsorted(ids, wanted)
    inside = at < len(ids)
    found = np.zeros(len(wanted), dtype=bool)
    found[inside] = ids[at[inside]] == wanted[inside]
    chosen = np.flatnonzero(found)
    at = at[chosen]
    if len(at) == len(ids) and bool((at[1:] - at[:-1] == 1).all()):
        # Every value, in order (a term read whole): no gathering.
        picked, firsts, ends = data, starts, starts + sizes
        if not len(data):
            return empty, empty.copy()
    else:
        chosen_sizes = sizes[at]
        ends = np.cumsum(chosen_sizes)
        total = int(ends[-1]) if len(ends) else 0
        if not total:
            return empty, empty.copy()
        firsts = ends - chosen_sizes
        picked = data[np.arange(total) + np.repeat(starts[at] - firsts, chosen_sizes)]
    counts = value_counts(picked, firsts, ends)
    try:
        numbers = decode_varints(picked)
    except ValueError as exc:
        raise UnexpectedLayout(f"position values are not varints ({exc})") from None
    if characters:
        if bool((counts % 3).any()):
            raise UnexpectedLayout("a character value is not made of triples")
        counts //= 3
        numbers = numbers[0::3]
    owners, positions = _restarted_sums(counts, numbers)
    return chosen[owners], positions


def _restarted_sums(counts: np.ndarray, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each position's value (its index) and the positions, from the deltas of values
    of COUNTS deltas each: positions are delta-coded within each document's value, a
    cumulative sum restarted per value. Empty arrays when there are none."""
    if not len(deltas):  # the term is in none of the documents wanted
        return deltas, deltas.copy()
    totals = np.cumsum(deltas)
    firsts = np.cumsum(counts) - counts
    before = np.where(firsts > 0, totals[np.maximum(firsts - 1, 0)], 0)
    owners = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return owners, totals - np.repeat(before, counts)


def _compact_format_of(leaf: Any, field: str) -> Any:
    """Return FIELD's format in the segment's schema, if it is one of the compact formats
    (an index written before them is read by Whoosh's own matchers until it is rebuilt)."""
    try:
        format_ = leaf.schema[field].format
    except (AttributeError, KeyError):
        raise UnexpectedLayout(f"no format for field {field!r}") from None
    if not isinstance(format_, COMPACT_FORMATS):
        raise UnexpectedLayout(f"field {field!r} is not in the compact position format")
    return format_


def _term_packed(leaf: Any, field: str, btext: bytes, wanted: np.ndarray | None,
                 weights: list[float] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return a term's (document numbers ascending, values' bytes, where each posting's
    value starts in them, its size), from its inlined postings or from the blocks whose
    range holds one of WANTED (ascending; None: every block). Each block unpickles into its
    ids, weights and one ``PackedValues``: no object per posting. Raises UnexpectedLayout
    when a block's values are not packed."""
    term = _term_info(leaf, field, btext)
    empty = np.zeros(0, dtype=np.int64)
    if term is None:
        return empty, np.zeros(0, dtype=np.uint8), empty.copy(), empty.copy()
    postfile, info = term
    if info[_INLINED] is not None:
        ids, _, values = info[_INLINED]
        if len(values) != len(ids) or not all(type(value) is bytes for value in values):
            raise UnexpectedLayout("an inlined term has not one value per posting")
        sizes = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        return (np.asarray(ids, dtype=np.int64),
                np.frombuffer(b"".join(values), dtype=np.uint8),
                np.cumsum(sizes) - sizes, sizes)
    deltas: list[int] = []
    datas: list[bytes] = []
    all_sizes: list[bytes] = []
    previous_max = 0  # the last document of the last block decoded
    for count, max_id, compression, payload in _term_blocks(leaf, field, btext, postfile, info,
                                                            wanted):
        text = zlib.decompress(payload) if compression else bytes(payload)
        block_ids, block_weights, values = pickle.loads(text)
        if type(values) is not PackedValues:
            raise UnexpectedLayout("a block's values are not packed")
        if len(block_ids) != count:
            raise UnexpectedLayout("block length does not match its info")
        if weights is not None:
            _add_weights(weights, block_weights, count)
        deltas.append(block_ids[0] - previous_max)
        deltas.extend(block_ids[1:])
        previous_max = max_id
        datas.append(values.data)
        all_sizes.append(values.sizes)
    ids = np.cumsum(_int_array(deltas))
    data = np.frombuffer(b"".join(datas), dtype=np.uint8)
    try:
        sizes = decode_varints(np.frombuffer(b"".join(all_sizes), dtype=np.uint8))
    except ValueError as exc:
        raise UnexpectedLayout(f"value sizes are not varints ({exc})") from None
    if len(sizes) != len(ids) or int(sizes.sum()) != len(data):
        raise UnexpectedLayout("a block has not one value per posting")
    return ids, data, np.cumsum(sizes) - sizes, sizes


class InlinedTermInfo(W3TermInfo):  # type: ignore[misc]  # Whoosh has no type hints
    """A term entry with its postings inlined, written compactly; Whoosh reads it as its own.

    Whoosh pickles inlined postings with protocol 2, where each ``bytes`` value costs a
    ``_codecs.encode`` call (about 40 bytes, 25 for an empty one) and each weight a float (9
    bytes). Protocol 3 writes bytes as bytes, and a whole-number weight written as an int
    scores the same. ``W3TermInfo.from_bytes`` unpickles any protocol, so readers need no
    change. Most entries of the index are such short lists (word pairs found once or twice):
    this made the term dictionaries about a third smaller (``docs/whoosh.md``).
    """

    _inlined: tuple[Any, ...] | None

    def to_bytes(self) -> bytes:
        """Return the entry: Whoosh's header, then the postings pickled with protocol 3."""
        inlined = self._inlined
        if inlined is None:
            return bytes(super().to_bytes())
        self._inlined = ()  # the header alone, without pickling the postings twice
        try:
            header = bytes(super().to_bytes())[:self._struct.size]
        finally:
            self._inlined = inlined
        return header + pickle.dumps(inlined, 3)


class ArchivePostingsWriter(W3PostingsWriter):  # type: ignore[misc]  # Whoosh has no hints
    """Whoosh's W3 postings writer, with short lists inlined correctly (Whoosh's merges).

    whoosh-reloaded 2.7.5's writer inlines a list shorter than the codec's ``inlinelimit`` by
    calling ``set_inline``, a method its term info only has as ``set_inlined``; and a format
    without values (word pairs, spelling) leaves the values empty, which its reader then gives
    back as "" instead of b"" per posting, which a merge refuses. Both are fixed here.
    """

    # The block buffer and statistics of Whoosh's writer (set by its ``_new_block``).
    _ids: Any
    _weights: Any
    _values: list[bytes] | PackedValues
    _terminfo: Any
    _inlinelimit: int
    _blocklimit: int
    _maxweight: float
    _minlength: int | None
    _maxlength: int

    def finish_postings(self) -> Any:
        """Finish the current term: inline it when short, else write its last block."""
        if not self.written() and len(self) < self._inlinelimit:
            terminfo = self._terminfo
            terminfo.add_block(self)
            values = self._values if self._values else [b""] * len(self._ids)
            terminfo.set_inlined(self._ids, [int(w) if w.is_integer() else w
                                             for w in self._weights], values)
            terminfo.__class__ = InlinedTermInfo
            self._terminfo = None
            return terminfo
        return super().finish_postings()

    def _mini_values(self) -> Any:
        # The compact formats' values as one PackedValues (no object per posting).
        if isinstance(self._format, COMPACT_FORMATS):
            if len(self._values) != len(self._ids):
                raise ValueError("a posting of a positional field has no positions")
            values = self._values
            return values if isinstance(values, PackedValues) else PackedValues.of(values)
        return super()._mini_values()

    def _write_block(self, last: bool = False) -> None:
        """Write the buffered block as Whoosh's writer does, pickling a block of packed values
        with protocol 3 (its bytes as bytes; the others with Whoosh's protocol 2)."""
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        values = self._mini_values()
        data = pickle.dumps((self._mini_ids(), self._mini_weights(), values),
                            3 if isinstance(values, PackedValues) else 2)
        compression = self._compression
        if compression:
            data = zlib.compress(data, compression)
        ids = self._ids
        info = pickle.dumps((len(ids), ids[-1], self._maxweight, compression,
                             length_to_byte(self._minlength),
                             length_to_byte(self._maxlength)), 2)
        size = len(info) + len(data)
        self._postfile.write_int(-size if last else size)
        self._postfile.write(info)
        self._postfile.write(data)
        self._blockcount += 1
        self._new_block()


class TermTableWriter(OrderedHashWriter):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's ``OrderedHashWriter`` (a segment's term table), the same bytes in fewer calls.

    Whoosh's writer asks the file for its position twice per key, writes each key in three
    calls and hashes it through a hexadecimal string; a full build adds millions of keys (one
    per term and segment, most of them word pairs), and those calls were about a tenth of its
    time. This writer counts the position itself, writes a key's record in one call, takes
    MD5's last four bytes directly (``md5_hash``'s value) and writes each of the 256 hash
    tables in one call. It takes over a table Whoosh's constructor started (``taking_over``),
    so the header is Whoosh's own; ``tests/test_term_table.py`` compares the files.
    """

    _position: int
    _hashed: array[int]  # each key's hash (MD5's last four bytes), in the order added
    _places: array[int]  # each key's position in the file
    lastkey: bytes

    @classmethod
    def taking_over(cls, started: OrderedHashWriter) -> OrderedHashWriter:
        """Return a writer continuing STARTED, or STARTED itself if it is not as expected."""
        if type(started) is not OrderedHashWriter or started.hashtype != 0 or started.index:
            return started
        writer: TermTableWriter = cls.__new__(cls)
        writer.__dict__.update(started.__dict__)
        writer._position = started.dbfile.tell()
        writer._hashed = array("I")
        writer._places = array("q")
        return writer

    def add(self, key: bytes, value: bytes) -> None:
        """Add KEY (greater than the last one) with VALUE, as Whoosh's ``add`` does."""
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        position = self._position
        self.index.append(position)
        record = _HASH_LENGTHS.pack(len(key), len(value)) + key + value
        self.dbfile.write(record)
        self._position = position + len(record)
        digest = hashlib.md5(key, usedforsecurity=False).digest()
        self._hashed.append(int.from_bytes(digest[12:], "big"))
        self._places.append(position)
        self.lastkey = key

    def add_many(self, keys: list[bytes], values: list[bytes]) -> None:
        """Add KEYS (increasing, after the last one) with their VALUES, as ``add`` does one by
        one, in one write."""
        if not keys:
            return
        if keys[0] <= self.lastkey or any(map(operator.ge, keys, keys[1:])):
            for key, value in zip(keys, values, strict=True):
                self.add(key, value)  # refuses the first key out of order, as Whoosh does
            return
        pack = _HASH_LENGTHS.pack
        records = [pack(len(key), len(value)) + key + value
                   for key, value in zip(keys, values, strict=True)]
        positions = list(accumulate(map(len, records), initial=self._position))
        self.dbfile.write(b"".join(records))
        self._position = positions.pop()
        index = self.index
        try:
            more = array(index.array.typecode, positions)
        except (AttributeError, OverflowError):  # past the array's type: Whoosh's retyping
            for position in positions:
                index.append(position)
        else:
            index.array.extend(more)
        digests = b"".join(map(_DIGEST, map(_MD5, keys)))
        self._hashed.frombytes(
            np.frombuffer(digests, dtype=">u4")[3::4].astype(np.uint32).tobytes())
        self._places.fromlist(positions)
        self.lastkey = keys[-1]

    def _write_hashes(self) -> None:
        # Whoosh's 256 tables: a key's table is its hash's low byte, each table twice as
        # many slots as keys, filled by open addressing in the order the keys were added.
        dbfile = self.dbfile
        at = dbfile.tell()
        hashed = np.frombuffer(self._hashed, dtype=np.uint32).astype(np.int64)
        places = np.frombuffer(self._places, dtype=np.int64)
        tables = hashed & 255
        order = np.argsort(tables, kind="stable")
        ends = np.cumsum(np.bincount(tables, minlength=256)).tolist()
        start = 0
        for end in ends:
            slots = 2 * (end - start)
            self.directory.append((at, slots))
            if not slots:
                continue
            keys = order[start:end]
            start = end
            table = [-1] * slots  # which key is in each slot
            for number, slot in enumerate(((hashed[keys] >> 8) % slots).tolist()):
                while table[slot] >= 0:
                    slot = slot + 1 if slot + 1 < slots else 0
                table[slot] = number
            rows = np.zeros(slots, dtype=_HASH_SLOT)
            taken = np.array(table, dtype=np.int64)
            filled = taken >= 0
            chosen = keys[taken[filled]]
            rows["hashed"][filled] = hashed[chosen]
            rows["position"][filled] = places[chosen]
            written = rows.tobytes()
            dbfile.write(written)
            at += len(written)


class ArchiveCodec(W3Codec):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's W3 codec writing through ``ArchivePostingsWriter``.

    Each segment pickles its codec into the index's TOC: this class is found again by its
    import path when an index is opened, so it must stay here under this name (renaming or
    moving it requires a full rebuild, like the analysis classes).
    """

    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        """Return Whoosh's W3 field writer, its term table written by ``TermTableWriter``."""
        writer = W3FieldWriter(self, storage, segment)
        writer._tindex = TermTableWriter.taking_over(writer._tindex)
        return writer

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> ArchivePostingsWriter:
        """Return the postings writer of this codec."""
        return ArchivePostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                     compression=self._compression,
                                     inlinelimit=self._inlinelimit)


class ValueRun(NamedTuple):
    """The values of a run of postings, in order: DATA joined, where each starts in it (and the
    end), their sizes as bytes when all are below 128 (else None), and their sizes."""

    data: bytes
    offsets: list[int]
    small: bytes | None
    sizes: list[int]


_MD5 = partial(hashlib.md5, usedforsecurity=False)
_DIGEST = methodcaller("digest")
# A slot of the term table's hash tables: Whoosh's ``_pointer`` ("!Iq") as a numpy record.
_HASH_SLOT = np.dtype([("hashed", ">u4"), ("position", ">i8")])
# W3TermInfo's header ("!BfIBBfII") as a numpy record: a run's inlined terms' headers at once.
_INLINED_HEADER = np.dtype([("flags", "u1"), ("weight", ">f4"), ("count", ">u4"),
                            ("shortest", "u1"), ("longest", "u1"), ("heaviest", ">f4"),
                            ("first", ">u4"), ("last", ">u4")])
_TERM_ENTRY = struct.Struct("!BfIBBfIIqi")  # W3TermInfo's header, the postings' offset, length
_LENGTH_LIMITS = np.array(_length_byte_cache, dtype=np.int64)
_EXACT_SUMS = float(1 << 24)  # whole weights below this add up exactly in any order


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """Return Whoosh's ``length_to_byte`` of each of LENGTHS (whole numbers >= 0) as uint8."""
    found = np.searchsorted(_LENGTH_LIMITS, lengths, side="left")
    return np.minimum(found, 255).astype(np.uint8)


class FieldTermsWriter:
    """Writes a field's terms, a run of whole terms at a time, as Whoosh's W3 writer does.

    Whoosh's field writer makes a term info and fills a postings writer posting by posting for
    each term; a block's statistics (last id, greatest weight, shortest and longest field) are
    kept posting by posting and each block is written in several calls. Here a run's block
    statistics are computed with numpy for all its terms at once (``reduceat`` over the
    blocks' bounds, field lengths turned into Whoosh's length bytes with one ``searchsorted``),
    and a term's blocks are written in one call: the same bytes as ``start_term``, its
    postings and ``finish_term`` would write through ``ArchivePostingsWriter``, or, for a term
    shorter than the inline limit, its entry with the postings inlined as ``InlinedTermInfo``
    writes it (``tests/test_index_bulk.py`` compares with Whoosh's writer byte for byte).
    Raises UnexpectedLayout when the field writer is not a W3 one made by ``ArchiveCodec``
    inside a field (``start_field`` called).
    """

    def __init__(self, fieldwriter: Any, packed: bool) -> None:
        postings = postings_writer(fieldwriter)
        try:
            table = fieldwriter._tindex
            self._prefix = pack_ushort(fieldwriter._fieldid)
            self._postfile = postings._postfile
            fixed = fieldwriter._format.fixed_value_size()
        except (AttributeError, struct.error) as exc:
            raise UnexpectedLayout(f"not a W3 field writer inside a field ({exc})") from None
        self.inline_limit = int(postings._inlinelimit)
        self.block_limit = int(postings._blocklimit)
        self._compression = int(postings._compression)
        # PACKED: a compact format's block values are one PackedValues (pickle protocol 3).
        self._packed = packed
        self._fixed: int | None = fixed
        self._table = table

    def write(self, terms: list[bytes], counts: np.ndarray, docs: np.ndarray,
              weights: np.ndarray, lengths: np.ndarray, values: ValueRun) -> None:
        """Write TERMS (increasing, after those written before), each with COUNTS (> 0)
        postings: DOCS, WEIGHTS, LENGTHS (the length byte of each posting's document) and
        VALUES of all of them, term after term."""
        counts = counts.astype(np.int64)
        ends = np.cumsum(counts)
        starts = ends - counts
        limit = self.block_limit
        inline = counts < self.inline_limit
        blocks = np.where(inline, 1, (counts + limit - 1) // limit)
        first_blocks = np.cumsum(blocks) - blocks
        owner = np.repeat(np.arange(len(counts)), blocks)
        block_starts = starts[owner] + (np.arange(len(owner)) - first_blocks[owner]) * limit
        block_ends = np.minimum(block_starts + limit, ends[owner])
        # The weights as a block holds them: rounded to 32-bit floats.
        stored = weights.astype(np.float32).astype(np.float64)
        heaviest = np.maximum.reduceat(weights, block_starts).tolist()
        stored_max = np.maximum.reduceat(stored, block_starts).tolist()
        stored_min = np.minimum.reduceat(stored, block_starts).tolist()
        longest = np.maximum.reduceat(lengths, block_starts).tolist()
        known = np.where(lengths == 0, 256, lengths.astype(np.int16))
        shortest = np.minimum.reduceat(known, block_starts)
        shortest[shortest == 256] = 0
        whole = bool(np.all(np.isfinite(stored)) and np.all(stored == np.floor(stored))
                     and np.all(np.abs(stored) < _EXACT_SUMS))
        sums = np.add.reduceat(stored, block_starts).tolist() if whole else None
        headers = self._inlined_headers(inline, block_starts, counts, first_blocks, stored_max,
                                        shortest, longest, sums, stored, docs)
        ids = docs.astype(np.int64)
        deltas = ids.copy()
        deltas[1:] -= ids[:-1]
        deltas[block_starts] = ids[block_starts]
        self._write_terms(
            terms, inline.tolist(), first_blocks.tolist(), blocks.tolist(),
            block_starts.tolist(), block_ends.tolist(), ids.tolist(), deltas.tolist(),
            stored.tolist(), stored.astype(np.int64).tolist() if whole else None, sums,
            heaviest, stored_min, stored_max, shortest.tolist(), longest, values, headers)

    def _inlined_headers(self, inline: np.ndarray, block_starts: np.ndarray,
                         counts: np.ndarray, first_blocks: np.ndarray, stored_max: list[float],
                         shortest: np.ndarray, longest: list[int], sums: list[float] | None,
                         stored: np.ndarray, docs: np.ndarray) -> bytes | None:
        """Return the headers of the inlined terms' entries, one after the other, or None
        when their weights' sums might not be Python's (more than two weights, not whole)."""
        if sums is None and self.inline_limit > 3:
            return None
        blocks = first_blocks[inline]
        rows = np.zeros(len(blocks), dtype=_INLINED_HEADER)
        rows["flags"] = 1
        starts = block_starts[blocks]
        rows["weight"] = (np.array(sums)[blocks] if sums is not None else
                          np.add.reduceat(stored, block_starts)[blocks])
        rows["count"] = counts[inline]
        rows["shortest"] = shortest[blocks]
        rows["longest"] = np.array(longest, dtype=np.int64)[blocks]
        heaviest = np.array(stored_max)[blocks]
        rows["heaviest"] = np.where(heaviest > 0, heaviest, 0)
        rows["first"] = docs[starts]
        rows["last"] = docs[starts + counts[inline] - 1]
        return rows.tobytes()

    def _write_terms(self, terms: list[bytes], inline: list[bool], first_blocks: list[int],
                     blocks: list[int], block_starts: list[int], block_ends: list[int],
                     ids: list[int], deltas: list[int], stored: list[float],
                     whole: list[int] | None, sums: list[float] | None,
                     heaviest: list[float], stored_min: list[float], stored_max: list[float],
                     shortest: list[int], longest: list[int], values: ValueRun,
                     headers: bytes | None) -> None:
        keys = [self._prefix + term for term in terms]
        entries: list[bytes] = []
        add = entries.append
        header = W3TermInfo._struct.pack
        entry = _TERM_ENTRY.pack
        size_of = _INT.pack
        dumps = pickle.dumps
        compress = zlib.compress
        compression = self._compression
        packed = self._packed
        fixed = self._fixed
        data, offsets, small, sizes = values
        postfile = self._postfile
        position = postfile.tell()
        size = _INLINED_HEADER.itemsize
        at_header = 0
        for short, first, count in zip(inline, first_blocks, blocks, strict=True):
            low = block_starts[first]
            if short:
                high = block_ends[first]
                listed = [data[offsets[i]:offsets[i + 1]] for i in range(low, high)
                          if offsets[i + 1] > offsets[i]] \
                    if offsets[high] > offsets[low] else None
                if headers is not None:
                    head = headers[at_header:at_header + size]
                    at_header += size
                else:
                    top = stored_max[first]
                    head = header(1, sum(stored[low:high]), high - low, shortest[first],
                                  longest[first], top if top > 0 else 0, ids[low],
                                  ids[high - 1])
                add(head + dumps(
                    (tuple(ids[low:high]),
                     tuple(whole[low:high]) if whole is not None else
                     tuple(int(w) if w.is_integer() else w for w in stored[low:high]),
                     tuple(listed) if listed else (b"",) * (high - low)), 3))
                continue
            parts = [WHOOSH3_HEADER_MAGIC]
            weight: float = 0
            minimum: int | None = None
            maximum = 0
            top_weight: float = 0
            last = first + count - 1
            for block in range(first, last + 1):
                at, end = block_starts[block], block_ends[block]
                lightest, top = stored_min[block], stored_max[block]
                block_weights: float | tuple[float, ...] | None
                if lightest == top:
                    block_weights = None if top == 1.0 else stored[at]
                else:
                    block_weights = tuple(stored[at:end])
                block_values: Any
                if packed:
                    block_values = PackedValues(
                        data[offsets[at]:offsets[end]],
                        small[at:end] if small is not None else encode_varints(sizes[at:end]))
                elif fixed == 0:
                    block_values = None
                elif fixed is None or fixed < 0:
                    block_values = tuple([data[offsets[i]:offsets[i + 1]]
                                          for i in range(at, end)
                                          if offsets[i + 1] > offsets[i]])
                else:
                    block_values = data[offsets[at]:offsets[end]]
                payload = dumps((tuple(deltas[at:end]), block_weights, block_values),
                                3 if packed else 2)
                if compression:
                    payload = compress(payload, compression)
                heavy = heaviest[block]
                heavy = heavy if heavy > 0 else 0
                info = dumps((end - at, ids[end - 1], heavy, compression, shortest[block],
                              longest[block]), 2)
                extent = len(info) + len(payload)
                parts += (size_of(-extent if block == last else extent), info, payload)
                # The term's statistics, as W3TermInfo.add_block gathers them.
                weight += sums[block] if sums is not None else sum(stored[at:end])
                known = shortest[block] or None
                minimum = known if minimum is None else min(minimum, known)  # type: ignore[type-var]
                maximum = max(maximum, longest[block])
                top_weight = max(top_weight, heavy)
            written = b"".join(parts)
            postfile.write(written)
            high = block_ends[last]
            add(entry(0, weight, high - low, minimum or 0, maximum, top_weight,
                                     ids[low], ids[high - 1], position, len(written)))
            position += len(written)
        table = self._table
        if isinstance(table, TermTableWriter):
            table.add_many(keys, entries)
        else:
            for key, value in zip(keys, entries, strict=True):
                table.add(key, value)


def postings_writer(fieldwriter: Any) -> ArchivePostingsWriter:
    """Return the postings writer of a W3 field writer inside a term (``start_term`` called).

    Raises UnexpectedLayout when the field writer was not made by ``ArchiveCodec``.
    """
    found = getattr(fieldwriter, "_postwriter", None)
    if not isinstance(found, ArchivePostingsWriter):
        raise UnexpectedLayout("the field writer's codec is not ArchiveCodec")
    return found


def commit_segments(ix: Any, segments: list[Any]) -> None:
    """Commit SEGMENTS, written by several writers, as the index's next generation (one TOC).

    The same steps as Whoosh's own multi-segment writer when it commits its sub-writers'
    segments: a writer takes the index lock, closes its own empty segment, writes the TOC
    listing SEGMENTS and releases the lock.
    """
    writer = ix.writer()
    try:
        writer._close_segment()
        writer._commit_toc(segments)
    finally:
        writer._finish()
