"""Block frontiers: the most a long posting list's block can hold at each field length.

A phrase's ceilings (``score_bounds``) put each word's weight at its block's greatest weight,
at the document's own length. For a common word every block holds a heavy posting (a long
article repeating the word), so nearly every document's ceiling reached the page's floor
(docs/whoosh.md, "Block frontiers"). BM25F grows with the weight and falls with the length:
a document's posting is beaten, in its block, by one of the block's Pareto-optimal postings
(no other posting of the block has a greater weight at a length no longer), so its weight is
at most the greatest weight the block holds at its own length or shorter. That step function
is the block's frontier: a few (length byte, weight) pairs a block, kept for the long lists
of the text fields in a file of our own beside each segment (``frontiers_file``), computed
from the segment's postings and lengths (``segment_frontiers``) when an index run ends
(``write_missing_frontiers``), and read back term by term (``frontier_weights``).

The file, little-endian: ``ArBF``, its version, the term count N (u32 each) and the CRC-32 of
the tables (u32); the tables: each term's postings offset in the segment's posting file
(u64, ascending: the key), where its record ends (u64), its record's CRC-32 (u32); then the
records, joined: the term's block count (u32), each block's pair count (u8), the pairs'
length bytes (u8, ascending within a block) and their weights (f32, ascending within a
block). A record whose block count is not its term's, or whose CRC-32 is wrong, is not used:
the ceiling is then the block's greatest weight, as without the file.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections import OrderedDict
from typing import Any, NamedTuple

import numpy as np

from indexer.posting_blocks import HEAVIEST, LAST
from indexer.whoosh_format import (
    BLOCK_POSTINGS,
    UnexpectedLayout,
    _file_reader,
    _term_directory,
    _term_info,
    field_length_bytes,
    long_terms,
    read_postings,
    weight_ceilings,
)

# The fields whose phrases and words are given ceilings; a term is kept when a segment holds
# more than FROM_POSTINGS of its postings (shorter lists are decoded at little cost).
FIELDS = ("title", "title_exact", "body", "body_exact")
FROM_POSTINGS = 8 * BLOCK_POSTINGS
EXTENSION = ".frontiers"
VERSION = 1
_HEAD = struct.Struct("<4sIII")
_MAGIC = b"ArBF"
# Each segment reader keeps the records it read lately, up to this many bytes in all (about
# ten of the commonest words' at a million articles; the search worker's memory goal is 300 MB).
RECORDS_BYTES = 512 * 2**10


def frontiers_file(segment_id: str) -> str:
    """Return the name of the frontier file of the segment SEGMENT_ID (named like the
    segment's own files, so Whoosh deletes it with them when the segment is merged away)."""
    return f"{segment_id}{EXTENSION}"


def block_frontiers(docs: np.ndarray, weights: np.ndarray, lasts: np.ndarray,
                    codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the frontier of each block of a term: (pairs per block (uint8), their length
    bytes (uint8), their weights (float32)), pairs in ascending length and weight per block.

    DOCS (ascending) and WEIGHTS are the term's postings, LASTS each block's last document,
    CODES the field's length byte per document of the segment."""
    blocks = np.searchsorted(lasts, docs)
    keys = blocks.astype(np.int64) * 256 + codes[docs].astype(np.int64)
    order = np.argsort(keys, kind="stable")
    keys, sorted_weights = keys[order], weights[order].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    grouped = keys[starts]
    heaviest = np.maximum.reduceat(sorted_weights, starts)
    block_of = grouped // 256
    # The greatest weight at each length or shorter within a block: a running maximum that
    # restarts at each block (raised by the block's number, weights being far below 2^40).
    shift = block_of.astype(np.float64) * 2.0**40
    running = np.maximum.accumulate(heaviest + shift) - shift
    first = np.r_[True, block_of[1:] != block_of[:-1]]
    kept = first | (heaviest > np.r_[-1.0, running[:-1]])
    counts = np.bincount(block_of[kept], minlength=len(lasts)).astype(np.uint8)
    return counts, (grouped[kept] % 256).astype(np.uint8), heaviest[kept].astype(np.float32)


def encode_record(counts: np.ndarray, codes: np.ndarray, weights: np.ndarray) -> bytes:
    """Return a term's record (the module's layout)."""
    return b"".join((struct.pack("<I", len(counts)), counts.astype("<u1").tobytes(),
                     codes.astype("<u1").tobytes(), weights.astype("<f4").tobytes()))


def encode_file(records: dict[int, bytes]) -> bytes:
    """Return a frontier file holding RECORDS (by the term's postings offset)."""
    offsets = sorted(records)
    ends = np.cumsum([len(records[offset]) for offset in offsets], dtype=np.int64)
    crcs = [zlib.crc32(records[offset]) for offset in offsets]
    tables = b"".join((np.asarray(offsets, dtype="<u8").tobytes(), ends.astype("<u8").tobytes(),
                       np.asarray(crcs, dtype="<u4").tobytes()))
    return b"".join((_HEAD.pack(_MAGIC, VERSION, len(offsets), zlib.crc32(tables)), tables,
                     *(records[offset] for offset in offsets)))


def segment_frontiers(leaf: Any) -> bytes:
    """Return the frontier file of the segment reader LEAF: a record for each term of
    ``FIELDS`` with more than ``FROM_POSTINGS`` postings, from its postings and the
    segment's field lengths."""
    records: dict[int, bytes] = {}
    for field in FIELDS:
        if field not in leaf.schema:
            continue
        try:
            records.update(_field_records(leaf, field))
        except UnexpectedLayout:
            # A segment read through Whoosh's own files (``index --optimize`` merges with
            # Whoosh's writer): its field keeps no frontiers, its ceilings are as before.
            continue
    return encode_file(records)


def _field_records(leaf: Any, field: str) -> dict[int, bytes]:
    """The records of FIELD's long lists in the segment reader LEAF, by postings offset."""
    codes = field_length_bytes(leaf, field)
    records: dict[int, bytes] = {}
    for btext, offset, directory in long_terms(leaf, field, FROM_POSTINGS):
        read = read_postings(leaf, field, btext)
        if read is not None:
            docs, weights, _ = read
            records[offset] = encode_record(*block_frontiers(docs, weights, directory[LAST],
                                                             codes))
    return records


def write_frontiers(storage: Any, segment_id: str, data: bytes) -> None:
    """Write DATA as the frontier file of the segment SEGMENT_ID in STORAGE (a temporary
    file renamed: a reader finds the whole file or none)."""
    temporary = f"{frontiers_file(segment_id)}.tmp"
    out = storage.create_file(temporary)
    try:
        out.write(data)
    finally:
        out.close()
    storage.rename_file(temporary, frontiers_file(segment_id), safe=False)


def write_missing_frontiers(ix: Any) -> int:
    """Write the frontier file of every segment of IX that has none; return how many."""
    written = 0
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            segment = leaf.segment()
            if segment is None:  # an empty index's reader
                continue
            segment_id = segment.segment_id()
            if ix.storage.file_exists(frontiers_file(segment_id)):
                continue
            write_frontiers(ix.storage, segment_id, segment_frontiers(leaf))
            written += 1
    return written


class SegmentFrontiers:
    """A segment's frontier file, read record by record (``os.pread``)."""

    def __init__(self, source: Any) -> None:
        self._source = source  # kept open as long as the segment's reader
        self._read = _file_reader(source)
        head = self._read(0, _HEAD.size)
        magic, version, count, crc = _HEAD.unpack(head) if len(head) == _HEAD.size \
            else (b"", 0, 0, 0)
        if magic != _MAGIC or version != VERSION:
            raise ValueError("not a frontier file of this version")
        tables = self._read(_HEAD.size, count * 20)
        if len(tables) != count * 20 or zlib.crc32(tables) != crc:
            raise ValueError("a frontier file's tables are damaged")
        self.offsets = np.frombuffer(tables, dtype="<u8", count=count).astype(np.int64)
        self.ends = np.frombuffer(tables, dtype="<u8", count=count,
                                  offset=count * 8).astype(np.int64)
        self.crcs = np.frombuffer(tables, dtype="<u4", count=count, offset=count * 16)
        self._start = _HEAD.size + count * 20
        self._records: OrderedDict[int, TermFrontier | None] = OrderedDict()
        self._kept = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the file."""
        self._source.close()

    def record(self, offset: int, blocks: int) -> TermFrontier | None:
        """Return the frontier of the term whose postings start at OFFSET, in BLOCKS blocks,
        None without a record or with one that does not fit."""
        with self._lock:
            if offset in self._records:
                self._records.move_to_end(offset)
                return self._records[offset]
        at = int(np.searchsorted(self.offsets, offset))
        found = None
        if at < len(self.offsets) and int(self.offsets[at]) == offset:
            begin = self._start + (int(self.ends[at - 1]) if at else 0)
            raw = self._read(begin, self._start + int(self.ends[at]) - begin)
            found = _decoded_record(raw, blocks) \
                if zlib.crc32(raw) == int(self.crcs[at]) else None
        with self._lock:
            self._records[offset] = found
            self._kept += 0 if found is None else found.nbytes
            while self._kept > RECORDS_BYTES and self._records:
                _, old = self._records.popitem(last=False)
                self._kept -= 0 if old is None else old.nbytes
        return found


class TermFrontier(NamedTuple):
    """A term's frontiers in a segment, laid out for lookups: per block, which length bytes
    have a pair (256 bits: four 64-bit words), how many pairs lie in the words before each,
    and where its pairs start; the pairs' weights."""

    masks: np.ndarray    # uint64, 4 per block
    before: np.ndarray   # uint8, 4 per block: the block's pairs in the words before
    starts: np.ndarray   # int32, per block: its first pair
    weights: np.ndarray  # float32, per pair (Whoosh's weights are 32-bit floats)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(self.masks.nbytes + self.before.nbytes + self.starts.nbytes
                   + self.weights.nbytes)


def _decoded_record(raw: bytes, blocks: int) -> TermFrontier | None:
    if len(raw) < 4 or struct.unpack_from("<I", raw)[0] != blocks:
        return None
    counts = np.frombuffer(raw, dtype=np.uint8, count=blocks, offset=4)
    pairs = int(counts.sum(dtype=np.int64))
    if len(raw) != 4 + blocks + pairs * 5:
        return None
    codes = np.frombuffer(raw, dtype=np.uint8, count=pairs, offset=4 + blocks).astype(np.int64)
    weights = np.frombuffer(raw, dtype="<f4", count=pairs, offset=4 + blocks + pairs)
    block_of = np.repeat(np.arange(blocks, dtype=np.int64), counts)
    masks = np.zeros(blocks * 4, dtype=np.uint64)
    # A block's pairs have distinct length bytes: their bits add up as an OR would.
    np.add.at(masks, block_of * 4 + (codes >> 6), np.left_shift(np.uint64(1),
                                                               (codes & 63).astype(np.uint64)))
    counted = np.bitwise_count(masks).astype(np.int64).reshape(blocks, 4)
    before = (np.cumsum(counted, axis=1) - counted).ravel().astype(np.uint8)
    starts = (np.cumsum(counts, dtype=np.int64) - counts).astype(np.int32)
    return TermFrontier(masks, before, starts, weights.astype(np.float32))


def segment_frontiers_reader(leaf: Any) -> SegmentFrontiers | None:
    """Return the frontier file of the segment reader LEAF (kept on its terms reader), None
    when it has none, or a damaged one."""
    terms = getattr(leaf, "_terms", None)
    if terms is None:
        return None
    known: SegmentFrontiers | None | bool = getattr(terms, "_archive_frontiers", False)
    if not isinstance(known, bool):
        return known
    with _opening:
        known = getattr(terms, "_archive_frontiers", False)
        if isinstance(known, SegmentFrontiers) or known is None:
            return known  # opened by another thread meanwhile
        found = None
        try:
            name = frontiers_file(leaf.segment().segment_id())
            storage = leaf.storage()
            if storage.file_exists(name):
                source = storage.open_file(name)
                try:
                    found = SegmentFrontiers(source)
                except ValueError:
                    source.close()
                    raise
        except (AttributeError, OSError, ValueError):
            found = None
        terms._archive_frontiers = found
    return found


_opening = threading.Lock()  # one frontier file opened per segment reader


def frontier_weights(frontiers: SegmentFrontiers, offset: int, directory: np.ndarray,
                     within: np.ndarray, codes: np.ndarray) -> np.ndarray | None:
    """Return, for each of WITHIN (ascending documents of the segment, each holding the term
    whose postings start at OFFSET, with DIRECTORY its blocks), a weight at least the term's
    there: the greatest weight its block holds at the document's length (CODES, its length
    byte) or shorter, at most the block's greatest weight. None without a usable record."""
    found = frontiers.record(offset, int(directory.shape[1]))
    if found is None:
        return None
    blocks = np.minimum(np.searchsorted(directory[LAST], within), directory.shape[1] - 1)
    heaviest = directory[HEAVIEST].view(np.float64)[blocks]
    wide = codes.astype(np.int64)
    word = blocks * 4 + (wide >> 6)
    # The block's pairs at this length byte or shorter: those of the words before, and the
    # bits of its own word up to the byte's (2 << 63 wraps to 0: all 64 bits).
    low = np.left_shift(np.uint64(2), (wide & 63).astype(np.uint64)) - np.uint64(1)
    count = found.before[word].astype(np.int64) \
        + np.bitwise_count(found.masks[word] & low).astype(np.int64)
    # A document holding the term has a pair at its length or shorter in its block; anything
    # else (a record not of these postings) gives the block's greatest weight.
    at = np.maximum(found.starts[blocks] + count - 1, 0)
    bound: np.ndarray = np.where(count > 0, np.minimum(found.weights[at].astype(np.float64),
                                                       heaviest), heaviest)
    return bound


def frontier_ceilings(leaf: Any, field: str, btext: bytes, within: np.ndarray,
                      codes: np.ndarray) -> np.ndarray | None:
    """Return, for each of WITHIN (ascending documents of the segment reader LEAF, each
    holding the term), a weight at least the term's there: its block's greatest weight at the
    document's length byte (CODES) or shorter when the segment's frontier file has the term,
    else its block's greatest weight (``whoosh_format.weight_ceilings``). None if the segment
    does not hold the term. Raises UnexpectedLayout as ``read_postings``."""
    frontiers = segment_frontiers_reader(leaf) if len(within) else None
    term = _term_info(leaf, field, btext) if frontiers is not None else None
    if frontiers is None or term is None or term[1][3] is not None:
        return weight_ceilings(leaf, field, btext, within)
    postfile, info = term
    directory, _ = _term_directory(leaf, field, btext, postfile, info)
    bound = frontier_weights(frontiers, int(info[1]), directory, within, codes)
    return weight_ceilings(leaf, field, btext, within) if bound is None else bound
