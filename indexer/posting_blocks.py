"""The index's posting blocks: a term's postings laid out for numpy, without pickle or zlib.

Whoosh's W3 codec writes each block of 128 postings as a pickled header and a zlib-compressed
pickle of ``(delta ids, weights, values)``: reading a term meant inflating and unpickling
Python objects block by block. Here a term's postings (its extent in the segment's posting
file) are, little-endian:

- ``TAG`` (4 bytes; Whoosh's blocks start with ``b"W3Bl"``), the block count (uint32) and
  the CRC-32 of the rest of the term's postings (checked where a term is read whole);
- the directory: one ``BLOCK`` record per block of up to 128 postings: its last document,
  posting count, the bit widths of its three packed streams, its shortest and longest field
  (Whoosh's length bytes), its greatest and smallest weight (32-bit floats), and where its
  values end in the value section;
- the packed section: per block, byte-aligned, the id gaps (each document minus the one before,
  minus one; the first from the previous block's last document, -1 before a term's first),
  the weights (each minus the block's smallest, when all are whole numbers below 2**24; else
  their 32-bit floats: ``WEIGHT_FLOATS``; nothing when all are equal) and the values' sizes,
  each stream bit-packed at its width (low bits first);
- the value section: every posting's value (``indexer.postings_format``'s varints), joined.

A block's packed bytes follow from its record, so the directories of any number of terms are
read by one pass over their records (``read_directories``), and any run of blocks, of one term
or of many, decodes in one call of a compiled kernel (``decode_blocks``: each number is read
from the 64-bit word at its byte, shifted and masked, each block's gaps summed as they are
read; ``indexer.compiled``), which first checks that every word it will read lies in the
bytes read.
Nothing is compressed (zlib only gives the checksum): zlib saved little on these streams and
cost most of a block's decoding (``docs/whoosh.md``). Both writers (the bulk writer's
``FieldTermsWriter`` and Whoosh's postings writer through ``ArchiveCodec``) write through
``encode_terms``, so their bytes are the same by construction (and compared by the tests).
"""

from __future__ import annotations

import math
import struct
import zlib
from itertools import accumulate
from typing import Final, NamedTuple

import numpy as np

from indexer import compiled

TAG: Final = b"ArP1"
_HEAD = struct.Struct("<4sII")  # tag, block count, CRC-32 of the rest of the term
HEAD_SIZE: Final = _HEAD.size
BLOCK = np.dtype([("last", "<u4"), ("postings", "u1"), ("id_bits", "u1"),
                  ("weight_bits", "u1"), ("size_bits", "u1"), ("shortest", "u1"),
                  ("longest", "u1"), ("heaviest", "<f4"), ("lightest", "<f4"),
                  ("values_end", "<u4")])
"""A block's record in a term's directory."""
WEIGHT_FLOATS: Final = 255
"""``weight_bits`` of a block whose weights are stored as 32-bit floats."""
# The directory as a reader keeps it: one int64 row per item (each row contiguous), one
# column per block: its last document and the one before its first (FLOOR), its posting
# count, the bit widths of its streams (weights stored as floats: width 32 and FLOATS), its
# smallest weight (LIGHTEST: a float64's bits), where its packed streams and its values lie in
# the term's postings, and its greatest weight (HEAVIEST: a float64's bits; what a score's
# ceiling reads, ``indexer.score_bounds``).
(LAST, FLOOR, POSTINGS, ID_BITS, WEIGHT_BITS, SIZE_BITS, FLOATS, LIGHTEST, PACKED_AT,
 WEIGHTS_AT, SIZES_AT, PACKED_END, VALUES_AT, VALUES_END, HEAVIEST) = range(15)
DIRECTORY_ROWS: Final = 15
_WHOLE_LIMIT = float(1 << 24)  # whole 32-bit floats below this are exact as integers
_POWERS = np.array([1 << k for k in range(64)], dtype=np.uint64)
_PAD: Final = 8  # bytes a reader's buffer holds past the last packed byte it decodes


class CorruptPostings(ValueError):
    """A term's postings are not laid out as this module writes them."""


def padding() -> int:
    """Return how many bytes a buffer given to ``decode_blocks`` must hold past its last
    packed byte (a 64-bit word is read at each number's first byte)."""
    return _PAD


def bit_lengths(values: np.ndarray) -> np.ndarray:
    """Return the bits each of VALUES (whole numbers >= 0) needs, as int64."""
    found: np.ndarray = np.searchsorted(_POWERS, values.astype(np.uint64), side="right")
    return found.astype(np.int64)


class TermRun(NamedTuple):
    """Postings of several terms, term after term, each term's documents ascending."""

    counts: np.ndarray  # postings per term (> 0)
    docs: np.ndarray  # document numbers (below 2**32)
    weights: np.ndarray  # weights as stored: 32-bit floats
    lengths: np.ndarray  # each posting's document's field length byte (0: no length)
    sizes: np.ndarray  # each posting's value's size in VALUES
    value_starts: np.ndarray  # where each posting's value starts in VALUES
    values: bytes  # the values, each term's contiguous and in posting order


