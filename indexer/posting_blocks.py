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

A block's packed bytes follow from its record, so a term's directory is one ``np.frombuffer``
and any run of blocks, of one term or of many, decodes in a fixed number of numpy calls
(``decode_blocks``: each number is read from a 64-bit word at its byte, shifted and masked).
Nothing is compressed (zlib only gives the checksum): zlib saved little on these streams and
cost most of a block's decoding (``docs/whoosh.md``). Both writers (the bulk writer's
``FieldTermsWriter`` and Whoosh's postings writer through ``ArchiveCodec``) write through
``encode_terms``, so their bytes are the same by construction (and compared by the tests).
"""

from __future__ import annotations

import math
import operator
import struct
import zlib
from itertools import accumulate
from typing import Final, NamedTuple

import numpy as np

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
_STEPS = np.arange(256, dtype=np.int64)  # a block's posting indexes, as a view
_WHOLE_LIMIT = float(1 << 24)  # whole 32-bit floats below this are exact as integers
_POWERS = np.array([1 << k for k in range(64)], dtype=np.uint64)
_MASKS = np.array([(1 << k) - 1 for k in range(64)], dtype=np.uint64)
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
    view = raw.data if isinstance(raw, np.ndarray) else memoryview(raw)
    counts: list[int] = []
    parts: list[memoryview] = []  # the records' bytes (joined: numpy's concatenation of
    unpack = _HEAD.unpack_from    # record arrays costs a dtype promotion per call)
    size = BLOCK.itemsize
    try:
        for offset in offsets:
            tag, count, _ = unpack(view, offset)
            if tag != TAG:
                raise CorruptPostings(f"postings start with {bytes(tag)!r}, not {TAG!r}")
            if count == 0:
                raise CorruptPostings("a term's postings have no block")
            counts.append(count)
            parts.append(view[offset + HEAD_SIZE:offset + HEAD_SIZE + count * size])
        records = np.frombuffer(parts[0] if len(parts) == 1 else b"".join(parts),
                                dtype=BLOCK)
    except (struct.error, ValueError) as exc:
        if isinstance(exc, CorruptPostings):
            raise
        raise CorruptPostings(f"a term's directory is cut off ({exc})") from None
    if len(records) != sum(counts):
        raise CorruptPostings("a term's directory is cut off")
    if len(parts) == 1 and counts[0] == 1:
        return _one_block(records[0].item(), offsets[0], lengths[0]), np.ones(1, np.int64)
    if len(parts) == 1 and counts[0] <= FEW_BLOCKS:
        return (_few_blocks(parts[0], counts[0], offsets[0], lengths[0]),
                np.array(counts, dtype=np.int64))
    blocks = np.array(counts, dtype=np.int64)
    found = np.empty((DIRECTORY_ROWS, len(records)), dtype=np.int64)
    found[LAST] = records["last"]
    postings = found[POSTINGS]
    postings[:] = records["postings"]
    widths = found[ID_BITS:SIZE_BITS + 1]  # the three streams' widths, in their order
    widths[0] = records["id_bits"]
    widths[1] = records["weight_bits"]
    widths[2] = records["size_bits"]
    found[LIGHTEST] = records["lightest"].astype(np.float64).view(np.int64)
    found[HEAVIEST] = records["heaviest"].astype(np.float64).view(np.int64)
    floats = widths[1] == WEIGHT_FLOATS
    found[FLOATS] = floats
    widths[1][floats] = 32
    if int(postings.min()) < 1 or int(widths.max()) > 32:
        raise CorruptPostings("a block's record has impossible counts or widths")
    # Each stream's bytes, block after block and stream after stream: one cumulative sum
    # gives where each ends.
    stream_bytes = ((widths * postings + 7) // 8).T
    ends = np.cumsum(stream_bytes).reshape(stream_bytes.shape)
    firsts = np.cumsum(blocks) - blocks
    lasts = firsts + blocks - 1
    starts = np.asarray(offsets, dtype=np.int64) + HEAD_SIZE + blocks * BLOCK.itemsize
    if len(blocks) == 1:
        shift: np.ndarray | int = int(starts[0])
    else:
        before = np.concatenate(([0], ends[:, 2]))[firsts]
        shift = np.repeat(starts - before, blocks)
    found[PACKED_AT] = ends[:, 0] - stream_bytes[:, 0] + shift
    found[WEIGHTS_AT] = ends[:, 0] + shift
    found[SIZES_AT] = ends[:, 1] + shift
    packed_end = found[PACKED_END]
    packed_end[:] = ends[:, 2] + shift
    values_base = packed_end[lasts]
    values_end = found[VALUES_END]
    values_end[:] = records["values_end"]
    values_end += np.repeat(values_base, blocks) if len(blocks) > 1 else values_base[0]
    values_at = found[VALUES_AT]
    values_at[1:] = values_end[:-1]
    values_at[firsts] = values_base
    floor = found[FLOOR]
    floor[1:] = found[LAST][:-1]
    floor[firsts] = -1
    ends_of_terms = np.asarray(offsets, dtype=np.int64) + np.asarray(lengths, dtype=np.int64)
    if (not bool((values_end[lasts] == ends_of_terms).all())
            or bool((values_at > values_end).any()) or bool((found[LAST] <= floor).any())):
        raise CorruptPostings("a term's directory does not describe its postings")
    return found, blocks


# A term of at most this many blocks has its directory read with plain ints
# (``_few_blocks``): numpy's fixed cost, some 35 us a term of a few blocks, is most of it.
FEW_BLOCKS: Final = 16
_FEW_RECORDS: dict[int, struct.Struct] = {}


def _few_blocks(records: memoryview, count: int, offset: int, length: int) -> np.ndarray:
    """``read_directories`` of one term of COUNT blocks (2 to ``FEW_BLOCKS``; RECORDS: their
    ``BLOCK`` records' bytes), with plain ints: the same directory, the same checks (a
    term's first read, a few a search in the snippets of a prefix's words, costs numpy's
    forty calls otherwise)."""
    compiled = _FEW_RECORDS.get(count)
    if compiled is None:
        compiled = _FEW_RECORDS[count] = struct.Struct("<" + "IBBBBBBffI" * count)
    numbers = compiled.unpack_from(records)
    width = 10  # a record's numbers (``BLOCK``'s fields)
    rows: list[list[int]] = [[] for _ in range(DIRECTORY_ROWS)]
    lights: list[float] = []
    heavies: list[float] = []
    for at in range(0, count * width, width):
        (last, postings, id_bits, weight_bits, size_bits, _, _, heaviest, lightest,
         values_end) = numbers[at:at + width]
        floats = weight_bits == WEIGHT_FLOATS
        rows[LAST].append(last)
        rows[POSTINGS].append(postings)
        rows[ID_BITS].append(id_bits)
        rows[WEIGHT_BITS].append(32 if floats else weight_bits)
        rows[SIZE_BITS].append(size_bits)
        rows[FLOATS].append(int(floats))
        rows[VALUES_END].append(values_end)
        lights.append(lightest)
        heavies.append(heaviest)
    if min(rows[POSTINGS]) < 1 or max(*rows[ID_BITS], *rows[WEIGHT_BITS],
                                      *rows[SIZE_BITS]) > 32:
        raise CorruptPostings("a block's record has impossible counts or widths")
    # Each stream's bytes, block after block and stream after stream, from the records' end.
    at = offset + HEAD_SIZE + count * BLOCK.itemsize
    for postings, id_bits, weight_bits, size_bits in zip(
            rows[POSTINGS], rows[ID_BITS], rows[WEIGHT_BITS], rows[SIZE_BITS], strict=True):
        rows[PACKED_AT].append(at)
        at += (id_bits * postings + 7) // 8
        rows[WEIGHTS_AT].append(at)
        at += (weight_bits * postings + 7) // 8
        rows[SIZES_AT].append(at)
        at += (size_bits * postings + 7) // 8
        rows[PACKED_END].append(at)
    values_end_row = rows[VALUES_END] = [at + end for end in rows[VALUES_END]]
    rows[VALUES_AT] = [at, *values_end_row[:-1]]
    rows[FLOOR] = [-1, *rows[LAST][:-1]]
    if (values_end_row[-1] != offset + length
            or any(map(operator.gt, rows[VALUES_AT], values_end_row))
            or any(map(operator.le, rows[LAST], rows[FLOOR]))):
        raise CorruptPostings("a term's directory does not describe its postings")
    rows[LIGHTEST] = rows[HEAVIEST] = [0] * count  # the floats' bits, set below
    found = np.array(rows, dtype=np.int64)
    found[LIGHTEST] = np.array(lights, dtype=np.float64).view(np.int64)
    found[HEAVIEST] = np.array(heavies, dtype=np.float64).view(np.int64)
    return found


def _one_block(record: tuple[int, ...], offset: int, length: int) -> np.ndarray:
    """``read_directories`` of one term of one block (RECORD: its ``BLOCK`` values), with
    plain ints: the many short terms are read one by one."""
    last, postings, id_bits, weight_bits, size_bits, _, _, heaviest, lightest, values_end = record
    floats = weight_bits == WEIGHT_FLOATS
    if floats:
        weight_bits = 32
    if not 1 <= postings or max(id_bits, weight_bits, size_bits) > 32:
        raise CorruptPostings("a block's record has impossible counts or widths")
    packed_at = offset + HEAD_SIZE + BLOCK.itemsize
    weights_at = packed_at + (postings * id_bits + 7) // 8
    sizes_at = weights_at + (postings * weight_bits + 7) // 8
    packed_end = sizes_at + (postings * size_bits + 7) // 8
    if packed_end + values_end != offset + length or last < 0:
        raise CorruptPostings("a term's directory does not describe its postings")
    bits = np.array([lightest, heaviest], dtype=np.float64).view(np.int64)
    return np.array([last, -1, postings, id_bits, weight_bits, size_bits, int(floats), bits[0],
                     packed_at, weights_at, sizes_at, packed_end, packed_end,
                     packed_end + values_end, bits[1]],
                    dtype=np.int64).reshape(DIRECTORY_ROWS, 1)


def decode_blocks(buffer: np.ndarray, blocks: np.ndarray, shift: int,
                  sizes: bool = False, weighed: bool = True,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return (documents, weights, values' sizes or None) of every posting of BLOCKS (columns
    of directories, their packed bytes in ascending order), in order, from BUFFER (uint8),
    where a block's packed bytes start at its ``PACKED_AT`` minus SHIFT. BUFFER holds
    ``padding()`` bytes past the last packed byte. Without WEIGHED, the weights are not
    decoded (an empty array; ``weights_at`` reads those of chosen postings). Raises
    CorruptPostings when the bytes do not match the records."""
    count = blocks.shape[1]
    if not count:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=np.float64), empty.copy() if sizes else None
    if (int(blocks[PACKED_AT, 0]) < shift
            or int(blocks[PACKED_END, -1]) - shift + _PAD > len(buffer)):
        raise CorruptPostings("a block's packed bytes lie outside the bytes read")
    if count == 1:
        words = np.ndarray((len(buffer) - _PAD + 1,), dtype="<u8", buffer=buffer,
                           strides=(1,))
        return _decode_block(words, blocks[:, 0].tolist(), shift, sizes)
    postings = blocks[POSTINGS]
    if int(postings.min()) < 1:
        raise CorruptPostings("a block without postings")
    total = int(postings.sum())
    firsts = np.cumsum(postings) - postings
    steps = _steps(total, len(buffer))
    found = _unpacked(buffer, blocks[PACKED_AT] - shift, blocks[ID_BITS], postings, firsts,
                      steps, narrow=True)
    # Each document is the one before plus its gap plus one, and a block's first counts on
    # from the block before's recorded last document: its first gap is moved by the block's
    # floor less that last (0 within a term, whose blocks' floors are the lasts before), so
    # that one cumulative sum in place gives every document. Each block's last is checked
    # against its record, so a damaged block is refused as when each block summed alone.
    # The gaps are below 2**32: converted and counted on by one in one pass.
    ids = np.add(found, 1, dtype=np.int64, casting="unsafe")
    lasts = blocks[LAST]
    moved = blocks[FLOOR].copy()
    moved[1:] -= lasts[:-1]
    ids[firsts] += moved
    np.cumsum(ids, out=ids)
    if not bool((ids[firsts + postings - 1] == lasts).all()):
        raise CorruptPostings("a block's documents do not end at its last document")
    if not weighed:
        return ids, np.zeros(0, dtype=np.float64), None
    raw = _unpacked(buffer, blocks[WEIGHTS_AT] - shift, blocks[WEIGHT_BITS], postings,
                    firsts, steps)
    lightest = np.ascontiguousarray(blocks[LIGHTEST]).view(np.float64)
    if bool((lightest == lightest[0]).all()):  # mostly 1.0 (counts of occurrences)
        weights = raw + float(lightest[0])
    else:
        weights = np.repeat(lightest, postings) + raw
    floats = blocks[FLOATS]
    if floats.any():
        chosen = np.repeat(floats.astype(bool), postings)
        weights[chosen] = raw[chosen].astype(np.uint32).view(np.float32)
    found_sizes = _unpacked(buffer, blocks[SIZES_AT] - shift, blocks[SIZE_BITS], postings,
                            firsts, steps) if sizes else None
    return ids, weights, found_sizes


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
    without decoding their blocks' other weights."""
    if not len(steps):
        return np.zeros(0, dtype=np.float64)
    if (int(blocks[WEIGHTS_AT].min()) < shift
            or int(blocks[PACKED_END].max()) - shift + _PAD > len(buffer)):
        raise CorruptPostings("a block's packed bytes lie outside the bytes read")
    words = np.ndarray((len(buffer) - _PAD + 1,), dtype="<u8", buffer=buffer, strides=(1,))
    widths = blocks[WEIGHT_BITS][block]
    place = ((blocks[WEIGHTS_AT][block] - shift) * 8 + steps * widths).astype(np.uint64)
    # Indexed, not taken: ``take`` copies the strided words whole first, a cost per call of
    # the bytes read rather than of the few postings chosen.
    raw = words[(place >> np.uint64(3)).view(np.intp)]
    raw >>= place & np.uint64(7)
    raw &= _MASKS[widths]
    found = raw.view(np.int64)
    lightest = np.ascontiguousarray(blocks[LIGHTEST]).view(np.float64)
    weights: np.ndarray = found + lightest[block]
    floats = blocks[FLOATS]
    if floats.any():
        chosen = floats[block].astype(bool)
        weights[chosen] = found[chosen].astype(np.uint32).view(np.float32)
    return weights


