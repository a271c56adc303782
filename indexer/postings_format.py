"""The index's own position and character-offset format, compact and readable with numpy.

Whoosh's ``Positions`` and ``Characters`` formats store each posting's value as a 4-byte
count and a protocol-2 pickle of a list of deltas ((position, start, length) tuples for
characters), and its W3 codec pickles a block's values with protocol 2, each one as a
``_codecs.encode`` call: positions were most of the index and reading them meant unpickling.

Here a value is a run of LEB128 varints (seven bits a byte, low bits first, the high bit set
on every byte but a number's last):

- ``CompactPositions``: each position's distance from the one before (the first from 0);
- ``CompactCharacters``: per occurrence three numbers: the position's distance from the one
  before, the start character's distance from the previous occurrence's end character
  (zigzag-coded: 2n for n >= 0, -2n - 1 below), and the occurrence's length in characters.

A value holds as many numbers as occurrences (three times as many for characters): the
number of bytes below 128 counts them. Whoosh's own matchers read these values through the
formats' ``decode_*`` methods, so its phrases, highlighting and merges work unchanged.

A term's values are written joined, after its blocks' packed numbers
(``indexer.posting_blocks``): the fast readers decode those of the documents they want
straight into position keys with a compiled kernel (``values_keys``), and Whoosh's matchers
read each one through the formats' ``decode_*`` methods.

The index's TOC pickles the schema with these classes: they must keep their names and module
(moving them requires a full rebuild). ``PackedValues`` is how the blocks of an index written
before ``indexer.posting_blocks`` (``SCHEMA_VERSION`` 6) held their values: it stays so that
such an index reads correctly through Whoosh's matchers until its rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from operator import sub
from typing import Any, overload

import numpy as np
from whoosh.formats import Characters, Positions

from indexer import compiled

__all__ = [
    "COMPACT_FORMATS",
    "CompactCharacters",
    "CompactPositions",
    "PackedValues",
    "characters_values",
    "compact_format",
    "decode_varints",
    "encode_varints",
    "encode_varints_array",
    "position_values",
    "read_varints",
    "values_keys",
]

_HIGH = 0x80
_LOW = 0x7F


def encode_varints(numbers: Iterable[int]) -> bytes:
    """Return NUMBERS (whole numbers >= 0) as LEB128 varints.

    Raises ValueError for a negative number.
    """
    out = bytearray()
    append = out.append
    for number in numbers:
        if number < 0:
            raise ValueError(f"a varint cannot hold a negative number ({number})")
        while number >= _HIGH:
            append((number & _LOW) | _HIGH)
            number >>= 7
        append(number)
    return bytes(out)


def read_varints(data: bytes) -> list[int]:
    """Return the numbers of DATA (LEB128 varints); raises ValueError when one is cut off."""
    if data.isascii():  # every number below 128: one byte each
        return list(data)
    numbers: list[int] = []
    number = shift = 0
    for byte in data:
        number |= (byte & _LOW) << shift
        if byte & _HIGH:
            shift += 7
        else:
            numbers.append(number)
            number = shift = 0
    if shift:
        raise ValueError("the last varint is cut off")
    return numbers


def decode_varints(data: np.ndarray) -> np.ndarray:
    """Return the numbers of DATA (uint8, LEB128 varints) as int64, with numpy.

    Raises ValueError when the last number is cut off or one is longer than 9 bytes.
    """
    data = np.asarray(data, dtype=np.uint8)
    high = data >= _HIGH
    numbers: np.ndarray = _numbers(data, high, np.flatnonzero(~high))
    return numbers


def values_keys(wanted: np.ndarray, ids: np.ndarray, data: np.ndarray, starts: np.ndarray,
                sizes: np.ndarray, span: int, every: int = 1,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Return, for the documents of WANTED (ascending) that IDS (a term's documents,
    ascending) holds: their indexes into WANTED, how many positions each one's value holds,
    and one key per position, its document's index into WANTED times SPAN plus the position;
    and whether the keys ascend strictly (they do unless a value repeats a position).

    Document I's value is DATA[STARTS[I]:STARTS[I] + SIZES[I]] (uint8 LEB128 varints, each a
    position's distance from the one before; with EVERY=3, ``CompactCharacters``' triples,
    of which the first is that distance). Decoded in one compiled pass over the bytes of the
    documents wanted alone (``_keys_of_values``): no gathered copy of their values, no array
    of numbers nor of counts in between, where numpy took ten passes over arrays
    (docs/whoosh.md, "Positions decoded and compared by compiled kernels"). Raises
    ValueError when a value lies past the data, its last varint is cut off, a varint is
    longer than 9 bytes, or a character value is not made of triples.
    """
    chosen, counts, keys, status = _keys_of_values(
        _int64s(wanted), _int64s(ids), np.ascontiguousarray(data, dtype=np.uint8),
        _int64s(starts), _int64s(sizes), np.int64(span), np.int64(every))
    if status < 0:
        raise ValueError(_VALUE_ERRORS[int(status)])
    return chosen, counts, keys, status == 0


