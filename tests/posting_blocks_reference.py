"""The numpy code that ``indexer.posting_blocks``' compiled kernels replaced, kept as their
reference: reading terms' directories (plain ints for terms of few blocks) and decoding their
blocks (a pass over whole arrays per step: gather, shift, mask, cumulative sum). The tests
require the same numbers from both."""

from __future__ import annotations

import operator
import struct
from typing import Final

import numpy as np

from indexer.posting_blocks import (
    BLOCK,
    DIRECTORY_ROWS,
    FLOATS,
    FLOOR,
    HEAD_SIZE,
    HEAVIEST,
    ID_BITS,
    LAST,
    LIGHTEST,
    PACKED_AT,
    PACKED_END,
    POSTINGS,
    SIZE_BITS,
    SIZES_AT,
    TAG,
    VALUES_AT,
    VALUES_END,
    WEIGHT_BITS,
    WEIGHT_FLOATS,
    WEIGHTS_AT,
    CorruptPostings,
)

_PAD: Final = 8
_HEAD = struct.Struct("<4sII")  # tag, block count, CRC-32 of the rest of the term
_STEPS = np.arange(256, dtype=np.int64)  # a block's posting indexes, as a view
_MASKS = np.array([(1 << k) - 1 for k in range(64)], dtype=np.uint64)


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