def encode_terms(run: TermRun, block_limit: int) -> list[bytes]:
    """Return the postings of each term of RUN in this module's layout, blocks of
    BLOCK_LIMIT postings (at most 255). Raises ValueError when a term's documents do not
    increase or a number is too large for the layout."""
    if not 0 < block_limit < 256:
        raise ValueError(f"blocks of {block_limit} postings do not fit the layout")
    if len(run.counts) == 1 and int(run.counts[0]) <= block_limit:
        return [_encode_block(run)]
    data, sizes = encode_terms_joined(run, block_limit)
    ends = np.cumsum(sizes).tolist()
    return [data[end - size:end] for end, size in zip(ends, sizes.tolist(), strict=True)]


def encode_terms_joined(run: TermRun, block_limit: int) -> tuple[bytes, np.ndarray]:
    """Return ``encode_terms`` of RUN joined, and each term's size: the postings of all its
    terms laid out with numpy (a term's bytes gathered from the run's directory, packed
    section and values), one checksum call per term."""
    if not 0 < block_limit < 256:
        raise ValueError(f"blocks of {block_limit} postings do not fit the layout")
    counts = np.asarray(run.counts, dtype=np.int64)
    docs = np.asarray(run.docs, dtype=np.int64)
    if not len(counts):
        return b"", np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    starts = ends - counts
    blocks = (counts + block_limit - 1) // block_limit
    first_blocks = np.cumsum(blocks) - blocks
    owner = np.repeat(np.arange(len(counts)), blocks)
    block_starts = starts[owner] + (np.arange(len(owner)) - first_blocks[owner]) * block_limit
    block_ends = np.minimum(block_starts + block_limit, ends[owner])
    postings = block_ends - block_starts
    block_of = np.repeat(np.arange(len(owner)), postings)

    previous = np.empty_like(docs)
    previous[0] = -1
    previous[1:] = docs[:-1]
    previous[starts] = -1
    gaps = docs - previous - 1
    if len(gaps) and (int(gaps.min()) < 0 or int(docs.max()) >= 1 << 32):
        raise ValueError("a term's documents must increase and be below 2**32")
    id_bits = bit_lengths(np.maximum.reduceat(gaps, block_starts))

    weights = np.asarray(run.weights, dtype=np.float32).astype(np.float64)
    lightest = np.minimum.reduceat(weights, block_starts)
    heaviest = np.maximum.reduceat(weights, block_starts)
    whole = (weights == np.floor(weights)) & (np.abs(weights) < _WHOLE_LIMIT)
    block_whole = np.minimum.reduceat(whole.astype(np.int8), block_starts).astype(bool)
    above = np.where(block_whole[block_of], weights - lightest[block_of], 0.0)
    weight_bits = np.where(block_whole, bit_lengths(np.maximum.reduceat(above, block_starts)),
                           WEIGHT_FLOATS)
    weight_widths = np.where(block_whole, weight_bits, 32)
    stored_weights = np.where(
        block_whole[block_of], above,
        np.asarray(run.weights, dtype=np.float32).view(np.uint32).astype(np.float64))

    sizes = np.asarray(run.sizes, dtype=np.int64)
    if len(sizes) and int(sizes.max()) >= 1 << 32:
        raise ValueError("a posting's value is too large for the layout")
    size_bits = bit_lengths(np.maximum.reduceat(sizes, block_starts))

    id_bytes = (postings * id_bits + 7) // 8
    weight_bytes = (postings * weight_widths + 7) // 8
    size_bytes = (postings * size_bits + 7) // 8
    block_bytes = id_bytes + weight_bytes + size_bytes
    block_at = np.cumsum(block_bytes) - block_bytes
    inside = np.arange(len(docs)) - block_starts[block_of]
    packed = pack_bits(
        [(block_at * 8)[block_of] + inside * id_bits[block_of],
         ((block_at + id_bytes) * 8)[block_of] + inside * weight_widths[block_of],
         ((block_at + id_bytes + weight_bytes) * 8)[block_of] + inside * size_bits[block_of]],
        [gaps, stored_weights.astype(np.int64), sizes], int(block_bytes.sum()))

    lengths = np.asarray(run.lengths, dtype=np.int64)
    known = np.where(lengths == 0, 256, lengths)
    shortest = np.minimum.reduceat(known, block_starts)
    shortest[shortest == 256] = 0
    value_starts = np.asarray(run.value_starts, dtype=np.int64)
    value_ends = value_starts + sizes
    term_values = value_starts[starts]
    records = np.zeros(len(owner), dtype=BLOCK)
    records["last"] = docs[block_ends - 1]
    records["postings"] = postings
    records["id_bits"] = id_bits
    records["weight_bits"] = weight_bits
    records["size_bits"] = size_bits
    records["shortest"] = shortest
    records["longest"] = np.maximum.reduceat(lengths, block_starts)
    records["heaviest"] = np.maximum(heaviest, 0.0)
    records["lightest"] = lightest
    records["values_end"] = value_ends[block_ends - 1] - term_values[owner]
    directory = records.tobytes()

    # Each term: its head, its blocks' records, their packed bytes and its values, the
    # records and packed bytes of consecutive terms being consecutive in the run's.
    last_blocks = first_blocks + blocks - 1
    record_sizes = blocks * BLOCK.itemsize
    packed_sizes = block_at[last_blocks] + block_bytes[last_blocks] - block_at[first_blocks]
    value_sizes = value_ends[ends - 1] - term_values
    term_sizes = HEAD_SIZE + record_sizes + packed_sizes + value_sizes
    term_at = np.cumsum(term_sizes) - term_sizes
    out = np.empty(int(term_sizes.sum()), dtype=np.uint8)
    records_at = term_at + HEAD_SIZE
    packed_at = records_at + record_sizes
    values_at = packed_at + packed_sizes
    _copy_runs(out, records_at, np.frombuffer(directory, dtype=np.uint8),
               first_blocks * BLOCK.itemsize, record_sizes)
    _copy_runs(out, packed_at, np.frombuffer(packed, dtype=np.uint8), block_at[first_blocks],
               packed_sizes)
    _copy_runs(out, values_at, np.frombuffer(run.values, dtype=np.uint8), term_values,
               value_sizes)
    view = out.data
    crc = zlib.crc32
    heads = np.zeros(len(counts), dtype=_HEAD_RECORD)
    heads["tag"] = TAG
    heads["blocks"] = blocks
    heads["crc"] = [crc(view[low:high]) for low, high in
                    zip(records_at.tolist(), (term_at + term_sizes).tolist(), strict=True)]
    out[(term_at[:, None] + np.arange(HEAD_SIZE)).ravel()] = heads.view(np.uint8)
    return out.tobytes(), term_sizes