def near_in_values(first: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                   second: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                   distance: int) -> np.ndarray:
    """Return the documents (ascending) that both words hold, each word's (IDS, DATA,
    STARTS, SIZES) as ``values_keys`` takes them, with an occurrence of one at most DISTANCE
    positions from an occurrence of the other (``CompactPositions`` values only).

    One compiled pass (``_near_of_values``) over the two words' values: for each
    document of both, the two values' varints are decoded as they are compared, the lesser
    position moved on, and the rest of the document skipped at the first pair near enough,
    where ``values_keys`` decoded every occurrence of both into keys that a merge then
    compared (4.4 -> 2.5 ms for « avec » and « tout » in one segment of 87,500 articles).
    Every value's bounds are checked before it is read, and a varint cut off at a value's end
    or longer than 9 bytes is refused (ValueError); bytes past a document's first near pair
    are not read, so not checked.
    """
    found, status = _near_of_values(
        _int64s(first[0]), _int64s(first[2]), _int64s(first[3]), _bytes(first[1]),
        _int64s(second[0]), _int64s(second[2]), _int64s(second[3]), _bytes(second[1]),
        np.int64(distance))
    if status < 0:
        raise ValueError(_VALUE_ERRORS[int(status)])
    return found


@compiled.kernel
def _near_of_values(ids_a: np.ndarray, starts_a: np.ndarray, sizes_a: np.ndarray,
                    data_a: np.ndarray, ids_b: np.ndarray, starts_b: np.ndarray,
                    sizes_b: np.ndarray, data_b: np.ndarray,
                    distance: np.int64) -> tuple[np.ndarray, int]:
    """``near_in_values``' kernel: (the documents found, 0 or a key of ``_VALUE_ERRORS``)."""
    found = np.empty(min(ids_a.shape[0], ids_b.shape[0]), np.int64)
    count = 0
    i = 0
    j = 0
    while i < ids_a.shape[0] and j < ids_b.shape[0]:
        document = ids_a[i]
        if document != ids_b[j]:
            i += document < ids_b[j]
            j += ids_b[j] < document
            continue
        # The word moving on (its next byte, its value's end, its position), and the other.
        at, end, position = starts_a[i], starts_a[i] + sizes_a[i], 0
        other_at, other_end, other_position = starts_b[j], starts_b[j] + sizes_b[j], 0
        i += 1
        j += 1
        if not (0 <= at <= end <= data_a.shape[0]
                and 0 <= other_at <= other_end <= data_b.shape[0]):
            return found[:0], -2
        on_a = True  # which word moves on: the first word's first position is read first
        first = True  # the first word's first position read, not the second's yet
        while at < end:
            if on_a:
                number, at, status = varint_at(data_a, at, end)
            else:
                number, at, status = varint_at(data_b, at, end)
            if status < 0:
                return found[:0], status
            position += number
            if not first and -distance <= position - other_position <= distance:
                found[count] = document
                count += 1
                break
            if first or position > other_position:  # the lesser position moves on
                at, end, position, other_at, other_end, other_position = (
                    other_at, other_end, other_position, at, end, position)
                on_a = not on_a
            first = False
    return found[:count], 0


