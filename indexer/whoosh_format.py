"""Whoosh's on-disk format, in one place: every private name of whoosh-reloaded 2.7.5 we use.

The search and the full rebuild go faster than Whoosh's own objects by reading and writing its
W3 codec's files directly. Everything that knows that layout lives here:

- readers: a term's postings (document numbers and weights) and document frequency, the
  positions and character offsets of a term in chosen documents, the numeric and bytes
  columns, and the field lengths Whoosh scores with;
- writers: ``ArchiveCodec``, a ``W3Codec`` whose ``ArchivePostingsWriter`` (a
  ``W3PostingsWriter``) writes the index's posting layout and inlines short posting lists
  correctly, and whose ``PackedLeafMatcher`` reads that layout; ``FieldTermsWriter``, which
  writes the bulk writer's terms, a run of them at a time, as the same bytes;
  ``ArchiveFieldWriter``, whose terms go to the index's term dictionary
  (``indexer.term_dictionary``) instead of Whoosh's hash table, and ``ArchiveTermsReader``,
  which gives Whoosh's readers that dictionary; and ``commit_segments``, which commits
  segments written by several writers in one TOC as Whoosh's own multi-segment writer does;
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
~20 us a match (half a second for a common word at 100,000 articles). Its W3 codec stored a
term's postings as blocks of up to 128, each a pickled header and a zlib-compressed pickle of
``(delta ids, weights, values)``; the index's own layout (``indexer.posting_blocks``, written
by ``ArchivePostingsWriter`` and ``FieldTermsWriter``) puts a term's block directory first,
then its ids, weights and value sizes bit-packed per block, then its values, so that any run
of blocks of one term or of many decodes in a few numpy calls. ``ArchiveCodec`` reads it for
Whoosh's own matchers (``PackedLeafMatcher``) and reads Whoosh's blocks (an index written
before the layout) with Whoosh's matcher; the fast readers raise UnexpectedLayout on those. A
term Whoosh does not store in blocks is read from its inlined postings.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import struct
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any, Final, NamedTuple

import numpy as np
from whoosh.codec.base import FieldCursor, TermsReader
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    STORED_COLUMN,
    W3Codec,
    W3FieldWriter,
    W3LeafMatcher,
    W3PostingsWriter,
    W3TermInfo,
)
from whoosh.columns import CompressedBytesColumn, PickleColumn
from whoosh.filedb.compound import SubFile
from whoosh.matching import ReadTooFar
from whoosh.reading import ReaderClosed, TermNotFound
from whoosh.system import pack_ushort
from whoosh.util.numeric import _length_byte_cache, byte_to_length, length_to_byte

from indexer import compiled
from indexer.inlined_pickles import InlinedPickles, inlined_pickles
from indexer.posting_blocks import (
    BLOCK,
    HEAD_SIZE,
    LAST,
    PACKED_AT,
    PACKED_END,
    POSTINGS,
    SIZES_AT,
    TAG,
    VALUES_AT,
    VALUES_END,
    WEIGHTS_AT,
    CorruptPostings,
    SmallTerm,
    TermRun,
    block_count,
    block_limits,
    check_term,
    decode_blocks,
    decode_small_term,
    decode_value_sizes,
    directory_size,
    encode_terms,
    encode_terms_joined,
    padding,
    read_directories,
    read_directory,
    value_starts,
    weights_at,
)
from indexer.postings_format import (
    COMPACT_FORMATS,
    CompactCharacters,
    matched_places,
    near_in_values,
    values_keys,
)
from indexer.score_bounds import heaviest_of_blocks
from indexer.term_dictionary import TAG as DICTIONARY_TAG
from indexer.term_dictionary import (
    CorruptDictionary,
    DictionaryReader,
    DictionaryWriter,
    is_dictionary,
)

log = logging.getLogger(__name__)

_UNKNOWN = object()
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
# lookup in the term dictionary costs a read and a parse of a block. Bounded; emptied when full.
_TERM_INFOS = 50_000

# A term's entry as kept: (document frequency, offset of its postings in the posting file,
# their length, its inlined postings or None). A plain tuple of plain values, which Python's
# garbage collector stops tracking, where a ``W3TermInfo`` per entry is an object it walks at
# every full collection: tens of thousands of them made each one a pause of 50-85 ms at a
# million articles.
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


# A W3 term info's bytes: its header (flags, total weight, document frequency, shortest and
# longest field, greatest weight, first and last document), then either the postings'
# offset and length in the posting file or, when its flags say so, its postings pickled.
_ENTRY_HEAD = struct.Struct("!BfI")
_ENTRY_HEAD_SIZE = W3TermInfo._struct.size
_ENTRY_EXTENT = struct.Struct("!qi")


def _entry_of(raw: bytes) -> TermEntry:
    """The entry kept for a term's entry bytes RAW: what ``_kept_entry`` gives for
    ``W3TermInfo.from_bytes(RAW)``, without the object (most entries a search looks up are
    read once: a word's terms in each segment)."""
    flags, _, frequency = _ENTRY_HEAD.unpack_from(raw)
    if flags:
        return frequency, 0, 0, tuple(pickle.loads(raw[_ENTRY_HEAD_SIZE:]))
    offset, length = _ENTRY_EXTENT.unpack_from(raw, _ENTRY_HEAD_SIZE)
    return frequency, offset, length, None


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
            info = None if entry is None else _entry_of(entry)
        except UnexpectedLayout:
            try:
                info = _kept_entry(terms.term_info(field, btext))
            except (TermNotFound, LookupError):
                info = None
        if len(known) >= _TERM_INFOS:
            known.clear()
        known[key] = info
    return None if info is None else (postfile, info)


def _term_infos(terms: Any) -> dict[tuple[str, bytes], Any]:
    """The term entries a segment's term reader has given so far, kept on the reader."""
    known: dict[tuple[str, bytes], Any] | None = getattr(terms, "_archive_term_infos", None)
    if known is None:
        known = terms._archive_term_infos = {}
    return known


def _table_place(source: Any) -> tuple[int, int]:
    """Return the file descriptor a segment's file is read from and the file's offset in it (a
    compound segment holds its files as parts of one). Raises UnexpectedLayout when it is not
    read from a file."""
    if isinstance(source, SubFile):
        return source._file.fileno(), source._offset
    if isinstance(source, io.BufferedReader):
        return source.fileno(), 0
    raise UnexpectedLayout("the segment's file is not read from a file")


def term_entry(terms: Any, field: str, btext: bytes) -> bytes | None:
    """Return the bytes of a term's entry in a segment's term dictionary (Whoosh's term info),
    None when the segment does not hold the term.

    One read of one block of the dictionary (``indexer.term_dictionary``), none when the
    block was parsed lately. Raises UnexpectedLayout when the segment's terms are not in such
    a dictionary (an index written before it, read by Whoosh's term table until rebuilt) or
    the dictionary is damaged.
    """
    dictionary = getattr(terms, "_dictionary", None)
    if not isinstance(dictionary, DictionaryReader):
        raise UnexpectedLayout("the segment's terms are not in the index's term dictionary")
    try:
        return dictionary.get(field, btext)
    except (CorruptDictionary, OSError) as exc:
        raise UnexpectedLayout(f"the term dictionary could not be read ({exc})") from None


def read_term_directories(searcher: Any) -> None:
    """Read the term dictionary's directories of every field of SEARCHER's segments now.

    A field's directory is read at its first lookup in a segment reader, and the word pairs'
    are large (25 MB in 15 segments at a million articles, some 57 ms of CPU): the first
    phrase or quotation a reader answered paid for them. Segments whose terms are not in the
    index's dictionary are left as they are. Raises UnexpectedLayout as ``term_entry``."""
    for leaf, _ in searcher.reader().leaf_readers():
        dictionary = getattr(getattr(leaf, "_terms", None), "_dictionary", None)
        if not isinstance(dictionary, DictionaryReader):
            continue
        try:
            dictionary.read_directories()
        except (CorruptDictionary, OSError) as exc:
            raise UnexpectedLayout(f"the term dictionary could not be read ({exc})") from None


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
    are not laid out as this index writes them (``indexer.posting_blocks``).
    """
    term = _term_info(leaf, field, btext)
    if term is None:
        return None
    postfile, info = term
    if info[_INLINED] is not None:
        ids, weights, _ = info[_INLINED]
        return (np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64),
                info[_FREQUENCY])
    raw = None
    if info[2] <= _TINY_TERM:
        raw = _read_whole(postfile, info)
        small = _small_postings(raw, info, within)
        if small is not None:
            return small
    directory, whole = _term_directory(leaf, field, btext, postfile, info, raw)
    chosen = _chosen_blocks(directory, within)
    docs, weights = _decoded(postfile, info, directory if chosen is None
                             else directory[:, chosen], whole)
    return docs, weights, info[_FREQUENCY]


def weight_ceilings(leaf: Any, field: str, btext: bytes, within: np.ndarray,
                    ) -> np.ndarray | None:
    """Return, for each of WITHIN (ascending document numbers of the segment, each holding
    the term), a weight at least the term's there: its block's greatest weight, from the
    block directory alone (``score_bounds.heaviest_of_blocks``; an inlined list's greatest
    weight). None if the segment does not hold the term. Raises UnexpectedLayout as
    ``read_postings``."""
    term = _term_info(leaf, field, btext)
    if term is None:
        return None
    postfile, info = term
    if info[_INLINED] is not None:
        weights = info[_INLINED][1]
        return np.full(len(within), float(max(weights)) if len(weights) else 0.0)
    directory, _ = _term_directory(leaf, field, btext, postfile, info)
    return heaviest_of_blocks(directory, within)


def long_terms(leaf: Any, field: str, more_than: int,
               ) -> Iterator[tuple[bytes, int, np.ndarray]]:
    """Yield (term, where its postings start, its block directory) for each term of FIELD in
    the segment reader LEAF with more than MORE_THAN postings, in order (the directories
    are not kept). Raises UnexpectedLayout as ``read_postings``."""
    try:
        dictionary = leaf._terms._dictionary
        postfile = leaf._terms._postfile
    except AttributeError:
        raise UnexpectedLayout("not a segment of this index's term dictionary") from None
    for name, key, value in dictionary.items_from(field, b""):
        if name != field:
            break
        info = _entry_of(value)
        if info[_FREQUENCY] <= more_than or info[_INLINED] is not None:
            continue
        offset, length = _extent(info)
        try:
            directory = _directory_at(postfile, offset, length, HEAD_SIZE)
        except CorruptPostings as exc:
            raise UnexpectedLayout(f"a term's postings are damaged or not in this index's "
                                   f"layout ({exc})") from None
        yield key, offset, directory


class PostingsWanted(NamedTuple):
    """A term of a segment whose postings ``read_postings_together`` reads."""

    leaf: Any  # the segment's reader
    field: str
    btext: bytes
    within: np.ndarray | None = None  # as ``read_postings``'s WITHIN


Postings = tuple[np.ndarray, np.ndarray, int]
"""A term's documents in its segment, their weights and its document frequency."""


def read_postings_together(wanted: list[PostingsWanted]) -> list[Postings | None]:
    """Return ``read_postings`` of each of WANTED (terms of any segments), decoded together.

    The same postings as ``read_postings`` one by one. A term of one small block is decoded
    with plain ints, as there; every other term's directory not kept yet is parsed with the
    others' in one ``read_directories``, and the blocks chosen of all of them are decoded in
    one ``decode_blocks``: a search reads a word in every segment (and a word's stem in the
    title and the body), and each term read alone costs some 60 numpy calls on short arrays,
    however few its postings. Raises UnexpectedLayout as ``read_postings``.
    """
    found: list[Postings | None] = [None] * len(wanted)
    batch = _Batch()
    for index, (leaf, field, btext, within) in enumerate(wanted):
        term = _term_info(leaf, field, btext)
        if term is None:
            continue
        postfile, info = term
        if info[_INLINED] is not None:
            ids, weights, _ = info[_INLINED]
            found[index] = (np.asarray(ids, dtype=np.int64),
                            np.asarray(weights, dtype=np.float64), info[_FREQUENCY])
            continue
        raw = None
        if info[2] <= _TINY_TERM:
            raw = _read_whole(postfile, info)
            small = _small_postings(raw, info, within)
            if small is not None:
                found[index] = small
                continue
        batch.add(index, _directory_key(leaf, field, btext), postfile, info, within, raw)
    for index, postings in batch.decoded():
        found[index] = postings
    return found


class _Batch:
    """The terms ``read_postings_together`` reads with numpy: their directories parsed
    together, then their blocks decoded together."""

    def __init__(self) -> None:
        # Terms whose directory is parsed here: (index, key, postfile, entry, WITHIN, bytes
        # read: the whole term or its head and directory, whether whole).
        self.unparsed: list[tuple[int, Any, Any, TermEntry, np.ndarray | None, bytes,
                                  bool]] = []
        # Terms whose blocks are known: (index, entry, blocks chosen, their bytes, where
        # the blocks' places count from in those bytes).
        self.chosen: list[tuple[int, TermEntry, np.ndarray, Any, int]] = []
        self.empty: list[tuple[int, TermEntry]] = []  # terms with no block chosen

    def add(self, index: int, key: tuple[str, str, bytes] | None, postfile: Any,
            info: TermEntry, within: np.ndarray | None, raw: bytes | None) -> None:
        """Plan the read of a term (its entry INFO in POSTFILE; RAW: its bytes, if read)."""
        directory = None
        if key is not None:
            with _directories_lock:
                directory = _directories.get(key)
                if directory is not None:
                    _directories.move_to_end(key)
        if directory is not None:
            self._choose(index, postfile, info, directory, within, raw, 0)
            return
        offset, length = _extent(info)
        if raw is not None and len(raw) == length:
            self.unparsed.append((index, key, postfile, info, within, raw, True))
        elif length <= _SMALL_TERM:
            self.unparsed.append((index, key, postfile, info, within,
                                  _read_at(postfile, offset, length), True))
        else:
            expected = directory_size(-(-int(info[_FREQUENCY]) // BLOCK_POSTINGS))
            head = _read_at(postfile, offset, min(length, max(expected, HEAD_SIZE)))
            try:
                needed = directory_size(block_count(head))
            except CorruptPostings as exc:
                raise UnexpectedLayout(f"a term's postings are damaged or not in this "
                                       f"index's layout ({exc})") from None
            if needed > len(head):
                head = _read_at(postfile, offset, min(needed, length))
            self.unparsed.append((index, key, postfile, info, within, head, False))

    def _choose(self, index: int, postfile: Any, info: TermEntry, directory: np.ndarray,
                within: np.ndarray | None, raw: Any, start: int) -> None:
        """Choose the blocks of a term's DIRECTORY (places counted from its first byte)
        holding one of WITHIN, with their bytes: RAW (the term read whole, from START in
        it) or one read of the stretch of their packed numbers."""
        chosen = _chosen_blocks(directory, within)
        blocks = directory if chosen is None else directory[:, chosen]
        if not blocks.shape[1]:
            self.empty.append((index, info))
        elif raw is not None:
            self.chosen.append((index, info, blocks, raw, start))
        else:
            low, high = int(blocks[PACKED_AT, 0]), int(blocks[PACKED_END, -1])
            self.chosen.append((index, info, blocks,
                                _read_at(postfile, _extent(info)[0] + low, high - low), -low))

    def decoded(self) -> list[tuple[int, Postings]]:
        """The postings of every term planned, by index."""
        self._parse()
        found = [(index, (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64),
                          info[_FREQUENCY])) for index, info in self.empty]
        if not self.chosen:
            return found
        # Every piece of bytes joined in one buffer, in the order the terms were chosen (the
        # terms parsed together share one piece, and follow each other in it), each term's
        # blocks moved to where their bytes now lie: their packed bytes stay in ascending
        # order, as ``decode_blocks`` wants them.
        pieces: dict[int, int] = {}
        parts: list[Any] = []
        size = 0
        moved: list[np.ndarray] = []
        for _, _, blocks, raw, start in self.chosen:
            at = pieces.get(id(raw))
            if at is None:
                at = pieces[id(raw)] = size
                parts.append(raw)
                size += len(raw)
            if at + start:
                blocks = blocks.copy()
                blocks[PACKED_AT:] += at + start
            moved.append(blocks)
        parts.append(bytes(padding()))
        buffer = np.frombuffer(b"".join(parts), dtype=np.uint8)
        blocks = moved[0] if len(moved) == 1 else np.concatenate(moved, axis=1)
        try:
            docs, weights, _ = decode_blocks(buffer, blocks, 0)
        except CorruptPostings as exc:
            raise UnexpectedLayout(f"a posting block is damaged ({exc})") from None
        firsts = list(accumulate((part.shape[1] for part in moved[:-1]), initial=0))
        ends = np.cumsum(np.add.reduceat(blocks[POSTINGS], firsts)).tolist()
        found.extend((index, (docs[first:end], weights[first:end], info[_FREQUENCY]))
                     for (index, info, _, _, _), first, end in zip(
                         self.chosen, [0, *ends[:-1]], ends, strict=True))
        return found

    def _parse(self) -> None:
        """Parse the directories of the terms not kept yet, all in one, keep them, and choose
        their blocks (those of the terms read whole first: their bytes are one piece)."""
        if not self.unparsed:
            return
        raws = [raw for *_, raw, _ in self.unparsed]
        joined = raws[0] if len(raws) == 1 else b"".join(raws)
        offsets = list(accumulate((len(raw) for raw in raws[:-1]), initial=0))
        lengths = [_extent(info)[1] for _, _, _, info, _, _, _ in self.unparsed]
        try:
            directories, counts = read_directories(joined, offsets, lengths)
            view = memoryview(joined)
            for (_, _, _, _, _, raw, whole), offset in zip(self.unparsed, offsets,
                                                             strict=True):
                if whole:
                    check_term(view[offset:offset + len(raw)], len(raw))
        except CorruptPostings as exc:
            raise UnexpectedLayout(f"a term's postings are damaged or not in this index's "
                                   f"layout ({exc})") from None
        firsts = list(accumulate(counts.tolist()[:-1], initial=0))
        heads: list[tuple[int, Any, TermEntry, np.ndarray, np.ndarray | None]] = []
        for (index, key, postfile, info, within, _, whole), offset, first, count in zip(
                self.unparsed, offsets, firsts, counts.tolist(), strict=True):
            columns = directories[:, first:first + count]
            directory = columns.copy()
            directory[PACKED_AT:] -= offset  # counted from the term's first byte
            if key is not None:
                _keep_directory(key, directory)
            if whole:
                self._choose(index, postfile, info, columns, within, joined, 0)
            else:
                heads.append((index, postfile, info, directory, within))
        for index, postfile, info, directory, within in heads:
            self._choose(index, postfile, info, directory, within, None, 0)


# A term's postings up to this size are read whole, and decoded with plain ints when they are
# one block of few postings (``posting_blocks.decode_small_term``): the many short terms of a
# rare word or of a segment of a hundred articles. A read of a whole rare term cost some 90
# microseconds through the directory and numpy, most of it numpy's fixed cost per call.
_TINY_TERM = 2048


def _read_whole(postfile: Any, info: TermEntry) -> bytes:
    """Return a term's postings, read whole with one ``os.pread`` where the file allows it.
    Raises UnexpectedLayout when the file ends before them."""
    offset, length = _extent(info)
    return _read_at(postfile, offset, length)


def _small_postings(raw: bytes, info: TermEntry, within: np.ndarray | None,
                    ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """``read_postings`` of a term of one small block (RAW: its postings), None for another
    term. With WITHIN, nothing when its block holds none of them (as ``_chosen_blocks``)."""
    small = _decoded_small(raw, info)
    if small is None:
        return None
    docs, weights, last, _ = small
    if within is not None and (not len(within) or int(within[0]) > last):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64), info[_FREQUENCY]
    return (np.array(docs, dtype=np.int64), np.array(weights, dtype=np.float64),
            info[_FREQUENCY])


def _decoded_small(raw: bytes, info: TermEntry, values: bool = False) -> SmallTerm | None:
    """``posting_blocks.decode_small_term`` of a term's postings RAW (its entry INFO), raising
    UnexpectedLayout when they are damaged."""
    try:
        return decode_small_term(raw, info[2], values)
    except CorruptPostings as exc:
        raise UnexpectedLayout(f"a term's postings are damaged or not in this index's layout "
                               f"({exc})") from None


def _read_at(postfile: Any, position: int, size: int, pad: int = 0) -> bytes:
    """Return SIZE bytes of the posting file from POSITION, and PAD more (zeros past the
    file's end), with one ``os.pread`` where the file allows it (a seek and a read of
    Whoosh's file objects cost twice as much). Raises UnexpectedLayout when the file ends
    before SIZE bytes."""
    read = getattr(postfile, "_archive_pread", None)
    if read is None:
        read = postfile._archive_pread = _file_reader(postfile)
    raw: bytes = read(position, size + pad)
    if len(raw) < size:
        raise UnexpectedLayout("the posting file ends before a term's postings")
    if len(raw) < size + pad:
        raw += bytes(size + pad - len(raw))
    return raw


# Reading the postings of several terms in one piece when they lie this close at most.
_EXTENTS_SPAN = 64 * 2**20


def _extent(info: TermEntry) -> tuple[int, int]:
    """The offset and length of a term's postings in the posting file."""
    return info[1], info[2]


# The block directories of the terms read lately (``posting_blocks.read_directory``: where each
# block's packed numbers and values lie in the term's postings, its posting count, widths and
# last document), by segment: a term read again reads and parses no directory, and a few
# candidate documents find their blocks with one ``searchsorted`` and read only the stretch of
# the file that holds them. 120 bytes a block; least recently used first out.
BLOCK_DIRECTORY_BYTES = 8 * 2**20
_directories_lock = threading.Lock()
_directories: OrderedDict[tuple[str, str, bytes], np.ndarray] = OrderedDict()
_directories_size = 0


# A term's postings up to this size are read whole on a first read (one read of the file
# instead of its directory's, then its numbers' and values'): most terms are short.
_SMALL_TERM = 16 * 2**10


def _directory_at(postfile: Any, offset: int, length: int, first: int) -> np.ndarray:
    """Return the block directory of the term whose LENGTH bytes of postings start at OFFSET
    of POSTFILE: FIRST bytes read at once (the whole directory when that many hold it), the
    rest of it read only when its block count says it is longer. Raises CorruptPostings."""
    head = _read_at(postfile, offset, min(length, first))
    needed = directory_size(block_count(head))
    if needed > len(head):
        head = _read_at(postfile, offset, min(needed, length))
    return read_directory(head, length)


def _term_directory(leaf: Any, field: str, btext: bytes, postfile: Any, info: TermEntry,
                    raw: bytes | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the directory of a term's blocks (``posting_blocks.read_directory``), kept for
    the process (``BLOCK_DIRECTORY_BYTES``), and, when it was read now and the term is short
    (``_SMALL_TERM``), the term's postings (uint8, ``padding()`` bytes more), else None.
    RAW: the term's postings when the caller read them whole already.
    Raises UnexpectedLayout when the term's postings are not laid out as this index writes
    them (an index written before: Whoosh's blocks)."""
    key = _directory_key(leaf, field, btext)
    if key is not None:
        with _directories_lock:
            directory = _directories.get(key)
            if directory is not None:
                _directories.move_to_end(key)
                return directory, None
    offset, length = _extent(info)
    whole = None
    try:
        if raw is not None and len(raw) == length:
            whole = np.frombuffer(raw + bytes(padding()), dtype=np.uint8)
            directory = read_directory(whole, length)
            check_term(whole, length)
        elif length <= _SMALL_TERM:
            whole = np.frombuffer(_read_at(postfile, offset, length, padding()),
                                  dtype=np.uint8)
            directory = read_directory(whole, length)
            check_term(whole, length)
        else:
            expected = directory_size(-(-int(info[_FREQUENCY]) // BLOCK_POSTINGS))
            directory = _directory_at(postfile, offset, length, max(expected, HEAD_SIZE))
    except CorruptPostings as exc:
        raise UnexpectedLayout(f"a term's postings are damaged or not in this index's layout "
                               f"({exc})") from None
    if key is not None:
        _keep_directory(key, directory)
    return directory, whole


def _decoded(postfile: Any, info: TermEntry, blocks: np.ndarray,
             whole: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return the (documents, weights) of the postings of BLOCKS (columns of one term's
    directory, ascending), from WHOLE (the term's postings, read already) or one read of the
    stretch of their packed numbers."""
    if not blocks.shape[1]:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    offset, _ = _extent(info)
    low, high = int(blocks[PACKED_AT, 0]), int(blocks[PACKED_END, -1])
    if whole is None:
        buffer = np.frombuffer(_read_at(postfile, offset + low, high - low, padding()),
                               dtype=np.uint8)
    else:
        buffer, low = whole, 0
    try:
        docs, weights, _ = decode_blocks(buffer, blocks, low)
    except CorruptPostings as exc:
        raise UnexpectedLayout(f"a posting block is damaged ({exc})") from None
    return docs, weights


class TermValues(NamedTuple):
    """A term's postings with their values (``_term_packed``)."""

    ids: np.ndarray  # document numbers, ascending
    weights: np.ndarray
    data: np.ndarray  # bytes holding the values (uint8)
    starts: np.ndarray  # where each posting's value starts in DATA
    sizes: np.ndarray  # its size


def _decoded_values(postfile: Any, info: TermEntry, blocks: np.ndarray,
                    whole: np.ndarray | None = None, known: np.ndarray | None = None,
                    ) -> TermValues:
    """Return the postings of BLOCKS (as ``_decoded``) with their values: from WHOLE, or one
    read of their packed numbers and one of their values (one read for a whole term: its
    values follow). KNOWN: the documents of BLOCKS, held by the caller: only the values'
    sizes are decoded (the weights come back empty), and the blocks must hold as many
    postings, ending at the same document."""
    empty = np.zeros(0, dtype=np.int64)
    if not blocks.shape[1]:
        return TermValues(empty, np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.uint8),
                       empty.copy(), empty.copy())
    offset, _ = _extent(info)
    low, high = int(blocks[PACKED_AT, 0]), int(blocks[PACKED_END, -1])
    value_low, value_high = int(blocks[VALUES_AT, 0]), int(blocks[VALUES_END, -1])
    together = whole is not None or value_low == high  # numbers, then values, in one piece
    if whole is not None:
        buffer, low = whole, 0
    else:
        buffer = np.frombuffer(_read_at(postfile, offset + low,
                                        (value_high if together else high) - low, padding()),
                               dtype=np.uint8)
    try:
        if known is None:
            docs, weights, sizes = decode_blocks(buffer, blocks, low, sizes=True)
        else:
            if (int(blocks[POSTINGS].sum()) != len(known)
                    or int(blocks[LAST, -1]) != int(known[-1])):
                raise CorruptPostings("the blocks do not hold the documents known")
            docs, weights = known, np.zeros(0, dtype=np.float64)
            sizes = decode_value_sizes(buffer, blocks, low)
        if sizes is None:
            raise CorruptPostings("no value sizes decoded")
        if together:
            data = buffer[value_low - low:value_high - low]
        else:
            data = np.frombuffer(_read_at(postfile, offset + value_low, value_high - value_low),
                                 dtype=np.uint8)
        starts = value_starts(blocks, sizes, value_low)
    except CorruptPostings as exc:
        raise UnexpectedLayout(f"a posting block is damaged ({exc})") from None
    return TermValues(docs, weights, data, starts, sizes)


def _chosen_blocks(directory: np.ndarray, wanted: np.ndarray | None) -> np.ndarray | None:
    """The indexes of DIRECTORY's blocks whose range of documents holds one of WANTED
    (ascending; None: every block). A block holds the documents after the previous block's
    last one up to its own last one."""
    if wanted is None:
        return None
    at: np.ndarray = np.searchsorted(directory[LAST], wanted)
    at = at[at < directory.shape[1]]
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


def read_terms_postings(leaf: Any, field: str, btexts: list[bytes],
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the postings of several terms of a segment, term after term, in one piece.

    (document numbers, weights, how many postings each term of BTEXTS has): the documents of
    each term ascending, the terms in the order given, an absent term with no posting. The
    same postings as ``read_postings`` term by term; the terms' postings are read in a few
    pieces (a prefix's terms follow each other in the file) and every block of every term
    decoded together (a prefix stands for hundreds of words). Raises UnexpectedLayout as
    ``read_postings``.
    """
    return _terms_postings([_term_info(leaf, field, btext) for btext in btexts])


def read_entries_postings(leaf: Any, entries: list[TermEntry | None],
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``read_terms_postings`` of the terms whose entries are ENTRIES (None: a term the
    segment does not hold), as ``prefix_run`` gives them: no term looked up again (a
    prefix's hundreds of words a segment)."""
    return _terms_postings(_entries_in(leaf, entries))


def _entries_in(leaf: Any, entries: list[TermEntry | None]) -> list[tuple[Any, TermEntry] | None]:
    """ENTRIES (None: a term the segment does not hold) each with the posting file of the
    segment reader LEAF, as ``_term_info`` gives a term. Raises UnexpectedLayout for a reader
    of another kind."""
    try:
        postfile = leaf._terms._postfile
    except AttributeError:
        raise UnexpectedLayout("not a W3 segment reader") from None
    return [None if entry is None else (postfile, entry) for entry in entries]


def _terms_postings(found: list[tuple[Any, TermEntry] | None],
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``read_terms_postings`` of the terms FOUND (each its posting file and entry; None: a
    term the segment does not hold)."""
    stored = [term for term in found if term is not None and term[1][_INLINED] is None]
    decoded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for group in _near_groups(stored):
        decoded.update(_decoded_group(group))
    docs_parts: list[np.ndarray] = []
    weight_parts: list[np.ndarray] = []
    counts: list[int] = []
    # Consecutive terms of inlined postings (a prefix's rare words: most of its words) are
    # gathered as lists and made one array, not two arrays a term.
    inlined_ids: list[int] = []
    inlined_weights: list[float] = []
    for term in found:
        if term is None:
            counts.append(0)
            continue
        info = term[1]
        if info[_INLINED] is not None:
            ids, weights, _ = info[_INLINED]
            if len(weights) != len(ids):
                raise UnexpectedLayout("a term has not one weight per posting")
            inlined_ids.extend(ids)
            inlined_weights.extend(weights)
            counts.append(len(ids))
            continue
        if inlined_ids:
            docs_parts.append(np.array(inlined_ids, dtype=np.int64))
            weight_parts.append(np.array(inlined_weights, dtype=np.float64))
            inlined_ids, inlined_weights = [], []
        docs, weights = decoded[id(info)]
        docs_parts.append(docs)
        weight_parts.append(weights)
        counts.append(len(docs))
    if inlined_ids:
        docs_parts.append(np.array(inlined_ids, dtype=np.int64))
        weight_parts.append(np.array(inlined_weights, dtype=np.float64))
    if not docs_parts:
        return (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64),
                np.asarray(counts, dtype=np.int64))
    return (_one_piece(docs_parts), _one_piece(weight_parts),
            np.asarray(counts, dtype=np.int64))


class TermsBlocks:
    """A segment's postings of several terms, their documents decoded and their weights not:
    what bounds each block's scores, and the weights of chosen postings on demand.

    The postings lie term after term in the order of the file (``terms``: the index of each
    in the terms asked; terms of inlined postings last), each term's documents ascending;
    a term of inlined postings is one block. ``heaviest`` and ``shortest`` are each block's
    greatest weight and shortest field (Whoosh's length byte, 0 when unknown).
    """

    def __init__(self, docs: np.ndarray, terms: np.ndarray, term_starts: np.ndarray,
                 block_postings: np.ndarray, heaviest: np.ndarray, shortest: np.ndarray,
                 groups: list[tuple[np.ndarray, np.ndarray, int]],
                 inlined: tuple[np.ndarray, int]) -> None:
        self.docs = docs                      # int64, each posting's document in the segment
        self.terms = terms                    # int64, each term's index in the terms asked
        self.term_starts = term_starts        # int64, each term's first posting
        self.block_postings = block_postings  # int64, postings per block, in order
        self.heaviest = heaviest              # float64 per block
        self.shortest = shortest              # int64 per block
        # Each group's bytes as read, its directory and its first block; the inlined
        # weights and their first posting.
        self._groups = groups
        self._inlined = inlined
        self._block_starts = np.cumsum(block_postings) - block_postings

    def weights(self, positions: np.ndarray) -> np.ndarray:
        """Return the weights of the postings at POSITIONS (ascending): the values
        ``read_terms_postings`` gives them. Raises UnexpectedLayout for damaged blocks."""
        found = np.empty(len(positions), dtype=np.float64)
        block = np.searchsorted(self._block_starts, positions, side="right") - 1
        steps = positions - self._block_starts[block]
        try:
            for buffer, directory, first in self._groups:
                end = first + directory.shape[1]
                lo, hi = np.searchsorted(block, (first, end)).tolist()
                if hi > lo:
                    found[lo:hi] = weights_at(buffer, directory, block[lo:hi] - first,
                                              steps[lo:hi], 0)
        except CorruptPostings as exc:
            raise UnexpectedLayout(f"a term's postings are damaged or not in this index's "
                                   f"layout ({exc})") from None
        weights, start = self._inlined
        lo = int(np.searchsorted(positions, start))
        found[lo:] = weights[positions[lo:] - start]
        return found


def read_terms_ids(leaf: Any, field: str, btexts: list[bytes]) -> TermsBlocks:
    """Return the postings of several terms of a segment as ``read_terms_postings`` reads
    them, their documents alone decoded (``TermsBlocks``): a large prefix's page scores few of
    its postings. Raises UnexpectedLayout as ``read_postings``."""
    found = [_term_info(leaf, field, btext) for btext in btexts]
    return read_entries_ids(leaf, [None if term is None else term[1] for term in found])


def read_entries_ids(leaf: Any, entries: list[TermEntry | None]) -> TermsBlocks:
    """``read_terms_ids`` of the terms whose entries are ENTRIES (None: a term the segment does
    not hold), as ``prefix_run`` gives them: no term looked up again."""
    found = _entries_in(leaf, entries)
    where = {id(term[1]): i for i, term in enumerate(found) if term is not None}
    stored = [term for term in found if term is not None and term[1][_INLINED] is None]
    docs: list[np.ndarray] = []
    terms: list[int] = []
    term_postings: list[np.ndarray] = []
    postings: list[np.ndarray] = []
    heaviest: list[np.ndarray] = []
    shortest: list[np.ndarray] = []
    groups: list[tuple[np.ndarray, np.ndarray, int]] = []
    blocks_before = 0
    for group in _near_groups(stored):
        buffer, directory, counts, ids, limits = _ids_group(group)
        groups.append((buffer, directory, blocks_before))
        blocks_before += directory.shape[1]
        docs.append(ids)
        terms.extend(where[id(info)] for _, info in group)
        postings.append(directory[POSTINGS])
        blocks_of = np.asarray(counts, dtype=np.int64)
        term_postings.append(np.add.reduceat(directory[POSTINGS],
                                             np.cumsum(blocks_of) - blocks_of))
        heaviest.append(limits[0])
        shortest.append(limits[1])
    inlined_start = sum(len(part) for part in docs)
    # The terms of inlined postings (a large prefix's rare words: hundreds a segment), each
    # one block, gathered as lists and made arrays once.
    inlined_terms: list[int] = []
    inlined_ids: list[int] = []
    inlined_weights: list[float] = []
    inlined_counts: list[int] = []
    inlined_heaviest: list[float] = []
    for i, term in enumerate(found):
        if term is None or term[1][_INLINED] is None:
            continue
        ids, weights, _ = term[1][_INLINED]
        if len(weights) != len(ids) or not len(ids):
            raise UnexpectedLayout("a term has not one weight per posting")
        inlined_terms.append(i)
        inlined_ids.extend(ids)
        inlined_weights.extend(weights)
        inlined_counts.append(len(ids))
        inlined_heaviest.append(max(weights))
    if inlined_terms:
        docs.append(np.array(inlined_ids, dtype=np.int64))
        terms.extend(inlined_terms)
        count = np.array(inlined_counts, dtype=np.int64)
        term_postings.append(count)
        postings.append(count)
        heaviest.append(np.array(inlined_heaviest, dtype=np.float64))
        shortest.append(np.zeros(len(inlined_terms), dtype=np.int64))
    if not docs:
        empty = np.zeros(0, dtype=np.int64)
        return TermsBlocks(empty, empty, empty, empty, np.zeros(0, dtype=np.float64), empty,
                           [], (np.zeros(0, dtype=np.float64), 0))
    counted = _one_piece(term_postings)
    return TermsBlocks(_one_piece(docs), np.asarray(terms, dtype=np.int64),
                       np.cumsum(counted) - counted, _one_piece(postings),
                       _one_piece(heaviest), _one_piece(shortest), groups,
                       (np.asarray(inlined_weights, dtype=np.float64), inlined_start))


def _one_piece(parts: list[np.ndarray]) -> np.ndarray:
    """PARTS one after the other: the part itself when it is the only one (a segment's
    postings of a large prefix, megabytes, are one part where no word is inlined)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _ids_group(terms: list[tuple[Any, TermEntry]],
               ) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray,
                          tuple[np.ndarray, np.ndarray]]:
    """``_decoded_group`` without the weights: the bytes read, the terms' directories, their
    block counts, every posting's document and each block's limits (``block_limits``)."""
    raw, offsets, lengths = _group_bytes(terms)
    buffer = np.frombuffer(raw, dtype=np.uint8)
    try:
        blocks, counts = read_directories(raw, offsets, lengths)
        docs, _, _ = decode_blocks(buffer, blocks, 0, weighed=False)
        limits = block_limits(raw, offsets, counts.tolist())
    except CorruptPostings as exc:
        raise UnexpectedLayout(f"a term's postings are damaged or not in this index's "
                               f"layout ({exc})") from None
    return buffer, blocks, counts.tolist(), docs, limits


def _group_bytes(terms: list[tuple[Any, TermEntry]]) -> tuple[bytes, list[int], list[int]]:
    """Read the postings of TERMS (ascending offsets, close together) in one read; return the
    bytes and each term's offset in them and length."""
    postfile = terms[0][0]
    first = _extent(terms[0][1])[0]
    last = max(offset + length for offset, length in (_extent(info) for _, info in terms))
    raw = _read_at(postfile, first, last - first, padding())
    offsets = [_extent(info)[0] - first for _, info in terms]
    lengths = [_extent(info)[1] for _, info in terms]
    return raw, offsets, lengths


def _near_groups(terms: list[tuple[Any, TermEntry]]) -> list[list[tuple[Any, TermEntry]]]:
    """TERMS (of one segment) in groups whose postings lie within ``_EXTENTS_SPAN`` of each
    other in the posting file, by offset."""
    groups: list[list[tuple[Any, TermEntry]]] = []
    first = 0
    for term in sorted(terms, key=lambda item: item[1][1]):
        offset, length = _extent(term[1])
        if not groups or offset + length - first > _EXTENTS_SPAN:
            groups.append([])
            first = offset
        groups[-1].append(term)
    return groups


def _decoded_group(terms: list[tuple[Any, TermEntry]],
                   ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The (documents, weights) of TERMS (ascending offsets, close together), by ``id`` of
    their entries: one read of the file, one parse of all their directories, one decoding of
    all their blocks."""
    raw, offsets, lengths = _group_bytes(terms)
    try:
        blocks, counts = read_directories(raw, offsets, lengths)
        docs, weights, _ = decode_blocks(np.frombuffer(raw, dtype=np.uint8), blocks, 0)
    except CorruptPostings as exc:
        raise UnexpectedLayout(f"a term's postings are damaged or not in this index's "
                               f"layout ({exc})") from None
    postings = np.add.reduceat(blocks[POSTINGS], np.cumsum(counts) - counts)
    ends = np.cumsum(postings).tolist()
    return {id(info): (docs[end - size:end], weights[end - size:end])
            for (_, info), end, size in zip(terms, ends, postings.tolist(), strict=True)}


class PrefixRun(NamedTuple):
    """A segment's terms of a field starting with a prefix, in byte order, and their entries
    as read with them (``prefix_run``)."""

    words: list[bytes]
    entries: list[TermEntry]


def prefix_terms(leaf: Any, field: str, prefix: bytes) -> list[bytes]:
    """Return the terms of FIELD in a segment that start with PREFIX, in byte order.

    Whoosh's ``expand_prefix`` walks its term table key by key; the terms of a prefix are a
    run of blocks of the term dictionary, read here in order, and each term's entry is kept
    for the reads of its postings that follow (``prefix_run``). Raises UnexpectedLayout when
    the segment's terms are not in the index's term dictionary.
    """
    return list(prefix_run(leaf, field, prefix).words)


def prefix_run(leaf: Any, field: str, prefix: bytes) -> PrefixRun:
    """Return the terms of FIELD in a segment that start with PREFIX (in byte order) and their
    entries, from the run of blocks of the term dictionary that holds them: a large prefix's
    hundreds of words a segment need no lookup each for their document frequencies and
    postings. Kept per segment reader (the caller must not change the lists); each entry is
    also kept for the lookups of its word (``doc_frequency``, ``read_postings``). Raises
    UnexpectedLayout as ``prefix_terms``.
    """
    try:
        terms = leaf._terms
    except AttributeError:
        raise UnexpectedLayout("not a segment reader") from None
    dictionary = getattr(terms, "_dictionary", None)
    if not isinstance(dictionary, DictionaryReader):
        raise UnexpectedLayout("the segment's terms are not in the index's term dictionary")
    expanded: dict[tuple[str, bytes], PrefixRun] | None = getattr(
        terms, "_archive_prefixes", None)
    if expanded is None:
        expanded = {}
        terms._archive_prefixes = expanded
    found = expanded.get((field, prefix))
    if found is None:
        try:
            read = dictionary.prefix(field, prefix)
        except (CorruptDictionary, OSError) as exc:
            raise UnexpectedLayout(f"the term dictionary could not be read ({exc})") from None
        known = _term_infos(terms)
        words = [btext for btext, _ in read]
        entries = [_entry_of(value) for _, value in read]
        if len(known) + len(words) > _TERM_INFOS:
            known.clear()
        known.update(zip([(field, btext) for btext in words], entries, strict=True))
        found = PrefixRun(words, entries)
        if len(expanded) >= _PREFIXES:
            expanded.clear()
        expanded[(field, prefix)] = found
    return found


# The words of the prefixes expanded lately, kept per segment reader (a search expands its
# prefixes twice: to match, and to mark the words in the snippets).
_PREFIXES = 64


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


class _StoredPlace(NamedTuple):
    """Where a segment keeps its stored fields: Whoosh's ``_stored`` column (a pickle each,
    deflated, in a variable-length bytes column) and which field names its schema knows."""

    read: Callable[[int, int], bytes]
    basepos: int
    offsets: Any   # Whoosh's array of each document's offset in the column
    lengths: Any   # and of its length
    decompress: Callable[[bytes], bytes]
    known: dict[str, bool]


def stored_fields(leaf: Any, docnum: int) -> dict[str, Any]:
    """Return the stored fields of document DOCNUM of the segment LEAF, as its
    ``stored_fields`` gives them: with one ``os.pread``, an inflation and an unpickling,
    where Whoosh's column reader goes through three file objects and asks the schema about
    every field of every document (docs/whoosh.md, "A query's fixed cost").

    Raises UnexpectedLayout when the segment does not keep them in Whoosh's column.
    """
    place: _StoredPlace | None = getattr(leaf, "_archive_stored", None)
    if place is None:
        place = leaf._archive_stored = _stored_place(leaf)
    if leaf.is_closed:
        raise ReaderClosed
    if docnum < 0:
        raise IndexError(f"no document number {docnum}")
    size = place.lengths[docnum]
    if not size:
        return {}
    raw = place.decompress(place.read(place.basepos + place.offsets[docnum], size))
    if not raw:
        return {}
    fields: dict[str, Any] = pickle.loads(raw)
    known = place.known
    for name in fields:
        if name not in known:
            known[name] = name in leaf.schema  # a field removed from the schema is left out
    return {name: value for name, value in fields.items() if known[name]}


def _stored_place(leaf: Any) -> _StoredPlace:
    """Where the segment LEAF keeps its stored fields (Whoosh's private readers)."""
    try:
        column = leaf._perdoc._cached_reader("_stored", STORED_COLUMN)
    except AttributeError:
        raise UnexpectedLayout("not a W3 segment reader") from None
    if not isinstance(column, PickleColumn.Reader) or not isinstance(
            getattr(column, "_child", None), CompressedBytesColumn.Reader):
        raise UnexpectedLayout(f"stored fields in a {type(column).__name__}")
    child = column._child
    try:
        return _StoredPlace(_file_reader(child._dbfile), int(child._basepos), child._offsets,
                            child._lengths, child._decompress, {})
    except AttributeError as exc:
        raise UnexpectedLayout(f"not Whoosh's compressed bytes column ({exc})") from None


def read_characters(leaf: Any, field: str, btext: bytes,
                    docnums: list[int]) -> dict[int, list[tuple[int, int, int]]]:
    """Return the (position, start, end) of a term in each of DOCNUMS (segment numbers).

    Raises UnexpectedLayout when the segment is not laid out as expected.
    """
    format_ = _compact_format_of(leaf, field)
    if not isinstance(format_, CompactCharacters):
        raise UnexpectedLayout(f"field {field!r} stores no character offsets")
    ids, _, data, starts, sizes = _term_packed(leaf, field, btext,
                                               np.unique(np.asarray(docnums, dtype=np.int64)))
    raw = data.tobytes() if len(data) else b""
    return _characters_of(sorted(set(docnums)), ids, raw, starts, sizes,
                          format_.decode_characters)


def _characters_of(wanted: list[int], ids: np.ndarray, raw: bytes, starts: np.ndarray,
                   sizes: np.ndarray, decode: Any) -> dict[int, list[tuple[int, int, int]]]:
    """The decoded character values of each of WANTED (ascending) that IDS holds, from a
    term's values RAW (each starting at STARTS, SIZES long)."""
    found: dict[int, list[tuple[int, int, int]]] = {}
    if not len(ids):
        return found
    at = np.minimum(np.searchsorted(ids, np.asarray(wanted, dtype=np.int64)), len(ids) - 1)
    for doc, i in zip(wanted, at.tolist(), strict=True):
        if int(ids[i]) == doc:
            start = int(starts[i])
            try:
                found[doc] = decode(raw[start:start + int(sizes[i])])
            except ValueError as exc:
                raise UnexpectedLayout(f"a character value is not ours ({exc})") from None
    return found


def _small_terms(leaf: Any, field: str, btexts: list[bytes],
                 ) -> dict[int, tuple[bytes, SmallTerm]]:
    """The terms of BTEXTS (by index) of one small block each in the segment, each read whole
    and decoded with plain ints, with their bytes."""
    small: dict[int, tuple[bytes, SmallTerm]] = {}
    for i, btext in enumerate(btexts):
        term = _term_info(leaf, field, btext)
        if term is not None and term[1][_INLINED] is None and term[1][2] <= _TINY_TERM:
            raw = _read_whole(term[0], term[1])
            decoded = _decoded_small(raw, term[1], values=True)
            if decoded is not None:
                small[i] = (raw, decoded)
    return small


def _small_characters_of(wanted: list[int], raw: bytes, term: SmallTerm, decode: Any,
                         ) -> dict[int, list[tuple[int, int, int]]]:
    """``_characters_of`` of a term of one small block (TERM, decoded from its bytes RAW)."""
    found: dict[int, list[tuple[int, int, int]]] = {}
    docs, starts = term.docs, term.value_starts
    for doc in wanted:
        i = bisect_left(docs, doc)
        if i < len(docs) and docs[i] == doc:
            try:
                found[doc] = decode(raw[starts[i]:starts[i + 1]])
            except ValueError as exc:
                raise UnexpectedLayout(f"a character value is not ours ({exc})") from None
    return found


def _terms_packed(leaf: Any, field: str, btexts: list[bytes],
                  wanted: np.ndarray) -> list[TermValues]:
    """``_term_packed`` of each term of BTEXTS for the same WANTED documents (ascending) of a
    segment: each term's packed numbers and values read as ``_term_packed`` reads them, then
    the blocks of all of them decoded together (their numbers joined in one buffer, their
    values in another, each block's places moved to where its bytes now lie)."""
    packs: list[TermValues | None] = [None] * len(btexts)
    numbers: list[np.ndarray] = []
    values: list[np.ndarray] = []
    moved: list[np.ndarray] = []
    owners: list[int] = []
    numbers_size = values_size = 0
    for i, btext in enumerate(btexts):
        term = _term_info(leaf, field, btext)
        if term is None or term[1][_INLINED] is not None:
            packs[i] = _term_packed(leaf, field, btext, wanted)  # nothing to decode
            continue
        postfile, info = term
        directory, whole = _term_directory(leaf, field, btext, postfile, info)
        chosen = _chosen_blocks(directory, wanted)
        blocks = directory if chosen is None else directory[:, chosen]
        if not blocks.shape[1]:
            packs[i] = _term_packed(leaf, field, btext, np.zeros(0, dtype=np.int64))
            continue
        low, high = int(blocks[PACKED_AT, 0]), int(blocks[PACKED_END, -1])
        value_low, value_high = int(blocks[VALUES_AT, 0]), int(blocks[VALUES_END, -1])
        offset, _ = _extent(info)
        if whole is not None:
            numbers.append(whole[low:high])
            values.append(whole[value_low:value_high])
        elif value_low == high:  # numbers, then values, in one piece
            both = np.frombuffer(_read_at(postfile, offset + low, value_high - low),
                                 dtype=np.uint8)
            numbers.append(both[:high - low])
            values.append(both[high - low:])
        else:
            numbers.append(np.frombuffer(_read_at(postfile, offset + low, high - low),
                                         dtype=np.uint8))
            values.append(np.frombuffer(_read_at(postfile, offset + value_low,
                                                 value_high - value_low), dtype=np.uint8))
        shifted = blocks.copy()
        shifted[[PACKED_AT, WEIGHTS_AT, SIZES_AT, PACKED_END]] += numbers_size - low
        shifted[[VALUES_AT, VALUES_END]] += values_size - value_low
        numbers_size += high - low
        values_size += value_high - value_low
        moved.append(shifted)
        owners.append(i)
    if moved:
        buffer = np.concatenate([*numbers, np.zeros(padding(), dtype=np.uint8)])
        data = np.concatenate(values) if len(values) > 1 else values[0]
        blocks = np.concatenate(moved, axis=1) if len(moved) > 1 else moved[0]
        try:
            docs, weights, sizes = decode_blocks(buffer, blocks, 0, sizes=True)
            if sizes is None:
                raise CorruptPostings("no value sizes decoded")
            starts = value_starts(blocks, sizes, 0)
        except CorruptPostings as exc:
            raise UnexpectedLayout(f"a posting block is damaged ({exc})") from None
        ends = np.cumsum([int(part[POSTINGS].sum()) for part in moved]).tolist()
        for i, first, last in zip(owners, [0, *ends[:-1]], ends, strict=True):
            packs[i] = TermValues(docs[first:last], weights[first:last], data,
                               starts[first:last], sizes[first:last])
    return [pack for pack in packs if pack is not None]


def read_positions(leaf: Any, field: str, btext: bytes,
                   docnums: list[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (index into DOCNUMS, position) of every occurrence of a term in DOCNUMS.

    The values of the documents wanted (``indexer.postings_format``'s varints) are gathered
    from the blocks that hold them and decoded together with numpy. Raises UnexpectedLayout
    when the segment is not laid out as expected (another format, an older index).
    """
    owners, places, _ = read_positions_and_postings(leaf, field, btext, docnums)
    return owners, places


def read_positions_and_postings(leaf: Any, field: str, btext: bytes,
                                docnums: list[int] | np.ndarray,
                                ) -> tuple[np.ndarray, np.ndarray, TermValues | None]:
    """``read_positions``, with the postings its blocks were decoded from: every posting of
    DOCNUMS at least (None when the positions were the process's, kept whole, and no block
    was decoded). A phrase scores its documents from them without decoding them again."""
    characters = isinstance(_compact_format_of(leaf, field), CompactCharacters)
    wanted = np.asarray(docnums, dtype=np.int64)
    ascending = len(wanted) < 2 or bool((wanted[1:] > wanted[:-1]).all())
    in_order = wanted if ascending else np.unique(wanted)
    whole, packed = _whole_positions(leaf, field, btext, in_order, characters)
    if whole is not None:
        owners, places = _pick_positions(wanted, *whole)
        return owners, places, packed
    packed = _term_packed(leaf, field, btext, in_order)
    owners, places = _positions_of_values(wanted, packed.ids, packed.data, packed.starts,
                                          packed.sizes, characters=characters)
    return owners, places, packed


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
                     characters: bool,
                     ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                                TermValues | None]:
    """Return the term's (documents, first position of each, positions) in the segment when
    kept or when WANTED (ascending) are a good share of its documents, else None; and its
    whole postings when they were decoded for it (None when kept).

    Kept for the process, by segment (``POSITIONS_CACHE_BYTES`` in all, least recently used
    first out).
    """
    term = _term_info(leaf, field, btext)
    if term is None or term[1][_INLINED] is not None:
        return None, None
    try:
        key = (str(leaf.segment().segment_id()), int(leaf.doc_count_all()), field, btext)
    except AttributeError:
        return None, None
    with _positions_lock:
        found = _positions.get(key)
        if found is not None:
            _positions.move_to_end(key)
            return found, None
    if len(wanted) * _WHOLE_SHARE < term[1][_FREQUENCY]:
        return None, None  # not enough of its documents: only the values wanted are decoded
    packed = _term_packed(leaf, field, btext, None)
    return _keep_whole(key, packed, characters), packed


def _keep_whole(key: tuple[str, int, str, bytes], packed: TermValues,
                characters: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the whole positions (as ``_whole_positions``) of a term's values PACKED (every
    posting's, from ``_term_packed``), kept under KEY when they fit."""
    global _positions_size
    ids = packed.ids
    # Every posting is wanted: each one's count of positions comes with them, and no list
    # of owners is made (one per position) only to be counted back.
    _, counts, places = _values_positions(ids, ids, packed.data, packed.starts, packed.sizes,
                                          characters=characters)
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


def read_whole_term(leaf: Any, field: str, btext: bytes) -> tuple[TermValues, int] | None:
    """Return a term's whole postings in the segment with their values, each block decoded
    once, and its document frequency; None if the segment does not hold the term.

    The positions are not decoded: ``position_keys_in_values`` decodes those of the documents
    wanted (a proximity of common words wants the documents holding all of them, often a
    fraction of each word's). Raises UnexpectedLayout when the segment is not laid out as
    expected.
    """
    _compact_format_of(leaf, field)
    term = _term_info(leaf, field, btext)
    if term is None:
        return None
    return _term_packed(leaf, field, btext, None), term[1][_FREQUENCY]


def read_term_values(leaf: Any, field: str, btext: bytes, docs: np.ndarray) -> TermValues | None:
    """Return ``read_whole_term``'s postings with their values for a term whose documents in
    the segment, DOCS (all of them, ascending), the caller holds already (kept by the
    generation's postings cache): only the values' sizes are decoded from the blocks, not
    the documents and weights again (the weights come back empty). None if the segment does
    not hold the term. Raises UnexpectedLayout when the blocks do not hold those documents'
    postings or are not laid out as expected.
    """
    _compact_format_of(leaf, field)
    term = _term_info(leaf, field, btext)
    if term is None:
        if len(docs):
            raise UnexpectedLayout("a term's documents are known where the segment has none")
        return None
    postfile, info = term
    if info[_INLINED] is not None or not len(docs):
        packed = _term_packed(leaf, field, btext, None)  # a few postings: decoded as ever
        if not np.array_equal(packed.ids, docs):
            raise UnexpectedLayout("a term's postings are not the documents known")
        return packed
    directory, whole = _term_directory(leaf, field, btext, postfile, info)
    return _decoded_values(postfile, info, directory, whole, known=docs)


def position_keys_in_values(leaf: Any, field: str, btext: bytes, values: TermValues,
                            docnums: np.ndarray, span: int) -> np.ndarray:
    """Return one key per occurrence of the term in DOCNUMS (ascending, each one of VALUES'
    documents): its document's index in DOCNUMS times SPAN plus its position, ascending.

    Picked from the term's whole positions when the process keeps them, else decoded from
    the values of DOCNUMS alone (the term's other documents cost nothing), straight into
    keys by one compiled pass over their bytes (``values_keys``).
    """
    characters = isinstance(_compact_format_of(leaf, field), CompactCharacters)
    wanted = np.asarray(docnums, dtype=np.int64)
    kept = _kept_positions(leaf, field, btext)
    if kept is not None:
        owners, places = _pick_positions(wanted, *kept)
        return _ascending(owners * span + places)
    _, _, keys, ascending = _decoded_keys(wanted, values.ids, values.data, values.starts,
                                          values.sizes, span, characters)
    return keys if ascending else np.sort(keys)


def near_documents_in_values(leaf: Any, field: str, first: TermValues, second: TermValues,
                             distance: int) -> np.ndarray | None:
    """Return the documents (ascending) holding both terms within DISTANCE positions of each
    other, from their VALUES (``read_whole_term``, ``read_term_values``) in one compiled pass
    (``near_in_values``); None when FIELD's values are character offsets (the keys' path
    answers then). Raises UnexpectedLayout when a value is not what the format says."""
    if isinstance(_compact_format_of(leaf, field), CompactCharacters):
        return None
    try:
        return near_in_values((first.ids, first.data, first.starts, first.sizes),
                              (second.ids, second.data, second.starts, second.sizes), distance)
    except ValueError as exc:
        raise UnexpectedLayout(f"position values are not varints ({exc})") from None


def _decoded_keys(wanted: np.ndarray, ids: np.ndarray, data: np.ndarray, starts: np.ndarray,
                  sizes: np.ndarray, span: int, characters: bool,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``values_keys`` of a term's values, its errors as UnexpectedLayout."""
    try:
        return values_keys(wanted, ids, data, starts, sizes, span, 3 if characters else 1)
    except ValueError as exc:
        if "triples" in str(exc):
            raise UnexpectedLayout(str(exc)) from None
        raise UnexpectedLayout(f"position values are not varints ({exc})") from None


def _ascending(keys: np.ndarray) -> np.ndarray:
    """KEYS sorted (they are already, unless a value repeats a position)."""
    if len(keys) > 1 and bool((keys[1:] <= keys[:-1]).any()):
        keys = np.sort(keys)
    return keys


def positions_kept(leaf: Any, field: str, btext: bytes) -> bool:
    """Whether the process keeps the term's whole positions in the segment."""
    return _kept_positions(leaf, field, btext) is not None


def _kept_positions(leaf: Any, field: str, btext: bytes,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The term's whole positions in the segment (as ``_whole_positions``), if kept."""
    try:
        key = (str(leaf.segment().segment_id()), int(leaf.doc_count_all()), field, btext)
    except AttributeError:
        return None
    with _positions_lock:
        found = _positions.get(key)
        if found is not None:
            _positions.move_to_end(key)
        return found


def _pick_positions(wanted: np.ndarray, ids: np.ndarray, firsts: np.ndarray,
                    places: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``read_positions`` from a term's whole positions (``_whole_positions``): WANTED
    ascending (as every search asks) by one compiled merge and copy (``_picked``), else with
    numpy."""
    if len(wanted) < 2 or bool((wanted[1:] > wanted[:-1]).all()):
        owners, picked, fine = _picked(np.ascontiguousarray(wanted, dtype=np.int64), ids,
                                       firsts, places)
        if not fine:
            raise UnexpectedLayout("a term's kept positions are not in order")
        return owners, picked
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


@compiled.kernel
def _picked(wanted: np.ndarray, ids: np.ndarray, firsts: np.ndarray,
            places: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``_pick_positions``' kernel: WANTED (int64, ascending) merged with IDS (int32,
    ascending), each document found has its positions PLACES[FIRSTS[J]:FIRSTS[J + 1]]
    copied beside its index into WANTED; False (and nothing) when FIRSTS leave PLACES."""
    chosen, at = matched_places(wanted, ids)
    found = chosen.shape[0]
    total = 0
    for k in range(found):
        first = firsts[at[k]]
        end = firsts[at[k] + 1] if at[k] + 1 < firsts.shape[0] else places.shape[0]
        if first < 0 or end < first or end > places.shape[0]:
            return chosen[:0], chosen[:0], False
        total += end - first
    owners = np.empty(total, np.int64)
    picked = np.empty(total, np.int64)
    written = 0
    for k in range(found):
        first = firsts[at[k]]
        end = firsts[at[k] + 1] if at[k] + 1 < firsts.shape[0] else places.shape[0]
        for place in range(first, end):
            owners[written] = chosen[k]
            picked[written] = places[place]
            written += 1
    return owners, picked, True


@compiled.warms_up
def _warm_picked() -> None:
    """Compile or load ``_picked`` for the types of the positions kept (``_keep_whole``)."""
    ids = np.array([1, 4], dtype=np.int32)
    _pick_positions(np.array([1, 2, 4], dtype=np.int64), ids,
                    np.array([0, 2], dtype=np.int64), np.array([3, 9, 5], dtype=np.int32))


def _positions_of_values(wanted: np.ndarray, ids: np.ndarray, data: np.ndarray,
                         starts: np.ndarray, sizes: np.ndarray, *, characters: bool,
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``read_positions`` from a term's values (``_term_packed``): the values of WANTED
    gathered with one fancy index and their varints decoded at once."""
    chosen, counts, positions = _values_positions(wanted, ids, data, starts, sizes,
                                                  characters=characters)
    return np.repeat(chosen, counts), positions


def _values_positions(wanted: np.ndarray, ids: np.ndarray, data: np.ndarray,
                      starts: np.ndarray, sizes: np.ndarray, *, characters: bool,
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (the indexes into WANTED of the documents IDS holds, how many positions each
    has, their positions one document after the other) from a term's values: keys of a
    span of 0 (``values_keys``), each document's positions counted from 0."""
    if len(wanted) > 1 and not bool((wanted[1:] > wanted[:-1]).all()):
        # Decoded once per document, in order; then each of WANTED takes its document's.
        distinct = np.unique(wanted)
        chosen, counts, positions = _values_positions(distinct, ids, data, starts, sizes,
                                                      characters=characters)
        slot = np.full(len(distinct), -1, dtype=np.int64)
        slot[chosen] = np.arange(len(chosen))
        mine = slot[np.searchsorted(distinct, wanted)]
        kept = np.flatnonzero(mine >= 0)
        theirs = mine[kept]
        firsts = np.cumsum(counts) - counts
        picked_counts = counts[theirs]
        moved = firsts[theirs] - (np.cumsum(picked_counts) - picked_counts)
        total = int(picked_counts.sum())
        return kept, picked_counts, positions[np.arange(total)
                                               + np.repeat(moved, picked_counts)]
    chosen, counts, positions, _ = _decoded_keys(wanted, ids, data, starts, sizes, 0,
                                                 characters)
    return chosen, counts, positions


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


def _term_packed(leaf: Any, field: str, btext: bytes, wanted: np.ndarray | None) -> TermValues:
    """Return a term's postings with their values (``TermValues``), from its inlined postings or
    from the blocks whose range holds one of WANTED (ascending; None: every block): one read
    of their packed numbers and one of their values, decoded with numpy. Raises
    UnexpectedLayout when the postings are not laid out as this index writes them."""
    term = _term_info(leaf, field, btext)
    empty = np.zeros(0, dtype=np.int64)
    if term is None:
        return TermValues(empty, np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.uint8),
                       empty.copy(), empty.copy())
    postfile, info = term
    if info[_INLINED] is not None:
        ids, weights, values = info[_INLINED]
        if len(values) != len(ids) or not all(type(value) is bytes for value in values):
            raise UnexpectedLayout("an inlined term has not one value per posting")
        sizes = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        return TermValues(np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64),
                       np.frombuffer(b"".join(values), dtype=np.uint8),
                       np.cumsum(sizes) - sizes, sizes)
    directory, whole = _term_directory(leaf, field, btext, postfile, info)
    chosen = _chosen_blocks(directory, wanted)
    return _decoded_values(postfile, info,
                           directory if chosen is None else directory[:, chosen], whole)


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
    """Whoosh's W3 postings writer, writing this index's posting layout, with short lists
    inlined correctly (Whoosh's writer and merges).

    A term's blocks are kept as Whoosh's writer fills them (its block statistics go to the
    term info as before) and written when the term ends, by ``posting_blocks.encode_terms``,
    the function the bulk writer's ``FieldTermsWriter`` writes with: a term's postings start
    with their directory, which needs every block. Term vectors (``byteids``: no field of the
    schema has them) keep Whoosh's blocks, which Whoosh reads without the codec.

    whoosh-reloaded 2.7.5's writer inlines a list shorter than the codec's ``inlinelimit`` by
    calling ``set_inline``, a method its term info only has as ``set_inlined``; and a format
    without values (word pairs, spelling) leaves the values empty, which its reader then gives
    back as "" instead of b"" per posting, which a merge refuses. Both are fixed here.
    """

    # The block buffer and statistics of Whoosh's writer (set by its ``_new_block``).
    _ids: Any
    _weights: Any
    _values: list[bytes]
    _terminfo: Any
    _inlinelimit: int
    _blocklimit: int
    _byteids: bool
    _startoffset: int
    _blockcount: int
    # This writer's: each posting's length byte in the block, the term's finished blocks.
    _lengths: array[int]
    _blocks: list[tuple[array[int], array[float], list[bytes], array[int]]]

    def start_postings(self, format_: Any, terminfo: Any) -> None:
        """Start a term (Whoosh's method), with no finished block yet."""
        super().start_postings(format_, terminfo)
        self._blocks = []

    def _new_block(self) -> None:
        super()._new_block()
        self._lengths = array("B")

    def add_posting(self, id_: Any, weight: float, vbytes: bytes,
                    length: int | None = None) -> None:
        """Add a posting (Whoosh's method), keeping its length byte for the block's record."""
        super().add_posting(id_, weight, vbytes, length)
        self._lengths.append(length_to_byte(length) if length else 0)

    def finish_postings(self) -> Any:
        """Finish the current term: inline it when short, else write its postings."""
        if not self.written() and len(self) < self._inlinelimit:
            terminfo = self._terminfo
            terminfo.add_block(self)
            values = self._values if self._values else [b""] * len(self._ids)
            terminfo.set_inlined(self._ids, [int(w) if w.is_integer() else w
                                             for w in self._weights], values)
            terminfo.__class__ = InlinedTermInfo
            self._terminfo = None
            return terminfo
        if self._byteids:
            return super().finish_postings()
        if self._ids:
            self._write_block(last=True)
        written = self._encoded()
        self._postfile.write(written)
        terminfo = self._terminfo
        terminfo.set_extent(self._startoffset, len(written))
        self._terminfo = None
        self._blocks = []
        return terminfo

    def _write_block(self, last: bool = False) -> None:
        """Finish the buffered block: its statistics to the term info, as Whoosh's writer
        does, its postings kept until the term ends."""
        if self._byteids:
            super()._write_block(last)
            return
        self._terminfo.add_block(self)
        values = list(self._values)
        if values and len(values) != len(self._ids):
            raise ValueError("a posting of a field with values has no value")
        self._blocks.append((self._ids, self._weights, values, self._lengths))
        self._blockcount += 1
        self._new_block()

    def _encoded(self) -> bytes:
        """The term's postings, from its finished blocks, in this index's layout."""
        ids = array("I")
        weights = array("f")
        lengths = array("B")
        values: list[bytes] = []
        sizes = array("q")
        for block_ids, block_weights, block_values, block_lengths in self._blocks:
            ids.extend(block_ids)
            weights.extend(block_weights)
            lengths.extend(block_lengths)
            values.extend(block_values)
            sizes.extend(map(len, block_values) if block_values else [0] * len(block_ids))
        size_array = np.frombuffer(sizes, dtype=np.int64)
        run = TermRun(np.array([len(ids)]), np.frombuffer(ids, dtype=np.uint32),
                      np.frombuffer(weights, dtype=np.float32),
                      np.frombuffer(lengths, dtype=np.uint8), size_array,
                      np.cumsum(size_array) - size_array, b"".join(values))
        return encode_terms(run, self._blocklimit)[0]


class PackedLeafMatcher(W3LeafMatcher):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's W3 leaf matcher reading this index's posting layout (``posting_blocks``).

    Whoosh's own matchers (phrases, highlighting, merges, the agreement tests) step through a
    term's blocks with this class's ``_goto``, ``_next_block`` and ``_read_*``: the term's
    directory is read when the matcher starts, a block's numbers and values when first asked
    for. Raises UnexpectedLayout when the postings are not in this layout or are damaged.
    """

    _postfile: Any
    _startoffset: int
    _length: int
    _fixedsize: int | None
    _blocklength: int
    _i: int

    def _read_header(self) -> None:
        postfile = self._postfile
        try:
            head = postfile.get(self._startoffset, min(self._length, HEAD_SIZE))
            raw = postfile.get(self._startoffset,
                               min(self._length, directory_size(block_count(head))))
            self._directory = read_directory(raw, self._length)
        except CorruptPostings as exc:
            raise UnexpectedLayout(f"a term's postings are not in this index's layout "
                                   f"({exc})") from None
        self._records = np.frombuffer(raw, dtype=BLOCK, count=self._directory.shape[1],
                                      offset=HEAD_SIZE)

    def reset(self) -> None:
        """Go back to the term's first posting."""
        self._lastblock = False
        self._atend = False
        self._goto(0)

    def _goto(self, position: int) -> None:
        # POSITION: a block's index in the directory (Whoosh's: its offset in the file).
        self._block = position
        self._data: tuple[np.ndarray, np.ndarray] | None = None
        self._ids: tuple[int, ...] | None = None
        self._weights: list[float] | None = None
        self._values: tuple[bytes | None, ...] | None = None
        self._i = 0
        record = self._records[position]
        self._blocklength = int(record["postings"])
        self._maxid = int(record["last"])
        self._maxweight = float(record["heaviest"])
        self._compression = 0
        self._minlength = byte_to_length(int(record["shortest"]))
        self._maxlength = byte_to_length(int(record["longest"]))
        self._lastblock = position == len(self._records) - 1

    def _next_block(self) -> None:
        if self._atend:
            raise ReadTooFar("no block after the last")
        if self._lastblock:
            self._atend = True
        else:
            self._goto(self._block + 1)

    def _block_postings(self, values: bool) -> TermValues:
        block = self._directory[:, self._block:self._block + 1]
        info: TermEntry = (0, self._startoffset, self._length, None)
        if values:
            return _decoded_values(self._postfile, info, block)
        docs, weights = _decoded(self._postfile, info, block)
        return TermValues(docs, weights, np.zeros(0, dtype=np.uint8), docs[:0], docs[:0])

    def _read_data(self) -> None:
        docs, weights = self._block_postings(False)[:2]
        self._data = (docs, weights)

    def _read_ids(self) -> None:
        if self._data is None:
            self._read_data()
        docs, _ = self._data or self._block_postings(False)[:2]
        self._ids = tuple(docs.tolist())

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        _, weights = self._data or self._block_postings(False)[:2]
        self._weights = weights.tolist()

    def _read_values(self) -> None:
        if self._fixedsize == 0:
            self._values = (None,) * self._blocklength
            return
        packed = self._block_postings(True)
        raw = packed.data.tobytes()
        self._values = tuple(raw[start:start + size] for start, size in
                             zip(packed.starts.tolist(), packed.sizes.tolist(), strict=True))


class ArchiveCodec(W3Codec):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's W3 codec writing through ``ArchivePostingsWriter`` (the index's own posting
    layout, ``indexer.posting_blocks``) and reading through ``PackedLeafMatcher``.

    Each segment pickles its codec into the index's TOC: this class is found again by its
    import path when an index is opened, so it must stay here under this name (renaming or
    moving it requires a full rebuild, like the analysis classes).
    """

    def field_writer(self, storage: Any, segment: Any) -> ArchiveFieldWriter:
        """Return Whoosh's W3 field writer, its terms written to the index's term dictionary."""
        return ArchiveFieldWriter(self, storage, segment)

    def terms_reader(self, storage: Any, segment: Any) -> Any:
        """Return the reader of a segment's terms: ``ArchiveTermsReader`` over the index's term
        dictionary, Whoosh's own over its term table (a segment written before the
        dictionary, read until the index is rebuilt)."""
        name = segment.make_filename(self.TERMS_EXT)
        length = storage.file_length(name)
        dbfile = storage.open_file(name)
        if not is_dictionary(dbfile.get(0, len(DICTIONARY_TAG))):
            dbfile.close()
            return super().terms_reader(storage, segment)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        try:
            return ArchiveTermsReader(self, dbfile, length, postfile)
        except BaseException:
            dbfile.close()
            postfile.close()
            raise

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> ArchivePostingsWriter:
        """Return the postings writer of this codec."""
        return ArchivePostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                     compression=self._compression,
                                     inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None,
                        scorer: Any = None) -> Any:
        """Return a matcher of a term's postings: ``PackedLeafMatcher`` over this index's
        layout, Whoosh's own over inlined postings or Whoosh's blocks (a segment written
        before this layout, read correctly until the index is rebuilt)."""
        if not terminfo.is_inlined():
            offset, length = terminfo.extent()
            if isinstance(length, tuple):  # whoosh-reloaded 2.7.5 returns (offset, (length,))
                length = length[0]
            if dbfile.get(offset, len(TAG)) == TAG:
                return PackedLeafMatcher(dbfile, offset, length, format_, term=term,
                                         scorer=scorer)
        return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)


class ArchiveFieldWriter(W3FieldWriter):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's W3 field writer writing a segment's terms to the index's term dictionary
    (``indexer.term_dictionary``) instead of Whoosh's hash table."""

    def __init__(self, codec: Any, storage: Any, segment: Any) -> None:
        # Whoosh's own constructor, but for the terms file's writer (Whoosh's would write
        # its hash table's header into the file at once).
        self._codec = codec
        self._storage = storage
        self._segment = segment
        self._fieldname = None
        self._fieldid = None
        self._btext = None
        self._fieldobj = None
        self._format = None
        self._tindex = DictionaryWriter(self._create_file(W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"]
        self._postfile = self._create_file(W3Codec.POSTS_EXT)
        self._postwriter = None
        self._infield = False
        self.is_closed = False


def _file_identity(dbfile: Any) -> tuple[int, int, int] | None:
    """Return what names Whoosh's file DBFILE in the process while it is open (its device,
    inode and place in a compound file), None when it is not read from a file."""
    try:
        fd, base = _table_place(dbfile.file)
        status = os.fstat(fd)
    except (UnexpectedLayout, AttributeError, OSError, ValueError):
        return None
    return status.st_dev, status.st_ino, base


def _file_reader(dbfile: Any) -> Callable[[int, int], bytes]:
    """Return a function reading (offset, size) of Whoosh's file DBFILE: one ``os.pread`` when
    it is read from a file (Whoosh's reads go through three file objects, a seek each), else
    Whoosh's own ``get``."""
    try:
        fd, base = _table_place(dbfile.file)
        # A compound segment's part ends where the next begins: a read stops at its end, as
        # Whoosh's own file objects stop.
        end = dbfile.file._length if isinstance(dbfile.file, SubFile) \
            else os.fstat(fd).st_size
    except (UnexpectedLayout, AttributeError, OSError, ValueError):
        return dbfile.get  # type: ignore[no-any-return]  # Whoosh has no type hints

    def read(offset: int, size: int) -> bytes:
        return os.pread(fd, max(0, min(size, end - offset)), base + offset)
    return read


_FREQUENCY_AT = struct.Struct("!f")  # a W3 term info's total weight, after its flags byte
_DOC_FREQUENCY_AT = struct.Struct("!I")  # its document frequency, after the weight


class ArchiveTermsReader(TermsReader):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's terms reader interface over the index's term dictionary: Whoosh's searcher,
    matchers, spelling and prefix expansion read a segment's terms through it unchanged.

    The dictionary's values are Whoosh's term infos (``W3TermInfo`` bytes). Raises
    ``CorruptDictionary`` when the dictionary is cut off or damaged.
    """

    def __init__(self, codec: Any, dbfile: Any, length: int, postfile: Any) -> None:
        self._codec = codec
        self._dbfile = dbfile
        self._postfile = postfile
        self._dictionary = DictionaryReader(_file_reader(dbfile), length,
                                            _file_identity(dbfile))
        self._fieldmap = self._dictionary.fieldmap

    def _entry(self, fieldname: str, tbytes: bytes) -> bytes:
        entry = self._dictionary.get(fieldname, tbytes)
        if entry is None:
            raise KeyError((fieldname, tbytes))
        return entry

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return self._dictionary.get(*term) is not None

    def indexed_field_names(self) -> Any:
        """Return the names of the segment's indexed fields."""
        return self._fieldmap.keys()

    def cursor(self, fieldname: str, fieldobj: Any) -> ArchiveFieldCursor:
        """Return a cursor over FIELDNAME's terms (Whoosh's spelling walks it)."""
        return ArchiveFieldCursor(self._dictionary, fieldname, fieldobj)

    def terms(self) -> Iterator[tuple[str, bytes]]:
        """Yield every (field, term) of the segment, in Whoosh's order."""
        return ((name, key) for name, key, _ in self._dictionary.items())

    def terms_from(self, fieldname: str, prefix: bytes) -> Iterator[tuple[str, bytes]]:
        """Yield (field, term) from FIELDNAME's first term not below PREFIX to the end."""
        return ((name, key) for name, key, _ in self._dictionary.items_from(fieldname, prefix))

    def items(self) -> Iterator[tuple[tuple[str, bytes], Any]]:
        """Yield every ((field, term), term info) of the segment, in Whoosh's order."""
        return (((name, key), W3TermInfo.from_bytes(value))
                for name, key, value in self._dictionary.items())

    def items_from(self, fieldname: str, prefix: bytes,
                   ) -> Iterator[tuple[tuple[str, bytes], Any]]:
        """Yield ((field, term), term info) from FIELDNAME's first term not below PREFIX."""
        return (((name, key), W3TermInfo.from_bytes(value))
                for name, key, value in self._dictionary.items_from(fieldname, prefix))

    def term_info(self, fieldname: str, tbytes: bytes) -> Any:
        """Return the term's ``W3TermInfo``; raises TermNotFound when absent."""
        entry = self._dictionary.get(fieldname, tbytes)
        if entry is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return W3TermInfo.from_bytes(entry)

    def frequency(self, fieldname: str, tbytes: bytes) -> float:
        """Return the term's total weight; raises KeyError when absent (as Whoosh's)."""
        return float(_FREQUENCY_AT.unpack_from(self._entry(fieldname, tbytes), 1)[0])

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        """Return how many documents hold the term; raises KeyError when absent."""
        return int(_DOC_FREQUENCY_AT.unpack_from(self._entry(fieldname, tbytes), 5)[0])

    def matcher(self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None) -> Any:
        """Return a matcher of the term's postings, through the codec."""
        return self._codec.postings_reader(self._postfile, self.term_info(fieldname, tbytes),
                                           format_, term=(fieldname, tbytes), scorer=scorer)

    def close(self) -> None:
        """Close the segment's term and posting files (and its frontier file, when read:
        ``block_frontiers.segment_frontiers_reader``)."""
        self._dbfile.close()
        self._postfile.close()
        frontiers = getattr(self, "_archive_frontiers", None)
        if frontiers:
            frontiers.close()


class ArchiveFieldCursor(FieldCursor):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's field cursor (``first``, ``find``, ``next``, ``text``, ``term_info``) over one
    field of the term dictionary."""

    def __init__(self, dictionary: DictionaryReader, fieldname: str, fieldobj: Any) -> None:
        self._dictionary = dictionary
        self._fieldname = fieldname
        self._fieldobj = fieldobj
        self._items: Iterator[tuple[str, bytes, bytes]] = iter(())
        self._text: Any = None
        self._value: bytes | None = None
        self.first()

    def first(self) -> Any:
        """Go to the field's first term and return it (None if the field has none)."""
        return self._seek(b"")

    def find(self, term: Any) -> Any:
        """Go to the first term not below TERM and return it (None past the last)."""
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        return self._seek(term)

    def _seek(self, key: bytes) -> Any:
        self._items = self._dictionary.items_from(self._fieldname, key)
        return self.next()

    def next(self) -> Any:
        """Go to the next term and return it (None past the field's last)."""
        for name, key, value in self._items:
            if name == self._fieldname:
                self._text, self._value = self._fieldobj.from_bytes(key), value
                return self._text
            break
        self._items = iter(())
        self._text = self._value = None
        return None

    def text(self) -> Any:
        """Return the current term (None past the last)."""
        return self._text

    def term_info(self) -> Any:
        """Return the current term's ``W3TermInfo`` (None past the last)."""
        return None if self._value is None else W3TermInfo.from_bytes(self._value)

    def is_valid(self) -> bool:
        """Return True while the cursor is on a term."""
        return self._value is not None


class ValueRun(NamedTuple):
    """The values of a run of postings, in order: DATA joined, where each starts in it (and the
    end: one more than the postings), and their sizes."""

    data: bytes
    offsets: np.ndarray
    sizes: np.ndarray


# W3TermInfo's header ("!BfIBBfII") as a numpy record: a run's inlined terms' headers at once.
_INLINED_HEADER = np.dtype([("flags", "u1"), ("weight", ">f4"), ("count", ">u4"),
                            ("shortest", "u1"), ("longest", "u1"), ("heaviest", ">f4"),
                            ("first", ">u4"), ("last", ">u4")])
_TERM_ENTRY = struct.Struct("!BfIBBfIIqi")  # W3TermInfo's header, the postings' offset, length
# The same as a numpy record: a run's stored terms' entries at once.
_STORED_ENTRY = np.dtype([("flags", "u1"), ("weight", ">f4"), ("count", ">u4"),
                          ("shortest", "u1"), ("longest", "u1"), ("heaviest", ">f4"),
                          ("first", ">u4"), ("last", ">u4"), ("offset", ">i8"),
                          ("length", ">i4")])
_LENGTH_LIMITS = np.array(_length_byte_cache, dtype=np.int64)
_EXACT_SUMS = float(1 << 24)  # whole weights below this add up exactly in any order


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """Return Whoosh's ``length_to_byte`` of each of LENGTHS (whole numbers >= 0) as uint8."""
    found = np.searchsorted(_LENGTH_LIMITS, lengths, side="left")
    return np.minimum(found, 255).astype(np.uint8)


class FieldTermsWriter:
    """Writes a field's terms, a run of whole terms at a time, as ``ArchivePostingsWriter``
    (Whoosh's writer with our codec) writes them.

    Whoosh's field writer makes a term info and fills a postings writer posting by posting for
    each term. Here a run's postings are laid out by ``posting_blocks.encode_terms`` for all
    its terms at once (the function ``ArchivePostingsWriter`` writes a term with), the terms'
    statistics come from numpy (``reduceat`` over the blocks' bounds), and a term's postings
    are written in one call: the same bytes as ``start_term``, its postings and
    ``finish_term`` would write, or, for a term shorter than the inline limit, its entry with
    the postings inlined as ``InlinedTermInfo`` writes it (``tests/test_index_bulk.py``
    compares with Whoosh's writer byte for byte). Raises UnexpectedLayout when the field writer
    is not a W3 one made by ``ArchiveCodec`` inside a field (``start_field`` called).
    """

    def __init__(self, fieldwriter: Any) -> None:
        postings = postings_writer(fieldwriter)
        try:
            table = fieldwriter._tindex
            self._prefix = pack_ushort(fieldwriter._fieldid)
            self._postfile = postings._postfile
        except (AttributeError, struct.error) as exc:
            raise UnexpectedLayout(f"not a W3 field writer inside a field ({exc})") from None
        self.inline_limit = int(postings._inlinelimit)
        self.block_limit = int(postings._blocklimit)
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
        # The weights as a block holds them: rounded to 32-bit floats.
        stored32 = weights.astype(np.float32)
        stored = stored32.astype(np.float64)
        heaviest = np.maximum(np.maximum.reduceat(stored, block_starts), 0.0)
        longest = np.maximum.reduceat(lengths, block_starts)
        known = np.where(lengths == 0, 256, lengths.astype(np.int16))
        shortest = np.minimum.reduceat(known, block_starts)
        whole = bool(np.all(np.isfinite(stored)) and np.all(stored == np.floor(stored))
                     and np.all(np.abs(stored) < _EXACT_SUMS))
        sums = np.add.reduceat(stored, block_starts) if whole else None
        headers = self._inlined_headers(inline, block_starts, counts, first_blocks, heaviest,
                                        shortest, longest, sums, stored, docs)
        # A stored term's statistics, as W3TermInfo.add_block gathers them block by block.
        term_shortest = np.minimum.reduceat(shortest, first_blocks)
        term_shortest[term_shortest == 256] = 0
        term_longest = np.maximum.reduceat(longest, first_blocks)
        term_heaviest = np.maximum.reduceat(heaviest, first_blocks)
        term_weights = np.add.reduceat(sums, first_blocks).tolist() if sums is not None \
            else None
        stored_terms = ~inline
        postings = np.repeat(stored_terms, counts)
        offsets = np.asarray(values.offsets, dtype=np.int64)
        run = TermRun(counts[stored_terms], docs[postings], stored32[postings],
                      lengths[postings], np.asarray(values.sizes, dtype=np.int64)[postings],
                      offsets[:-1][postings], values.data)
        if headers is not None and sums is not None:
            self._write_run(terms, inline, starts, counts, docs, stored,
                            np.add.reduceat(sums, first_blocks), term_shortest, term_longest,
                            term_heaviest, values, offsets, headers,
                            encode_terms_joined(run, limit))
            return
        encoded = encode_terms(run, limit) if stored_terms.any() else []
        self._write_terms(terms, inline.tolist(), starts.tolist(), ends.tolist(),
                          docs.tolist(), stored, term_weights, term_shortest.tolist(),
                          term_longest.tolist(), term_heaviest.tolist(), values, offsets,
                          headers, encoded)

    def _write_run(self, terms: list[bytes], inline: np.ndarray, starts: np.ndarray,
                   counts: np.ndarray, docs: np.ndarray, stored: np.ndarray,
                   term_weights: np.ndarray, term_shortest: np.ndarray,
                   term_longest: np.ndarray, term_heaviest: np.ndarray, values: ValueRun,
                   offsets: np.ndarray, headers: bytes,
                   encoded: tuple[bytes, np.ndarray]) -> None:
        """``_write_terms`` of a run whose entries' weights are all known (whole weights):
        every entry made with numpy, the inlined postings' pickles by ``inlined_pickles``,
        and given to the term dictionary joined, the stored terms' postings (ENCODED: joined,
        and each term's size) written at once: no object per term."""
        postfile = self._postfile
        inlined = np.flatnonzero(inline)
        kept = np.flatnonzero(~inline)
        # The stored terms' entries: W3TermInfo's header, their postings' place and size.
        postings_data, extents = encoded
        if len(extents) and int(extents.max()) >= 1 << 31:
            raise ValueError("a term's postings are too large for its entry")
        rows = np.zeros(len(kept), dtype=_STORED_ENTRY)
        rows["weight"] = term_weights[kept]
        rows["count"] = counts[kept]
        rows["shortest"] = term_shortest[kept]
        rows["longest"] = term_longest[kept]
        rows["heaviest"] = term_heaviest[kept]
        rows["first"] = docs[starts[kept]]
        rows["last"] = docs[starts[kept] + counts[kept] - 1]
        rows["offset"] = postfile.tell() + np.cumsum(extents) - extents
        rows["length"] = extents
        # The inlined terms' entries: their headers, then their postings' pickles.
        postings = np.repeat(inline, counts)
        sizes = np.asarray(values.sizes, dtype=np.int64)
        made = inlined_pickles(counts[inlined], docs[postings], stored[postings],
                               offsets[:-1][postings], sizes[postings], values.data)
        pickled, pickle_ends = made.data, made.offsets[1:]
        if not made.handled.all():
            pickled, pickle_ends = self._pickled_rest(made, counts[inlined], docs[postings],
                                                      stored[postings], offsets[:-1][postings],
                                                      sizes[postings], values.data)
        pickle_sizes = np.diff(pickle_ends, prepend=0)
        size = _INLINED_HEADER.itemsize
        entry_sizes = np.full(len(terms), _STORED_ENTRY.itemsize, dtype=np.int64)
        entry_sizes[inlined] = size + pickle_sizes
        entry_ends = np.cumsum(entry_sizes)
        entry_at = entry_ends - entry_sizes
        out = np.empty(int(entry_ends[-1]) if len(terms) else 0, dtype=np.uint8)
        width = _STORED_ENTRY.itemsize
        out[(entry_at[kept][:, None] + np.arange(width)).ravel()] = rows.view(np.uint8)
        out[(entry_at[inlined][:, None] + np.arange(size)).ravel()] = \
            np.frombuffer(headers, dtype=np.uint8)
        total = int(pickle_ends[-1]) if len(pickle_ends) else 0
        if total:  # each pickle after its header: a shift per term from where it is in PICKLED
            shifts = entry_at[inlined] + size - (pickle_ends - pickle_sizes)
            out[np.arange(total) + np.repeat(shifts, pickle_sizes)] = \
                np.frombuffer(pickled, dtype=np.uint8)
        postfile.write(postings_data)
        table = self._table
        if isinstance(table, DictionaryWriter):
            table.add_field_terms(self._prefix, terms, out.tobytes(), entry_ends)
        else:
            data = out.tobytes()
            for term, end, entry_size in zip(terms, entry_ends.tolist(), entry_sizes.tolist(),
                                             strict=True):
                table.add(self._prefix + term, data[end - entry_size:end])

    @staticmethod
    def _pickled_rest(made: InlinedPickles, counts: np.ndarray, ids: np.ndarray,
                      weights: np.ndarray, value_starts: np.ndarray, sizes: np.ndarray,
                      data: bytes) -> tuple[bytes, np.ndarray]:
        """MADE's pickles with those it left out made by ``pickle.dumps`` (as ``_write_terms``
        makes them), joined, and where each ends."""
        bounds = made.offsets.tolist()
        ends = np.cumsum(counts).tolist()
        id_list, weight_list = ids.tolist(), weights.tolist()
        value_list = [data[at:at + size]
                      for at, size in zip(value_starts.tolist(), sizes.tolist(), strict=True)]
        pieces = []
        for term, (handled, end, count) in enumerate(zip(made.handled.tolist(), ends,
                                                         counts.tolist(), strict=True)):
            if handled:
                pieces.append(made.data[bounds[term]:bounds[term + 1]])
                continue
            low = end - count
            listed = [value for value in value_list[low:end] if value]
            whole = [int(w) if w.is_integer() else w for w in weight_list[low:end]]
            pieces.append(pickle.dumps((tuple(id_list[low:end]), tuple(whole),
                                        tuple(listed) if listed else (b"",) * count), 3))
        return b"".join(pieces), np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64,
                                                       count=len(pieces)))

    def _inlined_headers(self, inline: np.ndarray, block_starts: np.ndarray,
                         counts: np.ndarray, first_blocks: np.ndarray, heaviest: np.ndarray,
                         shortest: np.ndarray, longest: np.ndarray, sums: np.ndarray | None,
                         stored: np.ndarray, docs: np.ndarray) -> bytes | None:
        """Return the headers of the inlined terms' entries, one after the other, or None
        when their weights' sums might not be Python's (more than two weights, not whole)."""
        if sums is None and self.inline_limit > 3:
            return None
        blocks = first_blocks[inline]
        rows = np.zeros(len(blocks), dtype=_INLINED_HEADER)
        rows["flags"] = 1
        starts = block_starts[blocks]
        rows["weight"] = (sums[blocks] if sums is not None else
                          np.add.reduceat(stored, block_starts)[blocks])
        rows["count"] = counts[inline]
        least = shortest[blocks]
        rows["shortest"] = np.where(least == 256, 0, least)
        rows["longest"] = longest[blocks]
        rows["heaviest"] = heaviest[blocks]
        rows["first"] = docs[starts]
        rows["last"] = docs[starts + counts[inline] - 1]
        return rows.tobytes()

    def _write_terms(self, terms: list[bytes], inline: list[bool], starts: list[int],
                     ends: list[int], ids: list[int], stored: np.ndarray,
                     term_weights: list[float] | None, term_shortest: list[int],
                     term_longest: list[int], term_heaviest: list[float], values: ValueRun,
                     offsets: np.ndarray, headers: bytes | None, encoded: list[bytes],
                     ) -> None:
        keys = [self._prefix + term for term in terms]
        entries: list[bytes] = []
        add = entries.append
        header = W3TermInfo._struct.pack
        entry = _TERM_ENTRY.pack
        dumps = pickle.dumps
        data = values.data
        value_offsets = offsets.tolist()
        weights = stored.tolist()
        postfile = self._postfile
        position = postfile.tell()
        size = _INLINED_HEADER.itemsize
        at_header = 0
        written: list[bytes] = []
        stored_term = 0
        limit = self.block_limit
        for number, (short, low, high) in enumerate(zip(inline, starts, ends, strict=True)):
            if short:
                listed = [data[value_offsets[i]:value_offsets[i + 1]] for i in range(low, high)
                          if value_offsets[i + 1] > value_offsets[i]] \
                    if value_offsets[high] > value_offsets[low] else None
                if headers is not None:
                    head = headers[at_header:at_header + size]
                    at_header += size
                else:
                    top = term_heaviest[number]
                    head = header(1, sum(weights[low:high]), high - low, term_shortest[number],
                                  term_longest[number], top, ids[low], ids[high - 1])
                whole = [int(w) if w.is_integer() else w for w in weights[low:high]]
                add(head + dumps((tuple(ids[low:high]), tuple(whole),
                                  tuple(listed) if listed else (b"",) * (high - low)), 3))
                continue
            postings = encoded[stored_term]
            stored_term += 1
            if term_weights is not None:
                weight = term_weights[number]
            else:  # Whoosh's sums: each block's in order, then added to the term's
                weight = 0.0
                for at in range(low, high, limit):
                    weight += sum(weights[at:min(at + limit, high)])
            add(entry(0, weight, high - low, term_shortest[number], term_longest[number],
                      term_heaviest[number], ids[low], ids[high - 1], position,
                      len(postings)))
            written.append(postings)
            position += len(postings)
        postfile.write(b"".join(written))
        table = self._table
        if isinstance(table, DictionaryWriter):
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




# A term's values from its first chosen block to its last are read in one piece up to this
# many bytes, else each value wanted alone (a common word's few page documents lie far apart).
_PAGE_VALUES_READ = 16384


class _PageTerm(NamedTuple):
    """A term's blocks holding a page's documents, as ``read_page_characters`` reads them."""

    place: int                     # the term's place in the words asked
    blocks: np.ndarray             # its chosen blocks (directory columns), ascending
    numbers: list[np.ndarray]      # the packed numbers of each run of consecutive blocks
    lows: list[int]                # where each run's numbers start in the term's postings
    runs: list[int]                # how many blocks each run holds
    postfile: Any
    offset: int                    # where the term's postings start in POSTFILE
    length: int                    # and their length
    held: np.ndarray | bytes | None  # the chosen blocks' values, read already (or None)
    held_at: int                   # where HELD starts in the term's postings


def read_page_characters(leaf: Any, field: str, btexts: list[bytes], docnums: list[int],
                         ) -> list[dict[int, list[tuple[int, int, int]]]]:
    """Return, for each term of BTEXTS, its (position, start, end) triples in each of
    DOCNUMS (segment numbers) that holds it, as ``read_characters`` does, reading only what
    DOCNUMS need: a page's few documents are a block or two of each term, and the stretch
    from the first to the last (``_terms_packed``: some 100 kB a four-word query) was read
    and copied to decode a few hundred bytes of it (docs/whoosh.md, "A small result's
    page"). The numbers of each run of consecutive chosen blocks are read, every term's
    decoded together without their weights, and each value wanted is cut from its blocks'
    values (read in one piece when close together) or read alone.

    Raises UnexpectedLayout as ``read_characters``.
    """
    format_ = _compact_format_of(leaf, field)
    if not isinstance(format_, CompactCharacters):
        raise UnexpectedLayout(f"field {field!r} stores no character offsets")
    wanted = sorted(set(docnums))
    wanted_docs = np.asarray(wanted, dtype=np.int64)
    decode = format_.decode_characters
    small = _small_terms(leaf, field, btexts)
    found: list[dict[int, list[tuple[int, int, int]]]] = [{} for _ in btexts]
    terms: list[_PageTerm] = []
    for i, btext in enumerate(btexts):
        if i in small:
            found[i] = _small_characters_of(wanted, *small[i], decode)
            continue
        term = _term_info(leaf, field, btext)
        if term is None:
            continue
        if term[1][_INLINED] is not None:  # nothing to decode
            ids, _, data, starts, sizes = _term_packed(leaf, field, btext, wanted_docs)
            found[i] = _characters_of(wanted, ids, data.tobytes() if len(data) else b"",
                                      starts, sizes, decode)
            continue
        page_term = _page_term(leaf, field, btext, i, term, wanted_docs)
        if page_term is not None:
            terms.append(page_term)
    if terms:
        _page_values(terms, wanted_docs, decode, found)
    return found


def _page_term(leaf: Any, field: str, btext: bytes, index: int, term: tuple[Any, TermEntry],
               wanted: np.ndarray) -> _PageTerm | None:
    """The blocks of a term (its postings file and entry TERM) holding one of WANTED
    (ascending), with their numbers read; None when no block does."""
    postfile, info = term
    directory, whole = _term_directory(leaf, field, btext, postfile, info)
    count = directory.shape[1]
    # WANTED ascending: the blocks found are too, each once.
    at = sorted({block for block in np.searchsorted(directory[LAST], wanted).tolist()
                 if block < count})
    if not at:
        return None
    blocks = directory[:, at]
    offset, length = _extent(info)
    value_low, value_high = int(blocks[VALUES_AT, 0]), int(blocks[VALUES_END, -1])
    if not 0 <= value_low <= value_high <= length:
        raise UnexpectedLayout("a term's values lie outside its postings")
    hold = whole is None and value_high - value_low <= _PAGE_VALUES_READ
    starts, ends = blocks[PACKED_AT].tolist(), blocks[PACKED_END].tolist()
    if hold and at[-1] - at[0] == len(at) - 1 and ends[-1] == value_low \
            and 0 <= starts[0] <= value_low:
        # One run whose values follow its numbers (a term's last blocks): one read of both.
        both = np.frombuffer(_read_at(postfile, offset + starts[0], value_high - starts[0]),
                             dtype=np.uint8)
        split = value_low - starts[0]
        return _PageTerm(index, blocks, [both[:split]], [starts[0]], [len(at)], postfile,
                         offset, length, both[split:], value_low)
    numbers: list[np.ndarray] = []
    lows: list[int] = []
    runs: list[int] = []
    first = 0
    for k in range(1, len(at) + 1):
        if k < len(at) and at[k] == at[k - 1] + 1:
            continue  # the next block follows this one: the same read
        low, high = starts[first], ends[k - 1]
        if not 0 <= low <= high <= length:
            raise UnexpectedLayout("a term's blocks lie outside its postings")
        numbers.append(whole[low:high] if whole is not None else np.frombuffer(
            _read_at(postfile, offset + low, high - low), dtype=np.uint8))
        lows.append(low)
        runs.append(k - first)
        first = k
    held: np.ndarray | bytes | None = whole
    held_at = 0
    if hold:
        held = _read_at(postfile, offset + value_low, value_high - value_low)
        held_at = value_low
    return _PageTerm(index, blocks, numbers, lows, runs, postfile, offset, length, held,
                     held_at)


def _page_values(terms: list[_PageTerm], wanted: np.ndarray, decode: Any,
                 found: list[dict[int, list[tuple[int, int, int]]]]) -> None:
    """Decode the blocks of TERMS together and put the characters of each of WANTED
    (ascending) each term holds in FOUND, at the term's index."""
    numbers: list[np.ndarray] = []
    shifts: list[int] = []
    size = 0
    for term in terms:
        for piece, low, run in zip(term.numbers, term.lows, term.runs, strict=True):
            numbers.append(piece)
            shifts.extend([size - low] * run)
            size += len(piece)
    buffer = np.concatenate([*numbers, np.zeros(padding(), dtype=np.uint8)])
    blocks = np.concatenate([term.blocks for term in terms], axis=1)
    blocks[[PACKED_AT, WEIGHTS_AT, SIZES_AT, PACKED_END]] += np.asarray(shifts, dtype=np.int64)
    try:
        docs, _, sizes = decode_blocks(buffer, blocks, 0, sizes=True, weighed=False)
        if sizes is None:
            raise CorruptPostings("no value sizes decoded")
        # Each value's start within its term's postings (the values were not moved).
        starts = value_starts(blocks, sizes, 0)
    except CorruptPostings as exc:
        raise UnexpectedLayout(f"a posting block is damaged ({exc})") from None
    postings = blocks[POSTINGS]
    if int(postings.sum()) != len(docs):
        raise UnexpectedLayout("the blocks decoded hold another count of postings")
    term_of = np.repeat(np.repeat(np.arange(len(terms)),
                                  [term.blocks.shape[1] for term in terms]), postings)
    # The postings of WANTED: a binary search each (``np.isin`` makes a table as large as
    # the documents' range).
    near = np.minimum(np.searchsorted(wanted, docs), len(wanted) - 1)
    hits = np.flatnonzero(wanted[near] == docs)
    for owner, doc, start, length in zip(term_of[hits].tolist(), docs[hits].tolist(),
                                         starts[hits].tolist(), sizes[hits].tolist(),
                                         strict=True):
        term = terms[owner]
        if not 0 <= start <= start + length <= term.length:
            raise UnexpectedLayout("a character value lies outside its term's postings")
        if term.held is None:
            raw = _read_at(term.postfile, term.offset + start, length)
        else:
            piece = term.held[start - term.held_at:start - term.held_at + length]
            raw = piece if isinstance(piece, bytes) else piece.tobytes()
        try:
            found[term.place][doc] = decode(raw)
        except ValueError as exc:
            raise UnexpectedLayout(f"a character value is not ours ({exc})") from None