# A term's head as a numpy record (``_HEAD``): a run's heads written at once.
_HEAD_RECORD = np.dtype([("tag", "S4"), ("blocks", "<u4"), ("crc", "<u4")])


def _copy_runs(out: np.ndarray, at: np.ndarray, source: np.ndarray, starts: np.ndarray,
               sizes: np.ndarray) -> None:
    """Copy SOURCE[STARTS[i]:STARTS[i] + SIZES[i]] to OUT at AT[i], for every i."""
    total = int(sizes.sum())
    if not total:
        return
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    out[np.repeat(at, sizes) + within] = source[np.repeat(starts, sizes) + within]


_RECORD = struct.Struct("<IBBBBBBffI")  # a BLOCK record


def _encode_block(run: TermRun) -> bytes:
    """``encode_terms`` of RUN's one term of one block, with plain ints (Whoosh's writer
    finishes its terms one by one, most of them short): the same bytes."""
    docs = np.asarray(run.docs, dtype=np.int64).tolist()
    stored = np.asarray(run.weights, dtype=np.float32)
    weights = stored.astype(np.float64).tolist()
    lengths = np.asarray(run.lengths, dtype=np.int64).tolist()
    sizes = np.asarray(run.sizes, dtype=np.int64).tolist()
    gaps = [docs[0], *(b - a - 1 for a, b in zip(docs, docs[1:], strict=False))]
    if min(gaps) < 0 or docs[-1] >= 1 << 32:
        raise ValueError("a term's documents must increase and be below 2**32")
    if max(sizes) >= 1 << 32:
        raise ValueError("a posting's value is too large for the layout")
    lightest, heaviest = min(weights), max(weights)
    if all(w == math.floor(w) and abs(w) < _WHOLE_LIMIT for w in weights):
        above = [int(w - lightest) for w in weights]
        weight_bits = max(above).bit_length()
        weight_width = weight_bits
    else:
        above = stored.view(np.uint32).tolist()
        weight_bits, weight_width = WEIGHT_FLOATS, 32
    id_bits = max(gaps).bit_length()
    size_bits = max(sizes).bit_length()
    known = [length for length in lengths if length]
    start = int(run.value_starts[0])
    end = start + sum(sizes)
    record = _RECORD.pack(docs[-1], len(docs), id_bits, weight_bits, size_bits,
                          min(known) if known else 0, max(lengths), max(heaviest, 0.0),
                          lightest, end - start)
    rest = b"".join((record, _packed(gaps, id_bits), _packed(above, weight_width),
                     _packed(sizes, size_bits), run.values[start:end]))
    return _HEAD.pack(TAG, 1, zlib.crc32(rest)) + rest