@compiled.warms_up
def _warm_near_in_values() -> None:
    """Compile or load ``_near_of_values`` for each word's values read from a file's bytes
    (read only) or decoded (writable)."""
    data = np.frombuffer(bytes([3, 130, 1, 4]), dtype=np.uint8)
    ids = np.array([0, 1], dtype=np.int64)
    starts, sizes = np.array([0, 1], dtype=np.int64), np.array([1, 3], dtype=np.int64)
    for first in (data, data.copy()):
        for second in (data, data.copy()):
            near_in_values((ids, first, starts, sizes), (ids, second, starts, sizes), 5)


@compiled.helper
def varint_at(data: np.ndarray, at: np.int64, end: np.int64) -> tuple[int, np.int64, int]:
    """The LEB128 varint of DATA starting at AT and ending before END (a value's end, at most
    DATA's length): (its number, where the next one starts, 0), or (0, where the reading
    stopped, a key of ``_VALUE_ERRORS``) when it is cut off at END or longer than 9 bytes.
    Kernels call it."""
    number = 0
    shift = 0
    byte = 0x80
    while byte >= 0x80:
        if at >= end or shift == 63:
            return 0, at, -1 if shift < 63 else -3
        byte = int(data[at])
        at += 1
        number |= (byte & 0x7F) << shift
        shift += 7
    return number, at, 0


