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

A block's values are written as one ``PackedValues`` (``indexer.whoosh_format``'s postings
writer): the values joined into one ``bytes`` plus their sizes as varints, pickled as two
``bytes`` objects. Unpickling makes no object per posting, the fast readers hand the buffer
to numpy (``decode_varints``), and Whoosh's matcher indexes it as the tuple of values it
expects.

The index's TOC pickles the schema with these classes and the blocks name ``PackedValues``:
they must keep their names and module (moving them requires a full rebuild).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from operator import sub
from typing import Any, overload

import numpy as np
from whoosh.formats import Characters, Positions

__all__ = [
    "COMPACT_FORMATS",
    "CompactCharacters",
    "CompactPositions",
    "PackedValues",
    "compact_format",
    "decode_varints",
    "encode_varints",
    "read_varints",
    "value_counts",
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
    if not high.any():
        return data.astype(np.int64)
    ends = np.flatnonzero(~high)
    if not len(ends) or int(ends[-1]) != len(data) - 1:
        raise ValueError("the last varint is cut off")
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    sizes = ends - starts + 1
    if int(sizes.max()) > 9:
        raise ValueError("a varint is longer than 9 bytes")
    shifts = 7 * (np.arange(len(data), dtype=np.int64) - np.repeat(starts, sizes))
    numbers: np.ndarray = np.add.reduceat((data & _LOW).astype(np.int64) << shifts, starts)
    return numbers


def value_counts(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Return how many varints each value DATA[STARTS[i]:ENDS[i]] holds (uint8 DATA)."""
    done = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum(data < _HIGH, out=done[1:])
    counts: np.ndarray = done[ends] - done[starts]
    return counts


def _deltas(positions: list[int]) -> list[int]:
    return [positions[0], *map(sub, positions[1:], positions)] if positions else []


class CompactPositions(Positions):  # type: ignore[misc]  # Whoosh has no type hints
    """Whoosh's ``Positions`` with each value as varints of position deltas."""

    def encode(self, poslist: list[int]) -> bytes:
        """Return the value of a posting at POSLIST (ascending positions)."""
        deltas = _deltas(poslist)
        if deltas and max(deltas) < _HIGH:
            try:
                return bytes(deltas)
            except ValueError:
                pass  # a negative delta: refused below with its own message
        if deltas and min(deltas) < 0:
            raise ValueError(f"positions must not decrease: {poslist[:20]}")
        return encode_varints(deltas)

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
        if numbers and max(numbers) < _HIGH:
            try:
                return bytes(numbers)
            except ValueError:
                pass
        if numbers and min(numbers) < 0:
            raise ValueError(f"positions must not decrease nor occurrences end before they "
                             f"start: {poslist[:20]}")
        return encode_varints(numbers)

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