def _packed(numbers: list[int], width: int) -> bytes:
    """NUMBERS, WIDTH bits each, low bits first, in whole bytes."""
    if not width:
        return b""
    joined = 0
    for number in reversed(numbers):
        joined = (joined << width) | number
    return joined.to_bytes((len(numbers) * width + 7) // 8, "little")


def pack_bits(places: list[np.ndarray], numbers: list[np.ndarray], size: int) -> bytes:
    """Return SIZE bytes holding each of NUMBERS (whole numbers >= 0, below 2**56, each
    within its width) at its bit place PLACES (from the first byte's low bit), zeros
    elsewhere. The places of different numbers must not overlap."""
    place = np.concatenate(places)
    number = np.concatenate(numbers).astype(np.uint64)
    used = number != 0
    place, number = place[used], number[used]
    if not len(number):
        return bytes(size)
    shifted = number << (place & 7).astype(np.uint64)
    at = place >> 3
    out = np.zeros(size + _PAD, dtype=np.float64)
    # Bits of different numbers never overlap: adding each byte's parts is OR-ing them.
    for byte in range(8):
        rest = shifted >> np.uint64(8 * byte)
        if not rest.any():
            break
        part = rest & np.uint64(0xFF)
        out += np.bincount(at + byte, weights=part.astype(np.float64), minlength=size + _PAD)
    if out[size:].any():
        raise ValueError("a packed number runs past its bytes")
    return out[:size].astype(np.uint8).tobytes()


def directory_size(blocks: int) -> int:
    """Return the bytes of a term's head and directory of BLOCKS blocks."""
    return HEAD_SIZE + blocks * BLOCK.itemsize


def block_count(head: bytes | memoryview | np.ndarray) -> int:
    """Return the block count in a term's first bytes HEAD; raises CorruptPostings when HEAD
    does not start with this layout's tag."""
    raw = bytes(head[:HEAD_SIZE])
    if len(raw) < HEAD_SIZE:
        raise CorruptPostings("a term's postings end before their head")
    tag, count, _ = _HEAD.unpack(raw)
    if tag != TAG:
        raise CorruptPostings(f"postings start with {tag!r}, not {TAG!r}")
    return int(count)


def check_term(term: bytes | memoryview | np.ndarray, length: int) -> None:
    """Raise CorruptPostings when the LENGTH bytes of a term's postings TERM starts with do
    not match the checksum of its head (checked where a term is read whole: fast readers of
    a term's blocks check the blocks' structure only)."""
    view = term.data if isinstance(term, np.ndarray) else memoryview(term)
    if len(view) < max(length, HEAD_SIZE):
        raise CorruptPostings("a term's postings are cut off")
    if _HEAD.unpack_from(view)[2] != zlib.crc32(view[HEAD_SIZE:length]):
        raise CorruptPostings("a term's postings are damaged (their checksum does not match)")


_RECORD = struct.Struct("<IBBBBBBffI")  # a ``BLOCK`` record, as plain ints and floats
# A term of one block of at most this many postings is decoded with plain ints
# (``decode_small_term``): numpy's fixed cost per call outweighs its speed on so few numbers.
SMALL_TERM_POSTINGS: Final = 48


class SmallTerm(NamedTuple):
    """A term of one small block, decoded with plain ints and floats (``decode_small_term``)."""

    docs: list[int]  # ascending
    weights: list[float]
    last: int  # the last document (the block's record)
    value_starts: list[int]  # where each posting's value starts in the term's bytes, and
    # where the last one ends (one more than the postings); empty unless asked for


def decode_small_term(raw: bytes, length: int, values: bool = False) -> SmallTerm | None:
    """Return the postings of a term of one block of at most ``SMALL_TERM_POSTINGS`` postings
    from RAW (its LENGTH bytes of postings, read whole), with where their values lie when
    VALUES; None for a longer term (``read_directory`` and ``decode_blocks`` read it). The
    same numbers as ``decode_blocks`` and ``value_starts``, and the same checks: raises
    CorruptPostings when the bytes do not match the checksum or the record."""
    if len(raw) < max(length, HEAD_SIZE + _RECORD.size):
        raise CorruptPostings("a term's postings are cut off")
    tag, count, checksum = _HEAD.unpack_from(raw)
    if tag != TAG:
        raise CorruptPostings(f"postings start with {bytes(tag)!r}, not {TAG!r}")
    if count != 1:
        if count == 0:
            raise CorruptPostings("a term's postings have no block")
        return None
    (last, postings, id_bits, weight_bits, size_bits, _, _, _, lightest,
     values_end) = _RECORD.unpack_from(raw, HEAD_SIZE)
    if postings > SMALL_TERM_POSTINGS:
        return None
    if checksum != zlib.crc32(memoryview(raw)[HEAD_SIZE:length]):
        raise CorruptPostings("a term's postings are damaged (their checksum does not match)")
    floats = weight_bits == WEIGHT_FLOATS
    if floats:
        weight_bits = 32
    if not 1 <= postings or max(id_bits, weight_bits, size_bits) > 32:
        raise CorruptPostings("a block's record has impossible counts or widths")
    packed_at = HEAD_SIZE + _RECORD.size
    weights_at = packed_at + (postings * id_bits + 7) // 8
    sizes_at = weights_at + (postings * weight_bits + 7) // 8
    packed_end = sizes_at + (postings * size_bits + 7) // 8
    if packed_end + values_end != length:
        raise CorruptPostings("a term's directory does not describe its postings")
    docs = list(accumulate([gap + 1 for gap in
                            _plain_numbers(raw, packed_at, weights_at, id_bits, postings)],
                           initial=-1))[1:]
    if docs[-1] != last:
        raise CorruptPostings("a block's documents do not end at its last document")
    if floats:
        weights = list(struct.unpack_from(f"<{postings}f", raw, weights_at))
    else:
        weights = [lightest + raw_weight for raw_weight in
                   _plain_numbers(raw, weights_at, sizes_at, weight_bits, postings)]
    starts: list[int] = []
    if values:
        starts = list(accumulate(_plain_numbers(raw, sizes_at, packed_end, size_bits,
                                                postings), initial=packed_end))
        if starts[-1] != length:
            raise CorruptPostings("a block's value sizes do not add up to its values")
    return SmallTerm(docs, weights, last, starts)


def _plain_numbers(raw: bytes, start: int, end: int, width: int, count: int) -> list[int]:
    """The COUNT numbers of WIDTH bits each packed in RAW[START:END] (low bits first)."""
    if not width:
        return [0] * count
    packed = int.from_bytes(raw[start:end], "little")
    mask = (1 << width) - 1
    return [(packed >> shift) & mask for shift in range(0, count * width, width)]


def read_directory(raw: bytes | memoryview | np.ndarray, length: int) -> np.ndarray:
    """Return the directory (``DIRECTORY_ROWS`` rows, a column per block) of the term whose
    postings, LENGTH bytes in all, start RAW (which holds at least their head and directory),
    its places counted from the term's first byte. Raises CorruptPostings as
    ``read_directories``."""
    return read_directories(raw, [0], [length])[0]


def read_directories(raw: bytes | memoryview | np.ndarray, offsets: list[int],
                     lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Return the directories of the terms whose postings start at OFFSETS in RAW (LENGTHS
    bytes each; RAW holds at least each one's head and directory), one after the other (a
    column per block), their places counted from RAW's first byte, and how many blocks each
    term has. Raises CorruptPostings when a term does not start with this layout's head or its
    records do not describe postings of its length."""
    data = raw if isinstance(raw, np.ndarray) else np.frombuffer(raw, dtype=np.uint8)
    starts = np.array(offsets, dtype=np.int64)
    status, where, counts, total = _heads_of(data, starts)
    if not status:
        status, where, found = _records_of(data, starts, np.array(lengths, dtype=np.int64),
                                           counts, total)
    if status == _NOT_TAGGED:
        tag = bytes(data[offsets[where]:offsets[where] + len(TAG)])
        raise CorruptPostings(f"postings start with {tag!r}, not {TAG!r}")
    if status:
        raise CorruptPostings(_REFUSALS[status])
    return found, counts


_TAG_BYTES: Final = tuple(TAG)
_RECORD_SIZE: Final = BLOCK.itemsize


@compiled.helper
def bit_views() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scratch cells for seeing a number's bits as another type, as the block kernels read
    weights: (a uint32 and the float32 it holds, an int64 and the float64 it holds).
    Kernels call it."""
    narrow = np.empty(1, np.uint32)
    wide = np.empty(1, np.int64)
    return narrow, narrow.view(np.float32), wide, wide.view(np.float64)


@compiled.kernel
def _heads_of(data: np.ndarray, offsets: np.ndarray) -> tuple[int, int, np.ndarray, int]:
    """Read the heads of the terms at OFFSETS in DATA (``read_directories``): (status, 0 or
    one of ``_REFUSALS``; the term refused; each term's block count; their sum), each
    term's head and records checked to lie in DATA."""
    size = data.shape[0]
    counts = np.zeros(offsets.shape[0], np.int64)
    total = 0
    for t in range(offsets.shape[0]):
        at = offsets[t]
        if at < 0 or at + HEAD_SIZE > size:
            return _CUT_OFF, t, counts, 0
        for k in range(len(_TAG_BYTES)):
            if data[at + k] != _TAG_BYTES[k]:
                return _NOT_TAGGED, t, counts, 0
        count = int(np.int64(data[at + 4]) | np.int64(data[at + 5]) << 8
                    | np.int64(data[at + 6]) << 16 | np.int64(data[at + 7]) << 24)
        if count == 0:
            return _NO_BLOCK, t, counts, 0
        if at + HEAD_SIZE + count * _RECORD_SIZE > size:
            return _CUT_OFF, t, counts, 0
        counts[t] = count
        total += count
    return 0, 0, counts, total


@compiled.kernel
def _records_of(data: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
                counts: np.ndarray, total: int) -> tuple[int, int, np.ndarray]:
    """Read the TOTAL block records of the terms at OFFSETS in DATA (LENGTHS bytes each,
    COUNTS blocks each, as ``_heads_of`` found them) into a directory (``read_directories``):
    (status, 0 or one of ``_REFUSALS``; the term refused; the directory)."""
    found = np.empty((DIRECTORY_ROWS, total), np.int64)
    narrow, narrow_float, wide, wide_float = bit_views()
    b = 0
    for t in range(offsets.shape[0]):
        r = offsets[t] + HEAD_SIZE
        packed = r + counts[t] * _RECORD_SIZE  # each block's streams, one after the other
        floor = -1
        first = b
        for _ in range(counts[t]):
            postings = np.int64(data[r + 4])
            widths = (np.int64(data[r + 5]), np.int64(data[r + 6]), np.int64(data[r + 7]))
            floats = widths[1] == WEIGHT_FLOATS
            if floats:
                widths = (widths[0], np.int64(32), widths[2])
            if postings < 1 or max(widths) > 32:
                return _WIDTH, t, found
            found[LAST, b] = (np.int64(data[r]) | np.int64(data[r + 1]) << 8
                              | np.int64(data[r + 2]) << 16 | np.int64(data[r + 3]) << 24)
            found[FLOOR, b] = floor
            floor = found[LAST, b]
            found[POSTINGS, b] = postings
            found[FLOATS, b] = floats
            for stream in range(3):  # widths and starts of the ids, weights and sizes
                found[ID_BITS + stream, b] = widths[stream]
                found[PACKED_AT + stream, b] = packed
                packed += (widths[stream] * postings + 7) >> 3
            found[PACKED_END, b] = packed
            for row, at in ((HEAVIEST, r + 10), (LIGHTEST, r + 14)):
                narrow[0] = (np.uint32(data[at]) | np.uint32(data[at + 1]) << 8
                             | np.uint32(data[at + 2]) << 16 | np.uint32(data[at + 3]) << 24)
                wide_float[0] = np.float64(narrow_float[0])
                found[row, b] = wide[0]
            found[VALUES_END, b] = (np.int64(data[r + 18]) | np.int64(data[r + 19]) << 8
                                    | np.int64(data[r + 20]) << 16
                                    | np.int64(data[r + 21]) << 24)
            r += _RECORD_SIZE
            b += 1
        values_end = packed  # the values follow the last block's streams
        for c in range(first, b):
            found[VALUES_AT, c] = values_end
            found[VALUES_END, c] += packed
            if found[VALUES_END, c] < values_end or found[LAST, c] <= found[FLOOR, c]:
                return _NOT_DESCRIBED, t, found
            values_end = found[VALUES_END, c]
        if values_end != offsets[t] + lengths[t]:
            return _NOT_DESCRIBED, t, found
    return 0, 0, found


@compiled.warms_up
def _directory_examples() -> None:
    """Read the directories of tiny terms from bytes, read-only and writable arrays (as the
    readers hold them), so that every specialisation they call is compiled before a search."""
    docs = np.array([1, 5, 9, 200], dtype=np.int64)
    run = TermRun(np.array([4]), docs, np.array([1.0, 2.0, 1.5, 1.0], dtype=np.float32),
                  np.array([3, 4, 5, 6]), np.array([1, 1, 2, 1]), np.array([0, 1, 2, 4]),
                  b"abcde")
    term = encode_terms(run, 2)[0]
    for raw in (term, np.frombuffer(term, dtype=np.uint8),
                np.frombuffer(bytearray(term), dtype=np.uint8)):
        read_directories(raw, [0], [len(term)])


def decode_blocks(buffer: np.ndarray, blocks: np.ndarray, shift: int,
                  sizes: bool = False, weighed: bool = True,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return (documents, weights, values' sizes or None) of every posting of BLOCKS (columns
    of directories, their packed bytes in ascending order), in order, from BUFFER (uint8),
    where a block's packed bytes start at its ``PACKED_AT`` minus SHIFT. BUFFER holds
    ``padding()`` bytes past the last packed byte. Without WEIGHED, the weights are not
    decoded (an empty array; ``weights_at`` reads those of chosen postings). Raises
    CorruptPostings when the bytes do not match the records."""
    if not blocks.shape[1]:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=np.float64), empty.copy() if sizes else None
    ids, weights, found_sizes = _decode_run(buffer, blocks, shift, True, weighed, sizes)
    return ids, weights, found_sizes if sizes else None


def decode_value_sizes(buffer: np.ndarray, blocks: np.ndarray, shift: int) -> np.ndarray:
    """Return the values' sizes of every posting of BLOCKS (as ``decode_blocks`` with SIZES),
    without decoding their documents and weights: a reader holding a term's documents
    already needs no more to find each posting's value. Raises CorruptPostings as
    ``decode_blocks`` does for bytes outside those read or a block without postings."""
    if not blocks.shape[1]:
        return np.zeros(0, dtype=np.int64)
    return _decode_run(buffer, blocks, shift, False, False, True)[2]


def block_limits(raw: bytes | memoryview | np.ndarray, offsets: list[int],
                 counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Return each block's greatest weight (float64) and shortest field (Whoosh's length byte,
    int64; 0 when none was known) of the terms whose postings start at OFFSETS in RAW, COUNTS
    blocks each, in ``read_directories``' order: what bounds a block's scores."""
    view = raw.data if isinstance(raw, np.ndarray) else memoryview(raw)
    size = BLOCK.itemsize
    parts = [view[offset + HEAD_SIZE:offset + HEAD_SIZE + count * size]
             for offset, count in zip(offsets, counts, strict=True)]
    records = np.frombuffer(parts[0] if len(parts) == 1 else b"".join(parts), dtype=BLOCK)
    if len(records) != sum(counts):
        raise CorruptPostings("a term's directory is cut off")
    return records["heaviest"].astype(np.float64), records["shortest"].astype(np.int64)


def weights_at(buffer: np.ndarray, blocks: np.ndarray, block: np.ndarray, steps: np.ndarray,
               shift: int) -> np.ndarray:
    """Return the weights of chosen postings, each given by its block (BLOCK: a column of the
    directory BLOCKS) and its place in that block (STEPS), from BUFFER as ``decode_blocks``
    reads BLOCKS (SHIFT likewise): the same float64 values ``decode_blocks`` gives them,
    without decoding their blocks' other weights. Raises CorruptPostings for a block or a
    place that is not in BLOCKS, or bytes outside those read."""
    if not len(steps):
        return np.zeros(0, dtype=np.float64)
    if len(buffer) < _PAD:
        raise CorruptPostings("a block's packed bytes lie outside the bytes read")
    status, weights = _weights_of(_words(buffer), _columns(blocks),
                                  np.asarray(block, dtype=np.int64),
                                  np.asarray(steps, dtype=np.int64), shift)
    if status:
        raise CorruptPostings(_REFUSALS[status])
    return weights


def _decode_run(buffer: np.ndarray, blocks: np.ndarray, shift: int, with_ids: bool,
                with_weights: bool, with_sizes: bool,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The documents, weights and sizes (each empty unless asked for) of BLOCKS (at least
    one) as ``decode_blocks`` reads them: checked, then decoded, by two kernels. Raises
    CorruptPostings."""
    if (int(blocks[PACKED_AT, 0]) < shift
            or int(blocks[PACKED_END, -1]) - shift + _PAD > len(buffer)):
        raise CorruptPostings("a block's packed bytes lie outside the bytes read")
    words, columns = _words(buffer), _columns(blocks)
    status, total = _checked_run(words, columns, shift, with_ids, with_weights, with_sizes)
    if not status:
        status, ids, weights, sizes = _decoded_run(words, columns, shift, total, with_ids,
                                                   with_weights, with_sizes)
    if status:
        raise CorruptPostings(_REFUSALS[status])
    return ids, weights, sizes


def _words(buffer: np.ndarray) -> np.ndarray:
    """BUFFER's bytes as the little-endian 64-bit word starting at each byte (a view), as the
    kernels read numbers: one load a number, whatever its byte (BUFFER: at least ``_PAD``
    bytes)."""
    return np.ndarray((len(buffer) - _PAD + 1,), dtype="<u8", buffer=buffer, strides=(1,))


def _columns(blocks: np.ndarray) -> np.ndarray:
    """BLOCKS as the kernels take them: int64 in one piece (a column slice of a directory is
    copied), so that one compiled specialisation serves every call."""
    if blocks.flags.c_contiguous and blocks.dtype == np.int64:
        return blocks
    return np.ascontiguousarray(blocks, dtype=np.int64)


# What a kernel's status says, as the refusal the caller raises.
(_OUTSIDE, _EMPTY_BLOCK, _WRONG_LAST, _WIDTH, _NOT_A_POSTING, _CUT_OFF, _NOT_TAGGED, _NO_BLOCK,
 _NOT_DESCRIBED, _SIZES_MISMATCH) = range(1, 11)
_REFUSALS: Final = {
    _CUT_OFF: "a term's directory is cut off",
    _NO_BLOCK: "a term's postings have no block",
    _NOT_DESCRIBED: "a term's directory does not describe its postings",
    _OUTSIDE: "a block's packed bytes lie outside the bytes read",
    _EMPTY_BLOCK: "a block without postings",
    _WRONG_LAST: "a block's documents do not end at its last document",
    _WIDTH: "a block's record has impossible counts or widths",
    _NOT_A_POSTING: "a posting asked for is not in the blocks read",
    _SIZES_MISMATCH: "a block's value sizes do not add up to its values",
}


@compiled.kernel
def _checked_run(words: np.ndarray, blocks: np.ndarray, shift: int, with_ids: bool,
                 with_weights: bool, with_sizes: bool) -> tuple[int, int]:
    """Check what ``_decoded_run`` will read of BLOCKS' streams asked for (WITH_IDS...) in
    WORDS (``_words``): (status, 0 or one of ``_REFUSALS``; the postings' count)."""
    available = words.shape[0]
    wanted = (with_ids, with_weights, with_sizes)
    total = 0
    for b in range(blocks.shape[1]):
        postings = blocks[POSTINGS, b]
        if postings < 1 or postings > 255:
            return _EMPTY_BLOCK, 0
        total += postings
        for stream in range(3):  # the ids, the weights, the sizes: their rows in this order
            width = blocks[ID_BITS + stream, b]
            if not wanted[stream]:
                continue
            if width < 0 or width > 32:
                return _WIDTH, 0
            # The word holding the stream's last number (the first, when of no bits).
            start = blocks[PACKED_AT + stream, b] - shift
            if start < 0 or start + (((postings - 1) * width) >> 3) >= available:
                return _OUTSIDE, 0
    return 0, total


@compiled.kernel
def _decoded_run(words: np.ndarray, blocks: np.ndarray, shift: int, total: int,
                 with_ids: bool, with_weights: bool, with_sizes: bool,
                 ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Decode the TOTAL postings of BLOCKS from WORDS (``decode_blocks``), once
    ``_checked_run`` has found every read within WORDS: (status, 0 or ``_WRONG_LAST``;
    documents, weights, sizes, each empty unless asked for), a pass per stream and block."""
    ids = np.empty(total if with_ids else 0, np.int64)
    weights = np.empty(total if with_weights else 0, np.float64)
    sizes = np.empty(total if with_sizes else 0, np.int64)
    narrow, narrow_float, wide, wide_float = bit_views()
    first = 0
    for b in range(blocks.shape[1]):
        end = first + blocks[POSTINGS, b]
        if with_ids:
            width = blocks[ID_BITS, b]
            mask = np.uint64((1 << width) - 1)
            place = (blocks[PACKED_AT, b] - shift) * 8
            doc = blocks[FLOOR, b]
            for i in range(first, end):
                doc += np.int64((words[place >> 3] >> np.uint64(place & 7)) & mask) + 1
                ids[i] = doc
                place += width
            if doc != blocks[LAST, b]:
                return _WRONG_LAST, ids, weights, sizes
        if with_weights:
            width = blocks[WEIGHT_BITS, b]
            mask = np.uint64((1 << width) - 1)
            place = (blocks[WEIGHTS_AT, b] - shift) * 8
            wide[0] = blocks[LIGHTEST, b]
            lightest = wide_float[0]
            if blocks[FLOATS, b]:
                for i in range(first, end):
                    narrow[0] = np.uint32((words[place >> 3] >> np.uint64(place & 7)) & mask)
                    weights[i] = np.float64(narrow_float[0])
                    place += width
            else:
                for i in range(first, end):
                    raw = np.int64((words[place >> 3] >> np.uint64(place & 7)) & mask)
                    weights[i] = np.float64(raw) + lightest
                    place += width
        if with_sizes:
            width = blocks[SIZE_BITS, b]
            mask = np.uint64((1 << width) - 1)
            place = (blocks[SIZES_AT, b] - shift) * 8
            for i in range(first, end):
                sizes[i] = np.int64((words[place >> 3] >> np.uint64(place & 7)) & mask)
                place += width
        first = end
    return 0, ids, weights, sizes


@compiled.kernel
def _weights_of(words: np.ndarray, blocks: np.ndarray, block: np.ndarray, steps: np.ndarray,
                shift: int) -> tuple[int, np.ndarray]:
    """The weights of chosen postings (``weights_at``): (status, weights), each posting's
    block and place checked against BLOCKS and its read against WORDS."""
    count = blocks.shape[1]
    available = words.shape[0]
    weights = np.empty(steps.shape[0], np.float64)
    narrow, narrow_float, wide, wide_float = bit_views()
    for i in range(steps.shape[0]):
        b = block[i]
        step = steps[i]
        if b < 0 or b >= count or step < 0 or step >= blocks[POSTINGS, b]:
            return _NOT_A_POSTING, weights
        width = blocks[WEIGHT_BITS, b]
        wide[0] = blocks[LIGHTEST, b]
        if width < 0 or width > 32:
            return _WIDTH, weights
        if not width:
            weights[i] = wide_float[0]
            continue
        place = (blocks[WEIGHTS_AT, b] - shift) * 8 + step * width
        if place < 0 or (place >> 3) >= available:
            return _OUTSIDE, weights
        raw = (words[place >> 3] >> np.uint64(place & 7)) & np.uint64((1 << width) - 1)
        if blocks[FLOATS, b]:
            narrow[0] = np.uint32(raw)
            weights[i] = np.float64(narrow_float[0])
        else:
            weights[i] = np.float64(np.int64(raw)) + wide_float[0]
    return 0, weights


@compiled.warms_up
def _decode_examples() -> None:
    """Decode a tiny term of two blocks from read-only and writable bytes (as the readers hold
    them), so that every specialisation the readers call is compiled before a search."""
    docs = np.array([1, 5, 9, 200], dtype=np.int64)
    run = TermRun(np.array([4]), docs, np.array([1.0, 2.0, 1.5, 1.0], dtype=np.float32),
                  np.array([3, 4, 5, 6]), np.array([1, 1, 2, 1]), np.array([0, 1, 2, 4]),
                  b"abcde")
    term = encode_terms(run, 2)[0]
    for raw in (term + bytes(_PAD), bytearray(term + bytes(_PAD))):
        buffer = np.frombuffer(raw, dtype=np.uint8)
        blocks = read_directory(buffer, len(term))
        for columns in (blocks, blocks[:, 1:]):
            decode_blocks(buffer, columns, 0, sizes=True)
            decode_blocks(buffer, columns, 0, weighed=False)
            decode_value_sizes(buffer, columns, 0)
            weights_at(buffer, columns, np.zeros(1, dtype=np.int64),
                       np.ones(1, dtype=np.int64), 0)


def value_starts(blocks: np.ndarray, sizes: np.ndarray, shift: int) -> np.ndarray:
    """Return where each posting's value starts, from BLOCKS' ``VALUES_AT`` minus SHIFT and
    the postings' SIZES (``decode_blocks``); raises CorruptPostings when a block's sizes do not
    add up to its values."""
    status, starts = _starts_of(_columns(blocks), np.ascontiguousarray(sizes, dtype=np.int64),
                                np.int64(shift))
    if status:
        raise CorruptPostings(_REFUSALS[status])
    return starts


@compiled.kernel
def _starts_of(blocks: np.ndarray, sizes: np.ndarray, shift: np.int64,
               ) -> tuple[int, np.ndarray]:
    """Where each posting's value starts (``value_starts``): (status, 0 or one of
    ``_REFUSALS``; the starts), each block's sizes added up from its first value in one pass
    (numpy took two cumulative sums, two gathers and a repeat) and checked to end at its
    last value."""
    starts = np.empty(sizes.shape[0], np.int64)
    at = 0
    for b in range(blocks.shape[1]):
        postings = blocks[POSTINGS, b]
        # A block's postings counted from the bytes: checked before any size is read.
        if postings < 0 or postings > sizes.shape[0] - at:
            return _SIZES_MISMATCH, starts
        start = blocks[VALUES_AT, b] - shift
        for i in range(at, at + postings):
            starts[i] = start
            start += sizes[i]
        at += postings
        if start != blocks[VALUES_END, b] - shift:
            return _SIZES_MISMATCH, starts
    if at != sizes.shape[0]:
        return _SIZES_MISMATCH, starts
    return 0, starts


@compiled.warms_up
def _starts_examples() -> None:
    """Find the values' starts of two tiny blocks, whole and a column slice of a directory
    (as the readers pass them), so that the specialisation they call is compiled."""
    blocks = np.zeros((DIRECTORY_ROWS, 3), dtype=np.int64)
    blocks[POSTINGS] = [1, 2, 1]
    blocks[VALUES_AT] = [0, 4, 9]
    blocks[VALUES_END] = [4, 9, 12]
    for columns in (blocks, blocks[:, 1:]):
        value_starts(columns, np.array([4, 2, 3, 3])[-int(columns[POSTINGS].sum()):], 2)