@compiled.helper
def matched_places(wanted: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of two ascending lists of documents, the indexes into WANTED and into IDS of the
    documents both hold, by one merge without a branch to mispredict (each step writes its
    pair and keeps it when the documents are equal: the pairs kept are at most
    min(I, J) < the shorter length). Kernels call it."""
    few = min(wanted.shape[0], ids.shape[0])
    chosen = np.empty(few, np.int64)
    places = np.empty(few, np.int64)
    found = 0
    i = 0
    j = 0
    while i < wanted.shape[0] and j < ids.shape[0]:
        document = wanted[i]
        held = ids[j]
        chosen[found] = i
        places[found] = j
        found += document == held
        i += document <= held
        j += held <= document
    return chosen[:found], places[:found]


_VALUE_ERRORS = {
    -1: "a value's last varint is cut off",
    -2: "a value lies past the data",
    -3: "a varint is longer than 9 bytes",
    -4: "a character value is not made of triples",
}


def _int64s(numbers: np.ndarray) -> np.ndarray:
    """NUMBERS as a contiguous int64 array (itself when it is one): the kernels' one type."""
    return np.ascontiguousarray(numbers, dtype=np.int64)


def _bytes(data: np.ndarray) -> np.ndarray:
    """DATA as a contiguous uint8 array (itself when it is one, read only or not)."""
    return np.ascontiguousarray(data, dtype=np.uint8)


@compiled.kernel
def _keys_of_values(wanted: np.ndarray, ids: np.ndarray, data: np.ndarray,
                    starts: np.ndarray, sizes: np.ndarray, span: np.int64, every: np.int64,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``values_keys``' kernel; its status: 0, 1 when the keys do not ascend strictly, or a
    key of ``_VALUE_ERRORS``."""
    chosen, places = matched_places(wanted, ids)  # both ascend: merged, not looked up
    found = chosen.shape[0]
    room = 0  # positions at most: one a byte (a third of the bytes for characters, rounded up)
    for k in range(found):
        start = starts[places[k]]
        size = sizes[places[k]]
        if start < 0 or size < 0 or start + size > data.shape[0]:
            return chosen[:0], chosen[:0], chosen[:0], -2
        room += (size + every - 1) // every
    counts = np.empty(found, np.int64)
    keys = np.empty(room, np.int64)
    written = 0
    status = 0
    for k in range(found):
        at = starts[places[k]]
        end = at + sizes[places[k]]
        key = chosen[k] * span
        before = written
        number = 0
        shift = 0
        part = 0  # which number of a triple (characters); always 0 for positions
        while at < end:
            byte = int(data[at])
            at += 1
            if shift == 63:
                return chosen[:0], chosen[:0], chosen[:0], -3
            number |= (byte & 0x7F) << shift
            if byte & 0x80:
                shift += 7
                continue
            if part == 0:
                key += number
                if written and key <= keys[written - 1]:
                    status = 1
                keys[written] = key
                written += 1
            part += 1
            if part == every:
                part = 0
            number = 0
            shift = 0
        if shift:
            return chosen[:0], chosen[:0], chosen[:0], -1
        if part:
            return chosen[:0], chosen[:0], chosen[:0], -4
        counts[k] = written - before
    return chosen, counts, keys[:written], status


@compiled.warms_up
def _warm_values_keys() -> None:
    """Compile or load ``_keys_of_values`` for the types its callers pass (data read from a
    file's bytes is read-only: a type of its own for numba)."""
    data = np.frombuffer(bytes([3, 130, 1]), dtype=np.uint8)
    starts, sizes = np.array([0, 1], dtype=np.int64), np.array([1, 2], dtype=np.int64)
    ids = np.array([0, 1], dtype=np.int64)
    for values in (data, data.copy()):
        values_keys(ids, ids, values, starts, sizes, 1 << 32)


def _numbers(data: np.ndarray, high: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``decode_varints`` of DATA, given which bytes have their HIGH bit set and where each
    number ENDS (the bytes without it)."""
    numbers: np.ndarray
    if len(ends) == len(data):
        numbers = data.astype(np.int64)
        return numbers
    if not len(ends) or int(ends[-1]) != len(data) - 1:
        raise ValueError("the last varint is cut off")
    # Each number starts as its last byte, and the numbers of more bytes (a third of the
    # bytes of positions, most of them two-byte numbers) take one byte more from the end at
    # each step, as in Horner's rule: a few passes over ever fewer numbers, where a pass
    # over every byte with its shift cost three times as much. ``high[-1]`` is False (the
    # data's last byte ends a number), so the byte "before" the first reads as an end.
    numbers = data[ends].astype(np.int64)
    longer = np.flatnonzero(high[ends - 1])
    at = ends[longer] - 1
    for _ in range(8):
        numbers[longer] = (numbers[longer] << 7) | (data[at] & _LOW)
        at -= 1
        more = high[at]
        if not more.any():
            return numbers
        longer = longer[more]
        at = at[more]
    raise ValueError("a varint is longer than 9 bytes")


def encode_varints_array(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return NUMBERS (whole numbers >= 0, below 2**63) as LEB128 varints with numpy: (the
    bytes, uint8, and how many bytes each number took). Raises ValueError for a negative."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) and int(numbers.min()) < 0:
        raise ValueError("a varint cannot hold a negative number")
    sizes = np.ones(len(numbers), dtype=np.int64)
    for bits in range(7, 63, 7):
        longer = numbers >= (1 << bits)
        if not longer.any():
            break
        sizes += longer
    else:
        bits = 63
    if bits == 7:  # every number below 128: one byte each
        return numbers.astype(np.uint8), sizes
    firsts = np.cumsum(sizes) - sizes
    owners = np.repeat(np.arange(len(numbers)), sizes)
    places = np.arange(int(sizes.sum()), dtype=np.int64) - firsts[owners]
    data = ((numbers[owners] >> (7 * places)) & _LOW).astype(np.uint8)
    data[places < sizes[owners] - 1] |= _HIGH
    return data, sizes


def position_values(positions: np.ndarray, counts: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Return the ``CompactPositions`` values of several postings at once: POSITIONS holds
    each posting's positions (ascending) one posting after the other, COUNTS how many each
    has. Returns (the values joined, each value's size): the same bytes as ``encode`` per
    posting. Raises ValueError when a posting's positions decrease."""
    positions = np.asarray(positions, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    deltas = _restarted_deltas(positions, counts)
    if len(deltas) and int(deltas.min()) < 0:
        raise ValueError("positions must not decrease")
    data, sizes = encode_varints_array(deltas)
    return data.tobytes(), _summed(sizes, counts)


def characters_values(positions: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                      counts: np.ndarray) -> tuple[bytes, np.ndarray]:
    """``position_values`` for ``CompactCharacters``: each occurrence's position, start and
    end character, the postings' occurrences one posting after the other."""
    positions = np.asarray(positions, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    previous_ends = np.zeros_like(ends)  # the previous occurrence's end; 0 for a first
    if len(ends):
        previous_ends[1:] = ends[:-1]
        previous_ends[(np.cumsum(counts) - counts)[counts > 0]] = 0
    gaps = starts - previous_ends
    numbers = np.empty(3 * len(positions), dtype=np.int64)
    numbers[0::3] = _restarted_deltas(positions, counts)
    numbers[1::3] = np.where(gaps >= 0, gaps << 1, ((-gaps) << 1) - 1)
    numbers[2::3] = ends - starts
    if len(numbers) and (int(numbers[0::3].min()) < 0 or int(numbers[2::3].min()) < 0):
        raise ValueError("positions must not decrease nor occurrences end before they start")
    data, sizes = encode_varints_array(numbers)
    return data.tobytes(), _summed(sizes, 3 * counts)


def _restarted_deltas(positions: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each position minus the one before it in its posting (the first: itself)."""
    deltas = positions.copy()
    if len(positions) > 1:
        deltas[1:] -= positions[:-1]
        firsts = (np.cumsum(counts) - counts)[counts > 0]
        deltas[firsts] = positions[firsts]
    return deltas


def _summed(sizes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The sums of SIZES in consecutive groups of COUNTS (a group of 0: 0)."""
    done = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=done[1:])
    ends = np.cumsum(counts)
    summed: np.ndarray = done[ends] - done[ends - counts]
    return summed


def _deltas(positions: list[int]) -> list[int]:
    return [positions[0], *map(sub, positions[1:], positions)] if positions else []


def _encoded(numbers: list[int], lead: int) -> bytes:
    """NUMBERS as varints, the first LEAD of them (a first occurrence's numbers, counted from
    the start of the text: often above 127) apart from the rest (mostly below 128, one byte
    each: then written as they are)."""
    rest = numbers[lead:]
    if not rest or max(rest) < _HIGH:
        try:
            # bytes(...) of one byte is CPython's shared object, as a one-byte slice is: the
            # bulk writer's values pickle with the same memo references as Whoosh's writer's.
            if not numbers or max(numbers[:lead]) < _HIGH:
                return bytes(numbers)
            return encode_varints(numbers[:lead]) + bytes(rest)
        except ValueError:
            pass  # a negative number: refused below with its own message
    return encode_varints(numbers)


class CompactPositions(Positions):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's ``Positions`` with each value as varints of position deltas."""

    def encode(self, poslist: list[int]) -> bytes:
        """Return the value of a posting at POSLIST (ascending positions)."""
        try:
            return _encoded(_deltas(poslist), 1)
        except ValueError:
            raise ValueError(f"positions must not decrease: {poslist[:20]}") from None

    def decode_positions(self, valuestring: bytes) -> list[int]:
        """Return the positions of a value."""
        return list(accumulate(read_varints(valuestring)))

    def decode_frequency(self, valuestring: bytes) -> int:
        """Return how many positions a value holds."""
        return len(valuestring) - sum(byte >= _HIGH for byte in valuestring) \
            if not valuestring.isascii() else len(valuestring)

    def decode_weight(self, valuestring: bytes) -> float:
        """Return the weight of a value (its frequency times the field's boost)."""
        return float(self.decode_frequency(valuestring) * self.field_boost)


class CompactCharacters(Characters):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's ``Characters`` with each value as varints (see the module's description)."""

    def encode(self, poslist: list[tuple[int, int, int]]) -> bytes:
        """Return the value of a posting at POSLIST ((position, start, end), ascending)."""
        numbers: list[int] = []
        add = numbers.extend
        posbase = charbase = 0
        for pos, start, end in poslist:
            gap = start - charbase
            add((pos - posbase, gap << 1 if gap >= 0 else (-gap << 1) - 1, end - start))
            posbase = pos
            charbase = end
        try:
            return _encoded(numbers, 3)
        except ValueError:
            raise ValueError(f"positions must not decrease nor occurrences end before they "
                             f"start: {poslist[:20]}") from None

    def decode_characters(self, valuestring: bytes) -> list[tuple[int, int, int]]:
        """Return the (position, start, end) of each occurrence of a value."""
        numbers = read_varints(valuestring)
        found: list[tuple[int, int, int]] = []
        position = end = 0
        for at in range(0, len(numbers) - 2, 3):
            gap = numbers[at + 1]
            position += numbers[at]
            start = end + (gap >> 1 if not gap & 1 else -((gap + 1) >> 1))
            end = start + numbers[at + 2]
            found.append((position, start, end))
        return found

    def decode_positions(self, valuestring: bytes) -> list[int]:
        """Return the positions of a value."""
        return list(accumulate(read_varints(valuestring)[0::3]))

    def decode_frequency(self, valuestring: bytes) -> int:
        """Return how many occurrences a value holds."""
        return len(read_varints(valuestring)) // 3

    def decode_weight(self, valuestring: bytes) -> float:
        """Return the weight of a value (its frequency times the field's boost)."""
        return float(self.decode_frequency(valuestring) * self.field_boost)


COMPACT_FORMATS = (CompactPositions, CompactCharacters)


def compact_format(format_: Any) -> Any:
    """Return the compact equivalent of Whoosh's ``Positions`` or ``Characters`` FORMAT (the
    same field boost), any other format as it is."""
    if type(format_) is Positions:
        return CompactPositions(field_boost=format_.field_boost)
    if type(format_) is Characters:
        return CompactCharacters(field_boost=format_.field_boost)
    return format_


class PackedValues(Sequence[bytes]):
    """A block's per-posting values in one buffer: Whoosh's matcher indexes it as a tuple.

    Written by the index's writers before ``indexer.posting_blocks``; kept so that the blocks
    of such an index (which name this class) unpickle until it is rebuilt.

    DATA is the values joined, SIZES their lengths as varints. Pickled as those two ``bytes``
    (with protocol 3 or later: no object per posting, no ``_codecs.encode`` call).
    """

    __slots__ = ("_offsets", "data", "sizes")

    def __init__(self, data: bytes, sizes: bytes) -> None:
        self.data = data
        self.sizes = sizes
        self._offsets: list[int] | None = None

    @classmethod
    def of(cls, values: Sequence[bytes]) -> PackedValues:
        """Return VALUES packed."""
        lengths = [len(value) for value in values]
        sizes = bytes(lengths) if not lengths or max(lengths) < _HIGH \
            else encode_varints(lengths)
        return cls(b"".join(values), sizes)

    def __reduce__(self) -> tuple[type[PackedValues], tuple[bytes, bytes]]:
        return PackedValues, (self.data, self.sizes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedValues):
            return self.data == other.data and self.sizes == other.sizes
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def offsets(self) -> list[int]:
        """Return where each value starts in ``data``, and the end of the last."""
        offsets = self._offsets
        if offsets is None:
            offsets = self._offsets = list(accumulate(read_varints(self.sizes), initial=0))
            if offsets[-1] != len(self.data):
                raise ValueError("the values' sizes do not add up to their bytes")
        return offsets

    def __len__(self) -> int:
        return len(self.offsets()) - 1

    @overload
    def __getitem__(self, index: int) -> bytes: ...

    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...

    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        offsets = self.offsets()
        count = len(offsets) - 1
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("value index out of range")
        return self.data[offsets[index]:offsets[index + 1]]

    def __iter__(self) -> Iterator[bytes]:
        offsets = self.offsets()
        data = self.data
        for start, end in zip(offsets, offsets[1:], strict=False):
            yield data[start:end]