def decode_value_sizes(buffer: np.ndarray, blocks: np.ndarray, shift: int) -> np.ndarray:
    """Return the values' sizes of every posting of BLOCKS (as ``decode_blocks`` with SIZES),
    without decoding their documents and weights: a reader holding a term's documents
    already needs no more to find each posting's value. Raises CorruptPostings as
    ``decode_blocks`` does for bytes outside those read or a block without postings."""
    count = blocks.shape[1]
    if not count:
        return np.zeros(0, dtype=np.int64)
    if (int(blocks[PACKED_AT, 0]) < shift
            or int(blocks[PACKED_END, -1]) - shift + _PAD > len(buffer)):
        raise CorruptPostings("a block's packed bytes lie outside the bytes read")
    postings = blocks[POSTINGS]
    if int(postings.min()) < 1:
        raise CorruptPostings("a block without postings")
    total = int(postings.sum())
    return _unpacked(buffer, blocks[SIZES_AT] - shift, blocks[SIZE_BITS], postings,
                     np.cumsum(postings) - postings, _steps(total, len(buffer)))


def _decode_block(words: np.ndarray, block: tuple[int, ...], shift: int, sizes: bool,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``decode_blocks`` of one block (BLOCK: its directory column as ints): the same numbers
    with its widths as plain ints, in fewer numpy calls."""
    (last, floor, postings, id_bits, weight_bits, size_bits, floats, lightest_bits, packed_at,
     weights_at, sizes_at, _, _, _, _) = block
    lightest = float(np.array([lightest_bits], dtype=np.int64).view(np.float64)[0])
    steps = _STEPS[:postings]
    if id_bits:
        ids = np.cumsum(_unpacked_one(words, packed_at - shift, id_bits, steps) + 1) + floor
    else:
        ids = steps + (floor + 1)
    if int(ids[-1]) != last:
        raise CorruptPostings("a block's documents do not end at its last document")
    if floats:
        raw = _unpacked_one(words, weights_at - shift, 32, steps)
        weights = raw.astype(np.uint32).view(np.float32).astype(np.float64)
    elif weight_bits:
        weights = _unpacked_one(words, weights_at - shift, weight_bits, steps) + lightest
    else:
        weights = np.full(postings, lightest, dtype=np.float64)
    found_sizes = None
    if sizes:
        found_sizes = _unpacked_one(words, sizes_at - shift, size_bits, steps) if size_bits \
            else np.zeros(postings, dtype=np.int64)
    return ids, weights, found_sizes


def _unpacked_one(words: np.ndarray, at: int, width: int, steps: np.ndarray) -> np.ndarray:
    """The numbers of one block's stream from byte AT, WIDTH bits each, one per STEPS."""
    place = steps * width + at * 8
    found: np.ndarray = (words[place >> 3] >> (place & 7).astype(np.uint64)) & _MASKS[width]
    return found.astype(np.int64)


def _unpacked(buffer: np.ndarray, starts: np.ndarray, widths: np.ndarray,
              postings: np.ndarray, firsts: np.ndarray, steps: np.ndarray,
              narrow: bool = False) -> np.ndarray:
    """The numbers of a stream per block: block B's from byte STARTS[B] of BUFFER on,
    WIDTHS[B] bits each, POSTINGS[B] of them (FIRSTS[B]: its first number's index in STEPS,
    all numbers' indexes, unsigned: ``_steps``). As int64, or with NARROW in the unsigned
    type they were gathered in (16, 32 or 64 bits)."""
    if not widths.any():
        return np.zeros(len(steps), dtype=np.int64)
    # Bit places in STEPS' type (32 bits when BUFFER's are fewer than 2**32; a block's base
    # may be negative: it wraps, and adding its steps wraps back), so that no pass converts
    # them for the shifts.
    kind_of_place = steps.dtype.type
    width = int(widths[0])
    bases = (starts * 8 - firsts * widths).astype(kind_of_place)
    place = np.repeat(bases, postings)
    uniform = bool((widths == width).all())  # one width for every block: scalars, no repeat
    if uniform:
        place += steps * kind_of_place(width)
    else:
        place += steps * np.repeat(widths.astype(kind_of_place), postings)
    found = _gathered(buffer, place, int(widths.max()))
    kind = found.dtype.type
    # The shifts and masks made in the gathered words' type before any full-length pass (a
    # place's low three bits survive the narrowing), not converted after it.
    place &= kind_of_place(7)
    found >>= place if kind is kind_of_place else place.astype(kind)
    found &= kind(_MASKS[width]) if uniform else np.repeat(_MASKS[widths].astype(kind),
                                                            postings)
    if narrow:
        return found
    # The numbers are below 2**32: as uint64, their int64 view is their value.
    return found.view(np.int64) if kind is np.uint64 else found.astype(np.int64)


def _steps(count: int, size: int) -> np.ndarray:
    """0 to COUNT - 1 as bit places' type for a buffer of SIZE bytes: uint32 when its bits
    are fewer than 2**32 (half the bytes of every pass that makes the places), else uint64;
    up to ``_KEPT_STEPS`` of them a view of numbers kept from call to call, not made again."""
    kind = np.uint32 if size < 1 << 29 else np.uint64
    if count > _KEPT_STEPS:
        return np.arange(count, dtype=kind)
    kept = _STEPS_KEPT.get(kind)
    if kept is None:
        kept = _STEPS_KEPT[kind] = np.arange(_KEPT_STEPS, dtype=kind)
    return kept[:count]


# 0, 1, 2... per type, kept for the runs of postings decoded at once up to this many (2 MB
# as uint32: a worker's memory is counted; a large prefix decodes some 100,000 a segment).
_KEPT_STEPS: Final = 1 << 19
_STEPS_KEPT: dict[type, np.ndarray] = {}


def _gathered(buffer: np.ndarray, place: np.ndarray, widest: int) -> np.ndarray:
    """The unsigned words at the bytes of the bit places PLACE (uint64) of BUFFER, of 16 bits
    when every number (WIDEST bits at most, from up to 7 bits into its first byte) lies in
    two bytes, of 32 when in four, else of 64.

    ``take`` in clip mode with machine-sized indexes: half the time of indexing by uint64
    (which converts and checks every index); from a 16-bit view of the bytes, half the time
    again of a 64-bit one (0.12 against 0.24 ms for 75,000 numbers; most streams' widths are
    below 10 bits). The places lie within BUFFER's words: ``decode_blocks`` checks that its
    blocks' packed bytes lie within the bytes read (``_PAD`` bytes past them), and
    ``read_directories`` that each stream ends where its widths and counts say."""
    size = 2 if widest <= 9 else 4 if widest <= 25 else 8
    words = np.ndarray((len(buffer) - size + 1,), dtype=f"<u{size}", buffer=buffer,
                       strides=(1,))
    found: np.ndarray = words.take(np.right_shift(place, 3, dtype=np.intp), mode="clip")
    return found


def value_starts(blocks: np.ndarray, sizes: np.ndarray, shift: int) -> np.ndarray:
    """Return where each posting's value starts, from BLOCKS' ``VALUES_AT`` minus SHIFT and
    the postings' SIZES (``decode_blocks``); raises CorruptPostings when a block's sizes do not
    add up to its values."""
    postings = blocks[POSTINGS]
    ends = np.cumsum(sizes)
    firsts = np.cumsum(postings) - postings
    summed = np.concatenate(([0], ends))
    before = summed[firsts]
    totals = summed[firsts + postings] - before
    if not bool((totals == blocks[VALUES_END] - blocks[VALUES_AT]).all()):
        raise CorruptPostings("a block's value sizes do not add up to its values")
    starts: np.ndarray = (ends - sizes) + np.repeat(blocks[VALUES_AT] - shift - before,
                                                    postings)
    return starts
